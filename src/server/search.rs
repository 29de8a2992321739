//! Full-text search over HTTP.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::AppQuery;
use super::{AppError, AppState, AuthUser, blocking};
use crate::ops::documents::{SEARCH, SearchOutput};
use search::SearchRequest;

/// A query: the words, filters, order and page.
#[derive(Deserialize, IntoParams)]
pub(crate) struct SearchParams {
    /// The words, with or without diacritics.
    q: String,
    /// Documents wanted (1-200, default 20).
    limit: Option<usize>,
    /// Documents to skip.
    offset: Option<usize>,
    /// Only this document type.
    #[serde(rename = "type")]
    doc_type: Option<String>,
    /// Only this issuing body.
    issuer: Option<String>,
    /// Only documents issued this year.
    year: Option<i32>,
    /// `relevance` (default), `newest` or `oldest`.
    sort: Option<String>,
}

/// `GET /api/search`: one page of documents, the total, and facet counts. Each role sees only the
/// statuses it may, and a role that does not read documents (scan operators) only what tells it a
/// document is already captured.
#[utoipa::path(get, path = "/api/search", tag = "documents", params(SearchParams), responses((status = 200, body = SearchOutput)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(p): AppQuery<SearchParams>,
) -> Result<Json<SearchOutput>, AppError> {
    user.require(SEARCH)?;
    let sort = p.sort.as_deref().map(str::parse).transpose().map_err(AppError::BadRequest)?.unwrap_or_default();
    let request = SearchRequest {
        text: p.q,
        doc_type: p.doc_type,
        issuing_body: p.issuer,
        year: p.year,
        statuses: Vec::new(),
        sort,
        offset: p.offset.unwrap_or(0),
        limit: p.limit.unwrap_or(20),
    };
    Ok(Json(blocking(&state, move |a| a.search(request, Some(user.role), &user.name)).await?))
}

/// Search routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/search", get(search))
}
