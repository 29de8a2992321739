//! The dashboard: Decision 468/QĐ-TTg's targets for a one-stop shop made visible over a period of
//! days. Documents and pages digitized each day; the share of the period's digitized results that are
//! signed and in force; the reuse rate per month against the 30% and 80% targets (R10, the same count
//! as the reuse report); dossiers received per scan operator against the norm of 2,000 a year, prorated
//! to the period; the work waiting for OCR now; and the time from scan to archive.
//!
//! Reading it is not audited: it discloses counts only, never a document, an owner or a citizen's
//! data, so it is no access that R8 asks to log; and a dashboard left open on a wall screen would
//! otherwise fill the trail with one entry a reload. (The reuse report, which names months and
//! dossier counts for an inspector, is a separate operation and is audited.)
//!
//! The counts come from a scan of every document record and of the audit trail (whose every seal is
//! checked on the way). That is seconds at a million records, so the counts are kept and reused while
//! nothing was archived or audited since, and in any case for [`RECOUNT_AFTER`]: reloading the page
//! costs nothing, and a busy office (where every document viewed adds an audit entry) pays at most one
//! scan per half-minute and period. The counts of the last [`PERIODS_KEPT`] periods asked for are
//! kept, each on its own, so that a wall screen showing the default period and an admin looking at
//! last week do not make each other recount. The OCR queue is read live each time, since it is a
//! gauge in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use archive::DocumentStatus;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Permit;
use crate::reuse::start_of_day;
use crate::users::Role;
use crate::{Appliance, ApplianceError};

/// Reading the dashboard: every person's role (the figures are counts, no citizen's data).
pub const READ: Permit = Permit { what: "read the dashboard", roles: &Role::ALL };

/// The period shown when none is asked for: the last 30 days.
pub const DEFAULT_DAYS: u32 = 30;
/// The longest period: a year and a day, so that a leap year fits.
pub const MAX_DAYS: u32 = 366;
/// Dossiers one officer receives in a year (Decision 468's planning norm, 1,600–2,000; the upper bound).
pub const DOSSIERS_PER_OPERATOR_YEAR: u32 = 2_000;
/// The reuse rate's targets, in percent: the first stage's and the final one (Decision 468, R10).
pub const REUSE_TARGETS: [u32; 2] = [30, 80];
/// How long counts are reused even though something was recorded since (see the module's comment).
pub const RECOUNT_AFTER: Duration = Duration::from_secs(30);
/// How many periods' counts are kept at once; the one counted longest ago makes room for a new one.
pub const PERIODS_KEPT: usize = 4;

/// The period asked for: its last day (Vietnam's calendar; today when not given) and its length.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
pub struct DashboardQuery {
    /// The period's last day, `YYYY-MM-DD` (default: today; an empty value, as a cleared date field
    /// sends it, is the default too).
    #[serde(default, deserialize_with = "blank_is_none")]
    pub last_day: Option<NaiveDate>,
    /// Days in the period, 1 to 366 (default: 30).
    pub days: Option<u32>,
}

/// A day, or none for an absent or empty value.
fn blank_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(day) => day.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// A period of whole days, the last one included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first day.
    pub first_day: NaiveDate,
    /// The last day.
    pub last_day: NaiveDate,
    /// Days from the first to the last, both included.
    pub days: u32,
}

impl DashboardQuery {
    /// The period meant: refuses a length outside 1 to [`MAX_DAYS`].
    pub fn period(self) -> Result<Period, ApplianceError> {
        let days = self.days.unwrap_or(DEFAULT_DAYS);
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(ApplianceError::Input(format!("a dashboard's period has 1 to {MAX_DAYS} days, not {days}")));
        }
        let today = domain::vietnam_now().date_naive();
        let last_day = self.last_day.unwrap_or(today);
        if last_day > today {
            return Err(ApplianceError::Input(format!("a dashboard's last day is today or before, not {last_day}")));
        }
        let first_day = last_day
            .checked_sub_days(chrono::Days::new(u64::from(days - 1)))
            .ok_or_else(|| ApplianceError::Input(format!("a dashboard's period cannot end on {last_day}")))?;
        Ok(Period { first_day, last_day, days })
    }
}

/// Documents and pages archived on one day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DayCount {
    /// The day (Vietnam's calendar).
    pub day: NaiveDate,
    /// Documents archived that day.
    pub documents: u64,
    /// Their pages.
    pub pages: u64,
}

