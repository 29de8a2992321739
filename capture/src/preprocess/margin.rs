//! Where a page holds no ink: the band along its top edge in which every pixel is paper, where a
//! signed copy can draw its blocks without covering anything of the scan.

use std::borrow::Cow;

use scanner_driver::Pixels;

use super::{histogram, percentile};

/// How much darker than the paper a pixel must be to count as ink. Noise of a clean scan and of JPEG
/// stays within a few levels of the paper; faint pencil, light stamps and coloured seals are darker
/// by 40 or more.
const INK_CONTRAST: u8 = 32;
/// The paper level under which a page is not light paper (a photograph, a dark form) and no part of
/// it can be told blank.
const MIN_PAPER: u8 = 128;

/// The number of rows from the top edge of `pixels` that hold no ink, the page's height for a blank
/// page. Ink is any pixel darker than the paper by [`INK_CONTRAST`] in its darkest channel: a red
/// seal counts, unlike in the analysis gray, which drops red out for OCR. A single speck counts too:
/// taking dust for ink only moves the blocks into an added margin, while taking ink for paper would
/// hide part of the original.
pub(crate) fn blank_top(pixels: &Pixels) -> u32 {
    let (width, height) = pixels.dimensions();
    let darkest: Cow<'_, [u8]> = match pixels {
        Pixels::Gray(g) => Cow::Borrowed(g.as_raw()),
        Pixels::Rgb(c) => Cow::Owned(c.as_raw().chunks_exact(3).map(|p| p[0].min(p[1]).min(p[2])).collect()),
    };
    // The paper is the light end of the page: most of a document is paper, so the 90th percentile
    // is paper even on a dense page.
    let paper = percentile(&histogram(&darkest), 0.90);
    if paper < MIN_PAPER {
        return 0;
    }
    let ink = paper - INK_CONTRAST;
    darkest
        .chunks_exact(width.max(1) as usize)
        .position(|row| row.iter().any(|&v| v < ink))
        .map_or(height, |row| row as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    #[test]
    fn the_blank_band_ends_at_the_first_ink_of_any_colour() {
        let mut page = GrayImage::from_pixel(200, 300, Luma([245]));
        assert_eq!(blank_top(&Pixels::Gray(page.clone())), 300, "a blank page is blank all the way down");
        page.put_pixel(150, 40, Luma([200]));
        assert_eq!(blank_top(&Pixels::Gray(page)), 40, "one faint mark ends the band");
        // A red seal: light in the red channel that OCR reads, dark in the others.
        let mut page = RgbImage::from_pixel(200, 300, Rgb([250, 250, 250]));
        page.put_pixel(10, 25, Rgb([230, 40, 40]));
        assert_eq!(blank_top(&Pixels::Rgb(page)), 25);
        // A dark page has no paper to tell blank by.
        assert_eq!(blank_top(&Pixels::Gray(GrayImage::from_pixel(50, 50, Luma([60])))), 0);
    }
}
