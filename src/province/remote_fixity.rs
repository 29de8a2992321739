//! `sohoa fixity --remote`: whether the store's copies are what the archive says they should be, for
//! everything replicated so far. For each document whose events are all replicated: its evidence
//! object as of its last event is there, hashes to its name and carries the record as the archive
//! has it now, locked in COMPLIANCE mode for the permanent period; each of its content blobs (unless
//! it is destroyed) hashes to its key, is locked at least until its retention ends and is under a
//! legal hold while the document is held. Each replicated checkpoint is there, byte for byte the
//! archive's signed note. Nothing the store sends is believed: bytes are hashed as they stream,
//! reads are bounded, and a listed key is used only if it parses as a name sohoa writes.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use archive::{DocumentRecord, DocumentStatus, Event};
use chrono::{DateTime, Utc};
use domain::{BlobHash, DocumentCode};
use serde::Serialize;

use super::layout;
use super::object_store::{ObjectState, Read};
use super::replicate::{FOLLOWER, Replicator};
use crate::{Appliance, ApplianceError};

/// The largest evidence object read back (a long document's record carries its OCR text).
const MAX_EVIDENCE_BYTES: u64 = 256 << 20;
/// The largest checkpoint note read back.
const MAX_NOTE_BYTES: u64 = 64 << 10;
/// The largest content blob read back.
const MAX_BLOB_BYTES: u64 = 64 << 30;

/// One thing found wrong in the store.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RemoteProblem {
    /// The object's key.
    pub key: String,
    /// What is wrong with it.
    pub problem: String,
}

/// What the check covered and found.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct RemoteReport {
    /// Documents whose copies were checked.
    pub documents: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Objects read back.
    pub objects: u64,
    /// Bytes read back.
    pub bytes: u64,
    /// Every problem found.
    pub problems: Vec<RemoteProblem>,
}

impl RemoteReport {
    fn problem(&mut self, key: &str, problem: impl Into<String>) {
        self.problems.push(RemoteProblem { key: key.to_owned(), problem: problem.into() });
    }
}

impl Replicator {
    /// Checks the store's copies of everything replicated so far (see the module's documentation).
    pub fn check(&self, appliance: &Appliance) -> Result<RemoteReport, ApplianceError> {
        self.store().check_bucket()?;
        let archive = appliance.archive();
        let replicated_to = archive.cursor(FOLLOWER)?;
        let mut last_event = BTreeMap::new();
        let mut checkpoints = Vec::new();
        archive.events_after(0, &mut |seq, event| {
            match event {
                Event::Archived(code) | Event::Changed(code) | Event::Destroyed(code) => {
                    last_event.insert(code, seq);
                }
                Event::Checkpointed { size, audit_seq } if seq <= replicated_to => checkpoints.push((size, audit_seq)),
                Event::Checkpointed { .. } => {}
            }
            ControlFlow::Continue(())
        })?;
        let mut report = RemoteReport::default();
        // A document with an event still to replicate is not expected to be as the archive has it.
        for (code, seq) in last_event.into_iter().filter(|&(_, seq)| seq <= replicated_to) {
            let record = appliance.record(&code)?;
            self.check_evidence(appliance, &code, seq, &record, &mut report)?;
            if !matches!(record.status, DocumentStatus::Destroyed(_)) {
                self.check_blobs(appliance, &record, &mut report)?;
            }
            report.documents += 1;
        }
        for (size, audit_seq) in checkpoints {
            self.check_checkpoint(appliance, size, audit_seq, &mut report)?;
        }
        Ok(report)
    }

