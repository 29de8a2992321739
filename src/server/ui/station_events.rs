//! The scanning station's live page list: `GET /station/events`, a stream of Server-Sent Events
//! (`EventSource` in the browser, no polling). Each event carries the batch as it is now: the page
//! list and the status line rendered as the page renders them, in the person's language, so that
//! the script only puts them in place. The first event is sent at once, so that nothing that
//! changed between the page's load and the stream's start is missed; later changes that come
//! together are sent as one.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::super::AppState;
use super::error::WebError;
use super::station;
use super::user::WebUser;
use crate::appliance::INGEST;

/// `GET /station/events`: for a browser's `EventSource` only (it asks for `text/event-stream`);
/// anything else is told 406, since the stream never ends by itself.
pub async fn events(State(state): State<AppState>, user: WebUser, headers: HeaderMap) -> Result<Response, WebError> {
    user.require(INGEST)?;
    if let Some(refused) = not_an_event_source(&headers) {
        return Ok(refused);
    }
    let changes = state.station.follow(&user.user.name).map_err(|e| user.error(e))?;
    let stream =
        futures_util::stream::unfold((state, user, changes, true), |(state, user, mut changes, first)| async move {
            if !first {
                match changes.recv().await {
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    // The batch was sealed or discarded: the browser is on its way elsewhere.
                    Err(RecvError::Closed) => return None,
                }
                // Changes that came together are one event.
                while !matches!(changes.try_recv(), Err(TryRecvError::Empty | TryRecvError::Closed)) {}
            }
            let event = snapshot(&state, &user);
            Some((Ok(event), (state, user, changes, false)))
        });
    Ok(live(stream).into_response())
}

/// The 406 answer to a request that does not ask for `text/event-stream`: these streams never end
/// by themselves, so they are for an `EventSource` only.
pub fn not_an_event_source(headers: &HeaderMap) -> Option<Response> {
    let wanted =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"));
    (!wanted).then(|| {
        (StatusCode::NOT_ACCEPTABLE, "this stream is for an EventSource: accept text/event-stream").into_response()
    })
}

/// The stream as a response, with a comment line now and then so that proxies keep it open.
pub fn live(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> impl IntoResponse {
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// The batch as the page shows it, as one `batch` event with a JSON body.
fn snapshot(state: &AppState, user: &WebUser) -> Event {
    let body = state.station.peek(&user.user.name, |b| match b {
        Some(b) => serde_json::json!({
            "pages": station::pages_list(user, b).into_string(),
            "status": station::status(user.lang, b).into_string(),
            "count": b.pages.len(),
            "scanning": matches!(b.scanning, super::station_batch::Scanning::Running(_)),
            "busy": b.reading() || matches!(b.scanning, super::station_batch::Scanning::Running(_)),
        }),
        None => serde_json::json!({ "pages": "", "status": "", "count": 0, "scanning": false, "busy": false }),
    });
    Event::default().event("batch").data(body.to_string())
}
