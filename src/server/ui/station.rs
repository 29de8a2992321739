//! The scanning station (`/station`), for scan operators at a counter: choose a scanner and its
//! settings, scan a feeder batch (or upload files) into a batch whose pages appear live as they are
//! scanned and read ([`station_events`](super::station_events)), put the pages in order, turn,
//! delete or rescan them, fill in the metadata and seal: the batch goes through the same ingest as
//! the API and the CLI, and the browser goes on to the receipt. Everything but the upload and the
//! live list works without the script: each action is a small form that comes back here.

use std::path::PathBuf;

use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use capture::PageFlag;
use maud::{Markup, html};
use serde::Deserialize;

use super::super::extract::AppPath;
use super::super::limits::BodyLimit;
use super::super::{AppError, AppState};
use super::error::WebError;
use super::lang::Lang;
use super::layout::{self, Screen};
use super::metadata::{self, FieldErrors};
use super::station_batch::{Batch, Problem, Scanning, Source, Stage, StagedPage};
use super::station_scan::{self, ScanForm, Target};
use super::user::WebUser;
use super::{assets, station_events, station_queue};
use crate::appliance::INGEST;
use crate::config::HttpConfig;
use crate::input::MetadataFields;
use crate::scan::{ScannerOptions, Scanners};
use crate::{ApplianceError, IngestRequest};

/// The station's query: the scanner chosen, and the outcome of the last action.
#[derive(Debug, Default, Deserialize)]
pub struct StationQuery {
    device: Option<String>,
    done: Option<String>,
}

/// What the station shows about the scanners: SANE's devices, and the chosen one's options.
struct Devices {
    list: Result<Scanners, String>,
    chosen: Option<String>,
    options: Option<Result<ScannerOptions, String>>,
}

/// `GET /station`.
async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Query(query): Query<StationQuery>,
) -> Result<Html<String>, WebError> {
    user.require(INGEST)?;
    let devices = devices(&state, &user, query.device).await;
    let flash = query.done.as_deref().and_then(|d| outcome(user.lang, d)).map(|t| (false, t.to_owned()));
    Ok(Html(render(&state, &user, &devices, &MetadataFields::default(), &FieldErrors::default(), flash).into_string()))
}

/// The scanners, and the options of the one chosen (the query's, else the last scan's, else the
/// first); a device is not opened while this operator's scan runs on it.
async fn devices(state: &AppState, user: &WebUser, asked: Option<String>) -> Devices {
    let list = tokio::task::spawn_blocking(crate::scan::scanners)
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    let (last, running) = state.station.peek(&user.user.name, |b| {
        b.map_or((None, false), |b| {
            (b.last_scan.as_ref().map(|f| f.device.clone()), matches!(b.scanning, Scanning::Running(_)))
        })
    });
    let first = list.as_ref().ok().and_then(|l| l.devices.first()).map(|d| d.name.clone());
    let chosen = asked.filter(|d| !d.is_empty()).or(last).or(first);
    let options = match (&chosen, running) {
        (Some(device), false) => {
            let device = device.clone();
            Some(
                super::super::blocking(state, move |a| a.scanner_options(&device))
                    .await
                    .map_err(|e| e.client_message()),
            )
        }
        _ => None,
    };
    Devices { list, chosen, options }
}

/// The sentence for an action's outcome, named in the query after a redirect.
fn outcome(lang: Lang, done: &str) -> Option<&'static str> {
    Some(match done {
        "scanning" => lang.t(
            "Đã bắt đầu scan; các trang hiện ra ngay khi được scan.",
            "Scanning started; pages appear as they are scanned.",
        ),
        "uploaded" => lang.t("Đã thêm các trang của tệp vào lô.", "The files' pages were added to the batch."),
        "moved" => lang.t("Đã đổi thứ tự trang.", "The page was moved."),
        "rotated" => lang.t("Đã xoay trang 90°.", "The page was turned 90°."),
        "deleted" => lang.t("Đã xóa trang khỏi lô.", "The page was deleted from the batch."),
        "rescanning" => {
            lang.t("Đang scan lại trang; hãy đặt tờ vào máy.", "Rescanning the page; put the sheet in the scanner.")
        }
        "discarded" => lang.t("Đã hủy lô; không có gì được lưu trữ.", "The batch was discarded; nothing was archived."),
        _ => return None,
    })
}

