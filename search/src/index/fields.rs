//! The index's fields: the schema every index document is written in, the analyzers its text fields
//! use, and the columns (fast fields) that searches and reuse lookups read instead of stored
//! documents, with the encodings of what goes into them (days as `yyyymmdd`, a code's key).

use chrono::{Datelike, NaiveDate};
use tantivy::columnar::{Column, StrColumn};
use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, SchemaBuilder, TextFieldIndexing,
    TextOptions,
};

use super::IndexStatus;

/// The analyzers of the text fields, by the names they are registered under.
pub(crate) const EXACT: &str = "vi_exact";
pub(crate) const FOLDED: &str = "vi_folded";
pub(crate) const CODES: &str = "vi_codes";
pub(crate) const CODE_RUNS: &str = "vi_code_runs";

/// `valid_until` of documents valid without end: after every real date.
pub(crate) const PERMANENT: u64 = 99_991_231;

/// A day as the number `yyyymmdd`, which orders as the days do.
pub(crate) fn day_number(day: NaiveDate) -> u64 {
    (day.year() as u64) * 10_000 + u64::from(day.month()) * 100 + u64::from(day.day())
}

/// The day of a `yyyymmdd` number; `None` for [`PERMANENT`].
pub(crate) fn from_day_number(n: u64) -> Option<NaiveDate> {
    (n != PERMANENT)
        .then(|| NaiveDate::from_ymd_opt((n / 10_000) as i32, (n / 100 % 100) as u32, (n % 100) as u32))
        .flatten()
}

/// A text field analysed by `tokenizer`, with frequencies and positions.
fn text_options(tokenizer: &str, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(tokenizer)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored { options.set_stored() } else { options }
}

/// The field table: every field of the index once, in schema order, with how it is indexed and, for
/// the fields read as columns, the column's kind (`str`, `u64`, `i64`). Both the schema's handles
/// ([`Fields`]) and one segment's columns ([`SegmentColumns`]) are derived from it, so a column can
/// only be read under a field's own name. A field's name in the schema is its name here.
macro_rules! field_table {
    ($($(#[$doc:meta])* $name:ident: $add:ident($options:expr) $(, column $column:ident)?;)*) => {
        /// The handles of the schema's fields.
        #[derive(Clone, Copy)]
        pub(crate) struct Fields {
            $($(#[$doc])* pub(crate) $name: Field,)*
        }

        impl Fields {
            /// Adds every field to `schema`, in the table's order.
            pub(crate) fn add_to(schema: &mut SchemaBuilder) -> Fields {
                Fields { $($name: schema.$add(stringify!($name), $options),)* }
            }
        }

        /// The columns of one segment that searches and reuse lookups read instead of stored
        /// documents (a stored document is read from a compressed block that mostly holds page text).
        pub(crate) struct SegmentColumns {
            $($(pub(crate) $name: column_type!($column),)?)*
        }

        impl SegmentColumns {
            /// Opens the columns of a segment.
            pub(crate) fn of(reader: &tantivy::SegmentReader) -> tantivy::Result<Self> {
                let fast = reader.fast_fields();
                Ok(SegmentColumns { $($($name: fast.$column(stringify!($name))?,)?)* })
            }
        }
    };
}

/// The type of a column of the kind named in the field table.
macro_rules! column_type {
    (str) => { Option<StrColumn> };
    (u64) => { Column<u64> };
    (i64) => { Column<i64> };
}

// Stored are only what a hit shows of its page (name, owner, type, status, page number and text);
// everything else searches, groups and reuse lookups read comes from columns, and stored copies would
// only make every block of the doc store larger.
field_table! {
    /// `document` (metadata) or `page` (one page's text).
    kind: add_text_field(STRING);
    /// The document code.
    code: add_text_field(STRING | FAST), column str;
    /// The code's key ([`code_key`]).
    code_key: add_u64_field(FAST), column u64;
    /// The dossier.
    dossier: add_text_field(STRING);
    /// The procedure code.
    procedure: add_text_field(STRING);
    /// The number and symbol.
    number: add_text_field(TextOptions::default().set_fast("raw")), column str;
    /// The issuing body, as recorded.
    issuing_body: add_text_field(TextOptions::default().set_fast("raw")), column str;
    /// The issue date ([`day_number`]).
    issue_date: add_u64_field(INDEXED | FAST), column u64;
    /// The last day of validity ([`day_number`], [`PERMANENT`] without end).
    valid_until: add_u64_field(FAST), column u64;
    /// The [`IndexStatus`].
    status: add_text_field(STRING | STORED | FAST), column str;
    /// Capture time, seconds since the Unix epoch.
    captured: add_i64_field(INDEXED | FAST), column i64;
    /// Facets of the document (type, status, issuer, year).
    facets: add_facet_field(FacetOptions::default());
    /// The issuing body on a page, which searches filter by.
    issuer: add_text_field(STRING | FAST), column str;
    /// The issue year on a page.
    year: add_u64_field(INDEXED | FAST), column u64;
    /// The owner.
    owner: add_text_field(STRING | STORED);
    /// The type code.
    doc_type: add_text_field(STRING | STORED | FAST), column str;
    /// The document name.
    name: add_text_field(text_options(EXACT, true).set_fast("raw")), column str;
    /// The page number, from 1.
    page: add_u64_field(STORED);
    /// The page's text, exact.
    text: add_text_field(text_options(EXACT, true));
    /// The page's text, name and number, folded.
    text_folded: add_text_field(text_options(FOLDED, false));
    /// Whole numbers and codes.
    numbers: add_text_field(text_options(CODES, false));
    /// Every run of a code's parts.
    code_runs: add_text_field(
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(CODE_RUNS).set_index_option(IndexRecordOption::WithFreqs),
        )
    );
}

impl SegmentColumns {
    /// The ordinals of `statuses` in this segment's status column (a status no page of the segment
    /// has is left out).
    pub(crate) fn status_ords(&self, statuses: &[IndexStatus]) -> Vec<u64> {
        let Some(column) = &self.status else { return Vec::new() };
        statuses.iter().filter_map(|s| column.dictionary().term_ord(s.as_str()).ok().flatten()).collect()
    }
}

/// A number that tells documents apart without reading their codes: the first 8 bytes of the code's
/// BLAKE3. A document's pages may sit in different segments (the writer's threads each fill their
/// own), where their code ordinals differ; equal keys are confirmed by comparing the codes.
pub(crate) fn code_key(code: &str) -> u64 {
    let hash = blake3::hash(code.as_bytes());
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// The first term ordinal of `doc` in a string column.
pub(crate) fn ord_of(column: &Option<StrColumn>, doc: u32) -> Option<u64> {
    column.as_ref().and_then(|c| c.term_ords(doc).next())
}

/// The first string of `doc` in a string column, empty if none.
pub(crate) fn str_of(column: &Option<StrColumn>, doc: u32) -> Result<String, std::io::Error> {
    let mut out = String::new();
    if let (Some(column), Some(ord)) = (column, ord_of(column, doc)) {
        column.ord_to_str(ord, &mut out)?;
    }
    Ok(out)
}
