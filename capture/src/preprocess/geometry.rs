//! Turning a page upright and level. Quarter turns are exact; deskewing resamples, so it is done only
//! when the skew is worth it.

use image::{GrayImage, ImageBuffer, Luma, Pixel, Rgb, imageops};
use scanner_driver::Pixels;

/// Skew below this is left alone: resampling a page costs more fidelity than a tenth of a degree
/// costs OCR.
const MIN_CORRECTION: f32 = 0.1;

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

/// [`turn`] for a gray image.
pub(crate) fn turn_gray(gray: GrayImage, quarter_turns: u8) -> GrayImage {
    match turn(Pixels::Gray(gray), quarter_turns) {
        Pixels::Gray(g) => g,
        Pixels::Rgb(_) => unreachable!("turning keeps the colour model"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deskew_below_a_tenth_of_a_degree_leaves_the_page_alone() {
        assert!(deskew(&Pixels::Gray(GrayImage::new(10, 10)), 0.05).is_none());
    }
}
