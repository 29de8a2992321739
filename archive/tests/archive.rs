//! The archive's guarantees, tested on the real RocksDB store with the signer's real Ed25519 keys:
//! crash safety under SIGKILL, tamper detection by fixity, retention, holds and two-person
//! disposition, the Merkle log's proofs, grouped commits, backup and restore.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{Days, NaiveDate};
use domain::{BlobHash, DocumentCode, DocumentMetadata, MetadataDraft, OwnerId, Validity, vietnam_now};
use signer::{KeyId, KeyRing, Manifest, ManifestPage, PageSeal, Sealed, metadata_digest};
use sohoa_archive as archive;

use archive::{
    Archive, ArchiveError, ArchiveOptions, Batch, ClockStart, CodeReservation, CouncilDecision, Disposition,
    DocumentRecord, DocumentStatus, HoldScope, Lifecycle, NewDocument, PageRecord, ProblemKind, RetentionClass,
    RetentionPeriod, RetentionSchedule, Review, RocksStore, SealRecord, Sealer, Snapshot, SpoolFile, Spooled, Store,
    Table,
};
use archive::{KeyValue, LeafKind, LogLeaf, Visit, merkle};

/// The signer's key ring as the archive's sealer, as the binary wires it.
struct RingSealer(KeyRing);

fn record_of(s: Sealed) -> SealRecord {
    SealRecord { text: s.text, signature: s.signature.to_vec(), key: s.key.to_string() }
}

impl Sealer for RingSealer {
    fn seal(&self, text: String) -> SealRecord {
        record_of(self.0.sign_text(text))
    }

    fn check(&self, seal: &SealRecord) -> Result<(), String> {
        let signature = seal.signature.as_slice().try_into().map_err(|_| "the signature is not 64 bytes".to_owned())?;
        let key = KeyId::parse(&seal.key).map_err(|e| e.to_string())?;
        let sealed = Sealed { text: seal.text.clone(), signature, key };
        self.0.verified_text(&sealed).map(|_| ()).map_err(|e| e.to_string())
    }
}

fn class(id: &str, period: RetentionPeriod, clock: ClockStart) -> RetentionClass {
    RetentionClass { id: id.into(), name: id.into(), legal_basis: "Thông tư 10/2022/TT-BNV".into(), period, clock }
}

fn schedule() -> RetentionSchedule {
    RetentionSchedule {
        default_class: "permanent".into(),
        classes: vec![
            class("permanent", RetentionPeriod::Permanent, ClockStart::IssueDate),
            class("10y", RetentionPeriod::Years(10), ClockStart::IssueDate),
            class("10y-dossier", RetentionPeriod::Years(10), ClockStart::DossierDate),
            class("5y-after-validity", RetentionPeriod::Years(5), ClockStart::ValidityEnd),
            class("5y", RetentionPeriod::Years(5), ClockStart::CaptureDate),
        ],
        types: [
            ("GPXD", "permanent"),
            ("QD", "10y"),
            ("HS", "10y-dossier"),
            ("CCCD", "5y-after-validity"),
            ("PT", "5y"),
        ]
        .into_iter()
        .map(|(t, c)| (t.to_owned(), c.to_owned()))
        .collect(),
    }
}

/// An archive and its key ring in a data directory.
struct Fixture {
    dir: PathBuf,
    archive: Archive,
    ring: Arc<RingSealer>,
}

fn open_in(dir: &Path) -> Fixture {
    let ring = Arc::new(RingSealer(KeyRing::open_or_create(&dir.join("keys")).unwrap()));
    let options = ArchiveOptions { sealer: ring.clone(), schedule: schedule(), origin: "sohoa/test".into() };
    Fixture { dir: dir.to_owned(), archive: Archive::open(&dir.join("db"), options).unwrap(), ring }
}

impl Fixture {
    fn reopen(self) -> Fixture {
        let dir = self.dir.clone();
        drop(self);
        open_in(&dir)
    }

    /// Opens the bare store (the archive closed), to damage it as an attacker or a failing disk would.
    fn tamper(self, damage: impl FnOnce(&RocksStore)) -> Fixture {
        let dir = self.dir.clone();
        drop(self);
        damage(&RocksStore::open(&dir.join("db")).unwrap());
        open_in(&dir)
    }
}

/// What a test document looks like besides its pages.
#[derive(Clone)]
struct Doc {
    owner: &'static str,
    doc_type: &'static str,
    issue_date: Option<NaiveDate>,
    validity: Validity,
    dossier: Option<&'static str>,
}

const PLAIN: Doc =
    Doc { owner: "001099012345", doc_type: "GPXD", issue_date: None, validity: Validity::Permanent, dossier: None };

/// Reserves the next code of the owner and type of `doc`.
fn reserve<'a>(f: &'a Fixture, doc: &Doc) -> CodeReservation<'a> {
    let owner: OwnerId = doc.owner.parse().unwrap();
    f.archive.reserve_document_code(Some(&owner), &doc.doc_type.parse().unwrap()).unwrap()
}

/// A document sealed as the appliance seals one, under `code`: a manifest and a seal per page.
fn document(f: &Fixture, code: &DocumentCode, doc: &Doc, pages: &[&[u8]]) -> NewDocument {
    let code = code.clone();
    let metadata = DocumentMetadata::new(MetadataDraft {
        doc_type: doc.doc_type.parse().unwrap(),
        owner: Some(doc.owner.parse().unwrap()),
        name: "Giấy phép xây dựng".into(),
        number_symbol: None,
        issue_date: doc.issue_date,
        issuing_body: None,
        summary: None,
        validity: doc.validity,
        validity_scope: None,
        dossier: doc.dossier.map(|d| d.parse().unwrap()),
        procedure: None,
        operator: "op".into(),
        captured_at: vietnam_now(),
    })
    .unwrap();
    let pdf = format!("%PDF-1.7 {code} {}", pages.len()).into_bytes();
    let sealed_at = vietnam_now();
    let ring = &f.ring.0;
    let manifest = Manifest {
        document: code.clone(),
        metadata: metadata_digest(&metadata),
        pages: pages.iter().map(|p| ManifestPage { image: BlobHash::of(p), stream: BlobHash::of(p) }).collect(),
        pdf: BlobHash::of(&pdf),
        operator: "op".into(),
        sealed_at,
    };
    let page_records = pages
        .iter()
        .enumerate()
        .map(|(i, p)| PageRecord {
            image: BlobHash::of(p),
            stream: BlobHash::of(p),
            mime: "image/png".into(),
            size: (1, 1),
            dpi: (300.0, 300.0),
            text: format!("trang {}", i + 1),
            flags: vec![],
            seal: record_of(ring.seal_page(&PageSeal {
                document: code.clone(),
                page: i as u32 + 1,
                image: BlobHash::of(p),
                sealed_at,
            })),
        })
        .collect();
    NewDocument {
        record: DocumentRecord {
            code,
            metadata,
            pages: page_records,
            pdf: BlobHash::of(&pdf),
            pdf_size: 0,
            seal: record_of(ring.seal(&manifest)),
            status: DocumentStatus::Active,
            archived_at: vietnam_now(),
            lifecycle: Lifecycle::default(),
            originals: Vec::new(),
        },
        page_images: pages.iter().map(|p| p.to_vec().into()).collect(),
        pdf: pdf.into(),
        originals: Vec::new(),
        actor: "operator".into(),
        source: None,
        verification: None,
    }
}

fn commit(f: &Fixture, doc: &Doc, pages: &[&[u8]]) -> DocumentCode {
    let reservation = reserve(f, doc);
    f.archive.commit(document(f, reservation.code(), doc, pages)).unwrap();
    reservation.code().clone()
}

fn assert_clean(f: &Fixture) {
    let report = f.archive.fixity(None, "test").unwrap();
    assert!(report.is_clean(), "fixity problems: {:#?}", report.problems);
}

