//! The archive's commands: revocation, holds, retention, disposition, fixity, the
//! archive log, the audit trail, backup and restore, BagIt export and import, replication to the
//! province's object store. Each parses its
//! arguments, runs the operation of [`crate::ops`] and shows its result (see [`crate::cli_output`]).

use std::path::PathBuf;

use archive::{AuditQuery, CouncilDecision, HoldScope, Review};
use chrono::{DateTime, FixedOffset, NaiveDate};
use clap::Subcommand;
use domain::DocumentCode;
use signer::KeyId;

use crate::cli_output::{Output, write_file};
use crate::ops::{Permit, disposition, integrity, lifecycle, province, replication, transfer};
use crate::progress_bar::Progress;
use crate::{Appliance, ApplianceError};

/// The archive's commands, flattened into the CLI's command list.
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Revoke a document: its content is kept, verification says revoked.
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
    /// With --remote, check the object store's copies against the archive instead; with
    /// --province, the other offices' logs.
    Fixity {
        /// Read blobs at most this many bytes per second (default: unlimited).
        #[arg(long, conflicts_with_all = ["remote", "province"])]
        rate: Option<u64>,
        /// Check the copies in the province's object store ([replication]): every replicated object
        /// present, hashing to its key, locked and held as the archive says.
        #[arg(long, conflicts_with = "province")]
        remote: bool,
        /// Witness the other offices' logs ([province] peers): every checkpoint each published since
        /// the last run signed by its pinned keys and extending the history witnessed before, with
        /// no fork.
        #[arg(long)]
        province: bool,
    },
    /// Copy to the province's object store ([replication]) every archived change it lacks, once
    /// (`sohoa serve` does it in the background); exit 1 if the store could not take everything.
    Replicate,
    /// Publish to the province index ([province] index) every archived change it lacks, once
    /// (`sohoa serve` does it in the background); exit 1 if the index could not take everything.
    Publish,
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
        /// Only entries of this action (`hold`, `destroy-request`, …).
        #[arg(long)]
        action: Option<String>,
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
    /// Export a document or a dossier as a BagIt bag, as Circular 13/2023 hands electronic records over.
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
    /// The operation's permit, checked on a logged-in user's role (see [`crate::cli_login`]).
    pub fn permit(&self) -> Option<Permit> {
        Some(match self {
            ArchiveCommand::Revoke { .. } => lifecycle::REVOKE,
            ArchiveCommand::Hold { .. } => lifecycle::PLACE_HOLD,
            ArchiveCommand::Release { .. } => lifecycle::RELEASE_HOLD,
            ArchiveCommand::Holds => lifecycle::LIST_HOLDS,
            ArchiveCommand::Retention { command: RetentionCommand::Classes } => lifecycle::RETENTION_CLASSES,
            ArchiveCommand::Retention { command: RetentionCommand::Set { .. } } => lifecycle::SET_RETENTION,
            ArchiveCommand::Dispose { command: DisposeCommand::Mark { .. } } => disposition::MARK,
            ArchiveCommand::Dispose { command: DisposeCommand::List } => disposition::LIST,
            ArchiveCommand::Dispose { command: DisposeCommand::Review { .. } } => disposition::REVIEW,
            ArchiveCommand::Dispose { command: DisposeCommand::Request { .. } } => disposition::REQUEST,
            ArchiveCommand::Dispose { command: DisposeCommand::Confirm { .. } } => disposition::CONFIRM,
            ArchiveCommand::Fixity { remote: true, .. } => replication::REMOTE_FIXITY,
            ArchiveCommand::Fixity { province: true, .. } => replication::PROVINCE_FIXITY,
            ArchiveCommand::Fixity { .. } => integrity::FIXITY,
            ArchiveCommand::Replicate => replication::REPLICATE,
            ArchiveCommand::Publish => province::PUBLISH,
            ArchiveCommand::Log { command: LogCommand::Checkpoint } => integrity::CHECKPOINT,
            ArchiveCommand::Log { command: LogCommand::Prove { .. } | LogCommand::Consistency { .. } } => {
                integrity::PROOFS
            }
            ArchiveCommand::Audit { .. } => integrity::AUDIT_READ,
            ArchiveCommand::Backup { .. } => transfer::BACKUP,
            ArchiveCommand::Export { .. } => transfer::EXPORT,
            ArchiveCommand::Import { .. } => transfer::IMPORT,
            // A restore makes a new appliance, whose accounts come from the backup: nobody can log in yet.
            ArchiveCommand::Restore { .. } => return None,
        })
    }

    /// Whether the command changes a document's life, and so needs a logged-in user whatever the
    /// system's user may otherwise do.
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            ArchiveCommand::Revoke { .. }
                | ArchiveCommand::Hold { .. }
                | ArchiveCommand::Release { .. }
                | ArchiveCommand::Retention { command: RetentionCommand::Set { .. } }
                | ArchiveCommand::Dispose {
                    command: DisposeCommand::Mark { .. }
                        | DisposeCommand::Review { .. }
                        | DisposeCommand::Request { .. }
                        | DisposeCommand::Confirm { .. }
                }
        )
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

