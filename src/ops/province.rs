//! The province index (see [`crate::province`]): publishing this office's documents to it, its
//! lag, and reuse lookup and full-text search across the province's offices (`sohoa publish`,
//! `sohoa reuse --province`, `sohoa search --province`, their API routes and the officer's screen).
//!
//! The index only says where a document is. A hit from another office is offered only once its
//! evidence, read from that office's bucket, verifies here against the keys pinned for the office;
//! otherwise it is returned as refused, with the reason. The office's evidence wins over the index:
//! a document the index still shows as active but whose evidence says revoked is refused.

use chrono::NaiveDate;
use domain::{AuditAction, DocumentCode, DocumentTypeCode, OwnerId, Validity};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ADMINS, Permit};
use crate::province::index::Found;
use crate::province::publish::{PublishCounts, Publisher};
use crate::province::{Lag, Verified};
use crate::reuse::ReuseLookup;
use crate::users::Role;
use crate::{Appliance, ApplianceError};

/// Publishing now.
pub const PUBLISH: Permit = Permit { what: "publish to the province index", roles: ADMINS };
/// Searching the province's offices: the content of their documents is shown, so the roles that
/// read documents.
pub const SEARCH: Permit = Permit { what: "search the province", roles: Role::READERS };
/// The longest query searched.
const MAX_QUERY: usize = 200;

/// What a pass did, and how far behind the index is after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Published {
    /// What was published.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub counts: PublishCounts,
    /// The lag after the pass.
    #[schema(value_type = Object)]
    pub lag: Lag,
}

/// Another office's document, verified here from its evidence in the object store.
#[derive(Debug, Clone, Serialize)]
pub struct ProvinceOffer {
    /// The office that holds it.
    pub office: String,
    /// That office's archive log origin.
    pub origin: String,
    /// The document code.
    pub code: String,
    /// The type code.
    pub doc_type: String,
    /// The document name.
    pub name: String,
    /// The owner's ID.
    pub owner: Option<String>,
    /// Number and symbol.
    pub number: Option<String>,
    /// Issuing body.
    pub issuing_body: Option<String>,
    /// Issue date.
    pub issue_date: Option<NaiveDate>,
    /// Last day of validity; none when valid without end.
    pub valid_until: Option<NaiveDate>,
    /// Whether a hold is on at the office.
    pub held: bool,
    /// Number of pages.
    pub pages: usize,
    /// BLAKE3 of the PDF.
    pub pdf: String,
    /// Always true: only verified documents are offered.
    pub verified: bool,
    /// The evidence object it was verified from, in the office's bucket.
    pub evidence: String,
    /// The size of the office's log at the checkpoint its proof leads to.
    pub checkpoint_size: u64,
}

/// A hit of the province index that is not offered, and why.
#[derive(Debug, Clone, Serialize)]
pub struct ProvinceRefusal {
    /// The office the index names (as the index names it, unverified).
    pub office: String,
    /// Its log origin.
    pub origin: String,
    /// The document code.
    pub code: String,
    /// Why it is not offered.
    pub reason: String,
}

/// An owner's documents in force here and at the province's other offices.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProvinceReuse {
    /// This office.
    pub office: String,
    /// This office's documents, as the local lookup gives them.
    pub local: ReuseLookup,
    /// Other offices' documents, verified here.
    #[schema(value_type = Vec<Object>)]
    pub offers: Vec<ProvinceOffer>,
    /// Hits not offered, with the reason.
    #[schema(value_type = Vec<Object>)]
    pub refused: Vec<ProvinceRefusal>,
    /// Why the province index could not be asked, if it could not: this office's documents are
    /// still given.
    pub province_unavailable: Option<String>,
}

/// The other offices' documents that match a query.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProvinceSearch {
    /// The query.
    pub query: String,
    /// Other offices' documents, best first, verified here.
    #[schema(value_type = Vec<Object>)]
    pub offers: Vec<ProvinceOffer>,
    /// Hits not offered, with the reason.
    #[schema(value_type = Vec<Object>)]
    pub refused: Vec<ProvinceRefusal>,
}

impl Appliance {
    /// Publication, if `[province] index` is configured.
    pub(crate) fn publisher(&self) -> Result<&Publisher, ApplianceError> {
        self.publication.as_ref().ok_or_else(|| {
            ApplianceError::Input("no province index is configured ([province] index in the configuration)".into())
        })
    }

    /// How far the province index is behind the archive.
    pub fn publication_lag(&self) -> Result<Lag, ApplianceError> {
        self.publisher()?.lag(self)
    }

    /// Publishes every archived change the index lacks. A pass that publishes documents is one
    /// audit entry.
    pub fn publish(&self, actor: &str) -> Result<Published, ApplianceError> {
        let publisher = self.publisher()?;
        let counts = publisher.pass(self).map_err(|e| {
            let behind = publisher.lag(self).map(|l| format!("{} events behind", l.events_behind));
            ApplianceError::Internal(anyhow::anyhow!("{e} (the index is {})", behind.unwrap_or_else(|l| l.to_string())))
        })?;
        let lag = publisher.lag(self)?;
        if counts.documents > 0 {
            let detail = format!(
                "{} documents, {} rows written, to event {}",
                counts.documents, counts.rows_written, lag.followed_to
            );
            self.audit(actor, AuditAction::Publish, "province index", &detail)?;
        }
        Ok(Published { counts, lag })
    }

