//! Capture at scanner speed: a document is acknowledged once its pages are durable and sealed, is
//! listed, verifiable and marked as being read while it waits, and is read, signed and logged exactly
//! once, by the readers of a served appliance, whatever kills the appliance meanwhile.

use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use sohoa::queue::Stage;
use sohoa::verify::Verified;

use crate::util::{PASSWORD, Server, Sohoa, open_archive, page_png};

/// A served appliance with a station token, and a folder for the pages its client sends.
struct Counter {
    s: Sohoa,
    token: String,
    config: std::path::PathBuf,
    log: std::path::PathBuf,
}

impl Counter {
    fn new() -> Counter {
        let s = Sohoa::new();
        s.add_users(&[("admin", "admin")]);
        let issued: Value =
            serde_json::from_str(&s.ok_as("admin", &["--json", "tokens", "issue", "quay-1", "--purpose", "station"]))
                .unwrap();
        let token = issued["token"].as_str().unwrap().to_owned();
        let config = s.dir.path().join("sohoa.toml");
        std::fs::write(&config, "[scanner]\ntest_scanner = false\n[hot_folder]\nenabled = false\n").unwrap();
        std::fs::create_dir(s.dir.path().join("pages")).unwrap();
        let log = s.dir.path().join("serve.log");
        Counter { s, token, config, log }
    }

    fn serve(&self) -> Server {
        Server::start(&self.s, &self.config, &self.log)
    }

