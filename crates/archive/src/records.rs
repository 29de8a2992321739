use chrono::{DateTime, FixedOffset};
use domain::{BlobHash, DocumentCode, DocumentMetadata};
use serde::{Deserialize, Serialize};

/// Where a document stands in its life (R7, R9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentStatus {
    /// Archived and in force.
    Active,
}

/// One page as the archive keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageRecord {
    /// BLAKE3 of the page image (the blob's address).
    pub image: BlobHash,
    /// BLAKE3 of the page's image stream inside the PDF.
    pub stream: BlobHash,
    /// MIME type of the page image.
    pub mime: String,
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// Resolution in dpi, horizontal and vertical.
    pub dpi: (f32, f32),
    /// The OCR text, lines separated by newlines, so that search can be rebuilt from the archive.
    pub text: String,
    /// Why the page was flagged for review, as shown to the operator.
    pub flags: Vec<String>,
    /// The page's own seal (its image hash bound to the document and page number).
    pub seal: SealRecord,
}

/// A seal as it was made: the canonical text exactly as signed (a document manifest or a page seal),
/// the signature and the key id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealRecord {
    /// The canonical text.
    pub text: String,
    /// The Ed25519 signature, 64 bytes.
    pub signature: Vec<u8>,
    /// The id of the key that signed.
    pub key: String,
}

/// Everything the archive knows of one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// The document code.
    pub code: DocumentCode,
    /// The R3 metadata.
    pub metadata: DocumentMetadata,
    /// Pages in physical order.
    pub pages: Vec<PageRecord>,
    /// BLAKE3 of the PDF (the blob's address).
    pub pdf: BlobHash,
    /// Size of the PDF in bytes.
    pub pdf_size: u64,
    /// The seal over the manifest.
    pub seal: SealRecord,
    /// The status.
    pub status: DocumentStatus,
    /// When the archive committed it.
    pub archived_at: DateTime<FixedOffset>,
}

/// A document to commit: its record and the content the record refers to.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// The record; its status is set by the archive.
    pub record: DocumentRecord,
    /// Page image bytes, in the order of `record.pages`.
    pub page_images: Vec<Vec<u8>>,
    /// The PDF bytes.
    pub pdf: Vec<u8>,
    /// Who committed it, for the audit trail.
    pub actor: String,
}

/// Something that happened to the archive's content, in commit order; search follows these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A document was archived.
    Archived(DocumentCode),
}

/// One entry of the audit trail. Each entry's hash covers its content and the previous entry's hash,
/// so removing or rewriting an entry breaks the chain from there on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the trail, from 1.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<FixedOffset>,
    /// Who did it (user name, or `cli:<os user>` for the command line).
    pub actor: String,
    /// What was done, e.g. `ingest`, `download`, `verify`, `search`.
    pub action: String,
    /// What it was done to (a document code, a query), empty if nothing.
    pub target: String,
    /// Further detail.
    pub detail: String,
    /// Hash of the previous entry (all zero for the first).
    pub prev: [u8; 32],
    /// Hash of this entry: BLAKE3 of `prev` and the encoded fields above.
    pub hash: [u8; 32],
}

/// A user account. The password is kept only as an argon2 hash (PHC string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Login name.
    pub name: String,
    /// Role name (see the binary's roles).
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: DateTime<FixedOffset>,
}
