//! The public verification page `/verify`, the one page anyone may open without a login: the QR code
//! on a printed copy leads here (`/verify?code=…&t=…`), a person can type the code and token printed
//! on the copy, scan the QR code with the PC's camera (`verify.js`), or upload the signed PDF.
//!
//! Codes begin with the owner's personal ID, so the page answers only a code with its verification
//! token, or a file that carries them: a wrong token, an unknown code, a code without a token and a
//! malformed one all get one and the same answer, after the same single lookup. An uploaded file is
//! authentic when it is byte for byte an archived copy, and altered when it differs but carries the
//! verification link of a copy (what its QR code says). With a match the page shows the verdict, the
//! document's name and status and the names of the checks: what the holder of the copy already sees;
//! no other metadata, no hashes. Each client address is rate-limited, and the page's answers are
//! counted, not audited one by one.

use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use domain::{DocumentCode, VerificationToken};
use maud::{Markup, html};
use serde::Deserialize;

use super::super::client_ip::ClientIp;
use super::super::limits;
use super::super::verify::upload_limit;
use super::super::{AppError, AppState, blocking};
use super::checks::check_name;
use super::lang::{self, Lang};
use super::{assets, layout};
use crate::VerifyReport;
use crate::config::HttpConfig;
use crate::verify::Verified;
use archive::DocumentStatus;

/// What a verification found.
type Found = Option<(VerifyReport, Verified)>;

/// The page's answer, in the words a citizen understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The copy is archived here, intact and in force.
    Authentic,
    /// The file differs from the copy it claims to be.
    Altered,
    /// The archived record itself fails a check.
    Invalid,
    /// Revoked (R7).
    Revoked,
    /// Destroyed by disposition.
    Destroyed,
    /// Captured with its pages sealed; the signed copy is being made.
    BeingMade,
    /// Nothing here matches.
    Unknown,
}

impl Verdict {
    fn of(found: &Found) -> Verdict {
        let Some((report, verified)) = found else { return Verdict::Unknown };
        let record = match verified {
            Verified::Captured(_) => return Verdict::BeingMade,
            Verified::Archived(record) => record,
        };
        let file_differs = report.checks.iter().any(|c| c.name == "PDF file" && !c.passed);
        match &record.status {
            DocumentStatus::Revoked(_) => Verdict::Revoked,
            DocumentStatus::Destroyed(_) => Verdict::Destroyed,
            DocumentStatus::Active if file_differs => Verdict::Altered,
            DocumentStatus::Active if report.valid => Verdict::Authentic,
            DocumentStatus::Active => Verdict::Invalid,
        }
    }

    fn headline(self, lang: Lang) -> &'static str {
        match self {
            Verdict::Authentic => lang.t("HỢP LỆ", "AUTHENTIC"),
            Verdict::Altered => lang.t("ĐÃ BỊ SỬA ĐỔI", "ALTERED"),
            Verdict::Invalid => lang.t("KHÔNG HỢP LỆ", "INVALID"),
            Verdict::Revoked => lang.t("ĐÃ THU HỒI", "REVOKED"),
            Verdict::Destroyed => lang.t("ĐÃ TIÊU HỦY", "DESTROYED"),
            Verdict::BeingMade => lang.t("ĐANG TẠO BẢN ĐIỆN TỬ", "BEING MADE"),
            Verdict::Unknown => lang.t("KHÔNG TÌM THẤY", "UNKNOWN"),
        }
    }

    fn explanation(self, lang: Lang, from_file: bool) -> &'static str {
        match self {
            Verdict::Authentic => lang.t(
                "Bản điện tử này được lưu trữ tại đây; chữ ký niêm phong và mã băm đều đúng, và tài liệu còn hiệu lực.",
                "This electronic copy is archived here; its seal and hashes are intact, and the document is in force.",
            ),
            Verdict::Altered => lang.t(
                "Tệp này mang mã của một bản điện tử được lưu trữ tại đây nhưng không giống bản đã ký: nó đã bị sửa sau khi ký và không có giá trị.",
                "This file carries the code of an electronic copy archived here but differs from the signed copy: it was changed after signing and has no value.",
            ),
            Verdict::Invalid => lang.t(
                "Bản lưu trữ của tài liệu này không còn nguyên vẹn; hãy liên hệ cơ quan đã cấp bản sao.",
                "The archived record of this document is not intact; contact the agency that issued the copy.",
            ),
            Verdict::Revoked => lang.t(
                "Bản điện tử này đã bị thu hồi và không còn giá trị sử dụng.",
                "This electronic copy was revoked and is no longer valid.",
            ),
            Verdict::Destroyed => lang.t(
                "Tài liệu đã được tiêu hủy theo quyết định của Hội đồng xác định giá trị tài liệu.",
                "The document was destroyed under a decision of the valuation council.",
            ),
            Verdict::BeingMade => lang.t(
                "Giấy tờ đã được tiếp nhận và các trang đã được niêm phong; bản điện tử có chữ ký số đang được tạo. Hãy kiểm tra lại sau ít phút.",
                "The document was received and its pages are sealed; its digitally signed copy is being made. Check again in a few minutes.",
            ),
            Verdict::Unknown if from_file => lang.t(
                "Tệp này không phải là bản điện tử được lưu trữ tại đây.",
                "This file is not an electronic copy archived here.",
            ),
            Verdict::Unknown => lang.t(
                "Không có tài liệu nào có mã và mã xác thực này. Bản in trước khi có mã xác thực: hãy tải lên tệp PDF đã ký.",
                "No document has this code and verification token. Copies printed before tokens existed carry none: upload the signed PDF file instead.",
            ),
        }
    }

    fn class(self) -> &'static str {
        match self {
            Verdict::Authentic => "ok",
            Verdict::BeingMade => "pending",
            _ => "bad",
        }
    }
}

