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
/// page as a one-page document after a first reading that starts their engines; prints the wall, CPU
/// and busiest thread's CPU seconds of each reading and whether the first pool split the page.
pub fn latency_child() {
    let config = capture::OcrConfig::system_default();
    let pool = |workers| capture::Capture::new(capture::OcrConfig { workers, ..config.clone() }).expect("capture");
    let (shared, alone) = (pool(cores()), pool(1));
    let read = |capture: &capture::Capture| {
        let (start, cpu, threads) = (Instant::now(), cpu_time(), thread_cpu_times());
        let importer = scanner_driver::FileImporter::new(scanner_driver::ImportLimits::default(), 300.0);
        let page: capture::PageSource =
            Box::new(move || importer.import(&corpus(PAGE)).map(|mut pages| pages.remove(0)));
        let pages = capture.capture(vec![page], &mut |_| {}).expect("the page is read");
        assert!(!pages[0].text.lines.is_empty(), "no text read");
        let after = thread_cpu_times();
        let longest = after.iter().map(|(tid, t)| *t - threads.get(tid).copied().unwrap_or_default()).max();
        (start.elapsed(), cpu_time() - cpu, longest.unwrap_or_default())
    };
    read(&shared);
    read(&alone);
    let before = shared.pages_split();
    let split = read(&shared);
    let one_pass = read(&alone);
    let secs = |d: Duration| d.as_secs_f64();
    let split_page = shared.pages_split() > before;
    let (s, o) = (split, one_pass);
    println!("{} {} {} {} {} {} {split_page}", secs(s.0), secs(s.1), secs(s.2), secs(o.0), secs(o.1), secs(o.2));
}

/// CPU time of each thread of this process, by thread id, from `/proc/self/task/*/stat` (user and
/// system clock ticks, fields 14 and 15).
fn thread_cpu_times() -> std::collections::HashMap<String, Duration> {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut times = std::collections::HashMap::new();
    for task in std::fs::read_dir("/proc/self/task").expect("/proc is mounted").flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        // The command name, in parentheses, may hold spaces: the fields are counted after it.
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        // Field 14 (utime) is the 12th after the name and state.
        let used = (tick(11) + tick(12)) as f64 / ticks;
        times.insert(task.file_name().to_string_lossy().into_owned(), Duration::from_secs_f64(used));
    }
    times
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
    // Wall, CPU, and the CPU of the busiest thread where it is known (the pools).
    let mut runs: [Vec<(Duration, Duration, Option<Duration>)>; 5] = Default::default();
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
        runs[0].push((secs(0), secs(1), Some(secs(2))));
        runs[1].push((secs(3), secs(4), Some(secs(5))));
        split_every_time &= fields[6] == "true";
        let process = |(wall, cpu): (Duration, Duration)| (wall, cpu, None);
        runs[2].push(process(tesseract(&page, &w.join("tess"), None)));
        runs[3].push(process(tesseract(&page, &w.join("tess"), Some("1"))));
        runs[4].push(process(ingest(&data, &page)));
    }
    // The median run by wall time, with its CPU times.
    let [split, one_pass, tesseract, tesseract_one, ingest] = runs.map(|mut r| {
        r.sort();
        r[r.len() / 2]
    });
    println!("\n| path | wall s | CPU s | busiest thread CPU s |");
    println!("|---|---:|---:|---:|");
    for (name, (wall, cpu, busiest)) in [
        ("sohoa capture, warm pool, split across idle workers (submission to OCR text)", split),
        ("sohoa capture, warm pool of one worker, one pass", one_pass),
        ("`tesseract PAGE out -l vie` (OpenMP as installed)", tesseract),
        ("`tesseract PAGE out -l vie`, `OMP_THREAD_LIMIT=1`", tesseract_one),
        ("`sohoa ingest PAGE` (process start to archived)", ingest),
    ] {
        let busiest = busiest.map_or("".to_owned(), |b| format!("{:.2}", b.as_secs_f64()));
        println!("| {name} | {:.2} | {:.2} | {busiest} |", wall.as_secs_f64(), cpu.as_secs_f64());
    }
    println!("\n| ratio | value | target |");
    println!("|---|---:|---|");
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let r = ratio(split.0, tesseract.0);
    println!("| split page / plain tesseract, wall | {r:.2} | ≤ 0.7 {} |", if r <= 0.7 { "met" } else { "**MISSED**" });
    println!("| split page / one pass, wall | {:.2} | |", ratio(split.0, one_pass.0));
    println!("| split page / one pass, CPU | {:.2} | |", ratio(split.1, one_pass.1));
    // On an idle machine a page takes about the CPU time of its busiest thread, and single-threaded
    // Tesseract its CPU time: this ratio is what the wall ratio would be without other load.
    let busiest = split.2.unwrap_or(split.1);
    println!("| split page busiest thread CPU / tesseract (1 thread) CPU | {:.2} | |", ratio(busiest, tesseract_one.1));
    println!("| sohoa ingest / plain tesseract, wall | {:.2} | |", ratio(ingest.0, tesseract.0));
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
