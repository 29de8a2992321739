//! Replication and publication in the background of `sohoa serve`: one thread each, which looks
//! every second whether the archive has events its follower has not done and runs a pass when it
//! has, so that a commit reaches the object store and the province index within about a second.
//! When the store or the index cannot be reached (or refuses), the pass is tried again after a
//! delay that doubles up to a minute; nothing is lost meanwhile, since the events wait in the
//! archive. Each thread has its own delay, so a dead index never slows replication, nor the reverse.
//!
//! The witness: a thread that reads the other offices' new checkpoints every few minutes, and
//! records in the audit trail and the log what it finds wrong.

use std::sync::Arc;
use std::time::Duration;

use domain::AuditAction;

use crate::{Appliance, ApplianceError};

use super::Lag;

/// How often a thread looks for events to follow.
const IDLE: Duration = Duration::from_secs(1);
/// The longest wait before trying a failed pass again.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How often the other offices' logs are witnessed: about twice per checkpoint interval.
const WITNESS_EVERY: Duration = Duration::from_secs(150);
/// Who the audit trail says replicated, published or witnessed.
const ACTOR: &str = "system";

/// A follower run in the background: its name for the log, its lag and its pass.
struct Background {
    what: &'static str,
    lag: fn(&Appliance) -> Result<Lag, ApplianceError>,
    pass: fn(&Appliance, &str) -> Result<(), ApplianceError>,
}

/// Starts a thread for replication, one for publication and one for the witness, each if it is
/// configured.
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
    let followers = [
        Background {
            what: "replication",
            lag: Appliance::replication_lag,
            pass: |a, actor| a.replicate(actor).map(drop),
        },
        Background {
            what: "publication",
            lag: Appliance::publication_lag,
            pass: |a, actor| a.publish(actor).map(drop),
        },
    ];
    for follower in followers {
        if (follower.lag)(&appliance).is_err() {
            continue;
        }
        let appliance = appliance.clone();
        std::thread::spawn(move || follow(&appliance, &follower));
    }
}

/// Runs `follower`'s passes for ever, backing off after a failure.
fn follow(appliance: &Appliance, follower: &Background) {
    let mut delay = IDLE;
    loop {
        std::thread::sleep(delay);
        delay = match (follower.lag)(appliance) {
            Ok(lag) if lag.events_behind == 0 => IDLE,
            Ok(_) => match (follower.pass)(appliance, ACTOR) {
                Ok(()) => IDLE,
                Err(e) => {
                    let next = (delay * 2).min(MAX_BACKOFF);
                    tracing::warn!("{} failed, tried again in {} s: {e}", follower.what, next.as_secs());
                    next
                }
            },
            Err(e) => {
                tracing::error!("{} cannot read its position: {e}", follower.what);
                MAX_BACKOFF
            }
        };
    }
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