/// The period's digitized results and how many are signed and in force.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Results {
    /// Documents digitized (archived) in the period.
    pub digitized: u64,
    /// Of those, the ones whose agency signature stands: every archived document is signed before it
    /// is committed, and a revoked or destroyed one no longer counts as a result in force.
    pub signed: u64,
    /// `signed` of `digitized`, in percent to one decimal (100 when nothing was digitized).
    pub signed_percent: f64,
}

/// The reuse rate of one month.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReuseMonth {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// Dossiers received that month.
    pub dossiers: u64,
    /// Of those, the dossiers that reused at least one document.
    pub with_reuse: u64,
    /// `with_reuse` of `dossiers`, in percent to one decimal.
    pub rate_percent: f64,
}

/// What one scan operator (or station) received in the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OperatorLoad {
    /// The operator's name as the documents record it (`token:NAME` for a station).
    pub operator: String,
    /// Distinct dossiers among the documents they captured.
    pub dossiers: u64,
    /// Documents they captured.
    pub documents: u64,
    /// `dossiers` of the prorated norm, in percent to one decimal.
    pub norm_percent: f64,
}

/// The work waiting now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QueueNow {
    /// Documents captured and not yet archived: waiting in the reading queue or being read.
    pub ingests: i64,
    /// Their pages.
    pub pages_waiting: i64,
    /// Files of the hot folder waiting for an operator's confirmation.
    pub hot_folder_files: u64,
}

/// Time from scan (the capture time a document records) to archive, over the period's documents.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScanToArchive {
    /// Documents measured.
    pub documents: u64,
    /// The median, in seconds; none without documents.
    pub p50_seconds: Option<i64>,
    /// The 90th percentile, in seconds.
    pub p90_seconds: Option<i64>,
}

/// The dashboard's figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Dashboard {
    /// The period's first day.
    pub first_day: NaiveDate,
    /// Its last day.
    pub last_day: NaiveDate,
    /// Its length in days.
    pub days: u32,
    /// When the archive was counted (the counts are reused for a while; see the module).
    pub counted_at: DateTime<FixedOffset>,
    /// Every day of the period, oldest first, days without documents included.
    pub daily: Vec<DayCount>,
    /// Documents archived in the period.
    pub documents: u64,
    /// Their pages.
    pub pages: u64,
    /// The period's results, signed.
    pub results: Results,
    /// The reuse rate of each month the period touches that had dossiers, oldest first.
    pub reuse: Vec<ReuseMonth>,
    /// The targets of the reuse rate, in percent.
    pub reuse_targets_percent: [u32; 2],
    /// Dossiers one operator is expected to receive in the period: 2,000 a year, prorated.
    pub dossier_norm: f64,
    /// Each operator's dossiers in the period, by name.
    pub operators: Vec<OperatorLoad>,
    /// The OCR queue now.
    pub queue: QueueNow,
    /// Time from scan to archive.
    pub scan_to_archive: ScanToArchive,
}

/// The counts last made for each of the last periods asked for, with what they were made of.
#[derive(Default)]
pub struct DashboardCache(Mutex<Vec<Counted>>);

struct Counted {
    period: Period,
    /// The archive's last event and last audit entry when counted.
    seen: (u64, u64),
    at: Instant,
    dashboard: Dashboard,
}

/// A part of a whole in percent, to one decimal; `empty` when there is no whole.
fn percent(part: u64, whole: u64, empty: f64) -> f64 {
    if whole == 0 { empty } else { (1000.0 * part as f64 / whole as f64).round() / 10.0 }
}

/// The `p`-th percentile (0 < p ≤ 1) of sorted values, by nearest rank.
fn nearest_rank(sorted: &[i64], p: f64) -> Option<i64> {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1)).copied()
}

impl Appliance {
    /// The dashboard over `query`'s period (see the module for what is counted and how often).
    pub fn dashboard(&self, query: DashboardQuery) -> Result<Dashboard, ApplianceError> {
        let period = query.period()?;
        let seen = (self.archive().last_event(), self.archive().last_audit());
        let mut cache = self.dashboard_cache().0.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = cache
            .iter()
            .find(|c| c.period == period && (c.seen == seen || c.at.elapsed() < RECOUNT_AFTER))
            .map(|c| c.dashboard.clone());
        let mut dashboard = match fresh {
            Some(dashboard) => dashboard,
            None => {
                let dashboard = self.count_dashboard(period)?;
                cache.retain(|c| c.period != period);
                if cache.len() == PERIODS_KEPT {
                    // Counted in order, so the first is the one counted longest ago.
                    cache.remove(0);
                }
                cache.push(Counted { period, seen, at: Instant::now(), dashboard: dashboard.clone() });
                dashboard
            }
        };
        drop(cache);
        let reading = self.reading_queue().report();
        dashboard.queue = QueueNow {
            ingests: i64::try_from(reading.depth).unwrap_or(i64::MAX),
            pages_waiting: i64::try_from(reading.pages).unwrap_or(i64::MAX),
            hot_folder_files: self.hot_folder_files().map_or(0, |listing| listing.pending.len() as u64),
        };
        Ok(dashboard)
    }

