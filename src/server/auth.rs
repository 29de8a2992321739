//! Login and sessions. A user logs in with name and password (checked against the argon2id hash) and
//! receives a random bearer token; the server keeps only the token's BLAKE3 hash, with the user, role
//! and expiry. Every protected handler takes an [`AuthUser`] and checks its role with
//! [`AuthUser::require`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

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
        getrandom::fill(&mut token).map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness for a token: {e}")))?;
        let token = blake3::Hash::from_bytes(token).to_hex().to_string();
        let session = Session { user: user.to_owned(), role, expires: Instant::now() + SESSION_LIFETIME };
        let mut map = self.by_token_hash.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.expires > Instant::now());
        map.insert(*blake3::hash(token.as_bytes()).as_bytes(), session);
        Ok(token)
    }

    fn find(&self, token: &str) -> Option<AuthUser> {
        let map = self.by_token_hash.lock().unwrap_or_else(|p| p.into_inner());
        let session = map.get(blake3::hash(token.as_bytes()).as_bytes())?;
        (session.expires > Instant::now()).then(|| AuthUser { name: session.user.clone(), role: session.role })
    }
}

/// The user behind a request's bearer token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
}

impl AuthUser {
    /// Refuses the request unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("the {} role may not {action}", self.role)))
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| AppError::Unauthorized("log in first: send Authorization: Bearer <token> from POST /api/login".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| AppError::Unauthorized("the Authorization header must be Bearer <token>".into()))?;
        state.sessions.find(token.trim()).ok_or_else(|| AppError::Unauthorized("the session is unknown or has expired; log in again".into()))
    }
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    body: Result<Json<Login>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, AppError> {
    let Json(login) = body.map_err(|e| AppError::BadRequest(format!("expected JSON {{\"username\", \"password\"}}: {e}")))?;
    let name = login.username.clone();
    let role = blocking(&state, move |a| {
        let role = users::authenticate(a.archive(), &login.username, &login.password)?;
        let action = if role.is_some() { "login" } else { "login-failed" };
        a.archive().audit(&login.username, action, &login.username, "")?;
        Ok(role)
    })
    .await?
    .ok_or_else(|| AppError::Unauthorized("wrong user name or password".into()))?;
    let token = state.sessions.open(&name, role)?;
    Ok(Json(serde_json::json!({ "token": token, "user": name, "role": role })))
}

/// `POST /api/login`: the one API route open without a session, since it is how a session begins.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/login", post(login))
}
