//! Per-page progress of HTTP ingests, for the operator's screen: the client names its upload
//! (`POST /api/documents?job=ID`) and polls `GET /api/documents/progress/{ID}` while the upload is
//! processed. Job names are each user's own (two users may both call a job `scan-1`), and only that
//! user sees the job. Kept in memory and bounded per user, the oldest finished jobs forgotten first;
//! a job whose client went away before the end is forgotten at once, so abandoned uploads never
//! fill the table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::extract::{Path, State};
use capture::{PageProgress, PageStage};

use super::{AppError, AppState, AuthUser};

/// Jobs remembered per user at most, running or finished: a counter has a handful in flight, so
/// this is hours of one operator's history.
const MAX_JOBS_PER_USER: usize = 32;

/// A client-chosen job name: 1 to 64 ASCII letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(String);

impl JobId {
    /// Checks a job name.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let ok =
            (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(JobId(raw.to_owned()))
        } else {
            Err(AppError::BadRequest(format!("invalid job name {raw:?}: 1 to 64 letters, digits, '-' or '_'")))
        }
    }
}

/// A job as the table knows it: its user and the name the user gave it.
type JobKey = (String, JobId);

/// What is known of one job.
struct Job {
    /// Stage of each page, index = page number - 1.
    pages: Vec<PageStage>,
    finished: Option<Result<String, String>>,
    /// Order of registration, to forget the oldest first, and to tell this job from a later one of
    /// the same name.
    serial: u64,
}

/// The progress of every remembered job.
#[derive(Default)]
pub struct Progress {
    jobs: Mutex<(HashMap<JobKey, Job>, u64)>,
}

impl Progress {
    fn lock(&self) -> MutexGuard<'_, (HashMap<JobKey, Job>, u64)> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a job of `user`. Refused while the user runs a job of the same name, and while
    /// the user's table is full of running jobs; other users are not affected.
    pub fn start(self: &Arc<Self>, id: &JobId, user: &str) -> Result<JobHandle, AppError> {
        let mut guard = self.lock();
        let (jobs, serial) = &mut *guard;
        let key = (user.to_owned(), id.clone());
        if jobs.get(&key).is_some_and(|j| j.finished.is_none()) {
            return Err(AppError::BadRequest(format!("job {:?} is still running", id.0)));
        }
        jobs.remove(&key);
        let mine = jobs.iter().filter(|((u, _), _)| u == user);
        if mine.clone().count() >= MAX_JOBS_PER_USER {
            let oldest =
                mine.filter(|(_, j)| j.finished.is_some()).min_by_key(|(_, j)| j.serial).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    jobs.remove(&k);
                }
                None => {
                    return Err(AppError::Unavailable(format!(
                        "{user} has {MAX_JOBS_PER_USER} ingests in progress; wait for one to finish"
                    )));
                }
            }
        }
        *serial += 1;
        jobs.insert(key.clone(), Job { pages: Vec::new(), finished: None, serial: *serial });
        Ok(JobHandle { updates: JobUpdates { progress: self.clone(), key, serial: *serial }, finished: false })
    }

    /// The job, if it is still the one registered as `serial`.
    fn with_job(&self, key: &JobKey, serial: u64, change: impl FnOnce(&mut Job)) {
        if let Some(job) = self.lock().0.get_mut(key).filter(|j| j.serial == serial) {
            change(job);
        }
    }
}

/// Records the pages' stages of one job; cheap to clone into the ingest's worker.
#[derive(Clone)]
pub struct JobUpdates {
    progress: Arc<Progress>,
    key: JobKey,
    serial: u64,
}

impl JobUpdates {
    /// Records a page's new stage.
    pub fn update(&self, event: &PageProgress) {
        self.progress.with_job(&self.key, self.serial, |job| {
            let index = event.page as usize - 1;
            if job.pages.len() <= index {
                job.pages.resize(index + 1, PageStage::Queued);
            }
            job.pages[index] = event.stage.clone();
        });
    }
}

/// A registered job, held by the request that runs it. [`finish`](Self::finish) records the
/// outcome; dropped unfinished (the client went away and its request was dropped), it forgets
/// the job, whose ingest may still complete but which nobody is there to follow.
pub struct JobHandle {
    updates: JobUpdates,
    finished: bool,
}

impl JobHandle {
    /// What the ingest's worker records stages through.
    pub fn updates(&self) -> JobUpdates {
        self.updates.clone()
    }

    /// Records the end of the job: the document code, or what went wrong.
    pub fn finish(mut self, outcome: Result<String, String>) {
        self.finished = true;
        self.updates.progress.with_job(&self.updates.key, self.updates.serial, |job| job.finished = Some(outcome));
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        if !self.finished {
            let JobUpdates { progress, key, serial } = &self.updates;
            let mut guard = progress.lock();
            if guard.0.get(key).is_some_and(|j| j.serial == *serial) {
                guard.0.remove(key);
            }
        }
    }
}

