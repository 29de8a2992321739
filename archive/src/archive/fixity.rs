//! Fixity: proof, not belief, that nothing in the archive was altered or silently removed. One run
//! re-hashes every blob, in its table or its file (at a configurable rate), checks every reference
//! count against the records,
//! every seal, every secondary key, the archive log against its signed checkpoints, the log's stored
//! tree and document index against its leaves, and the audit chain against the heads those
//! checkpoints signed, and names each object that is wrong.
//!
//! A run reads through one [`Snapshot`] of the store, so that documents archived or destroyed
//! while it runs (it is throttled, and takes hours on a large archive) are never half seen: a record
//! read before a destruction and its blobs read after it would be a false "missing blob". Blob files
//! are outside the snapshot: one found missing counts only if the live store still counts a
//! reference to it. Records
//! are checked as they stream past; what a run keeps in memory is one reference count per blob and
//! the latest log leaf of each document; the documents using a damaged blob are found by a second
//! pass, so that its problem names them and their pages.

use domain::AuditAction;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use domain::{BlobHash, DocumentCode};
use serde::Serialize;

use crate::encoding::{decode, decode_scanned, seq_from_key};
use crate::log::{Checkpoint, LogLeaf};
use crate::log_tree::{node_key, node_name, node_value, subtree_of_key};
use crate::merkle::{self, Frontier};
use crate::{
    Archive, ArchiveError, CapturedDocument, DocumentRecord, DocumentStatus, Event, SealRecord, Snapshot, Store, Table,
};

/// What kind of problem fixity found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Something a record, key, event or log leaf refers to is not there.
    Missing,
    /// Something's content no longer matches its hash, seal or chain.
    Altered,
    /// Something is stored that nothing refers to.
    Unreferenced,
    /// The log or the audit trail is shorter than a checkpoint signed.
    Truncated,
}

/// One problem, naming the exact object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixityProblem {
    /// Its kind.
    pub kind: ProblemKind,
    /// The object: `blob <hash>`, `document <code>`, `audit entry <seq>`, `log leaf <index>`, `archive log`, ...
    pub object: String,
    /// What is wrong with it.
    pub detail: String,
}

impl std::fmt::Display for FixityProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {}: {}", self.kind, self.object, self.detail)
    }
}

/// The result of a fixity run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FixityReport {
    /// Records checked (tombstones included).
    pub documents: u64,
    /// Blobs re-hashed.
    pub blobs: u64,
    /// Bytes re-hashed.
    pub bytes: u64,
    /// Log leaves checked.
    pub log_leaves: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Audit entries checked.
    pub audit_entries: u64,
    /// What is wrong; empty when the archive is intact.
    pub problems: Vec<FixityProblem>,
}

impl FixityReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, kind: ProblemKind, object: impl Into<String>, detail: impl Into<String>) {
        self.problems.push(FixityProblem { kind, object: object.into(), detail: detail.into() });
    }
}

/// Limits the rate at which blobs are read, so that a scrub while serving leaves the disk to users.
struct Throttle {
    bytes_per_second: Option<u64>,
    started: Instant,
    bytes: u64,
}

