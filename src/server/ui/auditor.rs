//! The auditor's view (`/auditor`): the audit trail filtered by target, actor, action and time
//! (times read and shown at +07:00), newest first, page by page; a fixity run and its report
//! ([`super::auditor_fixity`]); and the archive log's evidence: a checkpoint signed now, the inclusion
//! proof of a document and the consistency proof from an earlier size, each shown with whether it
//! verifies. Reading the trail or a proof is itself recorded in the trail, as the operations do for
//! the API.

use archive::{AuditQuery, Checkpoint};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use domain::{AuditAction, DocumentCode, vietnam_offset};
use maud::{Markup, html};
use serde::Deserialize;

use super::super::{AppError, AppState, blocking};
use super::auditor_fixity;
use super::error::WebError;
use super::lang::{self, Lang};
use super::layout::{self, Screen};
use super::notice::{Field, Notice, field};
use super::user::WebUser;
use crate::ops::integrity::{self, AuditEntries, CheckpointView, ConsistencyView, InclusionView};

/// Entries shown per page.
const PER_PAGE: usize = 50;

/// The view's query: the trail's filters and page, and the proof asked for.
#[derive(Deserialize, Default, Clone)]
pub struct ViewQuery {
    #[serde(default)]
    target: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    page: Option<usize>,
    /// A document code whose inclusion proof to show.
    #[serde(default)]
    prove: String,
    /// The size of an earlier checkpoint whose consistency with the latest to show.
    #[serde(default)]
    size: String,
}

/// Evidence of the log to show.
enum Evidence {
    Checkpoint(CheckpointView),
    Inclusion(InclusionView),
    Consistency(ConsistencyView),
}

/// `GET /auditor`.
async fn view(State(state): State<AppState>, user: WebUser, Query(query): Query<ViewQuery>) -> Response {
    render(&state, user, query, None, StatusCode::OK).await
}

/// `POST /auditor/checkpoint`: signs a checkpoint now (or answers the latest if nothing changed) and
/// shows it; the page is the answer, as a checkpoint is not kept for a later page to show.
async fn checkpoint(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    // The answer is this view, which only the trail's readers see.
    user.require(integrity::AUDIT_READ)?;
    user.require(integrity::CHECKPOINT)?;
    Ok(match blocking(&state, |a| a.checkpoint()).await {
        Ok(view) => {
            render(&state, user, ViewQuery::default(), Some(Ok(Evidence::Checkpoint(view))), StatusCode::OK).await
        }
        Err(e) => refused(&state, user, e).await,
    })
}

/// The view again with an operation's refusal.
pub async fn refused(state: &AppState, user: WebUser, error: AppError) -> Response {
    let (status, notice) = Notice::failed(user.lang, error);
    render(state, user, ViewQuery::default(), Some(Err(notice)), status).await
}

/// A `datetime-local` input's value, read at Vietnam's offset.
fn moment(value: &str) -> Option<DateTime<FixedOffset>> {
    let value = value.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .and_then(|t| t.and_local_timezone(vietnam_offset()).single())
}

