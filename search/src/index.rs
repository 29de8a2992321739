use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use domain::DocumentCode;
use rustc_hash::{FxHashMap, FxHashSet};
use tantivy::DocSet;
use tantivy::columnar::{Column, StrColumn};
use tantivy::directory::MmapDirectory;
use tantivy::query::QueryParser;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::{SearchError, analyzer};

const EXACT: &str = "vi_exact";
const FOLDED: &str = "vi_folded";
const CODES: &str = "vi_codes";
const CODE_RUNS: &str = "vi_code_runs";
/// The `kind` of the index document that carries a document's metadata.
const KIND_DOCUMENT: &str = "document";
/// The `kind` of the index documents that carry one page's text each.
const KIND_PAGE: &str = "page";
/// `valid_until` of documents valid without end: after every real date.
const PERMANENT: u64 = 99_991_231;
/// Most documents a reuse lookup returns: more than any one citizen has.
const MAX_REUSE: usize = 1000;

/// A day as the number `yyyymmdd`, which orders as the days do.
fn day_number(day: NaiveDate) -> u64 {
    (day.year() as u64) * 10_000 + u64::from(day.month()) * 100 + u64::from(day.day())
}

fn from_day_number(n: u64) -> Option<NaiveDate> {
    (n != PERMANENT)
        .then(|| NaiveDate::from_ymd_opt((n / 10_000) as i32, (n / 100 % 100) as u32, (n % 100) as u32))
        .flatten()
}

/// A document found by a search, at its best page.
struct Picked {
    score: f32,
    address: tantivy::DocAddress,
    captured: i64,
    /// Read only for the documents whose order needs it (see [`order_window`]).
    code: String,
}

/// Sorts `picked` as `sort` asks, ties by code, as far as the documents in `window` need it, and
/// returns those. The codes, which cost a dictionary lookup each, are read only for the documents in
/// the window and those tied with its first or last: everything before them is strictly better
/// and everything after strictly worse, whatever their codes.
fn order_window<E>(
    picked: &mut Vec<Picked>,
    sort: SortOrder,
    window: std::ops::Range<usize>,
    mut code_of: impl FnMut(&Picked) -> Result<String, E>,
) -> Result<Vec<Picked>, E> {
    let primary = |a: &Picked, b: &Picked| match sort {
        SortOrder::Relevance => b.score.total_cmp(&a.score),
        SortOrder::Newest => b.captured.cmp(&a.captured),
        SortOrder::Oldest => a.captured.cmp(&b.captured),
    };
    if window.is_empty() {
        return Ok(Vec::new());
    }
    picked.sort_unstable_by(primary);
    let (first, last) = (window.start, window.end - 1);
    let from = picked[..first].partition_point(|p| primary(p, &picked[first]).is_lt());
    let to = last + 1 + picked[last + 1..].partition_point(|p| primary(p, &picked[last]).is_eq());
    for p in &mut picked[from..to] {
        p.code = code_of(p)?;
    }
    picked[from..to].sort_by(|a, b| primary(a, b).then_with(|| a.code.cmp(&b.code)));
    Ok(picked.drain(window).collect())
}

/// The columns of one segment that searches and reuse lookups read instead of stored documents (a
/// stored document is read from a compressed block that mostly holds page text).
struct SegmentColumns {
    code: Option<StrColumn>,
    doc_type: Option<StrColumn>,
    status: Option<StrColumn>,
    issuer: Option<StrColumn>,
    year: Column<u64>,
    captured: Column<i64>,
    name: Option<StrColumn>,
    number: Option<StrColumn>,
    issuing_body: Option<StrColumn>,
    issue_date: Column<u64>,
    valid_until: Column<u64>,
    code_key: Column<u64>,
}

