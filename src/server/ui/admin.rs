//! Administration (`/admin`), for admins: accounts and their roles (create, change the role, disable
//! and enable, set a new password), the access tokens of scanning stations and monitoring (issue,
//! with the secret shown once; revoke), the replacement of the seal key (after a confirmation), and
//! the configuration in force without secrets (`/admin/config`). Each form posts to this screen and
//! calls the same operation as the API with the same permit; a change done comes back here by a 303
//! with what was done in the query, and a change refused is shown at once, next to its field.
//!
//! A token's secret is the one thing not sent back in a redirect: a query would keep it in the
//! browser's history and the server's logs, so the page that answers the issuing form shows it, and
//! that answer is not stored by the browser (`Cache-Control: no-store`).

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use super::super::extract::AppPath;
use super::super::{AppError, AppState, blocking};
use super::error::WebError;
use super::lang::{self, Lang};
use super::layout::{self, Screen, csrf_field, role_name};
use super::user::WebUser;
use crate::config::UNSET;
use crate::ops::accounts::{MANAGE_USERS, UserList};
use crate::ops::configuration::SHOW;
use crate::ops::keys::ROTATE;
use crate::ops::sessions::{IssuedToken, MANAGE_TOKENS, TokenList, TokenPurpose};
use crate::users::Role;

/// What was done, as the 303 after a change says it.
#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
    name: Option<String>,
    old: Option<String>,
    new: Option<String>,
}

/// What the page says above its sections.
enum Notice {
    None,
    /// A change done (from the query of the 303).
    Done(Done),
    /// A token just issued, with its secret.
    Issued(IssuedToken),
    /// A change refused, not tied to a form's field (a row's action).
    Refused(String),
    /// A form refused at a field: which form and field, the message, and what was typed (never a
    /// password).
    Field {
        field: &'static str,
        message: String,
        name: String,
    },
}

/// A form's field error, for the field it belongs to.
fn field_error<'a>(notice: &'a Notice, field: &str) -> Option<&'a str> {
    match notice {
        Notice::Field { field: f, message, .. } if *f == field => Some(message),
        _ => None,
    }
}

/// A field's error paragraph and the attributes that tie it to its input.
fn error_line(id: &str, error: Option<&str>) -> Markup {
    html! {
        p.field-error id=(format!("{id}-error")) {
            @if let Some(message) = error { (message) }
        }
    }
}

/// `GET /admin`.
async fn page(State(state): State<AppState>, user: WebUser, Query(done): Query<Done>) -> Result<Response, WebError> {
    let notice = if done.done.is_some() { Notice::Done(done) } else { Notice::None };
    render(&state, &user, notice, StatusCode::OK).await
}

