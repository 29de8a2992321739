//! The Vietnamese analyzers, built on `tantivy-tokenizer-api`: [`Syllables`] splits text into
//! syllables, or picks out the whole document numbers and codes, or every run of their parts; then
//! filters rewrite each token's text: [`Nfc`], [`Lower`], and for the folded fields [`Fold`]. Every
//! filter is a [`TextMap`] run by [`MapFilter`], which can only change a token's text, so no filter
//! can move an offset or a position: snippets always highlight the original characters.

mod filter;
mod fold;
mod lower;
mod nfc;
mod syllables;

use tantivy::tokenizer::TextAnalyzer;

pub use filter::{MapFilter, TextMap};
pub use fold::{Fold, fold};
pub use lower::Lower;
pub use nfc::Nfc;
pub use syllables::Syllables;

/// The exact analyzer: syllables, NFC, lower case. Diacritics are kept.
pub fn exact() -> TextAnalyzer {
    TextAnalyzer::builder(Syllables::words()).filter(MapFilter(Nfc)).filter(MapFilter(Lower)).build()
}

/// The folded analyzer: [`exact`] without any diacritic (`ư`→`u`, `ơ`→`o`, `đ`→`d`, tones dropped).
pub fn folded() -> TextAnalyzer {
    TextAnalyzer::builder(Syllables::words())
        .filter(MapFilter(Nfc))
        .filter(MapFilter(Lower))
        .filter(MapFilter(Fold))
        .build()
}

/// The codes analyzer: whole document numbers and codes, folded, so that `123/qd-ubnd` finds
/// `123/QĐ-UBND` as one term.
pub fn codes() -> TextAnalyzer {
    TextAnalyzer::builder(Syllables::codes())
        .filter(MapFilter(Nfc))
        .filter(MapFilter(Lower))
        .filter(MapFilter(Fold))
        .build()
}

/// The code runs analyzer: every run of parts of every code ([`Syllables::runs`]), folded, so that a
/// number typed whole or in part, with any joiners, is one term.
pub fn code_runs() -> TextAnalyzer {
    TextAnalyzer::builder(Syllables::runs())
        .filter(MapFilter(Nfc))
        .filter(MapFilter(Lower))
        .filter(MapFilter(Fold))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn tokens(mut analyzer: TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
        }
        out
    }

    fn words(analyzer: TextAnalyzer, text: &str) -> Vec<String> {
        tokens(analyzer, text).into_iter().map(|t| t.0).collect()
    }

    #[test]
    fn exact_tokens_are_nfc_lower_case_with_original_offsets() {
        let text = "GIẤY Phép, số 123/QĐ-UBND";
        let t = tokens(exact(), text);
        let w: Vec<&str> = t.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(w, ["giấy", "phép", "số", "123", "qđ", "ubnd"]);
        assert_eq!(&text[t[1].1..t[1].2], "Phép");
        assert_eq!(&text[t[4].1..t[4].2], "QĐ");
    }

    #[test]
    fn decomposed_input_gives_the_same_tokens_and_offsets_into_it() {
        let decomposed = "Gia\u{0302}\u{0301}y phe\u{0301}p";
        assert_eq!(words(exact(), "Giấy phép"), words(exact(), decomposed));
        assert_eq!(tokens(exact(), decomposed)[0].2, "Gia\u{0302}\u{0301}y".len());
    }

    #[test]
    fn folded_tokens_drop_every_mark_codes_included() {
        assert_eq!(words(folded(), "Giấy phép Đường Nguyễn ƯỚC Ơn"), ["giay", "phep", "duong", "nguyen", "uoc", "on"]);
        assert_eq!(words(folded(), "123/QĐ-UBND"), ["123", "qd", "ubnd"]);
        assert_eq!(words(codes(), "Số 123/QĐ-UBND"), ["123/qd-ubnd"]);
    }
}
