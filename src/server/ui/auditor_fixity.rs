//! A fixity run started from the auditor's view. A full run re-hashes every blob and can take hours
//! on a large archive, so the form does not wait for it: the run goes on in the background, its
//! progress is read by a small status route (`/auditor/fixity/status`, which the view's script polls
//! to move the progress bar) and its report is kept for the view until the next run. One run at a
//! time: starting a second while one is going is refused.

use std::sync::{Mutex, MutexGuard};

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset};
use domain::vietnam_now;
use maud::{Markup, html};
use serde::Serialize;

use super::super::{AppError, AppState};
use super::auditor;
use super::error::WebError;
use super::lang::{self, Lang};
use super::layout;
use super::user::WebUser;
use crate::ops::integrity::{self, Fixity};

/// The appliance's fixity run from the UI: the one going, or the last one.
#[derive(Default)]
pub struct FixityRun {
    state: Mutex<Option<Run>>,
}

/// One run.
#[derive(Clone, Serialize)]
struct Run {
    by: String,
    started: DateTime<FixedOffset>,
    /// Blobs re-hashed, of `total`.
    done: u64,
    total: u64,
    finished: Option<DateTime<FixedOffset>>,
    /// The report, or the error that stopped the run.
    #[serde(skip)]
    outcome: Option<Result<Fixity, String>>,
}

impl FixityRun {
    fn lock(&self) -> MutexGuard<'_, Option<Run>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn snapshot(&self) -> Option<Run> {
        self.lock().clone()
    }
}

/// `POST /auditor/fixity`: starts a run in the background and goes back to the view.
async fn start(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    user.require(integrity::FIXITY)?;
    // The lock is let go before the refusal's page is made, which awaits.
    let going = {
        let mut run = state.fixity.lock();
        match run.as_ref().filter(|r| r.finished.is_none()) {
            Some(going) => Some(AppError::Unavailable(format!(
                "a fixity run started by {} at {} is still going ({} of {} blobs)",
                going.by,
                lang::time(going.started),
                going.done,
                going.total
            ))),
            None => {
                *run = Some(Run {
                    by: user.user.name.clone(),
                    started: vietnam_now(),
                    done: 0,
                    total: 0,
                    finished: None,
                    outcome: None,
                });
                None
            }
        }
    };
    if let Some(error) = going {
        return Ok(auditor::refused(&state, user, error).await);
    }
    let (appliance, runs, actor) = (state.appliance.clone(), state.fixity.clone(), user.user.name.clone());
    tokio::spawn(async move {
        let progress = runs.clone();
        let result = tokio::task::spawn_blocking(move || {
            appliance.fixity(None, &actor, &mut |done, total| {
                if let Some(run) = progress.lock().as_mut() {
                    (run.done, run.total) = (done, total);
                }
            })
        })
        .await;
        let outcome = match result {
            Ok(Ok(fixity)) => Ok(fixity),
            Ok(Err(e)) => Err(AppError::from(e).client_message()),
            Err(e) => Err(format!("the fixity run stopped: {e}")),
        };
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "fixity run from the UI failed");
        }
        if let Some(run) = runs.lock().as_mut() {
            run.finished = Some(vietnam_now());
            run.outcome = Some(outcome);
        }
    });
    Ok(Redirect::to("/auditor#fixity").into_response())
}

/// Where the run stands, for the view's script.
#[derive(Serialize)]
struct Status {
    running: bool,
    done: u64,
    total: u64,
}

/// `GET /auditor/fixity/status`.
async fn status(State(state): State<AppState>, user: WebUser) -> Result<Json<Status>, WebError> {
    user.require(integrity::FIXITY)?;
    let run = state.fixity.snapshot();
    Ok(Json(Status {
        running: run.as_ref().is_some_and(|r| r.finished.is_none()),
        done: run.as_ref().map_or(0, |r| r.done),
        total: run.as_ref().map_or(0, |r| r.total),
    }))
}

