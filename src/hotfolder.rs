//! The hot folder, wired to capture. While serving, a thread takes complete files from the share
//! (`[hot_folder] path`, default `DATA/inbox`) into the state directory `DATA/hotfolder`, outside the
//! share, and checks that each reads as pages; such a file then waits there, captured but neither
//! signed nor archived, until a logged-in operator confirms it (correcting owner, type or name if
//! need be) and it is archived in that operator's name, or rejects it. Anyone who can write to the
//! share can only propose a document.
//!
//! A file is known by its content hash ([`HotFileId`]): the same content dropped twice waits once,
//! and a file whose content was already archived (say, confirmed just before a crash) goes to
//! `done/` without being archived again. A check that fails for a passing reason (a disk error) is
//! tried again after a delay that doubles up to a cap; a file that is itself at fault (damaged, too
//! large, a decompression bomb) goes to `failed/` with its reason at once and is never tried again,
//! and so does a file whose check stopped the appliance three times: no crash loop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use domain::AuditAction;
use scanner_driver::{DriverError, Fault, HotFileId, HotFolder, HotState, PendingPage, Stage};
use serde::{Deserialize, Serialize};

use crate::config::{Config, HotFolderConfig};
use crate::input::MetadataFields;
use crate::{Appliance, ApplianceError, IngestReport, IngestRequest};

/// Failures listed for operators, newest first.
const RECENT_FAILURES: usize = 100;
/// The first delay before a check that failed for a passing reason is tried again; it doubles with
/// each failure, up to [`RETRY_CAP`].
const RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest delay between two tries of one file.
const RETRY_CAP: Duration = Duration::from_secs(600);
/// How often `done/` is purged of what is older than `[hot_folder] keep_done_days`.
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// Checks of one file that may begin without ending (the appliance stopped during them) before the
/// file is refused rather than checked again at the next start.
const MAX_UNFINISHED_CHECKS: u32 = 3;
/// The longest reason an operator may give for a rejection.
const MAX_REJECT_REASON: usize = 1000;

/// The state directory of the hot folder, under the data directory.
pub fn state_dir(data: &Path) -> PathBuf {
    data.join("hotfolder")
}

/// The appliance's side of the hot folder: the state directory, and one lock so that two operators
/// cannot confirm or reject the same file at once.
pub struct HotFiles {
    state: HotState,
    decisions: Mutex<()>,
}

impl HotFiles {
    /// Opens the state directory of the data directory `data`.
    pub fn open(data: &Path) -> Result<Self, ApplianceError> {
        Ok(HotFiles { state: HotState::open(&state_dir(data))?, decisions: Mutex::new(()) })
    }
}

/// Seeing the hot folder's waiting files and refusals, and confirming or rejecting a file.
pub const DECIDE: crate::ops::Permit = crate::ops::Permit {
    what: "decide on hot-folder files",
    roles: &[crate::users::Role::Operator, crate::users::Role::Admin],
};

/// A file waiting for an operator, with the metadata its name gives.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingFile {
    /// Its id: the BLAKE3 hash of its content, in hex.
    pub id: String,
    /// Its name as dropped.
    pub file_name: String,
    /// The owner its name gives (`OWNER_TYPE_name.ext`), if any.
    pub owner: Option<String>,
    /// The document type its name gives, or the configured one.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// The document name its name gives.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was taken from the share (ISO 8601, +07:00).
    pub received_at: String,
}

/// A file that was refused, with why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FailedFile {
    /// Its id: the BLAKE3 hash of its content, in hex.
    pub id: String,
    /// Its name as dropped.
    pub file_name: String,
    /// When it was taken from the share (ISO 8601, +07:00).
    pub received_at: String,
    /// Why it was refused.
    pub reason: String,
}

/// What operators see of the hot folder.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HotFolderListing {
    /// Files waiting for confirmation, oldest first.
    pub pending: Vec<PendingFile>,
    /// The most recent refusals, newest first.
    pub failed: Vec<FailedFile>,
}

/// What an operator corrects of the metadata a file's name gives; what is not given is kept.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotCorrections {
    /// The owner (empty: none).
    pub owner: Option<String>,
    /// The document type code.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// The document name.
    pub name: Option<String>,
}

/// An operator's confirmation of a waiting file.
#[derive(Debug, Clone)]
pub struct HotConfirm {
    /// The file.
    pub id: HotFileId,
    /// What the operator corrected.
    pub corrections: HotCorrections,
}

/// An operator's rejection of a waiting file.
#[derive(Debug, Clone)]
pub struct HotReject {
    /// The file.
    pub id: HotFileId,
    /// Why, in the operator's words.
    pub reason: String,
}

