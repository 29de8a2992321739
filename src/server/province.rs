//! Reuse lookup and full-text search across the province's offices over HTTP: the same roles as
//! the local lookup, and as reading documents for search (the answers show other offices'
//! documents). Each hit of another office is verified by the appliance before it is offered.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::AppQuery;
use super::reuse::Lookup;
use super::{AppError, AppState, AuthUser, blocking};
use crate::ops::province::{ProvinceReuse, ProvinceSearch, SEARCH};
use crate::reuse::LOOKUP;

/// `GET /api/province/reuse`: the owner's documents in force here and at the other offices, theirs
/// verified here from their evidence.
#[utoipa::path(get, path = "/api/province/reuse", tag = "reuse", params(Lookup), responses((status = 200, body = ProvinceReuse)))]
pub(crate) async fn reuse(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(q): AppQuery<Lookup>,
) -> Result<Json<ProvinceReuse>, AppError> {
    user.require(LOOKUP)?;
    let valid_on = q.valid_on.unwrap_or_else(|| domain::vietnam_now().date_naive());
    Ok(Json(blocking(&state, move |a| a.province_reuse(&q.owner, q.doc_type.as_ref(), valid_on, &user.name)).await?))
}

/// A query.
#[derive(Deserialize, IntoParams)]
pub(crate) struct Query {
    /// The words, with or without diacritics (web search syntax: "quoted phrase", -excluded, or).
    q: String,
}

/// `GET /api/province/search`: the other offices' documents that match, verified here.
#[utoipa::path(get, path = "/api/province/search", tag = "documents", params(Query), responses((status = 200, body = ProvinceSearch)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(q): AppQuery<Query>,
) -> Result<Json<ProvinceSearch>, AppError> {
    user.require(SEARCH)?;
    Ok(Json(blocking(&state, move |a| a.province_search(&q.q, &user.name)).await?))
}

/// Province routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/province/reuse", get(reuse)).route("/api/province/search", get(search))
}
