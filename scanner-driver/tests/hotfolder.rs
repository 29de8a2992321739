//! The hot folder's file handling: complete files only, each taken once, nothing lost across a
//! restart; links, FIFOs and directories in the share or planted in the state directory are never
//! followed, and `done/` is purged after its keeping time.

use std::io::Write;
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant, SystemTime};

use sohoa_scanner_driver::{HotFileId, HotFolder, HotState, Stage};

// The root's std-only test helpers, the same file its own tests use.
#[path = "../../tests/files.rs"]
#[allow(dead_code)]
mod files;
use files::{all_bytes_under, contains};

const MAX: u64 = 1 << 20;

/// A share and a state directory side by side, neither inside the other.
fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (share, state) = (dir.path().join("share"), dir.path().join("state"));
    (dir, share, state)
}

#[test]
fn a_file_written_slowly_is_not_taken_before_it_is_complete() {
    let (_dir, share, state_dir) = dirs();
    let state = HotState::open(&state_dir).unwrap();
    let mut folder = HotFolder::open(&share, Duration::from_millis(300), MAX).unwrap();
    let mut file = std::fs::File::create(share.join("slow.pdf")).unwrap();
    // A network scanner writing a chunk every 100 ms, for a second and a half.
    let mut last_write = Instant::now();
    for chunk in 0..15 {
        file.write_all(&[chunk; 1000]).unwrap();
        file.flush().unwrap();
        last_write = Instant::now();
        assert!(folder.poll(&state).unwrap().taken.is_empty(), "taken while still being written (after chunk {chunk})");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(file);
    let start = Instant::now();
    let taken = loop {
        let taken = folder.poll(&state).unwrap().taken;
        if !taken.is_empty() || start.elapsed() > Duration::from_secs(5) {
            break taken;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(taken.len(), 1);
    assert_eq!(state.read(Stage::Processing, &taken[0], MAX).unwrap().len(), 15_000, "taken whole");
    assert_eq!(state.name(&taken[0]), "slow.pdf");
    assert!(!share.join("slow.pdf").exists(), "removed from the share once taken");
    assert!(last_write.elapsed() >= Duration::from_millis(300), "taken only after the settle delay");
    // Files under a temporary name are never taken, however old.
    std::fs::write(share.join("next.pdf.part"), b"partial").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    folder.poll(&state).unwrap();
    assert!(folder.poll(&state).unwrap().taken.is_empty());
}

#[test]
fn each_of_many_files_is_taken_exactly_once_and_a_restart_hands_back_the_unfinished() {
    let (dir, share, state_dir) = dirs();
    std::fs::create_dir_all(&share).unwrap();
    for i in 0..200 {
        std::fs::write(share.join(format!("scan-{i:03}.jpg")), format!("page {i}")).unwrap();
    }
    let state = HotState::open(&state_dir).unwrap();
    let mut folder = HotFolder::open(&share, Duration::ZERO, MAX).unwrap();
    // Two appliances on the same share race for the files; each file goes to one of them.
    let rival_state = HotState::open(&dir.path().join("rival")).unwrap();
    let mut rival = HotFolder::open(&share, Duration::ZERO, MAX).unwrap();
    let (mine, theirs) = std::thread::scope(|s| {
        let a = s.spawn(|| folder.poll(&state).unwrap().taken);
        let b = s.spawn(|| rival.poll(&rival_state).unwrap().taken);
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut names: Vec<String> =
        mine.iter().map(|id| state.name(id)).chain(theirs.iter().map(|id| rival_state.name(id))).collect();
    names.sort();
    names.dedup();
    assert_eq!((mine.len() + theirs.len(), names.len()), (200, 200));
    assert_eq!(std::fs::read_dir(&share).unwrap().count(), 0, "nothing left in the share");
    // Finish half, then "crash": the other half is handed back on the next start.
    for (i, id) in mine.iter().enumerate() {
        if i % 2 == 0 {
            state.move_to(id, Stage::Processing, Stage::Done).unwrap();
        }
    }
    let restarted = HotState::open(&state_dir).unwrap();
    let back = restarted.recover().unwrap();
    assert_eq!(back.len(), mine.len() / 2);
    let reason = "not an image: starts with bytes 70 61 67 65";
    for id in &back {
        restarted.fail(id, Stage::Processing, reason).unwrap();
    }
    let failed = restarted.list(Stage::Failed).unwrap();
    assert_eq!(
        (restarted.list(Stage::Done).unwrap().len(), failed.len(), restarted.recover().unwrap().len()),
        (mine.len().div_ceil(2), mine.len() / 2, 0)
    );
    assert!(failed.iter().all(|f| f.reason.as_deref() == Some(reason) && f.name.starts_with("scan-")));
}

#[test]
fn what_a_crash_left_half_taken_is_taken_whole_and_at_once_on_the_next_start() {
    let (_dir, share, state_dir) = dirs();
    std::fs::create_dir_all(&share).unwrap();
    let state = HotState::open(&state_dir).unwrap();
    // Killed while taking two files: one claimed and already recorded, one claimed only; and a
    // scratch copy of a third, cut short, in processing/.
    let (recorded, claimed) = (b"page recorded before the kill".as_slice(), b"page claimed before the kill".as_slice());
    let id = state.take(recorded, "recorded.png").unwrap();
    std::fs::write(share.join(".sohoa-taking.recorded.png"), recorded).unwrap();
    std::fs::write(share.join(".sohoa-taking.claimed.png"), claimed).unwrap();
    let cut = HotFileId::of(b"a third page");
    std::fs::write(state_dir.join("processing").join(format!(".{cut}.tmp")), b"a thi").unwrap();

    // However long the settle delay, the first poll takes both, and the share is empty.
    let mut folder = HotFolder::open(&share, Duration::from_secs(3600), MAX).unwrap();
    let mut taken = folder.poll(&state).unwrap().taken;
    taken.sort();
    let mut expected = vec![id.clone(), HotFileId::of(claimed)];
    expected.sort();
    assert_eq!(taken, expected);
    assert_eq!(std::fs::read_dir(&share).unwrap().count(), 0, "nothing left in the share");
    assert_eq!(state.read(Stage::Processing, &id, MAX).unwrap(), recorded, "the same content, once");
    let mut recovered = state.recover().unwrap();
    recovered.sort();
    assert_eq!(recovered, expected, "the scratch copy is not a file to check");
}

#[test]
fn hole03_links_fifos_and_directories_in_the_share_are_never_followed() {
    let (dir, share, state_dir) = dirs();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&share).unwrap();
    let secret = b"PRIVATE SEAL KEY 0123456789";
    std::fs::write(outside.join("seal.key"), secret).unwrap();
    symlink(outside.join("seal.key"), share.join("001099012345_HS_key.pdf")).unwrap();
    symlink(&outside, share.join("folder-link")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        share.join("pipe.pdf"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    std::fs::create_dir(share.join("subfolder.pdf")).unwrap();
    std::fs::write(share.join("subfolder.pdf").join("inner.pdf"), b"inside a subfolder").unwrap();
    std::fs::write(share.join("scan.png"), b"a real file").unwrap();

    let state = HotState::open(&state_dir).unwrap();
    let mut folder = HotFolder::open(&share, Duration::ZERO, MAX).unwrap();
    let polled = folder.poll(&state).unwrap();
    assert_eq!(polled.taken, vec![HotFileId::of(b"a real file")]);
    let mut refused: Vec<(String, String)> = polled.refused;
    refused.sort();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(refused[0].0 == "001099012345_HS_key.pdf" && refused[0].1.contains("symbolic link"), "{refused:?}");
    assert!(refused[1].0 == "folder-link" && refused[1].1.contains("symbolic link"), "{refused:?}");
    assert!(refused[2].0 == "pipe.pdf" && refused[2].1.contains("FIFO"), "{refused:?}");
    // Reported once, not at every poll.
    assert!(folder.poll(&state).unwrap().refused.is_empty());

    assert!(!contains(&all_bytes_under(&state_dir), secret), "the linked file was read into the state");
    assert!(!contains(&all_bytes_under(&state_dir), b"inside a subfolder"), "a subfolder was entered");
    assert_eq!(std::fs::read(outside.join("seal.key")).unwrap(), secret, "what the link points at is untouched");
    assert!(
        share.join("001099012345_HS_key.pdf").symlink_metadata().unwrap().file_type().is_symlink(),
        "the link is left where it was"
    );
}

#[test]
fn hole03_links_planted_in_the_state_directory_are_never_followed() {
    let (dir, share, state_dir) = dirs();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let secret = b"PRIVATE SEAL KEY 0123456789";
    std::fs::write(outside.join("seal.key"), secret).unwrap();
    std::fs::write(outside.join("victim.txt"), b"ORIGINAL").unwrap();

    let state = HotState::open(&state_dir).unwrap();
    let mut folder = HotFolder::open(&share, Duration::ZERO, MAX).unwrap();
    std::fs::write(share.join("a.pdf"), b"first file").unwrap();
    std::fs::write(share.join("b.pdf"), b"second file").unwrap();
    let taken = folder.poll(&state).unwrap().taken;
    assert_eq!(taken.len(), 2);
    let (a, b) = (HotFileId::of(b"first file"), HotFileId::of(b"second file"));

    // A link planted where the reason of `a` will be written, and one where its name is kept.
    symlink(outside.join("victim.txt"), state_dir.join("failed").join(format!("{a}.reason.txt"))).unwrap();
    symlink(outside.join("victim.txt"), state_dir.join("failed").join(format!(".{a}.reason.txt.tmp"))).unwrap();
    state.fail(&a, Stage::Processing, "damaged").unwrap();
    assert_eq!(std::fs::read(outside.join("victim.txt")).unwrap(), b"ORIGINAL", "written through a planted link");
    assert_eq!(state.list(Stage::Failed).unwrap()[0].reason.as_deref(), Some("damaged"));

    // `b` swapped for a link to the seal key while it was being processed: never read, and its
    // refusal does not carry the key's bytes.
    std::fs::remove_file(state_dir.join("processing").join(b.as_str())).unwrap();
    symlink(outside.join("seal.key"), state_dir.join("processing").join(b.as_str())).unwrap();
    let e = state.read(Stage::Processing, &b, MAX).unwrap_err().to_string();
    assert!(e.contains("symbolic link"), "{e}");
    state.fail(&b, Stage::Processing, &e).unwrap();
    assert!(state.list(Stage::Failed).unwrap().iter().all(|f| f.id != b), "a link is not listed as a refused file");
    assert!(!contains(&all_bytes_under(&state_dir), secret), "the seal key leaked into the state directory");
    assert_eq!(std::fs::read(outside.join("seal.key")).unwrap(), secret);

    // A name file replaced by a link: the id is shown instead of what the link points at.
    std::fs::remove_file(state_dir.join("names").join(a.as_str())).unwrap();
    symlink(outside.join("seal.key"), state_dir.join("names").join(a.as_str())).unwrap();
    assert_eq!(state.name(&a), a.as_str());

    // A state folder replaced by a link to somewhere else: the state directory is not opened.
    std::fs::rename(state_dir.join("done"), dir.path().join("old-done")).unwrap();
    symlink(&outside, state_dir.join("done")).unwrap();
    assert!(HotState::open(&state_dir).is_err());
    // The state opened before keeps its own folder: a move to done/ does not land outside.
    state.move_to(&a, Stage::Failed, Stage::Done).unwrap();
    assert!(dir.path().join("old-done").join(a.as_str()).is_file());
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 2, "nothing was written outside");
}

#[test]
fn hole03_done_is_purged_after_its_keeping_time() {
    let (_dir, share, state_dir) = dirs();
    let state = HotState::open(&state_dir).unwrap();
    let mut folder = HotFolder::open(&share, Duration::ZERO, MAX).unwrap();
    std::fs::write(share.join("old.pdf"), b"archived a month ago").unwrap();
    std::fs::write(share.join("new.pdf"), b"archived today").unwrap();
    let taken = folder.poll(&state).unwrap().taken;
    for id in &taken {
        state.move_to(id, Stage::Processing, Stage::Done).unwrap();
    }
    let old = HotFileId::of(b"archived a month ago");
    let month_ago = SystemTime::now() - Duration::from_secs(31 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(state_dir.join("done").join(old.as_str()))
        .unwrap()
        .set_modified(month_ago)
        .unwrap();

    assert_eq!(state.purge_done(Duration::from_secs(30 * 86_400)).unwrap(), 1);
    let left: Vec<HotFileId> = state.list(Stage::Done).unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(left, vec![HotFileId::of(b"archived today")]);
    assert!(!state_dir.join("names").join(old.as_str()).exists(), "its name went with it");
    assert_eq!(state.purge_done(Duration::from_secs(30 * 86_400)).unwrap(), 0);
}

#[test]
fn checks_that_never_ended_are_counted_across_restarts() {
    let (_dir, share, state_dir) = dirs();
    let state = HotState::open(&state_dir).unwrap();
    let mut folder = HotFolder::open(&share, Duration::ZERO, MAX).unwrap();
    std::fs::write(share.join("a.pdf"), b"stops the appliance").unwrap();
    let id = folder.poll(&state).unwrap().taken.remove(0);
    assert_eq!(state.begin_check(&id).unwrap(), 1);
    // The appliance stops during the check; after a restart the count goes on.
    let restarted = HotState::open(&state_dir).unwrap();
    assert_eq!(restarted.recover().unwrap(), vec![id.clone()]);
    assert_eq!(restarted.begin_check(&id).unwrap(), 2);
    restarted.end_check(&id).unwrap();
    assert_eq!(restarted.begin_check(&id).unwrap(), 1);
    // Stopped after the file moved on but before its count went: the next start forgets the count,
    // so the same content taken again starts from one.
    restarted.move_to(&id, Stage::Processing, Stage::Pending).unwrap();
    let again = HotState::open(&state_dir).unwrap();
    assert!(again.recover().unwrap().is_empty());
    assert!(std::fs::read_dir(state_dir.join("processing")).unwrap().next().is_none(), "a count was left behind");
    again.move_to(&id, Stage::Pending, Stage::Processing).unwrap();
    assert_eq!(again.begin_check(&id).unwrap(), 1);
}
