//! The province tier in the background of `sohoa serve`.
//!
//! Replication: a thread that looks every second whether the archive has events the store lacks and
//! runs a pass when it has, so that a commit is copied within about a second. When the store cannot
//! be reached (or refuses), the pass is tried again after a delay that doubles up to a minute;
//! nothing is lost meanwhile, since the events wait in the archive.
//!
//! The witness: a thread that reads the other offices' new checkpoints every few minutes, and
//! records in the audit trail and the log what it finds wrong.

use std::sync::Arc;
use std::time::Duration;

use domain::AuditAction;

use crate::Appliance;

/// How often the thread looks for events to replicate.
const IDLE: Duration = Duration::from_secs(1);
/// The longest wait before trying a failed pass again.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How often the other offices' logs are witnessed: about twice per checkpoint interval.
const WITNESS_EVERY: Duration = Duration::from_secs(150);
/// Who the audit trail says replicated, or witnessed.
const ACTOR: &str = "system";

/// Starts the threads of what is configured.
pub fn spawn(appliance: Arc<Appliance>) {
    if appliance.witness.is_some() {
        let appliance = appliance.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(WITNESS_EVERY);
                witness(&appliance);
            }
        });
    }
    if appliance.replicator().is_err() {
        return;
    }
    std::thread::spawn(move || {
        let mut delay = IDLE;
        loop {
            std::thread::sleep(delay);
            delay = match appliance.replication_lag() {
                Ok(lag) if lag.events_behind == 0 => IDLE,
                Ok(_) => match appliance.replicate(ACTOR) {
                    Ok(_) => IDLE,
                    Err(e) => {
                        let next = (delay * 2).min(MAX_BACKOFF);
                        tracing::warn!("replication failed, tried again in {} s: {e}", next.as_secs());
                        next
                    }
                },
                Err(e) => {
                    tracing::error!("replication cannot read its position: {e}");
                    MAX_BACKOFF
                }
            };
        }
    });
}

/// One run of the witness: a problem is logged and audited each time it is found.
fn witness(appliance: &Appliance) {
    match appliance.witness_peers() {
        Ok(fixity) if !fixity.intact => {
            for peer in &fixity.peers {
                for p in &peer.problems {
                    tracing::error!("the log of {} ({}): {}: {}", peer.office, peer.origin, p.key, p.problem);
                }
            }
            if let Err(e) = appliance.audit(ACTOR, AuditAction::ProvinceFixity, "province", &fixity.summary()) {
                tracing::error!("the witness's finding could not be audited: {e}");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("the witness of the other offices' logs failed: {e}"),
    }
}
