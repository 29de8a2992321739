//! Dossier codes (R4): the code `<unit>-YYMMDD-NNNN` that a dossier receives at the counter, before
//! its documents are scanned, so that every document of the dossier carries it. The archive keeps one
//! counter per unit and day, never reused; this is the operation that takes the next number of it.

use chrono::NaiveDate;
use domain::{AuditAction, UnitCode, vietnam_now};
use serde::Serialize;

use crate::ops::Permit;
use crate::users::Role;
use crate::{Appliance, ApplianceError};

/// Allocating dossier codes: the people who receive dossiers at the counter.
pub const ALLOCATE: Permit = Permit { what: "allocate dossier codes", roles: &[Role::Operator, Role::Admin] };

/// A dossier code, newly allocated.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DossierAllocated {
    /// The code, `<unit>-YYMMDD-NNNN`.
    pub code: String,
    /// The receiving unit.
    pub unit: String,
    /// The day the dossier was received.
    pub date: NaiveDate,
}

impl Appliance {
    /// Allocates the next dossier code of `unit` for the day `date` (today in Vietnam when `None`).
    /// A day after today is refused: a dossier is numbered on the day it is received, so a code for
    /// a later day would be a number taken from a counter that has not started yet.
    pub fn allocate_dossier(
        &self,
        unit: &UnitCode,
        date: Option<NaiveDate>,
        actor: &str,
    ) -> Result<DossierAllocated, ApplianceError> {
        let today = vietnam_now().date_naive();
        let date = date.unwrap_or(today);
        if date > today {
            return Err(ApplianceError::Input(format!(
                "a dossier is numbered on the day it is received: {date} is after today, {today}"
            )));
        }
        let code = self.archive().allocate_dossier_code(unit, date)?;
        self.audit(actor, AuditAction::DossierAllocate, &code.to_string(), &format!("unit {unit}"))?;
        Ok(DossierAllocated { code: code.to_string(), unit: unit.to_string(), date })
    }
}
