//! Hot folders: a share that network scanners (scan-to-folder) and people drop files into
//! ([`HotFolder`]), and the appliance's own record of what it took from it ([`HotState`]).
//!
//! Whoever can write to the share is not trusted. A file is taken only once it is complete: its size
//! and modification time have stayed the same for the settle delay (names that scanners and copy
//! tools use while writing, `.part`, `.tmp`, `~` and dot files, are never taken). It is claimed by
//! an atomic rename to a hidden name in the share, opened without following links and taken only if
//! the opened file is a regular file, read through that descriptor (bounded by the largest file
//! accepted), written into the state directory under its content hash ([`HotFileId`]) and only then
//! removed from the share. Symbolic links, FIFOs, devices and directories in the share are never
//! opened.
//!
//! The state directory (`processing/`, `pending/`, `done/`, `failed/` with `ID.reason.txt`, and
//! `names/` for each file's name as dropped) lives outside the share, under the data directory.
//! Every directory is opened once, without following links, and every file in it is reached
//! through that descriptor by a name the appliance made, opened without following links and
//! created only where nothing is (`create_new`): a link planted there is never followed. A file in
//! `processing/` belongs to this appliance across a crash and [`HotState::recover`] hands it back;
//! `done/` is emptied of files older than the configured time by [`HotState::purge_done`].
//!
//! The share is polled rather than watched: inotify sees nothing of what another machine writes to
//! a network share, which is where scan-to-folder files arrive.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::DriverError;

/// The longest name kept for a file as it was dropped; longer ones are cut, never used as a path.
const MAX_NAME_BYTES: u64 = 1024;
/// The prefix of the hidden name a file is claimed under in the share while it is taken.
const CLAIM_PREFIX: &str = ".sohoa-taking.";
/// The longest file name Linux file systems take, in bytes.
const NAME_MAX: usize = 255;
/// The longest reason read back from `failed/`.
const MAX_REASON_BYTES: u64 = 64 * 1024;

/// Where a taken file is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Taken from the share, not yet checked.
    Processing,
    /// Checked, waiting for an operator to confirm or reject it.
    Pending,
    /// Archived; kept for the configured time.
    Done,
    /// Refused, by the importer or an operator, with its reason.
    Failed,
}

impl Stage {
    const ALL: [Stage; 4] = [Stage::Processing, Stage::Pending, Stage::Done, Stage::Failed];

    fn dir_name(self) -> &'static str {
        match self {
            Stage::Processing => "processing",
            Stage::Pending => "pending",
            Stage::Done => "done",
            Stage::Failed => "failed",
        }
    }
}

/// A taken file's name in the state directory: the BLAKE3 hash of its content, in hex. Holding one
/// means holding 64 lower-case hex digits, so it can never name anything outside its directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HotFileId(String);

impl HotFileId {
    /// The id of this content.
    pub fn of(bytes: &[u8]) -> Self {
        HotFileId(blake3::hash(bytes).to_hex().to_string())
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HotFileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for HotFileId {
    type Err = DriverError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(HotFileId(s.to_owned()))
        } else {
            Err(DriverError::HotFileId { given: s.chars().take(80).collect() })
        }
    }
}

/// One file of the state directory, as [`HotState::list`] finds it.
#[derive(Debug, Clone)]
pub struct HotEntry {
    /// Its id (the content hash).
    pub id: HotFileId,
    /// Its name as it was dropped into the share (or the id, if that was lost).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was taken, or for `done/` when it was archived.
    pub at: SystemTime,
    /// Why it was refused (`failed/` only).
    pub reason: Option<String>,
}

/// What a poll of the share found.
#[derive(Debug, Default)]
pub struct Polled {
    /// Files taken into `processing/`, oldest first.
    pub taken: Vec<HotFileId>,
    /// Entries of the share that will not be taken, with why (each reported once).
    pub refused: Vec<(String, String)>,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> DriverError + '_ {
    move |source| DriverError::HotFolder { path: path.to_owned(), source }
}

