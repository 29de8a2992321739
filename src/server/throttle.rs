//! Login throttling. Failed logins are counted per client address and per user name; past a few free
//! attempts each further failure closes that address or name for twice as long as the one before (capped),
//! so guessing a password goes from hundreds of tries a second to a handful an hour, while a person who
//! mistypes a few times is never held up. Argon2 runs are bounded to one per core, with a short queue,
//! so that a flood of logins cannot take every core and every megabyte Argon2 uses.
//!
//! Failures are not written to the sealed audit trail one by one, where anonymous clients could grow it
//! at will: they are gathered here by user name (unknown names all under one entry, never spelled out,
//! since a mistyped name is often a password) and written as one entry per name and interval by
//! [`LoginThrottle::take_failures`].

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use domain::vietnam_now;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Failures an address or a name may have before back-off starts.
const FREE_FAILURES: u32 = 5;
/// How long the first failure past the free ones closes an address or a name; each further one doubles it.
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// The longest an address or a name is closed after a failure.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// How long after its last failure an address or name is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// The most addresses, and the most names, tracked at once; beyond it the stalest is dropped, so that
/// the tables cost a constant however many clients or names an attacker uses.
const MAX_TRACKED: usize = 4096;
/// The most logins waiting for an Argon2 run; beyond it a login is answered "busy" at once.
const MAX_WAITING: usize = 64;
/// How many addresses an audit entry of failed logins names; beyond it they are counted only.
const MAX_LISTED_ADDRESSES: usize = 8;

/// The back-off state of one address or name.
struct Backoff {
    failures: u32,
    last: Instant,
    closed_until: Instant,
}

/// A bounded table of back-off states.
struct Tracker<K> {
    entries: HashMap<K, Backoff>,
}

impl<K: Hash + Eq + Clone> Tracker<K> {
    fn new() -> Self {
        Tracker { entries: HashMap::new() }
    }

    /// How long `key` stays closed, if it is.
    fn closed_for(&self, key: &K, now: Instant) -> Option<Duration> {
        self.entries.get(key).and_then(|b| b.closed_until.checked_duration_since(now)).filter(|d| !d.is_zero())
    }

    fn fail(&mut self, key: &K, now: Instant) {
        if !self.entries.contains_key(key) && self.entries.len() >= MAX_TRACKED {
            self.entries.retain(|_, b| now.duration_since(b.last) < FORGET_AFTER);
            if self.entries.len() >= MAX_TRACKED {
                let stalest = self.entries.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| k.clone());
                stalest.map(|k| self.entries.remove(&k));
            }
        }
        let entry = self.entries.entry(key.clone()).or_insert(Backoff { failures: 0, last: now, closed_until: now });
        if now.duration_since(entry.last) >= FORGET_AFTER {
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last = now;
        if let Some(over) = entry.failures.checked_sub(FREE_FAILURES + 1) {
            entry.closed_until = now + FIRST_BACKOFF.saturating_mul(1 << over.min(16)).min(MAX_BACKOFF);
        }
    }

    fn clear(&mut self, key: &K) {
        self.entries.remove(key);
    }
}

/// Failed logins of one name not yet written to the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedLogins {
    /// The account's name, or `None` for names that are no account (never written out: such a "name"
    /// is often a password typed into the wrong field).
    pub user: Option<String>,
    /// How many failed.
    pub count: u64,
    /// The first failure's time.
    pub first: DateTime<FixedOffset>,
    /// The last failure's time.
    pub last: DateTime<FixedOffset>,
    /// Up to a few of the addresses they came from.
    pub addresses: BTreeSet<IpAddr>,
    /// How many addresses there were in all.
    pub address_count: usize,
}

impl FailedLogins {
    /// The audit entry's detail: how many, when, from where.
    pub fn detail(&self) -> String {
        let listed = self.addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let more = self.address_count.saturating_sub(self.addresses.len());
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        format!(
            "{} failed logins from {} to {} from {listed}{more}",
            self.count,
            self.first.to_rfc3339(),
            self.last.to_rfc3339()
        )
    }
}

/// Whether a login may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Open,
    /// The client's address or the name is closed for this long after repeated failures.
    Closed(Duration),
}

struct Tables {
    by_address: Tracker<IpAddr>,
    by_name: Tracker<String>,
    pending: HashMap<Option<String>, (FailedLogins, BTreeSet<IpAddr>)>,
}

