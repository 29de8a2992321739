//! The archive: the single source of truth for everything sohoa keeps. It owns the RocksDB database
//! and, in it, content-addressed blobs (page images and PDFs keyed by BLAKE3, each stored once and
//! reference-counted), document records (R3 metadata, page hashes, OCR text, the seal, the status),
//! secondary keys, the atomic per-unit daily dossier counters, the event sequence that search follows,
//! the hash-chained audit trail and the user accounts.
//!
//! Main types: [`Archive`] (the operations, each one atomic), [`Store`] (the storage contract it is
//! written against, with [`RocksStore`] the implementation), [`DocumentRecord`], [`NewDocument`],
//! [`AuditEntry`], [`Event`].
//!
//! A document is committed in one synced write batch: when [`Archive::commit`] returns, every blob,
//! the record, its keys, its event and its audit entry are on disk together, or none of them is. Reads
//! of content verify its hash. The archive never decodes images, never parses PDFs and never holds
//! key material: it stores the seal it is given and leaves checking it to the signer.
#![deny(missing_docs)]

mod archive;
mod error;
mod records;
mod store;

pub use archive::Archive;
pub use error::ArchiveError;
pub use records::{AuditEntry, DocumentRecord, DocumentStatus, Event, NewDocument, PageRecord, SealRecord, UserRecord};
pub use store::{Batch, RocksStore, Store, Table};
