//! The OCR offload part of the province section (`make bench BENCH=province`): the test pages
//! (`tests/data/pages`), `SOHOA_BENCH_OFFLOAD_DOCS` documents of them (default 3), captured by an
//! appliance opened in this process and read by its readers, alone, then with 1, 2 and 3 `sohoa
//! worker` processes (one OCR engine each) on a three-server NATS JetStream cluster on loopback (as
//! the tests run it). On this machine the workers share the appliance's cores, so pages/s cannot
//! rise much past the local figure: the figure to watch is the overhead per page, measured on one
//! document at a time with every page offloaded to one worker (nothing read locally meanwhile),
//! beside the same document read locally: the wall time per page past the worker's own reading
//! (transfer, queueing and applying the result), and the appliance's CPU per page (applying a
//! reading: decoding its own scan, re-applying the correction, hashing).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sohoa::{Appliance, IngestRequest};

use crate::nats::Nats;
use crate::util::{corpus, corpus_pages};

/// A `sohoa worker` with one engine; the milliseconds of each page it read, as it prints them.
struct Worker {
    child: Child,
    millis: Arc<Mutex<Vec<u64>>>,
}

impl Worker {
    fn start(nats: &Nats) -> Worker {
        let mut child = Command::new(crate::sohoa_exe())
            .args(["worker", "--nats", &nats.urls().join(","), "--engines", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sohoa worker starts");
        let millis = Arc::new(Mutex::new(Vec::new()));
        let (stdout, kept) = (child.stdout.take().unwrap(), Arc::clone(&millis));
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("read ")
                    && let Some(ms) = line.rsplit(" in ").next().and_then(|t| t.trim_end_matches(" ms").parse().ok())
                {
                    kept.lock().unwrap().push(ms);
                }
            }
        });
        Worker { child, millis }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the child's own pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// The test pages as one document's files.
fn pages() -> Vec<(PathBuf, Vec<u8>)> {
    corpus_pages().iter().map(|p| (PathBuf::from(p), std::fs::read(corpus(p)).expect("test page"))).collect()
}

/// An appliance in `dir`, offloading to `nats` when given, as soon as one page waits.
fn open(dir: &Path, nats: Option<&Nats>, documents_at_once: usize) -> Appliance {
    let config = dir.join("sohoa.toml");
    let offload = nats
        .map_or(String::new(), |n| format!("{}documents_at_once = {documents_at_once}\n", n.offload_config(0, 600)));
    std::fs::write(&config, format!("[scanner]\ntest_scanner = false\n{offload}")).expect("configuration");
    let config = sohoa::config::Config::load(Some(&config)).expect("configuration loads");
    Appliance::open_with(&dir.join("data"), &config).expect("appliance opens")
}

fn capture(appliance: &Appliance, docs: usize) -> usize {
    let mut pages_total = 0;
    for _ in 0..docs {
        let pages = pages();
        pages_total += pages.len();
        let request =
            IngestRequest { metadata: crate::util::draft("bench"), pages, actor: "bench".into(), source: None };
        appliance.capture(request).expect("captured");
    }
    pages_total
}

/// This process's CPU time so far.
fn cpu() -> Duration {
    // SAFETY: getrusage into a zeroed, correctly sized struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let t = |v: libc::timeval| Duration::new(v.tv_sec as u64, v.tv_usec as u32 * 1000);
    t(usage.ru_utime) + t(usage.ru_stime)
}

/// Reads the whole queue with the served appliance's readers; the wall time.
fn drain(appliance: Appliance) -> (Duration, u64) {
    let appliance = Arc::new(appliance);
    let started = Instant::now();
    let readers = sohoa::queue::spawn_readers(Arc::clone(&appliance)).expect("readers start");
    while appliance.reading_queue().report().depth > 0 {
        std::thread::sleep(Duration::from_millis(50));
    }
    let wall = started.elapsed();
    appliance.reading_queue().stop();
    for reader in readers {
        reader.join().expect("a reader");
    }
    (wall, appliance.metrics().offload_counter().get("applied"))
}

pub fn offload_section() {
    let docs: usize = std::env::var("SOHOA_BENCH_OFFLOAD_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let nats = Nats::start();
    println!("\n## province: OCR offload to `sohoa worker` over a 3-server NATS JetStream cluster on loopback");
    println!("| OCR workers | pages | pages read by workers | wall, s | pages/s |\n|---:|---:|---:|---:|---:|");
    for workers in 0..=3 {
        let dir = tempfile::tempdir_in(crate::util::repo()).expect("temporary directory");
        let appliance = open(dir.path(), (workers > 0).then_some(&nats), 2);
        let pages = capture(&appliance, docs);
        let running: Vec<Worker> = (0..workers).map(|_| Worker::start(&nats)).collect();
        let (wall, applied) = drain(appliance);
        drop(running);
        println!(
            "| {workers} | {pages} | {applied} | {:.1} | {:.2} |",
            wall.as_secs_f64(),
            pages as f64 / wall.as_secs_f64()
        );
    }

    // The overhead: one document at a time, all of it offloaded to one worker, beside the same
    // document read here.
    let mut rows = Vec::new();
    for offloaded in [false, true] {
        let dir = tempfile::tempdir_in(crate::util::repo()).expect("temporary directory");
        let appliance = open(dir.path(), offloaded.then_some(&nats), 1);
        let pages = capture(&appliance, 1);
        let worker = offloaded.then(|| Worker::start(&nats));
        let (started, cpu_before) = (Instant::now(), cpu());
        assert_eq!(appliance.read_queue(&mut |_, _| {}), 1, "the document is archived");
        let (wall, cpu_used) = (started.elapsed(), cpu() - cpu_before);
        let worker_ms = worker.as_ref().map_or(0.0, |w| {
            let ms = w.millis.lock().unwrap();
            ms.iter().sum::<u64>() as f64 / ms.len().max(1) as f64
        });
        rows.push((offloaded, pages, wall, cpu_used, worker_ms));
    }
    println!(
        "\n| one document, read | wall per page, ms | worker's reading per page, ms | overhead per page, ms | appliance CPU per page, ms |\n|---|---:|---:|---:|---:|"
    );
    for (offloaded, pages, wall, cpu_used, worker_ms) in rows {
        let per_page = wall.as_secs_f64() * 1000.0 / pages as f64;
        let overhead = if offloaded { format!("{:.0}", per_page - worker_ms) } else { "—".into() };
        println!(
            "| {} | {per_page:.0} | {} | {overhead} | {:.0} |",
            if offloaded { "by one worker (every page offloaded)" } else { "here (2 engines)" },
            if offloaded { format!("{worker_ms:.0}") } else { "—".into() },
            cpu_used.as_secs_f64() * 1000.0 / pages as f64
        );
    }
}
