//! Verification over HTTP: the authenticated API (by code, or an uploaded PDF), and the public page
//! `/verify?code=…&t=…` that the QR code on a printed copy leads to.
//!
//! Codes begin with the owner's personal ID, so the public page answers only a code with its
//! verification token, or an uploaded file that is byte for byte an archived copy: proof that the
//! asker holds the paper or the file. A wrong token, an unknown code, a code without a token (copies
//! archived before tokens existed) and a malformed one all get one and the same answer, after the same
//! single lookup. With a match the page shows the verdict, the document's name and status and the
//! names of the checks: what the holder of the copy already sees; no other metadata, no hashes. Each
//! client address is rate-limited, and the page's answers are counted, not audited one by one.

use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{DocumentCode, VerificationToken};
use serde::Deserialize;

use super::client_ip::ClientIp;
use super::extract::AppPath;
use super::limits::{self, BodyLimit};
use super::{AppError, AppState, AuthUser, blocking};
use crate::VerifyReport;
use crate::config::HttpConfig;
use crate::ops::keys::PublicKeys;

/// The body limit of a verification upload: one signed copy.
fn upload_limit(http: &HttpConfig) -> BodyLimit {
    BodyLimit {
        bytes: http.max_verify_bytes,
        what: "a PDF uploaded for verification",
        stall_seconds: http.upload_stall_seconds,
    }
}

/// `GET /api/verify/{code}`.
#[utoipa::path(get, path = "/api/verify/{code}", tag = "verification", params(("code" = String, Path, description = "Document code")), responses((status = 200, body = VerifyReport)))]
pub(crate) async fn verify_code(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<DocumentCode>,
) -> Result<Json<VerifyReport>, AppError> {
    user.require(crate::verify::VERIFY)?;
    let actor = user.name;
    Ok(Json(blocking(&state, move |a| a.verify_code(&code, &actor)).await?))
}

/// `GET /api/keys`: the public seal key set (every key that ever sealed, the current one marked), for
/// verifiers outside the appliance. The same as `sohoa keys export`.
#[utoipa::path(get, path = "/api/keys", tag = "verification", responses((status = 200, body = PublicKeys)))]
pub(crate) async fn keys(State(state): State<AppState>, user: AuthUser) -> Result<Json<PublicKeys>, AppError> {
    user.require(crate::ops::keys::EXPORT)?;
    let actor = user.name;
    Ok(Json(blocking(&state, move |a| a.export_public_keys(&actor)).await?))
}

/// `POST /api/verify`: a multipart form with one `file` part, the PDF to check. The file is spooled
/// to disk while it is hashed; it is read into memory only when it is not byte for byte an archived
/// PDF, to say what differs.
#[utoipa::path(post, path = "/api/verify", tag = "verification", request_body(content_type = "multipart/form-data", description = "One `file` part: the PDF"), responses((status = 200, body = VerifyReport)))]
pub(crate) async fn verify_file(
    State(state): State<AppState>,
    user: AuthUser,
    mut form: Multipart,
) -> Result<Json<VerifyReport>, AppError> {
    user.require(crate::verify::VERIFY)?;
    let _slot = state.uploads.take()?;
    let limit = upload_limit(state.appliance.http_config());
    while let Some(part) = limit.read(form.next_field()).await? {
        if part.name() == Some("file") {
            let name = part.file_name().unwrap_or("uploaded.pdf").to_owned();
            let spooled = limits::spool(part, state.appliance.data_dir(), &limit).await?;
            let actor = user.name;
            return Ok(Json(
                blocking(&state, move |a| match a.verify_archived_file(&name, &spooled.hash, &actor)? {
                    Some(report) => Ok(report),
                    None => {
                        let bytes =
                            spooled.read().map_err(|e| anyhow::anyhow!("cannot read back the uploaded {name}: {e}"))?;
                        a.verify_file(&name, &bytes, &actor)
                    }
                })
                .await?,
            ));
        }
    }
    Err(AppError::BadRequest("the form has no part named file".into()))
}

