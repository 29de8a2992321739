//! Ingest over HTTP (multipart form: metadata fields and page files) and reading archived documents.

use std::path::PathBuf;

use axum::extract::{Multipart, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::DocumentCode;

use super::extract::AppPath;
use super::limits::{self, BodyLimit};
use super::progress::JobId;
use super::{AppError, AppState, AuthUser, blocking};
use crate::config::HttpConfig;
use crate::input::MetadataFields;
use crate::ops::documents::{DocumentView, Evidence, READ};
use crate::{IngestReport, IngestRequest, PagesRead};

/// The body limit of an ingest request: a dossier's page files.
fn ingest_limit(http: &HttpConfig) -> BodyLimit {
    BodyLimit { bytes: http.max_ingest_bytes, what: "an ingest request", stall_seconds: http.upload_stall_seconds }
}

/// Query of `POST /api/documents`.
#[derive(serde::Deserialize)]
pub(crate) struct IngestQuery {
    /// A name the client chose, to follow the pages at `/api/documents/progress/{job}`.
    job: Option<String>,
    /// How far to go before answering: `captured` (the default) or `archived`.
    #[serde(default)]
    wait: Wait,
}

/// How far `POST /api/documents` goes before it answers.
#[derive(serde::Deserialize, Default, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Wait {
    /// Until the capture is durable: the document is then read from the queue.
    #[default]
    Captured,
    /// Until the document is read, signed and archived, read by this request itself.
    Archived,
}

/// `POST /api/documents[?job=ID][&wait=captured|archived]`: form fields named as the `sohoa ingest`
/// flags (`owner`, `type`, `name`, `number`, `issued`, `issuer`, `summary`, `valid_until`, `scope`,
/// `dossier`, `procedure`) and one `page` file part per page, in order. The operator is the logged-in
/// user. Page files are spooled to disk as they arrive and read into memory once, when capture
/// starts; the upload slot is held until the answer, since the pages are in memory until then. By
/// default the answer comes once the capture is durable (`stage` `captured`; the document is read
/// from the queue); with `wait=archived` this request reads it itself and answers once it is
/// archived, its pages' progress at `/api/documents/progress/{job}`. The report's `search` is
/// `pending` when the document is archived but search could not show it yet.
#[utoipa::path(post, path = "/api/documents", tag = "documents", params(("job" = Option<String>, Query, description = "A name to follow the pages at /api/documents/progress/{job}"), ("wait" = Option<Wait>, Query, description = "captured (the default): answer once the capture is durable; archived: once the document is archived")), request_body(content_type = "multipart/form-data", description = "Metadata fields named as the `sohoa ingest` flags and one `page` file part per page, in order"), responses((status = 200, body = IngestReport)))]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<IngestQuery>,
    mut form: Multipart,
) -> Result<Json<IngestReport>, AppError> {
    user.require(crate::appliance::INGEST)?;
    let job = query.job.as_deref().map(JobId::parse).transpose()?;
    let _slot = state.uploads.take()?;
    let limit = ingest_limit(state.appliance.http_config());
    let mut fields = MetadataFields::default();
    let mut spooled = Vec::new();
    while let Some(part) = limit.read(form.next_field()).await? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "page" {
            let file = part.file_name().map(str::to_owned).unwrap_or_else(|| format!("page {}", spooled.len() + 1));
            spooled.push((PathBuf::from(file), limits::spool(part, state.appliance.data_dir(), &limit).await?));
            continue;
        }
        let value = limits::text_field(part, &limit).await?;
        let slot = match name.as_str() {
            "type" => {
                fields.doc_type = value;
                continue;
            }
            "name" => {
                fields.name = value;
                continue;
            }
            "owner" => &mut fields.owner,
            "number" => &mut fields.number,
            "issued" => &mut fields.issued,
            "issuer" => &mut fields.issuer,
            "summary" => &mut fields.summary,
            "valid_until" => &mut fields.valid_until,
            "scope" => &mut fields.scope,
            "dossier" => &mut fields.dossier,
            "procedure" => &mut fields.procedure,
            other => return Err(AppError::BadRequest(format!("unknown form field {other:?}"))),
        };
        *slot = Some(value);
    }
    let metadata = fields.draft(user.name.clone())?;
    let actor = user.name;
    // Held by this request: if the client goes away, the request is dropped and the job with it.
    let job = job.map(|id| state.progress.start(&id, &actor)).transpose()?;
    let updates = job.as_ref().map(|j| j.updates());
    let result = blocking(&state, move |a| {
        let mut pages = Vec::with_capacity(spooled.len());
        for (file, part) in spooled {
            let bytes =
                part.read().map_err(|e| anyhow::anyhow!("cannot read back the uploaded {}: {e}", file.display()))?;
            pages.push((file, bytes));
        }
        let request = IngestRequest { metadata, pages, actor, source: None };
        match query.wait {
            Wait::Captured => a.capture(request),
            Wait::Archived => a.ingest(request, &mut |p| {
                if let Some(updates) = &updates {
                    updates.update(&p);
                }
            }),
        }
    })
    .await;
    if let Some(job) = job {
        job.finish(result.as_ref().map(|r| r.code.clone()).map_err(AppError::client_message));
    }
    // Once the archive has the document (captured or archived) the answer is success, even if
    // search could not show it yet (the report says so): a client that saw an error would send it
    // again.
    Ok(Json(result?))
}

