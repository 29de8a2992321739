//! Page normalisation between decoding and OCR.
//!
//! Two images come out of a raw page. The *archival* image is the scan itself, only turned upright
//! and deskewed: colour, seals and signatures stay, because they are part of the legal copy (R8). The
//! *OCR* image is derived from it for the engine alone: red seals dropped out, speckle removed,
//! contrast stretched, and resampled to the 200 dpi at which Tesseract reads body text best.
//!
//! Everything here works on plain 8-bit buffers and is deterministic, so the same scan always gives
//! the same archived bytes.

use image::{GrayImage, ImageBuffer, Luma, Pixel, Rgb, imageops};
use scanner_driver::Pixels;

/// The resolution of the OCR image. Tesseract's LSTM scales every text line to a fixed height of about
/// 36 pixels, which body text (12-14 pt) has at about 200 dpi: more pixels only cost layout analysis
/// time, and fewer lose strokes. Measured on the corpus, reading at 200 dpi instead of 300 took the
/// set's CER from 0.20% to 0.10% and was about a quarter faster; 150 dpi pages are upsampled to it.
const OCR_DPI: f32 = 200.0;

/// How far from [`OCR_DPI`] a page may be and still be read at its own resolution.
const OCR_DPI_TOLERANCE: f32 = 10.0;

/// Skew angles searched, in degrees either side of level. Counter scanners with a feeder rarely skew
/// more than a few degrees; 10 covers a sheet placed by hand on a flatbed.
const MAX_SKEW: f32 = 10.0;

/// Skew below this is left alone: resampling a page costs more fidelity than a tenth of a degree
/// costs OCR.
const MIN_CORRECTION: f32 = 0.1;

/// Share of ink pixels (after speckle removal) under which a page counts as blank.
const BLANK_INK_SHARE: f64 = 0.0005;

/// The gray image that analysis and OCR read. A colour page is read through its red channel, the
/// classic drop-out filter: red seals (con dấu) and red signatures become as light as the paper,
/// while black, blue and green ink stay dark.
pub(crate) fn analysis_gray(pixels: &Pixels) -> GrayImage {
    match pixels {
        Pixels::Gray(g) => g.clone(),
        Pixels::Rgb(c) => {
            let (w, h) = c.dimensions();
            GrayImage::from_raw(w, h, c.as_raw().chunks_exact(3).map(|p| p[0]).collect()).expect("one byte per pixel")
        }
    }
}

/// Turns the page clockwise by `quarter_turns` quarter turns (0-3): exact, no resampling.
pub(crate) fn turn(pixels: Pixels, quarter_turns: u8) -> Pixels {
    fn apply<P: Pixel + 'static>(img: ImageBuffer<P, Vec<P::Subpixel>>, turns: u8) -> ImageBuffer<P, Vec<P::Subpixel>> {
        match turns % 4 {
            0 => img,
            1 => imageops::rotate90(&img),
            2 => imageops::rotate180(&img),
            _ => imageops::rotate270(&img),
        }
    }
    match pixels {
        Pixels::Gray(g) => Pixels::Gray(apply(g, quarter_turns)),
        Pixels::Rgb(c) => Pixels::Rgb(apply(c, quarter_turns)),
    }
}

/// Histogram of an 8-bit image.
fn histogram(data: &[u8]) -> [u64; 256] {
    let mut hist = [0u64; 256];
    for &v in data {
        hist[v as usize] += 1;
    }
    hist
}

/// The value below which `share` of the pixels lie.
fn percentile(hist: &[u64; 256], share: f64) -> u8 {
    let total: u64 = hist.iter().sum();
    let target = (total as f64 * share) as u64;
    let mut seen = 0;
    for (v, &n) in hist.iter().enumerate() {
        seen += n;
        if seen > target {
            return v as u8;
        }
    }
    255
}

