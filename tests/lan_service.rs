//! Issue 19's acceptance: the appliance as a service on the office LAN. A browser's session over HTTPS
//! (cookie attributes, CSRF, a restart, logout, expiry) and a graceful shutdown during a batch run a
//! real `sohoa serve` driven by curl; station tokens, user administration and `/metrics` (read by the
//! Prometheus client library's own parser) run in process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};
use sohoa::ops::sessions::{MAX_SESSIONS_PER_USER, SessionKind, TokenPurpose};

use crate::api::{Api, get, multipart, post_form, post_json};
use crate::util::{PASSWORD, Server, Sohoa, page_png, venv_python};

/// A one-page ingest form.
fn page_form(seed: u32) -> Vec<u8> {
    multipart(
        &[("owner", "001099012345"), ("type", "GPXD"), ("name", "Giấy phép")],
        &[("page", "p.png", page_png(seed))],
    )
}

#[tokio::test]
async fn a_station_token_ingests_and_nothing_else_and_a_revoked_one_is_refused() {
    let api = Api::new();
    let appliance = &api.state.appliance;
    let station = appliance.issue_token("quay-1", TokenPurpose::Station, "admin").unwrap().token;
    let (status, report) = api.json(post_form("/api/documents?wait=archived", &station, page_form(1))).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let code = report["code"].as_str().unwrap().to_owned();
    let record = appliance.archive().record(&code.parse().unwrap()).unwrap().unwrap();
    assert_eq!(record.metadata.operator(), "token:quay-1", "the station is the document's operator");
    for uri in
        ["/api/health", &format!("/api/documents/{code}"), "/api/search?q=a", "/api/keys", "/metrics", "/api/users"]
    {
        let (status, body) = api.json(get(uri, &station)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {body}");
    }
    let (status, _) = api.send(post_json("/api/logout", &station, json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a token is revoked by an admin, not logged out");

    let admin = api.login("admin").await;
    let (status, list) = api.json(get("/api/tokens", &admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["tokens"][0]["name"], "quay-1", "{list}");
    assert!(list.to_string().find(&station).is_none(), "the list shows a token's secret");
    let (status, _) = api.send(post_json("/api/tokens/quay-1/revoke", &admin, json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.send(post_form("/api/documents", &station, page_form(2))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked token still ingests");
    let actions: Vec<String> =
        appliance.archive().audit_trail(Some("token:quay-1")).unwrap().into_iter().map(|e| e.action).collect();
    for expected in ["token-issued", "token-revoked"] {
        assert!(actions.iter().any(|a| a == expected), "no {expected} in {actions:?}");
    }
    let trail = appliance.archive().audit_trail(Some(&code)).unwrap();
    assert!(trail.iter().any(|e| e.action == "ingest" && e.actor == "token:quay-1"), "{trail:?}");
}

#[tokio::test]
async fn admins_manage_users_over_http_and_every_change_is_audited_and_in_force_at_once() {
    let api = Api::new();
    let admin = api.login("admin").await;
    let (status, made) = api
        .json(post_json("/api/users", &admin, json!({ "name": "lan", "role": "officer", "password": PASSWORD })))
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (status, again) = api
        .json(post_json("/api/users", &admin, json!({ "name": "lan", "role": "admin", "password": PASSWORD })))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "creating over an account: {again}");
    let (status, refused) = api
        .json(post_json("/api/users", &admin, json!({ "name": "x", "role": "station", "password": PASSWORD })))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an account with a token's role: {refused}");

    let lan = api.login("lan").await;
    let (status, _) = api.send(get("/api/reuse/report", &lan)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.send(post_json("/api/users/lan/role", &admin, json!({ "role": "operator" }))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.send(get("/api/reuse/report", &lan)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the old role outlives its change");

    let (status, _) =
        api.send(post_json("/api/users/lan/password", &admin, json!({ "password": "một mật khẩu mới" }))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.send(get("/api/health", &lan)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a session outlives a password reset");
    let lan = api.login_as("lan", "một mật khẩu mới").await;
    let (status, _) = api.send(post_json("/api/users/lan/disable", &admin, json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.send(get("/api/health", &lan)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a disabled user is served");

    let (status, list) = api.json(get("/api/users", &admin)).await;
    assert_eq!(status, StatusCode::OK);
    let lan_row = list["users"].as_array().unwrap().iter().find(|u| u["name"] == "lan").unwrap().clone();
    assert!(lan_row["disabled_at"].is_string() && lan_row["role"] == "operator", "{lan_row}");
    assert!(!list.to_string().contains("argon2"), "the list shows password hashes");
    let actions: Vec<String> =
        api.state.appliance.archive().audit_trail(Some("lan")).unwrap().into_iter().map(|e| e.action).collect();
    for expected in ["user-set", "role-changed", "password-reset", "user-disabled"] {
        assert!(actions.iter().any(|a| a == expected), "no {expected} in {actions:?}");
    }
}

/// The samples of a Prometheus text exposition, as the Prometheus client library's parser reads them:
/// `name{label="value",…}` → value, labels sorted.
fn parse_metrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        out[f"{s.name}{{{labels}}}"] = s.value
print(json.dumps(out))
"#;
    let mut child = Command::new(venv_python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn metrics_are_read_by_prometheus_parser_and_move_when_a_document_is_captured() {
    let api = Api::new();
    let appliance = &api.state.appliance;
    let monitor = appliance.issue_token("prometheus", TokenPurpose::Monitor, "admin").unwrap().token;
    let station = appliance.issue_token("quay-2", TokenPurpose::Station, "admin").unwrap().token;
    let scrape = || async {
        let (status, body) = api.send(get("/metrics", &monitor)).await;
        assert_eq!(status, StatusCode::OK);
        parse_metrics(&String::from_utf8(body).unwrap())
    };
    let before = scrape().await;
    let value = |m: &std::collections::BTreeMap<String, f64>, key: &str| m.get(key).copied().unwrap_or(0.0);
    let (status, _) = api.send(api_login_refused()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, report) = api.json(post_form("/api/documents?wait=archived", &station, page_form(3))).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let after = scrape().await;

    assert_eq!(
        value(&after, r#"sohoa_documents_total{stage="archived"}"#),
        value(&before, r#"sohoa_documents_total{stage="archived"}"#) + 1.0,
        "{after:?}"
    );
    let pages_read =
        value(&after, r#"sohoa_pages_total{stage="done"}"#) + value(&after, r#"sohoa_pages_total{stage="flagged"}"#);
    assert_eq!(pages_read, 1.0, "{after:?}");
    assert_eq!(value(&after, "sohoa_ocr_seconds_count{}"), 1.0, "{after:?}");
    assert_eq!(value(&after, "sohoa_ingest_seconds_count{}"), 1.0, "{after:?}");
    assert_eq!(value(&after, r#"sohoa_queue_depth{queue="ingest_pages"}"#), 0.0, "pages left in the queue: {after:?}");
    assert_eq!(value(&after, "sohoa_failed_logins_total{}"), value(&before, "sohoa_failed_logins_total{}") + 1.0);
    let ingest_route =
        r#"sohoa_http_request_duration_seconds_count{method="POST",route="/api/documents",status="2xx"}"#;
    assert_eq!(value(&after, ingest_route), 1.0, "{after:?}");
    assert!(value(&after, r#"sohoa_storage_bytes{store="archive"}"#) > 0.0, "{after:?}");
    assert!(value(&after, r#"sohoa_storage_bytes{store="search"}"#) > 0.0, "{after:?}");
    let (status, _) = api.send(get("/metrics", &api.login("officer").await)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "officers read the metrics");

    // Whatever method a client invents, it is counted as "other": no client can add series.
    let invented =
        axum::http::Request::builder().method("SOHOAXYZ").uri("/verify").body(axum::body::Body::empty()).unwrap();
    api.send(invented).await;
    let (_, text) = api.send(get("/metrics", &monitor)).await;
    let text = String::from_utf8(text).unwrap();
    assert!(!text.contains("SOHOAXYZ") && text.contains(r#"method="other""#), "{text}");
}

#[test]
fn a_user_has_a_bounded_number_of_sessions_and_a_restored_backup_brings_none_back() {
    let dir = tempfile::tempdir().unwrap();
    let appliance = sohoa::Appliance::open(&dir.path().join("a")).unwrap();
    crate::api::add_role_users(&appliance);
    let open = || appliance.open_session("officer", SessionKind::Api).unwrap().secret;
    let first = open();
    let later: Vec<String> = (0..MAX_SESSIONS_PER_USER).map(|_| open()).collect();
    assert!(appliance.session(&first).unwrap().is_none(), "the oldest session outlives the bound");
    assert!(later.iter().all(|s| appliance.session(s).unwrap().is_some()), "a newer session ended");
    let token = appliance.issue_token("quay-9", TokenPurpose::Station, "admin").unwrap().token;
    let backup = dir.path().join("backup");
    appliance.write_backup(&backup, "admin").unwrap();
    let key = appliance.keys().current_id().clone();
    drop(appliance);
    let restored = dir.path().join("b");
    sohoa::Appliance::restore(&restored, &backup, &[key], &sohoa::config::Config::default(), "admin").unwrap();
    let appliance = sohoa::Appliance::open(&restored).unwrap();
    assert!(appliance.session(&later[0]).unwrap().is_none(), "a session came back with the backup");
    assert!(appliance.session(&token).unwrap().is_none(), "a token came back with the backup");
}

fn api_login_refused() -> axum::http::Request<axum::body::Body> {
    axum::http::Request::post("/api/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(json!({ "username": "officer", "password": "not the password" }).to_string()))
        .unwrap()
}

/// curl with the test's CA, a cookie jar, and the response's headers and status on stdout.
fn curl(ca: &Path, jar: &Path, args: &[&str]) -> (u16, String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(ca)
        .arg("-b")
        .arg(jar)
        .arg("-c")
        .arg(jar)
        .args(["-D", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (rest, status) = text.rsplit_once('\n').unwrap();
    let (headers, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
    (status.parse().unwrap(), headers.to_owned(), body.to_owned())
}

/// A certificate for 127.0.0.1, made with openssl, as an agency's would be configured.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=sohoa test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    (cert, key)
}

#[test]
fn over_https_a_browser_session_is_a_strict_cookie_needs_csrf_survives_a_restart_and_ends() {
    let s = Sohoa::new();
    s.add_users(&[("admin", "admin")]);
    let (cert, key) = certificate(s.dir.path());
    let config = s.dir.path().join("sohoa.toml");
    let idle = 8;
    std::fs::write(
        &config,
        format!(
            "[scanner]\ntest_scanner = false\n[hot_folder]\nenabled = false\n[http]\nsession_idle_seconds = {idle}\n[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let jar = s.dir.path().join("cookies.txt");
    let log = s.dir.path().join("serve.log");
    let server = Server::start(&s, &config, &log);
    let url = server.url.clone();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let login = ["-X", "POST", "--data-urlencode", "username=admin", "--data-urlencode"];
    let password = format!("password={PASSWORD}");
    let (status, headers, _) = curl(&cert, &jar, &[&login[..], &[&password, &format!("{url}/login")]].concat());
    assert_eq!(status, 303, "{headers}");
    let cookie =
        headers.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).expect("a cookie").to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.split(';').any(|a| a.trim() == attribute), "{attribute} missing: {cookie}");
    }
    assert!(headers.to_ascii_lowercase().contains("strict-transport-security: max-age="), "{headers}");

    let (status, _, body) = curl(&cert, &jar, &[&format!("{url}/api/session")]);
    assert_eq!(status, 200, "{body}");
    let csrf = serde_json::from_str::<Value>(&body).unwrap()["csrf_token"].as_str().unwrap().to_owned();
    let new_user = json!({ "name": "huong", "role": "officer", "password": PASSWORD }).to_string();
    let create = ["-X", "POST", "-H", "content-type: application/json", "--data", &new_user];
    let (status, _, body) = curl(&cert, &jar, &[&create[..], &[&format!("{url}/api/users")]].concat());
    assert_eq!(status, 403, "a change without the CSRF token: {body}");
    let (status, _, body) = curl(&cert, &jar, &["-X", "POST", "--data", "x=1", &format!("{url}/logout")]);
    assert_eq!(status, 403, "a form without the CSRF token: {body}");
    let (status, _, body) = curl(&cert, &jar, &["-X", "POST", "--data", "csrf_token=0000", &format!("{url}/logout")]);
    assert_eq!(status, 403, "a form with a wrong CSRF token: {body}");
    let with_token = format!("x-csrf-token: {csrf}");
    let (status, _, body) =
        curl(&cert, &jar, &[&create[..], &["-H", &with_token, &format!("{url}/api/users")]].concat());
    assert_eq!(status, 200, "a change with the CSRF token: {body}");

    assert!(server.stop().success(), "the server stops cleanly on SIGTERM");
    let server = Server::start(&s, &config, &log);
    let url = server.url.clone();
    let (status, _, body) = curl(&cert, &jar, &[&format!("{url}/api/session")]);
    assert_eq!(status, 200, "the session ended with the restart: {body}");

    let (status, headers, _) =
        curl(&cert, &jar, &["-X", "POST", "--data", &format!("csrf_token={csrf}"), &format!("{url}/logout")]);
    assert_eq!(status, 303, "{headers}");
    assert!(headers.to_ascii_lowercase().contains("location: /login"), "not sent to the login form: {headers}");
    assert!(headers.contains("Max-Age=0"), "the cookie is not removed: {headers}");
    let (status, _, _) = curl(
        &cert,
        &jar,
        &["-H", &format!("cookie: __Host-sohoa-session={}", cookie_value(&cookie)), &format!("{url}/api/session")],
    );
    assert_eq!(status, 401, "a logged-out session still works");

    let (status, _, _) = curl(&cert, &jar, &[&login[..], &[&password, &format!("{url}/login")]].concat());
    assert_eq!(status, 303);
    let (status, _, _) = curl(&cert, &jar, &[&format!("{url}/api/session")]);
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_secs(idle + 2));
    let (status, _, body) = curl(&cert, &jar, &[&format!("{url}/api/session")]);
    assert_eq!(status, 401, "an idle session outlives its time: {body}");
    assert!(server.stop().success());
}

fn cookie_value(set_cookie: &str) -> &str {
    set_cookie.split_once('=').unwrap().1.split(';').next().unwrap()
}

/// What a SIGTERM during a batch left: the codes the stations were given, the documents captured or
/// archived (every one checked by fixity), and the server's log events.
struct Stopped {
    acknowledged: Vec<String>,
    stored: u64,
    events: Vec<Value>,
}

/// Four stations scan at once, one page after another, each waiting for its document to be archived,
/// and the server gets SIGTERM once some documents are acknowledged, while the next ones are being
/// read; `http` is the `[http]` configuration.
fn sigterm_during_a_batch(http: &str) -> Stopped {
    let s = Sohoa::new();
    s.add_users(&[("admin", "admin")]);
    let issued: Value =
        serde_json::from_str(&s.ok_as("admin", &["--json", "tokens", "issue", "quay-3", "--purpose", "station"]))
            .unwrap();
    let token = issued["token"].as_str().unwrap().to_owned();
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(
        &config,
        format!("[scanner]\ntest_scanner = false\n[hot_folder]\nenabled = false\n[http]\n{http}\n"),
    )
    .unwrap();
    let pages = s.dir.path().join("pages");
    std::fs::create_dir(&pages).unwrap();
    let log = s.dir.path().join("serve.log");
    let server = Server::start(&s, &config, &log);
    let url = server.url.clone();
    let acks = Arc::new(AtomicUsize::new(0));
    let stations: Vec<_> = (0..4u32)
        .map(|station| {
            let (url, token, pages, acks) = (url.clone(), token.clone(), pages.clone(), acks.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for n in 0..50u32 {
                    let page = pages.join(format!("{station}-{n}.png"));
                    std::fs::write(&page, page_png(station * 100 + n)).unwrap();
                    let out = Command::new("curl")
                        .args(["-sS", "-H", &format!("authorization: Bearer {token}")])
                        .args(["-F", "owner=001099012345", "-F", "type=GPXD", "-F", "name=Giấy phép"])
                        .arg("-F")
                        .arg(format!("page=@{}", page.display()))
                        // Each request reads its document before it answers, so that requests are
                        // in flight, reading, when the signal comes.
                        .arg(format!("{url}/api/documents?wait=archived"))
                        .output()
                        .unwrap();
                    match serde_json::from_slice::<Value>(&out.stdout)
                        .ok()
                        .and_then(|r| r["code"].as_str().map(str::to_owned))
                    {
                        Some(code) => {
                            acks.fetch_add(1, Ordering::SeqCst);
                            acknowledged.push(code);
                        }
                        None => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(300) && acks.load(Ordering::SeqCst) < 4 {
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = server.stop();
    let acknowledged: Vec<String> = stations.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert!(status.success(), "sohoa serve exited with {status} on SIGTERM");
    assert!(!acknowledged.is_empty(), "no document was acknowledged before the shutdown");

    let archive = crate::util::open_archive(&s.data());
    for code in &acknowledged {
        let code = code.parse().unwrap();
        let kept = archive.record(&code).unwrap().is_some() || archive.captured(&code).unwrap().is_some();
        assert!(kept, "{code} was acknowledged and is lost");
    }
    // Archived, or captured and waiting to be read at the next start.
    let stored = archive.document_count().unwrap() + archive.captured_documents().unwrap().len() as u64;
    drop(archive);
    // Nothing half-done: every archived document is whole, with its seals, blobs and log leaf.
    let fixity: Value = serde_json::from_str(&s.ok_as("admin", &["--json", "fixity"])).unwrap();
    assert_eq!(fixity["intact"], true, "{fixity}");
    let spool = s.data().join("tmp/uploads");
    assert!(!spool.exists() || std::fs::read_dir(&spool).unwrap().next().is_none(), "uploads left in the spool");
    // The log is one JSON object a line, with the events' own fields, from start to stop.
    let events: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let said = |message: &str| events.iter().any(|e| e["message"] == message);
    assert!(said("serving") && said("shutting down") && said("stopped"), "{events:?}");
    Stopped { acknowledged, stored, events }
}

#[test]
fn a_graceful_shutdown_during_a_batch_finishes_what_is_in_flight_and_leaves_nothing_half_done() {
    let stopped = sigterm_during_a_batch("shutdown_grace_seconds = 60");
    assert_eq!(stopped.stored, stopped.acknowledged.len() as u64, "a document was captured but not acknowledged");
    let serving = stopped.events.iter().find(|e| e["message"] == "serving").unwrap();
    assert_eq!(serving["scheme"], "http", "{serving}");
}

#[test]
fn a_shutdown_without_grace_abandons_what_is_in_flight_whole() {
    let stopped = sigterm_during_a_batch("shutdown_grace_seconds = 0");
    // A capture that was committing when the grace ran out is waited for and may lose its answer (at
    // most one per station); every other one is refused before its commit.
    let unanswered = stopped.stored - stopped.acknowledged.len() as u64;
    assert!(unanswered <= 4, "{unanswered} documents captured without an answer");
    assert!(
        stopped
            .events
            .iter()
            .any(|e| e["level"] == "WARN" && e["message"].as_str().is_some_and(|m| m.contains("abandoned"))),
        "{:?}",
        stopped.events
    );
}

#[test]
fn one_client_address_cannot_hold_every_connection() {
    use std::io::{Read, Write};
    let s = Sohoa::new();
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(&config, "[scanner]\ntest_scanner = false\n[hot_folder]\nenabled = false\n").unwrap();
    let server = Server::start(&s, &config, &s.dir.path().join("serve.log"));
    let address = server.url.trim_start_matches("http://").to_owned();
    // Connections that send nothing, up to the bound: each is held open.
    let held: Vec<std::net::TcpStream> = (0..sohoa::server::MAX_CONNECTIONS_PER_ADDRESS)
        .map(|_| std::net::TcpStream::connect(&address).unwrap())
        .collect();
    let ask = |stream: &mut std::net::TcpStream| {
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = stream.write_all(b"GET /verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    };
    let mut one_more = std::net::TcpStream::connect(&address).unwrap();
    assert_eq!(ask(&mut one_more), "", "a connection over the bound is served");
    drop(held);
    // The server sees the held connections close shortly after: a new one is served then.
    let started = Instant::now();
    let served = loop {
        let answer = ask(&mut std::net::TcpStream::connect(&address).unwrap());
        if answer.starts_with("HTTP/1.1 ") || started.elapsed() > Duration::from_secs(10) {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(served.starts_with("HTTP/1.1 "), "the bound outlives the connections: {served:?}");
    assert!(server.stop().success());
}

#[test]
fn off_loopback_the_server_speaks_https_with_a_certificate_it_made_for_its_addresses() {
    let s = Sohoa::new();
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(&config, "[scanner]\ntest_scanner = false\n[hot_folder]\nenabled = false\n").unwrap();
    let server = Server::start_on(&s, &config, &s.dir.path().join("serve.log"), "0.0.0.0:0");
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    let cert = s.data().join("tls/self-made-cert.pem");
    let jar = s.dir.path().join("jar");
    let (status, headers, _) = curl(&cert, &jar, &[&format!("https://127.0.0.1:{port}/verify")]);
    assert_eq!(status, 200, "{headers}");
    assert!(headers.to_ascii_lowercase().contains("strict-transport-security"), "{headers}");
    let plain = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://127.0.0.1:{port}/verify"))
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "200", "plain HTTP is served off loopback");
    let names = std::fs::read_to_string(s.data().join("tls/self-made-names")).unwrap();
    // The machine's address on its LAN, if it has one: the source address of a route out (connecting a
    // UDP socket sends nothing). A machine with loopback alone has none to name.
    let lan = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|socket| socket.connect("192.0.2.1:9").and_then(|()| socket.local_addr()))
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
    if let Some(lan) = lan {
        assert!(names.lines().any(|n| n == lan.to_string()), "{lan} is not named in {names}");
    }
    assert!(server.stop().success());
}

/// A client that starts an upload to the public page and then sends nothing more is refused after the
/// stall bound (here 1 s), and gives its upload slot back.
#[tokio::test]
async fn an_upload_that_stalls_is_refused_and_holds_no_slot() {
    use futures_util::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let mut config = sohoa::config::Config::default();
    config.http.upload_stall_seconds = 1;
    let api = Api::with(sohoa::Appliance::open_with(dir.path(), &config).unwrap());
    let head = format!(
        "--{}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"copy.pdf\"\r\n\r\n%PDF-1.7\n",
        crate::api::BOUNDARY
    );
    let stalled = || {
        let body = futures_util::stream::iter([Ok::<_, std::io::Error>(axum::body::Bytes::from(head.clone()))])
            .chain(futures_util::stream::pending());
        axum::http::Request::post("/verify")
            .header("content-type", format!("multipart/form-data; boundary={}", crate::api::BOUNDARY))
            .body(axum::body::Body::from_stream(body))
            .unwrap()
    };
    // More stalled uploads than there are slots, one after another: each is refused after the bound and
    // gives its slot back for the next.
    for _ in 0..=config.http.max_concurrent_uploads {
        let started = Instant::now();
        let (status, body) = api.send(stalled()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&body));
        assert!(started.elapsed() >= Duration::from_secs(1), "refused before the bound");
    }
}
