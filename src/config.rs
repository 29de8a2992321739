//! The appliance's configuration file (`--config FILE`, TOML). Every part has a default, so a fresh
//! appliance runs without one: a development signer is made under the data directory, and the
//! verification links printed on copies are paths until `public_url` says where the page is published.
//!
//! ```toml
//! [agency]
//! name = "UBND phường Bến Thành"
//! location = "Bộ phận Một cửa, 120 Lê Lợi, Quận 1, TP. Hồ Chí Minh"
//! public_url = "https://motcua.example.gov.vn"   # where citizens reach /verify; unset: QR codes carry the path only
//!
//! [signature]
//! # One of: a PKCS #8 key and its chain; a PKCS #12 bundle; a PKCS #11 token.
//! key = "/etc/sohoa/agency.key"
//! chain = "/etc/sohoa/agency-chain.pem"
//! # pkcs12 = "/etc/sohoa/agency.p12"      (password in $SOHOA_PKCS12_PASSWORD)
//! # pkcs11_module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
//! # token = "VNPT-CA"  key_label = "agency"  (PIN in $SOHOA_TOKEN_PIN)
//! tsa_url = "http://tsa.example.vn"
//! trust_anchors = ["/etc/sohoa/root-ca.pem"]
//! crl_files = ["/etc/sohoa/root-ca.crl"]  # revocation: CRLs kept current by the operator,
//! crl_fetch = false                        # fetched from the certificates' distribution points,
//! ocsp = false                             # or the certificates' OCSP responders
//!
//! [archive]
//! origin = "motcua.example.gov.vn/sohoa"   # the archive log's name in its checkpoints
//! checkpoint_seconds = 300                  # a signed checkpoint at most this often
//! scrub_bytes_per_second = 20000000         # fixity re-reads blobs at most this fast
//! scrub_hours = 24                          # a full fixity run this often
//!
//! [retention]
//! schedule = "/etc/sohoa/retention.toml"    # replaces the built-in schedule
//!
//! [scanner]
//! test_scanner = false                      # SANE's virtual `test` scanner (on by default, for trying sohoa out)
//! refuse_low_dpi = false                    # pages below the legal 200 dpi are flagged for review, or with this refused
//! [[scanner.quirks]]                        # models whose SANE backend delivers duplex backs upside down
//! vendor = "Canon"
//! model_prefix = "DR-C"
//! back_rotated_180 = true
//!
//! [http]
//! max_ingest_bytes = 536870912              # one ingest request (the page files of a dossier)
//! max_verify_bytes = 134217728              # one signed copy uploaded for verification
//! max_concurrent_uploads = 4                # more at once are answered 503 with Retry-After
//! public_burst = 20                         # anonymous verifications per client address at once,
//! public_per_minute = 20                    # and per minute after that (429 with Retry-After)
//! upload_stall_seconds = 30                 # an upload that sends nothing this long is refused
//! session_idle_seconds = 1800               # a session unused this long ends,
//! session_max_seconds = 36000               # and any session this long after its login
//! shutdown_grace_seconds = 60               # on SIGTERM, requests in flight get this long to finish
//!
//! [tls]                                     # unset: plain HTTP on loopback, a self-made certificate
//! cert = "/etc/sohoa/tls/fullchain.pem"     # (DATA/tls/) on other addresses
//! key = "/etc/sohoa/tls/key.pem"
//! plain_http = false                        # plain HTTP on the LAN, behind a TLS-terminating proxy only
//!
//! [hot_folder]
//! path = "/srv/scans/counter-1"             # the share; default: DATA/inbox; `enabled = false` turns it off
//! settle_seconds = 2                        # a file is taken once unchanged this long
//! doc_type = "KHAC"                         # for files not named OWNER_TYPE_name.ext
//! keep_done_days = 30                       # archived files are kept in DATA/hotfolder/done this long
//!
//! [replication]                             # unset: nothing leaves the appliance (DEPLOYMENT.md)
//! endpoint = "https://s3.tinh.example.gov.vn"   # the province's S3-compatible store
//! bucket = "sohoa-ben-thanh"                # made with Object Lock enabled
//! region = "us-east-1"
//! permanent_years = 100                     # retain-until of permanent content, from its archiving
//! # credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, never in this file
//!
//! [province]                                # unset: this appliance works alone (DEPLOYMENT.md)
//! office = "UBND phường Bến Thành"          # how the province's index and the other offices name this one
//! index = "host=db.tinh.example.gov.vn dbname=sohoa user=ben_thanh"   # the province's PostgreSQL
//! # its password: PGPASSWORD in the environment, never in this file
//! [[province.peers]]                        # another office: whose evidence and log to trust
//! office = "UBND phường Bến Nghé"
//! origin = "ben-nghe.example.gov.vn/sohoa"  # its [archive] origin
//! keys = ["0123456789abcdef"]               # its seal key ids, compared with its `sohoa keys export`
//! bucket = "sohoa-ben-nghe"                 # where its replication writes, in the same store
//!
//! [offload]                                 # unset: every page is read here (DEPLOYMENT.md)
//! servers = ["nats://10.0.0.5:4222", "nats://10.0.0.6:4222", "nats://10.0.0.7:4222"]
//! stream = "SOHOA_OCR"                      # the JetStream work queue of page jobs shared with `sohoa worker`
//! replicas = 3                              # its copies in the NATS cluster (1 for a single server)
//! when_pages_waiting = 16                   # pages go to workers only while more wait to be read here
//! result_seconds = 120                      # a page without a result this long is read here
//! documents_at_once = 2                     # documents whose pages are with workers at once
//! # credentials: SOHOA_NATS_USER and SOHOA_NATS_PASSWORD, or SOHOA_NATS_TOKEN, in the environment
//!
//! [import]                                  # bags from other appliances: whose seal keys to trust,
//! trusted_keys = [                          # each id compared with the sender's `sohoa keys export`
//!     { id = "0123456789abcdef", sender = "UBND phường Bến Nghé" },
//! ]
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Who signs, and where the verification page is.
    #[serde(default)]
    pub agency: AgencyConfig,
    /// The X.509 signer of the PDF signature.
    #[serde(default)]
    pub signature: SignatureConfig,
    /// The archive's log and scrub.
    #[serde(default)]
    pub archive: ArchiveConfig,
    /// The retention schedule.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// HTTPS: the certificate the server presents.
    #[serde(default)]
    pub tls: TlsConfig,
    /// Scanners through SANE.
    #[serde(default)]
    pub scanner: ScannerConfig,
    /// The hot folder that network scanners write to.
    #[serde(default)]
    pub hot_folder: HotFolderConfig,
    /// Bags imported from other appliances.
    #[serde(default)]
    pub import: ImportConfig,
    /// Request sizes, uploads and the public page's rate.
    #[serde(default)]
    pub http: HttpConfig,
    /// The province's object store that every archived document is copied to, if any.
    pub replication: Option<ReplicationConfig>,
    /// The other offices of the province and its index, if this appliance is part of one.
    pub province: Option<ProvinceConfig>,
    /// The NATS cluster that OCR is offloaded to when the reading queue is long, if any.
    pub offload: Option<OffloadConfig>,
}

