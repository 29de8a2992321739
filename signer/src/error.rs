//! The signer's one error type.

use std::path::PathBuf;

use domain::DocumentCode;
use thiserror::Error;

use crate::KeyId;

/// Why a key could not be used or a seal did not verify.
#[derive(Debug, Error)]
pub enum SignerError {
    /// A key file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A private key file can be read by others; it is refused rather than used.
    #[error("key file {path} has mode {mode:o}; private keys must be readable by their owner only (chmod 600)")]
    LoosePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file does not hold a key.
    #[error("key file {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A seal names a key the ring does not know.
    #[error("seal signed by unknown key {0}")]
    UnknownKey(KeyId),
    /// A public key read from a bag, a backup or a file is not an Ed25519 key.
    #[error("public seal key: {0}")]
    BadPublicKey(String),
    /// Another appliance's key made a seal it was not pinned for: a foreign key verifies only the
    /// seals of the documents it came with.
    #[error(
        "seal by foreign key {key} ({sender}) is not one it was pinned for with document {document}; another appliance's key verifies only the documents it came with"
    )]
    NotPinnedFor {
        /// The foreign key.
        key: KeyId,
        /// Its sender, as the pin names it.
        sender: String,
        /// The document the seal claims to be about.
        document: DocumentCode,
    },
    /// The signature does not match the manifest.
    #[error("seal signature by key {0} does not match the manifest")]
    BadSignature(KeyId),
    /// A manifest's text is not in the canonical form.
    #[error("manifest is malformed: {0}")]
    BadManifest(String),
    /// A certificate cannot be used: malformed, wrong algorithm, or not the key's.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The PKCS #11 token refused or failed.
    #[error("token: {0}")]
    Token(String),
    /// The timestamp authority failed or answered wrongly.
    #[error("timestamp authority {0}")]
    Timestamp(String),
    /// A CMS structure could not be encoded.
    #[error("CMS encoding: {0}")]
    Cms(String),
    /// The PDF cannot be signed or read.
    #[error("PDF signature: {0}")]
    Pdf(String),
}

