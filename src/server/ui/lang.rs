//! The language of the web UI: Vietnamese first, English on request. A person's choice is a cookie
//! set by the switch in every page's header (`/lang/{code}`); a `lang` query parameter (the links
//! printed on copies carry none, the public page's switch does) wins over it for that page. Every label
//! is written in both languages where it is used (`lang.t("Tìm kiếm", "Search")`), so that none can
//! exist in one language only. Dates are `dd/mm/yyyy` and times are shown at `+07:00` in both.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, NaiveDate};

use super::super::extract::AppPath;
use super::super::{AppError, AppState};

/// The cookie that keeps a browser's choice of language.
pub const COOKIE: &str = "sohoa-lang";

/// A language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Tiếng Việt, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// The text in this language, of two given in both.
    pub fn t(self, vi: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    /// The language's code, for `lang` attributes, cookies and links.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// The language's own name, as the switch shows it.
    pub fn name(self) -> &'static str {
        self.t("Tiếng Việt", "English")
    }

    /// A language code as given in a cookie, a query or a path; anything else is not a language.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// A day as people in Vietnam write it, in either language: `dd/mm/yyyy`.
pub fn date(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

/// A day as people type it, `dd/mm/yyyy`, or as ISO 8601 `yyyy-mm-dd` (what a date input, a link or a
/// script sends).
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%d/%m/%Y").or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d")).ok()
}

/// A moment at Vietnam's offset, whatever offset it was recorded at: `dd/mm/yyyy HH:MM:SS +07:00`.
pub fn time(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&domain::vietnam_offset()).format("%d/%m/%Y %H:%M:%S %:z").to_string()
}

/// The page's language: its `lang` query parameter, else the cookie, else Vietnamese.
impl FromRequestParts<AppState> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let asked = parts.uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Lang::parse(&v))
        });
        Ok(asked.or_else(|| cookie(parts)).unwrap_or_default())
    }
}

fn cookie(parts: &Parts) -> Option<Lang> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| Lang::parse(value))
}

/// Where the switch sends the browser back to.
#[derive(serde::Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// `GET /lang/{code}?back=/path`: keeps the choice for a year and goes back to the page it was made
/// on (a path of this appliance only, as after a login).
pub async fn switch(
    AppPath(code): AppPath<String>,
    axum::extract::Query(Back { back }): axum::extract::Query<Back>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&code).ok_or_else(|| AppError::NotFound(format!("no language {code:?}: vi or en")))?;
    let back = super::local_path(back.as_deref()).unwrap_or("/");
    let cookie = format!("{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("an ASCII cookie")),
            (header::LOCATION, HeaderValue::from_str(back).map_err(|_| AppError::BadRequest("bad path".into()))?),
        ],
    )
        .into_response())
}
