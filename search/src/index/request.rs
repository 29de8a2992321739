//! A search as asked (words, filters, order, page of results) and what it found.

use std::collections::BTreeMap;

use domain::DocumentCode;

use super::IndexStatus;

/// One document found by a query: its best-matching page and a snippet of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The document code.
    pub code: DocumentCode,
    /// The document name.
    pub name: String,
    /// The owner's identifier, empty if none.
    pub owner: String,
    /// The best-matching page, from 1.
    pub page: u32,
    /// Relevance score.
    pub score: f32,
    /// A fragment of the page with the matches marked `<b>…</b>` (HTML-escaped).
    pub snippet: String,
    /// The type code.
    pub doc_type: String,
    /// The status (active, held, revoked).
    pub status: IndexStatus,
    /// When it was captured, seconds since the Unix epoch.
    pub captured_at: i64,
}

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Best match first.
    #[default]
    Relevance,
    /// Most recently captured first.
    Newest,
    /// Earliest captured first.
    Oldest,
}

impl std::str::FromStr for SortOrder {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "relevance" => Ok(SortOrder::Relevance),
            "newest" => Ok(SortOrder::Newest),
            "oldest" => Ok(SortOrder::Oldest),
            other => Err(format!("sort {other:?}: expected relevance, newest or oldest")),
        }
    }
}

/// A full-text search: words (with or without diacritics, numbers whole or in parts), filters, the
/// order and the page of results wanted.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The words.
    pub text: String,
    /// Only this type.
    pub doc_type: Option<String>,
    /// Only this issuing body (exactly as recorded).
    pub issuing_body: Option<String>,
    /// Only documents issued this year.
    pub year: Option<i32>,
    /// Only these statuses; empty for every status that has text. The server narrows this by role.
    pub statuses: Vec<IndexStatus>,
    /// The order.
    pub sort: SortOrder,
    /// Documents to skip (for the next page of results).
    pub offset: usize,
    /// Documents wanted.
    pub limit: usize,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Matching documents among the best [`MAX_MATCHES`] matching pages.
    pub total: usize,
    /// More pages match than the best [`MAX_MATCHES`] considered: `total` and the facets are then
    /// counts over the best matches, not over every match (a query of common words matches most of
    /// a large archive; adding a word or a filter narrows it).
    pub truncated: bool,
    /// The requested page of documents.
    pub hits: Vec<Hit>,
    /// Counts of the matching documents by facet (`/type/GPXD`, `/status/active`, `/year/2024`,
    /// `/issuer/…`), over the same documents as `total`.
    pub facets: BTreeMap<String, usize>,
}

/// Most matching pages a search considers for ranking, counting and facets: the best ones. (At a
/// million pages, considering 1,000 instead took a third more time per query, and put the 99th
/// percentile under eight concurrent clients at the 50 ms the appliance must answer in.)
pub const MAX_MATCHES: usize = 500;
