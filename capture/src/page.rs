//! One page through the pipeline: decode, normalise, turn upright, deskew, prepare for OCR, detect a
//! blank page, recognise, encode the archival image, hash it, and judge whether an operator must look.

use std::io::Cursor;

use domain::BlobHash;
use image::{GrayImage, ImageEncoder, codecs::jpeg::JpegEncoder, codecs::png::PngEncoder};
use scanner_driver::{CarriedText, Dpi, Pixels, RawPage, SourceFormat};

use crate::ocr::Engine;
use crate::preprocess::TextLines;
use crate::split::Crew;
use crate::{CaptureError, Line, PageText, Word, pdf, preprocess};

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
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Correction {
    /// Quarter turns clockwise (0-3) that made the page upright.
    pub quarter_turns: u8,
    /// Degrees turned counter-clockwise to level the text lines; 0 when under a tenth of a degree.
    pub deskew_degrees: f32,
    /// Whether a half of `quarter_turns` was made after deskewing, because the level page proved
    /// upside down. Deskewing resamples, so the order decides the exact archived bytes: whoever
    /// applies a correction again ([`crate::apply_reading`]) follows it, and gets the same image.
    #[serde(default)]
    pub half_turn_after_deskew: bool,
}

/// Where a page's text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextSource {
    /// Recognised by OCR from the page image.
    #[default]
    Ocr,
    /// The text the file carries for the page (a born-digital PDF page), trusted as its visible
    /// content by the importer's rule, so not read again by OCR.
    File,
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
    /// Whether `text` was recognised or taken from the file.
    pub text_source: TextSource,
    /// Reasons for operator review.
    pub flags: Vec<PageFlag>,
    /// Rows of `image` from its top edge that hold no ink: where page 1's signature blocks can go
    /// without covering anything of the scan.
    pub blank_top: u32,
}

impl CapturedPage {
    /// [`blank_top`](Self::blank_top) in PDF points, the unit of the page in the PDF/A.
    pub fn blank_top_points(&self) -> f32 {
        self.blank_top as f32 * 72.0 / self.dpi.y
    }
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

impl PageStage {
    /// The stage's name, as the operator's screen and the metrics show it.
    pub fn name(&self) -> &'static str {
        match self {
            PageStage::Queued => "queued",
            PageStage::Preprocessing => "preprocessing",
            PageStage::Ocr => "ocr",
            PageStage::Flagged(_) => "flagged",
            PageStage::Done => "done",
        }
    }
}

/// Mean word confidence under which a page that looked upright is checked by Tesseract's orientation
/// detection: text read upside down comes out as confident-looking garbage at about 40-60, while
/// upright pages, even faded or noisy ones, read at 85 and more.
const ORIENTATION_DOUBT: f32 = 75.0;

/// Runs one page through every step on this worker's engine, its OCR split with idle workers of
/// `crew` when there are any; `stage` hears where it is.
pub(crate) fn process(
    engine: &mut Engine,
    crew: &Crew,
    raw: RawPage,
    number: u32,
    stage: &mut dyn FnMut(PageStage),
) -> Result<CapturedPage, CaptureError> {
    stage(PageStage::Preprocessing);
    let RawPage { origin, original, format, components, pixels, dpi, text } = raw;
    let (corrected, correction, dpi, text, flags, text_source) = match text {
        // A page drawn by a renderer from a born-digital file is upright and level as drawn, and
        // its own text is what it says: neither turning nor OCR can do better.
        Some(carried) => {
            let text = carried_text(carried);
            let flags = review_flags(dpi, false, &text);
            (None, Correction::default(), dpi, text, flags, TextSource::File)
        }
        None => {
            let Reading { corrected, correction, dpi, text, blank } =
                recognise(engine, crew, &pixels, dpi, number, &origin, stage)?;
            let flags = review_flags(dpi, blank, &text);
            (corrected, correction, dpi, text, flags, TextSource::Ocr)
        }
    };

    stage(if flags.is_empty() { PageStage::Done } else { PageStage::Flagged(flags.clone()) });
    let scan = Scan { origin, original, format, components, pixels };
    finish(number, scan, corrected, Read { correction, dpi, text, text_source, flags })
}

/// A page's scan as delivered, decoded.
pub(crate) struct Scan {
    pub(crate) origin: String,
    pub(crate) original: Vec<u8>,
    pub(crate) format: SourceFormat,
    pub(crate) components: u8,
    pub(crate) pixels: Pixels,
}

/// What reading a page found.
pub(crate) struct Read {
    pub(crate) correction: Correction,
    pub(crate) dpi: Dpi,
    pub(crate) text: PageText,
    pub(crate) text_source: TextSource,
    pub(crate) flags: Vec<PageFlag>,
}

