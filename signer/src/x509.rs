//! X.509 certificates: reading them, checking a signature with a certificate's key, and validating
//! the path from a certificate to a trust anchor (rustls-webpki, with the key usage checks it leaves
//! out and a named check for each refusal).

use std::path::Path;

use chrono::{DateTime, Utc};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

use crate::SignerError;
use crate::error::CheckFailure;
use crate::ocsp;
use crate::revocation::{Revocation, revoked_entry};

pub(crate) const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub(crate) const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
pub(crate) const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(crate) const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

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
                    return Err(SignerError::Certificate(format!(
                        "{}: an RSA key of {bits} bits; at least 2048 are required",
                        subject(certificate)
                    )));
                }
                Ok(SignatureAlgorithm::RsaPssSha256)
            }
            EC_PUBLIC_KEY
                if spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    == Some(P256) =>
            {
                Ok(SignatureAlgorithm::EcdsaP256Sha256)
            }
            oid => Err(SignerError::Certificate(format!(
                "{}: key algorithm {oid} is not RSA or ECDSA P-256",
                subject(certificate)
            ))),
        }
    }

    /// The identifier that names this algorithm in a CMS SignerInfo.
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        match self {
            SignatureAlgorithm::RsaPssSha256 => {
                rsa::pss::get_default_pss_signature_algo_id::<Sha256>().expect("PSS parameters encode")
            }
            SignatureAlgorithm::EcdsaP256Sha256 => {
                AlgorithmIdentifierOwned { oid: ECDSA_WITH_SHA256, parameters: None }
            }
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
    rsa::RsaPublicKey::from_pkcs1_der(bits)
        .map_err(|e| SignerError::Certificate(format!("{}: bad RSA public key: {e}", subject(certificate))))
}

fn ec_key(certificate: &Certificate) -> Result<p256::ecdsa::VerifyingKey, SignerError> {
    let bits = certificate.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
        .map_err(|e| SignerError::Certificate(format!("{}: bad P-256 public key: {e}", subject(certificate))))
}

/// Checks `signature` over `message` with the certificate's public key under the algorithm named by
/// `algorithm` (as found in a certificate or a SignerInfo). Accepts what real issuers and TSAs use:
/// RSASSA-PSS, PKCS #1 v1.5 with SHA-256, and ECDSA P-256 with SHA-256.
pub(crate) fn verify_signature(
    certificate: &Certificate,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CheckFailure> {
    use signature::Verifier;
    let key_error = |e: SignerError| CheckFailure::Key(Box::new(e));
    match algorithm.oid {
        RSASSA_PSS => {
            let key = rsa::pss::VerifyingKey::<Sha256>::new(rsa_key(certificate).map_err(key_error)?);
            let signature = rsa::pss::Signature::try_from(signature).map_err(CheckFailure::SignatureEncoding)?;
            key.verify(message, &signature).map_err(|_| CheckFailure::Mismatch("RSASSA-PSS"))
        }
        RSA_ENCRYPTION | SHA256_WITH_RSA => {
            let key = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(rsa_key(certificate).map_err(key_error)?);
            let signature = rsa::pkcs1v15::Signature::try_from(signature).map_err(CheckFailure::SignatureEncoding)?;
            key.verify(message, &signature).map_err(|_| CheckFailure::Mismatch("RSA PKCS #1 v1.5"))
        }
        ECDSA_WITH_SHA256 | EC_PUBLIC_KEY => {
            let key = ec_key(certificate).map_err(key_error)?;
            let signature = p256::ecdsa::DerSignature::try_from(signature).map_err(CheckFailure::EcdsaEncoding)?;
            key.verify(message, &signature).map_err(|_| CheckFailure::Mismatch("ECDSA"))
        }
        oid => Err(CheckFailure::UnsupportedAlgorithm(oid)),
    }
}

/// What a certificate path is for, which decides the extended key usage its end certificate needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    DocumentSigning,
    Timestamping,
}

