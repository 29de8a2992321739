//! The person's own account: who they are, and the form that replaces their password (the first
//! admin's password, written to a file on first start, is replaced here). The change is the API's
//! (`POST /api/account/password`): the current password is checked like a login, the person's other
//! sessions end and this one stays.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;

use super::super::auth::{PasswordChange, change_own_password};
use super::super::client_ip::ClientIp;
use super::super::{AppError, AppState};
use super::layout::{self, csrf_field, role_name};
use super::notice::{Field, Notice, field};
use super::user::WebUser;

/// The outcome of the last change, after the redirect back.
#[derive(Deserialize)]
struct Outcome {
    changed: Option<String>,
}

/// The password form as sent.
#[derive(Deserialize)]
struct NewPassword {
    current: String,
    new: String,
    repeat: String,
}

fn page(user: &WebUser, notice: Option<&Notice>) -> Html<String> {
    let lang = user.lang;
    let title = lang.t("Tài khoản của tôi", "My account");
    Html(
        layout::page(
            user,
            None,
            title,
            html! {
                h1 { (title) }
                @if let Some(notice) = notice { (notice.banner(lang)) }
                dl {
                    dt { (lang.t("Tên đăng nhập", "User name")) }
                    dd { (user.user.name) }
                    dt { (lang.t("Vai trò", "Role")) }
                    dd { (role_name(lang, user.user.role)) }
                }
                section.card aria-labelledby="password-title" {
                    h2 #password-title { (lang.t("Đổi mật khẩu", "Change the password")) }
                    p.muted { (lang.t(
                        "Các phiên đăng nhập khác của bạn sẽ kết thúc; phiên này vẫn tiếp tục.",
                        "Your other sessions end; this one goes on.",
                    )) }
                    form method="post" action="/account/password" {
                        (csrf_field(user))
                        (field(notice, Field { id: "current", name: "current", label: lang.t("Mật khẩu hiện tại", "Current password"), kind: "password", value: "", required: true }))
                        (field(notice, Field { id: "new", name: "new", label: lang.t("Mật khẩu mới", "New password"), kind: "password", value: "", required: true }))
                        (field(notice, Field { id: "repeat", name: "repeat", label: lang.t("Nhập lại mật khẩu mới", "The new password again"), kind: "password", value: "", required: true }))
                        p { button type="submit" { (lang.t("Đổi mật khẩu", "Change the password")) } }
                    }
                }
            },
        )
        .into_string(),
    )
}

/// `GET /account`.
async fn show(user: WebUser, Query(outcome): Query<Outcome>) -> Html<String> {
    let done =
        outcome.changed.map(|_| Notice::Done(user.lang.t("Đã đổi mật khẩu.", "The password was changed.").to_owned()));
    page(&user, done.as_ref())
}

/// `POST /account/password`.
async fn change(
    State(state): State<AppState>,
    ClientIp(address): ClientIp,
    user: WebUser,
    form: Result<Form<NewPassword>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = user.lang;
    let answer = |(status, notice): (StatusCode, Notice)| (status, page(&user, Some(&notice))).into_response();
    let Form(form) = match form {
        Ok(form) => form,
        Err(e) => return answer(Notice::failed(lang, AppError::BadRequest(e.body_text()))),
    };
    if form.new != form.repeat {
        return answer(Notice::invalid(
            "repeat",
            lang.t("Hai lần nhập mật khẩu mới không giống nhau.", "The two new passwords differ."),
        ));
    }
    match change_own_password(&state, address, &user.user, PasswordChange { current: form.current, new: form.new })
        .await
    {
        Ok(()) => Redirect::to("/account?changed=1").into_response(),
        Err(AppError::Unauthorized(_)) => answer(Notice::invalid(
            "current",
            lang.t("Mật khẩu hiện tại không đúng.", "The current password is wrong."),
        )),
        Err(e) => answer(Notice::failed(lang, e)),
    }
}

/// The account page and its password form.
pub fn router() -> Router<AppState> {
    Router::new().route("/account", get(show)).route("/account/password", post(change))
}
