//! Sessions and access tokens. A login opens a session: a random secret handed to the client (as a
//! bearer token or a browser cookie) and stored in the archive only as its BLAKE3 hash, so that a
//! restart of the service logs nobody out and a copy of the database opens no session. A session ends
//! at logout, after `[http] session_idle_seconds` unused, `session_max_seconds` after its login, or
//! when its account is disabled or given a new password. Its role is read from the account at every
//! request, so that a change by an admin applies at once.
//!
//! Access tokens are sessions an admin issues for machines: a scanning station or an integration
//! (which may ingest and nothing else) or a monitoring system (which may read `/metrics`). They last
//! until revoked and act as `token:NAME`, which no person's name can be.

use archive::SessionRecord;
use chrono::{DateTime, FixedOffset};
use domain::AuditAction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ADMINS, Permit};
use crate::users::{self, Role};
use crate::{Appliance, ApplianceError};

/// Issuing, listing and revoking access tokens.
pub const MANAGE_TOKENS: Permit = Permit { what: "manage access tokens", roles: ADMINS };

/// How a session was opened, which decides where its secret travels and what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A browser's login form: the secret is an HttpOnly cookie, and changes need the CSRF token.
    Browser,
    /// `POST /api/login` or the command line's clients: the secret is a bearer token.
    Api,
    /// An access token of a scanning station or an integration.
    Station,
    /// An access token of a monitoring system.
    Monitor,
}

impl SessionKind {
    const ALL: [SessionKind; 4] = [SessionKind::Browser, SessionKind::Api, SessionKind::Station, SessionKind::Monitor];

    /// The kind a stored session names; `None` for a name no kind has (a damaged record).
    fn of(record: &SessionRecord) -> Option<SessionKind> {
        SessionKind::ALL.into_iter().find(|k| k.as_str() == record.kind)
    }

    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Api => "api",
            SessionKind::Station => "station",
            SessionKind::Monitor => "monitor",
        }
    }

    /// The role of an access token of this kind; `None` for a person's session, whose role is their
    /// account's.
    fn token_role(self) -> Option<Role> {
        match self {
            SessionKind::Browser | SessionKind::Api => None,
            SessionKind::Station => Some(Role::Station),
            SessionKind::Monitor => Some(Role::Monitor),
        }
    }

    /// What an access token of this kind is for; `None` for a person's session.
    fn purpose(self) -> Option<TokenPurpose> {
        match self {
            SessionKind::Browser | SessionKind::Api => None,
            SessionKind::Station => Some(TokenPurpose::Station),
            SessionKind::Monitor => Some(TokenPurpose::Monitor),
        }
    }
}

/// What an access token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TokenPurpose {
    /// A scanning station or an integration: it may ingest documents and nothing else.
    Station,
    /// A monitoring system: it may read `/metrics` and nothing else.
    Monitor,
}

impl TokenPurpose {
    /// The purpose's name as typed and stored: `station` or `monitor`.
    pub fn as_str(self) -> &'static str {
        self.kind().as_str()
    }

    fn kind(self) -> SessionKind {
        match self {
            TokenPurpose::Station => SessionKind::Station,
            TokenPurpose::Monitor => SessionKind::Monitor,
        }
    }
}

/// Who a request acts for: a person's session or an access token.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user's name, or the token's.
    pub name: String,
    /// The account's role now, or the token's.
    pub role: Role,
    /// How the session was opened.
    pub kind: SessionKind,
    /// The hash of the session's secret, which names the session without being it.
    pub id: [u8; 32],
}

/// A session just opened: its secret, which the appliance does not keep, and when it ends. (Not
/// `Debug`, so that no log line can carry the secret.)
#[derive(Clone)]
pub struct OpenedSession {
    /// The secret: a bearer token or a cookie's value.
    pub secret: String,
    /// When it ends, however much it is used.
    pub expires_at: DateTime<FixedOffset>,
}

/// An access token just issued. Its secret is shown this once. (Not `Debug`, so that no log line can
/// carry the secret.)
#[derive(Clone, Serialize, ToSchema)]
pub struct IssuedToken {
    /// The token's name; the audit trail records what it does under `token:NAME`.
    pub name: String,
    /// What it may do.
    pub purpose: TokenPurpose,
    /// The secret, for `Authorization: Bearer …`; the appliance keeps only its hash.
    pub token: String,
}

/// An access token, without its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenInfo {
    /// The token's name.
    pub name: String,
    /// What it may do.
    pub purpose: TokenPurpose,
    /// The admin who issued it.
    pub issued_by: String,
    /// When.
    pub issued_at: DateTime<FixedOffset>,
    /// When it was last used, to the minute.
    pub last_used: DateTime<FixedOffset>,
}

