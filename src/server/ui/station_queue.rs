//! The scanning station's reading queue: the documents this operator captured that are still being
//! made into signed copies (waiting, or being read with how many pages are done), and those archived
//! lately with the time their reading took. The panel is rendered with the station page and kept
//! current by `GET /station/queue/events`, a stream of Server-Sent Events pushed when the queue
//! changes (no polling); a capture acknowledged at the counter is followed here to its archiving.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::super::AppState;
use super::error::WebError;
use super::lang::{self, Lang};
use super::station_events;
use super::user::WebUser;
use crate::appliance::INGEST;
use crate::queue::{QueueReport, Stage};

/// How many of the operator's documents archived lately the panel shows.
const ARCHIVED_SHOWN: usize = 5;

/// The panel's content for `user`: their documents waiting or being read, then theirs archived lately.
pub fn panel(user: &WebUser, report: &QueueReport) -> Markup {
    let lang = user.lang;
    let name = &user.user.name;
    let mine: Vec<_> = report.documents.iter().filter(|d| &d.operator == name).collect();
    let archived: Vec<_> = report.archived.iter().filter(|d| &d.operator == name).take(ARCHIVED_SHOWN).collect();
    html! {
        @if mine.is_empty() && archived.is_empty() {
            p.muted { (lang.t("Không có giấy tờ nào đang chờ tạo bản điện tử.", "No document is waiting for its signed copy.")) }
        }
        @if !mine.is_empty() {
            ul.queue {
                @for d in &mine {
                    li {
                        strong { (d.code) } " — " (d.name) ": "
                        span.pending { (stage(lang, d.stage, d.pages_read, d.pages)) }
                        @if let Some(error) = &d.last_error {
                            " " span.bad { (lang.t("lần đọc trước lỗi, sẽ thử lại: ", "the last reading failed and is tried again: ")) (error) }
                        }
                        " " span.muted { (lang.t("tiếp nhận lúc ", "received at ")) (captured_at(&d.captured_at)) }
                    }
                }
            }
        }
        @if !archived.is_empty() {
            ul.queue {
                @for d in &archived {
                    li {
                        strong { (d.code) } ": "
                        span.ok { (lang.t("đã ký số và lưu trữ", "signed and archived")) }
                        " " span.muted { (format!("{:.0} s", d.seconds_from_capture)) (lang.t(" sau khi tiếp nhận", " after its capture")) }
                    }
                }
            }
        }
    }
}

fn stage(lang: Lang, stage: Stage, read: usize, pages: usize) -> String {
    match stage {
        Stage::Captured => lang.t("đã lưu các trang, chờ đọc", "pages stored, waiting to be read").to_owned(),
        Stage::Reading => format!("{} {read}/{pages} {}", lang.t("đang đọc", "reading"), lang.t("trang", "pages")),
        Stage::Archived => lang.t("đã lưu trữ", "archived").to_owned(),
    }
}

fn captured_at(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map(lang::time).unwrap_or_default()
}

/// `GET /station/queue/events`: for a browser's `EventSource` only; a `queue` event with the panel
/// now, then one after each change of the queue (changes that come together are one event).
pub async fn events(State(state): State<AppState>, user: WebUser, headers: HeaderMap) -> Result<Response, WebError> {
    user.require(INGEST)?;
    if let Some(refused) = station_events::not_an_event_source(&headers) {
        return Ok(refused);
    }
    let changes = state.appliance.reading_queue().follow();
    let stream =
        futures_util::stream::unfold((state, user, changes, true), |(state, user, mut changes, first)| async move {
            if !first && changes.changed().await.is_err() {
                return None;
            }
            changes.borrow_and_update();
            let report = state.appliance.reading_queue().report();
            let event = Event::default().event("queue").data(panel(&user, &report).into_string());
            Some((Ok::<_, Infallible>(event), (state, user, changes, false)))
        });
    Ok(station_events::live(stream).into_response())
}
