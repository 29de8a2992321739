//! How the command line shows an operation's result: with `--json`, exactly the JSON the HTTP API
//! answers for the same operation (both serialise the operation's typed result); otherwise lines for
//! a person, from [`Show`]. A change that is archived but not yet searchable is said on standard
//! error either way.

use std::path::Path;

use serde::Serialize;

use crate::appliance::{IngestReport, Reindexed};
use crate::config::ConfigInForce;
use crate::hotfolder::HotFolderListing;
use crate::ops::accounts::{UserChanged, UserInfo, UserList};
use crate::ops::dashboard::Dashboard;
use crate::ops::disposition::{Destroyed, DispositionChanged, DispositionList, Marked};
use crate::ops::documents::SearchOutput;
use crate::ops::dossiers::DossierAllocated;
use crate::ops::integrity::{AuditEntries, CheckpointView, ConsistencyView, Fixity, InclusionView};
use crate::ops::keys::{PublicKeys, Rotated};
use crate::ops::lifecycle::{HoldPlaced, HoldReleased, Holds, RetentionClasses, RetentionSet, StatusChanged};
use crate::ops::province::{ProvinceOffer, ProvinceRefusal, ProvinceReuse, ProvinceSearch, Published};
use crate::ops::replication::{ProvinceFixity, RemoteFixity, Replicated};
use crate::ops::sessions::{IssuedToken, TokenInfo, TokenList, TokenRevoked};
use crate::ops::transfer::{BackupWritten, Exported, Imported, Restored};
use crate::province::Lag;
use crate::reuse::{ReuseLookup, ReuseRecorded, ReuseReport};
use crate::verify::VerifyReport;
use crate::{ApplianceError, SearchState};

/// What the command line says when a change is archived but search could not show it yet.
const SEARCH_PENDING: &str = "archived; search could not be brought up to date and will show it once it catches up";

/// A result as a person reads it on a terminal.
pub trait Show: Serialize {
    /// The lines to print.
    fn text(&self) -> String;

    /// Whether search shows the change, for results of changes.
    fn search(&self) -> Option<SearchState> {
        None
    }
}

/// Where results go: JSON or text, on standard output.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Print JSON.
    pub json: bool,
}

impl Output {
    /// Prints a result.
    pub fn show(self, value: &impl Show) -> Result<(), ApplianceError> {
        if value.search() == Some(SearchState::Pending) {
            eprintln!("{SEARCH_PENDING}");
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).map_err(anyhow::Error::from)?);
        } else {
            let text = value.text();
            if !text.is_empty() {
                println!("{text}");
            }
        }
        Ok(())
    }
}

/// Writes a file so that a reader never sees half of it: temporary name, sync, rename.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ApplianceError> {
    use std::io::Write;
    let tmp = path.with_extension("sohoa-tmp");
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ApplianceError::Input(format!("{}: cannot write: {e}", path.display()))
    })
}

fn lines<T>(items: &[T], line: impl Fn(&T) -> String) -> String {
    items.iter().map(line).collect::<Vec<_>>().join("\n")
}

fn hex_path(path: &[[u8; 32]]) -> String {
    path.iter().map(|h| domain::hex(h)).collect::<Vec<_>>().join(" ")
}

impl Show for IngestReport {
    /// The code on a line of its own; each page flagged for review, or why reading failed, on
    /// standard error.
    fn text(&self) -> String {
        for page in &self.pages {
            for flag in &page.flags {
                eprintln!("page {} flagged for review: {flag}", page.number);
            }
        }
        if let Some(error) = &self.reading_error {
            eprintln!("captured, but reading it failed; it is read again from the queue (sohoa queue): {error}");
        }
        self.code.clone()
    }

    fn search(&self) -> Option<SearchState> {
        (self.stage == crate::queue::Stage::Archived).then_some(self.search)
    }
}

impl Show for crate::queue::QueueReport {
    /// A line per document waiting or being read: code, stage, pages read of all, capture time,
    /// and the last failure if any; then the count.
    fn text(&self) -> String {
        let mut text = lines(&self.documents, |d| {
            let failure =
                d.last_error.as_deref().map(|e| format!("\tfailed {} times: {e}", d.failures)).unwrap_or_default();
            format!("{}\t{}\t{}/{} pages\t{}{failure}", d.code, d.stage.name(), d.pages_read, d.pages, d.captured_at)
        });
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("{} documents ({} pages) waiting to be archived", self.depth, self.pages));
        text
    }
}

