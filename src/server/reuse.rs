//! Reuse over HTTP: the counter looks up what a citizen already handed in or was issued, and records
//! that the new dossier reuses it; officers and auditors read the reuse rate.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use domain::{DocumentCode, DocumentTypeCode, DossierCode, OwnerId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::{AppJson, AppQuery};
use super::{AppError, AppState, AuthUser, blocking};
use crate::reuse::{LOOKUP, RECORD, REPORT, ReuseLookup, ReuseRecorded, ReuseReport};

/// Whose documents, of which type, in force on which day: asked of this office, or of the province
/// (`super::province`).
#[derive(Deserialize, IntoParams)]
pub(crate) struct Lookup {
    /// The owner's personal ID or tax code.
    #[param(value_type = String)]
    pub(crate) owner: OwnerId,
    /// Only this document type.
    #[serde(rename = "type")]
    #[param(value_type = Option<String>)]
    pub(crate) doc_type: Option<DocumentTypeCode>,
    /// In force on this day (default today).
    pub(crate) valid_on: Option<NaiveDate>,
}

/// `GET /api/reuse`: the owner's documents in force, verified.
#[utoipa::path(get, path = "/api/reuse", tag = "reuse", params(Lookup), responses((status = 200, body = ReuseLookup)))]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(q): AppQuery<Lookup>,
) -> Result<Json<ReuseLookup>, AppError> {
    user.require(LOOKUP)?;
    let valid_on = q.valid_on.unwrap_or_else(|| domain::vietnam_now().date_naive());
    Ok(Json(blocking(&state, move |a| a.reuse(&q.owner, q.doc_type.as_ref(), valid_on, &user.name)).await?))
}

/// The document reused and the dossier that reuses it.
#[derive(Deserialize, ToSchema)]
pub(crate) struct Record {
    /// The document code.
    #[schema(value_type = String)]
    code: DocumentCode,
    /// The dossier code.
    #[schema(value_type = String)]
    dossier: DossierCode,
}

/// `POST /api/reuse`: the dossier reuses the document.
#[utoipa::path(post, path = "/api/reuse", tag = "reuse", request_body = Record, responses((status = 200, body = ReuseRecorded)))]
pub(crate) async fn record(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<AppJson<Record>, AppError>,
) -> Result<Json<ReuseRecorded>, AppError> {
    user.require(RECORD)?;
    let AppJson(r) = body?;
    Ok(Json(blocking(&state, move |a| a.record_reuse(&r.code, &r.dossier, &user.name)).await?))
}

/// The period of the report (days, Vietnam time; `until` excluded).
#[derive(Deserialize, IntoParams)]
pub(crate) struct Period {
    /// From this day.
    from: Option<NaiveDate>,
    /// Until this day.
    until: Option<NaiveDate>,
}

/// `GET /api/reuse/report`: the reuse rate per month.
#[utoipa::path(get, path = "/api/reuse/report", tag = "reuse", params(Period), responses((status = 200, body = ReuseReport)))]
pub(crate) async fn report(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(p): AppQuery<Period>,
) -> Result<Json<ReuseReport>, AppError> {
    user.require(REPORT)?;
    let (from, until) = (p.from.and_then(crate::reuse::start_of_day), p.until.and_then(crate::reuse::start_of_day));
    Ok(Json(blocking(&state, move |a| a.reuse_report(from, until, &user.name)).await?))
}

/// Reuse routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/reuse", get(lookup).post(record)).route("/api/reuse/report", get(report))
}