/// A confirmed file and the document it became.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HotConfirmed {
    /// The file's id.
    pub id: String,
    /// Its name as dropped.
    pub file_name: String,
    /// The captured document (read and archived from the queue).
    pub document: IngestReport,
}

/// A rejected file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HotRejected {
    /// The file's id.
    pub id: String,
    /// Its name as dropped.
    pub file_name: String,
    /// The reason recorded with it.
    pub reason: String,
}

/// What the check of a file taken from the share found.
#[derive(Debug, PartialEq, Eq)]
pub enum HotOutcome {
    /// It reads as pages and waits for an operator.
    Pending,
    /// Its content was already archived, as this document.
    Archived(String),
    /// It was refused, for this reason; it is in `failed/`.
    Failed(String),
    /// It is no longer there (confirmed or rejected meanwhile).
    Gone,
    /// It could not be checked for a passing reason; it stays in `processing/` to be tried again.
    Retry(String),
}

/// The metadata fields a file's name gives: `OWNER_TYPE_name words.ext` gives the owner, the type and
/// the name; any other name gives the configured type and the file name as the document name.
fn fields_from_name(name: &str, config: &HotFolderConfig) -> MetadataFields {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let named = stem.split_once('_').and_then(|(owner, rest)| {
        let (doc_type, title) = rest.split_once('_')?;
        (domain::OwnerId::parse(owner).is_ok() && domain::DocumentTypeCode::parse(doc_type).is_ok())
            .then(|| (owner, doc_type, title.replace('_', " ")))
    });
    match named {
        Some((owner, doc_type, title)) => {
            MetadataFields { owner: Some(owner.into()), doc_type: doc_type.into(), name: title, ..Default::default() }
        }
        None => MetadataFields { doc_type: config.doc_type.clone(), name: stem.to_owned(), ..Default::default() },
    }
}

