//! The command line: `sohoa [--data DIR] [--json] <command>` (DESIGN.md §5). Each command runs the
//! same [`Appliance`] operation the HTTP API runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use domain::DocumentCode;

use crate::appliance::hit_json;
use crate::archive_cli::ArchiveCommand;
use crate::cli_login::{self, Step};
use crate::config::Config;
use crate::input::MetadataFields;
use crate::users::{self, Role};
use crate::{Appliance, ApplianceError, IngestRequest, VerifyReport};

/// sohoa: captures paper dossiers, OCRs, seals, archives and indexes them.
#[derive(Debug, Parser)]
#[command(name = "sohoa", version, about)]
pub struct Cli {
    /// The data directory (archive, search index, keys).
    #[arg(long, global = true, default_value = "./var", env = "SOHOA_DATA")]
    pub data: PathBuf,
    /// The configuration file (TOML): agency, signer, TSA, trust anchors. Without one, a development
    /// signer is made under the data directory.
    #[arg(long, global = true, env = "SOHOA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Run the command as this user of the appliance, who logs in with the password read from the
    /// terminal or the first line of standard input. Required to revoke, hold, release, set a
    /// retention class, dispose, and (once users exist) manage users.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the appliance: HTTP API under /api/ and the public /verify page.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "SOHOA_LISTEN")]
        listen: SocketAddr,
    },
    /// Capture files (PNG, JPEG, multi-page TIFF, scanned PDF) as one document, pages in the order given.
    Ingest(IngestArgs),
    /// List the scanners SANE sees; with --options, one scanner's options and their values.
    Scanners {
        /// Show this scanner's options.
        #[arg(long, value_name = "DEVICE")]
        options: Option<String>,
    },
    /// Scan a batch (the flatbed page, or the feeder until it is empty) and capture it as one document.
    Scan(ScanArgs),
    /// Full-text search; diacritics are optional.
    Search(SearchArgs),
    /// Write a document's signed PDF, exactly as archived, to a file.
    Get {
        /// The document code.
        code: String,
        /// Where to write it.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print a document's OCR text, page by page.
    Text {
        /// The document code.
        code: String,
    },
    /// Verify a document (by code) or a PDF file: seals, hashes, status, each check by name.
    Verify {
        /// A document code or the path of a PDF file.
        target: String,
    },
    /// The appliance's seal keys.
    Keys {
        /// What to do with the keys.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage user accounts.
    Users {
        /// What to do with users.
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Reuse (R10): look up an owner's documents in force, record that a dossier reuses one, or
    /// report the reuse rate per month.
    Reuse(ReuseArgs),
    /// Rebuild the search index from the archive alone.
    Reindex,
    /// The hot folder: files waiting for an operator's confirmation (over HTTP) and recent
    /// refusals with their reasons. Reads the hot folder's state alone, so it works while serving.
    Hotfolder,
    /// The archive's commands.
    #[command(flatten)]
    Archive(ArchiveCommand),
}

/// The words and filters of `sohoa search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The words to find; diacritics and case do not matter, numbers match whole or in parts.
    query: String,
    /// Most documents to list.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Documents to skip (the next page of results).
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Only this type code.
    #[arg(long = "type")]
    doc_type: Option<String>,
    /// Only this issuing body, exactly as recorded.
    #[arg(long)]
    issuer: Option<String>,
    /// Only documents issued this year.
    #[arg(long)]
    year: Option<i32>,
    /// Order: relevance, newest, oldest.
    #[arg(long, default_value = "relevance")]
    sort: search::SortOrder,
}

impl SearchArgs {
    fn request(self) -> search::SearchRequest {
        search::SearchRequest {
            text: self.query,
            doc_type: self.doc_type,
            issuing_body: self.issuer,
            year: self.year,
            statuses: Vec::new(),
            sort: self.sort,
            offset: self.offset,
            limit: self.limit,
        }
    }
}

/// What `sohoa reuse` does: one of `--owner`, `--record`, `--report`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["owner", "record", "report"])))]
pub struct ReuseArgs {
    /// Look up this owner's documents in force.
    #[arg(long)]
    owner: Option<String>,
    /// With --owner: only documents of this type.
    #[arg(long = "type", requires = "owner")]
    doc_type: Option<String>,
    /// With --owner: in force on this day (default: today).
    #[arg(long, requires = "owner")]
    valid_on: Option<chrono::NaiveDate>,
    /// Record that --dossier reuses this document.
    #[arg(long, requires = "dossier")]
    record: Option<String>,
    /// With --record: the dossier that reuses it.
    #[arg(long, requires = "record")]
    dossier: Option<String>,
    /// Report the reuse rate per month.
    #[arg(long)]
    report: bool,
    /// With --report: from this day.
    #[arg(long, requires = "report")]
    from: Option<chrono::NaiveDate>,
    /// With --report: up to this day, excluded.
    #[arg(long, requires = "report")]
    until: Option<chrono::NaiveDate>,
}

/// Seal key administration.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print the public key set as JSON (every key that ever sealed, the current one marked), for
    /// verifiers outside the appliance.
    Export,
    /// Generate a new seal key and make it current. The old private key is deleted; its public key
    /// stays, so documents it sealed still verify.
    Rotate,
}

