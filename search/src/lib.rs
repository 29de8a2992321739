//! Full-text search over archived documents, in Vietnamese, with or without diacritics. It owns the
//! tantivy index: one index document per page, carrying the document's code, owner, type and name
//! beside the page's OCR text.
//!
//! Main types: [`SearchIndex`] (open, add, commit with a cursor, search), [`IndexDocument`] (what is
//! indexed of one archived document), [`Hit`], and the Vietnamese [`analyzer`], which indexes every
//! text twice: exact (NFC, lower case) and folded (tone marks and vowel marks removed, đ→d), so that
//! "giay phep" finds "Giấy phép" and an exact query ranks exact spellings first; document numbers
//! and codes (`123/QĐ-UBND`) are indexed whole and in parts.
//!
//! Search never opens RocksDB: it is fed from the archive's events, remembers in each commit the last
//! event it has applied (its cursor), and can be rebuilt from the archive at any time. Adding a
//! document replaces any earlier entry for its code, so replaying an event is harmless.
#![deny(missing_docs)]

pub mod analyzer;
mod error;
mod index;

pub use error::SearchError;
pub use index::{
    Hit, IndexDocument, IndexStatus, MAX_MATCHES, ReuseHit, SearchIndex, SearchRequest, SearchResults, SortOrder,
};
