//! The configuration in force, for admins: every setting of the configuration file as the appliance
//! opened it (its defaults filled in), without any secret (see [`ConfigInForce`]). Reading it is not
//! audited: it discloses no document and no secret, only what the admin who wrote the file chose.

use super::{ADMINS, Permit};
use crate::config::ConfigInForce;
use crate::{Appliance, ApplianceError};

/// Reading the configuration in force.
pub const SHOW: Permit = Permit { what: "read the configuration", roles: ADMINS };

impl Appliance {
    /// The configuration the appliance was opened with, without secrets.
    pub fn config_in_force(&self) -> Result<ConfigInForce, ApplianceError> {
        Ok(self.configuration().clone())
    }
}