/// Extended key usages (RFC 5280 4.2.1.12) under which a certificate may sign documents, when it
/// names any: document signing (RFC 9336), e-mail protection (S/MIME, used by CAs for natural
/// persons), Adobe's and Microsoft's document-signing purposes, and any purpose.
const DOCUMENT_SIGNING_USAGES: [&[usize]; 5] = [
    &[1, 3, 6, 1, 5, 5, 7, 3, 36],
    &[1, 3, 6, 1, 5, 5, 7, 3, 4],
    &[1, 2, 840, 113583, 1, 1, 5],
    &[1, 3, 6, 1, 4, 1, 311, 10, 3, 12],
    &[2, 5, 29, 37, 0],
];
/// id-kp-documentSigning (1.3.6.1.5.5.7.3.36), the contents of its DER encoding.
const DOCUMENT_SIGNING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x24];
/// id-kp-timeStamping (1.3.6.1.5.5.7.3.8), the contents of its DER encoding.
const TIME_STAMPING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

/// The extended key usage that `purpose` asks of the end certificate, in webpki's terms.
struct PurposeUsage(Purpose);

impl webpki::ExtendedKeyUsageValidator for PurposeUsage {
    fn validate(&self, purposes: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        match self.0 {
            Purpose::Timestamping => webpki::KeyUsage::required(TIME_STAMPING_DER).validate(purposes),
            Purpose::DocumentSigning => {
                let mut present = Vec::new();
                for purpose in purposes {
                    let oid = purpose?.to_decoded_oid();
                    if DOCUMENT_SIGNING_USAGES.contains(&oid.as_slice()) {
                        return Ok(());
                    }
                    present.push(oid);
                }
                // A certificate without the extension may be used for any purpose.
                if present.is_empty() {
                    return Ok(());
                }
                let required = webpki::KeyUsage::required_if_present(DOCUMENT_SIGNING_DER);
                Err(webpki::Error::RequiredEkuNotFoundContext(webpki::RequiredEkuNotFoundContext { required, present }))
            }
        }
    }
}

/// The signature algorithms accepted on certificates and CRLs of a path: those real CAs use.
static PATH_ALGORITHMS: &[&dyn pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// Extensions webpki understands; any other marked critical makes it refuse the certificate.
const UNDERSTOOD_EXTENSIONS: [ObjectIdentifier; 6] = [
    ObjectIdentifier::new_unwrap("2.5.29.15"),
    ObjectIdentifier::new_unwrap("2.5.29.17"),
    ObjectIdentifier::new_unwrap("2.5.29.19"),
    ObjectIdentifier::new_unwrap("2.5.29.30"),
    ObjectIdentifier::new_unwrap("2.5.29.31"),
    ObjectIdentifier::new_unwrap("2.5.29.37"),
];

/// A path that holds: the subjects from the end certificate to the anchor, and what the
/// revocation check found.
#[derive(Debug)]
pub(crate) struct ValidPath {
    pub subjects: Vec<String>,
    pub revocation: String,
}

/// Why a path does not hold: the name of the check that refused it (`certificate chain`, `key
/// usage`, `path length`, `critical extension`, `revocation`) and what was found.
#[derive(Debug)]
pub(crate) struct PathFailure {
    pub check: &'static str,
    pub detail: String,
}

impl std::fmt::Display for PathFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.check, self.detail)
    }
}

fn refuse(check: &'static str, detail: String) -> PathFailure {
    PathFailure { check, detail }
}