/// Opens (creating if need be) the directory `name` in `parent` without following a link.
fn open_dir_at(parent: BorrowedFd<'_>, name: &str) -> std::io::Result<OwnedFd> {
    match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Opens `name` in `dir` for reading without following a link, and only if it is a regular file of
/// at most `max_bytes` (`O_NONBLOCK`, so that a FIFO cannot hold the open); returns it with its
/// status.
fn open_regular(
    dir: BorrowedFd<'_>,
    name: &[u8],
    max_bytes: u64,
) -> std::io::Result<(std::fs::File, rustix::fs::Stat)> {
    let fd = match rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        // What O_NOFOLLOW answers for a link: a fault of the entry, not of the disk.
        Err(rustix::io::Errno::LOOP) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a symbolic link, which is never followed",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let stat = rustix::fs::fstat(&fd)?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind != FileType::RegularFile {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file but {}", describe(kind)),
        ));
    }
    if stat.st_size as u64 > max_bytes {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} bytes, more than the limit of {max_bytes}", stat.st_size),
        ));
    }
    Ok((std::fs::File::from(fd), stat))
}

/// Reads a regular file of at most `max_bytes` through `file`; a file that grew past the limit
/// since it was opened is refused rather than read on.
fn read_bounded(file: std::fs::File, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("grew past the limit of {max_bytes} bytes while being read"),
        ));
    }
    Ok(bytes)
}

fn describe(kind: FileType) -> &'static str {
    match kind {
        FileType::Symlink => "a symbolic link",
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        _ => "an unknown kind of file",
    }
}

fn modified(stat: &rustix::fs::Stat) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::new(stat.st_mtime.max(0) as u64, stat.st_mtime_nsec.clamp(0, 999_999_999) as u32)
}

/// Writes `bytes` to a new file `name` in `dir`: never through a link or over an existing file.
fn create_new_at(dir: BorrowedFd<'_>, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    file.sync_all()
}

