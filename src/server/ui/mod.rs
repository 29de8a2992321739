//! The web UI: server-rendered pages (maud's compiled templates) for the people at a one-stop centre,
//! each screen a thin adapter over the same operations as the API, with the same permits. Vietnamese
//! first, English by a switch ([`lang`]); a person logs in with the browser's cookie session, and a
//! change posted from a page carries the session's CSRF token (a hidden field, or the header that the
//! shared script adds to its `fetch` calls). The style sheet and scripts are built into the binary
//! ([`assets`]); pages work with the keyboard alone, and their scripts only add to what the HTML does.
//!
//! Each screen is one module with its own `router()`; [`layout`] is the frame they share.

mod account;
mod admin;
mod archivist;
mod archivist_disposition;
mod archivist_export;
mod archivist_holds;
mod assets;
mod auditor;
mod auditor_fixity;
mod chart;
mod checks;
mod dashboard;
mod document;
mod error;
pub mod hotfolder;
mod lang;
mod layout;
mod login;
pub mod metadata;
mod notice;
mod province;
mod qr;
mod receipt;
mod reuse;
mod search;
mod station;
mod station_batch;
mod station_events;
mod station_queue;
mod station_scan;
mod user;
pub(super) mod verify;

use axum::Router;

pub use auditor_fixity::FixityRun;
pub use station_batch::Batches;

use super::AppState;
use crate::config::HttpConfig;

/// Every page of the UI, and its assets; uploads are bounded by `http`.
pub fn router(http: &HttpConfig) -> Router<AppState> {
    Router::new()
        .merge(assets::router())
        .merge(login::router())
        .merge(verify::router(http))
        .merge(station::router(http))
        .merge(search::router())
        .merge(document::router())
        .merge(reuse::router())
        .merge(metadata::router())
        .merge(receipt::router())
        .merge(hotfolder::router())
        .merge(dashboard::router())
        .merge(admin::router())
        .merge(archivist::router())
        .merge(auditor::router())
        .merge(account::router())
}

/// An address of this appliance: `path` and, when there are any, the `pairs` as its URL-encoded query.
/// Every link and redirect with a query is built here, so that each is encoded the same way.
pub fn link<K: AsRef<str>, V: AsRef<str>>(path: &str, pairs: impl IntoIterator<Item = (K, V)>) -> String {
    let start = format!("{path}?");
    let mut query = form_urlencoded::Serializer::for_suffix(start, path.len() + 1);
    let mut any = false;
    for (key, value) in pairs {
        query.append_pair(key.as_ref(), value.as_ref());
        any = true;
    }
    if any { query.finish() } else { path.to_owned() }
}

/// A path of this appliance to send the browser to, or nothing: never another site (`//host`,
/// `/\host`), and nothing with a control character, which browsers drop (so that `/\t/host` would
/// become `//host`).
pub fn local_path(path: Option<&str>) -> Option<&str> {
    path.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.chars().any(|c| c.is_control() || c == '\\'))
}