/// The problem fixity reports about exactly `object`, or a panic listing what it did report.
fn problem_about(f: &Fixture, kind: ProblemKind, object: &str) -> String {
    let report = f.archive.fixity(None, "test").unwrap();
    match report.problems.iter().find(|p| p.kind == kind && p.object == object) {
        Some(p) => p.detail.clone(),
        None => panic!("no {kind:?} problem about {object:?}; found {:#?}", report.problems),
    }
}

// ---------------------------------------------------------------------------------------------
// Crash safety.

/// The child of the crash test: ingests from two threads until it is killed, printing `ACK <code>`
/// only after `commit` returned, and signing a checkpoint every few documents. Runs only when the
/// parent sets `SOHOA_CRASH_CHILD`; as an ordinary test it does nothing.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("SOHOA_CRASH_CHILD") else { return };
    let round: u32 = std::env::var("SOHOA_CRASH_ROUND").unwrap().parse().unwrap();
    let f = Arc::new(open_in(Path::new(&dir)));
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let f = f.clone();
            std::thread::spawn(move || {
                for n in 0u32.. {
                    // Each owner takes at most 50 documents, so the 99 numbers of a code never run out.
                    let owner: &'static str = format!("001099{:02}{t}{:03}", round % 100, n / 50).leak();
                    // Every other document has a page large enough to be a blob file, so that kills
                    // also land between a file and the batch that refers to it.
                    let page = format!("round {round} thread {t} document {n} ").repeat(200 + 2000 * (n % 2) as usize);
                    let shared = b"a page every document shares".repeat(100);
                    let code = commit(&f, &Doc { owner, ..PLAIN }, &[page.as_bytes(), &shared]);
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ACK {code}").unwrap();
                    out.flush().unwrap();
                    if n % 5 == 0 {
                        f.archive.checkpoint().unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn every_acknowledged_document_survives_sigkill_and_the_archive_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged = BTreeSet::new();
    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut previous_checkpoint = None;
    for round in 0..50 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads", "1"])
            .env("SOHOA_CRASH_CHILD", dir.path())
            .env("SOHOA_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("ACK ").map(str::to_owned))
                .collect::<Vec<_>>()
        });
        // Kill at a random point: while opening, while committing, between commits.
        std::thread::sleep(Duration::from_millis(50 + random() % 400));
        child.kill().unwrap();
        child.wait().unwrap();
        acknowledged.extend(reader.join().unwrap());

        let f = open_in(dir.path());
        // Opening swept what the kill left between a blob file and its batch.
        for (name, hash) in blob_files(dir.path()) {
            let hash = hash.unwrap_or_else(|| panic!("round {round}: {name} left in the blob directory"));
            assert!(f.archive.blob_refs(&hash).unwrap() > 0, "round {round}: blob file {name} has no reference");
        }
        for code in &acknowledged {
            let record = f
                .archive
                .record(&code.parse().unwrap())
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: acknowledged {code} is gone"));
            for hash in record.blobs() {
                f.archive.read_blob(&hash).unwrap();
            }
        }
        // No partial document: every record's blobs, keys, events and log leaves agree, and every
        // seal and the audit chain verify. Fixity runs in full every 10th round and at the end;
        // in between the cheaper checks above and below run.
        if round % 10 == 9 {
            assert_clean(&f);
        }
        let latest = f.archive.latest_checkpoint().unwrap();
        let now = f.archive.checkpoint().unwrap();
        for old in [latest, previous_checkpoint.take()].into_iter().flatten() {
            let proof = f.archive.prove_consistency(old.size).unwrap();
            assert!(
                proof.verifies(),
                "round {round}: log at {} is not a prefix of the log at {}",
                old.size,
                proof.to.size
            );
            assert_eq!(proof.to, now);
        }
        f.archive.audit_trail(None).unwrap();
        previous_checkpoint = Some(now);
    }
    assert!(acknowledged.len() > 50, "the child acknowledged only {} documents in 50 rounds", acknowledged.len());
}

// ---------------------------------------------------------------------------------------------
// Tamper detection.

#[test]
fn fixity_names_a_flipped_byte_in_a_blob() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let code = commit(&f, &PLAIN, &[b"page one", b"page two"]);
    assert_clean(&f);
    let target = BlobHash::of(b"page two");
    let f = f.tamper(|store| {
        let mut bytes = store.get(Table::Blobs, target.as_bytes()).unwrap().unwrap();
        bytes[3] ^= 0x01;
        let mut batch = Batch::default();
        batch.put(Table::Blobs, target.as_bytes().to_vec(), bytes);
        store.apply(batch).unwrap();
    });
    let detail = problem_about(&f, ProblemKind::Altered, &format!("blob {target}"));
    assert!(detail.contains("now hashes to"), "{detail}");
    assert!(matches!(f.archive.read_blob(&target), Err(ArchiveError::AlteredBlob { .. })));
    assert!(f.archive.record(&code).unwrap().is_some());
}

#[test]
fn fixity_names_a_removed_record() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let kept = commit(&f, &PLAIN, &[b"kept"]);
    let removed = commit(&f, &PLAIN, &[b"removed"]);
    f.archive.checkpoint().unwrap();
    let f = f.tamper(|store| {
        let mut batch = Batch::default();
        batch.delete(Table::Documents, removed.to_string().into_bytes());
        store.apply(batch).unwrap();
    });
    let detail = problem_about(&f, ProblemKind::Missing, &format!("document {removed}"));
    assert!(detail.contains("record is gone"), "{detail}");
    let report = f.archive.fixity(None, "test").unwrap();
    assert!(report.problems.iter().all(|p| !p.object.contains(&kept.to_string())), "{:#?}", report.problems);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::Unreferenced && p.object == format!("blob {}", BlobHash::of(b"removed")))
    );
}

#[test]
fn fixity_names_a_rewritten_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let code = commit(&f, &PLAIN, &[b"page"]);
    f.archive.audit("officer", domain::AuditAction::Download, &code.to_string(), "").unwrap();
    f.archive.audit("officer", domain::AuditAction::View, &code.to_string(), "").unwrap();
    f.archive.checkpoint().unwrap();
    let f = f.tamper(|store| {
        let key = 2u64.to_be_bytes();
        let bytes = store.get(Table::Audit, &key).unwrap().unwrap();
        // Rewrite the actor in place, keeping the encoding's length, as a forger would.
        let at = bytes.windows(7).position(|w| w == b"officer").unwrap();
        let mut forged = bytes.clone();
        forged[at..at + 7].copy_from_slice(b"someone");
        let mut batch = Batch::default();
        batch.put(Table::Audit, key.to_vec(), forged);
        store.apply(batch).unwrap();
    });
    let detail = problem_about(&f, ProblemKind::Altered, "audit entry 2");
    assert!(detail.contains("hash chain"), "{detail}");
    let e = f.archive.audit_trail(None).unwrap_err().to_string();
    assert!(e.contains("audit entry 2"), "{e}");
}

#[test]
fn fixity_names_a_truncated_log() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    for i in 0..5u8 {
        commit(&f, &PLAIN, &[&[i; 10]]);
    }
    let checkpoint = f.archive.checkpoint().unwrap();
    assert_eq!(checkpoint.size, 5);
    let f = f.tamper(|store| {
        let mut batch = Batch::default();
        batch.delete(Table::LogLeaves, 4u64.to_be_bytes().to_vec());
        batch.delete(Table::LogLeaves, 3u64.to_be_bytes().to_vec());
        store.apply(batch).unwrap();
    });
    let detail = problem_about(&f, ProblemKind::Truncated, "archive log");
    assert!(detail.contains("holds 3 leaves") && detail.contains("signed 5"), "{detail}");
}

// ---------------------------------------------------------------------------------------------
// The archive log.

