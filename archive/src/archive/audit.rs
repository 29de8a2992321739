//! The audit trail: appending sealed, hash-chained entries, and reading it back checked.

use domain::AuditAction;
use std::ops::ControlFlow;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::Archive;
use crate::encoding::decode;
use crate::{ArchiveError, AuditEntry, Snapshot, Store, Table};

/// Which audit entries to list. Every field narrows; an empty query lists the whole trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Only entries about this target (a document code, a user, a hold id).
    pub target: Option<String>,
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Only entries of this action (its word in the trail: `hold`, `destroy-request`, …).
    pub action: Option<String>,
    /// Only entries at or after this time.
    pub from: Option<DateTime<FixedOffset>>,
    /// Only entries before this time.
    pub until: Option<DateTime<FixedOffset>>,
}

impl AuditQuery {
    fn matches(&self, e: &AuditEntry) -> bool {
        self.target.as_ref().is_none_or(|t| *t == e.target)
            && self.actor.as_ref().is_none_or(|a| *a == e.actor)
            && self.action.as_ref().is_none_or(|a| *a == e.action)
            && self.from.is_none_or(|f| e.at >= f)
            && self.until.is_none_or(|u| e.at < u)
    }
}

impl<S: Store> Archive<S> {
    /// Appends a sealed entry to the audit trail, durably.
    pub fn audit(
        &self,
        actor: &str,
        action: AuditAction,
        target: &str,
        detail: &str,
    ) -> Result<AuditEntry, ArchiveError> {
        self.grouped(|_, s| Ok(s.audit(actor, action, target, detail)))
    }

    /// The audit entries concerning `target` (every entry if `None`), oldest first; see
    /// [`audit_query`](Self::audit_query).
    pub fn audit_trail(&self, target: Option<&str>) -> Result<Vec<AuditEntry>, ArchiveError> {
        self.audit_query(&AuditQuery { target: target.map(str::to_owned), ..AuditQuery::default() })
    }

    /// The audit entries matching `query`, oldest first. The whole trail is checked on the way: an
    /// entry whose hash does not follow from its content and predecessor, or whose seal does not
    /// verify, is an error naming its sequence number.
    pub fn audit_query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, ArchiveError> {
        let mut entries = Vec::new();
        let mut failure = None;
        let view = self.store.snapshot();
        self.walk_audit(&*view, &mut |entry| match entry {
            Ok(entry) => {
                if query.matches(&entry) {
                    entries.push(entry);
                }
                ControlFlow::Continue(())
            }
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        })?;
        failure.map_or(Ok(entries), Err)
    }

    /// Visits the audit trail as of `view` in order, each entry checked against the chain and its seal.
    pub(crate) fn walk_audit(
        &self,
        view: &dyn Snapshot,
        visit: &mut dyn FnMut(Result<AuditEntry, ArchiveError>) -> ControlFlow<()>,
    ) -> Result<(), ArchiveError> {
        let mut prev = [0u8; 32];
        let mut expected_seq = 1;
        view.scan(Table::Audit, &[], &[], &mut |k, v| {
            let broken = |seq: u64, reason: String| {
                Err(ArchiveError::Corrupt { what: "audit entry", key: seq.to_string(), reason })
            };
            let entry: AuditEntry = match decode("audit entry", k, v) {
                Ok(e) => e,
                Err(e) => return visit(Err(e)),
            };
            let checked = if entry.seq != expected_seq {
                broken(expected_seq, format!("is missing: the trail goes on at {}", entry.seq))
            } else if entry.prev != prev || entry.chain_hash() != entry.hash {
                broken(entry.seq, "breaks the hash chain (rewritten, removed or reordered entries)".into())
            } else if entry.seal.text != AuditEntry::seal_text(entry.seq, &entry.hash) {
                broken(entry.seq, "its seal covers another entry".into())
            } else if let Err(reason) = self.sealer.check(&entry.seal) {
                broken(entry.seq, format!("seal: {reason}"))
            } else {
                Ok(entry)
            };
            if let Ok(e) = &checked {
                prev = e.hash;
                expected_seq = e.seq + 1;
            }
            visit(checked)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::open;
    use crate::encoding::{decode, encode};
    use crate::{AuditEntry, Batch, Store, Table};

    #[test]
    fn a_rewritten_audit_entry_breaks_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        for action in [domain::AuditAction::Login, domain::AuditAction::Download, domain::AuditAction::View] {
            archive.audit("officer", action, "x", "").unwrap();
        }
        let mut entry: AuditEntry =
            decode("audit entry", b"", &archive.store.get(Table::Audit, &2u64.to_be_bytes()).unwrap().unwrap())
                .unwrap();
        entry.actor = "someone else".into();
        let mut batch = Batch::default();
        batch.put(Table::Audit, 2u64.to_be_bytes().to_vec(), encode(&entry));
        archive.store.apply(batch).unwrap();
        let e = archive.audit_trail(None).unwrap_err().to_string();
        assert!(e.contains("audit entry 2") && e.contains("hash chain"), "{e}");
    }
}
