//! The archivist's desk (`/archivist`): the documents awaiting a disposition step and the steps the
//! person's role may take on each (review, the destruction request under the council's decision, the
//! second archivist's confirmation), the holds, revocation, the export of a bag, and the retention
//! schedule with its legal basis. The forms post to the routes of [`super::archivist_disposition`],
//! [`super::archivist_holds`] and [`super::archivist_export`], which answer with a redirect back here
//! and the outcome in the query, or show this page again at once with the operation's refusal.

use archive::{Disposition, RetentionPeriod};
use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use super::super::{AppError, AppState, blocking};
use super::lang::{self, Lang};
use super::layout::{self, Screen};
use super::notice::{Field, Notice, field};
use super::user::WebUser;
use super::{archivist_disposition, archivist_export, archivist_holds};
use crate::ops::disposition::{self, DispositionList};
use crate::ops::lifecycle::{self, Holds, RetentionClasses};
use crate::ops::transfer;

/// What the last change did, as the redirect back to the desk names it.
#[derive(Deserialize, Default)]
pub struct Outcome {
    done: Option<String>,
    code: Option<String>,
    hold: Option<u64>,
    n: Option<usize>,
    bag: Option<String>,
}

impl Outcome {
    /// The sentence for the outcome, in `lang`.
    fn notice(&self, lang: Lang) -> Option<Notice> {
        let code = self.code.as_deref().unwrap_or_default();
        let n = self.n.unwrap_or_default();
        let hold = self.hold.unwrap_or_default();
        let text = match self.done.as_deref()? {
            "marked" => format!("{} {n}", lang.t("Số tài liệu mới đến hạn xử lý:", "Documents newly eligible:")),
            "ahead" => {
                format!("{} {n}", lang.t("Số tài liệu sẽ đến hạn vào ngày đó:", "Documents eligible by that day:"))
            }
            "approved" => format!("{} {code}", lang.t("Đã duyệt hủy tài liệu", "Approved for destruction:")),
            "kept" => format!("{} {code}", lang.t("Đã quyết định giữ lại tài liệu", "Kept longer:")),
            "requested" => format!(
                "{} {code}. {}",
                lang.t("Đã đề nghị hủy tài liệu", "Destruction requested for"),
                lang.t("Cần một cán bộ lưu trữ khác xác nhận.", "A second archivist must confirm it.")
            ),
            "destroyed" => format!("{} {code}", lang.t("Đã hủy tài liệu", "Destroyed:")),
            "held" => format!(
                "{} {hold}: {n} {}",
                lang.t("Đã đặt lệnh phong tỏa số", "Hold placed, number"),
                lang.t("tài liệu bị phong tỏa", "documents held")
            ),
            "released" => format!(
                "{} {hold}: {n} {}",
                lang.t("Đã gỡ lệnh phong tỏa số", "Hold released, number"),
                lang.t("tài liệu được gỡ", "documents released")
            ),
            "revoked" => format!("{} {code}", lang.t("Đã thu hồi tài liệu", "Revoked:")),
            "retention" => format!("{} {code}", lang.t("Đã đổi thời hạn bảo quản của", "Retention class changed for")),
            "exported" => format!(
                "{} {} ({n} {})",
                lang.t("Đã xuất gói BagIt", "Bag exported:"),
                self.bag.as_deref().unwrap_or_default(),
                lang.t("tài liệu", "documents")
            ),
            _ => return None,
        };
        Some(Notice::Done(text))
    }
}

/// Everything the desk shows.
struct Desk {
    queue: DispositionList,
    holds: Holds,
    schedule: RetentionClasses,
}

/// `GET /archivist`.
async fn desk(State(state): State<AppState>, user: WebUser, Query(outcome): Query<Outcome>) -> Response {
    let notice = outcome.notice(user.lang);
    let bag = outcome.bag.filter(|_| outcome.done.as_deref() == Some("exported"));
    let destroyed = outcome.code.filter(|_| outcome.done.as_deref() == Some("destroyed"));
    render(&state, user, notice, StatusCode::OK, Extra { bag, destroyed }).await
}