/// The whole view. `shown` is evidence (or a refusal) that a form's answer brings.
async fn render(
    state: &AppState,
    mut user: WebUser,
    query: ViewQuery,
    shown: Option<Result<Evidence, Notice>>,
    status: StatusCode,
) -> Response {
    if let Err(e) = user.require(integrity::AUDIT_READ) {
        return e.into_response();
    }
    if !user.here.starts_with("/auditor?") {
        user.here = Screen::Auditor.path().to_owned();
    }
    let lang = user.lang;
    // The filters: a time that is not a time is said so at its field, and the trail is not read.
    let mut notice = None;
    let mut evidence = None;
    match shown {
        Some(Ok(e)) => evidence = Some(e),
        Some(Err(n)) => notice = Some(n),
        None => {}
    }
    let bad_time = lang.t("Thời điểm không hợp lệ.", "Not a valid time.");
    let from = (!query.from.trim().is_empty()).then(|| moment(&query.from));
    let until = (!query.until.trim().is_empty()).then(|| moment(&query.until));
    if from == Some(None) {
        notice = Some(Notice::Invalid { field: "audit-from".into(), message: bad_time });
    } else if until == Some(None) {
        notice = Some(Notice::Invalid { field: "audit-until".into(), message: bad_time });
    }
    let filter = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let audit_query = AuditQuery {
        target: filter(&query.target),
        actor: filter(&query.actor),
        action: filter(&query.action),
        from: from.flatten(),
        until: until.flatten(),
    };
    let read_trail = !matches!(notice, Some(Notice::Invalid { .. }));
    let actor = user.user.name.clone();
    let trail = if read_trail {
        match blocking(state, move |a| a.audit_query(&audit_query, &actor)).await {
            Ok(entries) => Some(entries),
            Err(e) => return user.error(e).into_response(),
        }
    } else {
        None
    };
    // A proof asked for in the query.
    if evidence.is_none() && notice.is_none() {
        let actor = user.user.name.clone();
        let asked = if !query.prove.trim().is_empty() {
            match query.prove.trim().parse::<DocumentCode>() {
                Ok(code) => Some(blocking(state, move |a| a.prove(&code, &actor)).await.map(Evidence::Inclusion)),
                Err(_) => {
                    let message = lang.t("Mã tài liệu không đúng dạng.", "Not a document code.");
                    notice = Some(Notice::Invalid { field: "prove-code".into(), message });
                    None
                }
            }
        } else if !query.size.trim().is_empty() {
            match query.size.trim().parse::<u64>() {
                Ok(size) => {
                    Some(blocking(state, move |a| a.prove_consistency(size, &actor)).await.map(Evidence::Consistency))
                }
                Err(_) => {
                    let message = lang.t("Kích thước là một số nguyên dương.", "A size is a positive whole number.");
                    notice = Some(Notice::Invalid { field: "consistency-size".into(), message });
                    None
                }
            }
        } else {
            None
        };
        match asked {
            Some(Ok(e)) => evidence = Some(e),
            Some(Err(e)) => notice = Some(Notice::failed(lang, e).1),
            None => {}
        }
    }
    let title = lang.t("Kiểm tra", "Audit");
    let content = html! {
        h1 { (title) }
        @if let Some(notice) = &notice { (notice.banner(lang)) }
        (trail_section(&user, &query, trail.as_ref(), notice.as_ref()))
        (auditor_fixity::section(&user, &state.fixity))
        (log_section(&user, &query, evidence.as_ref(), notice.as_ref()))
        script src=(super::assets::url("auditor.js")) defer {}
    };
    (status, layout::page(&user, Some(Screen::Auditor), title, content)).into_response()
}

