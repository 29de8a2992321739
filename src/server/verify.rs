//! Verification over HTTP: the authenticated API (by code, or an uploaded PDF), and the public page
//! `/verify?code=…` that the QR code on a printed copy leads to. The public page says whether the
//! document is archived and intact and shows its name, status and the names of the checks; it shows
//! no other metadata and no hashes.

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::response::Html;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::DocumentCode;
use serde::Deserialize;

use super::{AppError, AppState, AuthUser, blocking};
use crate::users::Role;
use crate::{ApplianceError, VerifyReport};

/// Largest PDF accepted for verification.
const MAX_VERIFY_BYTES: usize = 1 << 30;

/// `GET /api/verify/{code}`.
async fn verify_code(State(state): State<AppState>, user: AuthUser, Path(raw): Path<String>) -> Result<Json<VerifyReport>, AppError> {
    user.require(&Role::ALL, "verify documents")?;
    let code: DocumentCode = raw.parse().map_err(|e: domain::DomainError| AppError::BadRequest(e.to_string()))?;
    let actor = user.name;
    Ok(Json(blocking(&state, move |a| a.verify_code(&code, &actor)).await?))
}

/// `GET /api/keys`: the public seal key set (every key that ever sealed, the current one marked), for
/// verifiers outside the appliance. The same as `sohoa keys export`.
async fn keys(State(state): State<AppState>, user: AuthUser) -> Result<Json<serde_json::Value>, AppError> {
    user.require(&Role::ALL, "read the public seal keys")?;
    let actor = user.name;
    Ok(Json(blocking(&state, move |a| a.export_public_keys(&actor)).await?))
}

/// `POST /api/verify`: a multipart form with one `file` part, the PDF to check.
async fn verify_file(State(state): State<AppState>, user: AuthUser, mut form: Multipart) -> Result<Json<VerifyReport>, AppError> {
    user.require(&Role::ALL, "verify documents")?;
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(format!("malformed form: {e}"));
    while let Some(part) = form.next_field().await.map_err(bad)? {
        if part.name() == Some("file") {
            let name = part.file_name().unwrap_or("uploaded.pdf").to_owned();
            let bytes = part.bytes().await.map_err(bad)?.to_vec();
            let actor = user.name;
            return Ok(Json(blocking(&state, move |a| a.verify_file(&name, &bytes, &actor)).await?));
        }
    }
    Err(AppError::BadRequest("the form has no part named file".into()))
}

#[derive(Deserialize)]
struct PageParams {
    code: Option<String>,
    lang: Option<String>,
}

/// Percent-encodes a query parameter value.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page's words in Vietnamese (default) and English.
struct Words {
    title: &'static str,
    prompt: &'static str,
    button: &'static str,
    valid: &'static str,
    invalid: &'static str,
    unknown: &'static str,
    name: &'static str,
    status: &'static str,
    /// Names of the statuses: active, revoked, destroyed.
    statuses: [&'static str; 3],
    revoked: &'static str,
    destroyed: &'static str,
    other: (&'static str, &'static str),
}

impl Words {
    fn status(&self, status: &archive::DocumentStatus) -> &'static str {
        match status {
            archive::DocumentStatus::Active => self.statuses[0],
            archive::DocumentStatus::Revoked(_) => self.statuses[1],
            archive::DocumentStatus::Destroyed(_) => self.statuses[2],
        }
    }

    /// The verdict: a revoked or destroyed document is named as such, whatever else holds.
    fn verdict(&self, status: &archive::DocumentStatus, valid: bool) -> &'static str {
        match status {
            archive::DocumentStatus::Revoked(_) => self.revoked,
            archive::DocumentStatus::Destroyed(_) => self.destroyed,
            archive::DocumentStatus::Active if valid => self.valid,
            archive::DocumentStatus::Active => self.invalid,
        }
    }
}