/// `[replication]`: the province's S3-compatible object store with Object Lock, where every archived
/// document and its evidence are copied (see [`crate::province`]). Its credentials are not here:
/// they come from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` in the environment, so this
/// struct has no secret to show.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationConfig {
    /// The store's URL, e.g. `https://s3.tinh.example.gov.vn`; the bucket is addressed by path.
    pub endpoint: String,
    /// The bucket, made with Object Lock enabled.
    pub bucket: String,
    /// The region the store signs requests for.
    #[serde(default = "default_region")]
    pub region: String,
    /// How many years after its archiving a permanent document, every evidence object and every
    /// checkpoint stay locked.
    #[serde(default = "default_permanent_years")]
    pub permanent_years: u16,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn default_permanent_years() -> u16 {
    100
}

/// `[province]`: this appliance as one office of a province, beside the others. What the other
/// offices send (their index rows, their evidence in the object store, their checkpoints) is trusted
/// only as far as it verifies against what is pinned here: each peer's log origin and seal key ids,
/// compared out of band, never a key that arrives with the data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceConfig {
    /// How the province names this office.
    pub office: String,
    /// The province index, a PostgreSQL connection string (`key=value` or `postgresql://` form)
    /// without a password: the password comes from `PGPASSWORD`, so that the configuration shown
    /// has nothing secret. Unset: nothing is published and nothing asked of the index.
    pub index: Option<String>,
    /// The other offices.
    #[serde(default)]
    pub peers: Vec<PeerOffice>,
}

