//! The development signer made on a fresh appliance's first start, so that `make run` signs PDFs
//! out of the box: a throw-away root CA and an ECDSA P-256 agency certificate under it. A real
//! deployment configures the agency's own certificate (software key or token) instead.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use der::EncodePem;
use der::pem::LineEnding;
use pkcs8::EncodePrivateKey;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;

use crate::SignerError;
use crate::keys::write_atomically;
use crate::x509::certificates_to_pem;

/// The files of a development signer in a directory.
#[derive(Debug, Clone)]
pub struct DevelopmentSigner {
    /// The agency's private key, PKCS #8 PEM, mode 0600.
    pub key: PathBuf,
    /// The agency's certificate followed by the development root.
    pub chain: PathBuf,
    /// The development root alone: the trust anchor for verifying what it signed.
    pub anchor: PathBuf,
}

impl DevelopmentSigner {
    /// Opens the development signer in `dir`, making it on first use for an agency called `agency`.
    /// The root's private key is dropped once the agency certificate is issued: nothing else will
    /// ever be signed by that root.
    pub fn open_or_create(dir: &Path, agency: &str) -> Result<Self, SignerError> {
        let signer = DevelopmentSigner {
            key: dir.join("agency.key"),
            chain: dir.join("agency-chain.pem"),
            anchor: dir.join("development-root.pem"),
        };
        if signer.key.exists() && signer.chain.exists() && signer.anchor.exists() {
            return Ok(signer);
        }
        std::fs::create_dir_all(dir).map_err(crate::keys::io(dir))?;
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            SignerError::Certificate(format!("making the development {what}: {e}"))
        };
        let root_key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let agency_key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let root_name = Name::from_str("CN=sohoa development root (not for production),O=sohoa,C=VN")
            .map_err(|e| failed("root name", &e))?;
        let agency_name = Name::from_str(&format!("CN={},O=sohoa development,C=VN", escape(agency)))
            .map_err(|e| failed("agency name", &e))?;
        let spki = |key: &p256::ecdsa::SigningKey| {
            SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(|e| failed("public key", &e))
        };
        let serial = || {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map_err(|e| failed("serial number", &e))?;
            bytes[0] &= 0x7f;
            SerialNumber::new(&bytes).map_err(|e| failed("serial number", &e))
        };
        let years =
            |n: u64| Validity::from_now(Duration::from_secs(n * 365 * 86_400)).map_err(|e| failed("validity", &e));
        let root = CertificateBuilder::new(
            Profile::Root,
            serial()?,
            years(10)?,
            root_name.clone(),
            spki(&root_key)?,
            &root_key,
        )
        .map_err(|e| failed("root", &e))?
        .build::<p256::ecdsa::DerSignature>()
        .map_err(|e| failed("root", &e))?;
        let profile = Profile::Leaf { issuer: root_name, enable_key_agreement: false, enable_key_encipherment: false };
        let agency_certificate =
            CertificateBuilder::new(profile, serial()?, years(3)?, agency_name, spki(&agency_key)?, &root_key)
                .map_err(|e| failed("agency certificate", &e))?
                .build::<p256::ecdsa::DerSignature>()
                .map_err(|e| failed("agency certificate", &e))?;
        let key_pem = agency_key.to_pkcs8_pem(LineEnding::LF).map_err(|e| failed("agency key", &e))?;
        write_atomically(&signer.key, key_pem.as_bytes(), 0o600)?;
        write_atomically(&signer.chain, certificates_to_pem(&[agency_certificate, root.clone()]).as_bytes(), 0o644)?;
        let anchor = root.to_pem(LineEnding::LF).map_err(|e| failed("root", &e))?;
        write_atomically(&signer.anchor, anchor.as_bytes(), 0o644)?;
        Ok(signer)
    }
}

/// Escapes the characters RFC 4514 gives a meaning in a distinguished name.
fn escape(value: &str) -> String {
    value.chars().flat_map(|c| if ",+\"\\<>;=#".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}
