//! The guard of the public verification page, which anyone on the network can reach without a login:
//! a token bucket per client address (in a bounded table) and counts of what it answered, written to
//! the audit trail as one entry per interval instead of one synced entry per request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{AppError, AppState};
use crate::config::HttpConfig;
use crate::{Appliance, ApplianceError};

/// Client addresses whose buckets are kept. Beyond it, buckets that have refilled are forgotten
/// (a full bucket is what a new client gets anyway); if none has, new clients share one bucket, so
/// that a crowd of addresses can neither grow the table nor escape the rate.
const TRACKED_CLIENTS: usize = 4096;

/// How often the counts of anonymous verifications are written to the audit trail while serving.
pub const AUDIT_INTERVAL: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Buckets {
    clients: HashMap<IpAddr, Bucket>,
    /// The bucket shared by new clients while the table is full.
    crowd: Bucket,
}

/// The rate limit and the counts of the public page.
pub struct PublicGate {
    buckets: Mutex<Buckets>,
    burst: f64,
    per_second: f64,
    answered: AtomicU64,
    matched: AtomicU64,
    refused: AtomicU64,
}

impl PublicGate {
    /// A gate with the configured burst and rate per client address.
    pub fn new(config: &HttpConfig) -> Self {
        let burst = f64::from(config.public_burst);
        PublicGate {
            buckets: Mutex::new(Buckets {
                clients: HashMap::new(),
                crowd: Bucket { tokens: burst, at: Instant::now() },
            }),
            burst,
            per_second: f64::from(config.public_per_minute) / 60.0,
            answered: AtomicU64::new(0),
            matched: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Takes one request's token from `client`'s bucket (an address as [`ClientIp`](super::client_ip::ClientIp)
    /// gives it: an IPv6 client by its /64), or refuses with 429 and the seconds until the next token.
    pub fn admit(&self, client: IpAddr) -> Result<(), AppError> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.clients.contains_key(&client) && buckets.clients.len() >= TRACKED_CLIENTS {
            buckets.clients.retain(|_, b| self.refilled(b, now) < self.burst);
        }
        let fresh = Bucket { tokens: self.burst, at: now };
        let bucket = if buckets.clients.len() < TRACKED_CLIENTS || buckets.clients.contains_key(&client) {
            buckets.clients.entry(client).or_insert(fresh)
        } else {
            &mut buckets.crowd
        };
        bucket.tokens = self.refilled(bucket, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - bucket.tokens) / self.per_second).ceil().max(1.0) as u64;
        drop(buckets);
        self.refused.fetch_add(1, Ordering::Relaxed);
        Err(AppError::TooManyRequests {
            message: format!("too many verifications from this address; try again in {wait} s"),
            retry_after: wait,
        })
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * self.per_second).min(self.burst)
    }

    /// Counts one answered verification, and whether it matched a document.
    pub fn answered(&self, matched: bool) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        if matched {
            self.matched.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes the counts since the last call as one audit entry and starts counting again; writes
    /// nothing when there was nothing to count. Returns the entry's detail, if one was written.
    pub fn audit_counts(&self, appliance: &Appliance) -> Result<Option<String>, ApplianceError> {
        let (answered, matched, refused) = (
            self.answered.swap(0, Ordering::Relaxed),
            self.matched.swap(0, Ordering::Relaxed),
            self.refused.swap(0, Ordering::Relaxed),
        );
        if answered + refused == 0 {
            return Ok(None);
        }
        let detail = format!(
            "{answered} anonymous verifications answered ({matched} named a document), {refused} refused by the rate limit"
        );
        if let Err(e) = appliance.record_public_verifications(&detail) {
            // Counted again next time rather than lost.
            self.answered.fetch_add(answered, Ordering::Relaxed);
            self.matched.fetch_add(matched, Ordering::Relaxed);
            self.refused.fetch_add(refused, Ordering::Relaxed);
            return Err(e);
        }
        Ok(Some(detail))
    }
}

/// Writes the counts to the audit trail every `interval`, for as long as the server runs.
pub async fn audit_every(state: AppState, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    // The first tick is immediate, with nothing counted yet.
    ticks.tick().await;
    loop {
        ticks.tick().await;
        audit_now(&state).await;
    }
}

/// Writes the counts to the audit trail now, on the blocking pool since the entry is a synced write.
/// A failure is logged, and the counts are kept for the next time.
pub async fn audit_now(state: &AppState) {
    let (gate, appliance) = (state.public.clone(), state.appliance.clone());
    match tokio::task::spawn_blocking(move || gate.audit_counts(&appliance)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "cannot write the count of public verifications to the audit trail"),
        Err(e) => tracing::error!(error = %e, "the task writing the count of public verifications failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_makes_new_clients_share_one_bucket() {
        let gate = PublicGate::new(&HttpConfig { public_burst: 1, public_per_minute: 1, ..HttpConfig::default() });
        for i in 0..TRACKED_CLIENTS as u32 {
            gate.admit(IpAddr::from(i.to_be_bytes())).unwrap();
        }
        // Every tracked bucket is spent, so none can be forgotten: two new clients share the last one.
        let (late, later): (IpAddr, IpAddr) = ("198.51.100.1".parse().unwrap(), "198.51.100.2".parse().unwrap());
        gate.admit(late).unwrap();
        assert!(matches!(gate.admit(later), Err(AppError::TooManyRequests { .. })));
        assert_eq!(gate.buckets.lock().unwrap().clients.len(), TRACKED_CLIENTS);
    }
}
