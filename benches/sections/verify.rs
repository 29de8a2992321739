//! The verify section of `make bench`: the public verification page's work for one archived document
//! (`Appliance::verify_by_token`, what `GET /verify?code=…&t=…` runs), at `SOHOA_BENCH_VERIFY_LEAVES`
//! archive log leaves (default 1,000,000), beside the previous O(n) proof on the same log.
//!
//! The log is made as an archive of the previous version held it: real leaf texts ([`LogLeaf`]),
//! each about a document of its own, written through the archive's [`Store`] in batches of 100,000,
//! with no stored tree. Opening it builds the stored tree once (timed: what the first start after
//! the upgrade costs an appliance of that size). Then documents are committed through
//! [`Archive::commit`] as capture commits them (one with its verification token), a checkpoint is
//! signed, and the appliance opened on that data directory verifies the document by code and token
//! over and over.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::{Duration, Instant};

use archive::{Batch, LeafKind, LogLeaf, NewDocument, RocksStore, Store, Table, merkle};
use domain::{BlobHash, DocumentCode, VerificationToken, vietnam_now};

use crate::archive_section::{document, open, owner, percentile};

/// Leaves per write while the old-style log is made.
const LEAVES_PER_BATCH: u64 = 100_000;

/// Documents committed the ordinary way on top of the old log; the verified one is among them.
const COMMITTED: usize = 100;

/// Timed verifications of the document.
const ROUNDS: usize = 20_000;

/// Timed runs of the previous, O(n), proof.
const OLD_ROUNDS: usize = 3;

/// CPU time this thread has used: beside wall time, what a verification costs when the machine's
/// cores are shared with other work (on a loaded machine, wall-time tails are the scheduler's).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the current thread's CPU clock into `ts`, a valid timespec.
    let done = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(done, 0, "the thread CPU clock is readable");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The load average over the last minute, to say how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// The previous `Archive::prove` (up to commit c93ff40), as it read the store: one pass over every
/// leaf to find the document's latest, a second over the leaves up to the checkpoint to hash them
/// all for the audit path. Returns the path.
fn previous_prove(store: &RocksStore, code: &DocumentCode, size: u64) -> Vec<merkle::Hash> {
    let wanted = code.to_string();
    let mut found = None;
    store
        .scan(Table::LogLeaves, &[], &[], &mut |k, v| {
            if LogLeaf::document_of(&String::from_utf8_lossy(v)).is_some_and(|(_, c)| c == wanted) {
                found = Some(u64::from_be_bytes(k.try_into().expect("8-byte leaf key")));
            }
            ControlFlow::Continue(())
        })
        .expect("leaves read");
    let mut hashes = Vec::new();
    store
        .scan(Table::LogLeaves, &[], &[], &mut |_, v| {
            if hashes.len() as u64 == size {
                return ControlFlow::Break(());
            }
            hashes.push(merkle::leaf_hash(v));
            ControlFlow::Continue(())
        })
        .expect("leaves read");
    merkle::inclusion_proof(found.expect("the document has a leaf") as usize, &hashes)
}

/// Writes `count` leaves as the previous version stored them: the leaf text only.
fn write_old_leaves(db: &Path, count: u64) {
    let store = RocksStore::open(db).expect("store opens");
    let at = vietnam_now();
    let mut batch = Batch::default();
    for i in 0..count {
        // 99 documents per owner, as codes allow; the type keeps them apart from the committed ones.
        let owner = format!("002099{:06}", i / 99).parse().expect("owner id");
        let document =
            DocumentCode::new(Some(owner), "GPXD".parse().expect("type"), Some((i % 99 + 1) as u8)).expect("code");
        let leaf = LogLeaf {
            kind: LeafKind::Archived,
            document,
            pdf: BlobHash::of(&i.to_le_bytes()),
            seal: BlobHash::of(&i.to_be_bytes()),
            at,
        };
        batch.put(Table::LogLeaves, i.to_be_bytes().to_vec(), leaf.to_text().into_bytes());
        if (i + 1) % LEAVES_PER_BATCH == 0 {
            store.apply(std::mem::take(&mut batch)).expect("leaves written");
        }
    }
    store.apply(batch).expect("leaves written");
}

