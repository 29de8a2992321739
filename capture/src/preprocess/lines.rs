//! What the ink says about the text lines: their direction and skew (projection profiles) and which
//! way up they are (ink above and below their middle band), at a fraction of the cost of Tesseract's
//! orientation detection.

use std::ops::Range;

use image::GrayImage;

use super::{histogram, median3, otsu};

/// Skew angles searched, in degrees either side of level. Counter scanners with a feeder rarely skew
/// more than a few degrees; 10 covers a sheet placed by hand on a flatbed.
const MAX_SKEW: f32 = 10.0;

/// What the rows and columns of ink say about the page's text lines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TextLines {
    /// The lines run top to bottom: the page lies on its side (a quarter turn either way).
    pub(crate) vertical: bool,
    /// The skew in degrees of horizontal lines (positive: lines fall to the right, so the page must be
    /// turned counter-clockwise by that much); 0 for vertical lines or too little ink to tell.
    pub(crate) skew: f32,
}

/// How much sharper the column profile must be than the row profile to call a page sideways; tables
/// with strong vertical rules sharpen columns too, so a clear lead is asked for.
const VERTICAL_MARGIN: f64 = 1.25;

/// Finds the direction and skew of the text lines by the projection-profile method: the angle at
/// which the rows (or columns) of ink pixels give the sharpest profile, searched coarsely on a small
/// copy and then to a twentieth of a degree on a larger one. Text lines make rows far sharper than
/// columns; a page on its side shows the reverse. This costs a fraction of Tesseract's orientation
/// detection, which therefore runs only for pages read with doubt.
pub(crate) fn text_lines(gray: &GrayImage) -> TextLines {
    let coarse = ink_points(gray, 600);
    if coarse.points.len() < 200 {
        return TextLines { vertical: false, skew: 0.0 };
    }
    // Whole degrees first, rows and columns alike; then fifths of a degree around the best row angle
    // on the same small copy; then twentieths on a larger one.
    let degrees = || (-MAX_SKEW as i32..=MAX_SKEW as i32).map(|d| d as f32);
    let (whole, rows) = best_angle(&coarse, degrees());
    let (_, columns) = best_angle(&coarse.transposed(), degrees());
    if columns > rows * VERTICAL_MARGIN {
        return TextLines { vertical: true, skew: 0.0 };
    }
    let (rough, _) = best_angle(&coarse, (-5..=5).map(|i| whole + i as f32 * 0.2));
    let fine = ink_points(gray, 1300);
    let (skew, _) = best_angle(&fine, (-4..=4).map(|i| rough + i as f32 * 0.05));
    TextLines { vertical: false, skew }
}

/// The ink pixels of a copy of the page at most `width` pixels wide.
struct InkPoints {
    points: Vec<(f32, f32)>,
    height: u32,
    width: u32,
}

impl InkPoints {
    /// The same points with the axes swapped, to profile columns as rows.
    fn transposed(&self) -> InkPoints {
        InkPoints { points: self.points.iter().map(|&(x, y)| (y, x)).collect(), height: self.width, width: self.height }
    }
}

fn ink_points(gray: &GrayImage, width: u32) -> InkPoints {
    let small = shrink(gray, gray.width().div_ceil(width));
    let threshold = otsu(&histogram(small.as_raw()));
    let (w, h) = small.dimensions();
    // A border strip is ignored: scanner edges and punched holes make long dark lines that are not text.
    let (margin_x, margin_y) = (w / 20, h / 40);
    let mut points = Vec::new();
    for y in margin_y..h - margin_y {
        let row = &small.as_raw()[(y * w) as usize..((y + 1) * w) as usize];
        for x in margin_x..w - margin_x {
            if row[x as usize] < threshold {
                points.push((x as f32, y as f32));
            }
        }
    }
    InkPoints { points, height: h, width: w }
}

