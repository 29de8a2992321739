use std::path::PathBuf;

use thiserror::Error;

/// Why a page source could not deliver a page. Every variant names the file or device.
#[derive(Debug, Error)]
pub enum DriverError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("{path}: the file is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file is not in a format sohoa imports.
    #[error("{path}: not a PNG or JPEG image ({found})")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// What the first bytes look like.
        found: String,
    },
    /// The input exceeds a configured limit; it was refused before its pixels were allocated.
    #[error("{path}: refused before decoding: {reason}")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Which limit was exceeded and by what, e.g. "width 40000 pixels exceeds the limit of 20000".
        reason: String,
    },
    /// The image data is damaged (truncated, corrupt).
    #[error("{path}: damaged {format} image: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The format it claimed to be.
        format: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
}
