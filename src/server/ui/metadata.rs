//! The metadata form of the scanning station (R3): the fields an operator fills for a document, as a
//! `<fieldset>` that the station's page puts in its own form, and their check. The check is the
//! domain's (the same constructors the API and the command line run), collected field by field so
//! that every mistake is shown next to its own field in the page's language; the page's script asks
//! `POST /station/check` while the operator types, so a wrong personal ID is seen before the batch is
//! sealed. Dates are shown and typed as people in Vietnam write them (dd/mm/yyyy); ISO dates are
//! accepted too. The dossier code can be allocated from the form (`POST /api/dossiers`).

use std::collections::BTreeMap;

use axum::routing::post;
use axum::{Json, Router};
use chrono::NaiveDate;
use domain::{
    DocumentMetadata, DocumentTypeCode, DomainError, DossierCode, MetadataDraft, OwnerId, ProcedureCode, Validity,
    vietnam_now,
};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::super::extract::AppJson;
use super::super::{AppError, AppState};
use super::error::WebError;
use super::lang::{self, Lang};
use super::user::WebUser;
use crate::input::MetadataFields;

/// Each form field's error, in the page's language, by the field's name (the names of
/// [`MetadataFields`]: `owner`, `type`, `name`, `number`, `issued`, `issuer`, `summary`,
/// `valid_until`, `scope`, `dossier`, `procedure`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    /// Whether every field is right.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The error of one field, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Keeps the first error of a field: later ones follow from it.
    fn add(&mut self, field: &'static str, message: String) {
        self.0.entry(field).or_insert(message);
    }
}

/// A domain refusal in `lang`: the domain writes both.
fn say(lang: Lang, error: &DomainError) -> String {
    match lang {
        Lang::Vi => error.vi().to_owned(),
        Lang::En => error.to_string(),
    }
}

/// A field's text, or `None` when it is left empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Parses a date field, or records why it is not a date.
fn day(lang: Lang, errors: &mut FieldErrors, field: &'static str, value: &Option<String>) -> Option<NaiveDate> {
    let value = given(value)?;
    let parsed = lang::parse_day(value);
    if parsed.is_none() {
        errors.add(
            field,
            lang.t(
                "Không phải một ngày có thật; hãy nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2024",
                "Not a real calendar date: type it as dd/mm/yyyy, e.g. 05/03/2024",
            )
            .to_owned(),
        );
    }
    parsed
}

/// Runs a domain parser on an optional field, recording its refusal under the field.
fn code<T>(
    lang: Lang,
    errors: &mut FieldErrors,
    field: &'static str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Option<T> {
    match value.map(parse)? {
        Ok(v) => Some(v),
        Err(e) => {
            errors.add(field, say(lang, &e));
            None
        }
    }
}

/// The form field that a [`DocumentMetadata`] field (as its refusals name it) is typed in.
fn form_field(metadata_field: &str) -> &'static str {
    match metadata_field {
        "number_symbol" => "number",
        "issue_date" => "issued",
        "issuing_body" => "issuer",
        "summary" => "summary",
        "validity" => "valid_until",
        "validity_scope" => "scope",
        "operator" => "operator",
        _ => "name",
    }
}

/// Checks the form as the domain checks an ingest, and gives the draft to ingest, or every field's
/// error in `lang`. Each code goes through its own domain constructor; the text fields and the
/// checks between fields go through [`DocumentMetadata::new`], which stops at its first refusal, so
/// it is run again with the refused field set aside until it has nothing more to say.
pub fn check(lang: Lang, input: &MetadataFields, operator: &str) -> Result<MetadataDraft, FieldErrors> {
    let mut errors = FieldErrors::default();
    let owner = code(lang, &mut errors, "owner", given(&input.owner), OwnerId::parse);
    let doc_type = code(lang, &mut errors, "type", Some(input.doc_type.as_str()), DocumentTypeCode::parse);
    let dossier = code(lang, &mut errors, "dossier", given(&input.dossier), str::parse::<DossierCode>);
    let procedure = code(lang, &mut errors, "procedure", given(&input.procedure), ProcedureCode::parse);
    let issue_date = day(lang, &mut errors, "issued", &input.issued);
    let valid_until = day(lang, &mut errors, "valid_until", &input.valid_until);
    let draft = MetadataDraft {
        // A refused type is already reported; the text fields are still checked against a type the
        // domain accepts, so that their errors show at the same time.
        doc_type: doc_type.clone().unwrap_or_else(|| DocumentTypeCode::parse("KHAC").expect("a valid type code")),
        owner,
        name: input.name.clone(),
        number_symbol: input.number.clone(),
        issue_date,
        issuing_body: input.issuer.clone(),
        summary: input.summary.clone(),
        validity: valid_until.map_or(Validity::Permanent, Validity::Until),
        validity_scope: input.scope.clone(),
        dossier,
        procedure,
        operator: operator.to_owned(),
        captured_at: vietnam_now(),
    };
    let mut probe = draft.clone();
    // Each round sets one refused field aside, and there are fewer fields than rounds.
    for _ in 0..16 {
        let Err(error) = DocumentMetadata::new(probe.clone()) else { break };
        let DomainError::InvalidMetadata { field, .. } = &error else {
            errors.add("name", say(lang, &error));
            break;
        };
        errors.add(form_field(field), say(lang, &error));
        match *field {
            "name" => probe.name = "-".into(),
            "number_symbol" => probe.number_symbol = None,
            "issue_date" => probe.issue_date = None,
            "issuing_body" => probe.issuing_body = None,
            "summary" => probe.summary = None,
            "validity" => probe.validity = Validity::Permanent,
            "validity_scope" => probe.validity_scope = None,
            _ => break,
        }
    }
    if errors.is_empty() && doc_type.is_some() { Ok(draft) } else { Err(errors) }
}

