//! The hot folder's file handling: complete files only, each taken once, nothing lost across a
//! restart.

use std::io::Write;
use std::time::{Duration, Instant};

use sohoa_scanner_driver::HotFolder;

#[test]
fn a_file_written_slowly_is_not_taken_before_it_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let mut folder = HotFolder::open(dir.path(), Duration::from_millis(300)).unwrap();
    let mut file = std::fs::File::create(dir.path().join("slow.pdf")).unwrap();
    // A network scanner writing a chunk every 100 ms, for a second and a half.
    let mut last_write = Instant::now();
    for chunk in 0..15 {
        file.write_all(&[chunk; 1000]).unwrap();
        file.flush().unwrap();
        last_write = Instant::now();
        assert!(folder.poll().unwrap().is_empty(), "taken while still being written (after chunk {chunk})");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(file);
    let start = Instant::now();
    let taken = loop {
        let taken = folder.poll().unwrap();
        if !taken.is_empty() || start.elapsed() > Duration::from_secs(5) {
            break taken;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(taken.len(), 1);
    assert_eq!(std::fs::metadata(&taken[0].path).unwrap().len(), 15_000, "taken whole");
    assert!(last_write.elapsed() >= Duration::from_millis(300), "taken only after the settle delay");
    // Files under a temporary name are never taken, however old.
    std::fs::write(dir.path().join("next.pdf.part"), b"partial").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    folder.poll().unwrap();
    assert!(folder.poll().unwrap().is_empty());
}

#[test]
fn each_of_many_files_is_taken_exactly_once_and_a_restart_hands_back_the_unfinished() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..200 {
        std::fs::write(dir.path().join(format!("scan-{i:03}.jpg")), format!("page {i}")).unwrap();
    }
    let mut folder = HotFolder::open(dir.path(), Duration::ZERO).unwrap();
    // Two appliances on the same share race for the files; each file goes to one of them.
    let mut rival = HotFolder::open(dir.path(), Duration::ZERO).unwrap();
    let (mine, theirs) = std::thread::scope(|s| {
        let a = s.spawn(|| folder.poll().unwrap());
        let b = s.spawn(|| rival.poll().unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut names: Vec<String> = mine.iter().chain(&theirs).map(|c| c.name.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!((mine.len() + theirs.len(), names.len()), (200, 200));
    // Finish half, then "crash": the other half is handed back on the next start.
    for (i, file) in mine.into_iter().chain(theirs).enumerate() {
        if i % 2 == 0 {
            folder.done(file).unwrap();
        }
    }
    let restarted = HotFolder::open(dir.path(), Duration::ZERO).unwrap();
    let back = restarted.recover().unwrap();
    assert_eq!(back.len(), 100);
    let reason = "not an image: starts with bytes 70 61 67 65";
    for file in back {
        restarted.failed(file, reason).unwrap();
    }
    let count = |sub: &str| std::fs::read_dir(dir.path().join(sub)).unwrap().count();
    assert_eq!((count("done"), count("failed"), count("processing")), (100, 200, 0));
    let reasons: Vec<_> = std::fs::read_dir(dir.path().join("failed")).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().ends_with(".reason.txt")).collect();
    assert_eq!(reasons.len(), 100);
    assert_eq!(std::fs::read_to_string(reasons[0].path()).unwrap().trim(), reason);
}