impl SegmentColumns {
    fn of(reader: &tantivy::SegmentReader) -> tantivy::Result<Self> {
        let fast = reader.fast_fields();
        Ok(SegmentColumns {
            code: fast.str("code")?,
            doc_type: fast.str("doc_type")?,
            status: fast.str("status")?,
            issuer: fast.str("issuer")?,
            year: fast.u64("year")?,
            captured: fast.i64("captured")?,
            name: fast.str("name")?,
            number: fast.str("number")?,
            issuing_body: fast.str("issuing_body")?,
            issue_date: fast.u64("issue_date")?,
            valid_until: fast.u64("valid_until")?,
            code_key: fast.u64("code_key")?,
        })
    }

    /// The ordinals of `statuses` in this segment's status column (a status no page of the segment
    /// has is left out).
    fn status_ords(&self, statuses: &[IndexStatus]) -> Vec<u64> {
        let Some(column) = &self.status else { return Vec::new() };
        statuses.iter().filter_map(|s| column.dictionary().term_ord(s.as_str()).ok().flatten()).collect()
    }
}

/// Orders scored pages best first, ties by address, so that equal scores order the same way in
/// every run.
fn best_first(a: &(f32, tantivy::DocAddress), b: &(f32, tantivy::DocAddress)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// A number that tells documents apart without reading their codes: the first 8 bytes of the code's
/// BLAKE3. A document's pages may sit in different segments (the writer's threads each fill their
/// own), where their code ordinals differ; equal keys are confirmed by comparing the codes.
fn code_key(code: &str) -> u64 {
    let hash = blake3::hash(code.as_bytes());
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// The first term ordinal of `doc` in a string column.
fn ord_of(column: &Option<StrColumn>, doc: u32) -> Option<u64> {
    column.as_ref().and_then(|c| c.term_ords(doc).next())
}

/// The first string of `doc` in a string column, empty if none.
fn str_of(column: &Option<StrColumn>, doc: u32) -> Result<String, std::io::Error> {
    let mut out = String::new();
    if let (Some(column), Some(ord)) = (column, ord_of(column, doc)) {
        column.ord_to_str(ord, &mut out)?;
    }
    Ok(out)
}

/// Memory the index writer may use before it flushes a segment.
const WRITER_BUDGET: usize = 50 << 20;

/// Where a document stands, as search filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// `active` or `held`.
    pub status: String,
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
    /// The type code.
    pub doc_type: String,
    /// The status (`active`, `held`, `revoked`).
    pub status: String,
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

/// The best pages whose order the ranking bonus (exact spellings, names, whole numbers) refines.
const RERANKED: usize = 200;

#[derive(Clone, Copy)]
struct Fields {
    kind: Field,
    code: Field,
    code_key: Field,
    dossier: Field,
    procedure: Field,
    number: Field,
    issuing_body: Field,
    issue_date: Field,
    valid_until: Field,
    status: Field,
    captured: Field,
    facets: Field,
    issuer: Field,
    year: Field,
    owner: Field,
    doc_type: Field,
    name: Field,
    page: Field,
    text: Field,
    text_folded: Field,
    numbers: Field,
    code_runs: Field,
}

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

fn text_options(tokenizer: &str, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(tokenizer)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored { options.set_stored() } else { options }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it if absent.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        let err = |source| SearchError::Index { path: dir.to_owned(), source };
        std::fs::create_dir_all(dir).map_err(|source| SearchError::Io { path: dir.to_owned(), source })?;
        let mut schema = Schema::builder();
        // Stored are only what a hit shows of its page (name, owner, type, status, page number and
        // text); everything else searches, groups and reuse lookups read comes from columns, and
        // stored copies would only make every block of the doc store larger.
        let fields = Fields {
            kind: schema.add_text_field("kind", STRING),
            code: schema.add_text_field("code", STRING | FAST),
            code_key: schema.add_u64_field("code_key", FAST),
            dossier: schema.add_text_field("dossier", STRING),
            procedure: schema.add_text_field("procedure", STRING),
            number: schema.add_text_field("number", TextOptions::default().set_fast("raw")),
            issuing_body: schema.add_text_field("issuing_body", TextOptions::default().set_fast("raw")),
            issue_date: schema.add_u64_field("issue_date", INDEXED | FAST),
            valid_until: schema.add_u64_field("valid_until", FAST),
            status: schema.add_text_field("status", STRING | STORED | FAST),
            captured: schema.add_i64_field("captured", INDEXED | FAST),
            facets: schema.add_facet_field("facets", FacetOptions::default()),
            issuer: schema.add_text_field("issuer", STRING | FAST),
            year: schema.add_u64_field("year", INDEXED | FAST),
            owner: schema.add_text_field("owner", STRING | STORED),
            doc_type: schema.add_text_field("doc_type", STRING | STORED | FAST),
            name: schema.add_text_field("name", text_options(EXACT, true).set_fast("raw")),
            page: schema.add_u64_field("page", STORED),
            text: schema.add_text_field("text", text_options(EXACT, true)),
            text_folded: schema.add_text_field("text_folded", text_options(FOLDED, false)),
            numbers: schema.add_text_field("numbers", text_options(CODES, false)),
            code_runs: schema.add_text_field(
                "code_runs",
                TextOptions::default().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer(CODE_RUNS)
                        .set_index_option(IndexRecordOption::WithFreqs),
                ),
            ),
        };
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
                    status: str_of(&c.status, doc).map_err(io)?,
                });
            }
        }
        // Newest issue first; documents without an issue date last; ties by code, so that the order
        // does not depend on where documents sit in the index.
        hits.sort_by(|a, b| b.issue_date.cmp(&a.issue_date).then_with(|| a.code.cmp(&b.code)));
        hits.truncate(MAX_REUSE);
        Ok(hits)
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

    /// The `k` best-scoring pages matching `query`, best first. Segments are searched one after the
    /// other with the k-th best score so far as the threshold below which block-max pruning skips
    /// postings: tantivy's `TopDocs` starts every segment from nothing, so each segment would fully
    /// score its own first k pages. Scores are comparable across segments because the weight takes
    /// its statistics from the whole searcher.
    fn top_pages(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        k: usize,
    ) -> Result<Vec<(f32, tantivy::DocAddress)>, SearchError> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let weight =
            query.weight(tantivy::query::EnableScoring::enabled_from_searcher(searcher)).map_err(self.err())?;
        // The best pages so far, in a buffer of twice k that is cut back to the best k when full;
        // the k-th best score then becomes the threshold a page must beat. (A heap keeps the
        // threshold exact at every page, but costs a logarithmic pop for each page that enters.)
        let mut best: Vec<(f32, tantivy::DocAddress)> = Vec::with_capacity(2 * k);
        let mut threshold = f32::MIN;
        // The largest segments first: they raise the threshold soonest.
        let mut segments: Vec<(u32, &tantivy::SegmentReader)> =
            searcher.segment_readers().iter().enumerate().map(|(i, r)| (i as u32, r)).collect();
        segments.sort_by_key(|(_, r)| Reverse(r.num_docs()));
        for (ord, reader) in segments {
            let alive = reader.alive_bitset();
            weight
                .for_each_pruning(threshold, reader, &mut |doc, score| {
                    if score > threshold && !alive.is_some_and(|a| a.is_deleted(doc)) {
                        if best.len() == best.capacity() {
                            best.select_nth_unstable_by(k - 1, best_first);
                            threshold = best[k - 1].0;
                            best.truncate(k);
                        }
                        if score > threshold {
                            best.push((score, tantivy::DocAddress::new(ord, doc)));
                        }
                    }
                    threshold
                })
                .map_err(self.err())?;
        }
        best.sort_unstable_by(best_first);
        best.truncate(k);
        Ok(best)
    }

    /// What a page must hold to match `text` (users type free text, not query syntax), and the terms
    /// its snippet highlights. Every word is required in the folded field, with or without
    /// diacritics. A number or code typed with its joiners (`123/QĐ-UBND`, or a run of its parts such
    /// as `QĐ-UBND`) is required as one term of the code runs rather than as a phrase of its parts,
    /// which each occur on most pages (`2018`, `nd`, `cp`) and would be intersected position by
    /// position; its parts are still highlighted.
    fn required_terms(&self, text: &str) -> (Vec<Term>, Vec<Term>) {
        let f = self.fields;
        let mut required: Vec<Term> = Vec::new();
        let mut highlighted: Vec<Term> = Vec::new();
        let mut codes: Vec<std::ops::Range<usize>> = Vec::new();
        let mut runs = analyzer::code_runs();
        let mut stream = runs.token_stream(text);
        while stream.advance() {
            let token = stream.token();
            // The whole code comes first; its shorter runs lie inside it.
            if !codes.iter().any(|c| c.start <= token.offset_from && token.offset_to <= c.end) {
                codes.push(token.offset_from..token.offset_to);
                required.push(Term::from_field_text(f.code_runs, &token.text));
            }
        }
        let mut folded = analyzer::folded();
        let mut stream = folded.token_stream(text);
        while stream.advance() {
            let token = stream.token();
            let term = Term::from_field_text(f.text_folded, &token.text);
            if !codes.iter().any(|c| c.contains(&token.offset_from)) && !required.contains(&term) {
                required.push(term.clone());
            }
            if !highlighted.contains(&term) {
                highlighted.push(term);
            }
        }
        (required, highlighted)
    }

    /// Adds the ranking bonus (exact spellings, words of the name, whole numbers) to the best
    /// [`RERANKED`] of `top` and sorts them again. The bonus is the sum of each of its terms' scores,
    /// boosted by field, on those pages alone: each term's postings are sought to the pages in
    /// document order, which skips whole blocks, rather than scoring every page with the words (or
    /// seeking a union of all the terms, which refills its window at every seek).
    fn rank(
        &self,
        searcher: &tantivy::Searcher,
        bonus: &[(Term, f32)],
        top: &mut [(f32, tantivy::DocAddress)],
    ) -> Result<(), SearchError> {
        let n = top.len().min(RERANKED);
        let scoring = tantivy::query::EnableScoring::enabled_from_searcher(searcher);
        let weights = bonus
            .iter()
            .map(|(term, boost)| {
                Ok((
                    TermQuery::new(term.clone(), IndexRecordOption::WithFreqs).weight(scoring).map_err(self.err())?,
                    *boost,
                ))
            })
            .collect::<Result<Vec<_>, SearchError>>()?;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| top[i].1);
        let mut current: Option<(u32, Vec<Box<dyn tantivy::query::Scorer>>)> = None;
        for i in order {
            let address = top[i].1;
            if current.as_ref().map(|(segment, _)| *segment) != Some(address.segment_ord) {
                let reader = searcher.segment_reader(address.segment_ord);
                let scorers = weights
                    .iter()
                    .map(|(w, boost)| w.scorer(reader, *boost))
                    .collect::<Result<_, _>>()
                    .map_err(self.err())?;
                current = Some((address.segment_ord, scorers));
            }
            let (_, scorers) = current.as_mut().expect("set above");
            for scorer in scorers {
                if scorer.doc() <= address.doc_id && scorer.seek(address.doc_id) == address.doc_id {
                    top[i].0 += scorer.score();
                }
            }
        }
        top[..n].sort_by(best_first);
        Ok(())
    }

    /// The last archive event whose effect is committed in the index (0 for a new index).
    pub fn cursor(&self) -> Result<u64, SearchError> {
        let metas = self.index.load_metas().map_err(self.err())?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    /// Documents matching every word of the request (with or without diacritics) in their name,
    /// number or text, filtered, ordered and paged as asked; one hit per document, at its best page.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let f = self.fields;
        let (required, highlighted) = self.required_terms(&request.text);
        if required.is_empty() {
            return Ok(SearchResults { total: 0, truncated: false, hits: Vec::new(), facets: BTreeMap::new() });
        }
        let as_query = |terms: &[Term]| -> Box<dyn Query> {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
                .iter()
                .map(|t| {
                    (Occur::Must, Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs)) as Box<dyn Query>)
                })
                .collect();
            if clauses.len() == 1 { clauses.pop().expect("one clause").1 } else { Box::new(BooleanQuery::new(clauses)) }
        };
        let words = as_query(&required);
        // What ranks a page higher is scored on the best pages only: exact spellings, words of the
        // document's name, and a whole document number (one rare term), each term boosted by field.
        let ranking = QueryParser::for_index(&self.index, vec![f.text, f.name, f.numbers]);
        let (parsed, _) = ranking.parse_query_lenient(&request.text);
        let mut bonus: Vec<(Term, f32)> = Vec::new();
        parsed.query_terms(&mut |term, _| {
            let boost = match term.field() {
                field if field == f.numbers => 4.0,
                field if field == f.name => 3.0,
                _ => 2.0,
            };
            if !bonus.iter().any(|(t, _)| t == term) {
                bonus.push((term.clone(), boost));
            }
        });
        // Filters add nothing to the score.
        let filter =
            |q: Box<dyn Query>| -> (Occur, Box<dyn Query>) { (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0))) };
        let term = |field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
        };
        let mut clauses = Vec::new();
        if let Some(t) = &request.doc_type {
            clauses.push(filter(term(f.doc_type, t)));
        }
        if let Some(body) = &request.issuing_body {
            clauses.push(filter(term(f.issuer, body)));
        }
        if let Some(year) = request.year {
            let year = TermQuery::new(Term::from_field_u64(f.year, year.max(0) as u64), IndexRecordOption::Basic);
            clauses.push(filter(Box::new(year)));
        }
        // Statuses that include the active ones select almost every page: they are checked on the
        // best pages below. Only a search for the rare ones (revoked, held) needs them in the query.
        let status_in_query = !request.statuses.is_empty() && !request.statuses.contains(&IndexStatus::Active);
        if status_in_query {
            let any = request.statuses.iter().map(|s| (Occur::Should, term(f.status, s.as_str()))).collect();
            clauses.push(filter(Box::new(BooleanQuery::new(any))));
        }
        // Without filters the query is the words alone, an intersection of terms that tantivy
        // searches with block-max pruning: it skips the blocks of postings that cannot reach the best
        // pages instead of scoring every page that has the words.
        let query: Box<dyn Query> = if clauses.is_empty() {
            words.box_clone()
        } else {
            clauses.push((Occur::Must, words.box_clone()));
            Box::new(BooleanQuery::new(clauses))
        };
        let searcher = self.reader.searcher();
        let mut top = self.top_pages(&searcher, &*query, MAX_MATCHES)?;
        let truncated = top.len() == MAX_MATCHES;
        self.rank(&searcher, &bonus, &mut top)?;
        // Grouping by document, counting facets and sorting read only columns (fast fields); stored
        // pages are read for the hits returned, not for every match.
        let columns = self.columns(&searcher)?;
        // Everything here works on term ordinals; strings are looked up once per distinct value
        // (a dictionary lookup per page and column would cost more than the search itself).
        let allowed: Vec<Option<Vec<u64>>> = columns
            .iter()
            .map(|c| (!status_in_query && !request.statuses.is_empty()).then(|| c.status_ords(&request.statuses)))
            .collect();
        let io = |source| SearchError::Io { path: self.path.clone(), source };
        // Each document once, at its best page: pages of one segment share the code's ordinal, and
        // pages in other segments are recognised by the code's key (confirmed on the codes).
        let mut taken: FxHashSet<(u32, u64)> = FxHashSet::default();
        let mut first_of_key: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
        let mut picked: Vec<Picked> = Vec::new();
        // (segment, column, ordinal) → documents, for the string facets; years are numbers already.
        let mut counted: FxHashMap<(u32, u8, u64), usize> = FxHashMap::default();
        let mut years: FxHashMap<u64, usize> = FxHashMap::default();
        for (score, address) in top {
            let (segment, doc) = (address.segment_ord, address.doc_id);
            let c = &columns[segment as usize];
            if let Some(allowed) = &allowed[segment as usize] {
                if !ord_of(&c.status, doc).is_some_and(|o| allowed.contains(&o)) {
                    continue;
                }
            }
            let Some(code) = ord_of(&c.code, doc) else { continue };
            if !taken.insert((segment, code)) {
                continue;
            }
            let key = c.code_key.first(doc).unwrap_or_default();
            match first_of_key.get(&key) {
                Some(&(other, other_doc)) if other != segment => {
                    let theirs = str_of(&columns[other as usize].code, other_doc).map_err(io)?;
                    if theirs == str_of(&c.code, doc).map_err(io)? {
                        continue;
                    }
                }
                Some(_) => {}
                None => {
                    first_of_key.insert(key, (segment, doc));
                }
            }
            for (column, value) in
                [(0u8, ord_of(&c.doc_type, doc)), (1, ord_of(&c.status, doc)), (2, ord_of(&c.issuer, doc))]
            {
                if let Some(value) = value {
                    *counted.entry((segment, column, value)).or_default() += 1;
                }
            }
            if let Some(year) = c.year.first(doc) {
                *years.entry(year).or_default() += 1;
            }
            picked.push(Picked { score, address, captured: c.captured.first(doc).unwrap_or(0), code: String::new() });
        }
        let mut facets: BTreeMap<String, usize> =
            years.into_iter().map(|(year, n)| (format!("/year/{year}"), n)).collect();
        for ((segment, column, value), n) in counted {
            let c = &columns[segment as usize];
            let (name, source) = match column {
                0 => ("type", &c.doc_type),
                1 => ("status", &c.status),
                _ => ("issuer", &c.issuer),
            };
            let mut label = String::new();
            if let Some(source) = source {
                source.ord_to_str(value, &mut label).map_err(io)?;
            }
            if !label.is_empty() {
                *facets.entry(format!("/{name}/{label}")).or_default() += n;
            }
        }
        let total = picked.len();
        let window = request.offset.min(total)..request.offset.saturating_add(request.limit).min(total);
        let wanted = order_window(&mut picked, request.sort, window, |p| {
            str_of(&columns[p.address.segment_ord as usize].code, p.address.doc_id).map_err(io)
        })?;
        let mut snippets =
            SnippetGenerator::create(&searcher, &*as_query(&highlighted), f.text_folded).map_err(self.err())?;
        snippets.set_max_num_chars(200);
        let mut hits = Vec::new();
        for Picked { score, address, captured: captured_at, code } in wanted {
            let doc: TantivyDocument = searcher.doc(address).map_err(self.err())?;
            let text_of = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let Ok(code) = code.parse() else { continue };
            hits.push(Hit {
                code,
                name: text_of(f.name),
                owner: text_of(f.owner),
                page: doc.get_first(f.page).and_then(|v| v.as_u64()).unwrap_or(1) as u32,
                score,
                snippet: snippets.snippet(&text_of(f.text)).to_html(),
                doc_type: text_of(f.doc_type),
                status: text_of(f.status),
                captured_at,
            });
        }
        Ok(SearchResults { total, truncated, hits, facets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(code: &str, name: &str, pages: &[&str]) -> IndexDocument {
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
        fn find(&self, text: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
            Ok(self.search(&SearchRequest { text: text.into(), limit, ..SearchRequest::default() })?.hits)
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

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
        assert_eq!((hit.issue_date, hit.valid_until, hit.status.as_str()), (Some(day(1999, 5, 1)), None, "active"));
        // A destroyed document's text is not searchable; its metadata stays for the record.
        assert!(index.find("trang", 10).unwrap().iter().all(|h| h.code.to_string() != "001099012345.GPXD.02"));
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

    #[test]
    fn numbers_symbols_and_ids_are_found_whole_and_in_parts() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        let text =
            "Căn cứ Quyết định số 123/QĐ-UBND ngày 11/10/2024; hồ sơ H56.14-241011-0001 của ông An, CCCD 001099012345.";
        index.add(&doc("001099012345.QD.01", "Quyết định", &[text])).unwrap();
        index
            .add(&doc(
                "001099012345.QD.02",
                "Quyết định khác",
                &["Quyết định số 124/QĐ-UBND, hồ sơ H56.14-241011-0002"],
            ))
            .unwrap();
        index.commit(1).unwrap();
        let codes = |q: &str| index.find(q, 10).unwrap().into_iter().map(|h| h.code.to_string()).collect::<Vec<_>>();
        for query in [
            "123/QĐ-UBND",
            "123/qd-ubnd",
            "123-QĐ-UBND",
            "số 123/QĐ-UBND",
            "H56.14-241011-0001",
            "001099012345",
            "11/10/2024",
            "\"số 123/qđ-ubnd\"",
        ] {
            assert_eq!(codes(query), ["001099012345.QD.01"], "{query}");
        }
        assert_eq!(codes("QĐ-UBND").len(), 2, "a part of a number finds every number that has it");
        let hit = &index.find("123/QĐ-UBND", 10).unwrap()[0];
        assert!(hit.snippet.contains("<b>123</b>/<b>QĐ</b>-<b>UBND</b>"), "{}", hit.snippet);
    }

    #[test]
    fn the_best_pages_across_segments_are_tantivys_top_docs() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        let words = ["giấy", "phép", "xây", "dựng", "nhà", "ở", "đất", "cấp"];
        // Several commits make several segments; re-adding documents deletes their earlier pages.
        for round in 0..4u64 {
            for i in 0..60usize {
                let text: Vec<&str> =
                    (0..40).map(|j| words[(i * 7 + j * (j + round as usize)) % words.len()]).collect();
                index
                    .add(&doc(
                        &format!("0010990{:05}.GPXD.01", i + 60 * (round as usize % 2)),
                        "Giấy phép",
                        &[&text.join(" ")],
                    ))
                    .unwrap();
            }
            index.commit(round).unwrap();
        }
        let searcher = index.reader.searcher();
        assert!(searcher.segment_readers().len() > 1);
        let query = QueryParser::for_index(&index.index, vec![index.fields.text_folded])
            .parse_query("+giay +phep +dat")
            .unwrap();
        for k in [1, 5, 50, 1000] {
            let ours = index.top_pages(&searcher, &*query, k).unwrap();
            let theirs =
                searcher.search(&*query, &tantivy::collector::TopDocs::with_limit(k).order_by_score()).unwrap();
            assert_eq!(
                ours.iter().map(|t| t.0).collect::<Vec<_>>(),
                theirs.iter().map(|t| t.0).collect::<Vec<_>>(),
                "scores, k = {k}"
            );
            assert!(ours.iter().all(|(_, a)| !searcher.segment_reader(a.segment_ord).is_deleted(a.doc_id)));
        }
        assert!(index.top_pages(&searcher, &*query, 0).unwrap().is_empty());
    }

    #[test]
    fn a_document_whose_pages_are_in_several_segments_is_one_hit() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        // The writer's threads each fill a segment of their own: a document's pages land in both.
        let pages: Vec<String> = (0..40).map(|i| format!("Trang {i} của giấy phép xây dựng")).collect();
        let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
        index.add(&doc("001099012345.GPXD.01", "Giấy phép", &pages)).unwrap();
        index.add(&doc("001099054321.GPXD.01", "Giấy phép", &pages)).unwrap();
        index.commit(1).unwrap();
        let found =
            index.search(&SearchRequest { text: "giay phep".into(), limit: 10, ..SearchRequest::default() }).unwrap();
        assert_eq!(found.total, 2, "{:?}", found.hits);
        assert_eq!(found.facets["/type/GPXD"], 2);
        assert!(!found.truncated);
        // More matching pages than a search considers: the counts are said to be over the best.
        let many: Vec<String> = (0..MAX_MATCHES + 1).map(|i| format!("Trang {i} của giấy phép")).collect();
        index
            .add(&doc("001099099999.GPXD.01", "Giấy phép", &many.iter().map(String::as_str).collect::<Vec<_>>()))
            .unwrap();
        index.commit(2).unwrap();
        assert!(
            index
                .search(&SearchRequest { text: "giay phep".into(), limit: 10, ..SearchRequest::default() })
                .unwrap()
                .truncated
        );
    }

    #[test]
    fn the_window_of_results_is_ordered_as_a_full_sort_would_order_it() {
        let picked = |n: usize| -> Vec<Picked> {
            (0..n)
                .map(|i| Picked {
                    score: (i * 7 % 5) as f32,
                    address: tantivy::DocAddress::new(0, i as u32),
                    captured: (i % 3) as i64,
                    code: String::new(),
                })
                .collect()
        };
        let code = |p: &Picked| Ok::<_, ()>(format!("{:03}", (p.address.doc_id * 37) % 101));
        for sort in [SortOrder::Relevance, SortOrder::Newest, SortOrder::Oldest] {
            let mut all = picked(40);
            let full = order_window(&mut all, sort, 0..40, code).unwrap();
            for window in [0..1, 0..10, 3..17, 8..9, 20..40, 39..40, 5..5] {
                let mut some = picked(40);
                let got: Vec<u32> = order_window(&mut some, sort, window.clone(), code)
                    .unwrap()
                    .iter()
                    .map(|p| p.address.doc_id)
                    .collect();
                let want: Vec<u32> = full[window.clone()].iter().map(|p| p.address.doc_id).collect();
                assert_eq!(got, want, "{sort:?} {window:?}");
            }
        }
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

    #[test]
    fn filters_facets_order_and_pages() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        let page = ["Đơn đề nghị cấp giấy phép xây dựng nhà ở riêng lẻ"];
        let docs = [
            ("001099012345.GPXD.01", IndexStatus::Active, "UBND quận 1", 2023, 100),
            ("001099012345.GPXD.02", IndexStatus::Revoked, "UBND quận 1", 2024, 300),
            ("001099054321.GPXD.01", IndexStatus::Held, "UBND quận 3", 2024, 200),
            ("001099054321.HS.01", IndexStatus::Active, "UBND quận 3", 2024, 400),
        ];
        for (code, status, issuer, year, captured) in docs {
            let d = IndexDocument {
                status,
                issuing_body: Some(issuer.into()),
                issue_date: Some(day(year, 1, 2)),
                captured_at: captured,
                ..doc(code, "Giấy phép", &page)
            };
            index.add(&d).unwrap();
        }
        index.commit(1).unwrap();
        let run = |r: SearchRequest| {
            index
                .search(&SearchRequest {
                    text: "giay phep xay dung".into(),
                    limit: if r.limit == 0 { 10 } else { r.limit },
                    ..r
                })
                .unwrap()
        };
        let codes = |r: &SearchResults| r.hits.iter().map(|h| h.code.to_string()).collect::<Vec<_>>();

        let all = run(SearchRequest::default());
        assert_eq!((all.total, all.truncated), (4, false));
        assert_eq!(all.facets["/type/GPXD"], 3);
        assert_eq!(all.facets["/status/revoked"], 1);
        assert_eq!(all.facets["/year/2024"], 3);
        assert_eq!(all.facets["/issuer/UBND quận 3"], 2);
        assert_eq!(
            codes(&run(SearchRequest { sort: SortOrder::Newest, ..SearchRequest::default() })),
            ["001099054321.HS.01", "001099012345.GPXD.02", "001099054321.GPXD.01", "001099012345.GPXD.01"]
        );
        let oldest = run(SearchRequest { sort: SortOrder::Oldest, offset: 1, limit: 2, ..SearchRequest::default() });
        assert_eq!(
            (oldest.total, codes(&oldest)),
            (4, vec!["001099054321.GPXD.01".to_owned(), "001099012345.GPXD.02".to_owned()])
        );
        let filtered = run(SearchRequest {
            doc_type: Some("GPXD".into()),
            year: Some(2024),
            issuing_body: Some("UBND quận 1".into()),
            ..SearchRequest::default()
        });
        assert_eq!(codes(&filtered), ["001099012345.GPXD.02"]);
        let in_force =
            run(SearchRequest { statuses: vec![IndexStatus::Active, IndexStatus::Held], ..SearchRequest::default() });
        assert_eq!(in_force.total, 3);
        assert!(in_force.hits.iter().all(|h| h.status != "revoked"));
    }
}
