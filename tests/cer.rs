//! The OCR score of the test pages (tests/data/pages/README.md), shared by the tests and `make bench` (which includes
//! this file by path), so that both report the same number.

use unicode_normalization::UnicodeNormalization;

/// Character error rate: Levenshtein distance over the reference length, on NFC text with white
/// space folded to single spaces (the scoring of tests/data/pages/README.md).
pub fn cer(reference: &str, hypothesis: &str) -> f64 {
    let (edits, length) = edits(reference, hypothesis);
    edits as f64 / length.max(1) as f64
}

/// The CER a corpus page must meet (issue 3): 1%, or 2% for the faded page under the legal minimum.
pub fn page_bound(page: &str) -> f64 {
    if page.starts_with("faded150") { 0.02 } else { 0.01 }
}

/// The edit distance behind [`cer`] and the reference length, for rates over several pages.
pub fn edits(reference: &str, hypothesis: &str) -> (usize, usize) {
    let norm = |s: &str| -> Vec<char> {
        s.nfc().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ").chars().collect()
    };
    let (r, h) = (norm(reference), norm(hypothesis));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rc) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hc) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rc != hc)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    (prev[h.len()], r.len())
}

#[test]
fn cer_counts_edits() {
    assert_eq!(cer("abcd", "abcd"), 0.0);
    assert_eq!(cer("abcd", "abxd"), 0.25);
    assert_eq!(cer("a  b\nc", "a b c"), 0.0);
}
