//! Holds and revocation on the archivist's desk: a hold placed on an owner, a dossier, a document
//! type or one document (it blocks revocation and destruction of everything it covers, including
//! what is archived later), the list of holds with their release, revocation with its reason, and a
//! document's retention class changed for a reason. The same operations and permits as the API's.

use archive::HoldScope;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::Response;
use axum::routing::post;
use domain::DocumentCode;
use maud::{Markup, html};
use serde::Deserialize;

use super::super::extract::AppPath;
use super::super::{AppState, blocking};
use super::archivist::{done, form, invalid, refused};
use super::error::WebError;
use super::lang;
use super::layout;
use super::notice::{Field, Notice, field};
use super::user::WebUser;
use crate::ops::lifecycle::{self, Holds};

/// What a hold may cover, with its label in both languages.
const SCOPES: [(&str, &str, &str); 4] = [
    ("owner", "Chủ hồ sơ (số định danh)", "Owner (personal ID)"),
    ("dossier", "Hồ sơ (mã hồ sơ)", "Dossier (dossier code)"),
    ("type", "Loại giấy tờ (mã loại)", "Document type (type code)"),
    ("document", "Một tài liệu (mã tài liệu)", "One document (document code)"),
];

/// The holds, and the form to place one.
pub fn section(user: &WebUser, holds: &Holds, notice: Option<&Notice>) -> Markup {
    let lang = user.lang;
    html! {
        section.card aria-labelledby="holds-title" #holds {
            h2 #holds-title { (lang.t("Lệnh phong tỏa", "Holds")) }
            p.muted { (lang.t(
                "Tài liệu bị phong tỏa không thể bị thu hồi hay hủy, kể cả tài liệu lưu sau khi đặt lệnh.",
                "Documents under a hold cannot be revoked or destroyed, including those archived after it was placed."
            )) }
            @if user.may(lifecycle::PLACE_HOLD) {
                form.inline method="post" action="/archivist/holds" {
                    (layout::csrf_field(user))
                    p {
                        label for="hold-scope" { (lang.t("Phạm vi", "Scope")) }
                        select #hold-scope name="scope" {
                            @for (value, vi, en) in SCOPES { option value=(value) { (lang.t(vi, en)) } }
                        }
                    }
                    (field(notice, Field { id: "hold-target", name: "target", label: lang.t("Giá trị", "Value"), kind: "text", value: "", required: true }))
                    (field(notice, Field { id: "hold-reason", name: "reason", label: lang.t("Lý do (vụ việc, thanh tra)", "Reason (case, inspection)"), kind: "text", value: "", required: true }))
                    p { button type="submit" { (lang.t("Đặt lệnh phong tỏa", "Place the hold")) } }
                }
            }
            @if holds.holds.is_empty() {
                p { (lang.t("Chưa có lệnh phong tỏa nào.", "No hold has been placed.")) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { (lang.t("Số", "Number")) }
                        th scope="col" { (lang.t("Phạm vi", "Scope")) }
                        th scope="col" { (lang.t("Lý do", "Reason")) }
                        th scope="col" { (lang.t("Người đặt, lúc", "Placed by, at")) }
                        th scope="col" { (lang.t("Tình trạng", "State")) }
                    } }
                    tbody {
                        @for hold in holds.holds.iter().rev() {
                            tr id=(format!("hold-{}", hold.id)) {
                                th scope="row" { (hold.id) }
                                td { code { (hold.scope) } }
                                td { (hold.reason) }
                                td { (hold.by) ", " (lang::time(hold.at)) }
                                td {
                                    @if hold.released {
                                        span.badge.ok { (lang.t("Đã gỡ", "Released")) }
                                    } @else {
                                        span.badge.bad { (lang.t("Đang phong tỏa", "Active")) }
                                        @if user.may(lifecycle::RELEASE_HOLD) {
                                            form.inline method="post" action=(format!("/archivist/holds/{}/release", hold.id)) {
                                                (layout::csrf_field(user))
                                                p { button.secondary type="submit" aria-label=(format!("{} {}", lang.t("Gỡ lệnh phong tỏa số", "Release hold number"), hold.id)) {
                                                    (lang.t("Gỡ phong tỏa", "Release"))
                                                } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Revocation, for the roles that may revoke.
pub fn revoke_section(user: &WebUser, notice: Option<&Notice>) -> Markup {
    let lang = user.lang;
    html! {
        @if user.may(lifecycle::REVOKE) {
            section.card aria-labelledby="revoke-title" {
                h2 #revoke-title { (lang.t("Thu hồi tài liệu", "Revoke a document")) }
                p.muted { (lang.t(
                    "Nội dung được giữ nguyên; việc xác thực sẽ báo tài liệu đã bị thu hồi cùng lý do.",
                    "The content is kept; verification will say the document is revoked, with the reason."
                )) }
                form.inline method="post" action="/archivist/revoke" {
                    (layout::csrf_field(user))
                    (field(notice, Field { id: "revoke-code", name: "code", label: lang.t("Mã tài liệu", "Document code"), kind: "text", value: "", required: true }))
                    (field(notice, Field { id: "revoke-reason", name: "reason", label: lang.t("Lý do thu hồi", "Reason"), kind: "text", value: "", required: true }))
                    p { button.danger type="submit" { (lang.t("Thu hồi", "Revoke")) } }
                }
            }
        }
    }
}

/// A hold to place: its scope, the value the scope is judged by, and why.
#[derive(Deserialize)]
struct HoldForm {
    scope: String,
    target: String,
    reason: String,
}

/// `POST /archivist/holds`.
async fn place(
    State(state): State<AppState>,
    user: WebUser,
    sent: Result<Form<HoldForm>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(lifecycle::PLACE_HOLD)?;
    let sent = match form(sent) {
        Ok(sent) => sent,
        Err(e) => return Ok(refused(&state, user, e).await),
    };
    let target = sent.target.trim();
    let scope = match sent.scope.as_str() {
        "owner" => target.parse().map(HoldScope::Owner).ok(),
        "dossier" => target.parse().map(HoldScope::Dossier).ok(),
        "type" => target.parse().map(HoldScope::Type).ok(),
        "document" => target.parse().map(HoldScope::Document).ok(),
        _ => None,
    };
    let Some(scope) = scope else {
        let message = user.lang.t(
            "Giá trị không đúng dạng của phạm vi đã chọn (số định danh 12 chữ số, mã hồ sơ, mã loại hoặc mã tài liệu).",
            "The value is not of the chosen scope's form (a 12-digit personal ID, a dossier code, a type code or a document code).",
        );
        return Ok(invalid(&state, user, "hold-target", message).await);
    };
    if sent.reason.trim().is_empty() {
        let message = user.lang.t("Hãy ghi lý do phong tỏa.", "Say why the hold is placed.");
        return Ok(invalid(&state, user, "hold-reason", message).await);
    }
    let actor = user.user.name.clone();
    match blocking(&state, move |a| a.place_hold(scope, &sent.reason, &actor)).await {
        Ok(placed) => Ok(done(&[
            ("done", "held"),
            ("hold", &placed.hold.to_string()),
            ("n", &placed.documents.len().to_string()),
        ])),
        Err(e) => Ok(refused(&state, user, e).await),
    }
}

/// `POST /archivist/holds/{id}/release`.
async fn release(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(id): AppPath<u64>,
) -> Result<Response, WebError> {
    user.require(lifecycle::RELEASE_HOLD)?;
    let actor = user.user.name.clone();
    match blocking(&state, move |a| a.release_hold(id, &actor)).await {
        Ok(released) => {
            Ok(done(&[("done", "released"), ("hold", &id.to_string()), ("n", &released.released.len().to_string())]))
        }
        Err(e) => Ok(refused(&state, user, e).await),
    }
}

/// A change to one document, for a reason: its revocation, or its retention class (`class`).
#[derive(Deserialize)]
struct DocumentForm {
    code: String,
    #[serde(default)]
    class: String,
    reason: String,
}

/// The document code a form names, or the field's error.
fn code_of(user: &WebUser, sent: &DocumentForm) -> Result<DocumentCode, &'static str> {
    sent.code.trim().parse().map_err(|_| {
        user.lang.t(
            "Mã tài liệu không đúng dạng (ví dụ 001099012345.GPXD.01).",
            "Not a document code (e.g. 001099012345.GPXD.01).",
        )
    })
}

/// `POST /archivist/revoke`.
async fn revoke(
    State(state): State<AppState>,
    user: WebUser,
    sent: Result<Form<DocumentForm>, FormRejection>,
) -> Result<Response, WebError> {
    // Officers revoke from the document's page; this form is the desk's, which they do not see.
    user.require(crate::ops::disposition::LIST)?;
    user.require(lifecycle::REVOKE)?;
    let sent = match form(sent) {
        Ok(sent) => sent,
        Err(e) => return Ok(refused(&state, user, e).await),
    };
    let code = match code_of(&user, &sent) {
        Ok(code) => code,
        Err(message) => return Ok(invalid(&state, user, "revoke-code", message).await),
    };
    if sent.reason.trim().is_empty() {
        let message = user.lang.t("Hãy ghi lý do thu hồi.", "Say why it is revoked.");
        return Ok(invalid(&state, user, "revoke-reason", message).await);
    }
    let actor = user.user.name.clone();
    match blocking(&state, move |a| a.revoke(&code, &sent.reason, &actor)).await {
        Ok(changed) => Ok(done(&[("done", "revoked"), ("code", &changed.code)])),
        Err(e) => Ok(refused(&state, user, e).await),
    }
}

/// `POST /archivist/retention`: one document's retention class, for a reason.
async fn retention(
    State(state): State<AppState>,
    user: WebUser,
    sent: Result<Form<DocumentForm>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(lifecycle::SET_RETENTION)?;
    let sent = match form(sent) {
        Ok(sent) => sent,
        Err(e) => return Ok(refused(&state, user, e).await),
    };
    let code = match code_of(&user, &sent) {
        Ok(code) => code,
        Err(message) => return Ok(invalid(&state, user, "retention-code", message).await),
    };
    if sent.reason.trim().is_empty() {
        let message = user.lang.t("Hãy ghi lý do đổi thời hạn.", "Say why the class changes.");
        return Ok(invalid(&state, user, "retention-reason", message).await);
    }
    let actor = user.user.name.clone();
    match blocking(&state, move |a| a.set_retention_class(&code, &sent.class, &sent.reason, &actor)).await {
        Ok(set) => Ok(done(&[("done", "retention"), ("code", &set.code)])),
        Err(e) => Ok(refused(&state, user, e).await),
    }
}

/// The holds', revocation's and retention's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/archivist/holds", post(place))
        .route("/archivist/holds/{id}/release", post(release))
        .route("/archivist/revoke", post(revoke))
        .route("/archivist/retention", post(retention))
}
