//! Replication in the background of `sohoa serve`: a thread that looks every second whether the
//! archive has events the store lacks and runs a pass when it has, so that a commit is copied within
//! about a second. When the store cannot be reached (or refuses), the pass is tried again after a
//! delay that doubles up to a minute; nothing is lost meanwhile, since the events wait in the archive.

use std::sync::Arc;
use std::time::Duration;

use crate::Appliance;

/// How often the thread looks for events to replicate.
const IDLE: Duration = Duration::from_secs(1);
/// The longest wait before trying a failed pass again.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Who the audit trail says replicated.
const ACTOR: &str = "system";

/// Starts the thread, if replication is configured.
pub fn spawn(appliance: Arc<Appliance>) {
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
