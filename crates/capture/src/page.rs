//! One page through the pipeline: decode, normalise, turn upright, deskew, prepare for OCR, detect a
//! blank page, recognise, encode the archival image, hash it, and judge whether an operator must look.

use std::io::Cursor;

use domain::BlobHash;
use image::{ImageEncoder, codecs::jpeg::JpegEncoder, codecs::png::PngEncoder};
use scanner_driver::{Dpi, Pixels, RawPage, SourceFormat};

use crate::ocr::Engine;
use crate::{CaptureError, PageText, pdf, preprocess};

/// Resolution below which a page does not meet the legal minimum (R1).
pub const MIN_DPI: f32 = 200.0;

/// Mean word confidence (0-100) below which a page is sent to an operator for review.
pub const REVIEW_CONFIDENCE: f32 = 70.0;

/// JPEG quality for a colour or gray page that had to be turned or deskewed: high enough that the
/// second compression leaves no visible trace on text and seals.
const REENCODE_JPEG_QUALITY: u8 = 90;

/// Why a page needs an operator's look. A flag never drops or alters a page.
#[derive(Debug, Clone, PartialEq)]
pub enum PageFlag {
    /// The page is below the 200 dpi legal minimum (R1).
    LowResolution {
        /// The page's resolution.
        dpi: f32,
    },
    /// OCR found text but is not confident of it.
    LowConfidence {
        /// Mean word confidence, 0-100.
        mean: f32,
    },
    /// The page has no ink to speak of: a blank sheet or the empty back of a duplex scan.
    Blank,
    /// The page has ink but OCR found no text in it (a photo, a drawing).
    NoText,
}

impl std::fmt::Display for PageFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageFlag::LowResolution { dpi } => write!(f, "{dpi:.0} dpi is below the legal minimum of {MIN_DPI:.0} dpi"),
            PageFlag::LowConfidence { mean } => write!(f, "OCR confidence {mean:.0}% is below {REVIEW_CONFIDENCE:.0}%"),
            PageFlag::Blank => f.write_str("blank page"),
            PageFlag::NoText => f.write_str("no text recognised"),
        }
    }
}

/// What was done to make the page upright and level; the archived image has it applied.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Correction {
    /// Quarter turns clockwise (0-3) that made the page upright.
    pub quarter_turns: u8,
    /// Degrees turned counter-clockwise to level the text lines; 0 when under a tenth of a degree.
    pub deskew_degrees: f32,
}

/// One page as capture hands it on: the archival image, its text, its hashes and its flags.
#[derive(Debug, Clone)]
pub struct CapturedPage {
    /// 1-based page number in physical order.
    pub number: u32,
    /// The archival page image: the scan as delivered when it needed no correction, else the corrected
    /// scan in the same family of encoding (JPEG stays JPEG, lossless stays PNG).
    pub image: Vec<u8>,
    /// Its encoding.
    pub format: SourceFormat,
    /// Colour components of `image` (1 gray, 3 colour).
    pub components: u8,
    /// BLAKE3 of `image`.
    pub image_hash: BlobHash,
    /// BLAKE3 of the page's image stream inside the PDF, so that a changed page can be named when a
    /// PDF file is verified.
    pub stream_hash: BlobHash,
    /// Width and height of `image` in pixels.
    pub size: (u32, u32),
    /// Resolution.
    pub dpi: Dpi,
    /// What was turned.
    pub correction: Correction,
    /// The recognised text, boxes in the pixels of `image`.
    pub text: PageText,
    /// Reasons for operator review.
    pub flags: Vec<PageFlag>,
}

/// Where a page is in the pipeline, reported as it moves for the operator's screen.
#[derive(Debug, Clone, PartialEq)]
pub enum PageStage {
    /// Waiting for a worker.
    Queued,
    /// Being decoded, turned, deskewed and cleaned.
    Preprocessing,
    /// In the OCR engine.
    Ocr,
    /// Done, with reasons for an operator's review.
    Flagged(Vec<PageFlag>),
    /// Done, nothing to review.
    Done,
}

