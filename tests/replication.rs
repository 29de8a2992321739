//! Replication to the province's object store, against a real one (SeaweedFS with Object Lock, see
//! `object_store`): archived documents are copied with their evidence and checkpoints, locked in
//! COMPLIANCE mode so that the store refuses to delete or shorten them; holds become legal holds; an
//! outage of the store and a `kill -9` of the appliance with events waiting lose nothing; and
//! `sohoa fixity --remote` finds the store clean, then finds what was planted in it.

use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{ObjectLockLegalHoldStatus, ObjectLockMode, ObjectLockRetention, ObjectLockRetentionMode};
use chrono::Utc;

use crate::object_store::Weed;
use crate::util::{Server, Sohoa, corpus, open_archive};

const BUCKET: &str = "sohoa-replication";

/// Ingests one corpus page as a document of type `doc_type`; returns its code.
pub(crate) fn ingest(s: &Sohoa, owner: &str, doc_type: &str) -> String {
    let page = corpus("clean300-001.png");
    s.ok(&["ingest", "--owner", owner, "--type", doc_type, "--name", "Hồ sơ", page.to_str().unwrap()]).trim().to_owned()
}

/// Until when the store retains an object, in seconds since the epoch.
fn retained_until(weed: &Weed, key: &str) -> i64 {
    let head = weed.runtime.block_on(weed.client().head_object().bucket(BUCKET).key(key).send());
    let head = head.unwrap_or_else(|e| panic!("{key}: {}", DisplayErrorContext(&e)));
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Compliance), "{key}");
    head.object_lock_retain_until_date().expect("a retention date").secs()
}

const YEAR: i64 = 365 * 86400;

/// A data directory whose configuration replicates to `weed`, with an admin and an archivist.
fn appliance(weed: &Weed) -> (Sohoa, std::path::PathBuf) {
    let mut s = Sohoa::new();
    s.env = weed.env();
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(&config, weed.config(BUCKET)).unwrap();
    s.add_users(&[("admin", "admin"), ("alice", "archivist")]);
    (s, config)
}

/// `sohoa --config CONFIG ARGS`.
pub(crate) fn with_config(s: &Sohoa, config: &std::path::Path, args: &[&str]) -> std::process::Output {
    s.command().arg("--config").arg(config).args(args).output().expect("sohoa runs")
}