/// Runs an archive command. `Ok(false)` when the answer is negative: fixity found problems, or a
/// proof does not verify.
pub fn run(appliance: &Appliance, command: ArchiveCommand, actor: &str, out: Output) -> Result<bool, ApplianceError> {
    match command {
        ArchiveCommand::Revoke { code, reason } => {
            out.show(&appliance.revoke(&parse_code(&code)?, &reason, actor)?)?
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
            out.show(&appliance.place_hold(scope, &reason, actor)?)?;
        }
        ArchiveCommand::Release { id } => out.show(&appliance.release_hold(id, actor)?)?,
        ArchiveCommand::Holds => out.show(&appliance.holds()?)?,
        ArchiveCommand::Retention { command: RetentionCommand::Classes } => out.show(&appliance.retention_classes())?,
        ArchiveCommand::Retention { command: RetentionCommand::Set { code, class, reason } } => {
            out.show(&appliance.set_retention_class(&parse_code(&code)?, &class, &reason, actor)?)?
        }
        ArchiveCommand::Dispose { command } => dispose(appliance, command, actor, out)?,
        ArchiveCommand::Fixity { remote: true, .. } => {
            let fixity = appliance.remote_fixity(actor)?;
            out.show(&fixity)?;
            return Ok(fixity.intact);
        }
        ArchiveCommand::Fixity { province: true, .. } => {
            let fixity = appliance.province_fixity(actor)?;
            out.show(&fixity)?;
            return Ok(fixity.intact);
        }
        ArchiveCommand::Replicate => out.show(&appliance.replicate(actor)?)?,
        ArchiveCommand::Publish => out.show(&appliance.publish(actor)?)?,
        ArchiveCommand::Fixity { rate, .. } => {
            let mut progress = Progress::new("fixity", "blobs");
            let fixity = appliance.fixity(rate, actor, &mut |done, total| progress.update(done, total))?;
            drop(progress);
            out.show(&fixity)?;
            return Ok(fixity.intact);
        }
        ArchiveCommand::Log { command: LogCommand::Checkpoint } => out.show(&appliance.checkpoint()?)?,
        ArchiveCommand::Log { command: LogCommand::Prove { code } } => {
            let proof = appliance.prove(&parse_code(&code)?, actor)?;
            out.show(&proof)?;
            return Ok(proof.verifies);
        }
        ArchiveCommand::Log { command: LogCommand::Consistency { from } } => {
            let proof = appliance.prove_consistency(from, actor)?;
            out.show(&proof)?;
            return Ok(proof.verifies);
        }
        ArchiveCommand::Audit { target, actor: by, action, from, until } => {
            out.show(&appliance.audit_query(&AuditQuery { target, actor: by, action, from, until }, actor)?)?
        }
        ArchiveCommand::Backup { dir } => out.show(&appliance.write_backup(&dir, actor)?)?,
        ArchiveCommand::Restore { .. } => unreachable!("restore runs before the appliance is opened"),
        ArchiveCommand::Export { code, out: dir } => {
            let mut progress = Progress::new("export", "documents");
            let exported = appliance.export(&code, &dir, actor, &mut |done, total| progress.update(done, total))?;
            drop(progress);
            out.show(&exported)?;
        }
        ArchiveCommand::Import { dir, trust_keys } => out.show(&appliance.import(&dir, &trust_keys, actor)?)?,
    }
    Ok(true)
}

fn dispose(appliance: &Appliance, command: DisposeCommand, actor: &str, out: Output) -> Result<(), ApplianceError> {
    match command {
        DisposeCommand::Mark { today } => out.show(&appliance.mark_eligible(today, actor)?),
        DisposeCommand::List => out.show(&appliance.disposition_list()?),
        DisposeCommand::Review { code, approve, keep_until, reason } => {
            let review = match (approve, keep_until) {
                (true, _) => Review::Approve,
                (false, Some(until)) => Review::KeepUntil { until, reason: reason.unwrap_or_default() },
                (false, None) => {
                    return Err(ApplianceError::Input("say --approve or --keep-until DATE --reason WHY".into()));
                }
            };
            out.show(&appliance.review(&parse_code(&code)?, review, actor)?)
        }
        DisposeCommand::Request { code, decision, decision_date } => {
            let decision = CouncilDecision { number: decision, date: decision_date };
            out.show(&appliance.request_destruction(&parse_code(&code)?, decision, actor)?)
        }
        DisposeCommand::Confirm { code, report } => {
            let destroyed = appliance.confirm_destruction(&parse_code(&code)?, actor)?;
            if let Some(path) = report {
                let json = serde_json::to_string_pretty(&destroyed).map_err(anyhow::Error::from)?;
                write_file(&path, json.as_bytes())?;
            }
            out.show(&destroyed)
        }
    }
}
