//! Turns raw pages into a captured document at scanner speed: each page is decoded, turned upright
//! (from its ink, Tesseract's orientation detection when in doubt), deskewed (projection profile),
//! cleaned for OCR (red seals dropped out, specks removed, contrast stretched, resampled to 200 dpi,
//! adaptively binarised), checked for blankness, recognised with Tesseract (`vie`, word boxes and
//! confidences) and judged for operator review. Then the pages become one PDF/A-2b with an
//! invisible text layer, and BLAKE3 hashes of every page image and of the PDF go on to the signer.
//!
//! Main types: [`Capture`] (a pool of OCR workers, one engine each, behind a bounded queue, which
//! splits a lone page's OCR across its idle workers),
//! [`PageSource`] (a page not yet decoded), [`PageProgress`] (what the operator's screen shows),
//! [`CapturedPage`] (what goes on to sealing and the archive), [`PdfWriter`] (the PDF/A, written
//! page by page as pages are read) and [`PageReading`] (a page's reading without its image, which
//! another process makes and [`apply_reading`] applies to this process's own scan).
//!
//! The archived page image is the faithful scan: only orientation and deskew are ever applied to it,
//! never the clean-up made for OCR, because seals and colour are part of the legal copy. Capture never
//! writes to the archive, never touches key material, and never sets process-wide state: the binary
//! must start with `OMP_THREAD_LIMIT=1` in its environment (libgomp reads it when it is loaded, before
//! `main`), because OpenMP threads inside parallel workers multiply wall time on small machines.
#![deny(missing_docs)]

mod error;
mod ocr;
mod page;
mod pdf;
mod preprocess;
mod reading;
mod split;

// Where the unit tests find the test pages: the root's std-only test helpers, the same file every test uses.
#[cfg(test)]
#[path = "../../tests/files.rs"]
#[allow(dead_code)]
mod test_files;

pub use error::CaptureError;
pub use ocr::{Line, OcrConfig, PageText, Word};
pub use page::{CapturedPage, Correction, MIN_DPI, PageFlag, PageStage, REVIEW_CONFIDENCE, TextSource};
pub use pdf::{DOCUMENT_CODE_KEY, PdfWriter, WrittenPdf, image_streams};
pub use reading::{
    InvalidReading, MAX_DESKEW_DEGREES, MAX_LINES, MAX_TEXT_BYTES, MAX_WORD_BYTES, MAX_WORDS, PageReading,
    apply_reading,
};

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use scanner_driver::{DriverError, RawPage};

/// A page waiting to be captured: how to obtain its pixels. Decoding runs on a worker, so that only
/// as many pages are decoded at once as there are workers, whatever the size of the batch.
pub type PageSource = Box<dyn FnOnce() -> Result<RawPage, DriverError> + Send>;

/// Progress of one page of a document being captured.
#[derive(Debug, Clone, PartialEq)]
pub struct PageProgress {
    /// 1-based page number in the document.
    pub page: u32,
    /// Where the page is.
    pub stage: PageStage,
}

/// How many pages of one document may be between the feeder and the caller per worker: queued,
/// being read, or read and not yet taken. One lets every worker read a page of it, and leaves at
/// least half the shared queue (two per worker) to the pages of other documents, which are so read
/// in turn: with more, a long document filled the queue and its feeder, woken first each time a
/// page finished, took every freed place, so a short document's last page waited for its end.
const PAGES_IN_FLIGHT_PER_WORKER: usize = 1;

/// One page of work for the pool.
struct Job {
    number: u32,
    source: PageSource,
    reply: mpsc::Sender<Message>,
    /// Set when another page of the same document failed: its remaining pages are skipped.
    cancelled: Arc<AtomicBool>,
}

/// What the pool's queue carries: pages of documents, and bands of a page being split (`split`).
enum Task {
    Page(Job),
    Band(Arc<split::Band>),
}

/// What a worker tells the document waiting on it.
enum Message {
    Stage(u32, PageStage),
    Done(Box<Result<CapturedPage, CaptureError>>),
}

