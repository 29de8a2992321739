//! Turns raw pages into a captured document: OCR with Tesseract (`vie+eng`), a quality check per
//! page, and one PDF of the page images with an invisible, searchable text layer, plus the BLAKE3
//! hash of every stored page image and of the PDF for the signer.
//!
//! Main types: [`Capture`] (owns a pool of Tesseract engines, one per worker, and runs pages through
//! them in parallel), [`PageText`] (words with boxes and confidences, in reading order),
//! [`CapturedDocument`] (what goes on to sealing and the archive).
//!
//! Capture never changes the page image it archives: the original bytes go on as they came. It never
//! writes to the archive, never touches key material, and never sets process-wide state: the binary
//! must start with `OMP_THREAD_LIMIT=1` in its environment (libgomp reads it when it is loaded, before
//! `main`), because OpenMP threads inside parallel workers multiply wall time on small machines.
#![deny(missing_docs)]

mod error;
mod ocr;
mod pdf;

pub use error::CaptureError;
pub use ocr::{OcrConfig, PageText, Word};
pub use pdf::{DOCUMENT_CODE_KEY, image_streams};

use std::sync::atomic::{AtomicUsize, Ordering};

use domain::{BlobHash, DocumentCode, DocumentMetadata};
use scanner_driver::{Dpi, RawPage, SourceFormat};

/// Resolution below which a page does not meet the legal minimum (R1).
pub const MIN_DPI: f32 = 200.0;

/// Mean word confidence (0-100) below which a page is sent to an operator for review.
pub const REVIEW_CONFIDENCE: f32 = 70.0;

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
    /// OCR found no text at all (a blank page, or a photo).
    NoText,
}

impl std::fmt::Display for PageFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageFlag::LowResolution { dpi } => write!(f, "{dpi:.0} dpi is below the legal minimum of {MIN_DPI:.0} dpi"),
            PageFlag::LowConfidence { mean } => write!(f, "OCR confidence {mean:.0}% is below {REVIEW_CONFIDENCE:.0}%"),
            PageFlag::NoText => f.write_str("no text recognised"),
        }
    }
}

/// One page of a captured document.
#[derive(Debug, Clone)]
pub struct CapturedPage {
    /// 1-based page number in physical order.
    pub number: u32,
    /// The page image exactly as delivered.
    pub original: Vec<u8>,
    /// Its encoding.
    pub format: SourceFormat,
    /// BLAKE3 of `original`.
    pub image_hash: BlobHash,
    /// BLAKE3 of the page's image stream inside the PDF, so that a changed page can be named when a
    /// PDF file is verified.
    pub stream_hash: BlobHash,
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// Resolution.
    pub dpi: Dpi,
    /// The recognised text.
    pub text: PageText,
    /// Reasons for operator review.
    pub flags: Vec<PageFlag>,
}

/// A document ready to be sealed and archived.
#[derive(Debug, Clone)]
pub struct CapturedDocument {
    /// Pages in physical order.
    pub pages: Vec<CapturedPage>,
    /// The PDF with the page images and the text layer.
    pub pdf: Vec<u8>,
    /// BLAKE3 of `pdf`.
    pub pdf_hash: BlobHash,
}

/// The capture stage: a pool of OCR engines and the PDF assembler.
pub struct Capture {
    pool: ocr::EnginePool,
    workers: usize,
    glyphless_font: Vec<u8>,
}

impl Capture {
    /// Prepares capture: checks the language data and loads the glyphless font the text layer uses.
    /// Engines start lazily, one per worker, and are kept for later documents.
    pub fn new(config: OcrConfig) -> Result<Self, CaptureError> {
        let font_path = config.tessdata.join("pdf.ttf");
        let glyphless_font = std::fs::read(&font_path).map_err(|source| CaptureError::Setup {
            what: format!("cannot read Tesseract's glyphless font {}", font_path.display()),
            source: Some(Box::new(source)),
        })?;
        let workers = config.workers.max(1);
        Ok(Capture { pool: ocr::EnginePool::new(config)?, workers, glyphless_font })
    }

    /// Recognises the text of every page, several pages at once on separate engines, and returns the
    /// texts in page order.
    pub fn recognize(&self, pages: &[RawPage]) -> Result<Vec<PageText>, CaptureError> {
        let next = AtomicUsize::new(0);
        let workers = self.workers.min(pages.len()).max(1);
        let mut done: Vec<(usize, Result<PageText, CaptureError>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut engine: Option<ocr::Engine> = None;
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= pages.len() {
                                break;
                            }
                            let result = match engine.as_mut() {
                                Some(e) => e.recognize(&pages[i], i as u32 + 1),
                                None => self.pool.take().and_then(|e| engine.insert(e).recognize(&pages[i], i as u32 + 1)),
                            };
                            done.push((i, result));
                        }
                        if let Some(engine) = engine {
                            self.pool.give_back(engine);
                        }
                        done
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("an OCR worker panicked")).collect()
        });
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    }

    /// Builds the captured document: the PDF under `code` with `metadata` in its document
    /// information, the hashes, and the review flags of each page.
    pub fn assemble(
        &self,
        code: &DocumentCode,
        metadata: &DocumentMetadata,
        pages: Vec<RawPage>,
        texts: Vec<PageText>,
    ) -> Result<CapturedDocument, CaptureError> {
        let built = pdf::build(code, metadata, &pages, &texts, &self.glyphless_font)?;
        let pages = pages
            .into_iter()
            .zip(texts)
            .zip(built.stream_hashes)
            .enumerate()
            .map(|(i, ((page, text), stream_hash))| CapturedPage {
                number: i as u32 + 1,
                image_hash: BlobHash::of(&page.original),
                stream_hash,
                size: page.pixels.dimensions(),
                dpi: page.dpi,
                flags: review_flags(&page, &text),
                text,
                original: page.original,
                format: page.format,
            })
            .collect();
        let pdf_hash = BlobHash::of(&built.bytes);
        Ok(CapturedDocument { pages, pdf: built.bytes, pdf_hash })
    }
}

fn review_flags(page: &RawPage, text: &PageText) -> Vec<PageFlag> {
    let mut flags = Vec::new();
    let dpi = page.dpi.x.min(page.dpi.y);
    if dpi < MIN_DPI {
        flags.push(PageFlag::LowResolution { dpi });
    }
    match text.mean_confidence() {
        None => flags.push(PageFlag::NoText),
        Some(mean) if mean < REVIEW_CONFIDENCE => flags.push(PageFlag::LowConfidence { mean }),
        Some(_) => {}
    }
    flags
}