/// Shrinks by an integer `factor`, each pixel the mean of a `factor`×`factor` block: exact area
/// averaging, and far cheaper than a general resampling filter.
fn shrink(gray: &GrayImage, factor: u32) -> GrayImage {
    if factor <= 1 {
        return gray.clone();
    }
    let (w, h) = gray.dimensions();
    let (sw, sh) = (w / factor, h / factor);
    let src = gray.as_raw();
    // Rows are first added column by column (a loop the compiler vectorises), then each block of
    // `factor` columns of that sum is added once per output row.
    let mut rows = vec![0u32; (sw * factor) as usize];
    let mut out = Vec::with_capacity((sw * sh) as usize);
    let area = factor * factor;
    for sy in 0..sh {
        rows.iter_mut().for_each(|s| *s = 0);
        for y in sy * factor..(sy + 1) * factor {
            let row = &src[(y * w) as usize..(y * w + sw * factor) as usize];
            rows.iter_mut().zip(row).for_each(|(s, &v)| *s += v as u32);
        }
        out.extend(rows.chunks_exact(factor as usize).map(|block| (block.iter().sum::<u32>() / area) as u8));
    }
    GrayImage::from_raw(sw, sh, out).expect("size matches")
}

/// The angle among `angles` whose row profile is sharpest, and that sharpness: the sum of squared
/// bin counts relative to what evenly spread ink would give (1.0), so that rows and columns compare.
fn best_angle(ink: &InkPoints, angles: impl Iterator<Item = f32>) -> (f32, f64) {
    let extra = (ink.width as f32 * MAX_SKEW.to_radians().tan()).ceil() as usize + 2;
    let mut bins = vec![0u32; ink.height as usize + 2 * extra];
    let mut best = (0.0f32, 0u64);
    for angle in angles {
        let slope = angle.to_radians().tan();
        bins.iter_mut().for_each(|b| *b = 0);
        // The offset keeps every row positive, so truncation rounds (and is one instruction, where
        // `round` is a library call on baseline x86-64).
        let offset = extra as f32 + 0.5;
        for &(x, y) in &ink.points {
            let row = (y - x * slope + offset).max(0.0) as usize;
            if let Some(b) = bins.get_mut(row) {
                *b += 1;
            }
        }
        let score: u64 = bins.iter().map(|&b| b as u64 * b as u64).sum();
        if score > best.1 {
            best = (angle, score);
        }
    }
    let n = ink.points.len().max(1) as f64;
    (best.0, best.1 as f64 * ink.height.max(1) as f64 / (n * n))
}

/// How much more ink must lie on one side of the text lines' middle band than on the other to tell
/// which way up a page is without asking Tesseract. The test pages show 3 to 3.8 either way.
const UPRIGHT_MARGIN: f64 = 2.0;

/// Whether a level page is upside down, from the ink above and below the middle band (x-height) of
/// its text lines: Vietnamese puts most of its diacritics and all capitals and ascenders above that
/// band and only descenders and the dot below (dấu nặng) under it, so upright text has clearly more
/// ink above. `None` when the page does not say clearly (little text, tables, pictures).
pub(crate) fn upside_down(gray: &GrayImage) -> Option<bool> {
    // Specks would join the lines into one; the median removes them.
    let small = median3(&shrink(gray, gray.width().div_ceil(1300)));
    let threshold = otsu(&histogram(small.as_raw()));
    let (w, h) = (small.width() as usize, small.height() as usize);
    let (margin_x, margin_y) = (w / 20, h / 40);
    let profile: Vec<u32> = (margin_y..h - margin_y)
        .map(|y| {
            small.as_raw()[y * w + margin_x..(y + 1) * w - margin_x].iter().filter(|&&v| v < threshold).count() as u32
        })
        .collect();
    // Gaps of one or two rows (between a letter and its accent) do not end a line.
    let (mut above, mut below) = (0u64, 0u64);
    for line in ink_runs(&profile, 2).into_iter().filter(|l| l.len() >= 6) {
        let rows = &profile[line];
        let peak = *rows.iter().max().unwrap_or(&0);
        let core = |r: &&u32| **r * 2 >= peak;
        let top = rows.iter().position(|r| core(&r)).unwrap_or(0);
        let bottom = rows.len() - 1 - rows.iter().rev().position(|r| core(&r)).unwrap_or(0);
        above += rows[..top].iter().map(|&c| c as u64).sum::<u64>();
        below += rows[bottom + 1..].iter().map(|&c| c as u64).sum::<u64>();
    }
    if above + below < 500 {
        return None;
    }
    let (above, below) = (above as f64, below.max(1) as f64);
    if above > below * UPRIGHT_MARGIN {
        Some(false)
    } else if below > above * UPRIGHT_MARGIN {
        Some(true)
    } else {
        None
    }
}