fn iso_time(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .with_timezone(&domain::vietnam_offset())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// What operators see of the state directory `state` (also read by the CLI while the server runs).
pub fn listing(state: &HotState, config: &HotFolderConfig) -> Result<HotFolderListing, ApplianceError> {
    let pending = state
        .list(Stage::Pending)?
        .into_iter()
        .map(|e| {
            let fields = fields_from_name(&e.name, config);
            PendingFile {
                id: e.id.to_string(),
                owner: fields.owner,
                doc_type: fields.doc_type,
                name: fields.name,
                size: e.size,
                received_at: iso_time(e.at),
                file_name: e.name,
            }
        })
        .collect();
    let failed = state
        .list(Stage::Failed)?
        .into_iter()
        .rev()
        .take(RECENT_FAILURES)
        .map(|e| FailedFile {
            id: e.id.to_string(),
            received_at: iso_time(e.at),
            reason: e.reason.unwrap_or_default(),
            file_name: e.name,
        })
        .collect();
    Ok(HotFolderListing { pending, failed })
}

/// `sohoa hotfolder`: the listing, read from the state directory alone, so that it works while
/// `serve` holds the archive.
pub fn list_state(data: &Path, config: &Config) -> Result<HotFolderListing, ApplianceError> {
    listing(&HotState::open(&state_dir(data))?, &config.hot_folder)
}

/// What becomes of a file whose reading or checking failed with `e`: a passing fault (a disk or
/// resource error, a file unreadable for now) is tried again later; a fault of the file itself
/// (damaged, too large, unsupported, a link) refuses it once and for all.
fn outcome_of_failure(e: &DriverError) -> HotOutcome {
    match e.fault() {
        Fault::Transient => HotOutcome::Retry(e.to_string()),
        Fault::Input | Fault::Request | Fault::Device => HotOutcome::Failed(e.to_string()),
    }
}

impl Appliance {
    /// The state directory's content as [`HotState`], for the operations below.
    fn hot_state(&self) -> &HotState {
        &self.hot_files().state
    }

    /// Reads a file of `stage` and checks that it still has the content its id names.
    fn read_hot_file(&self, stage: Stage, id: &HotFileId) -> Result<Vec<u8>, DriverError> {
        let bytes = self.hot_state().read(stage, id, self.importer().limits().max_file_bytes)?;
        if HotFileId::of(&bytes) != *id {
            return Err(DriverError::HotFolder {
                path: self.hot_state().path().join(id.as_str()),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "its content changed after it was taken"),
            });
        }
        Ok(bytes)
    }

    /// Files waiting for an operator, and recent refusals with their reasons.
    pub fn hot_folder_files(&self) -> Result<HotFolderListing, ApplianceError> {
        listing(self.hot_state(), self.hot_folder_config())
    }

    /// Checks a file taken from the share: a file whose content was archived before goes to
    /// `done/`; one that reads as pages (each decoded, so that a damaged page or a decompression
    /// bomb is refused now, not in front of an operator) waits in `pending/`; anything else goes to
    /// `failed/` with its reason.
    pub fn check_hot_file(&self, id: &HotFileId) -> Result<HotOutcome, ApplianceError> {
        let state = self.hot_state();
        let begun = state.begin_check(id)?;
        let outcome = if begun > MAX_UNFINISHED_CHECKS {
            let reason = format!("checking it stopped the appliance {} times; it is not tried again", begun - 1);
            state
                .fail(id, Stage::Processing, &reason)
                .map(|()| HotOutcome::Failed(reason))
                .map_err(ApplianceError::from)
        } else {
            self.check_taken_file(id)
        };
        state.end_check(id)?;
        outcome
    }

    /// [`check_hot_file`](Self::check_hot_file) once it is known not to have stopped the appliance
    /// before.
    fn check_taken_file(&self, id: &HotFileId) -> Result<HotOutcome, ApplianceError> {
        let state = self.hot_state();
        let bytes = match self.read_hot_file(Stage::Processing, id) {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => return Ok(HotOutcome::Gone),
            Err(e) => return self.after_failure(id, &e),
        };
        if let Some(code) = self.archive().find_by_source(&format!("file:{id}"))? {
            state.move_to(id, Stage::Processing, Stage::Done)?;
            return Ok(HotOutcome::Archived(code.to_string()));
        }
        let name = state.name(id);
        // The decoders are not all ours: a panic on a hostile file is a refusal of that file, and
        // must not end the hot folder's thread.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.importer()
                .pages(Path::new(&name), bytes)
                .and_then(|pages| pages.iter().try_for_each(|p| PendingPage::decode(p).map(drop)))
        }));
        match checked {
            Ok(Ok(())) => {
                state.move_to(id, Stage::Processing, Stage::Pending)?;
                Ok(HotOutcome::Pending)
            }
            Ok(Err(e)) => self.after_failure(id, &e),
            Err(_) => {
                let reason = format!("{name}: the importer failed on this file");
                state.fail(id, Stage::Processing, &reason)?;
                Ok(HotOutcome::Failed(reason))
            }
        }
    }

    /// Acts on [`outcome_of_failure`]: a refused file goes to `failed/` with its reason.
    fn after_failure(&self, id: &HotFileId, e: &DriverError) -> Result<HotOutcome, ApplianceError> {
        let outcome = outcome_of_failure(e);
        if let HotOutcome::Failed(reason) = &outcome {
            self.hot_state().fail(id, Stage::Processing, reason)?;
        }
        Ok(outcome)
    }

    /// Captures a waiting file in the name of `actor`, the operator who confirmed it (it is then read and
    /// archived from the reading queue), with the metadata its name gives as corrected. Wrong
    /// corrections are refused and the file keeps waiting; a file that cannot be captured goes to
    /// `failed/` with the reason. Audited.
    pub fn confirm_hot_file(&self, request: HotConfirm, actor: &str) -> Result<HotConfirmed, ApplianceError> {
        let _decision = self.hot_files().decisions.lock().unwrap_or_else(|p| p.into_inner());
        let state = self.hot_state();
        let id = request.id;
        let bytes = self.read_hot_file(Stage::Pending, &id).map_err(|e| {
            if e.is_not_found() {
                ApplianceError::NotFound(format!("no hot-folder file {id} waits for confirmation"))
            } else {
                e.into()
            }
        })?;
        let file_name = state.name(&id);
        let mut fields = fields_from_name(&file_name, self.hot_folder_config());
        let HotCorrections { owner, doc_type, name } = request.corrections;
        fields.owner = owner.or(fields.owner);
        fields.doc_type = doc_type.unwrap_or(fields.doc_type);
        fields.name = name.unwrap_or(fields.name);
        let metadata = fields.draft(actor.to_owned())?;
        // Checked here, so that only a fault of the file itself, not of the operator's corrections,
        // sends it to the failures below.
        domain::DocumentMetadata::new(metadata.clone())?;
        let source = format!("file:{id}");
        if let Some(code) = self.archive().find_by_source(&source)? {
            state.move_to(&id, Stage::Pending, Stage::Done)?;
            return Err(ApplianceError::Input(format!("{file_name}: its content was already archived as {code}")));
        }
        let request = IngestRequest {
            metadata,
            pages: vec![(PathBuf::from(&file_name), bytes)],
            actor: actor.to_owned(),
            source: Some(source),
        };
        match self.capture(request) {
            Ok(document) => {
                state.move_to(&id, Stage::Pending, Stage::Done)?;
                self.audit(
                    actor,
                    AuditAction::HotfolderConfirm,
                    &document.code,
                    &format!("hot-folder file {file_name:?} (blake3 {id})"),
                )?;
                Ok(HotConfirmed { id: id.to_string(), file_name, document })
            }
            Err(e @ (ApplianceError::Input(_) | ApplianceError::NotFound(_))) => {
                let reason = e.to_string();
                state.fail(&id, Stage::Pending, &reason)?;
                self.audit(
                    actor,
                    AuditAction::HotfolderRefused,
                    id.as_str(),
                    &format!("hot-folder file {file_name:?}: {reason}"),
                )?;
                Err(ApplianceError::Input(format!("{reason} (the file was moved to the hot folder's failures)")))
            }
            Err(e) => Err(e),
        }
    }

    /// Refuses a waiting file for `reason`, in the name of `actor`: it goes to `failed/` with the
    /// reason and who gave it, and is never archived. Audited.
    pub fn reject_hot_file(&self, request: HotReject, actor: &str) -> Result<HotRejected, ApplianceError> {
        let reason = request.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REJECT_REASON {
            return Err(ApplianceError::Input(format!(
                "a rejection needs a reason of 1 to {MAX_REJECT_REASON} characters"
            )));
        }
        let _decision = self.hot_files().decisions.lock().unwrap_or_else(|p| p.into_inner());
        let state = self.hot_state();
        let id = request.id;
        let file_name = state.name(&id);
        let recorded = format!("rejected by {actor}: {reason}");
        state.fail(&id, Stage::Pending, &recorded).map_err(|e| {
            if e.is_not_found() {
                ApplianceError::NotFound(format!("no hot-folder file {id} waits for confirmation"))
            } else {
                e.into()
            }
        })?;
        self.audit(
            actor,
            AuditAction::HotfolderReject,
            id.as_str(),
            &format!("hot-folder file {file_name:?}: {reason}"),
        )?;
        Ok(HotRejected { id: id.to_string(), file_name, reason: recorded })
    }

    /// Removes from `done/` what was archived more than `[hot_folder] keep_done_days` ago; returns
    /// how many files.
    pub fn purge_hot_folder(&self) -> Result<usize, ApplianceError> {
        let keep = Duration::from_secs(u64::from(self.hot_folder_config().keep_done_days) * 86_400);
        Ok(self.hot_state().purge_done(keep)?)
    }
}

