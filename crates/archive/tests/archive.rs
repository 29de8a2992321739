//! The archive's guarantees, tested on the real RocksDB store with the signer's real Ed25519 keys:
//! crash safety under SIGKILL, tamper detection by fixity, retention, holds and two-person
//! disposition, the Merkle log's proofs, grouped commits, backup and restore.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use domain::{BlobHash, DocumentCode, DocumentMetadata, MetadataDraft, OwnerId, Validity, vietnam_now};
use signer::{KeyId, KeyRing, Manifest, ManifestPage, PageSeal, Sealed, metadata_digest};
use sohoa_archive as archive;

use archive::{
    Archive, ArchiveError, ArchiveOptions, Batch, ClockStart, CouncilDecision, Disposition, DocumentRecord, DocumentStatus,
    HoldScope, Lifecycle, NewDocument, PageRecord, ProblemKind, RetentionClass, RetentionPeriod, RetentionSchedule, Review,
    RocksStore, SealRecord, Sealer, Store, Table,
};

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
        types: [("GPXD", "permanent"), ("QD", "10y"), ("HS", "10y-dossier"), ("CCCD", "5y-after-validity"), ("PT", "5y")]
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

const PLAIN: Doc = Doc { owner: "001099012345", doc_type: "GPXD", issue_date: None, validity: Validity::Permanent, dossier: None };

/// A document sealed as the appliance seals one: a manifest and a seal per page.
fn document(f: &Fixture, doc: &Doc, pages: &[&[u8]]) -> NewDocument {
    let owner: OwnerId = doc.owner.parse().unwrap();
    let doc_type = doc.doc_type.parse().unwrap();
    let code = f.archive.allocate_document_code(Some(&owner), &doc_type).unwrap();
    let metadata = DocumentMetadata::new(MetadataDraft {
        doc_type,
        owner: Some(owner),
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
            seal: record_of(ring.seal_page(&PageSeal { document: code.clone(), page: i as u32 + 1, image: BlobHash::of(p), sealed_at })),
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
        },
        page_images: pages.iter().map(|p| p.to_vec()).collect(),
        pdf,
        actor: "operator".into(),
        source: None,
        verification: None,
    }
}

fn commit(f: &Fixture, doc: &Doc, pages: &[&[u8]]) -> DocumentCode {
    let new = document(f, doc, pages);
    let code = new.record.code.clone();
    f.archive.commit(new).unwrap();
    code
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
                    let page = format!("round {round} thread {t} document {n}").repeat(200);
                    let shared = b"a page every document shares".repeat(100);
                    let new = document(&f, &Doc { owner, ..PLAIN }, &[page.as_bytes(), &shared]);
                    let code = new.record.code.clone();
                    f.archive.commit(new).unwrap();
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
            BufReader::new(stdout).lines().map_while(Result::ok).filter_map(|l| l.strip_prefix("ACK ").map(str::to_owned)).collect::<Vec<_>>()
        });
        // Kill at a random point: while opening, while committing, between commits.
        std::thread::sleep(Duration::from_millis(50 + random() % 400));
        child.kill().unwrap();
        child.wait().unwrap();
        acknowledged.extend(reader.join().unwrap());

        let f = open_in(dir.path());
        for code in &acknowledged {
            let record = f.archive.record(&code.parse().unwrap()).unwrap().unwrap_or_else(|| panic!("round {round}: acknowledged {code} is gone"));
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
            assert!(proof.verifies(), "round {round}: log at {} is not a prefix of the log at {}", old.size, proof.to.size);
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
    assert!(report.problems.iter().any(|p| p.kind == ProblemKind::Unreferenced && p.object == format!("blob {}", BlobHash::of(b"removed"))));
}

#[test]
fn fixity_names_a_rewritten_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let f = open_in(dir.path());
    let code = commit(&f, &PLAIN, &[b"page"]);
    f.archive.audit("officer", "download", &code.to_string(), "").unwrap();
    f.archive.audit("officer", "view", &code.to_string(), "").unwrap();
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

