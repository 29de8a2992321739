//! Issue 17's acceptance: every route, walked with every role and with no login, against one table of
//! what each may do. A route missing from the table, or one whose handler parses a body before it
//! checks the role, fails here.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use sohoa::ops::sessions::{SessionKind, TokenPurpose};
use sohoa::users::Role::{self, Admin, Archivist, Auditor, Monitor, Officer, Operator, Station};

use tower::ServiceExt;

use crate::api::Api;

/// Every role of a person's account (access tokens are not among them).
const ALL: &[Role] = &Role::ALL;
/// The roles every route is walked with: people's, and access tokens'.
const WALKED: [Role; 7] = [Operator, Officer, Archivist, Auditor, Admin, Station, Monitor];
/// Routes anyone may use without logging in.
const PUBLIC: &[Role] = &[];

/// Every route: method, path (parameters filled with values of the right form) and the roles that may
/// use it. `PUBLIC` routes answer without a session.
const ROUTES: &[(Method, &str, &[Role])] = &[
    (Method::POST, "/api/login", PUBLIC),
    (Method::POST, "/login", PUBLIC),
    (Method::POST, "/logout", ALL),
    (Method::GET, "/api/session", ALL),
    (Method::GET, "/verify?code=001099012345.GPXD.01&t=00000000000000000000000000000000", PUBLIC),
    (Method::POST, "/verify", PUBLIC),
    (Method::POST, "/api/logout", ALL),
    (Method::POST, "/api/account/password", ALL),
    (Method::GET, "/api/health", ALL),
    (Method::GET, "/api/search?q=a", ALL),
    (Method::POST, "/api/documents", &[Operator, Admin, Station]),
    (Method::GET, "/api/documents/progress/job-1", &[Operator, Admin, Station]),
    (Method::GET, "/api/documents/001099012345.GPXD.01", &[Officer, Archivist, Auditor, Admin]),
    (Method::GET, "/api/documents/001099012345.GPXD.01/pdf", &[Officer, Archivist, Auditor, Admin]),
    (Method::GET, "/api/documents/001099012345.GPXD.01/text", &[Officer, Archivist, Auditor, Admin]),
    (Method::GET, "/api/documents/001099012345.GPXD.01/pages/1", &[Officer, Archivist, Auditor, Admin]),
    (Method::GET, "/api/documents/001099012345.GPXD.01/evidence", &[Officer, Archivist, Auditor, Admin]),
    (Method::POST, "/api/documents/001099012345.GPXD.01/revoke", &[Officer, Archivist, Admin]),
    (Method::POST, "/api/documents/001099012345.GPXD.01/review", &[Archivist, Admin]),
    // Destruction is the records room's alone, by two different archivists.
    (Method::POST, "/api/documents/001099012345.GPXD.01/destruction", &[Archivist]),
    (Method::POST, "/api/documents/001099012345.GPXD.01/destruction/confirm", &[Archivist]),
    (Method::GET, "/api/holds", &[Archivist, Auditor, Admin]),
    (Method::POST, "/api/holds", &[Archivist, Admin]),
    (Method::POST, "/api/holds/1/release", &[Archivist, Admin]),
    (Method::GET, "/api/disposition", &[Archivist, Auditor, Admin]),
    (Method::POST, "/api/fixity", &[Auditor, Admin]),
    (Method::GET, "/api/audit", &[Auditor, Admin]),
    (Method::POST, "/api/log/checkpoint", &[Archivist, Auditor, Admin]),
    (Method::GET, "/api/log/proof/001099012345.GPXD.01", &[Archivist, Auditor, Admin]),
    (Method::GET, "/api/log/consistency/1", &[Archivist, Auditor, Admin]),
    (Method::GET, "/api/reuse?owner=001099012345", &[Operator, Officer, Admin]),
    (Method::POST, "/api/reuse", &[Operator, Officer, Admin]),
    (Method::GET, "/api/reuse/report", &[Officer, Auditor, Admin]),
    (Method::GET, "/api/province/reuse?owner=001099012345", &[Operator, Officer, Admin]),
    (Method::GET, "/api/province/search?q=a", &[Officer, Archivist, Auditor, Admin]),
    (Method::POST, "/api/verify", ALL),
    (Method::GET, "/api/verify/001099012345.GPXD.01", ALL),
    (Method::GET, "/api/keys", ALL),
    (Method::GET, "/api/hotfolder", &[Operator, Admin]),
    (
        Method::POST,
        "/api/hotfolder/0000000000000000000000000000000000000000000000000000000000000000/confirm",
        &[Operator, Admin],
    ),
    (
        Method::POST,
        "/api/hotfolder/0000000000000000000000000000000000000000000000000000000000000000/reject",
        &[Operator, Admin],
    ),
    (Method::POST, "/api/dossiers", &[Operator, Admin]),
    (Method::POST, "/api/pages/read", &[Operator, Admin, Station]),
    (Method::GET, "/api/users", &[Admin]),
    (Method::POST, "/api/users", &[Admin]),
    (Method::POST, "/api/users/nobody/password", &[Admin]),
    (Method::POST, "/api/users/nobody/role", &[Admin]),
    (Method::GET, "/api/tokens", &[Admin]),
    (Method::POST, "/api/tokens", &[Admin]),
    (Method::POST, "/api/tokens/nobody/revoke", &[Admin]),
    (Method::POST, "/api/users/nobody/disable", &[Admin]),
    (Method::POST, "/api/users/nobody/enable", &[Admin]),
    (Method::GET, "/api/openapi.json", ALL),
    (Method::GET, "/metrics", &[Admin, Monitor]),
    (Method::GET, "/api/retention", &[Archivist, Auditor, Admin]),
    (Method::POST, "/api/documents/001099012345.GPXD.01/retention", &[Archivist, Admin]),
    (Method::POST, "/api/disposition/mark", &[Archivist, Admin]),
    (Method::POST, "/api/export", &[Archivist, Admin]),
    (Method::POST, "/api/import", &[Archivist, Admin]),
    (Method::POST, "/api/backup", &[Admin]),
    (Method::POST, "/api/replicate", &[Admin]),
    (Method::GET, "/api/replication", &[Auditor, Admin]),
    (Method::POST, "/api/fixity/remote", &[Auditor, Admin]),
    (Method::POST, "/api/fixity/province", &[Auditor, Admin]),
    (Method::POST, "/api/keys/rotate", &[Admin]),
    (Method::POST, "/api/reindex", &[Admin]),
    (Method::GET, "/api/config", &[Admin]),
    (Method::GET, "/api/dashboard", &[Operator, Officer, Archivist, Auditor, Admin]),
    (Method::GET, "/api/queue", &[Operator, Officer, Auditor, Admin, Station]),
    (Method::GET, "/login", PUBLIC),
    (Method::GET, "/lang/en?back=/", PUBLIC),
    (Method::GET, "/assets/app.css", PUBLIC),
];

