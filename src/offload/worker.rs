//! `sohoa worker`: pulls page jobs from the cluster, reads each with the same capture pipeline as the
//! appliance (the same `OcrConfig`), publishes the reading on the subject the job names, and only then
//! acks the job. It holds no data and no key, and sends back no image: only the correction, the text
//! and its boxes.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind, consumer::PullConsumer, message::PublishMessage};
use capture::{Capture, OcrConfig, PageSource};
use futures_util::StreamExt;
use scanner_driver::{Dpi, FileImporter, ImportLimits};
use serde::Serialize;

use super::wire::{JobHeader, JobResult, ResultBody, decode_job};
use super::{OffloadError, link};

/// How long one pull waits for a job before asking again.
const PULL_WAIT: Duration = Duration::from_secs(5);

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The NATS servers of the cluster.
    pub servers: Vec<String>,
    /// The jobs stream, as the appliances are configured with (`[offload] stream`).
    pub stream: String,
    /// Pages read at once, one OCR engine each.
    pub engines: usize,
    /// How long a job may stay unacknowledged before it goes to another worker: in-progress acks
    /// are sent at a third of it while a page is read, so only a worker that died lets it pass.
    pub ack_wait: Duration,
}

/// What a worker did before it stopped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerReport {
    /// Pages read and answered.
    pub pages_read: u64,
    /// Pages that could not be read here (answered as failed: the appliance reads them).
    pub pages_failed: u64,
}

struct Worker {
    capture: Capture,
    importer: FileImporter,
    js: jetstream::Context,
    ack_wait: Duration,
    read: AtomicU64,
    failed: AtomicU64,
}

/// Runs a worker until `stop` completes (SIGTERM or SIGINT for `sohoa worker`); a page being read
/// then is finished and answered first.
pub async fn run_worker(
    options: WorkerOptions,
    stop: impl std::future::Future<Output = ()>,
) -> Result<WorkerReport, OffloadError> {
    let ocr = OcrConfig { workers: options.engines.max(1), ..OcrConfig::system_default() };
    let capture = Capture::new(ocr).map_err(|e| OffloadError::Setup(e.to_string()))?;
    let client = link::connect(&options.servers, "sohoa worker").await?;
    let js = jetstream::new(client);
    // The appliances declare the stream; a worker started first waits for one.
    let jobs = loop {
        match js.get_stream(&options.stream).await {
            Ok(stream) => break stream,
            Err(e) => {
                tracing::info!("waiting for the jobs stream {}: {e}", options.stream);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let consumer = link::workers_consumer(&jobs, options.ack_wait).await?;
    let worker = Arc::new(Worker {
        capture,
        importer: FileImporter::new(ImportLimits::default(), 300.0),
        js,
        ack_wait: options.ack_wait,
        read: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    });
    println!("worker ready: {} engines on stream {}", options.engines.max(1), options.stream);
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let slots: Vec<_> = (0..options.engines.max(1))
        .map(|_| tokio::spawn(slot(Arc::clone(&worker), consumer.clone(), stopped.clone())))
        .collect();
    stop.await;
    let _ = stopping.send(true);
    for slot in slots {
        let _ = slot.await;
    }
    Ok(WorkerReport {
        pages_read: worker.read.load(Ordering::SeqCst),
        pages_failed: worker.failed.load(Ordering::SeqCst),
    })
}

/// One engine's loop: pull one job, read it, answer, ack; until told to stop.
async fn slot(worker: Arc<Worker>, consumer: PullConsumer, mut stopped: tokio::sync::watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let batch = consumer.fetch().max_messages(1).expires(PULL_WAIT).messages();
        let mut batch = tokio::select! {
            batch = batch => match batch {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!("cannot pull a job: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            _ = stopped.changed() => return,
        };
        while let Some(message) = batch.next().await {
            match message {
                Ok(message) => {
                    if let Err(e) = worker.handle(message).await {
                        tracing::warn!("a job was not answered: {e}");
                    }
                }
                Err(e) => tracing::warn!("pulling a job failed: {e}"),
            }
        }
    }
}

impl Worker {
    /// Reads one job's page and answers it, acking the job only once the answer is stored.
    async fn handle(self: &Arc<Self>, message: jetstream::Message) -> Result<(), OffloadError> {
        let (header, image) = match decode_job(&message.payload) {
            Ok((header, image)) => (header, image.to_vec()),
            Err(e) => {
                // Nobody can be answered: the job is dropped for good, and its appliance reads the page.
                message.ack_with(AckKind::Term).await.map_err(OffloadError::nats)?;
                return Err(e);
            }
        };
        println!("reading {} page {} (job {})", header.document, header.page, header.job);
        let started = Instant::now();
        let reading = {
            let worker = Arc::clone(self);
            let header = header.clone();
            tokio::task::spawn_blocking(move || worker.read(&header, image))
        };
        tokio::pin!(reading);
        // In-progress acks while the page is read, so that a long page is not given to another worker.
        let mut progress = tokio::time::interval_at(tokio::time::Instant::now() + self.ack_wait / 3, self.ack_wait / 3);
        let body = loop {
            tokio::select! {
                done = &mut reading => break done.unwrap_or_else(|e| ResultBody::Failed(format!("the reading panicked: {e}"))),
                _ = progress.tick() => {
                    let _ = message.ack_with(AckKind::Progress).await;
                }
            }
        };
        let failed = matches!(body, ResultBody::Failed(_));
        let result = JobResult { job: header.job.clone(), document: header.document.clone(), page: header.page, body };
        let payload = serde_json::to_vec(&result).map_err(|e| OffloadError::Malformed(e.to_string()))?;
        // The job id as message id: a result published again after a crash is stored once.
        let publish = PublishMessage::build().payload(payload.into()).message_id(&header.job);
        self.js
            .send_publish(header.reply.clone(), publish)
            .await
            .map_err(OffloadError::nats)?
            .await
            .map_err(OffloadError::nats)?;
        message.double_ack().await.map_err(OffloadError::nats)?;
        let counter = if failed { &self.failed } else { &self.read };
        counter.fetch_add(1, Ordering::SeqCst);
        println!(
            "{} {} page {} (job {}) in {} ms",
            if failed { "failed" } else { "read" },
            header.document,
            header.page,
            header.job,
            started.elapsed().as_millis()
        );
        Ok(())
    }

    /// Reads a page as the appliance would: its bytes decoded as the importer does at capture, its
    /// resolution as captured, through the capture pipeline.
    fn read(&self, header: &JobHeader, image: Vec<u8>) -> ResultBody {
        let (importer, origin) = (self.importer.clone(), header.origin.clone());
        let dpi = Dpi { x: header.dpi.0, y: header.dpi.1, stated: header.dpi.2 };
        let source: PageSource = Box::new(move || {
            let mut split = importer.pages(Path::new(&origin), image)?;
            let (Some(pending), true) = (split.pop(), split.is_empty()) else {
                return Err(scanner_driver::DriverError::Read {
                    path: origin.clone().into(),
                    source: std::io::Error::other("a job's image is not one page"),
                });
            };
            let mut raw = pending.into_decoded()?;
            (raw.origin, raw.dpi) = (origin, dpi);
            Ok(raw)
        });
        match self.capture.capture(vec![source], &mut |_| {}) {
            Ok(mut pages) => match pages.pop().and_then(|page| page.reading()) {
                Some(reading) => ResultBody::Read(reading),
                None => ResultBody::Failed("the page carries its own text".into()),
            },
            Err(e) => ResultBody::Failed(e.to_string()),
        }
    }
}
