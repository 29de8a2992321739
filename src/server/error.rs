//! The one error type at the HTTP edge. Client errors (4xx) carry their message and are not logged;
//! server errors (5xx) are logged in full and answered with a generic message, so that internals
//! never reach a client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
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
    /// 413: the request body is larger than the route takes; the message names the limit.
    TooLarge(String),
    /// 429 with `Retry-After`: this client asked too often.
    TooManyRequests {
        /// What was refused and why.
        message: String,
        /// Seconds until a request will be taken again.
        retry_after: u64,
    },
    /// 503: the appliance cannot serve this now.
    Unavailable(String),
    /// 503 with `Retry-After`: the appliance is at a bound of its own (uploads received at once)
    /// and does not queue more.
    Saturated {
        /// Which bound.
        message: String,
        /// Seconds after which trying again is worthwhile.
        retry_after: u64,
    },
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
            | AppError::Unavailable(m) => m.clone(),
            AppError::TooManyRequests { message, .. } | AppError::Saturated { message, .. } => message.clone(),
            AppError::Internal(_) => INTERNAL_MESSAGE.to_owned(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            AppError::TooManyRequests { retry_after, .. } | AppError::Saturated { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        };
        let (status, message) = match self {
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            AppError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            AppError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m),
            AppError::TooManyRequests { message, .. } => (StatusCode::TOO_MANY_REQUESTS, message),
            // Not logged: anyone can provoke it, so a log line per refusal would let them flood the log.
            AppError::Saturated { message, .. } => (StatusCode::SERVICE_UNAVAILABLE, message),
            AppError::Unavailable(m) => {
                tracing::warn!(error = %m, "service unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, m)
            }
            AppError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE.to_owned())
            }
        };
        let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