/// The whole station page. `flash` is a message at the top, `(true, …)` for an error.
fn render(
    state: &AppState,
    user: &WebUser,
    devices: &Devices,
    fields: &MetadataFields,
    errors: &FieldErrors,
    flash: Option<(bool, String)>,
) -> Markup {
    let lang = user.lang;
    let title = Screen::Station.label(lang);
    let (list, status, count, form) = state.station.peek(&user.user.name, |b| match b {
        Some(b) => (pages_list(user, b), status(lang, b), b.pages.len(), b.last_scan.clone()),
        None => (html! {}, html! {}, 0, None),
    });
    layout::page(
        user,
        Some(Screen::Station),
        title,
        html! {
            script src=(assets::url("station.js")) defer {}
            script src=(assets::url("metadata.js")) defer {}
            h1 { (title) }
            @if let Some((bad, message)) = flash {
                p.flash.bad[bad] role=(if bad { "alert" } else { "status" }) { (message) }
            }
            div.grid.station-top {
                section.card aria-labelledby="scanner-h" {
                    h2 #scanner-h { (lang.t("1. Máy scan", "1. Scanner")) }
                    (scanner_forms(user, devices, form.as_ref(), count))
                }
                section.card aria-labelledby="upload-h" {
                    h2 #upload-h { (lang.t("Hoặc tải tệp lên", "Or upload files")) }
                    (upload_form(user))
                }
            }
            div #scan-status role="status" aria-live="polite" { (status) }
            section aria-labelledby="pages-h" {
                h2 #pages-h { (lang.t("2. Các trang của lô", "2. The batch's pages")) " (" span #page-count { (count) } ")" }
                p.muted { (lang.t(
                    "Kiểm tra từng trang trước khi niêm phong: thứ tự, hướng, và các trang bị đánh dấu.",
                    "Check each page before sealing: order, orientation, and the flagged pages.",
                )) }
                ol.thumbs.station-pages #pages { (list) }
            }
            section.card aria-labelledby="seal-h" {
                h2 #seal-h { (lang.t("3. Thông tin tài liệu và niêm phong", "3. Metadata and sealing")) }
                form #seal-form method="post" action="/station/seal" {
                    (layout::csrf_field(user))
                    (metadata::fields(user, fields, errors))
                    p { button type="submit" { (lang.t("Niêm phong và lưu trữ", "Seal and archive")) } }
                }
                form method="post" action="/station/discard"
                    data-confirm=(lang.t("Hủy cả lô? Các trang chưa được lưu trữ sẽ mất.", "Discard the whole batch? Its pages are not archived and will be lost.")) {
                    (layout::csrf_field(user))
                    button.secondary type="submit" { (lang.t("Hủy lô", "Discard the batch")) }
                }
            }
            section.card aria-labelledby="queue-h" {
                h2 #queue-h { (lang.t("4. Bản điện tử đang được tạo", "4. Signed copies being made")) }
                div #queue-panel role="status" aria-live="polite" { (station_queue::panel(user, &state.appliance.reading_queue().report())) }
            }
        },
    )
}

