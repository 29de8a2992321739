//! The extractors every handler uses for what a client sends: a JSON body, a query string and path
//! parameters, each deserialised into its typed form (a path's document code is a
//! [`domain::DocumentCode`], checked by its constructor). A client's mistake in any of them is
//! answered by [`AppError`] as a 400 (or 413) naming what was wrong, in the API's one error shape.
//! (The model is axum's `error-handling` example.)
//!
//! A handler takes its body as `Result<AppJson<T>, AppError>` and unwraps it after the role check, so
//! that the body of a caller without the role is never parsed.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;

use super::AppError;

/// A JSON request body.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

/// A query string.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

/// Path parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let message = format!("the JSON body is not what this route takes: {}", rejection.body_text());
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(message)
        } else {
            AppError::BadRequest(message)
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest(format!("the query string is not what this route takes: {}", rejection.body_text()))
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}
