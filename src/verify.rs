//! Verification of an archived document or of a PDF file claimed to be one: every check by name, each
//! failure naming what failed (which page or the PDF), the hash found, the hash sealed and the key
//! that sealed it.
//!
//! Two depths: a verification by someone logged in re-reads the stored content and is audited; the
//! public one (code and token, or a file that is byte for byte an archived PDF) checks what the
//! archive proved at commit, at a cost that does not grow with the document, and writes nothing.

use std::io::Read;

use archive::{CapturedDocument, DocumentRecord, DocumentStatus, SealRecord, Sealer};
use domain::{AuditAction, BlobHash, DocumentCode, VerificationToken};
use serde::Serialize;
use signer::{Manifest, metadata_digest};

use crate::queue::Stage;
use crate::{Appliance, ApplianceError};

/// One named check and its outcome.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Check {
    /// What was checked, e.g. `seal signature`, `page 2 image`, `PDF file`.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// The outcome of verifying a document or a file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// What was verified: a document code or a file name.
    pub subject: String,
    /// The document it was matched to, if any.
    pub document: Option<String>,
    /// How far the document is: `captured` or `reading` (its pages are sealed, its signed copy is
    /// being made) or `archived`; none for a file that matched no document.
    pub stage: Option<Stage>,
    /// Every check, in the order they ran.
    pub checks: Vec<Check>,
    /// True when there is at least one check and every check passed.
    pub valid: bool,
}

/// Verifying a document or a file while logged in (anyone may on the public page).
pub const VERIFY: crate::ops::Permit = crate::ops::Permit { what: "verify documents", roles: &crate::users::Role::ALL };

fn check(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Check {
    Check { name: name.into(), passed, detail: detail.into() }
}

fn report(subject: String, document: Option<String>, checks: Vec<Check>, stage: Option<Stage>) -> VerifyReport {
    let valid = !checks.is_empty() && checks.iter().all(|c| c.passed);
    VerifyReport { subject, document, stage, checks, valid }
}

/// What a public verification by code and token found.
#[derive(Debug, Clone)]
pub enum Verified {
    /// An archived document (or the tombstone of a destroyed one).
    Archived(Box<DocumentRecord>),
    /// A document captured and not yet archived: its signed copy is being made.
    Captured(Box<CapturedDocument>),
}

/// The key named by a stored seal, for messages even when the seal is damaged.
fn seal_key(record: &DocumentRecord) -> String {
    record.seal.key.clone()
}

/// How far the checks of an archived record go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// Everything: every stored page image and the PDF are read and hashed again, each page seal and
    /// the PDF signatures are checked. The cost grows with the document.
    Content,
    /// What the archive proved when it committed the record: the seal over its manifest, that the
    /// manifest covers the record's stored hashes, the log and the status. A constant cost for any
    /// document; re-hashing stored content is the fixity scrub's job.
    Record,
}

/// A new verification token from the operating system's random source.
pub(crate) fn new_token() -> Result<VerificationToken, ApplianceError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("no randomness for a verification token: {e}")))?;
    Ok(VerificationToken::from_random(bytes))
}

/// The actor of the public page's aggregated audit entries.
const PUBLIC_ACTOR: &str = "public";

impl Appliance {
    /// Records the public page's verifications counted over an interval, in one entry: anonymous
    /// requests write nothing each.
    pub fn record_public_verifications(&self, detail: &str) -> Result<(), ApplianceError> {
        self.audit(PUBLIC_ACTOR, AuditAction::PublicVerify, "/verify", detail)
    }

    /// Verifies an archived document: its seal, that the seal covers the record, every stored page
    /// image and the PDF against their sealed hashes, and its status.
    /// A document captured and not yet archived is verified by what it has: each page's seal and
    /// stored image, and its stage.
    pub fn verify_code(&self, code: &DocumentCode, actor: &str) -> Result<VerifyReport, ApplianceError> {
        match self.archive().captured(code)? {
            Some(captured) => {
                let mut checks = Vec::new();
                for (page, number) in captured.pages.iter().zip(1..) {
                    checks.push(page_seal_check(self, code, number, &page.image, &page.seal));
                    checks.push(page_image_check(self, number, &page.image, &page.seal.key));
                }
                checks.push(self.stage_check(&captured));
                let report = report(code.to_string(), Some(code.to_string()), checks, Some(self.stage(code)));
                self.audit(
                    actor,
                    AuditAction::Verify,
                    &code.to_string(),
                    if report.valid { "valid, captured" } else { "INVALID, captured" },
                )?;
                Ok(report)
            }
            None => self.verify_record(&self.record(code)?, actor),
        }
    }

