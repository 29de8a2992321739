//! Splitting Vietnamese text into tokens. Words are syllables: runs of letters, digits and combining
//! marks. A run of syllables joined by `/`, `.`, `-` or `_` with nothing else between them is a
//! document number or a code (`123/QĐ-UBND`, `H56.14-241011-0001`, `001099012345.GPXD.01`).
//! [`Syllables::words`] gives every syllable, codes in parts, so that each part is a word of the page
//! (and is highlighted); [`Syllables::codes`] gives only the whole codes, for a field of
//! their own where a whole number matches as one rare term and ranks first; [`Syllables::runs`] gives
//! every run of a code's parts, so that a number typed whole or in part is one term to find.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::char::is_combining_mark;

/// The syllable and code tokenizer.
#[derive(Clone, Copy, Debug)]
pub struct Syllables {
    mode: Mode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Words,
    Codes,
    Runs,
}

/// Codes of more parts than this give only their whole in [`Syllables::runs`]: the runs of a code
/// grow with the square of its parts.
const MAX_RUN_PARTS: usize = 8;

impl Syllables {
    /// Every syllable, codes in parts.
    pub fn words() -> Self {
        Syllables { mode: Mode::Words }
    }

    /// Only the codes, each whole.
    pub fn codes() -> Self {
        Syllables { mode: Mode::Codes }
    }

    /// Every run of two or more consecutive parts of each code, the parts joined by `/` whatever
    /// joined them, the whole code first: `123/QĐ-UBND` gives `123/QĐ/UBND`, `123/QĐ` and `QĐ/UBND`.
    /// A number typed whole or in part is then one term to look up, not a phrase of parts that
    /// each occur on most pages; and `123-QĐ-UBND` finds `123/QĐ-UBND`.
    pub fn runs() -> Self {
        Syllables { mode: Mode::Runs }
    }
}

fn is_word_char(c: char) -> bool {
    // ASCII and the Latin letters Vietnamese is written in first: the Unicode tables are slow.
    match c {
        c if c.is_ascii() => c.is_ascii_alphanumeric(),
        '×' | '÷' => false,
        '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}' => true,
        c => c.is_alphanumeric() || is_combining_mark(c),
    }
}

fn is_joiner(c: char) -> bool {
    matches!(c, '/' | '.' | '-' | '_')
}

/// The stream: tokens are computed up front (a page is short) and handed out one by one.
pub struct SyllableStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for Syllables {
    type TokenStream<'a> = SyllableStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SyllableStream {
        let mut tokens = Vec::new();
        let mut position = 0;
        for (chunk_start, chunk) in chunks(text) {
            let parts = parts(chunk);
            let Some(&(first, _)) = parts.first() else { continue };
            let (last_start, last) = parts[parts.len() - 1];
            let (from, to) = (first, last_start + last.len());
            if self.mode != Mode::Words {
                let joined = parts.len() > 1
                    && chunk[from..to].chars().all(|c| is_word_char(c) || is_joiner(c))
                    && !chunk[from..to].contains("..");
                if !joined {
                    continue;
                }
                if self.mode == Mode::Codes {
                    tokens.push(token(chunk_start + from, &chunk[from..to], position, 1));
                    position += 1;
                    continue;
                }
                let n = parts.len();
                let longest = if n > MAX_RUN_PARTS { n } else { 2 };
                for len in (longest..=n).rev() {
                    for run in parts.windows(len) {
                        let (start, last) = (run[0].0, run[len - 1]);
                        let text = run.iter().map(|p| p.1).collect::<Vec<_>>().join("/");
                        tokens.push(Token {
                            offset_from: chunk_start + start,
                            offset_to: chunk_start + last.0 + last.1.len(),
                            position,
                            text,
                            position_length: 1,
                        });
                        position += 1;
                    }
                }
                continue;
            }
            for (start, part) in parts {
                tokens.push(token(chunk_start + start, part, position, 1));
                position += 1;
            }
        }
        SyllableStream { tokens, next: 0 }
    }
}

fn token(offset: usize, text: &str, position: usize, position_length: usize) -> Token {
    Token { offset_from: offset, offset_to: offset + text.len(), position, text: text.to_owned(), position_length }
}

