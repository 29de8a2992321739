//! The province tier's own operations over HTTP, the same as their commands: `POST /api/replicate`
//! (`sohoa replicate`), `GET /api/replication` (the lag), `POST /api/fixity/remote` (`sohoa fixity
//! --remote`) and `POST /api/fixity/province` (`sohoa fixity --province`).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{AppError, AppState, AuthUser, blocking};
use crate::ops::replication::{PROVINCE_FIXITY, ProvinceFixity, REMOTE_FIXITY, REPLICATE, RemoteFixity, Replicated};
use crate::province::Lag;

/// `POST /api/replicate`: one replication pass now.
#[utoipa::path(post, path = "/api/replicate", tag = "archive", responses((status = 200, body = Replicated)))]
pub(crate) async fn replicate(State(state): State<AppState>, user: AuthUser) -> Result<Json<Replicated>, AppError> {
    user.require(REPLICATE)?;
    Ok(Json(blocking(&state, move |a| a.replicate(&user.name)).await?))
}

/// `GET /api/replication`: how far the object store is behind the archive.
#[utoipa::path(get, path = "/api/replication", tag = "archive", responses((status = 200, body = Lag)))]
pub(crate) async fn lag(State(state): State<AppState>, user: AuthUser) -> Result<Json<Lag>, AppError> {
    user.require(REMOTE_FIXITY)?;
    Ok(Json(blocking(&state, |a| a.replication_lag()).await?))
}

/// `POST /api/fixity/remote`: the object store's copies checked against the archive.
#[utoipa::path(post, path = "/api/fixity/remote", tag = "archive", responses((status = 200, body = RemoteFixity)))]
pub(crate) async fn remote_fixity(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<RemoteFixity>, AppError> {
    user.require(REMOTE_FIXITY)?;
    Ok(Json(blocking(&state, move |a| a.remote_fixity(&user.name)).await?))
}

/// `POST /api/fixity/province`: the other offices' logs witnessed from their published checkpoints.
#[utoipa::path(post, path = "/api/fixity/province", tag = "archive", responses((status = 200, body = ProvinceFixity)))]
pub(crate) async fn province_fixity(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<ProvinceFixity>, AppError> {
    user.require(PROVINCE_FIXITY)?;
    Ok(Json(blocking(&state, move |a| a.province_fixity(&user.name)).await?))
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/replicate", post(replicate))
        .route("/api/replication", get(lag))
        .route("/api/fixity/remote", post(remote_fixity))
        .route("/api/fixity/province", post(province_fixity))
}
