use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Splits Vietnamese text into syllables (runs of letters, digits and combining marks) and normalises
/// each: NFC and lower case, and in folded mode without any diacritic (`ư`→`u`, `ơ`→`o`, `đ`→`d`,
/// tone marks dropped). Offsets always point into the original text, whatever normalisation does to
/// the token's own text.
#[derive(Debug, Clone, Copy)]
pub struct VietnameseTokenizer {
    folded: bool,
}

impl VietnameseTokenizer {
    /// Tokens keep their diacritics.
    pub fn exact() -> Self {
        VietnameseTokenizer { folded: false }
    }

    /// Tokens lose their diacritics.
    pub fn folded() -> Self {
        VietnameseTokenizer { folded: true }
    }
}

/// Removes every diacritic from lower-case or upper-case Vietnamese text, mapping `đ`/`Đ` to `d`/`D`.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            other => other,
        })
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// The token stream: tokens are computed up front (pages are short) and handed out one by one.
pub struct VietnameseTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for VietnameseTokenizer {
    type TokenStream<'a> = VietnameseTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VietnameseTokenStream {
        let mut tokens = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            match (start, is_word_char(c)) {
                (None, true) => start = Some(i),
                (Some(s), false) => {
                    let raw = &text[s..i];
                    let exact: String = raw.nfc().flat_map(char::to_lowercase).collect();
                    let text = if self.folded { fold(&exact) } else { exact };
                    tokens.push(Token { offset_from: s, offset_to: i, position: tokens.len(), text, position_length: 1 });
                    start = None;
                }
                _ => {}
            }
        }
        VietnameseTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for VietnameseTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(mut t: VietnameseTokenizer, text: &str) -> Vec<(String, usize, usize)> {
        let mut stream = t.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let tok = stream.token();
            out.push((tok.text.clone(), tok.offset_from, tok.offset_to));
        }
        out
    }

    #[test]
    fn exact_tokens_are_nfc_lower_case_with_original_offsets() {
        let text = "GIẤY Phép, số 123/QĐ-UBND";
        let t = tokens(VietnameseTokenizer::exact(), text);
        let words: Vec<&str> = t.iter().map(|(w, _, _)| w.as_str()).collect();
        assert_eq!(words, ["giấy", "phép", "số", "123", "qđ", "ubnd"]);
        assert_eq!(&text[t[1].1..t[1].2], "Phép");
    }

    #[test]
    fn decomposed_input_gives_the_same_tokens() {
        let composed = tokens(VietnameseTokenizer::exact(), "Giấy phép");
        let decomposed = tokens(VietnameseTokenizer::exact(), "Gia\u{0302}\u{0301}y phe\u{0301}p");
        let words = |v: &[(String, usize, usize)]| v.iter().map(|t| t.0.clone()).collect::<Vec<_>>();
        assert_eq!(words(&composed), words(&decomposed));
        assert_eq!(decomposed[0].2, "Gia\u{0302}\u{0301}y".len());
    }

    #[test]
    fn folded_tokens_drop_every_mark() {
        let t = tokens(VietnameseTokenizer::folded(), "Giấy phép Đường Nguyễn ƯỚC Ơn");
        let words: Vec<&str> = t.iter().map(|(w, _, _)| w.as_str()).collect();
        assert_eq!(words, ["giay", "phep", "duong", "nguyen", "uoc", "on"]);
    }
}