/// The device choice and the scan settings.
fn scanner_forms(user: &WebUser, devices: &Devices, last: Option<&ScanForm>, count: usize) -> Markup {
    let lang = user.lang;
    let list = match &devices.list {
        Ok(list) if !list.devices.is_empty() => list,
        Ok(list) => {
            return html! { p.error { (lang.t("Không tìm thấy máy scan nào. Cấu hình SANE ở: ", "No scanner found. SANE is configured in: ")) (list.config_dir) } };
        }
        Err(e) => {
            return html! { p.error { (lang.t("Không đọc được danh sách máy scan: ", "Cannot list the scanners: ")) (e) } };
        }
    };
    let chosen = devices.chosen.as_deref().unwrap_or_default();
    let options = devices.options.as_ref().and_then(|o| o.as_ref().ok());
    let allowed = |name: &str| -> String {
        options
            .and_then(|o| o.options.iter().find(|x| x.name == name))
            .map(|x| x.allowed.to_lowercase())
            .unwrap_or_default()
    };
    let (sources, modes) = (allowed("source"), allowed("mode"));
    let offers = |list: &str, words: &[&str]| list.is_empty() || words.iter().any(|w| list.contains(w));
    let defaults = ScanForm {
        device: chosen.to_owned(),
        source: if offers(&sources, &["adf", "feeder"]) { "adf" } else { "flatbed" }.into(),
        mode: "gray".into(),
        resolution: 300,
        page_size: "a4".into(),
        sheets: String::new(),
        options: String::new(),
    };
    let form = last.filter(|f| f.device == chosen).unwrap_or(&defaults);
    let source_choices = [
        ("flatbed", lang.t("Mặt kính", "Flatbed"), offers(&sources, &["flatbed"])),
        ("adf", lang.t("Khay nạp giấy (ADF)", "Document feeder (ADF)"), offers(&sources, &["adf", "feeder"])),
        ("adf-duplex", lang.t("Khay nạp, hai mặt", "Feeder, both sides"), offers(&sources, &["duplex"])),
    ];
    let mode_choices = [
        ("gray", lang.t("Thang xám", "Gray"), offers(&modes, &["gray", "grey"])),
        ("color", lang.t("Màu", "Color"), offers(&modes, &["color", "colour"])),
        ("lineart", lang.t("Đen trắng", "Black and white"), offers(&modes, &["lineart", "binary", "black"])),
    ];
    let resolutions = resolutions(&allowed("resolution"));
    let sizes = [("a4", "A4"), ("a5", "A5"), ("a3", "A3"), ("letter", "Letter"), ("legal", "Legal")];
    let running = devices.options.is_none() && devices.chosen.is_some();
    html! {
        form.inline method="get" action="/station" {
            p {
                label for="device-choice" { (lang.t("Máy scan", "Scanner")) }
                select #device-choice name="device" {
                    @for d in &list.devices {
                        option value=(d.name) selected[d.name == chosen] { (d.vendor) " " (d.model) " (" (d.name) ")" }
                    }
                }
            }
            p { button.secondary type="submit" { (lang.t("Chọn máy", "Choose")) } }
        }
        @if let Some(Err(e)) = &devices.options {
            p.error { (lang.t("Không mở được máy scan: ", "Cannot open the scanner: ")) (e) }
        }
        form #scan-form method="post" action="/station/scan" {
            (layout::csrf_field(user))
            input type="hidden" name="device" value=(chosen);
            div.grid.settings {
                p {
                    label for="scan-source" { (lang.t("Nguồn giấy", "Paper source")) }
                    select #scan-source name="source" {
                        @for (value, label, offered) in source_choices {
                            @if offered { option value=(value) selected[form.source == value] { (label) } }
                        }
                    }
                }
                p {
                    label for="scan-mode" { (lang.t("Chế độ màu", "Colour mode")) }
                    select #scan-mode name="mode" {
                        @for (value, label, offered) in mode_choices {
                            @if offered { option value=(value) selected[form.mode == value] { (label) } }
                        }
                    }
                }
                p {
                    label for="scan-resolution" { (lang.t("Độ phân giải (dpi)", "Resolution (dpi)")) }
                    select #scan-resolution name="resolution" {
                        @for dpi in &resolutions {
                            option value=(dpi) selected[form.resolution == *dpi] { (dpi) @if *dpi < 200 { " " (lang.t("(dưới mức 200 dpi)", "(under 200 dpi)")) } }
                        }
                    }
                }
                p {
                    label for="scan-size" { (lang.t("Khổ giấy", "Page size")) }
                    select #scan-size name="page_size" {
                        @for (value, label) in sizes {
                            option value=(value) selected[form.page_size == value] { (label) }
                        }
                    }
                }
                p {
                    label for="scan-sheets" { (lang.t("Số tờ (để trống: cả khay)", "Sheets (empty: the whole feeder)")) }
                    input #scan-sheets name="sheets" type="number" min="1" max="500" inputmode="numeric" value=(form.sheets);
                }
            }
            details {
                summary { (lang.t("Tùy chọn khác của máy", "More device options")) }
                p {
                    label for="scan-options" { (lang.t("Mỗi dòng một tùy chọn SANE, dạng tên=giá trị", "One SANE option a line, as name=value")) }
                    textarea #scan-options name="options" rows="3" cols="40" { (form.options) }
                }
                @if let Some(options) = options {
                    (options_table(lang, options))
                }
            }
            p {
                button type="submit" disabled[running] {
                    @if count == 0 { (lang.t("Bắt đầu scan", "Start scanning")) } @else { (lang.t("Scan tiếp vào lô này", "Continue: scan more into this batch")) }
                }
            }
        }
    }
}

