//! The archive's operations over HTTP: revocation, holds, retention, disposition, fixity, the audit
//! trail, the archive log, bags and backups. Each handler checks the caller's role against the
//! operation's [`Permit`](crate::ops::Permit), runs the operation of [`crate::ops`] and answers its
//! typed result, the same JSON `sohoa … --json` prints.

use archive::{AuditQuery, CouncilDecision, HoldScope, Review};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate};
use domain::{DocumentCode, DocumentTypeCode, DossierCode, OwnerId};
use serde::Deserialize;
use signer::KeyId;
use utoipa::{IntoParams, ToSchema};

use super::extract::{AppJson, AppPath, AppQuery};
use super::{AppError, AppState, AuthUser, blocking};
use crate::ops::disposition::{self, Destroyed, DispositionChanged, DispositionList, Marked};
use crate::ops::integrity::{self, AuditEntries, CheckpointView, ConsistencyView, Fixity, InclusionView};
use crate::ops::lifecycle::{self, HoldPlaced, HoldReleased, Holds, RetentionClasses, RetentionSet, StatusChanged};
use crate::ops::transfer::{self, BackupWritten, Exported, Imported};

/// A reason for a change.
#[derive(Deserialize, ToSchema)]
pub(crate) struct Reason {
    /// Why.
    reason: String,
}

/// `POST /api/documents/{code}/revoke`.
#[utoipa::path(post, path = "/api/documents/{code}/revoke", tag = "archive", params(("code" = String, Path, description = "Document code")), request_body = Reason, responses((status = 200, body = StatusChanged)))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
    body: Result<AppJson<Reason>, AppError>,
) -> Result<Json<StatusChanged>, AppError> {
    user.require(lifecycle::REVOKE)?;
    let AppJson(Reason { reason }) = body?;
    Ok(Json(blocking(&state, move |a| a.revoke(&code, &reason, &user.name)).await?))
}

/// What a hold covers: exactly one of `document`, `owner`, `dossier`, `type`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct HoldRequest {
    /// One document.
    #[schema(value_type = Option<String>)]
    document: Option<DocumentCode>,
    /// All documents of an owner.
    #[schema(value_type = Option<String>)]
    owner: Option<OwnerId>,
    /// All documents of a dossier.
    #[schema(value_type = Option<String>)]
    dossier: Option<DossierCode>,
    /// All documents of a type.
    #[serde(rename = "type")]
    #[schema(value_type = Option<String>)]
    doc_type: Option<DocumentTypeCode>,
    /// Why (the case, the inspection).
    reason: String,
}

/// `POST /api/holds`.
#[utoipa::path(post, path = "/api/holds", tag = "archive", request_body = HoldRequest, responses((status = 200, body = HoldPlaced)))]
pub(crate) async fn place_hold(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<AppJson<HoldRequest>, AppError>,
) -> Result<Json<HoldPlaced>, AppError> {
    user.require(lifecycle::PLACE_HOLD)?;
    let AppJson(r) = body?;
    let scope = match (r.document, r.owner, r.dossier, r.doc_type) {
        (Some(c), None, None, None) => HoldScope::Document(c),
        (None, Some(o), None, None) => HoldScope::Owner(o),
        (None, None, Some(d), None) => HoldScope::Dossier(d),
        (None, None, None, Some(t)) => HoldScope::Type(t),
        _ => return Err(AppError::BadRequest("name exactly one of document, owner, dossier, type".into())),
    };
    let reason = r.reason;
    Ok(Json(blocking(&state, move |a| a.place_hold(scope, &reason, &user.name)).await?))
}

/// `GET /api/holds`.
#[utoipa::path(get, path = "/api/holds", tag = "archive", responses((status = 200, body = Holds)))]
pub(crate) async fn holds(State(state): State<AppState>, user: AuthUser) -> Result<Json<Holds>, AppError> {
    user.require(lifecycle::LIST_HOLDS)?;
    Ok(Json(blocking(&state, |a| a.holds()).await?))
}