impl Show for crate::queue::QueueRead {
    /// How many documents were read and archived.
    fn text(&self) -> String {
        format!("{} documents archived; {} still waiting", self.archived, self.waiting)
    }
}

impl Show for crate::PagesRead {
    /// A line per page: its number, then why it would be flagged, or `ok`.
    fn text(&self) -> String {
        lines(&self.pages, |p| {
            if p.flags.is_empty() {
                format!("page {}\tok", p.number)
            } else {
                format!("page {}\t{}", p.number, p.flags.join("; "))
            }
        })
    }
}

impl Show for SearchOutput {
    fn text(&self) -> String {
        lines(&self.hits, |h| match &h.content {
            Some(c) => format!("{}\tpage {}\t{}", h.code, c.page, c.name),
            None => format!("{}\t{}\t{}", h.code, h.doc_type, h.status),
        })
    }
}

impl Show for VerifyReport {
    fn text(&self) -> String {
        let mut out =
            lines(&self.checks, |c| format!("{} {}: {}", if c.passed { "ok  " } else { "FAIL" }, c.name, c.detail));
        out.push_str(if self.valid { "\nvalid" } else { "\nINVALID" });
        match self.stage {
            Some(stage @ (crate::queue::Stage::Captured | crate::queue::Stage::Reading)) => {
                out.push_str(&format!(" ({}: its pages are sealed, its signed copy is being made)", stage.name()))
            }
            Some(crate::queue::Stage::Archived) | None => {}
        }
        out
    }
}

impl Show for StatusChanged {
    fn text(&self) -> String {
        format!("{} {}", self.code, self.status)
    }

    fn search(&self) -> Option<SearchState> {
        Some(self.search)
    }
}

impl Show for HoldPlaced {
    fn text(&self) -> String {
        format!("hold {} on {} documents", self.hold, self.documents.len())
    }

    fn search(&self) -> Option<SearchState> {
        Some(self.search)
    }
}

impl Show for HoldReleased {
    fn text(&self) -> String {
        format!("hold {} released from {} documents", self.hold, self.released.len())
    }

    fn search(&self) -> Option<SearchState> {
        Some(self.search)
    }
}

impl Show for DossierAllocated {
    /// The code alone, so that a script can take it.
    fn text(&self) -> String {
        self.code.clone()
    }
}

impl Show for Holds {
    fn text(&self) -> String {
        lines(&self.holds, |h| {
            format!("{}\t{}\t{}\t{}", h.id, if h.released { "released" } else { "active" }, h.scope, h.reason)
        })
    }
}

impl Show for RetentionClasses {
    fn text(&self) -> String {
        let schedule = &self.schedule;
        let mut out: Vec<String> = schedule
            .classes
            .iter()
            .map(|c| format!("{}\t{:?}\t{:?}\t{}\t{}", c.id, c.period, c.clock, c.name, c.legal_basis))
            .collect();
        out.extend(schedule.types.iter().map(|(t, c)| format!("type {t} -> {c}")));
        out.push(format!("other types -> {}", schedule.default_class));
        out.join("\n")
    }
}

impl Show for RetentionSet {
    fn text(&self) -> String {
        format!("{}: retention class {}", self.code, self.retention_class)
    }

    fn search(&self) -> Option<SearchState> {
        Some(self.search)
    }
}

impl Show for Marked {
    fn text(&self) -> String {
        if self.marked {
            format!("{} documents newly eligible {}", self.documents.len(), self.documents.join(" "))
        } else {
            format!(
                "{} documents will be eligible by {} (a look ahead: nothing is marked) {}",
                self.documents.len(),
                self.day,
                self.documents.join(" ")
            )
        }
    }

    fn search(&self) -> Option<SearchState> {
        Some(self.search)
    }
}

impl Show for DispositionList {
    fn text(&self) -> String {
        lines(&self.documents, |d| format!("{}\t{}\t{:?}", d.code, d.retention_class, d.disposition))
    }
}

impl Show for DispositionChanged {
    fn text(&self) -> String {
        format!("{}: {:?}", self.code, self.disposition)
    }

    fn search(&self) -> Option<SearchState> {
        Some(self.search)
    }
}

