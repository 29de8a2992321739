//! Lower case, including the Vietnamese capitals with two marks (`Ấ`→`ấ`) and `Đ`→`đ`.

use super::TextMap;

/// Unicode lower case.
#[derive(Clone, Copy, Debug)]
pub struct Lower;

impl TextMap for Lower {
    fn map(&self, text: &mut String) {
        if text.is_ascii() {
            text.make_ascii_lowercase();
        } else if text.chars().any(char::is_uppercase) {
            *text = text.chars().flat_map(char::to_lowercase).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_vietnamese_capitals() {
        let mut t = "ĐƯỜNG GIẤY QĐ-UBND".to_owned();
        Lower.map(&mut t);
        assert_eq!(t, "đường giấy qđ-ubnd");
    }
}