/// `POST /api/holds/{id}/release`.
#[utoipa::path(post, path = "/api/holds/{id}/release", tag = "archive", params(("id" = u64, Path, description = "Hold id")), responses((status = 200, body = HoldReleased)))]
pub(crate) async fn release(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<u64>,
) -> Result<Json<HoldReleased>, AppError> {
    user.require(lifecycle::RELEASE_HOLD)?;
    Ok(Json(blocking(&state, move |a| a.release_hold(id, &user.name)).await?))
}

/// `GET /api/retention`: the retention schedule.
#[utoipa::path(get, path = "/api/retention", tag = "archive", responses((status = 200, body = RetentionClasses)))]
pub(crate) async fn retention_classes(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<RetentionClasses>, AppError> {
    user.require(lifecycle::RETENTION_CLASSES)?;
    Ok(Json(blocking(&state, |a| Ok(a.retention_classes())).await?))
}

/// A retention class override.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RetentionRequest {
    /// The class id.
    class: String,
    /// Why.
    reason: String,
}

/// `POST /api/documents/{code}/retention`.
#[utoipa::path(post, path = "/api/documents/{code}/retention", tag = "archive", params(("code" = String, Path, description = "Document code")), request_body = RetentionRequest, responses((status = 200, body = RetentionSet)))]
pub(crate) async fn set_retention(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
    body: Result<AppJson<RetentionRequest>, AppError>,
) -> Result<Json<RetentionSet>, AppError> {
    user.require(lifecycle::SET_RETENTION)?;
    let AppJson(r) = body?;
    Ok(Json(blocking(&state, move |a| a.set_retention_class(&code, &r.class, &r.reason, &user.name)).await?))
}

/// The day to judge eligibility by.
#[derive(Deserialize, ToSchema)]
pub(crate) struct MarkRequest {
    /// The day (default today); a day after today only looks ahead and marks nothing.
    day: Option<NaiveDate>,
}

/// `POST /api/disposition/mark`: the daily eligibility run, now.
#[utoipa::path(post, path = "/api/disposition/mark", tag = "archive", request_body = MarkRequest, responses((status = 200, body = Marked)))]
pub(crate) async fn mark(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<AppJson<MarkRequest>, AppError>,
) -> Result<Json<Marked>, AppError> {
    user.require(disposition::MARK)?;
    let AppJson(r) = body?;
    Ok(Json(blocking(&state, move |a| a.mark_eligible(r.day, &user.name)).await?))
}

/// `GET /api/disposition`: documents awaiting a disposition step.
#[utoipa::path(get, path = "/api/disposition", tag = "archive", responses((status = 200, body = DispositionList)))]
pub(crate) async fn disposition(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<DispositionList>, AppError> {
    user.require(disposition::LIST)?;
    Ok(Json(blocking(&state, |a| a.disposition_list()).await?))
}

/// A review: `{"approve": true}` or `{"keep_until": "YYYY-MM-DD", "reason": …}`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ReviewRequest {
    /// Approve for destruction.
    approve: Option<bool>,
    /// Keep until this day.
    keep_until: Option<NaiveDate>,
    /// Why it is kept.
    reason: Option<String>,
}

/// `POST /api/documents/{code}/review`.
#[utoipa::path(post, path = "/api/documents/{code}/review", tag = "archive", params(("code" = String, Path, description = "Document code")), request_body = ReviewRequest, responses((status = 200, body = DispositionChanged)))]
pub(crate) async fn review(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
    body: Result<AppJson<ReviewRequest>, AppError>,
) -> Result<Json<DispositionChanged>, AppError> {
    user.require(disposition::REVIEW)?;
    let AppJson(r) = body?;
    let review = match r {
        ReviewRequest { approve: Some(true), keep_until: None, .. } => Review::Approve,
        ReviewRequest { approve: None | Some(false), keep_until: Some(until), reason } => {
            Review::KeepUntil { until, reason: reason.unwrap_or_default() }
        }
        _ => return Err(AppError::BadRequest("say either approve or keep_until with a reason".into())),
    };
    Ok(Json(blocking(&state, move |a| a.review(&code, review, &user.name)).await?))
}