/// Another office of the province, as this one trusts it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PeerOffice {
    /// Its name, as its hits are shown.
    pub office: String,
    /// Its archive log's origin (its `[archive] origin`).
    pub origin: String,
    /// Its seal key ids, current and rotated, as its `sohoa keys export` shows them.
    pub keys: Vec<signer::KeyId>,
    /// The bucket its replication writes to, in the store of `[replication]`.
    pub bucket: String,
}

impl ProvinceConfig {
    /// Why the section cannot be used, if it cannot: `own_origin` is this appliance's log origin.
    fn check(&self, own_origin: &str, replication: bool) -> anyhow::Result<()> {
        if !self.peers.is_empty() && !replication {
            bail!("[province] peers are read from the object store: [replication] must be configured too");
        }
        if let Some(index) = &self.index
            && conninfo_has_password(index)
        {
            bail!("[province] index must not carry a password: put it in PGPASSWORD");
        }
        let mut origins = std::collections::BTreeSet::from([own_origin]);
        for peer in &self.peers {
            if !origins.insert(peer.origin.as_str()) {
                bail!("[province] peer origin {:?} is named twice, or is this appliance's own", peer.origin);
            }
            if peer.keys.is_empty() {
                bail!("[province] peer {:?} pins no seal key", peer.office);
            }
        }
        Ok(())
    }
}

/// Whether a PostgreSQL connection string carries a password: a `password=` setting, or a
/// `user:password@` in the URL form.
fn conninfo_has_password(conninfo: &str) -> bool {
    if let Some(rest) = conninfo.strip_prefix("postgresql://").or_else(|| conninfo.strip_prefix("postgres://")) {
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let user_info = authority.rsplit_once('@').map(|(user, _)| user).unwrap_or_default();
        user_info.contains(':') || rest.contains("password=")
    } else {
        conninfo.split_whitespace().any(|setting| setting.trim_start().starts_with("password"))
    }
}

/// Bags from other appliances.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImportConfig {
    /// The seal keys of the appliances whose bags this one takes, pinned after comparing each id out
    /// of band; a bag sealed by any other key is refused unless `sohoa import --trust-key` names it.
    #[serde(default)]
    pub trusted_keys: Vec<TrustedKey>,
}

/// One sending appliance's seal key.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    /// The key's id, as the sender's `sohoa keys export` shows it.
    pub id: signer::KeyId,
    /// Who the sender is, e.g. the agency the appliance serves.
    pub sender: String,
}

impl ImportConfig {
    /// The configured sender of a key, if it is pinned.
    pub fn sender(&self, id: &signer::KeyId) -> Option<&str> {
        self.trusted_keys.iter().find(|k| k.id == *id).map(|k| k.sender.as_str())
    }
}

/// What the HTTP server accepts: the size of each kind of request body, how many uploads it receives
/// at once, and how often one client address may use the public verification page.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Largest ingest request (a dossier's page files), in bytes; the largest file the importer
    /// takes by default.
    pub max_ingest_bytes: u64,
    /// Largest PDF uploaded for verification, in bytes: one signed copy (a 100-page colour dossier
    /// at 300 dpi is about 100 MB).
    pub max_verify_bytes: u64,
    /// Uploads (ingest, verification) received at once; one more is answered 503 with Retry-After
    /// rather than queued.
    pub max_concurrent_uploads: usize,
    /// Anonymous verifications one client address may make at once, before the rate applies.
    pub public_burst: u32,
    /// Anonymous verifications one client address may make per minute once its burst is spent.
    pub public_per_minute: u32,
    /// An upload that sends nothing for this long is refused, and gives its slot back.
    pub upload_stall_seconds: u64,
    /// A session unused this long ends (a counter PC left logged in).
    pub session_idle_seconds: u64,
    /// A session ends this long after its login, however much it is used: one working day.
    pub session_max_seconds: u64,
    /// On SIGTERM, requests in flight (an ingest being read) get this long to finish before the
    /// server stops; what is not archived by then is abandoned whole and was never acknowledged.
    /// Keep it under the service manager's stop timeout (the packaged unit waits 90 s).
    pub shutdown_grace_seconds: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_ingest_bytes: scanner_driver::ImportLimits::default().max_file_bytes,
            max_verify_bytes: 128 << 20,
            max_concurrent_uploads: 4,
            public_burst: 20,
            public_per_minute: 20,
            upload_stall_seconds: 30,
            session_idle_seconds: 30 * 60,
            session_max_seconds: 10 * 3600,
            shutdown_grace_seconds: 60,
        }
    }
}

