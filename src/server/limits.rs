//! What a request may bring. Every route has a body limit that fits it: a few KiB for JSON and
//! forms, one signed copy for a verification upload, a dossier's page files for an ingest (both from
//! `[http]` in the configuration). A request that declares a longer body is refused with 413 naming
//! the limit before any of it is read; one that does not declare it is cut off at the limit. Uploads
//! received at once are bounded (503 with `Retry-After` beyond the bound, never a queue), and file
//! parts are streamed, hashed on the way, into temporary files under the data directory, which are
//! removed when the request is done, instead of being buffered in memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use domain::BlobHash;
use tokio::io::AsyncWriteExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AppError;

/// The largest body of a request that is not a multipart upload (a login, a hold, a revocation): a
/// few KiB hold any of them many times over.
pub const SMALL_BODY_BYTES: u64 = 16 << 10;

/// The largest text field of an upload form (a document's name, its summary): far more than any
/// metadata needs, and small enough to hold in memory.
pub const FORM_FIELD_BYTES: u64 = 64 << 10;

/// Seconds a client turned away for want of an upload slot is asked to wait: about what receiving a
/// typical upload on the office network takes.
const UPLOAD_RETRY_SECONDS: u64 = 5;

/// Where uploads are spooled, under the data directory.
const SPOOL_DIR: &str = "tmp/uploads";

/// The body limit of a route, with what the route receives, for the message of a refusal.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    /// The most bytes the body may have.
    pub bytes: u64,
    /// What the body is, as a refusal names it, e.g. "a PDF uploaded for verification".
    pub what: &'static str,
    /// The longest the client may send nothing while the body is read (`[http] upload_stall_seconds`).
    pub stall_seconds: u64,
}

impl BodyLimit {
    /// The 413 refusal naming this limit.
    pub fn exceeded(&self) -> AppError {
        AppError::TooLarge(format!("{} may have at most {} bytes; this request has more", self.what, self.bytes))
    }

    /// A multipart error as the client hears it: the limit when the body went over it, what is
    /// malformed otherwise.
    pub fn form_error(&self, e: MultipartError) -> AppError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            self.exceeded()
        } else {
            AppError::BadRequest(format!("malformed form: {}", e.body_text()))
        }
    }

    /// One read of the form (its next part, or a part's next chunk), refused when the client sends
    /// nothing for `stall_seconds`: an upload holds one of a few slots while it is received, and a
    /// client that trickles a byte now and then must not keep it for ever.
    pub async fn read<T>(&self, read: impl Future<Output = Result<T, MultipartError>>) -> Result<T, AppError> {
        match tokio::time::timeout(std::time::Duration::from_secs(self.stall_seconds), read).await {
            Ok(read) => read.map_err(|e| self.form_error(e)),
            Err(_) => Err(AppError::BadRequest(format!(
                "{} stalled: nothing arrived for {} s; send it again",
                self.what, self.stall_seconds
            ))),
        }
    }

    /// Whether a request declares a body longer than the limit.
    fn declared_over(&self, headers: &HeaderMap) -> bool {
        declared_length(headers).is_some_and(|n| n > self.bytes)
    }

    /// `route` under this limit: the extractors stop reading at it, and a longer declared body is
    /// refused before anything of it is read.
    pub fn apply<S: Clone + Send + Sync + 'static>(self, route: MethodRouter<S>) -> MethodRouter<S> {
        let declared = move |request: Request, next: Next| async move {
            if self.declared_over(request.headers()) {
                self.exceeded().into_response()
            } else {
                next.run(request).await
            }
        };
        route
            .layer(DefaultBodyLimit::max(usize::try_from(self.bytes).unwrap_or(usize::MAX)))
            .layer(axum::middleware::from_fn(declared))
    }
}

/// The `Content-Length` a request declares, if it declares one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// Refuses, before reading it, a body declared longer than [`SMALL_BODY_BYTES`] on any request that
/// is not a multipart upload. Upload routes carry their own limit ([`BodyLimit::apply`]); together
/// with `DefaultBodyLimit::max(SMALL_BODY_BYTES)` on the whole application, which cuts off an
/// undeclared one, every other route reads at most a few KiB.
pub async fn refuse_large_small_bodies(request: Request, next: Next) -> Response {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    // Small bodies are read whole by the extractors, not by `BodyLimit::read`: no stall bound applies.
    let limit = BodyLimit { bytes: SMALL_BODY_BYTES, what: "a request body that is not an upload", stall_seconds: 0 };
    if !multipart && limit.declared_over(request.headers()) {
        limit.exceeded().into_response()
    } else {
        next.run(request).await
    }
}

