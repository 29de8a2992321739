//! Reading archived documents: full-text search, a document's record, its signed PDF, its page images,
//! its text and its evidence bundle. Every read is recorded in the audit trail.

use std::collections::{BTreeMap, BTreeSet};

use archive::{DocumentRecord, DocumentStatus, Hold, InclusionProof};
use chrono::{DateTime, FixedOffset, NaiveDate};
use domain::{AuditAction, DocumentCode, Validity, VerificationToken};
use search::{Hit, SearchRequest};
use serde::Serialize;
use utoipa::ToSchema;

use super::Permit;
use crate::queue::Stage;
use crate::users::Role;
use crate::{Appliance, ApplianceError};

/// Searching. Every role may, and sees what [`Role::visible_statuses`] and
/// [`Role::reads_documents`] allow.
pub const SEARCH: Permit = Permit { what: "search", roles: &Role::ALL };
/// Reading a document's record, PDF or text.
pub const READ: Permit = Permit { what: "read documents", roles: Role::READERS };
/// Printing the receipt of a document for the citizen who handed it in: the people at the counter
/// who capture documents. Each receipt is audited as a view of the document.
pub const RECEIPT: Permit = Permit { what: "print receipts", roles: &[Role::Operator, Role::Admin] };

/// A citizen's receipt of a document, from its capture on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Receipt {
    /// The agency that captured it.
    pub agency: String,
    /// The document code.
    pub code: String,
    /// The metadata fields by name, as the record has them.
    pub metadata: BTreeMap<String, String>,
    /// Its pages.
    pub pages: usize,
    /// Whether it is archived yet, or captured and waiting to be read.
    pub stage: Stage,
    /// The public verification link, when the token given was the document's.
    pub link: Option<String>,
}

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
    /// Whether it is in force, and if not, since when, by whom and why.
    pub lifecycle: LifecycleView,
}

/// What decides whether a document is in force: revocation, holds and validity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LifecycleView {
    /// When, by whom and why it was revoked, if it was.
    pub revoked: Option<ChangeView>,
    /// The holds on it, each with when, by whom and why it was placed.
    pub holds: Vec<ChangeView>,
    /// The last day it is valid; none when valid without end.
    pub valid_until: Option<NaiveDate>,
    /// Whether that day has passed (Vietnam time).
    pub expired: bool,
}

/// A change of a document's standing: when, by whom and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangeView {
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Who.
    pub by: String,
    /// Why, as entered.
    pub reason: String,
}

/// A page image as scanned.
#[derive(Debug, Clone)]
pub struct PageImage {
    /// Its media type.
    pub mime: String,
    /// The image, its hash checked on read.
    pub bytes: Vec<u8>,
}

/// What proves a document without trusting the appliance that serves it: its record with the seal
/// over its manifest and each page's seal, the inclusion proof of its latest leaf in the archive log
/// with the signed checkpoint it leads to, and the public keys that check the seals.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Evidence {
    /// The document code.
    pub code: String,
    /// The record as archived: metadata, page and PDF hashes, seals, status and lifecycle.
    #[schema(value_type = Object)]
    pub record: DocumentRecord,
    /// The inclusion proof and its signed checkpoint.
    #[schema(value_type = Object)]
    pub proof: InclusionProof,
    /// Whether the proof's path leads from the leaf to the checkpoint's root.
    pub proof_verifies: bool,
    /// The public seal keys.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<crate::bag::CarriedKey>,
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

impl LifecycleView {
    /// The standing of `record`, of which `holds` are every hold of the archive.
    fn of(record: &DocumentRecord, holds: Vec<Hold>) -> Self {
        let change = |at, by: &str, reason: &str| ChangeView { at, by: by.to_owned(), reason: reason.to_owned() };
        let valid_until = match record.metadata.validity() {
            Validity::Until(day) => Some(day),
            Validity::Permanent => None,
        };
        LifecycleView {
            revoked: match &record.status {
                DocumentStatus::Revoked(r) => Some(change(r.at, &r.by, &r.reason)),
                _ => None,
            },
            holds: holds
                .into_iter()
                .filter(|h| record.lifecycle.holds.contains(&h.id))
                .map(|h| change(h.at, &h.by, &h.reason))
                .collect(),
            valid_until,
            expired: valid_until.is_some_and(|day| day < domain::vietnam_now().date_naive()),
        }
    }
}

impl DocumentView {
    fn of(record: &DocumentRecord, lifecycle: LifecycleView) -> Self {
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
            lifecycle,
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
        let reads = role.is_none_or(Role::reads_documents);
        // A role that does not read documents learns nothing of their content from the counts or the
        // filters either: no issuer or year, only what its hits show (type and status).
        let request = SearchRequest {
            statuses: role.map(|r| r.visible_statuses().to_vec()).unwrap_or_default(),
            limit: request.limit.clamp(1, MAX_SEARCH_LIMIT),
            offset: request.offset.min(search::MAX_MATCHES),
            issuing_body: request.issuing_body.filter(|_| reads),
            year: request.year.filter(|_| reads),
            ..request
        };
        let results = self.search_index().search(&request)?;
        self.audit(actor, AuditAction::Search, &request.text, &format!("{} results", results.total))?;
        let facets = if reads {
            results.facets
        } else {
            results.facets.into_iter().filter(|(f, _)| f.starts_with("/type/") || f.starts_with("/status/")).collect()
        };
        Ok(SearchOutput {
            total: results.total,
            truncated: results.truncated,
            hits: results.hits.into_iter().map(|h| HitView::of(h, reads)).collect(),
            facets,
        })
    }

