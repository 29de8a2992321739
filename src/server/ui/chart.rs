//! Charts drawn on the server as SVG: bars or a line over labelled points, with horizontal target
//! lines. No script draws them, so they print, load with the page and cost a few kilobytes. Each
//! chart is an image with a title and a description for screen readers (`role="img"`,
//! `aria-labelledby`); the screen that shows one also gives its figures as a table, which is what a
//! screen reader reads and what anyone can copy.

use maud::{Markup, html};

/// How the points are drawn.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A bar per point.
    Bars,
    /// A line through the points.
    Line,
}

/// A chart to draw.
pub struct Chart<'a> {
    /// The element id, from which the title's and description's ids are made.
    pub id: &'a str,
    /// The title, read first by screen readers.
    pub title: &'a str,
    /// What the chart shows, in a sentence (its figures are in the table beside it).
    pub description: &'a str,
    /// Bars or a line.
    pub kind: Kind,
    /// Each point's label (on the horizontal axis) and value.
    pub points: &'a [(String, f64)],
    /// Horizontal lines: each value and its label ("mục tiêu 30%").
    pub targets: &'a [(f64, String)],
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;
/// At most this many labels on the horizontal axis, so that they never overlap.
const MAX_LABELS: usize = 10;

/// A number as an axis shows it: whole (the steps are whole numbers).
fn tick(value: f64) -> String {
    format!("{value:.0}")
}

/// The chart as an SVG element.
pub fn draw(chart: &Chart) -> Markup {
    let max = chart.points.iter().map(|(_, v)| *v).chain(chart.targets.iter().map(|(v, _)| *v)).fold(0.0, f64::max);
    // Four steps of a round size (1, 2, 2.5 or 5 times a power of ten, whole numbers only), so that
    // counts read 0, 1, 2, 3, 4 and percentages up to the 80% target 0, 25, 50, 75, 100.
    let step = [1.0, 2.0, 2.5, 5.0]
        .iter()
        .flat_map(|m| (0..12).map(move |e| m * 10f64.powi(e)))
        // A tenth of headroom, so that the highest bar or target never touches the top.
        .filter(|s| s.fract() == 0.0 && 4.0 * s >= max * 1.1)
        .fold(f64::INFINITY, f64::min);
    let top = if step.is_finite() { 4.0 * step } else { max };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h * (1.0 - v / top);
    let n = chart.points.len().max(1);
    let band = plot_w / n as f64;
    let x = |i: usize| LEFT + band * (i as f64 + 0.5);
    let every = n.div_ceil(MAX_LABELS);
    let line: Vec<String> =
        chart.points.iter().enumerate().map(|(i, (_, v))| format!("{:.1},{:.1}", x(i), y(*v))).collect();
    let (title, desc) = (format!("{}-title", chart.id), format!("{}-desc", chart.id));
    html! {
        svg.chart #(chart.id) role="img" aria-labelledby=(format!("{title} {desc}"))
            viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) xmlns="http://www.w3.org/2000/svg" {
            title #(title) { (chart.title) }
            desc #(desc) { (chart.description) }
            g aria-hidden="true" font-size="11" fill="#1b1f24" {
                @for step in 0..=4 {
                    @let v = top * f64::from(step) / 4.0;
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(v)) y2=(y(v)) stroke="#c9d1d9" stroke-width="1" {}
                    text x=(LEFT - 4.0) y=(y(v) + 4.0) text-anchor="end" { (tick(v)) }
                }
                @match chart.kind {
                    Kind::Bars => {
                        @for (i, (_, v)) in chart.points.iter().enumerate() {
                            rect x=(format!("{:.1}", x(i) - band * 0.35)) y=(format!("{:.1}", y(*v)))
                                width=(format!("{:.1}", band * 0.7)) height=(format!("{:.1}", plot_h * v / top))
                                fill="#0b5cad" {}
                        }
                    }
                    Kind::Line => {
                        polyline points=(line.join(" ")) fill="none" stroke="#0b5cad" stroke-width="2.5" {}
                        @for (i, (_, v)) in chart.points.iter().enumerate() {
                            circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(*v))) r="3.5" fill="#0b5cad" {}
                        }
                    }
                }
                @for (v, label) in chart.targets {
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(*v)) y2=(y(*v)) stroke="#8a5300" stroke-width="2" stroke-dasharray="6 4" {}
                    text x=(WIDTH - RIGHT - 2.0) y=(y(*v) - 4.0) text-anchor="end" fill="#8a5300" { (label) }
                }
                @for (i, (label, _)) in chart.points.iter().enumerate().filter(|(i, _)| i.is_multiple_of(every)) {
                    text x=(format!("{:.1}", x(i))) y=(HEIGHT - 8.0) text-anchor="middle" { (label) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_image_with_its_title_and_description() {
        let points = vec![("01/11".to_owned(), 3.0), ("02/11".to_owned(), 7.0)];
        let targets = vec![(30.0, "30%".to_owned())];
        let svg = draw(&Chart {
            id: "c",
            title: "Tài liệu",
            description: "Số tài liệu mỗi ngày",
            kind: Kind::Bars,
            points: &points,
            targets: &targets,
        })
        .into_string();
        assert!(svg.contains(r#"role="img" aria-labelledby="c-title c-desc""#), "{svg}");
        assert!(svg.contains("<title id=\"c-title\">Tài liệu</title>"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(">40<") && svg.contains(">10<"), "the axis goes to 40 by 10 for a target of 30: {svg}");
    }
}
