//! Login and logout. A user logs in with name and password (checked against the argon2id hash) and
//! receives a session: a bearer token from `POST /api/login`, or a cookie from the browser's login form
//! `POST /login` (see [`session`]). Every protected handler takes an [`AuthUser`] and checks its role
//! with [`AuthUser::require`]. Logins pass the [`LoginThrottle`](super::throttle::LoginThrottle)
//! first; successful ones are audited one by one, failed ones in aggregate.

use std::net::IpAddr;

use axum::extract::{DefaultBodyLimit, Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use tokio::sync::SemaphorePermit;

use super::client_ip::ClientIp;
use super::session::{self, Found};
use super::throttle::Admission;
use super::{AppError, AppState, blocking};
use crate::ops::sessions::{OpenedSession, Principal, SessionKind};
use crate::users::{self, Role};

/// Who a request acts for: a person's session or an access token, found by [`session::resolve`].
#[derive(Clone)]
pub struct AuthUser {
    /// Login name, or the access token's name.
    pub name: String,
    /// Role: the account's now, or the token's.
    pub role: Role,
    /// How the session was opened.
    pub kind: SessionKind,
    /// The hash of the session's secret, which identifies the session without being it.
    pub(crate) session_id: [u8; 32],
    /// A browser session's CSRF token, for the pages that put it in their forms.
    pub(crate) csrf_token: Option<String>,
}

/// Without the CSRF token and the session's id: what a log line may show of a caller.
impl std::fmt::Debug for AuthUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthUser")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("kind", &self.kind)
            .finish()
    }
}

impl From<Principal> for AuthUser {
    fn from(p: Principal) -> Self {
        AuthUser { name: p.name, role: p.role, kind: p.kind, session_id: p.id, csrf_token: None }
    }
}

impl AuthUser {
    /// Refuses the request unless the user has one of `roles`.
    pub fn require(&self, permit: crate::ops::Permit) -> Result<(), AppError> {
        if permit.allows(self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("the {} role may not {}", self.role, permit.what)))
        }
    }

    /// Refuses access tokens: for what only a person's session may do (their password, their logout).
    pub(crate) fn require_person(&self) -> Result<(), AppError> {
        match self.kind {
            SessionKind::Browser | SessionKind::Api => Ok(()),
            SessionKind::Station | SessionKind::Monitor => {
                Err(AppError::Forbidden(format!("an access token ({} role) is not a person's session", self.role)))
            }
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Found>() {
            Some(Found::User(user)) => Ok(user.clone()),
            Some(Found::Ended) => {
                Err(AppError::Unauthorized("the session is unknown or has expired; log in again".into()))
            }
            Some(Found::NotBearer) => {
                Err(AppError::Unauthorized("the Authorization header must be Bearer <token>".into()))
            }
            Some(Found::NoCsrfToken) => Err(AppError::Forbidden(format!(
                "a change made with the browser session needs its CSRF token (header {}, or form field {}); reload the page",
                session::CSRF_HEADER,
                session::CSRF_FIELD
            ))),
            None => Err(AppError::Unauthorized(
                "log in first: send Authorization: Bearer <token> from POST /api/login, or log in with the browser"
                    .into(),
            )),
        }
    }
}

/// A login.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Login {
    /// The user name.
    username: String,
    /// The password.
    password: String,
}

/// The browser's login form: a login, and the appliance's page to go to after it.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct BrowserLogin {
    #[serde(flatten)]
    login: Login,
    /// A path of this appliance to go to once logged in; default `/`.
    next: Option<String>,
}

/// The largest login body: a name of 64 bytes and a password of `users::MAX_PASSWORD`, as JSON.
const MAX_LOGIN_BODY: usize = 1024;

/// Lets a password check of `name` from `address` go ahead: refused while either is closed after
/// repeated failures, it then waits for one of the bounded Argon2 slots, which it holds while the
/// returned permit lives.
async fn password_check_slot<'a>(
    state: &'a AppState,
    address: IpAddr,
    name: &str,
) -> Result<SemaphorePermit<'a>, AppError> {
    if let Admission::Closed(wait) = state.login_throttle.admit(address, name) {
        // Whole seconds, rounded up, as Retry-After counts them: a client told 0 would come back at once.
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(AppError::TooManyRequests {
            message: format!("too many failed logins; try again in {retry_after} s"),
            retry_after,
        });
    }
    state.login_throttle.argon2_slot().await.ok_or_else(|| AppError::Saturated {
        message: "too many logins at once; try again in a moment".into(),
        retry_after: 1,
    })
}

