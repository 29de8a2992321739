//! The scanning station's staging store: each operator's batch, the pages scanned or uploaded but
//! not sealed yet, in the operator's order, each with its rotation, its reading stage and its flags.
//!
//! Batches are kept in memory, within fixed bounds, rather than on disk: a batch is a counter's
//! working set for a few minutes, nothing in it is a record until it is sealed (the seal's ingest is
//! what the archive keeps), and the sheets are still on the counter if the appliance restarts, so a
//! restart costs a rescan and no more. On disk it would need a directory that the appliance sweeps
//! of abandoned batches, and a crash-safe layout, for no gain in what the law asks. The bounds keep
//! memory fixed whatever operators do: [`MAX_BATCHES`] open batches (one per operator), each at
//! most [`MAX_PAGES`] pages and [`MAX_BATCH_BYTES`] of page files, every page also within the
//! importer's own limit for one file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use capture::PageFlag;
use image::DynamicImage;
use scanner_driver::{Dpi, RawPage};
use tokio::sync::broadcast;

use super::super::AppError;
use crate::ApplianceError;

/// Open batches at once, one per operator: a one-stop centre has a handful of counters.
pub const MAX_BATCHES: usize = 8;
/// Pages in one batch: a thick dossier, well beyond the feeder's 50 or 100 sheets.
pub const MAX_PAGES: usize = 200;
/// Bytes of page files in one batch (a grey A4 page at 300 dpi is 1 to 4 MB as PNG), so that
/// [`MAX_BATCHES`] full batches stay within 2 GiB.
pub const MAX_BATCH_BYTES: usize = 256 << 20;
/// The longest side of a thumbnail, in pixels.
const THUMB_SIDE: u32 = 240;

/// Where a staged page came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A sheet from the scanner.
    Scanner,
    /// A page of an uploaded file.
    Upload,
}

/// Where a staged page is on its way to being read.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Delivered, waiting to be read.
    Scanned,
    /// Being read (capture's pipeline and OCR).
    Reading,
    /// Read, nothing to review.
    Done,
    /// Read, with reasons for the operator to look at it.
    Flagged(Vec<PageFlag>),
    /// Could not be read; the message says why (the seal would refuse it too).
    Failed(String),
}

/// One page of a batch.
#[derive(Debug, Clone)]
pub struct StagedPage {
    /// The page's number in the store, unique for the life of the process.
    pub id: u64,
    /// Where it came from, for people: `test:0 sheet 3 front`, `hop-dong.pdf page 2`.
    pub origin: String,
    /// Scanner or upload.
    pub source: Source,
    /// The page file as delivered: the scanner's lossless PNG, or one page of an upload.
    pub bytes: Arc<Vec<u8>>,
    /// Its resolution, kept when a turned page is encoded again.
    pub dpi: Dpi,
    /// A small picture of the page as delivered (not turned).
    pub thumb: Arc<DynamicImage>,
    /// Quarter turns clockwise chosen by the operator, in degrees: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Its reading stage.
    pub stage: Stage,
}

impl StagedPage {
    /// A page as delivered by the scanner or split from an upload.
    pub fn new(id: u64, source: Source, raw: RawPage) -> Self {
        let thumb = match raw.pixels {
            scanner_driver::Pixels::Gray(g) => DynamicImage::ImageLuma8(g),
            scanner_driver::Pixels::Rgb(c) => DynamicImage::ImageRgb8(c),
        }
        .thumbnail(THUMB_SIDE, THUMB_SIDE);
        StagedPage {
            id,
            origin: raw.origin,
            source,
            bytes: Arc::new(raw.original),
            dpi: raw.dpi,
            thumb: Arc::new(thumb),
            rotation: 0,
            stage: Stage::Scanned,
        }
    }
}

impl StagedPage {
    /// The page file to seal: as delivered when the operator did not turn it; else its pixels turned
    /// and encoded as a lossless PNG with the page's resolution (turning a JPEG this way costs size,
    /// not quality).
    pub fn file(&self) -> Result<Vec<u8>, ApplianceError> {
        if self.rotation == 0 {
            return Ok(self.bytes.to_vec());
        }
        let image = image::load_from_memory(&self.bytes)
            .map_err(|e| ApplianceError::Input(format!("{}: cannot turn the page: {e}", self.origin)))?;
        let image = turn(&image, self.rotation);
        let (x, y) = if self.rotation % 180 == 90 { (self.dpi.y, self.dpi.x) } else { (self.dpi.x, self.dpi.y) };
        let (color, samples) = if image.color().has_color() {
            (png::ColorType::Rgb, image.to_rgb8().into_raw())
        } else {
            (png::ColorType::Grayscale, image.to_luma8().into_raw())
        };
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, image.width(), image.height());
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        if self.dpi.stated {
            let per_metre = |dpi: f32| (dpi / 0.0254).round() as u32;
            encoder.set_pixel_dims(Some(png::PixelDimensions {
                xppu: per_metre(x),
                yppu: per_metre(y),
                unit: png::Unit::Meter,
            }));
        }
        let encoded = encoder.write_header().and_then(|mut w| {
            w.write_image_data(&samples)?;
            w.finish()
        });
        encoded.map_err(|e| ApplianceError::Input(format!("{}: cannot encode the turned page: {e}", self.origin)))?;
        Ok(out)
    }

    /// The thumbnail turned as the operator chose, as PNG.
    pub fn thumb_png(&self) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        turn(&self.thumb, self.rotation)
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("a small image encodes as PNG in memory");
        out.into_inner()
    }
}

/// An image turned clockwise by 0, 90, 180 or 270 degrees.
fn turn(image: &DynamicImage, degrees: u16) -> DynamicImage {
    match degrees {
        90 => image.rotate90(),
        180 => image.rotate180(),
        270 => image.rotate270(),
        _ => image.clone(),
    }
}

