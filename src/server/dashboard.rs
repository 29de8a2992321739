//! The dashboard over HTTP: the same figures as `sohoa dashboard` and the `/dashboard` page.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::extract::AppQuery;
use super::{AppError, AppState, AuthUser, blocking};
use crate::ops::dashboard::{Dashboard, DashboardQuery, READ};

/// `GET /api/dashboard`: Decision 468's targets over a period (default: the last 30 days).
#[utoipa::path(get, path = "/api/dashboard", tag = "reports", params(DashboardQuery), responses((status = 200, body = Dashboard)))]
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(query): AppQuery<DashboardQuery>,
) -> Result<Json<Dashboard>, AppError> {
    user.require(READ)?;
    Ok(Json(blocking(&state, move |a| a.dashboard(query)).await?))
}

/// The dashboard's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/dashboard", get(dashboard))
}
