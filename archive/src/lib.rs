//! The archive: the single source of truth for everything sohoa keeps. It owns the RocksDB database
//! and, in it and beside it (large ones as files of their own), content-addressed blobs (page images
//! and PDFs keyed by BLAKE3, each stored once and reference-counted), document records (R3 metadata, page hashes, OCR text, the seal, the status),
//! secondary keys, the atomic per-unit daily dossier counters, the event sequence that search and
//! replication follow (replication from a durable cursor of its own),
//! the hash-chained audit trail and the user accounts.
//!
//! Main types: [`Archive`] (the operations, each one atomic), [`Store`] (the storage contract it is
//! written against, with [`RocksStore`] the implementation), [`DocumentRecord`] with its
//! [`Lifecycle`], [`NewDocument`], [`AuditEntry`] and [`AuditQuery`], [`Event`]; the archive log's
//! [`Checkpoint`], [`InclusionProof`] and [`ConsistencyProof`] (RFC 9162 hashing, in [`merkle`]);
//! the [`RetentionSchedule`]; [`Hold`]s; [`FixityReport`]; the [`Sealer`] it is handed.
//!
//! A document is committed in one synced write batch: when [`Archive::commit`] returns, every blob,
//! the record, its keys, its event and its audit entry are on disk together, or none of them is. Reads
//! of content verify its hash. The archive never decodes images, never parses PDFs and never holds
//! key material: it asks the [`Sealer`] it is given to seal its own texts (audit entries, checkpoints,
//! destruction reports) and to check seals. It never deletes anything on its own: destruction is a
//! two-person step under a council decision.
#![deny(missing_docs)]

mod archive;
mod blob_files;
mod encoding;
mod error;
mod log;
mod log_tree;
pub mod merkle;
mod records;
mod retention;
mod sealer;
mod spool;
mod store;

pub use archive::{
    Archive, ArchiveOptions, AuditQuery, CodeReservation, DestructionReport, FixityProblem, FixityReport, ProblemKind,
    Review,
};
pub use error::ArchiveError;
pub use log::{Checkpoint, ConsistencyProof, InclusionProof, LeafKind, LogLeaf};
pub use records::{
    AuditEntry, CapturedDocument, CapturedPage, Content, CouncilDecision, Destruction, Disposition, DocumentRecord,
    DocumentStatus, Event, Hold, HoldScope, Lifecycle, NewCapture, NewDocument, OriginalFile, PageRecord, Revocation,
    SealRecord, SessionRecord, UserRecord,
};
pub use retention::{ClockStart, RetentionClass, RetentionPeriod, RetentionSchedule};
pub use sealer::Sealer;
pub use spool::{SpoolFile, Spooled, WrittenReader};
pub use store::{Batch, KeyValue, RocksStore, Snapshot, Store, Table, Visit};
