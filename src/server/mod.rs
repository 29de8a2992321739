//! The HTTP surface: the API under `/api/` (every route authenticated and authorised by role), the
//! browser's login and logout forms (`/login`, `/logout`), `/metrics`, and the public verification page
//! `/verify`. Each feature module exposes `router()` (given the `[http]` limits where it takes uploads);
//! [`app`] joins them and is used by `serve` and by the tests alike. Appliance operations block
//! (RocksDB, OCR), so handlers run them on the blocking pool.
mod accounts;
mod admin;
mod archive;
mod auth;
mod client_ip;
mod connections;
mod dashboard;
mod documents;
mod dossiers;
mod error;
mod extract;
mod headers;
mod hotfolder;
mod limits;
mod metrics;
mod openapi;
mod progress;
mod province;
mod public;
mod queue;
mod replication;
mod reuse;
mod search;
mod session;
pub mod throttle;
mod tls;
pub mod ui;
mod verify;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::users::{self, Role};
use crate::{Appliance, ApplianceError};
pub use auth::AuthUser;
pub use connections::{MAX_CONNECTIONS, MAX_PER_ADDRESS as MAX_CONNECTIONS_PER_ADDRESS};
pub use error::AppError;
pub use openapi::ApiDoc;
pub use public::PublicGate;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The appliance.
    pub appliance: Arc<Appliance>,
    /// Per-page progress of ingests, for the operator's screen.
    pub progress: Arc<progress::Progress>,
    /// Failed logins: back-off and their aggregate for the audit trail.
    pub login_throttle: Arc<throttle::LoginThrottle>,
    /// The public verification page's rate limit and counts.
    pub public: Arc<PublicGate>,
    /// Uploads of logged-in users received at once (ingest, verification).
    uploads: Arc<limits::UploadSlots>,
    /// The scanning station's batches: pages staged by each operator until sealed.
    station: Arc<ui::Batches>,
    /// Anonymous uploads to the public page received at once, bounded apart so that anonymous
    /// clients can never take the slots that operators' ingests need.
    public_uploads: Arc<limits::UploadSlots>,
    /// The fixity run started from the auditor's view: the one going, or the last one.
    fixity: Arc<ui::FixityRun>,
}

impl AppState {
    /// State over an opened appliance, with the limits of its `[http]` configuration.
    pub fn new(appliance: Appliance) -> Self {
        // The dummy hash that unknown names are checked against is made now, so that the first login
        // of an unknown name does not take a second hash's time and stand out.
        users::dummy_hash();
        let http = appliance.http_config();
        let public = Arc::new(PublicGate::new(http));
        let uploads = Arc::new(limits::UploadSlots::new(http.max_concurrent_uploads));
        let public_uploads = Arc::new(limits::UploadSlots::new(http.max_concurrent_uploads));
        let login_throttle = Arc::default();
        AppState {
            appliance: Arc::new(appliance),
            progress: Arc::default(),
            station: Arc::default(),
            public,
            uploads,
            public_uploads,
            login_throttle,
            fixity: Arc::default(),
        }
    }

    /// Writes the failed logins gathered since the last call to the audit trail: one entry per account
    /// name, and one for every name that is no account. Blocks on the archive's writer.
    pub fn audit_failed_logins(&self) -> Result<(), ApplianceError> {
        for f in self.login_throttle.take_failures() {
            self.appliance.record_failed_logins(f.user.as_deref(), &f.detail())?;
        }
        Ok(())
    }
}

/// How often failed logins are written to the audit trail while serving.
const FAILED_LOGINS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs an appliance operation on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    op: impl FnOnce(&Appliance) -> Result<T, ApplianceError> + Send + 'static,
) -> Result<T, AppError> {
    let appliance = state.appliance.clone();
    tokio::task::spawn_blocking(move || op(&appliance))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("worker task failed: {e}")))?
        .map_err(AppError::from)
}

/// The appliance answers, and who is asking.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    status: &'static str,
    /// The logged-in user.
    user: String,
    /// The user's role.
    role: Role,
}

/// `GET /api/health`.
#[utoipa::path(get, path = "/api/health", tag = "accounts", responses((status = 200, body = Health)))]
pub(crate) async fn health(user: AuthUser) -> Result<axum::Json<Health>, AppError> {
    user.require_person()?;
    Ok(axum::Json(Health { status: "ok", user: user.name, role: user.role }))
}

/// The whole HTTP application. Request bodies are limited per route: uploads by `[http]`, every
/// other body to a few KiB.
pub fn app(state: AppState) -> Router {
    let http = state.appliance.http_config().clone();
    Router::new()
        .route("/api/health", get(health))
        .merge(archive::router())
        .merge(auth::router())
        .merge(documents::router(&http))
        .merge(hotfolder::router())
        .merge(dossiers::router())
        .merge(progress::router())
        .merge(province::router())
        .merge(reuse::router())
        .merge(search::router())
        .merge(accounts::router())
        .merge(admin::router())
        .merge(dashboard::router())
        .merge(queue::router())
        .merge(replication::router())
        .merge(openapi::router())
        .merge(metrics::router())
        .merge(verify::router(&http))
        .merge(ui::router(&http))
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::resolve))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::time_requests))
        .with_state(state)
        .layer(axum::middleware::map_response(headers::secure))
        .layer(DefaultBodyLimit::max(limits::SMALL_BODY_BYTES as usize))
        .layer(axum::middleware::from_fn(limits::refuse_large_small_bodies))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// The server log's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object a line, with the event's fields, for a log collector.
    Json,
}

