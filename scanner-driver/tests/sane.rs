//! The SANE driver against SANE's `test` backend (a virtual scanner in libsane), enabled through a
//! private `SANE_CONFIG_DIR` that this test binary writes before SANE starts.

use std::sync::{Mutex, MutexGuard, OnceLock};

use sohoa_scanner_driver::{ColorMode, DriverError, Samples, Sane, ScanSettings, ScannedPage, Scanner, Side, Source};

/// SANE reads its configuration once per process; every test opens the same virtual device, which
/// the backend lets one user hold at a time.
fn device() -> (MutexGuard<'static, ()>, Scanner) {
    static CONFIG: OnceLock<tempfile::TempDir> = OnceLock::new();
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    CONFIG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dll.conf"), "test\n").unwrap();
        // Two virtual devices, with a scan area large enough for A4.
        std::fs::write(
            dir.path().join("test.conf"),
            "number_of_devices 2\ngeometry_min 0.0\ngeometry_max 300.0\ngeometry_quant 1.0\n",
        )
        .unwrap();
        // SAFETY: set once, under the lock, before SANE (the only reader) is initialised.
        unsafe { std::env::set_var("SANE_CONFIG_DIR", dir.path()) };
        dir
    });
    let mut scanner = Sane::get().unwrap().open("test:0", &[]).unwrap();
    // The backend keeps option values for the life of the process: each test starts from the
    // defaults, whatever the one before set.
    for (name, value) in [
        ("mode", "Color"),
        ("three-pass", "false"),
        ("mode", "Gray"),
        ("depth", "8"),
        ("hand-scanner", "false"),
        ("read-limit", "false"),
        ("read-delay", "false"),
        ("enable-test-options", "true"),
        ("read-return-value", "Default"),
        ("test-picture", "Solid black"),
    ] {
        scanner.set_option(name, value).unwrap_or_else(|e| panic!("{e}"));
    }
    (guard, scanner)
}

fn settings(source: Source, mode: ColorMode, options: &[(&str, &str)]) -> ScanSettings {
    ScanSettings {
        resolution: Some(75),
        mode: Some(mode),
        source: Some(source),
        page_mm: Some((100.0, 50.0)),
        options: options.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    }
}

/// 100 × 50 mm at 75 dpi.
const W: u32 = 295;
const H: u32 = 147;

#[test]
fn lists_the_virtual_devices() {
    let (_guard, scanner) = device();
    drop(scanner);
    let devices = Sane::get().unwrap().devices().unwrap();
    let names: Vec<&str> = devices.iter().map(|d| d.name.as_str()).collect();
    assert!(names.contains(&"test:0") && names.contains(&"test:1"), "{devices:?}");
    assert_eq!(devices[0].kind, "virtual device");
    let e = Sane::get().unwrap().open("fujitsu:nowhere", &[]).err().unwrap();
    assert!(matches!(e, DriverError::NoDevice { .. }), "{e}");
    assert!(e.to_string().contains("test:0"), "the error names what exists: {e}");
}

#[test]
fn flatbed_gives_one_page_of_the_asked_size() {
    let (_guard, scanner) = device();
    let options = scanner.options();
    assert!(options.iter().any(|o| o.name == "resolution"), "{options:?}");
    let (pages, end) = scanner
        .scan(&settings(Source::Flatbed, ColorMode::Gray, &[("test-picture", "Solid black")]))
        .unwrap()
        .collect_batch();
    assert!(end.is_none(), "{end:?}");
    assert_eq!(pages.len(), 1);
    let p = &pages[0];
    assert_eq!((p.width, p.height, p.sheet, p.side), (W, H, 1, Side::Front));
    assert_eq!(p.dpi.x, 75.0);
    let Samples::Gray8(data) = &p.samples else { panic!("8-bit gray: {:?}", p.samples.depth()) };
    assert!(data.iter().all(|&v| v == 0), "solid black");
}

