//! Who a page is shown to. [`WebUser`] is [`AuthUser`] as the web UI takes it: a person's session
//! (the browser's cookie, or an API bearer), with the page's [`Lang`]. Without a session a page sends
//! the browser to the login form, which brings it back; an access token (a station's, a monitor's) is
//! not a person and is refused. The role is checked against the same [`Permit`] as the API's.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::super::session::Found;
use super::super::{AppError, AppState, AuthUser};
use super::error::WebError;
use super::lang::Lang;
use crate::ops::Permit;

/// A logged-in person looking at a page, and the page's language.
#[derive(Debug, Clone)]
pub struct WebUser {
    /// The session, as the API sees it.
    pub user: AuthUser,
    /// The language the page is shown in.
    pub lang: Lang,
    /// The page's own path and query, where the language switch comes back to; empty when the page
    /// answers a form's POST.
    pub here: String,
}

impl WebUser {
    /// Refuses the page unless the person's role has `permit`.
    pub fn require(&self, permit: Permit) -> Result<(), WebError> {
        self.user.require(permit).map_err(|e| self.error(e))
    }

    /// Whether the person's role has `permit`: for showing only the actions a role may take.
    pub fn may(&self, permit: Permit) -> bool {
        permit.allows(self.user.role)
    }

    /// An error, to be shown as a page in the person's language.
    pub fn error(&self, error: impl Into<AppError>) -> WebError {
        WebError::new(self.lang, error.into())
    }

    /// The hidden form field that carries the session's CSRF token (absent for a bearer session,
    /// which needs none).
    pub fn csrf_token(&self) -> &str {
        self.user.csrf_token.as_deref().unwrap_or_default()
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_request_parts(parts, state).await.unwrap_or_default();
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").to_owned();
        // A page answering a form's POST is not at an address the browser can GET again: the frame then
        // leads the language switch back to the screen itself.
        let here = if parts.method == axum::http::Method::GET { path.clone() } else { String::new() };
        match parts.extensions.get::<Found>() {
            Some(Found::User(user)) => {
                let web = WebUser { user: user.clone(), lang, here };
                web.user.require_person().map_err(|e| web.error(e))?;
                Ok(web)
            }
            // A change posted without its CSRF token is refused, not sent to log in again.
            Some(Found::NoCsrfToken) => Err(WebError::new(
                lang,
                AppError::Forbidden("the form was sent without its CSRF token; reload the page".into()),
            )),
            _ => Err(WebError::login(lang, &path)),
        }
    }
}
