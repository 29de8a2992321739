//! User accounts and roles. Passwords are kept only as argon2id hashes in the archive.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use archive::{Archive, UserRecord};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use domain::vietnam_now;
use serde::{Deserialize, Serialize};

use crate::ApplianceError;

/// What a user does at the one-stop shop; each operation's permit allows some roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Scans and ingests dossiers at the counter.
    Operator,
    /// Searches and reuses what citizens already submitted.
    Officer,
    /// Applies retention, holds and disposition.
    Archivist,
    /// Verifies signatures and reads the audit trail.
    Auditor,
    /// Manages users, keys and the appliance.
    Admin,
    /// A scanning station or an integration, by an access token an admin issued: it may ingest and
    /// nothing else. No account has this role.
    Station,
    /// A monitoring system, by an access token an admin issued: it may read `/metrics` and nothing
    /// else. No account has this role.
    Monitor,
}

impl Role {
    /// Every role a person's account can have (the roles of access tokens are not among them).
    pub const ALL: [Role; 5] = [Role::Operator, Role::Officer, Role::Archivist, Role::Auditor, Role::Admin];

    /// The role's name as stored and typed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Officer => "officer",
            Role::Archivist => "archivist",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::Station => "station",
            Role::Monitor => "monitor",
        }
    }
}

impl Role {
    /// The document statuses this role may find in search; empty for all. Scan operators work with
    /// what is in force; revoked documents are for officers and the records room.
    pub fn visible_statuses(self) -> &'static [search::IndexStatus] {
        match self {
            Role::Operator | Role::Station | Role::Monitor => &[search::IndexStatus::Active, search::IndexStatus::Held],
            Role::Officer | Role::Archivist | Role::Auditor | Role::Admin => &[],
        }
    }
}

impl Role {
    /// Roles that may read archived documents (records, PDFs, text, and what search shows of
    /// their content). Scan operators capture documents but do not read them.
    pub const READERS: &'static [Role] = &[Role::Officer, Role::Archivist, Role::Auditor, Role::Admin];
    /// Roles that may revoke a document (R7): officers, who issue results, and the records room.
    pub const REVOKERS: &'static [Role] = &[Role::Officer, Role::Archivist, Role::Admin];
    /// Roles that apply retention classes and holds, and mark and review documents for disposition.
    pub const ARCHIVISTS: &'static [Role] = &[Role::Archivist, Role::Admin];
    /// Roles that may request or confirm a destruction: archivists only, and two different ones
    /// (the archive refuses a confirmation by the person who requested it).
    pub const DESTROYERS: &'static [Role] = &[Role::Archivist];

    /// Whether this role may read archived documents (see [`Role::READERS`]).
    pub fn reads_documents(self) -> bool {
        Role::READERS.contains(&self)
    }
}

impl FromStr for Role {
    type Err = ApplianceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            ApplianceError::Input(format!("unknown role {s:?}; roles are operator, officer, archivist, auditor, admin"))
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Shortest accepted password.
pub const MIN_PASSWORD: usize = 10;

/// Longest accepted password, in bytes: Argon2 hashes any length, but a login request has no reason to
/// carry more, and its body is bounded to match.
pub const MAX_PASSWORD: usize = 256;

/// Checks a login name's form: 1-64 ASCII letters, digits, '.', '_' or '-'. Done before a name is
/// looked up, stored or written to the audit trail, so that what an anonymous client types can neither
/// grow the trail nor carry a password typed into the wrong field into it.
pub fn check_name(name: &str) -> Result<(), ApplianceError> {
    let ok = (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApplianceError::Input("a user name has 1-64 ASCII letters, digits, '.', '_' or '-'".into()))
    }
}

fn check_password(password: &str) -> Result<(), ApplianceError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApplianceError::Input(format!("the password must have at least {MIN_PASSWORD} characters")));
    }
    if password.len() > MAX_PASSWORD {
        return Err(ApplianceError::Input(format!("the password must have at most {MAX_PASSWORD} bytes")));
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String, ApplianceError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("no randomness for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApplianceError::Internal(anyhow::anyhow!("salt: {e}")))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("password hashing failed: {e}")))?
        .to_string())
}

