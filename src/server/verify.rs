//! Verification over HTTP for the logged-in: by code, or an uploaded PDF, and the public seal keys.
//! The public page `/verify`, which needs no login, is the web UI's ([`super::ui`]).

use axum::extract::{Multipart, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::DocumentCode;

use super::extract::AppPath;
use super::limits::{self, BodyLimit};
use super::{AppError, AppState, AuthUser, blocking};
use crate::VerifyReport;
use crate::config::HttpConfig;
use crate::ops::keys::PublicKeys;

/// The body limit of a verification upload: one signed copy.
pub(crate) fn upload_limit(http: &HttpConfig) -> BodyLimit {
    BodyLimit {
        bytes: http.max_verify_bytes,
        what: "a PDF uploaded for verification",
        stall_seconds: http.upload_stall_seconds,
    }
}

/// `GET /api/verify/{code}`.
#[utoipa::path(get, path = "/api/verify/{code}", tag = "verification", params(("code" = String, Path, description = "Document code")), responses((status = 200, body = VerifyReport)))]
pub(crate) async fn verify_code(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<Json<VerifyReport>, AppError> {
    user.require(crate::verify::VERIFY)?;
    let actor = user.name;
    Ok(Json(blocking(&state, move |a| a.verify_code(&code, &actor)).await?))
}

/// `GET /api/keys`: the public seal key set (every key that ever sealed, the current one marked), for
/// verifiers outside the appliance. The same as `sohoa keys export`.
#[utoipa::path(get, path = "/api/keys", tag = "verification", responses((status = 200, body = PublicKeys)))]
pub(crate) async fn keys(State(state): State<AppState>, user: AuthUser) -> Result<Json<PublicKeys>, AppError> {
    user.require(crate::ops::keys::EXPORT)?;
    let actor = user.name;
    Ok(Json(blocking(&state, move |a| a.export_public_keys(&actor)).await?))
}

/// `POST /api/verify`: a multipart form with one `file` part, the PDF to check. The file is spooled
/// to disk while it is hashed; it is read into memory only when it is not byte for byte an archived
/// PDF, to say what differs.
#[utoipa::path(post, path = "/api/verify", tag = "verification", request_body(content_type = "multipart/form-data", description = "One `file` part: the PDF"), responses((status = 200, body = VerifyReport)))]
pub(crate) async fn verify_file(
    State(state): State<AppState>,
    user: AuthUser,
    mut form: Multipart,
) -> Result<Json<VerifyReport>, AppError> {
    user.require(crate::verify::VERIFY)?;
    let _slot = state.uploads.take()?;
    let limit = upload_limit(state.appliance.http_config());
    while let Some(part) = limit.read(form.next_field()).await? {
        if part.name() == Some("file") {
            let name = part.file_name().unwrap_or("uploaded.pdf").to_owned();
            let spooled = limits::spool(part, state.appliance.data_dir(), &limit).await?;
            let actor = user.name;
            return Ok(Json(
                blocking(&state, move |a| match a.verify_archived_file(&name, &spooled.hash, &actor)? {
                    Some(report) => Ok(report),
                    None => {
                        let bytes =
                            spooled.read().map_err(|e| anyhow::anyhow!("cannot read back the uploaded {name}: {e}"))?;
                        a.verify_file(&name, &bytes, &actor)
                    }
                })
                .await?,
            ));
        }
    }
    Err(AppError::BadRequest("the form has no part named file".into()))
}

/// Verification routes; uploads are bounded by `http`.
pub fn router(http: &HttpConfig) -> Router<AppState> {
    let upload = upload_limit(http);
    Router::new()
        .route("/api/verify", upload.apply(post(verify_file)))
        .route("/api/verify/{code}", get(verify_code))
        .route("/api/keys", get(keys))
}
