//! What the archive stores about documents, users and holds: records with their lifecycle and
//! status, audit entries, and what a new document brings to a commit.

use chrono::{DateTime, FixedOffset, NaiveDate};
use domain::{BlobHash, DocumentCode, DocumentMetadata, DocumentTypeCode, DossierCode, OwnerId, VerificationToken};
use serde::{Deserialize, Serialize};

use crate::Spooled;
use crate::encoding::encode;

/// Where a document stands in its life (R7, R9). Whether it is held is not a status of its own: a
/// document is held while [`Lifecycle::holds`] is not empty, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentStatus {
    /// Archived and in force.
    Active,
    /// Revoked (R7): the content is kept, verification says revoked.
    Revoked(Revocation),
    /// Destroyed by disposition: the record is a tombstone keeping metadata, hashes and the decision;
    /// the content blobs are released and the OCR text is gone.
    Destroyed(Destruction),
}

impl DocumentStatus {
    /// The status's name as commands and search show it.
    pub fn name(&self) -> &'static str {
        match self {
            DocumentStatus::Active => "active",
            DocumentStatus::Revoked(_) => "revoked",
            DocumentStatus::Destroyed(_) => "destroyed",
        }
    }
}

/// Why and by whom a document was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Who.
    pub by: String,
    /// Why, as entered.
    pub reason: String,
}

/// The decision of the valuation council (Hội đồng xác định giá trị tài liệu) that allows destruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouncilDecision {
    /// The decision's number, e.g. `12/QĐ-HĐXĐGTTL`.
    pub number: String,
    /// The decision's date.
    pub date: NaiveDate,
}

/// How a document was destroyed: the decision, the two people and the signed report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destruction {
    /// The council's decision.
    pub decision: CouncilDecision,
    /// Who requested the destruction.
    pub requested_by: String,
    /// The second person, who confirmed it.
    pub approved_by: String,
    /// When the content was removed.
    pub at: DateTime<FixedOffset>,
    /// The destruction report (JSON) as sealed.
    pub report: SealRecord,
}

/// Where a document stands in disposition (R9). Nothing moves it on by itself beyond `Eligible`:
/// every later step is a person's decision.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Disposition {
    /// Its retention period has not ended (or it is permanent).
    #[default]
    Retained,
    /// Its retention period ended on this date; it awaits review.
    Eligible(NaiveDate),
    /// Reviewed: kept longer, until a date, for a reason.
    KeptUntil {
        /// Until when.
        until: NaiveDate,
        /// Why.
        reason: String,
        /// Who decided.
        by: String,
    },
    /// Reviewed: approved for destruction, pending a council decision.
    Approved {
        /// Who approved.
        by: String,
    },
    /// Destruction requested under a council decision; a second person must confirm it.
    Requested {
        /// The decision.
        decision: CouncilDecision,
        /// Who requested it.
        by: String,
    },
}

/// The retention and hold state of a document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Lifecycle {
    /// The retention class (an id of the schedule); set from the document type at commit when empty.
    pub retention_class: String,
    /// Why the class differs from the type's default, if it was overridden.
    pub retention_reason: Option<String>,
    /// The ids of the holds on the document; held while not empty.
    pub holds: Vec<u64>,
    /// Where it stands in disposition.
    pub disposition: Disposition,
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
    /// Retention, holds and disposition.
    pub lifecycle: Lifecycle,
    /// The files the pages were taken from, kept whole where they are more than their pages (a
    /// PDF, whose born-digital pages are rendered). Empty for a scan and for records written
    /// before originals were kept. (`serde(default)` reads such records in JSON, as bags carry
    /// them; the archive's own postcard form is read by [`decode_record`].)
    #[serde(default)]
    pub originals: Vec<OriginalFile>,
}

/// A file a document was captured from, kept as a blob of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginalFile {
    /// BLAKE3 of the file (the blob's address).
    pub blob: BlobHash,
    /// Size in bytes.
    pub size: u64,
    /// The file's name as it was given (for people; never a path the archive opens).
    pub name: String,
    /// The document's page numbers (from 1) that came from this file.
    pub pages: Vec<u32>,
    /// Those of its pages whose text is the file's own, trusted instead of OCR.
    pub text_pages: Vec<u32>,
}

