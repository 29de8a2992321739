//! Folding: what people type without a Vietnamese keyboard. Tone marks and vowel marks go
//! (`ấ`→`a`, `ư`→`u`, `ơ`→`o`) and `đ` becomes `d`, so "giay phep" finds "giấy phép".

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

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
///
/// This is NFD without its combining marks, computed character by character: the canonical
/// reordering NFD does only moves marks, which are all dropped, so it is skipped (it would buffer
/// and sort every run of marks of every syllable).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            c if c.is_ascii() => out.push(c),
            c => decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    out.push(d);
                }
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_tone_and_vowel_marks_and_the_bar_of_d() {
        for (from, to) in [
            ("nguyễn", "nguyen"),
            ("ước", "uoc"),
            ("ơn", "on"),
            ("đường", "duong"),
            ("Đà", "Da"),
            ("abc-12", "abc-12"),
            ("Gia\u{0302}\u{0301}y", "Giay"),
            ("한", "\u{1112}\u{1161}\u{11ab}"),
        ] {
            let mut t = from.to_owned();
            Fold.map(&mut t);
            assert_eq!(t, to);
        }
    }
}
