//! The captured stage: a document whose page images are durable with their seals and whose code is
//! taken, acknowledged before it is read. Its entry in [`Table::Captured`] is the reading queue; the
//! batch that writes its record ([`Archive::commit_captured`]) removes it, so a document is either
//! captured or archived, never both and never half of either.

use std::ops::ControlFlow;

use domain::{AuditAction, DocumentCode};

use super::Archive;
use crate::encoding::{decode, decode_all, encode};
use crate::{ArchiveError, CapturedDocument, NewCapture, Store, Table};

impl<S: Store> Archive<S> {
    /// Captures a document: its page images (each stored once, reference-counted), its entry with the
    /// page seals, the metadata and the code, and a `capture` audit entry, in one synced write
    /// (shared with concurrent commits). Declared hashes are checked against the content first. Once
    /// this returns, the document survives a crash and [`captured_documents`](Self::captured_documents)
    /// lists it until its record is committed.
    pub fn capture(&self, doc: NewCapture) -> Result<(), ArchiveError> {
        let NewCapture { document, page_images, originals } = doc;
        if document.pages.len() != page_images.len() || document.originals.len() != originals.len() {
            return Err(ArchiveError::Corrupt {
                what: "captured document",
                key: document.code.to_string(),
                reason: format!(
                    "{} pages but {} page images, {} original files but {} given",
                    document.pages.len(),
                    page_images.len(),
                    document.originals.len(),
                    originals.len()
                ),
            });
        }
        let contents = super::commit::held_bytes(
            document
                .pages
                .iter()
                .map(|p| p.image)
                .zip(page_images.iter().map(Vec::as_slice))
                .chain(document.originals.iter().map(|o| o.blob).zip(originals.iter().map(Vec::as_slice))),
        );
        super::commit::check_hashes(&contents)?;
        let code = document.code.to_string();
        let code_key = code.as_bytes().to_vec();
        let removals_seen = self.write_blob_files(&contents)?;
        self.grouped(|this, s| {
            if s.state.in_flight.contains(&code)
                || this.store.get(Table::Documents, &code_key)?.is_some()
                || this.store.get(Table::Captured, &code_key)?.is_some()
            {
                return Err(ArchiveError::DuplicateDocument(document.code.clone()));
            }
            this.keep_blob_files(&contents, removals_seen)?;
            // A capture releases nothing, so no blob goes.
            this.blob_changes(&contents, &[])?.stage(s);
            s.batch.put(Table::Captured, code_key.clone(), encode(&document));
            s.audit(
                &document.actor,
                AuditAction::Capture,
                &code,
                &format!("{} pages, waiting to be read", page_images.len()),
            );
            s.codes.push(code.clone());
            s.state.in_flight.insert(code.clone());
            Ok(())
        })
    }

    /// The captured document `code`, if it waits to be read.
    pub fn captured(&self, code: &DocumentCode) -> Result<Option<CapturedDocument>, ArchiveError> {
        let key = code.to_string();
        self.store
            .get(Table::Captured, key.as_bytes())?
            .map(|v| decode("captured document", key.as_bytes(), &v))
            .transpose()
    }

    /// Every captured document waiting to be read, oldest capture first: the reading queue as it
    /// stands on disk, which a restart resumes from.
    pub fn captured_documents(&self) -> Result<Vec<CapturedDocument>, ArchiveError> {
        let mut all: Vec<CapturedDocument> = decode_all(&self.store, Table::Captured, "captured document")?;
        all.sort_by_key(|d| (d.captured_at, d.code.to_string()));
        Ok(all)
    }

    /// The captured document made from `source`, if one waits to be read. The queue is short, so it
    /// is scanned rather than keyed.
    pub(crate) fn captured_from_source(&self, source: &str) -> Result<Option<DocumentCode>, ArchiveError> {
        let mut found = None;
        let mut failure = None;
        self.store.scan(Table::Captured, &[], &[], &mut |k, v| match decode::<CapturedDocument>(
            "captured document",
            k,
            v,
        ) {
            Ok(d) if d.source.as_deref() == Some(source) => {
                found = Some(d.code);
                ControlFlow::Break(())
            }
            Ok(_) => ControlFlow::Continue(()),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        })?;
        failure.map_or(Ok(found), Err)
    }
}

