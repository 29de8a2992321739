//! The appliance's side of the offload: the connection kept in the background, the jobs sent for one
//! document's pages ([`Offloaded`]), and the results consumed and handed to the reader that waits for
//! them, each at most once (see the module above for the whole flow).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage};
use capture::PageReading;
use futures_util::StreamExt;
use scanner_driver::Dpi;

use super::wire::{JobHeader, ResultBody, decode_result, encode_job};
use super::{OffloadError, link};
use crate::config::OffloadConfig;
use crate::metrics::OffloadCounter;

/// Room left in a message for its NATS headers (the message id) besides the job.
const HEADERS_ROOM: usize = 1024;
/// How long publishing one job may take before the page is read here instead.
const PUBLISH_WITHIN: Duration = Duration::from_secs(10);
/// How long opening the appliance waits for the cluster to answer first.
const FIRST_LINK_WITHIN: Duration = Duration::from_secs(5);
/// The wait before connecting again after the connection or the results' consumer failed.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);

/// The appliance's link to the workers (see [`crate::offload`]).
pub struct Offloader {
    config: OffloadConfig,
    name: String,
    /// Random, new at each start: a result for a job of an earlier process is never taken for one
    /// of this process.
    nonce: String,
    runtime: Option<tokio::runtime::Runtime>,
    shared: Arc<Shared>,
}

/// What the background task and the readers share.
struct Shared {
    /// The JetStream context and the servers' `max_payload`, once connected; `None` while not.
    link: Mutex<Option<Link>>,
    /// The jobs whose result is awaited, by job id: taking a job out is applying its result.
    pending: Mutex<HashMap<String, Waiting>>,
    /// Documents whose pages are with the workers now.
    documents: AtomicUsize,
    counter: OffloadCounter,
    /// Told when the link is first up, which [`Offloader::start`] waits for a little.
    first_link: Mutex<Option<mpsc::SyncSender<()>>>,
}

#[derive(Clone)]
struct Link {
    js: jetstream::Context,
    max_payload: usize,
}

/// A job sent and not yet answered.
struct Waiting {
    document: String,
    page: u32,
    reply: mpsc::Sender<(u32, Delivered)>,
}

/// A result as it reaches the reader waiting for it.
#[derive(Debug)]
pub enum Delivered {
    /// The worker's reading, still to be checked against the page.
    Read(PageReading),
    /// The worker could not read the page.
    Failed(String),
    /// The result does not answer the job it names.
    Invalid(String),
}

/// A page to send: what the worker needs of it.
pub struct PageJob<'a> {
    /// The document code.
    pub document: &'a str,
    /// The 1-based page number.
    pub page: u32,
    /// Its origin (file name), which tells its format.
    pub origin: &'a str,
    /// Its resolution.
    pub dpi: Dpi,
    /// The captured image's bytes.
    pub image: &'a [u8],
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Offloader {
    /// Starts connecting to the cluster in the background (the appliance starts, and reads every
    /// page itself, whether NATS answers or not) as appliance `name` (default from `origin`).
    pub fn start(config: &OffloadConfig, origin: &str, counter: OffloadCounter) -> Result<Offloader, OffloadError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("offload")
            .enable_all()
            .build()
            .map_err(|e| OffloadError::Setup(format!("cannot start the offload's runtime: {e}")))?;
        let name = link::subject_token(config.name.as_deref().unwrap_or(origin));
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| OffloadError::Setup(format!("no randomness for the job ids: {e}")))?;
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let (linked, linked_now) = mpsc::sync_channel(1);
        let shared = Arc::new(Shared {
            link: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            documents: AtomicUsize::new(0),
            counter,
            first_link: Mutex::new(Some(linked)),
        });
        runtime.spawn(keep_connected(Arc::clone(&shared), config.clone(), name.clone()));
        // The documents waiting at start are offloaded if the cluster answers at once; if it does not,
        // the appliance starts anyway, a little later, and reads them itself.
        if linked_now.recv_timeout(FIRST_LINK_WITHIN).is_err() {
            tracing::warn!(
                "OCR offload: NATS did not answer within {FIRST_LINK_WITHIN:?}; pages are read here meanwhile"
            );
        }
        Ok(Offloader { config: config.clone(), name, nonce, runtime: Some(runtime), shared })
    }

    /// This appliance's name on the results stream.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the cluster is reachable and the streams declared, as far as this process knows.
    pub fn connected(&self) -> bool {
        lock(&self.shared.link).is_some()
    }

    /// How many documents may have their pages with the workers at once (extra readers for them).
    pub fn documents_at_once(&self) -> usize {
        self.config.documents_at_once
    }

    /// Takes a document's pages to the workers when more than `when_pages_waiting` pages wait to be
    /// read here, the cluster is reachable, and fewer than `documents_at_once` documents are already
    /// with the workers; `None` means the document is read here.
    pub fn begin(&self, pages_waiting: usize) -> Option<Offloaded<'_>> {
        if pages_waiting <= self.config.when_pages_waiting || !self.connected() {
            return None;
        }
        let documents = &self.shared.documents;
        documents
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < self.config.documents_at_once).then_some(n + 1))
            .ok()?;
        let (reply, replies) = mpsc::channel();
        Some(Offloaded {
            offloader: self,
            jobs: HashMap::new(),
            reply,
            replies,
            deadline: Instant::now() + Duration::from_secs(self.config.result_seconds),
        })
    }

    /// Counts a page's outcome in `sohoa_offload_pages_total`.
    pub fn count(&self, outcome: &'static str) {
        self.shared.counter.count(outcome);
    }

    /// Runs `work` on the offload's runtime and waits for it from this (blocking) thread.
    fn run<T: Send + 'static>(&self, work: impl Future<Output = T> + Send + 'static) -> Option<T> {
        let (done, result) = mpsc::sync_channel(1);
        self.runtime.as_ref()?.spawn(async move {
            let _ = done.send(work.await);
        });
        result.recv().ok()
    }
}

