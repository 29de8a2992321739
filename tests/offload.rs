//! OCR offload over NATS JetStream (issue 22, part 3), against a real three-server cluster (see
//! `nats`) and real `sohoa worker` processes: a worker reads pages of a served appliance's document
//! and the archive holds exactly what a reading on the appliance alone gives (OCR is deterministic
//! for the same image and engine, and the appliance re-applies the worker's correction to its own
//! scan, so even the archived images are the same bytes); a worker killed mid-page leaves its page
//! to another, and each page is applied once; forged results are refused and their pages read on
//! the appliance; pages without a result in time are read on the appliance and the late results
//! dropped; an unreachable cluster leaves every page to the appliance.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::nats::Nats;
use crate::util::{PASSWORD, Server, Sohoa, corpus, open_archive};

/// Three real scans: one upright, one on its side, one skewed, so that applying a worker's reading
/// turns and deskews the appliance's own copy of the scan.
const PAGES: [&str; 3] = ["clean300-001.png", "sideways-001.png", "skew-001.png"];

/// A `sohoa worker` process and the lines it printed.
pub(crate) struct Worker {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Worker {
    pub(crate) fn start(nats: &Nats, ack_seconds: u64) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sohoa"))
            .args(["worker", "--nats", &nats.urls().join(","), "--engines", "1"])
            .args(["--ack-seconds", &ack_seconds.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sohoa worker starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (stdout, kept) = (child.stdout.take().unwrap(), Arc::clone(&lines));
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Worker { child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until the worker prints a line starting with `prefix`; the line.
    pub(crate) fn wait_for(&self, prefix: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| l.starts_with(prefix)) {
                return line;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "the worker never printed {prefix:?}: {:?}",
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pages of `code` it read and answered.
    pub(crate) fn pages_read(&self, code: &str) -> Vec<u32> {
        let prefix = format!("read {code} page ");
        self.lines().iter().filter_map(|l| l.strip_prefix(&prefix)?.split(' ').next()?.parse().ok()).collect()
    }

    /// SIGKILL, in the middle of whatever it does.
    pub(crate) fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A served appliance that offloads to `nats` as soon as one page waits, with an admin and a
/// station token.
struct Shop {
    s: Sohoa,
    server: Option<Server>,
    station: String,
    admin: String,
}

impl Shop {
    fn open(nats: &Nats, result_seconds: u64) -> Shop {
        Shop::with(&nats.offload_config(0, result_seconds))
    }

    /// A served appliance with `offload` as its `[offload]` section.
    fn with(offload: &str) -> Shop {
        let s = Sohoa::new();
        s.add_users(&[("admin", "admin")]);
        let issued: Value =
            serde_json::from_str(&s.ok_as("admin", &["--json", "tokens", "issue", "quay-1", "--purpose", "station"]))
                .unwrap();
        let station = issued["token"].as_str().unwrap().to_owned();
        let config = s.dir.path().join("sohoa.toml");
        std::fs::write(&config, format!("[scanner]\ntest_scanner = false\n[hot_folder]\nenabled = false\n{offload}"))
            .unwrap();
        let server = Server::start(&s, &config, &s.dir.path().join("serve.log"));
        let login = curl(&[
            "-H",
            "content-type: application/json",
            "-d",
            &serde_json::json!({ "username": "admin", "password": PASSWORD }).to_string(),
            &format!("{}/api/login", server.url),
        ]);
        let admin = serde_json::from_str::<Value>(&login).unwrap()["token"].as_str().unwrap().to_owned();
        Shop { s, server: Some(server), station, admin }
    }

    fn url(&self) -> String {
        self.server.as_ref().unwrap().url.clone()
    }

    /// Captures the test pages as one document; its code.
    fn capture(&self) -> String {
        let mut args: Vec<String> = vec!["-H".into(), format!("authorization: Bearer {}", self.station)];
        for field in ["owner=001099012345", "type=GPXD", "name=Giấy phép xây dựng"] {
            args.extend(["-F".into(), field.into()]);
        }
        for page in PAGES {
            args.extend(["-F".into(), format!("page=@{}", corpus(page).display())]);
        }
        args.push(format!("{}/api/documents", self.url()));
        let answer = curl(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let answer: Value = serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
        answer["code"].as_str().unwrap_or_else(|| panic!("not captured: {answer}")).to_owned()
    }

    /// Waits until the reading queue is empty.
    fn drained(&self) {
        let started = Instant::now();
        loop {
            let auth = format!("authorization: Bearer {}", self.station);
            let queue: Value =
                serde_json::from_str(&curl(&["-H", &auth, &format!("{}/api/queue", self.url())])).unwrap_or_default();
            if queue["depth"] == 0 {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(600), "the queue never drained: {queue}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// `sohoa_offload_pages_total{outcome}` now.
    fn offloaded(&self, outcome: &str) -> u64 {
        let auth = format!("authorization: Bearer {}", self.admin);
        let metrics = curl(&["-H", &auth, &format!("{}/metrics", self.url())]);
        let line = format!("sohoa_offload_pages_total{{outcome=\"{outcome}\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(&line)).map_or(0, |n| n.parse().unwrap())
    }

    /// Stops the server; the archived document's pages, as (text, image hash).
    fn archived(&mut self, code: &str) -> Vec<(String, String)> {
        self.server.take().unwrap().stop();
        pages_of(&self.s, code)
    }
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").args(["-sS", "--max-time", "120"]).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The pages of an archived document: each one's text and image hash.
fn pages_of(s: &Sohoa, code: &str) -> Vec<(String, String)> {
    let record = open_archive(&s.data()).record(&code.parse().unwrap()).unwrap().expect("archived");
    record.pages.iter().map(|p| (p.text.clone(), p.image.to_hex())).collect()
}

/// The same pages read by an appliance alone.
fn read_alone() -> Vec<(String, String)> {
    let s = Sohoa::new();
    let mut args = vec!["ingest", "--owner", "001099012345", "--type", "GPXD", "--name", "Giấy phép xây dựng"];
    let files: Vec<String> = PAGES.iter().map(|p| corpus(p).display().to_string()).collect();
    args.extend(files.iter().map(String::as_str));
    let code = s.ok(&args).trim().to_owned();
    pages_of(&s, &code)
}

#[test]
fn a_worker_reads_a_documents_pages_and_the_archive_holds_what_the_appliance_alone_reads() {
    let nats = Nats::start();
    let worker = Worker::start(&nats, 30);
    let mut shop = Shop::open(&nats, 600);
    let code = shop.capture();
    shop.drained();
    let read = worker.pages_read(&code);
    assert!(!read.is_empty(), "the worker read none of {code}: {:?}", worker.lines());
    assert_eq!(shop.offloaded("applied"), read.len() as u64, "{:?}", worker.lines());
    assert_eq!((shop.offloaded("invalid"), shop.offloaded("timed_out")), (0, 0));
    assert_eq!(shop.archived(&code), read_alone(), "pages read by a worker differ from the appliance's own reading");
}

#[test]
fn a_worker_killed_mid_page_leaves_it_to_another_and_every_page_is_applied_once() {
    let nats = Nats::start();
    let mut first = Worker::start(&nats, 3);
    let mut shop = Shop::open(&nats, 600);
    let code = shop.capture();
    let reading = first.wait_for(&format!("reading {code} page "));
    first.kill();
    let killed_on: u32 = reading.split(' ').nth(3).unwrap().parse().unwrap();
    // Whatever the first worker answered before it died, the second reads the rest, and the page it
    // died on once its ack wait is over.
    let second = Worker::start(&nats, 3);
    shop.drained();
    let (by_first, by_second) = (first.pages_read(&code), second.pages_read(&code));
    assert!(!by_first.contains(&killed_on) && by_second.contains(&killed_on), "{by_first:?} {by_second:?}");
    let answered = (by_first.len() + by_second.len()) as u64;
    assert_eq!(shop.offloaded("sent"), PAGES.len() as u64);
    assert_eq!(shop.offloaded("applied") + shop.offloaded("duplicate"), answered);
    assert_eq!(shop.offloaded("applied"), PAGES.len() as u64, "every page once");
    assert_eq!((shop.offloaded("invalid"), shop.offloaded("timed_out")), (0, 0));
    assert_eq!(shop.archived(&code), read_alone());
}

#[test]
fn forged_results_are_refused_and_their_pages_read_on_the_appliance() {
    use async_nats::jetstream::{self, consumer::pull, message::PublishMessage};
    use futures_util::StreamExt;
    use sohoa::offload::{JobResult, ResultBody, decode_job};

    let nats = Nats::start();
    let mut shop = Shop::open(&nats, 600);
    let code = shop.capture();
    // The test is the worker, a hostile one: each job gets a forged answer.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(nats.urls()[1].as_str()).await.unwrap();
        let js = jetstream::new(client);
        let jobs = js.get_stream("SOHOA_OCR").await.unwrap();
        let config = pull::Config { durable_name: Some("workers".into()), ..Default::default() };
        let consumer = jobs.get_or_create_consumer("workers", config).await.unwrap();
        let mut messages =
            consumer.fetch().max_messages(PAGES.len()).expires(Duration::from_secs(30)).messages().await.unwrap();
        let mut answered = 0;
        while let Some(message) = messages.next().await {
            let message = message.unwrap();
            let (header, image) = decode_job(&message.payload).unwrap();
            let size = image::load_from_memory(image).map(|i| (i.width(), i.height())).unwrap();
            let word = capture::Word { text: "giả".into(), left: 0, top: 0, width: 10, height: 10, confidence: 99.0 };
            let mut reading = capture::PageReading {
                correction: capture::Correction::default(),
                text: capture::PageText { lines: vec![capture::Line { top: 0, height: 10, words: vec![word] }] },
                blank: false,
                size,
            };
            let mut page = header.page;
            match header.page {
                // A box outside the page.
                1 => reading.text.lines[0].words[0].left = size.0 + 100,
                // The size of another image.
                2 => reading.size = (size.0 + 1, size.1),
                // A well-formed reading that answers another page than its job's.
                _ => page += 1,
            }
            let result =
                JobResult { job: header.job.clone(), document: header.document, page, body: ResultBody::Read(reading) };
            let publish = PublishMessage::build().payload(serde_json::to_vec(&result).unwrap().into());
            js.send_publish(header.reply, publish).await.unwrap().await.unwrap();
            message.double_ack().await.unwrap();
            answered += 1;
        }
        assert_eq!(answered, PAGES.len());
    });
    shop.drained();
    assert_eq!((shop.offloaded("invalid"), shop.offloaded("applied")), (PAGES.len() as u64, 0));
    assert_eq!(shop.archived(&code), read_alone(), "the forged texts must not be archived");
}

#[test]
fn pages_without_a_result_in_time_are_read_here_and_late_results_are_dropped() {
    let nats = Nats::start();
    // No worker yet: every page waits past its deadline and is read by the appliance.
    let mut shop = Shop::open(&nats, 2);
    let code = shop.capture();
    shop.drained();
    assert_eq!((shop.offloaded("sent"), shop.offloaded("timed_out")), (PAGES.len() as u64, PAGES.len() as u64));
    // A worker that comes later reads the jobs still queued; their results find nobody waiting.
    let worker = Worker::start(&nats, 30);
    let started = Instant::now();
    while shop.offloaded("duplicate") < PAGES.len() as u64 {
        assert!(started.elapsed() < Duration::from_secs(300), "late results not dropped: {:?}", worker.lines());
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(shop.offloaded("applied"), 0);
    assert_eq!(shop.archived(&code), read_alone());
}

#[test]
fn an_unreachable_cluster_leaves_every_page_to_the_appliance() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut shop = Shop::with(&format!("[offload]\nservers = [\"nats://127.0.0.1:{port}\"]\nwhen_pages_waiting = 0\n"));
    let code = shop.capture();
    shop.drained();
    assert_eq!(shop.offloaded("sent"), 0);
    assert_eq!(shop.archived(&code).len(), PAGES.len());
}
