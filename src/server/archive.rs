//! The archive's operations over HTTP: revocation, holds, disposition, fixity, the audit trail and
//! the archive log, each for the roles DESIGN.md §1 gives them (archivists: retention, holds,
//! disposition; auditors: fixity, the log and the trail).

use archive::{AuditQuery, CouncilDecision, HoldScope, Review};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate};
use domain::DocumentCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppError, AppState, AuthUser, blocking};
use crate::users::Role;

const ARCHIVISTS: &[Role] = Role::ARCHIVISTS;
const REVOKERS: &[Role] = Role::REVOKERS;
const INSPECTORS: &[Role] = &[Role::Archivist, Role::Auditor, Role::Admin];
const AUDITORS: &[Role] = &[Role::Auditor, Role::Admin];

fn code(raw: &str) -> Result<DocumentCode, AppError> {
    raw.parse().map_err(|e: domain::DomainError| AppError::BadRequest(e.to_string()))
}

fn body<T>(body: Result<Json<T>, JsonRejection>, expected: &str) -> Result<T, AppError> {
    body.map(|Json(b)| b).map_err(|e| AppError::BadRequest(format!("expected a JSON body {expected}: {e}")))
}

fn to_json(value: impl serde::Serialize) -> Result<Json<Value>, AppError> {
    serde_json::to_value(value).map(Json).map_err(|e| AppError::Internal(e.into()))
}

#[derive(Deserialize)]
struct Reason {
    reason: String,
}

