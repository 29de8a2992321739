//! Capture's error type, naming the page at fault where one is.

use thiserror::Error;

/// Why capture failed, naming the page where one is at fault.
#[derive(Debug, Error)]
pub enum CaptureError {
    /// Capture could not be set up (missing language data or font, engine start-up).
    #[error("OCR setup: {what}")]
    Setup {
        /// What could not be done.
        what: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A page could not be read.
    #[error("page {page}: {source}")]
    Input {
        /// 1-based page number.
        page: u32,
        /// What was wrong with it.
        #[source]
        source: scanner_driver::DriverError,
    },
    /// Tesseract failed on a page, or its corrected image could not be encoded.
    #[error("OCR of page {page} ({origin}) failed: {reason}")]
    Ocr {
        /// 1-based page number.
        page: u32,
        /// Where the page came from.
        origin: String,
        /// Tesseract's explanation.
        reason: String,
    },
    /// A page's reading made elsewhere cannot be applied to its scan (see [`crate::apply_reading`]).
    #[error(transparent)]
    Reading(#[from] crate::InvalidReading),
    /// The PDF could not be assembled.
    #[error("PDF assembly failed: {0}")]
    Pdf(String),
}