    /// The stage of a captured document: reading if a reader has it, captured otherwise.
    fn stage(&self, code: &DocumentCode) -> Stage {
        self.reading_queue().stage_of(code).unwrap_or(Stage::Captured)
    }

    /// What the stage of a captured document says: its pages were received and sealed, and its
    /// signed copy is being made.
    fn stage_check(&self, captured: &CapturedDocument) -> Check {
        check(
            "capture",
            true,
            format!(
                "{} pages received and sealed at {}; the signed copy is being made (the reading queue)",
                captured.pages.len(),
                captured.captured_at.to_rfc3339()
            ),
        )
    }

    /// [`verify_code`](Self::verify_code) for a record the caller has already read.
    pub fn verify_record(&self, record: &DocumentRecord, actor: &str) -> Result<VerifyReport, ApplianceError> {
        let code = record.code.to_string();
        let report =
            report(code.clone(), Some(code.clone()), self.record_checks(record, Depth::Content), Some(Stage::Archived));
        self.audit(actor, AuditAction::Verify, &code, if report.valid { "valid" } else { "INVALID" })?;
        Ok(report)
    }

    /// Public verification by code and token: the record's own checks at constant cost (its seal,
    /// what the seal covers, the log and the status) and the record for the page to show its name
    /// and status, or `None` when
    /// the pair names no document, whether the code is unknown, has no token or has another one.
    /// Nothing is written: the caller counts public verifications instead of auditing each.
    pub fn verify_by_token(
        &self,
        code: &DocumentCode,
        token: &VerificationToken,
    ) -> Result<Option<(VerifyReport, Verified)>, ApplianceError> {
        if let Some(captured) = self.archive().captured(code)? {
            // A captured document's token is kept in its entry until the signed copy carries it; the
            // comparison is of the lookup keys, as for an archived one, at a constant cost.
            let matches = captured.has_token(token);
            return Ok(matches.then(|| {
                let checks = vec![self.stage_check(&captured)];
                (
                    report(code.to_string(), Some(code.to_string()), checks, Some(self.stage(code))),
                    Verified::Captured(Box::new(captured)),
                )
            }));
        }
        Ok(self.archive().record_by_token(code, token)?.map(|record| {
            let code = record.code.to_string();
            (
                report(code.clone(), Some(code), self.record_checks(&record, Depth::Record), Some(Stage::Archived)),
                Verified::Archived(Box::new(record)),
            )
        }))
    }

    /// Public verification of an uploaded file: when it is byte for byte the PDF of an archived
    /// document, that document's checks at constant cost and its record. When it is not, but carries
    /// the verification link of a copy (`link`, from [`verification_link_in`]) whose code and token name
    /// a document, the file is an altered copy of it: the report fails its `PDF file` check, and the
    /// record is given as for the link itself, since the uploader holds what the printed copy shows.
    /// `None` for any other file, without saying whether a code it may name exists. Nothing is written.
    pub fn verify_public_file(
        &self,
        name: &str,
        hash: &BlobHash,
        link: Option<(DocumentCode, VerificationToken)>,
    ) -> Result<Option<(VerifyReport, Verified)>, ApplianceError> {
        if let Some((report, record)) = self.archived_file(name, hash, Depth::Record)? {
            return Ok(Some((report, Verified::Archived(Box::new(record)))));
        }
        let Some((code, token)) = link else { return Ok(None) };
        Ok(self.archive().record_by_token(&code, &token)?.map(|record| {
            let mut checks = vec![check(
                "PDF file",
                false,
                format!("BLAKE3 {hash} is not the PDF sealed for {code}: the file was altered after it was signed"),
            )];
            checks.extend(self.record_checks(&record, Depth::Record));
            (
                report(name.to_owned(), Some(code.to_string()), checks, Some(Stage::Archived)),
                Verified::Archived(Box::new(record)),
            )
        }))
    }

    /// Verifies a file already known by its BLAKE3 (hashed while it was received) when it is byte
    /// for byte the sealed PDF of an archived document; `None` when it is not, and then only
    /// [`verify_file`](Self::verify_file) with its bytes can say what differs.
    pub fn verify_archived_file(
        &self,
        name: &str,
        hash: &BlobHash,
        actor: &str,
    ) -> Result<Option<VerifyReport>, ApplianceError> {
        let Some((report, record)) = self.archived_file(name, hash, Depth::Content)? else { return Ok(None) };
        self.audit(actor, AuditAction::VerifyFile, &record.code.to_string(), name)?;
        Ok(Some(report))
    }

