//! The province's object store as replication uses it: one S3-compatible bucket with Object Lock,
//! reached with `aws-sdk-s3` over rustls on ring, addressed by path. Every object sohoa writes is
//! locked in COMPLIANCE mode until a date, which the store refuses to shorten and before which it
//! refuses to delete the version; a legal hold mirrors sohoa's holds.
//!
//! The SDK is asynchronous and the appliance's operations are not: the store has a runtime of its
//! own, and each call blocks the calling thread (a job's thread, a command, or a blocking task of the
//! server), never an async task. The credentials are read from the environment when the store is
//! opened and kept by the SDK, whose `Debug` redacts them; they are never logged.
//!
//! What the store answers is not trusted: a read hands the bytes on as they stream, for the caller to
//! hash, and stops at the bound the caller gives.

use anyhow::{Context, anyhow, bail};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, DateTime as SdkDateTime};
use aws_sdk_s3::types::{
    ObjectLockEnabled, ObjectLockLegalHold, ObjectLockLegalHoldStatus, ObjectLockMode, ObjectLockRetention,
    ObjectLockRetentionMode,
};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use chrono::{DateTime, Utc};

use crate::config::ReplicationConfig;

/// How long the store may take to start answering a request before it counts as failed (and the
/// pass is tried again later). Not a bound on the whole request: a long PDF takes its time to send.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// How long connecting may take: an unreachable store is told quickly.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The most keys one listing returns: evidence prefixes hold one object, rarely a few.
const MAX_LISTED: usize = 1000;

/// How an object is to be locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock {
    /// COMPLIANCE retention until this instant.
    pub retain_until: DateTime<Utc>,
    /// Whether a legal hold is on.
    pub legal_hold: bool,
}

/// What the store says of an object's latest version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectState {
    /// Until when it is retained, if it is.
    pub retain_until: Option<DateTime<Utc>>,
    /// Whether its retention is in COMPLIANCE mode (nobody can shorten it).
    pub compliance: bool,
    /// Whether a legal hold is on.
    pub legal_hold: bool,
}

impl ObjectState {
    /// The state from the headers of a HEAD or GET answer.
    fn of(
        retain_until: Option<&SdkDateTime>,
        mode: Option<&ObjectLockMode>,
        hold: Option<&ObjectLockLegalHoldStatus>,
    ) -> Self {
        ObjectState {
            retain_until: retain_until.and_then(to_chrono),
            compliance: mode == Some(&ObjectLockMode::Compliance),
            legal_hold: hold == Some(&ObjectLockLegalHoldStatus::On),
        }
    }
}

/// What reading an object came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// It was read whole; this is its state.
    Whole(ObjectState),
    /// There is no such object (or its latest version is a delete marker).
    Missing,
    /// It is longer than the reader allowed; what was read of it is not whole.
    TooLong,
}

/// The bucket, and the client that reaches it.
pub struct ObjectStore {
    client: Client,
    bucket: String,
    /// Always there until the store is dropped (see its `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
}

impl ObjectStore {
    /// A client for the configured bucket, with the credentials of the environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and `AWS_SESSION_TOKEN` if set). Nothing is
    /// sent yet.
    pub fn connect(config: &ReplicationConfig) -> anyhow::Result<Self> {
        let variable = |name: &str| {
            std::env::var(name)
                .map_err(|_| anyhow!("[replication] is configured but {name} is not set in the environment"))
        };
        let credentials = Credentials::new(
            variable("AWS_ACCESS_KEY_ID")?,
            variable("AWS_SECRET_ACCESS_KEY")?,
            std::env::var("AWS_SESSION_TOKEN").ok(),
            None,
            "environment",
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the object store's runtime")?;
        Ok(ObjectStore {
            client: sdk_client(config, credentials),
            bucket: config.bucket.clone(),
            runtime: Some(runtime),
        })
    }

    /// Runs a request on the store's runtime, blocking the calling thread.
    fn block_on<F: std::future::Future>(&self, request: F) -> F::Output {
        self.runtime.as_ref().expect("the runtime lives as long as the store").block_on(request)
    }

    /// Checks that the bucket has Object Lock enabled: without it, nothing sohoa writes would be
    /// protected, so replication refuses to start.
    pub fn check_bucket(&self) -> anyhow::Result<()> {
        let answer = self
            .block_on(self.client.get_object_lock_configuration().bucket(&self.bucket).send())
            .map_err(|e| failed("reading the Object Lock configuration of the bucket", &self.bucket, e))?;
        let enabled = answer.object_lock_configuration().and_then(|c| c.object_lock_enabled());
        if enabled != Some(&ObjectLockEnabled::Enabled) {
            bail!("bucket {} does not have Object Lock enabled; make it as DEPLOYMENT.md says", self.bucket);
        }
        Ok(())
    }

    /// The state of an object's latest version, or `None` when there is none (or it is deleted).
    pub fn head(&self, key: &str) -> anyhow::Result<Option<ObjectState>> {
        match self.block_on(self.client.head_object().bucket(&self.bucket).key(key).send()) {
            Ok(o) => Ok(Some(ObjectState::of(
                o.object_lock_retain_until_date(),
                o.object_lock_mode(),
                o.object_lock_legal_hold_status(),
            ))),
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(failed("HEAD", key, e)),
        }
    }

    /// Writes an object, locked.
    pub fn put(&self, key: &str, body: Vec<u8>, content_type: &str, lock: Lock) -> anyhow::Result<()> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(to_sdk(lock.retain_until))
            .object_lock_legal_hold_status(hold_status(lock.legal_hold));
        self.block_on(request.send()).map_err(|e| failed("PUT", key, e))?;
        Ok(())
    }

