//! The hot folder over HTTP, for operators: what waits for confirmation and what was refused, and
//! the confirmation (with corrections) or rejection of a waiting file. A file dropped into the share
//! is archived only through [`confirm`], in the name of the operator who confirmed it.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use scanner_driver::HotFileId;
use serde::Deserialize;

use super::{AppError, AppState, AuthUser, blocking};
use crate::hotfolder::{HotConfirm, HotConfirmed, HotCorrections, HotFolderListing, HotReject, HotRejected};
use crate::users::Role;

/// Who decides what becomes of a hot-folder file.
const DECIDERS: &[Role] = &[Role::Operator, Role::Admin];

fn file_id(raw: &str) -> Result<HotFileId, AppError> {
    raw.parse().map_err(|e: scanner_driver::DriverError| AppError::BadRequest(e.to_string()))
}

/// `GET /api/hotfolder`: the files waiting for confirmation, and recent refusals with their reasons.
async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Json<HotFolderListing>, AppError> {
    user.require(DECIDERS, "see the hot folder")?;
    Ok(Json(blocking(&state, |a| a.hot_folder_files()).await?))
}

/// `POST /api/hotfolder/{id}/confirm` with `{"owner", "type", "name"}` (each optional; an empty body
/// keeps what the file's name gives): archives the file in the operator's name.
async fn confirm(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Json<HotConfirmed>, AppError> {
    user.require(DECIDERS, "confirm hot-folder files")?;
    let id = file_id(&raw)?;
    let corrections: HotCorrections = if body.is_empty() {
        HotCorrections::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::BadRequest(format!(r#"expected a JSON body {{"owner"?, "type"?, "name"?}}: {e}"#)))?
    };
    Ok(Json(blocking(&state, move |a| a.confirm_hot_file(HotConfirm { id, corrections }, &user.name)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rejection {
    reason: String,
}

/// `POST /api/hotfolder/{id}/reject` with `{"reason": …}`: the file is refused and never archived.
async fn reject(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
    body: Result<Json<Rejection>, JsonRejection>,
) -> Result<Json<HotRejected>, AppError> {
    user.require(DECIDERS, "reject hot-folder files")?;
    let id = file_id(&raw)?;
    let Json(Rejection { reason }) =
        body.map_err(|e| AppError::BadRequest(format!(r#"expected a JSON body {{"reason": "…"}}: {e}"#)))?;
    Ok(Json(blocking(&state, move |a| a.reject_hot_file(HotReject { id, reason }, &user.name)).await?))
}

/// Hot-folder routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/hotfolder", get(list))
        .route("/api/hotfolder/{id}/confirm", post(confirm))
        .route("/api/hotfolder/{id}/reject", post(reject))
}
