//! Facet counts of a search's documents (`/type/…`, `/status/…`, `/issuer/…`, `/year/…`): counted
//! on term ordinals of each segment's columns while the documents are gathered, and turned into
//! labels once per distinct value at the end (a dictionary lookup per page and column would cost
//! more than the search itself).

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::fields::{SegmentColumns, ord_of};

/// A string column a facet is counted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FacetColumn {
    Type,
    Status,
    Issuer,
}

/// The counts so far.
#[derive(Default)]
pub(crate) struct FacetCounts {
    /// (segment, column, ordinal) → documents, for the string facets.
    strings: FxHashMap<(u32, FacetColumn, u64), usize>,
    /// Issue year → documents (years are numbers already).
    years: FxHashMap<u64, usize>,
}

impl FacetCounts {
    /// Counts document `doc` of segment `segment`, whose columns are `c`.
    pub(crate) fn count(&mut self, segment: u32, c: &SegmentColumns, doc: u32) {
        for (column, value) in [
            (FacetColumn::Type, ord_of(&c.doc_type, doc)),
            (FacetColumn::Status, ord_of(&c.status, doc)),
            (FacetColumn::Issuer, ord_of(&c.issuer, doc)),
        ] {
            if let Some(value) = value {
                *self.strings.entry((segment, column, value)).or_default() += 1;
            }
        }
        if let Some(year) = c.year.first(doc) {
            *self.years.entry(year).or_default() += 1;
        }
    }

    /// The counts by facet label, the segments' columns being `columns`.
    pub(crate) fn labelled(self, columns: &[Arc<SegmentColumns>]) -> Result<BTreeMap<String, usize>, std::io::Error> {
        let mut facets: BTreeMap<String, usize> =
            self.years.into_iter().map(|(year, n)| (format!("/year/{year}"), n)).collect();
        for ((segment, column, value), n) in self.strings {
            let c = &columns[segment as usize];
            let (name, source) = match column {
                FacetColumn::Type => ("type", &c.doc_type),
                FacetColumn::Status => ("status", &c.status),
                FacetColumn::Issuer => ("issuer", &c.issuer),
            };
            let mut label = String::new();
            if let Some(source) = source {
                source.ord_to_str(value, &mut label)?;
            }
            if !label.is_empty() {
                *facets.entry(format!("/{name}/{label}")).or_default() += n;
            }
        }
        Ok(facets)
    }
}