/// User administration.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user, or reset an existing user's password and role. The new password is read from
    /// the terminal or standard input (after the password of --user, an admin, once users exist).
    Add {
        /// Login name.
        name: String,
        /// operator, officer, archivist, auditor or admin.
        #[arg(long)]
        role: String,
    },
}

/// Device, scan settings and metadata of `sohoa scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The SANE device, as `sohoa scanners` lists it (e.g. `test:0`, `fujitsu:fi-8170:12345`).
    #[arg(long)]
    device: String,
    /// flatbed, adf or adf-duplex.
    #[arg(long)]
    source: Option<scanner_driver::Source>,
    /// color, gray or lineart.
    #[arg(long)]
    mode: Option<scanner_driver::ColorMode>,
    /// Resolution in dpi (R1: at least 200).
    #[arg(long, default_value_t = 300)]
    resolution: u32,
    /// Paper size: a4, a5, a3, letter, legal, or WIDTHxHEIGHT in mm.
    #[arg(long, value_parser = crate::scan::page_size)]
    page_size: Option<(f64, f64)>,
    /// Any other SANE option, as NAME=VALUE (repeatable).
    #[arg(long = "option", value_name = "NAME=VALUE")]
    options: Vec<String>,
    #[command(flatten)]
    fields: MetadataFields,
    /// Scan operator; defaults to the login name.
    #[arg(long)]
    operator: Option<String>,
}

