//! Replication: copying what the archive keeps to the province's object store, following the
//! archive's events from replication's own durable cursor (`Archive::cursor`). Events are written
//! in the batch of each change, so the events after the cursor are the outbox: a crash, an
//! unreachable store or a week offline leaves them there, and the next pass copies them.
//!
//! A pass takes the events in chunks. For each document a chunk names (once, at its last event in
//! the chunk) it writes the content blobs the record refers to, then the evidence of the record as
//! it is now; for each checkpoint, its signed note. Only when everything of a chunk is in the store
//! does the cursor move past it, so a pass cut short is done again, and since every key is a
//! content address or names the event, doing it again writes nothing new: an object already there
//! is only checked for its lock (extended, never shortened) and legal hold.

use std::collections::BTreeSet;

use archive::DocumentStatus;
use chrono::Utc;
use domain::{BlobHash, DocumentCode};
use serde::Serialize;

use super::follow::{Follower, Lag};
use super::layout::{self, Retention};
use super::object_store::{Lock, ObjectStore};
use crate::config::ReplicationConfig;
use crate::{Appliance, ApplianceError};

/// The name replication's cursor is kept under in the archive.
pub const FOLLOWER: &str = "replication";

/// What one pass did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PassCounts {
    /// Documents whose evidence was written or found in the store.
    pub documents: u64,
    /// Checkpoints written or found.
    pub checkpoints: u64,
    /// Objects written (blobs, evidence, checkpoints).
    pub objects_written: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Objects already there whose lock was extended to a later date.
    pub retention_extended: u64,
    /// Objects whose legal hold was put on or taken off.
    pub holds_changed: u64,
}

/// Replication to one bucket, and what the running process knows of its lag.
pub struct Replicator {
    store: ObjectStore,
    permanent_years: u16,
    origin: String,
    follower: Follower,
}

impl Replicator {
    /// Replication as configured, to the log of `origin`. Nothing is sent yet.
    pub fn open(config: &ReplicationConfig, origin: &str) -> anyhow::Result<Self> {
        Ok(Replicator {
            store: ObjectStore::connect(config)?,
            permanent_years: config.permanent_years,
            origin: origin.to_owned(),
            follower: Follower::new(FOLLOWER),
        })
    }

    /// The bucket.
    pub fn store(&self) -> &ObjectStore {
        &self.store
    }

