//! `make bench`: real workloads on real data, each beside the peer it must beat, measured in the same
//! run on the same cores, and printed as ratios against the targets of the issues. Absolute times on
//! small shared machines are noisy; the side-by-side ratios are what count.
//!
//! Sections (all by default, or those named: `make bench BENCH=capture`):
//! - `capture`: the test pages (`tests/data/pages`) through sohoa, OCRmyPDF and plain Tesseract, in
//!   `SOHOA_BENCH_ROUNDS` interleaved rounds (default 3, the median counts), then a batch of
//!   `SOHOA_BENCH_BATCH_PAGES` pages (default 500) through sohoa for its peak memory.
//! - `capture-queue`: feeder batches from SANE's `test` backend captured and acknowledged while the
//!   reading queue works through them, beside the synchronous path of before on the same pages
//!   (`benches/sections/capture_queue.rs`).
//! - `latency`: one clean page from submission to OCR text on capture's warm pool (its OCR split across
//!   the idle workers) beside one pass on one worker and plain Tesseract, and `sohoa ingest` of the page
//!   (`benches/sections/latency.rs`).
//! - `signer`: on one core, Ed25519 document seals per second beside Python `cryptography` signing
//!   the same manifest, and PAdES signatures per second of a captured PDF/A (software key, RSA-PSS
//!   and ECDSA) beside pyHanko signing the same file with the same key, both in-process.
//! - `archive`: synced ingest of already-OCRed documents (10 pages and a PDF, of 200 KB, 2 MB and
//!   20 MB each, or the list in `SOHOA_BENCH_ARCHIVE_DOC_KB`; two clients; `SOHOA_BENCH_ARCHIVE_DOCS`
//!   each, by default 800 MB's worth, at most 2000) beside plain files with fsync, bytes on disk per
//!   logical byte with 20% duplicate pages, the peak memory of `sohoa ingest` of one document of
//!   `SOHOA_BENCH_ARCHIVE_BIG_PAGES` pages (default 500), and random reads with hash verification at
//!   `SOHOA_BENCH_ARCHIVE_PAGES` stored pages (default 1,000,000) beside one file per page.
//! - `search`: `SOHOA_BENCH_SEARCH_PAGES` generated pages (default 1,000,000) indexed by sohoa and
//!   loaded into PostgreSQL (`unaccent` + GIN) in a private cluster; build rate, size per page, and
//!   reuse and full-text latency under 8 concurrent clients on both.
//! - `scanner`: pages per minute through the SANE driver from SANE's `test` backend (A4, 300 dpi,
//!   gray, feeder) beside `scanimage --batch` on the same backend.
//! - `load`: the served appliance under 200 concurrent clients mixing password guessing, searches and
//!   verifications for 60 s while a batch is captured; every legitimate request must succeed, and the
//!   server's memory is sampled (`benches/sections/load.rs`).
//! - `province`: replication of `SOHOA_BENCH_PROVINCE_DOCS` archived documents of 2 MB (default 200)
//!   to SeaweedFS on loopback by `sohoa replicate`, beside `rclone copy` of the same blob files to the
//!   same store, and the same against Ceph RGW as a conformance run (its locks must refuse a
//!   deletion and a shorter retention); then the OCR offload: pages/s with 0 to 3 `sohoa worker` processes on a NATS
//!   JetStream cluster on loopback, and the overhead per offloaded page
//!   (`benches/sections/offload.rs`; `BENCH=offload` runs that half alone).
//! - `province-index`: reuse lookup at the province through the appliance's own query and schema, at
//!   `SOHOA_BENCH_PROVINCE_ROWS` documents (default 1,000,000) in PostgreSQL
//!   (`benches/sections/province_index.rs`).
//! - `verify`: the public page's log and seal checks of one document at `SOHOA_BENCH_VERIFY_LEAVES`
//!   archive log leaves (default 1,000,000), beside the previous proof that read every leaf.
//!
//! Every program measured runs as a child process; its CPU time and peak resident memory come from
//! the kernel (`wait4`), so the figures include everything a user would pay for.