    /// The report on a file whose hash is an archived PDF, with the record it matched.
    fn archived_file(
        &self,
        name: &str,
        hash: &BlobHash,
        depth: Depth,
    ) -> Result<Option<(VerifyReport, DocumentRecord)>, ApplianceError> {
        let Some(code) = self.archive().find_by_pdf(hash)? else { return Ok(None) };
        let record = self.record(&code)?;
        let mut checks = vec![check(
            "PDF file",
            true,
            format!("BLAKE3 {hash} is the PDF sealed for {code} by key {}", seal_key(&record)),
        )];
        checks.extend(self.record_checks(&record, depth));
        Ok(Some((report(name.to_owned(), Some(code.to_string()), checks, Some(Stage::Archived)), record)))
    }

    /// Verifies a PDF file: that it is, byte for byte, the sealed PDF of an archived document, and
    /// that document's own checks. A file that differs is matched through the document code it
    /// carries, and each page image in it is compared with the sealed one to say which page changed.
    pub fn verify_file(&self, name: &str, bytes: &[u8], actor: &str) -> Result<VerifyReport, ApplianceError> {
        let hash = BlobHash::of(bytes);
        if let Some(report) = self.verify_archived_file(name, &hash, actor)? {
            return Ok(report);
        }
        let Some(code) = embedded_code(bytes) else {
            let mut checks = vec![check(
                "PDF file",
                false,
                format!(
                    "not an archived document: no archived PDF has BLAKE3 {hash} and the file names no sohoa document code"
                ),
            )];
            checks.extend(self.signing().checks(bytes));
            return Ok(report(name.to_owned(), None, checks, None));
        };
        let Some(record) = self.archive().record(&code)? else {
            return Ok(report(
                name.to_owned(),
                None,
                vec![check(
                    "PDF file",
                    false,
                    format!("the file names document {code}, which is not in this archive (BLAKE3 {hash})"),
                )],
                None,
            ));
        };
        let key = seal_key(&record);
        let mut checks = vec![check(
            "PDF file",
            false,
            format!(
                "BLAKE3 of the file is {hash}, but the PDF sealed for {code} by key {key} has BLAKE3 {}",
                record.pdf
            ),
        )];
        checks.extend(self.signing().checks(bytes));
        match capture::image_streams(bytes) {
            Ok(streams) => {
                if streams.len() != record.pages.len() {
                    checks.push(check(
                        "page count",
                        false,
                        format!("the file has {} pages, the sealed PDF {}", streams.len(), record.pages.len()),
                    ));
                }
                for (i, (stream, page)) in streams.iter().zip(&record.pages).enumerate() {
                    let found = BlobHash::of(stream);
                    let name = format!("page {} image", i + 1);
                    checks.push(if found == page.stream {
                        check(name, true, format!("image stream BLAKE3 {found} matches the seal"))
                    } else {
                        check(
                            name,
                            false,
                            format!("image stream in the file has BLAKE3 {found}, sealed {} by key {key}", page.stream),
                        )
                    });
                }
            }
            Err(e) => checks.push(check("PDF structure", false, format!("{e}; the pages cannot be compared"))),
        }
        checks.extend(self.record_checks(&record, Depth::Content));
        self.audit(actor, AuditAction::VerifyFile, &code.to_string(), &format!("{name}: does not match"))?;
        Ok(report(name.to_owned(), Some(code.to_string()), checks, Some(Stage::Archived)))
    }

    fn record_checks(&self, record: &DocumentRecord, depth: Depth) -> Vec<Check> {
        let mut checks = Vec::new();
        let key = seal_key(record);
        match self.seal_keys().verify_manifest(&record.code, &record.seal) {
            Ok((manifest, origin)) => {
                checks.push(check("seal signature", true, format!("Ed25519 signature by {origin} is valid")));
                checks.push(covers(&manifest, record, &key));
            }
            Err(e) => checks.push(check("seal signature", false, e.to_string())),
        }
        if let DocumentStatus::Destroyed(d) = &record.status {
            // A tombstone: its content is gone by decision; what remains to check is the seal above,
            // the signed destruction report and the log.
            checks.push(match self.seal_keys().check(&d.report) {
                Ok(()) => check("destruction report", true, format!("sealed by key {}", d.report.key)),
                Err(e) => check("destruction report", false, e),
            });
        } else if depth == Depth::Content {
            for (page, number) in record.pages.iter().zip(1..) {
                checks.push(page_seal_check(self, &record.code, number, &page.image, &page.seal));
                checks.push(page_image_check(self, number, &page.image, &key));
            }
            match self.archive().read_blob(&record.pdf) {
                Ok(pdf) => {
                    checks.push(check("PDF", true, format!("stored PDF BLAKE3 {} matches the seal", record.pdf)));
                    checks.extend(self.signing().checks(&pdf));
                }
                Err(e) => checks.push(check("PDF", false, format!("{e} (sealed by key {key})"))),
            }
        }
        checks.push(self.log_check(record));
        checks.push(status_check(record));
        checks
    }
}

