//! The reading queue: documents captured and acknowledged, waiting to be read, signed and archived.
//!
//! Its durable form is the archive's captured entries ([`archive::Archive::captured_documents`]): a
//! capture is acknowledged once its entry is synced, and the batch that writes the record removes it,
//! so a restart resumes from the archive alone and a document is archived exactly once. What this
//! module adds is what the running appliance knows besides: which documents are being read and how
//! far, which failed and when they are tried again, and what finished lately, for the queue's report
//! and the scanning station's events.
//!
//! Readers take documents oldest capture first, several at a time (see [`readers`]): every
//! document's pages go through the capture pool's one bounded queue, so the pages of a 500-page
//! document and of the 2-page documents captured after it are read interleaved rather than one
//! document after the other.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use archive::CapturedDocument;
use chrono::{DateTime, FixedOffset};
use domain::DocumentCode;
use serde::Serialize;

use crate::{Appliance, ApplianceError};

/// Reading the queue: whoever captures, and the officers and auditors who follow the work.
pub const READ: crate::ops::Permit = crate::ops::Permit {
    what: "see the reading queue",
    roles: &[
        crate::users::Role::Operator,
        crate::users::Role::Officer,
        crate::users::Role::Auditor,
        crate::users::Role::Admin,
        crate::users::Role::Station,
    ],
};

/// How many documents archived lately the queue's report lists.
const FINISHED_KEPT: usize = 256;
/// The wait after a document's first failed reading; it doubles up to [`RETRY_CAP`].
const RETRY_FIRST: Duration = Duration::from_secs(5);
/// The longest wait between two readings of a document that keeps failing.
const RETRY_CAP: Duration = Duration::from_secs(600);

/// Where a document stands between its capture and its archiving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Captured: its pages are durable and sealed, its code is taken; it waits to be read.
    Captured,
    /// Being read (orientation, OCR, PDF/A, signature).
    Reading,
    /// Archived: signed, logged and indexed.
    Archived,
}

impl Stage {
    /// The stage's name as commands show it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Captured => "captured",
            Stage::Reading => "reading",
            Stage::Archived => "archived",
        }
    }
}

/// A document of the reading queue, as the queue's report shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueuedDocument {
    /// The document code.
    pub code: String,
    /// The owner's personal ID, if any.
    pub owner: Option<String>,
    /// The document type code.
    pub doc_type: String,
    /// The document's name.
    pub name: String,
    /// Who captured it.
    pub operator: String,
    /// Its pages.
    pub pages: usize,
    /// Pages read so far in the current reading.
    pub pages_read: usize,
    /// When it was captured (+07:00, RFC 3339).
    pub captured_at: String,
    /// Captured (waiting) or reading.
    pub stage: Stage,
    /// Readings that failed so far.
    pub failures: u32,
    /// Why the last reading failed, if one did; it is tried again.
    pub last_error: Option<String>,
}

/// A document archived lately.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArchivedLately {
    /// The document code.
    pub code: String,
    /// Who captured it.
    pub operator: String,
    /// Seconds from its capture to its archiving.
    pub seconds_from_capture: f64,
}

/// The reading queue as it stands: `sohoa queue`, `GET /api/queue`, the station's events.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueReport {
    /// Documents captured and not yet archived.
    pub depth: usize,
    /// Their pages.
    pub pages: usize,
    /// Each, oldest capture first.
    pub documents: Vec<QueuedDocument>,
    /// The documents archived lately, newest first.
    pub archived: Vec<ArchivedLately>,
}

struct Entry {
    document: CapturedDocument,
    reading: bool,
    pages_read: usize,
    failures: u32,
    last_error: Option<String>,
    due: Instant,
}

struct Finished {
    code: String,
    operator: String,
    seconds: f64,
}

#[derive(Default)]
struct State {
    /// Every captured document not yet archived, in capture order.
    entries: VecDeque<Entry>,
    finished: VecDeque<Finished>,
    stopped: bool,
    /// Counts changes, so that a follower can tell whether anything happened since it last looked.
    version: u64,
}

/// The running appliance's view of the reading queue (see the module's documentation).
pub struct ReadingQueue {
    state: Mutex<State>,
    changed: Condvar,
    /// The version after each change, for followers on the async side (the station's events).
    versions: tokio::sync::watch::Sender<u64>,
    /// Set once the appliance stops: readings in progress start no more pages.
    stopping: Arc<AtomicBool>,
}

impl Default for ReadingQueue {
    fn default() -> Self {
        ReadingQueue {
            state: Mutex::default(),
            changed: Condvar::new(),
            versions: tokio::sync::watch::Sender::new(0),
            stopping: Arc::default(),
        }
    }
}

