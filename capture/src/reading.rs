//! A page's reading apart from its image, so that another process can read a page and this one can
//! apply what it read: [`PageReading`] is what a reader sends (the correction, the text and boxes,
//! whether the page is blank, the size of the image they refer to), [`CapturedPage::reading`] makes
//! one from a page read here, and [`apply_reading`] turns one into a [`CapturedPage`] of this process's
//! own copy of the scan.
//!
//! The archived image never comes from the reader: [`apply_reading`] applies the correction again to
//! its own pixels, and recomputes everything the archive keeps (image, hashes, flags, blank band) but
//! the text. A reading is hostile input until checked: every number in it is bounded, every box lies in
//! the image, and the image size must be the one the correction gives here.

use scanner_driver::{Dpi, RawPage};
use serde::{Deserialize, Serialize};

use crate::page::{self, Read, Scan};
use crate::{CapturedPage, Correction, PageFlag, PageText, TextSource, preprocess};

/// The largest skew capture itself corrects, in degrees either side of level (its search range and
/// its fine step), with a little room for rounding: a reading past it was not made by capture.
pub const MAX_DESKEW_DEGREES: f32 = 10.5;
/// The most words a reading may carry: a dense A4 page at 600 dpi has about 1,000.
pub const MAX_WORDS: usize = 20_000;
/// The most lines a reading may carry.
pub const MAX_LINES: usize = 5_000;
/// The most bytes of one word's text.
pub const MAX_WORD_BYTES: usize = 1_024;
/// The most bytes of a reading's text, all words together.
pub const MAX_TEXT_BYTES: usize = 1 << 20;
/// How far a box may reach past the image's edge, in pixels: boxes found on the OCR image are scaled
/// back to the page's resolution, each edge rounded on its own, so a word at the edge may end a pixel
/// or two outside.
const BOX_SLACK: u32 = 4;

/// What reading one page found, without its image: what a reader in another process sends back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageReading {
    /// What turned the page upright and level.
    pub correction: Correction,
    /// The recognised text, boxes in the pixels of the corrected image.
    pub text: PageText,
    /// Whether the page has no ink to speak of (then `text` is empty).
    pub blank: bool,
    /// Width and height of the corrected image the boxes refer to.
    pub size: (u32, u32),
}

/// Why a reading cannot be applied to a page: it was not made by capture from this page's scan.
#[derive(Debug, thiserror::Error)]
#[error("the reading of page {page} is refused: {reason}")]
pub struct InvalidReading {
    /// 1-based page number.
    pub page: u32,
    /// What is wrong with it.
    pub reason: String,
}

impl CapturedPage {
    /// This page's reading, as another process applies it with [`apply_reading`]; `None` for a page
    /// whose text the file carried, which is never read elsewhere.
    pub fn reading(&self) -> Option<PageReading> {
        (self.text_source == TextSource::Ocr).then(|| PageReading {
            correction: self.correction,
            text: self.text.clone(),
            blank: self.flags.contains(&PageFlag::Blank),
            size: self.size,
        })
    }
}

/// Turns `reading`, made elsewhere from a copy of `raw`, into page `number` as capture would have
/// read it here: the correction is applied again to `raw`'s own pixels (the archived image is made
/// here, never taken from the reader), the flags, the blank band and the hashes are computed here,
/// and only the text is taken, once checked to fit the corrected image. A page that carries its own
/// text is not a page to read elsewhere and is refused.
pub fn apply_reading(raw: RawPage, number: u32, reading: PageReading) -> Result<CapturedPage, crate::CaptureError> {
    let invalid = |reason: String| crate::CaptureError::Reading(InvalidReading { page: number, reason });
    if raw.text.is_some() {
        return Err(invalid("the page carries its own text and is never read elsewhere".into()));
    }
    check_correction(&reading.correction).map_err(invalid)?;
    let RawPage { origin, original, format, components, pixels, dpi, .. } = raw;
    let Correction { quarter_turns, deskew_degrees, half_turn_after_deskew } = reading.correction;
    let first_turns = if half_turn_after_deskew { (quarter_turns + 2) % 4 } else { quarter_turns };
    let mut corrected = (first_turns != 0).then(|| preprocess::turn(pixels.clone(), first_turns));
    if let Some(level) = preprocess::deskew(corrected.as_ref().unwrap_or(&pixels), deskew_degrees) {
        corrected = Some(level);
    }
    if half_turn_after_deskew {
        corrected = Some(preprocess::turn(corrected.unwrap_or_else(|| pixels.clone()), 2));
    }
    let size = corrected.as_ref().unwrap_or(&pixels).dimensions();
    if size != reading.size {
        return Err(invalid(format!(
            "it refers to an image of {}x{} pixels, and the corrected scan is {}x{}",
            reading.size.0, reading.size.1, size.0, size.1
        )));
    }
    check_text(&reading.text, reading.blank, size).map_err(invalid)?;
    let dpi = if quarter_turns % 2 == 1 { Dpi { x: dpi.y, y: dpi.x, ..dpi } } else { dpi };
    let flags = page::review_flags(dpi, reading.blank, &reading.text);
    let scan = Scan { origin, original, format, components, pixels };
    let read = Read { correction: reading.correction, dpi, text: reading.text, text_source: TextSource::Ocr, flags };
    page::finish(number, scan, corrected, read)
}

