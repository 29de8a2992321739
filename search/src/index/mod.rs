//! The search index: one tantivy index in a directory, fed document by document and committed with
//! the cursor of the last archive event applied. Each concern has its file: [`fields`] the schema
//! and columns, [`document`] what is indexed, [`request`] what is asked and found, [`top_pages`] the
//! best pages of a query, [`search`] hits, [`facets`] their counts, [`reuse`] reuse lookups.

mod document;
mod facets;
mod fields;
mod request;
mod reuse;
mod search;
#[cfg(test)]
mod test_support;
mod top_pages;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Datelike;
use tantivy::directory::MmapDirectory;
use tantivy::schema::{Facet, Schema};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

pub use document::{IndexDocument, IndexStatus};
use fields::{CODE_RUNS, CODES, EXACT, FOLDED, Fields, PERMANENT, SegmentColumns, code_key, day_number};
pub use request::{Hit, MAX_MATCHES, SearchRequest, SearchResults, SortOrder};
pub use reuse::ReuseHit;

use crate::{SearchError, analyzer};

/// The `kind` of the index document that carries a document's metadata.
pub(crate) const KIND_DOCUMENT: &str = "document";
/// The `kind` of the index documents that carry one page's text each.
pub(crate) const KIND_PAGE: &str = "page";

/// Memory the index writer may use before it flushes a segment.
const WRITER_BUDGET: usize = 50 << 20;