impl ScanArgs {
    fn settings(&self) -> Result<scanner_driver::ScanSettings, ApplianceError> {
        let options = self
            .options
            .iter()
            .map(|o| {
                o.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                    .ok_or_else(|| ApplianceError::Input(format!("--option {o:?}: expected NAME=VALUE")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(scanner_driver::ScanSettings {
            resolution: Some(self.resolution),
            mode: self.mode,
            source: self.source,
            page_mm: self.page_size,
            options,
        })
    }
}

/// Metadata and files of `sohoa ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    #[command(flatten)]
    fields: MetadataFields,
    /// Scan operator; defaults to the login name.
    #[arg(long)]
    operator: Option<String>,
    /// Report each page's progress (queued, preprocessing, OCR, flagged, done) on standard error.
    #[arg(long)]
    progress: bool,
    /// Page image files, in physical order.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// What the command line says when a change is archived but search could not show it yet.
pub(crate) const SEARCH_PENDING: &str =
    "archived; search could not be brought up to date and will show it once it catches up";

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A new document as `ingest` and `scan` print it: its code on a line of its own, each page flagged
/// for review on standard error; or the whole report as JSON.
fn print_ingest_report(report: &crate::IngestReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    for page in &report.pages {
        for flag in &page.flags {
            eprintln!("page {} flagged for review: {flag}", page.number);
        }
    }
    if report.search == crate::SearchState::Pending {
        eprintln!("{SEARCH_PENDING}");
    }
    println!("{}", report.code);
    Ok(())
}

fn print_report(report: &VerifyReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    for c in &report.checks {
        println!("{} {}: {}", if c.passed { "ok  " } else { "FAIL" }, c.name, c.detail);
    }
    println!("{}", if report.valid { "valid" } else { "INVALID" });
    Ok(())
}

/// Runs a command. `Ok(false)` means the command ran but its answer is negative (verification
/// failed), which the binary turns into a non-zero exit.
pub fn run(cli: Cli) -> Result<bool, ApplianceError> {
    let user = cli.user.clone();
    if let Command::Serve { listen } = cli.command {
        let appliance = Appliance::open_with(&cli.data, &Config::load(cli.config.as_deref())?)?;
        crate::server::serve(appliance, listen)?;
        return Ok(true);
    }
    if let Command::Ingest(args) = &cli.command {
        // Metadata is checked before the archive is even opened, so a typo costs nothing.
        let draft = args.fields.draft(args.operator.clone().unwrap_or_else(cli_login::system_user))?;
        let pages = args
            .files
            .iter()
            .map(|p| {
                std::fs::read(p)
                    .map(|b| (p.clone(), b))
                    .map_err(|e| ApplianceError::Input(format!("{}: cannot read: {e}", p.display())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let appliance = Appliance::open_with(&cli.data, &Config::load(cli.config.as_deref())?)?;
        let actor = cli_login::actor(&appliance, user.as_deref(), None)?;
        let show = args.progress;
        let report = appliance.ingest(IngestRequest { metadata: draft, pages, actor, source: None }, &mut |p| {
            if show {
                eprintln!("page {}: {:?}", p.page, p.stage);
            }
        })?;
        print_ingest_report(&report, cli.json)?;
        return Ok(true);
    }
    if let Command::Archive(ArchiveCommand::Restore { dir, expect_keys }) = &cli.command {
        // The restored appliance's users come from the backup: nobody can log in before it exists.
        let actor = format!("cli:{}", cli_login::system_user());
        let report = Appliance::restore(&cli.data, dir, expect_keys, &Config::load(cli.config.as_deref())?, &actor)?;
        println!("restored {} documents from {}; fixity: intact", report.documents, dir.display());
        return Ok(true);
    }
    if let Command::Hotfolder = &cli.command {
        let listing = crate::hotfolder::list_state(&cli.data, &Config::load(cli.config.as_deref())?)?;
        if cli.json {
            print_json(&listing)?;
        } else {
            println!("{} files wait for confirmation", listing.pending.len());
            for f in &listing.pending {
                println!(
                    "{}\t{}\t{} {} {:?}\t{} bytes\t{}",
                    f.id,
                    f.received_at,
                    f.owner.as_deref().unwrap_or("-"),
                    f.doc_type,
                    f.name,
                    f.size,
                    f.file_name
                );
            }
            println!("{} recent refusals", listing.failed.len());
            for f in &listing.failed {
                println!("{}\t{}\t{}\t{}", f.id, f.received_at, f.file_name, f.reason);
            }
        }
        return Ok(true);
    }
    let appliance = Appliance::open_with(&cli.data, &Config::load(cli.config.as_deref())?)?;
    let json = cli.json;
    let step = match &cli.command {
        Command::Archive(command) => command.step(),
        // The first account is made without a login; after that, only an admin manages users.
        Command::Users { .. } if appliance.archive().has_users()? => {
            Some(Step { what: "manage users", roles: &[Role::Admin] })
        }
        _ => None,
    };
    let actor = cli_login::actor(&appliance, user.as_deref(), step)?;
    match cli.command {
        Command::Serve { .. } | Command::Ingest(_) | Command::Hotfolder => unreachable!("handled above"),
        Command::Scanners { options } => {
            let sane = scanner_driver::Sane::get()?;
            match options {
                None => {
                    let devices = sane.devices()?;
                    if json {
                        print_json(&devices.iter().map(|d| serde_json::json!({ "name": d.name, "vendor": d.vendor, "model": d.model, "kind": d.kind })).collect::<Vec<_>>())?;
                    } else if devices.is_empty() {
                        eprintln!(
                            "no scanner found (SANE backends are configured in {})",
                            std::env::var("SANE_CONFIG_DIR").unwrap_or_else(|_| "/etc/sane.d".into())
                        );
                    } else {
                        for d in &devices {
                            println!("{}\t{} {} ({})", d.name, d.vendor, d.model, d.kind);
                        }
                    }
                }
                Some(device) => {
                    let scanner = sane.open(&device, &appliance.scanner_config().quirk_rules())?;
                    let options = scanner.options();
                    if json {
                        print_json(&options.iter().map(|o| serde_json::json!({ "name": o.name, "title": o.title, "value": o.value, "settable": o.settable, "allowed": format!("{:?}", o.constraint) })).collect::<Vec<_>>())?;
                    } else {
                        for o in options.iter().filter(|o| o.settable) {
                            let allowed = match &o.constraint {
                                scanner_driver::Constraint::Strings(list) => list.join("|"),
                                scanner_driver::Constraint::Numbers(list) => {
                                    list.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("|")
                                }
                                scanner_driver::Constraint::Range { min, max, .. } => format!("{min}..{max}"),
                                scanner_driver::Constraint::None => String::new(),
                            };
                            println!("{}\t{}\t{}\t{}", o.name, o.value.as_deref().unwrap_or("-"), allowed, o.title);
                        }
                    }
                }
            }
        }
        Command::Scan(args) => {
            let draft = args.fields.draft(args.operator.clone().unwrap_or_else(cli_login::system_user))?;
            let settings = args.settings()?;
            // A feeder delivers about a page a second: a line per page is the progress.
            let report =
                crate::scan::scan_document(&appliance, &args.device, &settings, draft, actor.clone(), &mut |page| {
                    eprintln!("scanned {} ({}×{} at {:.0} dpi)", page.origin(), page.width, page.height, page.dpi.x);
                })?;
            print_ingest_report(&report, json)?;
        }
        Command::Search(args) => {
            let hits = appliance.search(&args.request(), &actor)?.hits;
            if json {
                print_json(&hits.iter().map(hit_json).collect::<Vec<_>>())?;
            } else {
                for h in &hits {
                    println!("{}\tpage {}\t{}", h.code, h.page, h.name);
                }
            }
        }
        Command::Get { code, output } => {
            let code: DocumentCode = code.parse()?;
            let bytes = appliance.pdf(&code, &actor)?;
            write_file(&output, &bytes)?;
            if json {
                print_json(&serde_json::json!({ "code": code.to_string(), "path": output, "bytes": bytes.len() }))?;
            }
        }
        Command::Text { code } => {
            let code: DocumentCode = code.parse()?;
            let pages = appliance.text(&code, &actor)?;
            if json {
                print_json(&pages)?;
            } else {
                for (i, text) in pages.iter().enumerate() {
                    println!("--- page {} ---\n{text}", i + 1);
                }
            }
        }
        Command::Verify { target } => {
            let path = Path::new(&target);
            let report = if path.is_file() {
                let bytes =
                    std::fs::read(path).map_err(|e| ApplianceError::Input(format!("{target}: cannot read: {e}")))?;
                appliance.verify_file(&target, &bytes, &actor)?
            } else {
                let code: DocumentCode = target.parse().map_err(|e| {
                    ApplianceError::Input(format!("{target:?} is neither a file nor a document code ({e})"))
                })?;
                appliance.verify_code(&code, &actor)?
            };
            print_report(&report, json)?;
            return Ok(report.valid);
        }
        Command::Keys { command: KeysCommand::Export } => print_json(&appliance.export_public_keys(&actor)?)?,
        Command::Keys { command: KeysCommand::Rotate } => println!("{}", appliance.rotate_key(&actor)?),
        Command::Archive(command) => return crate::archive_cli::run(&appliance, command, &actor, json),
        Command::Reuse(args) => reuse(&appliance, args, &actor, json)?,
        Command::Reindex => {
            let documents = appliance.reindex(&actor)?;
            if json {
                print_json(&serde_json::json!({ "documents": documents }))?;
            } else {
                println!("search index rebuilt: {documents} documents");
            }
        }
        Command::Users { command: UsersCommand::Add { name, role } } => {
            let role: Role = role.parse()?;
            let password = cli_login::read_secret(&format!("new password for {name}"))?;
            users::set_user(appliance.archive(), &name, role, &password)?;
            appliance.archive().audit(&actor, "user-set", &name, role.as_str())?;
        }
    }
    Ok(true)
}

fn reuse(appliance: &Appliance, args: ReuseArgs, actor: &str, json: bool) -> Result<(), ApplianceError> {
    let start_of = crate::reuse::start_of_day;
    if let Some(owner) = args.owner {
        let owner = owner.parse()?;
        let doc_type = args.doc_type.map(|t| t.parse()).transpose()?;
        let valid_on = args.valid_on.unwrap_or_else(|| domain::vietnam_now().date_naive());
        let found = appliance.reuse(&owner, doc_type.as_ref(), valid_on, actor)?;
        if json {
            return print_json(&found).map_err(Into::into);
        }
        for c in &found {
            let d = &c.document;
            let until = d.valid_until.map_or("permanent".to_owned(), |day| format!("until {day}"));
            let verdict = if c.verified {
                "verified".to_owned()
            } else {
                format!("NOT VERIFIED ({})", c.failed_checks.join(", "))
            };
            println!("{}\t{}\t{}\t{until}\t{}\t{verdict}", d.code, d.name, d.number, d.status);
        }
    } else if let (Some(code), Some(dossier)) = (args.record, args.dossier) {
        appliance.record_reuse(&code.parse()?, &dossier.parse()?, actor)?;
        if json {
            print_json(&serde_json::json!({ "code": code, "dossier": dossier, "reused": true }))?;
        }
    } else {
        let rates = appliance.reuse_report(args.from.and_then(start_of), args.until.and_then(start_of), actor)?;
        if json {
            return print_json(&rates).map_err(Into::into);
        }
        for r in &rates {
            let percent = if r.dossiers == 0 { 0.0 } else { 100.0 * r.with_reuse as f64 / r.dossiers as f64 };
            println!("{}\t{} dossiers\t{} with reuse\t{percent:.1}%", r.month, r.dossiers, r.with_reuse);
        }
    }
    Ok(())
}

/// Writes a file so that a reader never sees half of it: temporary name, sync, rename.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ApplianceError> {
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
