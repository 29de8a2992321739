//! The signer's one error type.

use std::path::PathBuf;

use domain::DocumentCode;
use thiserror::Error;

use crate::KeyId;

/// Why a key could not be used or a seal did not verify.
#[derive(Debug, Error)]
pub enum SignerError {
    /// A key file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A private key file can be read by others; it is refused rather than used.
    #[error("key file {path} has mode {mode:o}; private keys must be readable by their owner only (chmod 600)")]
    LoosePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file does not hold a key.
    #[error("key file {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A seal names a key the ring does not know.
    #[error("seal signed by unknown key {0}")]
    UnknownKey(KeyId),
    /// A public key read from a bag, a backup or a file is not an Ed25519 key.
    #[error("public seal key: {0}")]
    BadPublicKey(String),
    /// Another appliance's key made a seal it was not pinned for: a foreign key verifies only the
    /// seals of the documents it came with.
    #[error(
        "seal by foreign key {key} ({sender}) is not one it was pinned for with document {document}; another appliance's key verifies only the documents it came with"
    )]
    NotPinnedFor {
        /// The foreign key.
        key: KeyId,
        /// Its sender, as the pin names it.
        sender: String,
        /// The document the seal claims to be about.
        document: DocumentCode,
    },
    /// The signature does not match the manifest.
    #[error("seal signature by key {0} does not match the manifest")]
    BadSignature(KeyId),
    /// A manifest's text is not in the canonical form.
    #[error("manifest is malformed: {0}")]
    BadManifest(String),
    /// A certificate cannot be used: malformed, wrong algorithm, or not the key's.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The PKCS #11 token refused or failed.
    #[error("token: {0}")]
    Token(String),
    /// The timestamp authority failed or answered wrongly.
    #[error("timestamp authority {0}")]
    Timestamp(String),
    /// A CMS structure could not be encoded.
    #[error("CMS encoding: {0}")]
    Cms(String),
    /// The PDF cannot be signed or read.
    #[error("PDF signature: {0}")]
    Pdf(String),
}
