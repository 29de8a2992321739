use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use chrono::{DateTime, FixedOffset, NaiveDate};
use domain::{
    BlobHash, DocumentCode, DocumentTypeCode, DossierCode, OwnerId, UnitCode, VerificationToken, vietnam_now,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::Revocation;
use crate::lifecycle::Hold;
use crate::log::{Checkpoint, LeafKind, LogLeaf};
use crate::merkle::Frontier;
use crate::{
    ArchiveError, AuditEntry, Batch, DocumentRecord, DocumentStatus, Event, NewDocument, RetentionSchedule, RocksStore,
    Sealer, Snapshot, Store, Table, UserRecord,
};

/// What an archive is opened with besides its store.
#[derive(Clone)]
pub struct ArchiveOptions {
    /// Seals audit entries, checkpoints and destruction reports; checks every seal on fixity.
    pub sealer: Arc<dyn Sealer>,
    /// The retention schedule (validated at open).
    pub schedule: RetentionSchedule,
    /// The archive log's origin line, e.g. `sohoa/<unit>`.
    pub origin: String,
}

/// The archive's operations over a [`Store`].
///
/// Writes go through one writer. Commits and audit entries are *grouped*: each caller prepares its
/// changes under the writer lock (taking its sequence numbers, chaining its audit entry, appending its
/// log leaf) and joins the open group; one caller at a time applies a whole group in one synced write
/// while the others prepare the next, so that N concurrent committers pay for far fewer than N
/// fsyncs. A caller returns only once its group is on disk. Operations that read what commits change
/// (disposition, holds, revocation, backup) run *exclusively*: they wait until no group is open or
/// being written and hold the lock through their own write.
pub struct Archive<S: Store = RocksStore> {
    pub(crate) store: S,
    pub(crate) sealer: Arc<dyn Sealer>,
    pub(crate) schedule: RetentionSchedule,
    origin: String,
    writer: Mutex<Writer>,
    resolved: Condvar,
}

/// What the writer knows beyond the store: the next sequence numbers, the audit chain's head, the
/// log's right edge, the counters it has read, the active holds. Everything here also includes the
/// changes of groups not yet written; when a write fails it is read again from the store.
pub(crate) struct WriterState {
    next_event: u64,
    next_audit: u64,
    last_audit_hash: [u8; 32],
    pub(crate) log: Frontier,
    last_checkpoint: Option<(u64, u64)>,
    counters: HashMap<String, u32>,
    pub(crate) holds: Vec<Hold>,
    /// Codes of documents in groups not yet written, so that a second commit of one is refused.
    in_flight: HashSet<String>,
    /// Document codes held by ingests between [`Archive::reserve_document_code`] and their commit.
    /// Kept in memory only: a reservation that never commits (a failure, a crash) takes no number.
    reserved: HashSet<String>,
}

impl WriterState {
    /// Replaces what the writer knows with `fresh`, read again from the store after a failed write,
    /// keeping the reservations of ingests in progress (the store knows nothing of them).
    fn reload(&mut self, fresh: WriterState) {
        let reserved = std::mem::take(&mut self.reserved);
        *self = WriterState { reserved, ..fresh };
    }
}

/// A document code held for one ingest, from before its PDF is made (the code is printed in it and
/// sealed) until its commit. Nothing durable is written to take it: the record that the commit's own
/// batch writes is what uses the number. An ingest that fails after reserving (a timestamp authority
/// down), or a process killed before the commit, leaves the number free; while the reservation
/// lives, no other ingest is given the same code. Dropping it releases the code.
pub struct CodeReservation<'a, S: Store = RocksStore> {
    archive: &'a Archive<S>,
    code: DocumentCode,
}

impl<S: Store> CodeReservation<'_, S> {
    /// The reserved code.
    pub fn code(&self) -> &DocumentCode {
        &self.code
    }
}

impl<S: Store> Drop for CodeReservation<'_, S> {
    fn drop(&mut self) {
        // After a commit the record holds the code, so releasing the reservation frees nothing.
        self.archive.lock().state.reserved.remove(&self.code.to_string());
    }
}

struct Group {
    id: u64,
    batch: Batch,
    codes: Vec<String>,
}

struct Writer {
    state: WriterState,
    open: Option<Group>,
    next_group: u64,
    applying: Option<Group>,
    resolved_upto: u64,
    failures: HashMap<u64, String>,
}

/// The largest number of a document code's two digits.
const MAX_DOCUMENT_NUMBER: u8 = 99;

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("archive records always serialise")
}