#[path = "sections/archive.rs"]
mod archive_section;
#[path = "sections/capture_queue.rs"]
mod capture_queue_section;
#[path = "sections/ceph.rs"]
mod ceph;
#[path = "../tests/cer.rs"]
#[allow(dead_code)]
mod cer;
#[path = "../tests/files.rs"]
#[allow(dead_code)]
mod files;
#[path = "sections/latency.rs"]
mod latency_section;
#[path = "sections/load.rs"]
mod load_section;
#[path = "../tests/nats.rs"]
#[allow(dead_code)]
mod nats;
#[path = "../tests/object_store.rs"]
#[allow(dead_code)]
mod object_store;
#[path = "sections/offload.rs"]
mod offload_section;
#[path = "../tests/postgres.rs"]
#[allow(dead_code)]
mod postgres;
#[path = "sections/province_index.rs"]
mod province_index_section;
#[path = "sections/province.rs"]
mod province_section;
#[path = "sections/scanner.rs"]
mod scanner_section;
#[path = "sections/search.rs"]
mod search_section;
#[path = "../tests/util.rs"]
#[allow(dead_code)]
mod util;
#[path = "sections/verify.rs"]
mod verify_section;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::{corpus, corpus_pages, ground_truth, ocr_layer, venv_python};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.first().map(String::as_str) == Some(BATCH_CHILD) {
        batch_child(Path::new(&args[1]), args[2].parse().expect("page count"));
        return;
    }
    if args.first().map(String::as_str) == Some(latency_section::LATENCY_CHILD) {
        latency_section::latency_child();
        return;
    }
    let sections = if args.is_empty() {
        vec![
            "capture".to_owned(),
            "capture-queue".to_owned(),
            "latency".to_owned(),
            "signer".to_owned(),
            "archive".to_owned(),
            "search".to_owned(),
            "scanner".to_owned(),
            "verify".to_owned(),
            "load".to_owned(),
            "province".to_owned(),
            "province-index".to_owned(),
        ]
    } else {
        args
    };
    println!("machine: {} cores, {}", cores(), cpu_model());
    for section in sections {
        match section.as_str() {
            "capture" => capture(),
            "capture-queue" => capture_queue_section::capture_queue_section(),
            "latency" => latency_section::latency_section(),
            "signer" => signer_section(),
            "archive" => archive_section::archive_section(),
            "search" => search_section::search_section(),
            "scanner" => scanner_section::scanner_section(),
            "verify" => verify_section::verify_section(),
            "load" => load_section::load_section(),
            "province" => {
                province_section::province_section();
                offload_section::offload_section();
            }
            "province-index" => province_index_section::province_index_section(),
            "offload" => offload_section::offload_section(),
            other => {
                eprintln!(
                    "unknown bench section {other:?}; known: capture, capture-queue, latency, signer, archive, search, scanner, verify, load, province, province-index, offload (province's second half)"
                );
                std::process::exit(2);
            }
        }
    }
}

/// A small deterministic generator (xorshift64) for the generated workloads: fast, and the same
/// sequence in every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Incompressible bytes, as page images are (already compressed).
    fn fill(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            let word = self.next();
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// `du`: bytes of the files under `dir`, in allocated blocks.
fn disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(dir)
        .expect("readable")
        .map(|e| {
            let e = e.expect("entry");
            let m = e.metadata().expect("metadata");
            if m.is_dir() { disk_bytes(&e.path()) } else { m.blocks() * 512 }
        })
        .sum()
}

/// What the kernel says a finished child (and the children it waited for) used.
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    wall: Duration,
    cpu: Duration,
    /// Peak resident memory of the largest single process, in KiB.
    max_rss_kib: u64,
}

/// Runs `cmd` to completion; panics with its standard error if it fails.
// The child is reaped by `wait4`, which gives its resource usage; `Child::wait` would not.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command) -> Usage {
    let start = Instant::now();
    let child =
        cmd.stdin(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).ok();
        text
    });
    let mut status = 0;
    // SAFETY: plain wait4 on our own child; `usage` is a zeroed, correctly sized out-parameter. The
    // `Child` handle is not waited on again.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    let stderr = reader.join().unwrap_or_default();
    assert!(
        waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed ({status}): {stderr}"
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Usage { wall, cpu: tv(usage.ru_utime) + tv(usage.ru_stime), max_rss_kib: usage.ru_maxrss as u64 }
}