#[test]
fn inclusion_and_consistency_proofs_verify_against_signed_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let first = commit(&f, &PLAIN, &[b"one"]);
    let early = f.archive.checkpoint().unwrap();
    assert_eq!(early.size, 1);
    assert!(early.body_matches());
    f.ring.check(&early.seal).unwrap();
    assert!(early.to_note().starts_with("sohoa/test\n1\n"), "{}", early.to_note());
    let codes: Vec<_> = (0..6u8).map(|i| commit(&f, &PLAIN, &[&[i; 4]])).collect();
    f.archive.revoke(&codes[2], "cấp sai đối tượng", "officer").unwrap();
    f.archive.checkpoint().unwrap();
    let proof = f.archive.prove(&first).unwrap();
    assert!(proof.verifies());
    assert_eq!(proof.checkpoint.size, 8, "6 more archived and 1 revocation");
    let revoked = f.archive.prove(&codes[2]).unwrap();
    assert!(revoked.leaf.contains("kind: revoked"), "{}", revoked.leaf);
    assert!(revoked.verifies());
    let mut forged = proof.clone();
    forged.leaf = forged.leaf.replace("archived", "revoked");
    assert!(!forged.verifies());
    let consistency = f.archive.prove_consistency(1).unwrap();
    assert!(consistency.verifies());
    assert_eq!(consistency.from, early);
    // A checkpoint with nothing new returns the latest instead of signing again.
    let again = f.archive.checkpoint().unwrap();
    assert_eq!(again, consistency.to);
    let f = f.reopen();
    assert_eq!(f.archive.checkpoint().unwrap(), again);
}

// ---------------------------------------------------------------------------------------------
// The log's stored tree (issue 17, hole 5): a proof reads O(log n) stored subtrees, not every leaf,
// and gives exactly what the RFC's computation over every leaf gives.

/// The RFC 6962 leaf hashes of leaf texts, for the reference computation over the whole log.
fn hashes_of(texts: &[String]) -> Vec<merkle::Hash> {
    texts.iter().map(|t| merkle::leaf_hash(t.as_bytes())).collect()
}

/// Checks the proof of every document (whose latest leaf is at the index given) and the consistency
/// proof from every earlier size in `sizes` against the full computation over `texts`, the whole log
/// as of the latest checkpoint.
fn assert_proofs_are_the_full_computation(
    f: &Fixture,
    latest: &BTreeMap<DocumentCode, u64>,
    texts: &[String],
    sizes: &[u64],
) {
    let hashes = hashes_of(texts);
    let n = texts.len() as u64;
    for (code, index) in latest {
        let proof = f.archive.prove(code).unwrap();
        assert_eq!((proof.index, proof.checkpoint.size), (*index, n), "{code}");
        assert_eq!(proof.leaf, texts[*index as usize]);
        assert_eq!(proof.checkpoint.root, merkle::root(&hashes), "size {n}");
        assert_eq!(proof.path, merkle::inclusion_proof(*index as usize, &hashes), "leaf {index} of {n}");
        assert!(proof.verifies(), "leaf {index} of {n}");
    }
    for &m in sizes.iter().filter(|m| **m < n) {
        let proof = f.archive.prove_consistency(m).unwrap();
        assert_eq!(proof.path, merkle::consistency_proof(m as usize, &hashes), "{m} -> {n}");
        assert!(proof.verifies(), "{m} -> {n}");
    }
}

#[test]
fn hole05_every_proof_of_logs_of_1_to_70_leaves_equals_the_full_computation() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let mut texts = Vec::new();
    let mut latest = BTreeMap::new();
    let mut sizes = Vec::new();
    for n in 1..=70u64 {
        // Every tenth leaf revokes an earlier document, so that its latest leaf moves on.
        let code = if n % 10 == 0 {
            let code = latest.keys().nth(n as usize / 4).cloned().unwrap();
            f.archive.revoke(&code, "cấp sai đối tượng", "officer").unwrap();
            code
        } else {
            commit(&f, &PLAIN, &[format!("page {n}").as_bytes()])
        };
        // The proof of the newest leaf makes the checkpoint of this size.
        texts.push(f.archive.prove(&code).unwrap().leaf);
        latest.insert(code, n - 1);
        assert_proofs_are_the_full_computation(&f, &latest, &texts, &sizes);
        sizes.push(n);
    }
    assert_eq!(texts.iter().filter(|t| t.contains("kind: revoked")).count(), 7);
    assert_clean(&f);
}

#[test]
fn hole05_proofs_hold_after_reopening_and_the_log_grows_on_from_its_stored_edge() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let codes: Vec<_> = (0..5u8).map(|i| commit(&f, &PLAIN, &[&[i; 8]])).collect();
    f.archive.checkpoint().unwrap();
    let before: Vec<_> = codes.iter().map(|c| f.archive.prove(c).unwrap()).collect();
    let f = f.reopen();
    for (code, proof) in codes.iter().zip(&before) {
        assert_eq!(&f.archive.prove(code).unwrap(), proof);
    }
    // Growing from 5 to 11 leaves after reopening closes subtrees begun before (leaves 4..8, 0..8):
    // the reopened writer's right edge came from the stored tree.
    let codes: Vec<_> = codes.into_iter().chain((5..11u8).map(|i| commit(&f, &PLAIN, &[&[i; 8]]))).collect();
    f.archive.checkpoint().unwrap();
    let texts: Vec<String> = before
        .iter()
        .map(|p| p.leaf.clone())
        .chain(codes[5..].iter().map(|c| f.archive.prove(c).unwrap().leaf))
        .collect();
    let latest = codes.iter().cloned().zip(0..).collect();
    assert_proofs_are_the_full_computation(&f, &latest, &texts, &[5]);
    assert_clean(&f);
}

/// Every key of a table.
fn keys_of(store: &RocksStore, table: Table) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    store
        .scan(table, &[], &[], &mut |k, _| {
            keys.push(k.to_vec());
            ControlFlow::Continue(())
        })
        .unwrap();
    keys
}

/// The stored key of a perfect subtree of the log: its level, then its index big-endian.
fn node_key(level: u8, index: u64) -> Vec<u8> {
    [&[level][..], &index.to_be_bytes()].concat()
}

#[test]
fn hole05_an_archive_without_a_stored_tree_has_it_built_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let codes: Vec<_> = (0..9u8).map(|i| commit(&f, &PLAIN, &[&[i; 8]])).collect();
    f.archive.checkpoint().unwrap();
    f.archive.revoke(&codes[4], "cấp sai đối tượng", "officer").unwrap();
    f.archive.checkpoint().unwrap();
    let expected: Vec<_> = codes.iter().map(|c| f.archive.prove(c).unwrap()).collect();
    assert!(expected[4].leaf.contains("kind: revoked"), "{}", expected[4].leaf);

    // What the previous version wrote: leaves and checkpoints, no subtrees, no index.
    let f = f.tamper(|store| {
        let mut batch = Batch::default();
        for table in [Table::LogNodes, Table::LogIndex] {
            let keys = keys_of(store, table);
            assert!(!keys.is_empty(), "{table:?} was written with the leaves");
            keys.into_iter().for_each(|k| batch.delete(table, k));
        }
        store.apply(batch).unwrap();
    });
    for (code, proof) in codes.iter().zip(&expected) {
        assert_eq!(&f.archive.prove(code).unwrap(), proof, "{code}");
    }
    let consistency = f.archive.prove_consistency(9).unwrap();
    assert!(consistency.verifies());
    assert_clean(&f);

    // The previous version appended a leaf to an upgraded archive: the tree stops short of the last
    // leaf, and is built again.
    let last = commit(&f, &PLAIN, &[b"appended by the previous version"]);
    let f = f.tamper(|store| {
        let mut batch = Batch::default();
        batch.delete(Table::LogNodes, node_key(0, 10));
        batch.delete(Table::LogIndex, last.to_string().into_bytes());
        store.apply(batch).unwrap();
    });
    let proof = f.archive.prove(&last).unwrap();
    assert_eq!((proof.index, proof.checkpoint.size), (10, 11));
    assert!(proof.verifies());
    assert!(f.archive.prove_consistency(10).unwrap().verifies());
    assert_clean(&f);
}

/// A store that counts the values read through it, to bound the work a proof does.
struct Counting {
    inner: RocksStore,
    /// Shared with the test, which reads and resets it while the archive owns the store.
    reads: Arc<AtomicU64>,
}