/// What every refused login is told, whatever the reason, so that no answer tells which names exist.
const REFUSED: &str = "wrong user name or password";

/// A session opened.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct LoggedIn {
    /// The bearer token: `Authorization: Bearer <token>`.
    token: String,
    /// The user.
    user: String,
    /// The user's role.
    role: Role,
    /// When the session ends, however much it is used (it ends earlier when unused for a while).
    expires_at: DateTime<FixedOffset>,
}

/// A session ended.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct LoggedOut {
    /// The user whose session ended.
    logged_out: String,
}

/// A password replaced.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PasswordChanged {
    /// The user.
    user: String,
    /// Always true.
    password_changed: bool,
}

/// Checks a login's password under the throttle; the role when it is right, the same refusal for
/// every wrong name, password or disabled account otherwise.
async fn check_login(state: &AppState, address: IpAddr, login: Login, from: String) -> Result<Role, AppError> {
    // The name's form is checked before anything else is done with it: what an anonymous client typed
    // reaches neither the throttle's tables nor the audit trail unless it could be an account's name.
    users::check_name(&login.username)?;
    if login.password.len() > users::MAX_PASSWORD {
        return Err(AppError::Unauthorized(REFUSED.into()));
    }
    let _slot = password_check_slot(state, address, &login.username).await?;
    let name = login.username.clone();
    let outcome = blocking(state, move |a| a.log_in(&login.username, &login.password, &from)).await?;
    match outcome {
        users::Login::Accepted(role) => {
            state.login_throttle.succeeded(address, &name);
            Ok(role)
        }
        refused => {
            state.login_throttle.failed(address, &name, refused == users::Login::RefusedKnownUser);
            state.appliance.metrics().failed_login();
            Err(AppError::Unauthorized(REFUSED.into()))
        }
    }
}

async fn open_session(state: &AppState, name: String, kind: SessionKind) -> Result<OpenedSession, AppError> {
    blocking(state, move |a| a.open_session(&name, kind)).await
}

#[utoipa::path(post, path = "/api/login", tag = "accounts", request_body = Login, responses((status = 200, body = LoggedIn)), security(()))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(address): ClientIp,
    body: Result<Json<Login>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<LoggedIn>, AppError> {
    let Json(login) = body.map_err(|e| {
        let message = format!("expected JSON {{\"username\", \"password\"}} of at most {MAX_LOGIN_BODY} bytes: {e}");
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(message)
        } else {
            AppError::BadRequest(message)
        }
    })?;
    let name = login.username.clone();
    let role = check_login(&state, address, login, address.to_string()).await?;
    let opened = open_session(&state, name.clone(), SessionKind::Api).await?;
    Ok(Json(LoggedIn { token: opened.secret, user: name, role, expires_at: opened.expires_at }))
}

/// `POST /login`: the browser's login form (URL-encoded `username`, `password` and optionally `next`).
/// The session comes back as a cookie, and the browser is sent to `next` (a path of this appliance),
/// or to `/`, the first screen of the person's role. A refused login goes back to the form
/// (`GET /login?error=…`), which says why.
#[utoipa::path(post, path = "/login", tag = "accounts", request_body(content = BrowserLogin, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "Logged in: the session cookie is set")), security(()))]
pub(crate) async fn browser_login(
    State(state): State<AppState>,
    ClientIp(address): ClientIp,
    headers: HeaderMap,
    form: Result<Form<BrowserLogin>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    if !session::same_origin(&headers) {
        return Err(AppError::Forbidden("a login form must be posted from the appliance's own page".into()));
    }
    let Form(BrowserLogin { login, next }) =
        form.map_err(|e| AppError::BadRequest(format!("expected a form with username and password: {e}")))?;
    let next = super::ui::local_path(next.as_deref()).unwrap_or("/");
    let location =
        HeaderValue::from_str(next).map_err(|_| AppError::BadRequest("`next` is not a valid path".into()))?;
    let name = login.username.clone();
    if let Err(e) = check_login(&state, address, login, format!("{address} (browser)")).await {
        // The form is shown again, saying why; the refusal itself was counted by the throttle.
        let why = match e {
            AppError::TooManyRequests { .. } => "throttled",
            AppError::Unauthorized(_) => "credentials",
            other => return Err(other),
        };
        let mut again = format!("/login?error={why}&next=");
        again.extend(form_urlencoded::byte_serialize(next.as_bytes()));
        let again = HeaderValue::from_str(&again).expect("an encoded path is a valid header value");
        return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, again)]).into_response());
    }
    let opened = open_session(&state, name, SessionKind::Browser).await?;
    let max_age = state.appliance.http_config().session_max_seconds;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::SET_COOKIE, session::set_cookie(&opened.secret, max_age)), (header::LOCATION, location)],
    )
        .into_response())
}

