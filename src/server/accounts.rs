//! User administration over HTTP, for admins, while the appliance serves: disabling an account ends its
//! sessions at once, without a restart (the CLI cannot reach a data directory the server holds open).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use super::extract::AppPath;
use super::{AppError, AppState, AuthUser, blocking};
use crate::ops::accounts::{MANAGE_USERS, UserChanged};

/// `POST /api/users/{name}/disable` (admin): the account's sessions end at once.
#[utoipa::path(post, path = "/api/users/{name}/disable", tag = "accounts", params(("name" = String, Path, description = "User name")), responses((status = 200, body = UserChanged)))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    admin: AuthUser,
    AppPath(name): AppPath<String>,
) -> Result<Json<UserChanged>, AppError> {
    admin.require(MANAGE_USERS)?;
    let changed = blocking(&state, move |a| a.set_disabled(&name, true, &admin.name)).await?;
    state.sessions.end_user(&changed.user);
    Ok(Json(changed))
}

/// `POST /api/users/{name}/enable` (admin).
#[utoipa::path(post, path = "/api/users/{name}/enable", tag = "accounts", params(("name" = String, Path, description = "User name")), responses((status = 200, body = UserChanged)))]
pub(crate) async fn enable(
    State(state): State<AppState>,
    admin: AuthUser,
    AppPath(name): AppPath<String>,
) -> Result<Json<UserChanged>, AppError> {
    admin.require(MANAGE_USERS)?;
    Ok(Json(blocking(&state, move |a| a.set_disabled(&name, false, &admin.name)).await?))
}

/// The user administration routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/{name}/disable", post(disable)).route("/api/users/{name}/enable", post(enable))
}
