//! Tesseract behind a safe interface: the OCR configuration, one engine per worker thread, and the
//! words and lines it reads with their boxes and confidences.

use std::path::PathBuf;

use image::GrayImage;
use tesseract_rs::{TessPageSegMode, TesseractAPI};

use crate::CaptureError;

/// Where Tesseract's data is and how to run it.
#[derive(Debug, Clone)]
pub struct OcrConfig {
    /// The tessdata directory holding `vie.traineddata`, `eng.traineddata` and `pdf.ttf`.
    pub tessdata: PathBuf,
    /// Tesseract language string, e.g. `vie+eng`.
    pub languages: String,
    /// Number of OCR workers, each with its own engine; one per core is right since OCR is CPU-bound.
    pub workers: usize,
}

impl OcrConfig {
    /// Debian's tessdata directory, or `TESSDATA_PREFIX` when set; `vie`; one worker per core.
    ///
    /// `vie` alone, not `vie+eng`: the Vietnamese model reads Latin script, English words included, and
    /// adding `eng` made Tesseract read upper-case Vietnamese without its diacritics ("TRIEN KHAI DOI"
    /// for "TRIỂN KHAI ĐỔI"), which took a clean page from 0.07% to 0.37% CER and cost a quarter more
    /// time. `SOHOA_OCR_LANGUAGES` overrides it.
    pub fn system_default() -> Self {
        let tessdata = std::env::var_os("TESSDATA_PREFIX")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/share/tesseract-ocr/5/tessdata"));
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let languages = std::env::var("SOHOA_OCR_LANGUAGES").unwrap_or_else(|_| "vie".into());
        OcrConfig { tessdata, languages, workers }
    }
}

/// One recognised word: its text, its box in page pixels and Tesseract's confidence.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Word {
    /// The text, NFC as Tesseract produces it.
    pub text: String,
    /// Left edge, pixels from the left of the page.
    pub left: u32,
    /// Top edge, pixels from the top of the page.
    pub top: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Confidence, 0-100.
    pub confidence: f32,
}

/// A text line: its box and its words, left to right.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// Top edge in pixels.
    pub top: u32,
    /// Height in pixels.
    pub height: u32,
    /// The words.
    pub words: Vec<Word>,
}

/// The text of one page, lines in Tesseract's reading order.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PageText {
    /// The lines.
    pub lines: Vec<Line>,
}

impl PageText {
    /// The text as lines of words separated by single spaces.
    pub fn plain(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let words: Vec<&str> = line.words.iter().map(|w| w.text.as_str()).collect();
            out.push_str(&words.join(" "));
            out.push('\n');
        }
        out
    }

    /// Mean word confidence, or `None` when there are no words.
    pub fn mean_confidence(&self) -> Option<f32> {
        let (sum, n) =
            self.lines.iter().flat_map(|l| &l.words).fold((0.0, 0usize), |(s, n), w| (s + w.confidence, n + 1));
        (n > 0).then(|| sum / n as f32)
    }

    /// The same text with every box multiplied by `factor`, to carry boxes found on an upsampled OCR
    /// image back to the page image.
    pub(crate) fn scaled(mut self, factor: f32) -> PageText {
        if factor != 1.0 {
            let s = |v: &mut u32| *v = (*v as f32 * factor).round() as u32;
            for line in &mut self.lines {
                s(&mut line.top);
                s(&mut line.height);
                for w in &mut line.words {
                    s(&mut w.left);
                    s(&mut w.top);
                    s(&mut w.width);
                    s(&mut w.height);
                }
            }
        }
        self
    }

    /// Parses Tesseract's TSV output (level, page, block, paragraph, line, word, left, top, width,
    /// height, confidence, text); level 4 rows open a line, level 5 rows are its words.
    pub(crate) fn from_tsv(tsv: &str) -> PageText {
        let mut lines: Vec<Line> = Vec::new();
        for row in tsv.lines() {
            let cols: Vec<&str> = row.splitn(12, '\t').collect();
            if cols.len() < 11 {
                continue;
            }
            let num = |i: usize| cols[i].trim().parse::<i64>().unwrap_or(0).max(0) as u32;
            match cols[0] {
                "4" => lines.push(Line { top: num(7), height: num(9), words: Vec::new() }),
                "5" => {
                    let text = cols.get(11).map(|t| t.trim()).unwrap_or_default();
                    if text.is_empty() {
                        continue;
                    }
                    if let Some(line) = lines.last_mut() {
                        line.words.push(Word {
                            text: text.to_owned(),
                            left: num(6),
                            top: num(7),
                            width: num(8),
                            height: num(9),
                            confidence: cols[10].trim().parse().unwrap_or(0.0),
                        });
                    }
                }
                _ => {}
            }
        }
        lines.retain(|l| !l.words.is_empty());
        PageText { lines }
    }
}

