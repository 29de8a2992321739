//! Reading what is stored: records, blobs (checked against their hash), the event sequence search
//! follows, counts.

use std::io::Read;
use std::ops::ControlFlow;

use domain::{BlobHash, DocumentCode};

use super::Archive;
use crate::encoding::{decode, seq_from_key};
use crate::records::decode_record;
use crate::{ArchiveError, DocumentRecord, Event, Store, Table};

impl<S: Store> Archive<S> {
    /// The record of a document.
    pub fn record(&self, code: &DocumentCode) -> Result<Option<DocumentRecord>, ArchiveError> {
        let key = code.to_string();
        self.store.get(Table::Documents, key.as_bytes())?.map(|v| decode_record(key.as_bytes(), &v)).transpose()
    }

    /// Visits every document record in code order until `visit` breaks.
    pub fn each_record(&self, visit: &mut dyn FnMut(DocumentRecord) -> ControlFlow<()>) -> Result<(), ArchiveError> {
        let mut failure = None;
        self.store.scan(Table::Documents, &[], &[], &mut |k, v| match decode_record(k, v) {
            Ok(record) => visit(record),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        })?;
        failure.map_or(Ok(()), Err)
    }

    /// Reads a blob and checks that it still hashes to its address: from [`Table::Blobs`] (a small
    /// blob, or any blob archived before large ones became files), else from its file. The table
    /// is asked first: a miss there is a lookup in memory (its bloom filter), where a file
    /// looked for in vain would cost every small page a system call.
    pub fn read_blob(&self, hash: &BlobHash) -> Result<Vec<u8>, ArchiveError> {
        let bytes = match self.store.get(Table::Blobs, hash.as_bytes())? {
            Some(bytes) => bytes,
            None => {
                let (file, size) = self.store.open_blob_file(hash)?.ok_or(ArchiveError::MissingBlob(*hash))?;
                // At most the size it had when opened, so that a file growing under the reader
                // cannot make it read without end.
                let mut bytes = Vec::with_capacity(size as usize);
                file.take(size)
                    .read_to_end(&mut bytes)
                    .map_err(|source| ArchiveError::BlobFile { hash: *hash, source })?;
                bytes
            }
        };
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
        self.writer.lock().state.next_event - 1
    }

    /// The sequence number of the last audit entry, 0 if none: with [`last_event`](Self::last_event),
    /// what tells a reader of counts whether anything was recorded since it last counted.
    pub fn last_audit(&self) -> u64 {
        self.writer.lock().state.next_audit - 1
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
}
