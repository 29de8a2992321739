//! User administration and access tokens over HTTP, for admins, while the appliance serves (the CLI
//! cannot reach a data directory the server holds open). Every change is audited by its operation; a
//! disabled account's sessions end at once.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::extract::{AppJson, AppPath};
use super::{AppError, AppState, AuthUser, blocking};
use crate::ops::accounts::{MANAGE_USERS, UserChanged, UserList};
use crate::ops::sessions::{IssuedToken, MANAGE_TOKENS, TokenList, TokenPurpose, TokenRevoked};
use crate::users::Role;

/// `GET /api/users` (admin): the accounts, without their passwords.
#[utoipa::path(get, path = "/api/users", tag = "accounts", responses((status = 200, body = UserList)))]
pub(crate) async fn list(State(state): State<AppState>, admin: AuthUser) -> Result<Json<UserList>, AppError> {
    admin.require(MANAGE_USERS)?;
    Ok(Json(blocking(&state, |a| a.users()).await?))
}

/// A new account.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    /// Login name: 1-64 ASCII letters, digits, '.', '_' or '-'.
    name: String,
    /// Its role.
    role: Role,
    /// Its first password, which its user then replaces.
    password: String,
}

/// `POST /api/users` (admin): creates an account; refused if the name is taken.
#[utoipa::path(post, path = "/api/users", tag = "accounts", request_body = NewUser, responses((status = 200, body = UserChanged)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    admin: AuthUser,
    body: Result<AppJson<NewUser>, AppError>,
) -> Result<Json<UserChanged>, AppError> {
    admin.require(MANAGE_USERS)?;
    let AppJson(new) = body?;
    Ok(Json(blocking(&state, move |a| a.create_user(&new.name, new.role, &new.password, &admin.name)).await?))
}

/// A password an admin sets.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPassword {
    /// The new password.
    password: String,
}

/// `POST /api/users/{name}/password` (admin): a new password for a user who forgot theirs; the
/// account's sessions end.
#[utoipa::path(post, path = "/api/users/{name}/password", tag = "accounts", request_body = NewPassword, params(("name" = String, Path, description = "User name")), responses((status = 200, body = UserChanged)))]
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    admin: AuthUser,
    AppPath(name): AppPath<String>,
    body: Result<AppJson<NewPassword>, AppError>,
) -> Result<Json<UserChanged>, AppError> {
    admin.require(MANAGE_USERS)?;
    let AppJson(new) = body?;
    Ok(Json(blocking(&state, move |a| a.reset_password(&name, &new.password, &admin.name)).await?))
}

/// A role an admin gives.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRole {
    /// The new role.
    role: Role,
}

/// `POST /api/users/{name}/role` (admin): another role, in force from the account's next request.
#[utoipa::path(post, path = "/api/users/{name}/role", tag = "accounts", request_body = NewRole, params(("name" = String, Path, description = "User name")), responses((status = 200, body = UserChanged)))]
pub(crate) async fn set_role(
    State(state): State<AppState>,
    admin: AuthUser,
    AppPath(name): AppPath<String>,
    body: Result<AppJson<NewRole>, AppError>,
) -> Result<Json<UserChanged>, AppError> {
    admin.require(MANAGE_USERS)?;
    let AppJson(new) = body?;
    Ok(Json(blocking(&state, move |a| a.set_role(&name, new.role, &admin.name)).await?))
}

/// `POST /api/users/{name}/disable` (admin): the account's sessions end at once.
#[utoipa::path(post, path = "/api/users/{name}/disable", tag = "accounts", params(("name" = String, Path, description = "User name")), responses((status = 200, body = UserChanged)))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    admin: AuthUser,
    AppPath(name): AppPath<String>,
) -> Result<Json<UserChanged>, AppError> {
    admin.require(MANAGE_USERS)?;
    Ok(Json(blocking(&state, move |a| a.set_disabled(&name, true, &admin.name)).await?))
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

/// `GET /api/tokens` (admin): the access tokens in force, without their secrets.
#[utoipa::path(get, path = "/api/tokens", tag = "accounts", responses((status = 200, body = TokenList)))]
pub(crate) async fn tokens(State(state): State<AppState>, admin: AuthUser) -> Result<Json<TokenList>, AppError> {
    admin.require(MANAGE_TOKENS)?;
    Ok(Json(blocking(&state, |a| a.tokens()).await?))
}

/// An access token to issue.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// Its name, e.g. the station's: `quay-1`.
    name: String,
    /// What it may do.
    purpose: TokenPurpose,
}

/// `POST /api/tokens` (admin): issues an access token; its secret is in this answer only.
#[utoipa::path(post, path = "/api/tokens", tag = "accounts", request_body = NewToken, responses((status = 200, body = IssuedToken)))]
pub(crate) async fn issue(
    State(state): State<AppState>,
    admin: AuthUser,
    body: Result<AppJson<NewToken>, AppError>,
) -> Result<Json<IssuedToken>, AppError> {
    admin.require(MANAGE_TOKENS)?;
    let AppJson(new) = body?;
    Ok(Json(blocking(&state, move |a| a.issue_token(&new.name, new.purpose, &admin.name)).await?))
}

/// `POST /api/tokens/{name}/revoke` (admin): the token is refused from its next request on.
#[utoipa::path(post, path = "/api/tokens/{name}/revoke", tag = "accounts", params(("name" = String, Path, description = "Token name")), responses((status = 200, body = TokenRevoked)))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    admin: AuthUser,
    AppPath(name): AppPath<String>,
) -> Result<Json<TokenRevoked>, AppError> {
    admin.require(MANAGE_TOKENS)?;
    Ok(Json(blocking(&state, move |a| a.revoke_token(&name, &admin.name)).await?))
}

/// The user administration and access token routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list).post(create))
        .route("/api/users/{name}/password", post(reset_password))
        .route("/api/users/{name}/role", post(set_role))
        .route("/api/users/{name}/disable", post(disable))
        .route("/api/users/{name}/enable", post(enable))
        .route("/api/tokens", get(tokens).post(issue))
        .route("/api/tokens/{name}/revoke", post(revoke))
}