/// The longest a session may last: a month.
const MAX_SESSION_SECONDS: u64 = 30 * 24 * 3600;

/// The server's HTTPS. With a certificate and key configured, the server speaks HTTPS on any address.
/// Without, it speaks plain HTTP on a loopback address (the machine's own browser) and HTTPS with a
/// certificate it makes itself under `DATA/tls/` on any other, since passwords and citizens' documents
/// must not cross the office LAN in clear; `plain_http` allows plain HTTP there behind a proxy that
/// terminates TLS.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The certificate chain, PEM, leaf first.
    pub cert: Option<PathBuf>,
    /// The certificate's private key, PEM (PKCS #8, PKCS #1 or SEC 1).
    pub key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address without a certificate (behind a TLS proxy only).
    /// Every client then has the proxy's address, and shares the limits kept per address.
    pub plain_http: bool,
}

/// Scanners and the scan-quality rule R1.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScannerConfig {
    /// Offer SANE's virtual `test` scanner beside the real ones (for trying the appliance out).
    pub test_scanner: bool,
    /// Refuse pages below the legal 200 dpi (R1) instead of flagging them for review.
    pub refuse_low_dpi: bool,
    /// Resolution assumed for image files that do not state theirs.
    pub default_dpi: f32,
    /// Per-model corrections.
    pub quirks: Vec<QuirkConfig>,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig { test_scanner: true, refuse_low_dpi: false, default_dpi: 300.0, quirks: Vec::new() }
    }
}

/// One line of the quirks table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuirkConfig {
    /// The vendor as SANE reports it.
    pub vendor: String,
    /// The start of the model name as SANE reports it.
    pub model_prefix: String,
    /// The back side of a duplex sheet arrives upside down.
    #[serde(default)]
    pub back_rotated_180: bool,
}

impl ScannerConfig {
    /// The quirks table in the driver's terms.
    pub fn quirk_rules(&self) -> Vec<scanner_driver::QuirkRule> {
        self.quirks
            .iter()
            .map(|q| scanner_driver::QuirkRule {
                vendor: q.vendor.clone(),
                model_prefix: q.model_prefix.clone(),
                quirks: scanner_driver::Quirks { back_rotated_180: q.back_rotated_180 },
            })
            .collect()
    }
}

/// The hot folder.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HotFolderConfig {
    /// Whether `serve` watches it.
    pub enabled: bool,
    /// The share that files are dropped into; `inbox` under the data directory when not given. It
    /// must not overlap the appliance's own state, `hotfolder` under the data directory.
    pub path: Option<PathBuf>,
    /// A file is taken once its size and time have not changed for this long.
    pub settle_seconds: f64,
    /// How often the folder is looked at.
    pub poll_milliseconds: u64,
    /// The document type of files not named `OWNER_TYPE_name.ext`.
    pub doc_type: String,
    /// Days an archived file is kept in the state directory's `done/` before it is deleted.
    pub keep_done_days: u32,
}

impl Default for HotFolderConfig {
    fn default() -> Self {
        HotFolderConfig {
            enabled: true,
            path: None,
            settle_seconds: 2.0,
            poll_milliseconds: 500,
            doc_type: "KHAC".into(),
            keep_done_days: 30,
        }
    }
}

/// The archive's background work.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    /// The archive log's origin line.
    pub origin: String,
    /// Seconds between signed checkpoints (while the log or the audit trail grows).
    pub checkpoint_seconds: u64,
    /// The scrub's read rate.
    pub scrub_bytes_per_second: u64,
    /// Hours between full fixity runs while serving.
    pub scrub_hours: u64,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig {
            origin: "sohoa/archive".into(),
            checkpoint_seconds: 300,
            scrub_bytes_per_second: 20_000_000,
            scrub_hours: 24,
        }
    }
}

/// Where the retention schedule comes from.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// A TOML schedule replacing the built-in one (`src/retention.toml`).
    pub schedule: Option<PathBuf>,
}

impl RetentionConfig {
    /// The schedule: the configured file, or the built-in one; checked either way.
    pub fn load(&self) -> anyhow::Result<archive::RetentionSchedule> {
        let (text, name) = match &self.schedule {
            Some(path) => (
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the retention schedule {}", path.display()))?,
                path.display().to_string(),
            ),
            None => (include_str!("retention.toml").to_owned(), "the built-in retention schedule".to_owned()),
        };
        let schedule: archive::RetentionSchedule = toml::from_str(&text).with_context(|| name.clone())?;
        schedule.validate().with_context(|| name)?;
        Ok(schedule)
    }
}