/// Builds and checks the path from `end` to one of `anchors` through `pool` with rustls-webpki
/// (RFC 5280 path building: signatures, validity at `at`, CA flags, path length constraints, name
/// constraints, unknown critical extensions, the extended key usage of `purpose`, and revocation
/// against the CRLs `revocation` gathers), then checks the key usage bits that webpki leaves
/// alone: the end certificate must allow digitalSignature or nonRepudiation, and every CA must
/// allow keyCertSign.
pub(crate) fn validate_path(
    end: &Certificate,
    pool: &[Certificate],
    anchors: &[Certificate],
    at: DateTime<Utc>,
    purpose: Purpose,
    revocation: &Revocation,
) -> Result<ValidPath, PathFailure> {
    let encode = |c: &Certificate| c.to_der().expect("a parsed certificate encodes");
    let end_der = pki_types::CertificateDer::from(encode(end));
    let pool_der: Vec<pki_types::CertificateDer<'static>> = pool.iter().map(|c| encode(c).into()).collect();
    let anchors_der: Vec<pki_types::CertificateDer<'static>> = anchors.iter().map(|c| encode(c).into()).collect();
    // An anchor webpki cannot read is left out, and its certificate with it, so that both lists
    // keep the same order.
    let (anchor_certificates, trust): (Vec<&Certificate>, Vec<pki_types::TrustAnchor<'_>>) = anchors
        .iter()
        .zip(&anchors_der)
        .filter_map(|(c, d)| Some((c, webpki::anchor_from_trusted_cert(d).ok()?)))
        .unzip();
    let every = || std::iter::once(end).chain(pool).chain(anchors);
    let refused = |e: webpki::Error| explain(&e, end, &every().collect::<Vec<_>>(), at);
    let end_entity = webpki::EndEntityCert::try_from(&end_der).map_err(refused)?;
    let time = pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(at.timestamp()).unwrap_or(0),
    ));
    let usage = PurposeUsage(purpose);
    let verified =
        end_entity.verify_for_usage(PATH_ALGORITHMS, &trust, &pool_der, time, &usage, None, None).map_err(refused)?;
    // The certificates of the path, end first, as this crate reads them.
    let mut path = vec![end];
    for intermediate in verified.intermediate_certificates() {
        path.extend(
            pool.iter().zip(&pool_der).find(|(_, d)| d.as_ref() == intermediate.der().as_ref()).map(|(c, _)| c),
        );
    }
    path.extend(trust.iter().position(|t| std::ptr::eq(t, verified.anchor())).map(|i| anchor_certificates[i]));
    check_key_usage(&path)?;
    let revocation = if revocation.is_configured() {
        check_revocation(&end_entity, &trust, &pool_der, time, &usage, &path, revocation, &refused)?
    } else {
        "not checked: no CRL file, distribution-point fetching or OCSP is configured".to_owned()
    };
    Ok(ValidPath { subjects: path.iter().map(|c| subject(c)).collect(), revocation })
}