/// Runs one page through every step on this worker's engine; `stage` hears where it is.
pub(crate) fn process(
    engine: &mut Engine,
    raw: RawPage,
    number: u32,
    stage: &mut dyn FnMut(PageStage),
) -> Result<CapturedPage, CaptureError> {
    stage(PageStage::Preprocessing);
    let RawPage { origin, original, format, components, pixels, dpi } = raw;
    let mut gray = preprocess::analysis_gray(&pixels);
    let quarter_turns = engine.orientation(&gray, dpi.y);
    let mut pixels = pixels;
    if quarter_turns != 0 {
        pixels = preprocess::turn(pixels, quarter_turns);
        gray = preprocess::analysis_gray(&pixels);
    }
    // Turning by a quarter swaps the axes, and with them the resolutions.
    let dpi = if quarter_turns % 2 == 1 { Dpi { x: dpi.y, y: dpi.x, ..dpi } } else { dpi };
    let skew = preprocess::estimate_skew(&gray);
    let deskewed = preprocess::deskew(&pixels, skew);
    let corrected = quarter_turns != 0 || deskewed.is_some();
    if let Some(level) = deskewed {
        pixels = level;
        gray = preprocess::analysis_gray(&pixels);
    }
    let correction = Correction { quarter_turns, deskew_degrees: if corrected && skew.abs() > 0.0 { skew } else { 0.0 } };

    let ocr = preprocess::for_ocr(gray, dpi.y.min(dpi.x));
    let text = if ocr.blank {
        PageText::default()
    } else {
        stage(PageStage::Ocr);
        engine
            .recognize(&ocr.gray, ocr.dpi)
            .map_err(|e| CaptureError::Ocr { page: number, origin: origin.clone(), reason: e.to_string() })?
            .scaled(ocr.scale_back)
    };
    let flags = review_flags(dpi, ocr.blank, &text);

    let passthrough = !corrected && pdf::embeds_as_is(format, &original, components, &pixels);
    let (image, format) = if passthrough { (original, format) } else { encode(&pixels, format, number, &origin)? };
    let components = match pixels {
        Pixels::Gray(_) => 1,
        Pixels::Rgb(_) => 3,
    };
    let stream_hash = BlobHash::of(&pdf::image_stream_data(format, &image)?);
    stage(if flags.is_empty() { PageStage::Done } else { PageStage::Flagged(flags.clone()) });
    Ok(CapturedPage {
        number,
        image_hash: BlobHash::of(&image),
        stream_hash,
        size: pixels.dimensions(),
        image,
        format,
        components,
        dpi,
        correction,
        text,
        flags,
    })
}

/// Encodes corrected pixels in the family of the source encoding: a lossy source stays lossy at high
/// quality, a lossless one stays lossless.
fn encode(pixels: &Pixels, source: SourceFormat, number: u32, origin: &str) -> Result<(Vec<u8>, SourceFormat), CaptureError> {
    let (w, h) = pixels.dimensions();
    let (raw, color) = match pixels {
        Pixels::Gray(g) => (g.as_raw(), image::ExtendedColorType::L8),
        Pixels::Rgb(c) => (c.as_raw(), image::ExtendedColorType::Rgb8),
    };
    let mut out = Cursor::new(Vec::new());
    let written = match source {
        SourceFormat::Jpeg => JpegEncoder::new_with_quality(&mut out, REENCODE_JPEG_QUALITY).write_image(raw, w, h, color),
        SourceFormat::Png => PngEncoder::new_with_quality(&mut out, image::codecs::png::CompressionType::Best, image::codecs::png::FilterType::Adaptive)
            .write_image(raw, w, h, color),
    };
    written.map_err(|e| CaptureError::Ocr { page: number, origin: origin.to_owned(), reason: format!("cannot encode the corrected page image: {e}") })?;
    Ok((out.into_inner(), source))
}

fn review_flags(dpi: Dpi, blank: bool, text: &PageText) -> Vec<PageFlag> {
    let mut flags = Vec::new();
    let dpi = dpi.x.min(dpi.y);
    if dpi < MIN_DPI {
        flags.push(PageFlag::LowResolution { dpi });
    }
    if blank {
        flags.push(PageFlag::Blank);
        return flags;
    }
    match text.mean_confidence() {
        None => flags.push(PageFlag::NoText),
        Some(mean) if mean < REVIEW_CONFIDENCE => flags.push(PageFlag::LowConfidence { mean }),
        Some(_) => {}
    }
    flags
}
