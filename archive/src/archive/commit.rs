//! Archiving a document: checking its content against its declared hashes, writing its large blobs
//! as files of their own, then the small blobs, record, keys, event, log leaf and audit entry in one
//! grouped batch; imports and the documents of the reading queue arrive the same way. [`BlobChanges`]
//! is how any write changes the blobs.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use domain::AuditAction;
use domain::{BlobHash, VerificationToken};

use super::Archive;
use super::keys::index_keys;
use crate::encoding::decode;
use crate::log::LeafKind;
use crate::{
    ArchiveError, CapturedDocument, Content, DocumentRecord, DocumentStatus, Event, NewDocument, Revocation, SpoolFile,
    Spooled, Store, Table,
};

/// How a document comes into the archive: captured and read here at once, read from the reading
/// queue (its captured entry goes in the same batch), or imported with the status it had at its
/// source.
enum Arrival<'a> {
    Ingest,
    Captured,
    Import { from: &'a str, revocation: Option<Revocation> },
}

/// Blobs of at least this many bytes are files of their own ([`Store::put_blob_files`]); smaller
/// ones go into the batch. A file costs a data sync of its own, which a 200 KB document of 18 KB
/// pages would pay eleven times where its batch shares one sync with every commit waiting; pages of
/// 186 KB (a 2 MB document) and more gain from being written once instead of twice (BENCHMARKS.md,
/// "Blob files"). Sizes between were not measured.
pub(crate) const FILE_BLOB_MIN_BYTES: usize = 64 << 10;

/// One blob of a write as the archive holds it until its batch (see [`Content`]).
#[derive(Clone, Copy)]
pub(crate) enum Held<'a> {
    Bytes(&'a [u8]),
    Spooled(&'a Spooled),
    /// Counted by the captured entry the write replaces, under the address given; checked against
    /// that entry under the writer lock.
    Captured(BlobHash),
}

impl<'a> Held<'a> {
    fn of(content: &'a Content) -> Self {
        match content {
            Content::Bytes(bytes) => Held::Bytes(bytes),
            Content::Spooled(spooled) => Held::Spooled(spooled),
            Content::Captured(hash) => Held::Captured(*hash),
        }
    }
}

/// Checks that each content hashes to its declared address: bytes are hashed, a spooled file was
/// hashed as it was written, and a captured blob must be declared under its own address.
pub(crate) fn check_hashes(contents: &[(BlobHash, Held<'_>)]) -> Result<(), ArchiveError> {
    for (declared, held) in contents {
        let actual = match held {
            Held::Bytes(bytes) => BlobHash::of(bytes),
            Held::Spooled(spooled) => spooled.hash(),
            Held::Captured(hash) => *hash,
        };
        if actual != *declared {
            return Err(ArchiveError::HashMismatch { declared: *declared, actual });
        }
    }
    Ok(())
}

/// `contents` of bytes, as a capture brings them.
pub(crate) fn held_bytes<'a>(contents: impl IntoIterator<Item = (BlobHash, &'a [u8])>) -> Vec<(BlobHash, Held<'a>)> {
    contents.into_iter().map(|(hash, bytes)| (hash, Held::Bytes(bytes))).collect()
}

/// What one write does to the blobs, worked out from the store before anything is staged: the
/// content to store (blobs new to the archive), the net change of each reference count, and the
/// blobs whose last reference goes (a captured scan that its reading replaced by the page turned
/// upright).
pub(crate) struct BlobChanges<'a> {
    /// Content to put in the table: small blobs new to the archive.
    new: Vec<(BlobHash, &'a [u8])>,
    counts: Vec<(BlobHash, i64)>,
    gone: Vec<BlobHash>,
}

impl BlobChanges<'_> {
    /// Stages the changes; returns the blobs whose last reference goes, whose files are removed once
    /// the batch is durable ([`Archive::remove_released_files`]).
    pub(crate) fn stage(self, s: &mut super::Staged<'_>) -> Vec<BlobHash> {
        // Content-addressed: identical content is stored once; only its count goes up. A large
        // blob's content is its file, already durable.
        for (hash, bytes) in self.new {
            s.batch.put(Table::Blobs, hash.as_bytes().to_vec(), bytes.to_vec());
        }
        for (hash, n) in self.counts {
            s.batch.add(Table::BlobRefs, hash.as_bytes().to_vec(), n);
        }
        for hash in &self.gone {
            s.batch.delete(Table::Blobs, hash.as_bytes().to_vec());
            s.batch.delete(Table::BlobRefs, hash.as_bytes().to_vec());
        }
        self.gone
    }
}

