//! Dossier codes over HTTP: the counter allocates the code of a dossier it receives.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::NaiveDate;
use domain::UnitCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::AppJson;
use super::{AppError, AppState, AuthUser, blocking};
use crate::ops::dossiers::{ALLOCATE, DossierAllocated};

/// Which unit receives the dossier, and on which day.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Allocate {
    /// The receiving unit's electronic code, e.g. `H56.14`.
    #[schema(value_type = String)]
    unit: UnitCode,
    /// The day the dossier was received (default today, +07:00).
    date: Option<NaiveDate>,
}

/// `POST /api/dossiers` with `{"unit", "date"?}`: the unit's next dossier code for the day.
#[utoipa::path(post, path = "/api/dossiers", tag = "capture", request_body = Allocate, responses((status = 200, body = DossierAllocated)))]
pub(crate) async fn allocate(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<AppJson<Allocate>, AppError>,
) -> Result<Json<DossierAllocated>, AppError> {
    user.require(ALLOCATE)?;
    let AppJson(Allocate { unit, date }) = body?;
    Ok(Json(blocking(&state, move |a| a.allocate_dossier(&unit, date, &user.name)).await?))
}

/// The dossier route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/dossiers", post(allocate))
}
