//! User accounts: logging in and out, passwords, the first admin, and an admin's management of other
//! accounts. Passwords are hashed with argon2id in [`crate::users`]; this module decides what is
//! recorded in the audit trail.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use domain::AuditAction;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ADMINS, Permit};
use crate::users::{self, Login, Role};
use crate::{Appliance, ApplianceError};

/// Managing other users' accounts.
pub const MANAGE_USERS: Permit = Permit { what: "manage users", roles: ADMINS };

/// An account after a change by an admin.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserChanged {
    /// The account's name.
    pub user: String,
    /// Its role, when the change set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Whether it is disabled now.
    pub disabled: bool,
}

/// An account, without its password.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserInfo {
    /// The account's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// When it was created.
    pub created_at: DateTime<FixedOffset>,
    /// When it was disabled, if it is.
    pub disabled_at: Option<DateTime<FixedOffset>>,
}

/// The accounts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserList {
    /// By name.
    pub users: Vec<UserInfo>,
}

/// The audit actor of what the appliance does by itself on first start.
const SYSTEM: &str = "system";

/// The audit actor of what clients do before they log in.
const ANONYMOUS: &str = "anonymous";

/// The audit target of failed logins under names that are no account.
pub const UNKNOWN_USERS: &str = "(unknown user names)";

impl Appliance {
    /// Whether any account exists (before the first, the command line may make one without a login).
    pub fn has_users(&self) -> Result<bool, ApplianceError> {
        Ok(self.archive().has_users()?)
    }

    /// Checks a password against an account. A login is recorded with `from` (the client's address or
    /// `cli`); a refusal is not recorded here, since refusals are counted and written in aggregate by
    /// the caller (one anonymous client must not be able to grow the trail by one entry a try).
    pub fn log_in(&self, name: &str, password: &str, from: &str) -> Result<Login, ApplianceError> {
        let outcome = users::authenticate(self.archive(), name, password)?;
        if let Login::Accepted(_) = outcome {
            self.audit(name, AuditAction::Login, name, &format!("from {from}"))?;
        }
        Ok(outcome)
    }

    /// Records failed logins counted over an interval: under one account's name, or (`None`) under
    /// names that are no account, which are never spelled out.
    pub fn record_failed_logins(&self, name: Option<&str>, detail: &str) -> Result<(), ApplianceError> {
        self.audit(ANONYMOUS, AuditAction::LoginFailed, name.unwrap_or(UNKNOWN_USERS), detail)
    }

    /// Ends the session `session` of the user `name` (a logout), and records it.
    pub fn log_out(&self, name: &str, session: &[u8; 32]) -> Result<(), ApplianceError> {
        self.close_session(session)?;
        self.audit(name, AuditAction::Logout, name, "")
    }

    /// Replaces a user's own password after checking the current one; `Ok(false)` when the current
    /// password is wrong. The user's other sessions end (`keep` is the one that asked); the first
    /// admin's password file goes once that password is replaced.
    pub fn change_password(
        &self,
        name: &str,
        current: &str,
        new: &str,
        keep: Option<&[u8; 32]>,
    ) -> Result<bool, ApplianceError> {
        if !matches!(users::authenticate(self.archive(), name, current)?, Login::Accepted(_)) {
            return Ok(false);
        }
        users::set_password(self.archive(), name, new)?;
        self.end_sessions_of(name, keep)?;
        self.remove_initial_admin_password(name)?;
        self.audit(name, AuditAction::PasswordChanged, name, "")?;
        Ok(true)
    }

    /// The accounts, by name.
    pub fn users(&self) -> Result<UserList, ApplianceError> {
        let users = self
            .archive()
            .users()?
            .into_iter()
            .map(|u| {
                Ok(UserInfo {
                    role: u.role.parse()?,
                    name: u.name,
                    created_at: u.created_at,
                    disabled_at: u.disabled_at,
                })
            })
            .collect::<Result<_, ApplianceError>>()?;
        Ok(UserList { users })
    }

