//! Per-page progress of HTTP ingests, for the operator's screen: the client names its upload
//! (`POST /api/documents?job=ID`) and polls `GET /api/documents/progress/{ID}` while the upload is
//! processed. Kept in memory and bounded: the oldest finished jobs are forgotten first.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Json;
use axum::extract::{Path, State};
use capture::{PageProgress, PageStage};

use super::{AppError, AppState, AuthUser};
use crate::users::Role;

/// Jobs remembered at most; a counter has a handful in flight, so this is hours of history.
const MAX_JOBS: usize = 1024;

/// A client-chosen job name: 1 to 64 ASCII letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(String);

impl JobId {
    /// Checks a job name.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let ok = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(JobId(raw.to_owned()))
        } else {
            Err(AppError::BadRequest(format!("invalid job name {raw:?}: 1 to 64 letters, digits, '-' or '_'")))
        }
    }
}

/// What is known of one job.
struct Job {
    user: String,
    /// Stage of each page, index = page number - 1.
    pages: Vec<PageStage>,
    finished: Option<Result<String, String>>,
    /// Order of registration, to forget the oldest first.
    serial: u64,
}

/// The progress of every remembered job.
#[derive(Default)]
pub struct Progress {
    jobs: Mutex<(HashMap<JobId, Job>, u64)>,
}

impl Progress {
    /// Registers a job for `user`; a name still in use by an unfinished job is refused.
    pub fn start(&self, id: &JobId, user: &str) -> Result<(), AppError> {
        let mut guard = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let (jobs, serial) = &mut *guard;
        if jobs.get(id).is_some_and(|j| j.finished.is_none()) {
            return Err(AppError::BadRequest(format!("job {:?} is still running", id.0)));
        }
        if jobs.len() >= MAX_JOBS {
            let oldest = jobs.iter().filter(|(_, j)| j.finished.is_some()).min_by_key(|(_, j)| j.serial).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    jobs.remove(&k);
                }
                None => return Err(AppError::Unavailable("too many ingests in progress".into())),
            }
        }
        *serial += 1;
        jobs.insert(id.clone(), Job { user: user.to_owned(), pages: Vec::new(), finished: None, serial: *serial });
        Ok(())
    }

    /// Records a page's new stage.
    pub fn update(&self, id: &JobId, event: &PageProgress) {
        let mut guard = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(job) = guard.0.get_mut(id) {
            let index = event.page as usize - 1;
            if job.pages.len() <= index {
                job.pages.resize(index + 1, PageStage::Queued);
            }
            job.pages[index] = event.stage.clone();
        }
    }

    /// Records the end of a job: the document code, or what went wrong.
    pub fn finish(&self, id: &JobId, outcome: Result<String, String>) {
        let mut guard = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(job) = guard.0.get_mut(id) {
            job.finished = Some(outcome);
        }
    }
}

fn stage_json(page: usize, stage: &PageStage) -> serde_json::Value {
    let (name, flags) = match stage {
        PageStage::Queued => ("queued", Vec::new()),
        PageStage::Preprocessing => ("preprocessing", Vec::new()),
        PageStage::Ocr => ("ocr", Vec::new()),
        PageStage::Flagged(flags) => ("flagged", flags.iter().map(ToString::to_string).collect()),
        PageStage::Done => ("done", Vec::new()),
    };
    serde_json::json!({ "page": page + 1, "stage": name, "flags": flags })
}

/// `GET /api/documents/progress/{job}`: each page's stage, and the outcome once finished. Only the
/// user who started the job, or an admin, may see it.
async fn show(State(state): State<AppState>, user: AuthUser, Path(raw): Path<String>) -> Result<Json<serde_json::Value>, AppError> {
    user.require(&[Role::Operator, Role::Admin], "follow ingests")?;
    let id = JobId::parse(&raw)?;
    let guard = state.progress.jobs.lock().unwrap_or_else(|p| p.into_inner());
    let job = guard.0.get(&id).filter(|j| j.user == user.name || user.role == Role::Admin);
    let job = job.ok_or_else(|| AppError::NotFound(format!("no ingest job {raw:?} of yours")))?;
    let (finished, code, error) = match &job.finished {
        None => (false, None, None),
        Some(Ok(code)) => (true, Some(code.clone()), None),
        Some(Err(e)) => (true, None, Some(e.clone())),
    };
    Ok(Json(serde_json::json!({
        "job": raw,
        "pages": job.pages.iter().enumerate().map(|(i, s)| stage_json(i, s)).collect::<Vec<_>>(),
        "finished": finished,
        "code": code,
        "error": error,
    })))
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
        let p = Progress::default();
        let id = JobId::parse("j1").unwrap();
        p.start(&id, "op").unwrap();
        assert!(p.start(&id, "op").is_err());
        p.update(&id, &PageProgress { page: 2, stage: PageStage::Ocr });
        assert_eq!(p.jobs.lock().unwrap().0[&id].pages, vec![PageStage::Queued, PageStage::Ocr]);
        p.finish(&id, Ok("X".into()));
        p.start(&id, "op").unwrap();
    }
}
