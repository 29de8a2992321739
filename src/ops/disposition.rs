//! Disposition, step by step: documents whose retention ended are marked eligible, reviewed (approved
//! or kept longer), and destroyed only under a council decision that one archivist requests and a
//! second confirms.

use archive::{CouncilDecision, Disposition, DocumentRecord, Review};
use chrono::NaiveDate;
use domain::{AuditAction, DocumentCode, vietnam_now};
use serde::Serialize;
use utoipa::ToSchema;

use super::{INSPECTORS, Permit};
use crate::users::Role;
use crate::{Appliance, ApplianceError, SearchState};

/// Marking eligible the documents whose retention ended (or looking ahead).
pub const MARK: Permit = Permit { what: "mark documents eligible", roles: Role::ARCHIVISTS };
/// Reading the documents awaiting a disposition step.
pub const LIST: Permit = Permit { what: "read the disposition list", roles: INSPECTORS };
/// Reviewing an eligible document.
pub const REVIEW: Permit = Permit { what: "review disposition", roles: Role::ARCHIVISTS };
/// Requesting a destruction under a council decision.
pub const REQUEST: Permit = Permit { what: "request destruction", roles: Role::DESTROYERS };
/// Confirming a requested destruction (a second person).
pub const CONFIRM: Permit = Permit { what: "confirm destruction", roles: Role::DESTROYERS };

/// What marking found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Marked {
    /// The day judged by.
    pub day: NaiveDate,
    /// Whether documents were marked: false for a look ahead at a day after today, which only lists
    /// what will be eligible by then.
    pub marked: bool,
    /// The documents newly eligible (or, looking ahead, eligible by `day`).
    pub documents: Vec<String>,
    /// Whether search shows the change yet.
    pub search: SearchState,
}

/// One document awaiting a disposition step.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DispositionView {
    /// The document code.
    pub code: String,
    /// The document's name.
    pub name: String,
    /// The retention class it is kept under.
    pub retention_class: String,
    /// Where it stands: `Eligible`, `KeptUntil`, `Approved` or `Requested`, with their details.
    #[schema(value_type = Object)]
    pub disposition: Disposition,
}

/// The documents awaiting a disposition step.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DispositionList {
    /// Each document, by code.
    pub documents: Vec<DispositionView>,
}

/// A document's disposition after a step.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DispositionChanged {
    /// The document code.
    pub code: String,
    /// Where it stands now.
    #[schema(value_type = Object)]
    pub disposition: Disposition,
    /// Whether search shows the change yet.
    pub search: SearchState,
}

/// The signed report of a destruction.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Destroyed {
    /// The report: what was destroyed, under which decision, by whom.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// The appliance's seal over the report's exact text.
    pub seal: SealView,
    /// Whether search shows the change yet.
    pub search: SearchState,
}

/// The signed report a destroyed document's tombstone keeps, for the records room's file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DestructionReport {
    /// The report: what was destroyed, under which decision, by whom.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// The appliance's seal over the report's exact text.
    pub seal: SealView,
}

/// A seal as a verifier needs it: the text exactly as signed, the signature and the key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SealView {
    /// The signed text.
    pub text: String,
    /// The Ed25519 signature, hex.
    pub signature: String,
    /// The id of the key that signed.
    pub key: String,
}

impl DispositionChanged {
    fn of(record: DocumentRecord, search: SearchState) -> Self {
        DispositionChanged { code: record.code.to_string(), disposition: record.lifecycle.disposition, search }
    }
}

impl Appliance {
    /// Marks eligible the documents whose retention ended by `day` (today when `None`). A day after
    /// today would make documents eligible before their time, so it only lists what will be eligible
    /// by then and marks nothing. Deletes nothing either way.
    pub fn mark_eligible(&self, day: Option<NaiveDate>, actor: &str) -> Result<Marked, ApplianceError> {
        let today = vietnam_now().date_naive();
        let day = day.unwrap_or(today);
        if day > today {
            let documents = self.archive().eligible_by(day)?.iter().map(ToString::to_string).collect();
            return Ok(Marked { day, marked: false, documents, search: SearchState::Indexed });
        }
        let documents = self.archive().mark_eligible(day, actor)?.iter().map(ToString::to_string).collect();
        Ok(Marked { day, marked: true, documents, search: self.index_committed() })
    }

    /// The documents awaiting a disposition step.
    pub fn disposition_list(&self) -> Result<DispositionList, ApplianceError> {
        let documents = self
            .archive()
            .disposition_queue()?
            .into_iter()
            .map(|r| DispositionView {
                code: r.code.to_string(),
                name: r.metadata.name().to_owned(),
                retention_class: r.lifecycle.retention_class,
                disposition: r.lifecycle.disposition,
            })
            .collect();
        Ok(DispositionList { documents })
    }

    /// Reviews an eligible document: approves it for destruction or keeps it longer.
    pub fn review(
        &self,
        code: &DocumentCode,
        review: Review,
        actor: &str,
    ) -> Result<DispositionChanged, ApplianceError> {
        let record = self.archive().review(code, review, actor)?;
        Ok(DispositionChanged::of(record, self.index_committed()))
    }

    /// Requests the destruction of an approved document under the council's decision.
    pub fn request_destruction(
        &self,
        code: &DocumentCode,
        decision: CouncilDecision,
        actor: &str,
    ) -> Result<DispositionChanged, ApplianceError> {
        let record = self.archive().request_destruction(code, decision, actor)?;
        Ok(DispositionChanged::of(record, self.index_committed()))
    }

    /// Confirms a requested destruction (a second person), destroys the content and answers the
    /// sealed report.
    pub fn confirm_destruction(&self, code: &DocumentCode, actor: &str) -> Result<Destroyed, ApplianceError> {
        let report = self.archive().confirm_destruction(code, actor)?;
        let parsed: serde_json::Value = serde_json::from_str(&report.json)
            .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("the sealed destruction report is not JSON: {e}")))?;
        Ok(Destroyed { report: parsed, seal: SealView::of(&report.seal), search: self.index_committed() })
    }
}

impl Appliance {
    /// The signed destruction report of a destroyed document, read from its tombstone; the reading is
    /// audited like any other download.
    pub fn destruction_report(&self, code: &DocumentCode, actor: &str) -> Result<DestructionReport, ApplianceError> {
        let record = self.record(code)?;
        let archive::DocumentStatus::Destroyed(destruction) = &record.status else {
            return Err(ApplianceError::NotFound(format!("document {code} is not destroyed")));
        };
        let seal = &destruction.report;
        let report = serde_json::from_str(&seal.text)
            .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("the sealed destruction report is not JSON: {e}")))?;
        self.audit(actor, AuditAction::Download, &code.to_string(), "destruction report")?;
        Ok(DestructionReport { report, seal: SealView::of(seal) })
    }
}

impl SealView {
    /// The view of a stored seal.
    pub fn of(seal: &archive::SealRecord) -> Self {
        SealView { text: seal.text.clone(), signature: domain::hex(&seal.signature), key: seal.key.clone() }
    }
}
