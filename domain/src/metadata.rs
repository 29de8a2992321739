//! A document's metadata (`DocumentMetadata`, built from a `MetadataDraft` and validated), its
//! `Validity`, and Vietnam's time zone.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{DocumentTypeCode, DomainError, DossierCode, OwnerId, ProcedureCode, Reason, clean_text};

/// How long a document's content is legally valid (R3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Validity {
    /// Valid without end (a birth certificate, a diploma).
    Permanent,
    /// Valid up to and including this day.
    Until(NaiveDate),
}

impl Validity {
    /// Whether the document is valid on `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        match self {
            Validity::Permanent => true,
            Validity::Until(end) => day <= *end,
        }
    }
}

/// Vietnam's offset from UTC, +07:00, in which every time sohoa shows or signs is written.
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("+07:00 is a valid offset")
}

/// The current time in Vietnam, to the second.
pub fn vietnam_now() -> DateTime<FixedOffset> {
    let now = Utc::now().with_timezone(&vietnam_offset());
    now - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
}

/// The fields of a document's metadata before they are checked together. Each typed field is already
/// valid on its own; [`DocumentMetadata::new`] cleans the free text and checks the fields against
/// each other.
#[derive(Debug, Clone)]
pub struct MetadataDraft {
    /// Document type code.
    pub doc_type: DocumentTypeCode,
    /// The owner's identifier; `None` when the owner has none.
    pub owner: Option<OwnerId>,
    /// Document name, e.g. "Giấy phép xây dựng".
    pub name: String,
    /// Number and symbol (số, ký hiệu), e.g. "123/QĐ-UBND".
    pub number_symbol: Option<String>,
    /// The day the document was issued.
    pub issue_date: Option<NaiveDate>,
    /// The body that issued it.
    pub issuing_body: Option<String>,
    /// Summary (trích yếu).
    pub summary: Option<String>,
    /// How long it is valid.
    pub validity: Validity,
    /// Where it is valid (phạm vi hiệu lực), e.g. "Toàn quốc".
    pub validity_scope: Option<String>,
    /// The dossier it was received in.
    pub dossier: Option<DossierCode>,
    /// The administrative procedure it was received for.
    pub procedure: Option<ProcedureCode>,
    /// The scan operator who captured it.
    pub operator: String,
    /// When it was captured.
    pub captured_at: DateTime<FixedOffset>,
}

/// The metadata of a digitized document, every field R3 asks for. Built only through
/// [`DocumentMetadata::new`], so a value always has a non-empty name and operator, clean NFC text, an
/// issue date no later than its capture, and a validity end no earlier than its issue date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentMetadata {
    doc_type: DocumentTypeCode,
    owner: Option<OwnerId>,
    name: String,
    number_symbol: Option<String>,
    issue_date: Option<NaiveDate>,
    issuing_body: Option<String>,
    summary: Option<String>,
    validity: Validity,
    validity_scope: Option<String>,
    dossier: Option<DossierCode>,
    procedure: Option<ProcedureCode>,
    operator: String,
    captured_at: DateTime<FixedOffset>,
}

const MAX_TEXT: usize = 2000;

/// A text field's name in Vietnamese, as the form labels it, for the reasons that name it.
fn field_vi(field: &str) -> &'static str {
    match field {
        "name" => "Tên giấy tờ",
        "number_symbol" => "Số, ký hiệu",
        "issuing_body" => "Cơ quan ban hành",
        "summary" => "Trích yếu",
        "validity_scope" => "Phạm vi hiệu lực",
        "operator" => "Người số hóa",
        _ => "Trường này",
    }
}

fn text(field: &'static str, value: &str) -> Result<String, DomainError> {
    let cleaned = clean_text(value).map_err(|r| {
        DomainError::field(
            field,
            Reason::new(r, format!("{} chứa ký tự điều khiển không in được; hãy gõ lại", field_vi(field))),
        )
    })?;
    if cleaned.chars().count() > MAX_TEXT {
        return Err(DomainError::field(
            field,
            Reason::new(
                format!("longer than {MAX_TEXT} characters"),
                format!("{} dài quá {MAX_TEXT} ký tự", field_vi(field)),
            ),
        ));
    }
    Ok(cleaned)
}

fn required(field: &'static str, value: &str) -> Result<String, DomainError> {
    let cleaned = text(field, value)?;
    if cleaned.is_empty() {
        return Err(DomainError::field(
            field,
            Reason::new("must not be empty", format!("Chưa nhập {}", field_vi(field).to_lowercase())),
        ));
    }
    Ok(cleaned)
}

fn optional(field: &'static str, value: Option<String>) -> Result<Option<String>, DomainError> {
    Ok(match value {
        None => None,
        Some(v) => Some(text(field, &v)?).filter(|s| !s.is_empty()),
    })
}

impl DocumentMetadata {
    /// Checks a draft: cleans every text field (NFC, folded white space, no control characters),
    /// requires a name and an operator, and refuses an issue date after the capture or a validity that
    /// ends before the issue date.
    pub fn new(d: MetadataDraft) -> Result<Self, DomainError> {
        let captured_on = d.captured_at.date_naive();
        if let Some(issued) = d.issue_date {
            if issued > captured_on {
                return Err(DomainError::field(
                    "issue_date",
                    Reason::new(
                        format!("{issued} is after the capture date {captured_on}"),
                        format!(
                            "Ngày ban hành {} muộn hơn ngày số hóa {}",
                            issued.format("%d/%m/%Y"),
                            captured_on.format("%d/%m/%Y")
                        ),
                    ),
                ));
            }
            if let Validity::Until(end) = d.validity
                && end < issued
            {
                return Err(DomainError::field(
                    "validity",
                    Reason::new(
                        format!("ends {end}, before the issue date {issued}"),
                        format!(
                            "Ngày hết hiệu lực {} sớm hơn ngày ban hành {}",
                            end.format("%d/%m/%Y"),
                            issued.format("%d/%m/%Y")
                        ),
                    ),
                ));
            }
        }
        Ok(DocumentMetadata {
            doc_type: d.doc_type,
            owner: d.owner,
            name: required("name", &d.name)?,
            number_symbol: optional("number_symbol", d.number_symbol)?,
            issue_date: d.issue_date,
            issuing_body: optional("issuing_body", d.issuing_body)?,
            summary: optional("summary", d.summary)?,
            validity: d.validity,
            validity_scope: optional("validity_scope", d.validity_scope)?,
            dossier: d.dossier,
            procedure: d.procedure,
            operator: required("operator", &d.operator)?,
            captured_at: d.captured_at,
        })
    }

