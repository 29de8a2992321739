//! The hot folder at the station: the files a scanner or a PC dropped into the shared folder that
//! wait for an operator, with what their names say, and the recent refusals with their reasons.
//! [`hot_folder_panel`] is the panel the station's page embeds; `/station/hotfolder` shows it alone,
//! with the confirmation (and corrections) and rejection of each waiting file, posted as forms that
//! come back to the page they were sent from with the outcome.

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::DateTime;
use maud::{Markup, html};
use scanner_driver::HotFileId;
use serde::Deserialize;

use super::super::extract::AppPath;
use super::super::{AppError, AppState, blocking};
use super::error::{WebError, headline};
use super::lang::{self, Lang};
use super::layout::{self, Screen};
use super::user::WebUser;
use crate::hotfolder::{DECIDE, HotConfirm, HotCorrections, HotFolderListing, HotReject};

/// A time of the listing (ISO 8601) as the UI shows times.
fn shown_time(iso: &str) -> String {
    DateTime::parse_from_rfc3339(iso).map(lang::time).unwrap_or_else(|_| iso.to_owned())
}

/// A size in bytes for people.
fn shown_size(lang: Lang, bytes: u64) -> String {
    let kib = bytes.div_ceil(1024);
    if kib < 1024 {
        format!("{kib} KB")
    } else {
        format!("{:.1} MB", kib as f64 / 1024.0).replace('.', lang.t(",", "."))
    }
}

