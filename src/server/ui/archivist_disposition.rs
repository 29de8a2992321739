//! The disposition steps of the archivist's desk: marking the documents whose retention ended, the
//! review (approve, or keep until a day for a reason), the destruction request under the valuation
//! council's decision, the second archivist's confirmation and the signed destruction report. Each
//! form runs the same operation with the same permit as the API's route.

use archive::{CouncilDecision, Disposition, Review};
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::DocumentCode;
use maud::{Markup, html};
use serde::Deserialize;

use super::super::extract::AppPath;
use super::super::{AppError, AppState, blocking};
use super::archivist::{done, form, invalid, refused};
use super::error::WebError;
use super::lang;
use super::layout;
use super::notice::{Field, Notice, field};
use super::user::WebUser;
use crate::ops::disposition::{self, DispositionView};

/// The steps the person may take on a document, by where it stands.
pub fn steps(user: &WebUser, doc: &DispositionView, notice: Option<&Notice>) -> Markup {
    let lang = user.lang;
    let code = &doc.code;
    match &doc.disposition {
        Disposition::Eligible(_) if user.may(disposition::REVIEW) => html! {
            form.inline method="post" action=(format!("/archivist/documents/{code}/review")) {
                (layout::csrf_field(user))
                input type="hidden" name="decision" value="approve";
                p { button type="submit" { (lang.t("Duyệt hủy", "Approve for destruction")) } }
            }
            details {
                summary { (lang.t("Giữ lại lâu hơn…", "Keep it longer…")) }
                form.inline method="post" action=(format!("/archivist/documents/{code}/review")) {
                    (layout::csrf_field(user))
                    input type="hidden" name="decision" value="keep";
                    (field(notice, Field { id: &format!("keep-until-{code}"), name: "until", label: lang.t("Giữ đến ngày", "Keep until"), kind: "date", value: "", required: true }))
                    (field(notice, Field { id: &format!("keep-reason-{code}"), name: "reason", label: lang.t("Lý do", "Reason"), kind: "text", value: "", required: true }))
                    p { button.secondary type="submit" { (lang.t("Giữ lại", "Keep")) } }
                }
            }
        },
        Disposition::Approved { .. } if user.may(disposition::REQUEST) => html! {
            form.inline method="post" action=(format!("/archivist/documents/{code}/destruction")) {
                (layout::csrf_field(user))
                (field(notice, Field { id: &format!("decision-{code}"), name: "decision", label: lang.t("Số quyết định của Hội đồng", "Council decision number"), kind: "text", value: "", required: true }))
                (field(notice, Field { id: &format!("decision-date-{code}"), name: "decision_date", label: lang.t("Ngày quyết định", "Decision date"), kind: "date", value: "", required: true }))
                p { button.danger type="submit" { (lang.t("Đề nghị hủy", "Request destruction")) } }
            }
        },
        Disposition::Requested { by, .. } if user.may(disposition::CONFIRM) => html! {
            @if *by == user.user.name {
                p.muted { (lang.t(
                    "Bạn đã đề nghị hủy; một cán bộ lưu trữ khác phải xác nhận.",
                    "You requested the destruction; another archivist must confirm it."
                )) }
            } @else {
                form method="post" action=(format!("/archivist/documents/{code}/destruction/confirm"))
                    data-confirm=(lang.t("Hủy vĩnh viễn nội dung tài liệu này?", "Destroy this document's content for good?")) {
                    (layout::csrf_field(user))
                    p { button.danger type="submit" { (lang.t("Xác nhận hủy (người thứ hai)", "Confirm destruction (second person)")) } }
                }
            }
        },
        _ => html! { span.muted { (lang.t("Không có bước nào cho vai trò của bạn", "No step for your role")) } },
    }
}

/// The day to judge eligibility by.
#[derive(Deserialize)]
struct MarkForm {
    #[serde(default)]
    day: String,
}

/// `POST /archivist/mark`: the daily eligibility run, now (or a look ahead at a later day).
async fn mark(
    State(state): State<AppState>,
    user: WebUser,
    sent: Result<Form<MarkForm>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(disposition::MARK)?;
    let sent = match form(sent) {
        Ok(sent) => sent,
        Err(e) => return Ok(refused(&state, user, e).await),
    };
    let chosen = match sent.day.trim() {
        "" => None,
        text => match lang::parse_day(text) {
            Some(d) => Some(d),
            None => {
                let message = date_error(&user);
                return Ok(invalid(&state, user, "mark-day", message).await);
            }
        },
    };
    let actor = user.user.name.clone();
    match blocking(&state, move |a| a.mark_eligible(chosen, &actor)).await {
        Ok(m) => {
            Ok(done(&[("done", if m.marked { "marked" } else { "ahead" }), ("n", &m.documents.len().to_string())]))
        }
        Err(e) => Ok(refused(&state, user, e).await),
    }
}