async fn render(state: &AppState, user: &WebUser, notice: Notice, status: StatusCode) -> Result<Response, WebError> {
    user.require(MANAGE_USERS)?;
    let tokens_too = user.may(MANAGE_TOKENS);
    let (users, tokens) = blocking(state, move |a| Ok((a.users()?, if tokens_too { Some(a.tokens()?) } else { None })))
        .await
        .map_err(|e| user.error(e))?;
    let title = Screen::Admin.label(user.lang);
    let body = layout::page(user, Some(Screen::Admin), title, content(user, &notice, &users, tokens.as_ref()));
    let mut response = (status, Html(body.into_string())).into_response();
    if matches!(notice, Notice::Issued(_)) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

fn notice_line(lang: Lang, notice: &Notice) -> Markup {
    let Notice::Done(done) = notice else {
        return match notice {
            Notice::Refused(message) => html! {
                p.flash.bad role="alert" { (lang.t("Không thực hiện được: ", "Not done: ")) (message) }
            },
            Notice::Field { .. } => html! {
                p.flash.bad role="alert" { (lang.t("Biểu mẫu có lỗi; xem bên dưới.", "The form has an error; see below.")) }
            },
            _ => html! {},
        };
    };
    let name = done.name.as_deref().unwrap_or_default();
    let text = match done.done.as_deref() {
        Some("created") => format!("{} {name}.", lang.t("Đã tạo tài khoản", "Account created:")),
        Some("role") => format!("{} {name}.", lang.t("Đã đổi vai trò của", "Role changed for")),
        Some("disabled") => format!("{} {name}.", lang.t("Đã khóa tài khoản", "Account disabled:")),
        Some("enabled") => format!("{} {name}.", lang.t("Đã mở khóa tài khoản", "Account enabled:")),
        Some("password") => format!(
            "{} {name}{}",
            lang.t("Đã đặt mật khẩu mới cho", "New password set for"),
            lang.t("; các phiên đăng nhập của tài khoản đã kết thúc.", "; the account's sessions have ended.")
        ),
        Some("revoked") => format!("{} {name}.", lang.t("Đã thu hồi mã truy cập", "Access token revoked:")),
        Some("rotated") => format!(
            "{} {} → {}.",
            lang.t("Đã thay khóa niêm phong:", "Seal key replaced:"),
            done.old.as_deref().unwrap_or_default(),
            done.new.as_deref().unwrap_or_default()
        ),
        _ => return html! {},
    };
    html! { p.flash role="status" { (text) } }
}

fn content(user: &WebUser, notice: &Notice, users: &UserList, tokens: Option<&TokenList>) -> Markup {
    let lang = user.lang;
    html! {
        h1 { (Screen::Admin.label(lang)) }
        (notice_line(lang, notice))
        (users_section(user, users))
        (new_user_form(user, notice))
        @if let Some(tokens) = tokens { (tokens_section(user, notice, tokens)) }
        @if user.may(ROTATE) { (rotate_section(user, notice)) }
        @if user.may(SHOW) {
            section aria-labelledby="config-heading" {
                h2 #config-heading { (lang.t("Cấu hình", "Configuration")) }
                p { a href="/admin/config" { (lang.t("Xem cấu hình đang áp dụng (không có bí mật)", "View the configuration in force (no secrets)")) } }
            }
        }
    }
}

/// The roles a person's account may have, in a select.
fn role_options(lang: Lang, selected: Option<Role>) -> Markup {
    html! {
        @for role in Role::ALL {
            option value=(role.as_str()) selected[Some(role) == selected] { (role_name(lang, role)) }
        }
    }
}

fn users_section(user: &WebUser, users: &UserList) -> Markup {
    let lang = user.lang;
    html! {
        section aria-labelledby="users-heading" {
            h2 #users-heading { (lang.t("Người dùng", "Users")) }
            table #users {
                thead { tr {
                    th scope="col" { (lang.t("Tên đăng nhập", "User name")) }
                    th scope="col" { (lang.t("Vai trò", "Role")) }
                    th scope="col" { (lang.t("Tạo lúc", "Created")) }
                    th scope="col" { (lang.t("Trạng thái", "Status")) }
                    th scope="col" { (lang.t("Thao tác", "Actions")) }
                } }
                tbody {
                    @for u in &users.users {
                        @let base = format!("/admin/users/{}", u.name);
                        @let me = u.name == user.user.name;
                        tr data-user=(u.name) {
                            th scope="row" { (u.name) }
                            td {
                                form.inline method="post" action=(format!("{base}/role")) {
                                    (csrf_field(user))
                                    select name="role" aria-label=(format!("{} {}", lang.t("Vai trò của", "Role of"), u.name)) disabled[me] {
                                        (role_options(lang, Some(u.role)))
                                    }
                                    @if !me {
                                        button.secondary type="submit" aria-label=(format!("{} {}", lang.t("Đổi vai trò của", "Change the role of"), u.name)) { (lang.t("Đổi", "Change")) }
                                    }
                                }
                            }
                            td { (lang::time(u.created_at)) }
                            td {
                                @if let Some(at) = u.disabled_at {
                                    span.badge.bad { (lang.t("Đã khóa", "Disabled")) } " " span.muted { (lang::time(at)) }
                                } @else {
                                    span.badge.ok { (lang.t("Hoạt động", "Active")) }
                                }
                            }
                            td {
                                @if !me {
                                    @if u.disabled_at.is_some() {
                                        form.inline method="post" action=(format!("{base}/enable")) {
                                            (csrf_field(user))
                                            button.secondary type="submit" aria-label=(format!("{} {}", lang.t("Mở khóa", "Enable"), u.name)) { (lang.t("Mở khóa", "Enable")) }
                                        }
                                    } @else {
                                        form.inline method="post" action=(format!("{base}/disable"))
                                            data-confirm=(format!("{} {}?", lang.t("Khóa tài khoản", "Disable the account"), u.name)) {
                                            (csrf_field(user))
                                            button.danger type="submit" aria-label=(format!("{} {}", lang.t("Khóa", "Disable"), u.name)) { (lang.t("Khóa", "Disable")) }
                                        }
                                    }
                                }
                                form.inline method="post" action=(format!("{base}/password")) {
                                    (csrf_field(user))
                                    input type="password" name="password" autocomplete="new-password" required minlength=(crate::users::MIN_PASSWORD)
                                        placeholder=(lang.t("Mật khẩu mới", "New password"))
                                        aria-label=(format!("{} {}", lang.t("Mật khẩu mới cho", "New password for"), u.name));
                                    button.secondary type="submit" aria-label=(format!("{} {}", lang.t("Đặt mật khẩu mới cho", "Set a new password for"), u.name)) { (lang.t("Đặt mật khẩu", "Set password")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn new_user_form(user: &WebUser, notice: &Notice) -> Markup {
    let lang = user.lang;
    let typed = match notice {
        Notice::Field { field: "user-name" | "user-password", name, .. } => name.as_str(),
        _ => "",
    };
    let name_error = field_error(notice, "user-name");
    let password_error = field_error(notice, "user-password");
    html! {
        section.card aria-labelledby="new-user-heading" {
            h2 #new-user-heading { (lang.t("Tạo người dùng", "Create a user")) }
            form.inline method="post" action="/admin/users" {
                (csrf_field(user))
                p {
                    label for="user-name" { (lang.t("Tên đăng nhập", "User name")) }
                    input #user-name name="name" required value=(typed) autocomplete="off"
                        aria-invalid=[name_error.map(|_| "true")] aria-describedby="user-name-error";
                    (error_line("user-name", name_error))
                }
                p {
                    label for="user-role" { (lang.t("Vai trò", "Role")) }
                    select #user-role name="role" { (role_options(lang, Some(Role::Operator))) }
                }
                p {
                    label for="user-password" { (lang.t("Mật khẩu (ít nhất 10 ký tự)", "Password (10 characters or more)")) }
                    input #user-password name="password" type="password" required autocomplete="new-password"
                        aria-invalid=[password_error.map(|_| "true")] aria-describedby="user-password-error";
                    (error_line("user-password", password_error))
                }
                p { button type="submit" { (lang.t("Tạo", "Create")) } }
            }
        }
    }
}

fn purpose_name(lang: Lang, purpose: TokenPurpose) -> &'static str {
    match purpose {
        TokenPurpose::Station => lang.t("Trạm scan (chỉ tiếp nhận tài liệu)", "Scanning station (ingest only)"),
        TokenPurpose::Monitor => lang.t("Giám sát (chỉ đọc /metrics)", "Monitoring (reads /metrics only)"),
    }
}

fn tokens_section(user: &WebUser, notice: &Notice, tokens: &TokenList) -> Markup {
    let lang = user.lang;
    let name_error = field_error(notice, "token-name");
    let typed = match notice {
        Notice::Field { field: "token-name", name, .. } => name.as_str(),
        _ => "",
    };
    html! {
        section aria-labelledby="tokens-heading" {
            h2 #tokens-heading { (lang.t("Mã truy cập", "Access tokens")) }
            @if let Notice::Issued(issued) = notice {
                div.card.issued role="status" {
                    p.ok { (lang.t("Đã cấp mã truy cập ", "Access token issued: ")) (issued.name) }
                    p {
                        label for="issued-secret" { (lang.t("Mã bí mật — chỉ hiện lần này, hãy sao chép ngay", "The secret — shown this once, copy it now")) }
                        input #issued-secret.secret readonly value=(issued.token) size="70";
                    }
                    p.muted { (lang.t(
                        "Hệ thống chỉ giữ giá trị băm của mã; nếu mất, hãy thu hồi và cấp mã mới.",
                        "The appliance keeps only its hash; if it is lost, revoke it and issue another."
                    )) }
                }
            }
            @if tokens.tokens.is_empty() {
                p { (lang.t("Chưa có mã truy cập nào.", "No access token is in force.")) }
            } @else {
                table #tokens {
                    thead { tr {
                        th scope="col" { (lang.t("Tên", "Name")) }
                        th scope="col" { (lang.t("Mục đích", "Purpose")) }
                        th scope="col" { (lang.t("Cấp bởi", "Issued by")) }
                        th scope="col" { (lang.t("Cấp lúc", "Issued")) }
                        th scope="col" { (lang.t("Dùng lần cuối", "Last used")) }
                        th scope="col" { (lang.t("Thao tác", "Action")) }
                    } }
                    tbody {
                        @for t in &tokens.tokens {
                            tr data-token=(t.name) {
                                th scope="row" { (t.name) }
                                td { (purpose_name(lang, t.purpose)) }
                                td { (t.issued_by) }
                                td { (lang::time(t.issued_at)) }
                                td { (lang::time(t.last_used)) }
                                td {
                                    form method="post" action=(format!("/admin/tokens/{}/revoke", t.name))
                                        data-confirm=(format!("{} {}?", lang.t("Thu hồi mã", "Revoke the token"), t.name)) {
                                        (csrf_field(user))
                                        button.danger type="submit" aria-label=(format!("{} {}", lang.t("Thu hồi", "Revoke"), t.name)) { (lang.t("Thu hồi", "Revoke")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.inline.card method="post" action="/admin/tokens" {
                (csrf_field(user))
                p {
                    label for="token-name" { (lang.t("Tên mã (ví dụ quay-1)", "Token name (e.g. quay-1)")) }
                    input #token-name name="name" required value=(typed) autocomplete="off"
                        aria-invalid=[name_error.map(|_| "true")] aria-describedby="token-name-error";
                    (error_line("token-name", name_error))
                }
                p {
                    label for="token-purpose" { (lang.t("Mục đích", "Purpose")) }
                    select #token-purpose name="purpose" {
                        @for purpose in [TokenPurpose::Station, TokenPurpose::Monitor] {
                            option value=(purpose.as_str()) { (purpose_name(lang, purpose)) }
                        }
                    }
                }
                p { button type="submit" { (lang.t("Cấp mã", "Issue")) } }
            }
        }
    }
}

fn rotate_section(user: &WebUser, notice: &Notice) -> Markup {
    let lang = user.lang;
    let error = field_error(notice, "rotate-confirm");
    html! {
        section.card aria-labelledby="rotate-heading" {
            h2 #rotate-heading { (lang.t("Khóa niêm phong", "Seal key")) }
            p { (lang.t(
                "Thay khóa niêm phong Ed25519 bằng khóa mới. Khóa bí mật cũ bị xóa; khóa công khai của nó được giữ để các tài liệu đã niêm phong vẫn xác thực được. Hãy gửi khóa công khai mới cho các bên xác thực bên ngoài.",
                "Replaces the Ed25519 seal key by a new one. The old private key is deleted; its public key is kept so that what it sealed still verifies. Send the new public key to outside verifiers."
            )) }
            form method="post" action="/admin/keys/rotate" {
                (csrf_field(user))
                p {
                    input #rotate-confirm type="checkbox" name="confirm" value="yes"
                        aria-invalid=[error.map(|_| "true")] aria-describedby="rotate-confirm-error";
                    " "
                    label.inline for="rotate-confirm" { (lang.t("Tôi xác nhận thay khóa niêm phong", "I confirm the replacement of the seal key")) }
                    (error_line("rotate-confirm", error))
                }
                p { button.danger type="submit" { (lang.t("Thay khóa", "Replace the key")) } }
            }
        }
    }
}

/// A change's outcome: back to the screen with what was done, or the screen again with why not
/// (a refusal of the operation's input), or an error page for anything else.
async fn outcome<T>(
    state: &AppState,
    user: &WebUser,
    result: Result<T, AppError>,
    refused: impl FnOnce(String) -> Notice,
    done: impl FnOnce(T) -> Vec<(&'static str, String)>,
) -> Result<Response, WebError> {
    match result {
        Ok(value) => Ok(Redirect::to(&super::link("/admin", done(value))).into_response()),
        Err(AppError::BadRequest(message) | AppError::NotFound(message)) => {
            render(state, user, refused(message), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(user.error(e)),
    }
}

/// A form's fields, read after the role is checked (so that a role that may not post it is told so,
/// whatever it sent).
fn read<T>(user: &WebUser, form: Result<Form<T>, FormRejection>) -> Result<T, WebError> {
    form.map(|Form(form)| form).map_err(|e| user.error(AppError::BadRequest(e.body_text())))
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    role: Role,
    password: String,
}

/// `POST /admin/users`.
async fn create(
    State(state): State<AppState>,
    user: WebUser,
    form: Result<Form<NewUser>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(MANAGE_USERS)?;
    let form = read(&user, form)?;
    let (name, actor) = (form.name.trim().to_owned(), user.user.name.clone());
    let bad_name = crate::users::check_name(&name).is_err();
    let bad_password = !(crate::users::MIN_PASSWORD..).contains(&form.password.chars().count())
        || form.password.len() > crate::users::MAX_PASSWORD;
    let typed = name.clone();
    let result = blocking(&state, move |a| a.create_user(&typed, form.role, &form.password, &actor)).await;
    let lang = user.lang;
    let shown = name.clone();
    // The refusal in the page's language, next to the field it is about; the operation's own words
    // for anything this screen does not foresee.
    let refused = move |message: String| {
        let (field, message) = if bad_name {
            ("user-name", lang.t(NAME_RULE_VI, NAME_RULE_EN).to_owned())
        } else if message.contains("exists") {
            (
                "user-name",
                lang.t(
                    "Tên đăng nhập này đã có; hãy đặt mật khẩu mới hoặc đổi vai trò của tài khoản đó.",
                    "This user name exists; set a new password or change the role of that account instead.",
                )
                .to_owned(),
            )
        } else if bad_password {
            (
                "user-password",
                lang.t(
                    "Mật khẩu phải có ít nhất 10 ký tự (và không quá 256 byte).",
                    "The password must have at least 10 characters (and at most 256 bytes).",
                )
                .to_owned(),
            )
        } else {
            ("user-name", message)
        };
        Notice::Field { field, message, name: shown }
    };
    outcome(&state, &user, result, refused, |_| vec![("done", "created".to_string()), ("name", name.clone())]).await
}

/// What a user's or a token's name may be, in both languages.
const NAME_RULE_VI: &str = "Tên gồm 1–64 ký tự: chữ cái không dấu, chữ số, '.', '_' hoặc '-'.";
const NAME_RULE_EN: &str = "A name has 1–64 characters: ASCII letters, digits, '.', '_' or '-'.";

#[derive(Deserialize)]
struct NewRole {
    role: Role,
}

/// `POST /admin/users/{name}/role`.
async fn set_role(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(name): AppPath<String>,
    form: Result<Form<NewRole>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(MANAGE_USERS)?;
    let form = read(&user, form)?;
    let (target, actor) = (name.clone(), user.user.name.clone());
    let result = blocking(&state, move |a| a.set_role(&target, form.role, &actor)).await;
    outcome(&state, &user, result, Notice::Refused, |_| vec![("done", "role".to_string()), ("name", name.clone())])
        .await
}

/// `POST /admin/users/{name}/disable` and `…/enable`.
async fn set_disabled(state: AppState, user: WebUser, name: String, disabled: bool) -> Result<Response, WebError> {
    user.require(MANAGE_USERS)?;
    let (target, actor) = (name.clone(), user.user.name.clone());
    let result = blocking(&state, move |a| a.set_disabled(&target, disabled, &actor)).await;
    let done = if disabled { "disabled" } else { "enabled" };
    outcome(&state, &user, result, Notice::Refused, |_| vec![("done", done.to_string()), ("name", name.clone())]).await
}

async fn disable(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(name): AppPath<String>,
) -> Result<Response, WebError> {
    set_disabled(state, user, name, true).await
}

async fn enable(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(name): AppPath<String>,
) -> Result<Response, WebError> {
    set_disabled(state, user, name, false).await
}

#[derive(Deserialize)]
struct NewPassword {
    password: String,
}

/// `POST /admin/users/{name}/password`.
async fn reset_password(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(name): AppPath<String>,
    form: Result<Form<NewPassword>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(MANAGE_USERS)?;
    let form = read(&user, form)?;
    let (target, actor) = (name.clone(), user.user.name.clone());
    let result = blocking(&state, move |a| a.reset_password(&target, &form.password, &actor)).await;
    outcome(
        &state,
        &user,
        result,
        |m| Notice::Refused(format!("{name}: {m}")),
        |_| vec![("done", "password".to_string()), ("name", name.clone())],
    )
    .await
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
    purpose: TokenPurpose,
}

/// `POST /admin/tokens`: the page with the secret, this once.
async fn issue(
    State(state): State<AppState>,
    user: WebUser,
    form: Result<Form<NewToken>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(MANAGE_TOKENS)?;
    let form = read(&user, form)?;
    let (name, actor) = (form.name.trim().to_owned(), user.user.name.clone());
    let typed = name.clone();
    match blocking(&state, move |a| a.issue_token(&typed, form.purpose, &actor)).await {
        Ok(issued) => render(&state, &user, Notice::Issued(issued), StatusCode::OK).await,
        Err(AppError::BadRequest(message)) => {
            let lang = user.lang;
            let message = if crate::users::check_name(&name).is_err() {
                lang.t(NAME_RULE_VI, NAME_RULE_EN).to_owned()
            } else if message.contains("exists") {
                lang.t(
                    "Đã có mã truy cập tên này; hãy thu hồi mã đó trước hoặc chọn tên khác.",
                    "An access token has this name; revoke it first or choose another name.",
                )
                .to_owned()
            } else {
                message
            };
            render(&state, &user, Notice::Field { field: "token-name", message, name }, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(user.error(e)),
    }
}

/// `POST /admin/tokens/{name}/revoke`.
async fn revoke(
    State(state): State<AppState>,
    user: WebUser,
    AppPath(name): AppPath<String>,
) -> Result<Response, WebError> {
    user.require(MANAGE_TOKENS)?;
    let (target, actor) = (name.clone(), user.user.name.clone());
    let result = blocking(&state, move |a| a.revoke_token(&target, &actor)).await;
    outcome(&state, &user, result, Notice::Refused, |_| vec![("done", "revoked".to_string()), ("name", name.clone())])
        .await
}

#[derive(Deserialize)]
struct Confirm {
    confirm: Option<String>,
}

/// `POST /admin/keys/rotate`: only with the confirmation ticked.
async fn rotate(
    State(state): State<AppState>,
    user: WebUser,
    form: Result<Form<Confirm>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(ROTATE)?;
    let form = read(&user, form)?;
    if form.confirm.as_deref() != Some("yes") {
        let message = user.lang.t("Hãy đánh dấu ô xác nhận trước.", "Tick the confirmation first.").to_owned();
        let notice = Notice::Field { field: "rotate-confirm", message, name: String::new() };
        return render(&state, &user, notice, StatusCode::BAD_REQUEST).await;
    }
    let actor = user.user.name.clone();
    let result = blocking(&state, move |a| a.rotate_key(&actor)).await;
    outcome(&state, &user, result, Notice::Refused, |r| {
        vec![("done", "rotated".to_string()), ("old", r.old.clone()), ("new", r.current.clone())]
    })
    .await
}

/// `GET /admin/config`: every setting in force, by section, without secrets.
async fn config(State(state): State<AppState>, user: WebUser) -> Result<Html<String>, WebError> {
    user.require(SHOW)?;
    let config = blocking(&state, |a| a.config_in_force()).await.map_err(|e| user.error(e))?;
    let lang = user.lang;
    let title = lang.t("Cấu hình đang áp dụng", "Configuration in force");
    let content = html! {
        h1 { (title) }
        p { a href="/admin" { (lang.t("← Quản trị", "← Administration")) } }
        p.muted { (lang.t(
            "Các giá trị của tệp cấu hình (và giá trị mặc định) khi hệ thống khởi động. Không có bí mật nào: mật khẩu PKCS #12 và mã PIN của token nằm trong biến môi trường, nội dung khóa không bao giờ được đọc ở đây, và tên người dùng, mật khẩu, tham số trong URL bị lược bỏ.",
            "The configuration file's values (and the defaults) as the appliance started with them. No secret is shown: the PKCS #12 password and the token's PIN are in the environment, keys' contents are never read here, and user names, passwords and queries are removed from URLs."
        )) }
        div.grid {
            @for (section, settings) in config.sections() {
                section.card aria-labelledby=(format!("config-{section}")) {
                    h2 #(format!("config-{section}")) { "[" (section) "]" }
                    table.settings {
                        thead { tr {
                            th scope="col" { (lang.t("Thiết lập", "Setting")) }
                            th scope="col" { (lang.t("Giá trị", "Value")) }
                        } }
                        tbody {
                            @for (key, value) in settings {
                                tr {
                                    th scope="row" { code { (key) } }
                                    td { @if value == UNSET { (lang.t("(chưa đặt)", "(unset)")) } @else { code { (value) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(layout::page(&user, Some(Screen::Admin), title, content).into_string()))
}

/// The administration screen and its forms.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/config", get(config))
        .route("/admin/users", post(create))
        .route("/admin/users/{name}/role", post(set_role))
        .route("/admin/users/{name}/disable", post(disable))
        .route("/admin/users/{name}/enable", post(enable))
        .route("/admin/users/{name}/password", post(reset_password))
        .route("/admin/tokens", post(issue))
        .route("/admin/tokens/{name}/revoke", post(revoke))
        .route("/admin/keys/rotate", post(rotate))
}