impl Appliance {
    /// Checks that the archive log holds the document's latest leaf under a checkpoint whose seal
    /// verifies: proof that the record was not slipped in or changed outside the log.
    fn log_check(&self, record: &DocumentRecord) -> Check {
        let name = "archive log";
        match self.archive().prove(&record.code) {
            Err(e) => check(name, false, e.to_string()),
            Ok(proof) if !proof.verifies() => check(
                name,
                false,
                format!("the inclusion proof of leaf {} does not lead to the checkpoint's root", proof.index),
            ),
            Ok(proof) => match self.seal_keys().check(&proof.checkpoint.seal) {
                Err(e) => check(name, false, format!("checkpoint {}: {e}", proof.checkpoint.size)),
                Ok(()) if !proof.checkpoint.body_matches() => {
                    check(name, false, format!("checkpoint {} is not what its seal signed", proof.checkpoint.size))
                }
                Ok(()) => check(
                    name,
                    true,
                    format!(
                        "leaf {} is in the log of {} leaves signed by key {}",
                        proof.index, proof.checkpoint.size, proof.checkpoint.seal.key
                    ),
                ),
            },
        }
    }
}

/// The status check: only an active document passes; a revoked or destroyed one says when, by whom
/// and why.
fn status_check(record: &DocumentRecord) -> Check {
    match &record.status {
        DocumentStatus::Active => check("status", true, "active"),
        DocumentStatus::Revoked(r) => {
            check("status", false, format!("revoked on {} by {}: {}", r.at.to_rfc3339(), r.by, r.reason))
        }
        DocumentStatus::Destroyed(d) => check(
            "status",
            false,
            format!(
                "destroyed on {} under council decision {} of {} (requested by {}, confirmed by {})",
                d.at.to_rfc3339(),
                d.decision.number,
                d.decision.date,
                d.requested_by,
                d.approved_by
            ),
        ),
    }
}

/// Checks a page's own seal: signed by a known key, and binding this page's image hash to this
/// document and page number.
/// Checks the seal of page `number` of `code`: good, by a known key, and binding that page's `image`.
fn page_seal_check(
    appliance: &Appliance,
    code: &DocumentCode,
    number: u32,
    image: &BlobHash,
    seal: &SealRecord,
) -> Check {
    let name = format!("page {number} seal");
    let key = &seal.key;
    match appliance.seal_keys().verify_page(code, seal) {
        Err(e) => check(name, false, e.to_string()),
        Ok((seal, _)) if &seal.document != code || seal.page != number => check(
            name,
            false,
            format!(
                "the seal by key {key} is for page {} of {}, not page {number} of {code}",
                seal.page, seal.document
            ),
        ),
        Ok((seal, _)) if &seal.image != image => {
            check(name, false, format!("page image BLAKE3 is {image}, the seal by key {key} says {}", seal.image))
        }
        Ok((_, origin)) => {
            check(name, true, format!("Ed25519 signature by {origin} binds image {image} to page {number}"))
        }
    }
}

/// Checks a stored page image against its sealed hash.
fn page_image_check(appliance: &Appliance, number: u32, image: &BlobHash, key: &str) -> Check {
    let name = format!("page {number} image");
    match appliance.archive().read_blob(image) {
        Ok(_) => check(name, true, format!("stored image BLAKE3 {image} matches the seal")),
        Err(e) => check(name, false, format!("{e} (sealed by key {key})")),
    }
}

/// Checks that a verified manifest covers exactly what the record says.
fn covers(manifest: &Manifest, record: &DocumentRecord, key: &str) -> Check {
    let mut problems = Vec::new();
    if manifest.document != record.code {
        problems.push(format!("the seal is for {}, not {}", manifest.document, record.code));
    }
    let digest = metadata_digest(&record.metadata);
    if manifest.metadata != digest {
        problems.push(format!("metadata digest is {digest}, sealed {}", manifest.metadata));
    }
    if manifest.pdf != record.pdf {
        problems.push(format!("PDF hash is {}, sealed {}", record.pdf, manifest.pdf));
    }
    let sealed_pages: Vec<(BlobHash, BlobHash)> = manifest.pages.iter().map(|p| (p.image, p.stream)).collect();
    let record_pages: Vec<(BlobHash, BlobHash)> = record.pages.iter().map(|p| (p.image, p.stream)).collect();
    if sealed_pages != record_pages {
        problems.push(format!("page hashes differ from the {} sealed pages", sealed_pages.len()));
    }
    if problems.is_empty() {
        check(
            "seal covers record",
            true,
            format!("{} pages, PDF and metadata as sealed by key {key}", record.pages.len()),
        )
    } else {
        check("seal covers record", false, problems.join("; "))
    }
}