/// The web UI's pages: without a session they send the browser to the login form (303), and an access
/// token, which is no person, is refused (403) whatever its role.
const PAGES: &[(Method, &str, &[Role])] = &[
    (Method::GET, "/", ALL),
    (Method::GET, "/account", ALL),
    (Method::POST, "/account/password", ALL),
    (Method::GET, "/search", ALL),
    (Method::GET, "/documents/001099012345.GPXD.01", &[Officer, Archivist, Auditor, Admin]),
    (Method::GET, "/reuse", &[Operator, Officer, Admin]),
    (Method::POST, "/reuse", &[Operator, Officer, Admin]),
    (Method::POST, "/station/check", &[Operator, Admin]),
    (Method::GET, "/station/receipt/001099012345.GPXD.01", &[Operator, Admin]),
    (Method::GET, "/station/hotfolder", &[Operator, Admin]),
    (
        Method::POST,
        "/station/hotfolder/0000000000000000000000000000000000000000000000000000000000000000/confirm",
        &[Operator, Admin],
    ),
    (
        Method::POST,
        "/station/hotfolder/0000000000000000000000000000000000000000000000000000000000000000/reject",
        &[Operator, Admin],
    ),
    (Method::GET, "/dashboard", &[Operator, Officer, Archivist, Auditor, Admin]),
    (Method::GET, "/admin", &[Admin]),
    (Method::GET, "/admin/config", &[Admin]),
    (Method::POST, "/admin/users", &[Admin]),
    (Method::POST, "/admin/users/nobody/role", &[Admin]),
    (Method::POST, "/admin/users/nobody/disable", &[Admin]),
    (Method::POST, "/admin/users/nobody/enable", &[Admin]),
    (Method::POST, "/admin/users/nobody/password", &[Admin]),
    (Method::POST, "/admin/tokens", &[Admin]),
    (Method::POST, "/admin/tokens/nobody/revoke", &[Admin]),
    (Method::POST, "/admin/keys/rotate", &[Admin]),
    (Method::GET, "/archivist", &[Archivist, Auditor, Admin]),
    (Method::POST, "/archivist/mark", &[Archivist, Admin]),
    (Method::POST, "/archivist/documents/001099012345.GPXD.01/review", &[Archivist, Admin]),
    (Method::POST, "/archivist/documents/001099012345.GPXD.01/destruction", &[Archivist]),
    (Method::POST, "/archivist/documents/001099012345.GPXD.01/destruction/confirm", &[Archivist]),
    (Method::GET, "/archivist/documents/001099012345.GPXD.01/destruction-report", &[Archivist, Auditor, Admin]),
    (Method::POST, "/archivist/holds", &[Archivist, Admin]),
    (Method::POST, "/archivist/holds/1/release", &[Archivist, Admin]),
    (Method::POST, "/archivist/revoke", &[Archivist, Admin]),
    (Method::POST, "/archivist/retention", &[Archivist, Admin]),
    (Method::POST, "/archivist/export", &[Archivist, Admin]),
    (Method::GET, "/archivist/export/bag-1", &[Archivist, Admin]),
    (Method::GET, "/auditor", &[Auditor, Admin]),
    (Method::POST, "/auditor/checkpoint", &[Auditor, Admin]),
    (Method::POST, "/auditor/fixity", &[Auditor, Admin]),
    (Method::GET, "/auditor/fixity/status", &[Auditor, Admin]),
    (Method::GET, "/station", &[Operator, Admin]),
    (Method::GET, "/station/events", &[Operator, Admin]),
    (Method::GET, "/station/queue/events", &[Operator, Admin]),
    (Method::POST, "/station/scan", &[Operator, Admin]),
    (Method::POST, "/station/upload", &[Operator, Admin]),
    (Method::POST, "/station/seal", &[Operator, Admin]),
    (Method::POST, "/station/discard", &[Operator, Admin]),
    (Method::GET, "/station/page/1/thumb", &[Operator, Admin]),
    (Method::POST, "/station/page/1/rotate", &[Operator, Admin]),
];

