//! `/metrics` for Prometheus (admins and monitoring tokens), and the layer that times every request
//! under its route pattern.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{AppError, AppState, AuthUser};

/// `GET /metrics`: the appliance's metrics in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "admin", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub(crate) async fn metrics(State(state): State<AppState>, user: AuthUser) -> Result<Response, AppError> {
    user.require(crate::metrics::READ)?;
    let appliance = state.appliance.clone();
    let metrics = appliance.metrics();
    metrics.set_queue("uploads", state.uploads.in_use());
    let text = tokio::task::spawn_blocking(move || {
        // Files of the hot folder waiting for an operator's confirmation.
        let waiting = appliance.hot_folder_files().map_or(0, |listing| listing.pending.len());
        appliance.metrics().set_queue("hot_folder_files", waiting);
        // Documents captured and not yet archived, and their pages.
        let reading = appliance.reading_queue().report();
        appliance.metrics().set_queue("reading_documents", reading.depth);
        appliance.metrics().set_queue("reading_pages", reading.pages);
        // Events the object store lacks, and how long the oldest has waited (none when replication
        // is not configured).
        if let Ok(lag) = appliance.replication_lag() {
            appliance.metrics().set_replication_lag(lag.events_behind, lag.oldest_pending_seconds);
        }
        // The same for the province index (none when it is not configured).
        if let Ok(lag) = appliance.publication_lag() {
            appliance.metrics().set_publication_lag(lag.events_behind, lag.oldest_pending_seconds);
        }
        appliance.metrics().render(appliance.data_dir())
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("metrics task failed: {e}")))?
    .map_err(|e| AppError::Internal(anyhow::anyhow!("encoding the metrics: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

/// Times a request and records it under its route pattern (`/api/documents/{code}`, never the path
/// itself, so that clients cannot grow the series). Applied to the routes only, so requests that match
/// none are not timed.
pub async fn time_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("", |p| p.as_str()).to_owned();
    // The method from a fixed set: hyper takes any token as a method, and a label of each would let
    // an anonymous client grow the series.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    state.appliance.metrics().http_request(&route, method, response.status().as_u16(), started.elapsed());
    response
}

/// The metrics route.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}