const VI: Words = Words {
    title: "Xác thực bản điện tử",
    prompt: "Mã tài liệu",
    button: "Kiểm tra",
    valid: "HỢP LỆ: tài liệu được lưu trữ, chữ ký niêm phong và mã băm đều đúng.",
    invalid: "KHÔNG HỢP LỆ: tài liệu không còn nguyên vẹn.",
    unknown: "Không tìm thấy tài liệu có mã này.",
    name: "Tên tài liệu",
    status: "Trạng thái",
    statuses: ["còn hiệu lực", "đã thu hồi", "đã tiêu huỷ"],
    revoked: "ĐÃ THU HỒI: bản điện tử này đã bị thu hồi và không còn giá trị sử dụng.",
    destroyed: "ĐÃ TIÊU HUỶ: tài liệu đã được tiêu huỷ theo quyết định của Hội đồng xác định giá trị tài liệu.",
    other: ("en", "English"),
};

const EN: Words = Words {
    title: "Verify an electronic copy",
    prompt: "Document code",
    button: "Check",
    valid: "VALID: the document is archived; its seal and hashes are intact.",
    invalid: "INVALID: the document is not intact.",
    unknown: "No document has this code.",
    name: "Document name",
    status: "Status",
    statuses: ["active", "revoked", "destroyed"],
    revoked: "REVOKED: this electronic copy was revoked and is no longer valid.",
    destroyed: "DESTROYED: the document was destroyed under a decision of the valuation council.",
    other: ("vi", "Tiếng Việt"),
};

/// `GET /verify?code=…[&lang=en]`: public, no login.
async fn page(State(state): State<AppState>, Query(params): Query<PageParams>) -> Result<Html<String>, AppError> {
    let (w, lang) = if params.lang.as_deref() == Some("en") { (&EN, "en") } else { (&VI, "vi") };
    let code_text = params.code.clone().unwrap_or_default();
    let mut body = format!(
        "<form method=get><label>{prompt} <input name=code value=\"{value}\" size=40></label>\
         <input type=hidden name=lang value={lang}> <button>{button}</button></form>",
        prompt = w.prompt,
        value = escape(&code_text),
        button = w.button,
    );
    if let Some(raw) = params.code.filter(|c| !c.trim().is_empty()) {
        let result = match raw.trim().parse::<DocumentCode>() {
            Err(e) => format!("<p class=bad>{}</p>", escape(&e.to_string())),
            Ok(code) => {
                let outcome = blocking(&state, move |a| match a.record(&code) {
                    Ok(record) => Ok(Some((a.verify_record(&record, "public")?, record))),
                    Err(ApplianceError::NotFound(_)) => Ok(None),
                    Err(e) => Err(e),
                })
                .await?;
                match outcome {
                    None => format!("<p class=bad>{}</p>", w.unknown),
                    Some((report, record)) => format!(
                        "<p class={cls}>{verdict}</p><dl><dt>{name_label}</dt><dd>{name}</dd><dt>{status_label}</dt><dd>{status}</dd></dl><ul>{checks}</ul>",
                        cls = if report.valid { "ok" } else { "bad" },
                        verdict = w.verdict(&record.status, report.valid),
                        name_label = w.name,
                        name = escape(record.metadata.name()),
                        status_label = w.status,
                        status = w.status(&record.status),
                        checks = report
                            .checks
                            .iter()
                            .map(|c| format!("<li>{} {}</li>", if c.passed { "✔" } else { "✘" }, escape(&c.name)))
                            .collect::<String>(),
                    ),
                }
            }
        };
        body.push_str(&result);
    }
    Ok(Html(format!(
        "<!doctype html><html lang={lang}><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>{title}</title><style>body{{font-family:sans-serif;max-width:46em;margin:2em auto}}\
         .ok{{color:#064;font-weight:bold}}.bad{{color:#a00;font-weight:bold}}</style>\
         <h1>{title}</h1><p><a href=\"?lang={other_lang}&code={code}\">{other_name}</a></p>{body}</html>",
        title = w.title,
        other_lang = w.other.0,
        other_name = w.other.1,
        code = url_encode(&code_text),
    )))
}

/// Verification routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/verify", post(verify_file).layer(DefaultBodyLimit::max(MAX_VERIFY_BYTES)))
        .route("/api/verify/{code}", get(verify_code))
        .route("/api/keys", get(keys))
        .route("/verify", get(page))
}