/// The valuation council's decision.
#[derive(Deserialize, ToSchema)]
pub(crate) struct DestructionRequest {
    /// The decision's number.
    decision: String,
    /// The decision's date.
    decision_date: NaiveDate,
}

/// `POST /api/documents/{code}/destruction`.
#[utoipa::path(post, path = "/api/documents/{code}/destruction", tag = "archive", params(("code" = String, Path, description = "Document code")), request_body = DestructionRequest, responses((status = 200, body = DispositionChanged)))]
pub(crate) async fn request_destruction(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
    body: Result<AppJson<DestructionRequest>, AppError>,
) -> Result<Json<DispositionChanged>, AppError> {
    user.require(disposition::REQUEST)?;
    let AppJson(r) = body?;
    let decision = CouncilDecision { number: r.decision, date: r.decision_date };
    Ok(Json(blocking(&state, move |a| a.request_destruction(&code, decision, &user.name)).await?))
}

/// `POST /api/documents/{code}/destruction/confirm`: the second person; answers the signed report.
#[utoipa::path(post, path = "/api/documents/{code}/destruction/confirm", tag = "archive", params(("code" = String, Path, description = "Document code")), responses((status = 200, body = Destroyed)))]
pub(crate) async fn confirm_destruction(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<Json<Destroyed>, AppError> {
    user.require(disposition::CONFIRM)?;
    Ok(Json(blocking(&state, move |a| a.confirm_destruction(&code, &user.name)).await?))
}

/// `POST /api/fixity`: a full fixity run now.
#[utoipa::path(post, path = "/api/fixity", tag = "archive", responses((status = 200, body = Fixity)))]
pub(crate) async fn fixity(State(state): State<AppState>, user: AuthUser) -> Result<Json<Fixity>, AppError> {
    user.require(integrity::FIXITY)?;
    Ok(Json(blocking(&state, move |a| a.fixity(None, &user.name, &mut |_, _| {})).await?))
}

/// Which audit entries: all filters optional, times in RFC 3339.
#[derive(Deserialize, IntoParams)]
pub(crate) struct AuditParams {
    /// Only entries about this target (document code, user, `hold N`).
    target: Option<String>,
    /// Only entries by this actor.
    actor: Option<String>,
    /// Only entries of this action (`hold`, `destroy-request`, …).
    action: Option<String>,
    /// Only entries at or after this time.
    from: Option<DateTime<FixedOffset>>,
    /// Only entries before this time.
    until: Option<DateTime<FixedOffset>>,
}

/// `GET /api/audit`.
#[utoipa::path(get, path = "/api/audit", tag = "archive", params(AuditParams), responses((status = 200, body = AuditEntries)))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(p): AppQuery<AuditParams>,
) -> Result<Json<AuditEntries>, AppError> {
    user.require(integrity::AUDIT_READ)?;
    let query = AuditQuery { target: p.target, actor: p.actor, action: p.action, from: p.from, until: p.until };
    Ok(Json(blocking(&state, move |a| a.audit_query(&query, &user.name)).await?))
}

/// `POST /api/log/checkpoint`: sign a checkpoint now (or answer the latest if nothing changed).
#[utoipa::path(post, path = "/api/log/checkpoint", tag = "archive", responses((status = 200, body = CheckpointView)))]
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<CheckpointView>, AppError> {
    user.require(integrity::CHECKPOINT)?;
    Ok(Json(blocking(&state, |a| a.checkpoint()).await?))
}