/// When a file that could not be checked is tried again.
struct Retry {
    failures: u32,
    due: Instant,
}

impl Retry {
    fn now() -> Self {
        Retry { failures: 0, due: Instant::now() }
    }

    /// The delay after `failures` failures: it doubles from [`RETRY_FIRST`] up to [`RETRY_CAP`], so
    /// that a fault that lasts costs a few tries an hour, not one every poll.
    fn delay(failures: u32) -> Duration {
        RETRY_FIRST.saturating_mul(1 << failures.saturating_sub(1).min(16)).min(RETRY_CAP)
    }

    /// The next try after one more failure.
    fn after_failure(&self) -> Self {
        let failures = self.failures + 1;
        Retry { failures, due: Instant::now() + Self::delay(failures) }
    }
}

/// Watches the configured share on a thread of its own while serving; returns the share's path.
pub fn spawn_hot_folder(appliance: Arc<Appliance>) -> anyhow::Result<Option<PathBuf>> {
    let config = appliance.hot_folder_config().clone();
    if !config.enabled {
        return Ok(None);
    }
    let share = config.path.clone().unwrap_or_else(|| appliance.data_dir().join("inbox"));
    let state = state_dir(appliance.data_dir());
    let mut folder = HotFolder::open(
        &share,
        Duration::from_secs_f64(config.settle_seconds.max(0.0)),
        appliance.importer().limits().max_file_bytes,
    )?;
    let (share_real, state_real) = (
        share.canonicalize().with_context(|| share.display().to_string())?,
        state.canonicalize().with_context(|| state.display().to_string())?,
    );
    if share_real.starts_with(&state_real) || state_real.starts_with(&share_real) {
        bail!(
            "[hot_folder] path {} overlaps the appliance's own hot-folder state {}: the share's writers must not reach it; choose a folder outside it",
            share.display(),
            state.display()
        );
    }
    let interval = Duration::from_millis(config.poll_milliseconds.max(50));
    std::thread::Builder::new().name("hot folder".into()).spawn(move || {
        // Files taken before a restart come first, in the order they were taken.
        let mut queue: BTreeMap<HotFileId, Retry> = appliance.hot_state().recover().unwrap_or_else(|e| {
            tracing::error!("hot folder: {e}");
            Vec::new()
        }).into_iter().map(|id| (id, Retry::now())).collect();
        let mut last_purge: Option<Instant> = None;
        loop {
            // The share first: what a crash left claimed in it is taken before the checks of what
            // was taken earlier, so that nothing of it stays in the share meanwhile.
            match folder.poll(appliance.hot_state()) {
                Ok(polled) => {
                    for (name, reason) in polled.refused {
                        tracing::warn!(file = %name, %reason, "hot folder: not taken");
                    }
                    queue.extend(polled.taken.into_iter().map(|id| (id, Retry::now())));
                }
                Err(e) => tracing::error!("hot folder: {e}"),
            }
            let due: Vec<HotFileId> = queue.iter().filter(|(_, r)| r.due <= Instant::now()).map(|(id, _)| id.clone()).collect();
            for id in due {
                let name = appliance.hot_state().name(&id);
                let outcome = appliance.check_hot_file(&id).unwrap_or_else(|e| HotOutcome::Retry(e.to_string()));
                match outcome {
                    HotOutcome::Pending => tracing::info!(file = %name, %id, "hot folder: captured, waiting for an operator to confirm it"),
                    HotOutcome::Archived(code) => tracing::info!(file = %name, %code, "hot folder: already archived"),
                    HotOutcome::Failed(reason) => tracing::warn!(file = %name, %reason, "hot folder: refused"),
                    HotOutcome::Gone => {}
                    HotOutcome::Retry(reason) => {
                        let next = queue[&id].after_failure();
                        tracing::warn!(file = %name, %reason, failures = next.failures, "hot folder: will try again later");
                        queue.insert(id, next);
                        continue;
                    }
                }
                queue.remove(&id);
            }
            if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                match appliance.purge_hot_folder() {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "hot folder: purged archived files past their keeping time"),
                    Err(e) => tracing::error!("hot folder: purging done/: {e}"),
                }
                last_purge = Some(Instant::now());
            }
            std::thread::sleep(interval);
        }
    })?;
    Ok(Some(share))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hole08_retries_back_off_exponentially_up_to_a_cap() {
        let delays: Vec<u64> = (1..=14).map(|failures| Retry::delay(failures).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600, 600]);
        assert_eq!(Retry::delay(u32::MAX), RETRY_CAP);
    }

    #[test]
    fn a_passing_fault_is_tried_again_and_a_damaged_file_is_refused() {
        let unreadable = DriverError::HotFolder {
            path: "processing/x".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert!(matches!(outcome_of_failure(&unreadable), HotOutcome::Retry(_)));
        let disk = DriverError::Read { path: "x".into(), source: std::io::Error::from_raw_os_error(libc::EIO) };
        assert!(matches!(outcome_of_failure(&disk), HotOutcome::Retry(_)));
        let damaged = DriverError::Corrupt { path: "x.png".into(), format: "PNG", reason: "truncated".into() };
        assert!(matches!(outcome_of_failure(&damaged), HotOutcome::Failed(_)));
        let link = DriverError::HotFolder {
            path: "processing/x".into(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "a symbolic link"),
        };
        assert!(matches!(outcome_of_failure(&link), HotOutcome::Failed(_)));
    }

    #[test]
    fn a_damaged_file_fails_once_and_is_not_tried_again() {
        let dir = tempfile::tempdir().unwrap();
        let appliance = Appliance::open(dir.path()).unwrap();
        let id = appliance.hot_state().take(b"\x89PNG\r\n\x1a\n truncated", "broken.png").unwrap();
        assert!(matches!(appliance.check_hot_file(&id).unwrap(), HotOutcome::Failed(_)));
        assert!(matches!(appliance.check_hot_file(&id).unwrap(), HotOutcome::Gone));
        let listing = appliance.hot_folder_files().unwrap();
        assert_eq!(listing.failed.len(), 1);
    }

    #[test]
    fn a_file_name_gives_owner_type_and_name() {
        let config = HotFolderConfig::default();
        let named = fields_from_name("001099012345_GKS_Giấy_khai sinh.pdf", &config);
        assert_eq!(
            (named.owner.as_deref(), named.doc_type.as_str(), named.name.as_str()),
            (Some("001099012345"), "GKS", "Giấy khai sinh")
        );
        let plain = fields_from_name("scan 0001.pdf", &config);
        assert_eq!((plain.owner, plain.doc_type.as_str(), plain.name.as_str()), (None, "KHAC", "scan 0001"));
    }
}
