//! The client of an RFC 3161 timestamp authority: a licensed trust service in Vietnam (Decree
//! 23/2025), reached over HTTP with `application/timestamp-query`.

use std::time::Duration;

use der::asn1::{Int, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion};

use crate::SignerError;
use crate::x509::SHA256;

/// A configured timestamp authority.
#[derive(Debug, Clone)]
pub struct TimestampAuthority {
    url: String,
    timeout: Duration,
}

impl TimestampAuthority {
    /// The TSA at `url` (http or https). Requests give up after `timeout`.
    pub fn new(url: impl Into<String>, timeout: Duration) -> Result<Self, SignerError> {
        let url = url.into();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(SignerError::Timestamp(format!("TSA address {url:?} is not an http:// or https:// URL")));
        }
        Ok(TimestampAuthority { url, timeout })
    }

    /// The TSA's address.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Asks for a timestamp over a SHA-256 digest and returns the token (a CMS ContentInfo, DER),
    /// after checking that it answers this request: granted, same digest, same nonce.
    pub fn timestamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignerError> {
        let fail = |reason: String| SignerError::Timestamp(format!("{}: {reason}", self.url));
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| fail(e.to_string()))?;
        nonce[0] &= 0x7f; // a positive INTEGER
        nonce[0] |= 0x01; // without a leading zero byte to strip
        let nonce = Int::new(&nonce).map_err(|e| fail(e.to_string()))?;
        let request = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifier { oid: SHA256, parameters: None },
                hashed_message: OctetString::new(digest.to_vec()).map_err(|e| fail(e.to_string()))?,
            },
            req_policy: None,
            nonce: Some(nonce.clone()),
            cert_req: true,
            extensions: None,
        }
        .to_der()
        .map_err(|e| fail(e.to_string()))?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut response = agent
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .send(&request[..])
            .map_err(|e| fail(format!("request failed: {e}")))?;
        if !response.status().is_success() {
            return Err(fail(format!("answered HTTP {}", response.status())));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| fail(format!("reading the answer: {e}")))?;
        let answer =
            TimeStampResp::from_der(&body).map_err(|e| fail(format!("the answer is not a TimeStampResp: {e}")))?;
        let status = answer.status.status as u8;
        if status > 1 {
            let text = answer.status.status_string.as_ref().map(|s| format!("{s:?}")).unwrap_or_default();
            return Err(fail(format!("refused the request (PKIStatus {status}) {text}")));
        }
        let token = answer.time_stamp_token.ok_or_else(|| fail("granted without a token".into()))?;
        let (signed, _) = crate::cms::parse_signed_data(&token.to_der().map_err(|e| fail(e.to_string()))?)
            .map_err(|e| fail(e.to_string()))?;
        let content =
            crate::cms::encapsulated_content(&signed).ok_or_else(|| fail("the token holds no TSTInfo".into()))?;
        let info = x509_tsp::TstInfo::from_der(&content).map_err(|e| fail(format!("malformed TSTInfo: {e}")))?;
        if info.message_imprint.hashed_message.as_bytes() != digest {
            return Err(fail("the token stamps another digest than the one asked for".into()));
        }
        if info.nonce.as_ref() != Some(&nonce) {
            return Err(fail("the token does not carry the request's nonce (a replayed answer?)".into()));
        }
        token.to_der().map_err(|e| fail(e.to_string()))
    }
}