/// `GET /api/log/proof/{code}`: the inclusion proof of a document's latest leaf.
#[utoipa::path(get, path = "/api/log/proof/{code}", tag = "archive", params(("code" = String, Path, description = "Document code")), responses((status = 200, body = InclusionView)))]
pub(crate) async fn proof(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<Json<InclusionView>, AppError> {
    user.require(integrity::PROOFS)?;
    Ok(Json(blocking(&state, move |a| a.prove(&code, &user.name)).await?))
}

/// `GET /api/log/consistency/{size}`: the proof that the checkpoint of this size is a prefix of the latest.
#[utoipa::path(get, path = "/api/log/consistency/{size}", tag = "archive", params(("size" = u64, Path, description = "The older checkpoint's size")), responses((status = 200, body = ConsistencyView)))]
pub(crate) async fn consistency(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(size): AppPath<u64>,
) -> Result<Json<ConsistencyView>, AppError> {
    user.require(integrity::PROOFS)?;
    Ok(Json(blocking(&state, move |a| a.prove_consistency(size, &user.name)).await?))
}

/// What to export, and the name of the bag's directory in the appliance's transfer directory.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ExportRequest {
    /// A document code or a dossier code.
    code: String,
    /// The bag's directory name (letters, digits, '.', '_', '-').
    name: String,
}

/// `POST /api/export`: writes a bag into the transfer directory.
#[utoipa::path(post, path = "/api/export", tag = "archive", request_body = ExportRequest, responses((status = 200, body = Exported)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<AppJson<ExportRequest>, AppError>,
) -> Result<Json<Exported>, AppError> {
    user.require(transfer::EXPORT)?;
    let AppJson(r) = body?;
    Ok(Json(
        blocking(&state, move |a| a.export(&r.code, &a.transfer_path(&r.name)?, &user.name, &mut |_, _| {})).await?,
    ))
}

/// Which bag of the transfer directory to import, and the sender's seal keys compared out of band.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ImportRequest {
    /// The bag's directory name in the transfer directory.
    name: String,
    /// Seal key ids of the sending appliance to trust for this bag's documents.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    trust_keys: Vec<KeyId>,
}

/// `POST /api/import`: imports a bag from the transfer directory.
#[utoipa::path(post, path = "/api/import", tag = "archive", request_body = ImportRequest, responses((status = 200, body = Imported)))]
pub(crate) async fn import(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<AppJson<ImportRequest>, AppError>,
) -> Result<Json<Imported>, AppError> {
    user.require(transfer::IMPORT)?;
    let AppJson(r) = body?;
    Ok(Json(blocking(&state, move |a| a.import(&a.transfer_path(&r.name)?, &r.trust_keys, &user.name)).await?))
}

/// The backup's directory name in the transfer directory.
#[derive(Deserialize, ToSchema)]
pub(crate) struct BackupRequest {
    /// A new directory name (letters, digits, '.', '_', '-').
    name: String,
}

/// `POST /api/backup`: writes a backup into the transfer directory.
#[utoipa::path(post, path = "/api/backup", tag = "archive", request_body = BackupRequest, responses((status = 200, body = BackupWritten)))]
pub(crate) async fn backup(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<AppJson<BackupRequest>, AppError>,
) -> Result<Json<BackupWritten>, AppError> {
    user.require(transfer::BACKUP)?;
    let AppJson(r) = body?;
    Ok(Json(blocking(&state, move |a| a.write_backup(&a.transfer_path(&r.name)?, &user.name)).await?))
}

/// Archive routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/documents/{code}/revoke", post(revoke))
        .route("/api/documents/{code}/retention", post(set_retention))
        .route("/api/documents/{code}/review", post(review))
        .route("/api/documents/{code}/destruction", post(request_destruction))
        .route("/api/documents/{code}/destruction/confirm", post(confirm_destruction))
        .route("/api/holds", get(holds).post(place_hold))
        .route("/api/holds/{id}/release", post(release))
        .route("/api/retention", get(retention_classes))
        .route("/api/disposition", get(disposition))
        .route("/api/disposition/mark", post(mark))
        .route("/api/fixity", post(fixity))
        .route("/api/audit", get(audit))
        .route("/api/log/checkpoint", post(checkpoint))
        .route("/api/log/proof/{code}", get(proof))
        .route("/api/log/consistency/{size}", get(consistency))
        .route("/api/export", post(export))
        .route("/api/import", post(import))
        .route("/api/backup", post(backup))
}