impl Store for Counting {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, ArchiveError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get(table, key)
    }

    fn scan(&self, table: Table, prefix: &[u8], from: &[u8], visit: &mut Visit<'_>) -> Result<(), ArchiveError> {
        self.inner.scan(table, prefix, from, &mut |k, v| {
            self.reads.fetch_add(1, Ordering::Relaxed);
            visit(k, v)
        })
    }

    fn last(&self, table: Table) -> Result<Option<KeyValue>, ArchiveError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.last(table)
    }

    fn last_before(&self, table: Table, key: &[u8]) -> Result<Option<KeyValue>, ArchiveError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.last_before(table, key)
    }

    fn apply(&self, batch: Batch) -> Result<(), ArchiveError> {
        self.inner.apply(batch)
    }

    fn put_blob_files(&self, blobs: &[(BlobHash, &[u8])]) -> Result<(), ArchiveError> {
        self.inner.put_blob_files(blobs)
    }

    fn spool(&self) -> Result<SpoolFile, ArchiveError> {
        self.inner.spool()
    }

    fn adopt_spooled(&self, spooled: &[&Spooled]) -> Result<(), ArchiveError> {
        self.inner.adopt_spooled(spooled)
    }

    fn open_blob_file(&self, hash: &BlobHash) -> Result<Option<(std::fs::File, u64)>, ArchiveError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.open_blob_file(hash)
    }

    fn remove_blob_file(&self, hash: &BlobHash) -> Result<(), ArchiveError> {
        self.inner.remove_blob_file(hash)
    }

    fn snapshot_to(&self, dir: &Path) -> Result<(), ArchiveError> {
        self.inner.snapshot_to(dir)
    }

    // Proofs read the live store; what fixity reads through a snapshot is not counted.
    fn snapshot(&self) -> Box<dyn Snapshot + '_> {
        self.inner.snapshot()
    }
}

/// Appends leaves `from..to` as the previous version stored them (the leaf texts only), each about
/// its own document; returns their texts.
fn append_old_leaves(db: &Path, from: u64, to: u64) -> Vec<String> {
    let store = RocksStore::open(db).unwrap();
    let mut batch = Batch::default();
    let texts: Vec<String> = (from..to)
        .map(|i| {
            let text = LogLeaf {
                kind: LeafKind::Archived,
                document: leaf_code(i),
                pdf: BlobHash::of(&i.to_le_bytes()),
                seal: BlobHash::of(format!("seal {i}").as_bytes()),
                at: vietnam_now(),
            }
            .to_text();
            batch.put(Table::LogLeaves, i.to_be_bytes().to_vec(), text.as_bytes().to_vec());
            text
        })
        .collect();
    store.apply(batch).unwrap();
    texts
}

/// The document of the `i`th generated leaf: 99 per owner.
fn leaf_code(i: u64) -> DocumentCode {
    let owner: OwnerId = format!("001099{:06}", i / 99).parse().unwrap();
    DocumentCode::new(Some(owner), "GPXD".parse().unwrap(), Some((i % 99 + 1) as u8)).unwrap()
}

#[test]
fn hole05_a_proof_reads_a_logarithmic_number_of_stored_values() {
    for (old, size) in [(150, 300), (3000, 5001), (40_000, 70_001)] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let ring = Arc::new(RingSealer(KeyRing::open_or_create(&dir.path().join("keys")).unwrap()));
        let reads = Arc::new(AtomicU64::new(0));
        let open = || {
            let store = Counting { inner: RocksStore::open(&db).unwrap(), reads: reads.clone() };
            Archive::with_store(
                store,
                ArchiveOptions { sealer: ring.clone(), schedule: schedule(), origin: "sohoa/test".into() },
            )
            .unwrap()
        };
        // An archive of the previous version, opened (its tree built) and checkpointed; then more
        // leaves appended the old way, and opened again.
        let mut texts = append_old_leaves(&db, 0, old);
        open().checkpoint().unwrap();
        texts.extend(append_old_leaves(&db, old, size));
        let archive = open();
        assert_eq!(archive.checkpoint().unwrap().size, size);
        let hashes = hashes_of(&texts);
        let log2 = (size as f64).log2().ceil() as u64;
        // Reads besides the subtrees: the index entry, the latest checkpoint and the leaf.
        let bound = 2 * log2 + 3;
        let take = || reads.swap(0, Ordering::Relaxed);
        for i in (0..size).step_by(size as usize / 37).chain([size - 2, size - 1]) {
            take();
            let proof = archive.prove(&leaf_code(i)).unwrap();
            let reads = take();
            assert!(reads <= bound, "leaf {i} of {size}: {reads} reads, more than 2·log2(n) + 3 = {bound}");
            assert_eq!(proof.path, merkle::inclusion_proof(i as usize, &hashes), "leaf {i} of {size}");
            assert!(proof.verifies());
        }
        take();
        let consistency = archive.prove_consistency(old).unwrap();
        let reads = take();
        assert!(reads <= bound, "consistency {old} -> {size}: {reads} reads, more than {bound}");
        assert_eq!(consistency.path, merkle::consistency_proof(old as usize, &hashes));
        assert!(consistency.verifies());
    }
}

#[test]
fn hole05_fixity_checks_the_stored_tree_and_a_backup_carries_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let codes: Vec<_> = (0..6u8).map(|i| commit(&f, &PLAIN, &[&[i; 8]])).collect();
    f.archive.checkpoint().unwrap();
    let backup = dir.path().join("backup");
    f.archive.backup(&backup, "admin").unwrap();
    let options = || ArchiveOptions { sealer: f.ring.clone(), schedule: schedule(), origin: "sohoa/test".into() };
    let (restored, report) = Archive::restore(&backup, &dir.path().join("restored"), options(), "admin").unwrap();
    assert!(report.is_clean(), "{:#?}", report.problems);
    for code in &codes {
        assert_eq!(restored.prove(code).unwrap(), f.archive.prove(code).unwrap());
    }
    drop(restored);

    // A subtree altered in the backup: the restore is refused, naming it.
    let store = RocksStore::open(&backup).unwrap();
    let mut batch = Batch::default();
    batch.put(Table::LogNodes, node_key(1, 1), merkle::leaf_hash(b"forged").to_vec());
    store.apply(batch).unwrap();
    drop(store);
    let e = Archive::restore(&backup, &dir.path().join("restored-2"), options(), "admin").err().unwrap().to_string();
    assert!(e.contains("log node 1/1 (leaves 2..4)") && e.contains("not the hash of its leaves"), "{e}");

    // An index entry pointed at another document's leaf: fixity names it, and the proof is refused
    // rather than showing the other document's leaf.
    let f = f.tamper(|store| {
        let mut batch = Batch::default();
        batch.put(Table::LogIndex, codes[3].to_string().into_bytes(), 1u64.to_be_bytes().to_vec());
        store.apply(batch).unwrap();
    });
    let detail = problem_about(&f, ProblemKind::Altered, &format!("log index entry {}", codes[3]));
    assert!(detail.contains("leaf 3"), "{detail}");
    let e = f.archive.prove(&codes[3]).unwrap_err().to_string();
    assert!(e.contains("not about it"), "{e}");

    // A subtree removed: fixity names it as missing.
    let f = f.tamper(|store| {
        let mut batch = Batch::default();
        batch.delete(Table::LogNodes, node_key(0, 2));
        store.apply(batch).unwrap();
    });
    let detail = problem_about(&f, ProblemKind::Missing, "log node 0/2 (leaves 2..3)");
    assert!(detail.contains("not stored"), "{detail}");
}

