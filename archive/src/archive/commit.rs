//! Archiving a document: checking its content against its declared hashes, writing its large blobs
//! as files of their own, then the small blobs, record, keys, event, log leaf and audit entry in one
//! grouped batch; imports arrive the same way.

use std::sync::atomic::Ordering;

use domain::AuditAction;
use domain::{BlobHash, VerificationToken};

use super::Archive;
use super::keys::index_keys;
use crate::log::LeafKind;
use crate::{ArchiveError, DocumentRecord, DocumentStatus, Event, NewDocument, Revocation, Store, Table};

/// How a document comes into the archive: captured here, or imported with the status it had at its
/// source.
enum Arrival<'a> {
    Ingest,
    Import { from: &'a str, revocation: Option<Revocation> },
}

/// Blobs of at least this many bytes are files of their own ([`Store::put_blob_files`]); smaller
/// ones go into the batch. A file costs a data sync of its own, which a 200 KB document of 18 KB
/// pages would pay eleven times where its batch shares one sync with every commit waiting; pages of
/// 186 KB (a 2 MB document) and more gain from being written once instead of twice (BENCHMARKS.md,
/// "Blob files"). Sizes between were not measured.
pub(crate) const FILE_BLOB_MIN_BYTES: usize = 64 << 10;

/// A document whose content matched its declared hashes and whose record is complete, ready to be
/// staged; its large blobs are already durable files.
struct Checked<'a> {
    record: DocumentRecord,
    contents: &'a [(BlobHash, &'a [u8])],
    /// The blob files removed by disposition (`Archive::blob_removals`) before its files were
    /// written.
    removals_seen: u64,
    actor: &'a str,
    source: Option<&'a str>,
    verification: Option<&'a VerificationToken>,
}

impl<S: Store> Archive<S> {
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
        // Written before the batch, outside the writer lock, so that committers write their files in
        // parallel and the batch that refers to them is applied only once they are durable. The
        // count is read first: a file found here and removed by a destruction before the batch is
        // staged shows as a count that moved.
        let removals_seen = self.blob_removals.load(Ordering::SeqCst);
        let files = file_blobs(&contents);
        self.store.put_blob_files(&files)?;
        let checked = Checked {
            record,
            contents: &contents,
            removals_seen,
            actor: &actor,
            source: source.as_deref(),
            verification: verification.as_ref(),
        };
        self.commit_checked(checked, arrival)
    }

    /// Stages a checked document in a group (see [`Archive::grouped`]).
    fn commit_checked(&self, checked: Checked<'_>, arrival: Arrival<'_>) -> Result<u64, ArchiveError> {
        let Checked { mut record, contents, removals_seen, actor, source, verification } = checked;
        let code = record.code.to_string();
        let code = code.as_str();
        let code_key = code.as_bytes().to_vec();
        self.grouped(|this, s| {
            if s.state.in_flight.contains(code) || this.store.get(Table::Documents, &code_key)?.is_some() {
                return Err(ArchiveError::DuplicateDocument(record.code.clone()));
            }
            if this.blob_removals.load(Ordering::SeqCst) != removals_seen {
                // A destruction removed blob files since ours were written, perhaps one this
                // document found already there: write what is missing again (rare; under the lock,
                // where no removal runs).
                this.store.put_blob_files(&file_blobs(contents))?;
            }
            let mut existing = Vec::with_capacity(contents.len());
            for (hash, _) in contents {
                existing.push(this.store.get(Table::BlobRefs, hash.as_bytes())?.is_some());
            }
            record.lifecycle.holds = s.state.holds.iter().filter(|h| h.scope.matches(&record)).map(|h| h.id).collect();
            let seq = s.state.next_event;
            let mut new_blobs = Vec::new();
            for ((hash, bytes), exists) in contents.iter().zip(existing) {
                // Content-addressed: identical content is stored once; only its count goes up. A
                // large blob's content is its file, already durable.
                if !exists && bytes.len() < FILE_BLOB_MIN_BYTES && !new_blobs.contains(hash) {
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
                    s.audit(actor, AuditAction::Ingest, code, &detail);
                }
                Arrival::Import { from, revocation } => {
                    s.audit(actor, AuditAction::Import, code, &format!("{detail}, from {from}"));
                    if let Some(revocation) = revocation {
                        let reason = revocation.reason.clone();
                        record.status = DocumentStatus::Revoked(revocation);
                        s.leaf(LeafKind::Revoked, &record);
                        s.audit(actor, AuditAction::Revoke, code, &reason);
                    }
                }
            }
            s.record(&record);
            s.codes.push(code.to_owned());
            s.state.in_flight.insert(code.to_owned());
            Ok(seq)
        })
    }
}

/// The blobs of a document that are files of their own, each once.
fn file_blobs<'a>(contents: &[(BlobHash, &'a [u8])]) -> Vec<(BlobHash, &'a [u8])> {
    let mut files: Vec<(BlobHash, &[u8])> = Vec::new();
    for (hash, bytes) in contents {
        if bytes.len() >= FILE_BLOB_MIN_BYTES && !files.iter().any(|(h, _)| h == hash) {
            files.push((*hash, bytes));
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use domain::{BlobHash, OwnerId};

    use super::super::test_support::{new_document, open, reserve};
    use crate::{ArchiveError, Store, Table};

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

        archive.audit("officer", domain::AuditAction::Download, &first_code.to_string(), "").unwrap();
        drop(archive);
        let archive = open(dir.path());
        archive.audit("officer", domain::AuditAction::View, &first_code.to_string(), "").unwrap();
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
}