impl Throttle {
    fn account(&mut self, n: usize) {
        self.bytes += n as u64;
        if let Some(rate) = self.bytes_per_second.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(self.bytes as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(self.started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
}

/// How many documents a damaged blob's problem names; a blob that many use (a blank page) says how
/// many more there are.
const USERS_NAMED: usize = 3;

/// Adds to each of the `damaged` problems (indexes into the report, about `blob <hash>`) the
/// documents and pages that use the blob, read in a second pass over the records so that a clean
/// run keeps no more than a count per blob.
fn name_users(view: &dyn Snapshot, report: &mut FixityReport, damaged: &[usize]) -> Result<(), ArchiveError> {
    if damaged.is_empty() {
        return Ok(());
    }
    let mut users: BTreeMap<BlobHash, (Vec<String>, usize)> = BTreeMap::new();
    for &i in damaged {
        if let Some(hash) = report.problems[i].object.strip_prefix("blob ").and_then(|h| h.parse().ok()) {
            users.insert(hash, (Vec::new(), 0));
        }
    }
    view.scan(Table::Documents, &[], &[], &mut |k, v| {
        let Ok(record) = decode::<DocumentRecord>("document record", k, v) else { return ControlFlow::Continue(()) };
        if matches!(record.status, DocumentStatus::Destroyed(_)) {
            return ControlFlow::Continue(());
        }
        let uses = record.pages.iter().enumerate().map(|(i, p)| (p.image, format!("page {}", i + 1)));
        for (hash, what) in uses.chain(std::iter::once((record.pdf, "PDF".to_owned()))) {
            if let Some((named, count)) = users.get_mut(&hash) {
                *count += 1;
                if named.len() < USERS_NAMED {
                    named.push(format!("document {} {what}", record.code));
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    for &i in damaged {
        let problem = &mut report.problems[i];
        let Some((named, count)) =
            problem.object.strip_prefix("blob ").and_then(|h| h.parse().ok()).and_then(|h: BlobHash| users.get(&h))
        else {
            continue;
        };
        if !named.is_empty() {
            problem.detail.push_str(&format!("; used by {}", named.join(", ")));
            if *count > named.len() {
                problem.detail.push_str(&format!(" and {} more", count - named.len()));
            }
        }
    }
    Ok(())
}

/// Whether a seal text contains `line` as a whole line.
fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

impl<S: Store> Archive<S> {
    /// Runs fixity over the whole archive, reading blobs at most `bytes_per_second` (unlimited when
    /// `None`), and records the run in the audit trail.
    pub fn fixity(&self, bytes_per_second: Option<u64>, actor: &str) -> Result<FixityReport, ArchiveError> {
        self.fixity_with_progress(bytes_per_second, actor, &mut |_, _| {})
    }

    /// [`fixity`](Self::fixity), telling `progress` (blobs re-hashed, blobs in all) after each blob.
    pub fn fixity_with_progress(
        &self,
        bytes_per_second: Option<u64>,
        actor: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<FixityReport, ArchiveError> {
        let mut report = FixityReport::default();
        let mut expected_refs: BTreeMap<BlobHash, i64> = BTreeMap::new();
        let view = self.store.snapshot();
        let view = &*view;
        self.check_records(view, &mut report, &mut expected_refs)?;
        self.check_captured(view, &mut report, &mut expected_refs)?;
        self.check_blobs(view, &mut report, &expected_refs, bytes_per_second, progress)?;
        self.check_keys(view, &mut report)?;
        self.check_log(view, &mut report)?;
        self.check_audit(view, &mut report)?;
        let summary = format!(
            "{} documents, {} blobs ({} bytes), {} log leaves, {} audit entries: {} problems",
            report.documents,
            report.blobs,
            report.bytes,
            report.log_leaves,
            report.audit_entries,
            report.problems.len()
        );
        self.audit(actor, AuditAction::Fixity, "archive", &summary)?;
        Ok(report)
    }

    /// Checks each record's seals as it streams past, counting the uses of each blob.
    fn check_records(
        &self,
        view: &dyn Snapshot,
        report: &mut FixityReport,
        refs: &mut BTreeMap<BlobHash, i64>,
    ) -> Result<(), ArchiveError> {
        view.scan(Table::Documents, &[], &[], &mut |k, v| {
            match crate::records::decode_record(k, v) {
                Ok(record) => {
                    report.documents += 1;
                    self.check_seals(report, &record);
                    if !matches!(record.status, DocumentStatus::Destroyed(_)) {
                        for hash in record.blobs() {
                            *refs.entry(hash).or_default() += 1;
                        }
                    }
                }
                Err(e) => report.problem(
                    ProblemKind::Altered,
                    format!("document {}", String::from_utf8_lossy(k)),
                    e.to_string(),
                ),
            }
            ControlFlow::Continue(())
        })
    }

    fn check_seals(&self, report: &mut FixityReport, record: &DocumentRecord) {
        let object = format!("document {}", record.code);
        let seal = &record.seal;
        if let Err(reason) = self.sealer.check_document(&record.code, seal) {
            report.problem(ProblemKind::Altered, &object, format!("document seal: {reason}"));
        } else if !has_line(&seal.text, &format!("document: {}", record.code))
            || !has_line(&seal.text, &format!("pdf: {}", record.pdf))
        {
            report.problem(
                ProblemKind::Altered,
                &object,
                "the document seal does not cover this record's code and PDF hash",
            );
        }
        for (page, n) in record.pages.iter().zip(1..) {
            self.check_page_seal(report, &record.code, n, &page.seal, &page.image);
        }
        if let DocumentStatus::Destroyed(d) = &record.status {
            if let Err(reason) = self.sealer.check(&d.report) {
                report.problem(ProblemKind::Altered, &object, format!("destruction report seal: {reason}"));
            } else if !d.report.text.contains(&format!("\"pdf\":\"{}\"", record.pdf)) {
                report.problem(ProblemKind::Altered, &object, "the destruction report does not name this record's PDF");
            }
        }
    }

    /// Checks that a page's seal is good and covers its number and image hash.
    fn check_page_seal(
        &self,
        report: &mut FixityReport,
        code: &DocumentCode,
        n: u32,
        seal: &SealRecord,
        image: &BlobHash,
    ) {
        let object = format!("document {code} page {n}");
        if let Err(reason) = self.sealer.check_document(code, seal) {
            report.problem(ProblemKind::Altered, object, format!("page seal: {reason}"));
        } else if !has_line(&seal.text, &format!("page: {n}")) || !has_line(&seal.text, &format!("image: {image}")) {
            report.problem(
                ProblemKind::Altered,
                object,
                "the page seal does not cover this page's number and image hash",
            );
        }
    }

    /// Checks the page seals of each document waiting in the reading queue, counting the uses of
    /// its page images, and that no record has its code (its record's batch removes it).
    fn check_captured(
        &self,
        view: &dyn Snapshot,
        report: &mut FixityReport,
        refs: &mut BTreeMap<BlobHash, i64>,
    ) -> Result<(), ArchiveError> {
        let mut failure = None;
        view.scan(Table::Captured, &[], &[], &mut |k, v| {
            match decode::<CapturedDocument>("captured document", k, v) {
                Ok(captured) => {
                    for (page, n) in captured.pages.iter().zip(1..) {
                        self.check_page_seal(report, &captured.code, n, &page.seal, &page.image);
                    }
                    for hash in captured.blobs() {
                        *refs.entry(hash).or_default() += 1;
                    }
                    match view.get(Table::Documents, k) {
                        Ok(None) => {}
                        Ok(Some(_)) => report.problem(
                            ProblemKind::Altered,
                            format!("document {}", captured.code),
                            "it is archived but still waits in the reading queue",
                        ),
                        Err(e) => {
                            failure = Some(e);
                            return ControlFlow::Break(());
                        }
                    }
                }
                Err(e) => report.problem(
                    ProblemKind::Altered,
                    format!("captured document {}", String::from_utf8_lossy(k)),
                    e.to_string(),
                ),
            }
            ControlFlow::Continue(())
        })?;
        failure.map_or(Ok(()), Err)
    }

    fn check_blobs(
        &self,
        view: &dyn Snapshot,
        report: &mut FixityReport,
        expected: &BTreeMap<BlobHash, i64>,
        rate: Option<u64>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), ArchiveError> {
        let mut throttle = Throttle { bytes_per_second: rate, started: Instant::now(), bytes: 0 };
        let mut seen = HashSet::new();
        // The reference counts (small values) say how many blobs there are, for the progress.
        let mut total = 0;
        view.scan(Table::BlobRefs, &[], &[], &mut |_, _| {
            total += 1;
            ControlFlow::Continue(())
        })?;
        // Blobs whose content is wrong or gone, to be named with the documents that use them.
        let mut damaged = Vec::new();
        view.scan(Table::Blobs, &[], &[], &mut |k, v| {
            throttle.account(v.len());
            report.blobs += 1;
            progress(report.blobs, total.max(report.blobs));
            report.bytes += v.len() as u64;
            let Ok(key) = <[u8; 32]>::try_from(k) else {
                report.problem(ProblemKind::Unreferenced, format!("blob key {k:02x?}"), "is not a 32-byte hash");
                return ControlFlow::Continue(());
            };
            let hash = BlobHash::from_bytes(key);
            seen.insert(hash);
            let actual = BlobHash::of(v);
            if actual != hash {
                damaged.push(report.problems.len());
                report.problem(
                    ProblemKind::Altered,
                    format!("blob {hash}"),
                    format!("its content now hashes to {actual}"),
                );
            }
            if !expected.contains_key(&hash) {
                report.problem(ProblemKind::Unreferenced, format!("blob {hash}"), "no document refers to it");
            }
            ControlFlow::Continue(())
        })?;
        // Then the blob files: every blob a record uses is read from its file when it has one, as
        // `read_blob` does. A file nothing refers to is not reported: it is either a commit's whose
        // batch is still to come or a crash's, removed at the next open.
        for (hash, n) in expected {
            let object = format!("blob {hash}");
            match self.hash_blob_file(hash, &mut throttle) {
                Ok(Some((actual, size))) => {
                    report.blobs += 1;
                    progress(report.blobs, total.max(report.blobs));
                    report.bytes += size;
                    if actual != *hash {
                        damaged.push(report.problems.len());
                        let detail = format!("its file ({size} bytes) now hashes to {actual}");
                        report.problem(ProblemKind::Altered, object, detail);
                    }
                }
                // The file is read live, not through the snapshot: a blob destroyed since the
                // snapshot was taken has lost its count too, and is not missing.
                Ok(None) if !seen.contains(hash) && self.blob_refs(hash)? > 0 => {
                    damaged.push(report.problems.len());
                    report.problem(ProblemKind::Missing, object, format!("{n} references, no content"));
                }
                Ok(None) => {}
                Err(e) => {
                    damaged.push(report.problems.len());
                    report.problem(ProblemKind::Altered, object, format!("its file cannot be read: {e}"));
                }
            }
        }
        name_users(view, report, &damaged)?;
        let mut stored = BTreeMap::new();
        view.scan(Table::BlobRefs, &[], &[], &mut |k, v| {
            if let (Ok(key), Ok(count)) = (<[u8; 32]>::try_from(k), <[u8; 8]>::try_from(v)) {
                stored.insert(BlobHash::from_bytes(key), i64::from_le_bytes(count));
            }
            ControlFlow::Continue(())
        })?;
        for hash in expected.keys().chain(stored.keys()).collect::<HashSet<_>>() {
            let (want, have) = (expected.get(hash).copied().unwrap_or(0), stored.get(hash).copied().unwrap_or(0));
            if want != have {
                report.problem(
                    ProblemKind::Altered,
                    format!("blob {hash}"),
                    format!("reference count {have}, but {want} uses in records"),
                );
            }
        }
        Ok(())
    }

    /// Re-hashes the file of a blob, if it has one, at the throttled rate and in constant memory;
    /// returns the hash and the size read.
    fn hash_blob_file(
        &self,
        hash: &BlobHash,
        throttle: &mut Throttle,
    ) -> Result<Option<(BlobHash, u64)>, ArchiveError> {
        let Some((mut file, _)) = self.store.open_blob_file(hash)? else { return Ok(None) };
        let mut hasher = blake3::Hasher::new();
        let mut buffer = vec![0; 1 << 20];
        let mut size = 0;
        loop {
            let n = file.read(&mut buffer).map_err(|source| ArchiveError::BlobFile { hash: *hash, source })?;
            if n == 0 {
                break;
            }
            throttle.account(n);
            hasher.update(&buffer[..n]);
            size += n as u64;
        }
        Ok(Some((BlobHash::from_bytes(*hasher.finalize().as_bytes()), size)))
    }

    /// Checks that every secondary key, PDF key and event names a record.
    fn check_keys(&self, view: &dyn Snapshot, report: &mut FixityReport) -> Result<(), ArchiveError> {
        let mut failure = None;
        let mut names_a_record =
            |code: &str, report: &mut FixityReport, what: String| match view.get(Table::Documents, code.as_bytes()) {
                Ok(found) => {
                    if found.is_none() {
                        report.problem(
                            ProblemKind::Missing,
                            format!("document {code}"),
                            format!("its record is gone, but {what} remains"),
                        );
                    }
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    failure = Some(e);
                    ControlFlow::Break(())
                }
            };
        for table in [Table::ByOwner, Table::ByDossier, Table::ByType] {
            view.scan(table, &[], &[], &mut |k, _| {
                let code = k.rsplit(|b| *b == 0).next().map(String::from_utf8_lossy).unwrap_or_default();
                names_a_record(&code, report, format!("the {table:?} key"))
            })?;
        }
        view.scan(Table::ByPdf, &[], &[], &mut |_, v| {
            names_a_record(&String::from_utf8_lossy(v), report, "its PDF key".into())
        })?;
        view.scan(Table::Events, &[], &[], &mut |k, v| match decode::<Event>("event", k, v) {
            Ok(event) => match event.document() {
                Some(code) => names_a_record(&code.to_string(), report, format!("event {} naming it", seq_from_key(k))),
                None => ControlFlow::Continue(()),
            },
            Err(e) => {
                report.problem(ProblemKind::Altered, format!("event {}", seq_from_key(k)), e.to_string());
                ControlFlow::Continue(())
            }
        })?;
        failure.map_or(Ok(()), Err)
    }

    fn check_log(&self, view: &dyn Snapshot, report: &mut FixityReport) -> Result<(), ArchiveError> {
        let checkpoints: Vec<Checkpoint> =
            decode_scanned("checkpoint", |visit| view.scan(Table::Checkpoints, &[], &[], visit))?;
        let mut by_size: BTreeMap<u64, Vec<&Checkpoint>> = BTreeMap::new();
        for c in &checkpoints {
            report.checkpoints += 1;
            let object = format!("checkpoint {} (audit {})", c.size, c.audit_seq);
            if !c.body_matches() {
                report.problem(ProblemKind::Altered, &object, "its seal covers another body");
            } else if let Err(reason) = self.sealer.check(&c.seal) {
                report.problem(ProblemKind::Altered, &object, format!("seal: {reason}"));
            }
            by_size.entry(c.size).or_default().push(c);
        }
        let mut frontier = Frontier::default();
        let check_roots = |frontier: &Frontier, report: &mut FixityReport| {
            for c in by_size.get(&frontier.size()).into_iter().flatten() {
                if frontier.root() != c.root {
                    report.problem(
                        ProblemKind::Altered,
                        "archive log",
                        format!("the first {} leaves no longer hash to the root checkpoint {} signed", c.size, c.size),
                    );
                }
            }
        };
        check_roots(&frontier, report);
        let mut expected = 0u64;
        let mut gap = false;
        let mut latest: HashMap<String, u64> = HashMap::new();
        let mut failure = None;
        view.scan(Table::LogLeaves, &[], &[], &mut |k, v| {
            let (i, text) = (seq_from_key(k), String::from_utf8_lossy(v));
            if i != expected && !gap {
                report.problem(
                    ProblemKind::Missing,
                    format!("log leaf {expected}"),
                    format!("the log goes on at leaf {i}"),
                );
                gap = true;
            }
            expected = i + 1;
            report.log_leaves += 1;
            match LogLeaf::document_of(&text) {
                Some((_, code)) => {
                    match view.get(Table::Documents, code.as_bytes()) {
                        Ok(Some(_)) => {}
                        Ok(None) => report.problem(
                            ProblemKind::Missing,
                            format!("document {code}"),
                            format!("its record is gone, but log leaf {i} names it"),
                        ),
                        Err(e) => {
                            failure = Some(e);
                            return ControlFlow::Break(());
                        }
                    }
                    latest.insert(code.to_owned(), i);
                }
                None => report.problem(ProblemKind::Altered, format!("log leaf {i}"), "is not a sohoa log leaf"),
            }
            // Every subtree this leaf completes must be stored with the hash of its leaves: proofs
            // and the writer's right edge are read from the stored tree, not from the leaves.
            for (subtree, hash) in frontier.push(merkle::leaf_hash(v)) {
                match view
                    .get(Table::LogNodes, &node_key(subtree))
                    .and_then(|v| v.map(|v| node_value(subtree, &v)).transpose())
                {
                    Ok(Some(stored)) if stored == hash => {}
                    Ok(Some(_)) => report.problem(
                        ProblemKind::Altered,
                        node_name(subtree),
                        "its stored hash is not the hash of its leaves",
                    ),
                    Ok(None) => report.problem(
                        ProblemKind::Missing,
                        node_name(subtree),
                        "is not stored, so proofs over it fail",
                    ),
                    Err(e) => {
                        failure = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
            check_roots(&frontier, report);
            ControlFlow::Continue(())
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        if let Some(max) = checkpoints.iter().map(|c| c.size).max().filter(|m| *m > frontier.size()) {
            report.problem(
                ProblemKind::Truncated,
                "archive log",
                format!("holds {} leaves, but a checkpoint signed {max}", frontier.size()),
            );
        }
        self.check_log_index(view, report, frontier.size(), latest)
    }

    /// Checks that the document index points every document at its latest leaf, and that the stored
    /// tree holds no subtree beyond the log's leaves.
    fn check_log_index(
        &self,
        view: &dyn Snapshot,
        report: &mut FixityReport,
        size: u64,
        mut latest: HashMap<String, u64>,
    ) -> Result<(), ArchiveError> {
        view.scan(Table::LogIndex, &[], &[], &mut |k, v| {
            let code = String::from_utf8_lossy(k);
            let stored = <[u8; 8]>::try_from(v).map(u64::from_be_bytes).ok();
            match (latest.remove(code.as_ref()), stored) {
                (None, _) => report.problem(
                    ProblemKind::Unreferenced,
                    format!("log index entry {code}"),
                    "no log leaf names this document",
                ),
                (Some(want), Some(have)) if want == have => {}
                (Some(want), _) => report.problem(
                    ProblemKind::Altered,
                    format!("log index entry {code}"),
                    format!("does not point at leaf {want}, its latest"),
                ),
            }
            ControlFlow::Continue(())
        })?;
        for (code, leaf) in latest {
            report.problem(
                ProblemKind::Missing,
                format!("log index entry {code}"),
                format!("is not stored, so leaf {leaf} cannot be proved"),
            );
        }
        view.scan(Table::LogNodes, &[], &[], &mut |k, _| {
            match subtree_of_key(k) {
                Some(s)
                    if s.index
                        .checked_add(1)
                        .and_then(|n| n.checked_mul(1 << s.level))
                        .is_some_and(|end| end <= size) => {}
                Some(s) => report.problem(
                    ProblemKind::Unreferenced,
                    node_name(s),
                    format!("lies beyond the log's {size} leaves"),
                ),
                None => report.problem(
                    ProblemKind::Unreferenced,
                    format!("log node key {k:02x?}"),
                    "is not a level and an index",
                ),
            }
            ControlFlow::Continue(())
        })?;
        Ok(())
    }

    fn check_audit(&self, view: &dyn Snapshot, report: &mut FixityReport) -> Result<(), ArchiveError> {
        let checkpoints: Vec<Checkpoint> =
            decode_scanned("checkpoint", |visit| view.scan(Table::Checkpoints, &[], &[], visit))?;
        let heads: BTreeMap<u64, [u8; 32]> = checkpoints.into_iter().map(|c| (c.audit_seq, c.audit_hash)).collect();
        self.walk_audit(view, &mut |entry| match entry {
            Ok(e) => {
                report.audit_entries += 1;
                if heads.get(&e.seq).is_some_and(|h| *h != e.hash) {
                    report.problem(
                        ProblemKind::Altered,
                        format!("audit entry {}", e.seq),
                        "differs from the head a checkpoint signed",
                    );
                }
                ControlFlow::Continue(())
            }
            Err(ArchiveError::Corrupt { key, reason, .. }) => {
                report.problem(ProblemKind::Altered, format!("audit entry {key}"), reason);
                ControlFlow::Break(())
            }
            Err(e) => {
                report.problem(ProblemKind::Altered, "audit trail", e.to_string());
                ControlFlow::Break(())
            }
        })?;
        let stored_last = view.last(Table::Audit)?.map(|(k, _)| seq_from_key(&k)).unwrap_or(0);
        if let Some((&head, _)) = heads.iter().next_back().filter(|(h, _)| **h > stored_last) {
            report.problem(
                ProblemKind::Truncated,
                "audit trail",
                format!("ends at entry {stored_last}, but a checkpoint signed entry {head}"),
            );
        }
        Ok(())
    }
}