/// The fixity part of the view: the run going, or the last report, and the button to start one.
pub fn section(user: &WebUser, runs: &FixityRun) -> Markup {
    let lang = user.lang;
    let run = runs.snapshot();
    let running = run.as_ref().is_some_and(|r| r.finished.is_none());
    html! {
        section.card aria-labelledby="fixity-title" #fixity {
            h2 #fixity-title { (lang.t("Kiểm tra toàn vẹn (fixity)", "Fixity")) }
            p.muted { (lang.t(
                "Tính lại mã băm của mọi tệp, kiểm tra mọi con dấu, nhật ký lưu trữ và chuỗi nhật ký kiểm tra.",
                "Re-hashes every blob and checks every seal, the archive log and the audit chain."
            )) }
            @if user.may(integrity::FIXITY) {
                form method="post" action="/auditor/fixity" {
                    (layout::csrf_field(user))
                    button type="submit" disabled[running] { (lang.t("Chạy kiểm tra toàn vẹn", "Run fixity")) }
                }
            }
            @match &run {
                None => p { (lang.t("Chưa chạy lần nào từ khi máy khởi động.", "Not run since the appliance started.")) },
                Some(run) => {
                    p {
                        (lang.t("Bắt đầu bởi", "Started by")) " " (run.by) " " (lang.t("lúc", "at")) " " (lang::time(run.started))
                        @if let Some(end) = run.finished { "; " (lang.t("kết thúc lúc", "finished at")) " " (lang::time(end)) }
                    }
                    @if run.finished.is_none() {
                        p #fixity-running data-status="/auditor/fixity/status" {
                            label for="fixity-progress" { (lang.t("Tiến độ (tệp đã kiểm tra)", "Progress (blobs checked)")) }
                            progress #fixity-progress max=(run.total.max(1)) value=(run.done) { (run.done) " / " (run.total) }
                            " " span #fixity-count aria-live="polite" { (run.done) " / " (run.total) }
                        }
                    }
                    @match &run.outcome {
                        Some(Ok(fixity)) => (report(lang, fixity)),
                        Some(Err(message)) => div.flash.bad role="alert" {
                            strong { (lang.t("Lần kiểm tra bị dừng do lỗi", "The run stopped on an error")) }
                            p.detail { (message) }
                        },
                        None => {},
                    }
                }
            }
        }
    }
}

/// A run's report: what was checked, and every problem.
fn report(lang: Lang, fixity: &Fixity) -> Markup {
    let r = &fixity.report;
    html! {
        @if fixity.intact {
            p { span.badge.ok #fixity-outcome { (lang.t("Nguyên vẹn: không phát hiện vấn đề", "Intact: nothing found wrong")) } }
        } @else {
            p { span.badge.bad #fixity-outcome { (r.problems.len()) " " (lang.t("vấn đề được phát hiện", "problems found")) } }
        }
        table.fixity-counts {
            caption { (lang.t("Đã kiểm tra", "Checked")) }
            tbody {
                tr { th scope="row" { (lang.t("Hồ sơ tài liệu (kể cả đã hủy)", "Document records (destroyed included)")) } td { (r.documents) } }
                tr { th scope="row" { (lang.t("Tệp (tính lại mã băm)", "Blobs re-hashed")) } td { (r.blobs) } }
                tr { th scope="row" { (lang.t("Dung lượng", "Bytes")) } td { (r.bytes) } }
                tr { th scope="row" { (lang.t("Lá nhật ký lưu trữ", "Archive log leaves")) } td { (r.log_leaves) } }
                tr { th scope="row" { (lang.t("Điểm kiểm tra đã ký", "Signed checkpoints")) } td { (r.checkpoints) } }
                tr { th scope="row" { (lang.t("Mục nhật ký kiểm tra", "Audit entries")) } td { (r.audit_entries) } }
            }
        }
        @if !r.problems.is_empty() {
            table {
                caption { (lang.t("Vấn đề", "Problems")) }
                thead { tr {
                    th scope="col" { (lang.t("Loại", "Kind")) }
                    th scope="col" { (lang.t("Đối tượng", "Object")) }
                    th scope="col" { (lang.t("Chi tiết", "Detail")) }
                } }
                tbody {
                    @for p in &r.problems {
                        tr { td { (format!("{:?}", p.kind)) } td { code.hash { (p.object) } } td { (p.detail) } }
                    }
                }
            }
        }
    }
}

/// The fixity run's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/auditor/fixity", post(start)).route("/auditor/fixity/status", get(status))
}