/// What a reader was handed: the document, and the queue to report its progress to.
pub struct Taken<'a> {
    queue: &'a ReadingQueue,
    /// The captured document to read.
    pub document: CapturedDocument,
    done: bool,
}

impl Taken<'_> {
    /// Notes that one more page of the document was read.
    pub fn page_read(&self) {
        self.queue.update(&self.document.code, |e| e.pages_read += 1);
    }

    /// The document is archived `seconds` after its capture: it leaves the queue, and is listed
    /// among those archived lately.
    pub fn archived(mut self, seconds: f64) {
        self.done = true;
        let code = self.document.code.to_string();
        let operator = self.document.actor.clone();
        self.queue.finish(&code, Finished { code: code.clone(), operator, seconds });
    }

    /// The reading failed: the document stays captured, to be read again after a delay that grows
    /// with its failures.
    pub fn failed(mut self, error: &ApplianceError) {
        self.done = true;
        let message = error.to_string();
        self.queue.update(&self.document.code, |e| {
            e.reading = false;
            e.pages_read = 0;
            e.failures += 1;
            e.due = Instant::now() + retry_delay(e.failures);
            e.last_error = Some(message);
        });
    }
}

impl Drop for Taken<'_> {
    /// A reading that ended without saying how (the appliance stopping, a panic) leaves the
    /// document to be read again at once.
    fn drop(&mut self) {
        if !self.done {
            self.queue.update(&self.document.code, |e| {
                e.reading = false;
                e.pages_read = 0;
            });
        }
    }
}

fn retry_delay(failures: u32) -> Duration {
    RETRY_FIRST.saturating_mul(1 << failures.saturating_sub(1).min(16)).min(RETRY_CAP)
}

impl ReadingQueue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self, mut state: MutexGuard<'_, State>) {
        state.version += 1;
        let version = state.version;
        drop(state);
        self.changed.notify_all();
        self.versions.send_replace(version);
    }

    fn update(&self, code: &DocumentCode, change: impl FnOnce(&mut Entry)) {
        let mut state = self.lock();
        if let Some(entry) = state.entries.iter_mut().find(|e| &e.document.code == code) {
            change(entry);
        }
        self.changed(state);
    }

    fn finish(&self, code: &str, finished: Finished) {
        let mut state = self.lock();
        state.entries.retain(|e| e.document.code.to_string() != code);
        state.finished.push_front(finished);
        state.finished.truncate(FINISHED_KEPT);
        self.changed(state);
    }

    /// Adds captured documents to be read (at start, those the archive holds; then each new capture).
    pub fn push(&self, documents: impl IntoIterator<Item = CapturedDocument>) {
        let mut state = self.lock();
        for document in documents {
            let entry =
                Entry { document, reading: false, pages_read: 0, failures: 0, last_error: None, due: Instant::now() };
            state.entries.push_back(entry);
        }
        self.changed(state);
    }

    /// Adds a document just captured by a caller who reads it at once, taken by that caller so that
    /// no reader takes it meanwhile.
    pub fn push_taken(&self, document: CapturedDocument) -> Taken<'_> {
        let mut state = self.lock();
        let entry = Entry {
            document: document.clone(),
            reading: true,
            pages_read: 0,
            failures: 0,
            last_error: None,
            due: Instant::now(),
        };
        state.entries.push_back(entry);
        self.changed(state);
        Taken { queue: self, document, done: false }
    }

    /// Waits for the oldest captured document that no one reads and whose retry delay is over, and
    /// takes it; `None` once the queue is stopped, or, when `wait` is false, when none is due now.
    pub fn next(&self, wait: bool) -> Option<Taken<'_>> {
        let mut state = self.lock();
        loop {
            if state.stopped {
                return None;
            }
            let now = Instant::now();
            if let Some(entry) = state.entries.iter_mut().find(|e| !e.reading && e.due <= now) {
                entry.reading = true;
                let document = entry.document.clone();
                self.changed(state);
                return Some(Taken { queue: self, document, done: false });
            }
            if !wait {
                return None;
            }
            let next_due = state.entries.iter().filter(|e| !e.reading).map(|e| e.due).min();
            let timeout = next_due.map_or(RETRY_CAP, |due| due.saturating_duration_since(now));
            state = self.changed.wait_timeout(state, timeout).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Stops the readers: each ends after the document it reads (its reading is not committed once
    /// the appliance stops taking ingests, and it stays captured).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let mut state = self.lock();
        state.stopped = true;
        self.changed(state);
    }

    /// Waits until no document is being read, or `limit` passes: after [`stop`](Self::stop), each
    /// reading ends after the pages already in the OCR engines, those of requests that read their
    /// document themselves (`wait=archived`) included.
    pub fn wait_idle(&self, limit: Duration) {
        let state = self.lock();
        let _ = self
            .changed
            .wait_timeout_while(state, limit, |s| s.entries.iter().any(|e| e.reading))
            .unwrap_or_else(|p| p.into_inner());
    }

    /// What a reading checks before each page: set once the appliance stops, so that a long
    /// document's reading ends after the pages already in the OCR engines rather than after all of
    /// them (it stays captured, and is read again from the start at the next start).
    pub fn stopping(&self) -> Arc<AtomicBool> {
        self.stopping.clone()
    }

    /// The stage of `code` if it is captured and not yet archived.
    pub fn stage_of(&self, code: &DocumentCode) -> Option<Stage> {
        self.lock()
            .entries
            .iter()
            .find(|e| &e.document.code == code)
            .map(|e| if e.reading { Stage::Reading } else { Stage::Captured })
    }

    /// Pages of the queue's documents not read yet: those waiting and those of readings under way
    /// not done, which is how far behind reading is (the offload's threshold).
    pub fn pages_waiting(&self) -> usize {
        self.lock().entries.iter().map(|e| e.document.pages.len().saturating_sub(e.pages_read)).sum()
    }

    /// Follows the queue's changes: the receiver sees a new value after each.
    pub fn follow(&self) -> tokio::sync::watch::Receiver<u64> {
        self.versions.subscribe()
    }

    /// The queue as it stands.
    pub fn report(&self) -> QueueReport {
        let state = self.lock();
        let documents: Vec<QueuedDocument> = state.entries.iter().map(queued).collect();
        QueueReport {
            depth: documents.len(),
            pages: documents.iter().map(|d| d.pages).sum(),
            documents,
            archived: state
                .finished
                .iter()
                .map(|f| ArchivedLately {
                    code: f.code.clone(),
                    operator: f.operator.clone(),
                    seconds_from_capture: f.seconds,
                })
                .collect(),
        }
    }
}

