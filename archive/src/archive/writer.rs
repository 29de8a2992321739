//! The archive's one writer: the state it keeps beyond the store (sequence numbers, the audit
//! chain's head, the log's right edge, counters, active holds, codes in flight or reserved), the
//! staging area each write fills, and the two ways a write reaches the store: *grouped* (many
//! callers' changes in one synced batch) and *exclusive* (alone, after every group is written).

use domain::AuditAction;
use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex, MutexGuard};

use domain::{BlobHash, vietnam_now};

use crate::encoding::{decode, decode_all, encode, seq_from_key};
use crate::log::{Checkpoint, LeafKind, LogLeaf};
use crate::merkle::Frontier;
use crate::{ArchiveError, AuditEntry, Batch, DocumentRecord, Event, Hold, Sealer, Store, Table};

/// What the writer knows beyond the store: the next sequence numbers, the audit chain's head, the
/// log's right edge, the counters it has read, the active holds. Everything here also includes the
/// changes of groups not yet written; when a write fails it is read again from the store.
pub(crate) struct WriterState {
    pub(crate) next_event: u64,
    pub(crate) next_audit: u64,
    pub(crate) last_audit_hash: [u8; 32],
    pub(crate) log: Frontier,
    pub(crate) last_checkpoint: Option<(u64, u64)>,
    pub(crate) counters: HashMap<String, u32>,
    pub(crate) holds: Vec<Hold>,
    /// Codes of documents in groups not yet written, so that a second commit of one is refused.
    pub(crate) in_flight: HashSet<String>,
    /// Document codes held by ingests between [`Archive::reserve_document_code`] and their commit.
    /// Kept in memory only: a reservation that never commits (a failure, a crash) takes no number.
    pub(crate) reserved: HashSet<String>,
}

impl WriterState {
    /// Replaces what the writer knows with `fresh`, read again from the store after a failed write,
    /// keeping the reservations of ingests in progress (the store knows nothing of them).
    fn reload(&mut self, fresh: WriterState) {
        let reserved = std::mem::take(&mut self.reserved);
        *self = WriterState { reserved, ..fresh };
    }
}

struct Group {
    id: u64,
    batch: Batch,
    codes: Vec<String>,
}

/// What the writer lock guards: the state, the group being filled and the one being written, and
/// the outcome of groups that failed.
pub(crate) struct Groups {
    pub(crate) state: WriterState,
    open: Option<Group>,
    next_group: u64,
    applying: Option<Group>,
    resolved_upto: u64,
    failures: HashMap<u64, String>,
}

/// The one writer of an archive (see [`Archive`](crate::Archive)).
pub(crate) struct Writer {
    groups: Mutex<Groups>,
    resolved: Condvar,
}

/// The staging area of one write: the batch, and the changes to the writer state that go with it.
/// Preparations do every fallible read first and stage through these methods last, so that a failed
/// preparation leaves the writer state as it was.
pub(crate) struct Staged<'a> {
    pub(crate) state: &'a mut WriterState,
    pub(crate) batch: Batch,
    sealer: &'a dyn Sealer,
    /// The codes of the documents this write commits (in flight until it is written).
    pub(crate) codes: Vec<String>,
}

impl Staged<'_> {
    /// Appends an event for search.
    pub(crate) fn event(&mut self, event: &Event) {
        self.batch.put(Table::Events, self.state.next_event.to_be_bytes().to_vec(), encode(event));
        self.state.next_event += 1;
    }

    /// Appends a sealed, chained audit entry.
    pub(crate) fn audit(&mut self, actor: &str, action: AuditAction, target: &str, detail: &str) -> AuditEntry {
        let mut entry = AuditEntry {
            seq: self.state.next_audit,
            at: vietnam_now(),
            actor: actor.to_owned(),
            action: action.as_str().to_owned(),
            target: target.to_owned(),
            detail: detail.to_owned(),
            prev: self.state.last_audit_hash,
            hash: [0; 32],
            seal: crate::SealRecord { text: String::new(), signature: Vec::new(), key: String::new() },
        };
        entry.hash = entry.chain_hash();
        entry.seal = self.sealer.seal(AuditEntry::seal_text(entry.seq, &entry.hash));
        self.batch.put(Table::Audit, entry.seq.to_be_bytes().to_vec(), encode(&entry));
        self.state.next_audit += 1;
        self.state.last_audit_hash = entry.hash;
        entry
    }

    /// Appends a leaf to the archive log, with the subtrees it completes and its document's index
    /// entry (the stored tree of `log_tree`); returns its index.
    pub(crate) fn leaf(&mut self, kind: LeafKind, record: &DocumentRecord) -> u64 {
        let leaf = LogLeaf {
            kind,
            document: record.code.clone(),
            pdf: record.pdf,
            seal: BlobHash::of(record.seal.text.as_bytes()),
            at: vietnam_now(),
        };
        let text = leaf.to_text();
        self.batch.put(Table::LogLeaves, self.state.log.size().to_be_bytes().to_vec(), text.as_bytes().to_vec());
        crate::log_tree::stage_leaf(&mut self.batch, &mut self.state.log, &text)
    }

    /// Writes a document record.
    pub(crate) fn record(&mut self, record: &DocumentRecord) {
        self.batch.put(Table::Documents, record.code.to_string().into_bytes(), encode(record));
    }

    /// Seals a text.
    pub(crate) fn seal(&self, text: String) -> crate::SealRecord {
        self.sealer.seal(text)
    }
}

