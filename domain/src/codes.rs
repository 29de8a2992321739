//! Codes with a legal form (R4). Simple codes are one checked string; composite codes keep their parts
//! typed and are written back in the one canonical form, so parsing what was formatted gives the same
//! value.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{DomainError, OwnerId, Reason};

/// Defines a newtype over a checked `String`: private field, a `parse` constructor that runs `$check`,
/// `as_str`, `Display`, `FromStr` and serde through the same check.
macro_rules! define_code {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $check:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `input` and wraps it.
            pub fn parse(input: &str) -> Result<Self, DomainError> {
                let s = input.trim();
                $check(s).map_err(|reason| DomainError::code($kind, input, reason))?;
                Ok($name(s.to_owned()))
            }

            /// The code as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

/// Serialises a composite code as its canonical string and reads it back through `FromStr`.
macro_rules! string_serde {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

define_code!(
    /// The electronic identifier of the receiving unit that begins a dossier code, e.g. `H56.14`
    /// (letters, digits and inner dots; a dash would be ambiguous in a dossier code).
    UnitCode,
    "unit code",
    check_unit
);

define_code!(
    /// A document type code from the agency's catalogue, e.g. `GPXD` or `KQ01` (1-32 ASCII letters,
    /// digits, `_` or `-`; no dot, since the dot separates the parts of a [`DocumentCode`]).
    DocumentTypeCode,
    "document type code",
    check_type
);

define_code!(
    /// An administrative procedure code (mã TTHC) from the national procedure database, e.g.
    /// `1.003560.000.00.00.H56`: level digit, 6-digit procedure number, 3, 2 and 2 digits, and the
    /// issuing authority's code.
    ProcedureCode,
    "procedure code",
    check_procedure
);

fn is_code_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn check_unit(s: &str) -> Result<(), Reason> {
    if s.is_empty() || s.len() > 32 {
        return Err(Reason::new("must have 1 to 32 characters", "Mã đơn vị phải có từ 1 đến 32 ký tự"));
    }
    if !s.split('.').all(|part| !part.is_empty() && part.chars().all(is_code_char)) {
        return Err(Reason::new(
            "must be ASCII letters and digits in dot-separated parts, e.g. H56.14",
            "Mã đơn vị gồm chữ cái không dấu và chữ số, các phần cách nhau bằng dấu chấm, ví dụ H56.14",
        ));
    }
    Ok(())
}

fn check_type(s: &str) -> Result<(), Reason> {
    if s.is_empty() {
        return Err(Reason::new("must have 1 to 32 characters", "Chưa nhập mã loại giấy tờ"));
    }
    if s.len() > 32 {
        return Err(Reason::new("must have 1 to 32 characters", "Mã loại giấy tờ có nhiều nhất 32 ký tự"));
    }
    if !s.chars().all(|c| is_code_char(c) || c == '_' || c == '-') {
        return Err(Reason::new(
            "may contain only ASCII letters, digits, '_' and '-'",
            "Mã loại giấy tờ chỉ gồm chữ cái không dấu, chữ số, dấu '_' và '-', ví dụ GPXD",
        ));
    }
    Ok(())
}

fn check_procedure(s: &str) -> Result<(), Reason> {
    let parts: Vec<&str> = s.split('.').collect();
    let shape_ok = parts.len() == 6
        && [1usize, 6, 3, 2, 2].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()))
        && (2..=6).contains(&parts[5].len())
        && parts[5].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !shape_ok {
        return Err(Reason::new(
            "must look like 1.003560.000.00.00.H56",
            "Mã thủ tục hành chính phải có dạng 1.003560.000.00.00.H56",
        ));
    }
    Ok(())
}

/// A dossier code `<unit>-YYMMDD-NNNN` (Circular 01/2018/TT-VPCP Art. 19): the receiving unit, the
/// day the dossier was received and that unit's counter for the day. It is allocated once by the
/// archive and never changes, including when the dossier moves to the agency archive.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DossierCode {
    unit: UnitCode,
    date: NaiveDate,
    number: u16,
}

