//! The reuse screen (`/reuse`, R10): a citizen's personal ID (and, if wanted, a document type and the
//! day they must be in force on) lists what that citizen already handed in or was issued that is
//! still in force, each verified now; a form under each records that a new dossier reuses it instead
//! of a resubmitted copy (`POST /reuse`), and the screen then says it was recorded. With a province
//! index configured, the province's other offices are asked too: their documents are shown beside,
//! each with its office and the mark that it verified here, and those that did not with the reason.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{Html, Redirect};
use axum::routing::get;
use chrono::NaiveDate;
use domain::{DocumentCode, DocumentTypeCode, DossierCode, OwnerId};
use maud::{Markup, html};
use serde::Deserialize;

use super::super::{AppError, AppState, blocking};
use super::checks::check_name;
use super::document::{badge, status_badge};
use super::error::WebError;
use super::lang::{self, Lang};
use super::layout::{self, Screen};
use super::province;
use super::user::WebUser;
use crate::ops::documents::READ;
use crate::ops::province::ProvinceReuse;
use crate::reuse::{LOOKUP, RECORD, ReuseCandidate, ReuseLookup};

/// The screen's query: the lookup, and the outcome of a reuse just posted. Every field is text, so
/// that a wrong value is said next to its field instead of refusing the page.
#[derive(Debug, Default, Deserialize)]
struct Asked {
    owner: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    valid_on: Option<String>,
    /// The document whose reuse was posted.
    code: Option<String>,
    /// The dossier it was recorded for.
    recorded: Option<String>,
    /// Why the reuse was refused: `dossier` (not a dossier code), or the operation's message.
    refused: Option<String>,
}

/// A lookup's fields, each parsed or with what is wrong with it.
struct Fields {
    owner: Result<OwnerId, String>,
    doc_type: Result<Option<DocumentTypeCode>, String>,
    valid_on: Result<NaiveDate, String>,
}

/// A field's value, trimmed, when it says anything.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Asked {
    fn fields(&self) -> Option<Fields> {
        let owner = text(&self.owner)?;
        Some(Fields {
            owner: owner.parse().map_err(|e: domain::DomainError| e.to_string()),
            doc_type: text(&self.doc_type).map(str::parse).transpose().map_err(|e: domain::DomainError| e.to_string()),
            valid_on: match text(&self.valid_on) {
                Some(day) => lang::parse_day(day).ok_or_else(|| format!("{day:?}")),
                None => Ok(domain::vietnam_now().date_naive()),
            },
        })
    }
}

/// `GET /reuse[?owner=…&type=…&valid_on=…]`.
async fn screen(
    State(state): State<AppState>,
    user: WebUser,
    Query(asked): Query<Asked>,
) -> Result<Html<String>, WebError> {
    user.require(LOOKUP)?;
    let lang = user.lang;
    let fields = asked.fields();
    let found = match &fields {
        Some(Fields { owner: Ok(owner), doc_type: Ok(doc_type), valid_on: Ok(day) }) => {
            let (owner, doc_type, day, actor) = (owner.clone(), doc_type.clone(), *day, user.user.name.clone());
            // With a province index, the other offices are asked too, beside the archive.
            let lookup = move |a: &crate::Appliance| match a.has_province_index() {
                true => a.province_reuse(&owner, doc_type.as_ref(), day, &actor).map(Found::Province),
                false => a.reuse(&owner, doc_type.as_ref(), day, &actor).map(Found::Local),
            };
            Some(blocking(&state, lookup).await.map_err(|e| user.error(e))?)
        }
        _ => None,
    };
    let error = |field: Option<Result<(), &String>>, id: &str, what: &str| -> Markup {
        html! {
            @if let Some(Err(why)) = field {
                p.field-error id=(id) { (what) " (" (why) ")" }
            }
        }
    };
    let owner_error = fields.as_ref().map(|f| f.owner.as_ref().map(|_| ()));
    let type_error = fields.as_ref().map(|f| f.doc_type.as_ref().map(|_| ()));
    let day_error = fields.as_ref().map(|f| f.valid_on.as_ref().map(|_| ()));
    let invalid = |field: &Option<Result<(), &String>>| matches!(field, Some(Err(_))).then_some("true");
    let title = lang.t("Tái sử dụng giấy tờ đã nộp", "Reuse documents already handed in");
    let content = html! {
        h1 { (title) }
        (outcome(lang, &asked))
        form.card.inline method="get" action="/reuse" {
            p {
                label for="owner" { (lang.t("Số định danh cá nhân hoặc mã số thuế", "Personal ID or tax code")) }
                input #owner name="owner" value=[asked.owner.as_deref()] required inputmode="numeric" autocomplete="off"
                    autofocus[found.is_none()] aria-invalid=[invalid(&owner_error)] aria-describedby=[invalid(&owner_error).map(|_| "owner-error")];
            }
            p {
                label for="type" { (lang.t("Loại tài liệu (không bắt buộc)", "Document type (optional)")) }
                input #type name="type" value=[asked.doc_type.as_deref()] size="10"
                    aria-invalid=[invalid(&type_error)] aria-describedby=[invalid(&type_error).map(|_| "type-error")];
            }
            p {
                label for="valid_on" { (lang.t("Còn hiệu lực vào ngày (mặc định hôm nay)", "In force on (today if empty)")) }
                input #valid_on name="valid_on" value=[asked.valid_on.as_deref()] size="10" placeholder="dd/mm/yyyy"
                    inputmode="numeric" pattern=r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}"
                    aria-invalid=[invalid(&day_error)] aria-describedby=[invalid(&day_error).map(|_| "valid-on-error")];
            }
            p { button type="submit" { (lang.t("Tra cứu", "Look up")) } }
        }
        (error(owner_error, "owner-error", lang.t("Số định danh không hợp lệ", "Not a personal ID or tax code")))
        (error(type_error, "type-error", lang.t("Mã loại tài liệu không hợp lệ", "Not a document type code")))
        (error(day_error, "valid-on-error", lang.t("Ngày không hợp lệ, cần dạng dd/mm/yyyy", "Not a day, dd/mm/yyyy")))
        @if let Some(found) = &found {
            (results(&user, &asked, found.local()))
            @if let Found::Province(p) = found {
                (province::offers(lang, &p.offers, &p.refused, p.province_unavailable.is_some(),
                    lang.t("Các cơ quan khác chưa có tài liệu nào còn hiệu lực của công dân.", "The other offices hold no document of this citizen in force.")))
            }
        }
    };
    Ok(Html(layout::page(&user, Some(Screen::Reuse), title, content).into_string()))
}

