//! Folding: what people type without a Vietnamese keyboard. Tone marks and vowel marks go
//! (`ấ`→`a`, `ư`→`u`, `ơ`→`o`) and `đ` becomes `d`, so "giay phep" finds "giấy phép".

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::TextMap;

/// Removes every diacritic.
#[derive(Clone, Copy, Debug)]
pub struct Fold;

impl TextMap for Fold {
    fn map(&self, text: &mut String) {
        if !text.is_ascii() {
            *text = fold(text);
        }
    }
}

/// Removes every diacritic from Vietnamese text of either case, mapping `đ`/`Đ` to `d`/`D`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_tone_and_vowel_marks_and_the_bar_of_d() {
        for (from, to) in [("nguyễn", "nguyen"), ("ước", "uoc"), ("ơn", "on"), ("đường", "duong"), ("Đà", "Da"), ("abc-12", "abc-12")] {
            let mut t = from.to_owned();
            Fold.map(&mut t);
            assert_eq!(t, to);
        }
    }
}
