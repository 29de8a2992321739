//! Checking the archive as a whole: fixity, the audit trail and the archive log's checkpoints and
//! proofs. Reading a proof or the trail is itself audited, like any access to the archive's evidence.

use archive::{AuditQuery, Checkpoint, ConsistencyProof, FixityReport, InclusionProof};
use chrono::{DateTime, FixedOffset};
use domain::{AuditAction, DocumentCode};
use serde::Serialize;
use utoipa::ToSchema;

use super::{AUDITORS, INSPECTORS, Permit};
use crate::{Appliance, ApplianceError};

/// A full fixity run.
pub const FIXITY: Permit = Permit { what: "run fixity", roles: AUDITORS };
/// Reading the audit trail.
pub const AUDIT_READ: Permit = Permit { what: "read the audit trail", roles: AUDITORS };
/// Signing a log checkpoint now.
pub const CHECKPOINT: Permit = Permit { what: "sign log checkpoints", roles: INSPECTORS };
/// Reading inclusion and consistency proofs.
pub const PROOFS: Permit = Permit { what: "read log proofs", roles: INSPECTORS };

/// The outcome of a fixity run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fixity {
    /// What was checked and every problem found.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub report: FixityReport,
    /// Whether nothing was found wrong.
    pub intact: bool,
}

/// One audit entry as read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Position in the trail, from 1.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<FixedOffset>,
    /// Who did it.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// Further detail: the outcome.
    pub detail: String,
    /// The entry's hash in the chain, hex.
    pub hash: String,
    /// The id of the seal key that sealed it.
    pub key: String,
}

/// The audit entries a query matched.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntries {
    /// Oldest first.
    pub entries: Vec<AuditEntryView>,
}

/// A signed checkpoint of the archive log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckpointView {
    /// The checkpoint: origin, size, root and signature.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub checkpoint: Checkpoint,
    /// The checkpoint as a signed note, the form witnesses exchange.
    pub note: String,
}

/// The proof that a document's latest leaf is in the log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InclusionView {
    /// The proof: the leaf, its index, the path and the checkpoint it leads to.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub proof: InclusionProof,
    /// Whether the path leads from the leaf to the checkpoint's root.
    pub verifies: bool,
}

/// The proof that an older checkpoint is a prefix of the latest.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsistencyView {
    /// The proof: both checkpoints and the path between them.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub proof: ConsistencyProof,
    /// Whether the path shows the older log to be a prefix of the newer.
    pub verifies: bool,
}

impl Appliance {
    /// Re-hashes every blob and checks every seal, the log and the audit chain, reading at most `rate`
    /// bytes per second; `progress` hears (done, total) blobs.
    pub fn fixity(
        &self,
        rate: Option<u64>,
        actor: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Fixity, ApplianceError> {
        let report = self.archive().fixity_with_progress(rate, actor, progress)?;
        Ok(Fixity { intact: report.is_clean(), report })
    }

    /// The audit entries matching `query`; the whole chain is checked on the way, and the reading is
    /// itself recorded.
    pub fn audit_query(&self, query: &AuditQuery, actor: &str) -> Result<AuditEntries, ApplianceError> {
        let entries = self.archive().audit_query(query)?;
        let target = query.target.as_deref().unwrap_or("");
        self.audit(actor, AuditAction::AuditRead, target, &format!("{} entries", entries.len()))?;
        Ok(AuditEntries {
            entries: entries
                .into_iter()
                .map(|e| AuditEntryView {
                    seq: e.seq,
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    detail: e.detail,
                    hash: domain::hex(&e.hash),
                    key: e.seal.key,
                })
                .collect(),
        })
    }

    /// Signs a checkpoint of the log now, or answers the latest if nothing changed since. The
    /// checkpoint is its own record (signed, with the audit position it covers) and is not audited:
    /// an audit entry would be a change, and every request would then sign a new checkpoint.
    pub fn checkpoint(&self) -> Result<CheckpointView, ApplianceError> {
        let checkpoint = self.archive().checkpoint()?;
        Ok(CheckpointView { note: checkpoint.to_note(), checkpoint })
    }

    /// The inclusion proof of a document's latest leaf.
    pub fn prove(&self, code: &DocumentCode, actor: &str) -> Result<InclusionView, ApplianceError> {
        let proof = self.archive().prove(code)?;
        self.audit(actor, AuditAction::LogProve, &code.to_string(), &format!("leaf {}", proof.index))?;
        Ok(InclusionView { verifies: proof.verifies(), proof })
    }

    /// The proof that the checkpoint of size `from` is a prefix of the latest.
    pub fn prove_consistency(&self, from: u64, actor: &str) -> Result<ConsistencyView, ApplianceError> {
        let proof = self.archive().prove_consistency(from)?;
        self.audit(actor, AuditAction::LogConsistency, &from.to_string(), &proof.to.size.to_string())?;
        Ok(ConsistencyView { verifies: proof.verifies(), proof })
    }
}
