//! What an audit entry says was done: one closed list, so that every front end and every crate writes
//! the same word for the same act, and an auditor's filter on a word finds every such act.

use std::fmt;
use std::str::FromStr;

use crate::{DomainError, Reason};

/// An act recorded in the audit trail. The stored form is the kebab-case word of [`as_str`]
/// (unchanged from the trails written before this type existed, so old entries still read).
///
/// [`as_str`]: AuditAction::as_str
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A document was archived: read, signed and logged (after its capture, or at once).
    Ingest,
    /// A document was captured: its pages are durable and sealed, its reading is queued.
    Capture,
    /// A document arrived in a bag from another appliance.
    Import,
    /// Documents were written out as a bag.
    Export,
    /// A document's record was read.
    View,
    /// A document's OCR text was read.
    ViewText,
    /// A document's signed PDF was read.
    Download,
    /// A full-text search.
    Search,
    /// A logged-in user verified a document by its code.
    Verify,
    /// A logged-in user verified an uploaded PDF.
    VerifyFile,
    /// Anonymous verifications on the public page, counted per interval.
    PublicVerify,
    /// A document was revoked.
    Revoke,
    /// A document's retention class was changed.
    Retention,
    /// A hold was placed (on the hold, and on each document it covers).
    Hold,
    /// A hold was released (on the hold, and on each document it covered).
    Release,
    /// A document's retention ended and it awaits review.
    Eligible,
    /// A disposition review: approved for destruction, or kept longer.
    Review,
    /// Destruction requested under a council decision.
    DestroyRequest,
    /// Destruction confirmed by a second person and carried out.
    Destroy,
    /// A fixity run over the whole archive.
    Fixity,
    /// An inclusion proof was read.
    LogProve,
    /// A consistency proof was read.
    LogConsistency,
    /// The audit trail was read.
    AuditRead,
    /// A consistent copy of the archive was written.
    Backup,
    /// An archive was restored from a backup.
    Restore,
    /// The search index was rebuilt from the archive.
    Reindex,
    /// The seal key was replaced.
    KeyChange,
    /// The public seal keys were read.
    KeyExport,
    /// The owner's documents in force were looked up for reuse.
    ReuseLookup,
    /// A dossier was recorded as reusing a document.
    Reuse,
    /// The reuse rate was read.
    ReuseReport,
    /// A user logged in.
    Login,
    /// Failed logins under one name (or under names that are no account), counted per interval.
    LoginFailed,
    /// A user logged out.
    Logout,
    /// A user changed their password.
    PasswordChanged,
    /// An account was made, or its role and password set.
    UserSet,
    /// An account was disabled.
    UserDisabled,
    /// An account was enabled again.
    UserEnabled,
    /// An admin set a new password on an account.
    PasswordReset,
    /// An admin gave an account another role.
    RoleChanged,
    /// An admin issued an access token for a scanning station, an integration or monitoring.
    TokenIssued,
    /// An admin revoked an access token.
    TokenRevoked,
    /// An operator confirmed a hot-folder file, which was then archived.
    HotfolderConfirm,
    /// A hot-folder file an operator confirmed was refused by capture.
    HotfolderRefused,
    /// An operator rejected a hot-folder file.
    HotfolderReject,
    /// A dossier code was allocated to a dossier being received.
    DossierAllocate,
    /// Archived documents were copied to the province's object store.
    Replicate,
    /// The object store's copies were checked against the archive.
    RemoteFixity,
    /// The other offices' archive logs were witnessed from their published checkpoints.
    ProvinceFixity,
    /// Archived documents were published to the province index.
    Publish,
    /// The province was asked for documents of other offices (reuse lookup or full text).
    ProvinceLookup,
}

