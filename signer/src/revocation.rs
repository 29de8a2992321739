//! Where revocation information comes from when a certificate path is validated: CRL files the
//! operator keeps current, the CRL distribution points and the OCSP responders named by the
//! certificates of a path that already chains to a trust anchor (so a signed file cannot make the
//! appliance reach addresses of its choosing). Fetched CRLs are kept until their `nextUpdate`, an
//! hour at most.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use der::Decode;
use webpki::{CertRevocationList, OwnedCertRevocationList};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

use crate::error::CheckFailure;
use crate::x509::subject;

/// How long a fetched CRL is used at most, even when its `nextUpdate` is later: a CA publishes a
/// revocation in its next CRL, often long before the previous one expires.
const FETCHED_CRL_LIFETIME: Duration = Duration::from_secs(3600);
/// Largest CRL fetched; national CAs publish CRLs of several megabytes.
const MAX_CRL_BYTES: u64 = 32 << 20;
/// Most distribution points fetched for one path, so that one validation stays bounded.
const MAX_FETCHES: usize = 8;

/// A fetched CRL and when it must be fetched again.
struct Fetched {
    der: Vec<u8>,
    until: Instant,
}

/// The configured sources of revocation information. With none, paths are not checked for
/// revocation and the report says so; with any, a certificate whose status neither an OCSP
/// responder nor a CRL gives is refused.
pub struct Revocation {
    files: Vec<PathBuf>,
    fetch_timeout: Option<Duration>,
    ocsp_timeout: Option<Duration>,
    fetched: Mutex<HashMap<String, Fetched>>,
}

impl fmt::Debug for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocation")
            .field("files", &self.files)
            .field("fetch_timeout", &self.fetch_timeout)
            .field("ocsp_timeout", &self.ocsp_timeout)
            .finish()
    }
}

/// The CRLs gathered for one path, and what could not be had.
pub(crate) struct Gathered {
    /// The lists, parsed.
    pub lists: Vec<CertRevocationList<'static>>,
    /// Where they came from, for the report.
    pub sources: Vec<String>,
    /// Distribution points that failed, each with why.
    pub failures: Vec<String>,
}

impl Revocation {
    /// No revocation checking.
    pub fn none() -> Self {
        Revocation::new(Vec::new(), None)
    }

    /// CRL files (DER or PEM, read at each validation so that a refreshed file is used at once) and,
    /// when `fetch_timeout` is given, the CRLs at the `http://` distribution points of the path's
    /// certificates, each request bounded by that timeout.
    pub fn new(files: Vec<PathBuf>, fetch_timeout: Option<Duration>) -> Self {
        Revocation { files, fetch_timeout, ocsp_timeout: None, fetched: Mutex::new(HashMap::new()) }
    }

    /// Also asks the OCSP responder each certificate of a path names, each request bounded by
    /// `timeout`; a certificate whose responder vouches for it needs no CRL.
    pub fn with_ocsp(self, timeout: Duration) -> Self {
        Revocation { ocsp_timeout: Some(timeout), ..self }
    }

    /// Whether any source is configured.
    pub(crate) fn is_configured(&self) -> bool {
        self.has_crls() || self.ocsp_timeout.is_some()
    }

    /// Whether CRLs are to be had: files, or fetching from distribution points.
    pub(crate) fn has_crls(&self) -> bool {
        !self.files.is_empty() || self.fetch_timeout.is_some()
    }

    /// The timeout of OCSP requests, when OCSP is asked.
    pub(crate) fn ocsp_timeout(&self) -> Option<Duration> {
        self.ocsp_timeout
    }

    /// The CRLs of the configured files and of the distribution points of `certificates`. A
    /// configured file that cannot be read or parsed is an error: the operator named it.
    pub(crate) fn gather(&self, certificates: &[&Certificate]) -> Result<Gathered, CheckFailure> {
        let mut gathered = Gathered { lists: Vec::new(), sources: Vec::new(), failures: Vec::new() };
        for path in &self.files {
            let bytes =
                std::fs::read(path).map_err(|source| CheckFailure::CrlFileRead { path: path.clone(), source })?;
            let list =
                parse_crl(&bytes).map_err(|e| CheckFailure::CrlFile { path: path.clone(), source: Box::new(e) })?;
            gathered.lists.push(list.into());
            gathered.sources.push(path.display().to_string());
        }
        let Some(timeout) = self.fetch_timeout else { return Ok(gathered) };
        let mut urls: Vec<String> = certificates.iter().flat_map(|c| distribution_points(c)).collect();
        urls.sort();
        urls.dedup();
        for url in urls.into_iter().take(MAX_FETCHES) {
            match self.fetch(&url, timeout).and_then(|der| parse_crl(&der)) {
                Ok(list) => {
                    gathered.lists.push(list.into());
                    gathered.sources.push(url);
                }
                Err(e) => gathered.failures.push(format!("{url}: {e}")),
            }
        }
        Ok(gathered)
    }

