//! The document view (`/documents/{code}`): a document's page images beside their OCR text, its
//! metadata, a badge for each kind of verification check (seals, content, legal signature, archive
//! log, status) with every check listed under them, its standing (revoked, held, expired: when, by
//! whom and why), and the downloads (signed PDF, evidence bundle). The page is read through the
//! auditing operations: the record, its text and a full verification are each recorded in the audit
//! trail, and so is each page image the browser then fetches from the API.

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use chrono::{DateTime, NaiveDate};
use domain::DocumentCode;
use maud::{Markup, html};

use super::super::extract::AppPath;
use super::super::{AppError, AppState, blocking};
use super::assets;
use super::checks::check_name;
use super::error::WebError;
use super::lang::{self, Lang};
use super::layout::{self, Screen};
use super::user::WebUser;
use crate::ops::documents::{DocumentView, LifecycleView, READ};
use crate::verify::{Check, VerifyReport};

/// What the page shows, read in one go.
struct Shown {
    view: DocumentView,
    texts: Vec<String>,
    report: VerifyReport,
}

/// `GET /documents/{code}`.
async fn show(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(code): AppPath<String>,
) -> Result<Html<String>, WebError> {
    user.require(READ)?;
    let code: DocumentCode =
        code.parse().map_err(|e| user.error(AppError::NotFound(format!("no document {code:?}: {e}"))))?;
    let actor = user.user.name.clone();
    let shown = blocking(&state, move |a| {
        Ok(Shown {
            view: a.view_record(&code, &actor)?,
            texts: a.text(&code, &actor)?,
            report: a.verify_code(&code, &actor)?,
        })
    })
    .await
    .map_err(|e| user.error(e))?;
    let lang = user.lang;
    let view = &shown.view;
    let name = view.metadata.get("name").map(String::as_str).unwrap_or(&view.code);
    let owner = view.metadata.get("owner").filter(|o| !o.is_empty());
    let title = format!("{name} · {}", view.code);
    let content = html! {
        h1 { (name) }
        p.muted { (lang.t("Mã tài liệu", "Document code")) ": " code { (view.code) } }
        section.card aria-labelledby="checks-h" {
            h2 #checks-h { (lang.t("Xác thực", "Verification")) }
            (badges(lang, &shown.report, &view.lifecycle))
            details {
                summary { (lang.t("Từng phép kiểm tra", "Every check")) }
                (check_table(lang, &shown.report.checks))
            }
        }
        p.actions {
            a.button href=(format!("/api/documents/{}/pdf", view.code)) download {
                (lang.t("Tải bản PDF đã ký", "Download the signed PDF"))
            }
            " "
            a.button.secondary href=(format!("/api/documents/{}/evidence", view.code)) download {
                (lang.t("Tải gói bằng chứng (JSON)", "Download the evidence bundle (JSON)"))
            }
            @if let Some(owner) = owner.filter(|_| user.may(crate::reuse::LOOKUP)) {
                " "
                a.button.secondary href=(reuse_link(owner, view.metadata.get("doc_type"))) {
                    (lang.t("Tái sử dụng cho hồ sơ mới", "Reuse in a new dossier"))
                }
            }
        }
        section.card aria-labelledby="meta-h" {
            h2 #meta-h { (lang.t("Thông tin tài liệu", "Document information")) }
            (metadata(lang, view))
        }
        section aria-labelledby="pages-h" {
            h2 #pages-h { (lang.t("Các trang", "Pages")) " (" (view.pages.len()) ")" }
            // A destroyed document is a tombstone: its images and text are gone by decision.
            @if view.status == "destroyed" {
                p.muted { (lang.t("Tài liệu đã được hủy theo quyết định; chỉ còn hồ sơ và mã băm.", "The document was destroyed by decision; only its record and hashes remain.")) }
            } @else {
            @for (page, text) in view.pages.iter().zip(shown.texts.iter().map(Some).chain(std::iter::repeat(None))) {
                (page_section(lang, &view.code, name, page, text.map(String::as_str)))
            }
            }
        }
        script src=(assets::url("document.js")) defer {}
    };
    Ok(Html(layout::page(&user, Some(Screen::Search), &title, content).into_string()))
}

/// The reuse screen's lookup for this document's owner and type.
fn reuse_link(owner: &str, doc_type: Option<&String>) -> String {
    super::link("/reuse", [("owner", owner)].into_iter().chain(doc_type.map(|t| ("type", t.as_str()))))
}

