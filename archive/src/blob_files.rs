//! Large blobs as files of their own: `blobs/<BLAKE3 hex>` in the store's directory, each written
//! once, straight to its file, instead of through RocksDB's write-ahead log and again into a blob
//! file at flush.
//!
//! A blob file is written under a scratch name created exclusively, its data synced (`fdatasync`),
//! renamed to its address, and the directory synced, all before the batch that refers to it is
//! applied: a batch never refers to a file that a crash could lose. A crash between the file and the
//! batch leaves a file nothing refers to; [`BlobFiles::sweep`] removes those (and scratch files) when
//! the store is opened, before anything is committed. Every name is resolved relative to the
//! directory's descriptor, and no call follows a symbolic link: a link planted in the directory is
//! read as a damaged blob, never as the file it points to. Nothing trusts a file's name: the archive
//! checks the content's hash on every read.

use std::fs::File;
use std::io::Write;
use std::ops::ControlFlow;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use domain::BlobHash;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::ArchiveError;
use crate::spool::{Scratch, SpoolFile, Spooled};

/// The directory, inside the store's, that holds the blob files.
pub(crate) const BLOB_DIR: &str = "blobs";

/// How many blob files are written and synced together: enough for one journal commit to cover a
/// typical document's pages, few enough that the open files and threads stay bounded.
const PARALLEL_SYNCS: usize = 16;

/// Scratch files start with this; an address never does (it is hexadecimal).
const SCRATCH_PREFIX: &str = ".scratch-";

/// The blob files of one store (see the module's documentation).
pub(crate) struct BlobFiles {
    path: PathBuf,
    /// Shared with the scratch files of [`SpoolFile`]s, which remove themselves when dropped.
    dir: Arc<OwnedFd>,
    /// Numbers scratch names: the store's lock keeps other processes out, so a name unique within
    /// this process is unique.
    scratch: AtomicU64,
    /// Tells this opening's spool files from those of an earlier opening in the same process, whose
    /// handles may outlive it: dropped, one of those must not remove a file of this one.
    opening: String,
}

impl BlobFiles {
    /// Opens (creating if need be, owner only) the blob directory in the store's directory `store`,
    /// without following a link.
    pub(crate) fn open(store: &Path) -> Result<Self, ArchiveError> {
        let path = store.join(BLOB_DIR);
        let dir = {
            let io = io_error(&path);
            let parent = rustix::fs::open(store, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| io(e.into()))?;
            match rustix::fs::mkdirat(&parent, BLOB_DIR, Mode::from_raw_mode(0o700)) {
                // A new directory's name must be durable before a batch refers to a file in it.
                Ok(()) => rustix::fs::fsync(&parent).map_err(|e| io(e.into()))?,
                Err(Errno::EXIST) => {}
                Err(e) => return Err(io(e.into())),
            }
            rustix::fs::openat(
                &parent,
                BLOB_DIR,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io(e.into()))?
        };
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let opening = format!("{:x}", since_epoch.as_nanos());
        Ok(BlobFiles { path, dir: Arc::new(dir), scratch: AtomicU64::new(0), opening })
    }

    /// Writes each blob that has no file yet as its file, and returns once all of them are durable:
    /// data, names and the directory synced. A file already at an address is kept as it is (it was
    /// synced before it got its name), but the directory is synced all the same, because the
    /// writer that renamed it may not have synced it yet. The caller vouches that each content
    /// hashes to its address.
    pub(crate) fn put(&self, blobs: &[(BlobHash, &[u8])]) -> Result<(), ArchiveError> {
        if blobs.is_empty() {
            return Ok(());
        }
        let mut missing = Vec::with_capacity(blobs.len());
        for (hash, content) in blobs {
            let name = hash.to_hex();
            match rustix::fs::statat(&self.dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(_) => {}
                Err(Errno::NOENT) => missing.push((name, *content)),
                Err(e) => return Err(self.error(&name, e.into())),
            }
        }
        for chunk in missing.chunks(PARALLEL_SYNCS) {
            self.put_chunk(chunk)?;
        }
        rustix::fs::fsync(&self.dir).map_err(|e| self.error("", e.into()))
    }

    /// A new scratch file for content streamed before its commit (see [`crate::spool`]).
    pub(crate) fn spool(&self) -> Result<SpoolFile, ArchiveError> {
        let name = format!("{SCRATCH_PREFIX}spool.{}.{}", self.opening, self.scratch.fetch_add(1, Ordering::Relaxed));
        let file = self.create_new(&name, OFlags::RDWR).map_err(|e| self.error(&name, e))?;
        Ok(SpoolFile::new(file, Scratch { dir: Arc::clone(&self.dir), name, path: self.path.clone() }))
    }