/// The review: `decision=approve`, or `decision=keep` with `until` and `reason`.
#[derive(Deserialize)]
struct ReviewForm {
    decision: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

/// `POST /archivist/documents/{code}/review`.
async fn review(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(code): AppPath<DocumentCode>,
    sent: Result<Form<ReviewForm>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(disposition::REVIEW)?;
    let sent = match form(sent) {
        Ok(sent) => sent,
        Err(e) => return Ok(refused(&state, user, e).await),
    };
    let review = match sent.decision.as_str() {
        "approve" => Review::Approve,
        "keep" => {
            let Some(until) = lang::parse_day(&sent.until) else {
                let message = date_error(&user);
                return Ok(invalid(&state, user, format!("keep-until-{code}"), message).await);
            };
            if sent.reason.trim().is_empty() {
                let message = user.lang.t("Hãy ghi lý do giữ lại.", "Say why it is kept.");
                return Ok(invalid(&state, user, format!("keep-reason-{code}"), message).await);
            }
            Review::KeepUntil { until, reason: sent.reason }
        }
        other => return Ok(refused(&state, user, AppError::BadRequest(format!("no review {other:?}"))).await),
    };
    let what = if review == Review::Approve { "approved" } else { "kept" };
    let actor = user.user.name.clone();
    match blocking(&state, move |a| a.review(&code, review, &actor)).await {
        Ok(changed) => Ok(done(&[("done", what), ("code", &changed.code)])),
        Err(e) => Ok(refused(&state, user, e).await),
    }
}

/// The valuation council's decision.
#[derive(Deserialize)]
struct DestructionForm {
    decision: String,
    decision_date: String,
}

/// `POST /archivist/documents/{code}/destruction`: the request, by a first archivist.
async fn request(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(code): AppPath<DocumentCode>,
    sent: Result<Form<DestructionForm>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(disposition::REQUEST)?;
    let sent = match form(sent) {
        Ok(sent) => sent,
        Err(e) => return Ok(refused(&state, user, e).await),
    };
    if sent.decision.trim().is_empty() {
        let message = user.lang.t("Hãy ghi số quyết định.", "Give the decision's number.");
        return Ok(invalid(&state, user, format!("decision-{code}"), message).await);
    }
    let Some(date) = lang::parse_day(&sent.decision_date) else {
        let message = date_error(&user);
        return Ok(invalid(&state, user, format!("decision-date-{code}"), message).await);
    };
    let decision = CouncilDecision { number: sent.decision.trim().to_owned(), date };
    let actor = user.user.name.clone();
    match blocking(&state, move |a| a.request_destruction(&code, decision, &actor)).await {
        Ok(changed) => Ok(done(&[("done", "requested"), ("code", &changed.code)])),
        Err(e) => Ok(refused(&state, user, e).await),
    }
}

/// `POST /archivist/documents/{code}/destruction/confirm`: the second archivist; the operation
/// refuses the one who requested it.
async fn confirm(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<Response, WebError> {
    user.require(disposition::CONFIRM)?;
    let actor = user.user.name.clone();
    match blocking(&state, move |a| a.confirm_destruction(&code, &actor).map(|_| code)).await {
        Ok(code) => Ok(done(&[("done", "destroyed"), ("code", &code.to_string())])),
        Err(e) => Ok(refused(&state, user, e).await),
    }
}

/// `GET /archivist/documents/{code}/destruction-report`: the sealed destruction report of a
/// destroyed document, as the tombstone keeps it: the report and the seal over its exact text, the
/// same `report` and `seal` as the confirmation's answer (`sohoa dispose confirm --report`), for
/// the records room's file.
async fn report(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<Response, WebError> {
    user.require(disposition::LIST)?;
    let filename = format!("{code}.destruction.json");
    let actor = user.user.name.clone();
    let report = blocking(&state, move |a| a.destruction_report(&code, &actor)).await.map_err(|e| user.error(e))?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| user.error(AppError::Internal(e.into())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        text,
    )
        .into_response())
}

/// What a date field says when it holds no day.
fn date_error(user: &WebUser) -> &'static str {
    user.lang.t("Hãy chọn một ngày hợp lệ.", "Choose a valid day.")
}

/// The disposition forms' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/archivist/mark", post(mark))
        .route("/archivist/documents/{code}/review", post(review))
        .route("/archivist/documents/{code}/destruction", post(request))
        .route("/archivist/documents/{code}/destruction/confirm", post(confirm))
        .route("/archivist/documents/{code}/destruction-report", get(report))
}