/// Otsu's threshold: the split of the histogram that maximises the between-class variance.
fn otsu(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist.iter().enumerate().map(|(v, &n)| v as f64 * n as f64).sum();
    let (mut weight_low, mut sum_low) = (0u64, 0f64);
    let (mut best, mut best_var) = (128u8, -1f64);
    for (v, &n) in hist.iter().enumerate() {
        weight_low += n;
        sum_low += v as f64 * n as f64;
        let weight_high = total - weight_low;
        if weight_low == 0 || weight_high == 0 {
            continue;
        }
        let mean_low = sum_low / weight_low as f64;
        let mean_high = (sum_all - sum_low) / weight_high as f64;
        let var = weight_low as f64 * weight_high as f64 * (mean_low - mean_high).powi(2);
        if var > best_var {
            best_var = var;
            best = v as u8;
        }
    }
    best
}

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
/// detection, which therefore runs only for pages on their side or read with doubt.
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
/// which way up a page is without asking Tesseract. The corpus pages show 3 to 3.8 either way.
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
        .map(|y| small.as_raw()[y * w + margin_x..(y + 1) * w - margin_x].iter().filter(|&&v| v < threshold).count() as u32)
        .collect();
    // Text lines are runs of rows with ink; gaps of one or two rows (between a letter and its accent)
    // do not end a line.
    let mut lines = Vec::new();
    let mut start = None;
    let mut gap = 0;
    for (y, &count) in profile.iter().enumerate() {
        match (count > 0, start) {
            (true, None) => (start, gap) = (Some(y), 0),
            (true, Some(_)) => gap = 0,
            (false, Some(s)) => {
                gap += 1;
                if gap > 2 {
                    lines.push(s..y + 1 - gap);
                    start = None;
                }
            }
            (false, None) => {}
        }
    }
    let (mut above, mut below) = (0u64, 0u64);
    for line in lines.into_iter().filter(|l| l.len() >= 6) {
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

/// Turns the page counter-clockwise by `degrees` about its centre, keeping its size, with bilinear
/// interpolation; corners that come from outside the page are white, like paper. Angles under a tenth
/// of a degree leave the page untouched and return `None`.
pub(crate) fn deskew(pixels: &Pixels, degrees: f32) -> Option<Pixels> {
    if degrees.abs() < MIN_CORRECTION {
        return None;
    }
    Some(match pixels {
        Pixels::Gray(g) => Pixels::Gray(rotate_bilinear(g, degrees, Luma([255]))),
        Pixels::Rgb(c) => Pixels::Rgb(rotate_bilinear(c, degrees, Rgb([255, 255, 255]))),
    })
}

/// Rotation counter-clockwise by `degrees` with bilinear sampling, for gray or RGB pixels.
fn rotate_bilinear<P>(src: &ImageBuffer<P, Vec<u8>>, degrees: f32, fill: P) -> ImageBuffer<P, Vec<u8>>
where
    P: Pixel<Subpixel = u8> + 'static,
{
    let (w, h) = src.dimensions();
    let channels = P::CHANNEL_COUNT as usize;
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let raw = src.as_raw();
    let stride = w as usize * channels;
    let mut out = vec![0u8; raw.len()];
    for y in 0..h {
        let dy = y as f32 + 0.5 - cy;
        let row = &mut out[y as usize * stride..(y as usize + 1) * stride];
        for x in 0..w {
            // Where this destination pixel comes from: the inverse rotation (clockwise).
            let dx = x as f32 + 0.5 - cx;
            let sx = cos * dx - sin * dy + cx - 0.5;
            let sy = sin * dx + cos * dy + cy - 0.5;
            let dst = &mut row[x as usize * channels..(x as usize + 1) * channels];
            if sx < 0.0 || sy < 0.0 || sx > (w - 1) as f32 || sy > (h - 1) as f32 {
                dst.copy_from_slice(fill.channels());
                continue;
            }
            let (x0, y0) = (sx as usize, sy as usize);
            let (x1, y1) = ((x0 + 1).min(w as usize - 1), (y0 + 1).min(h as usize - 1));
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            for c in 0..channels {
                let at = |x: usize, y: usize| raw[y * stride + x * channels + c] as f32;
                let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * fx;
                let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * fx;
                dst[c] = (top + (bottom - top) * fy).round() as u8;
            }
        }
    }
    ImageBuffer::from_raw(w, h, out).expect("same size as the source")
}

/// 3×3 median filter: removes isolated specks while keeping stroke edges, which a blur would soften.
/// Each row is filtered at once through the 19 compare-exchanges of the optimal 9-element median
/// network, applied element-wise to nine shifted copies of the row so that the compiler vectorises
/// them; border pixels keep their values.
fn median3(gray: &GrayImage) -> GrayImage {
    const NETWORK: [(usize, usize); 19] = [
        (1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3),
        (5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2),
    ];
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    if w < 3 || h < 3 {
        return gray.clone();
    }
    let src = gray.as_raw();
    let mut out = src.clone();
    let n = w - 2;
    let mut lanes: [Vec<u8>; 9] = std::array::from_fn(|_| vec![0u8; n]);
    for y in 1..h - 1 {
        for (k, lane) in lanes.iter_mut().enumerate() {
            let (dy, dx) = (k / 3, k % 3);
            let start = (y + dy - 1) * w + dx;
            lane.copy_from_slice(&src[start..start + n]);
        }
        for (a, b) in NETWORK {
            let [lo, hi] = lanes.get_disjoint_mut([a, b]).expect("distinct lanes");
            for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
                let (x, z) = (*l, *h);
                *l = x.min(z);
                *h = x.max(z);
            }
        }
        out[y * w + 1..y * w + 1 + n].copy_from_slice(&lanes[4]);
    }
    GrayImage::from_raw(w as u32, h as u32, out).expect("same size")
}

