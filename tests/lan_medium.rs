//! Issue 17, holes 8 and 9 (the medium ones) on the whole appliance: a timestamp authority that is
//! down burns no document number; lifecycle steps on the command line are taken by authenticated
//! users and judged against the real date; a search failure after a durable commit is not an
//! error; progress jobs are each user's own and go with their client; operators find documents
//! without reading them. The archive's own guarantees (concurrent reservations, holds racing
//! commits, fixity through a snapshot) are tested in `archive/tests/archive.rs`.

use std::net::TcpListener;
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sohoa::config::Config;
use sohoa::queue::Stage;
use sohoa::server::app;
use sohoa::users::{Role, set_user};
use sohoa::{Appliance, IngestRequest, SearchState};
use tower::ServiceExt;

use crate::api::{Api, add_role_users};
use crate::util::{PASSWORD, Sohoa, corpus, draft, open_archive};

/// A small page with a few lines of ink, quick to capture: 600×300 pixels, 300 dpi by default.
fn small_page() -> Vec<u8> {
    let mut image = image::GrayImage::from_pixel(600, 300, image::Luma([255]));
    for (x, y) in (40..560).flat_map(|x| [60, 61, 62, 140, 141, 142, 220, 221].map(|y| (x, y))) {
        image.put_pixel(x, y, image::Luma([0]));
    }
    let mut png = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    png
}

fn ingest_request(owner: &str, doc_type: &str, page: Vec<u8>) -> IngestRequest {
    let mut metadata = draft("operator");
    metadata.owner = Some(owner.parse().unwrap());
    metadata.doc_type = doc_type.parse().unwrap();
    IngestRequest { metadata, pages: vec![("page.png".into(), page)], actor: "operator".into(), source: None }
}

/// A loopback address where nothing listens: connections are refused at once.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}/tsa")
}

#[test]
fn hole08_a_timestamp_authority_that_is_down_keeps_the_capture_under_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let mut down = Config::default();
    down.signature.tsa_url = Some(closed_port());
    // The capture is acknowledged under `.01` (the number printed on the citizen's receipt); its
    // reading fails at signing, and fails again after each restart, under the same number.
    let appliance = Appliance::open_with(dir.path(), &down).unwrap();
    let report = appliance.ingest(ingest_request("001099012345", "GPXD", small_page()), &mut |_| {}).unwrap();
    assert_eq!((report.code.as_str(), report.stage), ("001099012345.GPXD.01", Stage::Captured));
    assert!(report.reading_error.as_deref().is_some_and(|e| e.contains("timestamp authority")), "{report:?}");
    drop(appliance);
    for restart in 0..3 {
        let appliance = Appliance::open_with(dir.path(), &down).unwrap();
        assert_eq!(appliance.read_queue(&mut |_, _| {}), 0, "restart {restart}");
        let queue = appliance.reading_queue().report();
        assert_eq!(queue.documents[0].code, "001099012345.GPXD.01");
        assert!(queue.documents[0].last_error.as_deref().is_some_and(|e| e.contains("timestamp authority")));
        assert_eq!(appliance.archive().document_count().unwrap(), 0);
    }

    // The authority is back (here: none configured): the captured document is archived under its
    // own number, and the owner's next document is `.02`.
    let appliance = Appliance::open(dir.path()).unwrap();
    assert_eq!(appliance.read_queue(&mut |_, _| {}), 1);
    assert!(appliance.archive().record(&"001099012345.GPXD.01".parse().unwrap()).unwrap().is_some());
    let report = appliance.ingest(ingest_request("001099012345", "GPXD", small_page()), &mut |_| {}).unwrap();
    assert_eq!((report.code.as_str(), report.stage), ("001099012345.GPXD.02", Stage::Archived));
    assert_eq!(report.search, SearchState::Indexed);
}

/// The document's disposition, as the archive has it.
fn disposition(s: &Sohoa, code: &str) -> archive::Disposition {
    open_archive(&s.data()).record(&code.parse().unwrap()).unwrap().unwrap().lifecycle.disposition
}

fn refused(out: std::process::Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded: {}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
}

