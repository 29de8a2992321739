//! What is indexed of one archived document, and where it stands.

use chrono::NaiveDate;
use domain::DocumentCode;

/// Where a document stands, as search filters on it. Serialised as its name in the index
/// (`"active"`, `"held"`, `"revoked"`, `"destroyed"`), as [`as_str`](Self::as_str) and `Display` give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexStatus {
    /// In force.
    Active,
    /// In force and under a hold.
    Held,
    /// Revoked.
    Revoked,
    /// Destroyed (its text is not indexed).
    Destroyed,
}

impl IndexStatus {
    /// The status's name in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            IndexStatus::Active => "active",
            IndexStatus::Held => "held",
            IndexStatus::Revoked => "revoked",
            IndexStatus::Destroyed => "destroyed",
        }
    }

    /// The status of a name in the index, `None` for a name no status has.
    pub fn from_name(name: &str) -> Option<Self> {
        [IndexStatus::Active, IndexStatus::Held, IndexStatus::Revoked, IndexStatus::Destroyed]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for IndexStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is indexed of one archived document: its metadata once, and its OCR text page by page.
#[derive(Debug, Clone)]
pub struct IndexDocument {
    /// The document code.
    pub code: DocumentCode,
    /// The owner's identifier, if any.
    pub owner: Option<String>,
    /// The dossier it was received in, if any.
    pub dossier: Option<String>,
    /// The procedure code, if any.
    pub procedure: Option<String>,
    /// The document type code.
    pub doc_type: String,
    /// The document name.
    pub name: String,
    /// The number and symbol, e.g. `123/QĐ-UBND`.
    pub number: Option<String>,
    /// The issuing body.
    pub issuing_body: Option<String>,
    /// The issue date.
    pub issue_date: Option<NaiveDate>,
    /// The last day of validity; `None` when valid without end.
    pub valid_until: Option<NaiveDate>,
    /// Its status.
    pub status: IndexStatus,
    /// When it was captured, seconds since the Unix epoch.
    pub captured_at: i64,
    /// The OCR text of each page, in page order.
    pub pages: Vec<String>,
}
