//! The dashboard (`/dashboard`): Decision 468/QĐ-TTg's targets over a period, from the one
//! operation that `sohoa dashboard` and `GET /api/dashboard` call too, so that the three show the same
//! figures. Each figure is written with `data-figure` (its place in the API's JSON) and `data-value`
//! (the number as the API gives it), so that tools and tests can read the page as they read the API.

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use maud::{Markup, html};

use super::super::AppState;
use super::super::extract::AppQuery;
use super::chart::{self, Chart, Kind};
use super::error::WebError;
use super::lang::{self, Lang};
use super::layout::{self, Screen};
use super::user::WebUser;
use crate::ops::dashboard::{Dashboard, DashboardQuery, READ};

/// A figure: its visible text, and its key and value for machines.
fn figure(key: &str, value: impl ToString, text: impl maud::Render) -> Markup {
    html! { span data-figure=(key) data-value=(value.to_string()) { (text) } }
}

/// A whole number as people in Vietnam write it (`12.345`), or in English (`12,345`).
fn count(lang: Lang, n: u64) -> String {
    let digits = n.to_string();
    let separator = lang.t(".", ",");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// A number to one decimal, with Vietnam's decimal comma (`33,3`) or the English point.
fn decimal(lang: Lang, x: f64) -> String {
    let text = format!("{x:.1}");
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

/// A share in percent to one decimal: `33,3 %` in Vietnamese, `33.3%` in English.
fn percent(lang: Lang, p: f64) -> String {
    format!("{}{}", decimal(lang, p), lang.t(" %", "%"))
}

/// A duration in seconds as minutes and seconds.
fn duration(lang: Lang, seconds: Option<i64>) -> String {
    match seconds {
        None => "–".to_owned(),
        Some(s) if s < 60 => format!("{s} {}", lang.t("giây", "s")),
        Some(s) => format!("{} {} {} {}", s / 60, lang.t("phút", "min"), s % 60, lang.t("giây", "s")),
    }
}

/// `YYYY-MM` as `mm/yyyy`.
fn month(m: &str) -> String {
    m.split_once('-').map_or_else(|| m.to_owned(), |(y, m)| format!("{m}/{y}"))
}

/// `GET /dashboard`.
async fn page(
    State(state): State<AppState>,
    user: WebUser,
    AppQuery(query): AppQuery<DashboardQuery>,
) -> Result<Html<String>, WebError> {
    user.require(READ)?;
    let dashboard = super::super::blocking(&state, move |a| a.dashboard(query)).await.map_err(|e| user.error(e))?;
    let title = Screen::Dashboard.label(user.lang);
    Ok(Html(layout::page(&user, Some(Screen::Dashboard), title, content(&user, &dashboard)).into_string()))
}

fn content(user: &WebUser, d: &Dashboard) -> Markup {
    let lang = user.lang;
    let last_reuse = d.reuse.last();
    let [first_target, final_target] = d.reuse_targets_percent;
    html! {
        h1 { (Screen::Dashboard.label(lang)) }
        p.muted {
            (lang.t("Các chỉ tiêu của Quyết định 468/QĐ-TTg, từ ", "Decision 468/QĐ-TTg's targets, from "))
            (lang::date(d.first_day)) (lang.t(" đến ", " to ")) (lang::date(d.last_day))
            " (" (d.days) " " (lang.t("ngày", "days")) "). "
            (lang.t("Số liệu lúc ", "Counted at ")) (lang::time(d.counted_at)) "."
        }
        form.inline.card.no-print method="get" action="/dashboard" {
            p {
                label for="days" { (lang.t("Số ngày", "Days")) }
                select #days name="days" {
                    @for days in [7, 30, 90, 365] {
                        option value=(days) selected[days == d.days] { (days) " " (lang.t("ngày", "days")) }
                    }
                }
            }
            p {
                label for="last_day" { (lang.t("Đến hết ngày", "Up to the day")) }
                input #last_day type="date" name="last_day" value=(d.last_day.format("%Y-%m-%d").to_string());
            }
            p { button type="submit" { (lang.t("Xem", "Show")) } }
        }
        div.grid {
            section.card aria-labelledby="fig-digitized" {
                h2 #fig-digitized { (lang.t("Đã số hóa", "Digitized")) }
                p.big { (figure("documents", d.documents, count(lang, d.documents))) " " (lang.t("tài liệu", "documents")) }
                p { (figure("pages", d.pages, count(lang, d.pages))) " " (lang.t("trang", "pages")) }
            }
            section.card aria-labelledby="fig-signed" {
                h2 #fig-signed { (lang.t("Kết quả được ký số", "Results signed")) }
                p.big { (figure("results.signed_percent", d.results.signed_percent, percent(lang, d.results.signed_percent))) }
                p {
                    (figure("results.signed", d.results.signed, count(lang, d.results.signed)))
                    (lang.t(" trên ", " of "))
                    (figure("results.digitized", d.results.digitized, count(lang, d.results.digitized)))
                    (lang.t(" tài liệu còn hiệu lực, có chữ ký số của cơ quan", " documents in force carry the agency's signature"))
                }
            }
            section.card aria-labelledby="fig-reuse" {
                h2 #fig-reuse { (lang.t("Tái sử dụng", "Reuse")) }
                @if let Some(r) = last_reuse {
                    p.big { (percent(lang, r.rate_percent)) }
                    p { (lang.t("Tháng ", "Month ")) (month(&r.month)) "; "
                        (lang.t("mục tiêu ", "targets ")) (first_target) "% " (lang.t("và", "and")) " " (final_target) "%" }
                } @else {
                    p { (lang.t("Chưa có hồ sơ trong kỳ.", "No dossier in the period.")) }
                }
            }
            section.card aria-labelledby="fig-queue" {
                h2 #fig-queue { (lang.t("Hàng đợi OCR", "OCR queue")) }
                p.big { (figure("queue.pages_waiting", d.queue.pages_waiting, d.queue.pages_waiting)) " " (lang.t("trang", "pages")) }
                p {
                    (figure("queue.ingests", d.queue.ingests, d.queue.ingests)) " " (lang.t("giấy tờ đang chờ tạo bản điện tử", "documents waiting for their signed copy")) "; "
                    (figure("queue.hot_folder_files", d.queue.hot_folder_files, d.queue.hot_folder_files)) " "
                    (lang.t("tệp chờ trong thư mục nhận tệp", "files waiting in the hot folder"))
                }
            }
            section.card aria-labelledby="fig-time" {
                h2 #fig-time { (lang.t("Từ scan đến lưu trữ", "Scan to archive")) }
                p.big { (figure("scan_to_archive.p50_seconds", d.scan_to_archive.p50_seconds.map_or(String::new(), |s| s.to_string()), duration(lang, d.scan_to_archive.p50_seconds))) }
                p {
                    (lang.t("Trung vị; 90% trong ", "Median; 90% within "))
                    (figure("scan_to_archive.p90_seconds", d.scan_to_archive.p90_seconds.map_or(String::new(), |s| s.to_string()), duration(lang, d.scan_to_archive.p90_seconds)))
                    (lang.t(", trên ", ", over "))
                    (figure("scan_to_archive.documents", d.scan_to_archive.documents, d.scan_to_archive.documents))
                    (lang.t(" tài liệu", " documents"))
                }
            }
        }
        (daily(lang, d))
        (reuse(lang, d))
        (operators(lang, d))
    }
}

fn daily(lang: Lang, d: &Dashboard) -> Markup {
    let documents: Vec<(String, f64)> =
        d.daily.iter().map(|c| (c.day.format("%d/%m").to_string(), c.documents as f64)).collect();
    let pages: Vec<(String, f64)> =
        d.daily.iter().map(|c| (c.day.format("%d/%m").to_string(), c.pages as f64)).collect();
    html! {
        section aria-labelledby="daily-heading" {
            h2 #daily-heading { (lang.t("Số hóa theo ngày", "Digitized per day")) }
            div.grid {
                (chart::draw(&Chart {
                    id: "chart-documents",
                    title: lang.t("Tài liệu số hóa mỗi ngày", "Documents digitized per day"),
                    description: lang.t("Biểu đồ cột; số liệu trong bảng bên dưới.", "Bar chart; the figures are in the table below."),
                    kind: Kind::Bars,
                    points: &documents,
                    targets: &[],
                }))
                (chart::draw(&Chart {
                    id: "chart-pages",
                    title: lang.t("Trang số hóa mỗi ngày", "Pages digitized per day"),
                    description: lang.t("Biểu đồ đường; số liệu trong bảng bên dưới.", "Line chart; the figures are in the table below."),
                    kind: Kind::Line,
                    points: &pages,
                    targets: &[],
                }))
            }
            details {
                summary { (lang.t("Bảng số liệu theo ngày", "Figures per day")) }
                table #table-daily {
                    caption { (lang.t("Tài liệu và trang số hóa mỗi ngày", "Documents and pages digitized per day")) }
                    thead { tr {
                        th scope="col" { (lang.t("Ngày", "Day")) }
                        th scope="col" { (lang.t("Tài liệu", "Documents")) }
                        th scope="col" { (lang.t("Trang", "Pages")) }
                    } }
                    tbody {
                        @for c in &d.daily {
                            @let key = format!("daily.{}", c.day);
                            tr {
                                th scope="row" { (lang::date(c.day)) }
                                td { (figure(&format!("{key}.documents"), c.documents, count(lang, c.documents))) }
                                td { (figure(&format!("{key}.pages"), c.pages, count(lang, c.pages))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn reuse(lang: Lang, d: &Dashboard) -> Markup {
    let points: Vec<(String, f64)> = d.reuse.iter().map(|r| (month(&r.month), r.rate_percent)).collect();
    let targets: Vec<(f64, String)> = d
        .reuse_targets_percent
        .iter()
        .map(|t| (f64::from(*t), format!("{} {t}%", lang.t("mục tiêu", "target"))))
        .collect();
    html! {
        section aria-labelledby="reuse-heading" {
            h2 #reuse-heading { (lang.t("Tỷ lệ tái sử dụng theo tháng", "Reuse rate per month")) }
            p.muted { (lang.t(
                "Tỷ lệ hồ sơ có ít nhất một giấy tờ được tái sử dụng thay vì nộp lại bản giấy (R10).",
                "The share of dossiers that reused at least one document instead of a paper handed in again (R10)."
            )) }
            @if d.reuse.is_empty() {
                p { (lang.t("Chưa có hồ sơ trong kỳ.", "No dossier in the period.")) }
            } @else {
                (chart::draw(&Chart {
                    id: "chart-reuse",
                    title: lang.t("Tỷ lệ tái sử dụng theo tháng, so với mục tiêu 30% và 80%", "Reuse rate per month against the 30% and 80% targets"),
                    description: lang.t("Biểu đồ cột, đường nét đứt là mục tiêu; số liệu trong bảng bên dưới.", "Bar chart, the dashed lines are the targets; the figures are in the table below."),
                    kind: Kind::Bars,
                    points: &points,
                    targets: &targets,
                }))
            }
            table #table-reuse {
                caption { (lang.t("Hồ sơ và tái sử dụng theo tháng", "Dossiers and reuse per month")) }
                thead { tr {
                    th scope="col" { (lang.t("Tháng", "Month")) }
                    th scope="col" { (lang.t("Hồ sơ", "Dossiers")) }
                    th scope="col" { (lang.t("Có tái sử dụng", "With reuse")) }
                    th scope="col" { (lang.t("Tỷ lệ", "Rate")) }
                } }
                tbody {
                    @for r in &d.reuse {
                        @let key = format!("reuse.{}", r.month);
                        tr {
                            th scope="row" { (month(&r.month)) }
                            td { (figure(&format!("{key}.dossiers"), r.dossiers, count(lang, r.dossiers))) }
                            td { (figure(&format!("{key}.with_reuse"), r.with_reuse, count(lang, r.with_reuse))) }
                            td {
                                (figure(&format!("{key}.rate_percent"), r.rate_percent, percent(lang, r.rate_percent))) " "
                                @let reached = d.reuse_targets_percent.iter().filter(|t| r.rate_percent >= f64::from(**t)).count();
                                @match reached {
                                    0 => span.badge.bad { (lang.t("dưới 30%", "below 30%")) },
                                    1 => span.badge.warn { (lang.t("đạt 30%", "30% reached")) },
                                    _ => span.badge.ok { (lang.t("đạt 80%", "80% reached")) },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn operators(lang: Lang, d: &Dashboard) -> Markup {
    html! {
        section aria-labelledby="operators-heading" {
            h2 #operators-heading { (lang.t("Hồ sơ theo nhân viên", "Dossiers per operator")) }
            p.muted {
                (lang.t("Định mức 2.000 hồ sơ một năm, tính cho ", "The norm of 2,000 dossiers a year, prorated to "))
                (d.days) (lang.t(" ngày: ", " days: "))
                (figure("dossier_norm", d.dossier_norm, decimal(lang, d.dossier_norm)))
                (lang.t(" hồ sơ.", " dossiers."))
            }
            @if d.operators.is_empty() {
                p { (lang.t("Chưa có tài liệu trong kỳ.", "No document in the period.")) }
            } @else {
                table #table-operators {
                    caption { (lang.t("Hồ sơ và tài liệu mỗi nhân viên đã tiếp nhận", "Dossiers and documents each operator received")) }
                    thead { tr {
                        th scope="col" { (lang.t("Nhân viên", "Operator")) }
                        th scope="col" { (lang.t("Hồ sơ", "Dossiers")) }
                        th scope="col" { (lang.t("Tài liệu", "Documents")) }
                        th scope="col" { (lang.t("So với định mức", "Of the norm")) }
                    } }
                    tbody {
                        @for o in &d.operators {
                            @let key = format!("operators.{}", o.operator);
                            tr {
                                th scope="row" { (o.operator) }
                                td { (figure(&format!("{key}.dossiers"), o.dossiers, count(lang, o.dossiers))) }
                                td { (figure(&format!("{key}.documents"), o.documents, count(lang, o.documents))) }
                                td { (figure(&format!("{key}.norm_percent"), o.norm_percent, percent(lang, o.norm_percent))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The dashboard's page.
pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard", get(page))
}
