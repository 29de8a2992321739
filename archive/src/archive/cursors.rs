//! Where each follower of the event sequence outside the archive stands (replication to the
//! province's object store is one): a durable position per follower, so that what it has not yet
//! applied is exactly the events after it. The events are written in the batch of each change, so
//! the sequence with a follower's position is that follower's outbox.

use super::Archive;
use crate::{ArchiveError, Store, Table};

impl<S: Store> Archive<S> {
    /// The sequence number of the last event `follower` has applied, 0 before its first.
    pub fn cursor(&self, follower: &str) -> Result<u64, ArchiveError> {
        let Some(value) = self.store.get(Table::Cursors, follower.as_bytes())? else { return Ok(0) };
        let bytes: [u8; 8] = value.as_slice().try_into().map_err(|_| ArchiveError::Corrupt {
            what: "follower cursor",
            key: follower.to_owned(),
            reason: format!("{} bytes instead of an 8-byte event number", value.len()),
        })?;
        Ok(u64::from_be_bytes(bytes))
    }

    /// Records, durably, that `follower` has applied every event up to `seq`. The position only
    /// moves forward: a lower `seq` than the one stored is an error, since it would replay events
    /// the follower reported done.
    pub fn advance_cursor(&self, follower: &str, seq: u64) -> Result<(), ArchiveError> {
        let current = self.cursor(follower)?;
        if seq < current {
            return Err(ArchiveError::CursorBackwards { follower: follower.to_owned(), from: current, to: seq });
        }
        // Through the writer, like every change, so that a backup never sees a batch half applied.
        self.grouped(|_, s| {
            s.batch.put(Table::Cursors, follower.as_bytes().to_vec(), seq.to_be_bytes().to_vec());
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::archive::test_support::open;

    #[test]
    fn a_cursor_starts_at_zero_survives_a_reopening_and_never_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        assert_eq!(archive.cursor("replication").unwrap(), 0);
        archive.advance_cursor("replication", 3).unwrap();
        drop(archive);
        let archive = open(dir.path());
        assert_eq!(archive.cursor("replication").unwrap(), 3);
        assert_eq!(archive.cursor("another").unwrap(), 0);
        assert!(archive.advance_cursor("replication", 2).is_err());
        assert_eq!(archive.cursor("replication").unwrap(), 3);
    }
}