/// Removes `name` from `dir` (a link itself, never what it points to); absent is fine.
fn remove_at(dir: BorrowedFd<'_>, name: &str) -> std::io::Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Replaces `name` in `dir` by a new file of `bytes`, synced: written under a scratch name made
/// with `create_new`, then renamed over, which replaces a link rather than following it.
fn replace_at(dir: BorrowedFd<'_>, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let scratch = format!(".{name}.tmp");
    remove_at(dir, &scratch)?;
    create_new_at(dir, &scratch, bytes)?;
    Ok(rustix::fs::renameat(dir, &scratch, dir, name)?)
}

/// The appliance's side of the hot folder: what it took, what waits for an operator, what was
/// archived or refused. See the module's documentation for how links are kept out.
pub struct HotState {
    path: PathBuf,
    stages: HashMap<Stage, OwnedFd>,
    names: OwnedFd,
}

impl HotState {
    /// Opens the state directory `path` (created if absent, owner only), with its `processing/`,
    /// `pending/`, `done/`, `failed/` and `names/`.
    pub fn open(path: &Path) -> Result<Self, DriverError> {
        std::fs::create_dir_all(path).map_err(io_error(path))?;
        let root = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_error(path)(e.into()))?;
        let mut stages = HashMap::new();
        for stage in Stage::ALL {
            let fd = open_dir_at(root.as_fd(), stage.dir_name()).map_err(io_error(&path.join(stage.dir_name())))?;
            stages.insert(stage, fd);
        }
        let names = open_dir_at(root.as_fd(), "names").map_err(io_error(&path.join("names")))?;
        Ok(HotState { path: path.to_owned(), stages, names })
    }

    /// The state directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self, stage: Stage) -> BorrowedFd<'_> {
        self.stages[&stage].as_fd()
    }

    fn error(&self, stage: Stage, name: &str) -> impl Fn(std::io::Error) -> DriverError + '_ {
        let path = self.path.join(stage.dir_name()).join(name);
        move |source| DriverError::HotFolder { path: path.clone(), source }
    }

    /// Records `bytes`, dropped as `name`, in `processing/`; returns its id. The same content taken
    /// twice is one file.
    pub fn take(&self, bytes: &[u8], name: &str) -> Result<HotFileId, DriverError> {
        let id = HotFileId::of(bytes);
        // The name first: a crash after it leaves a name without a file, which nothing lists.
        let mut kept = name.as_bytes();
        if kept.len() as u64 > MAX_NAME_BYTES {
            let cut = (0..=MAX_NAME_BYTES as usize).rev().find(|&i| name.is_char_boundary(i)).unwrap_or(0);
            kept = &name.as_bytes()[..cut];
        }
        replace_at(self.names.as_fd(), id.as_str(), kept)
            .map_err(|e| DriverError::HotFolder { path: self.path.join("names").join(id.as_str()), source: e })?;
        // Written under a scratch name and renamed, then the directory synced: a crash leaves the
        // whole file or none (never a part under the name of the whole, which would be checked and
        // refused as damaged), and the file is on disk before the share's copy is removed. What is
        // already there under its id has the same content by construction, so replacing it is the
        // same file taken twice.
        let dir = self.dir(Stage::Processing);
        replace_at(dir, id.as_str(), bytes)
            .and_then(|()| Ok(rustix::fs::fsync(dir)?))
            .map_err(self.error(Stage::Processing, id.as_str()))?;
        Ok(id)
    }

    /// The content of a file, read without following links, only if it is a regular file of at most
    /// `max_bytes`.
    pub fn read(&self, stage: Stage, id: &HotFileId, max_bytes: u64) -> Result<Vec<u8>, DriverError> {
        let (file, _) =
            open_regular(self.dir(stage), id.as_str().as_bytes(), max_bytes).map_err(self.error(stage, id.as_str()))?;
        read_bounded(file, max_bytes).map_err(self.error(stage, id.as_str()))
    }

    /// The name a file was dropped under, or its id when that was lost.
    pub fn name(&self, id: &HotFileId) -> String {
        open_regular(self.names.as_fd(), id.as_str().as_bytes(), MAX_NAME_BYTES)
            .and_then(|(file, _)| read_bounded(file, MAX_NAME_BYTES))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|_| id.to_string())
    }

    /// Moves a file from one stage to another (a rename inside the state directory; the same content
    /// already there is replaced by itself). A file moved to `done/` is stamped with the time, from
    /// which [`purge_done`](Self::purge_done) counts.
    pub fn move_to(&self, id: &HotFileId, from: Stage, to: Stage) -> Result<(), DriverError> {
        if to == Stage::Done {
            let (file, _) = open_regular(self.dir(from), id.as_str().as_bytes(), u64::MAX)
                .map_err(self.error(from, id.as_str()))?;
            file.set_modified(SystemTime::now()).map_err(self.error(from, id.as_str()))?;
        }
        rustix::fs::renameat(self.dir(from), id.as_str(), self.dir(to), id.as_str())
            .map_err(|e| self.error(from, id.as_str())(e.into()))
    }

    /// Moves a file to `failed/` with `ID.reason.txt` beside it. The reason is written first, so
    /// that a crash in between leaves the file where it was, to be tried again, rather than in
    /// `failed/` without a reason.
    pub fn fail(&self, id: &HotFileId, from: Stage, reason: &str) -> Result<(), DriverError> {
        let reason_name = format!("{id}.reason.txt");
        replace_at(self.dir(Stage::Failed), &reason_name, format!("{reason}\n").as_bytes())
            .map_err(self.error(Stage::Failed, &reason_name))?;
        self.move_to(id, from, Stage::Failed)
    }

    /// The files of a stage, oldest first. Anything there that the appliance did not make (another
    /// name, a link, a FIFO) is left alone and not listed.
    pub fn list(&self, stage: Stage) -> Result<Vec<HotEntry>, DriverError> {
        let dir = self.dir(stage);
        let listing = rustix::fs::Dir::read_from(dir).map_err(|e| self.error(stage, "")(e.into()))?;
        let mut entries = Vec::new();
        for entry in listing {
            let entry = entry.map_err(|e| self.error(stage, "")(e.into()))?;
            let Ok(id) = entry.file_name().to_str().unwrap_or_default().parse::<HotFileId>() else { continue };
            let Ok(stat) = rustix::fs::statat(dir, id.as_str(), AtFlags::SYMLINK_NOFOLLOW) else { continue };
            if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
                continue;
            }
            let reason = (stage == Stage::Failed).then(|| {
                open_regular(dir, format!("{id}.reason.txt").as_bytes(), MAX_REASON_BYTES)
                    .and_then(|(file, _)| read_bounded(file, MAX_REASON_BYTES))
                    .map(|b| String::from_utf8_lossy(&b).trim_end().to_owned())
                    .unwrap_or_else(|_| "no reason was recorded".into())
            });
            entries.push(HotEntry { name: self.name(&id), size: stat.st_size as u64, at: modified(&stat), reason, id });
        }
        entries.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        Ok(entries)
    }

    /// Records that a check of a file in `processing/` begins; returns how many checks of it began
    /// without ending, this one included. A file whose check stopped the appliance itself (killed
    /// for its memory, say) would otherwise be checked again at every start.
    pub fn begin_check(&self, id: &HotFileId) -> Result<u32, DriverError> {
        let name = format!("{id}.checks");
        let dir = self.dir(Stage::Processing);
        let begun = open_regular(dir, name.as_bytes(), 16)
            .and_then(|(file, _)| read_bounded(file, 16))
            .ok()
            .and_then(|b| String::from_utf8_lossy(&b).trim().parse::<u32>().ok())
            .unwrap_or(0)
            + 1;
        replace_at(dir, &name, begun.to_string().as_bytes()).map_err(self.error(Stage::Processing, &name))?;
        Ok(begun)
    }

    /// Records that the check of a file ended, whatever it found.
    pub fn end_check(&self, id: &HotFileId) -> Result<(), DriverError> {
        let name = format!("{id}.checks");
        remove_at(self.dir(Stage::Processing), &name).map_err(self.error(Stage::Processing, &name))
    }

    /// Files taken before a restart and not finished: they are checked again, in the order taken.
    /// The check counts of files no longer in `processing/` are forgotten: a stop between a file's
    /// move on and the removal of its count leaves one, which would otherwise count against the
    /// same content taken again.
    pub fn recover(&self) -> Result<Vec<HotFileId>, DriverError> {
        let unfinished: Vec<HotFileId> = self.list(Stage::Processing)?.into_iter().map(|e| e.id).collect();
        let dir = self.dir(Stage::Processing);
        let listing = rustix::fs::Dir::read_from(dir).map_err(|e| self.error(Stage::Processing, "")(e.into()))?;
        for entry in listing {
            let entry = entry.map_err(|e| self.error(Stage::Processing, "")(e.into()))?;
            let name = entry.file_name().to_str().unwrap_or_default();
            let Some(Ok(id)) = name.strip_suffix(".checks").map(str::parse::<HotFileId>) else { continue };
            if !unfinished.contains(&id) {
                remove_at(dir, name).map_err(self.error(Stage::Processing, name))?;
            }
        }
        Ok(unfinished)
    }

    /// Removes from `done/` the files archived more than `keep` ago, with their names; returns how
    /// many.
    pub fn purge_done(&self, keep: Duration) -> Result<usize, DriverError> {
        let cutoff = SystemTime::now().checked_sub(keep).unwrap_or(SystemTime::UNIX_EPOCH);
        let mut purged = 0;
        for entry in self.list(Stage::Done)?.into_iter().filter(|e| e.at < cutoff) {
            remove_at(self.dir(Stage::Done), entry.id.as_str()).map_err(self.error(Stage::Done, entry.id.as_str()))?;
            // The same content may wait again in another stage, under its name.
            if !Stage::ALL
                .iter()
                .any(|&s| rustix::fs::statat(self.dir(s), entry.id.as_str(), AtFlags::SYMLINK_NOFOLLOW).is_ok())
            {
                remove_at(self.names.as_fd(), entry.id.as_str()).map_err(|e| DriverError::HotFolder {
                    path: self.path.join("names").join(entry.id.as_str()),
                    source: e,
                })?;
            }
            purged += 1;
        }
        Ok(purged)
    }
}