/// One page: its image (with a zoom toggle, and a link to the image itself for browsers without
/// script) beside its OCR text.
fn page_section(
    lang: Lang,
    code: &str,
    name: &str,
    page: &crate::ops::documents::PageView,
    text: Option<&str>,
) -> Markup {
    let n = page.number;
    let src = format!("/api/documents/{code}/pages/{n}");
    html! {
        div.card.page-view id=(format!("page-{n}")) {
            h3 { (lang.t("Trang", "Page")) " " (n) }
            div.page-pair {
                figure.page-image {
                    img src=(src) width=(page.width) height=(page.height)
                        loading=[(n > 1).then_some("lazy")]
                        alt=(format!("{} {n}: {name}", lang.t("Ảnh trang", "Image of page")));
                    figcaption {
                        button.secondary.zoom type="button" aria-pressed="false" hidden
                            data-zoomed=(lang.t("Thu nhỏ", "Fit to width")) data-fit=(lang.t("Phóng to cỡ thật", "Zoom to full size")) {
                            (lang.t("Phóng to cỡ thật", "Zoom to full size"))
                        }
                        " "
                        a href=(src) { (lang.t("Mở ảnh gốc", "Open the original image")) }
                        " · " span.muted { (page.width) "×" (page.height) " px, " (format!("{:.0}", page.dpi[0])) " dpi" }
                    }
                }
                div.page-text {
                    h4 { (lang.t("Văn bản nhận dạng (OCR)", "Recognised text (OCR)")) }
                    @match text.filter(|t| !t.trim().is_empty()) {
                        Some(text) => pre.ocr { (text) },
                        None => p.muted { (lang.t("Trang này không có văn bản nhận dạng.", "This page has no recognised text.")) },
                    }
                    @if !page.flags.is_empty() {
                        p.warn { (lang.t("Cần xem lại: ", "Flagged for review: ")) (page.flags.join("; ")) }
                    }
                }
            }
        }
    }
}

/// The kinds of check a verification runs, each shown as one badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Seal,
    Content,
    Signature,
    Log,
    Status,
}

impl Kind {
    const ALL: [Kind; 5] = [Kind::Seal, Kind::Content, Kind::Signature, Kind::Log, Kind::Status];

