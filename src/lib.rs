//! The `sohoa` appliance: wiring, configuration, the command line and the HTTP server. Library
//! crates own the work (capture, signing, storage, search); this crate opens them on a data directory
//! ([`Appliance`]), runs each operation through them the same way for the CLI and for HTTP, and is the
//! only place that knows HTTP, JSON, users and roles.
//!
//! Main types: [`Appliance`] (the operations: ingest, search, get, text, verify, backup, restore,
//! BagIt export and import), [`seals::SealKeys`] (the seal keys as the archive's sealer), [`IngestRequest`],
//! [`VerifyReport`], [`server::app`] (the axum router used by `serve` and by tests), [`cli::Cli`].

pub mod appliance;
pub mod archive_cli;
mod bag;
pub mod cli;
pub mod cli_login;
pub mod cli_output;
pub mod config;
pub mod error;
mod foreign_record;
pub mod hotfolder;
pub mod input;
pub mod jobs;
pub mod metrics;
pub mod offload;
pub mod ops;
mod originals;
mod progress_bar;
pub mod province;
pub mod queue;
pub mod reuse;
pub mod scan;
pub mod seals;
pub mod server;
pub mod signing;
mod tar;
pub mod users;
pub mod verify;

pub use appliance::{Appliance, IngestReport, IngestRequest, PageRead, PagesRead, SearchState};
pub use error::ApplianceError;
pub use verify::{Check, VerifyReport};
