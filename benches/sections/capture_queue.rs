//! The capture-queue section of `make bench`: feeder batches from SANE's `test` backend (A4, 300 dpi,
//! gray, `SOHOA_BENCH_QUEUE_PAGES` pages a batch, default 50, in loads of the test feeder's ten
//! sheets, each scanned to its end) are captured one after the other, as at a counter, by a served appliance's operations:
//! `Appliance::capture` acknowledges each batch while the readers of the reading queue work through
//! the backlog. Measured: the time from the last sheet of a batch (scanned and kept as its PNG, as
//! the station keeps it) to the acknowledgement, p50 and p99 over `SOHOA_BENCH_QUEUE_BATCHES`
//! batches (default 10), and the time until the backlog is archived. Beside it, in the same run and
//! on the same pages, the synchronous path of before (`Appliance::ingest`: read, signed and archived
//! before it answers), whose acknowledgement waits for every page's OCR.
//!
//! The test backend scans the same picture on every sheet; each page gets its batch and sheet
//! number written into a corner before it is kept, so that the archive stores every page (identical
//! pages would be stored once) and the pages differ as a real dossier's do.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::MetadataDraft;
use scanner_driver::{ColorMode, Samples, Sane, ScanSettings, Source};
use sohoa::{Appliance, IngestRequest};

use crate::archive_section::percentile;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One batch of `pages` pages from the test scanner, each kept as its PNG (what the station keeps as
/// pages arrive), marked with `batch` and its number; the instant the last one was kept.
fn scan_batch(sane: &Sane, batch: usize, pages: usize) -> (Vec<(PathBuf, Vec<u8>)>, Instant) {
    let settings = ScanSettings {
        resolution: Some(300),
        mode: Some(ColorMode::Gray),
        source: Some(Source::Adf),
        page_mm: Some((210.0, 297.0)),
        options: vec![("test-picture".into(), "Grid".into())],
    };
    let mut kept = Vec::with_capacity(pages);
    while kept.len() < pages {
        let scanner = sane.open("test:0", &[]).expect("the test scanner opens");
        // Each load of the feeder is scanned to its end (the scan stops when the feeder is empty);
        // pages beyond the batch's are left out.
        for page in scanner.scan(&settings).expect("the scan starts") {
            let mut page = page.expect("a page");
            let n = kept.len();
            if n == pages {
                continue;
            }
            if let Samples::Gray8(samples) = &mut page.samples {
                // A mark of a few pixels for the batch and the page: no two pages are the same.
                for (i, byte) in format!("{batch:04}{n:04}").bytes().enumerate() {
                    samples[i] = byte;
                }
            }
            kept.push((PathBuf::from(format!("batch {batch} sheet {}.png", n + 1)), page.to_png()));
        }
    }
    (kept, Instant::now())
}

fn request(batch: usize, pages: Vec<(PathBuf, Vec<u8>)>) -> IngestRequest {
    IngestRequest {
        metadata: MetadataDraft {
            doc_type: domain::DocumentTypeCode::parse("GPXD").expect("type"),
            owner: Some(domain::OwnerId::parse(&format!("001099{batch:06}")).expect("owner")),
            name: format!("Hồ sơ {batch}"),
            ..crate::util::draft("bench")
        },
        pages,
        actor: "bench".into(),
        source: None,
    }
}

fn open(dir: &Path) -> Appliance {
    Appliance::open(dir).expect("the appliance opens")
}

/// Prints the section's table.
pub fn capture_queue_section() {
    let batches = env("SOHOA_BENCH_QUEUE_BATCHES", 10).max(1);
    let pages = env("SOHOA_BENCH_QUEUE_PAGES", 50).max(1);
    let _config = crate::scanner_section::test_backend();
    let sane = Sane::get().expect("SANE initialises");
    let dirs = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
    println!("\n## capture-queue: {batches} batches of {pages} pages from SANE's test scanner (A4, 300 dpi, gray)");

    // The queue: each batch acknowledged once captured, the readers working meanwhile.
    let queued = Arc::new(open(dirs.0.path()));
    let readers = sohoa::queue::spawn_readers(queued.clone()).expect("the readers start");
    let mut kept = Vec::new();
    let mut acks = Vec::new();
    let started = Instant::now();
    for batch in 0..batches {
        let (files, last_sheet) = scan_batch(sane, batch, pages);
        kept.push(files.clone());
        let report = queued.capture(request(batch, files)).expect("captured");
        acks.push(last_sheet.elapsed());
        assert_eq!(report.pages.len(), pages);
    }
    let last_ack = started.elapsed();
    while queued.reading_queue().report().depth > 0 {
        std::thread::sleep(Duration::from_millis(100));
    }
    let drained = started.elapsed();
    queued.stop_ingests();
    readers.into_iter().for_each(|r| r.join().expect("a reader ends"));

    // The path of before, on the same pages: the acknowledgement is the archiving.
    let direct = open(dirs.1.path());
    let mut direct_acks = Vec::new();
    let direct_started = Instant::now();
    for (batch, files) in kept.into_iter().enumerate() {
        let last_sheet = Instant::now();
        let report = direct.ingest(request(batch, files), &mut |_| {}).expect("archived");
        direct_acks.push(last_sheet.elapsed());
        assert_eq!(report.pages.len(), pages);
    }
    let direct_total = direct_started.elapsed();

    acks.sort();
    direct_acks.sort();
    let seconds = |d: Duration| d.as_secs_f64();
    println!("| what | sohoa (queue) | before (synchronous) | ratio |");
    println!("|---|---:|---:|---:|");
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        let (q, s) = (seconds(percentile(&acks, p)), seconds(percentile(&direct_acks, p)));
        println!("| last sheet to acknowledgement {name}, s (target < 2) | {q:.2} | {s:.2} | {:.0}x sooner |", s / q);
    }
    println!(
        "| all {batches} batches acknowledged, s (scanning included) | {:.1} | {:.1} (reading only) | |",
        seconds(last_ack),
        seconds(direct_total)
    );
    println!(
        "| backlog archived, s from the first sheet | {:.1} | {:.1} (reading only) | {:.2}x |",
        seconds(drained),
        seconds(direct_total),
        seconds(direct_total) / seconds(drained)
    );
}
