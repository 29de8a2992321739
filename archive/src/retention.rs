//! Retention classes as data (R9): how long a kind of record is kept, under which legal basis, and
//! which date of its metadata starts the clock.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use domain::{DocumentMetadata, Validity};
use serde::{Deserialize, Serialize};

use crate::ArchiveError;

/// How long a class keeps its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionPeriod {
    /// A number of years after the clock starts.
    Years(u16),
    /// For ever: never eligible for destruction.
    Permanent,
}

/// The metadata date that starts a class's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStart {
    /// The document's issue date (the capture date when it has none).
    IssueDate,
    /// The day it was captured.
    CaptureDate,
    /// The end of its validity (the capture date when it is valid without end: such a class should
    /// be permanent).
    ValidityEnd,
    /// The receipt date of the dossier it belongs to (the capture date when it has none).
    DossierDate,
}

/// One retention class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionClass {
    /// Its id, e.g. `permanent`, `10y-admin`.
    pub id: String,
    /// Its name, as archivists read it.
    pub name: String,
    /// The legal basis, e.g. the article of Circular 10/2022/TT-BNV.
    pub legal_basis: String,
    /// How long.
    pub period: RetentionPeriod,
    /// From which date.
    pub clock: ClockStart,
}

/// The retention schedule: the classes, the class of each document type, and the class of types it
/// does not name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSchedule {
    /// The class of types not listed in `types`.
    pub default_class: String,
    /// The classes.
    pub classes: Vec<RetentionClass>,
    /// Document type code → class id.
    #[serde(default)]
    pub types: BTreeMap<String, String>,
}

impl RetentionSchedule {
    /// Checks that every class named exists and that ids are unique.
    pub fn validate(&self) -> Result<(), ArchiveError> {
        let bad = |reason: String| Err(ArchiveError::Retention(reason));
        for (i, c) in self.classes.iter().enumerate() {
            if self.classes[..i].iter().any(|d| d.id == c.id) {
                return bad(format!("class {:?} is defined twice", c.id));
            }
            if c.period == RetentionPeriod::Years(0) {
                return bad(format!("class {:?} keeps records for 0 years", c.id));
            }
        }
        for (t, id) in std::iter::once((&"default_class".to_owned(), &self.default_class)).chain(&self.types) {
            if self.class(id).is_none() {
                return bad(format!("{t} names the unknown class {id:?}"));
            }
        }
        Ok(())
    }

    /// A class by id.
    pub fn class(&self, id: &str) -> Option<&RetentionClass> {
        self.classes.iter().find(|c| c.id == id)
    }

    /// The class of a document type.
    pub fn class_for_type(&self, doc_type: &str) -> &str {
        self.types.get(doc_type).unwrap_or(&self.default_class)
    }

    /// The first day on which a record of `class` with `metadata` may be destroyed; `None` when it
    /// is permanent or the class is unknown (unknown means kept: never guess towards destruction).
    pub fn eligible_from(&self, class: &str, metadata: &DocumentMetadata) -> Option<NaiveDate> {
        let class = self.class(class)?;
        let RetentionPeriod::Years(years) = class.period else { return None };
        let captured = metadata.captured_at().date_naive();
        let start = match class.clock {
            ClockStart::IssueDate => metadata.issue_date().unwrap_or(captured),
            ClockStart::CaptureDate => captured,
            ClockStart::ValidityEnd => match metadata.validity() {
                Validity::Until(end) => end,
                Validity::Permanent => return None,
            },
            ClockStart::DossierDate => metadata.dossier().map(|d| d.date()).unwrap_or(captured),
        };
        Some(add_years(start, years).succ_opt().unwrap_or(NaiveDate::MAX))
    }
}

/// The same day `years` later; 29 February becomes 28 February in a common year.
fn add_years(date: NaiveDate, years: u16) -> NaiveDate {
    let year = date.year() + i32::from(years);
    NaiveDate::from_ymd_opt(year, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), 28))
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_calendar_years_and_leap_days_fall_back() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(add_years(d(2024, 2, 29), 5), d(2029, 2, 28));
        assert_eq!(add_years(d(2024, 10, 11), 10), d(2034, 10, 11));
    }

    #[test]
    fn a_schedule_naming_an_unknown_class_is_refused() {
        let schedule = RetentionSchedule {
            default_class: "nope".into(),
            classes: vec![RetentionClass {
                id: "permanent".into(),
                name: "Vĩnh viễn".into(),
                legal_basis: "-".into(),
                period: RetentionPeriod::Permanent,
                clock: ClockStart::IssueDate,
            }],
            types: BTreeMap::new(),
        };
        assert!(schedule.validate().unwrap_err().to_string().contains("unknown class \"nope\""));
    }
}