impl DossierCode {
    /// The largest daily counter value the four-digit form can hold.
    pub const MAX_NUMBER: u16 = 9999;

    /// Builds a dossier code from its parts; `number` must be 1..=9999 and `date` in 2000-2099.
    pub fn new(unit: UnitCode, date: NaiveDate, number: u16) -> Result<Self, DomainError> {
        let code = DossierCode { unit, date, number };
        if number == 0 || number > Self::MAX_NUMBER {
            return Err(DomainError::code(
                "dossier code",
                &code.to_string(),
                Reason::new(
                    "the daily number must be 0001-9999",
                    "Số thứ tự trong ngày của mã hồ sơ phải từ 0001 đến 9999",
                ),
            ));
        }
        if !(2000..=2099).contains(&chrono::Datelike::year(&date)) {
            return Err(DomainError::code(
                "dossier code",
                &code.to_string(),
                Reason::new("the date must be in 2000-2099", "Ngày trong mã hồ sơ phải thuộc các năm 2000-2099"),
            ));
        }
        Ok(code)
    }

    /// The receiving unit.
    pub fn unit(&self) -> &UnitCode {
        &self.unit
    }

    /// The day the dossier was received.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The unit's counter for that day.
    pub fn number(&self) -> u16 {
        self.number
    }
}

impl FromStr for DossierCode {
    type Err = DomainError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        let err = |en: &str, vi: &str| DomainError::code("dossier code", input, Reason::new(en, vi));
        let mut parts = s.rsplitn(3, '-');
        let (number, date, unit) = match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some(d), Some(u)) => (n, d, u),
            _ => {
                return Err(err(
                    "must be <unit>-YYMMDD-NNNN",
                    "Mã hồ sơ phải có dạng <mã đơn vị>-YYMMDD-NNNN, ví dụ H56.14-241011-0001",
                ));
            }
        };
        if number.len() != 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(
                "must end with a four-digit daily number",
                "Mã hồ sơ phải kết thúc bằng số thứ tự trong ngày gồm bốn chữ số",
            ));
        }
        if date.len() != 6 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(
                "the middle part must be the date as YYMMDD",
                "Phần giữa của mã hồ sơ phải là ngày tiếp nhận dạng YYMMDD",
            ));
        }
        let date = NaiveDate::parse_from_str(&format!("20{date}"), "%Y%m%d").map_err(|_| {
            err(
                "the middle part is not a real date (YYMMDD)",
                "Phần giữa của mã hồ sơ không phải là một ngày có thật (YYMMDD)",
            )
        })?;
        let unit = UnitCode::parse(unit)?;
        DossierCode::new(unit, date, number.parse().expect("four ASCII digits"))
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:04}", self.unit, self.date.format("%y%m%d"), self.number)
    }
}

impl fmt::Debug for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DossierCode({self})")
    }
}

string_serde!(DossierCode);

/// The code of an electronic result issued for a dossier: `<dossier code>-KQ<n>` (Decree 45/2020
/// Art. 14(3)), `n` counting from 1.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResultCode {
    dossier: DossierCode,
    index: u32,
}

impl ResultCode {
    /// The `index`-th result of `dossier`; `index` starts at 1.
    pub fn new(dossier: DossierCode, index: u32) -> Result<Self, DomainError> {
        if index == 0 {
            return Err(DomainError::code(
                "result code",
                &format!("{dossier}-KQ0"),
                Reason::new("results are numbered from 1", "Kết quả được đánh số từ 1"),
            ));
        }
        Ok(ResultCode { dossier, index })
    }

    /// The dossier the result was issued for.
    pub fn dossier(&self) -> &DossierCode {
        &self.dossier
    }

    /// Which result of the dossier this is.
    pub fn index(&self) -> u32 {
        self.index
    }
}