/// The Tesseract engines of one worker: the text engine, and the orientation (OSD) engine, started
/// the first time a page needs it. Engines are not shared between threads: each worker holds its own.
pub(crate) struct Engine {
    text: TesseractAPI,
    osd: Option<TesseractAPI>,
    tessdata: String,
}

#[link(name = "lept")]
unsafe extern "C" {
    /// Leptonica's setter of an image's stated resolution.
    fn pixSetResolution(pix: *mut std::ffi::c_void, xres: i32, yres: i32) -> i32;
}

/// Tesseract's engine mode for the LSTM recogniser alone: the language files also carry the legacy
/// classifier, which the default mode loads (a second per engine) but never uses for these languages.
const OEM_LSTM_ONLY: i32 = 1;

/// Orientation confidence (Tesseract's OSD score) under which a page is left as it is. Tesseract's own
/// command line reports a turn from about 2; a wrong quarter turn ruins a page, so more is asked.
const MIN_ORIENTATION_CONFIDENCE: f32 = 3.0;

fn setup_error(what: String) -> impl FnOnce(tesseract_rs::TesseractError) -> CaptureError {
    move |e| CaptureError::Setup { what: format!("{what}: {e}"), source: None }
}

impl Engine {
    pub(crate) fn start(config: &OcrConfig) -> Result<Self, CaptureError> {
        let tessdata = config
            .tessdata
            .to_str()
            .ok_or_else(|| CaptureError::Setup {
                what: format!("the tessdata path {} is not UTF-8", config.tessdata.display()),
                source: None,
            })?
            .to_owned();
        let text = TesseractAPI::new();
        text.init_2(&tessdata, &config.languages, OEM_LSTM_ONLY)
            .map_err(setup_error(format!("cannot start Tesseract with {} from {tessdata}", config.languages)))?;
        text.set_page_seg_mode(TessPageSegMode::PSM_AUTO)
            .map_err(setup_error("cannot set the page segmentation mode".into()))?;
        // Tesseract retries every doubtful line as white-on-black text; scanned paper has none, and the
        // retries cost up to a third of the time on poor pages.
        text.set_variable("tessedit_do_invert", "0")
            .map_err(setup_error("cannot turn off inverted-text retries".into()))?;
        // Adaptive binarisation: Sauvola's local threshold (Tesseract's method 2) instead of one global
        // Otsu threshold, for uneven paper, shadows at the binding and faded strokes. On the test pages it
        // read 0.10% CER against 0.12% with Otsu, and Leptonica's tiled Otsu (method 1) 0.56%.
        text.set_variable("thresholding_method", "2")
            .map_err(setup_error("cannot choose adaptive thresholding".into()))?;
        quiet(&text)?;
        Ok(Engine { text, osd: None, tessdata })
    }