#[test]
fn concurrent_commits_share_writes_and_all_survive() {
    let dir = tempfile::tempdir().unwrap();
    let f = Arc::new(open_in(dir.path()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let f = f.clone();
            std::thread::spawn(move || {
                let owner: &'static str = format!("0010990000{t:02}").leak();
                (0..25)
                    .map(|n| commit(&f, &Doc { owner, ..PLAIN }, &[format!("{t}/{n}").as_bytes(), b"shared"]))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let codes: Vec<DocumentCode> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let f = Arc::into_inner(f).unwrap().reopen();
    assert_eq!(f.archive.document_count().unwrap(), 100);
    assert_eq!(f.archive.blob_refs(&BlobHash::of(b"shared")).unwrap(), 100);
    for code in &codes {
        assert!(f.archive.record(code).unwrap().is_some());
    }
    assert_eq!(f.archive.checkpoint().unwrap().size, 100);
    assert_clean(&f);
    // The same code twice is refused, and the refusal leaves the archive as it was.
    let again = document(&f, &codes[0], &PLAIN, &[b"x"]);
    assert!(matches!(f.archive.commit(again), Err(ArchiveError::DuplicateDocument(_))));
    assert_clean(&f);
}

// ---------------------------------------------------------------------------------------------
// Retention, holds and disposition.

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn disposition(f: &Fixture, code: &DocumentCode) -> Disposition {
    f.archive.record(code).unwrap().unwrap().lifecycle.disposition
}

#[test]
fn eligibility_follows_each_class_and_permanent_records_are_never_eligible() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let today = vietnam_now().date_naive();
    let decision = commit(&f, &Doc { doc_type: "QD", issue_date: Some(day(2020, 3, 15)), ..PLAIN }, &[b"qd"]);
    let permanent = commit(&f, &Doc { issue_date: Some(day(1990, 1, 1)), ..PLAIN }, &[b"gpxd"]);
    let card = commit(&f, &Doc { doc_type: "CCCD", validity: Validity::Until(day(2031, 6, 30)), ..PLAIN }, &[b"cccd"]);
    let dossier = commit(&f, &Doc { doc_type: "HS", dossier: Some("H56.14-241011-0001"), ..PLAIN }, &[b"hs"]);
    let slip = commit(&f, &Doc { doc_type: "PT", ..PLAIN }, &[b"pt"]);
    let class = |c: &DocumentCode| f.archive.record(c).unwrap().unwrap().lifecycle.retention_class;
    assert_eq!(
        [class(&decision), class(&permanent), class(&card), class(&dossier), class(&slip)],
        ["10y", "permanent", "5y-after-validity", "10y-dossier", "5y"]
    );

    // Issue date 2020-03-15 + 10 years: eligible from 2030-03-16.
    assert!(f.archive.mark_eligible(day(2030, 3, 15), "system").unwrap().is_empty());
    assert_eq!(f.archive.mark_eligible(day(2030, 3, 16), "system").unwrap(), std::slice::from_ref(&decision));
    assert_eq!(disposition(&f, &decision), Disposition::Eligible(day(2030, 3, 16)));
    // The capture date + 5 years (today + 1827 or 1828 days); the dossier's receipt date
    // 2024-10-11 + 10 years; the validity end 2031-06-30 + 5 years.
    let slip_due = today.checked_add_days(Days::new(5 * 366)).unwrap();
    assert_eq!(f.archive.mark_eligible(slip_due, "system").unwrap(), [slip]);
    assert!(f.archive.mark_eligible(day(2034, 10, 11), "system").unwrap().is_empty());
    assert_eq!(f.archive.mark_eligible(day(2034, 10, 12), "system").unwrap(), std::slice::from_ref(&dossier));
    assert!(f.archive.mark_eligible(day(2036, 6, 30), "system").unwrap().is_empty());
    assert_eq!(f.archive.mark_eligible(day(2036, 7, 1), "system").unwrap(), [card]);
    assert!(
        f.archive.mark_eligible(day(2500, 1, 1), "system").unwrap().is_empty(),
        "permanent records are never eligible"
    );
    assert_eq!(disposition(&f, &permanent), Disposition::Retained);

    // Keeping longer: eligible again only after the date; an override of the class restarts the question.
    f.archive
        .review(
            &decision,
            Review::KeepUntil { until: day(2040, 1, 1), reason: "thanh tra đang xem xét".into() },
            "archivist",
        )
        .unwrap();
    assert!(f.archive.mark_eligible(day(2040, 1, 1), "system").unwrap().is_empty());
    assert_eq!(f.archive.mark_eligible(day(2040, 1, 2), "system").unwrap(), std::slice::from_ref(&decision));
    f.archive.set_retention_class(&decision, "permanent", "tài liệu có giá trị lịch sử", "archivist").unwrap();
    assert!(f.archive.mark_eligible(day(2500, 1, 1), "system").unwrap().is_empty());
    assert!(
        f.archive
            .set_retention_class(&decision, "forever", "x", "archivist")
            .unwrap_err()
            .to_string()
            .contains("unknown retention class")
    );
    let trail: Vec<String> =
        f.archive.audit_trail(Some(&decision.to_string())).unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail, ["ingest", "eligible", "review", "eligible", "retention"]);
}

#[test]
fn holds_block_revocation_destruction_and_change_and_cover_later_documents() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let owner = "001099054321";
    let issued = Some(day(2000, 1, 1));
    let first = commit(&f, &Doc { owner, doc_type: "QD", issue_date: issued, ..PLAIN }, &[b"first"]);
    let other = commit(&f, &Doc { doc_type: "QD", issue_date: issued, ..PLAIN }, &[b"other owner"]);
    let (hold, held) =
        f.archive.place_hold(HoldScope::Owner(owner.parse().unwrap()), "vụ án 12/2026/HS-ST", "legal").unwrap();
    assert_eq!(held, std::slice::from_ref(&first));
    let later = commit(&f, &Doc { owner, doc_type: "QD", issue_date: issued, ..PLAIN }, &[b"later"]);
    assert_eq!(
        f.archive.record(&later).unwrap().unwrap().lifecycle.holds,
        [hold.id],
        "a document archived under a held scope is held"
    );
    let second = f.archive.place_hold(HoldScope::Document(first.clone()), "thanh tra", "inspector").unwrap().0;

    let refused = |e: ArchiveError| {
        let text = e.to_string();
        assert!(text.contains("held"), "{text}");
    };
    refused(f.archive.revoke(&first, "sai", "officer").unwrap_err());
    refused(f.archive.set_retention_class(&first, "5y", "x", "archivist").unwrap_err());
    // Held documents are not marked eligible; the other owner's is.
    assert_eq!(f.archive.mark_eligible(day(2010, 1, 2), "system").unwrap(), std::slice::from_ref(&other));

    f.archive.release_hold(hold.id, "legal").unwrap();
    assert_eq!(f.archive.record(&first).unwrap().unwrap().lifecycle.holds, [second.id], "the other hold stays");
    assert!(f.archive.record(&later).unwrap().unwrap().lifecycle.holds.is_empty());
    let after_release = commit(&f, &Doc { owner, doc_type: "QD", ..PLAIN }, &[b"after"]);
    assert!(f.archive.record(&after_release).unwrap().unwrap().lifecycle.holds.is_empty());
    assert!(f.archive.release_hold(hold.id, "legal").unwrap_err().to_string().contains("already released"));

    // A hold placed during disposition blocks the destruction's confirmation.
    f.archive.review(&other, Review::Approve, "archivist").unwrap();
    f.archive
        .request_destruction(
            &other,
            CouncilDecision { number: "05/QĐ-HĐXĐGTTL".into(), date: day(2026, 1, 5) },
            "archivist",
        )
        .unwrap();
    f.archive.place_hold(HoldScope::Document(other.clone()), "khiếu nại", "legal").unwrap();
    refused(f.archive.confirm_destruction(&other, "director").unwrap_err());
    refused(f.archive.confirm_destruction(&first, "director").unwrap_err());
    assert_clean(&f);
}

#[test]
fn destruction_needs_a_council_decision_and_a_second_person_and_keeps_shared_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let doc = Doc { doc_type: "QD", issue_date: Some(day(2001, 5, 1)), ..PLAIN };
    let shared: &[u8] = b"the same attachment in both documents";
    let doomed = commit(&f, &doc, &[b"own page", shared]);
    let survivor = commit(&f, &Doc { issue_date: None, ..doc.clone() }, &[shared]);
    let record = f.archive.record(&doomed).unwrap().unwrap();

    let refusal = |e: ArchiveError| e.to_string();
    assert!(refusal(f.archive.review(&doomed, Review::Approve, "archivist").unwrap_err()).contains("not eligible"));
    assert_eq!(f.archive.mark_eligible(day(2011, 5, 2), "system").unwrap(), std::slice::from_ref(&doomed));
    let council = CouncilDecision { number: "07/QĐ-HĐXĐGTTL".into(), date: day(2026, 2, 1) };
    assert!(
        refusal(f.archive.request_destruction(&doomed, council.clone(), "archivist").unwrap_err())
            .contains("not approved")
    );
    f.archive.review(&doomed, Review::Approve, "archivist").unwrap();
    assert!(refusal(f.archive.confirm_destruction(&doomed, "director").unwrap_err()).contains("council decision"));
    let blank = CouncilDecision { number: " ".into(), date: day(2026, 2, 1) };
    assert!(
        refusal(f.archive.request_destruction(&doomed, blank, "archivist").unwrap_err())
            .contains("council decision number")
    );
    let future = CouncilDecision { number: "1/QĐ".into(), date: day(2999, 1, 1) };
    assert!(refusal(f.archive.request_destruction(&doomed, future, "archivist").unwrap_err()).contains("future"));
    f.archive.request_destruction(&doomed, council.clone(), "archivist").unwrap();
    assert!(refusal(f.archive.confirm_destruction(&doomed, "archivist").unwrap_err()).contains("second person"));
    assert!(f.archive.read_blob(&record.pdf).is_ok(), "nothing is removed before the second person confirms");

    let report = f.archive.confirm_destruction(&doomed, "director").unwrap();
    f.ring.check(&report.seal).unwrap();
    let json: serde_json::Value = serde_json::from_str(&report.json).unwrap();
    assert_eq!(json["decision"]["number"], "07/QĐ-HĐXĐGTTL");
    assert_eq!(json["requested_by"], "archivist");
    assert_eq!(json["approved_by"], "director");
    assert_eq!(json["pdf"], record.pdf.to_hex());

    // The tombstone keeps metadata, hashes and the decision; the content and the text are gone,
    // except the blob the survivor still uses.
    let tomb = f.archive.record(&doomed).unwrap().unwrap();
    let DocumentStatus::Destroyed(d) = &tomb.status else { panic!("not a tombstone: {:?}", tomb.status) };
    assert_eq!((d.decision.clone(), d.approved_by.as_str()), (council, "director"));
    assert_eq!(tomb.pdf, record.pdf);
    assert_eq!(tomb.metadata, record.metadata);
    assert!(tomb.pages.iter().all(|p| p.text.is_empty()));
    assert!(matches!(f.archive.read_blob(&record.pdf), Err(ArchiveError::MissingBlob(_))));
    assert!(matches!(f.archive.read_blob(&BlobHash::of(b"own page")), Err(ArchiveError::MissingBlob(_))));
    assert_eq!(f.archive.read_blob(&BlobHash::of(shared)).unwrap(), shared);
    assert_eq!(f.archive.blob_refs(&BlobHash::of(shared)).unwrap(), 1);
    assert!(f.archive.record(&survivor).unwrap().is_some());
    let leaf = f.archive.prove(&doomed).unwrap();
    assert!(leaf.leaf.contains("kind: destroyed") && leaf.verifies(), "{}", leaf.leaf);
    assert!(refusal(f.archive.revoke(&doomed, "x", "officer").unwrap_err()).contains("destroyed"));
    let mut events = Vec::new();
    f.archive
        .events_after(0, &mut |_, e| {
            // The proof above signed a checkpoint, which is an event naming no document.
            if e.document().is_some() {
                events.push(e);
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(events.last(), Some(&archive::Event::Destroyed(doomed.clone())));
    // Fixity accepts the tombstone (its seals and report verify, its missing content is expected).
    assert_clean(&f.reopen());
}

// ---------------------------------------------------------------------------------------------
// Backup and restore.

#[test]
fn a_backup_restores_verified_and_a_damaged_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let codes: Vec<_> = (0..3u8).map(|i| commit(&f, &PLAIN, &[&[i; 100]])).collect();
    f.archive.checkpoint().unwrap();
    let backup = dir.path().join("backup");
    f.archive.backup(&backup, "admin").unwrap();
    // The archive stays usable while and after it is backed up.
    commit(&f, &PLAIN, &[b"after the backup"]);

    let options = || ArchiveOptions { sealer: f.ring.clone(), schedule: schedule(), origin: "sohoa/test".into() };
    let (restored, report) = Archive::restore(&backup, &dir.path().join("restored"), options(), "admin").unwrap();
    assert!(report.is_clean());
    assert_eq!(report.documents, 3);
    for code in &codes {
        assert!(restored.record(code).unwrap().is_some());
    }
    assert_eq!(restored.audit_trail(None).unwrap().last().unwrap().action, "restore");
    drop(restored);

    // Damage the backup: the restore is refused and leaves nothing behind.
    let store = RocksStore::open(&backup).unwrap();
    let mut batch = Batch::default();
    batch.delete(Table::Documents, codes[1].to_string().into_bytes());
    store.apply(batch).unwrap();
    drop(store);
    let target = dir.path().join("restored-2");
    let e = Archive::restore(&backup, &target, options(), "admin").err().unwrap().to_string();
    assert!(e.contains("did not verify") && e.contains(&codes[1].to_string()), "{e}");
    assert!(!target.exists());
}

// ---------------------------------------------------------------------------------------------
// Issue 17, hole 8: codes, holds, fixity and destruction under concurrency and faults.

/// Document numbers are taken by commits only: ingests that fail after reserving their code (a
/// timestamp authority down) burn nothing, concurrent ingests never hold the same code, and the
/// numbers left free by failures are handed out again.
#[test]
fn hole08_reserved_codes_never_collide_and_failed_ingests_burn_no_number() {
    let dir = tempfile::tempdir().unwrap();
    let f = Arc::new(open_in(dir.path()));
    for _ in 0..120 {
        let failed = reserve(&f, &PLAIN);
        assert_eq!(failed.code().counter(), Some(1), "a reservation dropped without a commit takes no number");
    }
    // Every thread holds its ten reservations until all forty are held, so that they are held at
    // once: a code that a failed ingest released may rightly be given again later.
    let all_held = Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (f, all_held) = (f.clone(), all_held.clone());
            std::thread::spawn(move || {
                let held: Vec<_> = (0..10).map(|_| reserve(&f, &PLAIN)).collect();
                let codes: Vec<DocumentCode> = held.iter().map(|r| r.code().clone()).collect();
                all_held.wait();
                // Every other ingest commits; the others fail and release their codes.
                for (n, r) in held.iter().enumerate().filter(|(n, _)| n % 2 == 0) {
                    f.archive.commit(document(&f, r.code(), &PLAIN, &[format!("{t}/{n}").as_bytes()])).unwrap();
                }
                codes
            })
        })
        .collect();
    let held: Vec<DocumentCode> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(held.iter().collect::<BTreeSet<_>>().len(), 40, "a code was held by two ingests at once: {held:?}");
    let committed: BTreeSet<u8> = f
        .archive
        .documents_of(&PLAIN.owner.parse().unwrap())
        .unwrap()
        .iter()
        .filter_map(DocumentCode::counter)
        .collect();
    assert_eq!(committed.len(), 20);
    // The numbers the failed ingests held are free again, lowest first, until all 99 are used.
    let free: Vec<u8> = (1..=99).filter(|n| !committed.contains(n)).collect();
    for expected in free {
        assert_eq!(commit(&f, &PLAIN, &[format!("number {expected}").as_bytes()]).counter(), Some(expected));
    }
    let e = f
        .archive
        .reserve_document_code(Some(&PLAIN.owner.parse().unwrap()), &PLAIN.doc_type.parse().unwrap())
        .err()
        .unwrap();
    assert!(e.to_string().contains("no document numbers left") && e.to_string().contains("GPXD"), "{e}");
    assert_clean(&f);
}

