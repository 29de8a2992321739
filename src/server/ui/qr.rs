//! QR codes as inline SVG, for pages that are printed (the receipt): the modules of the signer's QR
//! code ([`signer::qr_runs`], error correction M), the same as on a signed PDF, so both read alike.

use maud::{Markup, PreEscaped};

/// The QR code of `payload` as an `<svg>` with a four-module quiet zone, labelled `label` for
/// screen readers; `None` when the payload is too long for a QR code.
pub fn svg(payload: &str, label: &str) -> Option<Markup> {
    let signer::QrRuns { modules, runs } = signer::qr_runs(payload).ok()?;
    let side = modules + 8;
    // One path of unit squares, each run of dark modules one rectangle, inside a four-module quiet zone.
    let path: String =
        runs.iter().map(|(row, start, length)| format!("M{} {}h{length}v1h-{length}z", start + 4, row + 4)).collect();
    let label = maud::html! { (label) }.into_string();
    Some(PreEscaped(format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" role=\"img\" \
         aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" \
         fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )))
}
