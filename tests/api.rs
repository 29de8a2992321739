//! The HTTP API driven in process through `app()` with `oneshot`, shared by the themes that test it.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sohoa::Appliance;
use sohoa::server::{AppState, app};
use sohoa::users::{Role, set_user};
use tower::ServiceExt;

pub use crate::util::PASSWORD;

/// An appliance with one user per role (named after the role, password [`PASSWORD`]) behind the
/// router, driven in process.
pub struct Api {
    pub state: AppState,
    _dir: Option<tempfile::TempDir>,
}

impl Api {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let appliance = Appliance::open(dir.path()).unwrap();
        add_role_users(&appliance);
        Api { state: AppState::new(appliance), _dir: Some(dir) }
    }

    /// The router over an appliance the test opened itself, with its users as they are.
    pub fn with(appliance: Appliance) -> Self {
        Api { state: AppState::new(appliance), _dir: None }
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Vec<u8>) {
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
    }

    pub async fn json(&self, request: Request<Body>) -> (StatusCode, serde_json::Value) {
        let (status, body) = self.send(request).await;
        (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
    }

    /// Logs in a user of [`Api::new`] and returns the session's token.
    pub async fn login(&self, user: &str) -> String {
        self.login_as(user, PASSWORD).await
    }

    /// Logs in with a password and returns the session's token.
    pub async fn login_as(&self, user: &str, password: &str) -> String {
        let body = serde_json::json!({ "username": user, "password": password }).to_string();
        let request = Request::post("/api/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let (status, json) = self.json(request).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        json["token"].as_str().unwrap().to_owned()
    }
}

/// One user per role, named after the role, with the password [`PASSWORD`].
pub fn add_role_users(appliance: &Appliance) {
    for role in Role::ALL {
        set_user(appliance.archive(), role.as_str(), role, PASSWORD).unwrap();
    }
}

pub fn get(uri: &str, token: &str) -> Request<Body> {
    Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()
}

pub const BOUNDARY: &str = "sohoa-test-boundary";

pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    for (name, file, bytes) in files {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").bytes());
    body
}

pub fn post_form(uri: &str, token: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(body))
        .unwrap()
}

pub fn post_json(uri: &str, token: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}
