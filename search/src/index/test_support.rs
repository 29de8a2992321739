//! What the index's unit tests share: index documents and plain queries.

use chrono::NaiveDate;
use domain::DocumentCode;

use super::{Hit, IndexDocument, IndexStatus, SearchIndex, SearchRequest};
use crate::SearchError;

pub(crate) fn doc(code: &str, name: &str, pages: &[&str]) -> IndexDocument {
    let code: DocumentCode = code.parse().unwrap();
    IndexDocument {
        owner: code.owner().map(ToString::to_string),
        doc_type: code.doc_type().to_string(),
        code,
        dossier: None,
        procedure: None,
        name: name.into(),
        number: None,
        issuing_body: Some("UBND quận 1".into()),
        issue_date: None,
        valid_until: None,
        status: IndexStatus::Active,
        captured_at: 1_763_000_000,
        pages: pages.iter().map(|s| s.to_string()).collect(),
    }
}

impl SearchIndex {
    /// The hits of a plain query, for tests.
    pub(crate) fn find(&self, text: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        Ok(self.search(&SearchRequest { text: text.into(), limit, ..SearchRequest::default() })?.hits)
    }
}

pub(crate) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