/// The trail's filters and the page of entries.
fn trail_section(user: &WebUser, query: &ViewQuery, trail: Option<&AuditEntries>, notice: Option<&Notice>) -> Markup {
    let lang = user.lang;
    let entries = trail.map(|t| t.entries.as_slice()).unwrap_or_default();
    let pages = entries.len().div_ceil(PER_PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    // Newest first: an auditor looks at what happened last.
    let shown: Vec<_> = entries.iter().rev().skip((page - 1) * PER_PAGE).take(PER_PAGE).collect();
    html! {
        section.card aria-labelledby="trail-title" #trail {
            h2 #trail-title { (lang.t("Nhật ký kiểm tra", "Audit trail")) }
            form.inline method="get" action="/auditor#trail" {
                (field(notice, Field { id: "audit-target", name: "target", label: lang.t("Đối tượng (mã tài liệu, người dùng, hold N)", "Target (document code, user, hold N)"), kind: "text", value: &query.target, required: false }))
                (field(notice, Field { id: "audit-actor", name: "actor", label: lang.t("Người thực hiện", "Actor"), kind: "text", value: &query.actor, required: false }))
                p {
                    label for="audit-action" { (lang.t("Hành động", "Action")) }
                    select #audit-action name="action" {
                        option value="" selected[query.action.is_empty()] { (lang.t("Tất cả", "All")) }
                        @for action in AuditAction::ALL {
                            option value=(action.as_str()) selected[query.action == action.as_str()] { (action.as_str()) }
                        }
                    }
                }
                (field(notice, Field { id: "audit-from", name: "from", label: lang.t("Từ (giờ +07:00)", "From (+07:00)"), kind: "datetime-local", value: &query.from, required: false }))
                (field(notice, Field { id: "audit-until", name: "until", label: lang.t("Đến trước (giờ +07:00)", "Until (+07:00)"), kind: "datetime-local", value: &query.until, required: false }))
                p { button type="submit" { (lang.t("Lọc", "Filter")) } }
                p { a.button.secondary href="/auditor" { (lang.t("Bỏ lọc", "Clear")) } }
            }
            @if trail.is_some() {
                p #trail-count aria-live="polite" {
                    (entries.len()) " " (lang.t("mục khớp; chuỗi nhật ký đã được kiểm tra khi đọc.", "entries match; the chain was checked on the way."))
                }
                @if !shown.is_empty() {
                    table.trail {
                        thead { tr {
                            th scope="col" { "#" }
                            th scope="col" { (lang.t("Thời điểm", "Time")) }
                            th scope="col" { (lang.t("Người thực hiện", "Actor")) }
                            th scope="col" { (lang.t("Hành động", "Action")) }
                            th scope="col" { (lang.t("Đối tượng", "Target")) }
                            th scope="col" { (lang.t("Chi tiết", "Detail")) }
                            th scope="col" { (lang.t("Mã băm", "Hash")) }
                        } }
                        tbody {
                            @for e in &shown {
                                tr {
                                    th scope="row" { (e.seq) }
                                    td.nowrap { (lang::time(e.at)) }
                                    td { (e.actor) }
                                    td { code { (e.action) } }
                                    td { code { (e.target) } }
                                    td.wrap { (e.detail) }
                                    td { code.nowrap { (e.hash.get(..12).unwrap_or(&e.hash)) "…" } }
                                }
                            }
                        }
                    }
                    @if pages > 1 {
                        nav.pager aria-label=(lang.t("Trang của nhật ký", "Pages of the trail")) {
                            @if page > 1 { a href=(page_link(query, page - 1)) rel="prev" { "← " (lang.t("Trang trước", "Previous page")) } }
                            span { (lang.t("Trang", "Page")) " " (page) " / " (pages) }
                            @if page < pages { a href=(page_link(query, page + 1)) rel="next" { (lang.t("Trang sau", "Next page")) " →" } }
                        }
                    }
                }
            }
        }
    }
}

/// The view's address at another page of the same filters.
fn page_link(query: &ViewQuery, page: usize) -> String {
    let page = page.to_string();
    let filters = [
        ("target", &query.target),
        ("actor", &query.actor),
        ("action", &query.action),
        ("from", &query.from),
        ("until", &query.until),
    ];
    let pairs = filters.into_iter().filter(|(_, value)| !value.is_empty()).map(|(name, value)| (name, value.as_str()));
    format!("{}#trail", super::link("/auditor", pairs.chain([("page", page.as_str())])))
}