/// The OCR image and its facts.
pub(crate) struct OcrImage {
    /// What the engine reads.
    pub(crate) gray: GrayImage,
    /// Its resolution.
    pub(crate) dpi: f32,
    /// Page pixels per OCR pixel, to map word boxes back onto the archival image.
    pub(crate) scale_back: f32,
    /// No ink to speak of.
    pub(crate) blank: bool,
}

/// Prepares the OCR image from the upright, deskewed analysis gray at `dpi`: specks removed, contrast
/// stretched so that the paper is white and the darkest ink black (faded pages), and resampled to
/// [`OCR_DPI`].
pub(crate) fn for_ocr(gray: GrayImage, dpi: f32) -> OcrImage {
    // Clean-up runs on the smaller of the page and the OCR image: before upsampling, after reducing.
    let target = if (dpi - OCR_DPI).abs() > OCR_DPI_TOLERANCE { Some(OCR_DPI / dpi) } else { None };
    let (w, h) = gray.dimensions();
    let resampled = |g: &GrayImage, factor: f32| resample(g, (w as f32 * factor).round() as u32, (h as f32 * factor).round() as u32);
    let (cleaned, blank) = match target {
        Some(factor) if factor < 1.0 => clean(resampled(&gray, factor)),
        Some(factor) => {
            let (cleaned, blank) = clean(gray);
            (resampled(&cleaned, factor), blank)
        }
        None => clean(gray),
    };
    let (dpi, scale_back) = match target {
        Some(_) => (OCR_DPI, w as f32 / cleaned.width() as f32),
        None => (dpi, 1.0),
    };
    OcrImage { gray: cleaned, dpi, scale_back, blank }
}