fn queued(entry: &Entry) -> QueuedDocument {
    let d = &entry.document;
    QueuedDocument {
        code: d.code.to_string(),
        owner: d.metadata.owner().map(|o| o.as_str().to_owned()),
        doc_type: d.metadata.doc_type().as_str().to_owned(),
        name: d.metadata.name().to_owned(),
        operator: d.actor.clone(),
        pages: d.pages.len(),
        pages_read: entry.pages_read,
        captured_at: d.captured_at.to_rfc3339(),
        stage: if entry.reading { Stage::Reading } else { Stage::Captured },
        failures: entry.failures,
        last_error: entry.last_error.clone(),
    }
}

/// What `sohoa queue --read` did.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRead {
    /// Documents read and archived.
    pub archived: usize,
    /// Documents still captured (their reading failed; they are tried again).
    pub waiting: usize,
}

/// How many documents are read at once: one more than the capture pool has workers, so that a
/// long document never holds every reader and the pool always has a next document's pages.
pub fn readers(workers: usize) -> usize {
    workers.max(1) + 1
}

/// Seconds from `captured_at` to now. Capture times are kept to the second (as every time a record
/// states), so the clock is read to the millisecond here: a reading shorter than a second still
/// shows as the time it took, plus the part of a second the capture time dropped.
pub fn seconds_since(captured_at: DateTime<FixedOffset>) -> f64 {
    (chrono::Utc::now().fixed_offset() - captured_at).num_milliseconds().max(0) as f64 / 1000.0
}

/// Starts the readers of a served appliance: each reads the next due document until the queue stops.
/// Join them after [`Appliance::stop_ingests`], so that no page is in an OCR engine when the process
/// ends (Tesseract's shared data is torn down at exit).
pub fn spawn_readers(appliance: Arc<Appliance>) -> std::io::Result<Vec<JoinHandle<()>>> {
    // A document whose pages are with the OCR workers holds a reader while it waits: there are as
    // many more readers, so that as many as without offloading keep the pool busy.
    let offloading = appliance.offload().map_or(0, |o| o.documents_at_once());
    (0..readers(appliance.capture_workers()) + offloading)
        .map(|n| {
            let appliance = appliance.clone();
            std::thread::Builder::new().name(format!("reader {n}")).spawn(move || {
                while let Some(taken) = appliance.reading_queue().next(true) {
                    let code = taken.document.code.clone();
                    if let Err(e) = appliance.read_taken(taken) {
                        tracing::warn!(%code, "reading a captured document failed; it stays captured and is tried again: {e}");
                    }
                }
            })
        })
        .collect()
}