/// Names of files still being written, by the conventions scanners and copy tools follow.
fn in_progress(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with('~')
        || name.ends_with('~')
        || [".part", ".tmp", ".crdownload", ".partial", ".filepart"].iter().any(|s| lower.ends_with(s))
}

/// The share that files are dropped into.
pub struct HotFolder {
    path: PathBuf,
    dir: OwnedFd,
    settle: Duration,
    max_bytes: u64,
    /// What each candidate looked like when last polled (size, modification time), and since when.
    seen: HashMap<OsString, (u64, SystemTime, Instant)>,
    /// Entries already reported as refused, with what they looked like then.
    refused: HashSet<(OsString, u64, SystemTime)>,
    /// Files that were claimed when the appliance stopped, put back under their names: they were
    /// complete then, so the first poll takes them without waiting for them to settle.
    claimed: HashSet<OsString>,
}

impl HotFolder {
    /// Watches the share `path` (created if absent); a file is taken once unchanged for `settle`,
    /// and only if it is at most `max_bytes`.
    pub fn open(path: &Path, settle: Duration, max_bytes: u64) -> Result<Self, DriverError> {
        std::fs::create_dir_all(path).map_err(io_error(path))?;
        let dir = rustix::fs::open(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| io_error(path)(e.into()))?;
        // A file claimed when the appliance stopped goes back under its name, to be taken again
        // first thing.
        let mut claimed = HashSet::new();
        for entry in rustix::fs::Dir::read_from(&dir).map_err(|e| io_error(path)(e.into()))? {
            let entry = entry.map_err(|e| io_error(path)(e.into()))?;
            if let Some(name) =
                entry.file_name().to_bytes().strip_prefix(CLAIM_PREFIX.as_bytes()).filter(|n| !n.is_empty())
                && rustix::fs::renameat_with(&dir, entry.file_name(), &dir, name, rustix::fs::RenameFlags::NOREPLACE)
                    .is_ok()
            {
                claimed.insert(OsString::from_vec(name.to_vec()));
            }
        }
        Ok(HotFolder {
            path: path.to_owned(),
            dir,
            settle,
            max_bytes,
            seen: HashMap::new(),
            refused: HashSet::new(),
            claimed,
        })
    }