impl Drop for Offloader {
    fn drop(&mut self) {
        // Dropped from the server's async context too: its tasks are let go, not waited for.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// One document's pages with the workers: the jobs sent, and their results as they come. Dropping it
/// forgets the jobs still unanswered, so that their late results are dropped.
pub struct Offloaded<'a> {
    offloader: &'a Offloader,
    /// The job id of each page sent and not yet answered.
    jobs: HashMap<u32, String>,
    reply: mpsc::Sender<(u32, Delivered)>,
    replies: mpsc::Receiver<(u32, Delivered)>,
    deadline: Instant,
}

impl Offloaded<'_> {
    /// Sends a page to the workers; `false` when it is to be read here: the cluster is unreachable,
    /// or the page does not fit the servers' `max_payload`.
    pub fn send(&mut self, page: PageJob<'_>) -> bool {
        let Some(link) = lock(&self.offloader.shared.link).clone() else { return false };
        let offloader = self.offloader;
        let job = format!("{}-{}-{}", offloader.nonce, page.document, page.page);
        let header = JobHeader {
            job: job.clone(),
            reply: link::results_subject(&offloader.config.stream, &offloader.name),
            document: page.document.to_owned(),
            page: page.page,
            origin: page.origin.to_owned(),
            dpi: (page.dpi.x, page.dpi.y, page.dpi.stated),
        };
        let message = encode_job(&header, page.image);
        if message.len() + HEADERS_ROOM > link.max_payload {
            tracing::info!(
                document = page.document,
                page = page.page,
                "a page of {} bytes is past the servers' max_payload of {}: it is read here",
                message.len(),
                link.max_payload
            );
            return false;
        }
        // Awaited before it is published, so that no result can come before it is expected.
        let waiting = Waiting { document: page.document.to_owned(), page: page.page, reply: self.reply.clone() };
        lock(&offloader.shared.pending).insert(job.clone(), waiting);
        let subject = link::jobs_subject(&offloader.config.stream);
        let publish = PublishMessage::build().payload(message.into()).message_id(&job);
        let published = offloader.run(async move {
            let ack = async {
                let sent = link.js.send_publish(subject, publish).await.map_err(OffloadError::nats)?;
                sent.await.map_err(OffloadError::nats)
            };
            tokio::time::timeout(PUBLISH_WITHIN, ack)
                .await
                .map_err(|_| OffloadError::Nats(format!("no acknowledgement within {PUBLISH_WITHIN:?}")))?
        });
        let reason = match published {
            Some(Ok(_)) => {
                offloader.count("sent");
                self.jobs.insert(page.page, job);
                return true;
            }
            Some(Err(e)) => e.to_string(),
            None => "the offload stopped".to_owned(),
        };
        lock(&offloader.shared.pending).remove(&job);
        tracing::warn!(
            document = page.document,
            page = page.page,
            "a page could not be sent, it is read here: {reason}"
        );
        false
    }

