//! The hot folder over HTTP, for operators: what waits for confirmation and what was refused, and
//! the confirmation (with corrections) or rejection of a waiting file. A file dropped into the share
//! is archived only through [`confirm`], in the name of the operator who confirmed it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use scanner_driver::HotFileId;
use serde::Deserialize;

use super::extract::AppJson;
use super::{AppError, AppState, AuthUser, blocking};
use crate::hotfolder::{HotConfirm, HotConfirmed, HotCorrections, HotFolderListing, HotReject, HotRejected};

fn file_id(raw: &str) -> Result<HotFileId, AppError> {
    raw.parse().map_err(|e: scanner_driver::DriverError| AppError::BadRequest(e.to_string()))
}

/// `GET /api/hotfolder`: the files waiting for confirmation, and recent refusals with their reasons.
#[utoipa::path(get, path = "/api/hotfolder", tag = "capture", responses((status = 200, body = HotFolderListing)))]
pub(crate) async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Json<HotFolderListing>, AppError> {
    user.require(crate::hotfolder::DECIDE)?;
    Ok(Json(blocking(&state, |a| a.hot_folder_files()).await?))
}

/// `POST /api/hotfolder/{id}/confirm` with `{"owner", "type", "name"}` (each optional; an empty body
/// keeps what the file's name gives): archives the file in the operator's name.
#[utoipa::path(post, path = "/api/hotfolder/{id}/confirm", tag = "capture", params(("id" = String, Path, description = "The file's id (BLAKE3 of its content)")), request_body(content = Option<HotCorrections>, description = "Corrections of the metadata the file's name gives; may be empty"), responses((status = 200, body = HotConfirmed)))]
pub(crate) async fn confirm(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Json<HotConfirmed>, AppError> {
    user.require(crate::hotfolder::DECIDE)?;
    let id = file_id(&raw)?;
    let corrections: HotCorrections = if body.is_empty() {
        HotCorrections::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::BadRequest(format!(r#"expected a JSON body {{"owner"?, "type"?, "name"?}}: {e}"#)))?
    };
    Ok(Json(blocking(&state, move |a| a.confirm_hot_file(HotConfirm { id, corrections }, &user.name)).await?))
}

/// Why a file is rejected.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rejection {
    /// The reason, in the operator's words.
    reason: String,
}

/// `POST /api/hotfolder/{id}/reject` with `{"reason": …}`: the file is refused and never archived.
#[utoipa::path(post, path = "/api/hotfolder/{id}/reject", tag = "capture", params(("id" = String, Path, description = "The file's id (BLAKE3 of its content)")), request_body = Rejection, responses((status = 200, body = HotRejected)))]
pub(crate) async fn reject(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
    body: Result<AppJson<Rejection>, AppError>,
) -> Result<Json<HotRejected>, AppError> {
    user.require(crate::hotfolder::DECIDE)?;
    let AppJson(Rejection { reason }) = body?;
    let id = file_id(&raw)?;
    Ok(Json(blocking(&state, move |a| a.reject_hot_file(HotReject { id, reason }, &user.name)).await?))
}

/// Hot-folder routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/hotfolder", get(list))
        .route("/api/hotfolder/{id}/confirm", post(confirm))
        .route("/api/hotfolder/{id}/reject", post(reject))
}
