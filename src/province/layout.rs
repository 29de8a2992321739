//! What goes where in the province's bucket, and how long each object is locked.
//!
//! - `blobs/<BLAKE3 hex>`: a content blob (page image, PDF, original file), under its own hash, so
//!   that writing it again writes the same bytes under the same key. Locked until the end of the
//!   retention of the document that keeps it longest, with a legal hold while a document using it is
//!   held.
//! - `documents/<code>/<event, 20 digits>-<BLAKE3 hex>.json`: a document's evidence as of that event
//!   (the record with its seals, or its tombstone; the inclusion proof of its latest log leaf with
//!   the signed checkpoint it leads to; the public seal keys), named by the event and by its own
//!   hash. Locked for the permanent period: the archive never removes a record either.
//! - `checkpoints/<origin>/<size, 20 digits>-<audit entry, 20 digits>.txt`: a signed checkpoint of
//!   the archive log as a signed note. Locked for the permanent period.
//! - `consistency/<origin>/<size>-<audit entry>.json`, named as the checkpoint: the proof that the
//!   log of the latest earlier checkpoint of a smaller size is a prefix of this checkpoint's, so
//!   that the other offices, witnessing the checkpoints one after the other, see any fork or
//!   rewritten history. Written before the note. Locked for the permanent period.
//! - `keys/<origin>/<key id>.json`: a public seal key that signed a checkpoint, which a witness takes
//!   only if its id is pinned in its own configuration. Locked for the permanent period.

use chrono::{DateTime, FixedOffset, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use domain::{BlobHash, DocumentCode};

use archive::{Disposition, DocumentRecord, RetentionSchedule};

/// The key of a content blob.
pub fn blob_key(hash: &BlobHash) -> String {
    format!("blobs/{hash}")
}

/// What the keys of a document's evidence as of event `seq` start with.
pub fn evidence_prefix(code: &DocumentCode, seq: u64) -> String {
    format!("documents/{code}/{seq:020}-")
}

/// The key of a document's evidence as of event `seq`, whose bytes hash to `hash`.
pub fn evidence_key(code: &DocumentCode, seq: u64, hash: &BlobHash) -> String {
    format!("{}{hash}.json", evidence_prefix(code, seq))
}

/// The hash a key listed under [`evidence_prefix`] names, if the key is one sohoa writes.
pub fn evidence_hash(key: &str, prefix: &str) -> Option<BlobHash> {
    key.strip_prefix(prefix)?.strip_suffix(".json")?.parse().ok()
}

/// What the keys of all of a document's evidence start with.
pub fn evidence_dir(code: &DocumentCode) -> String {
    format!("documents/{code}/")
}

/// The event and hash a key listed under [`evidence_dir`] names, if the key is one sohoa writes.
pub fn evidence_event(key: &str, code: &DocumentCode) -> Option<(u64, BlobHash)> {
    let (seq, _) = key.strip_prefix(&evidence_dir(code))?.split_once('-')?;
    if seq.len() != 20 || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seq = seq.parse().ok()?;
    Some((seq, evidence_hash(key, &evidence_prefix(code, seq))?))
}

/// The key of a signed checkpoint.
pub fn checkpoint_key(origin: &str, size: u64, audit_seq: u64) -> String {
    format!("checkpoints/{origin}/{size:020}-{audit_seq:020}.txt")
}

/// What the keys of a log's checkpoint notes start with.
pub fn checkpoints_prefix(origin: &str) -> String {
    format!("checkpoints/{origin}/")
}

/// The size and audit entry a checkpoint key listed under [`checkpoints_prefix`] names, if the key
/// is one sohoa writes.
pub fn checkpoint_of(key: &str, prefix: &str) -> Option<(u64, u64)> {
    let (size, audit_seq) = key.strip_prefix(prefix)?.strip_suffix(".txt")?.split_once('-')?;
    let digits = |s: &str| s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit());
    (digits(size) && digits(audit_seq)).then(|| Some((size.parse().ok()?, audit_seq.parse().ok()?)))?
}

/// The key of the consistency proof published with the checkpoint of `size` and `audit_seq`.
pub fn consistency_key(origin: &str, size: u64, audit_seq: u64) -> String {
    format!("consistency/{origin}/{size:020}-{audit_seq:020}.json")
}

/// The key of a public seal key of the log of `origin`.
pub fn seal_key_key(origin: &str, id: &signer::KeyId) -> String {
    format!("keys/{origin}/{id}.json")
}

/// How long objects are locked: a document's content by its retention class, everything kept for
/// ever by the archive for the permanent period.
pub struct Retention<'a> {
    /// The archive's schedule.
    pub schedule: &'a RetentionSchedule,
    /// `[replication] permanent_years`.
    pub permanent_years: u16,
}