/// What a lookup found: in the archive, and at the province's other offices when it is asked.
enum Found {
    Local(ReuseLookup),
    Province(ProvinceReuse),
}

impl Found {
    fn local(&self) -> &ReuseLookup {
        match self {
            Found::Local(local) => local,
            Found::Province(province) => &province.local,
        }
    }
}

/// What became of the reuse just posted, if one was.
fn outcome(lang: Lang, asked: &Asked) -> Markup {
    let code = text(&asked.code).unwrap_or_default();
    html! {
        @if let Some(dossier) = text(&asked.recorded) {
            p.flash role="status" {
                "✓ " (lang.t("Đã ghi nhận: hồ sơ", "Recorded: dossier")) " " strong { (dossier) } " "
                (lang.t("tái sử dụng tài liệu", "reuses document")) " " code { (code) } "."
            }
        }
        @if let Some(why) = text(&asked.refused) {
            p.flash.bad #reuse-refused role="alert" {
                "✗ " (lang.t("Không ghi nhận được việc tái sử dụng", "The reuse was not recorded")) " (" code { (code) } "): "
                @if why == "dossier" {
                    (lang.t("mã hồ sơ không hợp lệ, cần dạng H56.14-241011-0001.", "not a dossier code; it looks like H56.14-241011-0001."))
                } @else { (why) }
            }
        }
    }
}

/// The documents found, each with its verification and the form that records its reuse.
fn results(user: &WebUser, asked: &Asked, found: &ReuseLookup) -> Markup {
    let lang = user.lang;
    let heading = match lang {
        Lang::Vi => format!("{} tài liệu còn hiệu lực ngày {}", found.documents.len(), lang::date(found.valid_on)),
        Lang::En => format!("{} documents in force on {}", found.documents.len(), lang::date(found.valid_on)),
    };
    html! {
        h2 { (heading) }
        @if found.documents.is_empty() {
            p.muted { (lang.t("Công dân chưa có tài liệu nào còn hiệu lực trong kho.", "The archive holds no document of this citizen in force.")) }
        }
        @for (i, c) in found.documents.iter().enumerate() {
            (candidate(user, asked, i, c))
        }
    }
}

