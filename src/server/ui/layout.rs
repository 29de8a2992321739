//! The frame of every page: the header with the screens the person's role may open, who is logged in,
//! the language switch and the logout button; a skip link to the content for keyboard users; the
//! shared style sheet and script. Screens give their title and their content; [`bare`] is the same
//! frame without a session (the login form, error pages, the public verification page).

use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::lang::Lang;
use super::user::WebUser;
use crate::ops::Permit;
use crate::users::Role;

/// A screen of the UI, as the navigation lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The scanning station (operators).
    Station,
    /// Search and the document view (everyone).
    Search,
    /// Reuse by personal ID (the counter's roles).
    Reuse,
    /// The archivist's desk.
    Archivist,
    /// The auditor's view.
    Auditor,
    /// Administration.
    Admin,
    /// The dashboard of Decision 468's targets.
    Dashboard,
}

impl Screen {
    /// Every screen, in the navigation's order.
    pub const ALL: [Screen; 7] = [
        Screen::Station,
        Screen::Search,
        Screen::Reuse,
        Screen::Archivist,
        Screen::Auditor,
        Screen::Admin,
        Screen::Dashboard,
    ];

    /// Where the screen is.
    pub fn path(self) -> &'static str {
        match self {
            Screen::Station => "/station",
            Screen::Search => "/search",
            Screen::Reuse => "/reuse",
            Screen::Archivist => "/archivist",
            Screen::Auditor => "/auditor",
            Screen::Admin => "/admin",
            Screen::Dashboard => "/dashboard",
        }
    }

    /// The screen's name in the navigation.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Screen::Station => lang.t("Quầy scan", "Scanning station"),
            Screen::Search => lang.t("Tìm kiếm", "Search"),
            Screen::Reuse => lang.t("Tái sử dụng", "Reuse"),
            Screen::Archivist => lang.t("Lưu trữ", "Archivist's desk"),
            Screen::Auditor => lang.t("Kiểm tra", "Audit"),
            Screen::Admin => lang.t("Quản trị", "Administration"),
            Screen::Dashboard => lang.t("Tổng quan", "Dashboard"),
        }
    }

    /// Who may open the screen: the permit of the operation it is built around.
    pub fn permit(self) -> Permit {
        match self {
            Screen::Station => crate::appliance::INGEST,
            Screen::Search => crate::ops::documents::SEARCH,
            Screen::Reuse => crate::reuse::LOOKUP,
            Screen::Archivist => crate::ops::disposition::LIST,
            Screen::Auditor => crate::ops::integrity::AUDIT_READ,
            Screen::Admin => crate::ops::accounts::MANAGE_USERS,
            Screen::Dashboard => crate::ops::dashboard::READ,
        }
    }

    /// The first screen of a role: where `/` and a login lead.
    pub fn home(role: Role) -> Screen {
        match role {
            Role::Operator | Role::Station => Screen::Station,
            Role::Archivist => Screen::Archivist,
            Role::Auditor => Screen::Auditor,
            Role::Admin | Role::Monitor => Screen::Dashboard,
            Role::Officer => Screen::Search,
        }
    }
}

/// A page of a logged-in person: the header, then `content` as the main part.
pub fn page(user: &WebUser, current: Option<Screen>, title: &str, content: Markup) -> Markup {
    let lang = user.lang;
    frame(
        lang,
        title,
        html! {
            header.top {
                a.brand href="/" { "sohoa" }
                nav aria-label=(lang.t("Màn hình", "Screens")) {
                    ul {
                        @for screen in Screen::ALL.into_iter().filter(|s| user.may(s.permit())) {
                            li {
                                @if Some(screen) == current {
                                    a href=(screen.path()) aria-current="page" { (screen.label(lang)) }
                                } @else {
                                    a href=(screen.path()) { (screen.label(lang)) }
                                }
                            }
                        }
                    }
                }
                div.who {
                    span {
                        a href="/account" title=(lang.t("Tài khoản của tôi", "My account")) { (user.user.name) }
                        " · " (role_name(lang, user.user.role))
                    }
                    (switch(lang, if user.here.is_empty() { current.map_or("/", Screen::path) } else { &user.here }))
                    form method="post" action="/logout" {
                        (csrf_field(user))
                        button.link type="submit" { (lang.t("Đăng xuất", "Log out")) }
                    }
                }
            }
            main #main { (content) }
        },
        Some(user.csrf_token()),
    )
}

/// A page without a session (the login form, an error, the public verification page); `here` is its
/// own address, where the language switch comes back to.
pub fn bare(lang: Lang, here: &str, title: &str, content: Markup) -> Markup {
    frame(
        lang,
        title,
        html! {
            header.top {
                a.brand href="/" { "sohoa" }
                div.who { (switch(lang, here)) }
            }
            main #main { (content) }
        },
        None,
    )
}

fn frame(lang: Lang, title: &str, body: Markup, csrf: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(token) = csrf { meta name="csrf-token" content=(token); }
                title { (title) " · sohoa" }
                link rel="stylesheet" href=(assets::url("app.css"));
                script src=(assets::url("app.js")) defer {}
            }
            body {
                a.skip href="#main" { (lang.t("Bỏ qua, đến nội dung", "Skip to the content")) }
                (body)
            }
        }
    }
}

/// The language switch: a link to the other language, back to the page it is on (`here`).
fn switch(lang: Lang, here: &str) -> Markup {
    let other = lang.other();
    let mut href = format!("/lang/{}?back=", other.code());
    href.extend(form_urlencoded::byte_serialize(here.as_bytes()));
    html! {
        a.lang href=(href) hreflang=(other.code()) lang=(other.code()) { (other.name()) }
    }
}

/// The hidden field that carries a form's CSRF token.
pub fn csrf_field(user: &WebUser) -> Markup {
    html! { input type="hidden" name=(super::super::session::CSRF_FIELD) value=(user.csrf_token()); }
}

/// A role's name in `lang`.
pub fn role_name(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Operator => lang.t("Nhân viên scan", "Scan operator"),
        Role::Officer => lang.t("Cán bộ xử lý", "Processing officer"),
        Role::Archivist => lang.t("Cán bộ lưu trữ", "Archivist"),
        Role::Auditor => lang.t("Cán bộ kiểm tra", "Auditor"),
        Role::Admin => lang.t("Quản trị viên", "Administrator"),
        Role::Station => lang.t("Trạm scan", "Scanning station"),
        Role::Monitor => lang.t("Giám sát", "Monitoring"),
    }
}