    /// Counts the period's documents, reuse and operators from the archive.
    fn count_dashboard(&self, period: Period) -> Result<Dashboard, ApplianceError> {
        let offset = domain::vietnam_offset();
        let mut daily: BTreeMap<NaiveDate, DayCount> = period
            .first_day
            .iter_days()
            .take(period.days as usize)
            .map(|day| (day, DayCount { day, documents: 0, pages: 0 }))
            .collect();
        let mut operators: BTreeMap<String, (BTreeSet<String>, u64)> = BTreeMap::new();
        let mut waits = Vec::new();
        let mut signed = 0;
        self.archive().each_record(&mut |record| {
            let day = record.archived_at.with_timezone(&offset).date_naive();
            if let Some(count) = daily.get_mut(&day) {
                count.documents += 1;
                count.pages += record.pages.len() as u64;
                signed += u64::from(record.status == DocumentStatus::Active);
                let (dossiers, documents) = operators.entry(record.metadata.operator().to_owned()).or_default();
                *documents += 1;
                dossiers.extend(record.metadata.dossier().map(ToString::to_string));
                waits.push((record.archived_at - record.metadata.captured_at()).num_seconds().max(0));
            }
            ControlFlow::Continue(())
        })?;
        waits.sort_unstable();
        let documents = daily.values().map(|d| d.documents).sum();
        let pages = daily.values().map(|d| d.pages).sum();
        let norm = f64::from(DOSSIERS_PER_OPERATOR_YEAR) * f64::from(period.days) / 365.0;
        let dossier_norm = (norm * 10.0).round() / 10.0;
        let month_start = period.first_day.with_day(1).unwrap_or(period.first_day);
        let reuse = self
            .reuse_rates(start_of_day(month_start), period.last_day.succ_opt().and_then(start_of_day))?
            .into_iter()
            .map(|r| ReuseMonth {
                month: r.month,
                dossiers: r.dossiers as u64,
                with_reuse: r.with_reuse as u64,
                rate_percent: percent(r.with_reuse as u64, r.dossiers as u64, 0.0),
            })
            .collect();
        Ok(Dashboard {
            first_day: period.first_day,
            last_day: period.last_day,
            days: period.days,
            counted_at: domain::vietnam_now(),
            daily: daily.into_values().collect(),
            documents,
            pages,
            results: Results { digitized: documents, signed, signed_percent: percent(signed, documents, 100.0) },
            reuse,
            reuse_targets_percent: REUSE_TARGETS,
            dossier_norm,
            operators: operators
                .into_iter()
                .map(|(operator, (dossiers, documents))| OperatorLoad {
                    operator,
                    dossiers: dossiers.len() as u64,
                    documents,
                    norm_percent: if norm > 0.0 { (1000.0 * dossiers.len() as f64 / norm).round() / 10.0 } else { 0.0 },
                })
                .collect(),
            queue: QueueNow { ingests: 0, pages_waiting: 0, hot_folder_files: 0 },
            scan_to_archive: ScanToArchive {
                documents: waits.len() as u64,
                p50_seconds: nearest_rank(&waits, 0.5),
                p90_seconds: nearest_rank(&waits, 0.9),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&values, 0.5), Some(5));
        assert_eq!(nearest_rank(&values, 0.9), Some(9));
        assert_eq!(nearest_rank(&[7], 0.9), Some(7));
        assert_eq!(nearest_rank(&[], 0.5), None);
    }

    #[test]
    fn a_period_counts_its_last_day() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let p = DashboardQuery { last_day: Some(day), days: Some(30) }.period().unwrap();
        assert_eq!(p.first_day, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert!(DashboardQuery { last_day: Some(day), days: Some(0) }.period().is_err());
        assert!(DashboardQuery { last_day: Some(day), days: Some(367) }.period().is_err());
        assert_eq!(percent(1, 3, 0.0), 33.3);
        assert_eq!(percent(0, 0, 100.0), 100.0);
    }
}
