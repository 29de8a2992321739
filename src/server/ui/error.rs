//! Errors as pages. An [`AppError`] met while serving a page is shown in the page's language: a
//! sentence for its kind in that language, and the operation's own message (the API's, in English)
//! as the detail, so that nothing a person is told differs from what the API says. A page that needs a
//! login sends the browser to the login form instead.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::super::AppError;
use super::lang::Lang;
use super::layout;

/// An error met while serving a page.
#[derive(Debug)]
pub struct WebError {
    lang: Lang,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// No session: to the login form, then back to this path.
    Login(String),
    App(AppError),
}

impl WebError {
    /// An error shown as a page in `lang`.
    pub fn new(lang: Lang, error: AppError) -> Self {
        WebError { lang, kind: Kind::App(error) }
    }

    /// Sends the browser to log in, and back to `path` after.
    pub fn login(lang: Lang, path: &str) -> Self {
        WebError { lang, kind: Kind::Login(path.to_owned()) }
    }
}

/// The sentence that says what kind of error this is, in `lang`.
pub fn headline(lang: Lang, error: &AppError) -> &'static str {
    match error {
        AppError::BadRequest(_) => lang.t("Yêu cầu không hợp lệ", "The request is not valid"),
        AppError::Unauthorized(_) => lang.t("Cần đăng nhập", "Please log in"),
        AppError::Forbidden(_) => lang.t("Vai trò của bạn không được phép làm việc này", "Your role may not do this"),
        AppError::NotFound(_) => lang.t("Không tìm thấy", "Not found"),
        AppError::TooLarge(_) => lang.t("Dữ liệu gửi lên quá lớn", "What was sent is too large"),
        AppError::TooManyRequests { .. } => {
            lang.t("Quá nhiều yêu cầu; hãy thử lại sau", "Too many requests; try again later")
        }
        AppError::Unavailable(_) | AppError::Saturated { .. } => {
            lang.t("Hệ thống đang bận; hãy thử lại sau", "The appliance is busy; try again later")
        }
        AppError::Internal(_) => lang.t("Lỗi hệ thống", "Internal error"),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let lang = self.lang;
        let error = match self.kind {
            Kind::Login(path) => {
                let mut to = String::from("/login?next=");
                to.extend(form_urlencoded::byte_serialize(path.as_bytes()));
                return (StatusCode::SEE_OTHER, [(header::LOCATION, HeaderValue::from_str(&to).expect("encoded"))])
                    .into_response();
            }
            Kind::App(error) => error,
        };
        // The API's own response carries the status and the headers (Retry-After); only its body is
        // replaced by the page.
        let title = headline(lang, &error);
        let detail = error.client_message();
        let api = error.into_response();
        let body = layout::bare(
            lang,
            "/",
            title,
            html! {
                h1 { (title) }
                p.detail { (detail) }
                p { a href="/" { (lang.t("Về trang chính", "Back to the start page")) } }
            },
        );
        let (mut parts, _) = api.into_parts();
        parts.headers.remove(header::CONTENT_TYPE);
        (parts, body).into_response()
    }
}