/// A document whose content matched its declared hashes and whose record is complete, ready to be
/// staged; its large blobs held as bytes are already durable files, and its spooled ones synced
/// files that the staging gives their addresses.
struct Checked<'a> {
    record: DocumentRecord,
    contents: &'a [(BlobHash, Held<'a>)],
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

    /// Commits the record of a captured document, read from the reading queue, as
    /// [`commit`](Self::commit) does; the same batch removes its captured entry and releases the
    /// captured page images that the record does not keep (scans that reading turned upright). A
    /// document that is not captured, or no longer (its record was committed), is refused, so that
    /// a document is archived exactly once however often its reading is retried.
    pub fn commit_captured(&self, doc: NewDocument) -> Result<u64, ArchiveError> {
        self.commit_as(doc, Arrival::Captured)
    }

    /// A new file for content streamed before its commit: a document's PDF as its pages are read,
    /// or a large page image as soon as it is made. Finish it and hand the blob to a commit as
    /// [`Content::Spooled`]; until then it is scratch, removed when dropped (see [`crate::spool`]).
    pub fn spool(&self) -> Result<SpoolFile, ArchiveError> {
        self.store.spool()
    }

    /// `bytes` as the content of a new document: in memory when small, since the commit puts it in
    /// its batch; else written to a spooled file now, so that the caller need not keep it.
    pub fn stage(&self, bytes: Vec<u8>) -> Result<Content, ArchiveError> {
        if bytes.len() < FILE_BLOB_MIN_BYTES {
            return Ok(Content::Bytes(bytes));
        }
        let mut file = self.spool()?;
        file.put(&bytes)?;
        Ok(Content::Spooled(file.finish()?))
    }

    /// What writing `adds` (content with its address, once per use) and dropping one use of each
    /// of `releases` does to the blobs, read from the store. Reads only: stage the result.
    pub(crate) fn blob_changes<'c>(
        &self,
        adds: &[(BlobHash, Held<'c>)],
        releases: &[BlobHash],
    ) -> Result<BlobChanges<'c>, ArchiveError> {
        // Per blob: the net change of its count, whether this write keeps it, and its bytes when
        // they go into the batch (small ones; a large blob's content is its file).
        let mut net: BTreeMap<BlobHash, (i64, bool, Option<&'c [u8]>)> = BTreeMap::new();
        for (hash, held) in adds {
            let entry = net.entry(*hash).or_default();
            entry.0 += 1;
            entry.1 = true;
            if let Held::Bytes(bytes) = held
                && bytes.len() < FILE_BLOB_MIN_BYTES
            {
                entry.2 = Some(bytes);
            }
        }
        for hash in releases {
            net.entry(*hash).or_default().0 -= 1;
        }
        let mut changes = BlobChanges { new: Vec::new(), counts: Vec::new(), gone: Vec::new() };
        for (hash, (delta, kept, bytes)) in net {
            let stored = self.blob_refs(&hash)?;
            // A blob this write keeps is never counted out: only a drifted count (a captured scan
            // kept by its reading, counted none) gets here, and going by it would destroy content
            // that the record is about to refer to. The write is refused; fixity names the count.
            if kept && stored + delta <= 0 {
                return Err(ArchiveError::Corrupt {
                    what: "blob reference count",
                    key: hash.to_hex(),
                    reason: format!("{stored} references stored for a blob that this write keeps"),
                });
            }
            match bytes {
                Some(bytes) if stored == 0 => changes.new.push((hash, bytes)),
                _ if stored + delta <= 0 => {
                    changes.gone.push(hash);
                    continue;
                }
                _ => {}
            }
            if delta != 0 {
                changes.counts.push((hash, delta));
            }
        }
        Ok(changes)
    }

    fn commit_as(&self, doc: NewDocument, arrival: Arrival<'_>) -> Result<u64, ArchiveError> {
        let NewDocument { mut record, page_images, pdf, originals, actor, source, verification } = doc;
        let mismatch = |what: &str, records: usize, contents: usize| ArchiveError::Corrupt {
            what: "new document",
            key: record.code.to_string(),
            reason: format!("{records} {what} records but {contents} {what}s"),
        };
        if record.pages.len() != page_images.len() {
            return Err(mismatch("page image", record.pages.len(), page_images.len()));
        }
        if record.originals.len() != originals.len() {
            return Err(mismatch("original file", record.originals.len(), originals.len()));
        }
        // A kept original's size is the captured entry's, set when that entry is read.
        for (original, content) in record.originals.iter_mut().zip(&originals) {
            original.size = content.len().unwrap_or(original.size);
        }
        // The PDF is made by reading, so it is never one of the captured blobs.
        record.pdf_size = pdf.len().ok_or_else(|| ArchiveError::Corrupt {
            what: "new document",
            key: record.code.to_string(),
            reason: "its PDF is named as a captured blob, which a captured entry never holds".into(),
        })?;
        let mut contents: Vec<(BlobHash, Held<'_>)> =
            record.pages.iter().map(|p| p.image).zip(page_images.iter().map(Held::of)).collect();
        contents.push((record.pdf, Held::of(&pdf)));
        contents.extend(record.originals.iter().map(|o| o.blob).zip(originals.iter().map(Held::of)));
        check_hashes(&contents)?;
        record.status = DocumentStatus::Active;
        if record.lifecycle.retention_class.is_empty() {
            record.lifecycle.retention_class =
                self.schedule.class_for_type(record.metadata.doc_type().as_str()).to_owned();
        } else if self.schedule.class(&record.lifecycle.retention_class).is_none() {
            return Err(ArchiveError::Retention(format!(
                "unknown retention class {:?}",
                record.lifecycle.retention_class
            )));
        }
        let removals_seen = self.write_blob_files(&contents)?;
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

    /// Stages a checked document in a group (see [`Archive::grouped`]); a captured one alone
    /// ([`Archive::exclusive`]), since its batch may remove blobs that a commit in the same group
    /// could be counting on.
    fn commit_checked(&self, checked: Checked<'_>, arrival: Arrival<'_>) -> Result<u64, ArchiveError> {
        let Checked { mut record, contents, removals_seen, actor, source, verification } = checked;
        let code = record.code.to_string();
        let code = code.as_str();
        let code_key = code.as_bytes().to_vec();
        let alone = matches!(arrival, Arrival::Captured);
        let prepare = |this: &Self, s: &mut super::Staged<'_>| {
            if s.state.in_flight.contains(code) || this.store.get(Table::Documents, &code_key)?.is_some() {
                return Err(ArchiveError::DuplicateDocument(record.code.clone()));
            }
            let captured = match arrival {
                Arrival::Captured => {
                    let found = this.store.get(Table::Captured, &code_key)?;
                    let found = found.ok_or_else(|| ArchiveError::UnknownDocument(record.code.clone()))?;
                    Some(decode::<CapturedDocument>("captured document", &code_key, &found)?)
                }
                Arrival::Ingest | Arrival::Import { .. } => None,
            };
            let released: Vec<BlobHash> = captured.iter().flat_map(CapturedDocument::blobs).collect();
            // A captured blob is kept only from the entry this batch removes, whose count holds it
            // until the batch moves it to the record.
            if let Some((hash, _)) =
                contents.iter().find(|(hash, held)| matches!(held, Held::Captured(_)) && !released.contains(hash))
            {
                return Err(ArchiveError::Corrupt {
                    what: "new document",
                    key: record.code.to_string(),
                    reason: format!("blob {hash} is kept as captured, but no captured entry of it refers to it"),
                });
            }
            for original in &mut record.originals {
                if let Some(kept) = captured.iter().flat_map(|c| &c.originals).find(|o| o.blob == original.blob) {
                    original.size = kept.size;
                }
            }
            this.keep_blob_files(contents, removals_seen)?;
            let blobs = this.blob_changes(contents, &released)?;
            record.lifecycle.holds = s.state.holds.iter().filter(|h| h.scope.matches(&record)).map(|h| h.id).collect();
            let seq = s.state.next_event;
            let gone = blobs.stage(s);
            if captured.is_some() {
                s.batch.delete(Table::Captured, code_key.clone());
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
                Arrival::Ingest | Arrival::Captured => {
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
            if !alone {
                s.codes.push(code.to_owned());
                s.state.in_flight.insert(code.to_owned());
            }
            Ok((seq, gone))
        };
        let (seq, gone) = if alone { self.exclusive(prepare)? } else { self.grouped(prepare)? };
        if !gone.is_empty() {
            self.remove_released_files(&gone);
        }
        Ok(seq)
    }

    /// Writes the large blobs of `contents` held as bytes as files of their own, before the batch
    /// that refers to them and outside the writer lock, so that committers write theirs in parallel
    /// and a batch is applied only once its files are durable. Returns the count of blob-file
    /// removals read first: a file found here and removed by a destruction before the batch is
    /// staged shows as a count that moved ([`keep_blob_files`](Self::keep_blob_files)).
    pub(crate) fn write_blob_files(&self, contents: &[(BlobHash, Held<'_>)]) -> Result<u64, ArchiveError> {
        let removals_seen = self.blob_removals.load(Ordering::SeqCst);
        self.store.put_blob_files(&file_blobs(contents))?;
        Ok(removals_seen)
    }

    /// Under the writer lock, where no removal runs: when a destruction removed blob files since
    /// `removals_seen`, perhaps one of `contents` that was found already there, writes what is
    /// missing again (rare); then gives the spooled files their addresses.
    pub(crate) fn keep_blob_files(
        &self,
        contents: &[(BlobHash, Held<'_>)],
        removals_seen: u64,
    ) -> Result<(), ArchiveError> {
        if self.blob_removals.load(Ordering::SeqCst) != removals_seen {
            self.store.put_blob_files(&file_blobs(contents))?;
        }
        let spooled: Vec<&Spooled> = contents
            .iter()
            .filter_map(|(_, held)| match held {
                Held::Spooled(spooled) => Some(*spooled),
                Held::Bytes(_) | Held::Captured(_) => None,
            })
            .collect();
        self.store.adopt_spooled(&spooled)
    }
}

/// The blobs of a write held as bytes that are files of their own, each once.
fn file_blobs<'a>(contents: &[(BlobHash, Held<'a>)]) -> Vec<(BlobHash, &'a [u8])> {
    let mut files: Vec<(BlobHash, &[u8])> = Vec::new();
    for (hash, held) in contents {
        if let Held::Bytes(bytes) = held
            && bytes.len() >= FILE_BLOB_MIN_BYTES
            && !files.iter().any(|(h, _)| h == hash)
        {
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
    use crate::{ArchiveError, Content, Store, Table};

    /// The names in the blob directory that are not addresses: scratch files.
    fn scratch_files(dir: &std::path::Path) -> Vec<String> {
        std::fs::read_dir(dir.join("db").join(crate::blob_files::BLOB_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.parse::<BlobHash>().is_err())
            .collect()
    }

    #[test]
    fn spooled_content_is_committed_by_its_file_and_no_scratch_outlives_its_use() {
        use std::io::{Read, Write};
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        // A PDF streamed in pieces, read back while it is written, and a page too large to keep.
        let pdf: Vec<u8> = (0..200_000u32).flat_map(u32::to_le_bytes).collect();
        let mut file = archive.spool().unwrap();
        for piece in pdf.chunks(4096) {
            file.write_all(piece).unwrap();
        }
        let mut back = Vec::new();
        file.written().unwrap().read_to_end(&mut back).unwrap();
        assert!(back == pdf);
        let spooled = file.finish().unwrap();
        assert_eq!((spooled.hash(), spooled.len()), (BlobHash::of(&pdf), pdf.len() as u64));
        let big_page = vec![7u8; 100_000];
        let staged = archive.stage(big_page.clone()).unwrap();
        assert!(matches!(staged, Content::Spooled(_)));
        assert!(matches!(archive.stage(b"small".to_vec()).unwrap(), Content::Bytes(_)));
        assert_eq!(scratch_files(dir.path()).len(), 2, "the PDF and the page wait as scratch");

        let first = reserve(&archive);
        let mut doc = new_document(&first, &[b"placeholder"]);
        doc.record.pages[0].image = BlobHash::of(&big_page);
        doc.page_images = vec![staged];
        doc.record.pdf = BlobHash::of(&pdf);
        doc.pdf = Content::Spooled(spooled);
        let code = doc.record.code.clone();
        archive.commit(doc).unwrap();
        drop(first);
        let record = archive.record(&code).unwrap().unwrap();
        assert_eq!(record.pdf_size, pdf.len() as u64);
        assert!(archive.read_blob(&record.pdf).unwrap() == pdf);
        assert!(archive.read_blob(&BlobHash::of(&big_page)).unwrap() == big_page);
        assert_eq!(archive.blob_refs(&record.pdf).unwrap(), 1);
        assert!(scratch_files(dir.path()).is_empty(), "{:?}", scratch_files(dir.path()));

        // A spooled file whose hash is not the one declared is refused, and leaves nothing.
        let slot = reserve(&archive);
        let mut doc = new_document(&slot, &[b"page"]);
        let mut file = archive.spool().unwrap();
        file.write_all(b"not the declared PDF").unwrap();
        doc.pdf = Content::Spooled(file.finish().unwrap());
        assert!(matches!(archive.commit(doc), Err(ArchiveError::HashMismatch { .. })));
        // A captured blob is taken only from the captured entry that the commit replaces.
        let mut doc = new_document(&slot, &[b"page"]);
        doc.page_images = vec![Content::Captured(BlobHash::of(b"page"))];
        let e = archive.commit(doc).unwrap_err().to_string();
        assert!(e.contains("kept as captured, but no captured entry of it refers to it"), "{e}");
        drop(slot);
        // Dropped unfinished or uncommitted, a spool leaves nothing.
        archive.spool().unwrap().write_all(b"half").unwrap();
        let mut file = archive.spool().unwrap();
        file.write_all(b"finished, never committed").unwrap();
        drop(file.finish().unwrap());
        assert!(scratch_files(dir.path()).is_empty(), "{:?}", scratch_files(dir.path()));

        // A crash leaves the scratch of a document being read; the next opening removes it.
        let mut file = archive.spool().unwrap();
        file.write_all(b"the PDF of a reading cut short").unwrap();
        std::mem::forget(file.finish().unwrap());
        assert_eq!(scratch_files(dir.path()).len(), 1);
        drop(archive);
        let archive = open(dir.path());
        assert!(scratch_files(dir.path()).is_empty(), "{:?}", scratch_files(dir.path()));
        assert!(archive.read_blob(&BlobHash::of(&pdf)).unwrap() == pdf);
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
        bad.page_images[0] = b"y".to_vec().into();
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

    #[test]
    fn an_original_file_is_a_counted_blob_and_records_of_the_first_form_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        let slot = reserve(&archive);
        let original = b"%PDF-1.7 as the citizen brought it".to_vec();
        let with_original = || {
            let mut doc = new_document(&slot, &[b"rendered page"]);
            doc.record.originals.push(crate::OriginalFile {
                blob: BlobHash::of(&original),
                size: 0,
                name: "e-service.pdf".into(),
                pages: vec![1],
                text_pages: vec![1],
            });
            doc
        };
        // An original named in the record but not handed over is refused whole.
        let e = archive.commit(with_original()).unwrap_err().to_string();
        assert!(e.contains("1 original file records but 0 original files"), "{e}");
        let mut doc = with_original();
        doc.originals.push(original.clone().into());
        let code = doc.record.code.clone();
        archive.commit(doc).unwrap();
        let record = archive.record(&code).unwrap().unwrap();
        assert_eq!(record.originals[0].size, original.len() as u64, "the archive measures it");
        assert_eq!(archive.read_blob(&record.originals[0].blob).unwrap(), original);
        let refs = archive.store.get(Table::BlobRefs, BlobHash::of(&original).as_bytes()).unwrap().unwrap();
        assert_eq!(i64::from_le_bytes(refs.try_into().unwrap()), 1);
        assert!(record.blobs().any(|b| b == BlobHash::of(&original)), "fixity and destruction see it");

        // A record stored before originals were kept is the same encoding without the last field
        // (an empty list is one byte in postcard): it reads, with no originals.
        let mut first_form = record.clone();
        first_form.originals.clear();
        let bytes = crate::encoding::encode(&first_form);
        let read = crate::records::decode_record(b"old", &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(read, first_form);
    }
}
