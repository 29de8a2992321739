//! Metadata as a person types it (command-line flags or form fields), and its conversion into checked
//! domain values with one-line errors that name the field.

use chrono::NaiveDate;
use domain::{DocumentTypeCode, DossierCode, MetadataDraft, OwnerId, ProcedureCode, Validity, vietnam_now};
use serde::Deserialize;

use crate::ApplianceError;

/// The R3 metadata fields of an ingest, as text. The same names serve as `--flags` on the command
/// line and as form fields over HTTP.
#[derive(Debug, Clone, Default, clap::Args, Deserialize)]
pub struct MetadataFields {
    /// Owner: 12-digit personal ID or tax code; omit when the owner has none.
    #[arg(long)]
    pub owner: Option<String>,
    /// Document type code.
    #[arg(long = "type")]
    #[serde(rename = "type")]
    pub doc_type: String,
    /// Document name.
    #[arg(long)]
    pub name: String,
    /// Number and symbol (số, ký hiệu), e.g. 123/QĐ-UBND.
    #[arg(long)]
    pub number: Option<String>,
    /// Issue date, YYYY-MM-DD.
    #[arg(long)]
    pub issued: Option<String>,
    /// Issuing body.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Summary (trích yếu).
    #[arg(long)]
    pub summary: Option<String>,
    /// Last day of validity, YYYY-MM-DD; without it the document is valid permanently.
    #[arg(long)]
    pub valid_until: Option<String>,
    /// Scope of validity.
    #[arg(long)]
    pub scope: Option<String>,
    /// Dossier code, <unit>-YYMMDD-NNNN.
    #[arg(long)]
    pub dossier: Option<String>,
    /// Procedure code (mã TTHC), e.g. 1.003560.000.00.00.H56.
    #[arg(long)]
    pub procedure: Option<String>,
}

/// Parses an optional date, naming the field when it is not a real calendar date.
fn parse_date(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, ApplianceError> {
    value
        .map(|v| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
                ApplianceError::Input(format!("invalid {field} {v:?}: not a real calendar date in the form YYYY-MM-DD"))
            })
        })
        .transpose()
}

/// Parses an optional typed field with its own parser.
fn parse_opt<T>(
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, domain::DomainError>,
) -> Result<Option<T>, ApplianceError> {
    Ok(value.map(parse).transpose()?)
}

/// Empty form fields mean "not given".
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

impl MetadataFields {
    /// Checks every field and builds the draft, captured now by `operator`.
    pub fn draft(&self, operator: String) -> Result<MetadataDraft, ApplianceError> {
        let issue_date = parse_date("issue date (--issued)", given(&self.issued))?;
        let validity = match parse_date("validity end (--valid-until)", given(&self.valid_until))? {
            Some(day) => Validity::Until(day),
            None => Validity::Permanent,
        };
        Ok(MetadataDraft {
            doc_type: DocumentTypeCode::parse(&self.doc_type)?,
            owner: parse_opt(given(&self.owner), OwnerId::parse)?,
            name: self.name.clone(),
            number_symbol: self.number.clone(),
            issue_date,
            issuing_body: self.issuer.clone(),
            summary: self.summary.clone(),
            validity,
            validity_scope: self.scope.clone(),
            dossier: parse_opt(given(&self.dossier), str::parse::<DossierCode>)?,
            procedure: parse_opt(given(&self.procedure), ProcedureCode::parse)?,
            operator,
            captured_at: vietnam_now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> MetadataFields {
        MetadataFields {
            doc_type: "GPXD".into(),
            name: "Giấy phép xây dựng".into(),
            owner: Some("001099012345".into()),
            ..Default::default()
        }
    }

    #[test]
    fn builds_a_draft_and_names_bad_fields() {
        let d = fields().draft("op".into()).unwrap();
        assert_eq!(d.validity, Validity::Permanent);
        let mut f = fields();
        f.issued = Some("2024-02-30".into());
        let e = f.draft("op".into()).unwrap_err().to_string();
        assert!(e.contains("issue date") && e.contains("2024-02-30"), "{e}");
        let mut f = fields();
        f.owner = Some("00109901234".into());
        assert!(f.draft("op".into()).unwrap_err().to_string().contains("owner ID"));
        let mut f = fields();
        f.owner = Some(" ".into());
        assert!(f.draft("op".into()).unwrap().owner.is_none());
    }
}
