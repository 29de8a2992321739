//! The operations layer: every operation of the appliance exists once, as a method on [`Appliance`]
//! with typed input and a typed, `Serialize` result. Each operation writes its own audit entry and
//! brings search up to date itself after a change, so that a front end cannot forget either. The
//! command line ([`crate::cli`]) and the HTTP API ([`crate::server`]) are adapters: they parse, check the
//! caller's role against the operation's [`Permit`], call, and print or serialise the result; neither
//! reaches into the archive or the search index. (The model is rustic_core's `commands/`: one file per
//! group of operations, one-line entry points on the repository type.)
//!
//! Capture, verification, reuse, bags and the hot folder keep their operations in their own modules
//! ([`crate::appliance`], [`crate::verify`], [`crate::reuse`], `bag`, [`crate::hotfolder`]) under the same
//! rules.

pub mod accounts;
pub mod configuration;
pub mod dashboard;
pub mod disposition;
pub mod documents;
pub mod dossiers;
pub mod integrity;
pub mod keys;
pub mod lifecycle;
pub mod province;
pub mod replication;
pub mod sessions;
pub mod transfer;

use domain::AuditAction;

use crate::users::Role;
use crate::{Appliance, ApplianceError};

/// Who may run an operation: the roles, and what the operation does in words for the refusal
/// ("the officer role may not place holds"). One constant per operation, read by every front end, so
/// that the CLI and HTTP cannot allow different things.
#[derive(Debug, Clone, Copy)]
pub struct Permit {
    /// What the operation does, for messages: "revoke documents".
    pub what: &'static str,
    /// The roles that may run it.
    pub roles: &'static [Role],
}

impl Permit {
    /// Whether `role` may run the operation.
    pub fn allows(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Roles that read the archive's state without changing documents: holds, the disposition list,
/// retention classes, the log.
pub const INSPECTORS: &[Role] = &[Role::Archivist, Role::Auditor, Role::Admin];
/// Roles that check the archive as a whole: fixity and the audit trail.
pub const AUDITORS: &[Role] = &[Role::Auditor, Role::Admin];
/// Administrators alone.
pub const ADMINS: &[Role] = &[Role::Admin];

impl Appliance {
    /// Records an act in the audit trail, in a synced write of its own.
    pub(crate) fn audit(
        &self,
        actor: &str,
        action: AuditAction,
        target: &str,
        detail: &str,
    ) -> Result<(), ApplianceError> {
        self.archive().audit(actor, action, target, detail)?;
        Ok(())
    }
}
