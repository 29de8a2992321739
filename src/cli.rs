//! The command line: `sohoa [--data DIR] [--json] <command>`. Each command runs the
//! same [`Appliance`] operation the HTTP API runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use domain::DocumentCode;

use crate::appliance::{INGEST, REINDEX};
use crate::archive_cli::ArchiveCommand;
use crate::cli_login;
use crate::cli_output::{Output, Show, write_file};
use crate::config::Config;
use crate::input::MetadataFields;
use crate::ops::transfer::Restored;
use crate::ops::{Permit, accounts, documents, keys};
use crate::users::Role;
use crate::{Appliance, ApplianceError, IngestRequest};

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
        /// The log's format on standard error: text for people, json (one object a line) for a log
        /// collector.
        #[arg(long, value_enum, default_value = "text", env = "SOHOA_LOG_FORMAT")]
        log_format: crate::server::LogFormat,
    },
    /// Read pages for appliances whose reading queue is long: pull page jobs from a NATS JetStream
    /// cluster, read them with the appliance's OCR pipeline, send back text and boxes; until SIGTERM
    /// or SIGINT. Needs no data directory and holds no key.
    Worker {
        /// The cluster's NATS servers, comma-separated (credentials: SOHOA_NATS_USER and
        /// SOHOA_NATS_PASSWORD, or SOHOA_NATS_TOKEN).
        #[arg(long, value_delimiter = ',', required = true, env = "SOHOA_NATS")]
        nats: Vec<String>,
        /// The jobs stream, as the appliances' `[offload] stream`.
        #[arg(long, default_value = "SOHOA_OCR")]
        stream: String,
        /// Pages read at once, one OCR engine each (default: one per core).
        #[arg(long)]
        engines: Option<usize>,
        /// Seconds a job may go unacknowledged before another worker gets it (a worker that died
        /// mid-page); a live worker acknowledges progress at a third of it.
        #[arg(long, default_value_t = 30)]
        ack_seconds: u64,
    },
    /// Capture files (PNG, JPEG, multi-page TIFF, scanned PDF) as one document, pages in the order given.
    Ingest(IngestArgs),
    /// Read page files as an ingest would (OCR and review flags) without archiving anything.
    ReadPages {
        /// Page image files, in physical order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
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
    /// Write a document's evidence bundle (record and seals, log inclusion proof with its signed
    /// checkpoint, public keys) as JSON to a file, to check it without this appliance.
    Evidence {
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
    /// Manage the access tokens of scanning stations, integrations and monitoring.
    Tokens {
        /// What to do with tokens.
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Reuse what citizens already handed in: look up an owner's documents in force, record that a
    /// dossier reuses one, or report the reuse rate per month.
    Reuse(ReuseArgs),
    /// Dossier codes of the dossiers received at the counter.
    Dossier {
        /// What to do with dossier codes.
        #[command(subcommand)]
        command: DossierCommand,
    },
    /// The reading queue: documents captured and acknowledged, waiting to be read (OCR), signed and
    /// archived, and how far each is; with --read, read them all now (an appliance that is not
    /// serving; a serving one reads them by itself).
    Queue {
        /// Read and archive every document waiting, then show what is left.
        #[arg(long)]
        read: bool,
    },
    /// Decision 468's targets over a period (default: the last 30 days): documents and pages digitized
    /// per day, results signed, the reuse rate per month, dossiers per operator, the OCR queue and the
    /// time from scan to archive; the same figures as `GET /api/dashboard` and the `/dashboard` page.
    Dashboard {
        /// The period's last day, YYYY-MM-DD (default: today).
        #[arg(long)]
        last_day: Option<chrono::NaiveDate>,
        /// Days in the period, 1 to 366.
        #[arg(long)]
        days: Option<u32>,
    },
    /// The configuration.
    Config {
        /// What to do with the configuration.
        #[command(subcommand)]
        command: ConfigCommand,
    },
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
    /// Search the province's other offices instead (`[province] index`): each hit verified here
    /// from its office's evidence in the object store before it is offered.
    #[arg(long, conflicts_with_all = ["offset", "doc_type", "issuer", "year"])]
    province: bool,
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
#[command(group(clap::ArgGroup::new("mode").required(true).args(["owner", "province", "record", "report"])))]
pub struct ReuseArgs {
    /// Look up this owner's documents in force.
    #[arg(long)]
    owner: Option<String>,
    /// Look up this owner's documents in force here and at the province's other offices
    /// (`[province] index`), each of theirs verified here from its evidence in the object store.
    #[arg(long, value_name = "OWNER")]
    province: Option<String>,
    /// With --owner or --province: only documents of this type.
    #[arg(long = "type")]
    doc_type: Option<String>,
    /// With --owner or --province: in force on this day (default: today).
    #[arg(long)]
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
    /// Create a user. The password is read from the terminal or standard input (after the password
    /// of --user, an admin, once users exist).
    Add {
        /// Login name.
        name: String,
        /// operator, officer, archivist, auditor or admin.
        #[arg(long)]
        role: String,
    },
    /// List the accounts.
    List,
    /// Set a new password on an account (read as for `add`); its sessions end.
    Password {
        /// Login name.
        name: String,
    },
    /// Give an account another role.
    Role {
        /// Login name.
        name: String,
        /// operator, officer, archivist, auditor or admin.
        #[arg(long)]
        role: String,
    },
    /// Disable an account: it cannot log in, and its sessions end.
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a disabled account.
    Enable {
        /// Login name.
        name: String,
    },
}

/// The configuration.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration in force (the file's settings and the defaults), without secrets.
    Show,
}

/// Access tokens of scanning stations, integrations and monitoring.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue a token; its secret is printed this once.
    Issue {
        /// The token's name (the station's, e.g. `quay-1`).
        name: String,
        /// station (may ingest and nothing else) or monitor (may read /metrics).
        #[arg(long, value_enum)]
        purpose: crate::ops::sessions::TokenPurpose,
    },
    /// List the tokens in force, without their secrets.
    List,
    /// Revoke a token.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// Dossier codes.
#[derive(Debug, Subcommand)]
pub enum DossierCommand {
    /// Allocate the next dossier code `<unit>-YYMMDD-NNNN` of a receiving unit, and print it.
    Allocate {
        /// The receiving unit's electronic code, e.g. H56.14.
        #[arg(long)]
        unit: String,
        /// The day the dossier was received, YYYY-MM-DD; today by default.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
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
    /// Resolution in dpi (the law asks for at least 200).
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

impl Command {
    /// The permit of the command's operation, checked on a logged-in user's role as HTTP checks it.
    /// The archive's commands and user administration answer theirs themselves.
    fn permit(&self) -> Option<Permit> {
        match self {
            Command::Ingest(_) | Command::ReadPages { .. } | Command::Scan(_) | Command::Scanners { .. } => {
                Some(INGEST)
            }
            Command::Search(args) if args.province => Some(crate::ops::province::SEARCH),
            Command::Search(_) => Some(documents::SEARCH),
            Command::Get { .. } | Command::Evidence { .. } | Command::Text { .. } => Some(documents::READ),
            Command::Verify { .. } => Some(crate::verify::VERIFY),
            Command::Keys { command: KeysCommand::Export } => Some(keys::EXPORT),
            Command::Keys { command: KeysCommand::Rotate } => Some(keys::ROTATE),
            Command::Reuse(args) if args.owner.is_some() || args.province.is_some() => Some(crate::reuse::LOOKUP),
            Command::Reuse(args) if args.record.is_some() => Some(crate::reuse::RECORD),
            Command::Reuse(_) => Some(crate::reuse::REPORT),
            Command::Reindex => Some(REINDEX),
            Command::Dossier { .. } => Some(crate::ops::dossiers::ALLOCATE),
            Command::Dashboard { .. } => Some(crate::ops::dashboard::READ),
            Command::Queue { read: true } => Some(INGEST),
            Command::Queue { read: false } => Some(crate::queue::READ),
            Command::Config { .. } => Some(crate::ops::configuration::SHOW),
            Command::Hotfolder => Some(crate::hotfolder::DECIDE),
            Command::Archive(command) => command.permit(),
            Command::Users { .. } => Some(accounts::MANAGE_USERS),
            Command::Tokens { .. } => Some(crate::ops::sessions::MANAGE_TOKENS),
            Command::Serve { .. } | Command::Worker { .. } => None,
        }
    }
}

/// Runs a command. `Ok(false)` means the command ran but its answer is negative (verification
/// failed), which the binary turns into a non-zero exit.
pub fn run(cli: Cli) -> Result<bool, ApplianceError> {
    let user = cli.user.clone();
    let out = Output { json: cli.json };
    if let Command::Serve { listen, .. } = cli.command {
        let appliance = Appliance::open_with(&cli.data, &Config::load(cli.config.as_deref())?)?;
        crate::server::serve(appliance, listen)?;
        return Ok(true);
    }
    if let Command::Worker { nats, stream, engines, ack_seconds } = cli.command {
        let engines = engines.unwrap_or_else(|| capture::OcrConfig::system_default().workers);
        let options = crate::offload::WorkerOptions {
            servers: nats,
            stream,
            engines,
            ack_wait: std::time::Duration::from_secs(ack_seconds.max(1)),
        };
        let runtime = tokio::runtime::Runtime::new().map_err(|e| ApplianceError::Internal(e.into()))?;
        let report = runtime
            .block_on(crate::offload::run_worker(options, crate::offload::stop_signal()))
            .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("{e}")))?;
        out.show(&report)?;
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
        let actor = cli_login::actor(&appliance, user.as_deref(), Some(INGEST), false)?.name;
        let show = args.progress;
        let report = appliance.ingest(IngestRequest { metadata: draft, pages, actor, source: None }, &mut |p| {
            if show {
                eprintln!("page {}: {:?}", p.page, p.stage);
            }
        })?;
        out.show(&report)?;
        return Ok(true);
    }
    if let Command::Archive(ArchiveCommand::Restore { dir, expect_keys }) = &cli.command {
        // The restored appliance's users come from the backup: nobody can log in before it exists.
        let actor = format!("cli:{}", cli_login::system_user());
        let report = Appliance::restore(&cli.data, dir, expect_keys, &Config::load(cli.config.as_deref())?, &actor)?;
        out.show(&Restored::of(dir, &report))?;
        return Ok(true);
    }
    if let Command::Hotfolder = &cli.command {
        out.show(&crate::hotfolder::list_state(&cli.data, &Config::load(cli.config.as_deref())?)?)?;
        return Ok(true);
    }
    let appliance = Appliance::open_with(&cli.data, &Config::load(cli.config.as_deref())?)?;
    let json = cli.json;
    let (permit, required) = match &cli.command {
        Command::Archive(command) => (command.permit(), command.needs_login()),
        // The first account is made without a login; after that, only an admin manages users and
        // access tokens.
        Command::Users { .. } | Command::Tokens { .. } => (cli.command.permit(), appliance.has_users()?),
        command => (command.permit(), false),
    };
    let cli_login::Actor { name: actor, role } = cli_login::actor(&appliance, user.as_deref(), permit, required)?;
    match cli.command {
        Command::Serve { .. } | Command::Worker { .. } | Command::Ingest(_) | Command::Hotfolder => {
            unreachable!("handled above")
        }
        Command::ReadPages { files } => {
            let pages = files
                .into_iter()
                .map(|p| {
                    std::fs::read(&p)
                        .map(|b| (p.clone(), b))
                        .map_err(|e| ApplianceError::Input(format!("{}: cannot read: {e}", p.display())))
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.show(&crate::PagesRead::of(appliance.read_pages(pages, &mut |_| {})?))?
        }
        Command::Scanners { options: None } => out.show(&crate::scan::scanners()?)?,
        Command::Scanners { options: Some(device) } => out.show(&appliance.scanner_options(&device)?)?,
        Command::Scan(args) => {
            let draft = args.fields.draft(args.operator.clone().unwrap_or_else(cli_login::system_user))?;
            let settings = args.settings()?;
            // A feeder delivers about a page a second: a line per page is the progress.
            let report =
                crate::scan::scan_document(&appliance, &args.device, &settings, draft, actor.clone(), &mut |page| {
                    eprintln!("scanned {} ({}×{} at {:.0} dpi)", page.origin(), page.width, page.height, page.dpi.x);
                })?;
            out.show(&report)?;
        }
        Command::Search(args) if args.province => out.show(&appliance.province_search(&args.query, &actor)?)?,
        Command::Search(args) => out.show(&appliance.search(args.request(), role, &actor)?)?,
        Command::Get { code, output } => {
            let code: DocumentCode = code.parse()?;
            let bytes = appliance.pdf(&code, &actor)?;
            write_file(&output, &bytes)?;
            if json {
                out.show(&Written { code: code.to_string(), path: output, bytes: bytes.len() })?;
            }
        }
        Command::Evidence { code, output } => {
            let code: DocumentCode = code.parse()?;
            let bundle = appliance.evidence(&code, &actor)?;
            let bytes = serde_json::to_vec_pretty(&bundle).map_err(anyhow::Error::from)?;
            write_file(&output, &bytes)?;
            if json {
                out.show(&Written { code: code.to_string(), path: output, bytes: bytes.len() })?;
            }
        }
        Command::Text { code } => out.show(&PageTexts(appliance.text(&code.parse()?, &actor)?))?,
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
            out.show(&report)?;
            return Ok(report.valid);
        }
        Command::Keys { command: KeysCommand::Export } => out.show(&appliance.export_public_keys(&actor)?)?,
        Command::Keys { command: KeysCommand::Rotate } => out.show(&appliance.rotate_key(&actor)?)?,
        Command::Archive(command) => return crate::archive_cli::run(&appliance, command, &actor, out),
        Command::Reuse(args) => reuse(&appliance, args, &actor, out)?,
        Command::Reindex => out.show(&appliance.reindex(&actor)?)?,
        Command::Dossier { command: DossierCommand::Allocate { unit, date } } => {
            out.show(&appliance.allocate_dossier(&unit.parse()?, date, &actor)?)?
        }
        Command::Queue { read: false } => out.show(&appliance.reading_queue().report())?,
        Command::Queue { read: true } => {
            let archived = appliance.read_queue(&mut |code, p| eprintln!("{code} page {}: {:?}", p.page, p.stage));
            out.show(&crate::queue::QueueRead { archived, waiting: appliance.reading_queue().report().depth })?
        }
        Command::Dashboard { last_day, days } => {
            out.show(&appliance.dashboard(crate::ops::dashboard::DashboardQuery { last_day, days })?)?
        }
        Command::Config { command: ConfigCommand::Show } => out.show(&appliance.config_in_force()?)?,
        Command::Users { command } => users(&appliance, command, &actor, out)?,
        Command::Tokens { command: TokensCommand::Issue { name, purpose } } => {
            out.show(&appliance.issue_token(&name, purpose, &actor)?)?
        }
        Command::Tokens { command: TokensCommand::List } => out.show(&appliance.tokens()?)?,
        Command::Tokens { command: TokensCommand::Revoke { name } } => {
            out.show(&appliance.revoke_token(&name, &actor)?)?
        }
    }
    Ok(true)
}

fn users(appliance: &Appliance, command: UsersCommand, actor: &str, out: Output) -> Result<(), ApplianceError> {
    let new_password = |name: &str| cli_login::read_secret(&format!("new password for {name}"));
    match command {
        UsersCommand::Add { name, role } => {
            let role: Role = role.parse()?;
            out.show(&appliance.create_user(&name, role, &new_password(&name)?, actor)?)
        }
        UsersCommand::List => out.show(&appliance.users()?),
        UsersCommand::Password { name } => out.show(&appliance.reset_password(&name, &new_password(&name)?, actor)?),
        UsersCommand::Role { name, role } => out.show(&appliance.set_role(&name, role.parse()?, actor)?),
        UsersCommand::Disable { name } => out.show(&appliance.set_disabled(&name, true, actor)?),
        UsersCommand::Enable { name } => out.show(&appliance.set_disabled(&name, false, actor)?),
    }
}

fn reuse(appliance: &Appliance, args: ReuseArgs, actor: &str, out: Output) -> Result<(), ApplianceError> {
    let start_of = crate::reuse::start_of_day;
    let valid_on = args.valid_on.unwrap_or_else(|| domain::vietnam_now().date_naive());
    if let Some(owner) = args.owner {
        let owner = owner.parse()?;
        let doc_type = args.doc_type.map(|t| t.parse()).transpose()?;
        out.show(&appliance.reuse(&owner, doc_type.as_ref(), valid_on, actor)?)
    } else if let Some(owner) = args.province {
        let doc_type = args.doc_type.map(|t| t.parse()).transpose()?;
        out.show(&appliance.province_reuse(&owner.parse()?, doc_type.as_ref(), valid_on, actor)?)
    } else if let (Some(code), Some(dossier)) = (args.record, args.dossier) {
        out.show(&appliance.record_reuse(&code.parse()?, &dossier.parse()?, actor)?)
    } else {
        out.show(&appliance.reuse_report(args.from.and_then(start_of), args.until.and_then(start_of), actor)?)
    }
}

/// A document's signed PDF written to a file.
#[derive(serde::Serialize)]
struct Written {
    code: String,
    path: PathBuf,
    bytes: usize,
}

impl Show for Written {
    fn text(&self) -> String {
        String::new()
    }
}

/// A document's OCR text, page by page.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct PageTexts(Vec<String>);

impl Show for PageTexts {
    fn text(&self) -> String {
        self.0.iter().zip(1..).map(|(text, n)| format!("--- page {n} ---\n{text}")).collect::<Vec<_>>().join("\n")
    }
}
