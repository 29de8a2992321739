//! One province end to end: three offices (three data directories, three `sohoa serve` processes),
//! each replicating to its own locked bucket in a real object store, publishing to one real
//! PostgreSQL index and naming the other two as peers. What one office archives reaches the store
//! locked and is offered for reuse at another office once verified there from the store's evidence,
//! and no longer once revoked; `sohoa worker` processes on a NATS JetStream cluster read some of
//! its pages, one of them killed mid-page; nothing is lost to the store's outage, the index's
//! restart or a `kill -9` of the office with its outbox full; and at the end every office finds the
//! store's copies intact (`fixity --remote`) and the other offices' logs consistent
//! (`fixity --province`).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::DisplayErrorContext;
use serde_json::Value;

use crate::nats::Nats;
use crate::object_store::Weed;
use crate::offload::Worker;
use crate::postgres::Postgres;
use crate::util::{PASSWORD, Server, Sohoa, corpus};

/// The offices, by the letter that names their origin and bucket.
const OFFICES: [&str; 3] = ["a", "b", "c"];

/// One office: its data directory, configuration, key id and the tokens its tests use.
struct Office {
    s: Sohoa,
    letter: &'static str,
    config: PathBuf,
    log: PathBuf,
    /// The current seal key's id, which the other offices pin.
    key: String,
    /// A station token, to capture.
    station: String,
    server: Option<Server>,
}

impl Office {
    fn new(weed: &Weed, letter: &'static str) -> Office {
        let mut s = Sohoa::new();
        s.env = weed.env();
        s.add_users(&[("admin", "admin"), ("alice", "archivist"), ("aud", "auditor"), ("olga", "officer")]);
        let keys: Value = serde_json::from_str(&s.ok(&["--json", "keys", "export"])).unwrap();
        let issued = s.ok_as("admin", &["--json", "tokens", "issue", "quay-1", "--purpose", "station"]);
        let station = serde_json::from_str::<Value>(&issued).unwrap()["token"].as_str().unwrap().to_owned();
        weed.make_locked_bucket(&Office::bucket_of(letter));
        Office {
            config: s.dir.path().join("sohoa.toml"),
            log: s.dir.path().join("serve.log"),
            key: keys["current"].as_str().unwrap().to_owned(),
            s,
            letter,
            station,
            server: None,
        }
    }

    fn bucket_of(letter: &str) -> String {
        format!("sohoa-office-{letter}")
    }

    fn origin_of(letter: &str) -> String {
        format!("{letter}.tinh.example.gov.vn/sohoa")
    }

    fn name_of(letter: &str) -> String {
        format!("UBND phường {}", letter.to_uppercase())
    }

    /// Writes the configuration: this office's log and bucket, the province index, the other
    /// offices as its peers, and `extra` (another section).
    fn configure(&self, weed: &Weed, index: &Postgres, offices: &[(&str, String)], extra: &str) {
        let mut text = format!(
            "[scanner]\ntest_scanner = false\n[hot_folder]\nenabled = false\n[archive]\norigin = \"{}\"\ncheckpoint_seconds = 2\n{}[province]\noffice = \"{}\"\nindex = \"{}\"\n",
            Office::origin_of(self.letter),
            weed.config(&Office::bucket_of(self.letter)),
            Office::name_of(self.letter),
            index.conninfo(),
        );
        for (letter, key) in offices.iter().filter(|(letter, _)| *letter != self.letter) {
            text.push_str(&format!(
                "[[province.peers]]\noffice = \"{}\"\norigin = \"{}\"\nkeys = [\"{key}\"]\nbucket = \"{}\"\n",
                Office::name_of(letter),
                Office::origin_of(letter),
                Office::bucket_of(letter),
            ));
        }
        text.push_str(extra);
        std::fs::write(&self.config, text).unwrap();
    }

    fn serve(&mut self) {
        assert!(self.server.is_none());
        self.server = Some(Server::start(&self.s, &self.config, &self.log));
    }

