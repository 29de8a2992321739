//! Reuse over HTTP (R10): the counter looks up what a citizen already handed in or was issued, and
//! records that the new dossier reuses it; officers and auditors read the reuse rate.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppError, AppState, AuthUser, blocking};
use crate::users::Role;

const COUNTER: &[Role] = &[Role::Operator, Role::Officer, Role::Admin];
const READERS: &[Role] = &[Role::Officer, Role::Auditor, Role::Admin];

fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(e.to_string())
}

#[derive(Deserialize)]
struct Lookup {
    owner: String,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    valid_on: Option<NaiveDate>,
}

/// `GET /api/reuse?owner=…[&type=…][&valid_on=YYYY-MM-DD]`: the owner's documents in force, verified.
async fn lookup(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<Lookup>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    user.require(COUNTER, "look up documents for reuse")?;
    let Query(q) = q.map_err(|e| bad(format!("expected ?owner=<ID>[&type=<code>][&valid_on=YYYY-MM-DD]: {e}")))?;
    let owner = q.owner.parse().map_err(bad)?;
    let doc_type = q.doc_type.map(|t| t.parse()).transpose().map_err(bad)?;
    let valid_on = q.valid_on.unwrap_or_else(|| domain::vietnam_now().date_naive());
    let found = blocking(&state, move |a| a.reuse(&owner, doc_type.as_ref(), valid_on, &user.name)).await?;
    Ok(Json(json!({ "valid_on": valid_on, "documents": found })))
}

#[derive(Deserialize)]
struct Record {
    code: String,
    dossier: String,
}

/// `POST /api/reuse` with `{"code": …, "dossier": …}`: the dossier reuses the document.
async fn record(
    State(state): State<AppState>,
    user: AuthUser,
    b: Result<Json<Record>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    user.require(COUNTER, "record reuse")?;
    let Json(r) = b.map_err(|e| bad(format!(r#"expected a JSON body {{"code": "…", "dossier": "…"}}: {e}"#)))?;
    let code = r.code.parse().map_err(bad)?;
    let dossier = r.dossier.parse().map_err(bad)?;
    blocking(&state, move |a| a.record_reuse(&code, &dossier, &user.name)).await?;
    Ok(Json(json!({ "code": r.code, "dossier": r.dossier, "reused": true })))
}

#[derive(Deserialize)]
struct Period {
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
}

/// `GET /api/reuse/report[?from=…&until=…]`: the reuse rate per month.
async fn report(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<Period>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    user.require(READERS, "read the reuse report")?;
    let Query(p) = q.map_err(|e| bad(format!("expected ?from=YYYY-MM-DD&until=YYYY-MM-DD: {e}")))?;
    let (from, until) = (p.from.and_then(crate::reuse::start_of_day), p.until.and_then(crate::reuse::start_of_day));
    let months = blocking(&state, move |a| a.reuse_report(from, until, &user.name)).await?;
    Ok(Json(json!({ "months": months })))
}

/// Reuse routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/reuse", get(lookup).post(record)).route("/api/reuse/report", get(report))
}
