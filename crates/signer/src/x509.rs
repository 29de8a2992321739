//! X.509 certificates: reading them, checking a signature with a certificate's key, and building a
//! path from a certificate to a trust anchor.

use std::path::Path;

use chrono::{DateTime, Utc};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};

use crate::SignerError;

pub(crate) const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub(crate) const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
pub(crate) const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(crate) const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// The signature algorithms the law recognises for PDF signatures (Circular 15/2025/TT-BKHCN):
/// RSASSA-PSS with an RSA key of at least 2048 bits, or ECDSA on P-256, both over SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSASSA-PSS, SHA-256, MGF1 with SHA-256, 32 bytes of salt.
    RsaPssSha256,
    /// ECDSA on NIST P-256 with SHA-256, the signature DER-encoded.
    EcdsaP256Sha256,
}

impl SignatureAlgorithm {
    /// The algorithm that fits a certificate's public key, or why none does.
    pub fn for_certificate(certificate: &Certificate) -> Result<Self, SignerError> {
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        match spki.algorithm.oid {
            RSA_ENCRYPTION | RSASSA_PSS => {
                let key = rsa_key(certificate)?;
                let bits = rsa::traits::PublicKeyParts::size(&key) * 8;
                if bits < 2048 {
                    return Err(SignerError::Certificate(format!("{}: an RSA key of {bits} bits; at least 2048 are required", subject(certificate))));
                }
                Ok(SignatureAlgorithm::RsaPssSha256)
            }
            EC_PUBLIC_KEY if spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok()) == Some(P256) => {
                Ok(SignatureAlgorithm::EcdsaP256Sha256)
            }
            oid => Err(SignerError::Certificate(format!("{}: key algorithm {oid} is not RSA or ECDSA P-256", subject(certificate)))),
        }
    }

    /// The identifier that names this algorithm in a CMS SignerInfo.
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        match self {
            SignatureAlgorithm::RsaPssSha256 => rsa::pss::get_default_pss_signature_algo_id::<Sha256>().expect("PSS parameters encode"),
            SignatureAlgorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned { oid: ECDSA_WITH_SHA256, parameters: None },
        }
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPssSha256 => "RSASSA-PSS with SHA-256",
            SignatureAlgorithm::EcdsaP256Sha256 => "ECDSA P-256 with SHA-256",
        }
    }
}

/// Reads every certificate of a PEM file, in order.
pub fn read_pem_certificates(path: &Path) -> Result<Vec<Certificate>, SignerError> {
    let text = std::fs::read_to_string(path).map_err(|source| SignerError::Io { path: path.to_owned(), source })?;
    let certificates = Certificate::load_pem_chain(text.as_bytes())
        .map_err(|e| SignerError::Malformed { path: path.to_owned(), reason: format!("not PEM certificates: {e}") })?;
    if certificates.is_empty() {
        return Err(SignerError::Malformed { path: path.to_owned(), reason: "holds no certificate".into() });
    }
    Ok(certificates)
}

/// Encodes certificates as PEM, the form trust anchors are exported in.
pub fn certificates_to_pem(certificates: &[Certificate]) -> String {
    use der::EncodePem;
    certificates.iter().map(|c| c.to_pem(der::pem::LineEnding::LF).expect("a parsed certificate encodes")).collect()
}

/// The subject of a certificate as RFC 4514 text.
pub fn subject(certificate: &Certificate) -> String {
    certificate.tbs_certificate.subject.to_string()
}

/// SHA-256 of a certificate's DER encoding.
pub(crate) fn certificate_hash(certificate: &Certificate) -> [u8; 32] {
    Sha256::digest(certificate.to_der().expect("a parsed certificate encodes")).into()
}

/// The certificate's validity period.
pub(crate) fn validity(certificate: &Certificate) -> (DateTime<Utc>, DateTime<Utc>) {
    let v = &certificate.tbs_certificate.validity;
    let at = |t: x509_cert::time::Time| DateTime::<Utc>::from(t.to_system_time());
    (at(v.not_before), at(v.not_after))
}

pub(crate) fn rsa_key(certificate: &Certificate) -> Result<rsa::RsaPublicKey, SignerError> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    let bits = certificate.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    rsa::RsaPublicKey::from_pkcs1_der(bits).map_err(|e| SignerError::Certificate(format!("{}: bad RSA public key: {e}", subject(certificate))))
}

fn ec_key(certificate: &Certificate) -> Result<p256::ecdsa::VerifyingKey, SignerError> {
    let bits = certificate.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    p256::ecdsa::VerifyingKey::from_sec1_bytes(bits).map_err(|e| SignerError::Certificate(format!("{}: bad P-256 public key: {e}", subject(certificate))))
}