/// One field of the form: its name, its label and a hint, in both languages.
struct Field {
    name: &'static str,
    label: (&'static str, &'static str),
    hint: Option<(&'static str, &'static str)>,
    kind: Kind,
}

/// How a field is typed.
#[derive(PartialEq)]
enum Kind {
    Text,
    Required,
    Date,
    Long,
}

const FIELDS: &[Field] = &[
    Field {
        name: "owner",
        label: ("Số định danh chủ sở hữu", "Owner's ID"),
        hint: Some((
            "12 chữ số (cá nhân) hoặc mã số thuế (tổ chức); để trống nếu không có",
            "12 digits (a person) or a tax code (an organisation); empty if none",
        )),
        kind: Kind::Text,
    },
    Field {
        name: "type",
        label: ("Mã loại giấy tờ", "Document type code"),
        hint: Some((
            "Chữ cái không dấu, chữ số, '_' hoặc '-', ví dụ GPXD",
            "ASCII letters, digits, '_' or '-', e.g. GPXD",
        )),
        kind: Kind::Required,
    },
    Field { name: "name", label: ("Tên giấy tờ", "Document name"), hint: None, kind: Kind::Required },
    Field {
        name: "number",
        label: ("Số, ký hiệu", "Number and symbol"),
        hint: Some(("Ví dụ 123/QĐ-UBND", "E.g. 123/QĐ-UBND")),
        kind: Kind::Text,
    },
    Field { name: "issued", label: ("Ngày ban hành", "Issue date"), hint: None, kind: Kind::Date },
    Field { name: "issuer", label: ("Cơ quan ban hành", "Issuing body"), hint: None, kind: Kind::Text },
    Field { name: "summary", label: ("Trích yếu", "Summary"), hint: None, kind: Kind::Long },
    Field {
        name: "valid_until",
        label: ("Hiệu lực đến ngày", "Valid until"),
        hint: Some(("Để trống nếu có hiệu lực vĩnh viễn", "Empty if valid permanently")),
        kind: Kind::Date,
    },
    Field { name: "scope", label: ("Phạm vi hiệu lực", "Scope of validity"), hint: None, kind: Kind::Text },
    Field {
        name: "dossier",
        label: ("Mã hồ sơ", "Dossier code"),
        hint: Some(("Dạng <mã đơn vị>-YYMMDD-NNNN", "As <unit>-YYMMDD-NNNN")),
        kind: Kind::Text,
    },
    Field {
        name: "procedure",
        label: ("Mã thủ tục hành chính", "Procedure code"),
        hint: Some(("Ví dụ 1.003560.000.00.00.H56", "E.g. 1.003560.000.00.00.H56")),
        kind: Kind::Text,
    },
];

/// The value a field shows: what was typed, dates in dd/mm/yyyy when they read as dates.
fn value(input: &MetadataFields, field: &Field) -> String {
    let raw = match field.name {
        "owner" => input.owner.clone(),
        "type" => Some(input.doc_type.clone()),
        "name" => Some(input.name.clone()),
        "number" => input.number.clone(),
        "issued" => input.issued.clone(),
        "issuer" => input.issuer.clone(),
        "summary" => input.summary.clone(),
        "valid_until" => input.valid_until.clone(),
        "scope" => input.scope.clone(),
        "dossier" => input.dossier.clone(),
        _ => input.procedure.clone(),
    }
    .unwrap_or_default();
    match field.kind {
        Kind::Date => lang::parse_day(&raw).map(lang::date).unwrap_or(raw),
        _ => raw,
    }
}