    /// The CRL at `url`, from the cache while it is fresh.
    fn fetch(&self, url: &str, timeout: Duration) -> Result<Vec<u8>, CheckFailure> {
        let now = Instant::now();
        if let Some(cached) = self.fetched.lock().unwrap_or_else(|p| p.into_inner()).get(url).filter(|c| c.until > now)
        {
            return Ok(cached.der.clone());
        }
        let agent =
            ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().new_agent();
        let mut response = agent.get(url).call().map_err(CheckFailure::Request)?;
        if !response.status().is_success() {
            return Err(CheckFailure::HttpStatus(response.status()));
        }
        let der =
            response.body_mut().with_config().limit(MAX_CRL_BYTES).read_to_vec().map_err(CheckFailure::ReadingCrl)?;
        let next_update = CertificateList::from_der(&der)
            .ok()
            .and_then(|crl| crl.tbs_cert_list.next_update)
            .and_then(|t| t.to_system_time().duration_since(SystemTime::now()).ok());
        let lifetime = next_update.map_or(FETCHED_CRL_LIFETIME, |d| d.min(FETCHED_CRL_LIFETIME));
        self.fetched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(url.to_owned(), Fetched { der: der.clone(), until: now + lifetime });
        Ok(der)
    }
}

/// A CRL in DER, or in PEM (`-----BEGIN X509 CRL-----`) as `openssl ca -gencrl` writes it.
fn parse_crl(bytes: &[u8]) -> Result<OwnedCertRevocationList, CheckFailure> {
    if !bytes.starts_with(b"-----BEGIN") {
        return OwnedCertRevocationList::from_der(bytes).map_err(CheckFailure::UnusableCrl);
    }
    match der::pem::decode_vec(bytes) {
        Ok(("X509 CRL", der)) => OwnedCertRevocationList::from_der(&der).map_err(CheckFailure::UnusableCrl),
        Ok((label, _)) => Err(CheckFailure::PemLabel(label.to_owned())),
        Err(e) => Err(CheckFailure::NotPem(e)),
    }
}

/// The `http://` addresses in a certificate's CRL distribution points. Other schemes (LDAP, file)
/// are not fetched.
fn distribution_points(certificate: &Certificate) -> Vec<String> {
    let Ok(Some((_, points))) = certificate.tbs_certificate.get::<CrlDistributionPoints>() else { return Vec::new() };
    points
        .0
        .iter()
        .filter_map(|p| match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) if uri.as_str().starts_with("http://") => {
                Some(uri.as_str().to_owned())
            }
            _ => None,
        })
        .collect()
}

/// The revocation entry of `certificate` in `lists`, as "revoked on DATE (REASON)", for the report.
pub(crate) fn revoked_entry(certificate: &Certificate, lists: &[CertRevocationList<'_>]) -> Option<String> {
    // webpki keeps a CRL's issuer as the contents of the Name's SEQUENCE, without tag and length.
    let issuer = der::Encode::to_der(&certificate.tbs_certificate.issuer).ok()?;
    let issuer = der::asn1::AnyRef::from_der(&issuer).ok()?.value().to_vec();
    let serial = certificate.tbs_certificate.serial_number.as_bytes();
    lists.iter().filter(|l| l.issuer() == issuer.as_slice()).find_map(|list| {
        let entry = list.find_serial(serial).ok().flatten()?;
        let when = chrono::DateTime::from_timestamp(entry.revocation_date.as_secs() as i64, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let reason = entry.reason_code.map(|r| format!(" ({r:?})")).unwrap_or_default();
        Some(format!("{} was revoked by its issuer on {when}{reason}", subject(certificate)))
    })
}
