//! Scanners and the hot folder, wired to capture. `sohoa scanners` lists what SANE sees, `sohoa
//! scan` turns one feeder batch into one document, and while serving, a thread watches the hot
//! folder and turns each complete file into a document.
//!
//! SANE reads its configuration directory once, when the first scanner call initialises it, from
//! `SANE_CONFIG_DIR`. [`configure_sane`] sets that up under the data directory before anything else
//! runs: the system's backends (`/etc/sane.d`), plus the virtual `test` scanner unless it is turned
//! off, so that a fresh appliance has a scanner to try.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use scanner_driver::{Claimed, DriverError, HotFolder, Sane, ScanSettings, ScannedPage};

use crate::config::{Config, HotFolderConfig, ScannerConfig};
use crate::input::MetadataFields;
use crate::{Appliance, ApplianceError, IngestReport, IngestRequest};

/// The actor of documents made from hot-folder files.
const HOT_FOLDER_ACTOR: &str = "hotfolder";

/// Writes the SANE configuration under `data` and points `SANE_CONFIG_DIR` at it, unless the
/// environment already names one. Must run before any other thread starts (it sets an environment
/// variable) and before SANE is first used.
pub fn configure_sane(data: &Path, config: &ScannerConfig) -> anyhow::Result<()> {
    if std::env::var_os("SANE_CONFIG_DIR").is_some() {
        return Ok(());
    }
    let dir = data.join("sane.d");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The system's list of backends, plus the test backend: SANE takes the first dll.conf it finds,
    // so this one must name everything.
    let mut backends: Vec<String> = std::fs::read_to_string("/etc/sane.d/dll.conf")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && *l != "test")
        .map(str::to_owned)
        .collect();
    if config.test_scanner {
        backends.push("test".into());
        // One virtual scanner whose scan area holds an A4 page.
        std::fs::write(dir.join("test.conf"), "number_of_devices 1\ngeometry_min 0.0\ngeometry_max 300.0\ngeometry_quant 1.0\n")?;
    }
    std::fs::write(dir.join("dll.conf"), backends.join("\n") + "\n")?;
    // The trailing colon keeps SANE's default directories after this one, for the other
    // backends' own configuration files.
    let mut value = dir.canonicalize()?.into_os_string();
    value.push(":");
    // SAFETY: called from `main` before any other thread exists.
    unsafe { std::env::set_var("SANE_CONFIG_DIR", value) };
    Ok(())
}

/// A paper size by name (`a4`, `a5`, `a3`, `letter`, `legal`) or as `WIDTHxHEIGHT` in millimetres.
pub fn page_size(text: &str) -> Result<(f64, f64), String> {
    Ok(match text.to_ascii_lowercase().as_str() {
        "a3" => (297.0, 420.0),
        "a4" => (210.0, 297.0),
        "a5" => (148.0, 210.0),
        "letter" => (215.9, 279.4),
        "legal" => (215.9, 355.6),
        other => {
            let (w, h) = other.split_once('x').ok_or_else(|| format!("unknown page size {text:?}: expected a4, a5, a3, letter, legal or WIDTHxHEIGHT in mm"))?;
            let parse = |v: &str| v.trim().parse::<f64>().ok().filter(|v| *v > 0.0 && *v <= 1000.0);
            match (parse(w), parse(h)) {
                (Some(w), Some(h)) => (w, h),
                _ => return Err(format!("page size {text:?}: width and height must be millimetres between 0 and 1000")),
            }
        }
    })
}

/// Scans one batch from `device` and captures it as one document. Every page is written to a
/// holding folder under the data directory as it arrives, so that a jam or a crash loses no sheet
/// already scanned: on failure the error names that folder, whose files `sohoa ingest` takes.
pub fn scan_document(
    appliance: &Appliance,
    device: &str,
    settings: &ScanSettings,
    metadata: domain::MetadataDraft,
    actor: String,
    on_page: &mut dyn FnMut(&ScannedPage),
) -> Result<IngestReport, ApplianceError> {
    let scanner = Sane::get()?.open(device, &appliance.scanner_config().quirk_rules())?;
    let holding = appliance.data_dir().join("scans").join(domain::vietnam_now().format("%Y%m%d-%H%M%S-%f").to_string());
    std::fs::create_dir_all(&holding).with_context(|| format!("cannot create {}", holding.display()))?;
    let mut pages = Vec::new();
    let mut ended = None;
    for item in scanner.scan(settings)? {
        match item {
            Ok(page) => {
                on_page(&page);
                let path = holding.join(format!("sheet-{:03}-{}.png", page.sheet, if page.side == scanner_driver::Side::Front { "front" } else { "back" }));
                let png = page.to_png();
                std::fs::write(&path, &png).with_context(|| format!("cannot write {}", path.display()))?;
                pages.push((PathBuf::from(page.origin()), png));
            }
            Err(e) => ended = Some(e),
        }
    }
    let kept = |e: DriverError| -> ApplianceError {
        if pages.is_empty() {
            let _ = std::fs::remove_dir_all(&holding);
            e.into()
        } else {
            ApplianceError::Input(format!("{e}; the {} pages scanned before are kept in {}", pages.len(), holding.display()))
        }
    };
    if let Some(e) = ended {
        return Err(kept(e));
    }
    if pages.is_empty() {
        let _ = std::fs::remove_dir_all(&holding);
        return Err(ApplianceError::Input(format!("{device}: the scan delivered no page")));
    }
    let report = appliance.ingest(IngestRequest { metadata, pages, actor, source: None }, &mut |_| {})?;
    // Archived: the holding copies have done their job.
    let _ = std::fs::remove_dir_all(&holding);
    Ok(report)
}