/// What a page after a change offers besides the notice: the bag to download, the report of the
/// destruction just confirmed.
#[derive(Default)]
pub struct Extra {
    /// The name of the bag just exported.
    pub bag: Option<String>,
    /// The code of the document just destroyed.
    pub destroyed: Option<String>,
}

/// The desk, with the outcome of a form; the forms' handlers show it this way when the operation
/// refused, so that the refusal is read where the form was.
pub async fn render(
    state: &AppState,
    mut user: WebUser,
    notice: Option<Notice>,
    status: StatusCode,
    extra: Extra,
) -> Response {
    if let Err(e) = user.require(disposition::LIST) {
        return e.into_response();
    }
    // The language switch of a page shown after a post comes back to the desk itself.
    if !user.here.starts_with("/archivist?") {
        user.here = Screen::Archivist.path().to_owned();
    }
    let loaded = blocking(state, |a| {
        Ok(Desk { queue: a.disposition_list()?, holds: a.holds()?, schedule: a.retention_classes() })
    })
    .await;
    let desk = match loaded {
        Ok(desk) => desk,
        Err(e) => return user.error(e).into_response(),
    };
    let lang = user.lang;
    let title = lang.t("Bàn lưu trữ", "Archivist's desk");
    let content = html! {
        h1 { (title) }
        @if let Some(notice) = &notice { (notice.banner(lang)) }
        (blocking_holds(lang, notice.as_ref(), &desk.holds))
        @if let Some(code) = &extra.destroyed {
            p.card {
                (lang.t("Biên bản hủy đã được ký số: ", "The destruction report is signed: "))
                a href=(format!("/archivist/documents/{code}/destruction-report")) download {
                    (lang.t("Tải biên bản hủy", "Download the destruction report")) " (" (code) ".json)"
                }
            }
        }
        @if let Some(bag) = &extra.bag {
            p.card {
                (lang.t("Gói đã được ghi vào thư mục chuyển giao của máy: ", "The bag is in the appliance's transfer directory: "))
                code { (bag) } ". "
                a href=(format!("/archivist/export/{bag}")) download {
                    (lang.t("Tải gói về (tệp .tar)", "Download the bag (.tar file)"))
                }
            }
        }
        (disposition_section(&user, &desk.queue, notice.as_ref()))
        (archivist_holds::section(&user, &desk.holds, notice.as_ref()))
        (archivist_holds::revoke_section(&user, notice.as_ref()))
        @if user.may(transfer::EXPORT) { (archivist_export::section(&user, notice.as_ref())) }
        (retention_section(&user, &desk.schedule, notice.as_ref()))
    };
    (status, layout::page(&user, Some(Screen::Archivist), title, content)).into_response()
}

/// The holds a refusal names ("it is held (hold 3, 5)"), with their scope and reason, so that the
/// archivist sees at once which case blocks the step and whom to ask.
fn blocking_holds(lang: Lang, notice: Option<&Notice>, holds: &Holds) -> Markup {
    let Some(Notice::Failed { detail, .. }) = notice else { return html! {} };
    let Some(ids) = detail.split_once("(hold ").and_then(|(_, rest)| rest.split_once(')')).map(|(ids, _)| ids) else {
        return html! {};
    };
    let named: Vec<_> = ids
        .split(", ")
        .filter_map(|id| id.parse::<u64>().ok())
        .filter_map(|id| holds.holds.iter().find(|h| h.id == id))
        .collect();
    html! {
        @if !named.is_empty() {
            div.card.blocking-holds {
                p { strong { (lang.t("Lệnh phong tỏa đang chặn bước này:", "The holds that block this step:")) } }
                ul {
                    @for hold in named {
                        li {
                            a href=(format!("#hold-{}", hold.id)) { (lang.t("Lệnh số", "Hold")) " " (hold.id) } ": "
                            code { (hold.scope) } " — " (hold.reason) " (" (hold.by) ", " (lang::time(hold.at)) ")"
                        }
                    }
                }
            }
        }
    }
}

