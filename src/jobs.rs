//! The archive's background work while serving: a signed checkpoint of the log at the configured
//! interval, the daily eligibility mark (which deletes nothing), the fixity scrub at its rate, and
//! search catching up with changes whose own update of it failed.
//! Each runs on its own thread and logs what it found; a failure is logged and retried at the next
//! turn, never fatal to the server.

use std::sync::Arc;
use std::time::Duration;

use domain::vietnam_now;

use crate::Appliance;

const ACTOR: &str = "system";

/// How often search is caught up with the archive in the background. A change that could not be
/// indexed when it was made is archived all the same (see [`crate::SearchState::Pending`]).
const SEARCH_CATCH_UP: Duration = Duration::from_secs(60);

/// Starts the jobs for an appliance that is being served.
pub fn spawn(appliance: Arc<Appliance>) {
    let config = appliance.archive_config().clone();
    let a = appliance.clone();
    let interval = Duration::from_secs(config.checkpoint_seconds.max(1));
    // The archive's own checkpoint, not the audited operation: an audit entry per periodic checkpoint
    // would change the trail the next checkpoint covers, and so make a new checkpoint every interval
    // for ever.
    every(interval, interval, move || match a.archive().checkpoint() {
        Ok(c) => tracing::debug!(size = c.size, audit = c.audit_seq, "archive log checkpoint"),
        Err(e) => tracing::error!("archive log checkpoint failed: {e}"),
    });
    let a = appliance.clone();
    let mut last_day = None;
    every(Duration::ZERO, Duration::from_secs(600), move || {
        let today = vietnam_now().date_naive();
        if last_day == Some(today) {
            return;
        }
        match a.mark_eligible(Some(today), ACTOR) {
            Ok(marked) => {
                last_day = Some(today);
                if !marked.documents.is_empty() {
                    tracing::info!("{} documents became eligible for disposition review", marked.documents.len());
                }
            }
            Err(e) => tracing::error!("eligibility mark failed: {e}"),
        }
    });
    let a = appliance.clone();
    every(SEARCH_CATCH_UP, SEARCH_CATCH_UP, move || {
        if let Err(e) = a.catch_up_search() {
            tracing::error!("search catch-up failed: {e}");
        }
    });
    let a = appliance;
    let scrub = Duration::from_secs(config.scrub_hours.max(1) * 3600);
    every(scrub, scrub, move || match a.fixity(Some(config.scrub_bytes_per_second), ACTOR, &mut |_, _| {}) {
        Ok(fixity) if fixity.intact => {
            tracing::info!(documents = fixity.report.documents, blobs = fixity.report.blobs, "fixity: intact")
        }
        Ok(fixity) => {
            for p in &fixity.report.problems {
                tracing::error!("fixity: {p}");
            }
        }
        Err(e) => tracing::error!("fixity run failed: {e}"),
    });
}

/// Runs `job` after `first`, then every `period`, on a thread of its own.
fn every(first: Duration, period: Duration, mut job: impl FnMut() + Send + 'static) {
    std::thread::spawn(move || {
        std::thread::sleep(first);
        loop {
            job();
            std::thread::sleep(period);
        }
    });
}