/// A hold on an owner placed while that owner's documents are being committed covers every one of
/// them: those committed before it by its own listing, the others as they commit.
#[test]
fn hole08_a_hold_racing_commits_covers_every_document_of_its_scope() {
    let dir = tempfile::tempdir().unwrap();
    let f = Arc::new(open_in(dir.path()));
    let owner = "001099054321";
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let f = f.clone();
            std::thread::spawn(move || {
                for n in 0..15 {
                    commit(
                        &f,
                        &Doc { owner, doc_type: ["QD", "GPXD", "HS"][t], ..PLAIN },
                        &[format!("{t}/{n}").as_bytes()],
                    );
                }
            })
        })
        .collect();
    // Placed while the committers run: after the first of their documents is durable.
    while f.archive.documents_of(&owner.parse().unwrap()).unwrap().is_empty() {
        std::thread::yield_now();
    }
    let (hold, _) = f.archive.place_hold(HoldScope::Owner(owner.parse().unwrap()), "vụ án 3/2026", "legal").unwrap();
    for t in threads {
        t.join().unwrap();
    }
    let codes = f.archive.documents_of(&owner.parse().unwrap()).unwrap();
    assert_eq!(codes.len(), 45);
    for code in &codes {
        assert_eq!(f.archive.record(code).unwrap().unwrap().lifecycle.holds, [hold.id], "{code} escaped the hold");
    }
    assert!(f.archive.revoke(&codes[0], "x", "officer").unwrap_err().to_string().contains("held"));
}

