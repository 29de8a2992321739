//! Checkpoints of the archive log and the proofs read from its stored tree: inclusion of a
//! document's latest leaf, consistency between two checkpoints.

use std::ops::ControlFlow;

use domain::{DocumentCode, vietnam_now};

use super::Archive;
use crate::encoding::{decode, decode_all, encode};
use crate::log::{Checkpoint, ConsistencyProof, InclusionProof, LogLeaf};
use crate::log_tree::{node_key, node_name, node_value};
use crate::merkle::{self, Hash, Subtree};
use crate::{ArchiveError, Event, Store, Table};

impl<S: Store> Archive<S> {
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
            s.event(&Event::Checkpointed { size, audit_seq });
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

    /// The checkpoint stored at log size `size` and audit entry `audit_seq` (as an
    /// [`Event::Checkpointed`] names it), if there is one.
    pub fn checkpoint_at(&self, size: u64, audit_seq: u64) -> Result<Option<Checkpoint>, ArchiveError> {
        let key = checkpoint_key(size, audit_seq);
        self.store.get(Table::Checkpoints, &key)?.map(|v| decode("checkpoint", &key, &v)).transpose()
    }

    /// Every checkpoint, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, ArchiveError> {
        decode_all(&self.store, Table::Checkpoints, "checkpoint")
    }
}

/// The key of a checkpoint: log size, then audit sequence, both big-endian, so the last key is the
/// latest checkpoint.
fn checkpoint_key(size: u64, audit_seq: u64) -> Vec<u8> {
    [size.to_be_bytes(), audit_seq.to_be_bytes()].concat()
}

impl<S: Store> Archive<S> {
    /// The index of the latest log leaf about `code` (the one of its current status), if any.
    fn latest_leaf(&self, code: &DocumentCode) -> Result<Option<u64>, ArchiveError> {
        let key = code.to_string();
        let Some(value) = self.store.get(Table::LogIndex, key.as_bytes())? else { return Ok(None) };
        let bytes: [u8; 8] = value.as_slice().try_into().map_err(|_| ArchiveError::Corrupt {
            what: "log index entry",
            key,
            reason: format!("{} bytes instead of an 8-byte leaf index", value.len()),
        })?;
        Ok(Some(u64::from_be_bytes(bytes)))
    }

    /// A stored subtree hash, which every checkpoint at or beyond its last leaf relies on.
    fn node(&self, subtree: Subtree, checkpoint: u64) -> Result<Hash, ArchiveError> {
        match self.store.get(Table::LogNodes, &node_key(subtree))? {
            Some(value) => node_value(subtree, &value),
            None => Err(ArchiveError::Log(format!(
                "{} is not stored, but checkpoint {checkpoint} covers it: the log is truncated or damaged (run fixity)",
                node_name(subtree)
            ))),
        }
    }

    /// Proves that the latest leaf about `code` (the one of its current status) is in the log as of
    /// the latest checkpoint (one is made if the leaf is newer). Reads O(log n) stored values.
    pub fn prove(&self, code: &DocumentCode) -> Result<InclusionProof, ArchiveError> {
        let index =
            self.latest_leaf(code)?.ok_or_else(|| ArchiveError::Log(format!("no log leaf names document {code}")))?;
        let checkpoint = match self.latest_checkpoint()? {
            Some(c) if c.size > index => c,
            _ => self.checkpoint()?,
        };
        let leaf = self.store.get(Table::LogLeaves, &index.to_be_bytes())?.ok_or_else(|| {
            ArchiveError::Log(format!(
                "log leaf {index} of document {code} is missing, though checkpoint {} covers it",
                checkpoint.size
            ))
        })?;
        let leaf = String::from_utf8_lossy(&leaf).into_owned();
        // The index is derived data: a damaged entry must not make another document's leaf pass
        // for this one's.
        let wanted = code.to_string();
        if LogLeaf::document_of(&leaf).is_none_or(|(_, named)| named != wanted) {
            return Err(ArchiveError::Log(format!(
                "the log index points document {code} at leaf {index}, which is not about it (run fixity)"
            )));
        }
        let path = merkle::inclusion_path(index, checkpoint.size, |s| self.node(s, checkpoint.size))?;
        Ok(InclusionProof { index, leaf, path, checkpoint })
    }

    /// Proves that the log at the checkpoint of size `from` is a prefix of the log at the latest
    /// checkpoint. Reads O(log n) stored values.
    pub fn prove_consistency(&self, from: u64) -> Result<ConsistencyProof, ArchiveError> {
        // Checkpoints are keyed by size, then audit sequence: the first under this size's prefix is
        // the first checkpoint of that size.
        let mut older = None;
        self.store.scan(Table::Checkpoints, &from.to_be_bytes(), &[], &mut |k, v| {
            older = Some(decode::<Checkpoint>("checkpoint", k, v));
            ControlFlow::Break(())
        })?;
        let older = older.transpose()?.ok_or_else(|| ArchiveError::Log(format!("no checkpoint of size {from}")))?;
        let newer = self
            .latest_checkpoint()?
            .ok_or_else(|| ArchiveError::Log("no checkpoint stored although one was read".into()))?;
        let path = merkle::consistency_path(from, newer.size, |s| self.node(s, newer.size))?;
        Ok(ConsistencyProof { path, from: older, to: newer })
    }
}
