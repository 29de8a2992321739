//! The scanner section of `make bench`: pages per minute through sohoa's SANE driver from SANE's
//! `test` backend (A4, 300 dpi, 8-bit gray, the feeder), on the one core the driver's scan thread
//! uses, beside `scanimage --batch` (SANE's own command-line frontend) reading the same pages from
//! the same backend in the same run. The driver's figure is pages handed to the consumer; a second
//! figure adds the lossless PNG each page is kept as, which `sohoa scan` does as pages arrive.

use std::process::Command;
use std::time::Instant;

use scanner_driver::{ColorMode, Sane, ScanSettings, Source};

/// Feeder batches per measurement (the test backend's feeder holds ten sheets).
const BATCHES: usize = 6;

fn settings() -> ScanSettings {
    ScanSettings {
        resolution: Some(300),
        mode: Some(ColorMode::Gray),
        source: Some(Source::Adf),
        page_mm: Some((210.0, 297.0)),
        options: vec![("test-picture".into(), "Grid".into())],
    }
}

/// Pages per minute over [`BATCHES`] feeder batches, doing `consume` with each page.
fn driver_rate(consume: &dyn Fn(&scanner_driver::ScannedPage)) -> f64 {
    let sane = Sane::get().expect("SANE initialises");
    let start = Instant::now();
    let mut pages = 0;
    for _ in 0..BATCHES {
        let scanner = sane.open("test:0", &[]).expect("the test scanner opens");
        for page in scanner.scan(&settings()).expect("the scan starts") {
            let page = page.expect("a page");
            assert_eq!(page.width, 2480, "A4 at 300 dpi");
            consume(&page);
            pages += 1;
        }
    }
    pages as f64 / start.elapsed().as_secs_f64() * 60.0
}

fn scanimage_rate(config: &std::path::Path) -> f64 {
    let out = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut pages = 0;
    for batch in 0..BATCHES {
        let status = Command::new("scanimage")
            .env("SANE_CONFIG_DIR", config)
            .args([
                "-d",
                "test:0",
                "--source",
                "Automatic Document Feeder",
                "--mode",
                "Gray",
                "--resolution",
                "300",
                "-l",
                "0",
                "-t",
                "0",
                "-x",
                "210",
                "-y",
                "297",
                "--test-picture",
                "Grid",
                "--format=pnm",
            ])
            .arg(format!("--batch={}/b{batch}-p%d.pnm", out.path().display()))
            .output()
            .expect("scanimage (Debian sane-utils) runs");
        assert!(
            String::from_utf8_lossy(&status.stderr).contains("Batch terminated"),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        pages += std::fs::read_dir(out.path()).unwrap().count();
        for f in std::fs::read_dir(out.path()).unwrap() {
            std::fs::remove_file(f.unwrap().path()).unwrap();
        }
    }
    pages as f64 / start.elapsed().as_secs_f64() * 60.0
}

/// A SANE configuration with only the `test` backend, whose pages may be A4 (its default geometry
/// stops at 200 mm), made the one SANE reads; keep it while SANE is in use.
pub fn test_backend() -> tempfile::TempDir {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(config.path().join("dll.conf"), "test\n").unwrap();
    std::fs::write(
        config.path().join("test.conf"),
        "number_of_devices 1\ngeometry_min 0.0\ngeometry_max 300.0\ngeometry_quant 1.0\n",
    )
    .unwrap();
    // SAFETY: the bench's sections run one after another; no other thread reads the environment now,
    // and SANE reads this variable when a section first initialises it.
    unsafe { std::env::set_var("SANE_CONFIG_DIR", config.path()) };
    config
}

pub fn scanner_section() {
    let config = test_backend();

    // Warm up (the backend builds its test picture on first use), then interleave the three.
    driver_rate(&|_| {});
    let (mut ours, mut ours_png, mut peer) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        ours.push(driver_rate(&|p| {
            std::hint::black_box(p);
        }));
        ours_png.push(driver_rate(&|p| {
            std::hint::black_box(p.to_png());
        }));
        peer.push(scanimage_rate(config.path()));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ours, ours_png, peer) = (median(&mut ours), median(&mut ours_png), median(&mut peer));
    println!(
        "\n## scanner (SANE test backend, A4 300 dpi 8-bit gray, feeder; {BATCHES} batches of 10 sheets, median of 3 rounds)"
    );
    println!("| what | pages/min | vs scanimage |\n|---|---:|---:|");
    println!("| sohoa driver, pages delivered (target ≥ 300 on one core) | {ours:.0} | {:.2}× |", ours / peer);
    println!("| sohoa driver + lossless PNG of each page | {ours_png:.0} | {:.2}× |", ours_png / peer);
    println!("| scanimage --batch, PNM files | {peer:.0} | 1.00× |");
}