    /// The share.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes every file that has been complete for the settle delay into `state`'s `processing/`,
    /// oldest first (the order they were scanned in), and removes it from the share. Entries that
    /// are not regular files, or too large, are reported once and left alone.
    pub fn poll(&mut self, state: &HotState) -> Result<Polled, DriverError> {
        let now = Instant::now();
        let claimed = std::mem::take(&mut self.claimed);
        let mut present = HashMap::new();
        let mut ready = Vec::new();
        let mut polled = Polled::default();
        let listing = rustix::fs::Dir::read_from(&self.dir).map_err(|e| io_error(&self.path)(e.into()))?;
        for entry in listing {
            let entry = entry.map_err(|e| io_error(&self.path)(e.into()))?;
            let raw = OsString::from_vec(entry.file_name().to_bytes().to_vec());
            let name = raw.to_string_lossy().into_owned();
            if name == "." || name == ".." || in_progress(&name) {
                continue;
            }
            let Ok(stat) = rustix::fs::statat(&self.dir, raw.as_bytes(), AtFlags::SYMLINK_NOFOLLOW) else { continue };
            let kind = FileType::from_raw_mode(stat.st_mode);
            let (size, mtime) = (stat.st_size as u64, modified(&stat));
            if kind != FileType::RegularFile || size > self.max_bytes {
                let reason = if kind == FileType::RegularFile {
                    format!("{size} bytes, more than the limit of {} for one file", self.max_bytes)
                } else {
                    format!("{} is never opened", describe(kind))
                };
                // Subfolders are for people to organise the share; they are not files to take.
                if kind != FileType::Directory && self.refused.insert((raw.clone(), size, mtime)) {
                    polled.refused.push((name, reason));
                }
                continue;
            }
            let since = match self.seen.get(&raw) {
                Some(&(s, m, since)) if s == size && m == mtime => since,
                _ => now,
            };
            present.insert(raw.clone(), (size, mtime, since));
            let settled = now.duration_since(since) >= self.settle && (since != now || self.settle.is_zero());
            if settled || claimed.contains(&raw) {
                ready.push((mtime, raw));
            }
        }
        self.seen = present;
        ready.sort();
        for (_, raw) in ready {
            self.seen.remove(&raw);
            let name = raw.to_string_lossy().into_owned();
            match self.take_one(state, &raw, &name) {
                Ok(Some(id)) => polled.taken.push(id),
                // Someone else (another appliance on the same share) took it first.
                Ok(None) => {}
                Err(Taking::Refused(reason)) => polled.refused.push((name, reason)),
                Err(Taking::Failed(e)) => return Err(e),
            }
        }
        Ok(polled)
    }

