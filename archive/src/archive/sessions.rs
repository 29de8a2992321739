//! Sessions and access tokens, stored by the hash of their secret beside the accounts, so that a
//! restart of the service logs nobody out. What a session may do is the binary's concern; here it is
//! kept, found, and ended.

use std::ops::ControlFlow;

use super::Archive;
use crate::encoding::{decode, encode};
use crate::{ArchiveError, SessionRecord, Store, Table};

impl<S: Store> Archive<S> {
    /// Stores (or replaces) the session whose secret hashes to `id`, in a synced write.
    pub fn put_session(&self, id: &[u8; 32], session: &SessionRecord) -> Result<(), ArchiveError> {
        self.grouped(|_, s| {
            s.batch.put(Table::Sessions, id.to_vec(), encode(session));
            Ok(())
        })
    }

    /// The session whose secret hashes to `id`.
    pub fn session(&self, id: &[u8; 32]) -> Result<Option<SessionRecord>, ArchiveError> {
        self.store.get(Table::Sessions, id)?.map(|bytes| decode("session", id, &bytes)).transpose()
    }

    /// Every stored session and token, with its id.
    pub fn sessions(&self) -> Result<Vec<([u8; 32], SessionRecord)>, ArchiveError> {
        let mut found = Vec::new();
        let mut failure = None;
        self.store.scan(Table::Sessions, &[], &[], &mut |key, value| {
            let decoded = decode::<SessionRecord>("session", key, value).and_then(|session| {
                let id = <[u8; 32]>::try_from(key).map_err(|_| ArchiveError::Corrupt {
                    what: "session",
                    key: domain::hex(key),
                    reason: format!("a session's key has 32 bytes, not {}", key.len()),
                })?;
                Ok((id, session))
            });
            match decoded {
                Ok(entry) => {
                    found.push(entry);
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    failure = Some(e);
                    ControlFlow::Break(())
                }
            }
        })?;
        failure.map_or(Ok(found), Err)
    }

    /// Ends the sessions `ids`, in one synced write.
    pub fn delete_sessions(&self, ids: &[[u8; 32]]) -> Result<(), ArchiveError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.grouped(|_, s| {
            for id in ids {
                s.batch.delete(Table::Sessions, id.to_vec());
            }
            Ok(())
        })
    }
}