    /// Creates an account; refused if the name is taken (an admin resets a password or changes a
    /// role on purpose, with [`reset_password`](Self::reset_password) or [`set_role`](Self::set_role)).
    pub fn create_user(
        &self,
        name: &str,
        role: Role,
        password: &str,
        actor: &str,
    ) -> Result<UserChanged, ApplianceError> {
        users::check_name(name)?;
        if self.archive().user(name)?.is_some() {
            return Err(ApplianceError::Input(format!(
                "the user {name:?} exists: an admin resets its password or changes its role instead"
            )));
        }
        users::set_user(self.archive(), name, role, password)?;
        self.audit(actor, AuditAction::UserSet, name, role.as_str())?;
        Ok(UserChanged { user: name.to_owned(), role: Some(role), disabled: false })
    }

    /// An admin sets a new password on an account (its user forgot theirs); its sessions end.
    pub fn reset_password(&self, name: &str, password: &str, actor: &str) -> Result<UserChanged, ApplianceError> {
        users::set_password(self.archive(), name, password)?;
        self.end_sessions_of(name, None)?;
        self.audit(actor, AuditAction::PasswordReset, name, "")?;
        self.user_changed(name)
    }

    /// An admin gives an account another role; its open sessions take the new role at their next
    /// request. An admin cannot take the role from themselves, so that one admin always remains.
    pub fn set_role(&self, name: &str, role: Role, actor: &str) -> Result<UserChanged, ApplianceError> {
        if name == actor && role != Role::Admin {
            return Err(ApplianceError::Input(
                "an admin cannot give up their own admin role; another admin can".into(),
            ));
        }
        users::set_role(self.archive(), name, role)?;
        self.audit(actor, AuditAction::RoleChanged, name, role.as_str())?;
        self.user_changed(name)
    }

    fn user_changed(&self, name: &str) -> Result<UserChanged, ApplianceError> {
        let user =
            self.archive().user(name)?.ok_or_else(|| ApplianceError::NotFound(format!("there is no user {name:?}")))?;
        Ok(UserChanged { user: user.name, role: Some(user.role.parse()?), disabled: user.disabled_at.is_some() })
    }

    /// Disables or enables an account. A disabled account's sessions end at once.
    pub fn set_disabled(&self, name: &str, disabled: bool, actor: &str) -> Result<UserChanged, ApplianceError> {
        users::check_name(name)?;
        if disabled && name == actor {
            return Err(ApplianceError::Input("an admin cannot disable their own account; another admin can".into()));
        }
        users::set_disabled(self.archive(), name, disabled)?;
        if disabled {
            self.end_sessions_of(name, None)?;
        }
        let action = if disabled { AuditAction::UserDisabled } else { AuditAction::UserEnabled };
        self.audit(actor, action, name, "")?;
        Ok(UserChanged { user: name.to_owned(), role: None, disabled })
    }

    /// On first start there is no user to log in with: creates `admin` with a random password and
    /// writes it, readable by the owner only, to [`initial_admin_password`](Self::initial_admin_password).
    /// The password is never logged. Returns whether the account was made now.
    pub fn bootstrap_admin(&self) -> Result<bool, ApplianceError> {
        if self.has_users()? {
            return Ok(false);
        }
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let password = users::random_password()?;
        let path = self.initial_admin_password();
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{password}"))
            .with_context(|| format!("cannot write {}", path.display()))?;
        users::set_user(self.archive(), "admin", Role::Admin, &password)?;
        self.audit(SYSTEM, AuditAction::UserSet, "admin", "first start: initial admin created")?;
        Ok(true)
    }

    /// The file the first admin's password is written to, until that admin replaces it.
    pub fn initial_admin_password(&self) -> PathBuf {
        self.data_dir().join("initial-admin-password")
    }

    /// Removes the first admin's password file once `user`, the first admin, has replaced that
    /// password: a password kept in a file is one more copy to steal, and from then on a wrong one.
    fn remove_initial_admin_password(&self, user: &str) -> Result<(), ApplianceError> {
        if user != "admin" {
            return Ok(());
        }
        let path = self.initial_admin_password();
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(anyhow::anyhow!("cannot remove {}: {e}", path.display()).into())
            }
            _ => Ok(()),
        }
    }
}