    fn check_evidence(
        &self,
        appliance: &Appliance,
        code: &DocumentCode,
        seq: u64,
        record: &DocumentRecord,
        report: &mut RemoteReport,
    ) -> Result<(), ApplianceError> {
        let prefix = layout::evidence_prefix(code, seq);
        let keys = self.store().list(&prefix)?;
        if keys.is_empty() {
            report.problem(&prefix, "missing: no evidence of the document's last replicated event");
        }
        // Compared as JSON text read back, as the evidence's record is: a resolution such as 299.99
        // dpi is an f32 that only its text form gives back the same.
        let expected = serde_json::to_vec(record)
            .and_then(|text| serde_json::from_slice::<serde_json::Value>(&text))
            .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("record of {code} as JSON: {e}")))?;
        let until = self.retention(appliance).permanent(record.archived_at);
        for key in keys {
            let Some(named) = layout::evidence_hash(&key, &prefix) else {
                report.problem(&format!("{key:?}"), "not a name sohoa writes, under a document's evidence");
                continue;
            };
            let mut bytes = Vec::new();
            let Some(state) =
                self.read(&key, MAX_EVIDENCE_BYTES, &mut |chunk| bytes.extend_from_slice(chunk), report)?
            else {
                continue;
            };
            let actual = BlobHash::of(&bytes);
            if actual != named {
                report.problem(&key, format!("altered: its content hashes to {actual}"));
                continue;
            }
            let carried = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|mut v| v.get_mut("record").map(std::mem::take));
            if carried.as_ref() != Some(&expected) {
                report.problem(&key, "its record is not the archive's record of the document");
            }
            check_lock(&key, &state, until, false, report);
        }
        Ok(())
    }

    fn check_blobs(
        &self,
        appliance: &Appliance,
        record: &DocumentRecord,
        report: &mut RemoteReport,
    ) -> Result<(), ApplianceError> {
        let until = self.retention(appliance).content(record, record.archived_at.with_timezone(&Utc));
        for hash in record.blobs().collect::<BTreeSet<BlobHash>>() {
            let key = layout::blob_key(&hash);
            let mut hasher = blake3::Hasher::new();
            let Some(state) = self.read(
                &key,
                MAX_BLOB_BYTES,
                &mut |chunk| {
                    hasher.update(chunk);
                },
                report,
            )?
            else {
                continue;
            };
            let actual = BlobHash::from_bytes(*hasher.finalize().as_bytes());
            if actual != hash {
                report.problem(&key, format!("altered: its content hashes to {actual}"));
            }
            // A hold is off in the store only when no other document shares the blob (see
            // replication), so only a missing hold is a problem.
            check_lock(&key, &state, until, record.is_held(), report);
        }
        Ok(())
    }

    fn check_checkpoint(
        &self,
        appliance: &Appliance,
        size: u64,
        audit_seq: u64,
        report: &mut RemoteReport,
    ) -> Result<(), ApplianceError> {
        let key = self.checkpoint_key(size, audit_seq);
        let Some(checkpoint) = appliance.archive().checkpoint_at(size, audit_seq)? else {
            report.problem(&key, "the archive has no such checkpoint, though an event names it (run fixity)");
            return Ok(());
        };
        let mut bytes = Vec::new();
        if let Some(state) = self.read(&key, MAX_NOTE_BYTES, &mut |chunk| bytes.extend_from_slice(chunk), report)? {
            if bytes != checkpoint.to_note().as_bytes() {
                report.problem(&key, "altered: not the archive's signed note of the checkpoint");
            }
            check_lock(&key, &state, self.retention(appliance).permanent(checkpoint.at), false, report);
        }
        report.checkpoints += 1;
        Ok(())
    }

    /// Reads an object into `sink`, counting it; a missing one is a problem, and so is one longer
    /// than `max_bytes` (the read stops there).
    fn read(
        &self,
        key: &str,
        max_bytes: u64,
        sink: &mut dyn FnMut(&[u8]),
        report: &mut RemoteReport,
    ) -> Result<Option<ObjectState>, ApplianceError> {
        let mut length = 0u64;
        let read = self.store().read(key, max_bytes, &mut |chunk| {
            length += chunk.len() as u64;
            sink(chunk)
        })?;
        report.bytes += length;
        report.objects += 1;
        match read {
            Read::Whole(state) => return Ok(Some(state)),
            Read::Missing => report.problem(key, "missing"),
            Read::TooLong => report.problem(key, format!("longer than the {max_bytes} bytes it can be")),
        }
        Ok(None)
    }
}

/// Whether an object is locked in COMPLIANCE mode at least until `until`, and held if `held`.
fn check_lock(key: &str, state: &ObjectState, until: DateTime<Utc>, held: bool, report: &mut RemoteReport) {
    if !state.compliance {
        report.problem(key, "not locked in COMPLIANCE mode");
    }
    match state.retain_until {
        Some(at) if at >= until => {}
        Some(at) => report.problem(key, format!("retained until {at}, before {until}")),
        None => report.problem(key, "no retention date"),
    }
    if held && !state.legal_hold {
        report.problem(key, "no legal hold, though the document is held");
    }
}
