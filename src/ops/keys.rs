//! The appliance's seal keys: the public keys for verifiers outside, and the replacement of the key.

use domain::AuditAction;
use serde::Serialize;
use signer::KeyId;
use utoipa::ToSchema;

use super::{ADMINS, Permit};
use crate::users::Role;
use crate::{Appliance, ApplianceError};

/// Reading the public seal keys.
pub const EXPORT: Permit = Permit { what: "read the public seal keys", roles: &Role::ALL };
/// Replacing the seal key.
pub const ROTATE: Permit = Permit { what: "replace the seal key", roles: ADMINS };

/// One public seal key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicKeyView {
    /// The key's id.
    pub id: String,
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// The public key, hex.
    pub public_key: String,
    /// Whether it is the key that seals now.
    pub current: bool,
}

/// Every key that ever sealed for this appliance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicKeys {
    /// The id of the key that seals now.
    pub current: String,
    /// Every key, by id.
    pub keys: Vec<PublicKeyView>,
}

/// The seal key after a replacement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rotated {
    /// The key replaced (its public key stays, so that what it sealed still verifies).
    pub old: String,
    /// The key that seals from now on.
    pub current: String,
}

impl Appliance {
    /// Replaces the seal key by a new one: the old private key is deleted, its public key kept so that
    /// everything it sealed still verifies.
    pub fn rotate_key(&self, actor: &str) -> Result<Rotated, ApplianceError> {
        let old = self.keys().current_id().clone();
        let new: KeyId = self.seal_keys().rotate()?;
        self.audit(actor, AuditAction::KeyChange, new.as_str(), &format!("seal key {old} replaced by {new}"))?;
        Ok(Rotated { old: old.to_string(), current: new.to_string() })
    }

    /// The public seal keys, for verifiers outside the appliance. Reading them is audited like any
    /// export.
    pub fn export_public_keys(&self, actor: &str) -> Result<PublicKeys, ApplianceError> {
        let ring = self.keys();
        let current = ring.current_id().clone();
        let mut keys: Vec<PublicKeyView> = ring
            .public_keys()
            .into_iter()
            .map(|(id, key)| PublicKeyView {
                current: id == current,
                id: id.to_string(),
                algorithm: "Ed25519",
                public_key: key,
            })
            .collect();
        drop(ring);
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        self.audit(actor, AuditAction::KeyExport, current.as_str(), &format!("{} public keys", keys.len()))?;
        Ok(PublicKeys { current: current.to_string(), keys })
    }
}