    /// The record of a document, or `NotFound`.
    pub fn record(&self, code: &DocumentCode) -> Result<DocumentRecord, ApplianceError> {
        self.archive().record(code)?.ok_or_else(|| ApplianceError::NotFound(format!("no archived document {code}")))
    }

    /// A document's record as a reader sees it, with its standing (revocation, holds, validity); the
    /// access is audited.
    pub fn view_record(&self, code: &DocumentCode, actor: &str) -> Result<DocumentView, ApplianceError> {
        let record = self.record(code)?;
        // Only a held document needs the holds' details; the others spare reading them.
        let holds = if record.is_held() { self.archive().holds()? } else { Vec::new() };
        self.audit(actor, AuditAction::View, &code.to_string(), "record")?;
        Ok(DocumentView::of(&record, LifecycleView::of(&record, holds)))
    }

    /// What the citizen's receipt of a document shows, from its capture on: the agency, the code,
    /// the metadata and the pages (the reading audited as a view), and its verification link when
    /// `token` is the document's. An operator prints receipts of the documents they captured only:
    /// another operator's document is answered as one that does not exist (codes begin with the
    /// owner's personal ID), before any of it is audited.
    pub fn receipt(
        &self,
        code: &DocumentCode,
        token: Option<&VerificationToken>,
        role: Role,
        actor: &str,
    ) -> Result<Receipt, ApplianceError> {
        let (metadata, pages, stage, token_is_its) = match self.archive().captured(code)? {
            Some(captured) => {
                let is_its = token.is_some_and(|t| captured.has_token(t));
                (captured.metadata, captured.pages.len(), Stage::Captured, is_its)
            }
            None => {
                let record = self.record(code)?;
                let is_its = match token {
                    Some(token) => self.archive().record_by_token(code, token)?.is_some(),
                    None => false,
                };
                (record.metadata, record.pages.len(), Stage::Archived, is_its)
            }
        };
        if role == Role::Operator && metadata.operator() != actor {
            return Err(ApplianceError::NotFound(format!("no archived document {code}")));
        }
        self.audit(actor, AuditAction::View, &code.to_string(), "receipt")?;
        Ok(Receipt {
            agency: self.signing().agency().name.clone(),
            code: code.to_string(),
            metadata: metadata.canonical_fields().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            pages,
            stage,
            link: token.filter(|_| token_is_its).map(|token| self.signing().verification_link(code, token)),
        })
    }

    /// Page `number` (from 1) of a document as scanned, its hash checked on read; the access is
    /// audited.
    pub fn page_image(&self, code: &DocumentCode, number: u32, actor: &str) -> Result<PageImage, ApplianceError> {
        let record = self.record(code)?;
        let page = number
            .checked_sub(1)
            .and_then(|i| record.pages.get(i as usize))
            .ok_or_else(|| ApplianceError::NotFound(format!("document {code} has no page {number}")))?;
        let bytes = self.archive().read_blob(&page.image)?;
        self.audit(actor, AuditAction::View, &code.to_string(), &format!("page {number} image"))?;
        Ok(PageImage { mime: page.mime.clone(), bytes })
    }

    /// A document's evidence bundle: what lets anyone check it offline (see [`Evidence`]). A
    /// destroyed document has a tombstone and no leaf to prove of its content, but its record and
    /// proof are still given. The access is audited.
    pub fn evidence(&self, code: &DocumentCode, actor: &str) -> Result<Evidence, ApplianceError> {
        let evidence = self.evidence_bundle(code)?;
        self.audit(
            actor,
            AuditAction::Download,
            &code.to_string(),
            &format!("evidence, leaf {}", evidence.proof.index),
        )?;
        Ok(evidence)
    }

    /// A document's evidence bundle, unaudited: for [`evidence`](Self::evidence), and for
    /// replication, which records its pass as one audit entry.
    pub(crate) fn evidence_bundle(&self, code: &DocumentCode) -> Result<Evidence, ApplianceError> {
        let record = self.record(code)?;
        let proof = self.archive().prove(code)?;
        let sealed_by: BTreeSet<String> =
            std::iter::once(&record.seal).chain(record.pages.iter().map(|p| &p.seal)).map(|s| s.key.clone()).collect();
        Ok(Evidence {
            code: code.to_string(),
            proof_verifies: proof.verifies(),
            keys: self.carried_keys(&sealed_by),
            record,
            proof,
        })
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