/// The resolutions to offer: the usual ones the device accepts (`min..max` or a list).
fn resolutions(allowed: &str) -> Vec<u32> {
    let usual = [150, 200, 300, 400, 600];
    let fits: Box<dyn Fn(u32) -> bool> = if let Some((min, max)) = allowed.split_once("..") {
        let (min, max) = (min.trim().parse::<f64>().unwrap_or(0.0), max.trim().parse::<f64>().unwrap_or(f64::MAX));
        Box::new(move |d| (min..=max).contains(&f64::from(d)))
    } else if allowed.is_empty() {
        Box::new(|_| true)
    } else {
        let list: Vec<u32> =
            allowed.split('|').filter_map(|v| v.trim().parse::<f64>().ok()).map(|v| v as u32).collect();
        Box::new(move |d| list.contains(&d))
    };
    let offered: Vec<u32> = usual.into_iter().filter(|d| fits(*d)).collect();
    if offered.is_empty() { usual.to_vec() } else { offered }
}

/// The device's own options, for the operator who sets one by name.
fn options_table(lang: Lang, options: &ScannerOptions) -> Markup {
    html! {
        table.device-options {
            caption { (lang.t("Tùy chọn của ", "Options of ")) (options.device) }
            thead { tr {
                th scope="col" { (lang.t("Tên", "Name")) }
                th scope="col" { (lang.t("Giá trị", "Value")) }
                th scope="col" { (lang.t("Giá trị được phép", "Allowed values")) }
            } }
            tbody {
                @for o in options.options.iter().filter(|o| o.settable) {
                    tr { td { code { (o.name) } } td { (o.value.as_deref().unwrap_or("")) } td { (o.allowed) } }
                }
            }
        }
    }
}

/// The upload form: a file input, and a drop zone over it (the script sends the files).
fn upload_form(user: &WebUser) -> Markup {
    let lang = user.lang;
    html! {
        form #upload-form method="post" action="/station/upload" enctype="multipart/form-data" {
            div #drop-zone.drop-zone {
                p.muted { (lang.t("Kéo và thả tệp vào đây, hoặc chọn tệp:", "Drag and drop files here, or choose them:")) }
                label for="upload-files" { (lang.t("Tệp PNG, JPEG, TIFF hoặc PDF", "PNG, JPEG, TIFF or PDF files")) }
                input #upload-files type="file" name="file" multiple accept=".png,.jpg,.jpeg,.tif,.tiff,.pdf,image/png,image/jpeg,image/tiff,application/pdf";
            }
            p { button type="submit" { (lang.t("Tải lên vào lô", "Upload into the batch")) } }
        }
    }
}

/// What the scanner is doing, for the live status line.
pub fn status(lang: Lang, batch: &Batch) -> Markup {
    let reading = batch.pages.iter().filter(|p| matches!(p.stage, Stage::Scanned | Stage::Reading)).count();
    html! {
        @match &batch.scanning {
            Scanning::Idle => {},
            Scanning::Running(device) => p.flash { (lang.t("Đang scan trên ", "Scanning on ")) (device) "…" },
            Scanning::Ended { pages, problem: None } => p.flash { (lang.t("Scan xong: ", "Scan finished: ")) (pages) (lang.t(" trang.", " pages.")) },
            Scanning::Ended { problem: Some((kind, message)), .. } => div.flash.bad role="alert" {
                p { strong { (problem_text(lang, kind)) } }
                p { (lang.t("Các trang đã scan được giữ lại; lô có ", "The pages already scanned are kept; the batch has ")) (batch.pages.len()) (lang.t(" trang. ", " pages. "))
                    (lang.t("Xử lý xong rồi bấm \u{201c}Scan tiếp\u{201d}.", "Fix it, then press \u{201c}Continue\u{201d}.")) }
                p.detail lang="en" { (message) }
            },
        }
        @if reading > 0 {
            p.muted { (lang.t("Đang đọc (OCR) ", "Reading (OCR) ")) (reading) (lang.t(" trang…", " pages…")) }
        }
    }
}