/// The hot folder's waiting files and recent refusals. The actions are shown to the roles that may
/// take them; each form comes back to the page it is on (`user.here`).
pub fn hot_folder_panel(user: &WebUser, listing: &HotFolderListing) -> Markup {
    let lang = user.lang;
    let decide = user.may(DECIDE);
    let (back, query) = user.here.split_once('?').unwrap_or((&user.here, ""));
    let outcome = Outcome::of(query);
    html! {
        section.hotfolder aria-labelledby="hotfolder-title" {
            h2 #hotfolder-title { (lang.t("Thư mục nhận tệp", "Hot folder")) }
            (flash(lang, &outcome))
            h3 { (lang.t("File chờ xác nhận", "Files waiting for confirmation")) " (" (listing.pending.len()) ")" }
            @if listing.pending.is_empty() {
                p.muted { (lang.t("Không có tệp nào đang chờ.", "No file is waiting.")) }
            } @else {
                table.pending {
                    thead { tr {
                        th scope="col" { (lang.t("File", "File")) }
                        th scope="col" { (lang.t("Nhận lúc", "Received")) }
                        th scope="col" { (lang.t("Thông tin", "Metadata")) }
                        @if decide { th scope="col" { (lang.t("Xử lý", "Action")) } }
                    } }
                    tbody {
                        @for file in &listing.pending {
                            @let id = &file.id[..16.min(file.id.len())];
                            tr {
                                td { (file.file_name) br; span.muted { (shown_size(lang, file.size)) } }
                                td { (shown_time(&file.received_at)) }
                                @if decide {
                                    td {
                                        form.inline method="post" action=(format!("/station/hotfolder/{}/confirm", file.id)) {
                                            (layout::csrf_field(user))
                                            input type="hidden" name="back" value=(back);
                                            p {
                                                label for=(format!("owner-{id}")) { (lang.t("Số định danh", "Owner's ID")) }
                                                input id=(format!("owner-{id}")) name="owner" size="14" inputmode="numeric"
                                                    value=(file.owner.as_deref().unwrap_or_default());
                                            }
                                            p {
                                                label for=(format!("type-{id}")) { (lang.t("Mã loại", "Type")) }
                                                input id=(format!("type-{id}")) name="type" size="8" value=(file.doc_type);
                                            }
                                            p {
                                                label for=(format!("name-{id}")) { (lang.t("Tên giấy tờ", "Document name")) }
                                                input id=(format!("name-{id}")) name="name" value=(file.name);
                                            }
                                            p { button type="submit" { (lang.t("Xác nhận và lưu", "Confirm and archive")) } }
                                        }
                                    }
                                    td {
                                        form.inline method="post" action=(format!("/station/hotfolder/{}/reject", file.id)) {
                                            (layout::csrf_field(user))
                                            input type="hidden" name="back" value=(back);
                                            p {
                                                label for=(format!("reason-{id}")) { (lang.t("Lý do từ chối", "Reason to reject")) }
                                                input id=(format!("reason-{id}")) name="reason" required;
                                            }
                                            p { button.danger type="submit" { (lang.t("Từ chối", "Reject")) } }
                                        }
                                    }
                                } @else {
                                    td {
                                        (file.owner.as_deref().unwrap_or("—")) " · " (file.doc_type) " · " (file.name)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { (lang.t("File bị từ chối gần đây", "Recent refusals")) " (" (listing.failed.len()) ")" }
            @if listing.failed.is_empty() {
                p.muted { (lang.t("Không có tệp nào bị từ chối.", "No file was refused.")) }
            } @else {
                table.failed {
                    thead { tr {
                        th scope="col" { (lang.t("File", "File")) }
                        th scope="col" { (lang.t("Nhận lúc", "Received")) }
                        th scope="col" { (lang.t("Lý do", "Reason")) }
                    } }
                    tbody {
                        @for file in &listing.failed {
                            tr {
                                td { (file.file_name) }
                                td { (shown_time(&file.received_at)) }
                                td { span.badge.bad { (lang.t("Từ chối", "Refused")) } " " (file.reason) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The outcome of the last action, as the redirect gives it in the query of the page the panel is
/// on: the panel reads it from there, so that it says what happened wherever it is embedded.
#[derive(Default)]
struct Outcome {
    confirmed: Option<String>,
    t: Option<String>,
    rejected: Option<String>,
    error: Option<String>,
}

impl Outcome {
    /// The outcome a page's query gives; other parameters are the page's own.
    fn of(query: &str) -> Self {
        let mut outcome = Outcome::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = Some(value.into_owned());
            match &*key {
                "confirmed" => outcome.confirmed = value,
                "t" => outcome.t = value,
                "rejected" => outcome.rejected = value,
                "error" => outcome.error = value,
                _ => {}
            }
        }
        outcome
    }
}

/// The flash that says what the last action did.
fn flash(lang: Lang, outcome: &Outcome) -> Markup {
    let receipt = outcome
        .confirmed
        .as_ref()
        .map(|code| super::link(&format!("/station/receipt/{code}"), outcome.t.as_deref().map(|t| ("t", t))));
    html! {
        @if let (Some(code), Some(receipt)) = (&outcome.confirmed, &receipt) {
            p.flash role="status" {
                (lang.t("Đã lưu giấy tờ ", "Archived as ")) strong { (code) } ". "
                a href=(receipt) { (lang.t("In biên nhận", "Print the receipt")) }
            }
        }
        @if let Some(file) = &outcome.rejected {
            p.flash role="status" { (lang.t("Đã từ chối tệp ", "Rejected the file ")) strong { (file) } "." }
        }
        @if let Some(error) = &outcome.error {
            p.flash.bad role="alert" { (error) }
        }
    }
}

/// `GET /station/hotfolder`.
async fn page(State(state): State<AppState>, user: WebUser) -> Result<Html<String>, WebError> {
    user.require(DECIDE)?;
    let listing = blocking(&state, |a| a.hot_folder_files()).await.map_err(|e| user.error(e))?;
    let title = user.lang.t("Thư mục nhận tệp", "Hot folder");
    // The panel names itself (h2), as it does inside the station's page; this page is the station's.
    let content = html! {
        h1 { (Screen::Station.label(user.lang)) }
        (hot_folder_panel(&user, &listing))
    };
    Ok(Html(layout::page(&user, Some(Screen::Station), title, content).into_string()))
}

/// What the confirmation form sends.
#[derive(Deserialize)]
struct ConfirmForm {
    back: Option<String>,
    owner: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    name: Option<String>,
}

/// What the rejection form sends.
#[derive(Deserialize)]
struct RejectForm {
    back: Option<String>,
    reason: String,
}

/// Where a form comes back to, with the outcome's query.
fn back_to(back: Option<&str>, query: &[(&str, &str)]) -> Redirect {
    Redirect::to(&super::link(super::local_path(back).unwrap_or("/station/hotfolder"), query.iter().copied()))
}

/// The refusal of an action, in the page's language, for the flash.
fn refusal(lang: Lang, error: &AppError) -> String {
    format!("{}: {}", headline(lang, error), error.client_message())
}

fn file_id(user: &WebUser, raw: &str) -> Result<HotFileId, WebError> {
    raw.parse().map_err(|e: scanner_driver::DriverError| user.error(AppError::BadRequest(e.to_string())))
}

/// `POST /station/hotfolder/{id}/confirm`: archives the file with the corrections typed.
async fn confirm(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(raw): AppPath<String>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Result<Redirect, WebError> {
    user.require(DECIDE)?;
    let Form(form) = form.map_err(|e| user.error(AppError::BadRequest(e.body_text())))?;
    let id = file_id(&user, &raw)?;
    let corrections = HotCorrections { owner: form.owner, doc_type: form.doc_type, name: form.name };
    let actor = user.user.name.clone();
    let done = blocking(&state, move |a| a.confirm_hot_file(HotConfirm { id, corrections }, &actor)).await;
    Ok(match done {
        Ok(c) => {
            back_to(form.back.as_deref(), &[("confirmed", &c.document.code), ("t", &c.document.verification_token)])
        }
        Err(e) => back_to(form.back.as_deref(), &[("error", &refusal(user.lang, &e))]),
    })
}

/// `POST /station/hotfolder/{id}/reject`: refuses the file for the reason typed.
async fn reject(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(raw): AppPath<String>,
    form: Result<Form<RejectForm>, FormRejection>,
) -> Result<Redirect, WebError> {
    user.require(DECIDE)?;
    let Form(form) = form.map_err(|e| user.error(AppError::BadRequest(e.body_text())))?;
    let id = file_id(&user, &raw)?;
    let actor = user.user.name.clone();
    let reason = form.reason;
    let done = blocking(&state, move |a| a.reject_hot_file(HotReject { id, reason }, &actor)).await;
    Ok(match done {
        Ok(r) => back_to(form.back.as_deref(), &[("rejected", &r.file_name)]),
        Err(e) => back_to(form.back.as_deref(), &[("error", &refusal(user.lang, &e))]),
    })
}

/// The hot folder's page and its actions.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/station/hotfolder", get(page))
        .route("/station/hotfolder/{id}/confirm", post(confirm))
        .route("/station/hotfolder/{id}/reject", post(reject))
}
