//! The PDF signature as this appliance makes it: which signer (from the configuration, or the
//! development signer made on first start), the TSA, the trust anchors that verification uses, and
//! the texts of page 1's blocks (R5, R6).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use domain::{DocumentCode, DocumentMetadata, VerificationToken, vietnam_now};
use signer::{
    Certificate, DevelopmentSigner, PdfSigner, SignatureRequest, SoftwareSigner, TimestampAuthority, TokenConfig, TokenSigner,
    read_pem_certificates, sign_pdf, verify_pdf_signatures,
};

use crate::config::{AgencyConfig, SignatureConfig};
use crate::verify::Check;

/// How long a timestamp request may take before ingest gives up on it.
const TSA_TIMEOUT: Duration = Duration::from_secs(30);

/// The folder under the key directory whose PEM files are trusted as anchors besides the configured ones.
pub const TRUSTED_DIR: &str = "trusted";

/// The signer, the TSA and the trust anchors of the appliance's PDF signatures.
pub struct Signing {
    signer: Box<dyn PdfSigner>,
    tsa: Option<TimestampAuthority>,
    anchors: Vec<Certificate>,
    agency: AgencyConfig,
}

fn secret_from_env(name: &str, what: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("{what}: set ${name}"))
}

impl Signing {
    /// Opens the configured signer, or the development signer under `keys` when none is configured.
    /// The trust anchors are the configured ones, the development root when it signs, and the PEM
    /// files in `keys/trusted/` (the anchors a restored backup brought along).
    pub fn open(keys: &Path, config: &SignatureConfig, agency: AgencyConfig) -> anyhow::Result<Self> {
        let mut anchors = Vec::new();
        let trusted = keys.join(TRUSTED_DIR);
        let mut carried: Vec<_> = match std::fs::read_dir(&trusted) {
            Ok(entries) => entries.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>().with_context(|| trusted.display().to_string())?,
            Err(_) => Vec::new(),
        };
        carried.sort();
        for path in config.trust_anchors.iter().chain(&carried) {
            anchors.extend(read_pem_certificates(path)?);
        }
        let signer: Box<dyn PdfSigner> = match (&config.key, &config.pkcs12, &config.pkcs11_module) {
            (Some(key), _, _) => Box::new(SoftwareSigner::from_pem_files(key, config.chain.as_deref().context("[signature] key needs chain")?)?),
            (_, Some(bundle), _) => {
                let password = secret_from_env("SOHOA_PKCS12_PASSWORD", "the PKCS #12 bundle's password")?;
                Box::new(SoftwareSigner::from_pkcs12(bundle, &password)?)
            }
            (_, _, Some(module)) => Box::new(TokenSigner::open(&TokenConfig {
                module: module.clone(),
                token: config.token.clone().context("[signature] pkcs11_module needs token")?,
                key: config.key_label.clone().context("[signature] pkcs11_module needs key_label")?,
                pin: secret_from_env("SOHOA_TOKEN_PIN", "the token's user PIN")?,
                chain: config.chain.clone().context("[signature] pkcs11_module needs chain")?,
            })?),
            (None, None, None) => {
                let development = DevelopmentSigner::open_or_create(&keys.join("x509"), &agency.name)?;
                anchors.extend(read_pem_certificates(&development.anchor)?);
                Box::new(SoftwareSigner::from_pem_files(&development.key, &development.chain)?)
            }
        };
        anyhow::ensure!(!anchors.is_empty(), "[signature] trust_anchors is empty: name the PEM file of the CA that issued the signing certificate");
        let tsa = config.tsa_url.as_ref().map(|url| TimestampAuthority::new(url.clone(), TSA_TIMEOUT)).transpose()?;
        Ok(Signing { signer, tsa, anchors, agency })
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
    /// top-right of page 1.
    pub fn sign(&self, pdf: &[u8], code: &DocumentCode, token: &VerificationToken, metadata: &DocumentMetadata) -> anyhow::Result<Vec<u8>> {
        let time = vietnam_now();
        let iso = |t: chrono::DateTime<chrono::FixedOffset>| t.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
        let or_none = |v: Option<String>| v.unwrap_or_else(|| "không có".into());
        let request = SignatureRequest {
            name: self.agency.name.clone(),
            reason: format!("Sao y bản chính {}", metadata.name()),
            location: self.agency.location.clone(),
            time,
            operator_block: vec![format!("Người số hoá: {}", metadata.operator()), format!("Thời gian số hoá: {}", iso(metadata.captured_at()))],
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
        };
        Ok(sign_pdf(pdf, &request, self.signer.as_ref(), self.tsa.as_ref())?)
    }

    /// Every check of every PDF signature in `pdf`, named `PDF signature: <check>` (with the field's
    /// name when there are several); a file without a signature fails one check saying so.
    pub fn checks(&self, pdf: &[u8]) -> Vec<Check> {
        let fail = |detail: String| vec![Check { name: "PDF signature".into(), passed: false, detail }];
        let reports = match verify_pdf_signatures(pdf, &self.anchors, chrono::Utc::now()) {
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
                r.checks.into_iter().map(move |c| Check { name: format!("{prefix}: {}", c.name), passed: c.passed, detail: c.detail })
            })
            .collect()
    }
}
