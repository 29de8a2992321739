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

    /// The latest checkpoint of a smaller log than `size`, if any: the one a checkpoint of `size`
    /// is proved consistent with when it is published.
    pub fn checkpoint_before(&self, size: u64) -> Result<Option<Checkpoint>, ArchiveError> {
        // Checkpoint keys are 16 bytes, size first: every key of a smaller size sorts before the
        // 8 bytes of `size`, and every key of `size` or more after them.
        self.store
            .last_before(Table::Checkpoints, &size.to_be_bytes())?
            .map(|(k, v)| decode("checkpoint", &k, &v))
            .transpose()
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
        self.prove_consistency_between(older, newer)
    }

    /// Proves that the log at checkpoint `older` is a prefix of the log at checkpoint `newer`, two
    /// checkpoints of this log with `older` the smaller. Reads O(log n) stored values.
    pub fn prove_consistency_between(
        &self,
        older: Checkpoint,
        newer: Checkpoint,
    ) -> Result<ConsistencyProof, ArchiveError> {
        if older.size > newer.size {
            return Err(ArchiveError::Log(format!(
                "no consistency proof from checkpoint {} back to the smaller {}",
                older.size, newer.size
            )));
        }
        let path = merkle::consistency_path(older.size, newer.size, |s| self.node(s, newer.size))?;
        Ok(ConsistencyProof { path, from: older, to: newer })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{new_document, open, reserve};
    use domain::AuditAction;

    use crate::Checkpoint;

    #[test]
    fn each_checkpoint_is_proved_consistent_with_the_latest_of_a_smaller_log() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        let mut made = Vec::new();
        for i in 0..3u8 {
            let reservation = reserve(&archive);
            archive.commit(new_document(&reservation, &[&[i; 40]])).unwrap();
            made.push(archive.checkpoint().unwrap());
            // A checkpoint of the same log size, after the audit trail moved on.
            archive.audit("test", AuditAction::View, "x", "").unwrap();
            made.push(archive.checkpoint().unwrap());
        }
        assert_eq!(made.iter().map(|c| c.size).collect::<Vec<_>>(), [1, 1, 2, 2, 3, 3]);
        assert_eq!(archive.checkpoint_before(1).unwrap(), None);
        // The latest checkpoint of the smaller log: the second of size 1, not the first.
        assert_eq!(archive.checkpoint_before(2).unwrap().as_ref(), Some(&made[1]));
        assert_eq!(archive.checkpoint_before(3).unwrap().as_ref(), Some(&made[3]));
        assert_eq!(archive.checkpoint_before(40).unwrap().as_ref(), Some(&made[5]));
        let proof = archive.prove_consistency_between(made[1].clone(), made[4].clone()).unwrap();
        assert!(proof.verifies());
        let mut forged = made[4].clone();
        forged.root[0] ^= 1;
        assert!(!archive.prove_consistency_between(made[1].clone(), forged).unwrap().verifies());
        assert!(archive.prove_consistency_between(made[4].clone(), made[1].clone()).is_err());
    }

    #[test]
    fn a_checkpoint_reads_back_from_its_note_and_only_from_its_canonical_form() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        let reservation = reserve(&archive);
        archive.commit(new_document(&reservation, &[b"page"])).unwrap();
        let checkpoint = archive.checkpoint().unwrap();
        let note = checkpoint.to_note();
        assert_eq!(Checkpoint::from_note(&note).unwrap(), checkpoint);
        let size = checkpoint.size.to_string();
        for (altered, why) in [
            (note.replacen(&format!("\n{size}\n"), &format!("\n0{size}\n"), 1), "canonical"),
            (format!("{note}— other AAAA\n"), "signature"),
            (note.replacen("\n\n— ", "\n— ", 1), "no signature line"),
            (note.replacen("audit ", "audit x", 1), "audit entry"),
            (note.trim_end().to_owned(), "does not end"),
        ] {
            let error = Checkpoint::from_note(&altered).unwrap_err();
            assert!(error.contains(why), "{why}: {error}");
        }
    }
}