    /// `curl` with the station's token; the JSON answer, if there was one.
    fn curl(&self, args: &[&str]) -> Option<Value> {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "120", "-H", &format!("authorization: Bearer {}", self.token)])
            .args(args)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).ok()
    }

    /// Captures a document of `pages` pages; its code once acknowledged.
    fn capture(&self, url: &str, seed: u32, pages: u32) -> Option<String> {
        let mut args: Vec<String> = ["-F", "owner=001099012345", "-F", "type=GPXD", "-F", "name=Giấy phép xây dựng"]
            .map(str::to_owned)
            .to_vec();
        for n in 0..pages {
            let page = self.s.dir.path().join("pages").join(format!("{seed}-{n}.png"));
            std::fs::write(&page, page_png(seed * 10 + n)).unwrap();
            args.extend(["-F".to_owned(), format!("page=@{}", page.display())]);
        }
        args.push(format!("{url}/api/documents"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let answer = self.curl(&args)?;
        answer["code"].as_str().map(str::to_owned)
    }

    /// Waits until the reading queue is empty.
    fn drained(&self, url: &str) -> Value {
        let started = Instant::now();
        loop {
            let queue = self.curl(&[&format!("{url}/api/queue")]).unwrap_or(Value::Null);
            if queue["depth"] == 0 {
                return queue;
            }
            assert!(started.elapsed() < Duration::from_secs(900), "the queue never drained: {queue}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

#[test]
fn a_capture_is_acknowledged_listed_and_verifiable_before_it_is_read() {
    let counter = Counter::new();
    let server = counter.serve();
    let url = server.url.clone();
    let code = counter.capture(&url, 1, 3).expect("acknowledged");
    // Right after the acknowledgement the document is listed by code, owner and type, or already
    // archived; either way nothing of it is lost.
    let queue = counter.curl(&[&format!("{url}/api/queue")]).unwrap();
    let listed = queue["documents"].as_array().unwrap().iter().find(|d| d["code"] == code.as_str());
    if let Some(listed) = listed {
        assert_eq!(
            (listed["owner"].as_str(), listed["doc_type"].as_str(), listed["pages"].as_u64()),
            (Some("001099012345"), Some("GPXD"), Some(3))
        );
        assert!(["captured", "reading"].contains(&listed["stage"].as_str().unwrap()), "{listed}");
    }
    let drained = counter.drained(&url);
    let archived = drained["archived"].as_array().unwrap().iter().find(|d| d["code"] == code.as_str()).cloned();
    assert!(archived.is_some_and(|a| a["seconds_from_capture"].as_f64().unwrap() > 0.0), "{drained}");
    let admin = admin_token(&url);
    let as_admin = |path: &str| {
        let out = Command::new("curl")
            .args(["-sS", "-H", &format!("authorization: Bearer {admin}")])
            .arg(format!("{url}{path}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let verified: Value = serde_json::from_str(&as_admin(&format!("/api/verify/{code}"))).unwrap();
    assert_eq!((verified["valid"].as_bool(), verified["stage"].as_str()), (Some(true), Some("archived")), "{verified}");
    let metrics = as_admin("/metrics");
    for line in [
        r#"sohoa_documents_total{stage="captured"} 1"#,
        "sohoa_capture_to_archive_seconds_count 1",
        r#"sohoa_queue_depth{queue="reading_documents"} 0"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} missing from\n{metrics}");
    }
    server.stop();
}

/// A session of the admin of [`Counter::new`].
fn admin_token(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-H", "content-type: application/json", "-d"])
        .arg(serde_json::json!({ "username": "admin", "password": PASSWORD }).to_string())
        .arg(format!("{url}/api/login"))
        .output()
        .unwrap();
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["token"].as_str().unwrap().to_owned()
}

#[test]
fn a_captured_document_is_verified_by_its_page_seals_and_its_receipt_carries_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let appliance = sohoa::Appliance::open(dir.path()).unwrap();
    let request = sohoa::IngestRequest {
        metadata: crate::util::draft("operator"),
        pages: (0..3).map(|n| (std::path::PathBuf::from(format!("{n}.png")), page_png(n))).collect(),
        actor: "operator".into(),
        source: None,
    };
    let ack = appliance.capture(request).unwrap();
    assert_eq!((ack.stage, ack.pdf_hash.as_deref()), (Stage::Captured, None));
    let code: domain::DocumentCode = ack.code.parse().unwrap();
    let token: domain::VerificationToken = ack.verification_token.parse().unwrap();

    // Before it is read: each page's seal and stored image, and the stage.
    let report = appliance.verify_code(&code, "officer").unwrap();
    assert_eq!((report.valid, report.stage), (true, Some(Stage::Captured)), "{report:?}");
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["page 1 seal", "page 1 image", "page 2 seal", "page 2 image", "page 3 seal", "page 3 image", "capture"]
    );
    // The public page: the code and the token printed on the receipt say it is being made; any other
    // token names nothing.
    let (public, found) = appliance.verify_by_token(&code, &token).unwrap().expect("found by its token");
    assert!(matches!(found, Verified::Captured(_)) && public.stage == Some(Stage::Captured), "{public:?}");
    assert!(appliance.verify_by_token(&code, &domain::VerificationToken::from_random([9; 16])).unwrap().is_none());
    let receipt = appliance.receipt(&code, Some(&token), sohoa::users::Role::Operator, "operator").unwrap();
    assert_eq!((receipt.stage, receipt.pages), (Stage::Captured, 3));
    assert!(receipt.link.is_some_and(|l| l.contains(&format!("code={code}&t={token}"))));
    assert!(appliance.receipt(&code, Some(&token), sohoa::users::Role::Operator, "someone else").is_err());

    // Read from the queue: archived under the same code and token, its copy signed.
    assert_eq!(appliance.read_queue(&mut |_, _| {}), 1);
    let (public, found) = appliance.verify_by_token(&code, &token).unwrap().expect("found by its token");
    assert!(
        matches!(found, Verified::Archived(_)) && public.valid && public.stage == Some(Stage::Archived),
        "{public:?}"
    );
    let report = appliance.verify_code(&code, "officer").unwrap();
    assert!(
        report.valid && report.checks.iter().any(|c| c.name.starts_with("PDF signature") && c.passed),
        "{report:?}"
    );
}

#[test]
fn thirty_kills_while_capturing_and_reading_lose_nothing_and_archive_each_document_once() {
    let counter = Counter::new();
    let acknowledged = Mutex::new(Vec::<String>::new());
    let mut seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64 | 1;
    let mut next = 0u32;
    for round in 0..30 {
        let server = counter.serve();
        let url = server.url.clone();
        let stop = AtomicBool::new(false);
        // One station captures documents of one to four pages as fast as it is answered, while the
        // readers read what earlier rounds captured.
        let first = next;
        next += 1000;
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let kill_after = Duration::from_millis(200 + (seed >> 33) % 2000);
        std::thread::scope(|scope| {
            let station = scope.spawn(|| {
                let mut n = first;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    if let Some(code) = counter.capture(&url, n, 1 + n % 4) {
                        acknowledged.lock().unwrap().push(code);
                    }
                }
            });
            std::thread::sleep(kill_after);
            server.kill();
            stop.store(true, Ordering::SeqCst);
            station.join().unwrap();
        });
        // Every acknowledged document is there after the kill: captured, or already archived.
        let archive = open_archive(&counter.s.data());
        for code in acknowledged.lock().unwrap().iter() {
            let code = code.parse().unwrap();
            assert!(
                archive.record(&code).unwrap().is_some() || archive.captured(&code).unwrap().is_some(),
                "round {round}: {code} was acknowledged and is lost"
            );
        }
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 10, "only {} documents were acknowledged in 30 rounds", acknowledged.len());

    // The command line lists what waits, as the archive holds it.
    let waiting = open_archive(&counter.s.data()).captured_documents().unwrap().len();
    let listed: Value = serde_json::from_str(&counter.s.ok_as("admin", &["--json", "queue"])).unwrap();
    assert_eq!(listed["depth"].as_u64(), Some(waiting as u64), "{listed}");
    // Started once more, the readers resume where they stopped and drain the queue.
    let server = counter.serve();
    counter.drained(&server.url);
    assert!(server.stop().success());
    let archive = open_archive(&counter.s.data());
    assert!(archive.captured_documents().unwrap().is_empty());
    let documents = archive.document_count().unwrap();
    assert!(documents >= acknowledged.len() as u64);
    // One log leaf per document (nothing else was logged), one `capture` and one `ingest` entry each.
    assert_eq!(archive.checkpoint().unwrap().size, documents, "each document is logged exactly once");
    for code in &acknowledged {
        let trail = archive.audit_trail(Some(code)).unwrap();
        let count = |action: &str| trail.iter().filter(|e| e.action == action).count();
        assert_eq!((count("capture"), count("ingest")), (1, 1), "{code}: {trail:?}");
        assert!(archive.record(&code.parse().unwrap()).unwrap().is_some(), "{code} was never archived");
    }
    drop(archive);
    // Every document whole: its seals, blobs, one signature that validates, and the log.
    for code in acknowledged.iter().step_by(7) {
        let verified: Value = serde_json::from_str(&counter.s.ok_as("admin", &["--json", "verify", code])).unwrap();
        assert_eq!(verified["valid"], true, "{verified}");
    }
    let fixity: Value = serde_json::from_str(&counter.s.ok_as("admin", &["--json", "fixity"])).unwrap();
    assert_eq!(fixity["intact"], true, "{fixity}");
}

#[test]
fn a_long_document_does_not_hold_back_the_short_ones_captured_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let appliance = std::sync::Arc::new(sohoa::Appliance::open(dir.path()).unwrap());
    let request = |name: &str, pages: Vec<Vec<u8>>| sohoa::IngestRequest {
        metadata: domain::MetadataDraft { name: name.into(), ..crate::util::draft("operator") },
        pages: pages
            .into_iter()
            .enumerate()
            .map(|(n, png)| (std::path::PathBuf::from(format!("{n}.png")), png))
            .collect(),
        actor: "operator".into(),
        source: None,
    };
    // The long document's pages are real scans, each read for about a second: its run lasts long
    // enough that the order says how the pages were shared, not how threads happened to start.
    let scan = std::fs::read(crate::util::corpus("clean300-001.png")).unwrap();
    let long = appliance.capture(request("Hồ sơ dày", vec![scan; 8])).unwrap();
    let short = appliance.capture(request("Giấy tờ ngắn", (100..102).map(page_png).collect())).unwrap();
    let readers = sohoa::queue::spawn_readers(appliance.clone()).unwrap();
    let started = Instant::now();
    while appliance.reading_queue().report().depth > 0 {
        assert!(started.elapsed() < Duration::from_secs(900), "the queue never drained");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Newest first: the short document, captured second, was archived before the long one.
    let order: Vec<String> = appliance.reading_queue().report().archived.into_iter().map(|a| a.code).collect();
    assert_eq!(order, [long.code, short.code], "archived in this order, newest first");
    appliance.stop_ingests();
    readers.into_iter().for_each(|r| r.join().unwrap());
}