/// Checks every certificate of a verified `path` (end first, anchor last) for revocation: first
/// with the OCSP responders the certificates name, when OCSP is configured, then against the CRLs
/// `revocation` gathers, through webpki. A status nobody gives is refused; what vouched for the path
/// is returned for the report. Only the addresses named by a path that already chains to an anchor
/// are reached: until then, the certificates of a signed file are the sender's choice.
#[allow(clippy::too_many_arguments)]
fn check_revocation(
    end_entity: &webpki::EndEntityCert<'_>,
    trust: &[pki_types::TrustAnchor<'_>],
    pool: &[pki_types::CertificateDer<'_>],
    time: pki_types::UnixTime,
    usage: &PurposeUsage,
    path: &[&Certificate],
    revocation: &Revocation,
    refused: &dyn Fn(webpki::Error) -> PathFailure,
) -> Result<String, PathFailure> {
    let end = path[0];
    let mut vouched = Vec::new();
    let mut unknown = Vec::new();
    if let Some(timeout) = revocation.ocsp_timeout() {
        for pair in path.windows(2) {
            match ocsp::status(pair[0], pair[1], timeout) {
                ocsp::Status::Good(url) => vouched.push(url),
                ocsp::Status::Revoked(detail) => return Err(refuse("revocation", detail)),
                ocsp::Status::Unknown(why) => unknown.push(why),
            }
        }
    }
    let all_vouched = revocation.ocsp_timeout().is_some() && unknown.is_empty();
    let by_ocsp = || format!("OCSP says no certificate of the path is revoked ({})", vouched.join(", "));
    if all_vouched && !revocation.has_crls() {
        return Ok(by_ocsp());
    }
    let gathered = revocation.gather(path).map_err(|e| refuse("revocation", e.to_string()))?;
    unknown.extend(gathered.failures.iter().cloned());
    let lists: Vec<&webpki::CertRevocationList<'_>> = gathered.lists.iter().collect();
    let Ok(builder) = webpki::RevocationOptionsBuilder::new(&lists) else {
        return if all_vouched {
            Ok(by_ocsp())
        } else {
            Err(refuse(
                "revocation",
                format!("no CRL could be had for the path of {}: {}", subject(end), unknown.join("; ")),
            ))
        };
    };
    // With every certificate vouched for by OCSP, the CRLs can only add revocations.
    let policy = if all_vouched { webpki::UnknownStatusPolicy::Allow } else { webpki::UnknownStatusPolicy::Deny };
    let options = builder
        .with_depth(webpki::RevocationCheckDepth::Chain)
        .with_status_policy(policy)
        .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
        .build();
    end_entity.verify_for_usage(PATH_ALGORITHMS, trust, pool, time, usage, Some(options), None).map_err(
        |e| match e {
            webpki::Error::CertRevoked => {
                let revoked = path.iter().find_map(|c| revoked_entry(c, &gathered.lists));
                refuse(
                    "revocation",
                    revoked.unwrap_or_else(|| format!("a certificate in the path of {} is revoked", subject(end))),
                )
            }
            webpki::Error::UnknownRevocationStatus => refuse(
                "revocation",
                format!(
                    "no CRL of the issuer of every certificate in the path of {} is available (have: {}); {}",
                    subject(end),
                    gathered.sources.join(", "),
                    unknown.join("; ")
                ),
            ),
            e => refused(e),
        },
    )?;
    let mut sources = gathered.sources;
    sources.extend(vouched);
    Ok(format!("no certificate of the path is revoked (checked with {})", sources.join(", ")))
}

/// The key usage extension of `certificate`, when it has one.
fn key_usage(certificate: &Certificate) -> Option<KeyUsage> {
    certificate.tbs_certificate.get::<KeyUsage>().ok().flatten().map(|(_, usage)| usage)
}

/// The key usage bits of a verified path (RFC 5280 4.2.1.3 and 6.1.4 (n)): the end certificate
/// must state digitalSignature or nonRepudiation, and a CA that states its usages must state
/// keyCertSign.
fn check_key_usage(path: &[&Certificate]) -> Result<(), PathFailure> {
    let end = path[0];
    let signs = key_usage(end).is_some_and(|u| u.digital_signature() || u.non_repudiation());
    if !signs {
        let stated = key_usage(end).map_or("no key usage extension".to_owned(), |u| {
            format!("key usage {}", u.0.into_iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", "))
        });
        return Err(refuse(
            "key usage",
            format!("{} may not sign: it has {stated}, not digitalSignature or nonRepudiation", subject(end)),
        ));
    }
    for ca in &path[1..] {
        if key_usage(ca).is_some_and(|u| !u.key_cert_sign()) {
            return Err(refuse(
                "key usage",
                format!("{} is not allowed to sign certificates: its key usage lacks keyCertSign", subject(ca)),
            ));
        }
    }
    Ok(())
}

/// A webpki refusal as a named check, with the certificate it concerns where the error does not
/// say (webpki reports what failed, not where): `certificates` are every certificate it was given.
fn explain(error: &webpki::Error, end: &Certificate, certificates: &[&Certificate], at: DateTime<Utc>) -> PathFailure {
    use webpki::Error as E;
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let out_of_date = || {
        certificates.iter().find(|c| {
            let (from, until) = validity(c);
            at < from || at > until
        })
    };
    match error {
        E::CertExpired { .. } | E::CertNotValidYet { .. } => {
            let certificate = out_of_date().copied().unwrap_or(end);
            let (from, until) = validity(certificate);
            refuse(
                "certificate chain",
                format!(
                    "certificate {} is valid from {} until {}, not at {}",
                    subject(certificate),
                    day(from),
                    day(until),
                    at.format("%Y-%m-%dT%H:%M:%SZ")
                ),
            )
        }
        E::UnknownIssuer | E::InvalidSignatureForPublicKey | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            refuse(
                "certificate chain",
                format!(
                    "no trusted issuer {} signed the certificate of {} (no path to a trust anchor)",
                    end.tbs_certificate.issuer,
                    subject(end)
                ),
            )
        }
        E::PathLenConstraintViolated => {
            let limits: Vec<String> = certificates
                .iter()
                .filter_map(|c| {
                    let (_, constraints) = c.tbs_certificate.get::<BasicConstraints>().ok().flatten()?;
                    constraints
                        .path_len_constraint
                        .map(|n| format!("{} allows {n} CA certificate(s) below it", subject(c)))
                })
                .collect();
            refuse(
                "path length",
                format!(
                    "the path of {} has more CA certificates than a basic constraint allows: {}",
                    subject(end),
                    limits.join("; ")
                ),
            )
        }
        E::UnsupportedCriticalExtension => {
            let unknown: Vec<String> = certificates
                .iter()
                .flat_map(|c| {
                    let extensions = c.tbs_certificate.extensions.as_deref().unwrap_or_default();
                    extensions
                        .iter()
                        .filter(|e| e.critical && !UNDERSTOOD_EXTENSIONS.contains(&e.extn_id))
                        .map(|e| format!("{} marks extension {} critical", subject(c), e.extn_id))
                        .collect::<Vec<_>>()
                })
                .collect();
            refuse(
                "critical extension",
                format!(
                    "a certificate carries a critical extension that is not understood, so it must be refused: {}",
                    unknown.join("; ")
                ),
            )
        }
        E::CaUsedAsEndEntity => refuse("key usage", format!("{} is a CA certificate, not a signer's", subject(end))),
        E::EndEntityUsedAsCa => refuse(
            "certificate chain",
            format!("a certificate that is not a CA signed another in the path of {}", subject(end)),
        ),
        E::RequiredEkuNotFoundContext(_) => {
            let eku = end
                .tbs_certificate
                .get::<ExtendedKeyUsage>()
                .ok()
                .flatten()
                .map(|(_, e)| e.0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));
            refuse(
                "key usage",
                format!(
                    "the extended key usage of {} ({}) does not allow this purpose",
                    subject(end),
                    eku.unwrap_or_default()
                ),
            )
        }
        E::CrlExpired { next_update, .. } => {
            let until = DateTime::<Utc>::from_timestamp(next_update.as_secs() as i64, 0).map(day).unwrap_or_default();
            refuse(
                "revocation",
                format!(
                    "a CRL for the path of {} is out of date (next update was due {until}); fetch a current one",
                    subject(end)
                ),
            )
        }
        E::InvalidCrlSignatureForPublicKey | E::IssuerNotCrlSigner | E::UnsupportedCrlSignatureAlgorithmContext(_) => {
            refuse(
                "revocation",
                format!("a CRL for the path of {} is not validly signed by its issuer: {error}", subject(end)),
            )
        }
        e => refuse("certificate chain", format!("the certificate path of {} is refused: {e}", subject(end))),
    }
}

/// Parses a certificate from DER, naming `what` in the error.
pub(crate) fn certificate_from_der(der: &[u8], what: &str) -> Result<Certificate, SignerError> {
    Certificate::from_der(der).map_err(|e| SignerError::Certificate(format!("{what}: not a DER certificate: {e}")))
}