/// The sentence for a device's problem.
fn problem_text(lang: Lang, problem: &Problem) -> String {
    match problem {
        Problem::Jammed(sheet) => match lang {
            Lang::Vi => format!("Kẹt giấy ở tờ {sheet}. Gỡ giấy kẹt rồi scan tiếp từ tờ {sheet}."),
            Lang::En => format!("Paper jammed at sheet {sheet}. Clear the jam and continue from sheet {sheet}."),
        },
        Problem::FeederEmpty => lang
            .t("Khay nạp giấy trống: hãy đặt giấy vào khay.", "The document feeder is empty: put the sheets in it.")
            .into(),
        Problem::CoverOpen => {
            lang.t("Nắp máy scan đang mở: hãy đóng lại.", "The scanner's cover is open: close it.").into()
        }
        Problem::Busy => lang
            .t("Máy scan đang bận (chương trình khác đang dùng).", "The scanner is busy (another program is using it).")
            .into(),
        Problem::Other => lang.t("Máy scan báo lỗi.", "The scanner reported an error.").into(),
    }
}

/// A page flag in the page's language.
fn flag_text(lang: Lang, flag: &PageFlag) -> String {
    match (flag, lang) {
        (PageFlag::LowResolution { dpi }, Lang::Vi) => {
            format!("{dpi:.0} dpi, dưới mức tối thiểu {:.0} dpi theo quy định", capture::MIN_DPI)
        }
        (PageFlag::LowResolution { dpi }, Lang::En) => {
            format!("{dpi:.0} dpi is below the legal minimum of {:.0} dpi", capture::MIN_DPI)
        }
        (PageFlag::LowConfidence { mean }, Lang::Vi) => {
            format!("Độ tin cậy OCR {mean:.0}%, dưới {:.0}%: hãy kiểm tra trang", capture::REVIEW_CONFIDENCE)
        }
        (PageFlag::LowConfidence { mean }, Lang::En) => {
            format!("OCR confidence {mean:.0}% is below {:.0}%: check the page", capture::REVIEW_CONFIDENCE)
        }
        (PageFlag::Blank, _) => lang.t("Trang trắng", "Blank page").into(),
        (PageFlag::NoText, _) => lang.t("Không nhận dạng được chữ", "No text recognised").into(),
    }
}

/// The batch's pages, as list items (the live stream sends the same).
pub fn pages_list(user: &WebUser, batch: &Batch) -> Markup {
    let last = batch.pages.len().saturating_sub(1);
    html! {
        @for (i, page) in batch.pages.iter().enumerate() {
            (page_item(user, page, i, i == last, batch.last_scan.is_some()))
        }
    }
}