#[test]
fn concurrent_commits_share_writes_and_all_survive() {
    let dir = tempfile::tempdir().unwrap();
    let f = Arc::new(open_in(dir.path()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let f = f.clone();
            std::thread::spawn(move || {
                let owner: &'static str = format!("0010990000{t:02}").leak();
                (0..25).map(|n| commit(&f, &Doc { owner, ..PLAIN }, &[format!("{t}/{n}").as_bytes(), b"shared"])).collect::<Vec<_>>()
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
    let mut again = document(&f, &PLAIN, &[b"x"]);
    again.record.code = codes[0].clone();
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
    assert_eq!([class(&decision), class(&permanent), class(&card), class(&dossier), class(&slip)], ["10y", "permanent", "5y-after-validity", "10y-dossier", "5y"]);

    // Issue date 2020-03-15 + 10 years: eligible from 2030-03-16.
    assert!(f.archive.mark_eligible(day(2030, 3, 15), "system").unwrap().is_empty());
    assert_eq!(f.archive.mark_eligible(day(2030, 3, 16), "system").unwrap(), [decision.clone()]);
    assert_eq!(disposition(&f, &decision), Disposition::Eligible(day(2030, 3, 16)));
    // The capture date + 5 years (today + 1827 or 1828 days); the dossier's receipt date
    // 2024-10-11 + 10 years; the validity end 2031-06-30 + 5 years.
    let slip_due = today.checked_add_days(Days::new(5 * 366)).unwrap();
    assert_eq!(f.archive.mark_eligible(slip_due, "system").unwrap(), [slip]);
    assert!(f.archive.mark_eligible(day(2034, 10, 11), "system").unwrap().is_empty());
    assert_eq!(f.archive.mark_eligible(day(2034, 10, 12), "system").unwrap(), [dossier.clone()]);
    assert!(f.archive.mark_eligible(day(2036, 6, 30), "system").unwrap().is_empty());
    assert_eq!(f.archive.mark_eligible(day(2036, 7, 1), "system").unwrap(), [card]);
    assert!(f.archive.mark_eligible(day(2500, 1, 1), "system").unwrap().is_empty(), "permanent records are never eligible");
    assert_eq!(disposition(&f, &permanent), Disposition::Retained);

    // Keeping longer: eligible again only after the date; an override of the class restarts the question.
    f.archive.review(&decision, Review::KeepUntil { until: day(2040, 1, 1), reason: "thanh tra đang xem xét".into() }, "archivist").unwrap();
    assert!(f.archive.mark_eligible(day(2040, 1, 1), "system").unwrap().is_empty());
    assert_eq!(f.archive.mark_eligible(day(2040, 1, 2), "system").unwrap(), [decision.clone()]);
    f.archive.set_retention_class(&decision, "permanent", "tài liệu có giá trị lịch sử", "archivist").unwrap();
    assert!(f.archive.mark_eligible(day(2500, 1, 1), "system").unwrap().is_empty());
    assert!(f.archive.set_retention_class(&decision, "forever", "x", "archivist").unwrap_err().to_string().contains("unknown retention class"));
    let trail: Vec<String> = f.archive.audit_trail(Some(&decision.to_string())).unwrap().into_iter().map(|e| e.action).collect();
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
    let (hold, held) = f.archive.place_hold(HoldScope::Owner(owner.parse().unwrap()), "vụ án 12/2026/HS-ST", "legal").unwrap();
    assert_eq!(held, [first.clone()]);
    let later = commit(&f, &Doc { owner, doc_type: "QD", issue_date: issued, ..PLAIN }, &[b"later"]);
    assert_eq!(f.archive.record(&later).unwrap().unwrap().lifecycle.holds, [hold.id], "a document archived under a held scope is held");
    let second = f.archive.place_hold(HoldScope::Document(first.clone()), "thanh tra", "inspector").unwrap().0;

    let refused = |e: ArchiveError| {
        let text = e.to_string();
        assert!(text.contains("held"), "{text}");
    };
    refused(f.archive.revoke(&first, "sai", "officer").unwrap_err());
    refused(f.archive.set_retention_class(&first, "5y", "x", "archivist").unwrap_err());
    // Held documents are not marked eligible; the other owner's is.
    assert_eq!(f.archive.mark_eligible(day(2010, 1, 2), "system").unwrap(), [other.clone()]);

    f.archive.release_hold(hold.id, "legal").unwrap();
    assert_eq!(f.archive.record(&first).unwrap().unwrap().lifecycle.holds, [second.id], "the other hold stays");
    assert!(f.archive.record(&later).unwrap().unwrap().lifecycle.holds.is_empty());
    let after_release = commit(&f, &Doc { owner, doc_type: "QD", ..PLAIN }, &[b"after"]);
    assert!(f.archive.record(&after_release).unwrap().unwrap().lifecycle.holds.is_empty());
    assert!(f.archive.release_hold(hold.id, "legal").unwrap_err().to_string().contains("already released"));

    // A hold placed during disposition blocks the destruction's confirmation.
    f.archive.review(&other, Review::Approve, "archivist").unwrap();
    f.archive.request_destruction(&other, CouncilDecision { number: "05/QĐ-HĐXĐGTTL".into(), date: day(2026, 1, 5) }, "archivist").unwrap();
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
    assert_eq!(f.archive.mark_eligible(day(2011, 5, 2), "system").unwrap(), [doomed.clone()]);
    let council = CouncilDecision { number: "07/QĐ-HĐXĐGTTL".into(), date: day(2026, 2, 1) };
    assert!(refusal(f.archive.request_destruction(&doomed, council.clone(), "archivist").unwrap_err()).contains("not approved"));
    f.archive.review(&doomed, Review::Approve, "archivist").unwrap();
    assert!(refusal(f.archive.confirm_destruction(&doomed, "director").unwrap_err()).contains("council decision"));
    let blank = CouncilDecision { number: " ".into(), date: day(2026, 2, 1) };
    assert!(refusal(f.archive.request_destruction(&doomed, blank, "archivist").unwrap_err()).contains("council decision number"));
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
    f.archive.events_after(0, &mut |_, e| {
        events.push(e);
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