impl Show for Destroyed {
    fn text(&self) -> String {
        let code = self.report.get("document").and_then(|d| d.as_str()).unwrap_or_default();
        format!("{code} destroyed; report sealed by key {}", self.seal.key)
    }

    fn search(&self) -> Option<SearchState> {
        Some(self.search)
    }
}

impl Show for Fixity {
    fn text(&self) -> String {
        let r = &self.report;
        let mut out = format!(
            "{} documents, {} blobs ({} bytes), {} log leaves, {} checkpoints, {} audit entries checked",
            r.documents, r.blobs, r.bytes, r.log_leaves, r.checkpoints, r.audit_entries
        );
        for p in &r.problems {
            out.push_str(&format!("\nPROBLEM {p}"));
        }
        out.push_str(if self.intact { "\nintact" } else { "\nDAMAGED" });
        out
    }
}

impl Show for Replicated {
    fn text(&self) -> String {
        let c = &self.counts;
        format!(
            "{} documents, {} checkpoints replicated: {} objects ({} bytes) written, {} retentions extended, {} legal holds changed\n{}",
            c.documents,
            c.checkpoints,
            c.objects_written,
            c.bytes_written,
            c.retention_extended,
            c.holds_changed,
            lag_line(&self.lag)
        )
    }
}

impl Show for Published {
    fn text(&self) -> String {
        let c = &self.counts;
        format!(
            "{} documents published to the province index, {} rows written\n{}",
            c.documents,
            c.rows_written,
            lag_line(&self.lag)
        )
    }
}

impl Show for RemoteFixity {
    fn text(&self) -> String {
        let r = &self.report;
        let mut out = format!(
            "{} documents, {} checkpoints, {} objects ({} bytes) checked in the object store",
            r.documents, r.checkpoints, r.objects, r.bytes
        );
        for p in &r.problems {
            out.push_str(&format!("\nPROBLEM {}: {}", p.key, p.problem));
        }
        out.push('\n');
        out.push_str(&lag_line(&self.lag));
        out.push_str(if self.intact { "\nintact" } else { "\nDAMAGED" });
        out
    }
}

impl Show for ProvinceFixity {
    fn text(&self) -> String {
        let mut out = String::new();
        for peer in &self.peers {
            let witnessed = peer.witnessed_size.map_or("nothing yet".to_owned(), |size| format!("log size {size}"));
            out.push_str(&format!(
                "{} ({}): {} checkpoints checked, witnessed to {witnessed}\n",
                peer.office, peer.origin, peer.checkpoints
            ));
            for p in &peer.problems {
                out.push_str(&format!("PROBLEM {}: {}\n", p.key, p.problem));
            }
        }
        out.push_str(if self.intact { "intact" } else { "DAMAGED" });
        out
    }
}

/// How far the object store or the province index is behind, in one line.
fn lag_line(lag: &Lag) -> String {
    format!(
        "at event {} of {}: {} behind, the oldest waiting {} s",
        lag.followed_to, lag.last_event, lag.events_behind, lag.oldest_pending_seconds
    )
}

impl Show for AuditEntries {
    fn text(&self) -> String {
        lines(&self.entries, |e| {
            format!("{}\t{}\t{}\t{}\t{}\t{}", e.seq, e.at.to_rfc3339(), e.actor, e.action, e.target, e.detail)
        })
    }
}

impl Show for CheckpointView {
    fn text(&self) -> String {
        self.note.clone()
    }
}

impl Show for InclusionView {
    fn text(&self) -> String {
        let p = &self.proof;
        format!(
            "leaf {} of {}\n{}path: {}\n{}",
            p.index,
            p.checkpoint.size,
            p.leaf,
            hex_path(&p.path),
            p.checkpoint.to_note()
        )
    }
}

impl Show for ConsistencyView {
    fn text(&self) -> String {
        let p = &self.proof;
        let verdict = if self.verifies { "consistent" } else { "NOT CONSISTENT" };
        format!("{} -> {}: {verdict}\npath: {}", p.from.size, p.to.size, hex_path(&p.path))
    }
}

impl Show for BackupWritten {
    fn text(&self) -> String {
        let ids: Vec<&str> = self.keys.own.iter().map(|k| k.as_str()).collect();
        let mut out = format!(
            "backup written to {}\nseal keys of this appliance (a restore must name them): {}",
            self.backup,
            ids.join(" ")
        );
        for (id, sender) in &self.keys.foreign {
            out.push_str(&format!("\nforeign seal key {id} of {sender}"));
        }
        out
    }
}

