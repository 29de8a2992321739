//! The [`Archive`]: the operations over a [`Store`], one concern per module. [`writer`] is the one
//! writer every change goes through (grouped or exclusive); [`captured`] holds documents captured and
//! waiting to be read (the reading queue); [`commit`] archives documents;
//! [`documents`] and [`keys`] read records, blobs, events and secondary keys; [`cursors`] keeps where
//! each follower of the events outside the archive (replication) stands; [`counters`] hands out
//! dossier numbers and reserves document codes; [`audit`] is the sealed, chained trail; [`users`]
//! the accounts; [`sessions`] the logged-in sessions and access tokens; [`proofs`] the log's checkpoints and proofs; [`lifecycle`] revocation, holds and
//! destruction; [`fixity`] the full check; [`backup`] online backup and verified restore.

mod audit;
mod backup;
mod captured;
mod commit;
mod counters;
mod cursors;
mod documents;
mod fixity;
mod keys;
mod lifecycle;
mod proofs;
mod sessions;
#[cfg(test)]
pub(crate) mod test_support;
mod users;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use audit::AuditQuery;
pub use counters::CodeReservation;
pub use fixity::{FixityProblem, FixityReport, ProblemKind};
pub use lifecycle::{DestructionReport, Review};
pub(crate) use writer::Staged;
use writer::Writer;

use crate::{ArchiveError, RetentionSchedule, RocksStore, Sealer, Store};

/// What an archive is opened with besides its store.
#[derive(Clone)]
pub struct ArchiveOptions {
    /// Seals audit entries, checkpoints and destruction reports; checks every seal on fixity.
    pub sealer: Arc<dyn Sealer>,
    /// The retention schedule (validated at open).
    pub schedule: RetentionSchedule,
    /// The archive log's origin line, e.g. `sohoa/<unit>`.
    pub origin: String,
}

/// The archive's operations over a [`Store`].
///
/// Writes go through one writer. Commits and audit entries are *grouped*: each caller prepares its
/// changes under the writer lock (taking its sequence numbers, chaining its audit entry, appending its
/// log leaf) and joins the open group; one caller at a time applies a whole group in one synced write
/// while the others prepare the next, so that N concurrent committers pay for far fewer than N
/// fsyncs. A caller returns only once its group is on disk. Operations that read what commits change
/// (disposition, holds, revocation, backup) run *exclusively*: they wait until no group is open or
/// being written and hold the lock through their own write.
pub struct Archive<S: Store = RocksStore> {
    pub(crate) store: S,
    pub(crate) sealer: Arc<dyn Sealer>,
    pub(crate) schedule: RetentionSchedule,
    origin: String,
    writer: Writer,
    /// How many times disposition has removed blob files (after the batch that dropped their last
    /// reference, under the writer lock). A commit compares it before writing its blob files and
    /// when staging its batch: a change means a file it found may have gone since.
    blob_removals: AtomicU64,
}

impl Archive<RocksStore> {
    /// Opens the archive in `dir` (created if absent).
    pub fn open(dir: &Path, options: ArchiveOptions) -> Result<Self, ArchiveError> {
        Self::with_store(RocksStore::open(dir)?, options)
    }
}

impl<S: Store> Archive<S> {
    /// Wraps a store, reading where the event, audit and log sequences stand.
    pub fn with_store(store: S, options: ArchiveOptions) -> Result<Self, ArchiveError> {
        options.schedule.validate()?;
        let writer = Writer::new(writer::read_state(&store)?);
        Ok(Archive {
            store,
            sealer: options.sealer,
            schedule: options.schedule,
            origin: options.origin,
            writer,
            blob_removals: AtomicU64::new(0),
        })
    }

    /// The retention schedule.
    pub fn schedule(&self) -> &RetentionSchedule {
        &self.schedule
    }

    /// Runs `prepare` under the writer lock and writes what it staged as part of a group (see
    /// [`Archive`]). Returns once the group is durable.
    pub(crate) fn grouped<T>(
        &self,
        prepare: impl FnOnce(&Self, &mut Staged<'_>) -> Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        self.writer.grouped(&self.store, &*self.sealer, |staged| prepare(self, staged))
    }

    /// Runs `prepare` alone: after every group is written, holding the lock through its own write.
    pub(crate) fn exclusive<T>(
        &self,
        prepare: impl FnOnce(&Self, &mut Staged<'_>) -> Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        self.writer.exclusive(&self.store, &*self.sealer, |staged| prepare(self, staged))
    }
}