/// The latest retain-until date asked of a store: 2106-02-07 06:28:15 UTC, the last second a 32-bit
/// count of seconds holds. Ceph RGW keeps the date in one and wraps a later one round to the past
/// (a hundred years from 2026 came back as 1990, which locks nothing), as the conformance run of
/// `make bench BENCH=province` found. A lock capped here is extended by a later replication when
/// stores hold later dates; until then the province renews nothing before 2106.
pub const LATEST_RETAIN_UNTIL: i64 = u32::MAX as i64;

impl Retention<'_> {
    /// The permanent period from `from`: deterministic for each object, so that writing it again
    /// asks for the same date and never extends a lock for nothing.
    pub fn permanent(&self, from: DateTime<FixedOffset>) -> DateTime<Utc> {
        let from = whole_second(from.with_timezone(&Utc));
        capped(
            from.checked_add_months(Months::new(12 * u32::from(self.permanent_years)))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }

    /// Until when a document's content blobs stay locked: the first day it may be destroyed (at
    /// midnight in Vietnam), later if a review kept it longer; the permanent period when it is
    /// permanent. A document whose retention has already ended stays locked for a day from `now`,
    /// since the store takes no retention in the past and it is not destroyed yet.
    pub fn content(&self, record: &DocumentRecord, now: DateTime<Utc>) -> DateTime<Utc> {
        let Some(eligible) = self.schedule.eligible_from(&record.lifecycle.retention_class, &record.metadata) else {
            return self.permanent(record.archived_at);
        };
        let kept = match &record.lifecycle.disposition {
            Disposition::KeptUntil { until, .. } => until.succ_opt().unwrap_or(NaiveDate::MAX),
            _ => eligible,
        };
        capped(vietnam_midnight(eligible.max(kept)).max(whole_second(now) + TimeDelta::days(1)))
    }
}

/// A retain-until date no later than [`LATEST_RETAIN_UNTIL`].
fn capped(until: DateTime<Utc>) -> DateTime<Utc> {
    until.min(DateTime::from_timestamp(LATEST_RETAIN_UNTIL, 0).expect("2106 is a valid date"))
}

/// An instant without its fraction of a second: the store keeps retention dates to the second, so a
/// date asked for must compare equal to the one read back.
fn whole_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// The start of `day` in Vietnam (UTC+7, no daylight saving).
fn vietnam_midnight(day: NaiveDate) -> DateTime<Utc> {
    let vietnam = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    // A fixed offset has exactly one instant for every local time.
    day.and_time(NaiveTime::MIN)
        .and_local_timezone(vietnam)
        .single()
        .map_or(DateTime::<Utc>::MAX_UTC, |at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_evidence_key_gives_back_its_hash_and_no_other_name_does() {
        let code: DocumentCode = "001099012345.HS".parse().unwrap();
        let hash = BlobHash::of(b"evidence");
        let prefix = evidence_prefix(&code, 7);
        assert_eq!(prefix, "documents/001099012345.HS/00000000000000000007-");
        assert_eq!(evidence_hash(&evidence_key(&code, 7, &hash), &prefix), Some(hash));
        assert_eq!(evidence_hash(&format!("{prefix}{hash}.json.bak"), &prefix), None);
        assert_eq!(evidence_hash(&format!("{prefix}../{hash}.json"), &prefix), None);
        assert_eq!(blob_key(&hash), format!("blobs/{hash}"));
        assert_eq!(evidence_event(&evidence_key(&code, 7, &hash), &code), Some((7, hash)));
        assert_eq!(evidence_event(&format!("documents/{code}/7-{hash}.json"), &code), None);
        assert_eq!(evidence_event(&format!("documents/{code}/+0000000000000000007-{hash}.json"), &code), None);
    }

    #[test]
    fn no_lock_is_asked_beyond_what_a_32_bit_store_holds() {
        let schedule = crate::config::RetentionConfig::default().load().unwrap();
        let retention = Retention { schedule: &schedule, permanent_years: 100 };
        let from = DateTime::parse_from_rfc3339("2026-12-01T10:00:00+07:00").unwrap();
        assert_eq!(retention.permanent(from).to_rfc3339(), "2106-02-07T06:28:15+00:00");
        let soon = Retention { schedule: &schedule, permanent_years: 10 };
        assert_eq!(soon.permanent(from).to_rfc3339(), "2036-12-01T03:00:00+00:00");
    }

    #[test]
    fn midnight_in_vietnam_is_five_in_the_afternoon_before_in_utc() {
        let day = NaiveDate::from_ymd_opt(2030, 1, 2).unwrap();
        assert_eq!(vietnam_midnight(day).to_rfc3339(), "2030-01-01T17:00:00+00:00");
    }
}