/// Sets up `tracing` output for the server on standard error: `RUST_LOG` or `info`, in `format`.
pub fn init_tracing(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(false).flatten_event(true).init(),
    }
}

/// On first start there is no user to log in with: the appliance makes `admin` with a random password
/// in a file readable by its owner only (see [`Appliance::bootstrap_admin`]).
pub fn bootstrap_admin(appliance: &Appliance) -> Result<(), ApplianceError> {
    if appliance.bootstrap_admin()? {
        let path = appliance.initial_admin_password();
        tracing::info!(path = %path.display(), "first start: created user admin; its password is in this file");
    }
    Ok(())
}

/// Serves the appliance on `listen` until Ctrl-C or SIGTERM: HTTPS unless `[tls]` and the address
/// allow plain HTTP (see [`tls`]), over [`connections`]. On the signal it stops taking connections and
/// gives the requests in flight `[http] shutdown_grace_seconds` to finish; an ingest still running then
/// is abandoned whole: it is refused before its commit ([`Appliance::stop_ingests`]), and the archive
/// commits a document in one batch.
pub fn serve(appliance: Appliance, listen: SocketAddr) -> Result<(), ApplianceError> {
    bootstrap_admin(&appliance)?;
    let first_password = appliance.initial_admin_password();
    if first_password.exists() {
        println!(
            "the first admin password is in {}: log in as admin and replace it on the account page (/account, or POST /api/account/password); the file then goes",
            first_password.display()
        );
    }
    limits::clear_spool(appliance.data_dir())
        .with_context(|| format!("cannot clear the upload directory under {}", appliance.data_dir().display()))?;
    let transport = tls::Transport::choose(
        appliance.tls_config(),
        listen,
        appliance.data_dir(),
        &appliance.signing().agency().name,
    )?;
    let grace = std::time::Duration::from_secs(appliance.http_config().shutdown_grace_seconds);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let local = listener.local_addr().context("the listening address")?;
        let state = AppState::new(appliance);
        crate::jobs::spawn(state.appliance.clone());
        crate::province::task::spawn(state.appliance.clone());
        let readers =
            crate::queue::spawn_readers(state.appliance.clone()).context("cannot start the readers of the queue")?;
        let auditor = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(FAILED_LOGINS_INTERVAL);
            loop {
                every.tick().await;
                let state = auditor.clone();
                match tokio::task::spawn_blocking(move || state.audit_failed_logins()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = format!("{e:#}"), "cannot write failed logins to the audit trail"),
                    Err(e) => tracing::error!(error = %e, "the audit of failed logins stopped"),
                }
            }
        });
        let hot_folder = crate::hotfolder::spawn_hot_folder(state.appliance.clone())?;
        let url = format!("{}://{local}", transport.scheme());
        println!("sohoa is serving on {url}/  (API under /api/, public verification at {url}/verify)");
        if let tls::Transport::Tls { certificate, self_made, .. } = &transport {
            let whose = if *self_made { "a certificate it made itself (browsers warn until [tls] names the agency's)" } else { "the certificate" };
            println!("HTTPS with {whose}: {}", certificate.display());
        }
        if state.appliance.signing().agency().public_url.is_none() {
            println!("[agency] public_url is not set: the QR codes of signed copies carry the path /verify?code=…&t=… without a host");
        }
        if let Some(path) = hot_folder {
            println!("hot folder: files dropped into {} wait for an operator's confirmation (name them OWNER_TYPE_name.pdf to set owner and type)", path.display());
        }
        tracing::info!(%local, scheme = transport.scheme(), "serving");
        let counting = tokio::spawn(public::audit_every(state.clone(), public::AUDIT_INTERVAL));
        let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
        let signal = {
            let stopping = stopping.clone();
            async move {
                shutdown().await;
                stopping.notify_one();
            }
        };
        let app = match &transport {
            tls::Transport::Plain => app(state.clone()),
            tls::Transport::Tls { .. } => {
                app(state.clone()).layer(axum::middleware::map_response(headers::strict_transport_security))
            }
        };
        let served = connections::serve(listener, transport, app, signal);
        tokio::select! {
            () = served => {}
            () = async { stopping.notified().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(grace_seconds = grace.as_secs(), "requests still in flight after the grace period are abandoned: an ingest among them is refused before its commit, and its client gets no answer");
            }
        }
        // From here no ingest commits; one committing now is waited for.
        let appliance = state.appliance.clone();
        tokio::task::spawn_blocking(move || {
            appliance.stop_ingests();
            // The readers end after the pages in the OCR engines; what they were reading stays
            // captured for the next start.
            for reader in readers {
                let _ = reader.join();
            }
            // A request that reads its own document, abandoned after the grace period, ends its
            // reading the same way; its pages are out of the engines before the process ends.
            appliance.reading_queue().wait_idle(READINGS_END_WITHIN);
        })
        .await
        .context("stopping ingests")?;
        counting.abort();
        // What was counted since the last interval is written before the server stops.
        public::audit_now(&state).await;
        // Failures since the last interval are not lost with the process.
        tokio::task::spawn_blocking(move || state.audit_failed_logins()).await.context("the audit of failed logins stopped")??;
        tracing::info!("stopped");
        Ok::<(), anyhow::Error>(())
    });
    // Blocking work still running (an ingest abandoned after the grace period) is not waited for.
    runtime.shutdown_background();
    Ok(served?)
}

/// How long a stopping server waits for the readings in progress to end (each ends after the pages
/// already in the OCR engines, a few seconds).
const READINGS_END_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