impl AuditAction {
    /// Every action, in the order above.
    pub const ALL: [AuditAction; 51] = [
        AuditAction::Ingest,
        AuditAction::Capture,
        AuditAction::Import,
        AuditAction::Export,
        AuditAction::View,
        AuditAction::ViewText,
        AuditAction::Download,
        AuditAction::Search,
        AuditAction::Verify,
        AuditAction::VerifyFile,
        AuditAction::PublicVerify,
        AuditAction::Revoke,
        AuditAction::Retention,
        AuditAction::Hold,
        AuditAction::Release,
        AuditAction::Eligible,
        AuditAction::Review,
        AuditAction::DestroyRequest,
        AuditAction::Destroy,
        AuditAction::Fixity,
        AuditAction::LogProve,
        AuditAction::LogConsistency,
        AuditAction::AuditRead,
        AuditAction::Backup,
        AuditAction::Restore,
        AuditAction::Reindex,
        AuditAction::KeyChange,
        AuditAction::KeyExport,
        AuditAction::ReuseLookup,
        AuditAction::Reuse,
        AuditAction::ReuseReport,
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::PasswordChanged,
        AuditAction::UserSet,
        AuditAction::UserDisabled,
        AuditAction::UserEnabled,
        AuditAction::PasswordReset,
        AuditAction::RoleChanged,
        AuditAction::TokenIssued,
        AuditAction::TokenRevoked,
        AuditAction::HotfolderConfirm,
        AuditAction::HotfolderRefused,
        AuditAction::HotfolderReject,
        AuditAction::DossierAllocate,
        AuditAction::Replicate,
        AuditAction::RemoteFixity,
        AuditAction::ProvinceFixity,
        AuditAction::Publish,
        AuditAction::ProvinceLookup,
    ];

    /// The word stored in the trail.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::Ingest => "ingest",
            AuditAction::Import => "import",
            AuditAction::Export => "export",
            AuditAction::View => "view",
            AuditAction::ViewText => "view-text",
            AuditAction::Download => "download",
            AuditAction::Search => "search",
            AuditAction::Verify => "verify",
            AuditAction::VerifyFile => "verify-file",
            AuditAction::PublicVerify => "public-verify",
            AuditAction::Revoke => "revoke",
            AuditAction::Retention => "retention",
            AuditAction::Hold => "hold",
            AuditAction::Release => "release",
            AuditAction::Eligible => "eligible",
            AuditAction::Review => "review",
            AuditAction::DestroyRequest => "destroy-request",
            AuditAction::Destroy => "destroy",
            AuditAction::Fixity => "fixity",
            AuditAction::LogProve => "log-prove",
            AuditAction::LogConsistency => "log-consistency",
            AuditAction::AuditRead => "audit-read",
            AuditAction::Backup => "backup",
            AuditAction::Restore => "restore",
            AuditAction::Reindex => "reindex",
            AuditAction::KeyChange => "key-change",
            AuditAction::KeyExport => "key-export",
            AuditAction::ReuseLookup => "reuse-lookup",
            AuditAction::Reuse => "reuse",
            AuditAction::ReuseReport => "reuse-report",
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login-failed",
            AuditAction::Logout => "logout",
            AuditAction::PasswordChanged => "password-changed",
            AuditAction::UserSet => "user-set",
            AuditAction::UserDisabled => "user-disabled",
            AuditAction::UserEnabled => "user-enabled",
            AuditAction::PasswordReset => "password-reset",
            AuditAction::RoleChanged => "role-changed",
            AuditAction::TokenIssued => "token-issued",
            AuditAction::TokenRevoked => "token-revoked",
            AuditAction::HotfolderConfirm => "hotfolder-confirm",
            AuditAction::HotfolderRefused => "hotfolder-refused",
            AuditAction::HotfolderReject => "hotfolder-reject",
            AuditAction::DossierAllocate => "dossier-allocate",
            AuditAction::Capture => "capture",
            AuditAction::Replicate => "replicate",
            AuditAction::RemoteFixity => "remote-fixity",
            AuditAction::ProvinceFixity => "province-fixity",
            AuditAction::Publish => "publish",
            AuditAction::ProvinceLookup => "province-lookup",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            DomainError::code(
                "audit action",
                s,
                Reason::new(
                    "not an action the audit trail records",
                    "Không phải một hành động mà nhật ký kiểm tra ghi lại",
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_word_and_the_words_are_distinct() {
        let mut words: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>().unwrap(), action);
        }
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), AuditAction::ALL.len());
        assert!("delete".parse::<AuditAction>().is_err());
    }
}