    /// Gives each spooled blob its address (replacing a file already there, which holds the same
    /// content) and syncs the directory, so that a batch applied afterwards may refer to them.
    /// Called under the writer lock, where no blob file is removed.
    pub(crate) fn adopt(&self, spooled: &[&Spooled]) -> Result<(), ArchiveError> {
        if spooled.is_empty() {
            return Ok(());
        }
        for blob in spooled {
            let scratch = &blob.scratch;
            // A spooled file of another store would move across directories, and the sync below
            // would not cover the directory it left.
            if !Arc::ptr_eq(&scratch.dir, &self.dir) {
                return Err(scratch.error(std::io::Error::other("spooled by another archive, not this one")));
            }
            rustix::fs::renameat(&scratch.dir, scratch.name.as_str(), &self.dir, blob.hash().to_hex().as_str())
                .map_err(|e| scratch.error(e.into()))?;
        }
        rustix::fs::fsync(&self.dir).map_err(|e| self.error("", e.into()))
    }

    /// Writes each blob of `chunk` under a scratch name and syncs its data, all concurrently (the
    /// file system commits its journal once for syncs that wait together, where one after the
    /// other each would pay for a commit), then renames each to its address. On failure, removes
    /// the scratch files.
    fn put_chunk(&self, chunk: &[(String, &[u8])]) -> Result<(), ArchiveError> {
        let mut scratch = Vec::with_capacity(chunk.len());
        let written = (|| {
            let mut files = Vec::with_capacity(chunk.len());
            for (name, _) in chunk {
                let path = format!("{SCRATCH_PREFIX}{name}.{}", self.scratch.fetch_add(1, Ordering::Relaxed));
                files.push(self.create_new(&path, OFlags::WRONLY).map_err(|e| self.error(&path, e))?);
                scratch.push(path);
            }
            std::thread::scope(|threads| {
                let syncs: Vec<_> = files
                    .into_iter()
                    .zip(chunk)
                    .zip(&scratch)
                    .map(|((mut file, (_, content)), path)| {
                        threads.spawn(move || {
                            file.write_all(content)
                                .and_then(|()| Ok(rustix::fs::fdatasync(&file)?))
                                .map_err(|e| self.error(path, e))
                        })
                    })
                    .collect();
                syncs.into_iter().try_for_each(|sync| sync.join().expect("a write does not panic"))
            })?;
            for ((name, _), path) in chunk.iter().zip(&scratch) {
                // Replaces the name itself (a link planted there included), never what it names.
                rustix::fs::renameat(&self.dir, path.as_str(), &self.dir, name.as_str())
                    .map_err(|e| self.error(path, e.into()))?;
            }
            Ok(())
        })();
        if written.is_err() {
            for path in &scratch {
                let _ = rustix::fs::unlinkat(&self.dir, path.as_str(), AtFlags::empty());
            }
        }
        written
    }