/// Checks that a correction is one capture makes: a quarter turn count, a skew within capture's
/// range that is either none or at least the smallest it corrects, a late half turn only after a
/// deskew.
fn check_correction(c: &Correction) -> Result<(), String> {
    if c.quarter_turns > 3 {
        return Err(format!("{} quarter turns (0 to 3 are)", c.quarter_turns));
    }
    let d = c.deskew_degrees;
    if !d.is_finite() || d.abs() > MAX_DESKEW_DEGREES || (d != 0.0 && d.abs() < 0.1) {
        return Err(format!("a deskew of {d}° (capture corrects 0.1° to {MAX_DESKEW_DEGREES}° either way, or none)"));
    }
    if c.half_turn_after_deskew && (d == 0.0 || c.quarter_turns < 2) {
        return Err("a half turn after a deskew that was not made".into());
    }
    Ok(())
}

/// Checks that a text fits an image of `size`: bounded in lines, words and bytes, every box inside
/// the image (give or take the rounding of [`BOX_SLACK`]), every confidence a percentage, and none
/// at all on a blank page.
fn check_text(text: &PageText, blank: bool, (width, height): (u32, u32)) -> Result<(), String> {
    let words: usize = text.lines.iter().map(|l| l.words.len()).sum();
    if blank && words > 0 {
        return Err("a blank page with words".into());
    }
    if text.lines.len() > MAX_LINES || words > MAX_WORDS {
        return Err(format!("{} lines and {words} words (at most {MAX_LINES} and {MAX_WORDS})", text.lines.len()));
    }
    let inside =
        |start: u32, length: u32, limit: u32| start.checked_add(length).is_some_and(|end| end <= limit + BOX_SLACK);
    let mut bytes = 0usize;
    for (n, line) in text.lines.iter().enumerate() {
        if !inside(line.top, line.height, height) {
            return Err(format!("line {} ({}+{}) is outside the image's {height} rows", n + 1, line.top, line.height));
        }
        for word in &line.words {
            bytes += word.text.len();
            if word.text.len() > MAX_WORD_BYTES {
                return Err(format!("a word of {} bytes (at most {MAX_WORD_BYTES})", word.text.len()));
            }
            if !inside(word.left, word.width, width) || !inside(word.top, word.height, height) {
                return Err(format!(
                    "the box of {:?} ({}x{} at {},{}) is outside the image ({width}x{height})",
                    word.text, word.width, word.height, word.left, word.top
                ));
            }
            if !(0.0..=100.0).contains(&word.confidence) {
                return Err(format!("a confidence of {} (0 to 100 are)", word.confidence));
            }
        }
    }
    if bytes > MAX_TEXT_BYTES {
        return Err(format!("{bytes} bytes of text (at most {MAX_TEXT_BYTES})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Line, Word};

    fn text(left: u32, width: u32) -> PageText {
        let word = Word { text: "Giấy".into(), left, top: 10, width, height: 20, confidence: 90.0 };
        PageText { lines: vec![Line { top: 10, height: 20, words: vec![word] }] }
    }

    #[test]
    fn a_correction_capture_cannot_make_is_refused() {
        let ok = Correction { quarter_turns: 3, deskew_degrees: -2.5, half_turn_after_deskew: true };
        assert!(check_correction(&ok).is_ok());
        assert!(check_correction(&Correction { quarter_turns: 4, ..ok }).is_err());
        assert!(check_correction(&Correction { deskew_degrees: 45.0, ..ok }).is_err());
        assert!(check_correction(&Correction { deskew_degrees: f32::NAN, ..ok }).is_err());
        assert!(check_correction(&Correction { deskew_degrees: 0.01, ..ok }).is_err());
        assert!(check_correction(&Correction { deskew_degrees: 0.0, ..ok }).is_err());
    }

    #[test]
    fn a_box_outside_the_image_or_words_on_a_blank_page_are_refused() {
        assert!(check_text(&text(10, 100), false, (200, 100)).is_ok());
        assert!(check_text(&text(150, 100), false, (200, 100)).is_err());
        assert!(check_text(&text(u32::MAX, 2), false, (200, 100)).is_err());
        assert!(check_text(&text(10, 100), true, (200, 100)).is_err());
        let mut bad = text(10, 100);
        bad.lines[0].words[0].confidence = 1e9;
        assert!(check_text(&bad, false, (200, 100)).is_err());
        bad.lines[0].words[0].confidence = 50.0;
        bad.lines[0].words[0].text = "x".repeat(MAX_WORD_BYTES + 1);
        assert!(check_text(&bad, false, (200, 100)).is_err());
    }
}
