//! The image the OCR engine reads: specks removed, contrast stretched, resampled to the resolution
//! Tesseract reads best; and the blank-page test, which needs the same clean-up.

use image::GrayImage;

use super::{histogram, median3, percentile};

/// The resolution of the OCR image. Tesseract's LSTM scales every text line to a fixed height of about
/// 36 pixels, which body text (12-14 pt) has at about 200 dpi: more pixels only cost layout analysis
/// time, and fewer lose strokes. Measured on the test pages, reading at 200 dpi instead of 300 took the
/// set's CER from 0.20% to 0.10% and was about a quarter faster; 150 dpi pages are upsampled to it.
const OCR_DPI: f32 = 200.0;

/// How far from [`OCR_DPI`] a page may be and still be read at its own resolution.
const OCR_DPI_TOLERANCE: f32 = 10.0;

/// Share of ink pixels (after speckle removal) under which a page counts as blank.
const BLANK_INK_SHARE: f64 = 0.0005;

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
    let resampled = |g: &GrayImage, factor: f32| {
        resample(g, (w as f32 * factor).round() as u32, (h as f32 * factor).round() as u32)
    };
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
        let lut: Vec<u8> =
            (0..=255u32).map(|v| (((v as f32 - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0).round() as u8).collect();
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
    use crate::preprocess::tests::lined_page;
    use image::Luma;

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
}