/// Checks `signature` over `message` with the certificate's public key under the algorithm named by
/// `algorithm` (as found in a certificate or a SignerInfo). Accepts what real issuers and TSAs use:
/// RSASSA-PSS, PKCS #1 v1.5 with SHA-256, and ECDSA P-256 with SHA-256.
pub(crate) fn verify_signature(certificate: &Certificate, algorithm: &AlgorithmIdentifierOwned, message: &[u8], signature: &[u8]) -> Result<(), String> {
    use signature::Verifier;
    let key_error = |e: SignerError| e.to_string();
    match algorithm.oid {
        RSASSA_PSS => {
            let key = rsa::pss::VerifyingKey::<Sha256>::new(rsa_key(certificate).map_err(key_error)?);
            let signature = rsa::pss::Signature::try_from(signature).map_err(|e| e.to_string())?;
            key.verify(message, &signature).map_err(|_| "the RSASSA-PSS signature does not match".to_owned())
        }
        RSA_ENCRYPTION | SHA256_WITH_RSA => {
            let key = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(rsa_key(certificate).map_err(key_error)?);
            let signature = rsa::pkcs1v15::Signature::try_from(signature).map_err(|e| e.to_string())?;
            key.verify(message, &signature).map_err(|_| "the RSA PKCS #1 v1.5 signature does not match".to_owned())
        }
        ECDSA_WITH_SHA256 | EC_PUBLIC_KEY => {
            let key = ec_key(certificate).map_err(key_error)?;
            let signature = p256::ecdsa::DerSignature::try_from(signature).map_err(|e| format!("bad ECDSA signature encoding: {e}"))?;
            key.verify(message, &signature).map_err(|_| "the ECDSA signature does not match".to_owned())
        }
        oid => Err(format!("signature algorithm {oid} is not supported")),
    }
}

/// What a certificate path is for, which decides the extended key usage its end certificate needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    DocumentSigning,
    Timestamping,
}

/// Builds and checks the path from `end` to one of `anchors` through `pool`: each certificate
/// signed by the next, each valid at `at`, each issuer a CA. Returns the subjects from `end` to the
/// anchor, or the first reason the path fails.
pub(crate) fn validate_path(
    end: &Certificate,
    pool: &[Certificate],
    anchors: &[Certificate],
    at: DateTime<Utc>,
    purpose: Purpose,
) -> Result<Vec<String>, String> {
    if purpose == Purpose::Timestamping {
        let eku = end.tbs_certificate.get::<ExtendedKeyUsage>().ok().flatten().map(|(_, e)| e);
        if !eku.is_some_and(|e| e.0.contains(&TIME_STAMPING)) {
            return Err(format!("{} is not a timestamping certificate (no timeStamping key usage)", subject(end)));
        }
    }
    let mut path = vec![subject(end)];
    let mut current = end.clone();
    for _ in 0..8 {
        let (from, until) = validity(&current);
        if at < from || at > until {
            return Err(format!(
                "certificate {} is valid from {} until {}, not at {}",
                subject(&current),
                from.format("%Y-%m-%d"),
                until.format("%Y-%m-%d"),
                at.format("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        if anchors.iter().any(|a| a == &current) {
            return Ok(path);
        }
        let issuer_name = &current.tbs_certificate.issuer;
        let issuer = anchors
            .iter()
            .chain(pool)
            .filter(|c| &c.tbs_certificate.subject == issuer_name && *c != &current)
            .find(|c| {
                let tbs = current.tbs_certificate.to_der().expect("a parsed certificate encodes");
                let signature = current.signature.raw_bytes();
                verify_signature(c, &current.signature_algorithm, &tbs, signature).is_ok()
            })
            .ok_or_else(|| format!("no trusted issuer {issuer_name} signed the certificate of {}", subject(&current)))?;
        let is_ca = issuer.tbs_certificate.get::<BasicConstraints>().ok().flatten().is_some_and(|(_, bc)| bc.ca);
        if !is_ca {
            return Err(format!("{} signed {} but is not a CA", subject(issuer), subject(&current)));
        }
        path.push(subject(issuer));
        current = issuer.clone();
    }
    Err(format!("no path to a trust anchor within 8 certificates from {}", subject(end)))
}

/// Parses a certificate from DER, naming `what` in the error.
pub(crate) fn certificate_from_der(der: &[u8], what: &str) -> Result<Certificate, SignerError> {
    Certificate::from_der(der).map_err(|e| SignerError::Certificate(format!("{what}: not a DER certificate: {e}")))
}