/// The agency the appliance serves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    /// Its name, as the agency's signature block shows it.
    pub name: String,
    /// Where it signs (the signature's `/Location`).
    pub location: String,
    /// The address under which citizens reach the public `/verify` page (`http://` or `https://`
    /// and a host that is not loopback), printed in the QR code of every signed copy. When it is not
    /// set, the QR code carries only the path `/verify?code=…&t=…`: sohoa cannot know the name the
    /// agency publishes it under (the listen address is often `0.0.0.0`, or loopback behind a proxy,
    /// and `sohoa ingest` has none), and a copy lives for decades, so a guessed host printed on it
    /// would mislead every reader, where the path still gives the code and token to type in.
    pub public_url: Option<String>,
}

impl Default for AgencyConfig {
    fn default() -> Self {
        AgencyConfig {
            name: "Cơ quan thử nghiệm sohoa".into(), location: "Bộ phận Một cửa".into(), public_url: None
        }
    }
}

/// Refuses a public URL that no citizen could reach or that a link cannot be appended to.
fn check_public_url(url: &str) -> anyhow::Result<()> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else { bail!("[agency] public_url {url:?} must start with https:// or http://") };
    if rest.contains(['?', '#']) {
        bail!(
            "[agency] public_url {url:?} must not have a query or fragment: the verification path and query are appended to it"
        );
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _port)| host),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    if host.is_empty() || loopback {
        bail!(
            "[agency] public_url {url:?} names no host that others can reach; printed copies would send their readers nowhere"
        );
    }
    Ok(())
}

/// Where the signing key is. With none of `key`, `pkcs12` and `pkcs11_module`, the development
/// signer under the data directory is used.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureConfig {
    /// A PKCS #8 PEM private key (mode 0600).
    pub key: Option<PathBuf>,
    /// The PEM chain of the key's certificate (with `key` or `pkcs11_module`).
    pub chain: Option<PathBuf>,
    /// A PKCS #12 bundle (mode 0600); its password is in `$SOHOA_PKCS12_PASSWORD`.
    pub pkcs12: Option<PathBuf>,
    /// A PKCS #11 module; the PIN is in `$SOHOA_TOKEN_PIN`.
    pub pkcs11_module: Option<PathBuf>,
    /// The token's label.
    pub token: Option<String>,
    /// The private key's label on the token.
    pub key_label: Option<String>,
    /// An RFC 3161 timestamp authority; without one, signatures are PAdES B-B.
    pub tsa_url: Option<String>,
    /// PEM files of the CAs whose certificates `verify` trusts.
    #[serde(default)]
    pub trust_anchors: Vec<PathBuf>,
    /// CRL files (DER or PEM) that every certificate path is checked against; they are read at each
    /// verification, so a cron job may refresh them.
    #[serde(default)]
    pub crl_files: Vec<PathBuf>,
    /// Fetch the CRLs named by the distribution points of the certificates of each path (http only).
    /// With this, `crl_files` or `ocsp`, a certificate whose revocation status is unknown is refused.
    #[serde(default)]
    pub crl_fetch: bool,
    /// Ask the OCSP responder each certificate of a path names (http only).
    #[serde(default)]
    pub ocsp: bool,
}

/// The configuration in force as `sohoa config show`, `GET /api/config` and the admin's screen show it:
/// every setting, and no secret. The file holds none by design (a PKCS #12 password and a token's PIN
/// come from the environment, and keys and certificates are files whose contents are never read
/// here), so the sections of settings are shown as they are, and only what could carry a credential
/// by accident is rewritten: the user name, password, query and fragment of a URL (a TSA reached as
/// `https://user:password@tsa…` or `…?apikey=…`). The signer section is a view of its own, so that a
/// field added to `[signature]` later is not shown until it is written here on purpose. A section
/// struct derives `Serialize` for this view only: a secret must never become a field of one.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigInForce {
    /// `[agency]`.
    pub agency: AgencyView,
    /// `[signature]`: which signer, and the paths of its files.
    pub signature: SignatureView,
    /// `[archive]`.
    pub archive: ArchiveConfig,
    /// `[retention]`.
    pub retention: RetentionConfig,
    /// `[tls]`: the paths of the certificate and its key.
    pub tls: TlsConfig,
    /// `[scanner]`.
    pub scanner: ScannerConfig,
    /// `[hot_folder]`.
    pub hot_folder: HotFolderConfig,
    /// `[import]`.
    pub import: ImportConfig,
    /// `[http]`.
    pub http: HttpConfig,
    /// `[replication]`, the endpoint without credentials; absent when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication: Option<ReplicationConfig>,
    /// `[province]` (its index carries no password); absent when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<ProvinceConfig>,
    /// `[offload]`, the servers without credentials; absent when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offload: Option<OffloadConfig>,
}