/// Fixity reads every table through one snapshot: documents archived and destroyed while it runs
/// (between its reading of the records and of the blobs) are not reported as missing,
/// unreferenced or miscounted blobs.
#[test]
fn hole08_fixity_during_ingests_and_destructions_reports_no_false_problem() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let old = Doc { doc_type: "QD", issue_date: Some(day(2001, 5, 1)), ..PLAIN };
    // The doomed pages are large enough to be blob files, which fixity reads outside its snapshot.
    let doomed: Vec<DocumentCode> =
        (0..4).map(|i| commit(&f, &old, &[format!("doomed {i} ").repeat(8000).as_bytes(), b"shared page"])).collect();
    commit(&f, &PLAIN, &[b"kept", b"shared page"]);
    assert_eq!(f.archive.mark_eligible(vietnam_now().date_naive(), "system").unwrap(), doomed);
    let council = CouncilDecision { number: "07/QĐ-HĐXĐGTTL".into(), date: day(2026, 2, 1) };
    for code in &doomed {
        f.archive.review(code, Review::Approve, "archivist").unwrap();
        f.archive.request_destruction(code, council.clone(), "archivist").unwrap();
    }
    f.archive.checkpoint().unwrap();

    let mut changed = false;
    let report = f
        .archive
        .fixity_with_progress(None, "auditor", &mut |_, _| {
            // Once fixity has read the records and the first blob: destroy two documents (their
            // blobs go) and archive two more (new blobs, a shared blob's count goes up), with a
            // checkpoint that signs a longer log.
            if !changed {
                changed = true;
                for code in &doomed[..2] {
                    f.archive.confirm_destruction(code, "director").unwrap();
                }
                for i in 0..2 {
                    commit(&f, &PLAIN, &[format!("new {i}").as_bytes(), b"shared page"]);
                }
                f.archive.checkpoint().unwrap();
            }
        })
        .unwrap();
    assert!(changed);
    assert!(report.is_clean(), "false problems: {:#?}", report.problems);
    assert_eq!(report.documents, 5, "the run saw the archive as it stood when it started");
    let after = f.archive.fixity(None, "auditor").unwrap();
    assert!(after.is_clean(), "{:#?}", after.problems);
    assert_eq!(after.documents, 7);
}

/// Destruction is judged against the real date: a document marked eligible early (as `dispose
/// mark --today` in the future did, before this was fixed) cannot be requested or confirmed for
/// destruction before its retention period ends.
#[test]
fn hole08_early_eligibility_does_not_allow_destruction() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let receipt = Doc { doc_type: "PT", ..PLAIN };
    let code = commit(&f, &receipt, &[b"5 years from capture"]);
    let other = commit(&f, &receipt, &[b"also 5 years from capture"]);
    let early = vietnam_now().date_naive().checked_add_days(Days::new(6 * 366)).unwrap();
    assert_eq!(f.archive.eligible_by(early).unwrap(), [code.clone(), other.clone()], "a look ahead lists them");
    assert_eq!(disposition(&f, &code), Disposition::Retained, "and marks nothing");
    assert_eq!(f.archive.mark_eligible(early, "alice").unwrap(), [code.clone(), other.clone()]);
    f.archive.review(&code, Review::Approve, "alice").unwrap();
    let council = CouncilDecision { number: "07/QĐ-HĐXĐGTTL".into(), date: day(2026, 2, 1) };
    let e = f.archive.request_destruction(&code, council.clone(), "alice").unwrap_err().to_string();
    assert!(e.contains("retention period") && e.contains("has not ended"), "{e}");

    // A record that an earlier version left requested for destruction is refused at confirmation.
    let mut record = f.archive.record(&other).unwrap().unwrap();
    record.lifecycle.disposition = Disposition::Requested { decision: council, by: "alice".into() };
    let f = f.tamper(|store| {
        let mut batch = Batch::default();
        batch.put(Table::Documents, other.to_string().into_bytes(), postcard::to_stdvec(&record).unwrap());
        store.apply(batch).unwrap();
    });
    let e = f.archive.confirm_destruction(&other, "bob").unwrap_err().to_string();
    assert!(e.contains("has not ended"), "{e}");
    assert!(f.archive.read_blob(&BlobHash::of(b"also 5 years from capture")).is_ok(), "nothing was destroyed");
}

// ---------------------------------------------------------------------------------------------
// Issue 21: large blobs as files of their own.

/// A page large enough to be a blob file, different for each `seed`.
fn large_page(seed: &str) -> Vec<u8> {
    format!("{seed} ").repeat(80_000 / (seed.len() + 1) + 1).into_bytes()
}

/// The entries of the blob directory of the archive in `dir`: each name, with its hash when it
/// is one.
fn blob_files(dir: &Path) -> Vec<(String, Option<BlobHash>)> {
    std::fs::read_dir(dir.join("db/blobs"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let hash = name.parse().ok();
            (name, hash)
        })
        .collect()
}

fn blob_file(dir: &Path, hash: &BlobHash) -> PathBuf {
    dir.join("db/blobs").join(hash.to_hex())
}

#[test]
fn large_blobs_are_files_written_once_and_small_ones_stay_in_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let (big, shared) = (large_page("big"), large_page("shared"));
    commit(&f, &PLAIN, &[&big, &shared, b"a small page"]);
    for hash in [BlobHash::of(&big), BlobHash::of(&shared)] {
        assert!(blob_file(dir.path(), &hash).is_file(), "no file for {hash}");
    }
    let shared_file = blob_file(dir.path(), &BlobHash::of(&shared));
    let written = std::fs::metadata(&shared_file).unwrap().modified().unwrap();
    let second = commit(&f, &PLAIN, &[&shared]);
    assert_eq!(f.archive.blob_refs(&BlobHash::of(&shared)).unwrap(), 2);
    assert_eq!(std::fs::metadata(&shared_file).unwrap().modified().unwrap(), written, "written again");

    let f = f.reopen();
    assert_eq!(f.archive.read_blob(&BlobHash::of(&big)).unwrap(), big);
    assert_eq!(f.archive.read_blob(&BlobHash::of(b"a small page")).unwrap(), b"a small page");
    let f = f.tamper(|store| {
        assert!(store.get(Table::Blobs, BlobHash::of(&big).as_bytes()).unwrap().is_none(), "written twice");
        assert!(store.get(Table::Blobs, BlobHash::of(b"a small page").as_bytes()).unwrap().is_some());
    });
    // The test documents' PDFs are small, so the files are exactly the two large pages'.
    let files: BTreeSet<BlobHash> = blob_files(dir.path()).into_iter().filter_map(|(_, h)| h).collect();
    assert_eq!(files, BTreeSet::from([BlobHash::of(&big), BlobHash::of(&shared)]));
    assert!(f.archive.record(&second).unwrap().is_some());
    assert_clean(&f);
}

