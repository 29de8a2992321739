use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use domain::DocumentCode;
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::QueryParser;
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::{SearchError, analyzer};

const EXACT: &str = "vi_exact";
const FOLDED: &str = "vi_folded";
const CODES: &str = "vi_codes";
/// Memory the index writer may use before it flushes a segment.
const WRITER_BUDGET: usize = 50 << 20;

/// What is indexed of one archived document.
#[derive(Debug, Clone)]
pub struct IndexDocument {
    /// The document code.
    pub code: DocumentCode,
    /// The owner's identifier, if any.
    pub owner: Option<String>,
    /// The document type code.
    pub doc_type: String,
    /// The document name.
    pub name: String,
    /// The OCR text of each page, in page order.
    pub pages: Vec<String>,
}

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
}

#[derive(Clone, Copy)]
struct Fields {
    code: Field,
    owner: Field,
    doc_type: Field,
    name: Field,
    name_folded: Field,
    page: Field,
    text: Field,
    text_folded: Field,
    numbers: Field,
}

/// The search index in a directory.
pub struct SearchIndex {
    path: PathBuf,
    index: Index,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    fields: Fields,
}

fn text_options(tokenizer: &str, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored { options.set_stored() } else { options }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it if absent.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        let err = |source| SearchError::Index { path: dir.to_owned(), source };
        std::fs::create_dir_all(dir).map_err(|source| SearchError::Io { path: dir.to_owned(), source })?;
        let mut schema = Schema::builder();
        let fields = Fields {
            code: schema.add_text_field("code", STRING | STORED),
            owner: schema.add_text_field("owner", STRING | STORED),
            doc_type: schema.add_text_field("doc_type", STRING | STORED),
            name: schema.add_text_field("name", text_options(EXACT, true)),
            name_folded: schema.add_text_field("name_folded", text_options(FOLDED, false)),
            page: schema.add_u64_field("page", STORED),
            text: schema.add_text_field("text", text_options(EXACT, true)),
            text_folded: schema.add_text_field("text_folded", text_options(FOLDED, false)),
            numbers: schema.add_text_field("numbers", text_options(CODES, false)),
        };
        let schema = schema.build();
        let directory = MmapDirectory::open(dir).map_err(|e| err(e.into()))?;
        let index = match Index::open_or_create(directory, schema.clone()) {
            // An index of an earlier schema is rebuilt, not migrated: search is derived data, and
            // an empty index (cursor 0) catches up from the archive's first event.
            Err(tantivy::TantivyError::SchemaError(_)) => {
                std::fs::remove_dir_all(dir).and_then(|_| std::fs::create_dir_all(dir)).map_err(|source| SearchError::Io { path: dir.to_owned(), source })?;
                Index::open_or_create(MmapDirectory::open(dir).map_err(|e| err(e.into()))?, schema).map_err(err)?
            }
            other => other.map_err(err)?,
        };
        index.tokenizers().register(EXACT, analyzer::exact());
        index.tokenizers().register(FOLDED, analyzer::folded());
        index.tokenizers().register(CODES, analyzer::codes());
        let writer = index.writer(WRITER_BUDGET).map_err(err)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err)?;
        Ok(SearchIndex { path: dir.to_owned(), index, writer: Mutex::new(writer), reader, fields })
    }

    fn err(&self) -> impl Fn(tantivy::TantivyError) -> SearchError + '_ {
        |source| SearchError::Index { path: self.path.clone(), source }
    }

    /// Stages a document (replacing any earlier entry for its code); it becomes searchable at the next
    /// [`commit`](Self::commit).
    pub fn add(&self, doc: &IndexDocument) -> Result<(), SearchError> {
        let f = self.fields;
        let code = doc.code.to_string();
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.delete_term(Term::from_field_text(f.code, &code));
        for (i, text) in doc.pages.iter().enumerate() {
            let mut d = TantivyDocument::default();
            d.add_text(f.code, &code);
            d.add_text(f.owner, doc.owner.as_deref().unwrap_or_default());
            d.add_text(f.doc_type, &doc.doc_type);
            d.add_text(f.name, &doc.name);
            d.add_text(f.name_folded, &doc.name);
            d.add_u64(f.page, i as u64 + 1);
            d.add_text(f.text, text);
            d.add_text(f.text_folded, text);
            d.add_text(f.numbers, &doc.name);
            d.add_text(f.numbers, text);
            writer.add_document(d).map_err(self.err())?;
        }
        Ok(())
    }

    /// Stages the removal of a document's every page (a destroyed document's text must leave the
    /// index); it takes effect at the next [`commit`](Self::commit).
    pub fn remove(&self, code: &DocumentCode) -> Result<(), SearchError> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.delete_term(Term::from_field_text(self.fields.code, &code.to_string()));
        Ok(())
    }

    /// Makes staged documents durable and searchable, recording `cursor` (the last archive event
    /// applied) in the same commit.
    pub fn commit(&self, cursor: u64) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut prepared = writer.prepare_commit().map_err(self.err())?;
        prepared.set_payload(&cursor.to_string());
        prepared.commit().map_err(self.err())?;
        self.reader.reload().map_err(self.err())
    }

    /// The last archive event whose effect is committed in the index (0 for a new index).
    pub fn cursor(&self) -> Result<u64, SearchError> {
        let metas = self.index.load_metas().map_err(self.err())?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    /// Documents matching every word of `query` (with or without diacritics) in their name or text,
    /// best first, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let f = self.fields;
        let mut parser = QueryParser::for_index(&self.index, vec![f.name, f.name_folded, f.text, f.text_folded, f.numbers]);
        parser.set_conjunction_by_default();
        // A whole document number is one rare term: it ranks above the same parts elsewhere.
        parser.set_field_boost(f.numbers, 4.0);
        // Exact spellings outrank folded ones, and a match in the name outranks one in the text.
        parser.set_field_boost(f.name, 3.0);
        parser.set_field_boost(f.name_folded, 1.5);
        parser.set_field_boost(f.text, 2.0);
        // Users type free text, not query syntax: whatever does not parse is taken as plain words.
        let (parsed, _) = parser.parse_query_lenient(query);
        let searcher = self.reader.searcher();
        // Several pages of one document may match; fetch enough page hits to fill `limit` documents.
        let top = searcher.search(&parsed, &TopDocs::with_limit(limit.max(1) * 8).order_by_score()).map_err(self.err())?;
        let mut snippets = SnippetGenerator::create(&searcher, &*parsed, f.text_folded).map_err(self.err())?;
        snippets.set_max_num_chars(200);
        let mut hits: Vec<Hit> = Vec::new();
        let mut seen: HashMap<String, ()> = HashMap::new();
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address).map_err(self.err())?;
            let text_of = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let code = text_of(f.code);
            if seen.insert(code.clone(), ()).is_some() {
                continue;
            }
            let Ok(parsed_code) = code.parse() else { continue };
            let page_text = text_of(f.text);
            hits.push(Hit {
                code: parsed_code,
                name: text_of(f.name),
                owner: text_of(f.owner),
                page: doc.get_first(f.page).and_then(|v| v.as_u64()).unwrap_or(1) as u32,
                score,
                snippet: snippets.snippet(&page_text).to_html(),
            });
            if hits.len() == limit {
                break;
            }
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(code: &str, name: &str, pages: &[&str]) -> IndexDocument {
        IndexDocument {
            code: code.parse().unwrap(),
            owner: Some("001099012345".into()),
            doc_type: "GPXD".into(),
            name: name.into(),
            pages: pages.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn finds_with_and_without_diacritics_and_keeps_the_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        index.add(&doc("001099012345.GPXD.01", "Hồ sơ xây dựng", &["Trang đầu", "Cấp Giấy phép xây dựng nhà ở"])).unwrap();
        index.add(&doc("001099012345.GKS.01", "Giấy khai sinh", &["Họ và tên: Nguyễn Văn A"])).unwrap();
        index.commit(7).unwrap();

        let hits = index.search("giấy phép", 10).unwrap();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].code.to_string(), "001099012345.GPXD.01");
        assert_eq!(hits[0].page, 2);
        assert!(hits[0].snippet.contains("<b>Giấy</b>"), "{}", hits[0].snippet);
        assert_eq!(index.search("giay phep", 10).unwrap()[0].code, hits[0].code);
        assert_eq!(index.search("NGUYEN van", 10).unwrap()[0].code.to_string(), "001099012345.GKS.01");
        assert!(index.search("không có", 10).unwrap().is_empty());
        assert!(index.search("\"unbalanced (", 10).is_ok());

        drop(index);
        let index = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(index.cursor().unwrap(), 7);
        // Re-adding a document replaces it rather than duplicating it.
        index.add(&doc("001099012345.GKS.01", "Giấy khai sinh", &["Họ và tên: Trần Thị B"])).unwrap();
        index.commit(8).unwrap();
        assert!(index.search("nguyen", 10).unwrap().is_empty());
        assert_eq!(index.search("tran thi", 10).unwrap().len(), 1);
    }

    #[test]
    fn numbers_symbols_and_ids_are_found_whole_and_in_parts() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        let text = "Căn cứ Quyết định số 123/QĐ-UBND ngày 11/10/2024; hồ sơ H56.14-241011-0001 của ông An, CCCD 001099012345.";
        index.add(&doc("001099012345.QD.01", "Quyết định", &[text])).unwrap();
        index.add(&doc("001099012345.QD.02", "Quyết định khác", &["Quyết định số 124/QĐ-UBND, hồ sơ H56.14-241011-0002"])).unwrap();
        index.commit(1).unwrap();
        let codes = |q: &str| index.search(q, 10).unwrap().into_iter().map(|h| h.code.to_string()).collect::<Vec<_>>();
        for query in ["123/QĐ-UBND", "123/qd-ubnd", "số 123/QĐ-UBND", "H56.14-241011-0001", "001099012345", "11/10/2024"] {
            assert_eq!(codes(query), ["001099012345.QD.01"], "{query}");
        }
        assert_eq!(codes("QĐ-UBND").len(), 2, "a part of a number finds every number that has it");
        let hit = &index.search("123/QĐ-UBND", 10).unwrap()[0];
        assert!(hit.snippet.contains("<b>123</b>/<b>QĐ</b>-<b>UBND</b>"), "{}", hit.snippet);
    }

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
}