fn page_item(user: &WebUser, page: &StagedPage, i: usize, last: bool, can_rescan: bool) -> Markup {
    let lang = user.lang;
    let n = i + 1;
    let (class, badge) = match &page.stage {
        Stage::Scanned => ("warn", lang.t("Đã scan, chờ đọc", "Scanned, waiting")),
        Stage::Reading => ("warn", lang.t("Đang đọc (OCR)", "Reading (OCR)")),
        Stage::Done => ("ok", lang.t("Xong", "Done")),
        Stage::Flagged(_) => ("bad", lang.t("Cần kiểm tra", "Check this page")),
        Stage::Failed(_) => ("bad", lang.t("Không đọc được", "Cannot be read")),
    };
    let page_name = match lang {
        Lang::Vi => format!("Trang {n}"),
        Lang::En => format!("Page {n}"),
    };
    let action = |name: &str| format!("/station/page/{}/{name}", page.id);
    let button = |name: &str, text: &str, label: String, disabled: bool| {
        html! {
            form method="post" action=(action(name)) {
                (layout::csrf_field(user))
                button.secondary type="submit" aria-label=(label) disabled[disabled] { (text) }
            }
        }
    };
    html! {
        li #(format!("page-{}", page.id)) .(class) data-stage=(stage_name(&page.stage)) {
            img src=(format!("/station/page/{}/thumb?r={}", page.id, page.rotation)) alt=(page_name) width="160";
            p { strong { (page_name) } " " span.badge.(class) { (badge) } }
            p.origin.muted {
                (match page.source { Source::Scanner => lang.t("Máy scan: ", "Scanner: "), Source::Upload => lang.t("Tệp: ", "File: ") })
                (page.origin)
                @if page.rotation != 0 { " · " (lang.t("xoay ", "turned ")) (page.rotation) "°" }
            }
            @match &page.stage {
                Stage::Flagged(flags) => ul.reasons { @for f in flags { li { (flag_text(lang, f)) } } },
                Stage::Failed(message) => p.error lang="en" { (message) },
                _ => {},
            }
            div.page-actions {
                (button("up", "↑", format!("{} {}", lang.t("Chuyển lên:", "Move up:"), page_name), i == 0))
                (button("down", "↓", format!("{} {}", lang.t("Chuyển xuống:", "Move down:"), page_name), last))
                (button("rotate", "⟳ 90°", format!("{} {}", lang.t("Xoay 90°:", "Turn 90°:"), page_name), false))
                @if can_rescan {
                    (button("rescan", lang.t("Scan lại", "Rescan"), format!("{} {}", lang.t("Scan lại:", "Rescan:"), page_name), false))
                }
                (button("delete", lang.t("Xóa", "Delete"), format!("{} {}", lang.t("Xóa:", "Delete:"), page_name), false))
            }
        }
    }
}

/// A stage's name for the page's `data-stage` (scripts and tests).
fn stage_name(stage: &Stage) -> &'static str {
    match stage {
        Stage::Scanned => "scanned",
        Stage::Reading => "reading",
        Stage::Done => "done",
        Stage::Flagged(_) => "flagged",
        Stage::Failed(_) => "failed",
    }
}

/// A body that failed to parse, as a 400 in the page's language.
fn bad_form(user: &WebUser, e: FormRejection) -> WebError {
    user.error(AppError::BadRequest(e.body_text()))
}

/// `POST /station/scan`: starts scanning into the batch (the first scan, or "continue").
async fn scan(
    State(state): State<AppState>,
    user: WebUser,
    form: Result<Form<ScanForm>, FormRejection>,
) -> Result<Redirect, WebError> {
    user.require(INGEST)?;
    let Form(form) = form.map_err(|e| bad_form(&user, e))?;
    let device = form.device.clone();
    station_scan::start(&state, &user.user.name, form, Target::Append).map_err(|e| user.error(e))?;
    Ok(back(Some(&device), "scanning"))
}

/// The station again, with the device and the outcome in the query.
fn back(device: Option<&str>, done: &str) -> Redirect {
    Redirect::to(&super::link("/station", device.map(|d| ("device", d)).into_iter().chain([("done", done)])))
}

/// `POST /station/page/{id}/{action}`: `up`, `down`, `rotate`, `delete` or `rescan`.
async fn page_action(
    State(state): State<AppState>,
    user: WebUser,
    AppPath((id, action)): AppPath<(u64, String)>,
) -> Result<Redirect, WebError> {
    user.require(INGEST)?;
    let name = user.user.name.clone();
    if action == "rescan" {
        let form = state.station.peek(&name, |b| b.and_then(|b| b.last_scan.clone())).ok_or_else(|| {
            user.error(AppError::BadRequest("no scan yet in this batch: choose a scanner and scan first".into()))
        })?;
        let device = form.device.clone();
        station_scan::start(&state, &name, form, Target::Replace(id)).map_err(|e| user.error(e))?;
        return Ok(back(Some(&device), "rescanning"));
    }
    let done = state
        .station
        .peek(&name, |b| {
            let b = b.ok_or_else(|| AppError::NotFound("no batch is open".into()))?;
            let at = b.position(id)?;
            let done = match action.as_str() {
                "up" if at > 0 => {
                    b.pages.swap(at, at - 1);
                    "moved"
                }
                "down" if at + 1 < b.pages.len() => {
                    b.pages.swap(at, at + 1);
                    "moved"
                }
                "up" | "down" => "moved",
                "rotate" => {
                    b.pages[at].rotation = (b.pages[at].rotation + 90) % 360;
                    "rotated"
                }
                "delete" => {
                    b.pages.remove(at);
                    "deleted"
                }
                other => return Err(AppError::NotFound(format!("no page action {other:?}"))),
            };
            b.changed();
            Ok(done)
        })
        .map_err(|e| user.error(e))?;
    Ok(back(None, done))
}