    /// Document type code.
    pub fn doc_type(&self) -> &DocumentTypeCode {
        &self.doc_type
    }
    /// The owner's identifier, if any.
    pub fn owner(&self) -> Option<&OwnerId> {
        self.owner.as_ref()
    }
    /// Document name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Number and symbol (số, ký hiệu).
    pub fn number_symbol(&self) -> Option<&str> {
        self.number_symbol.as_deref()
    }
    /// Issue date.
    pub fn issue_date(&self) -> Option<NaiveDate> {
        self.issue_date
    }
    /// Issuing body.
    pub fn issuing_body(&self) -> Option<&str> {
        self.issuing_body.as_deref()
    }
    /// Summary (trích yếu).
    pub fn summary(&self) -> Option<&str> {
        self.summary.as_deref()
    }
    /// Validity.
    pub fn validity(&self) -> Validity {
        self.validity
    }
    /// Scope of validity.
    pub fn validity_scope(&self) -> Option<&str> {
        self.validity_scope.as_deref()
    }
    /// Dossier code.
    pub fn dossier(&self) -> Option<&DossierCode> {
        self.dossier.as_ref()
    }
    /// Procedure code (mã TTHC).
    pub fn procedure(&self) -> Option<&ProcedureCode> {
        self.procedure.as_ref()
    }
    /// The scan operator.
    pub fn operator(&self) -> &str {
        &self.operator
    }
    /// Capture time, +07:00.
    pub fn captured_at(&self) -> DateTime<FixedOffset> {
        self.captured_at
    }

    /// Every field as `(name, value)` pairs in a fixed order, absent fields as empty strings. This is
    /// the canonical text form that seals sign (via its hash) and that the PDF's document information
    /// carries, so the order and spelling of names must never change.
    pub fn canonical_fields(&self) -> Vec<(&'static str, String)> {
        let opt = |v: Option<&str>| v.unwrap_or_default().to_owned();
        vec![
            ("doc_type", self.doc_type.to_string()),
            ("owner", self.owner.as_ref().map(ToString::to_string).unwrap_or_default()),
            ("name", self.name.clone()),
            ("number_symbol", opt(self.number_symbol())),
            ("issue_date", self.issue_date.map(|d| d.to_string()).unwrap_or_default()),
            ("issuing_body", opt(self.issuing_body())),
            ("summary", opt(self.summary())),
            (
                "validity",
                match self.validity {
                    Validity::Permanent => "permanent".to_owned(),
                    Validity::Until(d) => format!("until {d}"),
                },
            ),
            ("validity_scope", opt(self.validity_scope())),
            ("dossier", self.dossier.as_ref().map(ToString::to_string).unwrap_or_default()),
            ("procedure", self.procedure.as_ref().map(ToString::to_string).unwrap_or_default()),
            ("operator", self.operator.clone()),
            ("captured_at", self.captured_at.to_rfc3339()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> MetadataDraft {
        MetadataDraft {
            doc_type: DocumentTypeCode::parse("GPXD").unwrap(),
            owner: Some(OwnerId::parse("001099012345").unwrap()),
            name: "  Giấy phép   xây dựng ".into(),
            number_symbol: Some("123/GPXD-UBND".into()),
            issue_date: NaiveDate::from_ymd_opt(2024, 3, 1),
            issuing_body: Some("UBND quận Ba Đình".into()),
            summary: None,
            validity: Validity::Until(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
            validity_scope: Some("".into()),
            dossier: None,
            procedure: None,
            operator: "nguyen.van.a".into(),
            captured_at: "2026-11-22T09:30:00+07:00".parse().unwrap(),
        }
    }

    #[test]
    fn cleans_text_and_keeps_fields() {
        let m = DocumentMetadata::new(draft()).unwrap();
        assert_eq!(m.name(), "Giấy phép xây dựng");
        assert_eq!(m.validity_scope(), None);
        assert!(!m.validity().covers(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()));
        assert!(m.validity().covers(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()));
        assert_eq!(m.canonical_fields().len(), 13);
    }

    #[test]
    fn refuses_inconsistent_drafts() {
        let mut d = draft();
        d.name = "   ".into();
        let e = DocumentMetadata::new(d).unwrap_err();
        assert!(e.to_string().contains("name"));
        assert_eq!(e.vi(), "Chưa nhập tên giấy tờ");
        let mut d = draft();
        d.issue_date = NaiveDate::from_ymd_opt(2027, 1, 1);
        assert!(DocumentMetadata::new(d).unwrap_err().to_string().contains("after the capture"));
        let mut d = draft();
        d.validity = Validity::Until(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
        assert!(DocumentMetadata::new(d).unwrap_err().to_string().contains("before the issue date"));
        let mut d = draft();
        d.operator = String::new();
        assert!(DocumentMetadata::new(d).is_err());
    }
}