/// A document record as stored before originals were kept. postcard has no optional trailing
/// fields, so such a record is read as this and upgraded.
#[derive(Deserialize)]
struct DocumentRecordV1 {
    code: DocumentCode,
    metadata: DocumentMetadata,
    pages: Vec<PageRecord>,
    pdf: BlobHash,
    pdf_size: u64,
    seal: SealRecord,
    status: DocumentStatus,
    archived_at: DateTime<FixedOffset>,
    lifecycle: Lifecycle,
}

impl From<DocumentRecordV1> for DocumentRecord {
    fn from(v1: DocumentRecordV1) -> Self {
        let DocumentRecordV1 { code, metadata, pages, pdf, pdf_size, seal, status, archived_at, lifecycle } = v1;
        DocumentRecord {
            code,
            metadata,
            pages,
            pdf,
            pdf_size,
            seal,
            status,
            archived_at,
            lifecycle,
            originals: Vec::new(),
        }
    }
}

/// Decodes a stored document record, of the current form or the first one.
pub(crate) fn decode_record(key: &[u8], bytes: &[u8]) -> Result<DocumentRecord, crate::ArchiveError> {
    match postcard::from_bytes::<DocumentRecord>(bytes) {
        Ok(record) => Ok(record),
        Err(_) => crate::encoding::decode::<DocumentRecordV1>("document record", key, bytes).map(Into::into),
    }
}

impl DocumentRecord {
    /// Whether any hold is on the document.
    pub fn is_held(&self) -> bool {
        !self.lifecycle.holds.is_empty()
    }

    /// The content blobs the record refers to: every page image, the PDF and the original files (a
    /// hash once per use).
    pub fn blobs(&self) -> impl Iterator<Item = BlobHash> + '_ {
        self.pages.iter().map(|p| p.image).chain(std::iter::once(self.pdf)).chain(self.originals.iter().map(|o| o.blob))
    }
}

/// The content of one blob of a [`NewDocument`], as its maker holds it.
#[derive(Debug)]
pub enum Content {
    /// Its bytes, in memory.
    Bytes(Vec<u8>),
    /// A file already written and synced ([`Archive::spool`](crate::Archive::spool)): content too
    /// large to hold in memory, such as the PDF of a long document.
    Spooled(Spooled),
    /// A blob of the captured entry that the commit replaces, kept as it is: a page image that
    /// reading did not turn, or an original file. Only [`Archive::commit_captured`](crate::Archive::commit_captured)
    /// takes it, and only for a blob that entry refers to.
    Captured(BlobHash),
}

impl From<Vec<u8>> for Content {
    fn from(bytes: Vec<u8>) -> Self {
        Content::Bytes(bytes)
    }
}

impl Content {
    /// Its size in bytes; `None` for a captured blob, whose size its record keeps.
    pub(crate) fn len(&self) -> Option<u64> {
        match self {
            Content::Bytes(bytes) => Some(bytes.len() as u64),
            Content::Spooled(spooled) => Some(spooled.len()),
            Content::Captured(_) => None,
        }
    }
}

/// A document to commit: its record and the content the record refers to.
#[derive(Debug)]
pub struct NewDocument {
    /// The record; its status is set by the archive.
    pub record: DocumentRecord,
    /// Page images, in the order of `record.pages`.
    pub page_images: Vec<Content>,
    /// The PDF.
    pub pdf: Content,
    /// The original files, in the order of `record.originals`.
    pub originals: Vec<Content>,
    /// Who committed it, for the audit trail.
    pub actor: String,
    /// What it was made from, if the caller must be able to tell later whether that was archived
    /// (a hot-folder file after a crash); see [`Archive::find_by_source`](crate::Archive::find_by_source).
    pub source: Option<String>,
    /// The token its signed copy carries for public verification, if it has one (an imported
    /// document keeps the token of the appliance that signed it, which this one never learns); see
    /// [`Archive::record_by_token`](crate::Archive::record_by_token).
    pub verification: Option<VerificationToken>,
}