/// `POST /api/pages/read`: one `page` file part per page file, in order; each page is read through
/// capture's pipeline as an ingest would read it, and what it would be flagged for comes back.
/// Nothing is archived (the scanning station shows this while the sheets are still on the counter).
#[utoipa::path(post, path = "/api/pages/read", tag = "documents", request_body(content_type = "multipart/form-data", description = "One `page` file part per page file, in order"), responses((status = 200, body = PagesRead)))]
pub(crate) async fn read_pages(
    State(state): State<AppState>,
    user: AuthUser,
    mut form: Multipart,
) -> Result<Json<PagesRead>, AppError> {
    user.require(crate::appliance::INGEST)?;
    let _slot = state.uploads.take()?;
    let limit = ingest_limit(state.appliance.http_config());
    let mut spooled = Vec::new();
    while let Some(part) = limit.read(form.next_field()).await? {
        if part.name() != Some("page") {
            return Err(AppError::BadRequest(format!("unknown form field {:?}: expected page files", part.name())));
        }
        let file = part.file_name().map(str::to_owned).unwrap_or_else(|| format!("page {}", spooled.len() + 1));
        spooled.push((PathBuf::from(file), limits::spool(part, state.appliance.data_dir(), &limit).await?));
    }
    let flags = blocking(&state, move |a| {
        let mut pages = Vec::with_capacity(spooled.len());
        for (file, part) in spooled {
            let bytes =
                part.read().map_err(|e| anyhow::anyhow!("cannot read back the uploaded {}: {e}", file.display()))?;
            pages.push((file, bytes));
        }
        a.read_pages(pages, &mut |_| {})
    })
    .await?;
    Ok(Json(PagesRead::of(flags)))
}

/// `GET /api/documents/{code}`: the record's metadata, pages and seal.
#[utoipa::path(get, path = "/api/documents/{code}", tag = "documents", params(("code" = String, Path, description = "Document code")), responses((status = 200, body = DocumentView)))]
pub(crate) async fn record(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<Json<DocumentView>, AppError> {
    user.require(READ)?;
    Ok(Json(blocking(&state, move |a| a.view_record(&code, &user.name)).await?))
}

/// `GET /api/documents/{code}/pdf`: the archived PDF, exactly as sealed.
#[utoipa::path(get, path = "/api/documents/{code}/pdf", tag = "documents", params(("code" = String, Path, description = "Document code")), responses((status = 200, description = "The signed PDF", content_type = "application/pdf")))]
pub(crate) async fn pdf(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<impl IntoResponse, AppError> {
    user.require(READ)?;
    let filename = format!("{code}.pdf");
    let actor = user.name;
    let bytes = blocking(&state, move |a| a.pdf(&code, &actor)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        bytes,
    ))
}

/// `GET /api/documents/{code}/text`: the OCR text, one string per page.
#[utoipa::path(get, path = "/api/documents/{code}/text", tag = "documents", params(("code" = String, Path, description = "Document code")), responses((status = 200, body = Vec<String>)))]
pub(crate) async fn text(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<Json<Vec<String>>, AppError> {
    user.require(READ)?;
    let actor = user.name;
    Ok(Json(blocking(&state, move |a| a.text(&code, &actor)).await?))
}

/// `GET /api/documents/{code}/pages/{number}`: page `number` (from 1) as scanned. Browsers are told
/// not to store it: a counter's PC is shared, a citizen's papers must not stay on its disk, and every
/// reading is to be audited.
#[utoipa::path(get, path = "/api/documents/{code}/pages/{number}", tag = "documents", params(("code" = String, Path, description = "Document code"), ("number" = u32, Path, description = "Page number from 1")), responses((status = 200, description = "The page image as scanned", content_type = "image/png")))]
pub(crate) async fn page(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath((code, number)): AppPath<(DocumentCode, u32)>,
) -> Result<impl IntoResponse, AppError> {
    user.require(READ)?;
    let actor = user.name;
    let image = blocking(&state, move |a| a.page_image(&code, number, &actor)).await?;
    Ok(([(header::CONTENT_TYPE, image.mime), (header::CACHE_CONTROL, "private, no-store".to_owned())], image.bytes))
}

/// `GET /api/documents/{code}/evidence`: the document's evidence bundle (record and seals, inclusion
/// proof with its signed checkpoint, public keys), as a JSON file to keep or hand over.
#[utoipa::path(get, path = "/api/documents/{code}/evidence", tag = "documents", params(("code" = String, Path, description = "Document code")), responses((status = 200, body = Evidence)))]
pub(crate) async fn evidence(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<impl IntoResponse, AppError> {
    user.require(READ)?;
    let filename = format!("{code}.evidence.json");
    let actor = user.name;
    let bundle = blocking(&state, move |a| a.evidence(&code, &actor)).await?;
    Ok(([(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\""))], Json(bundle)))
}

/// Ingest and document routes; ingest is bounded by `http`.
pub fn router(http: &HttpConfig) -> Router<AppState> {
    Router::new()
        .route("/api/documents", ingest_limit(http).apply(post(ingest)))
        .route("/api/pages/read", ingest_limit(http).apply(post(read_pages)))
        .route("/api/documents/{code}", get(record))
        .route("/api/documents/{code}/pdf", get(pdf))
        .route("/api/documents/{code}/text", get(text))
        .route("/api/documents/{code}/pages/{number}", get(page))
        .route("/api/documents/{code}/evidence", get(evidence))
}
