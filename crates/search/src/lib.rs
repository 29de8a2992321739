//! Full-text search over archived documents, in Vietnamese, with or without diacritics. It owns the
//! tantivy index: one index document per page, carrying the document's code, owner, type and name
//! beside the page's OCR text.
//!
//! Main types: [`SearchIndex`] (open, add, commit with a cursor, search), [`IndexDocument`] (what is
//! indexed of one archived document), [`Hit`], and the [`VietnameseTokenizer`], which indexes every
//! text twice: exact (NFC, lower case) and folded (tone marks and vowel marks removed, đ→d), so that
//! "giay phep" finds "Giấy phép" and an exact query ranks exact spellings first.
//!
//! Search never opens RocksDB: it is fed from the archive's events, remembers in each commit the last
//! event it has applied (its cursor), and can be rebuilt from the archive at any time. Adding a
//! document replaces any earlier entry for its code, so replaying an event is harmless.
#![deny(missing_docs)]

mod error;
mod index;
mod tokenizer;

pub use error::SearchError;
pub use index::{Hit, IndexDocument, SearchIndex};
pub use tokenizer::{VietnameseTokenizer, fold};
