//! The reading queue over HTTP: the same report as `sohoa queue`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::{AppError, AppState, AuthUser};
use crate::queue::{QueueReport, READ};

/// `GET /api/queue`: the documents captured and not yet archived, each with its stage and how far
/// its reading is, and those archived lately with the time from their capture.
#[utoipa::path(get, path = "/api/queue", tag = "documents", responses((status = 200, body = QueueReport)))]
pub(crate) async fn queue(State(state): State<AppState>, user: AuthUser) -> Result<Json<QueueReport>, AppError> {
    user.require(READ)?;
    Ok(Json(state.appliance.reading_queue().report()))
}

/// The queue's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/queue", get(queue))
}