/// The archival image of a read page (the scan as delivered, or `corrected` encoded in its family),
/// its hashes and the blank band at its top: the same whether this process read the page or applied
/// another's reading of it ([`crate::apply_reading`]).
pub(crate) fn finish(
    number: u32,
    scan: Scan,
    corrected: Option<Pixels>,
    read: Read,
) -> Result<CapturedPage, CaptureError> {
    let Scan { origin, original, format, components, pixels } = scan;
    let Read { correction, dpi, text, text_source, flags } = read;
    let as_delivered = corrected.is_none() && pdf::embeds_as_is(format, &original, components, &pixels);
    let pixels = corrected.unwrap_or(pixels);
    let blank_top = preprocess::blank_top(&pixels);
    let image =
        if as_delivered { original } else { encode(&pixels, format).map_err(|e| ocr_error(number, &origin, e))? };
    let stream_hash = BlobHash::of(&pdf::image_stream_data(format, &image)?);
    Ok(CapturedPage {
        number,
        image_hash: BlobHash::of(&image),
        stream_hash,
        size: pixels.dimensions(),
        image,
        format,
        components: pixels.components(),
        dpi,
        correction,
        text,
        text_source,
        flags,
        blank_top,
    })
}

/// Turns the page upright and level and reads it: from its ink first, and by Tesseract's
/// orientation detection when that reading is doubtful.
fn recognise(
    engine: &mut Engine,
    crew: &Crew,
    pixels: &Pixels,
    dpi: Dpi,
    number: u32,
    origin: &str,
    stage: &mut dyn FnMut(PageStage),
) -> Result<Reading, CaptureError> {
    let gray = preprocess::analysis_gray(pixels);
    let lines = preprocess::text_lines(&gray);
    // Which way up the page is comes from its ink alone: a page on its side (vertical lines) is
    // turned a quarter, and `read` turns it a half more if it then proves upside down. Tesseract's
    // orientation detection costs a third of an OCR pass, so it runs only for pages read with doubt.
    let start = Start {
        quarter_turns: u8::from(lines.vertical),
        lines: (!lines.vertical).then_some(lines),
        check_upside: true,
    };
    let mut reading = read(engine, crew, pixels, gray, dpi, start, stage).map_err(|e| ocr_error(number, origin, e))?;
    if !reading.blank && reading.text.mean_confidence().unwrap_or(0.0) < ORIENTATION_DOUBT {
        // Doubt is rare, so the page's gray is made again here rather than kept for every page.
        let gray = preprocess::analysis_gray(pixels);
        let turns = engine.orientation(&gray, dpi.y)?;
        if turns != reading.correction.quarter_turns {
            let start = Start { quarter_turns: turns, lines: None, check_upside: false };
            let second =
                read(engine, crew, pixels, gray, dpi, start, stage).map_err(|e| ocr_error(number, origin, e))?;
            if second.text.mean_confidence() > reading.text.mean_confidence() {
                reading = second;
            }
        }
    }
    Ok(reading)
}

/// The text a file carries as a page's text, every word fully confident; a line's box is its
/// words' together.
fn carried_text(carried: CarriedText) -> PageText {
    let lines = carried
        .lines
        .into_iter()
        .map(|words| {
            let top = words.iter().map(|w| w.top).min().unwrap_or(0);
            let bottom = words.iter().map(|w| w.top + w.height).max().unwrap_or(top);
            let words = words
                .into_iter()
                .map(|w| Word {
                    text: w.text,
                    left: w.left,
                    top: w.top,
                    width: w.width,
                    height: w.height,
                    confidence: 100.0,
                })
                .collect();
            Line { top, height: bottom - top, words }
        })
        .collect();
    PageText { lines }
}

pub(crate) fn ocr_error(page: u32, origin: &str, reason: impl std::fmt::Display) -> CaptureError {
    CaptureError::Ocr { page, origin: origin.to_owned(), reason: reason.to_string() }
}

/// One reading of a page in one orientation.
struct Reading {
    /// The turned and deskewed page, or `None` when it needed neither.
    corrected: Option<Pixels>,
    correction: Correction,
    /// The resolution, axes swapped by a quarter turn.
    dpi: Dpi,
    text: PageText,
    blank: bool,
}

/// Where a reading starts.
struct Start {
    /// Quarter turns clockwise to apply first.
    quarter_turns: u8,
    /// The page's line analysis, when already made for this orientation.
    lines: Option<TextLines>,
    /// Whether to turn by a half more if the level page proves upside down.
    check_upside: bool,
}