#[derive(Deserialize)]
pub(crate) struct PageParams {
    code: Option<String>,
    /// The verification token.
    t: Option<String>,
    lang: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page's words in Vietnamese (default) and English.
struct Words {
    title: &'static str,
    prompt: &'static str,
    token: &'static str,
    button: &'static str,
    upload: &'static str,
    upload_button: &'static str,
    valid: &'static str,
    invalid: &'static str,
    /// The one answer to every code and token that do not name a document together.
    unknown: &'static str,
    /// The answer to a file that is not an archived copy.
    unknown_file: &'static str,
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
    token: "Mã xác thực",
    button: "Kiểm tra",
    upload: "Hoặc tải lên tệp PDF đã ký",
    upload_button: "Kiểm tra tệp",
    valid: "HỢP LỆ: tài liệu được lưu trữ, chữ ký niêm phong và mã băm đều đúng.",
    invalid: "KHÔNG HỢP LỆ: tài liệu không còn nguyên vẹn.",
    unknown: "Không tìm thấy tài liệu có mã và mã xác thực này. Bản in trước khi có mã xác thực: hãy tải lên tệp PDF đã ký.",
    unknown_file: "Tệp này không phải là bản điện tử được lưu trữ tại đây.",
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
    token: "Verification token",
    button: "Check",
    upload: "Or upload the signed PDF file",
    upload_button: "Check the file",
    valid: "VALID: the document is archived; its seal and hashes are intact.",
    invalid: "INVALID: the document is not intact.",
    unknown: "No document has this code and verification token. Copies printed before tokens existed carry none: upload the signed PDF file instead.",
    unknown_file: "This file is not an electronic copy archived here.",
    name: "Document name",
    status: "Status",
    statuses: ["active", "revoked", "destroyed"],
    revoked: "REVOKED: this electronic copy was revoked and is no longer valid.",
    destroyed: "DESTROYED: the document was destroyed under a decision of the valuation council.",
    other: ("vi", "Tiếng Việt"),
};

/// The language a request asks for: Vietnamese unless `lang=en`.
fn language(lang: Option<&str>) -> (&'static Words, &'static str) {
    if lang == Some("en") { (&EN, "en") } else { (&VI, "vi") }
}

/// What the public page found: a document with its report, or nothing that it may tell apart.
type Found = Option<(VerifyReport, archive::DocumentRecord)>;

/// The public page, with the result of a lookup when there was one. The forms are never filled in
/// from the request, and the link to the other language carries the code and token only with a
/// match, so that every answer without a match is the same bytes whatever was asked.
fn page(w: &Words, lang: &str, result: Option<(Found, &str)>, query: Option<String>) -> impl IntoResponse + use<> {
    let status = match &result {
        Some((None, _)) => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    let result = match result {
        None => String::new(),
        Some((None, unknown)) => format!("<p class=bad>{unknown}</p>"),
        Some((Some((report, record)), _)) => format!(
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
    };
    let html = format!(
        "<!doctype html><html lang={lang}><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>{title}</title><style>body{{font-family:sans-serif;max-width:46em;margin:2em auto}}\
         .ok{{color:#064;font-weight:bold}}.bad{{color:#a00;font-weight:bold}}</style>\
         <h1>{title}</h1><p><a href=\"/verify?lang={other_lang}{query}\">{other_name}</a></p>\
         <form method=get action=/verify><label>{prompt} <input name=code size=30></label> \
         <label>{token} <input name=t size=34 autocomplete=off></label>\
         <input type=hidden name=lang value={lang}> <button>{button}</button></form>\
         <form method=post action=\"/verify?lang={lang}\" enctype=multipart/form-data><label>{upload} \
         <input type=file name=file accept=application/pdf></label> <button>{upload_button}</button></form>{result}</html>",
        title = w.title,
        other_lang = w.other.0,
        other_name = w.other.1,
        query = query.unwrap_or_default(),
        prompt = w.prompt,
        token = w.token,
        button = w.button,
        upload = w.upload,
        upload_button = w.upload_button,
    );
    // The address holds the token: no cache may keep the page and no link may pass it on.
    (status, [(header::CACHE_CONTROL, "no-store"), (header::REFERRER_POLICY, "no-referrer")], Html(html))
}

/// `GET /verify[?code=…&t=…][&lang=en]`: public, no login. Either of code and token given makes it a
/// verification, rate-limited per client address and counted.
#[utoipa::path(get, path = "/verify", tag = "public", params(("code" = Option<String>, Query, description = "Document code"), ("t" = Option<String>, Query, description = "Verification token of the printed copy"), ("lang" = Option<String>, Query, description = "`en` for English")), responses((status = 200, description = "The verification page (HTML)", content_type = "text/html")), security(()))]
pub(crate) async fn public_page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Query(params): Query<PageParams>,
) -> Result<impl IntoResponse, AppError> {
    let (w, lang) = language(params.lang.as_deref());
    let asked = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let (code, token) = (asked(&params.code), asked(&params.t));
    if code.is_none() && token.is_none() {
        return Ok(page(w, lang, None, None));
    }
    state.public.admit(client)?;
    // A malformed code or token, or a missing one, names no document: the same lookup of a key that
    // is never stored keeps its answer and its cost those of a wrong token.
    let code =
        code.and_then(|c| c.parse::<DocumentCode>().ok()).unwrap_or_else(|| NO_CODE.parse().expect("a valid code"));
    let token = token
        .and_then(|t| t.parse::<VerificationToken>().ok())
        .unwrap_or_else(|| VerificationToken::from_random([0; 16]));
    let query = format!("&code={code}&t={token}");
    let found = blocking(&state, move |a| a.verify_by_token(&code, &token)).await?;
    state.public.answered(found.is_some());
    let query = found.is_some().then_some(query);
    Ok(page(w, lang, Some((found, w.unknown)), query))
}

/// The code looked up for a request that gave none or a malformed one: a valid code without the
/// counter that the archive gives every code it allocates, so no token is ever committed with it.
const NO_CODE: &str = ".X";

#[derive(Deserialize)]
pub(crate) struct UploadParams {
    lang: Option<String>,
}

/// `POST /verify[?lang=en]`: public, no login; a multipart form with one `file` part. Only a file
/// that is byte for byte an archived PDF matches: its hash is computed as it arrives and nothing
/// of it is kept, so the cost is the upload itself, within the verification upload limit.
#[utoipa::path(post, path = "/verify", tag = "public", request_body(content_type = "multipart/form-data", description = "One `file` part: the signed PDF"), responses((status = 200, description = "The verification page (HTML)", content_type = "text/html")), security(()))]
pub(crate) async fn public_upload(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Query(params): Query<UploadParams>,
    mut form: Multipart,
) -> Result<impl IntoResponse, AppError> {
    let (w, lang) = language(params.lang.as_deref());
    state.public.admit(client)?;
    let _slot = state.public_uploads.take()?;
    let limit = upload_limit(state.appliance.http_config());
    while let Some(part) = limit.read(form.next_field()).await? {
        if part.name() == Some("file") {
            let name = part.file_name().unwrap_or("uploaded.pdf").to_owned();
            let hash = limits::hash_only(part, &limit).await?;
            let found = blocking(&state, move |a| a.verify_public_file(&name, &hash)).await?;
            state.public.answered(found.is_some());
            return Ok(page(w, lang, Some((found, w.unknown_file)), None));
        }
    }
    Err(AppError::BadRequest("the form has no part named file".into()))
}

/// Verification routes; uploads are bounded by `http`.
pub fn router(http: &HttpConfig) -> Router<AppState> {
    let upload = upload_limit(http);
    Router::new()
        .route("/api/verify", upload.apply(post(verify_file)))
        .route("/api/verify/{code}", get(verify_code))
        .route("/api/keys", get(keys))
        .route("/verify", upload.apply(get(public_page).post(public_upload)))
}