/// Why a check of a signature, a CMS object, a timestamp, an OCSP answer or a CRL failed. Each is
/// reported to the user as one named check's detail, which is this error's `Display`.
#[derive(Debug, Error)]
pub(crate) enum CheckFailure {
    /// DER that could not be read or written.
    #[error("{0}")]
    Der(#[from] der::Error),
    /// The bytes are not a CMS ContentInfo.
    #[error("not a CMS ContentInfo: {0}")]
    NotContentInfo(der::Error),
    /// The ContentInfo holds something other than SignedData.
    #[error("CMS content type {0} is not SignedData")]
    NotSignedData(der::asn1::ObjectIdentifier),
    /// The SignedData does not decode.
    #[error("malformed SignedData: {0}")]
    MalformedSignedData(der::Error),
    /// Not exactly one SignerInfo.
    #[error("{0} signer infos; a PDF signature has exactly one")]
    SignerInfos(usize),
    /// The message-digest attribute names other bytes.
    #[error("the signed digest {signed} differs from the digest of the signed bytes {actual}")]
    DigestMismatch {
        /// The digest signed, in hexadecimal.
        signed: String,
        /// The digest of the bytes, in hexadecimal.
        actual: String,
    },
    /// No message-digest attribute.
    #[error("no message-digest attribute")]
    NoMessageDigest,
    /// The SignedData does not carry the signer's certificate.
    #[error("the signer's certificate is not in the signature")]
    NoSignerCertificate,
    /// The SignerInfo has no signed attributes.
    #[error("no signed attributes")]
    NoSignedAttributes,
    /// No signing-certificate-v2 attribute.
    #[error("no signing-certificate-v2 attribute binds the certificate to the signature")]
    NoSigningCertificateAttribute,
    /// The signer's certificate is missing, so the signing-certificate-v2 attribute cannot be checked.
    #[error("the signer's certificate is missing")]
    SignerCertificateMissing,
    /// The signing-certificate-v2 attribute names another certificate.
    #[error("the certificate in the signature ({0}) is not the one that was signed")]
    OtherCertificateSigned(String),
    /// The signing-certificate-v2 attribute does not decode.
    #[error("malformed signing-certificate-v2: {0}")]
    MalformedSigningCertificate(der::Error),
    /// A timestamp token without TSTInfo.
    #[error("the timestamp token holds no TSTInfo")]
    NoTstInfo,
    /// A TSTInfo that does not decode.
    #[error("malformed TSTInfo: {0}")]
    MalformedTstInfo(der::Error),
    /// The timestamp stamps other bytes than the signature.
    #[error("the timestamp is over other data than this signature")]
    TimestampOverOtherData,
    /// The timestamp token's own signature failed a check.
    #[error("timestamp token: {0}")]
    InTimestampToken(Box<CheckFailure>),
    /// The timestamp token does not carry the TSA's certificate.
    #[error("the timestamp token does not carry the TSA's certificate")]
    NoTsaCertificate,
    /// The certificate's key cannot be used.
    #[error("{0}")]
    Key(Box<SignerError>),
    /// A signature value that is not one of its algorithm.
    #[error("{0}")]
    SignatureEncoding(signature::Error),
    /// An ECDSA signature that is not DER.
    #[error("bad ECDSA signature encoding: {0}")]
    EcdsaEncoding(signature::Error),
    /// The signature does not verify; the algorithm's name.
    #[error("the {0} signature does not match")]
    Mismatch(&'static str),
    /// A signature algorithm outside the legal set.
    #[error("signature algorithm {0} is not supported")]
    UnsupportedAlgorithm(der::asn1::ObjectIdentifier),
    /// An HTTP request (OCSP, CRL) failed.
    #[error("request failed: {0}")]
    Request(ureq::Error),
    /// An HTTP server answered with an error status.
    #[error("answered HTTP {0}")]
    HttpStatus(ureq::http::StatusCode),
    /// An OCSP answer could not be read.
    #[error("reading the answer: {0}")]
    ReadingAnswer(ureq::Error),
    /// A CRL could not be read from its server.
    #[error("reading the CRL: {0}")]
    ReadingCrl(ureq::Error),
    /// Not an OCSP response.
    #[error("not an OCSP response: {0}")]
    NotOcspResponse(der::Error),
    /// The responder did not answer successfully.
    #[error("answered {0:?}")]
    OcspStatus(x509_ocsp::OcspResponseStatus),
    /// A successful answer without response bytes.
    #[error("a successful answer without a response")]
    NoOcspResponse,
    /// A response type other than the basic one.
    #[error("answered with response type {0}, not a basic OCSP response")]
    NotBasicResponse(der::asn1::ObjectIdentifier),
    /// A basic OCSP response that does not decode.
    #[error("malformed basic OCSP response: {0}")]
    MalformedBasicResponse(der::Error),
    /// The answer is about other certificates.
    #[error("the answer is about other certificates")]
    AboutOtherCertificates,
    /// The answer is outside its validity.
    #[error("the answer is not current (this update {this_update}, next update {next_update:?})")]
    NotCurrent {
        /// When the answer was made.
        this_update: chrono::DateTime<chrono::Utc>,
        /// Until when it holds.
        next_update: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// No certificate the answer could be signed by is named in it.
    #[error("the answer is signed neither by the issuer nor by a responder it certified")]
    UnknownResponder,
    /// The responder's signature over the answer does not hold.
    #[error("the answer's signature by {responder} does not hold: {source}")]
    ResponderSignature {
        /// The responder's subject.
        responder: String,
        /// Why.
        source: Box<CheckFailure>,
    },
    /// A configured CRL file could not be read.
    #[error("CRL file {}: {source}", path.display())]
    CrlFileRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A configured CRL file holds no usable CRL.
    #[error("CRL file {}: {source}", path.display())]
    CrlFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<CheckFailure>,
    },
    /// A CRL that webpki cannot use.
    #[error("not a usable CRL: {0}")]
    UnusableCrl(webpki::Error),
    /// A PEM file with another label.
    #[error("holds a PEM {0}, not an X509 CRL")]
    PemLabel(String),
    /// Not PEM.
    #[error("not PEM: {0}")]
    NotPem(der::pem::Error),
    /// A certificate path (the TSA's) does not hold.
    #[error("{0}")]
    Path(crate::x509::PathFailure),
}