fn status_name(lang: Lang, status: &DocumentStatus) -> String {
    match status {
        DocumentStatus::Active => lang.t("còn hiệu lực", "in force").to_owned(),
        DocumentStatus::Revoked(r) => format!("{} {}", lang.t("đã thu hồi ngày", "revoked on"), lang::time(r.at)),
        DocumentStatus::Destroyed(d) => {
            format!("{} {}", lang.t("đã tiêu hủy ngày", "destroyed on"), lang::time(d.at))
        }
    }
}

/// The answer to one verification, if one was asked.
struct Answer {
    found: Found,
    from_file: bool,
}

fn page(lang: Lang, here: &str, answer: Option<Answer>) -> impl IntoResponse + use<> {
    let status = match &answer {
        Some(Answer { found: None, .. }) => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    let title = lang.t("Xác thực bản điện tử", "Verify an electronic copy");
    let content = html! {
        h1 { (title) }
        p { (lang.t(
            "Kiểm tra một bản sao điện tử do cơ quan cấp: nhập mã in trên bản sao, quét mã QR, hoặc tải lên tệp PDF đã ký. Không cần đăng nhập.",
            "Check an electronic copy issued by the agency: type the codes printed on the copy, scan its QR code, or upload the signed PDF file. No login is needed.",
        )) }
        @if let Some(answer) = &answer { (result(lang, answer)) }
        div.grid {
            section.card aria-labelledby="by-code" {
                h2 #by-code { (lang.t("Nhập mã trên bản sao", "Type the codes on the copy")) }
                form method="get" action="/verify" {
                    input type="hidden" name="lang" value=(lang.code());
                    p {
                        label for="code" { (lang.t("Mã tài liệu", "Document code")) }
                        input #code name="code" size="30" autocomplete="off" spellcheck="false";
                    }
                    p {
                        label for="t" { (lang.t("Mã xác thực", "Verification token")) }
                        input #t name="t" size="34" autocomplete="off" spellcheck="false";
                    }
                    p { button type="submit" { (lang.t("Kiểm tra", "Check")) } }
                }
            }
            section.card aria-labelledby="by-qr" {
                h2 #by-qr { (lang.t("Quét mã QR", "Scan the QR code")) }
                p { (lang.t(
                    "Mã QR trên bản sao dẫn tới trang này: quét bằng camera điện thoại, hoặc bằng camera của máy tính.",
                    "The QR code on the copy leads to this page: scan it with a phone's camera, or with this computer's camera.",
                )) }
                div #camera hidden {
                    p {
                        button #camera-start type="button" data-decoder=(assets::url("jsqr.min.js")) {
                            (lang.t("Quét bằng camera", "Scan with the camera"))
                        }
                        " "
                        button.secondary #camera-stop type="button" hidden { (lang.t("Dừng", "Stop")) }
                    }
                    video #camera-video hidden muted playsinline aria-label=(lang.t("Hình ảnh camera", "Camera picture")) {}
                    p #camera-status role="status" aria-live="polite" {}
                }
            }
            section.card aria-labelledby="by-file" {
                h2 #by-file { (lang.t("Tải lên tệp PDF đã ký", "Upload the signed PDF file")) }
                form method="post" action=(format!("/verify?lang={}", lang.code())) enctype="multipart/form-data" {
                    p {
                        label for="file" { (lang.t("Tệp PDF", "PDF file")) }
                        input #file type="file" name="file" accept="application/pdf" required;
                    }
                    p { button type="submit" { (lang.t("Kiểm tra tệp", "Check the file")) } }
                }
            }
        }
        script src=(assets::url("verify.js")) defer {}
    };
    // The address holds the token: no cache may keep the page and no link may pass it on.
    (
        status,
        [(header::CACHE_CONTROL, "no-store"), (header::REFERRER_POLICY, "no-referrer")],
        Html(layout::bare(lang, here, title, content).into_string()),
    )
}

