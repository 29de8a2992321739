use std::path::PathBuf;
use std::sync::Mutex;

use scanner_driver::RawPage;
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
    /// Debian's tessdata directory, or `TESSDATA_PREFIX` when set; `vie+eng`; one worker per core.
    pub fn system_default() -> Self {
        let tessdata = std::env::var_os("TESSDATA_PREFIX")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/share/tesseract-ocr/5/tessdata"));
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        OcrConfig { tessdata, languages: "vie+eng".into(), workers }
    }
}

/// One recognised word: its text, its box in page pixels and Tesseract's confidence.
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Top edge in pixels.
    pub top: u32,
    /// Height in pixels.
    pub height: u32,
    /// The words.
    pub words: Vec<Word>,
}

/// The text of one page, lines in Tesseract's reading order.
#[derive(Debug, Clone, PartialEq, Default)]
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
        let (sum, n) = self.lines.iter().flat_map(|l| &l.words).fold((0.0, 0usize), |(s, n), w| (s + w.confidence, n + 1));
        (n > 0).then(|| sum / n as f32)
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

/// One Tesseract engine. Engines are not shared between threads: each worker holds its own.
pub(crate) struct Engine {
    api: TesseractAPI,
}

impl Engine {
    fn start(config: &OcrConfig) -> Result<Self, CaptureError> {
        let api = TesseractAPI::new();
        api.init(&config.tessdata, &config.languages).map_err(|e| CaptureError::Setup {
            what: format!("cannot start Tesseract with {} from {}: {e}", config.languages, config.tessdata.display()),
            source: None,
        })?;
        api.set_page_seg_mode(TessPageSegMode::PSM_AUTO).map_err(|e| CaptureError::Setup {
            what: format!("cannot set the page segmentation mode: {e}"),
            source: None,
        })?;
        Ok(Engine { api })
    }

    pub(crate) fn recognize(&mut self, page: &RawPage, number: u32) -> Result<PageText, CaptureError> {
        let fail = |e: tesseract_rs::TesseractError| CaptureError::Ocr { page: number, origin: page.origin.clone(), reason: e.to_string() };
        let gray = page.pixels.to_gray();
        let (w, h) = gray.dimensions();
        self.api.set_image(gray.as_raw(), w as i32, h as i32, 1, w as i32).map_err(fail)?;
        self.api.set_source_resolution(page.dpi.y.round() as i32).map_err(fail)?;
        let tsv = self.api.get_tsv_text(0).map_err(fail)?;
        self.api.clear().map_err(fail)?;
        Ok(PageText::from_tsv(&tsv))
    }
}

/// Idle engines kept between documents, since starting one loads the language models (about a second).
pub(crate) struct EnginePool {
    config: OcrConfig,
    idle: Mutex<Vec<Engine>>,
}

impl EnginePool {
    pub(crate) fn new(config: OcrConfig) -> Result<Self, CaptureError> {
        for lang in config.languages.split('+') {
            let file = config.tessdata.join(format!("{lang}.traineddata"));
            if !file.is_file() {
                return Err(CaptureError::Setup {
                    what: format!("language data {} is missing (Debian package tesseract-ocr-{lang})", file.display()),
                    source: None,
                });
            }
        }
        Ok(EnginePool { config, idle: Mutex::new(Vec::new()) })
    }

    pub(crate) fn take(&self) -> Result<Engine, CaptureError> {
        let idle = self.idle.lock().expect("engine pool lock").pop();
        match idle {
            Some(engine) => Ok(engine),
            None => Engine::start(&self.config),
        }
    }

    pub(crate) fn give_back(&self, engine: Engine) {
        self.idle.lock().expect("engine pool lock").push(engine);
    }
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
