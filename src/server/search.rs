//! Full-text search over HTTP.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::{AppError, AppState, AuthUser, blocking};
use crate::appliance::hit_json;
use crate::users::Role;

/// Most documents one query may return.
const MAX_LIMIT: usize = 200;

#[derive(Deserialize)]
struct SearchParams {
    q: String,
    limit: Option<usize>,
}

/// `GET /api/search?q=…&limit=…`.
async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, AppError> {
    user.require(&Role::ALL, "search")?;
    let Query(params) = params.map_err(|e| AppError::BadRequest(format!("expected ?q=<words>[&limit=N]: {e}")))?;
    if params.q.trim().is_empty() {
        return Err(AppError::BadRequest("the query q is empty".into()));
    }
    let limit = params.limit.unwrap_or(20).clamp(1, MAX_LIMIT);
    let actor = user.name;
    let hits = blocking(&state, move |a| a.search(&params.q, limit, &actor)).await?;
    Ok(Json(serde_json::json!({ "hits": hits.iter().map(hit_json).collect::<Vec<_>>() })))
}

/// Search routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/search", get(search))
}