/// A request with an empty form: what every route's body extractor accepts far enough for the handler
/// to check the role (JSON routes take their body as a `Result` and judge it after that check).
fn request(method: &Method, path: &str, token: Option<&str>) -> Request<Body> {
    let mut request =
        Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "multipart/form-data; boundary=b");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from("--b--\r\n")).unwrap()
}

#[tokio::test]
async fn every_route_with_every_role_and_without_login_against_one_table() {
    let api = Api::new();
    let mut issued = 0;
    for (method, path, allowed) in ROUTES.iter().chain(PAGES) {
        let page = PAGES.iter().any(|(m, p, _)| (m, p) == (method, path));
        let response = sohoa::server::app(api.state.clone()).oneshot(request(method, path, None)).await.unwrap();
        let (status, location) = (response.status(), response.headers().get(header::LOCATION).cloned());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8_lossy(&body);
        if page {
            assert_eq!(status, StatusCode::SEE_OTHER, "{method} {path} without login: {body}");
            let location = location.unwrap();
            assert!(location.to_str().unwrap().starts_with("/login?next="), "{method} {path}: to {location:?}");
        } else if allowed.is_empty() {
            // The public page answers a miss with 404, by design: only a session or a role is refused here.
            assert!(
                ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::METHOD_NOT_ALLOWED].contains(&status),
                "{method} {path} without login: {status} {body}"
            );
            continue;
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without login: {body}");
        }
        for role in WALKED {
            // A session per request: some routes (logout) end the session they are called with.
            let appliance = &api.state.appliance;
            let token = match role {
                Station | Monitor => {
                    let purpose = if role == Station { TokenPurpose::Station } else { TokenPurpose::Monitor };
                    issued += 1;
                    appliance.issue_token(&format!("{role}-{issued}"), purpose, "admin").unwrap().token
                }
                _ => appliance.open_session(role.as_str(), SessionKind::Api).unwrap().secret,
            };
            let (status, body) = api.send(request(method, path, Some(&token))).await;
            let body = String::from_utf8_lossy(&body);
            if allowed.contains(&role) {
                assert!(
                    ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::METHOD_NOT_ALLOWED]
                        .contains(&status),
                    "{method} {path} as {role}: {status} {body}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} as {role}: {body}");
            }
        }
    }
}

/// Whether a concrete path (query string dropped) fits a route pattern with `{parameter}` segments.
fn fits(pattern: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (p, q): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}')))
}

#[test]
fn the_table_names_every_route_the_server_declares() {
    let dir = crate::util::repo().join("src/server");
    let mut declared = Vec::new();
    let mut folders = vec![dir.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                for piece in source.split(".route(\"").skip(1) {
                    declared.push(piece.split('"').next().unwrap().to_owned());
                }
            }
        }
    }
    assert!(declared.len() >= ROUTES.len() / 2, "routes not found in {}", dir.display());
    for pattern in &declared {
        assert!(
            ROUTES.iter().chain(PAGES).any(|(_, path, _)| fits(pattern, path)),
            "{pattern} is not in the table of tests/lan_routes.rs"
        );
    }
}
