//! Login and sessions. A user logs in with name and password (checked against the argon2id hash) and
//! receives a random bearer token; the server keeps only the token's BLAKE3 hash, with the user, role
//! and expiry. Every protected handler takes an [`AuthUser`] and checks its role with
//! [`AuthUser::require`]. Logins pass the [`LoginThrottle`](super::throttle::LoginThrottle) first;
//! successful ones are audited one by one, failed ones in aggregate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use tokio::sync::SemaphorePermit;

use super::client_ip::ClientIp;
use super::throttle::Admission;
use super::{AppError, AppState, blocking};
use crate::users::{self, Role};

/// How long a session lasts: one working day.
const SESSION_LIFETIME: Duration = Duration::from_secs(10 * 3600);

struct Session {
    user: String,
    role: Role,
    expires: Instant,
}

/// The logged-in sessions, by hash of their token.
#[derive(Default)]
pub struct Sessions {
    by_token_hash: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    /// Opens a session and returns its bearer token.
    pub fn open(&self, user: &str, role: Role) -> Result<String, AppError> {
        let mut token = [0u8; 32];
        getrandom::fill(&mut token)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness for a token: {e}")))?;
        let token = blake3::Hash::from_bytes(token).to_hex().to_string();
        let session = Session { user: user.to_owned(), role, expires: Instant::now() + SESSION_LIFETIME };
        let mut map = self.sessions();
        map.retain(|_, s| s.expires > Instant::now());
        map.insert(*blake3::hash(token.as_bytes()).as_bytes(), session);
        Ok(token)
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.by_token_hash.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn find(&self, token: &str) -> Option<AuthUser> {
        let session_id = *blake3::hash(token.as_bytes()).as_bytes();
        let map = self.sessions();
        let session = map.get(&session_id)?;
        (session.expires > Instant::now()).then(|| AuthUser {
            name: session.user.clone(),
            role: session.role,
            session_id,
        })
    }

    /// Ends the session `user` came with.
    pub fn close(&self, user: &AuthUser) {
        self.sessions().remove(&user.session_id);
    }

    /// Ends every session of the user `name` (disabled, or given a new role or password by an admin).
    pub fn end_user(&self, name: &str) {
        self.sessions().retain(|_, s| s.user != name);
    }

    /// Ends the user's other sessions, keeping the one `user` came with.
    pub fn end_all_but(&self, user: &AuthUser) {
        self.sessions().retain(|id, s| s.user != user.name || *id == user.session_id);
    }
}

/// The user behind a request's bearer token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The hash of the session's token, which identifies the session without being it.
    session_id: [u8; 32],
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
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or_else(|| {
            AppError::Unauthorized("log in first: send Authorization: Bearer <token> from POST /api/login".into())
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| AppError::Unauthorized("the Authorization header must be Bearer <token>".into()))?;
        state
            .sessions
            .find(token.trim())
            .ok_or_else(|| AppError::Unauthorized("the session is unknown or has expired; log in again".into()))
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
    // The name's form is checked before anything else is done with it: what an anonymous client typed
    // reaches neither the throttle's tables nor the audit trail unless it could be an account's name.
    users::check_name(&login.username)?;
    if login.password.len() > users::MAX_PASSWORD {
        return Err(AppError::Unauthorized(REFUSED.into()));
    }
    let _slot = password_check_slot(&state, address, &login.username).await?;
    let name = login.username.clone();
    let from = address.to_string();
    let outcome = blocking(&state, move |a| a.log_in(&login.username, &login.password, &from)).await?;
    let role = match outcome {
        users::Login::Accepted(role) => role,
        refused => {
            state.login_throttle.failed(address, &name, refused == users::Login::RefusedKnownUser);
            return Err(AppError::Unauthorized(REFUSED.into()));
        }
    };
    state.login_throttle.succeeded(address, &name);
    let token = state.sessions.open(&name, role)?;
    Ok(Json(LoggedIn { token, user: name, role }))
}

/// `POST /api/logout`: ends the session the request was made with.
#[utoipa::path(post, path = "/api/logout", tag = "accounts", responses((status = 200, body = LoggedOut)))]
pub(crate) async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<Json<LoggedOut>, AppError> {
    state.sessions.close(&user);
    let name = user.name.clone();
    blocking(&state, move |a| a.log_out(&name)).await?;
    Ok(Json(LoggedOut { logged_out: user.name }))
}

/// The current password and the new one.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct PasswordChange {
    /// The password now.
    current: String,
    /// The new password.
    new: String,
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
    let Json(change) =
        body.map_err(|e| AppError::BadRequest(format!("expected JSON {{\"current\", \"new\"}}: {e}")))?;
    let _slot = password_check_slot(&state, address, &user.name).await?;
    let name = user.name.clone();
    let accepted = blocking(&state, move |a| a.change_password(&name, &change.current, &change.new)).await?;
    if !accepted {
        state.login_throttle.failed(address, &user.name, true);
        return Err(AppError::Unauthorized("the current password is wrong".into()));
    }
    state.sessions.end_all_but(&user);
    Ok(Json(PasswordChanged { user: user.name, password_changed: true }))
}

/// `POST /api/login` (the one API route open without a session, since it is how a session begins),
/// `POST /api/logout` and `POST /api/account/password`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login).layer(DefaultBodyLimit::max(MAX_LOGIN_BODY)))
        .route("/api/logout", post(logout))
        .route("/api/account/password", post(change_password).layer(DefaultBodyLimit::max(MAX_LOGIN_BODY)))
}
