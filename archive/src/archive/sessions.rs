//! Sessions and access tokens, stored by the hash of their secret beside the accounts, so that a
//! restart of the service logs nobody out. What a session may do is the binary's concern; here it is
//! kept, found, and ended.
//!
//! A session's record is written once, when it is opened; its later uses are noted under a key of
//! their own (the id and one byte), so that noting a use can never bring back a session that was
//! ended meanwhile: a use noted after the end is found by no lookup, and goes with the next clearing.

use std::collections::HashMap;
use std::ops::ControlFlow;

use chrono::{DateTime, FixedOffset};

use super::Archive;
use crate::encoding::encode;
use crate::{ArchiveError, SessionRecord, Store, Table};

/// The byte after a session's id in the key of its last use.
const LAST_SEEN: u8 = 0x01;

/// The stored sessions with their ids and last uses, and the ids of uses noted for sessions that are gone.
pub type StoredSessions = (Vec<([u8; 32], SessionRecord)>, Vec<[u8; 32]>);

fn last_seen_key(id: &[u8; 32]) -> Vec<u8> {
    let mut key = id.to_vec();
    key.push(LAST_SEEN);
    key
}

impl<S: Store> Archive<S> {
    /// Stores the session whose secret hashes to `id`, in a synced write.
    pub fn put_session(&self, id: &[u8; 32], session: &SessionRecord) -> Result<(), ArchiveError> {
        self.grouped(|_, s| {
            s.batch.put(Table::Sessions, id.to_vec(), encode(session));
            Ok(())
        })
    }

    /// Notes that the session `id` was used `at`, in a synced write.
    pub fn touch_session(&self, id: &[u8; 32], at: DateTime<FixedOffset>) -> Result<(), ArchiveError> {
        self.grouped(|_, s| {
            s.batch.put(Table::Sessions, last_seen_key(id), encode(&at));
            Ok(())
        })
    }

    /// The session whose secret hashes to `id`, with its last use. A record that does not decode (a
    /// damaged one, or one of a later version) is no session.
    pub fn session(&self, id: &[u8; 32]) -> Result<Option<SessionRecord>, ArchiveError> {
        let Some(bytes) = self.store.get(Table::Sessions, id)? else { return Ok(None) };
        let Ok(mut session) = postcard::from_bytes::<SessionRecord>(&bytes) else { return Ok(None) };
        if let Some(seen) = self.store.get(Table::Sessions, &last_seen_key(id))?
            && let Ok(seen) = postcard::from_bytes::<DateTime<FixedOffset>>(&seen)
        {
            session.last_seen = session.last_seen.max(seen);
        }
        Ok(Some(session))
    }

    /// Every stored session and token, with its id and last use, and the ids of the uses noted for a
    /// session that is gone (to clear with [`delete_sessions`](Self::delete_sessions)).
    pub fn sessions(&self) -> Result<StoredSessions, ArchiveError> {
        let mut records = Vec::new();
        let mut seen = HashMap::new();
        self.store.scan(Table::Sessions, &[], &[], &mut |key, value| {
            if let Ok(id) = <[u8; 32]>::try_from(key) {
                if let Ok(record) = postcard::from_bytes::<SessionRecord>(value) {
                    records.push((id, record));
                }
            } else if let Some((&LAST_SEEN, id)) = key.split_last()
                && let (Ok(id), Ok(at)) =
                    (<[u8; 32]>::try_from(id), postcard::from_bytes::<DateTime<FixedOffset>>(value))
            {
                seen.insert(id, at);
            }
            ControlFlow::Continue(())
        })?;
        for (id, record) in &mut records {
            if let Some(at) = seen.remove(id) {
                record.last_seen = record.last_seen.max(at);
            }
        }
        Ok((records, seen.into_keys().collect()))
    }

    /// Ends the sessions `ids`, in one synced write.
    pub fn delete_sessions(&self, ids: &[[u8; 32]]) -> Result<(), ArchiveError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.grouped(|_, s| {
            for id in ids {
                s.batch.delete(Table::Sessions, id.to_vec());
                s.batch.delete(Table::Sessions, last_seen_key(id));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use domain::vietnam_now;

    use super::super::test_support;
    use crate::SessionRecord;

    #[test]
    fn a_use_noted_after_the_end_brings_no_session_back_and_is_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let archive = test_support::open(dir.path());
        let opened = vietnam_now() - chrono::Duration::minutes(5);
        let record = SessionRecord {
            kind: "api".into(),
            subject: "lan".into(),
            created_by: "lan".into(),
            created_at: opened,
            last_seen: opened,
            expires_at: None,
        };
        let id = [7u8; 32];
        archive.put_session(&id, &record).unwrap();
        let now = vietnam_now();
        archive.touch_session(&id, now).unwrap();
        assert_eq!(archive.session(&id).unwrap().unwrap().last_seen, now, "the use is read with the record");
        archive.delete_sessions(&[id]).unwrap();
        // A request that read the session before it ended notes its use after.
        archive.touch_session(&id, vietnam_now()).unwrap();
        assert_eq!(archive.session(&id).unwrap(), None, "an ended session came back");
        let (sessions, orphans) = archive.sessions().unwrap();
        assert!(sessions.is_empty());
        assert_eq!(orphans, vec![id], "the late use is not offered for clearing");
        archive.delete_sessions(&orphans).unwrap();
        assert_eq!(archive.sessions().unwrap(), (Vec::new(), Vec::new()));
    }
}