/// Runs the commands `jobs` at a time; the wall time is the whole set's, CPU the sum, memory the peak.
fn measure_parallel(commands: Vec<Command>, jobs: usize) -> Usage {
    let start = Instant::now();
    let queue = std::sync::Mutex::new(commands);
    let usages: Vec<Usage> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        // Taken in its own statement, so the lock is not held while the command runs.
                        let next = queue.lock().unwrap().pop();
                        let Some(mut cmd) = next else { break };
                        mine.push(measure(&mut cmd));
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("bench worker")).collect()
    });
    Usage {
        wall: start.elapsed(),
        cpu: usages.iter().map(|u| u.cpu).sum(),
        max_rss_kib: usages.iter().map(|u| u.max_rss_kib).max().unwrap_or(0),
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn sohoa_exe() -> &'static str {
    env!("CARGO_BIN_EXE_sohoa")
}

/// One system's results on the corpus pages.
struct Row {
    name: String,
    usage: Usage,
    output_bytes: u64,
    /// Per page: edits and reference length.
    edits: Vec<(usize, usize)>,
}

impl Row {
    fn pages_per_s(&self) -> f64 {
        self.edits.len() as f64 / self.usage.wall.as_secs_f64()
    }
    fn cpu_per_page(&self) -> f64 {
        self.usage.cpu.as_secs_f64() / self.edits.len() as f64
    }
    fn bytes_per_page(&self) -> f64 {
        self.output_bytes as f64 / self.edits.len() as f64
    }
    fn cer(&self) -> f64 {
        let (e, n) = self.edits.iter().fold((0, 0), |(e, n), (pe, pn)| (e + pe, n + pn));
        e as f64 / n as f64
    }
}

/// Per-page scores of a PDF's text layer against the corpus ground truth.
fn pdf_edits(pdf: &Path, names: &[String]) -> Vec<(usize, usize)> {
    names.iter().enumerate().map(|(i, n)| cer::edits(&ground_truth(n), &ocr_layer(pdf, i as u32 + 1))).collect()
}

/// The median run by wall time: on a shared machine single runs vary by a third.
fn median(mut runs: Vec<Usage>) -> Usage {
    runs.sort_by_key(|u| u.wall);
    runs[runs.len() / 2]
}