/// The documents awaiting a step, each with the steps the person may take.
fn disposition_section(user: &WebUser, queue: &DispositionList, notice: Option<&Notice>) -> Markup {
    let lang = user.lang;
    html! {
        section.card aria-labelledby="disposition-title" {
            h2 #disposition-title { (lang.t("Tài liệu đến hạn xử lý", "Documents awaiting disposition")) }
            @if user.may(disposition::MARK) {
                form.inline method="post" action="/archivist/mark" {
                    (layout::csrf_field(user))
                    (field(notice, Field { id: "mark-day", name: "day", label: lang.t("Xét đến ngày (để trống là hôm nay)", "As of the day (empty for today)"), kind: "date", value: "", required: false }))
                    p { button type="submit" { (lang.t("Đánh dấu tài liệu hết hạn bảo quản", "Mark the documents whose retention ended")) } }
                }
                p.muted { (lang.t(
                    "Một ngày trong tương lai chỉ cho biết tài liệu nào sẽ đến hạn, không đánh dấu gì.",
                    "A day in the future only tells which documents will be eligible by then; nothing is marked."
                )) }
            }
            @if queue.documents.is_empty() {
                p { (lang.t("Không có tài liệu nào đang chờ xử lý.", "No document awaits a disposition step.")) }
            } @else {
                table {
                    caption { (lang.t("Tài liệu chờ một bước xử lý, theo mã", "Documents awaiting a step, by code")) }
                    thead { tr {
                        th scope="col" { (lang.t("Mã tài liệu", "Document code")) }
                        th scope="col" { (lang.t("Tên", "Name")) }
                        th scope="col" { (lang.t("Thời hạn bảo quản", "Retention class")) }
                        th scope="col" { (lang.t("Tình trạng", "Where it stands")) }
                        th scope="col" { (lang.t("Bước tiếp theo", "Next step")) }
                    } }
                    tbody {
                        @for doc in &queue.documents {
                            tr id=(format!("doc-{}", doc.code)) {
                                th scope="row" { code { (doc.code) } }
                                td { (doc.name) }
                                td { (doc.retention_class) }
                                td { (standing(lang, &doc.disposition)) }
                                td { (archivist_disposition::steps(user, doc, notice)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Where a document stands in disposition, in words.
fn standing(lang: Lang, disposition: &Disposition) -> Markup {
    match disposition {
        Disposition::Retained => html! { (lang.t("Đang bảo quản", "Retained")) },
        Disposition::Eligible(day) => html! {
            span.badge.warn { (lang.t("Đến hạn", "Eligible")) } " "
            (lang.t("từ", "since")) " " (lang::date(*day))
        },
        Disposition::KeptUntil { until, reason, by } => html! {
            span.badge.ok { (lang.t("Giữ lại", "Kept")) } " "
            (lang.t("đến", "until")) " " (lang::date(*until)) ": " (reason) " (" (by) ")"
        },
        Disposition::Approved { by } => html! {
            span.badge.warn { (lang.t("Đã duyệt hủy", "Approved for destruction")) } " " (lang.t("bởi", "by")) " " (by)
        },
        Disposition::Requested { decision, by } => html! {
            span.badge.bad { (lang.t("Đã đề nghị hủy", "Destruction requested")) } " "
            (lang.t("theo quyết định", "under decision")) " " (decision.number) " "
            (lang.t("ngày", "of")) " " (lang::date(decision.date)) ", " (lang.t("bởi", "by")) " " (by)
        },
    }
}

/// The retention schedule: each class with its legal basis, the class of each type, and the
/// override of one document's class.
fn retention_section(user: &WebUser, schedule: &RetentionClasses, notice: Option<&Notice>) -> Markup {
    let lang = user.lang;
    let schedule = &schedule.schedule;
    html! {
        section.card aria-labelledby="retention-title" {
            h2 #retention-title { (lang.t("Thời hạn bảo quản", "Retention classes")) }
            table {
                thead { tr {
                    th scope="col" { (lang.t("Mã", "Id")) }
                    th scope="col" { (lang.t("Tên", "Name")) }
                    th scope="col" { (lang.t("Thời hạn", "Period")) }
                    th scope="col" { (lang.t("Căn cứ pháp lý", "Legal basis")) }
                    th scope="col" { (lang.t("Loại giấy tờ", "Document types")) }
                } }
                tbody {
                    @for class in &schedule.classes {
                        tr {
                            th scope="row" { code { (class.id) } }
                            td { (class.name) }
                            td { (period(lang, class.period)) }
                            td { (class.legal_basis) }
                            td {
                                @let types: Vec<&str> = schedule.types.iter().filter(|(_, c)| **c == class.id).map(|(t, _)| t.as_str()).collect();
                                (types.join(", "))
                                @if schedule.default_class == class.id {
                                    @if !types.is_empty() { ", " }
                                    em { (lang.t("các loại khác", "every other type")) }
                                }
                            }
                        }
                    }
                }
            }
            @if user.may(lifecycle::SET_RETENTION) {
                h3 { (lang.t("Đổi thời hạn bảo quản của một tài liệu", "Change one document's retention class")) }
                form.inline method="post" action="/archivist/retention" {
                    (layout::csrf_field(user))
                    (field(notice, Field { id: "retention-code", name: "code", label: lang.t("Mã tài liệu", "Document code"), kind: "text", value: "", required: true }))
                    p {
                        label for="retention-class" { (lang.t("Thời hạn mới", "New class")) }
                        select #retention-class name="class" {
                            @for class in &schedule.classes { option value=(class.id) { (class.id) " · " (class.name) } }
                        }
                    }
                    (field(notice, Field { id: "retention-reason", name: "reason", label: lang.t("Lý do (danh mục hồ sơ)", "Reason (records schedule)"), kind: "text", value: "", required: true }))
                    p { button type="submit" { (lang.t("Đổi thời hạn", "Change the class")) } }
                }
            }
        }
    }
}

/// The desk again with an operation's refusal, where the form was.
pub async fn refused(state: &AppState, user: WebUser, error: AppError) -> Response {
    let (status, notice) = Notice::failed(user.lang, error);
    render(state, user, Some(notice), status, Extra::default()).await
}

/// The desk again with a field's error, next to the field.
pub async fn invalid(state: &AppState, user: WebUser, field: impl Into<String>, message: &'static str) -> Response {
    let (status, notice) = Notice::invalid(field, message);
    render(state, user, Some(notice), status, Extra::default()).await
}

/// A form's fields, or what was wrong with them.
pub fn form<T>(sent: Result<Form<T>, FormRejection>) -> Result<T, AppError> {
    sent.map(|Form(t)| t).map_err(|e| AppError::BadRequest(e.body_text()))
}

/// Back to the desk, with what was done in the query (Post/Redirect/Get).
pub fn done(pairs: &[(&str, &str)]) -> Response {
    Redirect::to(&super::link("/archivist", pairs.iter().copied())).into_response()
}

/// A retention period in words.
fn period(lang: Lang, period: RetentionPeriod) -> String {
    match period {
        RetentionPeriod::Years(n) => format!("{n} {}", lang.t("năm", "years")),
        RetentionPeriod::Permanent => lang.t("Vĩnh viễn", "Permanent").to_owned(),
    }
}

/// The desk and every form it posts to.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/archivist", get(desk))
        .merge(archivist_disposition::router())
        .merge(archivist_holds::router())
        .merge(archivist_export::router())
}