/// `[agency]` as shown.
#[derive(Debug, Clone, Serialize)]
pub struct AgencyView {
    /// The agency's name.
    pub name: String,
    /// Where it signs.
    pub location: String,
    /// Where citizens reach `/verify`, without credentials.
    pub public_url: Option<String>,
}

/// `[signature]` as shown: which kind of signer, where its files are, what verification trusts.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureView {
    /// `development` (made under the data directory), `pkcs8`, `pkcs12` or `pkcs11`.
    pub signer: &'static str,
    /// The PKCS #8 key's path (never its contents).
    pub key: Option<PathBuf>,
    /// The certificate chain's path.
    pub chain: Option<PathBuf>,
    /// The PKCS #12 bundle's path (its password is in the environment, never shown).
    pub pkcs12: Option<PathBuf>,
    /// The PKCS #11 module (the token's PIN is in the environment, never shown).
    pub pkcs11_module: Option<PathBuf>,
    /// The token's label.
    pub token: Option<String>,
    /// The key's label on the token.
    pub key_label: Option<String>,
    /// The timestamp authority, without credentials.
    pub tsa_url: Option<String>,
    /// The trust anchors' paths.
    pub trust_anchors: Vec<PathBuf>,
    /// The CRL files' paths.
    pub crl_files: Vec<PathBuf>,
    /// Whether CRLs are fetched.
    pub crl_fetch: bool,
    /// Whether OCSP responders are asked.
    pub ocsp: bool,
}

/// A setting's name and value, as the configuration file would write it.
pub type Setting = (String, String);

impl ConfigInForce {
    /// Each section's settings, sections and settings by name, values written as in TOML (strings quoted, lists
    /// in brackets, tables inline); settings left unset are shown as `(unset)`.
    pub fn sections(&self) -> Vec<(String, Vec<Setting>)> {
        let value = serde_json::to_value(self).unwrap_or_default();
        let serde_json::Value::Object(sections) = value else { return Vec::new() };
        sections
            .into_iter()
            .map(|(section, settings)| {
                let settings = match settings {
                    serde_json::Value::Object(map) => map.into_iter().map(|(k, v)| (k, toml_value(&v))).collect(),
                    other => vec![(String::new(), toml_value(&other))],
                };
                (section, settings)
            })
            .collect()
    }
}

/// How a setting left unset is shown.
pub const UNSET: &str = "(unset)";