/// `sohoa --config CONFIG --json replicate`, which must succeed; its report.
pub(crate) fn replicate(s: &Sohoa, config: &std::path::Path) -> serde_json::Value {
    let out = with_config(s, config, &["--json", "replicate"]);
    assert!(out.status.success(), "replicate: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The content blobs of a document, by the archive (no process may hold it).
fn blobs(s: &Sohoa, code: &str) -> Vec<domain::BlobHash> {
    let record = open_archive(&s.data()).record(&code.parse().unwrap()).unwrap().unwrap();
    record.blobs().collect()
}

/// The PDF of a document, by the archive: the one blob of each test document that no other has
/// (every test document is made of the same page).
fn pdf(s: &Sohoa, code: &str) -> domain::BlobHash {
    open_archive(&s.data()).record(&code.parse().unwrap()).unwrap().unwrap().pdf
}

/// The legal hold of an object as the store reports it.
fn legal_hold(weed: &Weed, key: &str) -> bool {
    let answer = weed.runtime.block_on(weed.client().get_object_legal_hold().bucket(BUCKET).key(key).send());
    let answer = answer.unwrap_or_else(|e| panic!("legal hold of {key}: {}", DisplayErrorContext(&e)));
    answer.legal_hold().and_then(|h| h.status()) == Some(&ObjectLockLegalHoldStatus::On)
}

/// The metrics of a served appliance, read with a monitoring token.
pub fn metric(server: &Server, token: &str, name: &str) -> f64 {
    let out = Command::new("curl")
        .args(["-sS", "-H", &format!("Authorization: Bearer {token}"), &format!("{}/metrics", server.url)])
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Waits until a metric of a served appliance satisfies `done`, for at most two minutes.
pub fn wait_for_metric(server: &Server, token: &str, name: &str, done: impl Fn(f64) -> bool) -> f64 {
    let started = Instant::now();
    loop {
        let value = metric(server, token, name);
        if done(value) {
            return value;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{name} stays at {value}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn the_store_refuses_to_delete_or_shorten_a_locked_version() {
    let weed = Weed::start();
    weed.make_locked_bucket(BUCKET);
    let client = weed.client();
    let until = DateTime::from_secs(Utc::now().timestamp() + 3600);
    let put = client
        .put_object()
        .bucket(BUCKET)
        .key("probe")
        .body(ByteStream::from_static(b"locked"))
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(until);
    let version = weed.runtime.block_on(put.send()).unwrap().version_id().expect("a versioned bucket").to_owned();
    let delete = client.delete_object().bucket(BUCKET).key("probe").version_id(&version);
    assert!(weed.runtime.block_on(delete.send()).is_err(), "a locked version was deleted");
    let shorter = ObjectLockRetention::builder()
        .mode(ObjectLockRetentionMode::Compliance)
        .retain_until_date(DateTime::from_secs(Utc::now().timestamp() + 60))
        .build();
    let shorten = client.put_object_retention().bucket(BUCKET).key("probe").version_id(&version).retention(shorter);
    assert!(weed.runtime.block_on(shorten.send()).is_err(), "a COMPLIANCE retention was shortened");
    let read = weed.runtime.block_on(client.get_object().bucket(BUCKET).key("probe").send()).unwrap();
    assert_eq!(read.object_lock_mode(), Some(&ObjectLockMode::Compliance));
}

#[test]
fn archived_documents_reach_the_store_locked_and_nothing_is_lost_to_an_outage_or_a_kill() {
    let mut weed = Weed::start();
    weed.make_locked_bucket(BUCKET);
    let (s, config) = appliance(&weed);

    // A document archived is copied with its evidence and the checkpoint its proof leads to.
    let first = ingest(&s, "001099012345", "HS");
    let report = replicate(&s, &config);
    assert_eq!(report["lag"]["events_behind"], 0, "{report}");
    assert!(report["documents"].as_u64().unwrap() >= 1 && report["checkpoints"].as_u64().unwrap() >= 1, "{report}");
    let client = weed.client();
    for hash in blobs(&s, &first) {
        let key = format!("blobs/{hash}");
        // A dossier (HS) is kept ten years from its receipt (the built-in schedule's 10y-dossier).
        let until = retained_until(&weed, &key) - Utc::now().timestamp();
        assert!((9 * YEAR..11 * YEAR).contains(&until), "{key} retained for {until} s");
        assert!(!legal_hold(&weed, &key));
    }
    let listed = weed.runtime.block_on(client.list_objects_v2().bucket(BUCKET).prefix("documents/").send()).unwrap();
    let evidence: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert!(evidence.iter().any(|k| k.starts_with(&format!("documents/{first}/"))), "{evidence:?}");
    let listed = weed.runtime.block_on(client.list_objects_v2().bucket(BUCKET).prefix("checkpoints/").send()).unwrap();
    assert!(!listed.contents().is_empty(), "no checkpoint in the store");

    // The store refuses to delete the locked version of the PDF, or to shorten its retention.
    let key = format!("blobs/{}", pdf(&s, &first));
    let versions = weed.runtime.block_on(client.list_object_versions().bucket(BUCKET).prefix(&key).send()).unwrap();
    let version = versions.versions()[0].version_id().unwrap().to_owned();
    let delete = client.delete_object().bucket(BUCKET).key(&key).version_id(&version);
    assert!(weed.runtime.block_on(delete.send()).is_err(), "the store deleted a locked copy");
    let shorter = ObjectLockRetention::builder()
        .mode(ObjectLockRetentionMode::Compliance)
        .retain_until_date(DateTime::from_secs(Utc::now().timestamp() + 86400))
        .build();
    let shorten = client.put_object_retention().bucket(BUCKET).key(&key).version_id(&version).retention(shorter);
    assert!(weed.runtime.block_on(shorten.send()).is_err(), "the store shortened a locked copy's retention");

    // A hold becomes a legal hold on the document's content, and its release takes it off; a
    // revocation reaches the evidence.
    let hold = s.ok_as("alice", &["--json", "hold", "--document", &first, "--reason", "vụ án 3/2026"]);
    let hold: serde_json::Value = serde_json::from_str(&hold).unwrap();
    replicate(&s, &config);
    assert!(legal_hold(&weed, &key), "the hold is not mirrored");
    s.ok_as("alice", &["release", &hold["hold"].to_string()]);
    replicate(&s, &config);
    assert!(!legal_hold(&weed, &key), "the release is not mirrored");
    s.ok_as("alice", &["revoke", &first, "--reason", "cấp sai"]);
    replicate(&s, &config);

    // The store stopped while documents are archived: the archive goes on, replication says how far
    // behind it is, and catches up once the store is back.
    weed.stop();
    let during: Vec<String> = ["001099054321", "001099067890"].iter().map(|owner| ingest(&s, owner, "HS")).collect();
    let out = with_config(&s, &config, &["replicate"]);
    assert!(!out.status.success(), "replication succeeded with the store down");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("events behind"), "the failure does not say the lag: {stderr}");
    assert!(!stderr.contains(crate::object_store::SECRET_KEY), "the secret is in an error message");
    weed.resume();

    // A store that refuses the appliance's credentials is named in one line: the request, the
    // status and the store's error code, not the SDK's dump of the whole response.
    let refused =
        s.command().arg("--config").arg(&config).arg("replicate").env("AWS_SECRET_ACCESS_KEY", "not-it").output();
    let refused = refused.expect("sohoa runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "replication succeeded with a wrong secret key");
    assert!(stderr.contains("the store answered HTTP 403"), "{stderr}");
    assert!(!stderr.contains("SdkBody") && stderr.lines().count() == 1, "{stderr}");

    let report = replicate(&s, &config);
    assert_eq!(report["lag"]["events_behind"], 0, "{report}");
    assert!(report["documents"].as_u64().unwrap() >= 2, "{report}");

    // The appliance killed with events waiting (the store down), then started again with the store
    // back: the background task catches up by itself, and /metrics says how far it is.
    let token = s.ok_as("admin", &["--json", "tokens", "issue", "prometheus", "--purpose", "monitor"]);
    let token = serde_json::from_str::<serde_json::Value>(&token).unwrap()["token"].as_str().unwrap().to_owned();
    weed.stop();
    let last = ingest(&s, "001099011111", "GPXD");
    let log = s.dir.path().join("serve.log");
    let server = Server::start(&s, &config, &log);
    let behind = wait_for_metric(&server, &token, "sohoa_replication_events_behind", |v| v > 0.0);
    assert!(behind >= 1.0);
    wait_for_metric(&server, &token, "sohoa_replication_oldest_pending_seconds", |v| v >= 1.0);
    server.kill();
    weed.resume();
    let server = Server::start(&s, &config, &log);
    wait_for_metric(&server, &token, "sohoa_replication_events_behind", |v| v == 0.0);
    assert!(server.stop().success());
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains(crate::object_store::SECRET_KEY), "the secret is in the log");
    for code in during.iter().chain([&last]) {
        for hash in blobs(&s, code) {
            retained_until(&weed, &format!("blobs/{hash}"));
        }
    }
    // A building permit (GPXD) is permanent: its PDF is locked for a hundred years, which from now
    // is beyond the latest date a store is asked to hold.
    let until = retained_until(&weed, &format!("blobs/{}", pdf(&s, &last)));
    assert_eq!(until, sohoa::province::layout::LATEST_RETAIN_UNTIL, "a permanent document's PDF");

    // The store's copies are what the archive says; then a copy replaced by another version, and one
    // hidden behind a delete marker, are found.
    let fixity = with_config(&s, &config, &["fixity", "--remote"]);
    let text = String::from_utf8_lossy(&fixity.stdout);
    assert!(fixity.status.success(), "fixity --remote: {text}{}", String::from_utf8_lossy(&fixity.stderr));
    assert!(text.contains("intact"), "{text}");
    let forged = format!("blobs/{}", pdf(&s, &during[0]));
    let put = client.put_object().bucket(BUCKET).key(&forged).body(ByteStream::from_static(b"forged"));
    weed.runtime.block_on(put.send()).unwrap();
    let hidden = format!("blobs/{}", pdf(&s, &last));
    weed.runtime.block_on(client.delete_object().bucket(BUCKET).key(&hidden).send()).unwrap();
    let fixity = with_config(&s, &config, &["--json", "fixity", "--remote"]);
    assert!(!fixity.status.success(), "fixity --remote passed a forged copy");
    let report: serde_json::Value = serde_json::from_slice(&fixity.stdout).unwrap();
    let problems = &report["problems"];
    let problem = |key: &str| {
        problems.as_array().unwrap().iter().find(|p| p["key"] == key).map(|p| p["problem"].as_str().unwrap().to_owned())
    };
    assert!(problem(&forged).is_some_and(|p| p.starts_with("altered")), "{problems}");
    assert_eq!(problem(&hidden).as_deref(), Some("missing"), "{problems}");
}