impl Show for Restored {
    fn text(&self) -> String {
        format!("restored {} documents from {}; fixity: intact", self.documents, self.backup)
    }
}

impl Show for Exported {
    fn text(&self) -> String {
        format!("{} documents exported to {}", self.documents.len(), self.bag)
    }
}

impl Show for Imported {
    fn text(&self) -> String {
        format!("{} documents imported: {}", self.imported.len(), self.imported.join(" "))
    }
}

impl Show for PublicKeys {
    /// Public keys are for machines: the text form is the JSON too.
    fn text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl Show for Rotated {
    fn text(&self) -> String {
        self.current.clone()
    }
}

impl Show for Reindexed {
    fn text(&self) -> String {
        format!("search index rebuilt: {} documents", self.documents)
    }
}

impl Show for UserChanged {
    fn text(&self) -> String {
        let role = self.role.map(|r| format!(", role {r}")).unwrap_or_default();
        let state = if self.disabled { "disabled" } else { "enabled" };
        format!("user {}{role}, {state}", self.user)
    }
}

impl Show for UserList {
    fn text(&self) -> String {
        let line = |u: &UserInfo| {
            let disabled =
                u.disabled_at.map(|at| format!("  disabled {}", at.format("%d/%m/%Y %H:%M"))).unwrap_or_default();
            format!("{:<24} {:<10} created {}{disabled}", u.name, u.role, u.created_at.format("%d/%m/%Y"))
        };
        self.users.iter().map(line).collect::<Vec<_>>().join("\n")
    }
}

impl Show for IssuedToken {
    fn text(&self) -> String {
        format!(
            "{} token {}: {}\n(shown this once; the appliance keeps only its hash: send it as Authorization: Bearer …)",
            self.purpose.as_str(),
            self.name,
            self.token
        )
    }
}

impl Show for TokenList {
    fn text(&self) -> String {
        let line = |t: &TokenInfo| {
            format!(
                "{:<24} {:<8} issued by {} on {}, last used {}",
                t.name,
                t.purpose.as_str(),
                t.issued_by,
                t.issued_at.format("%d/%m/%Y"),
                t.last_used.format("%d/%m/%Y %H:%M")
            )
        };
        self.tokens.iter().map(line).collect::<Vec<_>>().join("\n")
    }
}

impl Show for TokenRevoked {
    fn text(&self) -> String {
        format!("token {} revoked", self.name)
    }
}

impl Show for ReuseLookup {
    fn text(&self) -> String {
        lines(&self.documents, |c| {
            let d = &c.document;
            let until = d.valid_until.map_or("permanent".to_owned(), |day| format!("until {day}"));
            let verdict = if c.verified {
                "verified".to_owned()
            } else {
                format!("NOT VERIFIED ({})", c.failed_checks.join(", "))
            };
            format!("{}\t{}\t{}\t{until}\t{}\t{verdict}", d.code, d.name, d.number, d.status)
        })
    }
}

/// One line per offer of another office, then one per refusal.
fn province_lines(offers: &[ProvinceOffer], refused: &[ProvinceRefusal]) -> String {
    let offers = offers.iter().map(|o| {
        let until = o.valid_until.map_or("permanent".to_owned(), |day| format!("until {day}"));
        format!("{}\t{}\t{until}\t{}\tverified", o.code, o.name, o.office)
    });
    let refused = refused.iter().map(|r| format!("{}\t{}\tREFUSED: {}", r.code, r.office, r.reason));
    offers.chain(refused).collect::<Vec<_>>().join("\n")
}

impl Show for ProvinceReuse {
    fn text(&self) -> String {
        let local = self.local.text();
        let local = local.lines().map(|l| format!("{l}\t{}", self.office));
        let province = province_lines(&self.offers, &self.refused);
        let unavailable = self.province_unavailable.iter().map(|why| format!("PROVINCE NOT ASKED: {why}"));
        local.chain(province.lines().map(str::to_owned)).chain(unavailable).collect::<Vec<_>>().join("\n")
    }
}

impl Show for ProvinceSearch {
    fn text(&self) -> String {
        province_lines(&self.offers, &self.refused)
    }
}

impl Show for ReuseRecorded {
    fn text(&self) -> String {
        String::new()
    }
}

impl Show for ReuseReport {
    fn text(&self) -> String {
        lines(&self.months, |r| {
            let percent = if r.dossiers == 0 { 0.0 } else { 100.0 * r.with_reuse as f64 / r.dossiers as f64 };
            format!("{}\t{} dossiers\t{} with reuse\t{percent:.1}%", r.month, r.dossiers, r.with_reuse)
        })
    }
}

impl Show for HotFolderListing {
    fn text(&self) -> String {
        let mut out = format!("{} files wait for confirmation", self.pending.len());
        for f in &self.pending {
            out.push_str(&format!(
                "\n{}\t{}\t{} {} {:?}\t{} bytes\t{}",
                f.id,
                f.received_at,
                f.owner.as_deref().unwrap_or("-"),
                f.doc_type,
                f.name,
                f.size,
                f.file_name
            ));
        }
        out.push_str(&format!("\n{} recent refusals", self.failed.len()));
        for f in &self.failed {
            out.push_str(&format!("\n{}\t{}\t{}\t{}", f.id, f.received_at, f.file_name, f.reason));
        }
        out
    }
}

impl Show for crate::scan::Scanners {
    fn text(&self) -> String {
        if self.devices.is_empty() {
            eprintln!("no scanner found (SANE backends are configured in {})", self.config_dir);
        }
        lines(&self.devices, |d| format!("{}\t{} {} ({})", d.name, d.vendor, d.model, d.kind))
    }
}

impl Show for crate::scan::ScannerOptions {
    fn text(&self) -> String {
        let settable: Vec<_> = self.options.iter().filter(|o| o.settable).collect();
        lines(&settable, |o| format!("{}\t{}\t{}\t{}", o.name, o.value.as_deref().unwrap_or("-"), o.allowed, o.title))
    }
}

impl Show for Dashboard {
    fn text(&self) -> String {
        let day = |d: chrono::NaiveDate| d.format("%d/%m/%Y").to_string();
        let mut out = format!(
            "{} to {} ({} days), counted at {}\n{} documents, {} pages digitized; {} of {} signed and in force ({:.1}%)",
            day(self.first_day),
            day(self.last_day),
            self.days,
            self.counted_at.format("%d/%m/%Y %H:%M:%S %:z"),
            self.documents,
            self.pages,
            self.results.signed,
            self.results.digitized,
            self.results.signed_percent
        );
        for d in self.daily.iter().filter(|d| d.documents > 0) {
            out.push_str(&format!("\n{}\t{} documents\t{} pages", day(d.day), d.documents, d.pages));
        }
        let [first, last] = self.reuse_targets_percent;
        out.push_str(&format!("\nreuse rate (targets {first}% and {last}%):"));
        for r in &self.reuse {
            out.push_str(&format!(
                "\n{}\t{} dossiers\t{} with reuse\t{:.1}%",
                r.month, r.dossiers, r.with_reuse, r.rate_percent
            ));
        }
        out.push_str(&format!("\ndossiers per operator (norm for the period: {:.1}):", self.dossier_norm));
        for o in &self.operators {
            out.push_str(&format!(
                "\n{}\t{} dossiers\t{} documents\t{:.1}% of the norm",
                o.operator, o.dossiers, o.documents, o.norm_percent
            ));
        }
        let q = &self.queue;
        out.push_str(&format!(
            "\nOCR queue now: {} documents captured and not yet archived, {} pages, {} hot folder files",
            q.ingests, q.pages_waiting, q.hot_folder_files
        ));
        let t = &self.scan_to_archive;
        let secs = |s: Option<i64>| s.map_or("-".to_owned(), |s| format!("{s} s"));
        out.push_str(&format!(
            "\nscan to archive over {} documents: median {}, 90th percentile {}",
            t.documents,
            secs(t.p50_seconds),
            secs(t.p90_seconds)
        ));
        out
    }
}

impl Show for ConfigInForce {
    fn text(&self) -> String {
        // In the configuration file's own form, a section after another.
        self.sections()
            .into_iter()
            .map(|(section, settings)| {
                let lines: Vec<String> = settings.into_iter().map(|(key, value)| format!("{key} = {value}")).collect();
                format!("[{section}]\n{}", lines.join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

impl Show for crate::offload::WorkerReport {
    fn text(&self) -> String {
        format!("{} pages read, {} could not be read here", self.pages_read, self.pages_failed)
    }
}