fn capture() {
    let work = tempfile::tempdir().expect("temporary directory");
    let w = work.path();
    let names = corpus_pages();
    let files: Vec<PathBuf> = names.iter().map(|n| corpus(n)).collect();
    let jobs = cores();
    let rounds: usize = std::env::var("SOHOA_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    println!(
        "\n## capture: {} pages of tests/data/pages, {jobs} workers each, median of {rounds} interleaved rounds",
        names.len()
    );

    // OCRmyPDF reads the same pages as one multi-page input, made by img2pdf, which keeps each page's
    // resolution and embeds the images as they are.
    let venv_bin = venv_python().parent().unwrap().to_owned();
    let input = w.join("input.pdf");
    let made = Command::new(venv_bin.join("img2pdf")).args(&files).arg("-o").arg(&input).status();
    assert!(made.is_ok_and(|s| s.success()), "img2pdf failed");

    let (mut sohoa_runs, mut ocrmypdf_runs, mut tesseract_runs) = (Vec::new(), Vec::new(), Vec::new());
    let (sohoa_pdf, ocrmypdf_pdf) = (w.join("sohoa.pdf"), w.join("ocrmypdf.pdf"));
    for round in 0..rounds {
        // sohoa: the pages as one document, the whole path from files to sealed archive and index.
        let data = w.join(format!("sohoa-{round}"));
        let report = w.join("sohoa.json");
        sohoa_runs.push(measure(
            Command::new(sohoa_exe())
                .arg("--data")
                .arg(&data)
                .args(["--json", "ingest", "--owner", "001099012345", "--type", "HS", "--name", "Hồ sơ"])
                .args(&files)
                .stdout(std::fs::File::create(&report).unwrap()),
        ));
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).expect("ingest JSON");
        let got = Command::new(sohoa_exe())
            .arg("--data")
            .arg(&data)
            .args(["get", report["code"].as_str().unwrap(), "-o"])
            .arg(&sohoa_pdf)
            .status();
        assert!(got.is_ok_and(|s| s.success()), "sohoa get failed");

        // OCRmyPDF with the options that match what sohoa does.
        ocrmypdf_runs.push(measure(
            Command::new(venv_bin.join("ocrmypdf"))
                .args([
                    "--jobs",
                    &jobs.to_string(),
                    "-l",
                    "vie",
                    "--rotate-pages",
                    "--deskew",
                    "--output-type",
                    "pdfa",
                    "--quiet",
                ])
                .arg(&input)
                .arg(&ocrmypdf_pdf)
                .stdout(Stdio::null()),
        ));

        // Plain Tesseract, a page per process, as many at once as there are cores: the OCR-only limit.
        let commands = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut c = Command::new("tesseract");
                c.arg(f)
                    .arg(w.join(format!("tess-{i}")))
                    .args(["-l", "vie"])
                    .stdout(Stdio::null())
                    .env("OMP_THREAD_LIMIT", "1");
                c
            })
            .collect();
        tesseract_runs.push(measure_parallel(commands, jobs));
    }

    let sohoa = Row {
        name: "sohoa".into(),
        usage: median(sohoa_runs),
        output_bytes: std::fs::metadata(&sohoa_pdf).unwrap().len(),
        edits: pdf_edits(&sohoa_pdf, &names),
    };
    let ocrmypdf = Row {
        name: format!("OCRmyPDF {}", tool_version(&venv_bin.join("ocrmypdf"))),
        usage: median(ocrmypdf_runs),
        output_bytes: std::fs::metadata(&ocrmypdf_pdf).unwrap().len(),
        edits: pdf_edits(&ocrmypdf_pdf, &names),
    };
    let texts: Vec<String> =
        (0..names.len()).map(|i| std::fs::read_to_string(w.join(format!("tess-{i}.txt"))).unwrap()).collect();
    let tesseract = Row {
        name: "tesseract -l vie".into(),
        usage: median(tesseract_runs),
        output_bytes: texts.iter().map(|t| t.len() as u64).sum(),
        edits: names.iter().zip(&texts).map(|(n, t)| cer::edits(&ground_truth(n), t)).collect(),
    };

    println!("\n| system | pages/s | CPU s/page | peak RSS MiB | output bytes/page | CER |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in [&sohoa, &ocrmypdf, &tesseract] {
        println!(
            "| {} | {:.3} | {:.2} | {:.0} | {:.0} | {:.2}% |",
            row.name,
            row.pages_per_s(),
            row.cpu_per_page(),
            row.usage.max_rss_kib as f64 / 1024.0,
            row.bytes_per_page(),
            row.cer() * 100.0
        );
    }
    println!("(plain Tesseract's output is text only; its bytes are not comparable)");
    println!("\n| page | sohoa CER | OCRmyPDF CER | tesseract CER |");
    println!("|---|---:|---:|---:|");
    for (i, name) in names.iter().enumerate() {
        let rate = |r: &Row| r.edits[i].0 as f64 / r.edits[i].1 as f64 * 100.0;
        println!("| {name} | {:.2}% | {:.2}% | {:.2}% |", rate(&sohoa), rate(&ocrmypdf), rate(&tesseract));
    }
    let worst = names
        .iter()
        .zip(&sohoa.edits)
        .map(|(n, (e, l))| (*e as f64 / *l as f64) / cer::page_bound(n))
        .fold(0.0, f64::max);

    println!("\n| ratio | value | target |");
    println!("|---|---:|---|");
    let target = |name: &str, value: String, goal: &str, met: bool| {
        println!("| {name} | {value} | {goal} {} |", if met { "met" } else { "**MISSED**" })
    };
    let r = sohoa.pages_per_s() / tesseract.pages_per_s();
    target("sohoa / plain tesseract, pages/s", format!("{r:.2}"), "≥ 0.90", r >= 0.9);
    let r = sohoa.pages_per_s() / ocrmypdf.pages_per_s();
    target("sohoa / OCRmyPDF, pages/s", format!("{r:.2}"), "≥ 2.3", r >= 2.3);
    let r = sohoa.bytes_per_page() / ocrmypdf.bytes_per_page();
    target("sohoa / OCRmyPDF, output bytes/page", format!("{r:.2}"), "≤ 1.0", r <= 1.0);
    target("sohoa CER over the set", format!("{:.2}%", sohoa.cer() * 100.0), "≤ 0.5%", sohoa.cer() <= 0.005);
    target("sohoa worst page / its bound (1%, faded 2%)", format!("{worst:.2}"), "≤ 1.0", worst <= 1.0);

    let batch_pages: usize = std::env::var("SOHOA_BENCH_BATCH_PAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    if batch_pages == 0 {
        return;
    }
    let batch = measure(
        Command::new(std::env::current_exe().unwrap())
            .arg(BATCH_CHILD)
            .arg(w.join("batch"))
            .arg(batch_pages.to_string()),
    );
    let rss = batch.max_rss_kib as f64 / 1024.0;
    target(&format!("sohoa peak RSS, {batch_pages}-page batch (MiB)"), format!("{rss:.0}"), "< 1024", rss < 1024.0);
    println!(
        "({batch_pages}-page batch in documents of {BATCH_DOCUMENT_PAGES} pages: {:.0} s, {:.3} pages/s, {:.2} CPU s/page)",
        batch.wall.as_secs_f64(),
        batch_pages as f64 / batch.wall.as_secs_f64(),
        batch.cpu.as_secs_f64() / batch_pages as f64
    );
}