    /// Sets an object's COMPLIANCE retention to `until`; the store refuses a date earlier than the
    /// one it has.
    pub fn retain_until(&self, key: &str, until: DateTime<Utc>) -> anyhow::Result<()> {
        let retention = ObjectLockRetention::builder()
            .mode(ObjectLockRetentionMode::Compliance)
            .retain_until_date(to_sdk(until))
            .build();
        let request = self.client.put_object_retention().bucket(&self.bucket).key(key).retention(retention);
        self.block_on(request.send()).map_err(|e| failed("PUT retention of", key, e))?;
        Ok(())
    }

    /// Puts a legal hold on an object, or takes it off.
    pub fn set_legal_hold(&self, key: &str, on: bool) -> anyhow::Result<()> {
        let hold = ObjectLockLegalHold::builder().status(hold_status(on)).build();
        let request = self.client.put_object_legal_hold().bucket(&self.bucket).key(key).legal_hold(hold);
        self.block_on(request.send()).map_err(|e| failed("PUT legal hold of", key, e))?;
        Ok(())
    }

    /// Reads an object's latest version, handing its bytes to `sink` as they arrive. The read stops
    /// after `max_bytes`: the store does not choose how much is read.
    pub fn read(&self, key: &str, max_bytes: u64, sink: &mut dyn FnMut(&[u8])) -> anyhow::Result<Read> {
        self.block_on(async {
            let o = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
                Ok(o) => o,
                Err(e) if status(&e) == Some(404) => return Ok(Read::Missing),
                Err(e) => return Err(failed("GET", key, e)),
            };
            let state = ObjectState::of(
                o.object_lock_retain_until_date(),
                o.object_lock_mode(),
                o.object_lock_legal_hold_status(),
            );
            let mut body = o.body;
            let mut read = 0u64;
            while let Some(chunk) = body.try_next().await.with_context(|| format!("object store: reading {key}"))? {
                read += chunk.len() as u64;
                if read > max_bytes {
                    return Ok(Read::TooLong);
                }
                sink(&chunk);
            }
            Ok(Read::Whole(state))
        })
    }

    /// An object's latest version whole, at most `max_bytes` of it, for what is read to be parsed;
    /// the error says in words what went wrong (missing, too long, or the request failed).
    pub fn read_whole(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        match self.read(key, max_bytes, &mut |chunk| bytes.extend_from_slice(chunk)) {
            Ok(Read::Whole(_)) => Ok(bytes),
            Ok(Read::Missing) => Err(format!("{key} is missing")),
            Ok(Read::TooLong) => Err(format!("{key} is longer than {max_bytes} bytes")),
            Err(e) => Err(format!("cannot read {key}: {e:#}")),
        }
    }

    /// The keys under `prefix`, at most a thousand.
    pub fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        self.list_after(prefix, None)
    }

    /// The keys under `prefix` that sort after `after` (from the first when `None`), at most a
    /// thousand: a long listing is read page by page, each page from the last key of the one before.
    pub fn list_after(&self, prefix: &str, after: Option<&str>) -> anyhow::Result<Vec<String>> {
        let request = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_start_after(after.map(str::to_owned))
            .max_keys(MAX_LISTED as i32);
        let answer = self.block_on(request.send()).map_err(|e| failed("LIST", prefix, e))?;
        Ok(answer.contents().iter().filter_map(|o| o.key().map(str::to_owned)).take(MAX_LISTED).collect())
    }
}