#[test]
fn adf_batch_ends_when_the_feeder_is_empty() {
    let (_guard, scanner) = device();
    let (pages, end) = scanner.scan(&settings(Source::Adf, ColorMode::Gray, &[])).unwrap().collect_batch();
    assert!(end.is_none(), "{end:?}");
    // The test backend's feeder holds ten sheets.
    assert_eq!(pages.len(), 10);
    assert_eq!(pages.iter().map(|p| p.sheet).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
    assert!(pages.iter().all(|p| (p.width, p.height) == (W, H)));
}

fn one(options: &[(&str, &str)], mode: ColorMode) -> ScannedPage {
    let (_guard, scanner) = device();
    let (mut pages, end) = scanner.scan(&settings(Source::Flatbed, mode, options)).unwrap().collect_batch();
    assert!(end.is_none(), "{options:?}: {end:?}");
    assert_eq!(pages.len(), 1);
    pages.remove(0)
}

#[test]
fn one_bit_pages_are_line_art() {
    let p = one(&[("test-picture", "Solid black")], ColorMode::Lineart);
    assert_eq!((p.width, p.height), (W, H));
    let Samples::Bits(bits) = &p.samples else { panic!("line art") };
    assert_eq!(bits.len(), (W as usize).div_ceil(8) * H as usize);
    // Solid black: every pixel set (the padding bits of each row aside).
    assert_eq!(bits[0], 0xff);
    let raw = p.into_raw_page();
    let decoded = image::load_from_memory(&raw.original).unwrap().to_luma8();
    assert_eq!(decoded.get_pixel(W - 1, H - 1)[0], 0);
}

#[test]
fn sixteen_bit_pages_keep_their_depth() {
    let p = one(&[("depth", "16"), ("test-picture", "Solid white")], ColorMode::Gray);
    let Samples::Gray16(data) = &p.samples else { panic!("16-bit gray") };
    assert_eq!(data.len(), (W * H) as usize);
    assert!(data.iter().all(|&v| v == 0xffff));
    let decoded = image::load_from_memory(&p.to_png()).unwrap();
    assert_eq!(decoded.color(), image::ColorType::L16);
}

#[test]
fn three_pass_colour_is_interleaved() {
    let single = one(&[("test-picture", "Color pattern")], ColorMode::Color);
    let three = one(&[("three-pass", "true"), ("test-picture", "Color pattern")], ColorMode::Color);
    assert_eq!((three.width, three.height), (W, H));
    let (Samples::Rgb8(a), Samples::Rgb8(b)) = (&single.samples, &three.samples) else { panic!("RGB") };
    assert_eq!(a, b, "three passes give the same page as one");
}

#[test]
fn a_hand_scanner_of_unknown_height_gives_whole_lines() {
    let p = one(&[("hand-scanner", "true")], ColorMode::Gray);
    // A hand scanner has its own fixed width; the height is only known at the end.
    assert!(p.width > 0 && p.height > 0);
    let Samples::Gray8(data) = &p.samples else { panic!("gray") };
    assert_eq!(data.len(), (p.width * p.height) as usize);
}

#[test]
fn short_and_slow_reads_give_the_same_page() {
    let plain = one(&[("test-picture", "Grid")], ColorMode::Gray);
    let short = one(&[("test-picture", "Grid"), ("read-limit", "true"), ("read-limit-size", "17")], ColorMode::Gray);
    let slow =
        one(&[("test-picture", "Grid"), ("read-delay", "true"), ("read-delay-duration", "1000")], ColorMode::Gray);
    assert_eq!(plain.samples, short.samples);
    assert_eq!(plain.samples, slow.samples);
}

#[test]
fn a_jam_names_the_device_and_the_sheet() {
    let (_guard, scanner) = device();
    let options = [("enable-test-options", "true"), ("read-return-value", "SANE_STATUS_JAMMED")];
    let (pages, end) = scanner.scan(&settings(Source::Adf, ColorMode::Gray, &options)).unwrap().collect_batch();
    assert!(pages.is_empty());
    let e = end.expect("the jam ends the batch");
    assert!(matches!(e, DriverError::Jammed { sheet: 1, .. }), "{e}");
    assert!(e.to_string().contains("test:0") && e.to_string().contains("sheet 1"), "{e}");
}

#[test]
fn a_batch_cancelled_midway_keeps_the_pages_before() {
    let (_guard, scanner) = device();
    // Slow reads, so that the cancellation lands in the middle of the batch.
    let stream = scanner
        .scan(&settings(Source::Adf, ColorMode::Gray, &[("read-delay", "true"), ("read-delay-duration", "2000")]))
        .unwrap();
    let cancel = stream.canceller();
    let mut pages = 0;
    let mut end = None;
    for item in stream {
        match item {
            Ok(_) => {
                pages += 1;
                if pages == 3 {
                    cancel.cancel();
                }
            }
            Err(e) => end = Some(e),
        }
    }
    assert!((3..10).contains(&pages), "{pages} pages");
    assert!(matches!(end, Some(DriverError::Cancelled { .. })), "{end:?}");
}

#[test]
fn a_wrong_option_value_is_refused_with_what_is_allowed() {
    let (_guard, mut scanner) = device();
    let e = scanner.set_option("source", "Tray 9").unwrap_err().to_string();
    assert!(e.contains("source") && e.contains("Flatbed"), "{e}");
    let e = scanner.set_option("resolution", "99999").unwrap_err().to_string();
    assert!(e.contains("outside"), "{e}");
    let e = scanner.set_option("no-such-option", "1").unwrap_err().to_string();
    assert!(e.contains("no such option"), "{e}");
}
