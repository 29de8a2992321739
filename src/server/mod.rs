//! The HTTP surface: the API under `/api/` (every route authenticated and authorised by role) and the
//! public verification page `/verify`. Each feature module exposes `router()` (given the `[http]`
//! limits where it takes uploads); [`app`] joins them and is used by `serve` and by the tests alike.
//! Appliance operations block (RocksDB, OCR), so handlers run them on the blocking pool.

mod archive;
mod auth;
mod documents;
mod error;
mod limits;
mod progress;
mod public;
mod reuse;
mod search;
mod verify;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::users::{self, Role};
use crate::{Appliance, ApplianceError};
pub use auth::{AuthUser, Sessions};
pub use error::AppError;
pub use public::PublicGate;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The appliance.
    pub appliance: Arc<Appliance>,
    /// Logged-in sessions.
    pub sessions: Arc<Sessions>,
    /// Per-page progress of ingests, for the operator's screen.
    pub progress: Arc<progress::Progress>,
    /// The public verification page's rate limit and counts.
    pub public: Arc<PublicGate>,
    /// Uploads of logged-in users received at once (ingest, verification).
    uploads: Arc<limits::UploadSlots>,
    /// Anonymous uploads to the public page received at once, bounded apart so that anonymous
    /// clients can never take the slots that operators' ingests need.
    public_uploads: Arc<limits::UploadSlots>,
}

impl AppState {
    /// State over an opened appliance, with no sessions yet and the limits of its `[http]`
    /// configuration.
    pub fn new(appliance: Appliance) -> Self {
        let http = appliance.http_config();
        let public = Arc::new(PublicGate::new(http));
        let uploads = Arc::new(limits::UploadSlots::new(http.max_concurrent_uploads));
        let public_uploads = Arc::new(limits::UploadSlots::new(http.max_concurrent_uploads));
        AppState { appliance: Arc::new(appliance), sessions: Arc::new(Sessions::default()), progress: Arc::default(), public, uploads, public_uploads }
    }
}

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

async fn health(user: AuthUser) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "user": user.name, "role": user.role }))
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
        .merge(progress::router())
        .merge(reuse::router())
        .merge(search::router())
        .merge(verify::router(&http))
        .with_state(state)
        .layer(DefaultBodyLimit::max(limits::SMALL_BODY_BYTES as usize))
        .layer(axum::middleware::from_fn(limits::refuse_large_small_bodies))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Sets up `tracing` output for the server: `RUST_LOG` or `info`.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=info".into());
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

/// On first start there is no user to log in with: create `admin` with a random password and write
/// it, readable by the owner only, to `<data>/initial-admin-password`. The password is never logged.
fn bootstrap_admin(appliance: &Appliance) -> Result<(), ApplianceError> {
    if appliance.archive().has_users()? {
        return Ok(());
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let password = users::random_password()?;
    let path = appliance.data_dir().join("initial-admin-password");
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{password}"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    users::set_user(appliance.archive(), "admin", Role::Admin, &password)?;
    appliance.archive().audit("system", "user-set", "admin", "first start: initial admin created")?;
    tracing::info!(path = %path.display(), "first start: created user admin; its password is in this file");
    Ok(())
}

/// Serves the appliance on `listen` until Ctrl-C or SIGTERM.
pub fn serve(appliance: Appliance, listen: SocketAddr) -> Result<(), ApplianceError> {
    bootstrap_admin(&appliance)?;
    limits::clear_spool(appliance.data_dir()).with_context(|| format!("cannot clear the upload directory under {}", appliance.data_dir().display()))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let state = AppState::new(appliance);
        crate::jobs::spawn(state.appliance.clone());
        let hot_folder = crate::scan::spawn_hot_folder(state.appliance.clone())?;
        println!("sohoa is serving on http://{listen}/  (API under /api/, public verification at http://{listen}/verify)");
        if state.appliance.signing().agency().public_url.is_none() {
            println!("[agency] public_url is not set: the QR codes of signed copies carry the path /verify?code=…&t=… without a host");
        }
        if let Some(path) = hot_folder {
            println!("hot folder: files dropped into {} are captured (name them OWNER_TYPE_name.pdf to set owner and type)", path.display());
        }
        tracing::info!(%listen, "serving");
        let counting = tokio::spawn(public::audit_every(state.clone(), public::AUDIT_INTERVAL));
        let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, service).with_graceful_shutdown(shutdown()).await.context("server failed")?;
        counting.abort();
        // What was counted since the last interval is written before the server stops.
        public::audit_now(&state).await;
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(())
}

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
