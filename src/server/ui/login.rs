//! The way in: the login form (`GET /login`; the form posts to `POST /login` of the API's
//! [`auth`](super::super::auth), which sets the session cookie), the start page `/`, which sends a
//! person to the first screen of their role, and the language switch.

use axum::Router;
use axum::extract::Query;
use axum::response::{Html, Redirect};
use axum::routing::get;
use maud::html;
use serde::Deserialize;

use super::super::AppState;
use super::lang::{self, Lang};
use super::layout::{self, Screen};
use super::user::WebUser;

/// The login form's query: where to go after, and why the last try failed.
#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    error: Option<String>,
}

/// `GET /login`.
async fn form(lang: Lang, Query(query): Query<LoginQuery>) -> Html<String> {
    let next = super::local_path(query.next.as_deref()).unwrap_or("/");
    let error = match query.error.as_deref() {
        Some("throttled") => Some(lang.t(
            "Đăng nhập sai quá nhiều lần; hãy đợi một lúc rồi thử lại.",
            "Too many failed logins; wait a while and try again.",
        )),
        Some(_) => Some(lang.t("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong user name or password.")),
        None => None,
    };
    let title = lang.t("Đăng nhập", "Log in");
    let here = super::link("/login", query.error.as_deref().map(|e| ("error", e)).into_iter().chain([("next", next)]));
    Html(
        layout::bare(
            lang,
            &here,
            title,
            html! {
                h1 { (title) }
                @if let Some(error) = error {
                    p.error role="alert" #login-error { (error) }
                }
                form.login method="post" action="/login" {
                    input type="hidden" name="next" value=(next);
                    p {
                        label for="username" { (lang.t("Tên đăng nhập", "User name")) }
                        input #username name="username" autocomplete="username" required autofocus;
                    }
                    p {
                        label for="password" { (lang.t("Mật khẩu", "Password")) }
                        input #password name="password" type="password" autocomplete="current-password" required;
                    }
                    p { button type="submit" { (title) } }
                }
                p { a href="/verify" { (lang.t("Xác thực bản điện tử (không cần đăng nhập)", "Verify an electronic copy (no login)")) } }
            },
        )
        .into_string(),
    )
}

/// `GET /`: the first screen of the person's role (or the login form, which comes back here).
async fn home(user: WebUser) -> Redirect {
    Redirect::to(Screen::home(user.user.role).path())
}

/// The login form, the start page and the language switch.
pub fn router() -> Router<AppState> {
    Router::new().route("/login", get(form)).route("/", get(home)).route("/lang/{code}", get(lang::switch))
}
