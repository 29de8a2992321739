//! The province's other offices on the officer's screens (reuse and search): each document offered
//! with its office and the mark that it verified on this appliance, each one refused with the
//! reason, so that the officer sees why a document the province knows is not offered.

use maud::{Markup, html};

use super::document::badge;
use super::lang::{self, Lang};
use crate::ops::province::{ProvinceOffer, ProvinceRefusal};

/// The other offices' documents: `unavailable` when the province index could not be asked, `none`
/// said when it found nothing.
pub(super) fn offers(
    lang: Lang,
    offers: &[ProvinceOffer],
    refused: &[ProvinceRefusal],
    unavailable: bool,
    none: &str,
) -> Markup {
    html! {
        section #province aria-labelledby="province-heading" {
            h2 #province-heading { (lang.t("Tại các cơ quan khác trong tỉnh", "At the province's other offices")) }
            @if unavailable {
                p.flash.bad role="alert" {
                    (lang.t("Chưa tra cứu được chỉ mục của tỉnh; hãy thử lại sau.", "The province index could not be asked; try again later."))
                }
            } @else if offers.is_empty() && refused.is_empty() {
                p.muted { (none) }
            }
            @for o in offers {
                article.card.province-offer {
                    h3 { (o.name) }
                    p {
                        (badge(true, lang.t("Đã xác minh", "Verified"))) " "
                        (lang.t("Nơi lưu giữ", "Held by")) ": " strong.office { (o.office) }
                    }
                    dl.facts {
                        dt { (lang.t("Mã tài liệu", "Document code")) } dd { code { (o.code) } }
                        dt { (lang.t("Loại", "Type")) } dd { (o.doc_type) }
                        @if let Some(day) = o.issue_date { dt { (lang.t("Ngày ban hành", "Issued on")) } dd { (lang::date(day)) } }
                        dt { (lang.t("Hiệu lực", "Valid")) }
                        dd {
                            @match o.valid_until {
                                Some(day) => { (lang.t("đến hết ngày", "until the end of")) " " (lang::date(day)) },
                                None => (lang.t("không thời hạn", "without end")),
                            }
                        }
                    }
                }
            }
            @for r in refused {
                article.card.province-refused {
                    h3 { code { (r.code) } }
                    p {
                        (badge(false, lang.t("Không xác minh được, không đề xuất", "Not verified, not offered"))) " "
                        (lang.t("Theo chỉ mục, nơi lưu giữ", "Held, says the index, by")) ": " (r.office)
                    }
                    p.bad { (r.reason) }
                }
            }
        }
    }
}
