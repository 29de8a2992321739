//! The messages between the appliance and the workers. A job is a one-line JSON [`JobHeader`], a
//! newline and the captured image's bytes as archived (no base64: a page image is most of the
//! message, and `max_payload` bounds it). A result is one JSON [`JobResult`].

use capture::PageReading;
use serde::{Deserialize, Serialize};

use super::OffloadError;

/// The largest job header accepted: a header is a few hundred bytes.
const MAX_HEADER: usize = 16 * 1024;

/// What a worker needs to know of a page besides its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobHeader {
    /// The job's id: the sending process's nonce, the document code and the page number.
    pub job: String,
    /// The subject to publish the result on.
    pub reply: String,
    /// The document code.
    pub document: String,
    /// The 1-based page number.
    pub page: u32,
    /// The page's origin (a file name), which tells the importer its format.
    pub origin: String,
    /// Its horizontal and vertical resolution, and whether the file stated it.
    pub dpi: (f32, f32, bool),
}

/// A worker's answer to a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    /// The job's id, as sent.
    pub job: String,
    /// The document code, as sent.
    pub document: String,
    /// The page number, as sent.
    pub page: u32,
    /// What came of it.
    pub body: ResultBody,
}

/// What came of reading a page on a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultBody {
    /// The page was read.
    Read(PageReading),
    /// It could not be read there (the appliance reads it itself), and why.
    Failed(String),
}

/// A job's message: its header as one JSON line, then the page's bytes.
pub fn encode_job(header: &JobHeader, image: &[u8]) -> Vec<u8> {
    let mut out = serde_json::to_vec(header).expect("a job header is plain data");
    out.push(b'\n');
    out.extend_from_slice(image);
    out
}

/// Splits a job's message into its header and the page's bytes.
pub fn decode_job(message: &[u8]) -> Result<(JobHeader, &[u8]), OffloadError> {
    let end = message
        .iter()
        .take(MAX_HEADER)
        .position(|&b| b == b'\n')
        .ok_or_else(|| OffloadError::Malformed("a job without a header line".into()))?;
    let header =
        serde_json::from_slice(&message[..end]).map_err(|e| OffloadError::Malformed(format!("a job's header: {e}")))?;
    Ok((header, &message[end + 1..]))
}

/// Reads a result message.
pub fn decode_result(message: &[u8]) -> Result<JobResult, OffloadError> {
    serde_json::from_slice(message).map_err(|e| OffloadError::Malformed(format!("a result: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_its_header_line_and_the_image_bytes() {
        let header = JobHeader {
            job: "n-1.KHAC.01-1".into(),
            reply: "S.results.a".into(),
            document: "1.KHAC.01".into(),
            page: 1,
            origin: "trang\n1.png".into(),
            dpi: (300.0, 300.0, true),
        };
        let image = b"\x89PNG\n\r\x1a\nrest";
        let message = encode_job(&header, image);
        let (read, bytes) = decode_job(&message).unwrap();
        assert_eq!((read, bytes), (header, &image[..]));
        assert!(decode_job(b"no header line").is_err());
    }
}
