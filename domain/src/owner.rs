//! Owner identifiers: a citizen's personal identification number or an organisation's tax code.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{DomainError, Reason};

const KIND: &str = "owner ID";

/// Province and city codes that begin a 12-digit personal identifier (Circular 07/2016/TT-BCA,
/// Appendix: the 63 provinces, numbered 001-096 with gaps). Any other prefix cannot have been issued.
const PROVINCE_CODES: [u16; 63] = [
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44, 45,
    46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92,
    93, 94, 95, 96,
];

/// Weights of the check digit of a 10-digit enterprise/tax code (the tenth digit is
/// `10 - (Σ wᵢ·dᵢ mod 11)` over the first nine digits).
const TAX_CODE_WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/// Which kind of holder an [`OwnerId`] identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnerKind {
    /// A citizen: the 12-digit personal identification number (Decree 137/2015 Art. 13).
    Person,
    /// An enterprise or organisation: its 10-digit tax code.
    Organisation,
    /// A branch or dependent unit: `NNNNNNNNNN-NNN`.
    Branch,
}

/// The identifier of the citizen or organisation a document belongs to (R4).
///
/// A personal identifier is 12 digits: a 3-digit province code, a century-and-sex digit, the last two
/// digits of the birth year and 6 random digits; one that encodes a birth year in the future, or a
/// province that does not exist, is refused. An organisation is identified by its tax code: 10 digits
/// with a check digit, or 13 written `NNNNNNNNNN-NNN` for a branch.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OwnerId(String);

impl OwnerId {
    /// Parses an owner identifier, judging birth years against today's date.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        Self::parse_at(input, chrono::Local::now().date_naive())
    }

    /// Parses an owner identifier, judging birth years against `today`.
    pub fn parse_at(input: &str, today: NaiveDate) -> Result<Self, DomainError> {
        let s = input.trim();
        let err = |reason: Reason| DomainError::code(KIND, input, reason);
        if let Some((main, branch)) = s.split_once('-') {
            if branch.len() != 3 || !all_digits(branch) {
                return Err(err(Reason::new(
                    "a branch tax code is NNNNNNNNNN-NNN: three digits after the dash",
                    "Mã số thuế của chi nhánh có dạng NNNNNNNNNN-NNN: ba chữ số sau dấu gạch ngang",
                )));
            }
            if branch == "000" {
                return Err(err(Reason::new(
                    "branch number 000 is never issued",
                    "Số thứ tự chi nhánh 000 không bao giờ được cấp",
                )));
            }
            check_tax_code(main).map_err(err)?;
            return Ok(OwnerId(s.to_owned()));
        }
        if !all_digits(s) {
            return Err(err(Reason::new(
                "must contain only digits (12 for a person, 10 for an organisation)",
                "Số định danh chỉ gồm chữ số (12 chữ số với cá nhân, 10 chữ số với tổ chức)",
            )));
        }
        match s.len() {
            12 => check_personal(s, today).map_err(err)?,
            10 => check_tax_code(s).map_err(err)?,
            n => {
                return Err(err(Reason::new(
                    format!("has {n} digits; a personal ID has 12, a tax code 10 (or NNNNNNNNNN-NNN)"),
                    format!(
                        "Số định danh cá nhân phải có 12 chữ số, mã số thuế 10 chữ số (hoặc NNNNNNNNNN-NNN); \
                         số đã nhập có {n} chữ số"
                    ),
                )));
            }
        }
        Ok(OwnerId(s.to_owned()))
    }

    /// The identifier as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this identifies a person, an organisation or a branch.
    pub fn kind(&self) -> OwnerKind {
        match self.0.len() {
            12 => OwnerKind::Person,
            10 => OwnerKind::Organisation,
            _ => OwnerKind::Branch,
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn digits(s: &str) -> impl Iterator<Item = u32> + '_ {
    s.bytes().map(|b| u32::from(b - b'0'))
}

fn check_personal(s: &str, today: NaiveDate) -> Result<(), Reason> {
    let province: u16 = s[0..3].parse().expect("three ASCII digits");
    if !PROVINCE_CODES.contains(&province) {
        return Err(Reason::new(
            "the first three digits are not a province code",
            format!("Mã tỉnh {} (ba chữ số đầu) không tồn tại", &s[0..3]),
        ));
    }
    // The fourth digit encodes century and sex: 0/1 born 1900-1999, 2/3 born 2000-2099, and so on.
    let century_digit = u32::from(s.as_bytes()[3] - b'0');
    let year_in_century: i32 = s[4..6].parse().expect("two ASCII digits");
    let birth_year = 1900 + 100 * (century_digit / 2) as i32 + year_in_century;
    if birth_year > today.year() {
        return Err(Reason::new(
            "the century digit and birth year encode a birth year in the future",
            format!("Chữ số thế kỷ và năm sinh cho năm sinh {birth_year}, một năm chưa tới"),
        ));
    }
    Ok(())
}

fn check_tax_code(s: &str) -> Result<(), Reason> {
    if s.len() != 10 || !all_digits(s) {
        return Err(Reason::new("a tax code has 10 digits", "Mã số thuế phải có 10 chữ số"));
    }
    if &s[2..9] == "0000000" {
        return Err(Reason::new(
            "a tax code's sequence number is never 0000000",
            "Số thứ tự của mã số thuế không bao giờ là 0000000",
        ));
    }
    let sum: u32 = digits(&s[..9]).zip(TAX_CODE_WEIGHTS).map(|(d, w)| d * w).sum();
    let check = 10 - sum % 11;
    if check != u32::from(s.as_bytes()[9] - b'0') {
        return Err(Reason::new(
            "the tax code's check digit (the tenth) does not match",
            "Chữ số kiểm tra (chữ số thứ mười) của mã số thuế không khớp; hãy kiểm tra lại mã số thuế",
        ));
    }
    Ok(())
}

impl FromStr for OwnerId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for OwnerId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        // Values read back from storage were validated when first written; re-checking them against
        // today's date is still right, since a birth year cannot move into the future.
        Self::parse(&s)
    }
}