#[test]
fn hole08_one_person_cannot_destroy_a_document_early_from_the_command_line() {
    let s = Sohoa::new();
    s.add_users(&[("admin", "admin"), ("alice", "archivist"), ("bob", "archivist"), ("olga", "operator")]);
    let page = s.dir.path().join("page.png");
    std::fs::write(&page, small_page()).unwrap();
    let ingest = |doc_type: &str, issued: &str| {
        let args = [
            "ingest",
            "--owner",
            "001099012345",
            "--type",
            doc_type,
            "--name",
            "Phiếu thu",
            "--issued",
            issued,
            page.to_str().unwrap(),
        ];
        s.ok(&args).trim().to_owned()
    };
    // A receipt kept 5 years from its capture, captured today.
    let receipt = ingest("PT", "2026-01-05");

    // The attack as it was: the actor taken from $USER, a day years ahead as "today".
    let mut as_alice = s.command();
    as_alice.env("USER", "alice").args(["dispose", "mark", "--today", "2040-01-01"]);
    refused(as_alice.output().unwrap(), "--user");
    // Logged in, a day ahead only looks ahead: nothing is marked, and the review finds nothing eligible.
    let ahead = s.ok_as("alice", &["dispose", "mark", "--today", "2040-01-01"]);
    assert!(ahead.contains("nothing is marked") && ahead.contains(&receipt), "{ahead}");
    assert_eq!(disposition(&s, &receipt), archive::Disposition::Retained);
    refused(s.run_as("alice", &["dispose", "review", &receipt, "--approve"]), "not eligible");
    assert!(s.ok_as("alice", &["dispose", "mark"]).starts_with("0 documents"));

    // The password is checked, comes from the terminal or standard input only, and the role counts.
    refused(s.run_with_input("alice", &["dispose", "mark"], &["not her password"]), "wrong user name or password");
    refused(s.run_with_input("alice", &["dispose", "mark"], &[]), "nothing on standard input");
    let mut from_env = s.command();
    from_env
        .env("SOHOA_PASSWORD", PASSWORD)
        .args(["--user", "alice", "dispose", "mark"])
        .stdin(std::process::Stdio::null());
    refused(from_env.output().unwrap(), "nothing on standard input");
    refused(s.run(&["--password", PASSWORD, "--user", "alice", "dispose", "mark"]), "--password");
    refused(s.run_as("olga", &["dispose", "mark"]), "only archivist or admin may mark documents eligible");
    // Only an admin adds users, so one person cannot make a second archivist to confirm with.
    refused(
        s.run_with_input("alice", &["users", "add", "mallory", "--role", "archivist"], &[PASSWORD, PASSWORD]),
        "only admin may manage users",
    );

    // A document whose time has come: two different archivists, each logged in.
    let decision = ingest("QD", "2001-02-03");
    s.ok_as("alice", &["retention", "set", &decision, "20y", "--reason", "danh mục hồ sơ 2026"]);
    assert!(s.ok_as("alice", &["dispose", "mark"]).contains(&decision));
    s.ok_as("alice", &["dispose", "review", &decision, "--approve"]);
    refused(
        s.run_as(
            "admin",
            &["dispose", "request", &decision, "--decision", "07/QĐ-HĐXĐGTTL", "--decision-date", "2026-02-01"],
        ),
        "only archivist",
    );
    s.ok_as(
        "alice",
        &["dispose", "request", &decision, "--decision", "07/QĐ-HĐXĐGTTL", "--decision-date", "2026-02-01"],
    );
    refused(s.run_as("alice", &["dispose", "confirm", &decision]), "second person");
    refused(s.run_as("admin", &["dispose", "confirm", &decision]), "only archivist may confirm destruction");
    assert!(
        open_archive(&s.data()).record(&decision.parse().unwrap()).unwrap().unwrap().status
            == archive::DocumentStatus::Active
    );
    s.ok_as("bob", &["dispose", "confirm", &decision]);
    let trail = s.ok(&["audit", "--target", &decision]);
    let who: Vec<(&str, &str)> =
        trail.lines().map(|l| l.split('\t').collect::<Vec<_>>()).map(|f| (f[2], f[3])).collect();
    assert!(who.contains(&("alice", "destroy-request")) && who.contains(&("bob", "destroy")), "{who:?}");
}

/// The in-process HTTP API of an appliance in `dir`, with one user per role and a second operator.
fn open_api(dir: &Path) -> Api {
    let appliance = Appliance::open(dir).unwrap();
    add_role_users(&appliance);
    set_user(appliance.archive(), "operator2", Role::Operator, PASSWORD).unwrap();
    Api::with(appliance)
}

fn get(uri: &str, token: &str) -> Request<Body> {
    Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()
}

const BOUNDARY: &str = "lan-medium-boundary";

