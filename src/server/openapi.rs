//! The OpenAPI 3 document of the HTTP API, generated from the handlers' annotations and the
//! operations' typed results, and served at `/api/openapi.json` to every logged-in user. A test checks
//! that every route of the router is in it.

use std::sync::LazyLock;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    AppError, AppState, AuthUser, accounts, admin, archive, auth, dashboard, documents, dossiers, hotfolder, metrics,
    progress, province, queue, replication, reuse, search, ui, verify,
};

/// The API's document.
#[derive(OpenApi)]
#[openapi(
    info(title = "sohoa", description = "Digitization appliance for Vietnamese one-stop shops: capture, OCR, seal, archive, search. Every route but the logins and the public verification page takes `Authorization: Bearer <token>` (from `POST /api/login`, or an access token), or the browser session's cookie from `POST /login` with its CSRF token in `X-CSRF-Token` on every change."),
    paths(
        auth::login, auth::browser_login, auth::logout, auth::browser_logout, auth::current, auth::change_password, super::health, openapi,
        accounts::list, accounts::create, accounts::reset_password, accounts::set_role, accounts::disable,
        accounts::enable, accounts::tokens, accounts::issue, accounts::revoke, admin::rotate, admin::reindex, admin::config, metrics::metrics, dashboard::dashboard, queue::queue,
        documents::ingest, documents::read_pages, documents::record, documents::pdf, documents::text, documents::page, documents::evidence, progress::show,
        search::search, hotfolder::list, hotfolder::confirm, hotfolder::reject, dossiers::allocate,
        reuse::lookup, reuse::record, reuse::report, province::reuse, province::search,
        verify::verify_code, verify::verify_file, verify::keys, ui::verify::public_page, ui::verify::public_upload,
        archive::revoke, archive::set_retention, archive::review, archive::request_destruction,
        archive::confirm_destruction, archive::place_hold, archive::holds, archive::release,
        archive::retention_classes, archive::disposition, archive::mark, archive::fixity, archive::audit,
        archive::checkpoint, archive::proof, archive::consistency, archive::export, archive::import, archive::backup,
        replication::replicate, replication::lag, replication::remote_fixity, replication::province_fixity,
    ),
    modifiers(&BearerToken),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// Declares the bearer token every protected route takes.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "accounts", responses((status = 200, description = "The OpenAPI 3 document", body = Object)))]
pub(crate) async fn openapi(user: AuthUser) -> Result<Json<&'static utoipa::openapi::OpenApi>, AppError> {
    user.require_person()?;
    // Built once: the document is the same for every request.
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);
    Ok(Json(&DOCUMENT))
}

/// The document's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi))
}