impl From<OwnerId> for String {
    fn from(id: OwnerId) -> String {
        id.0
    }
}

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OwnerId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn parse(s: &str) -> Result<OwnerId, DomainError> {
        OwnerId::parse_at(s, today())
    }

    #[test]
    fn accepts_personal_ids() {
        assert_eq!(parse("001099012345").unwrap().kind(), OwnerKind::Person); // Hà Nội, male, 1999
        assert!(parse("079305000123").is_ok()); // Hồ Chí Minh, female, 2005
        assert!(parse("096026000001").is_ok()); // Cà Mau, male, 1926
        assert!(parse(" 001099012345 ").is_ok());
    }

    #[test]
    fn rejects_bad_personal_ids() {
        let e = parse("00109901234").unwrap_err().to_string();
        assert!(e.contains("11 digits"), "{e}");
        let e = parse("00109901234").unwrap_err();
        assert!(e.vi().starts_with("Số định danh cá nhân phải có 12 chữ số"), "{}", e.vi());
        assert_eq!(parse("099099012345").unwrap_err().vi(), "Mã tỉnh 099 (ba chữ số đầu) không tồn tại");
        assert!(parse("0010990123456").is_err());
        assert!(parse("00109901234a").unwrap_err().to_string().contains("only digits"));
        assert!(parse("003099012345").unwrap_err().to_string().contains("province")); // 003 unused
        assert!(parse("097099012345").is_err());
        assert!(parse("001299012345").unwrap_err().to_string().contains("future")); // born 2099
        assert!(parse("001499012345").is_err()); // 22nd century
        assert!(parse("").is_err());
    }

    #[test]
    fn accepts_tax_codes() {
        assert_eq!(parse("0100233488").unwrap().kind(), OwnerKind::Organisation);
        assert_eq!(parse("0314409058-002").unwrap().kind(), OwnerKind::Branch);
    }

    #[test]
    fn rejects_bad_tax_codes() {
        assert!(parse("0100233480").unwrap_err().to_string().contains("check digit"));
        assert!(parse("0100000000").is_err());
        assert!(parse("0314409058-000").is_err());
        assert!(parse("0314409058-02").is_err());
        assert!(parse("031440905-002").is_err());
    }

    #[test]
    fn round_trips_through_string() {
        let id = parse("0314409058-002").unwrap();
        assert_eq!(OwnerId::try_from(String::from(id.clone())).unwrap(), id);
    }
}
