//! Moving documents out of and into the appliance: BagIt bags to and from another appliance or the
//! archives, and backups. The command line names any directory; over HTTP a client names a directory
//! inside the appliance's transfer directory only ([`Appliance::transfer_path`]), so that no request
//! can make the appliance write or read elsewhere on its disk.

use std::path::{Path, PathBuf};

use serde::Serialize;
use signer::KeyId;
use utoipa::ToSchema;

use super::{ADMINS, Permit};
use crate::appliance::BackupKeys;
use crate::users::Role;
use domain::AuditAction;

use crate::{Appliance, ApplianceError};

/// Exporting a document or a dossier as a bag.
pub const EXPORT: Permit = Permit { what: "export bags", roles: Role::ARCHIVISTS };
/// Importing a bag.
pub const IMPORT: Permit = Permit { what: "import bags", roles: Role::ARCHIVISTS };
/// Writing a backup.
pub const BACKUP: Permit = Permit { what: "write backups", roles: ADMINS };

/// The directory under the data directory that HTTP clients' bags and backups are written to and
/// read from.
const TRANSFER_DIR: &str = "transfer";

/// A bag written.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Exported {
    /// Where the bag is.
    pub bag: String,
    /// The documents in it.
    pub documents: Vec<String>,
}

/// A bag taken in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Imported {
    /// The documents archived from it.
    pub imported: Vec<String>,
}

/// A backup written.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BackupWritten {
    /// Where the backup is.
    pub backup: String,
    /// The seal keys it carries, which a restore must be told to expect.
    #[schema(value_type = Object)]
    pub keys: BackupKeys,
}

/// A backup restored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Restored {
    /// The backup restored from.
    pub backup: String,
    /// The documents restored, each checked by fixity with the expected keys.
    pub documents: u64,
}

impl Appliance {
    /// Exports a document, or every document of a dossier, as a BagIt bag in `out` (which must not
    /// exist); `progress` hears (done, total) documents.
    pub fn export(
        &self,
        code: &str,
        out: &Path,
        actor: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Exported, ApplianceError> {
        let documents = self.export_bag(code, out, actor, progress)?;
        Ok(Exported { bag: out.display().to_string(), documents })
    }

    /// Imports a bag after verifying everything in it; `trust` names the sending appliance's seal keys
    /// compared out of band.
    pub fn import(&self, dir: &Path, trust: &[KeyId], actor: &str) -> Result<Imported, ApplianceError> {
        Ok(Imported { imported: self.import_bag(dir, trust, actor)? })
    }

    /// Writes a consistent copy of the archive and the public seal keys to `dir`, which must not exist.
    pub fn write_backup(&self, dir: &Path, actor: &str) -> Result<BackupWritten, ApplianceError> {
        let keys = self.backup(dir, actor)?;
        Ok(BackupWritten { backup: dir.display().to_string(), keys })
    }

    /// The bag `name` of the transfer directory as one tar file, for a browser to download (bags are
    /// folders); the download is audited, since a bag holds its documents' content.
    pub fn bag_tar(&self, name: &str, actor: &str) -> Result<Vec<u8>, ApplianceError> {
        let dir = self.transfer_path(name)?;
        if !std::fs::symlink_metadata(dir.join("bagit.txt")).is_ok_and(|m| m.is_file()) {
            return Err(ApplianceError::NotFound(format!("there is no bag {name:?} in the transfer directory")));
        }
        let tar = crate::tar::folder(&dir, name)
            .map_err(|e| anyhow::anyhow!("cannot read the bag {}: {e}", dir.display()))?;
        self.audit(actor, AuditAction::Download, &format!("bag {name}"), &format!("{} bytes as tar", tar.len()))?;
        Ok(tar)
    }

    /// The directory `name` inside the transfer directory, for a client that may not name paths:
    /// `name` is 1-64 ASCII letters, digits, '.', '_' or '-', not starting with '.'.
    pub fn transfer_path(&self, name: &str) -> Result<PathBuf, ApplianceError> {
        let ok = (1..=64).contains(&name.len())
            && !name.starts_with('.')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !ok {
            return Err(ApplianceError::Input(format!(
                "{name:?}: a transfer directory is named by 1-64 ASCII letters, digits, '.', '_' or '-', not starting with '.'"
            )));
        }
        let dir = self.data_dir().join(TRANSFER_DIR);
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(anyhow::anyhow!("cannot create {}: {e}", dir.display()).into());
            }
            _ => {}
        }
        // The directory is the appliance's own: a link in its place would send bags and backups, or
        // take them, wherever it points.
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return Err(anyhow::anyhow!("{} is not a directory of the appliance's own", dir.display()).into());
        }
        Ok(dir.join(name))
    }
}

impl Restored {
    /// What a restore reports.
    pub fn of(backup: &Path, report: &archive::FixityReport) -> Self {
        Restored { backup: backup.display().to_string(), documents: report.documents }
    }
}