/// `POST /api/documents/{code}/revoke` with `{"reason": …}`.
async fn revoke(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
    b: Result<Json<Reason>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    user.require(REVOKERS, "revoke documents")?;
    let (code, Reason { reason }) = (code(&raw)?, body(b, r#"{"reason": "…"}"#)?);
    let (record, search) = blocking(&state, move |a| {
        let record = a.archive().revoke(&code, &reason, &user.name)?;
        Ok((record, a.index_committed()))
    })
    .await?;
    Ok(Json(json!({ "code": record.code.to_string(), "status": record.status.name(), "search": search })))
}

#[derive(Deserialize)]
struct HoldRequest {
    document: Option<String>,
    owner: Option<String>,
    dossier: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    reason: String,
}

/// `POST /api/holds` with one of `document`, `owner`, `dossier`, `type`, and a `reason`.
async fn place_hold(
    State(state): State<AppState>,
    user: AuthUser,
    b: Result<Json<HoldRequest>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    user.require(ARCHIVISTS, "place holds")?;
    let r = body(b, r#"{"owner"|"dossier"|"type"|"document": "…", "reason": "…"}"#)?;
    let bad = |e: domain::DomainError| AppError::BadRequest(e.to_string());
    let scope = match (r.document, r.owner, r.dossier, r.doc_type) {
        (Some(c), None, None, None) => HoldScope::Document(code(&c)?),
        (None, Some(o), None, None) => HoldScope::Owner(o.parse().map_err(bad)?),
        (None, None, Some(d), None) => HoldScope::Dossier(d.parse().map_err(bad)?),
        (None, None, None, Some(t)) => HoldScope::Type(t.parse().map_err(bad)?),
        _ => return Err(AppError::BadRequest("name exactly one of document, owner, dossier, type".into())),
    };
    let reason = r.reason;
    let ((hold, codes), search) = blocking(&state, move |a| {
        let held = a.archive().place_hold(scope, &reason, &user.name)?;
        Ok((held, a.index_committed()))
    })
    .await?;
    Ok(Json(
        json!({ "hold": hold.id, "documents": codes.iter().map(ToString::to_string).collect::<Vec<_>>(), "search": search }),
    ))
}

/// `GET /api/holds`.
async fn holds(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, AppError> {
    user.require(INSPECTORS, "list holds")?;
    let holds = blocking(&state, |a| Ok(a.archive().holds()?)).await?;
    let rows: Vec<Value> = holds
        .iter()
        .map(|h| json!({ "id": h.id, "scope": h.scope.to_string(), "reason": h.reason, "by": h.by, "at": h.at, "released": h.released.is_some() }))
        .collect();
    Ok(Json(json!({ "holds": rows })))
}

/// `POST /api/holds/{id}/release`.
async fn release(State(state): State<AppState>, user: AuthUser, Path(id): Path<u64>) -> Result<Json<Value>, AppError> {
    user.require(ARCHIVISTS, "release holds")?;
    let (codes, search) = blocking(&state, move |a| {
        let codes = a.archive().release_hold(id, &user.name)?;
        Ok((codes, a.index_committed()))
    })
    .await?;
    Ok(Json(
        json!({ "hold": id, "released": codes.iter().map(ToString::to_string).collect::<Vec<_>>(), "search": search }),
    ))
}

/// `GET /api/disposition`: documents awaiting a disposition step.
async fn disposition(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, AppError> {
    user.require(INSPECTORS, "read the disposition list")?;
    let queue = blocking(&state, |a| Ok(a.archive().disposition_queue()?)).await?;
    let rows: Vec<Value> = queue
        .iter()
        .map(|r| json!({ "code": r.code.to_string(), "name": r.metadata.name(), "retention_class": r.lifecycle.retention_class, "disposition": r.lifecycle.disposition }))
        .collect();
    Ok(Json(json!({ "documents": rows })))
}

#[derive(Deserialize)]
struct ReviewRequest {
    approve: Option<bool>,
    keep_until: Option<NaiveDate>,
    reason: Option<String>,
}

/// `POST /api/documents/{code}/review` with `{"approve": true}` or `{"keep_until": "YYYY-MM-DD", "reason": …}`.
async fn review(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
    b: Result<Json<ReviewRequest>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    user.require(ARCHIVISTS, "review disposition")?;
    let code = code(&raw)?;
    let review = match body(b, r#"{"approve": true} or {"keep_until": "YYYY-MM-DD", "reason": "…"}"#)? {
        ReviewRequest { approve: Some(true), keep_until: None, .. } => Review::Approve,
        ReviewRequest { approve: None | Some(false), keep_until: Some(until), reason } => {
            Review::KeepUntil { until, reason: reason.unwrap_or_default() }
        }
        _ => return Err(AppError::BadRequest("say either approve or keep_until with a reason".into())),
    };
    let record = blocking(&state, move |a| Ok(a.archive().review(&code, review, &user.name)?)).await?;
    Ok(Json(json!({ "code": record.code.to_string(), "disposition": record.lifecycle.disposition })))
}

#[derive(Deserialize)]
struct DestructionRequest {
    decision: String,
    decision_date: NaiveDate,
}

/// `POST /api/documents/{code}/destruction` with the council's `decision` and `decision_date`.
async fn request_destruction(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
    b: Result<Json<DestructionRequest>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    user.require(Role::DESTROYERS, "request destruction")?;
    let code = code(&raw)?;
    let r = body(b, r#"{"decision": "…", "decision_date": "YYYY-MM-DD"}"#)?;
    let decision = CouncilDecision { number: r.decision, date: r.decision_date };
    let record = blocking(&state, move |a| Ok(a.archive().request_destruction(&code, decision, &user.name)?)).await?;
    Ok(Json(json!({ "code": record.code.to_string(), "disposition": record.lifecycle.disposition })))
}

/// `POST /api/documents/{code}/destruction/confirm`: the second person; answers the signed report.
async fn confirm_destruction(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<Value>, AppError> {
    user.require(Role::DESTROYERS, "confirm destruction")?;
    let code = code(&raw)?;
    let (report, search) = blocking(&state, move |a| {
        let report = a.archive().confirm_destruction(&code, &user.name)?;
        Ok((report, a.index_committed()))
    })
    .await?;
    let parsed: Value = serde_json::from_str(&report.json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Json(json!({ "report": parsed, "seal": report.seal, "search": search })))
}

/// `POST /api/fixity`: a full fixity run now.
async fn fixity(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, AppError> {
    user.require(AUDITORS, "run fixity")?;
    let report = blocking(&state, move |a| Ok(a.archive().fixity(None, &user.name)?)).await?;
    to_json(report)
}

#[derive(Deserialize)]
struct AuditParams {
    target: Option<String>,
    actor: Option<String>,
    from: Option<DateTime<FixedOffset>>,
    until: Option<DateTime<FixedOffset>>,
}

/// `GET /api/audit?target=…&actor=…&from=…&until=…` (RFC 3339 times).
async fn audit(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    user.require(AUDITORS, "read the audit trail")?;
    let Query(p) =
        q.map_err(|e| AppError::BadRequest(format!("expected ?target=&actor=&from=&until= (RFC 3339): {e}")))?;
    let query = AuditQuery { target: p.target, actor: p.actor, from: p.from, until: p.until };
    let entries = blocking(&state, move |a| {
        let entries = a.archive().audit_query(&query)?;
        a.archive().audit(
            &user.name,
            "audit-read",
            query.target.as_deref().unwrap_or(""),
            &format!("{} entries", entries.len()),
        )?;
        Ok(entries)
    })
    .await?;
    let hex = |h: &[u8]| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| json!({ "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target, "detail": e.detail, "hash": hex(&e.hash), "key": e.seal.key }))
        .collect();
    Ok(Json(json!({ "entries": rows })))
}

/// `POST /api/log/checkpoint`: sign a checkpoint now (or answer the latest if nothing changed).
async fn checkpoint(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, AppError> {
    user.require(INSPECTORS, "sign log checkpoints")?;
    to_json(blocking(&state, |a| Ok(a.archive().checkpoint()?)).await?)
}

/// `GET /api/log/proof/{code}`: the inclusion proof of a document's latest leaf.
async fn proof(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<Value>, AppError> {
    user.require(INSPECTORS, "read log proofs")?;
    let code = code(&raw)?;
    to_json(
        blocking(&state, move |a| {
            let proof = a.archive().prove(&code)?;
            a.archive().audit(&user.name, "log-prove", &code.to_string(), &format!("leaf {}", proof.index))?;
            Ok(proof)
        })
        .await?,
    )
}

/// `GET /api/log/consistency/{size}`: the proof that the checkpoint of this size is a prefix of the latest.
async fn consistency(
    State(state): State<AppState>,
    user: AuthUser,
    Path(size): Path<u64>,
) -> Result<Json<Value>, AppError> {
    user.require(INSPECTORS, "read log proofs")?;
    to_json(blocking(&state, move |a| Ok(a.archive().prove_consistency(size)?)).await?)
}

/// Archive routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/documents/{code}/revoke", post(revoke))
        .route("/api/documents/{code}/review", post(review))
        .route("/api/documents/{code}/destruction", post(request_destruction))
        .route("/api/documents/{code}/destruction/confirm", post(confirm_destruction))
        .route("/api/holds", get(holds).post(place_hold))
        .route("/api/holds/{id}/release", post(release))
        .route("/api/disposition", get(disposition))
        .route("/api/fixity", post(fixity))
        .route("/api/audit", get(audit))
        .route("/api/log/checkpoint", post(checkpoint))
        .route("/api/log/proof/{code}", get(proof))
        .route("/api/log/consistency/{size}", get(consistency))
}
