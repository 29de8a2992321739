//! What a screen tells a person after they sent one of its forms: that the change was made (after
//! the redirect back to the screen), that the operation refused it (the page shown again at once,
//! with a sentence for the kind of refusal in the page's language and the operation's own message as
//! the detail, as the API gives it), or that a field was not filled in right (shown next to that
//! field). [`field`] renders a labelled input that carries its error the accessible way.

use axum::http::StatusCode;
use maud::{Markup, html};

use super::super::AppError;
use super::error::headline;
use super::lang::Lang;

/// The outcome of a form, as the screen shows it.
pub enum Notice {
    /// The change was made: what was done, in the page's language.
    Done(String),
    /// The operation refused the change or failed.
    Failed {
        /// What kind of refusal, in the page's language.
        headline: &'static str,
        /// The operation's message.
        detail: String,
    },
    /// A field of a form is not filled in right.
    Invalid {
        /// The id of the input.
        field: String,
        /// What is wrong, in the page's language.
        message: &'static str,
    },
}

impl Notice {
    /// A refusal or failure of an operation, and the status to answer it with (the API's).
    pub fn failed(lang: Lang, error: AppError) -> (StatusCode, Notice) {
        let status = match &error {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::Saturated { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            // Logged in full as the API logs it; the page gets the generic message.
            tracing::error!(error = ?error, "a page's operation failed");
        }
        (status, Notice::Failed { headline: headline(lang, &error), detail: error.client_message() })
    }

    /// A field's error, answered with 400.
    pub fn invalid(field: impl Into<String>, message: &'static str) -> (StatusCode, Notice) {
        (StatusCode::BAD_REQUEST, Notice::Invalid { field: field.into(), message })
    }

    /// The error of the input `id`, if it is the one that is wrong.
    fn error_of(&self, id: &str) -> Option<&'static str> {
        match self {
            Notice::Invalid { field, message } if field == id => Some(message),
            _ => None,
        }
    }

    /// The banner at the top of the screen (a field's error is shown at the field instead, and the
    /// banner only points to it).
    pub fn banner(&self, lang: Lang) -> Markup {
        match self {
            Notice::Done(text) => html! { p.flash role="status" { (text) } },
            Notice::Failed { headline, detail } => html! {
                div.flash.bad role="alert" #refusal {
                    strong { (headline) }
                    p.detail { (detail) }
                }
            },
            Notice::Invalid { field, .. } => html! {
                p.flash.bad role="alert" {
                    (lang.t("Biểu mẫu chưa đúng: ", "The form is not filled in right: "))
                    a href=(format!("#{field}")) { (lang.t("xem trường được đánh dấu", "see the marked field")) }
                }
            },
        }
    }
}

/// An input of a form, as [`field`] renders it.
pub struct Field<'a> {
    /// The input's id (unique on the page).
    pub id: &'a str,
    /// The form field's name.
    pub name: &'a str,
    /// The label, in the page's language.
    pub label: &'a str,
    /// The input's type: `text`, `date`, `datetime-local`, `number`.
    pub kind: &'a str,
    /// Its value.
    pub value: &'a str,
    /// Whether the form needs it.
    pub required: bool,
}

/// A labelled input; when `notice` says it is wrong, it is marked invalid and described by the error
/// shown under it.
pub fn field(notice: Option<&Notice>, f: Field<'_>) -> Markup {
    let error = notice.and_then(|n| n.error_of(f.id));
    let error_id = format!("{}-error", f.id);
    html! {
        p {
            label for=(f.id) { (f.label) }
            input id=(f.id) name=(f.name) type=(f.kind) value=(f.value) required[f.required]
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| error_id.as_str())];
            @if let Some(error) = error {
                span.field-error id=(error_id) { (error) }
            }
        }
    }
}