fn result(lang: Lang, answer: &Answer) -> Markup {
    let verdict = Verdict::of(&answer.found);
    html! {
        section.card.verdict #verdict role="status" aria-labelledby="verdict-title" {
            h2 #verdict-title class=(verdict.class()) { (verdict.headline(lang)) }
            p { (verdict.explanation(lang, answer.from_file)) }
            @if let Some((report, verified)) = &answer.found {
                @let (metadata, code, status) = match verified {
                    Verified::Archived(r) => (&r.metadata, &r.code, status_name(lang, &r.status)),
                    Verified::Captured(c) => (
                        &c.metadata,
                        &c.code,
                        format!("{} {}", lang.t("đã tiếp nhận lúc", "received at"), lang::time(c.captured_at)),
                    ),
                };
                dl {
                    dt { (lang.t("Tên tài liệu", "Document name")) }
                    dd { (metadata.name()) }
                    dt { (lang.t("Mã tài liệu", "Document code")) }
                    dd { (code.to_string()) }
                    dt { (lang.t("Trạng thái", "Status")) }
                    dd { (status) }
                }
                h3 { (lang.t("Các bước kiểm tra", "Checks")) }
                ul.checks {
                    @for check in &report.checks {
                        li class=(if check.passed { "ok" } else { "bad" }) {
                            (if check.passed { "✔ " } else { "✘ " })
                            (check_name(lang, &check.name))
                        }
                    }
                }
            }
        }
    }
}

/// The public page's query: a code and token to check, and the language.
#[derive(Deserialize)]
pub(crate) struct PageParams {
    code: Option<String>,
    t: Option<String>,
}

/// The code looked up for a request that gave none or a malformed one: a valid code without the
/// counter that the archive gives every code it allocates, so no token is ever committed with it.
const NO_CODE: &str = ".X";

/// `GET /verify[?code=…&t=…][&lang=en]`: public, no login. Either of code and token given makes it a
/// verification, taken from the client's rate.
#[utoipa::path(get, path = "/verify", tag = "public", params(("code" = Option<String>, Query, description = "Document code"), ("t" = Option<String>, Query, description = "Verification token of the printed copy"), ("lang" = Option<String>, Query, description = "`en` for English")), responses((status = 200, description = "The verification page (HTML)", content_type = "text/html")), security(()))]
pub(crate) async fn public_page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    lang: Lang,
    Query(params): Query<PageParams>,
) -> Result<impl IntoResponse, AppError> {
    let asked = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let (code, token) = (asked(&params.code), asked(&params.t));
    if code.is_none() && token.is_none() {
        return Ok(page(lang, "/verify", None));
    }
    state.public.admit(client)?;
    // A malformed code or token, or a missing one, names no document: the same lookup of a key that
    // is never stored keeps its answer and its cost those of a wrong token.
    let code =
        code.and_then(|c| c.parse::<DocumentCode>().ok()).unwrap_or_else(|| NO_CODE.parse().expect("a valid code"));
    let token = token
        .and_then(|t| t.parse::<VerificationToken>().ok())
        .unwrap_or_else(|| VerificationToken::from_random([0; 16]));
    let here = format!("/verify?code={code}&t={token}");
    let found = blocking(&state, move |a| a.verify_by_token(&code, &token)).await?;
    state.public.answered(found.is_some());
    let here = if found.is_some() { here } else { "/verify".to_owned() };
    Ok(page(lang, &here, Some(Answer { found, from_file: false })))
}

/// `POST /verify[?lang=en]`: public, no login; a multipart form with one `file` part, spooled within
/// the verification upload limit and removed after. The file's hash decides whether it is an
/// archived copy; otherwise the verification link it carries, if any, is looked up like a code and
/// token typed in. The cost is the upload and one pass over its bytes, within that limit, a mebibyte of
/// it in memory at a time.
#[utoipa::path(post, path = "/verify", tag = "public", request_body(content_type = "multipart/form-data", description = "One `file` part: the signed PDF"), responses((status = 200, description = "The verification page (HTML)", content_type = "text/html")), security(()))]
pub(crate) async fn public_upload(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    lang: Lang,
    mut form: Multipart,
) -> Result<impl IntoResponse, AppError> {
    state.public.admit(client)?;
    let _slot = state.public_uploads.take()?;
    let limit = upload_limit(state.appliance.http_config());
    while let Some(part) = limit.read(form.next_field()).await? {
        if part.name() == Some("file") {
            let name = part.file_name().unwrap_or("uploaded.pdf").to_owned();
            let spooled = limits::spool(part, state.appliance.data_dir(), &limit).await?;
            let found = blocking(&state, move |a| {
                let link = spooled
                    .open()
                    .and_then(crate::verify::verification_link_in)
                    .map_err(|e| anyhow::anyhow!("cannot read back the uploaded file: {e}"))?;
                a.verify_public_file(&name, &spooled.hash, link)
            })
            .await?;
            state.public.answered(found.is_some());
            return Ok(page(lang, "/verify", Some(Answer { found, from_file: true })));
        }
    }
    Err(AppError::BadRequest("the form has no part named file".into()))
}

/// The public page; its uploads are bounded by `http`.
pub fn router(http: &HttpConfig) -> Router<AppState> {
    Router::new().route("/verify", upload_limit(http).apply(get(public_page).post(public_upload)))
}