/// The login throttle of one server.
pub struct LoginThrottle {
    tables: Mutex<Tables>,
    argon2: Semaphore,
    waiting: AtomicUsize,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        LoginThrottle {
            tables: Mutex::new(Tables { by_address: Tracker::new(), by_name: Tracker::new(), pending: HashMap::new() }),
            argon2: Semaphore::new(cores),
            waiting: AtomicUsize::new(0),
        }
    }
}

impl LoginThrottle {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a login for `name` from `address` may be tried now. Names are checked whether or not they
    /// are accounts, so that being closed tells nothing about which names exist.
    pub fn admit(&self, address: IpAddr, name: &str) -> Admission {
        let now = Instant::now();
        let tables = self.tables();
        let closed = tables.by_address.closed_for(&address, now).max(tables.by_name.closed_for(&name.to_owned(), now));
        closed.map_or(Admission::Open, Admission::Closed)
    }

    /// Waits for one of the Argon2 slots; `None` when too many logins wait already.
    pub async fn argon2_slot(&self) -> Option<SemaphorePermit<'_>> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let permit = self.argon2.acquire().await.ok();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit
    }

    /// Records a failed login of `name` (`known`: whether it is an account) from `address`.
    pub fn failed(&self, address: IpAddr, name: &str, known: bool) {
        let now = Instant::now();
        let at = vietnam_now();
        let mut tables = self.tables();
        tables.by_address.fail(&address, now);
        tables.by_name.fail(&name.to_owned(), now);
        let user = known.then(|| name.to_owned());
        let (pending, addresses) = tables.pending.entry(user.clone()).or_insert_with(|| {
            let none =
                FailedLogins { user, count: 0, first: at, last: at, addresses: BTreeSet::new(), address_count: 0 };
            (none, BTreeSet::new())
        });
        pending.count += 1;
        pending.last = at;
        // Every address is counted, but the set that counts them is itself bounded: past the tracking
        // bound, further addresses are counted as one more each time they fail.
        if addresses.len() < MAX_TRACKED {
            addresses.insert(address);
        }
        pending.address_count = addresses.len();
        if pending.addresses.len() < MAX_LISTED_ADDRESSES {
            pending.addresses.insert(address);
        }
    }

    /// Records a successful login: the name's and the address's failures are forgiven.
    pub fn succeeded(&self, address: IpAddr, name: &str) {
        let mut tables = self.tables();
        tables.by_address.clear(&address);
        tables.by_name.clear(&name.to_owned());
    }

    /// Takes the failures gathered since the last call, one entry per account name and one for every
    /// unknown name together, for the audit trail.
    pub fn take_failures(&self) -> Vec<FailedLogins> {
        let mut all: Vec<FailedLogins> = self.tables().pending.drain().map(|(_, (f, _))| f).collect();
        all.sort_by(|a, b| a.user.cmp(&b.user));
        all
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn back_off_starts_after_the_free_failures_per_address_and_per_name() {
        let throttle = LoginThrottle::default();
        for _ in 0..=FREE_FAILURES {
            assert_eq!(throttle.admit(A, "admin"), Admission::Open);
            throttle.failed(A, "admin", true);
        }
        assert!(matches!(throttle.admit(A, "admin"), Admission::Closed(_)));
        // Another address is closed for the same name, and the same address for another name.
        assert!(matches!(throttle.admit(B, "admin"), Admission::Closed(_)));
        assert!(matches!(throttle.admit(A, "bob"), Admission::Closed(_)));
        assert_eq!(throttle.admit(B, "bob"), Admission::Open);
    }

    #[test]
    fn the_tables_stay_bounded_whatever_the_number_of_names() {
        let throttle = LoginThrottle::default();
        for i in 0..(MAX_TRACKED + 100) {
            throttle.failed(A, &format!("user{i}"), false);
        }
        let tables = throttle.tables();
        assert!(tables.by_name.entries.len() <= MAX_TRACKED);
        // Unknown names share one pending entry, which names none of them.
        assert_eq!(tables.pending.len(), 1);
        assert_eq!(tables.pending[&None].0.count, (MAX_TRACKED + 100) as u64);
    }

    #[test]
    fn failures_are_taken_once_and_unknown_names_are_not_spelled_out() {
        let throttle = LoginThrottle::default();
        throttle.failed(A, "admin", true);
        throttle.failed(B, "admin", true);
        throttle.failed(A, "MậtKhẩu123", false);
        let taken = throttle.take_failures();
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[0].user, None);
        assert!(!taken[0].detail().contains("MậtKhẩu"));
        assert_eq!((taken[1].user.as_deref(), taken[1].count, taken[1].address_count), (Some("admin"), 2, 2));
        assert!(throttle.take_failures().is_empty());
    }
}
