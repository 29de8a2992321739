//! Reuse (R10): finding what a citizen already handed in or was issued, checking that it is still in
//! force and intact, recording that a new dossier reuses it instead of a resubmitted copy, and the
//! reuse rate per month.

use std::collections::{BTreeMap, BTreeSet};

use archive::{AuditQuery, DocumentStatus};
use chrono::{DateTime, FixedOffset, NaiveDate};
use domain::{AuditAction, DocumentCode, DocumentTypeCode, DossierCode, OwnerId};
use search::ReuseHit;
use serde::Serialize;

use crate::ops::Permit;
use crate::users::Role;
use crate::{Appliance, ApplianceError};

/// Looking up an owner's documents for reuse, at the counter.
pub const LOOKUP: Permit = Permit { what: "look up documents for reuse", roles: COUNTER };
/// Recording that a dossier reuses a document.
pub const RECORD: Permit = Permit { what: "record reuse", roles: COUNTER };
/// Reading the reuse rate.
pub const REPORT: Permit =
    Permit { what: "read the reuse report", roles: &[Role::Officer, Role::Auditor, Role::Admin] };
/// The counter's roles.
const COUNTER: &[Role] = &[Role::Operator, Role::Officer, Role::Admin];

/// A document found for reuse, with the outcome of verifying it now.
#[derive(Debug, Clone, Serialize)]
pub struct ReuseCandidate {
    /// The document as search found it.
    #[serde(flatten)]
    pub document: ReuseHit,
    /// Whether every verification check passed (seals, hashes, PDF signature, archive log).
    pub verified: bool,
    /// The names of the checks that failed, if any.
    pub failed_checks: Vec<String>,
}

/// The reuse rate of one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReuseRate {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// Dossiers received that month (named by an ingested or a reused document).
    pub dossiers: usize,
    /// Of those, the dossiers in which at least one document was reused.
    pub with_reuse: usize,
}

/// The owner's documents in force, each verified now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReuseLookup {
    /// The day they are in force on.
    pub valid_on: NaiveDate,
    /// The documents, each with the outcome of verifying it.
    #[schema(value_type = Vec<Object>)]
    pub documents: Vec<ReuseCandidate>,
}

/// A reuse recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReuseRecorded {
    /// The document reused.
    pub code: String,
    /// The dossier that reuses it.
    pub dossier: String,
    /// Always true: the reuse is in the audit trail.
    pub reused: bool,
}

/// The reuse rate per month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReuseReport {
    /// Each month with dossiers, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub months: Vec<ReuseRate>,
}

const REUSE: &str = AuditAction::Reuse.as_str();
const INGEST: &str = AuditAction::Ingest.as_str();

/// Midnight at the start of `day`, Vietnam time: the bounds of report periods.
pub fn start_of_day(day: NaiveDate) -> Option<DateTime<FixedOffset>> {
    day.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(domain::vietnam_offset()).single())
}

impl Appliance {
    /// The owner's documents in force on `valid_on` (of `doc_type` if given), each verified now.
    /// The lookup and each verification are audited.
    pub fn reuse(
        &self,
        owner: &OwnerId,
        doc_type: Option<&DocumentTypeCode>,
        valid_on: NaiveDate,
        actor: &str,
    ) -> Result<ReuseLookup, ApplianceError> {
        let hits = self.search_index().reuse(owner.as_str(), doc_type.map(DocumentTypeCode::as_str), valid_on)?;
        self.audit(
            actor,
            AuditAction::ReuseLookup,
            owner.as_str(),
            &format!("valid on {valid_on}: {} documents", hits.len()),
        )?;
        let documents = hits
            .into_iter()
            .map(|document: ReuseHit| {
                let report = self.verify_code(&document.code, actor)?;
                let failed_checks = report.checks.into_iter().filter(|c| !c.passed).map(|c| c.name).collect();
                Ok(ReuseCandidate { document, verified: report.valid, failed_checks })
            })
            .collect::<Result<_, ApplianceError>>()?;
        Ok(ReuseLookup { valid_on, documents })
    }

    /// Records that dossier `dossier` reuses document `code` instead of a resubmitted copy. The
    /// document must be in force: active (held or not) and valid today.
    pub fn record_reuse(
        &self,
        code: &DocumentCode,
        dossier: &DossierCode,
        actor: &str,
    ) -> Result<ReuseRecorded, ApplianceError> {
        let record = self.record(code)?;
        if record.status != DocumentStatus::Active {
            return Err(ApplianceError::Input(format!(
                "document {code} is {} and cannot be reused",
                record.status.name()
            )));
        }
        let today = domain::vietnam_now().date_naive();
        if let domain::Validity::Until(end) = record.metadata.validity()
            && end < today
        {
            return Err(ApplianceError::Input(format!("document {code} was valid until {end} and cannot be reused")));
        }
        self.audit(actor, AuditAction::Reuse, &code.to_string(), &dossier.to_string())?;
        Ok(ReuseRecorded { code: code.to_string(), dossier: dossier.to_string(), reused: true })
    }

    /// The reuse rate per month between `from` and `until` (audit times, `until` excluded): of the
    /// dossiers received, how many reused at least one document. A dossier counts in the month of
    /// its first ingest or reuse.
    pub fn reuse_report(
        &self,
        from: Option<DateTime<FixedOffset>>,
        until: Option<DateTime<FixedOffset>>,
        actor: &str,
    ) -> Result<ReuseReport, ApplianceError> {
        let months = self.reuse_rates(from, until)?;
        self.audit(actor, AuditAction::ReuseReport, "", &format!("{} months", months.len()))?;
        Ok(ReuseReport { months })
    }

    /// The reuse rate of each month with dossiers between `from` and `until`, oldest first, without
    /// an audit entry: the caller decides what is recorded ([`reuse_report`](Self::reuse_report)
    /// records the report; the dashboard's counts are not recorded).
    pub(crate) fn reuse_rates(
        &self,
        from: Option<DateTime<FixedOffset>>,
        until: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<ReuseRate>, ApplianceError> {
        let entries = self.archive().audit_query(&AuditQuery { from, until, ..AuditQuery::default() })?;
        let mut first_seen: BTreeMap<String, String> = BTreeMap::new();
        let mut reusing: BTreeSet<String> = BTreeSet::new();
        for e in entries {
            let month = e.at.format("%Y-%m").to_string();
            let dossier = match e.action.as_str() {
                REUSE => {
                    reusing.insert(e.detail.clone());
                    Some(e.detail)
                }
                INGEST => e
                    .target
                    .parse::<DocumentCode>()
                    .ok()
                    .and_then(|code| self.archive().record(&code).ok().flatten())
                    .and_then(|r| r.metadata.dossier().map(ToString::to_string)),
                _ => None,
            };
            if let Some(d) = dossier {
                first_seen.entry(d).or_insert(month);
            }
        }
        let mut months: BTreeMap<String, ReuseRate> = BTreeMap::new();
        for (dossier, month) in first_seen {
            let rate = months.entry(month.clone()).or_insert(ReuseRate { month, dossiers: 0, with_reuse: 0 });
            rate.dossiers += 1;
            rate.with_reuse += usize::from(reusing.contains(&dossier));
        }
        Ok(months.into_values().collect())
    }
}
