//! Who a request comes from. A layer over the whole application reads the request's credential (a
//! bearer token in `Authorization`, or the browser session's cookie), finds its session in the archive
//! ([`Appliance::session`](crate::Appliance::session)) and leaves the outcome in the request for
//! [`AuthUser`] to take. A request without a credential costs nothing here; one with a credential that
//! is not a session costs one hash and one lookup, whatever it carries (a session in force costs a
//! read of its account too, and a synced note of its use once a minute).
//!
//! A browser's session travels in a cookie that scripts cannot read (`HttpOnly`), that crosses only
//! HTTPS (`Secure`) and that no other site's page can make the browser send (`SameSite=Strict`).
//! Beyond that, a request that changes something with the cookie must carry the session's CSRF token:
//! in the `X-CSRF-Token` header (scripts, uploads) or, for a plain HTML form, in its `csrf_token`
//! field. The token is derived from the session's secret, so it is neither stored nor guessable
//! without the cookie.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::AuthUser;
use super::{AppError, AppState, blocking, limits};

/// The browser session's cookie. The `__Host-` prefix makes browsers refuse it unless it is
/// `Secure`, has `Path=/` and no `Domain`: no other host of the domain can set or read it.
pub const COOKIE: &str = "__Host-sohoa-session";

/// The header that carries the CSRF token of a browser session's script requests and uploads.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The form field that carries the CSRF token of a browser session's plain HTML forms.
pub const CSRF_FIELD: &str = "csrf_token";

/// The session's CSRF token: derived from its secret by a keyed hash, so that it reveals nothing of
/// the secret, and needs no storage.
pub fn csrf_token(secret: &str) -> String {
    domain::hex(&blake3::derive_key("sohoa 2026-11 browser session CSRF token", secret.as_bytes()))
}

/// What the layer found for a request that carried a credential.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    /// A session in force.
    User(AuthUser),
    /// The credential is unknown, or its session ended.
    Ended,
    /// A browser session's change without its CSRF token.
    NoCsrfToken,
    /// An `Authorization` header that is not `Bearer <token>`.
    NotBearer,
}

enum Credential {
    Bearer(String),
    Cookie(String),
}

/// The request's credential: the bearer token if there is one, or else the session cookie.
fn credential(headers: &HeaderMap) -> Result<Option<Credential>, Found> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(|h| h.strip_prefix("Bearer ")).ok_or(Found::NotBearer)?;
        return Ok(Some(Credential::Bearer(token.trim().to_owned())));
    }
    Ok(cookie(headers, COOKIE).map(Credential::Cookie))
}

/// The value of the cookie `name` among the request's cookies.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether a request of this method can change something (and so needs the CSRF token with a cookie).
fn changes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The layer: resolves the credential and, for a browser session's change, checks the CSRF token.
pub async fn resolve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match resolved(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn resolved(state: &AppState, mut request: Request) -> Result<Request, AppError> {
    let credential = match credential(request.headers()) {
        Ok(Some(credential)) => credential,
        Ok(None) => return Ok(request),
        Err(found) => {
            request.extensions_mut().insert(found);
            return Ok(request);
        }
    };
    let (secret, by_cookie) = match credential {
        Credential::Bearer(secret) => (secret, false),
        Credential::Cookie(secret) => (secret, true),
    };
    // Secrets are 64 hex digits; anything else is no session, and is not worth a lookup.
    let principal = if secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        let looked_up = secret.clone();
        blocking(state, move |a| a.session(&looked_up)).await?
    } else {
        None
    };
    let found = match principal {
        None => Found::Ended,
        Some(principal) => {
            let expected = by_cookie.then(|| csrf_token(&secret));
            let user = AuthUser { csrf_token: expected.clone(), ..AuthUser::from(principal) };
            if let Some(expected) = expected.filter(|_| changes(request.method())) {
                let (checked, sent) = csrf_sent(request).await?;
                request = checked;
                if sent.is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes())) {
                    Found::User(user)
                } else {
                    Found::NoCsrfToken
                }
            } else {
                Found::User(user)
            }
        }
    };
    request.extensions_mut().insert(found);
    Ok(request)
}

/// The CSRF token a request sent: its header, or the field of a URL-encoded form (whose body, small by
/// the application's limit, is read here and put back for the handler).
async fn csrf_sent(request: Request) -> Result<(Request, Option<String>), AppError> {
    if let Some(token) = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let token = token.to_owned();
        return Ok((request, Some(token)));
    }
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limits::SMALL_BODY_BYTES as usize)
        .await
        .map_err(|e| AppError::TooLarge(format!("a form's body is at most {} bytes: {e}", limits::SMALL_BODY_BYTES)))?;
    let token = form_urlencoded::parse(&bytes).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Set-Cookie` value that gives a browser its session, until `max_age_seconds` from now.
pub fn set_cookie(secret: &str, max_age_seconds: u64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={secret}; Path=/; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=Strict"
    ))
    .expect("a hex secret is a valid header value")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"))
        .expect("a constant is a valid header value")
}

/// Whether a login form was posted by this appliance's own page: browsers say where a request comes
/// from (`Sec-Fetch-Site`, `Origin`); a form on another site must not log the browser into an account
/// of the attacker's choosing.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let host = host.to_str().unwrap_or_default();
            origin.split_once("://").is_some_and(|(_, authority)| authority == host)
        }
        _ => true,
    }
}