/// A problem that ended a scan early, as the device reported it.
#[derive(Debug, Clone)]
pub enum Problem {
    /// Paper jammed at this sheet.
    Jammed(u32),
    /// The feeder had no paper.
    FeederEmpty,
    /// The cover is open.
    CoverOpen,
    /// Another program or scan uses the scanner.
    Busy,
    /// Anything else (a setting the device refuses, a lost connection).
    Other,
}

/// What the scanner is doing for this batch.
#[derive(Debug, Clone, Default)]
pub enum Scanning {
    /// Nothing has been scanned yet.
    #[default]
    Idle,
    /// A scan is running on this device.
    Running(String),
    /// The last scan ended with `pages` pages delivered, and the device's message when it ended early.
    Ended {
        /// Pages that scan delivered.
        pages: usize,
        /// What ended it early, and the device's own message.
        problem: Option<(Problem, String)>,
    },
}

/// What changed in a batch, for the screens that follow it live.
#[derive(Debug, Clone, Copy)]
pub struct Changed;

/// One operator's batch.
#[derive(Debug)]
pub struct Batch {
    /// The pages, in the operator's order.
    pub pages: Vec<StagedPage>,
    /// The scanner's state.
    pub scanning: Scanning,
    /// The last scan's settings (device and form), for "continue" and "rescan this page".
    pub last_scan: Option<super::station_scan::ScanForm>,
    /// Whether a seal of this batch is under way: a second one (a double click, another tab) is
    /// refused, or the batch would be archived twice.
    pub sealing: bool,
    changes: broadcast::Sender<Changed>,
}

impl Batch {
    fn new() -> Self {
        Batch {
            pages: Vec::new(),
            scanning: Scanning::Idle,
            last_scan: None,
            sealing: false,
            changes: broadcast::channel(64).0,
        }
    }

    /// Tells the screens following this batch that it changed.
    pub fn changed(&self) {
        // No screen following is not an error.
        let _ = self.changes.send(Changed);
    }

    fn bytes(&self) -> usize {
        self.pages.iter().map(|p| p.bytes.len()).sum()
    }

    /// Whether one more page of `bytes` fits in the batch, and why not.
    pub fn room_for(&self, bytes: usize) -> Result<(), AppError> {
        if self.pages.len() >= MAX_PAGES {
            return Err(AppError::TooLarge(format!("a batch holds at most {MAX_PAGES} pages; seal this one first")));
        }
        if self.bytes() + bytes > MAX_BATCH_BYTES {
            return Err(AppError::TooLarge(format!(
                "a batch holds at most {} MiB of pages; seal this one first",
                MAX_BATCH_BYTES >> 20
            )));
        }
        Ok(())
    }

    /// The position of a page, or a 404 naming it.
    pub fn position(&self, id: u64) -> Result<usize, AppError> {
        self.pages
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| AppError::NotFound(format!("no page {id} in this batch (already deleted or sealed)")))
    }

    /// The page with this id, if it is still in the batch.
    pub fn page_mut(&mut self, id: u64) -> Option<&mut StagedPage> {
        self.pages.iter_mut().find(|p| p.id == id)
    }

    /// Whether a page is still waiting to be read or being read.
    pub fn reading(&self) -> bool {
        self.pages.iter().any(|p| matches!(p.stage, Stage::Scanned | Stage::Reading))
    }
}

/// Every open batch, by operator.
#[derive(Default)]
pub struct Batches {
    batches: Mutex<(HashMap<String, Batch>, u64)>,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Batches")
    }
}

impl Batches {
    fn lock(&self) -> MutexGuard<'_, (HashMap<String, Batch>, u64)> {
        self.batches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new page id.
    pub fn next_id(&self) -> u64 {
        let mut guard = self.lock();
        if guard.1 == 0 {
            // Ids start from the clock, so that a thumbnail a browser cached before a restart is
            // never taken for a new page of the same number.
            guard.1 = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_millis() as u64 * 1000);
        }
        guard.1 += 1;
        guard.1
    }

    /// Runs `f` on the operator's batch, opening one if there is none and there is room.
    pub fn with<T>(&self, user: &str, f: impl FnOnce(&mut Batch) -> T) -> Result<T, AppError> {
        let mut guard = self.lock();
        let batches = &mut guard.0;
        if !batches.contains_key(user) {
            if batches.len() >= MAX_BATCHES {
                // A batch with no page and no scan running holds nothing an operator would lose
                // (it was opened by a screen following it): it makes room first.
                batches.retain(|_, b| !b.pages.is_empty() || matches!(b.scanning, Scanning::Running(_)));
            }
            if batches.len() >= MAX_BATCHES {
                return Err(AppError::Saturated {
                    message: format!(
                        "{MAX_BATCHES} operators have a batch open, the most this appliance keeps; seal or discard one"
                    ),
                    retry_after: 60,
                });
            }
            batches.insert(user.to_owned(), Batch::new());
        }
        Ok(f(batches.get_mut(user).expect("inserted above")))
    }

    /// Runs `f` on the operator's batch if one is open, without opening one.
    pub fn peek<T>(&self, user: &str, f: impl FnOnce(Option<&mut Batch>) -> T) -> T {
        f(self.lock().0.get_mut(user))
    }

    /// Follows the operator's batch (opening it): a message on every change, until it is closed.
    pub fn follow(&self, user: &str) -> Result<broadcast::Receiver<Changed>, AppError> {
        self.with(user, |b| b.changes.subscribe())
    }

    /// Closes the operator's batch (sealed or discarded): its pages are dropped, and the screens
    /// following it see their stream end.
    pub fn close(&self, user: &str) {
        self.lock().0.remove(user);
    }
}