/// The code and token of the verification link a signed copy carries (the link annotation over its
/// QR code, `…/verify?code=…&t=…`), read from the raw bytes like [`embedded_code`]; the last one
/// in the file, as an update's. Whatever the file says is only a claim: it names a document only
/// when the archive has that code with that token.
fn verification_link(bytes: &[u8]) -> Option<(DocumentCode, VerificationToken)> {
    const KEY: &[u8] = b"/URI";
    const SPACE: usize = 64;
    // `/URI` is both the action's type (`/S /URI`) and the key of its string (`/URI (…)`): the last
    // key followed by a literal string, whatever white space the writer put between them.
    let link = bytes.windows(KEY.len()).enumerate().rev().filter(|(_, w)| *w == KEY).find_map(|(at, _)| {
        let rest = &bytes[at + KEY.len()..];
        let open = rest.iter().take(SPACE).position(|b| !b.is_ascii_whitespace())?;
        let rest = rest.get(open..)?.strip_prefix(b"(")?;
        std::str::from_utf8(&rest[..rest.iter().take(512).position(|&b| b == b')')?]).ok()
    })?;
    let query = link.split_once("/verify?")?.1;
    let param = |name: &str| query.split('&').find_map(|p| p.strip_prefix(name)?.strip_prefix('='));
    Some((param("code")?.parse().ok()?, param("t")?.parse().ok()?))
}

/// The verification link of a file (as `verification_link` finds it), read a mebibyte at a time, so that an upload of any allowed size
/// costs a constant amount of memory: each window starts with the end of the one before, longer than a
/// link can be, so that no link is cut, and the last link found in the file wins.
pub fn verification_link_in(mut reader: impl Read) -> std::io::Result<Option<(DocumentCode, VerificationToken)>> {
    const CHUNK: u64 = 1 << 20;
    // `/URI`, at most 64 bytes of white space, `(`, a link of at most 512 bytes and `)`.
    const OVERLAP: usize = 4 + 64 + 1 + 512 + 1;
    let mut window = Vec::new();
    let mut found = None;
    loop {
        let read = (&mut reader).take(CHUNK).read_to_end(&mut window)?;
        if read == 0 {
            return Ok(found);
        }
        if let Some(link) = verification_link(&window) {
            found = Some(link);
        }
        window.drain(..window.len().saturating_sub(OVERLAP));
    }
}

/// The document code a sohoa PDF carries in its document information, read from the raw bytes so that
/// it is found even in a file too damaged to parse.
fn embedded_code(bytes: &[u8]) -> Option<DocumentCode> {
    let key = format!("/{}", capture::DOCUMENT_CODE_KEY);
    let at = bytes.windows(key.len()).position(|w| w == key.as_bytes())? + key.len();
    let rest = &bytes[at..];
    let open = rest.iter().position(|&b| b == b'(')?;
    if rest[..open].iter().any(|b| !b.is_ascii_whitespace()) {
        return None;
    }
    let close = rest[open..].iter().position(|&b| b == b')')? + open;
    std::str::from_utf8(&rest[open + 1..close]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::verification_link_in;

    /// A copy's link where a mebibyte window ends: found whole, and the last link of the file wins.
    #[test]
    fn a_link_across_a_window_boundary_is_found_and_the_last_one_wins() {
        let token = "0123456789abcdef0123456789abcdef";
        let first = "/S /URI /URI (/verify?code=001099012345.GPXD.01&t=ffffffffffffffffffffffffffffffff)";
        let last = format!("/S/URI/URI(https://mot-cua.example/verify?code=001099012345.GPXD.02&t={token})");
        let mut file = first.as_bytes().to_vec();
        file.resize((1 << 20) - 20, b' ');
        file.extend_from_slice(last.as_bytes());
        file.extend_from_slice(b" >> endobj\n%%EOF\n");
        let (code, found) = verification_link_in(file.as_slice()).unwrap().expect("a link");
        assert_eq!((code.to_string(), found.to_string()), ("001099012345.GPXD.02".to_owned(), token.to_owned()));
        assert!(verification_link_in(&b"%PDF-1.7 /URI (/verify?code=x)"[..]).unwrap().is_none());
    }
}
