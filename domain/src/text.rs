//! Free text as people type it, cleaned (NFC, no control characters, trimmed) before it is kept.

use unicode_normalization::UnicodeNormalization;

/// Normalises free text typed by an operator or read by OCR: Unicode NFC (Vietnamese can arrive
/// composed or decomposed and must compare equal), runs of white space folded to one space, ends
/// trimmed. Control characters are refused because they have no place in a record and can hide text.
pub fn clean_text(input: &str) -> Result<String, String> {
    if let Some(c) = input.chars().find(|c| c.is_control() && !c.is_whitespace()) {
        return Err(format!("contains the control character U+{:04X}", c as u32));
    }
    let nfc: String = input.nfc().collect();
    Ok(nfc.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_and_folds_space() {
        // "Giấy" written with a combining acute and circumflex (NFD) becomes the composed form.
        let decomposed = "Gia\u{0302}\u{0301}y   phe\u{0301}p ";
        assert_eq!(clean_text(decomposed).unwrap(), "Giấy phép");
    }

    #[test]
    fn refuses_control_characters() {
        assert!(clean_text("a\u{0007}b").unwrap_err().contains("U+0007"));
    }
}
