//! Verification of the PDF signatures in a file, each check by name: the byte range and what it
//! leaves out, the digest, the signature, the certificate bound to it, the algorithm, the timestamp,
//! and the certificate path to the configured trust anchors (its key usages, path length, critical
//! extensions and, when configured, revocation).

use chrono::{DateTime, Utc};
use lopdf::{Document, Object};
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::cms::{check_signer, check_timestamp, parse_signed_data};
use crate::error::CheckFailure;
use crate::x509::{Purpose, RSASSA_PSS, SignatureAlgorithm, subject, validate_path};
use crate::{Revocation, SignerError};

/// One named check of a PDF signature and its outcome.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignatureCheck {
    /// What was checked, e.g. `byte range`, `digest`, `certificate chain`.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// The checks of one signature field.
#[derive(Debug, Clone, Serialize)]
pub struct PdfSignatureReport {
    /// The field's name.
    pub field: String,
    /// The signer's certificate subject, when the signature names one.
    pub signer: Option<String>,
    /// Every check, in the order they ran.
    pub checks: Vec<SignatureCheck>,
}

impl PdfSignatureReport {
    /// True when every check passed.
    pub fn valid(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// Records a named check that passed, with what it found.
fn pass(checks: &mut Vec<SignatureCheck>, name: &str, detail: impl Into<String>) {
    checks.push(SignatureCheck { name: name.to_owned(), passed: true, detail: detail.into() });
}

/// Records a named check; a failure's detail is its error's `Display`.
fn check<E: std::fmt::Display>(checks: &mut Vec<SignatureCheck>, name: &str, outcome: Result<String, E>) {
    let (passed, detail) = match outcome {
        Ok(d) => (true, d),
        Err(e) => (false, e.to_string()),
    };
    checks.push(SignatureCheck { name: name.to_owned(), passed, detail });
}

struct Found {
    field: String,
    range: Vec<i64>,
    sub_filter: Vec<u8>,
}

/// Verifies every signature of `pdf` against `anchors`, at `now` unless a timestamp says when the
/// signature was made, without revocation checking. A PDF without signatures gives an empty list.
pub fn verify_pdf_signatures(
    pdf: &[u8],
    anchors: &[Certificate],
    now: DateTime<Utc>,
) -> Result<Vec<PdfSignatureReport>, SignerError> {
    verify_pdf_signatures_with(pdf, anchors, &Revocation::none(), now)
}

/// [`verify_pdf_signatures`], with every certificate path (the signer's and the timestamp
/// authority's) also checked for revocation against the CRLs `revocation` names or fetches.
pub fn verify_pdf_signatures_with(
    pdf: &[u8],
    anchors: &[Certificate],
    revocation: &Revocation,
    now: DateTime<Utc>,
) -> Result<Vec<PdfSignatureReport>, SignerError> {
    let doc = Document::load_mem(pdf).map_err(|e| SignerError::Pdf(format!("cannot read the PDF: {e}")))?;
    let mut found = Vec::new();
    for object in doc.objects.values() {
        let Ok(field) = object.as_dict() else { continue };
        if !field.get(b"FT").and_then(Object::as_name).is_ok_and(|n| n == b"Sig") {
            continue;
        }
        let Ok(signature) = field.get(b"V").and_then(|v| doc.dereference(v)).and_then(|(_, v)| v.as_dict()) else {
            continue;
        };
        let name = field
            .get(b"T")
            .and_then(Object::as_str)
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .unwrap_or_default();
        let range = signature
            .get(b"ByteRange")
            .and_then(Object::as_array)
            .map(|a| a.iter().filter_map(|o| o.as_i64().ok()).collect())
            .unwrap_or_default();
        let sub_filter = signature.get(b"SubFilter").and_then(Object::as_name).map(<[u8]>::to_vec).unwrap_or_default();
        found.push(Found { field: name, range, sub_filter });
    }
    found.sort_by_key(|f| f.range.get(2).copied().unwrap_or(0));
    let last_end = found.iter().filter_map(|f| signed_end(&f.range)).max();
    Ok(found.into_iter().map(|f| verify_one(pdf, f, last_end, anchors, revocation, now)).collect())
}

fn signed_end(range: &[i64]) -> Option<usize> {
    match range {
        [_, _, start, len] => usize::try_from(start + len).ok(),
        _ => None,
    }
}

fn verify_one(
    pdf: &[u8],
    found: Found,
    last_end: Option<usize>,
    anchors: &[Certificate],
    revocation: &Revocation,
    now: DateTime<Utc>,
) -> PdfSignatureReport {
    let mut checks = Vec::new();
    let report = |checks: Vec<SignatureCheck>, signer: Option<String>| PdfSignatureReport {
        field: found.field.clone(),
        signer,
        checks,
    };
    check(
        &mut checks,
        "PAdES profile",
        if found.sub_filter == b"ETSI.CAdES.detached" {
            Ok("/SubFilter /ETSI.CAdES.detached".into())
        } else {
            Err(format!("/SubFilter /{} is not ETSI.CAdES.detached", String::from_utf8_lossy(&found.sub_filter)))
        },
    );
    // The byte range must be two pieces around exactly one hex string: the /Contents.
    let gap = match found.range[..] {
        [0, a, b, c] if a > 0 && b > a && c >= 0 && (b + c) as usize <= pdf.len() => {
            let (a, b) = (a as usize, b as usize);
            if pdf[a] == b'<' && pdf[b - 1] == b'>' && pdf[a + 1..b - 1].iter().all(u8::is_ascii_hexdigit) {
                Ok((a, b, (b + c as usize)))
            } else {
                Err("the bytes left out of the byte range are not just the signature's /Contents".to_owned())
            }
        }
        _ => Err(format!("{:?} is not a byte range of this {}-byte file starting at 0", found.range, pdf.len())),
    };
    let (a, b, end) = match gap {
        Ok(g) => {
            pass(&mut checks, "byte range", format!("covers bytes 0–{} and {}–{}, all but /Contents", g.0, g.1, g.2));
            g
        }
        Err(e) => {
            check(&mut checks, "byte range", Err(e));
            return report(checks, None);
        }
    };
    check(
        &mut checks,
        "whole file signed",
        if end == pdf.len() {
            Ok("nothing follows the signed revision".into())
        } else if last_end == Some(pdf.len()) {
            Ok(format!("the {} bytes after this revision are covered by a later signature", pdf.len() - end))
        } else {
            Err(format!(
                "{} bytes were appended after the signed revision; the signature does not cover them",
                pdf.len() - end
            ))
        },
    );
    let contents: Vec<u8> = pdf[a + 1..b - 1]
        .chunks(2)
        .map(|h| u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16).unwrap_or(0))
        .collect();
    let (signed, used) = match parse_signed_data(&contents) {
        Ok(s) => s,
        Err(e) => {
            check(&mut checks, "signature contents", Err(e));
            return report(checks, None);
        }
    };
    check(
        &mut checks,
        "signature contents",
        match contents[used..].iter().position(|&b| b != 0) {
            None => Ok(format!("CMS SignedData of {used} bytes")),
            Some(p) => Err(format!("byte {} of /Contents, after the CMS object, is not zero padding", used + p)),
        },
    );
    let mut hasher = Sha256::new();
    hasher.update(&pdf[..a]);
    hasher.update(&pdf[b..end]);
    let digest = hasher.finalize();
    let signer = match check_signer(&signed, &digest) {
        Ok(s) => s,
        Err(e) => {
            check(&mut checks, "signer", Err(e));
            return report(checks, None);
        }
    };
    let name = signer.certificate.as_ref().map(subject);
    check(
        &mut checks,
        "digest",
        signer.digest.map(|()| format!("SHA-256 of the signed bytes {}", domain::hex(&digest))),
    );
    check(
        &mut checks,
        "signature",
        signer.signature.map(|()| format!("verifies with the key of {}", name.clone().unwrap_or_default())),
    );
    check(
        &mut checks,
        "signing certificate",
        signer.signing_certificate.map(|()| "signing-certificate-v2 names this certificate".into()),
    );
    check(
        &mut checks,
        "no signing-time attribute",
        if signer.signing_time_attribute {
            Err("PAdES forbids the signing-time attribute; /M says when")
        } else {
            Ok("the time is in /M".into())
        },
    );
    check(
        &mut checks,
        "algorithm",
        match signer.certificate.as_ref().map(SignatureAlgorithm::for_certificate) {
            None => Err("no certificate".into()),
            Some(Err(e)) => Err(e.to_string()),
            Some(Ok(SignatureAlgorithm::RsaPssSha256)) if signer.algorithm.oid != RSASSA_PSS => {
                Err(format!("RSA signature with {}, not RSASSA-PSS as Circular 15/2025 requires", signer.algorithm.oid))
            }
            Some(Ok(algorithm)) => Ok(algorithm.name().into()),
        },
    );
    let mut at = now;
    match &signer.timestamp_token {
        None => {
            pass(&mut checks, "timestamp", "none (PAdES B-B); the certificate is checked at the time of verification")
        }
        Some(token) => {
            let outcome = check_timestamp(token, &signer.signature_value).and_then(|ts| {
                let path = validate_path(&ts.authority, &ts.pool, anchors, ts.time, Purpose::Timestamping, revocation)
                    .map_err(CheckFailure::Path)?;
                at = ts.time;
                Ok(format!("{} by {} (PAdES B-T)", ts.time.to_rfc3339(), path.subjects.join(" ← ")))
            });
            check(&mut checks, "timestamp", outcome);
        }
    }
    // A path that holds passes its three checks; one that does not fails the check that refused it.
    match &signer.certificate {
        None => check(&mut checks, "certificate chain", Err::<String, _>("no certificate")),
        Some(c) => match validate_path(c, &signer.pool, anchors, at, Purpose::DocumentSigning, revocation) {
            Ok(path) => {
                pass(&mut checks, "certificate chain", path.subjects.join(" ← "));
                pass(
                    &mut checks,
                    "key usage",
                    "the signer's certificate allows signing, and each CA signing certificates",
                );
                pass(&mut checks, "revocation", path.revocation);
            }
            Err(failure) => check(&mut checks, failure.check, Err(failure.detail)),
        },
    }
    report(checks, name)
}