impl Drop for ObjectStore {
    /// Shuts the runtime down without waiting: the appliance may be dropped on a thread of the
    /// server's own runtime, where a blocking shutdown would panic.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// An S3 client of the configured store with `credentials`: path-style addressing, HTTP(S) through
/// rustls on ring, a short connect timeout so that an unreachable store is told quickly. Public for
/// the tests, which check the store's answers with a client of their own.
pub fn sdk_client(config: &ReplicationConfig, credentials: Credentials) -> Client {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .build();
    let sdk = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(config.region.clone()))
        .endpoint_url(&config.endpoint)
        .force_path_style(true)
        .credentials_provider(credentials)
        .http_client(http)
        .timeout_config(timeouts)
        .build();
    Client::from_conf(sdk)
}

/// The HTTP status of a failed request, when the store answered.
fn status<E>(error: &SdkError<E>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

/// At most this many characters of a store's error code and of its message are repeated.
const STORE_WORDS: usize = 200;

/// A failed request as one line: what, on which key, and why. When the store answered, why is its
/// HTTP status with the error code and message of its body, which is what an administrator can act
/// on; the SDK's own chain of causes would add the whole response, headers and body, as debug
/// output. When it did not answer (refused, timed out), why is the SDK's chain of causes, which
/// names no credential.
fn failed<E>(what: &str, key: &str, error: SdkError<E>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            // A HEAD answer has no body, hence neither code nor message. What the store says is
            // untrusted and ends up in a log: it is cut short and its control characters escaped,
            // so that it stays on its one line.
            let meta = service.err();
            let words = |text: &str| text.chars().take(STORE_WORDS).collect::<String>().escape_debug().to_string();
            let (code, message) = (meta.code().map(words), meta.message().map(words));
            let said = match (code, message) {
                (Some(code), Some(message)) => format!(" {code}: {message}"),
                (Some(one), None) | (None, Some(one)) => format!(" {one}"),
                (None, None) => String::new(),
            };
            anyhow!("object store: {what} {key}: the store answered HTTP {}{said}", service.raw().status().as_u16())
        }
        _ => anyhow!("object store: {what} {key}: {}", DisplayErrorContext(&error)),
    }
}

fn hold_status(on: bool) -> ObjectLockLegalHoldStatus {
    if on { ObjectLockLegalHoldStatus::On } else { ObjectLockLegalHoldStatus::Off }
}

fn to_sdk(at: DateTime<Utc>) -> SdkDateTime {
    SdkDateTime::from_secs(at.timestamp())
}

fn to_chrono(at: &SdkDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(at.secs(), at.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::error::{ErrorMetadata, SdkError};
    use aws_sdk_s3::operation::put_object::PutObjectError;
    use aws_sdk_s3::primitives::SdkBody;

    use super::failed;

    #[test]
    fn a_stores_refusal_is_one_bounded_line_whatever_the_store_writes() {
        // A store whose message would start a forged log line, clear a terminal, and go on and on.
        let message = format!("Access Denied\n2026-12-01T00:00:00Z INFO all is well\u{1b}[2J{}", "x".repeat(100_000));
        let meta = ErrorMetadata::builder().code("AccessDenied").message(message).build();
        let raw = HttpResponse::new(403.try_into().unwrap(), SdkBody::from("<Error>…</Error>"));
        let line = failed("PUT", "blobs/ab", SdkError::service_error(PutObjectError::generic(meta), raw)).to_string();
        assert!(
            line.starts_with("object store: PUT blobs/ab: the store answered HTTP 403 AccessDenied: Access Denied\\n"),
            "{line}"
        );
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(!line.contains('\u{1b}') && !line.contains("<Error>"), "{line}");
        assert!(line.len() < 600, "{} characters", line.len());

        // A HEAD answer has no body: the status alone.
        let raw = HttpResponse::new(404.try_into().unwrap(), SdkBody::empty());
        let none = PutObjectError::generic(ErrorMetadata::builder().build());
        assert_eq!(
            failed("HEAD", "blobs/ab", SdkError::service_error(none, raw)).to_string(),
            "object store: HEAD blobs/ab: the store answered HTTP 404"
        );
    }
}