/// A value as TOML writes it (near enough for reading: JSON's strings are TOML's basic strings).
fn toml_value(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => UNSET.to_owned(),
        Value::Array(items) => format!("[{}]", items.iter().map(toml_value).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let fields: Vec<String> = map.iter().map(|(k, v)| format!("{k} = {}", toml_value(v))).collect();
            format!("{{ {} }}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

/// A URL with what could be a credential removed: the user name and password before the host, the
/// query and the fragment.
pub fn url_without_credentials(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

impl Config {
    /// The configuration in force without secrets (see [`ConfigInForce`]).
    pub fn in_force(&self) -> ConfigInForce {
        let s = &self.signature;
        let signer = if s.key.is_some() {
            "pkcs8"
        } else if s.pkcs12.is_some() {
            "pkcs12"
        } else if s.pkcs11_module.is_some() {
            "pkcs11"
        } else {
            "development"
        };
        ConfigInForce {
            agency: AgencyView {
                name: self.agency.name.clone(),
                location: self.agency.location.clone(),
                public_url: self.agency.public_url.as_deref().map(url_without_credentials),
            },
            signature: SignatureView {
                signer,
                key: s.key.clone(),
                chain: s.chain.clone(),
                pkcs12: s.pkcs12.clone(),
                pkcs11_module: s.pkcs11_module.clone(),
                token: s.token.clone(),
                key_label: s.key_label.clone(),
                tsa_url: s.tsa_url.as_deref().map(url_without_credentials),
                trust_anchors: s.trust_anchors.clone(),
                crl_files: s.crl_files.clone(),
                crl_fetch: s.crl_fetch,
                ocsp: s.ocsp,
            },
            archive: self.archive.clone(),
            retention: self.retention.clone(),
            tls: self.tls.clone(),
            scanner: self.scanner.clone(),
            hot_folder: self.hot_folder.clone(),
            import: self.import.clone(),
            http: self.http.clone(),
            replication: self
                .replication
                .as_ref()
                .map(|r| ReplicationConfig { endpoint: url_without_credentials(&r.endpoint), ..r.clone() }),
            province: self.province.clone(),
            offload: self.offload.as_ref().map(|o| OffloadConfig {
                servers: o.servers.iter().map(|s| url_without_credentials(s)).collect(),
                ..o.clone()
            }),
        }
    }

    /// Reads the file, or the defaults when there is none.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else { return Ok(Config::default()) };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration {}", path.display()))?;
        let config: Config = toml::from_str(&text).with_context(|| format!("configuration {}", path.display()))?;
        let s = &config.signature;
        let kinds = [s.key.is_some(), s.pkcs12.is_some(), s.pkcs11_module.is_some()].iter().filter(|k| **k).count();
        if kinds > 1 {
            bail!("configuration {}: [signature] names more than one of key, pkcs12 and pkcs11_module", path.display());
        }
        if (s.key.is_some() || s.pkcs11_module.is_some()) && s.chain.is_none() {
            bail!("configuration {}: [signature] needs `chain`, the PEM certificate chain of the key", path.display());
        }
        if s.pkcs11_module.is_some() && (s.token.is_none() || s.key_label.is_none()) {
            bail!("configuration {}: [signature] pkcs11_module needs `token` and `key_label`", path.display());
        }
        let h = &config.http;
        if h.max_concurrent_uploads == 0
            || h.public_burst == 0
            || h.public_per_minute == 0
            || h.upload_stall_seconds == 0
        {
            bail!(
                "configuration {}: [http] max_concurrent_uploads, public_burst, public_per_minute and upload_stall_seconds must be at least 1",
                path.display()
            );
        }
        if !(1..=MAX_SESSION_SECONDS).contains(&h.session_max_seconds)
            || !(1..=h.session_max_seconds).contains(&h.session_idle_seconds)
        {
            bail!(
                "configuration {}: [http] session_max_seconds must be 1 to {MAX_SESSION_SECONDS} (30 days), and session_idle_seconds 1 to session_max_seconds",
                path.display()
            );
        }
        if config.tls.cert.is_some() != config.tls.key.is_some() {
            bail!("configuration {}: [tls] needs both `cert` and `key`, or neither", path.display());
        }
        if let Some(url) = &config.agency.public_url {
            check_public_url(url).with_context(|| format!("configuration {}", path.display()))?;
        }
        if let Some(province) = &config.province {
            province
                .check(&config.archive.origin, config.replication.is_some())
                .with_context(|| format!("configuration {}", path.display()))?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_shown_carries_no_credential() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sohoa.toml");
        std::fs::write(
            &path,
            r#"
[agency]
name = "UBND phường Bến Thành"
location = "Bộ phận Một cửa"
public_url = "https://viewer:SECRET-1@motcua.example.gov.vn/sohoa"
[signature]
pkcs12 = "/etc/sohoa/agency.p12"
tsa_url = "http://tsauser:SECRET-2@tsa.example.vn/tsa?apikey=SECRET-3#SECRET-4"
[tls]
cert = "/etc/sohoa/tls/fullchain.pem"
key = "/etc/sohoa/tls/key.pem"
[offload]
servers = ["nats://ocr:SECRET-5@10.0.0.5:4222"]
"#,
        )
        .unwrap();
        let shown = serde_json::to_string(&Config::load(Some(&path)).unwrap().in_force()).unwrap();
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains(r#""tsa_url":"http://tsa.example.vn/tsa""#), "{shown}");
        assert!(shown.contains(r#""public_url":"https://motcua.example.gov.vn/sohoa""#), "{shown}");
        assert!(shown.contains(r#""servers":["nats://10.0.0.5:4222"]"#), "{shown}");
        assert!(shown.contains(r#""signer":"pkcs12""#) && shown.contains("/etc/sohoa/tls/key.pem"), "{shown}");
        assert_eq!(url_without_credentials("https://a@b@host:8443/x"), "https://host:8443/x");
        assert_eq!(url_without_credentials("host/path?k=v"), "host/path");
    }

    #[test]
    fn a_province_index_with_a_password_or_an_untrusted_peer_is_refused() {
        assert!(conninfo_has_password("host=db dbname=sohoa password=SECRET"));
        assert!(conninfo_has_password("postgresql://office:SECRET@db/sohoa"));
        assert!(conninfo_has_password("postgres://db/sohoa?password=SECRET"));
        assert!(!conninfo_has_password("host=db dbname=sohoa user=ben_thanh"));
        assert!(!conninfo_has_password("postgresql://office@db:5432/sohoa"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sohoa.toml");
        let replication = "[replication]\nendpoint = \"http://127.0.0.1:1\"\nbucket = \"b\"\n";
        let peer = "[[province.peers]]\noffice = \"B\"\norigin = \"b/sohoa\"\nbucket = \"sohoa-b\"\n";
        for (text, why) in [
            (format!("[province]\noffice = \"A\"\n{peer}keys = [\"0123456789abcdef\"]\n"), "[replication]"),
            (format!("{replication}[province]\noffice = \"A\"\n{peer}keys = []\n"), "pins no seal key"),
            (format!("{replication}[province]\noffice = \"A\"\nindex = \"host=db password=x\"\n"), "PGPASSWORD"),
            (
                format!(
                    "{replication}[archive]\norigin = \"b/sohoa\"\n[province]\noffice = \"A\"\n{peer}keys = [\"0123456789abcdef\"]\n"
                ),
                "named twice",
            ),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = format!("{:#}", Config::load(Some(&path)).unwrap_err());
            assert!(error.contains(why), "{error}");
        }
        std::fs::write(
            &path,
            format!("{replication}[province]\noffice = \"A\"\n{peer}keys = [\"0123456789abcdef\"]\n"),
        )
        .unwrap();
        let province = Config::load(Some(&path)).unwrap().province.unwrap();
        assert_eq!(province.peers.iter().find(|p| p.origin == "b/sohoa").unwrap().office, "B");
    }
}

/// `[offload]`: reading pages on other machines when this one's reading queue is long (see
/// [`crate::offload`]). Pages go as jobs to a JetStream work queue that `sohoa worker` processes on
/// other machines pull; their readings come back and are applied here, where the document is
/// assembled, sealed and signed. Its credentials are not here: they come from `SOHOA_NATS_USER` and
/// `SOHOA_NATS_PASSWORD`, or `SOHOA_NATS_TOKEN`, in the environment, so this struct has no secret.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OffloadConfig {
    /// The NATS servers of the cluster, e.g. `nats://10.0.0.5:4222`; any one that answers will do.
    pub servers: Vec<String>,
    /// The name of the JetStream stream of page jobs, which the workers are started with too; the
    /// results come back on the stream of the same name with `_RESULTS` added.
    #[serde(default = "default_offload_stream")]
    pub stream: String,
    /// How many servers keep a copy of each stream: 3 for a three-server cluster, so that a job
    /// outlives any one server; 1 for a single server.
    #[serde(default = "default_offload_replicas")]
    pub replicas: usize,
    /// A document's pages go to workers only while more pages than this wait in the reading queue:
    /// below it this machine keeps up alone, and a page read here costs no transfer.
    #[serde(default = "default_offload_when_pages_waiting")]
    pub when_pages_waiting: usize,
    /// Seconds a page sent to the workers may take to come back; then it is read here, and a late
    /// result is dropped.
    #[serde(default = "default_offload_result_seconds")]
    pub result_seconds: u64,
    /// How many documents may have their pages with the workers at once; each holds a reader while it
    /// waits, and the readers that read here are as many as without offloading.
    #[serde(default = "default_offload_documents_at_once")]
    pub documents_at_once: usize,
    /// This appliance's name on the results stream, letters, digits, `-` and `_`; default: the
    /// archive's origin with every other character replaced by `_`.
    #[serde(default)]
    pub name: Option<String>,
}

fn default_offload_stream() -> String {
    "SOHOA_OCR".into()
}

fn default_offload_replicas() -> usize {
    3
}

fn default_offload_when_pages_waiting() -> usize {
    16
}

fn default_offload_result_seconds() -> u64 {
    120
}

fn default_offload_documents_at_once() -> usize {
    2
}