    /// Takes one file: claimed by an atomic rename to a hidden name (so that of two appliances on
    /// one share only one takes it), opened without following links, checked to be a regular file by
    /// its opened descriptor, read through it, recorded, then removed from the share. `None` when it
    /// is gone. A refused file is put back under its name.
    fn take_one(&self, state: &HotState, raw: &OsString, name: &str) -> Result<Option<HotFileId>, Taking> {
        let claim = claim_name(raw);
        match rustix::fs::renameat(&self.dir, raw.as_bytes(), &self.dir, claim.as_bytes()) {
            Ok(()) => {}
            // Someone else (another appliance on the same share) took it first.
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(e) => return Err(Taking::Failed(io_error(&self.path.join(raw))(e.into()))),
        }
        // A file that is not taken goes back under its own name: for people to see when it is
        // refused, to be taken again when the state directory failed.
        let put_back = || {
            let _ = rustix::fs::renameat(&self.dir, claim.as_bytes(), &self.dir, raw.as_bytes());
        };
        let read = open_regular(self.dir.as_fd(), claim.as_bytes(), self.max_bytes)
            .and_then(|(file, _)| read_bounded(file, self.max_bytes));
        let bytes = match read {
            Ok(bytes) => bytes,
            // Swapped for a link, a FIFO or a bigger file since it was looked at.
            Err(e) => {
                put_back();
                return Err(Taking::Refused(e.to_string()));
            }
        };
        let id = state.take(&bytes, name).inspect_err(|_| put_back()).map_err(Taking::Failed)?;
        match rustix::fs::unlinkat(&self.dir, claim.as_bytes(), AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(Some(id)),
            Err(e) => Err(Taking::Failed(io_error(&self.path.join(&claim))(e.into()))),
        }
    }
}

/// The hidden name a file of the share is claimed under while it is taken: the prefix and its own
/// name, cut to the longest name a file system takes (a claim left by a crash is put back under the
/// rest by [`HotFolder::open`]).
fn claim_name(raw: &OsString) -> OsString {
    let mut claim = CLAIM_PREFIX.as_bytes().to_vec();
    claim.extend(raw.as_bytes().iter().take(NAME_MAX - CLAIM_PREFIX.len()));
    OsString::from_vec(claim)
}

/// Why one file of the share was not taken.
enum Taking {
    /// The file is not acceptable: reported, left in the share.
    Refused(String),
    /// The state directory failed.
    Failed(DriverError),
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
    fn ids_are_hex_hashes_only() {
        let id = HotFileId::of(b"page");
        assert_eq!(id.as_str().parse::<HotFileId>().unwrap(), id);
        for bad in ["", "../keys/seal", &"A".repeat(64), &format!("{}/x", &id.as_str()[..62])] {
            assert!(bad.parse::<HotFileId>().is_err(), "{bad}");
        }
    }
}
