//! Scanners, wired to capture. `sohoa scanners` lists what SANE sees and `sohoa scan` turns one
//! feeder batch into one document (the hot folder is in [`crate::hotfolder`]).
//!
//! SANE reads its configuration directory once, when the first scanner call initialises it, from
//! `SANE_CONFIG_DIR`. [`configure_sane`] sets that up under the data directory before anything else
//! runs: the system's backends (`/etc/sane.d`), plus the virtual `test` scanner unless it is turned
//! off, so that a fresh appliance has a scanner to try.

use std::path::{Path, PathBuf};

use anyhow::Context;
use scanner_driver::{DriverError, Sane, ScanSettings, ScannedPage};

use crate::config::{Config, ScannerConfig};
use crate::{Appliance, ApplianceError, IngestReport, IngestRequest};

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
        std::fs::write(
            dir.join("test.conf"),
            "number_of_devices 1\ngeometry_min 0.0\ngeometry_max 300.0\ngeometry_quant 1.0\n",
        )?;
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
            let (w, h) = other.split_once('x').ok_or_else(|| {
                format!("unknown page size {text:?}: expected a4, a5, a3, letter, legal or WIDTHxHEIGHT in mm")
            })?;
            let parse = |v: &str| v.trim().parse::<f64>().ok().filter(|v| *v > 0.0 && *v <= 1000.0);
            match (parse(w), parse(h)) {
                (Some(w), Some(h)) => (w, h),
                _ => {
                    return Err(format!("page size {text:?}: width and height must be millimetres between 0 and 1000"));
                }
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
                let path = holding.join(format!(
                    "sheet-{:03}-{}.png",
                    page.sheet,
                    if page.side == scanner_driver::Side::Front { "front" } else { "back" }
                ));
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
            ApplianceError::Input(format!(
                "{e}; the {} pages scanned before are kept in {}",
                pages.len(),
                holding.display()
            ))
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

/// Loads the configuration named on the command line, for [`configure_sane`] in `main`.
pub fn scanner_config(config: Option<&Path>) -> anyhow::Result<ScannerConfig> {
    Ok(Config::load(config)?.scanner)
}

/// The scanners SANE sees.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Scanners {
    /// Each device, by the name to open it by.
    pub devices: Vec<ScannerView>,
    /// Where SANE's backends are configured, for the message when there is none.
    pub config_dir: String,
}

/// One scanner.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ScannerView {
    /// The name to open it by, e.g. `test:0`.
    pub name: String,
    /// The vendor.
    pub vendor: String,
    /// The model.
    pub model: String,
    /// The kind of device, e.g. `sheetfed scanner`.
    pub kind: String,
}

/// One option of a scanner.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ScannerOptionView {
    /// The option's name, e.g. `resolution`.
    pub name: String,
    /// Its title for people.
    pub title: String,
    /// Its value now, if it has one.
    pub value: Option<String>,
    /// Whether it can be set.
    pub settable: bool,
    /// The values it takes: `a|b|c`, `min..max`, or empty for any.
    pub allowed: String,
}

/// A scanner's options.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ScannerOptions {
    /// The scanner.
    pub device: String,
    /// Every option, settable or not.
    pub options: Vec<ScannerOptionView>,
}

/// The scanners SANE sees. Needs no appliance: nothing is read from the archive.
pub fn scanners() -> Result<Scanners, ApplianceError> {
    let devices = Sane::get()?
        .devices()?
        .into_iter()
        .map(|d| ScannerView { name: d.name, vendor: d.vendor, model: d.model, kind: d.kind })
        .collect();
    let config_dir = std::env::var("SANE_CONFIG_DIR").unwrap_or_else(|_| "/etc/sane.d".into());
    Ok(Scanners { devices, config_dir })
}

impl Appliance {
    /// Scans sheets from `device` without capturing them, for the scanning station, which stages
    /// the pages until the operator seals them: each page goes to `on_page` as it arrives, and
    /// `on_page` answers whether to go on (a full batch stops the scan). With `max_sheets`, the scan
    /// stops once that many sheets are in (both sides of the last one in duplex): an operator
    /// replaces one page, or takes part of what the feeder holds. The error that ended the batch
    /// early (a jam, an empty feeder, an open cover) is returned as the outcome, not as a failure,
    /// since the pages delivered before it stand.
    pub fn scan_sheets(
        &self,
        device: &str,
        settings: &ScanSettings,
        max_sheets: Option<u32>,
        on_page: &mut dyn FnMut(ScannedPage) -> bool,
    ) -> Result<Option<DriverError>, ApplianceError> {
        let scanner = Sane::get()?.open(device, &self.scanner_config().quirk_rules())?;
        let duplex = settings.source == Some(scanner_driver::Source::AdfDuplex);
        // Dropping the stream cancels the scan and waits for the scanner's thread.
        for item in scanner.scan(settings)? {
            let page = match item {
                Ok(page) => page,
                Err(e) => return Ok(Some(e)),
            };
            let last =
                max_sheets.is_some_and(|max| page.sheet >= max && (!duplex || page.side == scanner_driver::Side::Back));
            if !on_page(page) || last {
                break;
            }
        }
        Ok(None)
    }

    /// A scanner's options, opened with the configured quirks.
    pub fn scanner_options(&self, device: &str) -> Result<ScannerOptions, ApplianceError> {
        let scanner = Sane::get()?.open(device, &self.scanner_config().quirk_rules())?;
        let options = scanner
            .options()
            .iter()
            .map(|o| ScannerOptionView {
                name: o.name.clone(),
                title: o.title.clone(),
                value: o.value.clone(),
                settable: o.settable,
                allowed: match &o.constraint {
                    scanner_driver::Constraint::Strings(list) => list.join("|"),
                    scanner_driver::Constraint::Numbers(list) => {
                        list.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("|")
                    }
                    scanner_driver::Constraint::Range { min, max, .. } => format!("{min}..{max}"),
                    scanner_driver::Constraint::None => String::new(),
                },
            })
            .collect();
        Ok(ScannerOptions { device: device.to_owned(), options })
    }
}
