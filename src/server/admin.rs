//! The appliance's administration over HTTP, for admins: replacing the seal key, rebuilding the
//! search index and reading the configuration in force, the same operations as `sohoa keys rotate`,
//! `sohoa reindex` and `sohoa config show`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{AppError, AppState, AuthUser, blocking};
use crate::appliance::{REINDEX, Reindexed};
use crate::config::ConfigInForce;
use crate::ops::configuration::SHOW;
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

/// `GET /api/config`: the configuration in force, without secrets.
#[utoipa::path(get, path = "/api/config", tag = "admin", responses((status = 200, description = "Every setting of the configuration in force, by section as in the file; no secret", content_type = "application/json")))]
pub(crate) async fn config(State(state): State<AppState>, user: AuthUser) -> Result<Json<ConfigInForce>, AppError> {
    user.require(SHOW)?;
    Ok(Json(blocking(&state, |a| a.config_in_force()).await?))
}

/// Administration routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/keys/rotate", post(rotate))
        .route("/api/reindex", post(reindex))
        .route("/api/config", get(config))
}
