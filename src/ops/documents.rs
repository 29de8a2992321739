//! Reading archived documents: full-text search, a document's record, its signed PDF and its text.
//! Every read is recorded in the audit trail.

use std::collections::BTreeMap;

use archive::DocumentRecord;
use domain::{AuditAction, DocumentCode};
use search::{Hit, SearchRequest};
use serde::Serialize;
use utoipa::ToSchema;

use super::Permit;
use crate::users::Role;
use crate::{Appliance, ApplianceError};

/// Searching. Every role may, and sees what [`Role::visible_statuses`] and
/// [`Role::reads_documents`] allow.
pub const SEARCH: Permit = Permit { what: "search", roles: &Role::ALL };
/// Reading a document's record, PDF or text.
pub const READ: Permit = Permit { what: "read documents", roles: Role::READERS };
/// Printing the receipt of a document for the citizen who handed it in: the people at the counter
/// who capture documents. The receipt reads the record through [`Appliance::view_record`], so each
/// one is audited as a view.
pub const RECEIPT: Permit = Permit { what: "print receipts", roles: &[Role::Operator, Role::Admin] };

/// Most documents one query may return.
pub const MAX_SEARCH_LIMIT: usize = 200;

/// One document found by a search. A reader of documents sees its best-matching page; a role that
/// does not read documents (scan operators) sees only what tells it a document is already captured:
/// its code, type, status and capture time, and nothing of its content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitView {
    /// The document code.
    pub code: String,
    /// The document type code.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// `active`, `held` or `revoked`.
    pub status: String,
    /// When it was captured, seconds since the Unix epoch.
    pub captured_at: i64,
    /// What a reader of documents sees.
    #[serde(flatten)]
    pub content: Option<HitContent>,
}

/// What a hit shows of a document's content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitContent {
    /// The document name.
    pub name: String,
    /// The owner's identifier, empty if none.
    pub owner: String,
    /// The best-matching page, from 1.
    pub page: u32,
    /// Relevance score.
    pub score: f32,
    /// A fragment of the page with the matches marked `<b>…</b>` (HTML-escaped).
    pub snippet: String,
}

/// What a search found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchOutput {
    /// Matching documents among the best matching pages.
    pub total: usize,
    /// More pages match than were considered: `total` and the facets count the best matches only.
    pub truncated: bool,
    /// The requested page of documents.
    pub hits: Vec<HitView>,
    /// Counts of the matching documents by facet (`/type/GPXD`, `/status/active`, `/year/2024`, …).
    pub facets: BTreeMap<String, usize>,
}

/// One page of a document's record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageView {
    /// Page number from 1.
    pub number: u32,
    /// BLAKE3 of the page image, hex.
    pub blake3: String,
    /// The image's media type.
    pub mime: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Resolution, horizontal and vertical.
    pub dpi: [f32; 2],
    /// Why it was flagged for review, empty if not.
    pub flags: Vec<String>,
}

/// The signed PDF as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PdfView {
    /// BLAKE3 of the PDF, hex.
    pub blake3: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The seal over a document's manifest.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManifestSealView {
    /// The id of the key that sealed.
    pub key: String,
    /// The manifest exactly as sealed.
    pub manifest: String,
}

/// A document's record: metadata, pages and seal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    /// The document code.
    pub code: String,
    /// `active`, `revoked` or `destroyed`.
    pub status: String,
    /// Whether a hold is on it.
    pub held: bool,
    /// The retention class it is kept under.
    pub retention_class: String,
    /// When it was archived.
    pub archived_at: String,
    /// The metadata fields by name.
    pub metadata: BTreeMap<String, String>,
    /// The signed PDF.
    pub pdf: PdfView,
    /// The pages, in order.
    pub pages: Vec<PageView>,
    /// The seal over the manifest.
    pub seal: ManifestSealView,
}

