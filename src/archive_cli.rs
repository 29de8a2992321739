//! The archive's commands (DESIGN.md §5): revocation, holds, retention, disposition, fixity, the
//! archive log, the audit trail, backup and restore, BagIt export and import. Each prints a short
//! line per result, or JSON with `--json`.

use std::path::PathBuf;

use archive::{AuditQuery, CouncilDecision, HoldScope, Review};
use chrono::{DateTime, FixedOffset, NaiveDate};
use clap::Subcommand;
use domain::{DocumentCode, vietnam_now};
use signer::KeyId;

use crate::cli_login::Step;
use crate::progress_bar::Progress;
use crate::users::Role;
use crate::{Appliance, ApplianceError, SearchState};

/// The archive's commands, flattened into the CLI's command list.
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Revoke a document (R7): its content is kept, verification says revoked.
    Revoke {
        /// The document code.
        code: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Place a hold on a document, or on all documents of an owner, dossier or type (including
    /// those archived later). A held document cannot be revoked, destroyed or changed.
    Hold {
        /// One document.
        #[arg(long, group = "scope")]
        document: Option<String>,
        /// All documents of an owner ID.
        #[arg(long, group = "scope")]
        owner: Option<String>,
        /// All documents of a dossier.
        #[arg(long, group = "scope")]
        dossier: Option<String>,
        /// All documents of a type.
        #[arg(long = "type", group = "scope")]
        doc_type: Option<String>,
        /// Why (the case, the inspection).
        #[arg(long)]
        reason: String,
    },
    /// Release a hold from every document it is on.
    Release {
        /// The hold's id.
        id: u64,
    },
    /// List the holds, active and released.
    Holds,
    /// Retention classes and per-document overrides.
    Retention {
        /// What to do.
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Disposition: mark eligible, review, request and confirm destruction.
    Dispose {
        /// What to do.
        #[command(subcommand)]
        command: DisposeCommand,
    },
    /// Re-hash every blob, check every seal, the log and the audit chain; exit 1 on any problem.
    Fixity {
        /// Read blobs at most this many bytes per second (default: unlimited).
        #[arg(long)]
        rate: Option<u64>,
    },
    /// The archive log: checkpoints and proofs.
    Log {
        /// What to do.
        #[command(subcommand)]
        command: LogCommand,
    },
    /// List audit entries (the whole chain is checked on the way).
    Audit {
        /// Only entries about this target (document code, user, `hold N`).
        #[arg(long)]
        target: Option<String>,
        /// Only entries by this actor.
        #[arg(long)]
        actor: Option<String>,
        /// Only entries at or after this time (RFC 3339).
        #[arg(long)]
        from: Option<DateTime<FixedOffset>>,
        /// Only entries before this time (RFC 3339).
        #[arg(long)]
        until: Option<DateTime<FixedOffset>>,
    },
    /// Write a consistent copy of the archive and the public seal keys to a new directory, while
    /// the appliance is in use; prints the ids of the seal keys it carries, to record for a restore.
    Backup {
        /// The directory to create.
        dir: PathBuf,
    },
    /// Restore a backup into the data directory (which must hold no archive); refused unless every
    /// seal key the backup carries is named and it passes fixity with those keys alone.
    Restore {
        /// The backup directory.
        dir: PathBuf,
        /// A seal key id of this appliance (as `sohoa keys export` or `backup` showed it), or of
        /// another appliance whose documents it imported; repeat for each.
        #[arg(long = "expect-key", value_name = "KEY_ID")]
        expect_keys: Vec<KeyId>,
    },
    /// Export a document or a dossier as a BagIt bag (R8, Circular 13/2023).
    Export {
        /// A document code or a dossier code.
        code: String,
        /// The bag directory to create.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Import a bag exported by a sohoa appliance, after verifying everything in it. A bag sealed by
    /// another appliance's key is refused, naming the key, unless `[import] trusted_keys` pins it or
    /// --trust-key names it.
    Import {
        /// The bag directory.
        dir: PathBuf,
        /// Trust this seal key of the sending appliance for the documents of this bag, after
        /// comparing its id with the sender's `sohoa keys export` out of band; repeat for each key.
        #[arg(long = "trust-key", value_name = "KEY_ID")]
        trust_keys: Vec<KeyId>,
    },
}

impl ArchiveCommand {
    /// What the command needs of the user who runs it, when it changes a document's life: such a
    /// step is recorded under a logged-in user of one of these roles (see [`crate::cli_login`]).
    pub fn step(&self) -> Option<Step> {
        let step = |what, roles| Some(Step { what, roles });
        match self {
            ArchiveCommand::Revoke { .. } => step("revoke documents", Role::REVOKERS),
            ArchiveCommand::Hold { .. } => step("place holds", Role::ARCHIVISTS),
            ArchiveCommand::Release { .. } => step("release holds", Role::ARCHIVISTS),
            ArchiveCommand::Retention { command: RetentionCommand::Set { .. } } => {
                step("set retention classes", Role::ARCHIVISTS)
            }
            ArchiveCommand::Dispose { command: DisposeCommand::Mark { .. } } => {
                step("mark documents eligible", Role::ARCHIVISTS)
            }
            ArchiveCommand::Dispose { command: DisposeCommand::Review { .. } } => {
                step("review disposition", Role::ARCHIVISTS)
            }
            ArchiveCommand::Dispose { command: DisposeCommand::Request { .. } } => {
                step("request destruction", Role::DESTROYERS)
            }
            ArchiveCommand::Dispose { command: DisposeCommand::Confirm { .. } } => {
                step("confirm destruction", Role::DESTROYERS)
            }
            _ => None,
        }
    }
}

/// Retention commands.
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// List the schedule's classes and the class of each type.
    Classes,
    /// Override a document's retention class.
    Set {
        /// The document code.
        code: String,
        /// The class id.
        class: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// Disposition commands.
#[derive(Debug, Subcommand)]
pub enum DisposeCommand {
    /// Mark eligible the documents whose retention ended (the daily job, run now). Deletes nothing.
    Mark {
        /// The day to judge by (default: today). A day after today only lists what will be
        /// eligible by then, for planning, and marks nothing.
        #[arg(long)]
        today: Option<NaiveDate>,
    },
    /// List the documents awaiting a disposition step.
    List,
    /// Review an eligible document: approve it for destruction, or keep it longer.
    Review {
        /// The document code.
        code: String,
        /// Approve for destruction.
        #[arg(long, conflicts_with = "keep_until")]
        approve: bool,
        /// Keep until this day.
        #[arg(long, requires = "reason")]
        keep_until: Option<NaiveDate>,
        /// Why it is kept.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Request the destruction of an approved document under the valuation council's decision.
    Request {
        /// The document code.
        code: String,
        /// The decision's number.
        #[arg(long)]
        decision: String,
        /// The decision's date.
        #[arg(long)]
        decision_date: NaiveDate,
    },
    /// Confirm a requested destruction (a second person); prints the signed report.
    Confirm {
        /// The document code.
        code: String,
        /// Also write the report (JSON with its seal) to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

/// Archive log commands.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Sign a checkpoint now and print it as a signed note.
    Checkpoint,
    /// Print the inclusion proof of a document's latest leaf.
    Prove {
        /// The document code.
        code: String,
    },
    /// Print the proof that the checkpoint of this size is a prefix of the latest.
    Consistency {
        /// The older checkpoint's size.
        from: u64,
    },
}

fn parse_code(code: &str) -> Result<DocumentCode, ApplianceError> {
    Ok(code.parse()?)
}

fn print(json: bool, value: serde_json::Value, text: impl FnOnce() -> String) -> Result<(), ApplianceError> {
    if json {
        println!("{}", serde_json::to_string_pretty(&value).map_err(anyhow::Error::from)?);
    } else {
        println!("{}", text());
    }
    Ok(())
}

fn join(ids: &[KeyId]) -> String {
    ids.iter().map(KeyId::as_str).collect::<Vec<_>>().join(" ")
}

/// Brings search up to date after a change that is already archived, saying so when it could not.
fn index(appliance: &Appliance) {
    if appliance.index_committed() == SearchState::Pending {
        eprintln!("{}", crate::cli::SEARCH_PENDING);
    }
}

fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs an archive command. `Ok(false)` when fixity found problems.
pub fn run(appliance: &Appliance, command: ArchiveCommand, actor: &str, json: bool) -> Result<bool, ApplianceError> {
    let archive = appliance.archive();
    match command {
        ArchiveCommand::Revoke { code, reason } => {
            let record = archive.revoke(&parse_code(&code)?, &reason, actor)?;
            index(appliance);
            print(json, serde_json::json!({ "code": code, "status": record.status.name() }), || {
                format!("{code} revoked")
            })?;
        }
        ArchiveCommand::Hold { document, owner, dossier, doc_type, reason } => {
            let scope = match (document, owner, dossier, doc_type) {
                (Some(c), ..) => HoldScope::Document(parse_code(&c)?),
                (_, Some(o), ..) => HoldScope::Owner(o.parse()?),
                (_, _, Some(d), _) => HoldScope::Dossier(d.parse()?),
                (_, _, _, Some(t)) => HoldScope::Type(t.parse()?),
                _ => {
                    return Err(ApplianceError::Input(
                        "say what to hold: --document, --owner, --dossier or --type".into(),
                    ));
                }
            };
            let (hold, codes) = archive.place_hold(scope, &reason, actor)?;
            index(appliance);
            let codes: Vec<String> = codes.iter().map(ToString::to_string).collect();
            print(json, serde_json::json!({ "hold": hold.id, "documents": codes }), || {
                format!("hold {} on {} documents", hold.id, codes.len())
            })?;
        }
        ArchiveCommand::Release { id } => {
            let codes = archive.release_hold(id, actor)?;
            index(appliance);
            print(
                json,
                serde_json::json!({ "hold": id, "released": codes.iter().map(ToString::to_string).collect::<Vec<_>>() }),
                || format!("hold {id} released from {} documents", codes.len()),
            )?;
        }
        ArchiveCommand::Holds => {
            let holds = archive.holds()?;
            let rows: Vec<_> = holds
                .iter()
                .map(|h| serde_json::json!({ "id": h.id, "scope": h.scope.to_string(), "reason": h.reason, "by": h.by, "at": h.at, "released": h.released.is_some() }))
                .collect();
            print(json, serde_json::json!(rows), || {
                holds
                    .iter()
                    .map(|h| {
                        format!(
                            "{}\t{}\t{}\t{}",
                            h.id,
                            if h.released.is_some() { "released" } else { "active" },
                            h.scope,
                            h.reason
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        }
        ArchiveCommand::Retention { command: RetentionCommand::Classes } => {
            let schedule = archive.schedule();
            print(json, serde_json::to_value(schedule).map_err(anyhow::Error::from)?, || {
                let mut lines: Vec<String> = schedule
                    .classes
                    .iter()
                    .map(|c| format!("{}\t{:?}\t{:?}\t{}\t{}", c.id, c.period, c.clock, c.name, c.legal_basis))
                    .collect();
                lines.extend(schedule.types.iter().map(|(t, c)| format!("type {t} -> {c}")));
                lines.push(format!("other types -> {}", schedule.default_class));
                lines.join("\n")
            })?;
        }
        ArchiveCommand::Retention { command: RetentionCommand::Set { code, class, reason } } => {
            archive.set_retention_class(&parse_code(&code)?, &class, &reason, actor)?;
            print(json, serde_json::json!({ "code": code, "retention_class": class }), || {
                format!("{code}: retention class {class}")
            })?;
        }
        ArchiveCommand::Dispose { command } => dispose(appliance, command, actor, json)?,
        ArchiveCommand::Fixity { rate } => {
            let mut progress = Progress::new("fixity", "blobs");
            let report = archive.fixity_with_progress(rate, actor, &mut |done, total| progress.update(done, total))?;
            drop(progress);
            print(json, serde_json::to_value(&report).map_err(anyhow::Error::from)?, || {
                let mut out = format!(
                    "{} documents, {} blobs ({} bytes), {} log leaves, {} checkpoints, {} audit entries checked",
                    report.documents,
                    report.blobs,
                    report.bytes,
                    report.log_leaves,
                    report.checkpoints,
                    report.audit_entries
                );
                for p in &report.problems {
                    out.push_str(&format!("\nPROBLEM {p}"));
                }
                out.push_str(if report.is_clean() { "\nintact" } else { "\nDAMAGED" });
                out
            })?;
            return Ok(report.is_clean());
        }
        ArchiveCommand::Log { command: LogCommand::Checkpoint } => {
            let c = archive.checkpoint()?;
            archive.audit(actor, "log-checkpoint", &c.size.to_string(), &hex(&c.root))?;
            print(json, serde_json::to_value(&c).map_err(anyhow::Error::from)?, || c.to_note())?;
        }
        ArchiveCommand::Log { command: LogCommand::Prove { code } } => {
            let proof = archive.prove(&parse_code(&code)?)?;
            archive.audit(actor, "log-prove", &code, &format!("leaf {}", proof.index))?;
            let ok = proof.verifies();
            print(json, serde_json::to_value(&proof).map_err(anyhow::Error::from)?, || {
                format!(
                    "leaf {} of {}\n{}path: {}\n{}",
                    proof.index,
                    proof.checkpoint.size,
                    proof.leaf,
                    proof.path.iter().map(|h| hex(h)).collect::<Vec<_>>().join(" "),
                    proof.checkpoint.to_note()
                )
            })?;
            return Ok(ok);
        }
        ArchiveCommand::Log { command: LogCommand::Consistency { from } } => {
            let proof = archive.prove_consistency(from)?;
            archive.audit(actor, "log-consistency", &from.to_string(), &proof.to.size.to_string())?;
            let ok = proof.verifies();
            print(json, serde_json::to_value(&proof).map_err(anyhow::Error::from)?, || {
                format!(
                    "{} -> {}: {}\npath: {}",
                    proof.from.size,
                    proof.to.size,
                    if ok { "consistent" } else { "NOT CONSISTENT" },
                    proof.path.iter().map(|h| hex(h)).collect::<Vec<_>>().join(" ")
                )
            })?;
            return Ok(ok);
        }
        ArchiveCommand::Audit { target, actor: by, from, until } => {
            let entries = archive.audit_query(&AuditQuery { target, actor: by, from, until })?;
            let rows: Vec<_> = entries
                .iter()
                .map(|e| serde_json::json!({ "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target, "detail": e.detail, "hash": hex(&e.hash), "key": e.seal.key }))
                .collect();
            print(json, serde_json::json!(rows), || {
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{}\t{}\t{}\t{}\t{}\t{}",
                            e.seq,
                            e.at.to_rfc3339(),
                            e.actor,
                            e.action,
                            e.target,
                            e.detail
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        }
        ArchiveCommand::Backup { dir } => {
            let keys = appliance.backup(&dir, actor)?;
            print(json, serde_json::json!({ "backup": dir, "keys": keys }), || {
                let mut out = format!(
                    "backup written to {}\nseal keys of this appliance (a restore must name them): {}",
                    dir.display(),
                    join(&keys.own)
                );
                for (id, sender) in &keys.foreign {
                    out.push_str(&format!("\nforeign seal key {id} of {sender}"));
                }
                out
            })?;
        }
        ArchiveCommand::Restore { .. } => unreachable!("restore runs before the appliance is opened"),
        ArchiveCommand::Export { code, out } => {
            let mut progress = Progress::new("export", "documents");
            let codes = appliance.export_bag(&code, &out, actor, &mut |done, total| progress.update(done, total))?;
            drop(progress);
            print(json, serde_json::json!({ "bag": out, "documents": codes }), || {
                format!("{} documents exported to {}", codes.len(), out.display())
            })?;
        }
        ArchiveCommand::Import { dir, trust_keys } => {
            let codes = appliance.import_bag(&dir, &trust_keys, actor)?;
            print(json, serde_json::json!({ "imported": codes }), || {
                format!("{} documents imported: {}", codes.len(), codes.join(" "))
            })?;
        }
    }
    Ok(true)
}

fn dispose(appliance: &Appliance, command: DisposeCommand, actor: &str, json: bool) -> Result<(), ApplianceError> {
    let archive = appliance.archive();
    match command {
        DisposeCommand::Mark { today } => {
            let now = vietnam_now().date_naive();
            // A day in the future would make documents eligible before their time: it is a look
            // ahead only. (Destruction is also judged against the real date, whatever is marked.)
            if let Some(ahead) = today.filter(|day| *day > now) {
                let codes: Vec<String> = archive.eligible_by(ahead)?.iter().map(ToString::to_string).collect();
                return print(
                    json,
                    serde_json::json!({ "eligible_by": ahead, "documents": codes, "marked": false }),
                    || {
                        format!(
                            "{} documents will be eligible by {ahead} (a look ahead: nothing is marked) {}",
                            codes.len(),
                            codes.join(" ")
                        )
                    },
                );
            }
            let codes = archive.mark_eligible(today.unwrap_or(now), actor)?;
            index(appliance);
            let codes: Vec<String> = codes.iter().map(ToString::to_string).collect();
            print(json, serde_json::json!({ "eligible": codes }), || {
                format!("{} documents newly eligible {}", codes.len(), codes.join(" "))
            })
        }
        DisposeCommand::List => {
            let queue = archive.disposition_queue()?;
            let rows: Vec<_> = queue
                .iter()
                .map(|r| serde_json::json!({ "code": r.code.to_string(), "name": r.metadata.name(), "retention_class": r.lifecycle.retention_class, "disposition": format!("{:?}", r.lifecycle.disposition) }))
                .collect();
            print(json, serde_json::json!(rows), || {
                queue
                    .iter()
                    .map(|r| format!("{}\t{}\t{:?}", r.code, r.lifecycle.retention_class, r.lifecycle.disposition))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        DisposeCommand::Review { code, approve, keep_until, reason } => {
            let review = match (approve, keep_until) {
                (true, _) => Review::Approve,
                (false, Some(until)) => Review::KeepUntil { until, reason: reason.unwrap_or_default() },
                (false, None) => {
                    return Err(ApplianceError::Input("say --approve or --keep-until DATE --reason WHY".into()));
                }
            };
            let record = archive.review(&parse_code(&code)?, review, actor)?;
            print(
                json,
                serde_json::json!({ "code": code, "disposition": format!("{:?}", record.lifecycle.disposition) }),
                || format!("{code}: {:?}", record.lifecycle.disposition),
            )
        }
        DisposeCommand::Request { code, decision, decision_date } => {
            archive.request_destruction(
                &parse_code(&code)?,
                CouncilDecision { number: decision, date: decision_date },
                actor,
            )?;
            print(json, serde_json::json!({ "code": code, "requested": true }), || {
                format!("{code}: destruction requested; a second person must confirm it")
            })
        }
        DisposeCommand::Confirm { code, report } => {
            let r = archive.confirm_destruction(&parse_code(&code)?, actor)?;
            index(appliance);
            let value = serde_json::json!({ "report": serde_json::from_str::<serde_json::Value>(&r.json).map_err(anyhow::Error::from)?, "seal": { "text": r.seal.text, "signature": hex(&r.seal.signature), "key": r.seal.key } });
            if let Some(path) = report {
                crate::cli::write_file(
                    &path,
                    serde_json::to_string_pretty(&value).map_err(anyhow::Error::from)?.as_bytes(),
                )?;
            }
            print(json, value, || format!("{code} destroyed; report sealed by key {}", r.seal.key))
        }
    }
}
