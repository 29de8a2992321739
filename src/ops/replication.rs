//! Replication to the province's object store (see [`crate::province`]): one pass now, the lag, the
//! check of the store's copies, and the witness of the other offices' logs (`sohoa replicate`,
//! `sohoa fixity --remote`, `sohoa fixity --province`, `/metrics`).

use domain::AuditAction;
use serde::Serialize;

use super::{ADMINS, AUDITORS, Permit};
use crate::province::{Lag, PassCounts, PeerReport, RemoteReport, Replicator};
use crate::{Appliance, ApplianceError};

/// Replicating now.
pub const REPLICATE: Permit = Permit { what: "replicate to the object store", roles: ADMINS };
/// Checking the store's copies.
pub const REMOTE_FIXITY: Permit = Permit { what: "check the object store's copies", roles: AUDITORS };
/// Witnessing the other offices' logs.
pub const PROVINCE_FIXITY: Permit = Permit { what: "check the other offices' logs", roles: AUDITORS };

/// What a pass did, and how far behind the store is after it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Replicated {
    /// What was written or checked.
    #[serde(flatten)]
    pub counts: PassCounts,
    /// The lag after the pass.
    pub lag: Lag,
}

/// The outcome of checking the store's copies.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RemoteFixity {
    /// What was checked and every problem found.
    #[serde(flatten)]
    pub report: RemoteReport,
    /// How far replication had gone: what it has not reached yet was not expected in the store.
    pub lag: Lag,
    /// Whether nothing was found wrong.
    pub intact: bool,
}

/// The outcome of witnessing the other offices' logs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProvinceFixity {
    /// Each peer's log, as `[province] peers` lists them.
    pub peers: Vec<PeerReport>,
    /// Whether nothing was found wrong.
    pub intact: bool,
}

impl ProvinceFixity {
    /// What was checked and found, in one line.
    pub fn summary(&self) -> String {
        let checked: u64 = self.peers.iter().map(|p| p.checkpoints).sum();
        let problems: usize = self.peers.iter().map(|p| p.problems.len()).sum();
        format!("{} offices, {checked} checkpoints, {problems} problems", self.peers.len())
    }
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

    /// Witnesses the other offices' logs: reads the checkpoints each published since the last run
    /// and checks that they are signed by its pinned keys and extend what was witnessed before (see
    /// [`crate::province::witness`]).
    pub fn province_fixity(&self, actor: &str) -> Result<ProvinceFixity, ApplianceError> {
        let fixity = self.witness_peers()?;
        self.audit(actor, AuditAction::ProvinceFixity, "province", &fixity.summary())?;
        Ok(fixity)
    }

    /// [`province_fixity`](Self::province_fixity) unaudited, for the background witness, which
    /// records only what it finds wrong: an audit entry of every run would make a checkpoint,
    /// which the other offices would witness in turn, and so on for ever.
    pub(crate) fn witness_peers(&self) -> Result<ProvinceFixity, ApplianceError> {
        let witness = self.witness.as_ref().ok_or_else(|| {
            ApplianceError::Input(
                "no other office to witness ([province] peers and [replication] in the configuration)".into(),
            )
        })?;
        let peers = witness.run(&self.peers)?;
        let problems = peers.iter().map(|p| p.problems.len() as u64).sum();
        self.metrics().set_province_log_problems(problems);
        Ok(ProvinceFixity { intact: problems == 0, peers })
    }
}
