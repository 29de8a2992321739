//! Full-text search over HTTP.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::{AppError, AppState, AuthUser, blocking};
use crate::appliance::hit_json;
use crate::users::Role;
use search::{Hit, SearchRequest};

/// Most documents one query may return.
const MAX_LIMIT: usize = 200;

#[derive(Deserialize)]
struct SearchParams {
    q: String,
    limit: Option<usize>,
    offset: Option<usize>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    issuer: Option<String>,
    year: Option<i32>,
    sort: Option<String>,
}

/// `GET /api/search?q=…[&type=…][&issuer=…][&year=…][&sort=relevance|newest|oldest][&offset=…][&limit=…]`:
/// one page of documents, the total, and facet counts. Each role sees only the statuses it may, and
/// a role that does not read documents (scan operators) only what tells it a document is already
/// captured: see [`capture_hit_json`].
async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, AppError> {
    user.require(&Role::ALL, "search")?;
    let Query(p) = params.map_err(|e| {
        AppError::BadRequest(format!("expected ?q=<words>[&type=&issuer=&year=&sort=&offset=&limit=]: {e}"))
    })?;
    if p.q.trim().is_empty() {
        return Err(AppError::BadRequest("the query q is empty".into()));
    }
    let sort = p.sort.as_deref().map(str::parse).transpose().map_err(AppError::BadRequest)?.unwrap_or_default();
    let request = SearchRequest {
        text: p.q,
        doc_type: p.doc_type,
        issuing_body: p.issuer,
        year: p.year,
        statuses: user.role.visible_statuses().to_vec(),
        sort,
        offset: p.offset.unwrap_or(0),
        limit: p.limit.unwrap_or(20).clamp(1, MAX_LIMIT),
    };
    let shown: fn(&Hit) -> serde_json::Value = if user.role.reads_documents() { hit_json } else { capture_hit_json };
    let actor = user.name;
    let results = blocking(&state, move |a| a.search(&request, &actor)).await?;
    Ok(Json(serde_json::json!({
        "total": results.total,
        "truncated": results.truncated,
        "hits": results.hits.iter().map(shown).collect::<Vec<_>>(),
        "facets": results.facets,
    })))
}

/// A hit as a role that does not read documents sees it: enough to tell that a document is already
/// captured (its code, type, capture time and status), and nothing of its content: no owner field,
/// no name, no page and no snippet of its text.
fn capture_hit_json(h: &Hit) -> serde_json::Value {
    serde_json::json!({
        "code": h.code.to_string(),
        "type": h.doc_type,
        "status": h.status,
        "captured_at": h.captured_at,
    })
}

/// Search routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/search", get(search))
}