impl FromStr for ResultCode {
    type Err = DomainError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        let (dossier, n) = s.rsplit_once("-KQ").ok_or_else(|| {
            DomainError::code(
                "result code",
                input,
                Reason::new("must be <dossier code>-KQ<n>", "Mã kết quả phải có dạng <mã hồ sơ>-KQ<n>"),
            )
        })?;
        if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0') {
            return Err(DomainError::code(
                "result code",
                input,
                Reason::new("KQ must be followed by a number from 1", "Sau KQ phải là số thứ tự, bắt đầu từ 1"),
            ));
        }
        ResultCode::new(dossier.parse()?, n.parse().expect("at most nine ASCII digits"))
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-KQ{}", self.dossier, self.index)
    }
}

impl fmt::Debug for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResultCode({self})")
    }
}

string_serde!(ResultCode);

/// The code of a digitized document: `<owner ID>.<document type code>` (Decision 468/QĐ-TTg III.1.b),
/// with the two-digit counter real one-stop systems add (`<owner ID>.<type>.<NN>`) so that an owner can
/// hold several documents of one type. The owner part is empty when the owner has no identifier
/// (Circular 01/2023 Art. 10(2)).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentCode {
    owner: Option<OwnerId>,
    doc_type: DocumentTypeCode,
    counter: Option<u8>,
}

impl DocumentCode {
    /// Builds a code; `counter`, when given, must be 1..=99.
    pub fn new(owner: Option<OwnerId>, doc_type: DocumentTypeCode, counter: Option<u8>) -> Result<Self, DomainError> {
        let code = DocumentCode { owner, doc_type, counter };
        if matches!(counter, Some(0) | Some(100..)) {
            return Err(DomainError::code(
                "document code",
                &code.to_string(),
                Reason::new("the counter must be 01-99", "Số thứ tự trong mã tài liệu phải từ 01 đến 99"),
            ));
        }
        Ok(code)
    }

    /// The owner, if the owner has an identifier.
    pub fn owner(&self) -> Option<&OwnerId> {
        self.owner.as_ref()
    }

    /// The document type.
    pub fn doc_type(&self) -> &DocumentTypeCode {
        &self.doc_type
    }

    /// The counter among the owner's documents of this type.
    pub fn counter(&self) -> Option<u8> {
        self.counter
    }
}

impl FromStr for DocumentCode {
    type Err = DomainError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        let err = |en: &str, vi: &str| DomainError::code("document code", input, Reason::new(en, vi));
        let parts: Vec<&str> = s.split('.').collect();
        let (owner, doc_type, counter) = match parts.as_slice() {
            [o, t] => (*o, *t, None),
            [o, t, n] => (*o, *t, Some(*n)),
            _ => {
                return Err(err(
                    "must be <owner ID>.<type>[.<NN>]",
                    "Mã tài liệu phải có dạng <số định danh>.<mã loại>[.<NN>]",
                ));
            }
        };
        let owner = if owner.is_empty() { None } else { Some(OwnerId::parse(owner)?) };
        let counter = match counter {
            None => None,
            Some(n) if n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()) => Some(n.parse().expect("two digits")),
            Some(_) => {
                return Err(err(
                    "the counter after the type must be two digits",
                    "Số thứ tự sau mã loại phải gồm hai chữ số",
                ));
            }
        };
        DocumentCode::new(owner, DocumentTypeCode::parse(doc_type)?, counter)
    }
}

impl fmt::Display for DocumentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(owner) = &self.owner {
            f.write_str(owner.as_str())?;
        }
        write!(f, ".{}", self.doc_type)?;
        if let Some(n) = self.counter {
            write!(f, ".{n:02}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DocumentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentCode({self})")
    }
}

