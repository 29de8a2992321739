//! The only crate that touches key material. It owns two kinds of signature (R5): the
//! appliance's Ed25519 integrity seals, and the X.509 PDF signature that courts and other agencies
//! recognise (PAdES, CMS detached, RSASSA-PSS or ECDSA P-256 with SHA-256).
//!
//! Seals: [`KeyRing`] (the current seal key and every earlier public key, on disk under the data
//! directory, private keys mode 0600), [`KeyId`], [`Manifest`] (what a document seal covers: every
//! page hash, the PDF hash and a digest of the metadata, in one canonical text form), [`PageSeal`]
//! (one page's image hash bound to its document and number) and [`Sealed`] (a signed text's exact
//! bytes, its signature and the key id). Other appliances' keys ([`PublicSealKey`]) never join the
//! ring: once pinned they live in [`ForeignKeys`], each valid only for the seals it came with.
//!
//! PDF signatures: [`PdfSigner`] is the signing key behind a certificate, a file
//! ([`SoftwareSigner`], PKCS #8 or PKCS #12) or a PKCS #11 token ([`TokenSigner`]);
//! [`sign_pdf`] adds a PAdES B-B signature, B-T with a [`TimestampAuthority`], as an incremental
//! update that also draws page 1's operator block, agency block and QR code; [`verify_pdf_signatures`]
//! checks every signature in a file by name against trust anchors, with [`Revocation`] naming the
//! CRLs that paths are checked against. [`DevelopmentSigner`] makes a
//! throw-away CA and agency certificate on a fresh appliance.
//!
//! Key bytes never leave this crate and are never formatted: `Debug` prints only key ids and
//! certificate subjects, never a PIN. Verification always runs on stored bytes, never on a
//! re-serialisation.
#![deny(missing_docs)]

mod appearance;
mod cms;
mod dev_ca;
mod error;
mod foreign;
mod keys;
mod manifest;
mod ocsp;
mod pades;
mod page_seal;
mod pdf_signer;
mod pdf_verify;
mod revocation;
mod token;
mod tsa;
mod x509;

pub use appearance::{QrRuns, qr_runs};
pub use dev_ca::DevelopmentSigner;
pub use error::SignerError;
pub use foreign::{ForeignKey, ForeignKeys};
pub use keys::{KeyId, KeyRing, PublicSealKey};
pub use manifest::{Manifest, ManifestPage, Sealed, metadata_digest};
pub use pades::{PdfBase, SignatureRequest, sign_pdf, sign_update};
pub use page_seal::PageSeal;
pub use pdf_signer::{PdfSigner, SoftwareSigner};
pub use pdf_verify::{PdfSignatureReport, SignatureCheck, verify_pdf_signatures, verify_pdf_signatures_with};
pub use revocation::Revocation;
pub use token::{TokenConfig, TokenSigner};
pub use tsa::TimestampAuthority;
pub use x509::{SignatureAlgorithm, certificates_to_pem, read_pem_certificates, subject};
/// An X.509 certificate.
pub use x509_cert::Certificate;
