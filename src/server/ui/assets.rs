//! The UI's style sheets and scripts, built into the binary. Each is served at `/assets/NAME` and
//! linked with its content's hash in the query (`?v=…`), so that browsers keep it for a year and a new
//! binary's file is fetched at once.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::super::extract::AppPath;
use super::super::{AppError, AppState};

/// An asset: its name, its media type and its bytes.
struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

/// Every asset. A screen that needs a script of its own adds it here.
const ASSETS: &[Asset] = &[
    Asset { name: "app.css", mime: "text/css; charset=utf-8", bytes: include_bytes!("assets/app.css") },
    Asset { name: "app.js", mime: "text/javascript; charset=utf-8", bytes: include_bytes!("assets/app.js") },
    Asset { name: "verify.js", mime: "text/javascript; charset=utf-8", bytes: include_bytes!("assets/verify.js") },
    // The QR code decoder of the public page's camera, loaded only when the camera is used.
    Asset {
        name: "jsqr.min.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/vendor/jsqr.min.js"),
    },
    Asset { name: "document.js", mime: "text/javascript; charset=utf-8", bytes: include_bytes!("assets/document.js") },
    Asset { name: "metadata.js", mime: "text/javascript; charset=utf-8", bytes: include_bytes!("assets/metadata.js") },
    Asset { name: "receipt.js", mime: "text/javascript; charset=utf-8", bytes: include_bytes!("assets/receipt.js") },
    Asset { name: "auditor.js", mime: "text/javascript; charset=utf-8", bytes: include_bytes!("assets/auditor.js") },
    Asset { name: "station.js", mime: "text/javascript; charset=utf-8", bytes: include_bytes!("assets/station.js") },
];

/// Each asset's name with the first 16 hex digits of its BLAKE3 hash.
static VERSIONS: LazyLock<Vec<(&'static str, String)>> =
    LazyLock::new(|| ASSETS.iter().map(|a| (a.name, blake3::hash(a.bytes).to_hex()[..16].to_owned())).collect());

/// The address to link an asset by. Panics on a name that is not in [`ASSETS`]: a page that links a
/// missing asset is a programming error, caught by any test that renders it.
pub fn url(name: &str) -> String {
    let (_, version) = VERSIONS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no asset {name}"));
    format!("/assets/{name}?v={version}")
}

/// `GET /assets/{name}`: public, like the login form that links it.
async fn serve(AppPath(name): AppPath<String>) -> Result<Response, AppError> {
    let asset =
        ASSETS.iter().find(|a| a.name == name).ok_or_else(|| AppError::NotFound(format!("no asset {name:?}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.mime)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        asset.bytes,
    )
        .into_response())
}

/// The assets' route.
pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{name}", get(serve))
}
