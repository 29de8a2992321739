//! OCSP (RFC 6960): asking the responder that a certificate names (its authority information
//! access) whether the certificate is revoked, and believing the answer only when it is signed by
//! the certificate's issuer or by a responder the issuer certified for OCSP signing, is about this
//! certificate, and is current.

use std::time::Duration;

use chrono::{DateTime, Utc};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use sha1::{Digest, Sha1};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, ExtendedKeyUsage};
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request, ResponderId,
    TbsRequest,
};

use crate::error::CheckFailure;
use crate::x509::{subject, validity, verify_signature};

const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
const ID_PKIX_OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const ID_KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
/// Largest OCSP answer read; a real one is a few kilobytes.
const MAX_ANSWER_BYTES: u64 = 1 << 20;
/// Clock difference tolerated between the appliance and a responder.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// What a responder said about one certificate.
pub(crate) enum Status {
    /// Not revoked, says the responder at this address.
    Good(String),
    /// Revoked: the detail for the report.
    Revoked(String),
    /// No usable answer: why, for the report.
    Unknown(String),
}

/// Asks the first `http://` OCSP responder `certificate` names about it; `issuer` is the certificate
/// that signed it.
pub(crate) fn status(certificate: &Certificate, issuer: &Certificate, timeout: Duration) -> Status {
    let Some(url) = responder(certificate) else {
        return Status::Unknown(format!("{} names no OCSP responder", subject(certificate)));
    };
    match ask(&url, certificate, issuer, timeout) {
        Ok(CertStatus::Good(_)) => Status::Good(url),
        Ok(CertStatus::Revoked(info)) => {
            let when = DateTime::<Utc>::from(info.revocation_time.0.to_system_time()).format("%Y-%m-%d");
            let reason = info.revocation_reason.map(|r| format!(" ({r:?})")).unwrap_or_default();
            Status::Revoked(format!(
                "{} was revoked by its issuer on {when}{reason}, says OCSP responder {url}",
                subject(certificate)
            ))
        }
        Ok(CertStatus::Unknown(_)) => {
            Status::Unknown(format!("OCSP responder {url} does not know {}", subject(certificate)))
        }
        Err(e) => Status::Unknown(format!("OCSP responder {url}: {e}")),
    }
}

/// The first `http://` OCSP address in the certificate's authority information access.
fn responder(certificate: &Certificate) -> Option<String> {
    let (_, access) = certificate.tbs_certificate.get::<AuthorityInfoAccessSyntax>().ok().flatten()?;
    access.0.iter().filter(|a| a.access_method == ID_AD_OCSP).find_map(|a| match &a.access_location {
        GeneralName::UniformResourceIdentifier(uri) if uri.as_str().starts_with("http://") => {
            Some(uri.as_str().to_owned())
        }
        _ => None,
    })
}

/// Sends one request and returns the checked status of `certificate` in the answer.
fn ask(
    url: &str,
    certificate: &Certificate,
    issuer: &Certificate,
    timeout: Duration,
) -> Result<CertStatus, CheckFailure> {
    let id = cert_id(certificate, issuer)?;
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: x509_ocsp::Version::V1,
            requestor_name: None,
            request_list: vec![Request { req_cert: id.clone(), single_request_extensions: None }],
            request_extensions: None,
        },
        optional_signature: None,
    }
    .to_der()?;
    let agent =
        ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().new_agent();
    let mut response = agent
        .post(url)
        .header("Content-Type", "application/ocsp-request")
        .send(&request[..])
        .map_err(CheckFailure::Request)?;
    if !response.status().is_success() {
        return Err(CheckFailure::HttpStatus(response.status()));
    }
    let body =
        response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_vec().map_err(CheckFailure::ReadingAnswer)?;
    let answer = OcspResponse::from_der(&body).map_err(CheckFailure::NotOcspResponse)?;
    if answer.response_status != OcspResponseStatus::Successful {
        return Err(CheckFailure::OcspStatus(answer.response_status));
    }
    let bytes = answer.response_bytes.ok_or(CheckFailure::NoOcspResponse)?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(CheckFailure::NotBasicResponse(bytes.response_type));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(CheckFailure::MalformedBasicResponse)?;
    check_signer(&basic, issuer)?;
    let now = Utc::now();
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| r.cert_id == id)
        .ok_or(CheckFailure::AboutOtherCertificates)?;
    let this_update = DateTime::<Utc>::from(single.this_update.0.to_system_time());
    let next_update = single.next_update.map(|t| DateTime::<Utc>::from(t.0.to_system_time()));
    if this_update > now + CLOCK_SKEW || next_update.is_some_and(|next| next < now - CLOCK_SKEW) {
        return Err(CheckFailure::NotCurrent { this_update, next_update });
    }
    Ok(single.cert_status)
}

/// The CertID of `certificate` (RFC 6960 4.1.1): SHA-1 of its issuer's name and key, and its serial
/// number. SHA-1 is what every responder understands (RFC 5019); here it only names the issuer.
fn cert_id(certificate: &Certificate, issuer: &Certificate) -> Result<CertId, der::Error> {
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    Ok(CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned { oid: ID_SHA1, parameters: Some(der::asn1::Null.into()) },
        issuer_name_hash: OctetString::new(Sha1::digest(issuer.tbs_certificate.subject.to_der()?).to_vec())?,
        issuer_key_hash: OctetString::new(Sha1::digest(key).to_vec())?,
        serial_number: certificate.tbs_certificate.serial_number.clone(),
    })
}

/// Checks that the answer is signed by `issuer`, or by a responder certificate in the answer that
/// `issuer` signed for OCSP signing (RFC 6960 4.2.2.2) and that is valid now.
fn check_signer(basic: &BasicOcspResponse, issuer: &Certificate) -> Result<(), CheckFailure> {
    let names = |candidate: &Certificate| match &basic.tbs_response_data.responder_id {
        ResponderId::ByName(name) => name == &candidate.tbs_certificate.subject,
        ResponderId::ByKey(hash) => {
            let key = candidate.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
            OctetString::new(Sha1::digest(key).to_vec()).is_ok_and(|h| &h == hash)
        }
    };
    let delegated = |candidate: &&Certificate| {
        let for_ocsp = candidate
            .tbs_certificate
            .get::<ExtendedKeyUsage>()
            .ok()
            .flatten()
            .is_some_and(|(_, eku)| eku.0.contains(&ID_KP_OCSP_SIGNING));
        let (from, until) = validity(candidate);
        let tbs = candidate.tbs_certificate.to_der().unwrap_or_default();
        for_ocsp
            && (from..=until).contains(&Utc::now())
            && verify_signature(issuer, &candidate.signature_algorithm, &tbs, candidate.signature.raw_bytes()).is_ok()
    };
    let responder = std::iter::once(issuer)
        .chain(basic.certs.iter().flatten().filter(delegated))
        .find(|c| names(c))
        .ok_or(CheckFailure::UnknownResponder)?;
    let data = basic.tbs_response_data.to_der()?;
    verify_signature(responder, &basic.signature_algorithm, &data, basic.signature.raw_bytes())
        .map_err(|e| CheckFailure::ResponderSignature { responder: subject(responder), source: Box::new(e) })
}
