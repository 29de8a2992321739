//! The appliance's numbers for an operations team, in the Prometheus text format (served at
//! `/metrics`): pages and documents by stage, the work in flight, OCR and ingest time, HTTP latency
//! by route, failed logins, the size of the archive and the search index, the replication and
//! publication lags, and the problems found in the other offices' logs.
//! Counters and histograms are kept as things happen; sizes, queue depths and the lag are read when
//! the metrics are asked for.
//! Labels take values from fixed sets only (stages, route patterns, status classes), so that no
//! client can grow the series.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use capture::{PageProgress, PageStage};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Reading the metrics: admins, and the access tokens of monitoring systems.
pub const READ: crate::ops::Permit =
    crate::ops::Permit { what: "read the metrics", roles: &[crate::users::Role::Admin, crate::users::Role::Monitor] };

/// A stage of a page or a document.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Stage {
    stage: &'static str,
}

/// A data store on disk.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Store {
    store: &'static str,
}

/// A queue of work.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Queue {
    queue: &'static str,
}

/// What became of a page offered to the OCR workers (see [`crate::offload`]).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Offload {
    outcome: &'static str,
}

/// An HTTP request, by route pattern (never the raw path), method and status class.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    route: String,
    method: &'static str,
    status: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds_histogram() -> Histogram {
    // 1 ms to about 9 minutes: an API read to a long dossier's ingest.
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

/// The appliance's metrics.
pub struct Metrics {
    registry: Registry,
    pages: Family<Stage, Counter>,
    documents: Family<Stage, Counter>,
    ocr_seconds: Histogram,
    ingest_seconds: Histogram,
    capture_seconds: Histogram,
    capture_to_archive_seconds: Histogram,
    in_flight: Family<Queue, Gauge>,
    http: Histograms<Request>,
    failed_logins: Counter,
    storage: Family<Store, Gauge<u64, AtomicU64>>,
    replication_events_behind: Gauge<u64, AtomicU64>,
    replication_oldest_pending: Gauge<u64, AtomicU64>,
    province_log_problems: Gauge<u64, AtomicU64>,
    publication_events_behind: Gauge<u64, AtomicU64>,
    publication_oldest_pending: Gauge<u64, AtomicU64>,
    offload_pages: Family<Offload, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sohoa");
        let pages = Family::<Stage, Counter>::default();
        registry.register("pages", "Pages that reached a stage of capture", pages.clone());
        let documents = Family::<Stage, Counter>::default();
        registry.register("documents", "Documents captured, archived, or refused", documents.clone());
        let ocr_seconds = seconds_histogram();
        registry.register("ocr_seconds", "Time of one page in the OCR engine", ocr_seconds.clone());
        let ingest_seconds = seconds_histogram();
        registry.register(
            "ingest_seconds",
            "Time from receiving a document's pages to archiving it",
            ingest_seconds.clone(),
        );
        let capture_seconds = seconds_histogram();
        registry.register(
            "capture_seconds",
            "Time from receiving a document's pages to acknowledging its capture",
            capture_seconds.clone(),
        );
        let capture_to_archive_seconds = seconds_histogram();
        registry.register(
            "capture_to_archive_seconds",
            "Time from a document's capture to its archiving (the reading queue's wait and the reading)",
            capture_to_archive_seconds.clone(),
        );
        let in_flight = Family::<Queue, Gauge>::default();
        registry.register("queue_depth", "Work waiting or in progress", in_flight.clone());
        let http: Histograms<Request> = Family::new_with_constructor(seconds_histogram);
        registry.register("http_request_duration_seconds", "HTTP requests by route pattern", http.clone());
        let failed_logins = Counter::default();
        registry.register(
            "failed_logins",
            "Logins refused (wrong name or password, disabled account)",
            failed_logins.clone(),
        );
        let storage = Family::<Store, Gauge<u64, AtomicU64>>::default();
        registry.register(
            "storage_bytes",
            "Size on disk of the archive (RocksDB) and the search index (tantivy)",
            storage.clone(),
        );
        let replication_events_behind = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "replication_events_behind",
            "Archive events not yet copied to the province's object store",
            replication_events_behind.clone(),
        );
        let replication_oldest_pending = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "replication_oldest_pending_seconds",
            "How long the oldest event not yet copied to the object store has waited",
            replication_oldest_pending.clone(),
        );
        let province_log_problems = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "province_log_problems",
            "Problems the last witness of the other offices' logs found: forks, rewritten history, bad signatures",
            province_log_problems.clone(),
        );
        let publication_events_behind = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "publication_events_behind",
            "Archive events not yet published to the province index",
            publication_events_behind.clone(),
        );
        let publication_oldest_pending = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "publication_oldest_pending_seconds",
            "How long the oldest event not yet published to the province index has waited",
            publication_oldest_pending.clone(),
        );
        let offload_pages = Family::<Offload, Counter>::default();
        registry.register(
            "offload_pages",
            "Pages sent to the OCR workers, and what became of their results: applied, duplicate (dropped), \
             invalid or failed (read here), timed out (read here)",
            offload_pages.clone(),
        );
        Metrics {
            registry,
            offload_pages,
            replication_events_behind,
            province_log_problems,
            replication_oldest_pending,
            publication_events_behind,
            publication_oldest_pending,
            pages,
            documents,
            ocr_seconds,
            ingest_seconds,
            capture_seconds,
            capture_to_archive_seconds,
            in_flight,
            http,
            failed_logins,
            storage,
        }
    }
}

/// What a document's ingest came to.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// Archived.
    Archived,
    /// Refused (bad input, or a failure on the way): nothing was archived.
    Refused,
}

