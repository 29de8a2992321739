//! Reuse lookups (R10): what a citizen already handed in that is still in force, read from columns.

use chrono::NaiveDate;
use domain::DocumentCode;
use tantivy::Term;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use super::fields::{day_number, from_day_number, ord_of, str_of};
use super::{IndexStatus, KIND_DOCUMENT, SearchIndex};
use crate::SearchError;

/// Most documents a reuse lookup returns: more than any one citizen has.
const MAX_REUSE: usize = 1000;

/// A document a citizen already handed in or was issued, found by [`SearchIndex::reuse`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReuseHit {
    /// The document code.
    pub code: DocumentCode,
    /// The document name.
    pub name: String,
    /// The type code.
    pub doc_type: String,
    /// The number and symbol, empty if none.
    pub number: String,
    /// The issuing body, empty if none.
    pub issuing_body: String,
    /// The issue date.
    pub issue_date: Option<NaiveDate>,
    /// The last day of validity; `None` when valid without end.
    pub valid_until: Option<NaiveDate>,
    /// [`Active`](IndexStatus::Active) or [`Held`](IndexStatus::Held) (serialised `"active"`, `"held"`).
    pub status: IndexStatus,
}

impl SearchIndex {
    /// Reuse lookup (R10): the documents of `owner` (of `doc_type` if given) that are in force on
    /// `valid_on`: active or held, neither revoked nor destroyed, valid on that day (documents valid
    /// without end always are), newest issue first.
    ///
    /// The owner's documents are found by their terms; status, validity and everything returned are
    /// read from columns. (A status in the query would be a union of postings that cover nearly the
    /// whole index, and a stored document is a block of page text to decompress: each cost more
    /// than the lookup itself.)
    pub fn reuse(
        &self,
        owner: &str,
        doc_type: Option<&str>,
        valid_on: NaiveDate,
    ) -> Result<Vec<ReuseHit>, SearchError> {
        let f = self.fields;
        let term = |field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
        };
        let mut must = vec![(Occur::Must, term(f.kind, KIND_DOCUMENT)), (Occur::Must, term(f.owner, owner))];
        if let Some(t) = doc_type {
            must.push((Occur::Must, term(f.doc_type, t)));
        }
        let searcher = self.reader.searcher();
        let columns = self.columns(&searcher)?;
        let weight = BooleanQuery::new(must)
            .weight(tantivy::query::EnableScoring::disabled_from_searcher(&searcher))
            .map_err(self.err())?;
        let day = day_number(valid_on);
        let io = |source| SearchError::Io { path: self.path.clone(), source };
        let mut hits = Vec::new();
        for (segment, reader) in searcher.segment_readers().iter().enumerate() {
            let c = &columns[segment];
            let in_force = c.status_ords(&[IndexStatus::Active, IndexStatus::Held]);
            let mut found = Vec::new();
            weight.for_each_no_score(reader, &mut |docs| found.extend_from_slice(docs)).map_err(self.err())?;
            for doc in found {
                if reader.alive_bitset().is_some_and(|a| a.is_deleted(doc))
                    || !ord_of(&c.status, doc).is_some_and(|o| in_force.contains(&o))
                    || c.valid_until.first(doc).is_some_and(|until| until < day)
                {
                    continue;
                }
                let Ok(code) = str_of(&c.code, doc).map_err(io)?.parse() else { continue };
                hits.push(ReuseHit {
                    code,
                    name: str_of(&c.name, doc).map_err(io)?,
                    doc_type: str_of(&c.doc_type, doc).map_err(io)?,
                    number: str_of(&c.number, doc).map_err(io)?,
                    issuing_body: str_of(&c.issuing_body, doc).map_err(io)?,
                    issue_date: c.issue_date.first(doc).and_then(from_day_number),
                    valid_until: c.valid_until.first(doc).and_then(from_day_number),
                    status: self.status(str_of(&c.status, doc).map_err(io)?)?,
                });
            }
        }
        // Newest issue first; documents without an issue date last; ties by code, so that the order
        // does not depend on where documents sit in the index.
        hits.sort_by(|a, b| b.issue_date.cmp(&a.issue_date).then_with(|| a.code.cmp(&b.code)));
        hits.truncate(MAX_REUSE);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDocument;
    use crate::index::test_support::*;

    #[test]
    fn reuse_finds_what_is_in_force_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        let with = |code: &str, status, valid_until, issued| IndexDocument {
            status,
            valid_until,
            issue_date: Some(issued),
            ..doc(code, "Giấy tờ", &["trang"])
        };
        index.add(&with("001099012345.GKS.01", IndexStatus::Active, None, day(1999, 5, 1))).unwrap();
        index
            .add(&with("001099012345.CCCD.01", IndexStatus::Active, Some(day(2031, 6, 30)), day(2021, 6, 30)))
            .unwrap();
        index
            .add(&with("001099012345.CCCD.02", IndexStatus::Active, Some(day(2021, 6, 29)), day(2011, 6, 30)))
            .unwrap();
        index.add(&with("001099012345.GPXD.01", IndexStatus::Revoked, None, day(2020, 1, 1))).unwrap();
        index.add(&with("001099012345.GPXD.02", IndexStatus::Destroyed, None, day(2001, 1, 1))).unwrap();
        index.add(&with("001099012345.GPXD.03", IndexStatus::Held, None, day(2022, 2, 2))).unwrap();
        index.add(&with("001099054321.GKS.01", IndexStatus::Active, None, day(1999, 5, 1))).unwrap();
        index.commit(1).unwrap();
        let codes = |t: Option<&str>, on: NaiveDate| {
            index.reuse("001099012345", t, on).unwrap().into_iter().map(|h| h.code.to_string()).collect::<Vec<_>>()
        };
        // Newest issue first; permanent and still-valid documents, held ones too; not revoked,
        // destroyed or expired ones, nor another owner's.
        assert_eq!(
            codes(None, day(2026, 11, 23)),
            ["001099012345.GPXD.03", "001099012345.CCCD.01", "001099012345.GKS.01"]
        );
        assert_eq!(codes(Some("CCCD"), day(2026, 11, 23)), ["001099012345.CCCD.01"]);
        assert_eq!(
            codes(Some("CCCD"), day(2021, 6, 29)),
            ["001099012345.CCCD.01", "001099012345.CCCD.02"],
            "valid on its last day"
        );
        assert_eq!(codes(Some("CCCD"), day(2031, 7, 1)), Vec::<String>::new());
        let hit = &index.reuse("001099012345", Some("GKS"), day(2026, 1, 1)).unwrap()[0];
        assert_eq!((hit.issue_date, hit.valid_until, hit.status), (Some(day(1999, 5, 1)), None, IndexStatus::Active));
        // A destroyed document's text is not searchable; its metadata stays for the record.
        assert!(index.find("trang", 10).unwrap().iter().all(|h| h.code.to_string() != "001099012345.GPXD.02"));
    }
}
