//! CMS SignedData (RFC 5652) as PAdES wants it (ETSI EN 319 142-1): detached content, signed
//! attributes content-type, message-digest and signing-certificate-v2, no signing-time (the PDF's
//! `/M` says when), and an RFC 3161 timestamp token as the unsigned attribute that makes B-T.

use chrono::{DateTime, Utc};
use cms::cert::x509::attr::{Attribute, AttributeValue};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use domain::hex;

use crate::error::CheckFailure;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use crate::x509::{SHA256, certificate_hash, subject, verify_signature};
use crate::{PdfSigner, SignerError, TimestampAuthority};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub(crate) const TIMESTAMP_TOKEN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }` (RFC 5035).
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// `ESSCertIDv2`; the hash algorithm is left at its default, SHA-256.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

fn attribute(oid: ObjectIdentifier, value: impl Encode) -> Attribute {
    let value = Any::from_der(&value.to_der().expect("attribute values encode")).expect("an encoding decodes");
    Attribute { oid, values: SetOfVec::try_from(vec![value]).expect("one value is a set") }
}

fn sha256_identifier() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: SHA256, parameters: None }
}

fn cms_error(e: der::Error) -> SignerError {
    SignerError::Cms(e.to_string())
}

/// Signs `digest` (SHA-256 of the PDF's byte ranges) and returns the DER of a CMS ContentInfo
/// holding the SignedData, with a timestamp on the signature when `tsa` is given.
pub(crate) fn sign_digest(
    digest: &[u8; 32],
    signer: &dyn PdfSigner,
    tsa: Option<&TimestampAuthority>,
) -> Result<Vec<u8>, SignerError> {
    let certificate = signer.certificate();
    let essential = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(certificate_hash(certificate).to_vec()).map_err(cms_error)?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(certificate.tbs_certificate.issuer.clone())],
                serial_number: certificate.tbs_certificate.serial_number.clone(),
            },
        }],
    };
    let signed_attributes = SetOfVec::try_from(vec![
        attribute(CONTENT_TYPE, ID_DATA),
        attribute(MESSAGE_DIGEST, OctetString::new(digest.to_vec()).map_err(cms_error)?),
        attribute(SIGNING_CERTIFICATE_V2, essential),
    ])
    .map_err(cms_error)?;
    let signature = signer.sign(&signed_attributes.to_der().map_err(cms_error)?)?;
    let unsigned_attrs = match tsa {
        Some(tsa) => {
            let token = tsa.timestamp(&Sha256::digest(&signature).into())?;
            let token = Any::from_der(&token).map_err(cms_error)?;
            Some(SetOfVec::try_from(vec![attribute(TIMESTAMP_TOKEN, token)]).map_err(cms_error)?)
        }
        None => None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: certificate.tbs_certificate.issuer.clone(),
            serial_number: certificate.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_identifier(),
        signed_attrs: Some(signed_attributes),
        signature_algorithm: signer.algorithm().identifier(),
        signature: OctetString::new(signature).map_err(cms_error)?,
        unsigned_attrs,
    };
    let certificates = signer.chain().iter().cloned().map(CertificateChoices::Certificate).collect::<Vec<_>>();
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_identifier()]).map_err(cms_error)?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(CertificateSet(SetOfVec::try_from(certificates).map_err(cms_error)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(cms_error)?),
    };
    let content =
        ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed_data).map_err(cms_error)? };
    content.to_der().map_err(cms_error)
}

/// What checking one SignerInfo found: each named outcome, the signer's certificate and the
/// certificates the SignedData carried.
pub(crate) struct SignerCheck {
    pub certificate: Option<Certificate>,
    pub pool: Vec<Certificate>,
    pub signature_value: Vec<u8>,
    pub algorithm: AlgorithmIdentifierOwned,
    pub digest: Result<(), CheckFailure>,
    pub signature: Result<(), CheckFailure>,
    pub signing_certificate: Result<(), CheckFailure>,
    pub signing_time_attribute: bool,
    pub timestamp_token: Option<Vec<u8>>,
}

/// Parses a ContentInfo with SignedData, tolerating trailing bytes after it (PDF `/Contents` is
/// padded), and returns it with the number of bytes it took.
pub(crate) fn parse_signed_data(bytes: &[u8]) -> Result<(SignedData, usize), CheckFailure> {
    let mut reader = der::SliceReader::new(bytes)?;
    let info: ContentInfo = der::Decode::decode(&mut reader).map_err(CheckFailure::NotContentInfo)?;
    let used = u32::from(der::Reader::position(&reader)) as usize;
    if info.content_type != ID_SIGNED_DATA {
        return Err(CheckFailure::NotSignedData(info.content_type));
    }
    let signed = info.content.decode_as::<SignedData>().map_err(CheckFailure::MalformedSignedData)?;
    Ok((signed, used))
}

fn attribute_value(attributes: &[Attribute], oid: ObjectIdentifier) -> Option<&AttributeValue> {
    attributes.iter().find(|a| a.oid == oid).and_then(|a| a.values.iter().next())
}

/// Checks the single SignerInfo of `signed` against the SHA-256 `digest` of the signed content:
/// the message-digest attribute, the signature over the signed attributes, and, when present, that
/// the signing-certificate-v2 attribute names the certificate used.
pub(crate) fn check_signer(signed: &SignedData, digest: &[u8]) -> Result<SignerCheck, CheckFailure> {
    let pool: Vec<Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let mut infos = signed.signer_infos.0.iter();
    let info = match (infos.next(), infos.next()) {
        (Some(info), None) => info,
        _ => return Err(CheckFailure::SignerInfos(signed.signer_infos.0.len())),
    };
    let certificate = pool
        .iter()
        .find(|c| match &info.sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => {
                c.tbs_certificate.issuer == id.issuer && c.tbs_certificate.serial_number == id.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => c
                .tbs_certificate
                .get::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
                .ok()
                .flatten()
                .is_some_and(|(_, own)| &own == ski),
        })
        .cloned();
    let attributes: Vec<Attribute> = info.signed_attrs.iter().flat_map(|a| a.iter().cloned()).collect();
    let digest_check = match attribute_value(&attributes, MESSAGE_DIGEST).map(|v| v.decode_as::<OctetString>()) {
        Some(Ok(found)) if found.as_bytes() == digest => Ok(()),
        Some(Ok(found)) => Err(CheckFailure::DigestMismatch { signed: hex(found.as_bytes()), actual: hex(digest) }),
        _ => Err(CheckFailure::NoMessageDigest),
    };
    let signature = info.signature.as_bytes().to_vec();
    let signature_check = match (&certificate, &info.signed_attrs) {
        (None, _) => Err(CheckFailure::NoSignerCertificate),
        (_, None) => Err(CheckFailure::NoSignedAttributes),
        (Some(c), Some(attrs)) => verify_signature(c, &info.signature_algorithm, &attrs.to_der()?, &signature),
    };
    let signing_certificate = match (attribute_value(&attributes, SIGNING_CERTIFICATE_V2), &certificate) {
        (None, _) => Err(CheckFailure::NoSigningCertificateAttribute),
        (Some(_), None) => Err(CheckFailure::SignerCertificateMissing),
        (Some(value), Some(c)) => match value.decode_as::<SigningCertificateV2>() {
            Ok(v) if v.certs.first().is_some_and(|id| id.cert_hash.as_bytes() == certificate_hash(c)) => Ok(()),
            Ok(_) => Err(CheckFailure::OtherCertificateSigned(subject(c))),
            Err(e) => Err(CheckFailure::MalformedSigningCertificate(e)),
        },
    };
    let timestamp_token = info
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter())
        .find(|a| a.oid == TIMESTAMP_TOKEN)
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.to_der().ok());
    Ok(SignerCheck {
        certificate,
        pool,
        signature_value: signature,
        algorithm: info.signature_algorithm.clone(),
        digest: digest_check,
        signature: signature_check,
        signing_certificate,
        signing_time_attribute: attribute_value(&attributes, SIGNING_TIME).is_some(),
        timestamp_token,
    })
}

/// The content a SignedData encapsulates (a timestamp token's TSTInfo).
pub(crate) fn encapsulated_content(signed: &SignedData) -> Option<Vec<u8>> {
    signed
        .encap_content_info
        .econtent
        .as_ref()
        .and_then(|any| any.decode_as::<OctetString>().ok())
        .map(|o| o.as_bytes().to_vec())
}

/// A verified timestamp: when, and by whom.
pub(crate) struct Timestamp {
    pub time: DateTime<Utc>,
    pub authority: Certificate,
    pub pool: Vec<Certificate>,
}

/// Checks an RFC 3161 token over `signature`: that it stamps SHA-256 of exactly these bytes and that
/// the TSA's own signature holds. The TSA's certificate path is checked by the caller.
pub(crate) fn check_timestamp(token: &[u8], signature: &[u8]) -> Result<Timestamp, CheckFailure> {
    let (signed, _) = parse_signed_data(token)?;
    let content = encapsulated_content(&signed).ok_or(CheckFailure::NoTstInfo)?;
    let info = x509_tsp::TstInfo::from_der(&content).map_err(CheckFailure::MalformedTstInfo)?;
    let imprint = Sha256::digest(signature);
    if info.message_imprint.hash_algorithm.oid != SHA256
        || info.message_imprint.hashed_message.as_bytes() != imprint.as_slice()
    {
        return Err(CheckFailure::TimestampOverOtherData);
    }
    let check = check_signer(&signed, &Sha256::digest(&content))?;
    check.digest.map_err(|e| CheckFailure::InTimestampToken(Box::new(e)))?;
    check.signature.map_err(|e| CheckFailure::InTimestampToken(Box::new(e)))?;
    let authority = check.certificate.ok_or(CheckFailure::NoTsaCertificate)?;
    let time = DateTime::<Utc>::from(info.gen_time.to_system_time());
    Ok(Timestamp { time, authority, pool: check.pool })
}