    /// Creates `name` exclusively, for writing (`access` WRONLY) or also for reading back (RDWR):
    /// never through a link or over a file.
    fn create_new(&self, name: &str, access: OFlags) -> std::io::Result<File> {
        let fd = rustix::fs::openat(
            &self.dir,
            name,
            access | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        Ok(File::from(fd))
    }

    /// Opens the file of `hash` for reading, if there is one: only a regular file, never through a
    /// link (one is reported as damage), with its size.
    pub(crate) fn open_blob(&self, hash: &BlobHash) -> Result<Option<(File, u64)>, ArchiveError> {
        let name = hash.to_hex();
        let fd = match rustix::fs::openat(
            &self.dir,
            name.as_str(),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(Errno::LOOP) => {
                return Err(self.error(&name, invalid("is a symbolic link, which is never followed")));
            }
            Err(e) => return Err(self.error(&name, e.into())),
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| self.error(&name, e.into()))?;
        let kind = FileType::from_raw_mode(stat.st_mode);
        if kind != FileType::RegularFile {
            return Err(self.error(&name, invalid(format!("is not a regular file but {kind:?}"))));
        }
        Ok(Some((File::from(fd), stat.st_size as u64)))
    }

    /// Removes the file of `hash`; absent is fine.
    pub(crate) fn remove(&self, hash: &BlobHash) -> Result<(), ArchiveError> {
        let name = hash.to_hex();
        match rustix::fs::unlinkat(&self.dir, name.as_str(), AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(self.error(&name, e.into())),
        }
    }

    /// Visits the address of every blob file, until `visit` breaks. Scratch files and names that
    /// are not an address are skipped.
    fn each(&self, visit: &mut dyn FnMut(BlobHash) -> ControlFlow<()>) -> Result<(), ArchiveError> {
        let listing = rustix::fs::Dir::read_from(&self.dir).map_err(|e| self.error("", e.into()))?;
        for entry in listing {
            let entry = entry.map_err(|e| self.error("", e.into()))?;
            if let Some(hash) = address_of(entry.file_name().to_bytes())
                && visit(hash).is_break()
            {
                break;
            }
        }
        Ok(())
    }

    /// Removes what a crash can leave: scratch files, and the file of every blob that
    /// `referenced` says nothing refers to. Run when the store is opened, before any commit, since a
    /// commit's files have no reference until its batch is applied. Names that are neither are
    /// left alone. Returns how many files were removed.
    pub(crate) fn sweep(
        &self,
        referenced: &mut dyn FnMut(&BlobHash) -> Result<bool, ArchiveError>,
    ) -> Result<u64, ArchiveError> {
        let mut doomed = Vec::new();
        let listing = rustix::fs::Dir::read_from(&self.dir).map_err(|e| self.error("", e.into()))?;
        for entry in listing {
            let entry = entry.map_err(|e| self.error("", e.into()))?;
            let name = entry.file_name().to_bytes();
            if name.starts_with(SCRATCH_PREFIX.as_bytes()) {
                doomed.push(name.to_vec());
            } else if let Some(hash) = address_of(name)
                && !referenced(&hash)?
            {
                doomed.push(name.to_vec());
            }
        }
        for name in &doomed {
            match rustix::fs::unlinkat(&self.dir, name.as_slice(), AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(e) => return Err(self.error(&String::from_utf8_lossy(name), e.into())),
            }
        }
        Ok(doomed.len() as u64)
    }

    /// Hard-links the file of each blob `wanted` into `to` (a new directory of a backup), copying
    /// it instead across file systems; syncs `to`. Returns how many files it holds.
    pub(crate) fn link_into(
        &self,
        to: &Path,
        wanted: &mut dyn FnMut(&BlobHash) -> Result<bool, ArchiveError>,
    ) -> Result<u64, ArchiveError> {
        let io = io_error(to);
        std::fs::create_dir(to).map_err(&io)?;
        let target = rustix::fs::open(
            to,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io(e.into()))?;
        let mut hashes = Vec::new();
        self.each(&mut |hash| {
            hashes.push(hash);
            ControlFlow::Continue(())
        })?;
        let mut linked = 0;
        for hash in hashes {
            if !wanted(&hash)? {
                continue;
            }
            let name = hash.to_hex();
            match rustix::fs::linkat(&self.dir, name.as_str(), &target, name.as_str(), AtFlags::empty()) {
                Ok(()) => {}
                Err(Errno::XDEV) => self.copy_to(&hash, &target)?,
                Err(e) => return Err(self.error(&name, e.into())),
            }
            linked += 1;
        }
        rustix::fs::fsync(&target).map_err(|e| io(e.into()))?;
        Ok(linked)
    }

    /// Copies the file of `hash` into the directory `target`, synced.
    fn copy_to(&self, hash: &BlobHash, target: &OwnedFd) -> Result<(), ArchiveError> {
        let name = hash.to_hex();
        let (mut from, _) = self.open_blob(hash)?.ok_or(ArchiveError::MissingBlob(*hash))?;
        let fd = rustix::fs::openat(
            target,
            name.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| self.error(&name, e.into()))?;
        let mut to = File::from(fd);
        std::io::copy(&mut from, &mut to).and_then(|_| to.sync_data()).map_err(|e| self.error(&name, e))
    }

    fn error(&self, name: &str, source: std::io::Error) -> ArchiveError {
        ArchiveError::Io { path: self.path.join(name), source }
    }
}

/// The blob an entry's name addresses: exactly the 64 lower-case hexadecimal digits of its hash.
fn address_of(name: &[u8]) -> Option<BlobHash> {
    let name = std::str::from_utf8(name).ok()?;
    let hash: BlobHash = name.parse().ok()?;
    (hash.to_hex() == name).then_some(hash)
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io { path: path.to_owned(), source }
}

fn invalid(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.into())
}
