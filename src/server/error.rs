//! The one error type at the HTTP edge. Client errors (4xx) carry their message and are not logged;
//! server errors (5xx) are logged in full and answered with a generic message, so that internals
//! never reach a client.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::ApplianceError;

/// An HTTP error response.
#[derive(Debug)]
pub enum AppError {
    /// 400: the request is malformed or its content is invalid.
    BadRequest(String),
    /// 401: no valid session.
    Unauthorized(String),
    /// 403: the user's role may not do this.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 413: the request's body is larger than the route takes.
    TooLarge(String),
    /// 429: the client asked too often; it may ask again after `retry_after`.
    TooManyRequests {
        /// What was limited.
        message: String,
        /// How long the client should wait.
        retry_after: std::time::Duration,
    },
    /// 503: the appliance cannot serve this now.
    Unavailable(String),
    /// 500: details are logged, not returned.
    Internal(anyhow::Error),
}

impl From<ApplianceError> for AppError {
    fn from(e: ApplianceError) -> Self {
        match e {
            ApplianceError::Input(m) => AppError::BadRequest(m),
            ApplianceError::NotFound(m) => AppError::NotFound(m),
            ApplianceError::Busy(m) => AppError::Unavailable(m),
            ApplianceError::Internal(e) => AppError::Internal(e),
        }
    }
}

/// What a client is told of a server error.
const INTERNAL_MESSAGE: &str = "internal error; the details are in the server log";

impl AppError {
    /// What a client may be told of this error: the message of a 4xx or 503, nothing of a 500's
    /// internals.
    pub fn client_message(&self) -> String {
        match self {
            AppError::BadRequest(m)
            | AppError::Unauthorized(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::TooLarge(m)
            | AppError::Unavailable(m)
            | AppError::TooManyRequests { message: m, .. } => m.clone(),
            AppError::Internal(_) => INTERNAL_MESSAGE.to_owned(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            AppError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            AppError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m),
            AppError::TooManyRequests { message, retry_after } => {
                // Whole seconds, rounded up, as Retry-After counts them: a client told 0 would come back at once.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let body = Json(serde_json::json!({ "error": message, "retry_after_seconds": seconds }));
                return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, seconds.to_string())], body).into_response();
            }
            AppError::Unavailable(m) => {
                tracing::warn!(error = %m, "service unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, m)
            }
            AppError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE.to_owned())
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}
