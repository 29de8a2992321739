//! Changes to a document's life short of disposition: revocation, holds and retention classes.

use archive::{HoldScope, RetentionSchedule};
use chrono::{DateTime, FixedOffset};
use domain::DocumentCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::{INSPECTORS, Permit};
use crate::users::Role;
use crate::{Appliance, ApplianceError, SearchState};

/// Revoking a document.
pub const REVOKE: Permit = Permit { what: "revoke documents", roles: Role::REVOKERS };
/// Placing a hold.
pub const PLACE_HOLD: Permit = Permit { what: "place holds", roles: Role::ARCHIVISTS };
/// Releasing a hold.
pub const RELEASE_HOLD: Permit = Permit { what: "release holds", roles: Role::ARCHIVISTS };
/// Listing the holds.
pub const LIST_HOLDS: Permit = Permit { what: "list holds", roles: INSPECTORS };
/// Reading the retention schedule.
pub const RETENTION_CLASSES: Permit = Permit { what: "read the retention schedule", roles: INSPECTORS };
/// Overriding a document's retention class.
pub const SET_RETENTION: Permit = Permit { what: "set retention classes", roles: Role::ARCHIVISTS };

/// A document's status after a change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusChanged {
    /// The document code.
    pub code: String,
    /// Its status now: `active`, `revoked` or `destroyed`.
    pub status: String,
    /// Whether search shows the change yet.
    pub search: SearchState,
}

/// A hold placed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldPlaced {
    /// The hold's id.
    pub hold: u64,
    /// The documents it is on now (documents archived later under its scope get it too).
    pub documents: Vec<String>,
    /// Whether search shows the change yet.
    pub search: SearchState,
}

/// A hold released.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldReleased {
    /// The hold's id.
    pub hold: u64,
    /// The documents it was released from.
    pub released: Vec<String>,
    /// Whether search shows the change yet.
    pub search: SearchState,
}

/// One hold as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldView {
    /// The hold's id.
    pub id: u64,
    /// What it covers: `document …`, `owner …`, `dossier …` or `type …`.
    pub scope: String,
    /// Why it was placed.
    pub reason: String,
    /// Who placed it.
    pub by: String,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Whether it has been released.
    pub released: bool,
}

/// The holds, active and released.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Holds {
    /// Every hold, oldest first.
    pub holds: Vec<HoldView>,
}

/// The retention schedule: its classes and the class of each document type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionClasses {
    /// The schedule as configured.
    #[schema(value_type = Object)]
    pub schedule: RetentionSchedule,
}

/// A document's retention class after an override.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionSet {
    /// The document code.
    pub code: String,
    /// The class it is kept under now.
    pub retention_class: String,
    /// Whether search shows the change yet.
    pub search: SearchState,
}

impl Appliance {
    /// Revokes a document: its content stays, verification says revoked.
    pub fn revoke(&self, code: &DocumentCode, reason: &str, actor: &str) -> Result<StatusChanged, ApplianceError> {
        let record = self.archive().revoke(code, reason, actor)?;
        Ok(StatusChanged {
            code: record.code.to_string(),
            status: record.status.name().to_owned(),
            search: self.index_committed(),
        })
    }

    /// Places a hold on the documents of `scope`, now and archived later.
    pub fn place_hold(&self, scope: HoldScope, reason: &str, actor: &str) -> Result<HoldPlaced, ApplianceError> {
        let (hold, codes) = self.archive().place_hold(scope, reason, actor)?;
        Ok(HoldPlaced {
            hold: hold.id,
            documents: codes.iter().map(ToString::to_string).collect(),
            search: self.index_committed(),
        })
    }

    /// Releases a hold from every document it is on.
    pub fn release_hold(&self, id: u64, actor: &str) -> Result<HoldReleased, ApplianceError> {
        let codes = self.archive().release_hold(id, actor)?;
        Ok(HoldReleased {
            hold: id,
            released: codes.iter().map(ToString::to_string).collect(),
            search: self.index_committed(),
        })
    }

    /// Every hold, active and released. Listing them is not a document access and is not audited.
    pub fn holds(&self) -> Result<Holds, ApplianceError> {
        let holds = self.archive().holds()?;
        Ok(Holds {
            holds: holds
                .into_iter()
                .map(|h| HoldView {
                    id: h.id,
                    scope: h.scope.to_string(),
                    reason: h.reason,
                    by: h.by,
                    at: h.at,
                    released: h.released.is_some(),
                })
                .collect(),
        })
    }

    /// The retention schedule the archive applies.
    pub fn retention_classes(&self) -> RetentionClasses {
        RetentionClasses { schedule: self.archive().schedule().clone() }
    }

    /// Overrides a document's retention class.
    pub fn set_retention_class(
        &self,
        code: &DocumentCode,
        class: &str,
        reason: &str,
        actor: &str,
    ) -> Result<RetentionSet, ApplianceError> {
        let record = self.archive().set_retention_class(code, class, reason, actor)?;
        Ok(RetentionSet {
            code: record.code.to_string(),
            retention_class: record.lifecycle.retention_class,
            search: self.index_committed(),
        })
    }
}