/// `POST /api/logout` (any session) and `POST /logout` (the browser's form, with its CSRF token): ends
/// the session the request was made with, and removes a browser's cookie.
#[utoipa::path(post, path = "/api/logout", tag = "accounts", responses((status = 200, body = LoggedOut)))]
pub(crate) async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<Response, AppError> {
    user.require_person()?;
    let (id, name) = (user.session_id, user.name.clone());
    blocking(&state, move |a| a.log_out(&name, &id)).await?;
    let body = Json(LoggedOut { logged_out: user.name });
    Ok(match user.kind {
        SessionKind::Browser => ([(header::SET_COOKIE, session::clear_cookie())], body).into_response(),
        _ => body.into_response(),
    })
}

/// `POST /logout`: the browser's logout form, with the session's CSRF token in its `csrf_token` field.
/// The session ends as with `POST /api/logout`, and the browser goes to the login form.
#[utoipa::path(post, path = "/logout", tag = "accounts", responses((status = 303, description = "Logged out: the cookie is removed, and the browser sent to the login form")))]
pub(crate) async fn browser_logout(state: State<AppState>, user: AuthUser) -> Result<Response, AppError> {
    let mut response = logout(state, user).await?;
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/login"));
    Ok(response)
}

/// The session a request is made with.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SessionInfo {
    /// The user, or the access token's name.
    user: String,
    /// The role.
    role: Role,
    /// For a browser session: the CSRF token its changes must carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

/// `GET /api/session`: who the session is, and a browser session's CSRF token.
#[utoipa::path(get, path = "/api/session", tag = "accounts", responses((status = 200, body = SessionInfo)))]
pub(crate) async fn current(user: AuthUser) -> Result<Json<SessionInfo>, AppError> {
    user.require_person()?;
    Ok(Json(SessionInfo { user: user.name, role: user.role, csrf_token: user.csrf_token }))
}

/// The current password and the new one.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct PasswordChange {
    /// The password now.
    pub(crate) current: String,
    /// The new password.
    pub(crate) new: String,
}

/// `POST /api/account/password`: a user replaces their own password, giving the current one. The other
/// sessions of the user end; the first admin's password file goes once that password is replaced.
#[utoipa::path(post, path = "/api/account/password", tag = "accounts", request_body = PasswordChange, responses((status = 200, body = PasswordChanged)))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ClientIp(address): ClientIp,
    user: AuthUser,
    body: Result<Json<PasswordChange>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<PasswordChanged>, AppError> {
    user.require_person()?;
    let Json(change) =
        body.map_err(|e| AppError::BadRequest(format!("expected JSON {{\"current\", \"new\"}}: {e}")))?;
    change_own_password(&state, address, &user, change).await?;
    Ok(Json(PasswordChanged { user: user.name, password_changed: true }))
}

/// A person replaces their own password, from the API or the account page: the current one is checked
/// like a login (the same throttle, a failure counted as one), the other sessions end and this one
/// stays.
pub(crate) async fn change_own_password(
    state: &AppState,
    address: IpAddr,
    user: &AuthUser,
    change: PasswordChange,
) -> Result<(), AppError> {
    let _slot = password_check_slot(state, address, &user.name).await?;
    let (name, keep) = (user.name.clone(), user.session_id);
    let accepted =
        blocking(state, move |a| a.change_password(&name, &change.current, &change.new, Some(&keep))).await?;
    if !accepted {
        state.login_throttle.failed(address, &user.name, true);
        state.appliance.metrics().failed_login();
        return Err(AppError::Unauthorized("the current password is wrong".into()));
    }
    Ok(())
}

/// `POST /api/login` and `POST /login` (the routes open without a session, since they are how a
/// session begins), `POST /api/logout`, `POST /logout`, `GET /api/session` and `POST /api/account/password`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login).layer(DefaultBodyLimit::max(MAX_LOGIN_BODY)))
        .route("/login", post(browser_login).layer(DefaultBodyLimit::max(MAX_LOGIN_BODY)))
        .route("/api/logout", post(logout))
        .route("/logout", post(browser_logout))
        .route("/api/session", get(current))
        .route("/api/account/password", post(change_password).layer(DefaultBodyLimit::max(MAX_LOGIN_BODY)))
}
