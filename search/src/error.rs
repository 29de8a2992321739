//! Why the search index could not be opened, updated or searched.

use std::path::PathBuf;

use thiserror::Error;

/// Why the index could not be opened, updated or searched.
#[derive(Debug, Error)]
pub enum SearchError {
    /// tantivy reported an error.
    #[error("search index {path}: {source}")]
    Index {
        /// The index directory.
        path: PathBuf,
        /// tantivy's error.
        source: tantivy::TantivyError,
    },
    /// The index directory could not be created.
    #[error("search index {path}: {source}")]
    Io {
        /// The index directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The index holds a status no [`IndexStatus`](crate::IndexStatus) has: it was written by
    /// another version or damaged, and is rebuilt from the archive by reindexing.
    #[error("search index {path}: unknown status {status:?}; rebuild it with `sohoa reindex`")]
    UnknownStatus {
        /// The index directory.
        path: PathBuf,
        /// The status found.
        status: String,
    },
    /// The writer could not be reopened after waiting for merges; nothing can be indexed until the
    /// index is opened again.
    #[error("the search index writer was not reopened after merging; restart the appliance")]
    WriterGone,
}