/// Removes specks and stretches the contrast; also says whether the page is blank.
fn clean(gray: GrayImage) -> (GrayImage, bool) {
    let mut cleaned = median3(&gray);
    let hist = histogram(cleaned.as_raw());
    let paper = percentile(&hist, 0.90);
    let ink = percentile(&hist, 0.005);
    // Ink is anything clearly darker than the paper; a blank page has next to none of it.
    let dark: u64 = hist[..paper.saturating_sub(60) as usize].iter().sum();
    let blank = (dark as f64) < BLANK_INK_SHARE * cleaned.as_raw().len() as f64;
    if paper > ink.saturating_add(16) {
        let (lo, hi) = (ink as f32, paper as f32);
        let lut: Vec<u8> = (0..=255u32).map(|v| (((v as f32 - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0).round() as u8).collect();
        cleaned.iter_mut().for_each(|v| *v = lut[*v as usize]);
    }
    (cleaned, blank)
}

/// Bilinear resampling to `nw`×`nh` in 16.16 fixed point. Downscaling by less than two, the only
/// reduction used here, loses no stroke: every source pixel still weighs in a destination pixel.
fn resample(gray: &GrayImage, nw: u32, nh: u32) -> GrayImage {
    let (w, h) = gray.dimensions();
    let src = gray.as_raw();
    // Source position of each destination column, as (left pixel, right weight in 1/256).
    let map = |n: u32, size: u32, i: u32| -> (usize, u32) {
        let pos = ((i as f64 + 0.5) * size as f64 / n as f64 - 0.5).clamp(0.0, (size - 1) as f64);
        let base = pos.floor();
        (base as usize, ((pos - base) * 256.0) as u32)
    };
    let cols: Vec<(usize, u32)> = (0..nw).map(|x| map(nw, w, x)).collect();
    let mut out = Vec::with_capacity((nw * nh) as usize);
    let (w, last_x) = (w as usize, w as usize - 1);
    for y in 0..nh {
        let (y0, fy) = map(nh, h, y);
        let y1 = (y0 + 1).min(h as usize - 1);
        let (r0, r1) = (&src[y0 * w..(y0 + 1) * w], &src[y1 * w..(y1 + 1) * w]);
        out.extend(cols.iter().map(|&(x0, fx)| {
            let x1 = (x0 + 1).min(last_x);
            let top = r0[x0] as u32 * (256 - fx) + r0[x1] as u32 * fx;
            let bottom = r1[x0] as u32 * (256 - fx) + r1[x1] as u32 * fx;
            ((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8
        }));
    }
    GrayImage::from_raw(nw, nh, out).expect("size matches")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbImage;

    /// A synthetic page: dark horizontal bars like text lines, turned by `degrees`.
    fn lined_page(degrees: f32) -> GrayImage {
        let mut page = GrayImage::from_pixel(1200, 1600, Luma([250]));
        for line in 0..30 {
            let y0 = 150 + line * 45;
            for y in y0..y0 + 14 {
                for x in 150..1050 {
                    if (x / 9) % 5 != 4 {
                        page.put_pixel(x, y, Luma([20]));
                    }
                }
            }
        }
        match deskew(&Pixels::Gray(page.clone()), degrees) {
            Some(Pixels::Gray(g)) => g,
            _ => page,
        }
    }

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
            let Pixels::Gray(sideways) = turn(Pixels::Gray(lined_page(1.0)), turns) else { unreachable!() };
            assert!(text_lines(&sideways).vertical, "{turns} quarter turns");
        }
    }

    #[test]
    fn the_median_network_matches_a_sort() {
        let mut page = GrayImage::new(37, 11);
        for (i, p) in page.iter_mut().enumerate() {
            *p = ((i * 7919) % 251) as u8;
        }
        let filtered = median3(&page);
        for y in 1..10 {
            for x in 1..36 {
                let mut v: Vec<u8> = (0..9).map(|k| page.get_pixel(x + k % 3 - 1, y + k / 3 - 1)[0]).collect();
                v.sort();
                assert_eq!(filtered.get_pixel(x, y)[0], v[4], "at {x},{y}");
            }
        }
        assert_eq!(filtered.get_pixel(0, 5), page.get_pixel(0, 5));
    }

    #[test]
    fn corpus_pages_tell_which_way_up_they_are() {
        // Read at run time: a build cache shared between checkouts keeps test binaries whose
        // compile-time path points at the checkout that built them.
        let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
        let corpus = std::path::Path::new(&manifest).join("../../../shared/corpus/ocr-dev");
        let importer = scanner_driver::FileImporter::new(scanner_driver::ImportLimits::default(), 300.0);
        for name in ["clean300-001.png", "skew-001.png", "stamped-001.png", "faded150-001.png", "noisy-001.jpg", "upside-001.png"] {
            let page = importer.import(&corpus.join(name)).unwrap();
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
        let page = importer.import(&corpus.join("sideways-001.png")).unwrap();
        let gray = analysis_gray(&page.pixels);
        assert!(text_lines(&gray).vertical);
        let upside = |turns| match turn(Pixels::Gray(gray.clone()), turns) {
            Pixels::Gray(g) => upside_down(&g),
            Pixels::Rgb(_) => unreachable!(),
        };
        assert_eq!((upside(1), upside(3)), (Some(true), Some(false)));
    }

    #[test]
    fn deskew_below_a_tenth_of_a_degree_leaves_the_page_alone() {
        assert!(deskew(&Pixels::Gray(GrayImage::new(10, 10)), 0.05).is_none());
    }

    #[test]
    fn red_seals_drop_out_and_black_ink_stays() {
        let mut page = RgbImage::from_pixel(4, 1, Rgb([255, 255, 255]));
        page.put_pixel(1, 0, Rgb([220, 30, 40]));
        page.put_pixel(2, 0, Rgb([10, 10, 10]));
        page.put_pixel(3, 0, Rgb([20, 40, 160]));
        let gray = analysis_gray(&Pixels::Rgb(page));
        assert_eq!(gray.as_raw(), &vec![255, 220, 10, 20]);
    }

    #[test]
    fn a_blank_page_with_specks_is_blank_and_a_text_page_is_not() {
        let mut blank = GrayImage::from_pixel(800, 1000, Luma([240]));
        for i in 0..300u32 {
            blank.put_pixel((i * 37) % 800, (i * 91) % 1000, Luma([0]));
        }
        assert!(for_ocr(blank, 300.0).blank);
        assert!(!for_ocr(lined_page(0.0), 300.0).blank);
    }

    #[test]
    fn pages_are_read_at_200_dpi() {
        let ocr = for_ocr(GrayImage::from_pixel(1000, 1500, Luma([200])), 100.0);
        assert_eq!((ocr.gray.dimensions(), ocr.dpi, ocr.scale_back), ((2000, 3000), 200.0, 0.5));
        let ocr = for_ocr(GrayImage::from_pixel(3000, 4500, Luma([200])), 300.0);
        assert_eq!((ocr.gray.dimensions(), ocr.dpi, ocr.scale_back), ((2000, 3000), 200.0, 1.5));
        let ocr = for_ocr(GrayImage::from_pixel(1000, 1500, Luma([200])), 204.0);
        assert_eq!((ocr.gray.dimensions(), ocr.dpi, ocr.scale_back), ((1000, 1500), 204.0, 1.0));
    }

    #[test]
    fn resampling_keeps_flat_areas_and_edges() {
        let mut page = GrayImage::from_pixel(300, 300, Luma([255]));
        for y in 0..300 {
            for x in 150..300 {
                page.put_pixel(x, y, Luma([0]));
            }
        }
        let small = resample(&page, 200, 200);
        assert_eq!(small.get_pixel(10, 10)[0], 255);
        assert_eq!(small.get_pixel(190, 190)[0], 0);
        // The edge at source column 150 lands at column 100.
        assert_eq!((small.get_pixel(97, 50)[0], small.get_pixel(103, 50)[0]), (255, 0));
    }

    #[test]
    fn otsu_splits_two_populations() {
        let mut data = vec![30u8; 100];
        data.extend(vec![220u8; 300]);
        let t = otsu(&histogram(&data));
        assert!((30..220).contains(&t));
    }
}