fn tool_version(exe: &Path) -> String {
    Command::new(exe)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The argument that makes this binary the batch child.
const BATCH_CHILD: &str = "batch-child";

/// Pages per document in the batch: a typical dossier at the counter.
const BATCH_DOCUMENT_PAGES: usize = 10;

/// The batch child: one appliance on `data` ingests `pages` corpus pages (repeated) as documents of
/// ten pages, from as many submitting threads as there are cores, so that pages of several documents
/// are in flight at once, as at a busy counter. Its peak memory is what the parent reports.
fn batch_child(data: &Path, pages: usize) {
    let appliance = sohoa::Appliance::open(data).expect("appliance opens");
    let names = corpus_pages();
    let documents: Vec<Vec<PathBuf>> = (0..pages)
        .map(|i| corpus(&names[i % names.len()]))
        .collect::<Vec<_>>()
        .chunks(BATCH_DOCUMENT_PAGES)
        .map(<[PathBuf]>::to_vec)
        .collect();
    let queue = std::sync::Mutex::new(documents);
    std::thread::scope(|scope| {
        for _ in 0..cores() {
            scope.spawn(|| {
                loop {
                    // Taken in its own statement, so the lock is not held during the ingest.
                    let next = queue.lock().unwrap().pop();
                    let Some(files) = next else { break };
                    let pages = files.iter().map(|f| (f.clone(), std::fs::read(f).expect("corpus page"))).collect();
                    let metadata = util::draft("bench");
                    appliance
                        .ingest(
                            sohoa::IngestRequest { metadata, pages, actor: "bench".into(), source: None },
                            &mut |_| {},
                        )
                        .expect("batch ingest");
                }
            });
        }
    });
}

/// Runs `work` repeatedly for at least [`SIGNER_BENCH_TIME`] on this thread and returns the rate per second.
fn rate(mut work: impl FnMut()) -> f64 {
    work(); // warm-up: first-use costs (font parsing, page tables) are not the steady rate
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < SIGNER_BENCH_TIME {
        work();
        n += 1;
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

const SIGNER_BENCH_TIME: Duration = Duration::from_secs(5);

/// Runs a Python peer that prints its own in-process rate on its last line.
fn python_rate(script: &str, args: &[&Path]) -> f64 {
    let out = Command::new(venv_python()).arg("-c").arg(script).args(args).output().expect("python runs");
    assert!(out.status.success(), "python peer failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("the peer prints its rate")
}

const PYHANKO_PEER: &str = r#"
import io, sys, time
from pyhanko.sign import signers, fields
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
key, cert, root, pdf, seconds = sys.argv[1:6]
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(root,), prefer_pss=True)
data = open(pdf, 'rb').read()
meta = signers.PdfSignatureMetadata(field_name='Signature1', subfilter=fields.SigSeedSubFilter.PADES)
def once():
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), meta, signer=signer).getvalue()
once()
n, start = 0, time.perf_counter()
while time.perf_counter() - start < float(seconds):
    once(); n += 1
print(n / (time.perf_counter() - start))
"#;

const ED25519_PEER: &str = r#"
import sys, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
key, text, seconds = Ed25519PrivateKey.generate(), open(sys.argv[1], 'rb').read(), float(sys.argv[2])
n, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    key.sign(text); n += 1
print(n / (time.perf_counter() - start))
"#;

fn signer_section() {
    use signer::{KeyRing, Manifest, ManifestPage, SignatureRequest, SoftwareSigner, sign_pdf};
    let work = tempfile::tempdir().expect("temporary directory");
    let w = work.path();
    let pki = w.join("pki");
    let status = Command::new("bash").arg(util::repo().join("tests/pki.sh")).arg(&pki).status().expect("bash runs");
    assert!(status.success(), "tests/pki.sh failed");
    let seconds_arg = SIGNER_BENCH_TIME.as_secs().to_string();

    // A document manifest of ten pages, sealed as ingest seals it.
    let ring = KeyRing::open_or_create(&w.join("keys")).expect("seal key");
    let hash = |i: u8| domain::BlobHash::of(&[i]);
    let manifest = Manifest {
        document: "001099012345.HS".parse().unwrap(),
        metadata: hash(0),
        pages: (1..=10).map(|i| ManifestPage { image: hash(i), stream: hash(i + 10) }).collect(),
        pdf: hash(99),
        operator: "Nguyễn Văn An".into(),
        sealed_at: domain::vietnam_now(),
    };
    let text_file = w.join("manifest.txt");
    std::fs::write(&text_file, &ring.seal(&manifest).text).unwrap();
    let seals = rate(|| {
        std::hint::black_box(ring.seal(&manifest));
    });
    let peer_seals = python_rate(ED25519_PEER, &[&text_file, Path::new(&seconds_arg)]);

    // One corpus page captured into the PDF/A that ingest signs.
    let capture = capture::Capture::new(capture::OcrConfig::system_default()).expect("capture starts");
    let page = corpus(&corpus_pages()[0]);
    let bytes = std::fs::read(&page).unwrap();
    let importer = scanner_driver::FileImporter::new(scanner_driver::ImportLimits::default(), 300.0);
    let page = importer.pages(&page, bytes).expect("a corpus page").remove(0);
    let pages = capture.capture(vec![Box::new(move || page.decode())], &mut |_| {}).expect("capture");
    let metadata = domain::DocumentMetadata::new(util::draft("Nguyễn Văn An")).unwrap();
    let mut writer = capture.pdf_writer(Vec::new(), 1).expect("a PDF writer");
    writer.add(&pages[0]).expect("the page is written");
    let (pdf, blank_top) =
        (writer.finish(&manifest.document, &metadata).expect("assembled").out, pages[0].blank_top_points());
    let pdf_file = w.join("page.pdf");
    std::fs::write(&pdf_file, &pdf).unwrap();
    let time = domain::vietnam_now();
    let request = SignatureRequest {
        name: "UBND phường Bến Thành".into(),
        reason: "Sao y bản chính".into(),
        location: "Bộ phận Một cửa".into(),
        time,
        operator_block: vec!["Người số hoá: Nguyễn Văn An".into(), format!("Thời gian số hoá: {}", time.to_rfc3339())],
        agency_block: vec!["SAO Y".into(), "UBND phường Bến Thành".into(), format!("Thời gian ký: {}", time.to_rfc3339())],
        qr_payload: "Mã hồ sơ: H56.14-261122-0001\nMã thủ tục: 1.001234\nChủ sở hữu: 001099012345\nTài liệu: Hồ sơ\nhttp://127.0.0.1:8080/verify?code=001099012345.HS".into(),
        link: "http://127.0.0.1:8080/verify?code=001099012345.HS".into(),
        blank_top,
    };
    println!("\n## signer (one core; PDF/A of one corpus page, {} bytes)", pdf.len());
    println!("| what | sohoa /s | peer /s | ratio |\n|---|---:|---:|---:|");
    println!(
        "| Ed25519 document seal (peer: Python cryptography, same text) | {seals:.0} | {peer_seals:.0} | {:.2}× |",
        seals / peer_seals
    );
    for (name, label) in [("rsa", "RSA-PSS 2048"), ("ec", "ECDSA P-256")] {
        let (key, cert) = (pki.join(format!("{name}.key")), pki.join(format!("{name}.crt")));
        let signer = SoftwareSigner::from_pem_files(&key, &cert).expect("software signer");
        let ours = rate(|| {
            std::hint::black_box(sign_pdf(&pdf, &request, &signer, None).expect("signs"));
        });
        let peer = python_rate(PYHANKO_PEER, &[&key, &cert, &pki.join("root.crt"), &pdf_file, Path::new(&seconds_arg)]);
        println!(
            "| PAdES B-B, {label} (peer: pyHanko, invisible signature) | {ours:.1} | {peer:.1} | {:.2}× |",
            ours / peer
        );
    }
}
