//! Full-text search: the query from the words and filters, one hit per document at its best page,
//! facet counts, and the window of results in the order asked, with snippets.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};
use tantivy::query::QueryParser;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{TantivyDocument, Term};

use super::facets::FacetCounts;
use super::fields::{ord_of, str_of};
use super::{Hit, IndexStatus, MAX_MATCHES, SearchIndex, SearchRequest, SearchResults, SortOrder};
use crate::{SearchError, analyzer};

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

impl SearchIndex {
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
        let mut facets = FacetCounts::default();
        for (score, address) in top {
            let (segment, doc) = (address.segment_ord, address.doc_id);
            let c = &columns[segment as usize];
            if let Some(allowed) = &allowed[segment as usize]
                && !ord_of(&c.status, doc).is_some_and(|o| allowed.contains(&o))
            {
                continue;
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
            facets.count(segment, c, doc);
            picked.push(Picked { score, address, captured: c.captured.first(doc).unwrap_or(0), code: String::new() });
        }
        let facets = facets.labelled(&columns).map_err(io)?;
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
                status: self.status(text_of(f.status))?,
                captured_at,
            });
        }
        Ok(SearchResults { total, truncated, hits, facets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDocument;
    use crate::index::test_support::*;

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
        assert!(in_force.hits.iter().all(|h| h.status != IndexStatus::Revoked));
    }
}