    /// How many quarter turns clockwise make the page upright, by Tesseract's orientation and script
    /// detection; 0 when it is not confident. A page with too little text to tell is left alone.
    pub(crate) fn orientation(&mut self, gray: &GrayImage, dpi: f32) -> Result<u8, CaptureError> {
        let osd = match self.osd.as_mut() {
            Some(osd) => osd,
            None => {
                let osd = TesseractAPI::new();
                osd.init(&self.tessdata, "osd").map_err(setup_error(format!(
                    "cannot start Tesseract's orientation detection from {}",
                    self.tessdata
                )))?;
                osd.set_page_seg_mode(TessPageSegMode::PSM_OSD_ONLY)
                    .map_err(setup_error("cannot set orientation-only mode".into()))?;
                quiet(&osd)?;
                self.osd.insert(osd)
            }
        };
        let (w, h) = gray.dimensions();
        let detected = osd
            .set_image(gray.as_raw(), w as i32, h as i32, 1, w as i32)
            .and_then(|_| osd.set_source_resolution(dpi.round() as i32))
            .and_then(|_| osd.get_input_image())
            .and_then(|pix| {
                // Orientation detection sizes its line finding by the resolution stored in the image
                // itself, which an image set from raw bytes lacks; without it Tesseract assumes 70 dpi
                // and says so on standard error for every page.
                // SAFETY: `pix` is the engine's own input image, alive until the next `clear`.
                unsafe { pixSetResolution(pix, dpi.round() as i32, dpi.round() as i32) };
                osd.detect_os()
            });
        let _ = osd.clear();
        Ok(match detected {
            // `degrees` is how far the page is turned clockwise from upright, so the correction is the
            // rest of the full turn.
            Ok((degrees, confidence, _, _)) if confidence >= MIN_ORIENTATION_CONFIDENCE => {
                ((360 - degrees.rem_euclid(360)) / 90 % 4) as u8
            }
            _ => 0,
        })
    }

    /// Recognises the words of an OCR image at `dpi`.
    pub(crate) fn recognize(&mut self, gray: &GrayImage, dpi: f32) -> Result<PageText, tesseract_rs::TesseractError> {
        let (w, h) = gray.dimensions();
        self.text.set_image(gray.as_raw(), w as i32, h as i32, 1, w as i32)?;
        self.text.set_source_resolution(dpi.round() as i32)?;
        let tsv = self.text.get_tsv_text(0);
        self.text.clear()?;
        Ok(PageText::from_tsv(&tsv?))
    }
}

/// Checks that the language data of `config` (and the orientation model) is installed, so that a
/// missing package is reported at start-up rather than on the first page.
pub(crate) fn check_language_data(config: &OcrConfig) -> Result<(), CaptureError> {
    for lang in config.languages.split('+').chain(["osd"]) {
        let file = config.tessdata.join(format!("{lang}.traineddata"));
        if !file.is_file() {
            return Err(CaptureError::Setup {
                what: format!("language data {} is missing (Debian package tesseract-ocr-{lang})", file.display()),
                source: None,
            });
        }
    }
    Ok(())
}

/// Sends Tesseract's own messages ("Too few characters. Skipping this page", …) nowhere: written
/// straight to standard error, they would break the server's log, one JSON object a line. What they
/// say is in the results (no orientation, low confidence).
fn quiet(engine: &TesseractAPI) -> Result<(), CaptureError> {
    engine.set_variable("debug_file", "/dev/null").map_err(setup_error("cannot quiet Tesseract's messages".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tsv_lines_and_words() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   4\t1\t1\t1\t1\t0\t10\t20\t300\t40\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t22\t100\t36\t96.5\tGiấy\n\
                   5\t1\t1\t1\t1\t2\t120\t22\t100\t36\t91.5\tphép\n\
                   4\t1\t1\t1\t2\t0\t10\t80\t300\t40\t-1\t\n\
                   5\t1\t1\t1\t2\t1\t10\t82\t50\t36\t95\t \n";
        let text = PageText::from_tsv(tsv);
        assert_eq!(text.lines.len(), 1);
        assert_eq!(text.plain(), "Giấy phép\n");
        assert_eq!(text.mean_confidence(), Some(94.0));
        assert_eq!(text.lines[0].words[1].left, 120);
    }
}