/// The text lines of a row profile (ink pixels per row): runs of rows with ink, where a gap of up to
/// `bridge` blank rows, such as the one between a letter and its accent, does not end a line.
pub(crate) fn ink_runs(profile: &[u32], bridge: usize) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut start = None;
    let mut gap = 0;
    for (y, &count) in profile.iter().enumerate() {
        match (count > 0, start) {
            (true, None) => (start, gap) = (Some(y), 0),
            (true, Some(_)) => gap = 0,
            (false, Some(s)) => {
                gap += 1;
                if gap > bridge {
                    lines.push(s..y + 1 - gap);
                    start = None;
                }
            }
            (false, None) => {}
        }
    }
    if let Some(s) = start {
        lines.push(s..profile.len() - gap);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::tests::lined_page;
    use crate::preprocess::{analysis_gray, deskew, turn_gray};
    use crate::test_files::corpus;
    use scanner_driver::Pixels;

    #[test]
    fn skew_is_found_to_a_tenth_of_a_degree_both_ways() {
        for degrees in [-3.7f32, -0.6, 0.0, 1.3, 2.2, 7.5] {
            // Turning counter-clockwise by `degrees` makes a skew of `-degrees`.
            let found = text_lines(&lined_page(degrees));
            assert!(!found.vertical, "turned {degrees}°: {found:?}");
            assert!((found.skew + degrees).abs() <= 0.1, "turned {degrees}°, found {found:?}");
        }
    }

    #[test]
    fn a_page_on_its_side_has_vertical_lines() {
        for turns in [1, 3] {
            assert!(text_lines(&turn_gray(lined_page(1.0), turns)).vertical, "{turns} quarter turns");
        }
    }

    #[test]
    fn ink_runs_bridge_small_gaps_only() {
        let profile = [0, 3, 3, 0, 4, 0, 0, 0, 5, 5];
        assert_eq!(ink_runs(&profile, 0), vec![1..3, 4..5, 8..10]);
        assert_eq!(ink_runs(&profile, 1), vec![1..5, 8..10]);
        assert_eq!(ink_runs(&profile, 3), vec![1..10]);
        assert!(ink_runs(&[0, 0], 2).is_empty());
    }

    #[test]
    fn corpus_pages_tell_which_way_up_they_are() {
        let importer = scanner_driver::FileImporter::new(scanner_driver::ImportLimits::default(), 300.0);
        for name in [
            "clean300-001.png",
            "skew-001.png",
            "stamped-001.png",
            "faded150-001.png",
            "noisy-001.jpg",
            "upside-001.png",
        ] {
            let page = importer.import(&corpus(name)).unwrap().remove(0);
            let gray = analysis_gray(&page.pixels);
            let lines = text_lines(&gray);
            let level = match deskew(&Pixels::Gray(gray.clone()), lines.skew) {
                Some(Pixels::Gray(g)) => g,
                _ => gray,
            };
            assert_eq!(upside_down(&level), Some(name.starts_with("upside")), "{name}");
        }
        // A page on its side: its lines run vertically, and of its two quarter turns exactly one
        // leaves it upside down.
        let page = importer.import(&corpus("sideways-001.png")).unwrap().remove(0);
        let gray = analysis_gray(&page.pixels);
        assert!(text_lines(&gray).vertical);
        let upside = |turns| upside_down(&turn_gray(gray.clone(), turns));
        assert_eq!((upside(1), upside(3)), (Some(true), Some(false)));
    }
}