impl Writer {
    /// A writer that starts from `state` (read from the store with [`read_state`]).
    pub(crate) fn new(state: WriterState) -> Self {
        Writer {
            groups: Mutex::new(Groups {
                state,
                open: None,
                next_group: 1,
                applying: None,
                resolved_upto: 0,
                failures: HashMap::new(),
            }),
            resolved: Condvar::new(),
        }
    }

    /// Takes the writer lock.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Groups> {
        // A panic while holding the lock cannot leave the database half-written (batches are atomic);
        // the state is read again from the store after any failed write.
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `prepare` under the writer lock and writes what it staged to `store` as part of a group
    /// (see [`Archive`](crate::Archive)). Returns once the group is durable.
    pub(crate) fn grouped<S: Store, T>(
        &self,
        store: &S,
        sealer: &dyn Sealer,
        prepare: impl FnOnce(&mut Staged<'_>) -> Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        let mut w = self.lock();
        let (value, staged_batch, codes) = {
            let mut staged = Staged { state: &mut w.state, batch: Batch::default(), sealer, codes: Vec::new() };
            let value = prepare(&mut staged)?;
            (value, staged.batch, staged.codes)
        };
        let id = match &mut w.open {
            Some(group) => {
                group.batch.extend(staged_batch);
                group.codes.extend(codes);
                group.id
            }
            None => {
                let id = w.next_group;
                w.next_group += 1;
                w.open = Some(Group { id, batch: staged_batch, codes });
                id
            }
        };
        if w.applying.is_none() {
            // Leader: write groups until none is open, releasing the lock during each write so that
            // the next group fills meanwhile.
            while let Some(mut group) = w.open.take() {
                let batch = std::mem::take(&mut group.batch);
                let gid = group.id;
                w.applying = Some(group);
                drop(w);
                let result = store.apply(batch);
                w = self.lock();
                if let Some(done) = w.applying.take() {
                    for code in &done.codes {
                        w.state.in_flight.remove(code);
                    }
                }
                if let Err(e) = result {
                    Self::fail_pending(store, &mut w, gid, e.to_string());
                }
                w.resolved_upto = w.resolved_upto.max(gid);
                self.resolved.notify_all();
            }
        } else {
            while w.resolved_upto < id {
                w = self.resolved.wait(w).unwrap_or_else(|p| p.into_inner());
            }
        }
        match w.failures.remove(&id) {
            Some(message) => Err(ArchiveError::Storage { context: "committing a write group".into(), message }),
            None => Ok(value),
        }
    }

    /// After group `failed` could not be written: fails the open group too (it was prepared on top of
    /// the failed one) and reads the writer state again from the store.
    fn fail_pending<S: Store>(store: &S, w: &mut Groups, failed: u64, message: String) {
        w.failures.insert(failed, message.clone());
        if let Some(open) = w.open.take() {
            w.failures.insert(open.id, format!("an earlier write in the same sequence failed: {message}"));
            w.resolved_upto = open.id;
        }
        if let Ok(state) = read_state(store) {
            w.state.reload(state);
        }
    }

    /// Runs `prepare` alone: after every group is written, holding the lock through its own write.
    pub(crate) fn exclusive<S: Store, T>(
        &self,
        store: &S,
        sealer: &dyn Sealer,
        prepare: impl FnOnce(&mut Staged<'_>) -> Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        let mut w = self.lock();
        while w.open.is_some() || w.applying.is_some() {
            w = self.resolved.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        let mut staged = Staged { state: &mut w.state, batch: Batch::default(), sealer, codes: Vec::new() };
        let value = prepare(&mut staged)?;
        let batch = staged.batch;
        if !batch.is_empty()
            && let Err(e) = store.apply(batch)
        {
            if let Ok(state) = read_state(store) {
                w.state.reload(state);
            }
            return Err(e);
        }
        Ok(value)
    }
}

/// Reads the writer state from the store: sequence numbers, the audit head, the log's frontier (its
/// stored right edge, built once from the leaves for an archive without one), the last checkpoint and
/// the active holds.
pub(crate) fn read_state<S: Store>(store: &S) -> Result<WriterState, ArchiveError> {
    let next_event = store.last(Table::Events)?.map(|(k, _)| seq_from_key(&k) + 1).unwrap_or(1);
    let (next_audit, last_audit_hash) = match store.last(Table::Audit)? {
        Some((k, v)) => (seq_from_key(&k) + 1, decode::<AuditEntry>("audit entry", &k, &v)?.hash),
        None => (1, [0; 32]),
    };
    let log = crate::log_tree::frontier(store)?;
    let last_checkpoint = match store.last(Table::Checkpoints)? {
        Some((k, v)) => {
            let c: Checkpoint = decode("checkpoint", &k, &v)?;
            Some((c.size, c.audit_seq + 1))
        }
        None => None,
    };
    let holds =
        decode_all::<S, Hold>(store, Table::Holds, "hold")?.into_iter().filter(|h| h.released.is_none()).collect();
    Ok(WriterState {
        next_event,
        next_audit,
        last_audit_hash,
        log,
        last_checkpoint,
        counters: HashMap::new(),
        holds,
        in_flight: HashSet::new(),
        reserved: HashSet::new(),
    })
}