/// The metadata of a hot-folder file: `OWNER_TYPE_name words.ext` gives the owner, the type and the
/// name; any other name gives the configured type and the file name as the document name.
fn hot_folder_metadata(name: &str, config: &HotFolderConfig) -> Result<domain::MetadataDraft, ApplianceError> {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let named = stem.split_once('_').and_then(|(owner, rest)| {
        let (doc_type, title) = rest.split_once('_')?;
        (domain::OwnerId::parse(owner).is_ok() && domain::DocumentTypeCode::parse(doc_type).is_ok()).then(|| (owner, doc_type, title.replace('_', " ")))
    });
    let fields = match named {
        Some((owner, doc_type, title)) => MetadataFields { owner: Some(owner.into()), doc_type: doc_type.into(), name: title, ..Default::default() },
        None => MetadataFields { doc_type: config.doc_type.clone(), name: stem.to_owned(), ..Default::default() },
    };
    fields.draft(HOT_FOLDER_ACTOR.into())
}

/// What became of a hot-folder file.
#[derive(Debug, PartialEq, Eq)]
pub enum HotOutcome {
    /// Archived as this document (now or before a restart).
    Archived(String),
    /// Refused; the file is in `failed/` with this reason.
    Failed(String),
    /// Not processed for a passing reason (the archive busy, a disk error); it stays in
    /// `processing/` and is tried again.
    Retry(String),
}

/// Processes one taken file: archived once (a file whose content was already archived, say before a
/// crash, is not archived again), then moved to `done/`; refused with its reason into `failed/`.
pub fn process_hot_file(appliance: &Appliance, folder: &HotFolder, file: Claimed) -> Result<HotOutcome, ApplianceError> {
    let bytes = match std::fs::read(&file.path) {
        Ok(b) => b,
        Err(e) => return Ok(HotOutcome::Retry(format!("{}: cannot read: {e}", file.path.display()))),
    };
    let source = format!("file:{}", blake3::hash(&bytes).to_hex());
    if let Some(code) = appliance.archive().find_by_source(&source)? {
        folder.done(file)?;
        return Ok(HotOutcome::Archived(code.to_string()));
    }
    let result = hot_folder_metadata(&file.name, appliance.hot_folder_config()).and_then(|metadata| {
        let request = IngestRequest { metadata, pages: vec![(PathBuf::from(&file.name), bytes)], actor: HOT_FOLDER_ACTOR.into(), source: Some(source) };
        appliance.ingest(request, &mut |_| {})
    });
    match result {
        Ok(report) => {
            folder.done(file)?;
            Ok(HotOutcome::Archived(report.code))
        }
        Err(e @ (ApplianceError::Input(_) | ApplianceError::NotFound(_))) => {
            let reason = e.to_string();
            folder.failed(file, &reason)?;
            Ok(HotOutcome::Failed(reason))
        }
        Err(e) => Ok(HotOutcome::Retry(e.to_string())),
    }
}

/// Watches the configured hot folder on a thread of its own while serving; returns its path.
pub fn spawn_hot_folder(appliance: Arc<Appliance>) -> anyhow::Result<Option<PathBuf>> {
    let config = appliance.hot_folder_config().clone();
    if !config.enabled {
        return Ok(None);
    }
    let path = config.path.clone().unwrap_or_else(|| appliance.data_dir().join("hotfolder"));
    let mut folder = HotFolder::open(&path, Duration::from_secs_f64(config.settle_seconds.max(0.0))).map_err(anyhow::Error::new)?;
    let interval = Duration::from_millis(config.poll_milliseconds.max(50));
    std::thread::Builder::new().name("hot folder".into()).spawn(move || {
        // Files taken before a restart come first, in the order they were taken.
        let mut queue = folder.recover().unwrap_or_else(|e| {
            tracing::error!("hot folder: {e}");
            Vec::new()
        });
        loop {
            let mut retry = Vec::new();
            for file in std::mem::take(&mut queue) {
                let name = file.name.clone();
                match process_hot_file(&appliance, &folder, file.clone()) {
                    Ok(HotOutcome::Archived(code)) => tracing::info!(file = %name, %code, "hot folder: archived"),
                    Ok(HotOutcome::Failed(reason)) => tracing::warn!(file = %name, %reason, "hot folder: refused, moved to failed/"),
                    Ok(HotOutcome::Retry(reason)) => {
                        tracing::warn!(file = %name, %reason, "hot folder: will try again");
                        retry.push(file);
                    }
                    Err(e) => {
                        tracing::error!(file = %name, "hot folder: {e}");
                        retry.push(file);
                    }
                }
            }
            std::thread::sleep(interval);
            queue = retry;
            match folder.poll() {
                Ok(taken) => queue.extend(taken),
                Err(e) => tracing::error!("hot folder: {e}"),
            }
        }
    })?;
    Ok(Some(path))
}

/// Loads the configuration named on the command line, for [`configure_sane`] in `main`.
pub fn scanner_config(config: Option<&Path>) -> anyhow::Result<ScannerConfig> {
    Ok(Config::load(config)?.scanner)
}