/// A kill between a blob file and its batch leaves a file nothing refers to, or a scratch file;
/// opening removes both, and keeps every referenced file and anything that is not a blob's.
#[test]
fn opening_sweeps_unreferenced_and_scratch_blob_files() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let kept = large_page("kept");
    commit(&f, &PLAIN, &[&kept]);
    drop(f);
    // What a kill after the file and before the batch leaves.
    let orphan = large_page("its batch never came");
    let store = RocksStore::open(&dir.path().join("db")).unwrap();
    store.put_blob_files(&[(BlobHash::of(&orphan), &orphan)]).unwrap();
    drop(store);
    let blobs = dir.path().join("db/blobs");
    assert!(blob_file(dir.path(), &BlobHash::of(&orphan)).is_file());
    std::fs::write(blobs.join(format!(".scratch-{}.7", BlobHash::of(b"cut short").to_hex())), b"cut").unwrap();
    std::fs::write(blobs.join("README"), b"not a blob").unwrap();
    let f = open_in(dir.path());
    let mut names: Vec<String> = blob_files(dir.path()).into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(names, [BlobHash::of(&kept).to_hex(), "README".to_owned()]);
    assert_clean(&f);
}

#[test]
fn fixity_names_the_document_and_page_of_a_damaged_blob_file_and_reads_refuse_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let pages = [large_page("one"), large_page("two"), large_page("three"), large_page("four")];
    let code = commit(&f, &PLAIN, &[&pages[0], &pages[1], &pages[2], &pages[3]]);
    let [flipped, truncated, removed, linked] = pages.each_ref().map(|p| BlobHash::of(p));
    assert_clean(&f);
    drop(f);
    let path = |h: &BlobHash| blob_file(dir.path(), h);
    let mut bytes = std::fs::read(path(&flipped)).unwrap();
    bytes[40_000] ^= 0x01;
    std::fs::write(path(&flipped), bytes).unwrap();
    let bytes = std::fs::read(path(&truncated)).unwrap();
    std::fs::write(path(&truncated), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(path(&removed)).unwrap();
    // A link to a file that does hash right is still damage: links are never followed.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::rename(path(&linked), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, path(&linked)).unwrap();
    let f = open_in(dir.path());

    let report = f.archive.fixity(None, "test").unwrap();
    let about = |kind: ProblemKind, hash: &BlobHash| {
        let p = report.problems.iter().find(|p| p.kind == kind && p.object == format!("blob {hash}"));
        p.unwrap_or_else(|| panic!("no {kind:?} problem about {hash}: {:#?}", report.problems)).detail.clone()
    };
    let flipped_detail = about(ProblemKind::Altered, &flipped);
    assert!(flipped_detail.contains("now hashes to") && flipped_detail.contains(&format!("document {code} page 1")));
    let truncated_detail = about(ProblemKind::Altered, &truncated);
    assert!(truncated_detail.contains(&format!("{} bytes", pages[1].len() / 2)), "{truncated_detail}");
    assert!(truncated_detail.contains(&format!("document {code} page 2")), "{truncated_detail}");
    assert!(about(ProblemKind::Missing, &removed).contains(&format!("document {code} page 3")));
    let linked_detail = about(ProblemKind::Altered, &linked);
    assert!(linked_detail.contains("symbolic link") && linked_detail.contains("page 4"), "{linked_detail}");
    assert_eq!(report.problems.len(), 4, "{:#?}", report.problems);

    assert!(matches!(f.archive.read_blob(&flipped), Err(ArchiveError::AlteredBlob { .. })));
    assert!(matches!(f.archive.read_blob(&truncated), Err(ArchiveError::AlteredBlob { .. })));
    assert!(matches!(f.archive.read_blob(&removed), Err(ArchiveError::MissingBlob(_))));
    let e = f.archive.read_blob(&linked).unwrap_err().to_string();
    assert!(e.contains("symbolic link"), "{e}");
}

/// An archive from before blob files keeps its large blobs in the table: they still read, verify
/// and count, and a new document with the same content makes it a file.
#[test]
fn blobs_in_the_table_from_before_blob_files_still_read_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let old = large_page("archived by the previous version");
    let code = commit(&f, &PLAIN, &[&old]);
    let hash = BlobHash::of(&old);
    // As the previous version stored it: in the table, no file.
    let f = f.tamper(|store| {
        let mut batch = Batch::default();
        batch.put(Table::Blobs, hash.as_bytes().to_vec(), old.clone());
        store.apply(batch).unwrap();
        store.remove_blob_file(&hash).unwrap();
    });
    assert!(!blob_file(dir.path(), &hash).exists());
    assert_eq!(f.archive.read_blob(&hash).unwrap(), old);
    assert_clean(&f);
    commit(&f, &PLAIN, &[&old]);
    assert_eq!(f.archive.blob_refs(&hash).unwrap(), 2);
    assert_eq!(f.archive.read_blob(&hash).unwrap(), old);
    assert!(f.archive.record(&code).unwrap().is_some());
    assert_clean(&f.reopen());
}

#[test]
fn destruction_removes_a_blob_file_after_its_last_reference_and_keeps_shared_ones() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let doc = Doc { doc_type: "QD", issue_date: Some(day(2001, 5, 1)), ..PLAIN };
    let (own, shared) = (large_page("own page"), large_page("shared page"));
    let doomed = commit(&f, &doc, &[&own, &shared]);
    commit(&f, &PLAIN, &[&shared]);
    f.archive.mark_eligible(day(2011, 5, 2), "system").unwrap();
    f.archive.review(&doomed, Review::Approve, "archivist").unwrap();
    let council = CouncilDecision { number: "07/QĐ-HĐXĐGTTL".into(), date: day(2026, 2, 1) };
    f.archive.request_destruction(&doomed, council, "archivist").unwrap();
    f.archive.confirm_destruction(&doomed, "director").unwrap();
    assert!(!blob_file(dir.path(), &BlobHash::of(&own)).exists(), "the destroyed page's file is still there");
    assert!(matches!(f.archive.read_blob(&BlobHash::of(&own)), Err(ArchiveError::MissingBlob(_))));
    assert_eq!(f.archive.read_blob(&BlobHash::of(&shared)).unwrap(), shared);
    // The same content archived again after its destruction is written again.
    commit(&f, &PLAIN, &[&own]);
    assert_eq!(f.archive.read_blob(&BlobHash::of(&own)).unwrap(), own);
    assert_clean(&f.reopen());
}

#[test]
fn a_backup_carries_blob_files_as_copies_and_a_damaged_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let pages = [large_page("backed up one"), large_page("backed up two")];
    let code = commit(&f, &PLAIN, &[&pages[0], &pages[1]]);
    let backup = dir.path().join("backup");
    f.archive.backup(&backup, "admin").unwrap();
    for page in &pages {
        let copy = backup.join("blobs").join(BlobHash::of(page).to_hex());
        assert_eq!(std::fs::read(&copy).unwrap(), *page);
        assert_eq!(
            std::os::unix::fs::MetadataExt::nlink(&std::fs::metadata(&copy).unwrap()),
            1,
            "shared with the live store"
        );
    }
    let options = || ArchiveOptions { sealer: f.ring.clone(), schedule: schedule(), origin: "sohoa/test".into() };
    let (restored, report) = Archive::restore(&backup, &dir.path().join("restored"), options(), "admin").unwrap();
    assert!(report.is_clean(), "{:#?}", report.problems);
    assert_eq!(restored.read_blob(&BlobHash::of(&pages[1])).unwrap(), pages[1]);
    drop(restored);

    // A blob file lost from the backup: the restore is refused, naming the document and page.
    std::fs::remove_file(backup.join("blobs").join(BlobHash::of(&pages[1]).to_hex())).unwrap();
    let e = Archive::restore(&backup, &dir.path().join("restored-2"), options(), "admin").err().unwrap().to_string();
    assert!(e.contains("did not verify") && e.contains(&format!("document {code} page 2")), "{e}");
}
