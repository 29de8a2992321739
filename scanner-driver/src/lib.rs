//! Where pages come from. This crate owns the page sources that feed capture: scanners through
//! SANE ([`Sane`], [`Scanner`], [`ScannedPage`]), hot folders that network scanners write to
//! ([`HotFolder`]), and the import of files: PNG, JPEG, multi-page TIFF (CCITT Group 4 included) and
//! scanned PDF ([`FileImporter`], [`PendingPage`]). Scanners deliver through a [`PageStream`], a
//! bounded channel from a thread of its own, so a slow consumer holds the scanner back instead of
//! filling memory, and a batch can be cancelled. Every page ends up as a [`RawPage`]: the faithful
//! original bytes plus decoded pixels and resolution.
//!
//! A source never alters what the scanner or file delivered beyond what is lossless: originals are
//! kept as they came (a JPEG byte for byte) or as a lossless PNG of the same depth where a page
//! cannot be cut out of its container (TIFF, raw PDF images, scanner samples). Turning a page upright
//! is capture's decision, except for a scanner model listed in the quirks table as delivering back
//! sides upside down. This crate never runs OCR, never writes to the archive and never touches key
//! material.
#![deny(missing_docs)]

mod decode_budget;
mod error;
mod hotfolder;
mod import;
mod importer;
mod pdf;
mod quirks;
mod render;
mod sane;
mod scanned;
mod stream;
mod tiff;

// Where the unit tests find the test pages: the root's std-only test helpers, the same file every test uses.
#[cfg(test)]
#[path = "../../tests/files.rs"]
#[allow(dead_code)]
mod test_files;

pub use error::{DriverError, Fault};
pub use hotfolder::{HotEntry, HotFileId, HotFolder, HotState, Polled, Stage};
pub use import::PendingPage;
pub use importer::{FileImporter, ImportLimits};
pub use quirks::{QuirkRule, Quirks, quirks_for};
pub use sane::{ColorMode, Constraint, DeviceInfo, OptionKind, Sane, ScanOption, ScanSettings, Scanner, Source};
pub use scanned::{Samples, ScannedPage, Side};
pub use stream::{Canceller, PageStream, Sink};

use image::{GrayImage, RgbImage};
/// The encoding a page arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// PNG (lossless).
    Png,
    /// JPEG (baseline or progressive).
    Jpeg,
}

impl SourceFormat {
    /// The MIME type of the format.
    pub fn mime(self) -> &'static str {
        match self {
            SourceFormat::Png => "image/png",
            SourceFormat::Jpeg => "image/jpeg",
        }
    }
}

/// Decoded pixels of a page: 8-bit gray, or 8-bit RGB where the page is in colour (R1 keeps colour
/// where the original has it).
#[derive(Debug, Clone)]
pub enum Pixels {
    /// One 8-bit channel.
    Gray(GrayImage),
    /// Three 8-bit channels.
    Rgb(RgbImage),
}

impl Pixels {
    /// Width and height in pixels.
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            Pixels::Gray(g) => g.dimensions(),
            Pixels::Rgb(c) => c.dimensions(),
        }
    }

    /// Colour components per pixel: 1 for gray, 3 for RGB.
    pub fn components(&self) -> u8 {
        match self {
            Pixels::Gray(_) => 1,
            Pixels::Rgb(_) => 3,
        }
    }
}

/// Resolution of a page in dots per inch, and whether the file stated it or a default was assumed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dpi {
    /// Horizontal resolution.
    pub x: f32,
    /// Vertical resolution.
    pub y: f32,
    /// `true` when read from the file, `false` when the configured default was used.
    pub stated: bool,
}

/// One page as a source delivered it.
#[derive(Debug, Clone)]
pub struct RawPage {
    /// Where the page came from (a file path, later a device and sheet), for messages.
    pub origin: String,
    /// The bytes exactly as delivered; the archive keeps them as they are unless capture has to turn
    /// the page upright.
    pub original: Vec<u8>,
    /// The encoding of `original`.
    pub format: SourceFormat,
    /// Number of colour components in `original` as encoded (1 gray, 3 colour), used to embed a JPEG
    /// into a PDF as it is.
    pub components: u8,
    /// The decoded pixels.
    pub pixels: Pixels,
    /// The resolution.
    pub dpi: Dpi,
    /// The text the file carries for this page, when it can stand for the page's visible content
    /// (a born-digital PDF page); capture takes it instead of OCR. `None` for every scan.
    pub text: Option<CarriedText>,
}

/// Text a file carries for one page (a born-digital PDF page's own text), lines in the file's
/// reading order, boxes in the pixels of the page's image.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CarriedText {
    /// The lines, each its words left to right.
    pub lines: Vec<Vec<CarriedWord>>,
}

/// One word of [`CarriedText`] and its box.
#[derive(Debug, Clone, PartialEq)]
pub struct CarriedWord {
    /// The text, as the file maps its glyphs to Unicode.
    pub text: String,
    /// Left edge, pixels from the left of the page image.
    pub left: u32,
    /// Top edge, pixels from the top of the page image.
    pub top: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}
