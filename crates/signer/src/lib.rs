//! The only crate that touches key material. It owns the appliance's Ed25519 seal keys and the texts
//! they sign: the document manifest and the page seals.
//!
//! Main types: [`KeyRing`] (the current seal key and every earlier public key, on disk under the data
//! directory, private keys mode 0600), [`KeyId`], [`Manifest`] (what a seal covers: every page hash,
//! the PDF hash and a digest of the metadata, in one canonical text form), [`PageSeal`] (one page's
//! image hash bound to its document and number) and [`Sealed`] (a signed text's exact bytes, its
//! signature and the key id).
//!
//! Key bytes never leave this crate and are never formatted: `Debug` prints only key ids. Verification
//! always runs on the stored bytes of a manifest, never on a re-serialisation of it.
#![deny(missing_docs)]

mod error;
mod keys;
mod manifest;
mod page_seal;

pub use error::SignerError;
pub use keys::{KeyId, KeyRing};
pub use manifest::{Manifest, ManifestPage, Sealed, metadata_digest};
pub use page_seal::PageSeal;