/// The metadata fieldset, for the station's form: a labelled input per field with what was typed,
/// each field's error beside it, and the dossier code's allocation. No `<form>`: the page that
/// embeds it has one.
pub fn fields(user: &WebUser, input: &MetadataFields, errors: &FieldErrors) -> Markup {
    let lang = user.lang;
    html! {
        fieldset.metadata.card data-check="/station/check" {
            legend { (lang.t("Thông tin giấy tờ", "Document metadata")) }
            div.grid {
                @for field in FIELDS {
                    @let error = errors.get(field.name);
                    @let hint_id = format!("{}-hint", field.name);
                    @let error_id = format!("{}-error", field.name);
                    @let described = match field.hint {
                        Some(_) => format!("{hint_id} {error_id}"),
                        None => error_id.clone(),
                    };
                    div.field {
                        label for=(field.name) {
                            (lang.t(field.label.0, field.label.1))
                            @if field.kind == Kind::Required { " " abbr.req title=(lang.t("bắt buộc", "required")) { "*" } }
                        }
                        @if field.kind == Kind::Long {
                            textarea id=(field.name) name=(field.name) rows="2" aria-describedby=(described)
                                aria-invalid=[error.map(|_| "true")] { (value(input, field)) }
                        } @else {
                            input id=(field.name) name=(field.name) value=(value(input, field))
                                autocomplete="off" spellcheck="false"
                                required[field.kind == Kind::Required]
                                inputmode=[(field.name == "owner").then_some("numeric")]
                                placeholder=[(field.kind == Kind::Date).then_some("dd/mm/yyyy")]
                                pattern=[(field.kind == Kind::Date).then_some(r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}")]
                                aria-describedby=(described)
                                aria-invalid=[error.map(|_| "true")];
                        }
                        @if let Some((hint_vi, hint_en)) = field.hint {
                            small.hint id=(hint_id) { (lang.t(hint_vi, hint_en)) }
                        }
                        span.field-error id=(error_id) aria-live="polite" { @if let Some(e) = error { (e) } }
                        @if field.name == "dossier" && user.may(crate::ops::dossiers::ALLOCATE) {
                            div.allocate {
                                label for="dossier-unit" { (lang.t("Mã đơn vị tiếp nhận", "Receiving unit code")) }
                                input #dossier-unit autocomplete="off" spellcheck="false" placeholder="H56.14"
                                    aria-describedby="dossier-unit-error";
                                button.secondary type="button" data-allocate="/api/dossiers"
                                    data-failed=(lang.t(
                                        "Không cấp được mã hồ sơ: hãy kiểm tra mã đơn vị (ví dụ H56.14)",
                                        "No dossier code was allocated: check the unit code (e.g. H56.14)",
                                    )) {
                                    (lang.t("Cấp mã hồ sơ", "Allocate dossier code"))
                                }
                                span.field-error #dossier-unit-error aria-live="polite" {}
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /station/check` with the form's fields as JSON: every field's error, in the page's
/// language, as the station's form will find them when it is sent.
async fn check_route(
    user: WebUser,
    body: Result<AppJson<CheckRequest>, AppError>,
) -> Result<Json<CheckAnswer>, WebError> {
    user.require(crate::appliance::INGEST)?;
    let AppJson(input) = body.map_err(|e| user.error(e))?;
    let errors = match check(user.lang, &input.fields, &user.user.name) {
        Ok(_) => FieldErrors::default(),
        Err(errors) => errors,
    };
    Ok(Json(CheckAnswer { errors }))
}

/// What the form's script sends: the fields as typed.
#[derive(Deserialize)]
struct CheckRequest {
    #[serde(flatten)]
    fields: MetadataFields,
}

/// What it hears back.
#[derive(Serialize)]
struct CheckAnswer {
    errors: FieldErrors,
}

/// The check's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/station/check", post(check_route))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::sessions::SessionKind;
    use crate::server::AuthUser;
    use crate::users::Role;

    fn input() -> MetadataFields {
        MetadataFields {
            owner: Some("001099012345".into()),
            doc_type: "GPXD".into(),
            name: "Giấy phép xây dựng".into(),
            issued: Some("05/03/2024".into()),
            ..Default::default()
        }
    }

    fn operator(lang: Lang) -> WebUser {
        let user = AuthUser {
            name: "lan".into(),
            role: Role::Operator,
            kind: SessionKind::Browser,
            session_id: [0; 32],
            csrf_token: Some("csrf".into()),
        };
        WebUser { user, lang, here: "/station".into() }
    }

    #[test]
    fn a_right_form_gives_the_draft_with_its_dates_as_typed() {
        let draft = check(Lang::Vi, &input(), "lan").unwrap();
        assert_eq!(draft.issue_date, NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(draft.operator, "lan");
        let mut iso = input();
        iso.issued = Some("2024-03-05".into());
        assert_eq!(check(Lang::Vi, &iso, "lan").unwrap().issue_date, NaiveDate::from_ymd_opt(2024, 3, 5));
    }

    #[test]
    fn every_wrong_field_is_named_with_its_own_message_in_the_page_language() {
        let wrong = MetadataFields {
            owner: Some("00109901234".into()),
            doc_type: "GP XD".into(),
            name: "   ".into(),
            issued: Some("31/02/2024".into()),
            dossier: Some("H56.14-241011-001".into()),
            procedure: Some("1.003560".into()),
            ..Default::default()
        };
        let errors = check(Lang::Vi, &wrong, "lan").unwrap_err();
        assert_eq!(
            errors.get("owner"),
            Some(
                "Số định danh cá nhân phải có 12 chữ số, mã số thuế 10 chữ số (hoặc NNNNNNNNNN-NNN); \
                 số đã nhập có 11 chữ số"
            )
        );
        assert!(errors.get("type").unwrap().starts_with("Mã loại giấy tờ chỉ gồm"), "{errors:?}");
        assert_eq!(errors.get("name"), Some("Chưa nhập tên giấy tờ"));
        assert!(errors.get("issued").unwrap().starts_with("Không phải một ngày có thật"), "{errors:?}");
        assert_eq!(errors.get("dossier"), Some("Mã hồ sơ phải kết thúc bằng số thứ tự trong ngày gồm bốn chữ số"));
        assert_eq!(errors.get("procedure"), Some("Mã thủ tục hành chính phải có dạng 1.003560.000.00.00.H56"));
        assert_eq!(errors.get("summary"), None);

        let errors = check(Lang::En, &wrong, "lan").unwrap_err();
        assert!(errors.get("owner").unwrap().contains("has 11 digits"), "{errors:?}");
        assert!(errors.get("name").unwrap().contains("must not be empty"), "{errors:?}");
    }

    #[test]
    fn a_province_that_does_not_exist_and_dates_out_of_order_are_refused() {
        let mut wrong = input();
        wrong.owner = Some("099099012345".into());
        wrong.valid_until = Some("01/01/2020".into());
        let errors = check(Lang::Vi, &wrong, "lan").unwrap_err();
        assert_eq!(errors.get("owner"), Some("Mã tỉnh 099 (ba chữ số đầu) không tồn tại"));
        assert_eq!(errors.get("valid_until"), Some("Ngày hết hiệu lực 01/01/2020 sớm hơn ngày ban hành 05/03/2024"));
        let mut late = input();
        late.issued = Some("01/01/2099".into());
        let errors = check(Lang::Vi, &late, "lan").unwrap_err();
        assert!(
            errors.get("issued").unwrap().starts_with("Ngày ban hành 01/01/2099 muộn hơn ngày số hóa"),
            "{errors:?}"
        );
    }

    #[test]
    fn the_fieldset_keeps_what_was_typed_and_shows_each_error_beside_its_field() {
        let mut typed = input();
        typed.owner = Some("00109901234".into());
        typed.issued = Some("2024-03-05".into());
        let errors = check(Lang::Vi, &typed, "lan").unwrap_err();
        let html = fields(&operator(Lang::Vi), &typed, &errors).into_string();
        assert!(html.contains("<fieldset class=\"metadata card\""), "{html}");
        assert!(html.contains("<legend>Thông tin giấy tờ</legend>"), "{html}");
        assert!(!html.contains("<form"), "{html}");
        assert!(
            html.contains(
                "id=\"owner\" name=\"owner\" value=\"00109901234\" autocomplete=\"off\" spellcheck=\"false\" \
                 inputmode=\"numeric\" aria-describedby=\"owner-hint owner-error\" aria-invalid=\"true\""
            ),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"field-error\" id=\"owner-error\" aria-live=\"polite\">Số định danh"),
            "{html}"
        );
        assert!(html.contains("id=\"issued\" name=\"issued\" value=\"05/03/2024\""), "{html}");
        assert!(html.contains("Cấp mã hồ sơ"), "{html}");
        assert!(html.contains("<span class=\"field-error\" id=\"name-error\" aria-live=\"polite\"></span>"), "{html}");
        let english = fields(&operator(Lang::En), &input(), &FieldErrors::default()).into_string();
        assert!(english.contains("Allocate dossier code") && !english.contains("aria-invalid"), "{english}");
    }
}