    /// The kind of a check, by the name the verification gives it.
    fn of(name: &str) -> Kind {
        if name.starts_with("PDF signature") {
            Kind::Signature
        } else if name == "archive log" {
            Kind::Log
        } else if name == "status" {
            Kind::Status
        } else if name.starts_with("seal") || name.ends_with(" seal") || name == "destruction report" {
            Kind::Seal
        } else {
            Kind::Content
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        match self {
            Kind::Seal => lang.t("Niêm phong", "Seals"),
            Kind::Content => lang.t("Toàn vẹn nội dung", "Content intact"),
            Kind::Signature => lang.t("Chữ ký số hợp pháp", "Legal signature"),
            Kind::Log => lang.t("Có trong nhật ký lưu trữ", "In the archive log"),
            Kind::Status => lang.t("Trạng thái", "Status"),
        }
    }
}

/// A badge: ✓ or ✗ and a text, coloured; the mark says it without the colour.
pub(super) fn badge(passed: bool, text: &str) -> Markup {
    html! {
        @if passed { span.badge.ok { "✓ " (text) } } @else { span.badge.bad { "✗ " (text) } }
    }
}

/// A document's status (`active`, `held`, `revoked`, `destroyed`, as search and reuse give it) as a
/// badge in `lang`.
pub(super) fn status_badge(lang: Lang, status: &str) -> Markup {
    html! {
        @match status {
            "active" => span.badge.ok { (lang.t("Còn hiệu lực", "In force")) },
            "held" => span.badge.warn { (lang.t("Đang bị phong tỏa", "On hold")) },
            "revoked" => span.badge.bad { (lang.t("Đã thu hồi", "Revoked")) },
            "destroyed" => span.badge.bad { (lang.t("Đã hủy", "Destroyed")) },
            other => span.badge { (other) },
        }
    }
}

/// One badge per kind of check, then the document's standing: revoked, each hold, expiry.
fn badges(lang: Lang, report: &VerifyReport, lifecycle: &LifecycleView) -> Markup {
    html! {
        p.verdict {
            @if report.valid {
                span.badge.ok { "✓ " (lang.t("Hợp lệ: mọi phép kiểm tra đều đạt", "Valid: every check passed")) }
            } @else {
                span.badge.bad { "✗ " (lang.t("Không hợp lệ", "Not valid")) }
            }
        }
        ul.badges {
            @for kind in Kind::ALL {
                @let checks: Vec<&Check> = report.checks.iter().filter(|c| Kind::of(&c.name) == kind).collect();
                @if !checks.is_empty() {
                    li { (badge(checks.iter().all(|c| c.passed), kind.label(lang))) }
                }
            }
        }
        ul.standing {
            @if let Some(r) = &lifecycle.revoked {
                li {
                    span.badge.bad { "✗ " (lang.t("Đã thu hồi", "Revoked")) }
                    " " (lang::time(r.at)) ", " (lang.t("bởi", "by")) " " (r.by) ": " (r.reason)
                }
            }
            @for h in &lifecycle.holds {
                li {
                    span.badge.warn { "⏸ " (lang.t("Đang bị phong tỏa", "On hold")) }
                    " " (lang::time(h.at)) ", " (lang.t("bởi", "by")) " " (h.by) ": " (h.reason)
                }
            }
            li {
                @match lifecycle.valid_until {
                    Some(day) if lifecycle.expired => {
                        span.badge.bad { "✗ " (lang.t("Hết hiệu lực", "Expired")) }
                        " " (lang.t("hiệu lực đến hết ngày", "valid until the end of")) " " (lang::date(day))
                    }
                    Some(day) => {
                        span.badge.ok { "✓ " (lang.t("Còn hiệu lực", "In force")) }
                        " " (lang.t("đến hết ngày", "until the end of")) " " (lang::date(day))
                    }
                    None => span.badge.ok { "✓ " (lang.t("Còn hiệu lực, không thời hạn", "In force, without end")) },
                }
            }
        }
    }
}

/// Every check with what it found (the detail is the verification's own, in English).
fn check_table(lang: Lang, checks: &[Check]) -> Markup {
    html! {
        table {
            caption.muted { (lang.t("Chi tiết kỹ thuật theo từng phép kiểm tra", "The technical detail of each check")) }
            thead { tr {
                th scope="col" { (lang.t("Phép kiểm tra", "Check")) }
                th scope="col" { (lang.t("Kết quả", "Result")) }
                th scope="col" { (lang.t("Chi tiết", "Detail")) }
            } }
            tbody {
                @for c in checks {
                    tr {
                        th scope="row" { (check_name(lang, &c.name)) }
                        td { (badge(c.passed, if c.passed { lang.t("Đạt", "Passed") } else { lang.t("Không đạt", "Failed") })) }
                        td.detail { (c.detail) }
                    }
                }
            }
        }
    }
}

/// A day recorded as `yyyy-mm-dd`, as people read it.
fn day(value: &str) -> String {
    value.parse::<NaiveDate>().map(lang::date).unwrap_or_else(|_| value.to_owned())
}

/// The metadata, each field named in `lang`, dates as `dd/mm/yyyy`; empty fields are left out.
fn metadata(lang: Lang, view: &DocumentView) -> Markup {
    let field = |key: &str| view.metadata.get(key).filter(|v| !v.is_empty()).cloned();
    let validity = field("validity").map(|v| match v.strip_prefix("until ") {
        Some(d) => format!("{} {}", lang.t("Đến hết ngày", "Until the end of"), day(d)),
        None => lang.t("Không thời hạn", "Without end").to_owned(),
    });
    let captured = field("captured_at").map(|v| DateTime::parse_from_rfc3339(&v).map(lang::time).unwrap_or(v));
    let archived = DateTime::parse_from_rfc3339(&view.archived_at).map(lang::time).unwrap_or(view.archived_at.clone());
    let rows: Vec<(&str, Option<String>)> = vec![
        (lang.t("Tên tài liệu", "Name"), field("name")),
        (lang.t("Loại tài liệu", "Document type"), field("doc_type")),
        (lang.t("Chủ sở hữu (số định danh)", "Owner (personal ID)"), field("owner")),
        (lang.t("Số, ký hiệu", "Number and symbol"), field("number_symbol")),
        (lang.t("Ngày ban hành", "Issued on"), field("issue_date").map(|d| day(&d))),
        (lang.t("Cơ quan ban hành", "Issuing body"), field("issuing_body")),
        (lang.t("Trích yếu", "Summary"), field("summary")),
        (lang.t("Hiệu lực", "Validity"), validity),
        (lang.t("Phạm vi hiệu lực", "Scope of validity"), field("validity_scope")),
        (lang.t("Mã hồ sơ", "Dossier"), field("dossier")),
        (lang.t("Thủ tục hành chính", "Procedure"), field("procedure")),
        (lang.t("Người số hóa", "Digitised by"), field("operator")),
        (lang.t("Thời điểm số hóa", "Digitised at"), captured),
        (lang.t("Thời điểm lưu trữ", "Archived at"), Some(archived)),
        (lang.t("Thời hạn bảo quản", "Retention class"), Some(view.retention_class.clone())),
        (
            lang.t("Tệp PDF", "PDF file"),
            Some(format!("{} KB, BLAKE3 {}", view.pdf.bytes.div_ceil(1024), &view.pdf.blake3[..16])),
        ),
    ];
    html! {
        table.meta {
            tbody {
                @for (label, value) in rows {
                    @if let Some(value) = value {
                        tr { th scope="row" { (label) } td { (value) } }
                    }
                }
            }
        }
    }
}

/// The document view's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/documents/{code}", get(show))
}
