//! The appliance's administration over HTTP, for admins: replacing the seal key and rebuilding the
//! search index, the same operations as `sohoa keys rotate` and `sohoa reindex`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use super::{AppError, AppState, AuthUser, blocking};
use crate::appliance::{REINDEX, Reindexed};
use crate::ops::keys::{ROTATE, Rotated};

/// `POST /api/keys/rotate`: a new seal key; the old one's public key stays, so what it sealed verifies.
#[utoipa::path(post, path = "/api/keys/rotate", tag = "admin", responses((status = 200, body = Rotated)))]
pub(crate) async fn rotate(State(state): State<AppState>, user: AuthUser) -> Result<Json<Rotated>, AppError> {
    user.require(ROTATE)?;
    Ok(Json(blocking(&state, move |a| a.rotate_key(&user.name)).await?))
}

/// `POST /api/reindex`: the search index rebuilt from the archive alone.
#[utoipa::path(post, path = "/api/reindex", tag = "admin", responses((status = 200, body = Reindexed)))]
pub(crate) async fn reindex(State(state): State<AppState>, user: AuthUser) -> Result<Json<Reindexed>, AppError> {
    user.require(REINDEX)?;
    Ok(Json(blocking(&state, move |a| a.reindex(&user.name)).await?))
}

/// Administration routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/keys/rotate", post(rotate)).route("/api/reindex", post(reindex))
}
