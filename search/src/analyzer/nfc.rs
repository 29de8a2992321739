//! NFC: a syllable typed with combining marks (`a` + U+0302 + U+0301) and its precomposed form (`ấ`)
//! become the same text.

use unicode_normalization::{UnicodeNormalization, is_nfc_quick};

use super::TextMap;

/// Unicode normalisation form C.
#[derive(Clone, Copy, Debug)]
pub struct Nfc;

impl TextMap for Nfc {
    fn map(&self, text: &mut String) {
        // ASCII is NFC, and nearly every other token is NFC already: the quick check spares the copy.
        if !text.is_ascii() && is_nfc_quick(text.chars()) != unicode_normalization::IsNormalized::Yes {
            *text = text.nfc().collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_and_leaves_composed_text_alone() {
        let mut decomposed = "Gia\u{0302}\u{0301}y".to_owned();
        Nfc.map(&mut decomposed);
        assert_eq!(decomposed, "Giấy");
        let mut composed = "Nguyễn".to_owned();
        Nfc.map(&mut composed);
        assert_eq!(composed, "Nguyễn");
    }
}