/// One page of an ingest as it goes.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PageStageView {
    /// Page number from 1.
    page: usize,
    /// `queued`, `preprocessing`, `ocr`, `flagged` or `done`.
    stage: &'static str,
    /// Why the page was flagged for review, empty if not.
    flags: Vec<String>,
}

/// An ingest's pages and, once finished, its outcome.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct JobView {
    /// The job's name.
    job: String,
    /// Each page's stage.
    pages: Vec<PageStageView>,
    /// Whether the ingest has ended.
    finished: bool,
    /// The document's code, once archived.
    code: Option<String>,
    /// Why it failed, if it did.
    error: Option<String>,
}

fn stage_view(page: usize, stage: &PageStage) -> PageStageView {
    let flags = match stage {
        PageStage::Flagged(flags) => flags.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    };
    PageStageView { page: page + 1, stage: stage.name(), flags }
}

/// `GET /api/documents/progress/{job}`: each page's stage, and the outcome once finished. A user
/// sees only the jobs they started.
#[utoipa::path(get, path = "/api/documents/progress/{job}", tag = "capture", params(("job" = String, Path, description = "The name given at ingest")), responses((status = 200, body = JobView)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<JobView>, AppError> {
    user.require(crate::appliance::INGEST)?;
    let key = (user.name.clone(), JobId::parse(&raw)?);
    let guard = state.progress.lock();
    let job = guard.0.get(&key).ok_or_else(|| AppError::NotFound(format!("no ingest job {raw:?} of yours")))?;
    let (finished, code, error) = match &job.finished {
        None => (false, None, None),
        Some(Ok(code)) => (true, Some(code.clone()), None),
        Some(Err(e)) => (true, None, Some(e.clone())),
    };
    Ok(Json(JobView {
        pages: job.pages.iter().enumerate().map(|(i, s)| stage_view(i, s)).collect(),
        job: raw,
        finished,
        code,
        error,
    }))
}

/// The progress routes.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/api/documents/progress/{job}", axum::routing::get(show))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_are_checked() {
        assert!(JobId::parse("scan-2024_001").is_ok());
        for bad in ["", "a b", "../x", &"x".repeat(65), "đ"] {
            assert!(JobId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_running_job_name_is_refused_and_a_finished_one_reused() {
        let p = Arc::new(Progress::default());
        let id = JobId::parse("j1").unwrap();
        let job = p.start(&id, "op").unwrap();
        assert!(p.start(&id, "op").is_err());
        job.updates().update(&PageProgress { page: 2, stage: PageStage::Ocr });
        assert_eq!(p.lock().0[&("op".to_owned(), id.clone())].pages, vec![PageStage::Queued, PageStage::Ocr]);
        job.finish(Ok("X".into()));
        p.start(&id, "op").unwrap().finish(Ok("Y".into()));
    }

    #[test]
    fn hole09_job_names_are_per_user_and_an_abandoned_job_is_forgotten() {
        let p = Arc::new(Progress::default());
        let id = JobId::parse("scan-1").unwrap();
        let mine = p.start(&id, "op1").unwrap();
        let theirs = p.start(&id, "op2").unwrap();
        theirs.updates().update(&PageProgress { page: 1, stage: PageStage::Done });
        assert!(p.lock().0[&("op1".to_owned(), id.clone())].pages.is_empty(), "one user's job is not another's");
        // The client of the first went away: its request, and the handle, were dropped. A late
        // update from its worker changes nothing, not even a new job of the same name.
        let late = mine.updates();
        drop(mine);
        assert!(!p.lock().0.contains_key(&("op1".to_owned(), id.clone())));
        let again = p.start(&id, "op1").unwrap();
        late.update(&PageProgress { page: 3, stage: PageStage::Ocr });
        assert!(p.lock().0[&("op1".to_owned(), id.clone())].pages.is_empty());
        drop((again, theirs));
        // Abandoned jobs never fill the table: far more than it holds come and go.
        for n in 0..5 * MAX_JOBS_PER_USER {
            drop(p.start(&JobId::parse(&format!("j{n}")).unwrap(), "op1").unwrap());
        }
        assert!(p.lock().0.is_empty());
        // Running jobs are bounded per user; another user still starts one.
        let running: Vec<_> =
            (0..MAX_JOBS_PER_USER).map(|n| p.start(&JobId::parse(&format!("r{n}")).unwrap(), "op1").unwrap()).collect();
        assert!(matches!(p.start(&id, "op1"), Err(AppError::Unavailable(_))));
        p.start(&id, "op2").unwrap().finish(Ok("Z".into()));
        drop(running);
    }
}