/// A document in the captured stage: its page images are durable with their seals, its code is
/// taken, and it waits in the reading queue for OCR, its PDF/A, signature and log leaf. Its entry
/// goes in the batch that writes its record ([`Archive::commit_captured`](crate::Archive::commit_captured)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedDocument {
    /// The code, taken by this entry until the record replaces it.
    pub code: DocumentCode,
    /// The R3 metadata.
    pub metadata: DocumentMetadata,
    /// Pages in physical order, as delivered.
    pub pages: Vec<CapturedPage>,
    /// The verification token the signed copy will carry, already printed on the receipt. Kept here
    /// until the signed copy carries it: the record keeps only its lookup key.
    pub token: String,
    /// The files kept whole beside the pages (a PDF's original), with the pages that came from each.
    pub originals: Vec<OriginalFile>,
    /// Who captured it, for the audit trail and the archived record's entry.
    pub actor: String,
    /// What it was made from (see [`NewDocument::source`]).
    pub source: Option<String>,
    /// When the capture was acknowledged.
    pub captured_at: DateTime<FixedOffset>,
}

impl CapturedDocument {
    /// The content blobs the entry refers to: every page image and original file (a hash once per use).
    pub fn blobs(&self) -> impl Iterator<Item = BlobHash> + '_ {
        self.pages.iter().map(|p| p.image).chain(self.originals.iter().map(|o| o.blob))
    }

    /// Whether `token` is the one drawn for this document, compared by their lookup keys as an
    /// archived document's token is ([`Archive::record_by_token`](crate::Archive::record_by_token)).
    pub fn has_token(&self, token: &VerificationToken) -> bool {
        self.token().is_ok_and(|t| t.lookup_key(&self.code) == token.lookup_key(&self.code))
    }

    /// The verification token, as it was drawn.
    pub fn token(&self) -> Result<VerificationToken, crate::ArchiveError> {
        self.token.parse().map_err(|e: domain::DomainError| crate::ArchiveError::Corrupt {
            what: "captured document",
            key: self.code.to_string(),
            reason: format!("its verification token: {e}"),
        })
    }
}

/// One page of a [`CapturedDocument`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedPage {
    /// BLAKE3 of the page image as delivered (the blob's address).
    pub image: BlobHash,
    /// Where it came from (a file name, a scanner's sheet), for messages and the importer.
    pub origin: String,
    /// The resolution it was scanned at, dots per inch (x, y).
    pub dpi: (f32, f32),
    /// Whether the resolution was stated by the scan itself, not the configured default.
    pub dpi_stated: bool,
    /// The seal over the page's number and image hash.
    pub seal: SealRecord,
}

/// What a capture brings to [`Archive::capture`](crate::Archive::capture).
#[derive(Debug, Clone)]
pub struct NewCapture {
    /// The entry.
    pub document: CapturedDocument,
    /// Page image bytes, in the order of `document.pages`.
    pub page_images: Vec<Vec<u8>>,
    /// The bytes of the original files, in the order of `document.originals`.
    pub originals: Vec<Vec<u8>>,
}

/// Something that happened to the archive's content, in commit order; search and replication
/// follow these. New kinds go at the end: postcard stores the variant's position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A document was archived.
    Archived(DocumentCode),
    /// A document's status, holds or retention changed; its content did not.
    Changed(DocumentCode),
    /// A document was destroyed: its text must leave every index.
    Destroyed(DocumentCode),
    /// A signed checkpoint of the archive log was stored (see [`Archive::checkpoint_at`]); it names
    /// no document, and search has nothing to do with it.
    ///
    /// [`Archive::checkpoint_at`]: crate::Archive::checkpoint_at
    Checkpointed {
        /// The log's size at the checkpoint.
        size: u64,
        /// The audit trail's last entry at the checkpoint.
        audit_seq: u64,
    },
}

