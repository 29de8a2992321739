//! The receipt (biên nhận) printed for the citizen once a document is captured: the agency, the
//! document's and the dossier's codes, the document, its owner, its pages, when and by whom it was
//! captured, and a QR code. The QR code carries the document's public verification link, the same as
//! the one on the signed copy, when the token is at hand: the station's seal answers with the receipt
//! itself, and `?t=` may give it; the pair is checked first, so a receipt never prints a link that
//! leads nowhere. A receipt opened later without the token has no QR code. It says whether the
//! signed copy is made yet or the document waits in the reading queue (the link works from its
//! capture on: the public page then says its pages are sealed and the copy is being made).
//! Each receipt is audited as a view of the document ([`Appliance::receipt`]).
//! The page prints on A5 without the navigation.
//!
//! [`Appliance::receipt`]: crate::Appliance::receipt

use crate::queue::Stage;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use chrono::DateTime;
use domain::{DocumentCode, VerificationToken};
use maud::html;
use serde::Deserialize;

use super::super::extract::AppPath;
use super::super::{AppError, AppState, blocking};
use super::error::WebError;
use super::lang;
use super::layout::{self, Screen};
use super::user::WebUser;
use super::{assets, qr};
use crate::ops::documents::RECEIPT;

/// The verification token the ingest reported, if the receipt is to carry the link.
#[derive(Deserialize)]
struct ReceiptQuery {
    t: Option<String>,
}

/// `GET /station/receipt/{code}?t=…`.
async fn receipt(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(raw): AppPath<String>,
    Query(query): Query<ReceiptQuery>,
) -> Result<Html<String>, WebError> {
    user.require(RECEIPT)?;
    let code: DocumentCode =
        raw.parse().map_err(|e: domain::DomainError| user.error(AppError::NotFound(e.to_string())))?;
    let token = query.t.as_deref().filter(|t| !t.is_empty()).map(str::parse::<VerificationToken>);
    let token = token.transpose().map_err(|e| user.error(AppError::BadRequest(e.to_string())))?;
    show(&state, &user, code, token).await
}

/// The receipt of `code`, with the QR code of its verification link when `token` is the document's:
/// the page `GET /station/receipt/{code}` shows, and the answer to the station's seal, which has the
/// token in hand and so never puts it in an address.
pub(super) async fn show(
    state: &AppState,
    user: &WebUser,
    code: DocumentCode,
    token: Option<VerificationToken>,
) -> Result<Html<String>, WebError> {
    user.require(RECEIPT)?;
    let lang = user.lang;
    let (actor, role) = (user.user.name.clone(), user.user.role);
    let receipt =
        blocking(state, move |a| a.receipt(&code, token.as_ref(), role, &actor)).await.map_err(|e| user.error(e))?;
    let field = |name: &str| receipt.metadata.get(name).cloned().unwrap_or_default();
    let captured = DateTime::parse_from_rfc3339(&field("captured_at")).map(lang::time).unwrap_or_default();
    let none = lang.t("không có", "none");
    let or_none = |v: String| if v.is_empty() { none.to_owned() } else { v };
    let title = lang.t("Biên nhận số hóa giấy tờ", "Receipt for a digitized document");
    let qr = receipt.link.as_deref().and_then(|link| {
        qr::svg(
            link,
            lang.t("Mã QR: đường dẫn xác thực bản điện tử", "QR code: the electronic copy's verification link"),
        )
    });
    let rows = [
        (lang.t("Mã tài liệu", "Document code"), receipt.code.clone()),
        (lang.t("Mã hồ sơ", "Dossier code"), or_none(field("dossier"))),
        (lang.t("Tên giấy tờ", "Document name"), field("name")),
        (lang.t("Chủ sở hữu", "Owner"), or_none(field("owner"))),
        (lang.t("Số trang", "Pages"), receipt.pages.to_string()),
        (lang.t("Thời gian số hóa", "Digitized at"), captured),
        (lang.t("Người số hóa", "Digitized by"), field("operator")),
        (
            lang.t("Bản điện tử", "Electronic copy"),
            match receipt.stage {
                Stage::Archived => lang.t("Đã ký số và lưu trữ", "Signed and archived"),
                Stage::Captured | Stage::Reading => lang.t(
                    "Các trang đã được lưu an toàn; bản có chữ ký số đang được tạo",
                    "The pages are safely stored; the signed copy is being made",
                ),
            }
            .to_owned(),
        ),
    ];
    let content = html! {
        article.receipt {
            p.agency { (receipt.agency) }
            h1 { (title) }
            div.receipt-body {
                table {
                    tbody {
                        @for (label, value) in &rows {
                            tr { th scope="row" { (label) } td { (value) } }
                        }
                    }
                }
                @if let Some(qr) = &qr {
                    figure.receipt-qr {
                        (qr)
                        figcaption {
                            (lang.t("Quét mã để xác thực bản điện tử:", "Scan to verify the electronic copy:"))
                            br;
                            code { (receipt.link.as_deref().unwrap_or_default()) }
                        }
                    }
                }
            }
            @if qr.is_none() {
                p.muted.no-print {
                    (lang.t(
                        "Biên nhận này không có mã QR: hãy mở nó từ màn hình quầy scan ngay sau khi lưu giấy tờ.",
                        "This receipt has no QR code: open it from the scanning station right after the document is archived.",
                    ))
                }
            }
            p.no-print {
                button type="button" data-print { (lang.t("In biên nhận", "Print the receipt")) }
                " "
                a.button.secondary href=(Screen::Station.path()) { (lang.t("Về quầy scan", "Back to the station")) }
            }
        }
        script src=(assets::url("receipt.js")) defer {}
    };
    Ok(Html(layout::page(user, Some(Screen::Station), title, content).into_string()))
}

/// The receipt's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/station/receipt/{code}", get(receipt))
}
