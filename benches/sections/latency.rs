//! The latency section of `make bench`: one clean test page (`clean300-001.png`, A4 at 300 dpi) from
//! submission to its OCR text on capture's warm pool, where the idle workers share its OCR, beside the
//! same page read in one pass by a pool of one worker, and beside plain `tesseract` on the same page
//! (as installed, and limited to one thread); then `sohoa ingest` of the page, from the process's start
//! to the document archived. `SOHOA_BENCH_ROUNDS` interleaved rounds (default 3), medians.
//!
//! The pools run in a child of this binary started with `OMP_THREAD_LIMIT=1`, as the appliance runs
//! them: libgomp reads the limit when it is loaded, before `main`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{cores, corpus, measure, sohoa_exe};

/// The argument that makes this binary the latency child.
pub const LATENCY_CHILD: &str = "latency-child";

/// The page measured: a clean sheet, the common case at the counter.
const PAGE: &str = "clean300-001.png";

/// The latency child: two warm pools, one of every core and one of a single worker, each read the
/// page as a one-page document after a first reading that starts their engines; prints the wall and
/// CPU seconds of each reading and whether the first pool split the page.
pub fn latency_child() {
    let config = capture::OcrConfig::system_default();
    let pool = |workers| capture::Capture::new(capture::OcrConfig { workers, ..config.clone() }).expect("capture");
    let (shared, alone) = (pool(cores()), pool(1));
    let read = |capture: &capture::Capture| {
        let (start, cpu) = (Instant::now(), cpu_time());
        let importer = scanner_driver::FileImporter::new(scanner_driver::ImportLimits::default(), 300.0);
        let page: capture::PageSource =
            Box::new(move || importer.import(&corpus(PAGE)).map(|mut pages| pages.remove(0)));
        let pages = capture.capture(vec![page], &mut |_| {}).expect("the page is read");
        assert!(!pages[0].text.lines.is_empty(), "no text read");
        (start.elapsed(), cpu_time() - cpu)
    };
    read(&shared);
    read(&alone);
    let before = shared.pages_split();
    let split = read(&shared);
    let one_pass = read(&alone);
    let secs = |d: Duration| d.as_secs_f64();
    let split_page = shared.pages_split() > before;
    println!("{} {} {} {} {split_page}", secs(split.0), secs(split.1), secs(one_pass.0), secs(one_pass.1));
}

/// CPU time this process has used, all threads.
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the zeroed, correctly sized structure it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The section: see the module's doc.
pub fn latency_section() {
    let work = tempfile::tempdir().expect("temporary directory");
    let w = work.path();
    let page = corpus(PAGE);
    let rounds: usize = std::env::var("SOHOA_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    println!("\n## latency: one page ({PAGE}) on {} cores, median of {rounds} interleaved rounds", cores());

    // An appliance that has ingested once already, so that its keys and stores exist before timing.
    let data = w.join("data");
    ingest(&data, &page);
    let mut runs: [Vec<(Duration, Duration)>; 5] = Default::default();
    let mut split_every_time = true;
    for _ in 0..rounds {
        let out = Command::new(std::env::current_exe().expect("the bench binary"))
            .arg(LATENCY_CHILD)
            .env("OMP_THREAD_LIMIT", "1")
            .stderr(Stdio::inherit())
            .output()
            .expect("the latency child runs");
        assert!(out.status.success(), "the latency child failed");
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        let fields: Vec<&str> = line.split_whitespace().collect();
        let secs = |i: usize| Duration::from_secs_f64(fields[i].parse().expect("seconds"));
        runs[0].push((secs(0), secs(1)));
        runs[1].push((secs(2), secs(3)));
        split_every_time &= fields[4] == "true";
        runs[2].push(tesseract(&page, &w.join("tess"), None));
        runs[3].push(tesseract(&page, &w.join("tess"), Some("1")));
        runs[4].push(ingest(&data, &page));
    }
    // The median run by wall time, with its CPU time.
    let [split, one_pass, tesseract, tesseract_one, ingest] = runs.map(|mut r| {
        r.sort();
        r[r.len() / 2]
    });
    println!("\n| path | wall s | CPU s |");
    println!("|---|---:|---:|");
    for (name, (wall, cpu)) in [
        ("sohoa capture, warm pool, split across idle workers (submission to OCR text)", split),
        ("sohoa capture, warm pool of one worker, one pass", one_pass),
        ("`tesseract PAGE out -l vie` (OpenMP as installed)", tesseract),
        ("`tesseract PAGE out -l vie`, `OMP_THREAD_LIMIT=1`", tesseract_one),
        ("`sohoa ingest PAGE` (process start to archived)", ingest),
    ] {
        println!("| {name} | {:.2} | {:.2} |", wall.as_secs_f64(), cpu.as_secs_f64());
    }
    let (split, one_pass, tesseract, ingest) = (split.0, one_pass.0, tesseract.0, ingest.0);
    println!("\n| ratio | value | target |");
    println!("|---|---:|---|");
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let r = ratio(split, tesseract);
    println!("| split page / plain tesseract, wall | {r:.2} | ≤ 0.7 {} |", if r <= 0.7 { "met" } else { "**MISSED**" });
    println!("| split page / one pass, wall | {:.2} | |", ratio(split, one_pass));
    println!("| sohoa ingest / plain tesseract, wall | {:.2} | |", ratio(ingest, tesseract));
    if !split_every_time {
        println!("(the pool did not split the page in every round: the figures mix split and whole readings)");
    }
}

/// Plain Tesseract on `page`, its text to `out`.txt; `threads` limits OpenMP when given. Wall and CPU.
fn tesseract(page: &Path, out: &Path, threads: Option<&str>) -> (Duration, Duration) {
    let mut cmd = Command::new("tesseract");
    cmd.arg(page).arg(out).args(["-l", "vie"]).stdout(Stdio::null());
    if let Some(threads) = threads {
        cmd.env("OMP_THREAD_LIMIT", threads);
    }
    let usage = measure(&mut cmd);
    (usage.wall, usage.cpu)
}

/// `sohoa ingest` of `page` into the appliance at `data`. Wall and CPU.
fn ingest(data: &Path, page: &Path) -> (Duration, Duration) {
    let usage = measure(
        Command::new(sohoa_exe())
            .arg("--data")
            .arg(data)
            .args(["ingest", "--owner", "001099012345", "--type", "HS", "--name", "Hồ sơ"])
            .arg(page)
            .stdout(Stdio::null()),
    );
    (usage.wall, usage.cpu)
}
