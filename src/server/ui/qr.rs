//! QR codes as inline SVG, for pages that are printed (the receipt): the same `qrcode` crate and error
//! correction level (M) as the QR code that the signer draws on a signed PDF, so both read alike.

use maud::{Markup, PreEscaped};

/// The QR code of `payload` as an `<svg>` with a four-module quiet zone, labelled `label` for
/// screen readers; `None` when the payload is too long for a QR code.
pub fn svg(payload: &str, label: &str) -> Option<Markup> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = modules + 8;
    // One path of unit squares, runs of dark modules in a row merged into one rectangle.
    let mut path = String::new();
    for row in 0..modules {
        let mut col = 0;
        while col < modules {
            if colors[row * modules + col] == qrcode::Color::Dark {
                let start = col;
                while col < modules && colors[row * modules + col] == qrcode::Color::Dark {
                    col += 1;
                }
                path.push_str(&format!("M{} {}h{}v1h-{}z", start + 4, row + 4, col - start, col - start));
            } else {
                col += 1;
            }
        }
    }
    let label = maud::html! { (label) }.into_string();
    Some(PreEscaped(format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" role=\"img\" \
         aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" \
         fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )))
}