    /// The owner's documents (of `doc_type` if given) in force on `valid_on`: this office's from
    /// the local lookup, the other offices' from the province index, each verified here from its
    /// evidence before it is offered. An index that cannot be asked leaves this office's documents
    /// and says so.
    pub fn province_reuse(
        &self,
        owner: &OwnerId,
        doc_type: Option<&DocumentTypeCode>,
        valid_on: NaiveDate,
        actor: &str,
    ) -> Result<ProvinceReuse, ApplianceError> {
        let publisher = self.publisher()?;
        let local = self.reuse(owner, doc_type, valid_on, actor)?;
        let doc_type = doc_type.map(DocumentTypeCode::as_str);
        let found = match publisher.index().reuse(owner.as_str(), doc_type, publisher.origin(), valid_on) {
            Ok(found) => found,
            Err(e) => {
                // The details (host, socket) are for the log; the officer is told the index is down.
                tracing::warn!("province reuse lookup: {e:#}");
                let province_unavailable = Some("the province index cannot be reached; try again later".to_owned());
                let office = self.office().to_owned();
                return Ok(ProvinceReuse {
                    office,
                    local,
                    offers: Vec::new(),
                    refused: Vec::new(),
                    province_unavailable,
                });
            }
        };
        let (offers, refused) = self.verify_found(found, |v| {
            if v.record.metadata.owner() != Some(owner) {
                return Err("its evidence names another owner".to_owned());
            }
            match v.record.metadata.validity() {
                Validity::Until(end) if end < valid_on => Err(format!("its evidence says it was valid until {end}")),
                _ => Ok(()),
            }
        });
        let detail = format!("reuse, valid on {valid_on}: {} offered, {} refused", offers.len(), refused.len());
        self.audit(actor, AuditAction::ProvinceLookup, owner.as_str(), &detail)?;
        Ok(ProvinceReuse { office: self.office().to_owned(), local, offers, refused, province_unavailable: None })
    }

    /// The other offices' documents whose name or text matches `query` (diacritics ignored), each
    /// verified here from its evidence before it is offered.
    pub fn province_search(&self, query: &str, actor: &str) -> Result<ProvinceSearch, ApplianceError> {
        let publisher = self.publisher()?;
        let query = query.trim();
        if query.is_empty() {
            return Err(ApplianceError::Input("the query is empty".into()));
        }
        if query.chars().count() > MAX_QUERY {
            return Err(ApplianceError::Input(format!("the query is longer than {MAX_QUERY} characters")));
        }
        let found = publisher.index().search(query, publisher.origin())?;
        let (offers, refused) = self.verify_found(found, |_| Ok(()));
        let detail = format!("full text: {} offered, {} refused", offers.len(), refused.len());
        self.audit(actor, AuditAction::ProvinceLookup, query, &detail)?;
        Ok(ProvinceSearch { query: query.to_owned(), offers, refused })
    }

    /// Whether the province index is configured: the officer's screen asks it beside the archive.
    pub fn has_province_index(&self) -> bool {
        self.publication.is_some()
    }

    /// This office's name in the province, or its log origin when `[province]` is not configured.
    fn office(&self) -> &str {
        self.province_office.as_deref().unwrap_or(&self.archive_config().origin)
    }

    /// Verifies each hit of the index from its office's evidence, and with `also` what the asker
    /// needs of it; sorts them into offers and refusals, in the index's order.
    fn verify_found(
        &self,
        found: Vec<Found>,
        also: impl Fn(&Verified) -> Result<(), String>,
    ) -> (Vec<ProvinceOffer>, Vec<ProvinceRefusal>) {
        let mut offers = Vec::new();
        let mut refused = Vec::new();
        for hit in found {
            let verified = match (self.peers.get(&hit.origin), hit.code.parse::<DocumentCode>()) {
                (None, _) => Err(format!(
                    "office {:?} (log {}) is not pinned in [province] peers, so nothing of it can be verified",
                    hit.office, hit.origin
                )),
                (_, Err(e)) => Err(format!("the index gives an invalid document code: {e}")),
                (Some(peer), Ok(code)) => peer.verify(&code).and_then(|v| also(&v).map(|()| (peer, v))),
            };
            match verified {
                Ok((peer, v)) => offers.push(offer(&peer.config.office, &hit.origin, v)),
                Err(reason) => {
                    refused.push(ProvinceRefusal { office: hit.office, origin: hit.origin, code: hit.code, reason })
                }
            }
        }
        (offers, refused)
    }
}

/// The offer of a verified document: everything shown comes from its verified evidence and the
/// pinned office's name, nothing from the index.
fn offer(office: &str, origin: &str, v: Verified) -> ProvinceOffer {
    let m = &v.record.metadata;
    ProvinceOffer {
        office: office.to_owned(),
        origin: origin.to_owned(),
        code: v.record.code.to_string(),
        doc_type: m.doc_type().to_string(),
        name: m.name().to_owned(),
        owner: m.owner().map(ToString::to_string),
        number: m.number_symbol().map(str::to_owned),
        issuing_body: m.issuing_body().map(str::to_owned),
        issue_date: m.issue_date(),
        valid_until: match m.validity() {
            Validity::Until(day) => Some(day),
            Validity::Permanent => None,
        },
        held: v.record.is_held(),
        pages: v.record.pages.len(),
        pdf: v.record.pdf.to_string(),
        verified: true,
        evidence: v.evidence,
        checkpoint_size: v.checkpoint_size,
    }
}
