//! The driver's error type, naming the file or device, and whose fault each error is ([`Fault`]).

use std::path::PathBuf;

use thiserror::Error;

/// Why a page source could not deliver a page. Every variant names the file or device.
#[derive(Debug, Error)]
pub enum DriverError {
    /// The file could not be read (an I/O error; see [`DriverError::fault`] for whether it passes).
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
    /// The PDF renderer (Poppler) could not be run, or its output not read: a fault of the machine
    /// (Poppler missing, no room for its files), not of the file.
    #[error("{path}: the PDF renderer failed: {what}")]
    Renderer {
        /// The file.
        path: PathBuf,
        /// What failed.
        what: String,
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
    /// The scanner or its connection reported an I/O error: a passing fault (cable, power, a
    /// reset), not one of the paper.
    #[error("{device}: input/output error while trying to {operation}; check the cable and power, then scan again")]
    DeviceIo {
        /// The device.
        device: String,
        /// What was being done.
        operation: &'static str,
    },
    /// The scanner's backend ran out of memory.
    #[error("{device}: out of memory while trying to {operation}; try again, or with a lower resolution")]
    NoMemory {
        /// The device.
        device: String,
        /// What was being done.
        operation: &'static str,
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

/// Whose fault an error is, which decides what to do about it: a file at fault is refused once and
/// for all, a passing fault is tried again later, the others go back to the person who asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The file or page itself: empty, of an unsupported format, damaged, too large, below the
    /// required resolution, or not a regular file. Trying again gives the same answer.
    Input,
    /// The request: no such device, an option or value the device refuses, a malformed id.
    Request,
    /// The scanner needs a person: jammed, cover open, feeder empty, or the scan was cancelled.
    Device,
    /// A passing fault of the machine: an I/O error of the disk or the scanner, a busy device, no
    /// memory or other resources. Trying again later may succeed.
    Transient,
}

impl DriverError {
    /// Whose fault this error is (see [`Fault`]).
    pub fn fault(&self) -> Fault {
        match self {
            DriverError::Empty { .. }
            | DriverError::UnsupportedFormat { .. }
            | DriverError::TooLarge { .. }
            | DriverError::Corrupt { .. }
            | DriverError::LowResolution { .. } => Fault::Input,
            DriverError::Read { source, .. } | DriverError::HotFolder { source, .. } => io_fault(source),
            DriverError::NoDevice { .. }
            | DriverError::Option { .. }
            | DriverError::Sane { .. }
            | DriverError::HotFileId { .. } => Fault::Request,
            DriverError::Jammed { .. }
            | DriverError::CoverOpen { .. }
            | DriverError::FeederEmpty { .. }
            | DriverError::Cancelled { .. } => Fault::Device,
            DriverError::Busy { .. }
            | DriverError::DeviceIo { .. }
            | DriverError::NoMemory { .. }
            | DriverError::Renderer { .. } => Fault::Transient,
        }
    }

    /// Whether the error says the file asked for is not there (a file already taken or removed).
    pub fn is_not_found(&self) -> bool {
        matches!(self, DriverError::Read { source, .. } | DriverError::HotFolder { source, .. }
            if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Whose fault an I/O error is. The hot folder reports a fault of the entry itself (a link, not a
/// regular file, too large, changed while read) as `InvalidInput`, and data that cannot be what it
/// claims is `InvalidData`; every other I/O error (permissions, a full or failing disk, too many
/// open files, no memory) is a state of the machine that may pass.
fn io_fault(e: &std::io::Error) -> Fault {
    match e.kind() {
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData | std::io::ErrorKind::FileTooLarge => {
            Fault::Input
        }
        _ => Fault::Transient,
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};
    use std::path::PathBuf;

    use super::*;

    fn hot(kind: ErrorKind) -> DriverError {
        DriverError::HotFolder { path: PathBuf::from("processing/x"), source: Error::new(kind, "test") }
    }

    #[test]
    fn passing_faults_of_the_machine_are_told_apart_from_faults_of_the_file() {
        for kind in [ErrorKind::PermissionDenied, ErrorKind::Interrupted, ErrorKind::OutOfMemory, ErrorKind::Other] {
            assert_eq!(hot(kind).fault(), Fault::Transient, "{kind:?}");
        }
        let read = DriverError::Read { path: "a.png".into(), source: Error::from_raw_os_error(5) };
        assert_eq!(read.fault(), Fault::Transient, "EIO");
        assert_eq!(hot(ErrorKind::InvalidInput).fault(), Fault::Input);
        let corrupt = DriverError::Corrupt { path: "a.png".into(), format: "PNG", reason: "truncated".into() };
        assert_eq!(corrupt.fault(), Fault::Input);
        assert_eq!(DriverError::Busy { device: "test:0".into() }.fault(), Fault::Transient);
        assert_eq!(DriverError::DeviceIo { device: "test:0".into(), operation: "read" }.fault(), Fault::Transient);
        assert_eq!(DriverError::Jammed { device: "test:0".into(), sheet: 2 }.fault(), Fault::Device);
        assert!(hot(ErrorKind::NotFound).is_not_found());
    }
}
