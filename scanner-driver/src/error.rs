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
    #[error("{path}: not a PNG, JPEG, TIFF or PDF file ({found})")]
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
    /// A page of a PDF is not a scanned image and cannot be taken as one.
    #[error("{path}: page {page}: {reason}")]
    NotScanned {
        /// The file.
        path: PathBuf,
        /// The page, from 1.
        page: usize,
        /// What the page holds instead of one image.
        reason: String,
    },
    /// No scanner of that name.
    #[error("no scanner named {name:?}{}", if known.is_empty() { " (SANE sees no scanner)".to_owned() } else { format!(" (SANE sees: {})", known.join(", ")) })]
    NoDevice {
        /// The name asked for.
        name: String,
        /// The names SANE offers.
        known: Vec<String>,
    },
    /// An option could not be set.
    #[error("{device}: option {option}: {reason}")]
    Option {
        /// The scanner.
        device: String,
        /// The option's SANE name.
        option: String,
        /// Why not, with the values allowed.
        reason: String,
    },
    /// Paper jammed; the sheets before it were delivered.
    #[error(
        "{device}: paper jammed at sheet {sheet}; the sheets before it were kept; clear the jam and rescan from sheet {sheet}"
    )]
    Jammed {
        /// The scanner.
        device: String,
        /// The sheet that jammed, from 1.
        sheet: u32,
    },
    /// The scanner's cover is open.
    #[error("{device}: the cover is open; close it and scan again")]
    CoverOpen {
        /// The scanner.
        device: String,
    },
    /// Another program is using the scanner.
    #[error("{device}: the scanner is busy (in use by another program or scan)")]
    Busy {
        /// The scanner.
        device: String,
    },
    /// The feeder had no paper when the batch started.
    #[error("{device}: the document feeder is empty")]
    FeederEmpty {
        /// The scanner.
        device: String,
    },
    /// The batch was cancelled; the pages before were delivered.
    #[error("{device}: cancelled after {pages} pages")]
    Cancelled {
        /// The scanner.
        device: String,
        /// Pages delivered before the cancellation.
        pages: u32,
    },
    /// Any other SANE failure, with SANE's own words.
    #[error("{device}: cannot {operation}: {reason}")]
    Sane {
        /// The scanner.
        device: String,
        /// What was being done.
        operation: &'static str,
        /// SANE's explanation.
        reason: String,
    },
    /// A hot folder could not be read or a file in it moved.
    #[error("hot folder {path}: {source}")]
    HotFolder {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A hot-folder file was named by something that is not an id the appliance makes.
    #[error("{given:?} is not a hot-folder file id (64 hexadecimal digits)")]
    HotFileId {
        /// What was given (cut to 80 characters).
        given: String,
    },
    /// A page is below the required resolution and the appliance is set to refuse such pages.
    #[error("{origin}: {dpi:.0} dpi is below the required {min:.0} dpi; scan it again at {min:.0} dpi or more")]
    LowResolution {
        /// The file and page.
        origin: String,
        /// The page's resolution.
        dpi: f32,
        /// The minimum.
        min: f32,
    },
}