/// The access tokens in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenList {
    /// By name.
    pub tokens: Vec<TokenInfo>,
}

/// An access token revoked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenRevoked {
    /// The token's name.
    pub name: String,
    /// Always true.
    pub revoked: bool,
}

/// The longest a session's last use is left unrecorded: a write per request would cost a synced
/// write each, and idle expiry needs no finer grain than this (or a quarter of the idle time, if shorter).
const LAST_SEEN_GRAIN_SECONDS: i64 = 60;

/// A session's id, and when it was opened.
type OpenedAt = ([u8; 32], DateTime<FixedOffset>);

/// A user's sessions open at once; opening one more ends the oldest.
pub const MAX_SESSIONS_PER_USER: usize = 16;

/// The name an access token acts under in the audit trail and as a document's operator.
pub fn token_actor(name: &str) -> String {
    format!("token:{name}")
}

/// Whether a stored session is a person's (which ends by time), not an access token.
fn is_persons(record: &SessionRecord) -> bool {
    SessionKind::of(record).is_some_and(|k| k.token_role().is_none())
}

/// The time now, to the nanosecond (unlike `domain::vietnam_now`, whose seconds suit records people
/// read): sessions opened within one second must still be told apart by age.
fn precise_now() -> DateTime<FixedOffset> {
    chrono::Utc::now().with_timezone(&domain::vietnam_offset())
}

fn session_id(secret: &str) -> [u8; 32] {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

fn new_secret() -> Result<String, ApplianceError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("no randomness for a secret: {e}")))?;
    Ok(domain::hex(&bytes))
}

impl Appliance {
    fn idle_seconds(&self) -> i64 {
        i64::try_from(self.http_config().session_idle_seconds).unwrap_or(i64::MAX)
    }

    /// Opens a session for `user`, whose password the caller has just checked. Ended sessions are
    /// cleared out on the way, and so is the user's oldest session when they have
    /// [`MAX_SESSIONS_PER_USER`] open: a password guessed right must not be able to fill the table.
    pub fn open_session(&self, user: &str, kind: SessionKind) -> Result<OpenedSession, ApplianceError> {
        let mine = self.clear_ended_sessions(user)?;
        if mine.len() >= MAX_SESSIONS_PER_USER {
            let mut oldest = mine;
            oldest.sort_by_key(|(_, created)| *created);
            let extra: Vec<[u8; 32]> =
                oldest.iter().take(oldest.len() + 1 - MAX_SESSIONS_PER_USER).map(|(id, _)| *id).collect();
            self.archive().delete_sessions(&extra)?;
        }
        let secret = new_secret()?;
        let now = precise_now();
        // The configuration bounds the lifetime (see `Config::load`), so this sum cannot overflow.
        let lifetime = chrono::Duration::seconds(i64::try_from(self.http_config().session_max_seconds).unwrap_or(0));
        let expires_at = now + lifetime;
        let record = SessionRecord {
            kind: kind.as_str().to_owned(),
            subject: user.to_owned(),
            created_by: user.to_owned(),
            created_at: now,
            last_seen: now,
            expires_at: Some(expires_at),
        };
        self.archive().put_session(&session_id(&secret), &record)?;
        Ok(OpenedSession { secret, expires_at })
    }

    /// Who the session or access token with this secret acts for, or `None` when it is unknown or has
    /// ended (then it is removed). A person's session ends with their account: disabled or gone.
    pub fn session(&self, secret: &str) -> Result<Option<Principal>, ApplianceError> {
        let id = session_id(secret);
        let Some(record) = self.archive().session(&id)? else { return Ok(None) };
        let now = precise_now();
        let kind = SessionKind::of(&record);
        let role = match kind.map(SessionKind::token_role) {
            Some(Some(role)) => Some(role),
            Some(None) if !self.ended(&record, now) => self
                .archive()
                .user(&record.subject)?
                .filter(|u| u.disabled_at.is_none())
                .and_then(|u| u.role.parse::<Role>().ok()),
            _ => None,
        };
        let (Some(kind), Some(role)) = (kind, role) else {
            self.archive().delete_sessions(&[id])?;
            return Ok(None);
        };
        let grain = LAST_SEEN_GRAIN_SECONDS.min(self.idle_seconds() / 4);
        if (now - record.last_seen).num_seconds() >= grain {
            self.archive().touch_session(&id, now)?;
        }
        let name = match kind.token_role() {
            // A token acts under a name no account can have (`check_name` refuses ':'), so that no
            // trail entry of a token can be read as a person's, not even after the token is revoked
            // and an account takes its name.
            Some(_) => token_actor(&record.subject),
            None => record.subject,
        };
        Ok(Some(Principal { name, role, kind, id }))
    }