string_serde!(DocumentCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dossier_code_round_trip() {
        let c: DossierCode = "H56.14-241011-0001".parse().unwrap();
        assert_eq!(c.unit().as_str(), "H56.14");
        assert_eq!(c.date(), NaiveDate::from_ymd_opt(2024, 10, 11).unwrap());
        assert_eq!(c.number(), 1);
        assert_eq!(c.to_string(), "H56.14-241011-0001");
    }

    #[test]
    fn dossier_code_rejects() {
        for bad in [
            "H56.14-241011-001",
            "H56.14-241301-0001",
            "H56.14-240230-0001",
            "H56.14-241011-0000",
            "-241011-0001",
            "H56..14-241011-0001",
            "H56-14-241011",
            "241011-0001",
            "H56.14-24101a-0001",
        ] {
            assert!(bad.parse::<DossierCode>().is_err(), "{bad} accepted");
        }
        let e = "H56.14-240230-0001".parse::<DossierCode>().unwrap_err().to_string();
        assert!(e.contains("not a real date"), "{e}");
        let e = "H56.14-240230-0001".parse::<DossierCode>().unwrap_err();
        assert_eq!(e.vi(), "Phần giữa của mã hồ sơ không phải là một ngày có thật (YYMMDD)");
    }

    #[test]
    fn result_code_round_trip() {
        let r: ResultCode = "H56.14-241011-0001-KQ2".parse().unwrap();
        assert_eq!(r.index(), 2);
        assert_eq!(r.dossier().to_string(), "H56.14-241011-0001");
        assert_eq!(r.to_string(), "H56.14-241011-0001-KQ2");
        for bad in ["H56.14-241011-0001-KQ0", "H56.14-241011-0001-KQ", "H56.14-241011-0001-KQ01", "H56.14-241011-0001"]
        {
            assert!(bad.parse::<ResultCode>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn document_code_forms() {
        let c: DocumentCode = "001099012345.GPXD".parse().unwrap();
        assert_eq!(c.owner().unwrap().as_str(), "001099012345");
        assert_eq!(c.counter(), None);
        let c: DocumentCode = "0314409058-002.KQ01.07".parse().unwrap();
        assert_eq!(c.counter(), Some(7));
        assert_eq!(c.to_string(), "0314409058-002.KQ01.07");
        let c: DocumentCode = ".GKS.01".parse().unwrap();
        assert!(c.owner().is_none());
        assert_eq!(c.to_string(), ".GKS.01");
        for bad in [
            "00109901234.GPXD",
            "001099012345",
            "001099012345.GP XD",
            "001099012345.GPXD.7",
            "001099012345.GPXD.00",
            "001099012345.GPXD.01.02",
            "001099012345.",
        ] {
            assert!(bad.parse::<DocumentCode>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn procedure_code() {
        assert!(ProcedureCode::parse("1.003560.000.00.00.H56").is_ok());
        assert!(ProcedureCode::parse("2.000046.000.00.00.H12").is_ok());
        for bad in ["1.003560.000.00.H56", "1.00356.000.00.00.H56", "1.003560.000.00.00.h56", "x"] {
            assert!(ProcedureCode::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn simple_codes() {
        assert!(DocumentTypeCode::parse("GPXD").is_ok());
        assert!(DocumentTypeCode::parse("KQ_01-a").is_ok());
        assert!(DocumentTypeCode::parse("GP.XD").is_err());
        assert_eq!(DocumentTypeCode::parse("").unwrap_err().vi(), "Chưa nhập mã loại giấy tờ");
        assert_eq!(
            DocumentTypeCode::parse("").unwrap_err().to_string(),
            "invalid document type code \"\": must have 1 to 32 characters"
        );
        assert!(DocumentTypeCode::parse("Giấy").is_err());
        assert!(UnitCode::parse("000.00.12.H56").is_ok());
        assert!(UnitCode::parse("H56-14").is_err());
    }

    #[test]
    fn serde_uses_canonical_strings() {
        let c: DossierCode = "H56.14-241011-0042".parse().unwrap();
        let c2: DossierCode = String::from("H56.14-241011-0042").parse().unwrap();
        assert_eq!(c, c2);
    }
}