    /// The lock periods of `appliance`'s archive.
    pub(super) fn retention<'a>(&self, appliance: &'a Appliance) -> Retention<'a> {
        Retention { schedule: appliance.archive().schedule(), permanent_years: self.permanent_years }
    }

    /// The key of the signed checkpoint at `size` and `audit_seq` of this appliance's log.
    pub(super) fn checkpoint_key(&self, size: u64, audit_seq: u64) -> String {
        layout::checkpoint_key(&self.origin, size, audit_seq)
    }

    /// How far the store is behind, noting what the event sequence has reached now.
    pub fn lag(&self, appliance: &Appliance) -> Result<Lag, ApplianceError> {
        self.follower.lag(appliance.archive())
    }

    /// Copies every event after the cursor to the store, moving the cursor after each chunk.
    pub fn pass(&self, appliance: &Appliance) -> Result<PassCounts, ApplianceError> {
        self.store.check_bucket()?;
        let mut counts = PassCounts::default();
        self.follower.pass(appliance.archive(), &mut |chunk, _| {
            for (code, seq) in &chunk.documents {
                self.document(appliance, code, *seq, &mut counts)?;
            }
            for &(size, audit_seq) in &chunk.checkpoints {
                self.checkpoint(appliance, size, audit_seq, &mut counts)?;
            }
            Ok(())
        })?;
        Ok(counts)
    }

    /// Writes a document's content blobs (unless destroyed: the archive has none left) and its
    /// evidence as of event `seq`.
    fn document(
        &self,
        appliance: &Appliance,
        code: &DocumentCode,
        seq: u64,
        counts: &mut PassCounts,
    ) -> Result<(), ApplianceError> {
        let record = appliance.record(code)?;
        let retention = self.retention(appliance);
        if !matches!(record.status, DocumentStatus::Destroyed(_)) {
            let lock = Lock { retain_until: retention.content(&record, Utc::now()), legal_hold: record.is_held() };
            for hash in record.blobs().collect::<BTreeSet<BlobHash>>() {
                self.blob(appliance, &hash, lock, counts)?;
            }
        }
        let evidence = to_json(&format!("evidence of {code}"), &appliance.evidence_bundle(code)?)?;
        let key = layout::evidence_key(code, seq, &BlobHash::of(&evidence));
        let lock = Lock { retain_until: retention.permanent(record.archived_at), legal_hold: false };
        self.write_once(&key, evidence, "application/json", lock, counts)?;
        counts.documents += 1;
        Ok(())
    }

    /// Makes sure a content blob is in the store with at least `lock`: written when absent (read
    /// from the archive, its hash checked), its retention extended when shorter, its legal hold put
    /// on, or taken off unless another document may share it.
    fn blob(
        &self,
        appliance: &Appliance,
        hash: &BlobHash,
        lock: Lock,
        counts: &mut PassCounts,
    ) -> Result<(), ApplianceError> {
        let key = layout::blob_key(hash);
        let Some(state) = self.store.head(&key)? else {
            let bytes = appliance.archive().read_blob(hash)?;
            counts.bytes_written += bytes.len() as u64;
            self.store.put(&key, bytes, "application/octet-stream", lock)?;
            counts.objects_written += 1;
            return Ok(());
        };
        if state.retain_until.is_none_or(|until| until < lock.retain_until) {
            self.store.retain_until(&key, lock.retain_until)?;
            counts.retention_extended += 1;
        }
        // A blob used by two documents (the same page archived twice) keeps the hold of either:
        // it is taken off only while this document is the blob's one user.
        if state.legal_hold != lock.legal_hold && (lock.legal_hold || appliance.archive().blob_refs(hash)? <= 1) {
            self.store.set_legal_hold(&key, lock.legal_hold)?;
            counts.holds_changed += 1;
        }
        Ok(())
    }

    /// Writes a signed checkpoint's note, after the public key that signed it and the proof that
    /// the checkpoint before it is a prefix of it, so that a witness that sees the note finds both.
    fn checkpoint(
        &self,
        appliance: &Appliance,
        size: u64,
        audit_seq: u64,
        counts: &mut PassCounts,
    ) -> Result<(), ApplianceError> {
        let checkpoint = appliance.archive().checkpoint_at(size, audit_seq)?.ok_or_else(|| {
            ApplianceError::Internal(anyhow::anyhow!(
                "an event names the checkpoint at log size {size}, audit entry {audit_seq}, which is not stored (run fixity)"
            ))
        })?;
        let lock = Lock { retain_until: self.retention(appliance).permanent(checkpoint.at), legal_hold: false };
        let sealed_by = appliance.carried_keys(&BTreeSet::from([checkpoint.seal.key.clone()]));
        let Some(key) = sealed_by.iter().find(|k| k.id.as_str() == checkpoint.seal.key) else {
            return Err(ApplianceError::Internal(anyhow::anyhow!(
                "checkpoint {size} is sealed by key {}, which the key ring does not hold",
                checkpoint.seal.key
            )));
        };
        let key_json = to_json("a public seal key", key)?;
        self.write_once(&layout::seal_key_key(&self.origin, &key.id), key_json, "application/json", lock, counts)?;
        if let Some(before) = appliance.archive().checkpoint_before(size)? {
            let proof = appliance.archive().prove_consistency_between(before, checkpoint.clone())?;
            let proof = to_json("a consistency proof", &proof)?;
            let key = layout::consistency_key(&self.origin, size, audit_seq);
            self.write_once(&key, proof, "application/json", lock, counts)?;
        }
        let key = self.checkpoint_key(size, audit_seq);
        self.write_once(&key, checkpoint.to_note().into_bytes(), "text/plain; charset=utf-8", lock, counts)?;
        counts.checkpoints += 1;
        Ok(())
    }

    /// Writes an object whose key names its content, unless it is there already.
    fn write_once(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        lock: Lock,
        counts: &mut PassCounts,
    ) -> Result<(), ApplianceError> {
        if self.store.head(key)?.is_none() {
            counts.bytes_written += bytes.len() as u64;
            self.store.put(key, bytes, content_type, lock)?;
            counts.objects_written += 1;
        }
        Ok(())
    }
}

/// An object's JSON, as it is written to the store.
fn to_json(what: &str, value: &impl Serialize) -> Result<Vec<u8>, ApplianceError> {
    serde_json::to_vec_pretty(value).map_err(|e| ApplianceError::Internal(anyhow::anyhow!("{what} as JSON: {e}")))
}
