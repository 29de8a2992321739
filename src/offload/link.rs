//! The connection to the NATS cluster and the two streams: who connects with what credentials, the
//! subjects, and the streams' and consumers' settings, which the appliance and the workers declare
//! the same way.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

use super::OffloadError;

/// How long to wait for a server to answer when connecting.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Window within which a message id published twice is stored once: longer than any retry of a
/// publish, and than a worker's read of a page followed by its result.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// How long a job or result nobody takes stays in its stream: a page has been read here long before.
const KEPT: Duration = Duration::from_secs(24 * 3600);
/// How many times a job is delivered before the workers give up on it (a page that kills every
/// worker that reads it); the appliance reads it itself once its deadline passes.
pub(super) const MAX_DELIVER: i64 = 5;
/// The workers' shared durable consumer.
pub(super) const WORKERS: &str = "workers";

/// Connects to any of `servers`, with credentials from the environment (`SOHOA_NATS_USER` and
/// `SOHOA_NATS_PASSWORD`, or `SOHOA_NATS_TOKEN`), never from a file and never logged.
pub(super) async fn connect(servers: &[String], name: &str) -> Result<async_nats::Client, OffloadError> {
    let addresses = servers
        .iter()
        .map(|s| s.parse::<async_nats::ServerAddr>().map_err(|e| OffloadError::Nats(format!("server {s}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if addresses.is_empty() {
        return Err(OffloadError::Nats("no NATS server is configured".into()));
    }
    let mut options = async_nats::ConnectOptions::new().name(name).connection_timeout(CONNECT_TIMEOUT);
    if let (Ok(user), Ok(password)) = (std::env::var("SOHOA_NATS_USER"), std::env::var("SOHOA_NATS_PASSWORD")) {
        options = options.user_and_password(user, password);
    } else if let Ok(token) = std::env::var("SOHOA_NATS_TOKEN") {
        options = options.token(token);
    }
    options.connect(addresses).await.map_err(OffloadError::nats)
}

/// The subject of the page jobs of `stream`.
pub(super) fn jobs_subject(stream: &str) -> String {
    format!("{stream}.jobs")
}

/// The subject of the results for appliance `name`.
pub(super) fn results_subject(stream: &str, name: &str) -> String {
    format!("{stream}.results.{name}")
}

/// The stream the results come back on.
pub(super) fn results_stream(stream: &str) -> String {
    format!("{stream}_RESULTS")
}

/// Declares the jobs stream (work-queue retention, `replicas` copies), or finds it as declared before.
pub(super) async fn jobs_stream(
    js: &jetstream::Context,
    stream: &str,
    replicas: usize,
) -> Result<stream::Stream, OffloadError> {
    declare(js, stream, jobs_subject(stream), replicas).await
}

/// Declares the results stream, like the jobs stream.
pub(super) async fn results_stream_of(
    js: &jetstream::Context,
    stream: &str,
    replicas: usize,
) -> Result<stream::Stream, OffloadError> {
    declare(js, &results_stream(stream), format!("{stream}.results.*"), replicas).await
}

async fn declare(
    js: &jetstream::Context,
    name: &str,
    subject: String,
    replicas: usize,
) -> Result<stream::Stream, OffloadError> {
    js.get_or_create_stream(stream::Config {
        name: name.to_owned(),
        subjects: vec![subject],
        // A message is deleted once acked: nothing is kept that was handled.
        retention: stream::RetentionPolicy::WorkQueue,
        num_replicas: replicas.max(1),
        max_age: KEPT,
        duplicate_window: DUPLICATE_WINDOW,
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(OffloadError::nats)
}

/// The workers' shared durable pull consumer: explicit acks, redelivery after `ack_wait`.
pub(super) async fn workers_consumer(
    jobs: &stream::Stream,
    ack_wait: Duration,
) -> Result<consumer::PullConsumer, OffloadError> {
    jobs.get_or_create_consumer(
        WORKERS,
        consumer::pull::Config {
            durable_name: Some(WORKERS.into()),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait,
            max_deliver: MAX_DELIVER,
            ..Default::default()
        },
    )
    .await
    .map_err(OffloadError::nats)
}

/// Appliance `name`'s durable pull consumer of its results.
pub(super) async fn results_consumer(
    results: &stream::Stream,
    stream: &str,
    name: &str,
) -> Result<consumer::PullConsumer, OffloadError> {
    let durable = format!("results-{name}");
    results
        .get_or_create_consumer(
            &durable,
            consumer::pull::Config {
                durable_name: Some(durable.clone()),
                filter_subject: results_subject(stream, name),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                ..Default::default()
            },
        )
        .await
        .map_err(OffloadError::nats)
}

/// A name usable in a subject and a consumer's name: letters, digits, `-` and `_`, others replaced.
pub(super) fn subject_token(name: &str) -> String {
    let token: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if token.is_empty() { "sohoa".into() } else { token }
}
