//! Scanning and the hot folder, end to end. `sohoa scanners` and `sohoa scan` drive SANE's virtual
//! `test` scanner, which the appliance enables in the SANE configuration it writes under its data
//! directory; a served appliance takes every file of its hot folder exactly once, across a kill -9,
//! and each is archived once an operator confirms it.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Sohoa, open_archive};

#[test]
fn scan_captures_a_feeder_batch_and_refuses_what_it_must() {
    let s = Sohoa::new();
    let list = s.ok(&["scanners"]);
    assert!(list.contains("test:0") && list.contains("virtual device"), "{list}");
    let options = s.ok(&["scanners", "--options", "test:0"]);
    assert!(options.contains("source") && options.contains("Automatic Document Feeder"), "{options}");

    // Pages read before an ingest: the flags it would record, nothing archived.
    let read = s.ok(&["read-pages", crate::util::corpus("faded150-001.png").to_str().unwrap()]);
    assert!(read.contains("page 1\t150 dpi is below the legal minimum"), "{read}");

    let fields = ["--owner", "001099012345", "--type", "GKS", "--name", "Giấy khai sinh"];
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--device",
            "test:0",
            "--source",
            "adf",
            "--mode",
            "gray",
            "--page-size",
            "40x30",
            "--option",
            "test-picture=Solid white",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&fields);
        s.run(&args)
    };
    let out = scan(&["--resolution", "200"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = stdout.lines().last().unwrap().trim().to_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("test:0 sheet 10 front"), "{stderr}");

    // A jam: the error names the sheet.
    let out = scan(&[
        "--resolution",
        "200",
        "--option",
        "enable-test-options=true",
        "--option",
        "read-return-value=SANE_STATUS_JAMMED",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("jammed at sheet 1"), "{stderr}");

    // R1 made strict: a page under 200 dpi is refused, naming it.
    let config = s.dir.path().join("strict.toml");
    std::fs::write(&config, "[scanner]\nrefuse_low_dpi = true\n").unwrap();
    let out = s
        .command()
        .arg("--config")
        .arg(&config)
        .args(["scan", "--device", "test:0", "--source", "flatbed", "--resolution", "100", "--page-size", "40x30"])
        .args(fields)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("100 dpi is below the required 200 dpi"), "{stderr}");

    let archive = open_archive(&s.data());
    let record = archive.record(&code.parse().unwrap()).unwrap().expect("the scanned document");
    assert_eq!(record.pages.len(), 10, "one page per sheet of the feeder");
    assert!(record.pages.iter().all(|p| p.dpi == (200.0, 200.0)));
    assert_eq!(archive.document_count().unwrap(), 1, "the jammed and the refused scans archived nothing");
}

/// A small gray PNG, different for each `i`.
fn page_png(i: usize) -> Vec<u8> {
    let (x0, y0) = ((i % 96) as u32, (i / 96) as u32);
    let img = image::GrayImage::from_fn(96, 64, |x, y| {
        image::Luma([if (y < 40 && (x + y * 3) % 17 == 0) || (x, y) == (x0, 40 + y0) { 0 } else { 255 }])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

fn serve(s: &Sohoa, config: &Path) -> Child {
    s.command()
        .arg("--config")
        .arg(config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).filter(|e| !e.file_name().to_string_lossy().ends_with(".reason.txt")).count())
        .unwrap_or(0)
}

fn wait_until(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_hot_folder_captures_each_file_exactly_once_across_a_kill() {
    let s = Sohoa::new();
    let hot = s.dir.path().join("hot");
    let state = s.data().join("hotfolder");
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(&config, format!("[scanner]\ntest_scanner = false\n[hot_folder]\npath = \"{}\"\nsettle_seconds = 0.3\npoll_milliseconds = 100\n", hot.display())).unwrap();
    let mut server = serve(&s, &config);
    wait_until("the hot folder", Duration::from_secs(60), || hot.exists() && state.join("pending").exists());
    // 200 files at once, each a different page of a different owner.
    let files: Vec<(String, Vec<u8>)> =
        (0..200).map(|i| (format!("0010{:08}_CCCD_Căn cước {i}.png", 99_000_000 + i), page_png(i))).collect();
    for (name, bytes) in &files {
        std::fs::write(hot.join(name), bytes).unwrap();
    }
    let mut broken = page_png(999);
    broken.truncate(broken.len() / 2);
    std::fs::write(hot.join("hỏng.png"), broken).unwrap();
    std::fs::write(hot.join("ghi chú.txt"), "không phải ảnh").unwrap();

    // Killed in the middle of the run, then started again: every file waits for an operator once.
    wait_until("a third of the files", Duration::from_secs(300), || count(&state.join("pending")) >= 70);
    server.kill().unwrap();
    server.wait().unwrap();
    let mut server = serve(&s, &config);
    // Done means nothing left in `processing/` either: a file's check-in-progress marker there goes
    // just after the file reaches `pending/`, and a kill between the two would leave it behind.
    wait_until("every file", Duration::from_secs(600), || {
        count(&state.join("pending")) == 200
            && count(&state.join("failed")) == 2
            && count(&state.join("processing")) == 0
    });
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(count(&state.join("processing")), 0);
    assert_eq!(count(&hot), 0, "every file was taken from the share");
    assert_eq!(
        open_archive(&s.data()).document_count().unwrap(),
        0,
        "nothing is archived before an operator confirms it"
    );

    // An operator confirms every waiting file.
    let appliance = sohoa::Appliance::open(&s.data()).unwrap();
    let listing = appliance.hot_folder_files().unwrap();
    assert_eq!(listing.pending.len(), 200);
    for file in &listing.pending {
        let request = sohoa::hotfolder::HotConfirm { id: file.id.parse().unwrap(), corrections: Default::default() };
        appliance.confirm_hot_file(request, "operator").unwrap();
    }
    let reason =
        |name: &str| listing.failed.iter().find(|f| f.file_name == name).map(|f| f.reason.clone()).unwrap_or_default();
    assert!(reason("hỏng.png").contains("damaged"), "{}", reason("hỏng.png"));
    assert!(reason("ghi chú.txt").contains("not a PNG, JPEG, TIFF or PDF"), "{}", reason("ghi chú.txt"));
    // Each is captured at once, and read and archived from the queue.
    assert_eq!(appliance.reading_queue().report().depth, 200);
    assert_eq!(appliance.read_queue(&mut |_, _| {}), 200);
    drop(appliance);

    let archive = open_archive(&s.data());
    assert_eq!(archive.document_count().unwrap(), 200, "no file lost, none archived twice");
    let mut codes = std::collections::BTreeSet::new();
    for (name, bytes) in &files {
        let code = archive
            .find_by_source(&format!("file:{}", blake3::hash(bytes).to_hex()))
            .unwrap()
            .unwrap_or_else(|| panic!("{name} was not archived"));
        let record = archive.record(&code).unwrap().unwrap();
        assert_eq!(record.metadata.owner().map(|o| o.as_str().to_owned()), Some(name[..12].to_owned()));
        assert_eq!(record.metadata.operator(), "operator");
        codes.insert(code);
    }
    assert_eq!(codes.len(), 200);
}
