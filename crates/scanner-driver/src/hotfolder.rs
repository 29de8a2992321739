//! Hot folders: directories that network scanners (scan-to-folder) and people drop files into.
//!
//! A file is taken only once it is complete: its size and modification time have stayed the same
//! for the settle delay, or it was renamed in under its final name (names that scanners and copy
//! tools use while writing, `.part`, `.tmp`, `~` and dot files, are never taken). Taking a file is
//! an atomic rename into `processing/`; a file there belongs to this appliance even across a crash,
//! and [`HotFolder::recover`] hands it back at the next start. A processed file moves to `done/`, or
//! to `failed/` next to a `NAME.reason.txt` that says why. Whether a recovered file was already
//! archived before the crash is for the caller to tell (sohoa records each file's content hash with
//! the document it became).
//!
//! The folder is polled rather than watched: inotify sees nothing of what another machine writes to
//! a network share, which is where scan-to-folder files arrive.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::DriverError;

const PROCESSING: &str = "processing";
const DONE: &str = "done";
const FAILED: &str = "failed";

/// A file this appliance has taken from the hot folder and not yet finished with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// Where it is now, under `processing/`.
    pub path: PathBuf,
    /// Its name as it was dropped.
    pub name: String,
}

/// A watched directory.
pub struct HotFolder {
    root: PathBuf,
    settle: Duration,
    /// What each candidate looked like when last polled, and since when.
    seen: HashMap<PathBuf, (u64, Option<SystemTime>, Instant)>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> DriverError + '_ {
    move |source| DriverError::HotFolder { path: path.to_owned(), source }
}

/// Names of files still being written, by the conventions scanners and copy tools follow.
fn in_progress(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.') || name.starts_with('~') || name.ends_with('~') || [".part", ".tmp", ".crdownload", ".partial", ".filepart"].iter().any(|s| lower.ends_with(s))
}

impl HotFolder {
    /// Watches `root` (created if absent, with its `processing/`, `done/` and `failed/`); a file is
    /// taken once unchanged for `settle`.
    pub fn open(root: &Path, settle: Duration) -> Result<Self, DriverError> {
        for sub in [PROCESSING, DONE, FAILED] {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        Ok(HotFolder { root: root.to_owned(), settle, seen: HashMap::new() })
    }

    /// The watched directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Files taken before a restart and not finished: they are processed again.
    pub fn recover(&self) -> Result<Vec<Claimed>, DriverError> {
        let dir = self.root.join(PROCESSING);
        let mut files = files_in(&dir)?;
        files.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        Ok(files.into_iter().map(|(path, _, _)| Claimed { name: file_name(&path), path }).collect())
    }

    /// Takes every file that has been complete for the settle delay, oldest first (the order they
    /// were scanned in).
    pub fn poll(&mut self) -> Result<Vec<Claimed>, DriverError> {
        let now = Instant::now();
        let mut present = HashMap::new();
        let mut ready = Vec::new();
        for (path, modified, size) in files_in(&self.root)? {
            if in_progress(&file_name(&path)) {
                continue;
            }
            let since = match self.seen.get(&path) {
                Some(&(s, m, since)) if s == size && m == modified => since,
                _ => now,
            };
            present.insert(path.clone(), (size, modified, since));
            if now.duration_since(since) >= self.settle && (since != now || self.settle.is_zero()) {
                ready.push((modified, path));
            }
        }
        self.seen = present;
        ready.sort();
        let mut claimed = Vec::new();
        for (_, path) in ready {
            self.seen.remove(&path);
            let name = file_name(&path);
            let target = unique(&self.root.join(PROCESSING), &name);
            match std::fs::rename(&path, &target) {
                Ok(()) => claimed.push(Claimed { path: target, name }),
                // Someone else (another appliance on the same share) took it first.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Ok(claimed)
    }

    /// Moves a processed file to `done/`; returns where it went.
    pub fn done(&self, file: Claimed) -> Result<PathBuf, DriverError> {
        let target = unique(&self.root.join(DONE), &file.name);
        std::fs::rename(&file.path, &target).map_err(io(&file.path))?;
        Ok(target)
    }

    /// Moves a file that could not be imported to `failed/`, with `NAME.reason.txt` beside it. The
    /// reason is written first, so that a crash in between leaves the file in `processing/` to be
    /// tried again rather than in `failed/` without a reason.
    pub fn failed(&self, file: Claimed, reason: &str) -> Result<PathBuf, DriverError> {
        let dir = self.root.join(FAILED);
        let target = unique(&dir, &file.name);
        let reason_file = PathBuf::from(format!("{}.reason.txt", target.display()));
        let scratch = dir.join(format!(".{}.reason.tmp", file_name(&target)));
        std::fs::write(&scratch, format!("{reason}\n")).map_err(io(&scratch))?;
        std::fs::rename(&scratch, &reason_file).map_err(io(&reason_file))?;
        std::fs::rename(&file.path, &target).map_err(io(&file.path))?;
        Ok(target)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Regular files directly in `dir` with their modification time and size.
fn files_in(dir: &Path) -> Result<Vec<(PathBuf, Option<SystemTime>, u64)>, DriverError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_file() {
            out.push((entry.path(), meta.modified().ok(), meta.len()));
        }
    }
    Ok(out)
}

/// `dir/name`, or `dir/name (2)`, `(3)`, … if taken: a file dropped twice under one name keeps both.
fn unique(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() && !Path::new(&format!("{}.reason.txt", first.display())).exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.to_owned(), String::new()),
    };
    (2..).map(|n| dir.join(format!("{stem} ({n}){ext}"))).find(|p| !p.exists()).expect("an unused name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_being_written_are_left_alone() {
        for name in [".scan.pdf", "scan.pdf.part", "scan.tmp", "~scan.pdf", "scan.pdf~"] {
            assert!(in_progress(name), "{name}");
        }
        assert!(!in_progress("scan 2024.pdf"));
    }

    #[test]
    fn duplicate_names_get_a_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.pdf"), b"x").unwrap();
        assert_eq!(unique(dir.path(), "a.pdf"), dir.path().join("a (2).pdf"));
        assert_eq!(unique(dir.path(), "b.pdf"), dir.path().join("b.pdf"));
    }
}
