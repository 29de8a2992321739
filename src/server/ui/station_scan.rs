//! The scanning station's background work: a scan runs on a thread of its own (SANE blocks), each
//! page staged in the operator's batch as it arrives, and a reader thread takes the staged pages
//! one by one through capture's pipeline, so that flags show while the sheets are on the counter.
//! Each step tells the screens following the batch ([`Batch::changed`]).

use std::sync::Arc;
use std::sync::mpsc;

use scanner_driver::{ColorMode, DriverError, ScanSettings, Source};
use serde::Deserialize;

use super::super::{AppError, AppState};
use super::station_batch::{Batches, Problem, Scanning, Source as PageSource, Stage, StagedPage};
use crate::Appliance;

/// The scan form, as posted (and kept for "continue" and "rescan").
#[derive(Debug, Clone, Deserialize)]
pub struct ScanForm {
    /// The SANE device, e.g. `test:0`.
    pub device: String,
    /// `flatbed`, `adf` or `adf-duplex`.
    pub source: String,
    /// `color`, `gray` or `lineart`.
    pub mode: String,
    /// Dots per inch.
    pub resolution: u32,
    /// `a4`, `a5`, `a3`, `letter` or `legal`.
    pub page_size: String,
    /// Sheets to take from the feeder, empty for all of them.
    #[serde(default)]
    pub sheets: String,
    /// Further SANE options, one `name=value` a line, as `sohoa scan --option` takes them.
    #[serde(default)]
    pub options: String,
}

impl ScanForm {
    /// The settings the scanner is asked for, each value checked with the CLI's own parsers.
    pub fn settings(&self) -> Result<(ScanSettings, Option<u32>), AppError> {
        let source: Source = self.source.parse().map_err(AppError::BadRequest)?;
        let mode: ColorMode = self.mode.parse().map_err(AppError::BadRequest)?;
        let page_mm = crate::scan::page_size(&self.page_size).map_err(AppError::BadRequest)?;
        if !(50..=1200).contains(&self.resolution) {
            return Err(AppError::BadRequest(format!("resolution {} dpi: from 50 to 1200", self.resolution)));
        }
        let sheets = match self.sheets.trim() {
            "" => None,
            text => Some(text.parse::<u32>().ok().filter(|n| (1..=500).contains(n)).ok_or_else(|| {
                AppError::BadRequest(format!("sheets {text:?}: a number from 1 to 500, or empty for the whole feeder"))
            })?),
        };
        let options = self
            .options
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .ok_or_else(|| AppError::BadRequest(format!("device option {l:?}: expected name=value")))
            })
            .collect::<Result<_, _>>()?;
        let settings = ScanSettings {
            resolution: Some(self.resolution),
            mode: Some(mode),
            source: Some(source),
            page_mm: Some(page_mm),
            options,
        };
        Ok((settings, sheets))
    }
}

/// Where a scan's pages go: after the batch's pages, or in place of one page (a rescan).
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Appended, in the order scanned.
    Append,
    /// The first page replaces this one; a scan for it takes one sheet.
    Replace(u64),
}

/// Starts scanning into `user`'s batch on a thread of its own; refused while a scan of the batch runs.
pub fn start(state: &AppState, user: &str, form: ScanForm, into: Target) -> Result<(), AppError> {
    let (settings, mut sheets) = form.settings()?;
    if let Target::Replace(_) = into {
        sheets = Some(1);
    }
    state.station.with(user, |batch| {
        if let Scanning::Running(device) = &batch.scanning {
            return Err(AppError::BadRequest(format!("{device} is still scanning for this batch; wait for it to end")));
        }
        if let Target::Replace(id) = into {
            batch.position(id)?;
        }
        batch.scanning = Scanning::Running(form.device.clone());
        batch.last_scan = Some(form.clone());
        batch.changed();
        Ok(())
    })??;
    let (appliance, batches, owner) = (state.appliance.clone(), state.station.clone(), user.to_owned());
    let started = std::thread::Builder::new()
        .name("station-scan".into())
        .spawn(move || scan(&appliance, &batches, &owner, &form.device, &settings, sheets, into));
    if let Err(e) = started {
        state.station.peek(user, |b| {
            if let Some(b) = b {
                b.scanning = Scanning::Idle;
            }
        });
        return Err(AppError::Internal(anyhow::anyhow!("cannot start the scan: {e}")));
    }
    Ok(())
}

/// One scan, on its own thread: pages staged as they come, read by a second thread meanwhile.
fn scan(
    appliance: &Arc<Appliance>,
    batches: &Arc<Batches>,
    user: &str,
    device: &str,
    settings: &ScanSettings,
    sheets: Option<u32>,
    mut into: Target,
) {
    let (ids, reader) = read_in_background(appliance, batches, user);
    let mut delivered = 0;
    let limit = appliance.importer().limits().max_file_bytes;
    let outcome = appliance.scan_sheets(device, settings, sheets, &mut |page| {
        let raw = page.into_raw_page();
        let id = batches.next_id();
        let staged = batches.peek(user, |batch| {
            // A batch sealed or discarded while its scan ran takes nothing more: the scan stops.
            let batch = batch.ok_or(())?;
            if raw.original.len() as u64 > limit || batch.room_for(raw.original.len()).is_err() {
                return Err(());
            }
            let page = StagedPage::new(id, PageSource::Scanner, raw);
            match into {
                Target::Replace(old) => match batch.position(old) {
                    Ok(at) => batch.pages[at] = page,
                    Err(_) => batch.pages.push(page),
                },
                Target::Append => batch.pages.push(page),
            }
            into = Target::Append;
            batch.changed();
            Ok(())
        });
        if staged.is_ok() {
            delivered += 1;
            let _ = ids.send(id);
        }
        staged.is_ok()
    });
    drop(ids);
    let problem = match outcome {
        Ok(None) => None,
        Ok(Some(e)) => Some(problem(e)),
        Err(e) => Some((Problem::Other, e.to_string())),
    };
    batches.peek(user, |batch| {
        if let Some(batch) = batch {
            batch.scanning = Scanning::Ended { pages: delivered, problem };
            batch.changed();
        }
    });
    let _ = reader.join();
}

