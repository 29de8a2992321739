use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Mutex;

use chrono::NaiveDate;
use domain::{BlobHash, DocumentCode, DocumentTypeCode, DossierCode, OwnerId, UnitCode, vietnam_now};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    ArchiveError, AuditEntry, Batch, DocumentRecord, DocumentStatus, Event, NewDocument, RocksStore, Store, Table,
    UserRecord,
};

/// The archive's operations over a [`Store`].
pub struct Archive<S: Store = RocksStore> {
    store: S,
    /// Serialises the read-modify-write operations (counters, event and audit sequence numbers,
    /// duplicate checks): one process owns the database, so one lock makes them atomic.
    writer: Mutex<WriterState>,
}

struct WriterState {
    next_event: u64,
    next_audit: u64,
    last_audit_hash: [u8; 32],
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("archive records always serialise")
}

fn decode<T: DeserializeOwned>(what: &'static str, key: &[u8], bytes: &[u8]) -> Result<T, ArchiveError> {
    postcard::from_bytes(bytes).map_err(|e| ArchiveError::Corrupt {
        what,
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

fn seq_from_key(key: &[u8]) -> u64 {
    key.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

impl Archive<RocksStore> {
    /// Opens the archive in `dir` (created if absent).
    pub fn open(dir: &Path) -> Result<Self, ArchiveError> {
        Self::with_store(RocksStore::open(dir)?)
    }
}

impl<S: Store> Archive<S> {
    /// Wraps a store, reading where the event and audit sequences stand.
    pub fn with_store(store: S) -> Result<Self, ArchiveError> {
        let next_event = store.last(Table::Events)?.map(|(k, _)| seq_from_key(&k) + 1).unwrap_or(1);
        let (next_audit, last_audit_hash) = match store.last(Table::Audit)? {
            Some((k, v)) => (seq_from_key(&k) + 1, decode::<AuditEntry>("audit entry", &k, &v)?.hash),
            None => (1, [0; 32]),
        };
        Ok(Archive { store, writer: Mutex::new(WriterState { next_event, next_audit, last_audit_hash }) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        // A panic while holding the lock cannot leave the database half-written (batches are atomic),
        // so the state behind a poisoned lock is still usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Allocates the next number of a counter, durably, under the writer lock.
    fn next_number(&self, key: String, what: &'static str, scope: String, max: u32) -> Result<u32, ArchiveError> {
        let _guard = self.lock();
        let last = match self.store.get(Table::Counters, key.as_bytes())? {
            Some(v) => u32::from_le_bytes(v.as_slice().try_into().map_err(|_| ArchiveError::Corrupt {
                what: "counter",
                key: key.clone(),
                reason: format!("{} bytes instead of 4", v.len()),
            })?),
            None => 0,
        };
        if last >= max {
            return Err(ArchiveError::CounterExhausted { what, scope, max });
        }
        let mut batch = Batch::default();
        batch.put(Table::Counters, key.into_bytes(), (last + 1).to_le_bytes().to_vec());
        self.store.apply(batch)?;
        Ok(last + 1)
    }

    /// Allocates the next dossier code of `unit` for `date`. Numbers are never reused, survive
    /// restarts, and concurrent callers never receive the same one.
    pub fn allocate_dossier_code(&self, unit: &UnitCode, date: NaiveDate) -> Result<DossierCode, ArchiveError> {
        let key = format!("dossier/{unit}/{}", date.format("%Y%m%d"));
        let n = self.next_number(key, "dossier", format!("unit {unit} on {date}"), u32::from(DossierCode::MAX_NUMBER))?;
        Ok(DossierCode::new(unit.clone(), date, n as u16)?)
    }

    /// Allocates the next document code `<owner>.<type>.<NN>` for this owner and type.
    pub fn allocate_document_code(
        &self,
        owner: Option<&OwnerId>,
        doc_type: &DocumentTypeCode,
    ) -> Result<DocumentCode, ArchiveError> {
        let owner_part = owner.map(OwnerId::as_str).unwrap_or_default();
        let key = format!("document/{owner_part}.{doc_type}");
        let n = self.next_number(key, "document", format!("owner {owner_part:?}, type {doc_type}"), 99)?;
        Ok(DocumentCode::new(owner.cloned(), doc_type.clone(), Some(n as u8))?)
    }

    /// Commits a document: its content blobs (each stored once, reference-counted), its record and
    /// keys, an event for search and an audit entry, in one synced batch. Declared hashes are checked
    /// against the content first. Returns the event's sequence number.
    pub fn commit(&self, doc: NewDocument) -> Result<u64, ArchiveError> {
        let NewDocument { mut record, page_images, pdf, actor } = doc;
        if record.pages.len() != page_images.len() {
            return Err(ArchiveError::Corrupt {
                what: "new document",
                key: record.code.to_string(),
                reason: format!("{} page records but {} page images", record.pages.len(), page_images.len()),
            });
        }
        let mut contents: Vec<(BlobHash, &[u8])> = record.pages.iter().map(|p| p.image).zip(page_images.iter().map(Vec::as_slice)).collect();
        contents.push((record.pdf, &pdf));
        for (declared, bytes) in &contents {
            let actual = BlobHash::of(bytes);
            if actual != *declared {
                return Err(ArchiveError::HashMismatch { declared: *declared, actual });
            }
        }
        record.status = DocumentStatus::Active;
        record.pdf_size = pdf.len() as u64;
        let code_key = record.code.to_string().into_bytes();

        let mut state = self.lock();
        if self.store.get(Table::Documents, &code_key)?.is_some() {
            return Err(ArchiveError::DuplicateDocument(record.code.clone()));
        }
        let mut batch = Batch::default();
        for (hash, bytes) in &contents {
            // Content-addressed: identical content is stored once; only its count goes up.
            if self.store.get(Table::BlobRefs, hash.as_bytes())?.is_none() {
                batch.put(Table::Blobs, hash.as_bytes().to_vec(), bytes.to_vec());
            }
            batch.add(Table::BlobRefs, hash.as_bytes().to_vec(), 1);
        }
        batch.put(Table::ByPdf, record.pdf.as_bytes().to_vec(), code_key.clone());
        if let Some(owner) = record.metadata.owner() {
            batch.put(Table::ByOwner, [owner.as_str().as_bytes(), b"\0", &code_key].concat(), Vec::new());
        }
        let seq = state.next_event;
        batch.put(Table::Events, seq.to_be_bytes().to_vec(), encode(&Event::Archived(record.code.clone())));
        let detail = format!("{} pages, pdf {}", record.pages.len(), record.pdf);
        let audit = self.chain_audit(&state, &actor, "ingest", &record.code.to_string(), &detail);
        batch.put(Table::Audit, audit.seq.to_be_bytes().to_vec(), encode(&audit));
        batch.put(Table::Documents, code_key, encode(&record));
        self.store.apply(batch)?;
        state.next_event += 1;
        state.next_audit += 1;
        state.last_audit_hash = audit.hash;
        Ok(seq)
    }

    /// The record of a document.
    pub fn record(&self, code: &DocumentCode) -> Result<Option<DocumentRecord>, ArchiveError> {
        let key = code.to_string();
        self.store.get(Table::Documents, key.as_bytes())?.map(|v| decode("document record", key.as_bytes(), &v)).transpose()
    }

    /// The document whose PDF has this hash.
    pub fn find_by_pdf(&self, pdf: &BlobHash) -> Result<Option<DocumentCode>, ArchiveError> {
        let Some(v) = self.store.get(Table::ByPdf, pdf.as_bytes())? else { return Ok(None) };
        let text = String::from_utf8(v).map_err(|e| ArchiveError::Corrupt { what: "PDF key", key: pdf.to_hex(), reason: e.to_string() })?;
        Ok(Some(text.parse()?))
    }

    /// The codes of an owner's documents, in code order.
    pub fn documents_of(&self, owner: &OwnerId) -> Result<Vec<DocumentCode>, ArchiveError> {
        let prefix = [owner.as_str().as_bytes(), b"\0"].concat();
        let mut codes = Vec::new();
        let mut bad = None;
        self.store.scan(Table::ByOwner, &prefix, &prefix, &mut |k, _| {
            match std::str::from_utf8(&k[prefix.len()..]).ok().and_then(|s| s.parse().ok()) {
                Some(code) => codes.push(code),
                None => bad = Some(String::from_utf8_lossy(k).into_owned()),
            }
            ControlFlow::Continue(())
        })?;
        match bad {
            Some(key) => Err(ArchiveError::Corrupt { what: "owner key", key, reason: "not an owner and document code".into() }),
            None => Ok(codes),
        }
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
        self.store.scan(Table::Events, &[], &(after + 1).to_be_bytes(), &mut |k, v| match decode::<Event>("event", k, v) {
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
        self.lock().next_event - 1
    }

    fn chain_audit(&self, state: &WriterState, actor: &str, action: &str, target: &str, detail: &str) -> AuditEntry {
        let mut entry = AuditEntry {
            seq: state.next_audit,
            at: vietnam_now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.to_owned(),
            prev: state.last_audit_hash,
            hash: [0; 32],
        };
        entry.hash = audit_hash(&entry);
        entry
    }

    /// Appends an entry to the audit trail, durably.
    pub fn audit(&self, actor: &str, action: &str, target: &str, detail: &str) -> Result<AuditEntry, ArchiveError> {
        let mut state = self.lock();
        let entry = self.chain_audit(&state, actor, action, target, detail);
        let mut batch = Batch::default();
        batch.put(Table::Audit, entry.seq.to_be_bytes().to_vec(), encode(&entry));
        self.store.apply(batch)?;
        state.next_audit += 1;
        state.last_audit_hash = entry.hash;
        Ok(entry)
    }

    /// The audit entries concerning `target` (every entry if `None`), oldest first, each checked
    /// against the chain: an entry whose hash does not follow from its content and predecessor is an
    /// error naming its sequence number.
    pub fn audit_trail(&self, target: Option<&str>) -> Result<Vec<AuditEntry>, ArchiveError> {
        let mut entries = Vec::new();
        let mut prev = [0u8; 32];
        let mut failure = None;
        self.store.scan(Table::Audit, &[], &[], &mut |k, v| {
            let entry: AuditEntry = match decode("audit entry", k, v) {
                Ok(e) => e,
                Err(e) => {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
            };
            if entry.prev != prev || audit_hash(&entry) != entry.hash {
                failure = Some(ArchiveError::Corrupt {
                    what: "audit entry",
                    key: entry.seq.to_string(),
                    reason: "breaks the hash chain (rewritten, removed or reordered entries)".into(),
                });
                return ControlFlow::Break(());
            }
            prev = entry.hash;
            if target.is_none_or(|t| t == entry.target) {
                entries.push(entry);
            }
            ControlFlow::Continue(())
        })?;
        failure.map_or(Ok(entries), Err)
    }

    /// Number of archived documents.
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
        let mut batch = Batch::default();
        batch.put(Table::Users, user.name.as_bytes().to_vec(), encode(user));
        self.store.apply(batch)
    }

    /// A user account by name.
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, ArchiveError> {
        self.store.get(Table::Users, name.as_bytes())?.map(|v| decode("user", name.as_bytes(), &v)).transpose()
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
}

fn audit_hash(entry: &AuditEntry) -> [u8; 32] {
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
    use crate::{PageRecord, SealRecord};

    fn unit() -> UnitCode {
        UnitCode::parse("H56.14").unwrap()
    }

    #[test]
    fn dossier_codes_are_unique_under_concurrency_and_survive_restart() {
        let dir = tempfile::tempdir().unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 10, 11).unwrap();
        let archive = Arc::new(Archive::open(dir.path()).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let archive = archive.clone();
                std::thread::spawn(move || (0..25).map(|_| archive.allocate_dossier_code(&unit(), day).unwrap()).collect::<Vec<_>>())
            })
            .collect();
        let codes: HashSet<DossierCode> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        assert_eq!(codes.len(), 100);
        assert!(codes.contains(&"H56.14-241011-0100".parse().unwrap()));
        drop(archive);

        let archive = Archive::open(dir.path()).unwrap();
        assert_eq!(archive.allocate_dossier_code(&unit(), day).unwrap().to_string(), "H56.14-241011-0101");
        let next_day = day.succ_opt().unwrap();
        assert_eq!(archive.allocate_dossier_code(&unit(), next_day).unwrap().to_string(), "H56.14-241012-0001");
    }

    fn new_document(archive: &Archive, pages: &[&[u8]]) -> NewDocument {
        let owner = OwnerId::parse("001099012345").unwrap();
        let doc_type = DocumentTypeCode::parse("GPXD").unwrap();
        let code = archive.allocate_document_code(Some(&owner), &doc_type).unwrap();
        let metadata = DocumentMetadata::new(MetadataDraft {
            doc_type,
            owner: Some(owner),
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
            },
            page_images: pages.iter().map(|p| p.to_vec()).collect(),
            pdf,
            actor: "test".into(),
        }
    }

    #[test]
    fn commit_stores_shared_content_once_and_chains_the_audit() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path()).unwrap();
        let first = new_document(&archive, &[b"page one", b"shared page"]);
        let second = new_document(&archive, &[b"shared page"]);
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
        let mut bad = new_document(&archive, &[b"x"]);
        bad.page_images[0] = b"y".to_vec();
        assert!(matches!(archive.commit(bad), Err(ArchiveError::HashMismatch { .. })));
        assert_eq!(archive.document_count().unwrap(), 2);

        archive.audit("officer", "download", &first_code.to_string(), "").unwrap();
        drop(archive);
        let archive = Archive::open(dir.path()).unwrap();
        archive.audit("officer", "view", &first_code.to_string(), "").unwrap();
        let trail = archive.audit_trail(Some(&first_code.to_string())).unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["ingest", "download", "view"]);
        assert_eq!(archive.last_event(), 2);
        let mut events = Vec::new();
        archive.events_after(1, &mut |seq, e| {
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
        let archive = Archive::open(dir.path()).unwrap();
        for action in ["login", "download", "view"] {
            archive.audit("officer", action, "x", "").unwrap();
        }
        let mut entry: AuditEntry = decode("audit entry", b"", &archive.store.get(Table::Audit, &2u64.to_be_bytes()).unwrap().unwrap()).unwrap();
        entry.actor = "someone else".into();
        let mut batch = Batch::default();
        batch.put(Table::Audit, 2u64.to_be_bytes().to_vec(), encode(&entry));
        archive.store.apply(batch).unwrap();
        let e = archive.audit_trail(None).unwrap_err().to_string();
        assert!(e.contains("audit entry 2") && e.contains("hash chain"), "{e}");
    }
}