pub fn verify_section() {
    let leaves: u64 = std::env::var("SOHOA_BENCH_VERIFY_LEAVES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let work = tempfile::tempdir_in(crate::util::repo())
        .expect("temporary directory beside the checkout (same disk as ./var)");
    let w = work.path();

    let start = Instant::now();
    write_old_leaves(&w.join("archive"), leaves);
    let written = start.elapsed();
    let start = Instant::now();
    let (archive, keys) = open(w);
    let built = start.elapsed();
    let mut codes = Vec::with_capacity(COMMITTED);
    let mut noise = crate::Rng(0x5851_f42d_4c95_7f2d);
    let token = VerificationToken::from_random(*b"sohoa bench-tok!");
    for i in 0..COMMITTED {
        let reservation = archive.reserve_document_code(Some(&owner(i)), &"HS".parse().unwrap()).expect("code");
        let code = reservation.code().clone();
        let new = document(code.clone(), &keys, vec![noise.fill(4096)], noise.fill(1024));
        let verification = (i == COMMITTED / 2).then(|| token.clone());
        archive.commit(NewDocument { verification, ..new }).expect("commit");
        codes.push(code);
    }
    let checkpoint = archive.checkpoint().expect("checkpoint");
    let size = checkpoint.size;
    let code = &codes[COMMITTED / 2];
    let path = archive.prove(code).expect("proof").path;
    drop((archive, keys));

    // The appliance on that data directory, as `sohoa serve` opens it; what the public page runs.
    let appliance = sohoa::Appliance::open(w).expect("the appliance opens");
    let verify =
        || appliance.verify_by_token(code, &token).expect("verification runs").is_some_and(|(report, _)| report.valid);
    assert!(verify(), "the document does not verify");
    let load_before = load_average();
    let (mut ours, mut ours_cpu): (Vec<Duration>, Vec<Duration>) = (0..ROUNDS)
        .map(|_| {
            let (t, c) = (Instant::now(), thread_cpu());
            assert!(std::hint::black_box(verify()));
            (t.elapsed(), thread_cpu() - c)
        })
        .unzip();
    ours.sort();
    ours_cpu.sort();
    let mut proofs: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(appliance.archive().prove(code).expect("inclusion proof"));
            t.elapsed()
        })
        .collect();
    proofs.sort();
    drop(appliance);

    // The previous proof on the same store, the archive closed.
    let store = RocksStore::open(&w.join("archive")).expect("store opens");
    assert_eq!(previous_prove(&store, code, size), path, "the previous proof differs");
    let mut old: Vec<Duration> = (0..OLD_ROUNDS)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(previous_prove(&store, code, size));
            t.elapsed()
        })
        .collect();
    old.sort();

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "\n## verify (archive log of {size} leaves: {leaves} written as the previous version stored them, {COMMITTED} documents committed)"
    );
    println!(
        "(old-style log written in {:.1} s; first open built the stored tree in {:.1} s; {ROUNDS} verifications of one document; load average {load_before} before them)",
        written.as_secs_f64(),
        built.as_secs_f64()
    );
    println!("| what | p50 ms | p99 ms |\n|---|---:|---:|");
    println!(
        "| public verification by code and token (`Appliance::verify_by_token`: lookup, seals, what they cover, log proof, status) | {:.3} | {:.3} |",
        ms(percentile(&ours, 0.5)),
        ms(percentile(&ours, 0.99))
    );
    println!(
        "| the same, CPU time of the verifying thread | {:.3} | {:.3} |",
        ms(percentile(&ours_cpu, 0.5)),
        ms(percentile(&ours_cpu, 0.99))
    );
    println!(
        "| inclusion proof alone (`Archive::prove`: index, checkpoint, leaf, stored subtrees) | {:.3} | {:.3} |",
        ms(percentile(&proofs, 0.5)),
        ms(percentile(&proofs, 0.99))
    );
    println!(
        "| previous proof alone: every leaf read and hashed ({OLD_ROUNDS} runs) | {:.1} | {:.1} |",
        ms(percentile(&old, 0.5)),
        ms(percentile(&old, 0.99))
    );
    let p99 = ms(percentile(&ours, 0.99));
    println!("\n| ratio | value | target |\n|---|---:|---|");
    println!("| verification p99, ms | {p99:.3} | < 5 {} |", if p99 < 5.0 { "met" } else { "**MISSED**" });
    let cpu_p99 = ms(percentile(&ours_cpu, 0.99));
    println!("| verification p99, CPU ms | {cpu_p99:.3} | < 5 {} |", if cpu_p99 < 5.0 { "met" } else { "**MISSED**" });
    println!(
        "| previous proof p50 / inclusion proof p50 | {:.0}× | |",
        ms(percentile(&old, 0.5)) / ms(percentile(&proofs, 0.5))
    );
    println!(
        "| previous proof p50 / whole verification p50 | {:.0}× | |",
        ms(percentile(&old, 0.5)) / ms(percentile(&ours, 0.5))
    );
}