    /// `sohoa_offload_pages_total{outcome}` now, as `admin` reads `/metrics`.
    fn offloaded(&self, admin: &str, outcome: &str) -> u64 {
        let out = Command::new("curl")
            .args(["-sS", "-H", &format!("authorization: Bearer {admin}"), &format!("{}/metrics", self.url())])
            .output()
            .unwrap();
        let line = format!("sohoa_offload_pages_total{{outcome=\"{outcome}\"}} ");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| Some(l.strip_prefix(&line)?.parse().unwrap()))
            .unwrap_or(0)
    }

    fn url(&self) -> &str {
        &self.server.as_ref().expect("the office is serving").url
    }

    /// SIGKILL.
    fn kill(&mut self) {
        self.server.take().expect("the office is serving").kill();
    }

    /// SIGTERM, which must end the server cleanly.
    fn stop(&mut self) {
        assert!(self.server.take().expect("the office is serving").stop().success());
    }

    /// `curl` against the server with `token`; the JSON answer.
    fn curl(&self, token: &str, args: &[&str]) -> Value {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "300", "-H", &format!("authorization: Bearer {token}")])
            .args(args)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{args:?}: {e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        })
    }

    /// A session of `user`.
    fn login(&self, user: &str) -> String {
        let out = Command::new("curl")
            .args(["-sS", "-H", "content-type: application/json", "-d"])
            .arg(serde_json::json!({ "username": user, "password": PASSWORD }).to_string())
            .arg(format!("{}/api/login", self.url()))
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["token"].as_str().unwrap().to_owned()
    }

    /// Captures a document of the given test pages for `owner` at the station; its code.
    fn capture(&self, owner: &str, pages: &[&str]) -> String {
        let mut args: Vec<String> = ["-F", &format!("owner={owner}"), "-F", "type=GKS", "-F", "name=Giấy khai sinh"]
            .map(str::to_owned)
            .to_vec();
        for page in pages {
            args.extend(["-F".to_owned(), format!("page=@{}", corpus(page).display())]);
        }
        args.push(format!("{}/api/documents", self.url()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let answer = self.curl(&self.station, &args);
        answer["code"].as_str().unwrap_or_else(|| panic!("capture refused: {answer}")).to_owned()
    }

    /// The replication lag, as an auditor reads it.
    fn lag(&self, auditor: &str) -> Value {
        self.curl(auditor, &[&format!("{}/api/replication", self.url())])
    }

    /// Waits until nothing is left to read and replication has caught up, for at most five minutes.
    fn settled(&self, auditor: &str) {
        let started = Instant::now();
        loop {
            let queue = self.curl(&self.station, &[&format!("{}/api/queue", self.url())]);
            let lag = self.lag(auditor);
            if queue["depth"] == 0 && lag["events_behind"] == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "office {} never settled: {queue} {lag}",
                self.letter
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Waits until the province reuse lookup for `owner`, asked of this office by `officer`, offers
    /// document `code` (or, with `offered` false, no longer does), for at most two minutes; the last
    /// answer.
    fn wait_for_offer(&self, officer: &str, owner: &str, code: &str, offered: bool) -> Value {
        let started = Instant::now();
        loop {
            let answer = self.curl(officer, &[&format!("{}/api/province/reuse?owner={owner}", self.url())]);
            let offers = answer["offers"].as_array().cloned().unwrap_or_default();
            if offers.iter().any(|o| o["code"] == code) == offered {
                return answer;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "office {}: {code} offered is not {offered}: {answer}",
                self.letter
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// `sohoa --config CONFIG --json ARGS` with the office stopped: whether it passed, and its report.
    fn command(&self, args: &[&str]) -> (bool, Value) {
        let out = self.s.command().arg("--config").arg(&self.config).arg("--json").args(args).output().unwrap();
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{args:?}: {e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        });
        (out.status.success(), report)
    }
}

#[test]
fn three_offices_of_a_province_keep_each_other_honest_through_outages_and_kills() {
    let mut weed = Weed::start();
    let province_dir = tempfile::tempdir().unwrap();
    let mut index = Postgres::start_in(province_dir.path(), "");
    let nats = Nats::start();
    let mut offices: Vec<Office> = OFFICES.iter().map(|letter| Office::new(&weed, letter)).collect();
    let keys: Vec<(&str, String)> = offices.iter().map(|o| (o.letter, o.key.clone())).collect();
    for office in &mut offices {
        // A sends its pages to the workers as soon as one waits.
        let offload = if office.letter == "a" { nats.offload_config(0, 600) } else { String::new() };
        office.configure(&weed, &index, &keys, &offload);
        office.serve();
    }
    let [a, b, c] = &mut offices[..] else { unreachable!() };
    let a_auditor = a.login("aud");
    let (b_officer, c_officer) = (b.login("olga"), c.login("olga"));
    let a_admin = a.login("admin");

    // A archives a citizen's birth certificate, whose pages a worker reads: the first worker is
    // killed in the middle of a page, which a second one reads again once its ack wait is over, and
    // every page is applied once.
    let mut killed_worker = Worker::start(&nats, 3);
    let first = a.capture("079099001234", &["clean300-001.png", "sideways-001.png"]);
    let reading = killed_worker.wait_for(&format!("reading {first} page "));
    killed_worker.kill();
    let killed_on: u32 = reading.split(' ').nth(3).unwrap().parse().unwrap();
    let worker = Worker::start(&nats, 3);
    a.settled(&a_auditor);
    let (by_killed, by_worker) = (killed_worker.pages_read(&first), worker.pages_read(&first));
    assert!(!by_killed.contains(&killed_on) && by_worker.contains(&killed_on), "{by_killed:?} {by_worker:?}");
    assert_eq!(a.offloaded(&a_admin, "applied"), 2, "every page applied once");
    assert_eq!((a.offloaded(&a_admin, "invalid"), a.offloaded(&a_admin, "timed_out")), (0, 0));

    // It reaches A's bucket locked, and B and C offer it for reuse, verified from A's evidence in
    // the store, naming A.
    let answer = b.wait_for_offer(&b_officer, "079099001234", &first, true);
    let offer = answer["offers"].as_array().unwrap().iter().find(|o| o["code"] == first).unwrap();
    assert_eq!(offer["office"], Office::name_of("a"), "{answer}");
    assert!(answer["refused"].as_array().unwrap().is_empty(), "{answer}");
    c.wait_for_offer(&c_officer, "079099001234", &first, true);
    let client = weed.client();
    let evidence = weed
        .runtime
        .block_on(client.list_objects_v2().bucket(Office::bucket_of("a")).prefix(format!("documents/{first}/")).send())
        .unwrap();
    let key = evidence.contents()[0].key().unwrap().to_owned();
    let versions = weed
        .runtime
        .block_on(client.list_object_versions().bucket(Office::bucket_of("a")).prefix(&key).send())
        .unwrap();
    let version = versions.versions()[0].version_id().unwrap().to_owned();
    // Deleting its evidence in the store is refused by Object Lock.
    let delete = client.delete_object().bucket(Office::bucket_of("a")).key(&key).version_id(&version);
    let refused = weed.runtime.block_on(delete.send());
    assert!(refused.is_err(), "the store deleted a locked version of {key}");
    let error = DisplayErrorContext(refused.unwrap_err()).to_string();
    assert!(error.contains("AccessDenied") || error.contains("locked") || error.contains("retention"), "{error}");

    // The store stopped while A archives: nothing is lost, the lag is reported, then caught up.
    weed.stop();
    let during = a.capture("079099005678", &["skew-001.png"]);
    let started = Instant::now();
    while a.lag(&a_auditor)["events_behind"] == 0 {
        assert!(started.elapsed() < Duration::from_secs(300), "no lag reported with the store down");
        std::thread::sleep(Duration::from_millis(500));
    }
    weed.resume();
    a.settled(&a_auditor);
    b.wait_for_offer(&b_officer, "079099005678", &during, true);

    // The index restarted while A publishes: what A archived meanwhile is offered once it is back.
    index.stop();
    let unpublished = a.capture("079099003456", &["jpeg200-001.jpg"]);
    a.settled(&a_auditor);
    let answer = b.curl(&b_officer, &[&format!("{}/api/province/reuse?owner=079099003456", b.url())]);
    assert!(answer["province_unavailable"].is_string(), "{answer}");
    index.resume();
    b.wait_for_offer(&b_officer, "079099003456", &unpublished, true);

    // A killed -9 with its outbox full (the store and the index down), started again with both back.
    weed.stop();
    index.stop();
    let killed = a.capture("079099009012", &["stamped-001.png"]);
    let started = Instant::now();
    while a.curl(&a.station, &[&format!("{}/api/queue", a.url())])["depth"] != 0
        || a.lag(&a_auditor)["events_behind"] == 0
    {
        assert!(started.elapsed() < Duration::from_secs(300), "the document was never read with the store down");
        std::thread::sleep(Duration::from_millis(500));
    }
    a.kill();
    weed.resume();
    index.resume();
    a.serve();
    let a_auditor = a.login("aud");
    a.settled(&a_auditor);
    c.wait_for_offer(&c_officer, "079099009012", &killed, true);

    // Revoked at A: the revocation reaches A's bucket as evidence too.
    let archivist = a.login("alice");
    let revoked = a.curl(
        &archivist,
        &[
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"reason":"cấp sai"}"#,
            &format!("{}/api/documents/{first}/revoke", a.url()),
        ],
    );
    assert!(revoked.get("error").is_none(), "{revoked}");
    a.settled(&a_auditor);
    // Revoked at A, it is no longer offered at B.
    b.wait_for_offer(&b_officer, "079099001234", &first, false);

    // At the end, with every office stopped: each finds its copies in the store intact and the other
    // offices' logs consistent.
    for office in [&mut *a, &mut *b, &mut *c] {
        office.stop();
    }
    for office in [&*a, &*b, &*c] {
        let (intact, report) = office.command(&["fixity", "--remote"]);
        assert!(intact, "office {}: {report}", office.letter);
        let (intact, report) = office.command(&["fixity", "--province"]);
        assert!(intact, "office {}: {report}", office.letter);
        for peer in report["peers"].as_array().unwrap() {
            assert!(peer["witnessed_size"].is_u64(), "office {} witnessed nothing of {peer}", office.letter);
        }
    }
    let (_, a_report) = b.command(&["fixity", "--province"]);
    let of_a = a_report["peers"].as_array().unwrap().iter().find(|p| p["office"] == Office::name_of("a")).unwrap();
    assert!(of_a["witnessed_size"].as_u64().unwrap() >= 5, "{a_report}");
}