/// The bound on uploads received at once.
pub struct UploadSlots {
    slots: Arc<Semaphore>,
    max: usize,
}

impl UploadSlots {
    /// Room for `max` uploads at once.
    pub fn new(max: usize) -> Self {
        UploadSlots { slots: Arc::new(Semaphore::new(max)), max }
    }

    /// Uploads being received now.
    pub fn in_use(&self) -> usize {
        self.max.saturating_sub(self.slots.available_permits())
    }

    /// A slot for one upload, held until the returned permit is dropped; 503 with `Retry-After`
    /// when every slot is taken, so that memory and disk never hold more than `max` uploads.
    pub fn take(&self) -> Result<OwnedSemaphorePermit, AppError> {
        self.slots.clone().try_acquire_owned().map_err(|_| AppError::Saturated {
            message: format!(
                "{} uploads are being received, the most this appliance takes at once; try again shortly",
                self.max
            ),
            retry_after: UPLOAD_RETRY_SECONDS,
        })
    }
}

/// A file part received into a temporary file, removed when this is dropped.
pub struct Spooled {
    file: tempfile::NamedTempFile,
    /// BLAKE3 of the content, computed while it was received.
    pub hash: BlobHash,
}

impl Spooled {
    /// Reads the content into memory, for the operations that need it whole (blocking).
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.file.path())
    }

    /// The content to read as a stream, for the operations that need only a pass over it (blocking).
    pub fn open(&self) -> std::io::Result<std::io::BufReader<std::fs::File>> {
        self.file.reopen().map(std::io::BufReader::new)
    }
}

/// Receives a file part into a new temporary file under `data/tmp/uploads`, hashing it on the way.
pub async fn spool(field: Field<'_>, data: &Path, limit: &BodyLimit) -> Result<Spooled, AppError> {
    let dir: PathBuf = data.join(SPOOL_DIR);
    let io = |what: &str, e: std::io::Error| AppError::Internal(anyhow::anyhow!("{what} {}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(|e| io("cannot create the upload directory", e))?;
    let file = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(&dir)
        .map_err(|e| io("cannot create a temporary file in", e))?;
    let mut sink =
        tokio::fs::File::from_std(file.as_file().try_clone().map_err(|e| io("cannot open a temporary file in", e))?);
    let hash = receive(field, limit, &mut sink).await?;
    sink.flush().await.map_err(|e| io("cannot write an upload into", e))?;
    Ok(Spooled { file, hash })
}

/// Reads a part chunk by chunk (the form's body limit cuts it off), hashing it and writing it to
/// `sink`.
async fn receive(mut field: Field<'_>, limit: &BodyLimit, sink: &mut tokio::fs::File) -> Result<BlobHash, AppError> {
    let mut hasher = blake3::Hasher::new();
    while let Some(chunk) = limit.read(field.chunk()).await? {
        hasher.update(&chunk);
        sink.write_all(&chunk)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot write an upload to its temporary file: {e}")))?;
    }
    Ok(BlobHash::from_bytes(*hasher.finalize().as_bytes()))
}

/// Reads a text field of a form, refusing one longer than [`FORM_FIELD_BYTES`] with 413 naming it.
pub async fn text_field(mut field: Field<'_>, form: &BodyLimit) -> Result<String, AppError> {
    let name = field.name().unwrap_or_default().to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = form.read(field.chunk()).await? {
        if (bytes.len() + chunk.len()) as u64 > FORM_FIELD_BYTES {
            return Err(AppError::TooLarge(format!(
                "form field {name:?} may have at most {FORM_FIELD_BYTES} bytes; this one has more"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| AppError::BadRequest(format!("form field {name:?} is not UTF-8 text")))
}

/// Removes what a crash left in the upload directory: nothing there outlives a request.
pub fn clear_spool(data: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(data.join(SPOOL_DIR)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
