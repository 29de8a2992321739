//! The security headers of every response. The appliance serves its own pages and nothing else, so the
//! policy allows only its own origin; its pages are never framed, never sniffed into another type, and
//! never cached or sent on as a referrer, since both the API's answers (citizens' documents) and the
//! public verification URLs (which carry a document's verification token) are not to leave the browser.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// What the appliance's pages may load: their own style sheet and scripts (nothing inline), images of
/// their own (page thumbnails) and data URLs; no plugin, frame or other origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const HEADERS: [(HeaderName, &str); 6] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
];

/// Adds the security headers to a response, and `Cache-Control: no-store` unless the handler chose
/// its own caching.
pub async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Adds `Strict-Transport-Security` to a response served over HTTPS: browsers that have seen the
/// appliance over HTTPS then refuse to reach it in clear for a year, so that a forged plain-HTTP
/// answer on the LAN cannot take a login.
pub async fn strict_transport_security(mut response: Response) -> Response {
    response.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    response
}