/// The capture stage: a pool of OCR workers, one Tesseract engine each, fed through a bounded queue,
/// and the PDF assembler. Pages of several documents are in flight at once; a caller whose pages do
/// not fit in the queue waits (backpressure), so memory stays bounded by the queue, not the batch.
/// A page that comes while workers are idle has its OCR split between them (`split`), so that a lone
/// page uses every core.
pub struct Capture {
    jobs: Option<SyncSender<Task>>,
    crew: Arc<split::Crew>,
    workers: Vec<JoinHandle<()>>,
    glyphless_font: Vec<u8>,
}

impl Capture {
    /// Starts the worker pool: checks the language data and loads the glyphless font the text layer
    /// uses. Each worker starts its engines on its first page and keeps them.
    pub fn new(config: OcrConfig) -> Result<Self, CaptureError> {
        ocr::check_language_data(&config)?;
        let font_path = config.tessdata.join("pdf.ttf");
        let glyphless_font = std::fs::read(&font_path).map_err(|source| CaptureError::Setup {
            what: format!("cannot read Tesseract's glyphless font {}", font_path.display()),
            source: Some(Box::new(source)),
        })?;
        let count = config.workers.max(1);
        // Two pages per worker: one being worked on, one ready, so a worker never waits for a feeder.
        let (jobs, queue) = mpsc::sync_channel::<Task>(2 * count);
        let queue = Arc::new(Mutex::new(queue));
        let crew = Arc::new(split::Crew::new(jobs.clone()));
        let workers = (0..count)
            .map(|i| {
                let (queue, crew, config) = (Arc::clone(&queue), Arc::clone(&crew), config.clone());
                let work = move || work(&queue, &crew, &config);
                std::thread::Builder::new().name(format!("ocr-{i}")).spawn(work).map_err(|e| CaptureError::Setup {
                    what: "cannot start an OCR worker".into(),
                    source: Some(Box::new(e)),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Capture { jobs: Some(jobs), crew, workers, glyphless_font })
    }

    /// Number of OCR workers.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Pages whose OCR was split across workers since the pool started: pages that came when other
    /// workers were idle and whose layout allowed a cut (the `split` module says when).
    pub fn pages_split(&self) -> u64 {
        self.crew.pages_split()
    }

    /// Captures the pages of one document through the pool and returns them in page order; `progress`
    /// hears every page's stages as they happen. The first page that fails stops the document's
    /// remaining pages and its error is returned.
    pub fn capture(
        &self,
        pages: Vec<PageSource>,
        progress: &mut dyn FnMut(PageProgress),
    ) -> Result<Vec<CapturedPage>, CaptureError> {
        let mut done: Vec<Option<CapturedPage>> = vec![None; pages.len()];
        self.capture_each::<CaptureError>(pages, progress, &mut |page| {
            let slot = page.number as usize - 1;
            done[slot] = Some(page);
            Ok(())
        })?;
        // Every page was handed over once `capture_each` succeeds.
        Ok(done.into_iter().flatten().collect())
    }

    /// Captures the pages of one document through the pool, handing each to `done` as soon as it
    /// is read, in the order they finish, so that the caller keeps only what it needs of each (a
    /// long document is never held whole). `progress` hears every page's stages. The first page
    /// that fails, or the first error of `done`, stops the document's remaining pages and is
    /// returned; a page the pool did not process (it stopped) is an error too.
    pub fn capture_each<E: From<CaptureError>>(
        &self,
        pages: Vec<PageSource>,
        progress: &mut dyn FnMut(PageProgress),
        done: &mut dyn FnMut(CapturedPage) -> Result<(), E>,
    ) -> Result<(), E> {
        let count = pages.len();
        let jobs = self.jobs.as_ref().expect("the pool runs until the capture stage is dropped");
        let cancelled = Arc::new(AtomicBool::new(false));
        let (reply, replies) = mpsc::channel();
        for page in 1..=count as u32 {
            progress(PageProgress { page, stage: PageStage::Queued });
        }
        let mut handed = 0;
        let mut first_error: Option<E> = None;
        // Permits for the pages of this document between the feeder and `done`: one is taken for
        // each page sent and given back once `done` has it, so that pages read faster than `done`
        // takes them (a slow disk) wait as sources, not as images in the reply channel.
        let (permit, permits) = mpsc::sync_channel::<()>(PAGES_IN_FLIGHT_PER_WORKER * self.workers.len());
        let mut permits = Some(permits);
        std::thread::scope(|scope| {
            let cancelled_feed = Arc::clone(&cancelled);
            // The feeder blocks while the queue is full, or while this document has all its
            // permits out; replies keep flowing to this thread meanwhile.
            scope.spawn(move || {
                for (i, source) in pages.into_iter().enumerate() {
                    if cancelled_feed.load(Ordering::Relaxed) || permit.send(()).is_err() {
                        break;
                    }
                    let job = Job {
                        number: i as u32 + 1,
                        source,
                        reply: reply.clone(),
                        cancelled: Arc::clone(&cancelled_feed),
                    };
                    // Counted before it is sent, so that no worker sees an idle peer as spare while
                    // this page waits for it.
                    self.crew.page_queued();
                    if jobs.send(Task::Page(job)).is_err() {
                        self.crew.page_taken();
                        break;
                    }
                }
            });
            for message in replies {
                match message {
                    Message::Stage(page, stage) => progress(PageProgress { page, stage }),
                    Message::Done(result) if first_error.is_none() => {
                        match (*result).map_err(E::from).and_then(&mut *done) {
                            Ok(()) => {
                                handed += 1;
                                if let Some(permits) = &permits {
                                    let _ = permits.recv();
                                }
                            }
                            Err(e) => {
                                cancelled.store(true, Ordering::Relaxed);
                                first_error = Some(e);
                                // A cancelled page is dropped without a reply, so its permit never
                                // comes back: a feeder waiting for one is let go instead.
                                permits = None;
                            }
                        }
                    }
                    // After the first failure, pages still in flight are dropped as they come.
                    Message::Done(_) => {}
                }
            }
        });
        if let Some(e) = first_error {
            return Err(e);
        }
        if handed != count {
            return Err(CaptureError::Setup {
                what: format!("{} of {count} pages were not processed: the OCR pool stopped", count - handed),
                source: None,
            }
            .into());
        }
        Ok(())
    }

    /// A writer of the PDF/A-2b of a document of `pages` pages to `out`, which takes each page as it
    /// is read ([`capture_each`](Self::capture_each)).
    pub fn pdf_writer<W: std::io::Write>(&self, out: W, pages: u32) -> Result<PdfWriter<W>, CaptureError> {
        PdfWriter::start(out, pages, &self.glyphless_font)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // Closing the queue ends each worker after its current page.
        self.jobs.take();
        self.crew.close();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A worker's life: take a page or a band, run it on this worker's engines, reply; until the queue
/// closes.
fn work(queue: &Mutex<Receiver<Task>>, crew: &split::Crew, config: &OcrConfig) {
    let mut engine: Option<ocr::Engine> = None;
    loop {
        crew.waiting();
        let task = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
        crew.working();
        let job = match task {
            Ok(Task::Page(job)) => {
                crew.page_taken();
                job
            }
            Ok(Task::Band(band)) => {
                // The worker that split the page may have read this band itself meanwhile.
                if let Some(image) = band.claim() {
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        band.read(started(&mut engine, config).map_err(|e| e.to_string())?, &image)
                    }));
                    band.reply(result.unwrap_or_else(|_| {
                        engine = None;
                        Err(format!("band {} of the page: the OCR worker failed unexpectedly", band.number()))
                    }));
                }
                continue;
            }
            Err(_) => return,
        };
        if job.cancelled.load(Ordering::Relaxed) {
            continue;
        }
        let Job { number, source, reply, .. } = job;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let raw = source().map_err(|source| CaptureError::Input { page: number, source })?;
            page::process(started(&mut engine, config)?, crew, raw, number, &mut |stage| {
                let _ = reply.send(Message::Stage(number, stage));
            })
        }));
        let result = result.unwrap_or_else(|_| {
            // An engine that was interrupted by a panic may be in any state: start a fresh one.
            engine = None;
            Err(CaptureError::Setup {
                what: format!("page {number}: the OCR worker failed unexpectedly"),
                source: None,
            })
        });
        let _ = reply.send(Message::Done(Box::new(result)));
    }
}

/// This worker's engines, started on its first page or band and kept.
fn started<'e>(engine: &'e mut Option<ocr::Engine>, config: &OcrConfig) -> Result<&'e mut ocr::Engine, CaptureError> {
    match engine {
        Some(engine) => Ok(engine),
        None => Ok(engine.insert(ocr::Engine::start(config)?)),
    }
}
