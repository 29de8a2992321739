//! Online backup of a live archive and verified restore.

use domain::AuditAction;
use std::path::Path;

use super::{Archive, ArchiveOptions, FixityReport};
use crate::{ArchiveError, RocksStore, Store};

impl Archive<RocksStore> {
    /// Restores a backup made by [`backup`](Self::backup) into `target` (which must not exist) and
    /// runs fixity on it; a restore that does not verify is removed again and refused. The restore is
    /// recorded in the restored archive's audit trail.
    pub fn restore(
        backup: &Path,
        target: &Path,
        options: ArchiveOptions,
        actor: &str,
    ) -> Result<(Archive, FixityReport), ArchiveError> {
        if target.exists() {
            return Err(ArchiveError::Io {
                path: target.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the restore target exists"),
            });
        }
        let copied = copy_dir(backup, target).and_then(|_| {
            let archive = Archive::open(target, options)?;
            let report = archive.fixity(None, actor)?;
            Ok((archive, report))
        });
        match copied {
            Ok((archive, report)) if report.is_clean() => {
                archive.audit(
                    actor,
                    AuditAction::Restore,
                    &backup.display().to_string(),
                    &format!("{} documents verified", report.documents),
                )?;
                Ok((archive, report))
            }
            other => {
                let problems = match other {
                    Ok((archive, report)) => {
                        drop(archive);
                        report.problems.iter().map(ToString::to_string).collect()
                    }
                    Err(e) => vec![e.to_string()],
                };
                let _ = std::fs::remove_dir_all(target);
                Err(ArchiveError::RestoreFailed { path: backup.to_owned(), problems })
            }
        }
    }
}

impl<S: Store> Archive<S> {
    /// Writes a consistent copy of the archive into `dir` (which must not exist) while it stays in
    /// use, in files of its own (none shared with the live archive, even on its file system), and
    /// records the backup in the audit trail.
    pub fn backup(&self, dir: &Path, actor: &str) -> Result<(), ArchiveError> {
        self.exclusive(|_, s| {
            s.audit(actor, AuditAction::Backup, &dir.display().to_string(), "RocksDB checkpoint");
            Ok(())
        })?;
        self.exclusive(|a, _| a.store.snapshot_to(dir))?;
        // Outside the exclusive section: copying the page images must not hold commits up, and the
        // files the snapshot shares never change.
        crate::store::unshare_files(dir)
    }
}

/// Copies a directory of plain files (a RocksDB checkpoint), syncing each file.
fn copy_dir(from: &Path, to: &Path) -> Result<(), ArchiveError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ArchiveError::Io { path, source }
    };
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let dest = to.join(entry.file_name());
        if entry.file_type().map_err(io(&entry.path()))?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest).map_err(io(&dest))?;
            std::fs::File::open(&dest).and_then(|f| f.sync_all()).map_err(io(&dest))?;
        }
    }
    Ok(())
}