/// Creates (or replaces, enabled) a user with an argon2id-hashed password.
pub fn set_user(archive: &Archive, name: &str, role: Role, password: &str) -> Result<(), ApplianceError> {
    check_name(name)?;
    check_account_role(role)?;
    check_password(password)?;
    let hash = hash_password(password)?;
    archive.put_user(&UserRecord {
        name: name.to_owned(),
        role: role.to_string(),
        password_hash: hash,
        created_at: vietnam_now(),
        disabled_at: None,
    })?;
    Ok(())
}

/// Replaces a user's password, keeping the account's role and state.
pub fn set_password(archive: &Archive, name: &str, password: &str) -> Result<(), ApplianceError> {
    check_password(password)?;
    let mut user = existing(archive, name)?;
    user.password_hash = hash_password(password)?;
    archive.put_user(&user)?;
    Ok(())
}

/// Refuses the roles of access tokens for a person's account.
fn check_account_role(role: Role) -> Result<(), ApplianceError> {
    if Role::ALL.contains(&role) {
        Ok(())
    } else {
        Err(ApplianceError::Input(format!("no account can have the {role} role; it is an access token's")))
    }
}

/// Gives an account another role, keeping its password and state.
pub fn set_role(archive: &Archive, name: &str, role: Role) -> Result<(), ApplianceError> {
    check_account_role(role)?;
    let mut user = existing(archive, name)?;
    user.role = role.to_string();
    archive.put_user(&user)?;
    Ok(())
}

/// Disables (`disabled`) or enables a user's account. Ending its open sessions is the caller's part.
pub fn set_disabled(archive: &Archive, name: &str, disabled: bool) -> Result<(), ApplianceError> {
    let mut user = existing(archive, name)?;
    user.disabled_at = disabled.then(vietnam_now);
    archive.put_user(&user)?;
    Ok(())
}

fn existing(archive: &Archive, name: &str) -> Result<UserRecord, ApplianceError> {
    check_name(name)?;
    archive.user(name)?.ok_or_else(|| ApplianceError::NotFound(format!("there is no user {name:?}")))
}

/// What a login attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// The password is the user's, and the account is enabled.
    Accepted(Role),
    /// The name is an account, but the password is wrong or the account is disabled.
    RefusedKnownUser,
    /// No account has this name.
    UnknownUser,
}

/// Checks `password` against `name`'s account. Every outcome costs one Argon2 verification: an unknown
/// name is checked against a dummy hash of the same parameters, so that the time of the answer does not
/// tell which names exist. The caller tells the client the same for every refusal.
pub fn authenticate(archive: &Archive, name: &str, password: &str) -> Result<Login, ApplianceError> {
    check_name(name)?;
    let user = archive.user(name)?;
    let stored = user.as_ref().map_or(dummy_hash(), |u| u.password_hash.as_str());
    let parsed = PasswordHash::new(stored)
        .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("stored password hash of {name} is malformed: {e}")))?;
    let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    Ok(match user {
        None => Login::UnknownUser,
        Some(u) if matches && u.disabled_at.is_none() => Login::Accepted(u.role.parse()?),
        Some(_) => Login::RefusedKnownUser,
    })
}

/// The hash unknown names are checked against: of a random password nobody knows, made once per
/// process with the parameters real accounts use.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        // The first half salts, the second is the password. Without randomness the dummy's password is all zeros, which is no account's password either:
        // no name reaches it, so knowing it gains nothing.
        let _ = getrandom::fill(&mut secret);
        let salt = SaltString::encode_b64(&secret[..16]).expect("16 bytes encode as a salt");
        Argon2::default().hash_password(&secret[16..], &salt).expect("argon2 hashes a 32-byte password").to_string()
    })
}

/// A random password of 20 characters from an unambiguous alphabet, for the first admin.
pub fn random_password() -> Result<String, ApplianceError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Rejection sampling keeps every character equally likely: bytes past the largest multiple of
    // the alphabet's size are drawn again.
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::new();
    while out.len() < 20 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| ApplianceError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
        out.extend(
            bytes.iter().filter(|b| (**b as usize) < limit).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char),
        );
    }
    out.truncate(20);
    Ok(out)
}
