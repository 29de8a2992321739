//! The PDF signature as this appliance makes it: which signer (from the configuration, or the
//! development signer made on first start) and the secrets that open it, the TSA, the trust anchors
//! and revocation sources that verification uses, and the texts of page 1's blocks (R5, R6).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use domain::{DocumentCode, DocumentMetadata, VerificationToken, vietnam_now};
use signer::{
    Certificate, DevelopmentSigner, PdfBase, PdfSigner, Revocation, SignatureRequest, SoftwareSigner,
    TimestampAuthority, TokenConfig, TokenSigner, read_pem_certificates, sign_update, verify_pdf_signatures_with,
};
use zeroize::{Zeroize, Zeroizing};

use crate::config::{AgencyConfig, SignatureConfig};
use crate::verify::Check;

/// How long a timestamp request may take before ingest gives up on it.
const TSA_TIMEOUT: Duration = Duration::from_secs(30);
/// How long fetching a CRL or asking an OCSP responder may take before verification gives up on it.
const REVOCATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The signer, the TSA and the trust anchors of the appliance's PDF signatures.
pub struct Signing {
    signer: Box<dyn PdfSigner>,
    tsa: Option<TimestampAuthority>,
    anchors: Vec<Certificate>,
    revocation: Revocation,
    agency: AgencyConfig,
}

/// The environment variables that carry the signing key's secrets: the PKCS #12 bundle's password
/// and the token's user PIN.
const SECRET_VARIABLES: [&str; 2] = ["SOHOA_PKCS12_PASSWORD", "SOHOA_TOKEN_PIN"];

