//! The export of a bag from the archivist's desk. The operation writes a BagIt bag of a document or a
//! dossier into the appliance's transfer directory, under a name the archivist gives (as the API's
//! `POST /api/export` does); the desk then offers that folder for download as one `.tar` file, since a
//! browser cannot download a folder, and the records room takes bags to the archives on a PC. The
//! bag stays in the transfer directory too, for a transfer by removable medium.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use super::super::extract::AppPath;
use super::super::{AppError, AppState, blocking};
use super::archivist::{done, form, invalid, refused};
use super::error::WebError;
use super::layout;
use super::notice::{Field, Notice, field};
use super::user::WebUser;
use crate::ops::transfer;

/// The export form.
pub fn section(user: &WebUser, notice: Option<&Notice>) -> Markup {
    let lang = user.lang;
    html! {
        section.card aria-labelledby="export-title" #export {
            h2 #export-title { (lang.t("Xuất gói BagIt", "Export a BagIt bag")) }
            p.muted { (lang.t(
                "Gói chứa tài liệu, bản PDF ký số, con dấu và bằng chứng nhật ký, để nộp lưu vào lưu trữ lịch sử hoặc chuyển sang máy khác.",
                "The bag holds the documents, the signed PDFs, the seals and the log's evidence, for the historical archives or another appliance."
            )) }
            form.inline method="post" action="/archivist/export" {
                (layout::csrf_field(user))
                (field(notice, Field { id: "export-code", name: "code", label: lang.t("Mã hồ sơ hoặc mã tài liệu", "Dossier or document code"), kind: "text", value: "", required: true }))
                (field(notice, Field { id: "export-name", name: "name", label: lang.t("Tên gói (chữ, số, . _ -)", "Bag name (letters, digits, . _ -)"), kind: "text", value: "", required: true }))
                p { button type="submit" { (lang.t("Xuất gói", "Export")) } }
            }
        }
    }
}

/// What to export, and the bag's name.
#[derive(Deserialize)]
struct ExportForm {
    code: String,
    name: String,
}

/// `POST /archivist/export`.
async fn export(
    State(state): State<AppState>,
    user: WebUser,
    sent: Result<Form<ExportForm>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(transfer::EXPORT)?;
    let sent = match form(sent) {
        Ok(sent) => sent,
        Err(e) => return Ok(refused(&state, user, e).await),
    };
    let (code, name) = (sent.code.trim().to_owned(), sent.name.trim().to_owned());
    if code.is_empty() {
        let message = user.lang.t("Hãy ghi mã hồ sơ hoặc mã tài liệu.", "Give a dossier or document code.");
        return Ok(invalid(&state, user, "export-code", message).await);
    }
    let actor = user.user.name.clone();
    let bag = name.clone();
    match blocking(&state, move |a| a.export(&code, &a.transfer_path(&bag)?, &actor, &mut |_, _| {})).await {
        Ok(exported) => Ok(done(&[("done", "exported"), ("bag", &name), ("n", &exported.documents.len().to_string())])),
        Err(AppError::BadRequest(m)) if m.contains("transfer directory is named") => {
            let message = user.lang.t(
                "Tên gói chỉ gồm 1-64 chữ cái, chữ số, '.', '_' hoặc '-', không bắt đầu bằng '.'.",
                "A bag's name is 1-64 letters, digits, '.', '_' or '-', not starting with '.'.",
            );
            Ok(invalid(&state, user, "export-name", message).await)
        }
        Err(e) => Ok(refused(&state, user, e).await),
    }
}

/// `GET /archivist/export/{name}`: the bag of that name in the transfer directory, as a tar file.
async fn download(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(name): AppPath<String>,
) -> Result<Response, WebError> {
    user.require(transfer::EXPORT)?;
    // A bag is read whole into memory: as many at once as uploads are taken, and no more.
    let _slot = state.uploads.take().map_err(|e| user.error(e))?;
    let top = name.clone();
    let actor = user.user.name.clone();
    let bytes = blocking(&state, move |a| a.bag_tar(&name, &actor)).await.map_err(|e| user.error(e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{top}.tar\"")),
        ],
        bytes,
    )
        .into_response())
}

/// The export's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/archivist/export", post(export)).route("/archivist/export/{name}", get(download))
}