impl HitView {
    fn of(hit: Hit, reads_documents: bool) -> Self {
        HitView {
            code: hit.code.to_string(),
            doc_type: hit.doc_type,
            status: hit.status.to_string(),
            captured_at: hit.captured_at,
            content: reads_documents.then_some(HitContent {
                name: hit.name,
                owner: hit.owner,
                page: hit.page,
                score: hit.score,
                snippet: hit.snippet,
            }),
        }
    }
}

impl DocumentView {
    fn of(record: &DocumentRecord) -> Self {
        let m = &record.metadata;
        DocumentView {
            code: record.code.to_string(),
            status: record.status.name().to_owned(),
            held: record.is_held(),
            retention_class: record.lifecycle.retention_class.clone(),
            archived_at: record.archived_at.to_rfc3339(),
            metadata: m.canonical_fields().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            pdf: PdfView { blake3: record.pdf.to_hex(), bytes: record.pdf_size },
            pages: record
                .pages
                .iter()
                .zip(1..)
                .map(|(p, number)| PageView {
                    number,
                    blake3: p.image.to_hex(),
                    mime: p.mime.clone(),
                    width: p.size.0,
                    height: p.size.1,
                    dpi: [p.dpi.0, p.dpi.1],
                    flags: p.flags.clone(),
                })
                .collect(),
            seal: ManifestSealView { key: record.seal.key.clone(), manifest: record.seal.text.clone() },
        }
    }
}

impl Appliance {
    /// Full-text search as `role` may see it: the statuses the role may find, and the content of hits
    /// only for roles that read documents. `None` is the command line's system user, who holds the data
    /// directory and sees everything. The query is recorded in the audit trail.
    pub fn search(
        &self,
        request: SearchRequest,
        role: Option<Role>,
        actor: &str,
    ) -> Result<SearchOutput, ApplianceError> {
        if request.text.trim().is_empty() {
            return Err(ApplianceError::Input("the query is empty".into()));
        }
        let request = SearchRequest {
            statuses: role.map(|r| r.visible_statuses().to_vec()).unwrap_or_default(),
            limit: request.limit.clamp(1, MAX_SEARCH_LIMIT),
            ..request
        };
        let results = self.search_index().search(&request)?;
        self.audit(actor, AuditAction::Search, &request.text, &format!("{} results", results.total))?;
        let reads = role.is_none_or(Role::reads_documents);
        Ok(SearchOutput {
            total: results.total,
            truncated: results.truncated,
            hits: results.hits.into_iter().map(|h| HitView::of(h, reads)).collect(),
            facets: results.facets,
        })
    }

    /// The record of a document, or `NotFound`.
    pub fn record(&self, code: &DocumentCode) -> Result<DocumentRecord, ApplianceError> {
        self.archive().record(code)?.ok_or_else(|| ApplianceError::NotFound(format!("no archived document {code}")))
    }

    /// A document's record as a reader sees it; the access is audited.
    pub fn view_record(&self, code: &DocumentCode, actor: &str) -> Result<DocumentView, ApplianceError> {
        let record = self.record(code)?;
        self.audit(actor, AuditAction::View, &code.to_string(), "record")?;
        Ok(DocumentView::of(&record))
    }

    /// The archived PDF, its hash checked on read; the access is audited.
    pub fn pdf(&self, code: &DocumentCode, actor: &str) -> Result<Vec<u8>, ApplianceError> {
        let record = self.record(code)?;
        let bytes = self.archive().read_blob(&record.pdf)?;
        self.audit(actor, AuditAction::Download, &code.to_string(), &format!("pdf {}", record.pdf))?;
        Ok(bytes)
    }

    /// The OCR text, page by page; the access is audited.
    pub fn text(&self, code: &DocumentCode, actor: &str) -> Result<Vec<String>, ApplianceError> {
        let record = self.record(code)?;
        self.audit(actor, AuditAction::ViewText, &code.to_string(), "")?;
        Ok(record.pages.into_iter().map(|p| p.text).collect())
    }
}