#[cfg(test)]
mod tests {
    use domain::BlobHash;

    use super::super::test_support::{capture_of, new_document_coded, open, reserve};
    use crate::{ArchiveError, Batch, Content, NewDocument, Store, Table};

    #[test]
    fn a_scan_kept_by_its_reading_is_never_counted_out_even_by_a_drifted_count() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        let slot = reserve(&archive);
        let code = slot.code().clone();
        archive.capture(capture_of(&slot, &[b"scan one"], None)).unwrap();
        drop(slot);
        let scan = BlobHash::of(b"scan one");
        // Damage: the count of the captured scan drifts to none.
        let mut drift = Batch::default();
        drift.add(Table::BlobRefs, scan.as_bytes().to_vec(), -1);
        archive.store.apply(drift).unwrap();
        let mut doc = new_document_coded(code.clone(), &[b"scan one"]);
        doc.page_images = vec![Content::Captured(scan)];
        let e = archive.commit_captured(doc).unwrap_err().to_string();
        assert!(e.contains("references stored for a blob that this write keeps"), "{e}");
        assert_eq!(archive.read_blob(&scan).unwrap(), b"scan one", "the scan is still there");
        assert!(archive.captured(&code).unwrap().is_some(), "and its document still captured");
    }

    #[test]
    fn a_captured_document_keeps_its_number_and_its_record_replaces_it_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        let slot = reserve(&archive);
        let code = slot.code().clone();
        archive.capture(capture_of(&slot, &[b"scan one", b"scan two"], Some("file:abc"))).unwrap();
        drop(slot);
        archive.capture(capture_of(&reserve(&archive), &[b"other"], None)).unwrap();
        // The number stays taken once the reservation is gone, and across a restart.
        drop(archive);
        let archive = open(dir.path());
        let next = reserve(&archive);
        assert!(next.code() != &code && next.code().to_string().ends_with(".03"), "{}", next.code());
        drop(next);
        let queue = archive.captured_documents().unwrap();
        assert_eq!(queue.len(), 2);
        assert_eq!(queue[0].code, code, "oldest capture first");
        assert_eq!(archive.find_by_source("file:abc").unwrap(), Some(code.clone()));
        assert_eq!(archive.blob_refs(&BlobHash::of(b"scan one")).unwrap(), 1);

        // Archived with page two turned upright: the unturned scan goes, the kept one counts once.
        let done = || NewDocument {
            source: Some("file:abc".into()),
            ..new_document_coded(code.clone(), &[b"scan one", b"scan two, turned"])
        };
        archive.commit_captured(done()).unwrap();
        assert!(archive.captured(&code).unwrap().is_none());
        assert!(archive.record(&code).unwrap().is_some());
        assert_eq!(archive.blob_refs(&BlobHash::of(b"scan one")).unwrap(), 1);
        assert_eq!(archive.blob_refs(&BlobHash::of(b"scan two")).unwrap(), 0);
        assert!(matches!(archive.read_blob(&BlobHash::of(b"scan two")), Err(ArchiveError::MissingBlob(_))));
        assert_eq!(archive.find_by_source("file:abc").unwrap(), Some(code.clone()));
        // Exactly once: a second reading of the same capture is refused, and so is a capture of
        // an archived code.
        assert!(matches!(archive.commit_captured(done()), Err(ArchiveError::DuplicateDocument(_))));
        let actions: Vec<String> =
            archive.audit_trail(Some(&code.to_string())).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["capture", "ingest"]);
    }

    #[test]
    fn a_document_that_was_never_captured_is_not_archived_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        let slot = reserve(&archive);
        let doc = new_document_coded(slot.code().clone(), &[b"page"]);
        assert!(matches!(archive.commit_captured(doc), Err(ArchiveError::UnknownDocument(_))));
        assert_eq!(archive.document_count().unwrap(), 0);
    }
}
