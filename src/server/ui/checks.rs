//! The names of verification checks in the page's language. The operations name their checks in
//! English (`seal signature`, `page 2 image`, `PDF signature: digest`), as the API and the CLI show
//! them; a page shows the same checks under their Vietnamese names, with the operation's detail
//! unchanged.

use super::lang::Lang;

/// A check's name as a page shows it.
pub fn check_name(lang: Lang, name: &str) -> String {
    if lang == Lang::En {
        return name.to_owned();
    }
    if let Some(rest) = name.strip_prefix("PDF signature") {
        let what = rest.trim_start_matches(':').trim();
        return if what.is_empty() {
            "Chữ ký số PDF".to_owned()
        } else {
            format!("Chữ ký số PDF: {}", signature_check(what))
        };
    }
    if let Some(rest) = name.strip_prefix("page ") {
        if let Some(number) = rest.strip_suffix(" image") {
            return format!("Ảnh trang {number}");
        }
        if let Some(number) = rest.strip_suffix(" seal") {
            return format!("Niêm phong trang {number}");
        }
    }
    match name {
        "PDF file" => "Tệp PDF",
        "capture" => "Tiếp nhận và niêm phong các trang",
        "PDF" => "Tệp PDF đã lưu",
        "PDF structure" => "Cấu trúc tệp PDF",
        "seal signature" => "Chữ ký niêm phong",
        "seal covers record" => "Niêm phong bao trùm hồ sơ lưu trữ",
        "archive log" => "Nhật ký lưu trữ (bằng chứng bao hàm)",
        "status" => "Trạng thái",
        "destruction report" => "Biên bản tiêu hủy",
        other => other,
    }
    .to_owned()
}

/// The named checks of a PDF signature (see `signer::verify_pdf_signatures`).
fn signature_check(what: &str) -> &str {
    match what {
        "byte range" => "phạm vi byte",
        "whole file signed" => "ký toàn bộ tệp",
        "signature contents" => "nội dung chữ ký",
        "digest" => "mã băm",
        "signature" => "chữ ký",
        "signing certificate" => "chứng thư ký",
        "algorithm" => "thuật toán",
        "timestamp" => "dấu thời gian",
        "certificate chain" => "chuỗi chứng thư",
        "key usage" => "mục đích sử dụng khóa",
        "revocation" => "tình trạng thu hồi chứng thư",
        "path length" => "độ dài chuỗi chứng thư",
        "critical extension" => "phần mở rộng bắt buộc",
        other => other,
    }
}