pub(crate) fn decode<T: DeserializeOwned>(what: &'static str, key: &[u8], bytes: &[u8]) -> Result<T, ArchiveError> {
    postcard::from_bytes(bytes).map_err(|e| ArchiveError::Corrupt {
        what,
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

pub(crate) fn seq_from_key(key: &[u8]) -> u64 {
    key.get(..8).and_then(|k| k.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0)
}

/// Which audit entries to list. Every field narrows; an empty query lists the whole trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Only entries about this target (a document code, a user, a hold id).
    pub target: Option<String>,
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Only entries at or after this time.
    pub from: Option<DateTime<FixedOffset>>,
    /// Only entries before this time.
    pub until: Option<DateTime<FixedOffset>>,
}

impl AuditQuery {
    fn matches(&self, e: &AuditEntry) -> bool {
        self.target.as_ref().is_none_or(|t| *t == e.target)
            && self.actor.as_ref().is_none_or(|a| *a == e.actor)
            && self.from.is_none_or(|f| e.at >= f)
            && self.until.is_none_or(|u| e.at < u)
    }
}

impl Archive<RocksStore> {
    /// Opens the archive in `dir` (created if absent).
    pub fn open(dir: &Path, options: ArchiveOptions) -> Result<Self, ArchiveError> {
        Self::with_store(RocksStore::open(dir)?, options)
    }

    /// Restores a backup made by [`backup`](Self::backup) into `target` (which must not exist) and
    /// runs fixity on it; a restore that does not verify is removed again and refused. The restore is
    /// recorded in the restored archive's audit trail.
    pub fn restore(
        backup: &Path,
        target: &Path,
        options: ArchiveOptions,
        actor: &str,
    ) -> Result<(Archive, crate::FixityReport), ArchiveError> {
        if target.exists() {
            return Err(ArchiveError::Io {
                path: target.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the restore target exists"),
            });
        }
        let copied = copy_dir(backup, target).and_then(|_| {
            let archive = Archive::open(target, options)?;
            let report = archive.fixity(None, actor)?;
            Ok((archive, report))
        });
        match copied {
            Ok((archive, report)) if report.is_clean() => {
                archive.audit(
                    actor,
                    "restore",
                    &backup.display().to_string(),
                    &format!("{} documents verified", report.documents),
                )?;
                Ok((archive, report))
            }
            other => {
                let problems = match other {
                    Ok((archive, report)) => {
                        drop(archive);
                        report.problems.iter().map(ToString::to_string).collect()
                    }
                    Err(e) => vec![e.to_string()],
                };
                let _ = std::fs::remove_dir_all(target);
                Err(ArchiveError::RestoreFailed { path: backup.to_owned(), problems })
            }
        }
    }
}

/// How a document comes into the archive: captured here, or imported with the status it had at its
/// source.
enum Arrival<'a> {
    Ingest,
    Import { from: &'a str, revocation: Option<Revocation> },
}

/// The staging area of one write: the batch, and the changes to the writer state that go with it.
/// Preparations do every fallible read first and stage through these methods last, so that a failed
/// preparation leaves the writer state as it was.
pub(crate) struct Staged<'a> {
    pub(crate) state: &'a mut WriterState,
    pub(crate) batch: Batch,
    sealer: &'a dyn Sealer,
    codes: Vec<String>,
}

impl Staged<'_> {
    /// Appends an event for search.
    pub(crate) fn event(&mut self, event: &Event) {
        self.batch.put(Table::Events, self.state.next_event.to_be_bytes().to_vec(), encode(event));
        self.state.next_event += 1;
    }

    /// Appends a sealed, chained audit entry.
    pub(crate) fn audit(&mut self, actor: &str, action: &str, target: &str, detail: &str) -> AuditEntry {
        let mut entry = AuditEntry {
            seq: self.state.next_audit,
            at: vietnam_now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.to_owned(),
            prev: self.state.last_audit_hash,
            hash: [0; 32],
            seal: crate::SealRecord { text: String::new(), signature: Vec::new(), key: String::new() },
        };
        entry.hash = audit_hash(&entry);
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

impl<S: Store> Archive<S> {
    /// Wraps a store, reading where the event, audit and log sequences stand.
    pub fn with_store(store: S, options: ArchiveOptions) -> Result<Self, ArchiveError> {
        options.schedule.validate()?;
        let state = read_state(&store)?;
        Ok(Archive {
            store,
            sealer: options.sealer,
            schedule: options.schedule,
            origin: options.origin,
            writer: Mutex::new(Writer {
                state,
                open: None,
                next_group: 1,
                applying: None,
                resolved_upto: 0,
                failures: HashMap::new(),
            }),
            resolved: Condvar::new(),
        })
    }

    /// The retention schedule.
    pub fn schedule(&self) -> &RetentionSchedule {
        &self.schedule
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock cannot leave the database half-written (batches are atomic);
        // the state is read again from the store after any failed write.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `prepare` under the writer lock and writes what it staged as part of a group (see
    /// [`Archive`]). Returns once the group is durable.
    pub(crate) fn grouped<T>(
        &self,
        prepare: impl FnOnce(&Self, &mut Staged<'_>) -> Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        let mut w = self.lock();
        let (value, staged_batch, codes) = {
            let mut staged =
                Staged { state: &mut w.state, batch: Batch::default(), sealer: &*self.sealer, codes: Vec::new() };
            let value = prepare(self, &mut staged)?;
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
                let result = self.store.apply(batch);
                w = self.lock();
                if let Some(done) = w.applying.take() {
                    for code in &done.codes {
                        w.state.in_flight.remove(code);
                    }
                }
                if let Err(e) = result {
                    self.fail_pending(&mut w, gid, e.to_string());
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
    fn fail_pending(&self, w: &mut Writer, failed: u64, message: String) {
        w.failures.insert(failed, message.clone());
        if let Some(open) = w.open.take() {
            w.failures.insert(open.id, format!("an earlier write in the same sequence failed: {message}"));
            w.resolved_upto = open.id;
        }
        if let Ok(state) = read_state(&self.store) {
            w.state.reload(state);
        }
    }

    /// Runs `prepare` alone: after every group is written, holding the lock through its own write.
    pub(crate) fn exclusive<T>(
        &self,
        prepare: impl FnOnce(&Self, &mut Staged<'_>) -> Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        let mut w = self.lock();
        while w.open.is_some() || w.applying.is_some() {
            w = self.resolved.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        let mut staged =
            Staged { state: &mut w.state, batch: Batch::default(), sealer: &*self.sealer, codes: Vec::new() };
        let value = prepare(self, &mut staged)?;
        let batch = staged.batch;
        if !batch.is_empty() {
            if let Err(e) = self.store.apply(batch) {
                if let Ok(state) = read_state(&self.store) {
                    w.state.reload(state);
                }
                return Err(e);
            }
        }
        Ok(value)
    }

    /// The next number of a counter (kept in memory once read, so grouped writers never hand out
    /// the same number twice), staged durably.
    fn next_number(
        &self,
        staged: &mut Staged<'_>,
        key: String,
        what: &'static str,
        scope: String,
        max: u32,
    ) -> Result<u32, ArchiveError> {
        let last = match staged.state.counters.get(&key) {
            Some(n) => *n,
            None => match self.store.get(Table::Counters, key.as_bytes())? {
                Some(v) => u32::from_le_bytes(v.as_slice().try_into().map_err(|_| ArchiveError::Corrupt {
                    what: "counter",
                    key: key.clone(),
                    reason: format!("{} bytes instead of 4", v.len()),
                })?),
                None => 0,
            },
        };
        if last >= max {
            return Err(ArchiveError::CounterExhausted { what, scope, max });
        }
        staged.batch.put(Table::Counters, key.clone().into_bytes(), (last + 1).to_le_bytes().to_vec());
        staged.state.counters.insert(key, last + 1);
        Ok(last + 1)
    }

    pub(crate) fn next_hold_id(&self, staged: &mut Staged<'_>) -> Result<u64, ArchiveError> {
        Ok(u64::from(self.next_number(staged, "hold".into(), "hold", "the archive".into(), u32::MAX)?))
    }

    /// Allocates the next dossier code of `unit` for `date`. Numbers are never reused, survive
    /// restarts, and concurrent callers never receive the same one.
    pub fn allocate_dossier_code(&self, unit: &UnitCode, date: NaiveDate) -> Result<DossierCode, ArchiveError> {
        let key = format!("dossier/{unit}/{}", date.format("%Y%m%d"));
        let scope = format!("unit {unit} on {date}");
        let n = self.grouped(|a, s| a.next_number(s, key, "dossier", scope, u32::from(DossierCode::MAX_NUMBER)))?;
        Ok(DossierCode::new(unit.clone(), date, n as u16)?)
    }

    /// Reserves the lowest free document code `<owner>.<type>.<NN>` of this owner and type (see
    /// [`CodeReservation`]): a number is free when no record has it (records are never removed, so
    /// a destroyed document keeps its number), no commit in flight has it and no other ingest holds
    /// it. Commit the document under the reserved code while the reservation lives.
    pub fn reserve_document_code(
        &self,
        owner: Option<&OwnerId>,
        doc_type: &DocumentTypeCode,
    ) -> Result<CodeReservation<'_, S>, ArchiveError> {
        let owner_part = owner.map(OwnerId::as_str).unwrap_or_default();
        // The type's secondary keys are `<type> NUL <code>`, and every code of this owner and type
        // starts with `<owner>.<type>.`: one short scan lists the numbers in use.
        let prefix = format!("{doc_type}\0{owner_part}.{doc_type}.");
        let mut w = self.lock();
        let mut used = [false; 100];
        self.store.scan(Table::ByType, prefix.as_bytes(), prefix.as_bytes(), &mut |k, _| {
            if let Some(n) = std::str::from_utf8(&k[prefix.len()..])
                .ok()
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n < used.len())
            {
                used[n] = true;
            }
            ControlFlow::Continue(())
        })?;
        for n in (1..=MAX_DOCUMENT_NUMBER).filter(|n| !used[usize::from(*n)]) {
            let code = DocumentCode::new(owner.cloned(), doc_type.clone(), Some(n))?;
            let key = code.to_string();
            if !w.state.reserved.contains(&key) && !w.state.in_flight.contains(&key) {
                w.state.reserved.insert(key);
                return Ok(CodeReservation { archive: self, code });
            }
        }
        Err(ArchiveError::CounterExhausted {
            what: "document",
            scope: format!("owner {owner_part:?}, type {doc_type}"),
            max: u32::from(MAX_DOCUMENT_NUMBER),
        })
    }

    /// Commits a document: its content blobs (each stored once, reference-counted), its record and
    /// secondary keys, an event for search, a log leaf and an audit entry, in one synced write (shared
    /// with concurrent commits). Declared hashes are checked against the content first; the retention
    /// class comes from the document type unless the record names one; holds placed by query on its
    /// owner, dossier or type apply to it at once. Returns the event's sequence number.
    pub fn commit(&self, doc: NewDocument) -> Result<u64, ArchiveError> {
        self.commit_as(doc, Arrival::Ingest)
    }

    /// Commits a document verified elsewhere (a bag from another appliance) as [`commit`](Self::commit)
    /// does, recorded as an import from `from`. A document revoked at its source arrives revoked: the
    /// revocation's log leaf and audit entry are in the same batch, so that it is never active here,
    /// not even for a moment, and a hold on it cannot leave it half-imported.
    pub fn import(&self, doc: NewDocument, from: &str, revocation: Option<Revocation>) -> Result<u64, ArchiveError> {
        self.commit_as(doc, Arrival::Import { from, revocation })
    }

    fn commit_as(&self, doc: NewDocument, arrival: Arrival<'_>) -> Result<u64, ArchiveError> {
        let NewDocument { mut record, page_images, pdf, actor, source, verification } = doc;
        if record.pages.len() != page_images.len() {
            return Err(ArchiveError::Corrupt {
                what: "new document",
                key: record.code.to_string(),
                reason: format!("{} page records but {} page images", record.pages.len(), page_images.len()),
            });
        }
        let mut contents: Vec<(BlobHash, &[u8])> =
            record.pages.iter().map(|p| p.image).zip(page_images.iter().map(Vec::as_slice)).collect();
        contents.push((record.pdf, &pdf));
        for (declared, bytes) in &contents {
            let actual = BlobHash::of(bytes);
            if actual != *declared {
                return Err(ArchiveError::HashMismatch { declared: *declared, actual });
            }
        }
        record.status = DocumentStatus::Active;
        record.pdf_size = pdf.len() as u64;
        if record.lifecycle.retention_class.is_empty() {
            record.lifecycle.retention_class =
                self.schedule.class_for_type(record.metadata.doc_type().as_str()).to_owned();
        } else if self.schedule.class(&record.lifecycle.retention_class).is_none() {
            return Err(ArchiveError::Retention(format!(
                "unknown retention class {:?}",
                record.lifecycle.retention_class
            )));
        }
        let code = record.code.to_string();
        self.commit_prepared(record, &contents, &actor, &code, source.as_deref(), verification.as_ref(), arrival)
    }

    fn commit_prepared(
        &self,
        mut record: DocumentRecord,
        contents: &[(BlobHash, &[u8])],
        actor: &str,
        code: &str,
        source: Option<&str>,
        verification: Option<&VerificationToken>,
        arrival: Arrival<'_>,
    ) -> Result<u64, ArchiveError> {
        let code_key = code.as_bytes().to_vec();
        self.grouped(|this, s| {
            if s.state.in_flight.contains(code) || this.store.get(Table::Documents, &code_key)?.is_some() {
                return Err(ArchiveError::DuplicateDocument(record.code.clone()));
            }
            let mut existing = Vec::with_capacity(contents.len());
            for (hash, _) in contents {
                existing.push(this.store.get(Table::BlobRefs, hash.as_bytes())?.is_some());
            }
            record.lifecycle.holds = s.state.holds.iter().filter(|h| h.scope.matches(&record)).map(|h| h.id).collect();
            let seq = s.state.next_event;
            let mut new_blobs = Vec::new();
            for ((hash, bytes), exists) in contents.iter().zip(existing) {
                // Content-addressed: identical content is stored once; only its count goes up.
                if !exists && !new_blobs.contains(hash) {
                    s.batch.put(Table::Blobs, hash.as_bytes().to_vec(), bytes.to_vec());
                    new_blobs.push(*hash);
                }
                s.batch.add(Table::BlobRefs, hash.as_bytes().to_vec(), 1);
            }
            s.batch.put(Table::ByPdf, record.pdf.as_bytes().to_vec(), code_key.clone());
            if let Some(source) = source {
                s.batch.put(Table::BySource, source.as_bytes().to_vec(), code_key.clone());
            }
            if let Some(token) = verification {
                s.batch.put(Table::VerificationKeys, token.lookup_key(&record.code).to_vec(), code_key.clone());
            }
            for (table, key) in index_keys(&record) {
                s.batch.put(table, key, Vec::new());
            }
            s.event(&Event::Archived(record.code.clone()));
            s.leaf(LeafKind::Archived, &record);
            let detail = format!(
                "{} pages, pdf {}, retention {}",
                record.pages.len(),
                record.pdf,
                record.lifecycle.retention_class
            );
            match arrival {
                Arrival::Ingest => {
                    s.audit(actor, "ingest", code, &detail);
                }
                Arrival::Import { from, revocation } => {
                    s.audit(actor, "import", code, &format!("{detail}, from {from}"));
                    if let Some(revocation) = revocation {
                        let reason = revocation.reason.clone();
                        record.status = DocumentStatus::Revoked(revocation);
                        s.leaf(LeafKind::Revoked, &record);
                        s.audit(actor, "revoke", code, &reason);
                    }
                }
            }
            s.record(&record);
            s.codes.push(code.to_owned());
            s.state.in_flight.insert(code.to_owned());
            Ok(seq)
        })
    }

    /// The record of a document.
    pub fn record(&self, code: &DocumentCode) -> Result<Option<DocumentRecord>, ArchiveError> {
        let key = code.to_string();
        self.store
            .get(Table::Documents, key.as_bytes())?
            .map(|v| decode("document record", key.as_bytes(), &v))
            .transpose()
    }

    /// The record of a document, if `token` is the verification token committed with it. A wrong
    /// token and an unknown code are the same single lookup that finds nothing: nothing about the
    /// stored token is compared byte by byte, so neither the answer nor its timing tells them apart.
    pub fn record_by_token(
        &self,
        code: &DocumentCode,
        token: &VerificationToken,
    ) -> Result<Option<DocumentRecord>, ArchiveError> {
        let key = code.to_string();
        match self.store.get(Table::VerificationKeys, &token.lookup_key(code))? {
            // The stored code is checked too, so that even a collision of lookup keys could not
            // answer for another document.
            Some(stored) if stored == key.as_bytes() => self.record(code),
            _ => Ok(None),
        }
    }

    /// The document whose PDF has this hash.
    pub fn find_by_pdf(&self, pdf: &BlobHash) -> Result<Option<DocumentCode>, ArchiveError> {
        let Some(v) = self.store.get(Table::ByPdf, pdf.as_bytes())? else { return Ok(None) };
        let text = String::from_utf8(v).map_err(|e| ArchiveError::Corrupt {
            what: "PDF key",
            key: pdf.to_hex(),
            reason: e.to_string(),
        })?;
        Ok(Some(text.parse()?))
    }

    /// The document made from `source` (the key its [`NewDocument`] carried), if one was archived.
    pub fn find_by_source(&self, source: &str) -> Result<Option<DocumentCode>, ArchiveError> {
        let Some(v) = self.store.get(Table::BySource, source.as_bytes())? else { return Ok(None) };
        let text = String::from_utf8(v).map_err(|e| ArchiveError::Corrupt {
            what: "source key",
            key: source.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Some(text.parse()?))
    }

    /// The codes of an owner's documents, in code order.
    pub fn documents_of(&self, owner: &OwnerId) -> Result<Vec<DocumentCode>, ArchiveError> {
        self.codes_by(Table::ByOwner, owner.as_str())
    }

    /// The codes of a dossier's documents, in code order.
    pub fn documents_of_dossier(&self, dossier: &DossierCode) -> Result<Vec<DocumentCode>, ArchiveError> {
        self.codes_by(Table::ByDossier, &dossier.to_string())
    }

    /// The codes of the documents of a type, in code order.
    pub fn documents_of_type(&self, doc_type: &DocumentTypeCode) -> Result<Vec<DocumentCode>, ArchiveError> {
        self.codes_by(Table::ByType, doc_type.as_str())
    }

    fn codes_by(&self, table: Table, value: &str) -> Result<Vec<DocumentCode>, ArchiveError> {
        let prefix = [value.as_bytes(), b"\0"].concat();
        let mut codes = Vec::new();
        let mut bad = None;
        self.store.scan(table, &prefix, &prefix, &mut |k, _| {
            match std::str::from_utf8(&k[prefix.len()..]).ok().and_then(|s| s.parse().ok()) {
                Some(code) => codes.push(code),
                None => bad = Some(String::from_utf8_lossy(k).into_owned()),
            }
            ControlFlow::Continue(())
        })?;
        match bad {
            Some(key) => Err(ArchiveError::Corrupt {
                what: "secondary key",
                key,
                reason: "not a value and document code".into(),
            }),
            None => Ok(codes),
        }
    }

    /// Visits every document record in code order until `visit` breaks.
    pub fn each_record(&self, visit: &mut dyn FnMut(DocumentRecord) -> ControlFlow<()>) -> Result<(), ArchiveError> {
        let mut failure = None;
        self.store.scan(Table::Documents, &[], &[], &mut |k, v| match decode("document record", k, v) {
            Ok(record) => visit(record),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        })?;
        failure.map_or(Ok(()), Err)
    }

    /// Reads a blob and checks that it still hashes to its address.
    pub fn read_blob(&self, hash: &BlobHash) -> Result<Vec<u8>, ArchiveError> {
        let bytes = self.store.get(Table::Blobs, hash.as_bytes())?.ok_or(ArchiveError::MissingBlob(*hash))?;
        let actual = BlobHash::of(&bytes);
        if actual != *hash {
            return Err(ArchiveError::AlteredBlob { expected: *hash, actual });
        }
        Ok(bytes)
    }

    /// Visits the events after sequence number `after`, in order, until `visit` breaks.
    pub fn events_after(
        &self,
        after: u64,
        visit: &mut dyn FnMut(u64, Event) -> ControlFlow<()>,
    ) -> Result<(), ArchiveError> {
        let mut failure = None;
        self.store.scan(Table::Events, &[], &(after + 1).to_be_bytes(), &mut |k, v| match decode::<Event>(
            "event", k, v,
        ) {
            Ok(event) => visit(seq_from_key(k), event),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        })?;
        failure.map_or(Ok(()), Err)
    }

    /// The sequence number of the last event, 0 if none.
    pub fn last_event(&self) -> u64 {
        self.lock().state.next_event - 1
    }

    /// Appends a sealed entry to the audit trail, durably.
    pub fn audit(&self, actor: &str, action: &str, target: &str, detail: &str) -> Result<AuditEntry, ArchiveError> {
        self.grouped(|_, s| Ok(s.audit(actor, action, target, detail)))
    }

    /// The audit entries concerning `target` (every entry if `None`), oldest first; see
    /// [`audit_query`](Self::audit_query).
    pub fn audit_trail(&self, target: Option<&str>) -> Result<Vec<AuditEntry>, ArchiveError> {
        self.audit_query(&AuditQuery { target: target.map(str::to_owned), ..AuditQuery::default() })
    }

    /// The audit entries matching `query`, oldest first. The whole trail is checked on the way: an
    /// entry whose hash does not follow from its content and predecessor, or whose seal does not
    /// verify, is an error naming its sequence number.
    pub fn audit_query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, ArchiveError> {
        let mut entries = Vec::new();
        let mut failure = None;
        let view = self.store.snapshot();
        self.walk_audit(&*view, &mut |entry| match entry {
            Ok(entry) => {
                if query.matches(&entry) {
                    entries.push(entry);
                }
                ControlFlow::Continue(())
            }
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        })?;
        failure.map_or(Ok(entries), Err)
    }

    /// Visits the audit trail as of `view` in order, each entry checked against the chain and its seal.
    pub(crate) fn walk_audit(
        &self,
        view: &dyn Snapshot,
        visit: &mut dyn FnMut(Result<AuditEntry, ArchiveError>) -> ControlFlow<()>,
    ) -> Result<(), ArchiveError> {
        let mut prev = [0u8; 32];
        let mut expected_seq = 1;
        view.scan(Table::Audit, &[], &[], &mut |k, v| {
            let broken = |seq: u64, reason: String| {
                Err(ArchiveError::Corrupt { what: "audit entry", key: seq.to_string(), reason })
            };
            let entry: AuditEntry = match decode("audit entry", k, v) {
                Ok(e) => e,
                Err(e) => return visit(Err(e)),
            };
            let checked = if entry.seq != expected_seq {
                broken(expected_seq, format!("is missing: the trail goes on at {}", entry.seq))
            } else if entry.prev != prev || audit_hash(&entry) != entry.hash {
                broken(entry.seq, "breaks the hash chain (rewritten, removed or reordered entries)".into())
            } else if entry.seal.text != AuditEntry::seal_text(entry.seq, &entry.hash) {
                broken(entry.seq, "its seal covers another entry".into())
            } else if let Err(reason) = self.sealer.check(&entry.seal) {
                broken(entry.seq, format!("seal: {reason}"))
            } else {
                Ok(entry)
            };
            if let Ok(e) = &checked {
                prev = e.hash;
                expected_seq = e.seq + 1;
            }
            visit(checked)
        })
    }

    /// Number of document records (tombstones included).
    pub fn document_count(&self) -> Result<u64, ArchiveError> {
        let mut n = 0;
        self.store.scan(Table::Documents, &[], &[], &mut |_, _| {
            n += 1;
            ControlFlow::Continue(())
        })?;
        Ok(n)
    }

    /// Creates or replaces a user account.
    pub fn put_user(&self, user: &UserRecord) -> Result<(), ArchiveError> {
        self.grouped(|_, s| {
            s.batch.put(Table::Users, user.name.as_bytes().to_vec(), encode(user));
            Ok(())
        })
    }

    /// A user account by name.
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, ArchiveError> {
        let Some(bytes) = self.store.get(Table::Users, name.as_bytes())? else {
            return Ok(None);
        };
        // A record of the older form ends where the current one has its `disabled_at`, so reading it as
        // the current form fails at the end of its bytes, and it is read as what it is.
        match postcard::from_bytes::<UserRecord>(&bytes) {
            Ok(user) => Ok(Some(user)),
            Err(_) => decode::<crate::records::UserRecordV1>("user", name.as_bytes(), &bytes).map(|v1| Some(v1.into())),
        }
    }

    /// Whether any user account exists.
    pub fn has_users(&self) -> Result<bool, ArchiveError> {
        let mut any = false;
        self.store.scan(Table::Users, &[], &[], &mut |_, _| {
            any = true;
            ControlFlow::Break(())
        })?;
        Ok(any)
    }

    /// Signs a checkpoint of the archive log (its size and root) and of the audit trail's head, and
    /// stores it. When neither has moved since the last checkpoint, that one is returned instead.
    pub fn checkpoint(&self) -> Result<Checkpoint, ArchiveError> {
        let made = self.grouped(|a, s| {
            let size = s.state.log.size();
            if s.state.last_checkpoint == Some((size, s.state.next_audit)) {
                return Ok(None);
            }
            let root = s.state.log.root();
            let audit_seq = s.state.next_audit - 1;
            let at = vietnam_now();
            let body = Checkpoint::body(&a.origin, size, &root, audit_seq, &s.state.last_audit_hash, at);
            let checkpoint = Checkpoint {
                origin: a.origin.clone(),
                size,
                root,
                audit_seq,
                audit_hash: s.state.last_audit_hash,
                at,
                seal: s.seal(body),
            };
            s.batch.put(Table::Checkpoints, checkpoint_key(size, audit_seq), encode(&checkpoint));
            s.state.last_checkpoint = Some((size, s.state.next_audit));
            Ok(Some(checkpoint))
        })?;
        match made {
            Some(c) => Ok(c),
            None => self
                .latest_checkpoint()?
                .ok_or_else(|| ArchiveError::Log("no checkpoint stored although one was recorded".into())),
        }
    }

    /// The most recent checkpoint, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, ArchiveError> {
        self.store.last(Table::Checkpoints)?.map(|(k, v)| decode("checkpoint", &k, &v)).transpose()
    }

    /// Every checkpoint, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, ArchiveError> {
        decode_all(&self.store, Table::Checkpoints, "checkpoint")
    }

    /// Writes a consistent copy of the archive into `dir` (which must not exist) while it stays in
    /// use, in files of its own (none shared with the live archive, even on its file system), and
    /// records the backup in the audit trail.
    pub fn backup(&self, dir: &Path, actor: &str) -> Result<(), ArchiveError> {
        self.exclusive(|_, s| {
            s.audit(actor, "backup", &dir.display().to_string(), "RocksDB checkpoint");
            Ok(())
        })?;
        self.exclusive(|a, _| a.store.snapshot_to(dir))?;
        // Outside the exclusive section: copying the page images must not hold commits up, and the
        // files the snapshot shares never change.
        crate::store::unshare_files(dir)
    }
}

/// Copies a directory of plain files (a RocksDB checkpoint), syncing each file.
fn copy_dir(from: &Path, to: &Path) -> Result<(), ArchiveError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ArchiveError::Io { path, source }
    };
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let dest = to.join(entry.file_name());
        if entry.file_type().map_err(io(&entry.path()))?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest).map_err(io(&dest))?;
            std::fs::File::open(&dest).and_then(|f| f.sync_all()).map_err(io(&dest))?;
        }
    }
    Ok(())
}

/// Every value of a table, decoded, in key order.
pub(crate) fn decode_all<S: Store, T: DeserializeOwned>(
    store: &S,
    table: Table,
    what: &'static str,
) -> Result<Vec<T>, ArchiveError> {
    decode_scanned(what, |visit| store.scan(table, &[], &[], visit))
}

/// Every value `scan` visits (of a store or a snapshot), decoded, in key order.
pub(crate) fn decode_scanned<T: DeserializeOwned>(
    what: &'static str,
    scan: impl FnOnce(&mut dyn FnMut(&[u8], &[u8]) -> ControlFlow<()>) -> Result<(), ArchiveError>,
) -> Result<Vec<T>, ArchiveError> {
    let mut all = Vec::new();
    let mut failure = None;
    scan(&mut |k, v| match decode(what, k, v) {
        Ok(value) => {
            all.push(value);
            ControlFlow::Continue(())
        }
        Err(e) => {
            failure = Some(e);
            ControlFlow::Break(())
        }
    })?;
    failure.map_or(Ok(all), Err)
}

/// The key of a checkpoint: log size, then audit sequence, both big-endian, so the last key is the
/// latest checkpoint.
fn checkpoint_key(size: u64, audit_seq: u64) -> Vec<u8> {
    [size.to_be_bytes(), audit_seq.to_be_bytes()].concat()
}

/// The secondary keys of a record: owner, dossier and type.
pub(crate) fn index_keys(record: &DocumentRecord) -> Vec<(Table, Vec<u8>)> {
    let code = record.code.to_string();
    let key = |value: &str| [value.as_bytes(), b"\0", code.as_bytes()].concat();
    let mut keys = vec![(Table::ByType, key(record.metadata.doc_type().as_str()))];
    if let Some(owner) = record.metadata.owner() {
        keys.push((Table::ByOwner, key(owner.as_str())));
    }
    if let Some(dossier) = record.metadata.dossier() {
        keys.push((Table::ByDossier, key(&dossier.to_string())));
    }
    keys
}

/// Reads the writer state from the store: sequence numbers, the audit head, the log's frontier (its
/// stored right edge, built once from the leaves for an archive without one), the last checkpoint and
/// the active holds.
fn read_state<S: Store>(store: &S) -> Result<WriterState, ArchiveError> {
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

pub(crate) fn audit_hash(entry: &AuditEntry) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&entry.prev);
    hasher.update(&encode(&(entry.seq, entry.at, &entry.actor, &entry.action, &entry.target, &entry.detail)));
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use domain::{DocumentMetadata, MetadataDraft, Validity};

    use super::*;
    use crate::{Lifecycle, PageRecord, SealRecord};

    /// The signer's real key ring as the archive's sealer.
    pub(crate) struct RingSealer(pub signer::KeyRing);

    impl Sealer for RingSealer {
        fn seal(&self, text: String) -> SealRecord {
            let s = self.0.sign_text(text);
            SealRecord { text: s.text, signature: s.signature.to_vec(), key: s.key.to_string() }
        }

        fn check(&self, seal: &SealRecord) -> Result<(), String> {
            let signature =
                seal.signature.as_slice().try_into().map_err(|_| "the signature is not 64 bytes".to_owned())?;
            let key = signer::KeyId::parse(&seal.key).map_err(|e| e.to_string())?;
            let sealed = signer::Sealed { text: seal.text.clone(), signature, key };
            self.0.verified_text(&sealed).map(|_| ()).map_err(|e| e.to_string())
        }
    }

    fn open(dir: &Path) -> Archive {
        let ring = signer::KeyRing::open_or_create(&dir.join("keys")).unwrap();
        let schedule = RetentionSchedule {
            default_class: "permanent".into(),
            classes: vec![crate::RetentionClass {
                id: "permanent".into(),
                name: "Vĩnh viễn".into(),
                legal_basis: "test".into(),
                period: crate::RetentionPeriod::Permanent,
                clock: crate::ClockStart::IssueDate,
            }],
            types: Default::default(),
        };
        Archive::open(
            &dir.join("db"),
            ArchiveOptions { sealer: Arc::new(RingSealer(ring)), schedule, origin: "sohoa/test".into() },
        )
        .unwrap()
    }

    fn unit() -> UnitCode {
        UnitCode::parse("H56.14").unwrap()
    }

    #[test]
    fn dossier_codes_are_unique_under_concurrency_and_survive_restart() {
        let dir = tempfile::tempdir().unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 10, 11).unwrap();
        let archive = Arc::new(open(dir.path()));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let archive = archive.clone();
                std::thread::spawn(move || {
                    (0..25).map(|_| archive.allocate_dossier_code(&unit(), day).unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        let codes: HashSet<DossierCode> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        assert_eq!(codes.len(), 100);
        assert!(codes.contains(&"H56.14-241011-0100".parse().unwrap()));
        drop(archive);

        let archive = open(dir.path());
        assert_eq!(archive.allocate_dossier_code(&unit(), day).unwrap().to_string(), "H56.14-241011-0101");
        let next_day = day.succ_opt().unwrap();
        assert_eq!(archive.allocate_dossier_code(&unit(), next_day).unwrap().to_string(), "H56.14-241012-0001");
    }

    fn reserve(archive: &Archive) -> CodeReservation<'_> {
        archive
            .reserve_document_code(
                Some(&OwnerId::parse("001099012345").unwrap()),
                &DocumentTypeCode::parse("GPXD").unwrap(),
            )
            .unwrap()
    }

    fn new_document(reservation: &CodeReservation<'_>, pages: &[&[u8]]) -> NewDocument {
        let code = reservation.code().clone();
        let (owner, doc_type) = (code.owner().cloned(), code.doc_type().clone());
        let metadata = DocumentMetadata::new(MetadataDraft {
            doc_type,
            owner,
            name: "Giấy phép xây dựng".into(),
            number_symbol: None,
            issue_date: None,
            issuing_body: None,
            summary: None,
            validity: Validity::Permanent,
            validity_scope: None,
            dossier: None,
            procedure: None,
            operator: "op".into(),
            captured_at: vietnam_now(),
        })
        .unwrap();
        let pdf = format!("%PDF {code}").into_bytes();
        NewDocument {
            record: DocumentRecord {
                code,
                metadata,
                pages: pages
                    .iter()
                    .map(|p| PageRecord {
                        image: BlobHash::of(p),
                        stream: BlobHash::of(p),
                        mime: "image/png".into(),
                        size: (1, 1),
                        dpi: (300.0, 300.0),
                        text: String::new(),
                        flags: vec![],
                        seal: SealRecord { text: String::new(), signature: vec![0; 64], key: "0".repeat(16) },
                    })
                    .collect(),
                pdf: BlobHash::of(&pdf),
                pdf_size: 0,
                seal: SealRecord { text: String::new(), signature: vec![0; 64], key: "0".repeat(16) },
                status: DocumentStatus::Active,
                archived_at: vietnam_now(),
                lifecycle: Lifecycle::default(),
            },
            page_images: pages.iter().map(|p| p.to_vec()).collect(),
            pdf,
            actor: "test".into(),
            source: None,
            verification: None,
        }
    }

    #[test]
    fn a_document_is_found_by_its_token_only_with_its_own_code() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        let token = VerificationToken::from_random([7; 16]);
        let (first_slot, second_slot) = (reserve(&archive), reserve(&archive));
        let first = new_document(&first_slot, &[b"trang"]);
        let code = first.record.code.clone();
        archive.commit(NewDocument { verification: Some(token.clone()), ..first }).unwrap();
        let second = new_document(&second_slot, &[b"trang khac"]);
        let other = second.record.code.clone();
        archive.commit(second).unwrap();

        assert_eq!(archive.record_by_token(&code, &token).unwrap().map(|r| r.code), Some(code.clone()));
        assert!(
            archive.record_by_token(&code, &VerificationToken::from_random([8; 16])).unwrap().is_none(),
            "a wrong token"
        );
        assert!(archive.record_by_token(&other, &token).unwrap().is_none(), "another document's token");
        let unknown: DocumentCode = "001099012345.GPXD.99".parse().unwrap();
        assert!(archive.record_by_token(&unknown, &token).unwrap().is_none(), "an unknown code");
    }

    #[test]
    fn commit_stores_shared_content_once_and_chains_the_audit() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        let (first_slot, second_slot) = (reserve(&archive), reserve(&archive));
        let first = new_document(&first_slot, &[b"page one", b"shared page"]);
        let second = new_document(&second_slot, &[b"shared page"]);
        let first_code = first.record.code.clone();
        assert_eq!(archive.commit(first).unwrap(), 1);
        assert_eq!(archive.commit(second).unwrap(), 2);
        let refs = archive.store.get(Table::BlobRefs, BlobHash::of(b"shared page").as_bytes()).unwrap().unwrap();
        assert_eq!(i64::from_le_bytes(refs.try_into().unwrap()), 2);
        assert_eq!(archive.read_blob(&BlobHash::of(b"shared page")).unwrap(), b"shared page");
        assert_eq!(archive.documents_of(&OwnerId::parse("001099012345").unwrap()).unwrap().len(), 2);
        let record = archive.record(&first_code).unwrap().unwrap();
        assert_eq!(archive.find_by_pdf(&record.pdf).unwrap(), Some(first_code.clone()));

        // A document whose content does not match its declared hash is refused whole.
        let bad_slot = reserve(&archive);
        let mut bad = new_document(&bad_slot, &[b"x"]);
        bad.page_images[0] = b"y".to_vec();
        assert!(matches!(archive.commit(bad), Err(ArchiveError::HashMismatch { .. })));
        assert_eq!(archive.document_count().unwrap(), 2);
        drop((first_slot, second_slot, bad_slot));

        archive.audit("officer", "download", &first_code.to_string(), "").unwrap();
        drop(archive);
        let archive = open(dir.path());
        archive.audit("officer", "view", &first_code.to_string(), "").unwrap();
        let trail = archive.audit_trail(Some(&first_code.to_string())).unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["ingest", "download", "view"]);
        assert_eq!(archive.last_event(), 2);
        let mut events = Vec::new();
        archive
            .events_after(1, &mut |seq, e| {
                events.push((seq, e));
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0, 2);
    }

    #[test]
    fn a_rewritten_audit_entry_breaks_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        for action in ["login", "download", "view"] {
            archive.audit("officer", action, "x", "").unwrap();
        }
        let mut entry: AuditEntry =
            decode("audit entry", b"", &archive.store.get(Table::Audit, &2u64.to_be_bytes()).unwrap().unwrap())
                .unwrap();
        entry.actor = "someone else".into();
        let mut batch = Batch::default();
        batch.put(Table::Audit, 2u64.to_be_bytes().to_vec(), encode(&entry));
        archive.store.apply(batch).unwrap();
        let e = archive.audit_trail(None).unwrap_err().to_string();
        assert!(e.contains("audit entry 2") && e.contains("hash chain"), "{e}");
    }
}