/// A device's error as the station shows it: its kind, for the sentence in the page's language,
/// and the driver's own message.
fn problem(e: DriverError) -> (Problem, String) {
    let kind = match &e {
        DriverError::Jammed { sheet, .. } => Problem::Jammed(*sheet),
        DriverError::FeederEmpty { .. } => Problem::FeederEmpty,
        DriverError::CoverOpen { .. } => Problem::CoverOpen,
        DriverError::Busy { .. } => Problem::Busy,
        _ => Problem::Other,
    };
    (kind, e.to_string())
}

/// Reads `ids` of `user`'s batch on a thread of its own, in the order given.
pub fn read(appliance: &Arc<Appliance>, batches: &Arc<Batches>, user: &str, ids: Vec<u64>) {
    // The thread ends once it has read every id: the sender is dropped here.
    let (sender, _reader) = read_in_background(appliance, batches, user);
    for id in ids {
        let _ = sender.send(id);
    }
}

/// A thread that reads each page id sent to it, until the sender is dropped.
fn read_in_background(
    appliance: &Arc<Appliance>,
    batches: &Arc<Batches>,
    user: &str,
) -> (mpsc::Sender<u64>, std::thread::JoinHandle<()>) {
    let (sender, ids) = mpsc::channel::<u64>();
    let (appliance, batches, user) = (appliance.clone(), batches.clone(), user.to_owned());
    let reader = std::thread::Builder::new()
        .name("station-read".into())
        .spawn(move || {
            // The pages waiting when the reader comes round are read together, so that capture's
            // workers read them side by side; each page's stage is recorded as it finishes.
            while let Ok(first) = ids.recv() {
                let group: Vec<u64> = std::iter::once(first).chain(ids.try_iter()).collect();
                read_group(&appliance, &batches, &user, &group);
            }
        })
        .expect("the operating system starts a thread");
    (sender, reader)
}

/// Reads staged pages together with capture's pipeline, recording each page's stage and flags as it
/// finishes. Capture stops a group at its first page that fails, so after a failure the pages not yet
/// read are read one by one, and only the page at fault is marked as failed.
fn read_group(appliance: &Appliance, batches: &Batches, user: &str, ids: &[u64]) {
    if ids.len() == 1 {
        return read_one(appliance, batches, user, ids[0]);
    }
    // Pages deleted (or their batch closed) before their turn are not read.
    let pages: Vec<(u64, String, Arc<Vec<u8>>)> = batches.peek(user, |batch| {
        let Some(batch) = batch else { return Vec::new() };
        let pages = ids
            .iter()
            .filter_map(|&id| {
                let page = batch.page_mut(id)?;
                page.stage = Stage::Reading;
                Some((id, page.origin.clone(), page.bytes.clone()))
            })
            .collect();
        batch.changed();
        pages
    });
    let files = pages.iter().map(|(_, origin, bytes)| (origin.into(), bytes.to_vec())).collect();
    let finished = |number: usize, stage: Stage| {
        let Some((id, _, _)) = pages.get(number) else { return };
        batches.peek(user, |batch| {
            if let Some(batch) = batch {
                if let Some(page) = batch.page_mut(*id) {
                    page.stage = stage;
                }
                batch.changed();
            }
        });
    };
    let read = appliance.read_pages(files, &mut |progress| {
        // Capture numbers pages from 1; a number outside the group is no page of it.
        let Some(number) = (progress.page as usize).checked_sub(1) else { return };
        match progress.stage {
            capture::PageStage::Done => finished(number, Stage::Done),
            capture::PageStage::Flagged(flags) => finished(number, Stage::Flagged(flags)),
            _ => {}
        }
    });
    if read.is_err() {
        let unread: Vec<u64> = batches.peek(user, |batch| {
            batch.map_or_else(Vec::new, |b| {
                b.pages.iter().filter(|p| p.stage == Stage::Reading && ids.contains(&p.id)).map(|p| p.id).collect()
            })
        });
        for id in unread {
            read_one(appliance, batches, user, id);
        }
    }
}

/// Reads one staged page with capture's pipeline and records its stage and flags.
fn read_one(appliance: &Appliance, batches: &Batches, user: &str, id: u64) {
    let page = batches.peek(user, |batch| {
        let page = batch?.page_mut(id)?;
        page.stage = Stage::Reading;
        Some((page.origin.clone(), page.bytes.clone()))
    });
    // A page deleted (or its batch closed) before its turn is not read.
    let Some((origin, bytes)) = page else { return };
    batches.peek(user, |b| b.map(|b| b.changed()));
    let stage = match appliance.read_pages(vec![(origin.into(), bytes.to_vec())], &mut |_| {}) {
        Ok(flags) => match flags.into_iter().next() {
            Some(flags) if flags.is_empty() => Stage::Done,
            Some(flags) => Stage::Flagged(flags),
            None => Stage::Failed("the file holds no page".into()),
        },
        Err(e) => Stage::Failed(e.to_string()),
    };
    batches.peek(user, |batch| {
        if let Some(batch) = batch {
            if let Some(page) = batch.page_mut(id) {
                page.stage = stage;
            }
            batch.changed();
        }
    });
}
