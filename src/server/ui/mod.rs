//! The web UI: server-rendered pages (maud's compiled templates) for the people at a one-stop centre,
//! each screen a thin adapter over the same operations as the API, with the same permits. Vietnamese
//! first, English by a switch ([`lang`]); a person logs in with the browser's cookie session, and a
//! change posted from a page carries the session's CSRF token (a hidden field, or the header that the
//! shared script adds to its `fetch` calls). The style sheet and scripts are built into the binary
//! ([`assets`]); pages work with the keyboard alone, and their scripts only add to what the HTML does.
//!
//! Each screen is one module with its own `router()`; [`layout`] is the frame they share.

mod assets;
mod error;
mod lang;
mod layout;
mod login;
mod metadata;
mod station;
mod station_batch;
mod station_events;
mod station_scan;
mod user;

use axum::Router;

use super::AppState;
pub use station_batch::Batches;

/// Every page of the UI, and its assets.
pub fn router(http: &crate::config::HttpConfig) -> Router<AppState> {
    Router::new().merge(assets::router()).merge(login::router()).merge(station::router(http))
}

/// A path of this appliance to send the browser to, or nothing: never another site (`//host`,
/// `/\host`), and nothing with a control character, which browsers drop (so that `/\t/host` would
/// become `//host`).
pub fn local_path(path: Option<&str>) -> Option<&str> {
    path.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.chars().any(|c| c.is_control() || c == '\\'))
}