impl Event {
    /// The document the event is about, if it is about one.
    pub fn document(&self) -> Option<&DocumentCode> {
        match self {
            Event::Archived(code) | Event::Changed(code) | Event::Destroyed(code) => Some(code),
            Event::Checkpointed { .. } => None,
        }
    }
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
    /// The appliance's seal over `seq` and `hash` (see [`AuditEntry::seal_text`]).
    pub seal: SealRecord,
}

impl AuditEntry {
    /// The canonical text an audit entry's seal signs: its position and hash, which covers the
    /// entry and, through `prev`, the whole trail before it.
    pub fn seal_text(seq: u64, hash: &[u8; 32]) -> String {
        format!("sohoa-audit/1\nseq: {seq}\nhash: {}\n", BlobHash::from_bytes(*hash))
    }

    /// The hash that chains this entry to the trail: BLAKE3 of `prev` and the encoded fields.
    pub(crate) fn chain_hash(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.prev);
        hasher.update(&encode(&(self.seq, self.at, &self.actor, &self.action, &self.target, &self.detail)));
        *hasher.finalize().as_bytes()
    }
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
    /// When an admin disabled the account, if it is disabled: its sessions end and it cannot log in,
    /// but the account stays, so that the audit trail's names keep meaning someone.
    pub disabled_at: Option<DateTime<FixedOffset>>,
}

/// A browser or API session, or a long-lived access token of a scanning station or integration,
/// stored under the BLAKE3 hash of its secret so that sessions outlive a restart of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// What it is, in the binary's words (a browser session, an API session, a station token …).
    pub kind: String,
    /// The user it acts for, or the access token's name.
    pub subject: String,
    /// Who opened it: the user themselves, or the admin who issued a token.
    pub created_by: String,
    /// When it was opened.
    pub created_at: DateTime<FixedOffset>,
    /// When it was last used, kept to the minute so that idle sessions can end.
    pub last_seen: DateTime<FixedOffset>,
    /// When it ends whatever its use; `None` for tokens, which last until revoked.
    pub expires_at: Option<DateTime<FixedOffset>>,
}

/// A user account as the first versions stored it, before accounts could be disabled. postcard has
/// no optional trailing fields, so such a record is read as this and upgraded.
#[derive(Deserialize)]
pub(crate) struct UserRecordV1 {
    name: String,
    role: String,
    password_hash: String,
    created_at: DateTime<FixedOffset>,
}

impl From<UserRecordV1> for UserRecord {
    fn from(v1: UserRecordV1) -> Self {
        UserRecord {
            name: v1.name,
            role: v1.role,
            password_hash: v1.password_hash,
            created_at: v1.created_at,
            disabled_at: None,
        }
    }
}

/// Which documents a hold covers: one document, or all of an owner, dossier or type, including those
/// archived after the hold was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HoldScope {
    /// One document.
    Document(DocumentCode),
    /// Every document of an owner.
    Owner(OwnerId),
    /// Every document of a dossier.
    Dossier(DossierCode),
    /// Every document of a type.
    Type(DocumentTypeCode),
}

impl HoldScope {
    /// Whether a record falls under the scope.
    pub fn matches(&self, record: &DocumentRecord) -> bool {
        match self {
            HoldScope::Document(code) => record.code == *code,
            HoldScope::Owner(owner) => record.metadata.owner() == Some(owner),
            HoldScope::Dossier(dossier) => record.metadata.dossier() == Some(dossier),
            HoldScope::Type(t) => record.metadata.doc_type() == t,
        }
    }
}

impl std::fmt::Display for HoldScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HoldScope::Document(c) => write!(f, "document {c}"),
            HoldScope::Owner(o) => write!(f, "owner {o}"),
            HoldScope::Dossier(d) => write!(f, "dossier {d}"),
            HoldScope::Type(t) => write!(f, "type {t}"),
        }
    }
}

/// A hold (legal, audit or inspection): while it is on a document, the document cannot be revoked,
/// destroyed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Its id.
    pub id: u64,
    /// What it covers.
    pub scope: HoldScope,
    /// Why, e.g. the case or inspection it serves.
    pub reason: String,
    /// Who placed it.
    pub by: String,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// When and by whom it was released, if it was.
    pub released: Option<(DateTime<FixedOffset>, String)>,
}