/// `GET /station/page/{id}/thumb`: the page's thumbnail, turned as the operator chose.
async fn thumb(State(state): State<AppState>, user: WebUser, AppPath(id): AppPath<u64>) -> Result<Response, WebError> {
    user.require(INGEST)?;
    let png = state
        .station
        .peek(&user.user.name, |b| b.and_then(|b| b.page_mut(id).map(|p| p.thumb_png())))
        .ok_or_else(|| user.error(AppError::NotFound(format!("no page {id} in this batch"))))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
            // The address names the rotation, and page ids are never reused.
            (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600")),
        ],
        png,
    )
        .into_response())
}

/// `POST /station/upload` (sent by the station's script, with the CSRF header): each file's pages
/// are staged like scanned ones, then read in the background.
async fn upload(
    State(state): State<AppState>,
    user: WebUser,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Redirect, WebError> {
    user.require(INGEST)?;
    let mut form = form.map_err(|e| user.error(AppError::BadRequest(e.body_text())))?;
    let _slot = state.uploads.take().map_err(|e| user.error(e))?;
    let limit = upload_limit(state.appliance.http_config());
    let max_file = state.appliance.importer().limits().max_file_bytes;
    let mut files = Vec::new();
    while let Some(mut part) = limit.read(form.next_field()).await.map_err(|e| user.error(e))? {
        if part.name() != Some("file") {
            continue;
        }
        let file = part.file_name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = limit.read(part.chunk()).await.map_err(|e| user.error(e))? {
            if (bytes.len() + chunk.len()) as u64 > max_file {
                return Err(user.error(AppError::TooLarge(format!("{file}: a file may have at most {max_file} bytes"))));
            }
            bytes.extend_from_slice(&chunk);
        }
        // An empty file input sends one empty part with no name.
        if !(file.is_empty() && bytes.is_empty()) {
            files.push((PathBuf::from(file), bytes));
        }
    }
    let (batches, name) = (state.station.clone(), user.user.name.clone());
    let appliance = state.appliance.clone();
    let staged = tokio::task::spawn_blocking(move || -> Result<Vec<u64>, AppError> {
        let mut ids = Vec::new();
        for (path, bytes) in files {
            let pages = appliance.importer().pages(&path, bytes).map_err(ApplianceError::from)?;
            for page in pages {
                let raw = page.decode().map_err(ApplianceError::from)?;
                let id = batches.next_id();
                batches.with(&name, |b| {
                    b.room_for(raw.original.len())?;
                    b.pages.push(StagedPage::new(id, Source::Upload, raw));
                    b.changed();
                    Ok::<_, AppError>(())
                })??;
                ids.push(id);
            }
        }
        Ok(ids)
    })
    .await
    .map_err(|e| user.error(AppError::Internal(anyhow::anyhow!("worker task failed: {e}"))))?;
    let ids = staged.map_err(|e| user.error(e))?;
    station_scan::read(&state.appliance, &state.station, &user.user.name, ids);
    Ok(back(None, "uploaded"))
}

/// `POST /station/seal`: the metadata and the batch's pages, in order and turned, through the same
/// ingest as the API's. A field's error comes back next to the field and nothing is archived; on
/// success the batch is closed and the browser goes to the receipt.
///
/// The pages are read again by the ingest rather than reusing the reading made while staging: that
/// reading was of the page as delivered, and a turned page reads differently; the ingest is the one
/// place where a page is read for the record.
async fn seal(
    State(state): State<AppState>,
    user: WebUser,
    form: Result<Form<MetadataFields>, FormRejection>,
) -> Result<Response, WebError> {
    user.require(INGEST)?;
    let Form(fields) = form.map_err(|e| bad_form(&user, e))?;
    let name = user.user.name.clone();
    let again = |errors: FieldErrors, flash: Option<(bool, String)>| {
        let (state, user, fields) = (state.clone(), user.clone(), fields.clone());
        async move {
            let devices = devices(&state, &user, None).await;
            let page = render(&state, &user, &devices, &fields, &errors, flash);
            (StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response()
        }
    };
    let draft = match metadata::check(user.lang, &fields, &name) {
        Ok(draft) => draft,
        Err(errors) => return Ok(again(errors, None).await),
    };
    let pages = state.station.peek(&name, |b| match b {
        Some(b) if matches!(b.scanning, Scanning::Running(_)) => Err(user.lang.t(
            "Máy scan vẫn đang scan cho lô này; hãy đợi xong rồi niêm phong.",
            "The scanner is still scanning for this batch; wait for it to end, then seal.",
        )),
        Some(b) if b.sealing => Err(user.lang.t(
            "Lô này đang được niêm phong; hãy đợi kết quả.",
            "This batch is being sealed already; wait for the outcome.",
        )),
        Some(b) if !b.pages.is_empty() => {
            b.sealing = true;
            Ok(b.pages.clone())
        }
        _ => Err(user
            .lang
            .t("Lô chưa có trang nào: hãy scan hoặc tải tệp lên.", "The batch has no page yet: scan or upload first.")),
    });
    let pages = match pages {
        Ok(pages) => pages,
        Err(message) => return Ok(again(FieldErrors::default(), Some((true, message.to_owned()))).await),
    };
    let slot = state.uploads.take();
    let unseal = || state.station.peek(&name, |b| b.map(|b| b.sealing = false));
    let _slot = slot.map_err(|e| {
        unseal();
        user.error(e)
    })?;
    let (actor, batches, owner) = (name.clone(), state.station.clone(), name.clone());
    // The batch is closed (or opened again for a retry) on the worker, not here: a browser that
    // goes away during the seal drops this handler, but not the ingest, which must still settle it.
    let sealed = super::super::blocking(&state, move |a| {
        let files =
            pages.iter().map(|p| Ok((PathBuf::from(&p.origin), p.file()?))).collect::<Result<_, ApplianceError>>();
        let report =
            files.and_then(|files| a.capture(IngestRequest { metadata: draft, pages: files, actor, source: None }));
        match &report {
            Ok(_) => batches.close(&owner),
            Err(_) => batches.peek(&owner, |b| b.map(|b| b.sealing = false)).unwrap_or_default(),
        }
        report
    })
    .await;
    match sealed {
        // The receipt is the seal's answer: the verification token for its QR code is at hand here,
        // and never goes into an address a shared counter PC's history would keep.
        Ok(report) => {
            let code =
                report.code.parse().map_err(|e: domain::DomainError| user.error(AppError::Internal(e.into())))?;
            let token = report.verification_token.parse().ok();
            Ok(super::receipt::show(&state, &user, code, token).await?.into_response())
        }
        Err(e) => {
            let message = format!(
                "{} {}",
                user.lang.t(
                    "Không niêm phong được; lô vẫn còn, chưa có gì được lưu:",
                    "Not sealed; the batch is kept and nothing was stored:"
                ),
                e.client_message()
            );
            Ok(again(FieldErrors::default(), Some((true, message))).await)
        }
    }
}

/// `POST /station/discard`: closes the batch without archiving anything.
async fn discard(State(state): State<AppState>, user: WebUser) -> Result<Redirect, WebError> {
    user.require(INGEST)?;
    state.station.close(&user.user.name);
    Ok(back(None, "discarded"))
}

/// The body limit of an upload: the `[http]` limit of an ingest request.
fn upload_limit(http: &HttpConfig) -> BodyLimit {
    BodyLimit {
        bytes: http.max_ingest_bytes,
        what: "the files uploaded to the scanning station",
        stall_seconds: http.upload_stall_seconds,
    }
}

/// The station's routes.
pub fn router(http: &HttpConfig) -> Router<AppState> {
    Router::new()
        .route("/station", get(page))
        .route("/station/events", get(station_events::events))
        .route("/station/queue/events", get(station_queue::events))
        .route("/station/scan", post(scan))
        .route("/station/upload", upload_limit(http).apply(post(upload)))
        .route("/station/seal", post(seal))
        .route("/station/discard", post(discard))
        .route("/station/page/{id}/thumb", get(thumb))
        .route("/station/page/{id}/{action}", post(page_action))
}