    /// Whether a person's session has ended by time: past its end, or unused too long.
    fn ended(&self, record: &SessionRecord, now: DateTime<FixedOffset>) -> bool {
        record.expires_at.is_some_and(|end| now >= end) || (now - record.last_seen).num_seconds() >= self.idle_seconds()
    }

    /// Deletes the ended sessions (and uses noted for sessions that are gone); returns the sessions of
    /// `user` that remain, with when each was opened.
    fn clear_ended_sessions(&self, user: &str) -> Result<Vec<OpenedAt>, ApplianceError> {
        let now = precise_now();
        let (sessions, mut ended) = self.archive().sessions()?;
        let mut mine = Vec::new();
        for (id, s) in sessions.into_iter().filter(|(_, s)| is_persons(s)) {
            if self.ended(&s, now) {
                ended.push(id);
            } else if s.subject == user {
                mine.push((id, s.created_at));
            }
        }
        self.archive().delete_sessions(&ended)?;
        Ok(mine)
    }

    /// Ends one session.
    pub(crate) fn close_session(&self, id: &[u8; 32]) -> Result<(), ApplianceError> {
        Ok(self.archive().delete_sessions(&[*id])?)
    }

    /// Ends the sessions of the person `user`, except `keep` (the one that asked, when a user replaces
    /// their own password).
    pub(crate) fn end_sessions_of(&self, user: &str, keep: Option<&[u8; 32]>) -> Result<(), ApplianceError> {
        let ids: Vec<[u8; 32]> = self
            .archive()
            .sessions()?
            .0
            .into_iter()
            .filter(|(id, s)| is_persons(s) && s.subject == user && Some(id) != keep)
            .map(|(id, _)| id)
            .collect();
        Ok(self.archive().delete_sessions(&ids)?)
    }

    fn token_records(&self) -> Result<Vec<([u8; 32], SessionRecord, TokenPurpose)>, ApplianceError> {
        Ok(self
            .archive()
            .sessions()?
            .0
            .into_iter()
            .filter_map(|(id, s)| SessionKind::of(&s).and_then(SessionKind::purpose).map(|p| (id, s, p)))
            .collect())
    }

    /// Whether an access token in force has this name.
    fn token_named(&self, name: &str) -> Result<bool, ApplianceError> {
        Ok(self.token_records()?.iter().any(|(_, s, _)| s.subject == name))
    }

    /// Issues an access token named `name` (letters, digits, '.', '_', '-'; unique among tokens).
    pub fn issue_token(&self, name: &str, purpose: TokenPurpose, actor: &str) -> Result<IssuedToken, ApplianceError> {
        users::check_name(name).map_err(|_| {
            ApplianceError::Input("a token's name has 1-64 ASCII letters, digits, '.', '_' or '-'".into())
        })?;
        if self.token_named(name)? {
            return Err(ApplianceError::Input(format!(
                "a token named {name:?} exists; revoke it first or choose another name"
            )));
        }
        let secret = new_secret()?;
        let now = precise_now();
        let record = SessionRecord {
            kind: purpose.kind().as_str().to_owned(),
            subject: name.to_owned(),
            created_by: actor.to_owned(),
            created_at: now,
            last_seen: now,
            expires_at: None,
        };
        self.archive().put_session(&session_id(&secret), &record)?;
        self.audit(actor, AuditAction::TokenIssued, &token_actor(name), purpose.as_str())?;
        Ok(IssuedToken { name: name.to_owned(), purpose, token: secret })
    }

    /// The access tokens in force, by name.
    pub fn tokens(&self) -> Result<TokenList, ApplianceError> {
        let mut tokens: Vec<TokenInfo> = self
            .token_records()?
            .into_iter()
            .map(|(_, s, purpose)| TokenInfo {
                name: s.subject,
                purpose,
                issued_by: s.created_by,
                issued_at: s.created_at,
                last_used: s.last_seen,
            })
            .collect();
        tokens.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(TokenList { tokens })
    }

    /// Revokes the access token named `name`: it is refused from the next request on.
    pub fn revoke_token(&self, name: &str, actor: &str) -> Result<TokenRevoked, ApplianceError> {
        let ids: Vec<[u8; 32]> =
            self.token_records()?.into_iter().filter(|(_, s, _)| s.subject == name).map(|(id, _, _)| id).collect();
        if ids.is_empty() {
            return Err(ApplianceError::NotFound(format!("there is no access token {name:?}")));
        }
        self.archive().delete_sessions(&ids)?;
        self.audit(actor, AuditAction::TokenRevoked, &token_actor(name), "")?;
        Ok(TokenRevoked { name: name.to_owned(), revoked: true })
    }
}
