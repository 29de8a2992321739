//! Page normalisation between decoding and OCR.
//!
//! Two images come out of a raw page. The *archival* image is the scan itself, only turned upright
//! and deskewed: colour, seals and signatures stay, because they are part of the legal copy (R8). The
//! *OCR* image is derived from it for the engine alone: red seals dropped out, speckle removed,
//! contrast stretched, and resampled to the 200 dpi at which Tesseract reads body text best.
//!
//! `lines` reads the page's text lines (direction, skew, which way up), `geometry` turns and deskews,
//! `ocr_image` makes the OCR image, `margin` finds the blank band at the top of the archived image;
//! the small filters they share are here. Everything works on plain 8-bit buffers and is
//! deterministic, so the same scan always gives the same archived bytes.

mod geometry;

mod lines;
mod margin;
mod ocr_image;

pub(crate) use geometry::{deskew, turn, turn_gray};

pub(crate) use lines::{TextLines, ink_runs, text_lines, upside_down};
pub(crate) use margin::blank_top;
pub(crate) use ocr_image::for_ocr;

use image::GrayImage;
use scanner_driver::Pixels;

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

/// 3×3 median filter: removes isolated specks while keeping stroke edges, which a blur would soften.
/// Each row is filtered at once through the 19 compare-exchanges of the optimal 9-element median
/// network, applied element-wise to nine shifted copies of the row so that the compiler vectorises
/// them; border pixels keep their values.
fn median3(gray: &GrayImage) -> GrayImage {
    const NETWORK: [(usize, usize); 19] = [
        (1, 2),
        (4, 5),
        (7, 8),
        (0, 1),
        (3, 4),
        (6, 7),
        (1, 2),
        (4, 5),
        (7, 8),
        (0, 3),
        (5, 8),
        (4, 7),
        (3, 6),
        (1, 4),
        (2, 5),
        (4, 7),
        (4, 2),
        (6, 4),
        (4, 2),
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

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb, RgbImage};

    /// A synthetic page: dark horizontal bars like text lines, turned by `degrees`.
    pub(super) fn lined_page(degrees: f32) -> GrayImage {
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
    fn red_seals_drop_out_and_black_ink_stays() {
        let mut page = RgbImage::from_pixel(4, 1, Rgb([255, 255, 255]));
        page.put_pixel(1, 0, Rgb([220, 30, 40]));
        page.put_pixel(2, 0, Rgb([10, 10, 10]));
        page.put_pixel(3, 0, Rgb([20, 40, 160]));
        let gray = analysis_gray(&Pixels::Rgb(page));
        assert_eq!(gray.as_raw(), &vec![255, 220, 10, 20]);
    }

    #[test]
    fn otsu_splits_two_populations() {
        let mut data = vec![30u8; 100];
        data.extend(vec![220u8; 300]);
        let t = otsu(&histogram(&data));
        assert!((30..220).contains(&t));
    }
}