/// `POST uri` of an ingest form: metadata fields and one page.
fn ingest_form(uri: &str, token: &str, owner: &str, page: &[u8]) -> Request<Body> {
    let mut body = Vec::new();
    for (name, value) in [("type", "GPXD"), ("name", "Giấy phép xây dựng"), ("owner", owner)] {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    body.extend(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"page\"; filename=\"p1.png\"\r\n\r\n").bytes(),
    );
    body.extend(page);
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").bytes());
    Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn hole08_a_search_failure_after_a_durable_ingest_answers_success() {
    let dir = tempfile::tempdir().unwrap();
    let api = open_api(dir.path());
    let operator = api.login("operator").await;
    // The search index fails (its directory is gone) after the archive commit.
    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    let (status, json) =
        api.json(ingest_form("/api/documents?wait=archived", &operator, "001099012345", &small_page())).await;
    assert_eq!(status, StatusCode::OK, "the document is archived, so the ingest succeeded: {json}");
    assert_eq!(
        (json["code"].as_str(), json["search"].as_str()),
        (Some("001099012345.GPXD.01"), Some("pending")),
        "{json}"
    );
    let archive = api.state.appliance.archive();
    assert_eq!(archive.documents_of(&"001099012345".parse().unwrap()).unwrap().len(), 1, "archived once");
    drop(api);

    // Search catches up by itself: here, when the appliance next opens.
    let api = open_api(dir.path());
    let officer = api.login("officer").await;
    let (status, found) = api.json(get("/api/search?q=giay%20phep", &officer)).await;
    assert_eq!((status, found["hits"][0]["code"].as_str()), (StatusCode::OK, Some("001099012345.GPXD.01")), "{found}");
}

#[tokio::test]
async fn hole09_progress_jobs_are_per_user_and_go_with_their_client() {
    let dir = tempfile::tempdir().unwrap();
    let api = open_api(dir.path());
    let (first, second) = (api.login("operator").await, api.login("operator2").await);

    // Two operators name their jobs alike; each follows their own.
    let (status, json) =
        api.json(ingest_form("/api/documents?job=scan-1", &first, "001099012345", &small_page())).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let (status, json) =
        api.json(ingest_form("/api/documents?job=scan-1", &second, "001099054321", &small_page())).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let (_, mine) = api.json(get("/api/documents/progress/scan-1", &first)).await;
    let (_, theirs) = api.json(get("/api/documents/progress/scan-1", &second)).await;
    assert_eq!(
        (mine["code"].as_str(), theirs["code"].as_str()),
        (Some("001099012345.GPXD.01"), Some("001099054321.GPXD.01"))
    );

    // Clients that go away while their page is read: their jobs go with them.
    let page = std::fs::read(corpus("clean300-002.png")).unwrap();
    for n in 0..3 {
        let job = format!("gone-{n}");
        let request = app(api.state.clone()).oneshot(ingest_form(
            &format!("/api/documents?job={job}"),
            &first,
            "001099012345",
            &page,
        ));
        let client = tokio::spawn(request);
        loop {
            let (status, progress) = api.json(get(&format!("/api/documents/progress/{job}"), &first)).await;
            if status == StatusCode::OK {
                assert_eq!(progress["finished"].as_bool(), Some(false), "{progress}");
                break;
            }
            tokio::task::yield_now().await;
        }
        client.abort();
        assert!(client.await.unwrap_err().is_cancelled());
        let (status, progress) = api.json(get(&format!("/api/documents/progress/{job}"), &first)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the job of a client that went away is forgotten: {progress}");
    }
    let (status, json) =
        api.json(ingest_form("/api/documents?job=gone-0", &first, "001099012345", &small_page())).await;
    assert_eq!(status, StatusCode::OK, "the name is free again: {json}");
}

#[tokio::test]
async fn hole08_operators_find_documents_without_owner_ids_or_text() {
    let dir = tempfile::tempdir().unwrap();
    let api = open_api(dir.path());
    let operator = api.login("operator").await;
    let page = std::fs::read(corpus("clean300-002.png")).unwrap();
    let (status, json) = api.json(ingest_form("/api/documents?wait=archived", &operator, "001099012345", &page)).await;
    assert_eq!(status, StatusCode::OK, "{json}");

    // The counter learns that the document is already captured: code, type, date, status.
    let (status, found) = api.json(get("/api/search?q=cong%20dich%20vu", &operator)).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let hit = found["hits"][0].as_object().unwrap_or_else(|| panic!("no hit: {found}"));
    let mut fields: Vec<&str> = hit.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(fields, ["captured_at", "code", "status", "type"], "{found}");
    assert_eq!(
        (hit["code"].as_str(), hit["type"].as_str(), hit["status"].as_str()),
        (Some("001099012345.GPXD.01"), Some("GPXD"), Some("active"))
    );
    // Other roles see what they saw before.
    let officer = api.login("officer").await;
    let (_, found) = api.json(get("/api/search?q=cong%20dich%20vu", &officer)).await;
    let hit = &found["hits"][0];
    assert_eq!(hit["owner"].as_str(), Some("001099012345"), "{found}");
    assert!(hit["snippet"].as_str().unwrap().contains("<b>"), "{found}");
}