/// Turns the page as `start` says, deskews it, turns it by a half more when asked and it then proves
/// upside down, prepares the OCR image and reads it.
fn read(
    engine: &mut Engine,
    crew: &Crew,
    pixels: &Pixels,
    gray: GrayImage,
    dpi: Dpi,
    start: Start,
    stage: &mut dyn FnMut(PageStage),
) -> Result<Reading, String> {
    let Start { quarter_turns, lines, check_upside } = start;
    let (mut corrected, mut gray, dpi) = if quarter_turns == 0 {
        (None, gray, dpi)
    } else {
        let gray = preprocess::turn_gray(gray, quarter_turns);
        // A quarter turn swaps the axes, and with them the resolutions.
        let dpi = if quarter_turns % 2 == 1 { Dpi { x: dpi.y, y: dpi.x, ..dpi } } else { dpi };
        (Some(preprocess::turn(pixels.clone(), quarter_turns)), gray, dpi)
    };
    let lines = lines.unwrap_or_else(|| preprocess::text_lines(&gray));
    let mut deskew_degrees = 0.0;
    if let Some(level) = preprocess::deskew(corrected.as_ref().unwrap_or(pixels), lines.skew) {
        gray = preprocess::analysis_gray(&level);
        corrected = Some(level);
        deskew_degrees = lines.skew;
    }
    // The level page may still be upside down; its ink tells. Turning by a half after deskewing is
    // the same as before: rotations about the centre commute.
    let mut quarter_turns = quarter_turns;
    let mut half_turn_after_deskew = false;
    if check_upside && preprocess::upside_down(&gray) == Some(true) {
        quarter_turns = (quarter_turns + 2) % 4;
        half_turn_after_deskew = deskew_degrees != 0.0;
        gray = preprocess::turn_gray(gray, 2);
        corrected = Some(preprocess::turn(corrected.unwrap_or_else(|| pixels.clone()), 2));
    }
    let ocr = preprocess::for_ocr(gray, dpi.x.min(dpi.y));
    let text = if ocr.blank {
        PageText::default()
    } else {
        stage(PageStage::Ocr);
        crew.read(engine, &ocr.gray, ocr.dpi)?.scaled(ocr.scale_back)
    };
    Ok(Reading {
        corrected,
        correction: Correction { quarter_turns, deskew_degrees, half_turn_after_deskew },
        dpi,
        text,
        blank: ocr.blank,
    })
}

/// Encodes corrected pixels in the family of the source encoding: a lossy source stays lossy at high
/// quality, a lossless one stays lossless.
pub(crate) fn encode(pixels: &Pixels, source: SourceFormat) -> Result<Vec<u8>, String> {
    let (w, h) = pixels.dimensions();
    let (raw, color) = match pixels {
        Pixels::Gray(g) => (g.as_raw(), image::ExtendedColorType::L8),
        Pixels::Rgb(c) => (c.as_raw(), image::ExtendedColorType::Rgb8),
    };
    let mut out = Cursor::new(Vec::new());
    let written = match source {
        SourceFormat::Jpeg => {
            JpegEncoder::new_with_quality(&mut out, REENCODE_JPEG_QUALITY).write_image(raw, w, h, color)
        }
        SourceFormat::Png => PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Default,
            image::codecs::png::FilterType::Adaptive,
        )
        .write_image(raw, w, h, color),
    };
    written.map_err(|e| format!("cannot encode the corrected page image: {e}"))?;
    Ok(out.into_inner())
}

pub(crate) fn review_flags(dpi: Dpi, blank: bool, text: &PageText) -> Vec<PageFlag> {
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

#[cfg(test)]
mod tests {
    use scanner_driver::{CarriedText, CarriedWord};

    use super::*;

    fn word(text: &str, left: u32, top: u32, height: u32) -> CarriedWord {
        CarriedWord { text: text.into(), left, top, width: 40, height }
    }

    #[test]
    fn a_files_text_becomes_the_page_text_fully_confident_lines_spanning_their_words() {
        let carried = CarriedText {
            lines: vec![vec![word("Giấy", 10, 20, 30), word("phép", 60, 15, 40)], vec![word("số", 10, 80, 30)]],
        };
        let text = carried_text(carried);
        assert_eq!(text.plain(), "Giấy phép\nsố\n");
        assert_eq!((text.lines[0].top, text.lines[0].height), (15, 40));
        assert_eq!(text.mean_confidence(), Some(100.0));
        // Fully confident and not blank: nothing for an operator to review at 300 dpi.
        let dpi = Dpi { x: 300.0, y: 300.0, stated: true };
        assert!(review_flags(dpi, false, &text).is_empty());
    }
}