/// The search index in a directory.
pub struct SearchIndex {
    path: PathBuf,
    index: Index,
    /// `None` only while [`SearchIndex::wait_for_merges`] swaps it.
    writer: Mutex<Option<IndexWriter>>,
    reader: IndexReader,
    fields: Fields,
    /// The columns of the segments searched lately, by segment.
    columns: Mutex<HashMap<tantivy::index::SegmentId, Arc<SegmentColumns>>>,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it if absent.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        let err = |source| SearchError::Index { path: dir.to_owned(), source };
        std::fs::create_dir_all(dir).map_err(|source| SearchError::Io { path: dir.to_owned(), source })?;
        let mut schema = Schema::builder();
        let fields = Fields::add_to(&mut schema);
        let schema = schema.build();
        let directory = MmapDirectory::open(dir).map_err(|e| err(e.into()))?;
        let index = match Index::open_or_create(directory, schema.clone()) {
            // An index of an earlier schema is rebuilt, not migrated: search is derived data, and
            // an empty index (cursor 0) catches up from the archive's first event.
            Err(tantivy::TantivyError::SchemaError(_)) => {
                std::fs::remove_dir_all(dir)
                    .and_then(|_| std::fs::create_dir_all(dir))
                    .map_err(|source| SearchError::Io { path: dir.to_owned(), source })?;
                Index::open_or_create(MmapDirectory::open(dir).map_err(|e| err(e.into()))?, schema).map_err(err)?
            }
            other => other.map_err(err)?,
        };
        index.tokenizers().register(EXACT, analyzer::exact());
        index.tokenizers().register(FOLDED, analyzer::folded());
        index.tokenizers().register(CODES, analyzer::codes());
        index.tokenizers().register(CODE_RUNS, analyzer::code_runs());
        let writer = index.writer(WRITER_BUDGET).map_err(err)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err)?;
        Ok(SearchIndex {
            path: dir.to_owned(),
            index,
            writer: Mutex::new(Some(writer)),
            reader,
            fields,
            columns: Mutex::default(),
        })
    }

    /// The status of a name read from the index.
    fn status(&self, name: String) -> Result<IndexStatus, SearchError> {
        IndexStatus::from_name(&name)
            .ok_or_else(|| SearchError::UnknownStatus { path: self.path.clone(), status: name })
    }

    fn err(&self) -> impl Fn(tantivy::TantivyError) -> SearchError + '_ {
        |source| SearchError::Index { path: self.path.clone(), source }
    }

    /// Stages a document (replacing any earlier entry for its code); it becomes searchable at the next
    /// [`commit`](Self::commit).
    pub fn add(&self, doc: &IndexDocument) -> Result<(), SearchError> {
        let f = self.fields;
        let code = doc.code.to_string();
        let code_key = code_key(&code);
        let guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let writer = guard.as_ref().ok_or(SearchError::WriterGone)?;
        writer.delete_term(Term::from_field_text(f.code, &code));
        // The metadata once per document, for reuse lookups and facets.
        let mut d = TantivyDocument::default();
        d.add_text(f.kind, KIND_DOCUMENT);
        d.add_text(f.code, &code);
        d.add_u64(f.code_key, code_key);
        d.add_text(f.owner, doc.owner.as_deref().unwrap_or_default());
        d.add_text(f.dossier, doc.dossier.as_deref().unwrap_or_default());
        d.add_text(f.procedure, doc.procedure.as_deref().unwrap_or_default());
        d.add_text(f.doc_type, &doc.doc_type);
        d.add_text(f.name, &doc.name);
        d.add_text(f.number, doc.number.as_deref().unwrap_or_default());
        d.add_text(f.issuing_body, doc.issuing_body.as_deref().unwrap_or_default());
        if let Some(day) = doc.issue_date {
            d.add_u64(f.issue_date, day_number(day));
        }
        d.add_u64(f.valid_until, doc.valid_until.map_or(PERMANENT, day_number));
        d.add_text(f.status, doc.status.as_str());
        d.add_i64(f.captured, doc.captured_at);
        d.add_facet(f.facets, Facet::from_path(["type", doc.doc_type.as_str()]));
        d.add_facet(f.facets, Facet::from_path(["status", doc.status.as_str()]));
        if let Some(body) = doc.issuing_body.as_deref().filter(|b| !b.is_empty()) {
            d.add_facet(f.facets, Facet::from_path(["issuer", body]));
        }
        if let Some(day) = doc.issue_date {
            d.add_facet(f.facets, Facet::from_path(["year", &day.year().to_string()]));
        }
        writer.add_document(d).map_err(self.err())?;
        if doc.status == IndexStatus::Destroyed {
            return Ok(());
        }
        for (i, text) in doc.pages.iter().enumerate() {
            let mut d = TantivyDocument::default();
            d.add_text(f.kind, KIND_PAGE);
            d.add_text(f.code, &code);
            d.add_u64(f.code_key, code_key);
            d.add_text(f.owner, doc.owner.as_deref().unwrap_or_default());
            d.add_text(f.doc_type, &doc.doc_type);
            d.add_text(f.status, doc.status.as_str());
            d.add_text(f.issuer, doc.issuing_body.as_deref().unwrap_or_default());
            if let Some(day) = doc.issue_date {
                d.add_u64(f.year, day.year() as u64);
            }
            d.add_i64(f.captured, doc.captured_at);
            d.add_text(f.name, &doc.name);
            d.add_u64(f.page, i as u64 + 1);
            d.add_text(f.text, text);
            // The folded field holds everything a search must match, name and number included,
            // so that the required part of a query is one term (or phrase) per word in one field.
            d.add_text(f.text_folded, text);
            d.add_text(f.text_folded, &doc.name);
            d.add_text(f.text_folded, doc.number.as_deref().unwrap_or_default());
            d.add_text(f.numbers, &doc.name);
            d.add_text(f.numbers, doc.number.as_deref().unwrap_or_default());
            d.add_text(f.numbers, text);
            d.add_text(f.code_runs, text);
            d.add_text(f.code_runs, &doc.name);
            d.add_text(f.code_runs, doc.number.as_deref().unwrap_or_default());
            writer.add_document(d).map_err(self.err())?;
        }
        Ok(())
    }

    /// Empties the index and sets its cursor to 0, durably, so that catching up rebuilds it from the
    /// archive's first event.
    pub fn clear(&self) -> Result<(), SearchError> {
        {
            let guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            guard.as_ref().ok_or(SearchError::WriterGone)?.delete_all_documents().map_err(self.err())?;
        }
        self.commit(0)
    }

    /// Makes staged documents durable and searchable, recording `cursor` (the last archive event
    /// applied) in the same commit.
    pub fn commit(&self, cursor: u64) -> Result<(), SearchError> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let writer = guard.as_mut().ok_or(SearchError::WriterGone)?;
        let mut prepared = writer.prepare_commit().map_err(self.err())?;
        prepared.set_payload(&cursor.to_string());
        prepared.commit().map_err(self.err())?;
        self.reader.reload().map_err(self.err())
    }

    /// Waits until the background merges of committed segments have finished, so that what follows
    /// (a benchmark, a backup of the directory) sees the index at rest. Staged, uncommitted documents
    /// are dropped: call it after [`commit`](Self::commit).
    pub fn wait_for_merges(&self) -> Result<(), SearchError> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(writer) = guard.take() {
            writer.wait_merging_threads().map_err(self.err())?;
        }
        *guard = Some(self.index.writer(WRITER_BUDGET).map_err(self.err())?);
        drop(guard);
        self.reader.reload().map_err(self.err())
    }

    /// The columns of each segment of `searcher`. They are opened once per segment and kept: opening
    /// a string column reads its dictionary's index, which costs more per search than grouping the
    /// matches does. Segments merged away are forgotten.
    fn columns(&self, searcher: &tantivy::Searcher) -> Result<Vec<Arc<SegmentColumns>>, SearchError> {
        let mut cache = self.columns.lock().unwrap_or_else(|p| p.into_inner());
        let readers = searcher.segment_readers();
        if readers.iter().any(|r| !cache.contains_key(&r.segment_id())) {
            let live: HashSet<tantivy::index::SegmentId> = readers.iter().map(|r| r.segment_id()).collect();
            cache.retain(|id, _| live.contains(id));
        }
        readers
            .iter()
            .map(|reader| match cache.entry(reader.segment_id()) {
                Entry::Occupied(columns) => Ok(columns.get().clone()),
                Entry::Vacant(slot) => {
                    Ok(slot.insert(Arc::new(SegmentColumns::of(reader).map_err(self.err())?)).clone())
                }
            })
            .collect()
    }

    /// The last archive event whose effect is committed in the index (0 for a new index).
    pub fn cursor(&self) -> Result<u64, SearchError> {
        let metas = self.index.load_metas().map_err(self.err())?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{STORED, STRING};

    use super::*;
    use crate::index::test_support::*;

    #[test]
    fn an_index_of_another_schema_is_rebuilt_from_scratch() {
        let dir = tempfile::tempdir().unwrap();
        let mut old = Schema::builder();
        old.add_text_field("code", STRING | STORED);
        let index = Index::create_in_dir(dir.path(), old.build()).unwrap();
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        let mut prepared = writer.prepare_commit().unwrap();
        prepared.set_payload("42");
        prepared.commit().unwrap();
        drop((writer, index));
        let index = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(index.cursor().unwrap(), 0, "the rebuilt index catches up from the first event");
    }

    #[test]
    fn finds_with_and_without_diacritics_and_keeps_the_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        index
            .add(&doc("001099012345.GPXD.01", "Hồ sơ xây dựng", &["Trang đầu", "Cấp Giấy phép xây dựng nhà ở"]))
            .unwrap();
        index.add(&doc("001099012345.GKS.01", "Giấy khai sinh", &["Họ và tên: Nguyễn Văn A"])).unwrap();
        index.commit(7).unwrap();

        let hits = index.find("giấy phép", 10).unwrap();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].code.to_string(), "001099012345.GPXD.01");
        assert_eq!(hits[0].page, 2);
        assert!(hits[0].snippet.contains("<b>Giấy</b>"), "{}", hits[0].snippet);
        assert_eq!(index.find("giay phep", 10).unwrap()[0].code, hits[0].code);
        assert_eq!(index.find("NGUYEN van", 10).unwrap()[0].code.to_string(), "001099012345.GKS.01");
        assert!(index.find("không có", 10).unwrap().is_empty());
        assert!(index.find("\"unbalanced (", 10).is_ok());

        drop(index);
        let index = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(index.cursor().unwrap(), 7);
        // Re-adding a document replaces it rather than duplicating it.
        index.add(&doc("001099012345.GKS.01", "Giấy khai sinh", &["Họ và tên: Trần Thị B"])).unwrap();
        index.commit(8).unwrap();
        assert!(index.find("nguyen", 10).unwrap().is_empty());
        assert_eq!(index.find("tran thi", 10).unwrap().len(), 1);
    }
}