/// The secrets [`take_secrets_from_env`] took, by variable name.
static SECRETS: Mutex<Vec<(&'static str, Zeroizing<String>)>> = Mutex::new(Vec::new());

/// Moves the signing key's PIN and password out of the process environment into memory that is
/// wiped when dropped: the variables are removed (so no child process inherits them) and their
/// bytes in the environment block overwritten (so `/proc/PID/environ` no longer shows them).
///
/// # Safety
///
/// The process must have one thread: changing the environment races with any other thread that
/// reads it.
pub unsafe fn take_secrets_from_env() {
    let mut secrets = SECRETS.lock().unwrap_or_else(|p| p.into_inner());
    for name in SECRET_VARIABLES {
        let Some(value) = std::env::var_os(name) else { continue };
        secrets.push((name, Zeroizing::new(value.to_string_lossy().into_owned())));
        let mut value = value.into_encoded_bytes();
        value.zeroize();
        let variable = std::ffi::CString::new(name).expect("a variable name has no NUL");
        // SAFETY: the process has one thread (the caller's promise), so nothing else reads the
        // environment while `getenv`'s pointer is used; it points at the value's bytes, NUL
        // terminated, in the writable environment block, and only those bytes are overwritten.
        unsafe {
            let at = libc::getenv(variable.as_ptr());
            if !at.is_null() {
                std::ptr::write_bytes(at, 0, libc::strlen(at));
            }
            std::env::remove_var(name);
        }
    }
}

/// A secret taken from the environment at start, or why there is none.
fn secret(name: &str, what: &str) -> anyhow::Result<Zeroizing<String>> {
    let secrets = SECRETS.lock().unwrap_or_else(|p| p.into_inner());
    let found = secrets.iter().find(|(n, _)| *n == name).map(|(_, value)| value.clone());
    found.with_context(|| format!("{what}: set ${name} in the environment sohoa starts in"))
}

impl Signing {
    /// Opens the configured signer, or the development signer under `keys` when none is configured.
    /// The trust anchors are the configured ones and the development root when it signs: never
    /// certificates that came with data (a backup, a bag), whose sender could name any CA.
    pub fn open(keys: &Path, config: &SignatureConfig, agency: AgencyConfig) -> anyhow::Result<Self> {
        let mut anchors = Vec::new();
        for path in &config.trust_anchors {
            anchors.extend(read_pem_certificates(path)?);
        }
        let signer: Box<dyn PdfSigner> = match (&config.key, &config.pkcs12, &config.pkcs11_module) {
            (Some(key), _, _) => Box::new(SoftwareSigner::from_pem_files(
                key,
                config.chain.as_deref().context("[signature] key needs chain")?,
            )?),
            (_, Some(bundle), _) => {
                let password = secret("SOHOA_PKCS12_PASSWORD", "the PKCS #12 bundle's password")?;
                Box::new(SoftwareSigner::from_pkcs12(bundle, &password)?)
            }
            (_, _, Some(module)) => Box::new(TokenSigner::open(&TokenConfig {
                module: module.clone(),
                token: config.token.clone().context("[signature] pkcs11_module needs token")?,
                key: config.key_label.clone().context("[signature] pkcs11_module needs key_label")?,
                pin: secret("SOHOA_TOKEN_PIN", "the token's user PIN")?,
                chain: config.chain.clone().context("[signature] pkcs11_module needs chain")?,
            })?),
            (None, None, None) => {
                let development = DevelopmentSigner::open_or_create(&keys.join("x509"), &agency.name)?;
                anchors.extend(read_pem_certificates(&development.anchor)?);
                Box::new(SoftwareSigner::from_pem_files(&development.key, &development.chain)?)
            }
        };
        anyhow::ensure!(
            !anchors.is_empty(),
            "[signature] trust_anchors is empty: name the PEM file of the CA that issued the signing certificate"
        );
        let tsa = config.tsa_url.as_ref().map(|url| TimestampAuthority::new(url.clone(), TSA_TIMEOUT)).transpose()?;
        let revocation = Revocation::new(config.crl_files.clone(), config.crl_fetch.then_some(REVOCATION_TIMEOUT));
        let revocation = if config.ocsp { revocation.with_ocsp(REVOCATION_TIMEOUT) } else { revocation };
        Ok(Signing { signer, tsa, anchors, revocation, agency })
    }

    /// The trust anchors of verification.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// The agency the appliance signs for.
    pub fn agency(&self) -> &AgencyConfig {
        &self.agency
    }

    /// The link to the public verification page that a copy's QR code carries: the document's code
    /// and its verification token, under `[agency] public_url`, or as a path alone when that is not
    /// configured (see [`AgencyConfig::public_url`]).
    pub fn verification_link(&self, code: &DocumentCode, token: &VerificationToken) -> String {
        // Codes are made of digits, letters, `.`, `-` and `_`, and the token of hexadecimal digits:
        // nothing to percent-encode.
        let path = format!("/verify?code={code}&t={token}");
        match &self.agency.public_url {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => path,
        }
    }

    /// Signs a document's PDF/A as the agency: PAdES with the operator's block and the QR code
    /// (carrying the document's verification link with `token`) top-left and the agency's block
    /// top-right of page 1, in the `blank_top` points of page 1's image that hold no ink, or in a
    /// margin added above it. `base` describes the PDF/A and `content` reads it; returns the
    /// incremental update to append to it ([`signer::sign_update`]).
    pub fn sign(
        &self,
        base: &PdfBase<'_>,
        content: &mut dyn std::io::Read,
        code: &DocumentCode,
        token: &VerificationToken,
        metadata: &DocumentMetadata,
        blank_top: f32,
    ) -> anyhow::Result<Vec<u8>> {
        let time = vietnam_now();
        let iso = |t: chrono::DateTime<chrono::FixedOffset>| t.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
        let or_none = |v: Option<String>| v.unwrap_or_else(|| "không có".into());
        let request = SignatureRequest {
            name: self.agency.name.clone(),
            reason: format!("Sao y bản chính {}", metadata.name()),
            location: self.agency.location.clone(),
            time,
            operator_block: vec![
                format!("Người số hoá: {}", metadata.operator()),
                format!("Thời gian số hoá: {}", iso(metadata.captured_at())),
            ],
            // Decree 30/2020 App. I: the form of copy, the copying agency, and the signing time.
            agency_block: vec!["SAO Y".into(), self.agency.name.clone(), format!("Thời gian ký: {}", iso(time))],
            qr_payload: [
                format!("Mã hồ sơ: {}", or_none(metadata.dossier().map(ToString::to_string))),
                format!("Mã thủ tục: {}", or_none(metadata.procedure().map(ToString::to_string))),
                format!("Chủ sở hữu: {}", or_none(metadata.owner().map(ToString::to_string))),
                format!("Tài liệu: {}", metadata.name()),
                self.verification_link(code, token),
            ]
            .join("\n"),
            link: self.verification_link(code, token),
            blank_top,
        };
        Ok(sign_update(base, content, &request, self.signer.as_ref(), self.tsa.as_ref())?)
    }

    /// Every check of every PDF signature in `pdf`, named `PDF signature: <check>` (with the field's
    /// name when there are several); a file without a signature fails one check saying so.
    pub fn checks(&self, pdf: &[u8]) -> Vec<Check> {
        let fail = |detail: String| vec![Check { name: "PDF signature".into(), passed: false, detail }];
        let reports = match verify_pdf_signatures_with(pdf, &self.anchors, &self.revocation, chrono::Utc::now()) {
            Ok(r) => r,
            Err(e) => return fail(e.to_string()),
        };
        if reports.is_empty() {
            return fail("the PDF carries no signature".into());
        }
        let several = reports.len() > 1;
        reports
            .into_iter()
            .flat_map(|r| {
                let prefix = if several { format!("PDF signature {}", r.field) } else { "PDF signature".to_owned() };
                r.checks.into_iter().map(move |c| Check {
                    name: format!("{prefix}: {}", c.name),
                    passed: c.passed,
                    detail: c.detail,
                })
            })
            .collect()
    }
}