/// The white-space separated chunks of `text`, with their byte offsets.
fn chunks(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(char::is_whitespace).scan(0, move |offset, chunk| {
        let start = *offset;
        // Every separator is one white-space character; its length in bytes follows the chunk.
        *offset += chunk.len() + text[start + chunk.len()..].chars().next().map_or(0, char::len_utf8);
        Some((start, chunk))
    })
}

/// The syllables of a chunk, with their byte offsets in it.
fn parts(chunk: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut start = None;
    for (i, c) in chunk.char_indices().chain(std::iter::once((chunk.len(), ' '))) {
        match (start, is_word_char(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                parts.push((s, &chunk[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    parts
}

impl TokenStream for SyllableStream {
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

    fn tokens(mut tokenizer: Syllables, text: &str) -> Vec<(String, usize)> {
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            assert_eq!(&text[t.offset_from..t.offset_to], t.text, "offsets point at the token's own characters");
            out.push((t.text.clone(), t.position));
        }
        out
    }

    fn texts(tokenizer: Syllables, text: &str) -> Vec<String> {
        tokens(tokenizer, text).into_iter().map(|t| t.0).collect()
    }

    #[test]
    fn the_fast_paths_agree_with_the_unicode_tables() {
        for c in ('\0'..='\u{2FF}').chain('\u{1E00}'..='\u{1EFF}') {
            assert_eq!(is_word_char(c), c.is_alphanumeric() || is_combining_mark(c), "{c:?}");
        }
    }

    #[test]
    fn syllables_take_consecutive_positions() {
        let t = tokens(Syllables::words(), "Họ và tên:  Nguyễn Văn\tAn.");
        let words: Vec<(&str, usize)> = t.iter().map(|(w, p)| (w.as_str(), *p)).collect();
        assert_eq!(words, [("Họ", 0), ("và", 1), ("tên", 2), ("Nguyễn", 3), ("Văn", 4), ("An", 5)]);
    }

    const TEXT: &str = "Quyết định số (123/QĐ-UBND), hồ sơ H56.14-241011-0001; CCCD 001099012345.";

    #[test]
    fn words_split_numbers_and_codes_into_parts() {
        assert_eq!(
            texts(Syllables::words(), TEXT),
            [
                "Quyết",
                "định",
                "số",
                "123",
                "QĐ",
                "UBND",
                "hồ",
                "sơ",
                "H56",
                "14",
                "241011",
                "0001",
                "CCCD",
                "001099012345"
            ]
        );
    }

    #[test]
    fn runs_are_every_run_of_parts_of_a_code_the_whole_first() {
        fn runs(text: &str) -> Vec<(String, &str)> {
            let mut stream = Syllables::runs().token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                let t = stream.token();
                out.push((t.text.clone(), &text[t.offset_from..t.offset_to]));
            }
            out
        }
        let found = runs("số 123/QĐ-UBND, H56.14-241011 ngày");
        let expected = [
            ("123/QĐ/UBND", "123/QĐ-UBND"),
            ("123/QĐ", "123/QĐ"),
            ("QĐ/UBND", "QĐ-UBND"),
            ("H56/14/241011", "H56.14-241011"),
            ("H56/14", "H56.14"),
            ("14/241011", "14-241011"),
        ];
        assert_eq!(
            found.iter().map(|(t, o)| (t.as_str(), *o)).collect::<Vec<_>>(),
            expected,
            "text, and the characters its offsets cover"
        );
        assert_eq!(runs("123-QĐ-UBND")[0].0, "123/QĐ/UBND", "the joiners do not matter");
        let long = (1..=12).map(|i| i.to_string()).collect::<Vec<_>>().join("-");
        assert_eq!(runs(&long).len(), 1, "a code of many parts gives its whole alone");
    }

    #[test]
    fn codes_are_the_whole_numbers_alone() {
        assert_eq!(texts(Syllables::codes(), TEXT), ["123/QĐ-UBND", "H56.14-241011-0001"]);
        assert_eq!(texts(Syllables::codes(), "a,b tên:An ...x 1..2 Đ/c"), ["Đ/c"]);
    }
}
