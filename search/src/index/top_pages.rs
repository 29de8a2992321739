//! The best pages of a query: searched segment after segment with one block-max pruning threshold,
//! then the best of them ranked again with the bonus of exact spellings, names and whole numbers.

use std::cmp::Reverse;

use tantivy::query::{Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Term};

use super::SearchIndex;
use crate::SearchError;

/// The best pages whose order the ranking bonus (exact spellings, names, whole numbers) refines.
const RERANKED: usize = 200;

/// Orders scored pages best first, ties by address, so that equal scores order the same way in
/// every run.
fn best_first(a: &(f32, tantivy::DocAddress), b: &(f32, tantivy::DocAddress)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

impl SearchIndex {
    /// The `k` best-scoring pages matching `query`, best first. Segments are searched one after the
    /// other with the k-th best score so far as the threshold below which block-max pruning skips
    /// postings: tantivy's `TopDocs` starts every segment from nothing, so each segment would fully
    /// score its own first k pages. Scores are comparable across segments because the weight takes
    /// its statistics from the whole searcher.
    pub(crate) fn top_pages(
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

    /// Adds the ranking bonus (exact spellings, words of the name, whole numbers) to the best
    /// [`RERANKED`] of `top` and sorts them again. The bonus is the sum of each of its terms' scores,
    /// boosted by field, on those pages alone: each term's postings are sought to the pages in
    /// document order, which skips whole blocks, rather than scoring every page with the words (or
    /// seeking a union of all the terms, which refills its window at every seek).
    pub(crate) fn rank(
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::query::QueryParser;

    use crate::index::test_support::*;

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
}
