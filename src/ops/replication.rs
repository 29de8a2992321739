//! Replication to the province's object store (see [`crate::province`]): one pass now, the lag, and
//! the check of the store's copies (`sohoa replicate`, `sohoa fixity --remote`, `/metrics`).

use domain::AuditAction;
use serde::Serialize;

use super::{ADMINS, AUDITORS, Permit};
use crate::province::{Lag, PassCounts, RemoteReport, Replicator};
use crate::{Appliance, ApplianceError};

/// Replicating now.
pub const REPLICATE: Permit = Permit { what: "replicate to the object store", roles: ADMINS };
/// Checking the store's copies.
pub const REMOTE_FIXITY: Permit = Permit { what: "check the object store's copies", roles: AUDITORS };

/// What a pass did, and how far behind the store is after it.
#[derive(Debug, Clone, Serialize)]
pub struct Replicated {
    /// What was written or checked.
    #[serde(flatten)]
    pub counts: PassCounts,
    /// The lag after the pass.
    pub lag: Lag,
}

/// The outcome of checking the store's copies.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteFixity {
    /// What was checked and every problem found.
    #[serde(flatten)]
    pub report: RemoteReport,
    /// How far replication had gone: what it has not reached yet was not expected in the store.
    pub lag: Lag,
    /// Whether nothing was found wrong.
    pub intact: bool,
}

impl Appliance {
    /// Replication, if `[replication]` is configured.
    pub(crate) fn replicator(&self) -> Result<&Replicator, ApplianceError> {
        self.replication.as_ref().ok_or_else(|| {
            ApplianceError::Input("no object store is configured ([replication] in the configuration)".into())
        })
    }

    /// How far the store is behind the archive.
    pub fn replication_lag(&self) -> Result<Lag, ApplianceError> {
        self.replicator()?.lag(self)
    }

    /// Copies every archived change not yet in the store. A pass that fails (the store unreachable)
    /// leaves what it did not copy for the next one, and says how far behind the store is. A pass
    /// that copied documents is one audit entry; one that copied only checkpoints is none, so that
    /// the checkpoint the entry causes does not cause another entry in turn.
    pub fn replicate(&self, actor: &str) -> Result<Replicated, ApplianceError> {
        let replicator = self.replicator()?;
        let counts = replicator.pass(self).map_err(|e| {
            let behind = replicator.lag(self).map(|l| format!("{} events behind", l.events_behind));
            ApplianceError::Internal(anyhow::anyhow!("{e} (the store is {})", behind.unwrap_or_else(|l| l.to_string())))
        })?;
        let lag = replicator.lag(self)?;
        if counts.documents > 0 {
            let detail = format!(
                "{} documents, {} checkpoints, {} objects written, to event {}",
                counts.documents, counts.checkpoints, counts.objects_written, lag.followed_to
            );
            self.audit(actor, AuditAction::Replicate, "object store", &detail)?;
        }
        Ok(Replicated { counts, lag })
    }

    /// Checks the store's copies of everything replicated so far against the archive.
    pub fn remote_fixity(&self, actor: &str) -> Result<RemoteFixity, ApplianceError> {
        let replicator = self.replicator()?;
        let report = replicator.check(self)?;
        let lag = replicator.lag(self)?;
        let intact = report.problems.is_empty();
        let detail = format!("{} objects, {} problems", report.objects, report.problems.len());
        self.audit(actor, AuditAction::RemoteFixity, "object store", &detail)?;
        Ok(RemoteFixity { report, lag, intact })
    }
}
