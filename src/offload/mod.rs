//! OCR offload (issue 22, part 3): when this appliance's reading queue is long, some documents' pages
//! go as jobs to a NATS JetStream work queue, `sohoa worker` processes on other machines pull them,
//! read them with the same capture pipeline, and send back what they read; the appliance applies each
//! reading to its own copy of the scan and alone assembles, seals and signs.
//!
//! The flow of one page:
//!
//! 1. A reader of the appliance ([`Offloader::begin`]) publishes a job on `<stream>.jobs`: a small
//!    JSON header (job id, document, page, origin, resolution, where to answer) and the captured
//!    image's bytes. The jobs stream has work-queue retention (a job is deleted once a worker acks it)
//!    and `replicas` copies; the job id is the publish's message id, so a publish retried is stored once.
//! 2. Workers share one durable pull consumer with explicit ack. A worker takes one job at a time per
//!    OCR engine, sends in-progress acks while it reads, publishes its result on
//!    `<stream>.results.<appliance>` (message id: the job id again) and only then acks the job. A
//!    worker killed mid-page never acks: after the consumer's `ack_wait` the job goes to another.
//! 3. The results come back on a second work-queue stream, `<stream>_RESULTS`, which the appliance
//!    consumes through its own durable consumer, filtered on its own subject: results written while it
//!    was away wait for it, and every result is acked once handled, whatever it was.
//! 4. Exactly once: the job id holds a random nonce of this process, the document code and the page;
//!    a result is applied only if its id is among the jobs this process waits for, and taking it out
//!    of that table is the application. A second result of the same job (a worker that published and
//!    died before its ack), a result after the page was read here (its deadline passed) or one from
//!    before a restart (another nonce) finds nothing and is dropped.
//!
//! A worker is not trusted: its reading is checked as hostile input ([`capture::apply_reading`]
//! re-applies the correction to the appliance's own pixels and refuses a reading that does not fit
//! them; the job id, document and page must be the ones sent), and the archived image is never bytes
//! that came from a worker. No key ever leaves the appliance. Offloading never makes a citizen wait
//! or loses a page: a page that cannot be sent (NATS unreachable, too large for the servers'
//! `max_payload`), whose reading is refused or fails, or that has no result within `result_seconds`
//! is read here.
//!
//! `link` connects and declares the streams, `wire` is the job and result formats, `offloader` the
//! appliance's side, `worker` the worker's.

mod link;
mod offloader;
mod wire;
mod worker;

pub use offloader::{Delivered, Offloaded, Offloader, PageJob};
pub use wire::{JobHeader, JobResult, ResultBody, decode_job, decode_result, encode_job};
pub use worker::{WorkerOptions, WorkerReport, run_worker};

/// Why offloading failed: NATS unreachable or refusing, a message that is not what it claims to be.
#[derive(Debug, thiserror::Error)]
pub enum OffloadError {
    /// The NATS servers could not be reached, or refused a request.
    #[error("NATS: {0}")]
    Nats(String),
    /// A job or result message is malformed.
    #[error("malformed offload message: {0}")]
    Malformed(String),
    /// A worker could not be set up (its OCR engines, its runtime).
    #[error("worker setup: {0}")]
    Setup(String),
}

impl OffloadError {
    fn nats(e: impl std::fmt::Display) -> Self {
        OffloadError::Nats(e.to_string())
    }
}

/// Completes on SIGTERM or SIGINT: how `sohoa worker` is stopped (systemd, Ctrl-C).
pub async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}