/// The archive log: the checkpoint button, the proofs' forms and the evidence asked for.
fn log_section(user: &WebUser, query: &ViewQuery, evidence: Option<&Evidence>, notice: Option<&Notice>) -> Markup {
    let lang = user.lang;
    html! {
        section.card aria-labelledby="log-title" #log {
            h2 #log-title { (lang.t("Nhật ký lưu trữ (cây Merkle)", "Archive log (Merkle tree)")) }
            div.grid {
                @if user.may(integrity::CHECKPOINT) {
                    form method="post" action="/auditor/checkpoint" {
                        (layout::csrf_field(user))
                        p.muted { (lang.t("Ký số kích thước và gốc hiện tại của nhật ký.", "Signs the log's current size and root."))}
                        p { button type="submit" { (lang.t("Ký điểm kiểm tra", "Sign a checkpoint")) } }
                    }
                }
                @if user.may(integrity::PROOFS) {
                    form method="get" action="/auditor#log" {
                        (field(notice, Field { id: "prove-code", name: "prove", label: lang.t("Bằng chứng có mặt của tài liệu (mã)", "Inclusion proof of a document (code)"), kind: "text", value: &query.prove, required: true }))
                        p { button type="submit" { (lang.t("Xem bằng chứng", "Show the proof")) } }
                    }
                    form method="get" action="/auditor#log" {
                        (field(notice, Field { id: "consistency-size", name: "size", label: lang.t("Bằng chứng nhất quán từ kích thước", "Consistency proof from the size"), kind: "number", value: &query.size, required: true }))
                        p { button type="submit" { (lang.t("Xem bằng chứng", "Show the proof")) } }
                    }
                }
            }
            @match evidence {
                Some(Evidence::Checkpoint(view)) => {
                    h3 #evidence-title { (lang.t("Điểm kiểm tra đã ký", "Signed checkpoint")) }
                    (checkpoint_view(lang, &view.checkpoint))
                    p { strong { (lang.t("Ghi chú đã ký (dạng trao đổi với bên chứng kiến)", "Signed note (the form witnesses exchange)")) } }
                    pre.note { (view.note) }
                },
                Some(Evidence::Inclusion(view)) => {
                    h3 #evidence-title { (lang.t("Bằng chứng có mặt", "Inclusion proof")) }
                    (verdict(lang, view.verifies))
                    dl.evidence {
                        dt { (lang.t("Vị trí lá", "Leaf index")) } dd { (view.proof.index) }
                        dt { (lang.t("Nội dung lá", "Leaf text")) } dd { pre.note { (view.proof.leaf) } }
                        dt { (lang.t("Đường kiểm chứng (từ lá lên gốc)", "Audit path (leaf side first)")) }
                        dd { (hashes(&view.proof.path)) }
                    }
                    h4 { (lang.t("Theo điểm kiểm tra", "Against the checkpoint")) }
                    (checkpoint_view(lang, &view.proof.checkpoint))
                },
                Some(Evidence::Consistency(view)) => {
                    h3 #evidence-title { (lang.t("Bằng chứng nhất quán", "Consistency proof")) }
                    (verdict(lang, view.verifies))
                    p { (view.proof.from.size) " → " (view.proof.to.size) " " (lang.t("lá", "leaves")) }
                    dl.evidence {
                        dt { (lang.t("Đường kiểm chứng", "Proof hashes")) } dd { (hashes(&view.proof.path)) }
                    }
                    h4 { (lang.t("Điểm kiểm tra cũ", "Older checkpoint")) }
                    (checkpoint_view(lang, &view.proof.from))
                    h4 { (lang.t("Điểm kiểm tra mới nhất", "Latest checkpoint")) }
                    (checkpoint_view(lang, &view.proof.to))
                },
                None => {},
            }
        }
    }
}

/// Whether a proof's path verifies, as a badge.
fn verdict(lang: Lang, verifies: bool) -> Markup {
    html! {
        p #proof-verdict {
            @if verifies {
                span.badge.ok { (lang.t("Hợp lệ: đường kiểm chứng dẫn tới gốc đã ký", "Verifies: the path leads to the signed root")) }
            } @else {
                span.badge.bad { (lang.t("KHÔNG hợp lệ: đường kiểm chứng không khớp gốc", "Does NOT verify: the path does not match the root")) }
            }
        }
    }
}

/// A checkpoint's fields.
fn checkpoint_view(lang: Lang, c: &Checkpoint) -> Markup {
    html! {
        dl.evidence {
            dt { (lang.t("Nguồn", "Origin")) } dd { code.hash { (c.origin) } }
            dt { (lang.t("Kích thước (số lá)", "Size (leaves)")) } dd { (c.size) }
            dt { (lang.t("Gốc Merkle", "Merkle root")) } dd { code.hash { (domain::hex(&c.root)) } }
            dt { (lang.t("Nhật ký kiểm tra đến mục", "Audit trail up to entry")) } dd { (c.audit_seq) " · " code.hash { (domain::hex(&c.audit_hash)) } }
            dt { (lang.t("Thời điểm", "Time")) } dd { (lang::time(c.at)) }
            dt { (lang.t("Khóa ký", "Signing key")) } dd { code.hash { (c.seal.key) } }
        }
    }
}

/// A list of hashes, one a line, in monospace.
fn hashes(path: &[[u8; 32]]) -> Markup {
    html! {
        @if path.is_empty() {
            "—"
        } @else {
            ol.hashes { @for h in path { li { code.hash { (domain::hex(h)) } } } }
        }
    }
}

/// The view and its forms' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auditor", get(view))
        .route("/auditor/checkpoint", post(checkpoint))
        .merge(auditor_fixity::router())
}