    /// Waits for the next result of this document's pages; `None` once every page sent is answered,
    /// or the deadline passed (then [`unanswered`](Self::unanswered) names the pages to read here).
    pub fn next_result(&mut self) -> Option<(u32, Delivered)> {
        while !self.jobs.is_empty() {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.replies.recv_timeout(left) {
                Ok((page, delivered)) if self.jobs.remove(&page).is_some() => return Some((page, delivered)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// The pages sent whose result did not come in time, forgotten so that a late result is dropped;
    /// each is counted `timed_out`.
    pub fn unanswered(&mut self) -> Vec<u32> {
        let mut pages: Vec<u32> = Vec::new();
        let mut pending = lock(&self.offloader.shared.pending);
        for (page, job) in self.jobs.drain() {
            pending.remove(&job);
            self.offloader.count("timed_out");
            pages.push(page);
        }
        pages.sort_unstable();
        pages
    }

    /// Counts a page's outcome.
    pub fn count(&self, outcome: &'static str) {
        self.offloader.count(outcome);
    }
}

impl Drop for Offloaded<'_> {
    fn drop(&mut self) {
        let mut pending = lock(&self.offloader.shared.pending);
        for job in self.jobs.values() {
            pending.remove(job);
        }
        drop(pending);
        self.offloader.shared.documents.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    /// Hands a result to the reader waiting for it, at most once: a result for a job nobody waits for
    /// (answered already, read here after its deadline, sent by an earlier process) is dropped and
    /// counted `duplicate`; a malformed one is dropped and counted `invalid`.
    fn deliver(&self, payload: &[u8]) {
        let result = match decode_result(payload) {
            Ok(result) => result,
            Err(e) => {
                tracing::warn!("a result from the workers is dropped: {e}");
                self.counter.count("invalid");
                return;
            }
        };
        let Some(waiting) = lock(&self.pending).remove(&result.job) else {
            tracing::info!(job = result.job, "a result nobody waits for (a duplicate, or too late) is dropped");
            self.counter.count("duplicate");
            return;
        };
        let delivered = if waiting.document != result.document || waiting.page != result.page {
            Delivered::Invalid(format!(
                "job {} was for {} page {}, and the result says {} page {}",
                result.job, waiting.document, waiting.page, result.document, result.page
            ))
        } else {
            match result.body {
                ResultBody::Read(reading) => Delivered::Read(reading),
                ResultBody::Failed(reason) => Delivered::Failed(reason),
            }
        };
        let _ = waiting.reply.send((waiting.page, delivered));
    }
}

/// Connects, declares the streams and consumes this appliance's results, again and again while the
/// process lives: the readers send pages only while the link is up.
async fn keep_connected(shared: Arc<Shared>, config: OffloadConfig, name: String) {
    loop {
        if let Err(e) = session(&shared, &config, &name).await {
            tracing::warn!("OCR offload: {e}; pages are read here until NATS answers again");
        }
        *lock(&shared.link) = None;
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

async fn session(shared: &Shared, config: &OffloadConfig, name: &str) -> Result<(), OffloadError> {
    let client = link::connect(&config.servers, &format!("sohoa appliance {name}")).await?;
    let js = jetstream::new(client.clone());
    link::jobs_stream(&js, &config.stream, config.replicas).await?;
    let results = link::results_stream_of(&js, &config.stream, config.replicas).await?;
    let consumer = link::results_consumer(&results, &config.stream, name).await?;
    let mut messages = consumer.messages().await.map_err(OffloadError::nats)?;
    let max_payload = client.server_info().max_payload;
    *lock(&shared.link) = Some(Link { js, max_payload });
    if let Some(first) = lock(&shared.first_link).take() {
        let _ = first.try_send(());
    }
    tracing::info!(max_payload, "OCR offload: connected to NATS");
    while let Some(message) = messages.next().await {
        let message = message.map_err(OffloadError::nats)?;
        shared.deliver(&message.payload);
        // Acked whatever it was: a result is handled once, and a bad one is not worth another look.
        message.ack().await.map_err(OffloadError::nats)?;
    }
    Err(OffloadError::Nats("the results' consumer ended".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offload::JobResult;

    fn shared() -> Shared {
        Shared {
            link: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            documents: AtomicUsize::new(0),
            counter: OffloadCounter::default(),
            first_link: Mutex::new(None),
        }
    }

    fn result(job: &str, document: &str, page: u32) -> Vec<u8> {
        let body = ResultBody::Failed("no engine".into());
        serde_json::to_vec(&JobResult { job: job.into(), document: document.into(), page, body }).unwrap()
    }

    #[test]
    fn a_result_is_delivered_once_and_a_forged_one_is_refused() {
        let shared = shared();
        let (reply, replies) = mpsc::channel();
        let waiting = |page| Waiting { document: "1.KHAC.01".into(), page, reply: reply.clone() };
        lock(&shared.pending).insert("n-1.KHAC.01-1".into(), waiting(1));
        lock(&shared.pending).insert("n-1.KHAC.01-2".into(), waiting(2));
        shared.deliver(&result("n-1.KHAC.01-1", "1.KHAC.01", 1));
        // The same result again (a worker that published and died before its ack), then one from an
        // earlier process: both dropped.
        shared.deliver(&result("n-1.KHAC.01-1", "1.KHAC.01", 1));
        shared.deliver(&result("old-1.KHAC.01-1", "1.KHAC.01", 1));
        // A result naming another page than its job's.
        shared.deliver(&result("n-1.KHAC.01-2", "1.KHAC.01", 7));
        shared.deliver(b"{not json");
        let delivered: Vec<(u32, Delivered)> = replies.try_iter().collect();
        assert!(matches!(delivered[..], [(1, Delivered::Failed(_)), (2, Delivered::Invalid(_))]), "{delivered:?}");
        assert_eq!((shared.counter.get("duplicate"), shared.counter.get("invalid")), (2, 1));
        assert!(lock(&shared.pending).is_empty());
    }
}