/// One document found: what it is, its verification and standing, and the reuse form (for a verified
/// document, to the roles that may record a reuse).
fn candidate(user: &WebUser, asked: &Asked, i: usize, c: &ReuseCandidate) -> Markup {
    let lang = user.lang;
    let d = &c.document;
    let code = d.code.to_string();
    let dossier_id = format!("dossier-{i}");
    let just_refused = text(&asked.refused).is_some() && text(&asked.code) == Some(code.as_str());
    html! {
        article.card.reuse-item aria-labelledby=(format!("doc-{i}")) {
            h3 #(format!("doc-{i}")) {
                @if user.may(READ) { a href=(format!("/documents/{code}")) { (d.name) } } @else { (d.name) }
            }
            p {
                @if c.verified {
                    (badge(true, lang.t("Đã xác thực", "Verified")))
                } @else {
                    (badge(false, lang.t("Xác thực không đạt", "Verification failed")))
                    " " span.bad { (c.failed_checks.iter().map(|n| check_name(lang, n)).collect::<Vec<_>>().join(", ")) }
                }
                " " (status_badge(lang, d.status.as_str()))
            }
            dl.facts {
                dt { (lang.t("Mã tài liệu", "Document code")) } dd { code { (code) } }
                dt { (lang.t("Loại", "Type")) } dd { (d.doc_type) }
                @if !d.number.is_empty() { dt { (lang.t("Số, ký hiệu", "Number")) } dd { (d.number) } }
                @if !d.issuing_body.is_empty() { dt { (lang.t("Cơ quan ban hành", "Issuing body")) } dd { (d.issuing_body) } }
                @if let Some(day) = d.issue_date { dt { (lang.t("Ngày ban hành", "Issued on")) } dd { (lang::date(day)) } }
                dt { (lang.t("Hiệu lực", "Valid")) }
                dd {
                    @match d.valid_until {
                        Some(day) => { (lang.t("đến hết ngày", "until the end of")) " " (lang::date(day)) },
                        None => (lang.t("không thời hạn", "without end")),
                    }
                }
            }
            @if user.may(RECORD) && c.verified {
                form.inline method="post" action="/reuse" {
                    (layout::csrf_field(user))
                    input type="hidden" name="code" value=(code);
                    input type="hidden" name="owner" value=(text(&asked.owner).unwrap_or_default());
                    @if let Some(t) = text(&asked.doc_type) { input type="hidden" name="type" value=(t); }
                    @if let Some(v) = text(&asked.valid_on) { input type="hidden" name="valid_on" value=(v); }
                    p {
                        label for=(dossier_id) { (lang.t("Mã hồ sơ mới", "New dossier code")) }
                        input id=(dossier_id) name="dossier" required placeholder="H56.14-241011-0001"
                            aria-invalid=[just_refused.then_some("true")] aria-describedby=[just_refused.then_some("reuse-refused")];
                    }
                    p { button type="submit" { (lang.t("Tái sử dụng cho hồ sơ này", "Reuse in this dossier")) } }
                }
            }
        }
    }
}

/// A reuse posted from the screen, with the lookup to come back to.
#[derive(Debug, Deserialize)]
struct Posted {
    code: String,
    dossier: String,
    owner: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    valid_on: Option<String>,
}

/// `POST /reuse`: records the reuse, then back to the lookup with the outcome (Post/Redirect/Get).
async fn record(
    State(state): State<AppState>,
    user: WebUser,
    form: Result<Form<Posted>, axum::extract::rejection::FormRejection>,
) -> Result<Redirect, WebError> {
    user.require(RECORD)?;
    let Form(posted) = form.map_err(|e| user.error(AppError::BadRequest(e.body_text())))?;
    let code: DocumentCode =
        posted.code.trim().parse().map_err(|e: domain::DomainError| user.error(AppError::BadRequest(e.to_string())))?;
    let outcome = match posted.dossier.trim().parse::<DossierCode>() {
        Err(_) => ("refused", "dossier".to_owned()),
        Ok(dossier) => {
            let (code, actor) = (code.clone(), user.user.name.clone());
            match blocking(&state, move |a| a.record_reuse(&code, &dossier, &actor)).await {
                Ok(done) => ("recorded", done.dossier),
                // The document is no longer in force: said on the screen, in the operation's words.
                Err(AppError::BadRequest(why)) => ("refused", why),
                Err(e) => return Err(user.error(e)),
            }
        }
    };
    let code = code.to_string();
    let asked = [("owner", &posted.owner), ("type", &posted.doc_type), ("valid_on", &posted.valid_on)];
    let asked = asked.into_iter().filter_map(|(key, value)| text(value).map(|value| (key, value)));
    Ok(Redirect::to(&super::link("/reuse", asked.chain([("code", code.as_str()), (outcome.0, outcome.1.as_str())]))))
}

/// The reuse screen and its form.
pub fn router() -> Router<AppState> {
    Router::new().route("/reuse", get(screen).post(record))
}