impl Metrics {
    fn queue(&self, queue: &'static str) -> Gauge {
        self.in_flight.get_or_create(&Queue { queue }).clone()
    }

    /// Sets a queue's depth read from elsewhere (the hot folder's waiting files, uploads received).
    pub fn set_queue(&self, queue: &'static str, depth: usize) {
        self.queue(queue).set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// A queue's depth now (0 for a queue that never had work).
    pub fn queue_depth(&self, queue: &'static str) -> i64 {
        self.queue(queue).get()
    }

    /// Records an HTTP request's time under its route pattern.
    pub fn http_request(&self, route: &str, method: &'static str, status: u16, time: Duration) {
        let status = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let labels = Request { route: route.to_owned(), method, status };
        self.http.get_or_create(&labels).observe(time.as_secs_f64());
    }

    /// Counts a document captured, and the time it took to acknowledge.
    pub fn captured(&self, time: Duration) {
        self.documents.get_or_create(&Stage { stage: "captured" }).inc();
        self.capture_seconds.observe(time.as_secs_f64());
    }

    /// Records the time from a document's capture to its archiving.
    pub fn archived_after_capture(&self, seconds: f64) {
        self.capture_to_archive_seconds.observe(seconds);
    }

    /// Sets the replication lag read from the archive (see [`crate::province::Lag`]).
    pub fn set_replication_lag(&self, events_behind: u64, oldest_pending_seconds: u64) {
        self.replication_events_behind.set(events_behind);
        self.replication_oldest_pending.set(oldest_pending_seconds);
    }

    /// Sets what the last witness of the other offices' logs found wrong.
    pub fn set_province_log_problems(&self, problems: u64) {
        self.province_log_problems.set(problems);
    }

    /// Sets the publication lag read from the archive (see [`crate::province::Lag`]).
    pub fn set_publication_lag(&self, events_behind: u64, oldest_pending_seconds: u64) {
        self.publication_events_behind.set(events_behind);
        self.publication_oldest_pending.set(oldest_pending_seconds);
    }

    /// The counter of offloaded pages, which the offload's own threads count into.
    pub fn offload_counter(&self) -> OffloadCounter {
        OffloadCounter(self.offload_pages.clone())
    }

    /// Counts a refused login.
    pub fn failed_login(&self) {
        self.failed_logins.inc();
    }

    /// The metrics in the Prometheus text format, with the sizes of the stores under `data` read now.
    pub fn render(&self, data: &Path) -> Result<String, std::fmt::Error> {
        for (store, dir) in [("archive", "archive"), ("search", "search")] {
            self.storage.get_or_create(&Store { store }).set(tree_size(&data.join(dir)));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// `sohoa_offload_pages_total{outcome}`, shared with the offload (see [`crate::offload`]).
#[derive(Clone, Default)]
pub struct OffloadCounter(Family<Offload, Counter>);

impl OffloadCounter {
    /// Counts one page with `outcome`: `sent`, `applied`, `duplicate`, `invalid`, `failed` or
    /// `timed_out`.
    pub fn count(&self, outcome: &'static str) {
        self.0.get_or_create(&Offload { outcome }).inc();
    }

    /// The pages counted with `outcome` so far.
    pub fn get(&self, outcome: &'static str) -> u64 {
        self.0.get_or_create(&Offload { outcome }).get()
    }
}

/// The bytes of the files under `dir`, without following links.
fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => tree_size(&entry.path()),
            Ok(t) if t.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// Follows one ingest for the metrics while it lives: the ingest and its pages are in the capture
/// queue until they are done or the ingest ends, however it ends; each page's stages are counted, and
/// its time in OCR measured.
pub struct IngestTimer<'a> {
    metrics: &'a Metrics,
    started: Instant,
    ocr_started: HashMap<u32, Instant>,
    waiting: HashSet<u32>,
}

impl<'a> IngestTimer<'a> {
    /// Starts following an ingest.
    pub fn new(metrics: &'a Metrics) -> Self {
        metrics.queue("ingests").inc();
        IngestTimer { metrics, started: Instant::now(), ocr_started: HashMap::new(), waiting: HashSet::new() }
    }

    /// Notes a page's progress.
    pub fn note(&mut self, event: &PageProgress) {
        self.metrics.pages.get_or_create(&Stage { stage: event.stage.name() }).inc();
        match event.stage {
            PageStage::Queued => {
                if self.waiting.insert(event.page) {
                    self.metrics.queue("ingest_pages").inc();
                }
            }
            PageStage::Ocr => {
                self.ocr_started.insert(event.page, Instant::now());
            }
            PageStage::Done | PageStage::Flagged(_) => {
                if let Some(started) = self.ocr_started.remove(&event.page) {
                    self.metrics.ocr_seconds.observe(started.elapsed().as_secs_f64());
                }
                if self.waiting.remove(&event.page) {
                    self.metrics.queue("ingest_pages").dec();
                }
            }
            PageStage::Preprocessing => {}
        }
    }

    /// Records the ingest's outcome and time.
    pub fn finish(self, outcome: Outcome) {
        let stage = match outcome {
            Outcome::Archived => "archived",
            Outcome::Refused => "refused",
        };
        self.metrics.documents.get_or_create(&Stage { stage }).inc();
        if let Outcome::Archived = outcome {
            self.metrics.ingest_seconds.observe(self.started.elapsed().as_secs_f64());
        }
    }
}

impl Drop for IngestTimer<'_> {
    fn drop(&mut self) {
        self.metrics.queue("ingests").dec();
        self.metrics.queue("ingest_pages").dec_by(i64::try_from(self.waiting.len()).unwrap_or(i64::MAX));
    }
}
