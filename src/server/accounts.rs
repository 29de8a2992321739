//! User administration over HTTP, for admins, while the appliance serves: disabling an account ends its
//! sessions at once, without a restart (the CLI cannot reach a data directory the server holds open).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};

use super::{AppError, AppState, AuthUser, blocking};
use crate::users::{self, Role};

/// `POST /api/users/{name}/disable` (admin).
async fn disable(
    State(state): State<AppState>,
    admin: AuthUser,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    set_disabled(state, admin, name, true).await
}

/// `POST /api/users/{name}/enable` (admin).
async fn enable(
    State(state): State<AppState>,
    admin: AuthUser,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    set_disabled(state, admin, name, false).await
}

async fn set_disabled(
    state: AppState,
    admin: AuthUser,
    name: String,
    disabled: bool,
) -> Result<Json<serde_json::Value>, AppError> {
    admin.require(&[Role::Admin], "manage users")?;
    users::check_name(&name)?;
    if disabled && name == admin.name {
        return Err(AppError::BadRequest("an admin cannot disable their own account; another admin can".into()));
    }
    let (actor, target) = (admin.name.clone(), name.clone());
    blocking(&state, move |a| {
        users::set_disabled(a.archive(), &target, disabled)?;
        a.archive().audit(&actor, if disabled { "user-disabled" } else { "user-enabled" }, &target, "")?;
        Ok(())
    })
    .await?;
    if disabled {
        state.sessions.end_user(&name);
    }
    Ok(Json(serde_json::json!({ "user": name, "disabled": disabled })))
}

/// The user administration routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/{name}/disable", post(disable)).route("/api/users/{name}/enable", post(enable))
}
