//! Content written before the commit that refers to it, so that a document of any length is never
//! held whole in memory: its PDF streamed to a file as its pages are read and then signed, or a
//! large page image written as soon as it is made. A [`SpoolFile`] is a file of the blob directory
//! under a scratch name, hashed as it is written; [`SpoolFile::finish`] syncs it and gives the
//! [`Spooled`] blob that a [`Content::Spooled`](crate::Content::Spooled) hands to a commit, which
//! renames it to its address under the writer lock, syncs the directory, and only then applies the
//! batch that counts a reference to it.
//!
//! Until then the file is scratch: dropping the handle removes it, and after a crash the store's
//! opening sweeps it with every other scratch file. It is created exclusively, never through a
//! link, and only this process writes it (the store's lock keeps others out).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

use domain::BlobHash;
use rustix::fs::AtFlags;

use crate::ArchiveError;

/// A scratch name in the blob directory, removed when dropped unless a commit renamed it first.
#[derive(Debug)]
pub(crate) struct Scratch {
    pub(crate) dir: Arc<OwnedFd>,
    pub(crate) name: String,
    /// The directory's path, for errors.
    pub(crate) path: PathBuf,
}

impl Scratch {
    pub(crate) fn error(&self, source: std::io::Error) -> ArchiveError {
        ArchiveError::Io { path: self.path.join(&self.name), source }
    }

    /// `source` with this file's path in its message, for callers that see only I/O errors (a
    /// writer or a reader).
    fn named(&self, source: std::io::Error) -> std::io::Error {
        std::io::Error::new(source.kind(), format!("{}: {source}", self.path.join(&self.name).display()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Gone already when a commit gave the file its address (NOENT). Any other failure leaves
        // a scratch file that the store's next opening sweeps, which is all a drop could do.
        let _ = rustix::fs::unlinkat(&self.dir, self.name.as_str(), AtFlags::empty());
    }
}

/// A blob being written to the archive before its commit (see the module's documentation). Write
/// to it, read back what is written with [`written`](Self::written), and [`finish`](Self::finish) it.
pub struct SpoolFile {
    out: BufWriter<File>,
    hasher: blake3::Hasher,
    len: u64,
    scratch: Scratch,
}

impl SpoolFile {
    pub(crate) fn new(file: File, scratch: Scratch) -> Self {
        // Large writes (page images) go straight through; the buffer gathers the small objects
        // of a PDF between them.
        SpoolFile { out: BufWriter::with_capacity(256 << 10, file), hasher: blake3::Hasher::new(), len: 0, scratch }
    }

    /// Writes all of `bytes`, as the archive reports errors.
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), ArchiveError> {
        self.out.write_all(bytes).map_err(|e| self.scratch.error(e))?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// A reader over everything written so far, from its first byte, which leaves the writing
    /// where it is: what a signature hashes before its own bytes are appended.
    pub fn written(&mut self) -> Result<WrittenReader<'_>, ArchiveError> {
        self.out.flush().map_err(|e| self.scratch.error(e))?;
        Ok(WrittenReader { file: self.out.get_ref(), at: 0, end: self.len, scratch: &self.scratch })
    }

    /// Syncs the file's data and returns the blob, addressed by the hash of everything written.
    pub fn finish(self) -> Result<Spooled, ArchiveError> {
        let SpoolFile { out, hasher, len, scratch } = self;
        let file = out.into_inner().map_err(|e| scratch.error(e.into_error()))?;
        rustix::fs::fdatasync(&file).map_err(|e| scratch.error(e.into()))?;
        Ok(Spooled { hash: BlobHash::from_bytes(*hasher.finalize().as_bytes()), len, scratch })
    }
}

impl Write for SpoolFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf).map_err(|e| self.scratch.named(e))?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush().map_err(|e| self.scratch.named(e))
    }
}

/// Reads what a [`SpoolFile`] holds, by position, without moving its writing.
pub struct WrittenReader<'a> {
    file: &'a File,
    at: u64,
    end: u64,
    scratch: &'a Scratch,
}

impl Read for WrittenReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf.len().min((self.end - self.at).try_into().unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.at).map_err(|e| self.scratch.named(e))?;
        if n == 0 {
            let short = std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{} bytes were written, but the file ends at {}", self.end, self.at),
            );
            return Err(self.scratch.named(short));
        }
        self.at += n as u64;
        Ok(n)
    }
}

/// A blob whose content is a synced scratch file of the blob directory, waiting for the commit
/// that gives it its address; dropped without one, its file is removed.
#[derive(Debug)]
pub struct Spooled {
    hash: BlobHash,
    len: u64,
    pub(crate) scratch: Scratch,
}

impl Spooled {
    /// The BLAKE3 of its content, computed as it was written.
    pub fn hash(&self) -> BlobHash {
        self.hash
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
