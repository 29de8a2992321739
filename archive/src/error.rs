//! The archive's one error type, naming the table, key or path concerned.

use std::path::PathBuf;

use domain::{BlobHash, DocumentCode};
use thiserror::Error;

/// Why an archive operation failed. Nothing was written when one is returned.
#[derive(Debug, Error)]
pub enum ArchiveError {
    /// Another process has the database open.
    #[error("the archive at {path} is in use by another sohoa process (is `sohoa serve` running?)")]
    InUse {
        /// The database directory.
        path: PathBuf,
    },
    /// RocksDB reported an error.
    #[error("storage error ({context}): {message}")]
    Storage {
        /// What the archive was doing.
        context: String,
        /// RocksDB's message.
        message: String,
    },
    /// A stored value could not be decoded: the database is damaged or from an incompatible version.
    #[error("stored {what} {key} is unreadable: {reason}")]
    Corrupt {
        /// Which kind of value.
        what: &'static str,
        /// Its key, printable.
        key: String,
        /// The decoder's message.
        reason: String,
    },
    /// A blob is missing although a record refers to it.
    #[error("blob {0} is missing from the archive")]
    MissingBlob(BlobHash),
    /// A blob's bytes no longer hash to their address.
    #[error("blob {expected} is altered: its content now hashes to {actual}")]
    AlteredBlob {
        /// The address (the hash it was stored under).
        expected: BlobHash,
        /// The hash of what is there now.
        actual: BlobHash,
    },
    /// The file of a blob could not be read.
    #[error("reading the file of blob {hash}: {source}")]
    BlobFile {
        /// The blob.
        hash: BlobHash,
        /// The error.
        source: std::io::Error,
    },
    /// A document with this code is already archived.
    #[error("document {0} is already archived")]
    DuplicateDocument(DocumentCode),
    /// The content handed to commit does not match the hash it was declared with.
    #[error("content declared as {declared} hashes to {actual}")]
    HashMismatch {
        /// What the caller said.
        declared: BlobHash,
        /// What it is.
        actual: BlobHash,
    },
    /// A counter ran out of numbers.
    #[error("no {what} numbers left for {scope} (the last one, {max}, is used)")]
    CounterExhausted {
        /// Which counter.
        what: &'static str,
        /// For which unit and day, or owner and type.
        scope: String,
        /// The largest number.
        max: u32,
    },
    /// There is no document with this code.
    #[error("there is no archived document {0}")]
    UnknownDocument(DocumentCode),
    /// A lifecycle step is not allowed for this document now.
    #[error("document {code}: refused because {reason}")]
    Refused {
        /// The document.
        code: DocumentCode,
        /// Why.
        reason: String,
    },
    /// A retention, hold or disposition request is malformed.
    #[error("{0}")]
    Retention(String),
    /// The archive log cannot answer.
    #[error("archive log: {0}")]
    Log(String),
    /// A follower of the event sequence asked to move its position back.
    #[error("follower {follower} cannot go back from event {from} to event {to}")]
    CursorBackwards {
        /// The follower.
        follower: String,
        /// Its position.
        from: u64,
        /// The position asked for.
        to: u64,
    },
    /// A restored archive did not pass fixity; nothing was kept.
    #[error("the backup in {path} did not verify: {}", problems.join("; "))]
    RestoreFailed {
        /// The backup.
        path: PathBuf,
        /// What fixity found.
        problems: Vec<String>,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A code could not be formed.
    #[error(transparent)]
    Domain(#[from] domain::DomainError),
}

impl ArchiveError {
    pub(crate) fn storage(context: impl Into<String>, e: rocksdb::Error) -> Self {
        ArchiveError::Storage { context: context.into(), message: e.into_string() }
    }
}
