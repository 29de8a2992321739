//! A page as a scanner delivered it: raw samples with their bit depth and colour mode, and where it
//! came from (device, sheet, side). Encoding it losslessly as PNG gives the faithful original that the
//! rest of the pipeline keeps.

use image::{GrayImage, RgbImage};

use crate::{Dpi, Pixels, RawPage, SourceFormat};

/// The colour mode of a scanned page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// One bit per pixel, black and white.
    Lineart,
    /// One channel.
    Gray,
    /// Three channels.
    Color,
}

/// Which side of a sheet a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The front (the only side of a simplex scan).
    Front,
    /// The back, in a duplex scan.
    Back,
}

/// The samples of a scanned page, rows without padding, top row first.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    /// One bit per pixel, rows packed most significant bit first and padded to a byte; a set bit is
    /// black (SANE's convention for line art).
    Bits(Vec<u8>),
    /// 8-bit gray.
    Gray8(Vec<u8>),
    /// 16-bit gray.
    Gray16(Vec<u16>),
    /// 8-bit RGB, interleaved.
    Rgb8(Vec<u8>),
    /// 16-bit RGB, interleaved.
    Rgb16(Vec<u16>),
}

impl Samples {
    /// Bits per sample: 1, 8 or 16.
    pub fn depth(&self) -> u8 {
        match self {
            Samples::Bits(_) => 1,
            Samples::Gray8(_) | Samples::Rgb8(_) => 8,
            Samples::Gray16(_) | Samples::Rgb16(_) => 16,
        }
    }

    /// The colour mode these samples carry.
    pub fn mode(&self) -> ColorMode {
        match self {
            Samples::Bits(_) => ColorMode::Lineart,
            Samples::Gray8(_) | Samples::Gray16(_) => ColorMode::Gray,
            Samples::Rgb8(_) | Samples::Rgb16(_) => ColorMode::Color,
        }
    }
}

/// One page from a scanner.
#[derive(Debug, Clone)]
pub struct ScannedPage {
    /// The SANE device name, e.g. `fujitsu:fi-8170:12345` or `test:0`.
    pub device: String,
    /// The sheet number in the batch, from 1.
    pub sheet: u32,
    /// Which side of the sheet.
    pub side: Side,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Resolution (the scanner's, always stated).
    pub dpi: Dpi,
    /// The samples.
    pub samples: Samples,
}

impl ScannedPage {
    /// Where the page came from, for messages: `test:0 sheet 3 back`.
    pub fn origin(&self) -> String {
        let side = match self.side {
            Side::Front => "front",
            Side::Back => "back",
        };
        format!("{} sheet {} {side}", self.device, self.sheet)
    }

    /// Turns the page upside down, losslessly (a quirk of some duplex scanners' back sides).
    pub fn rotate_180(&mut self) {
        let (w, h) = (self.width as usize, self.height as usize);
        match &mut self.samples {
            Samples::Bits(data) => {
                let stride = w.div_ceil(8);
                let mut out = vec![0u8; data.len()];
                for y in 0..h {
                    for x in 0..w {
                        if data[y * stride + x / 8] & (0x80 >> (x % 8)) != 0 {
                            let (nx, ny) = (w - 1 - x, h - 1 - y);
                            out[ny * stride + nx / 8] |= 0x80 >> (nx % 8);
                        }
                    }
                }
                *data = out;
            }
            Samples::Gray8(data) => data.reverse(),
            Samples::Gray16(data) => data.reverse(),
            Samples::Rgb8(data) => reverse_pixels(data, 3),
            Samples::Rgb16(data) => reverse_pixels(data, 3),
        }
    }

    /// The page as a lossless PNG of the same depth and mode, with its resolution in `pHYs`.
    pub fn to_png(&self) -> Vec<u8> {
        png_of(self.width, self.height, self.dpi, &self.samples)
    }

    /// The page as the rest of the pipeline takes it: the PNG as the faithful original, and 8-bit
    /// pixels for processing.
    pub fn into_raw_page(self) -> RawPage {
        let origin = self.origin();
        raw_page(origin, self.width, self.height, self.dpi, self.samples)
    }
}

/// Samples as a lossless PNG of the same depth and mode, with the resolution in `pHYs`.
fn png_of(width: u32, height: u32, dpi: Dpi, samples: &Samples) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    let (color, depth) = match samples {
        Samples::Bits(_) => (png::ColorType::Grayscale, png::BitDepth::One),
        Samples::Gray8(_) => (png::ColorType::Grayscale, png::BitDepth::Eight),
        Samples::Gray16(_) => (png::ColorType::Grayscale, png::BitDepth::Sixteen),
        Samples::Rgb8(_) => (png::ColorType::Rgb, png::BitDepth::Eight),
        Samples::Rgb16(_) => (png::ColorType::Rgb, png::BitDepth::Sixteen),
    };
    encoder.set_color(color);
    encoder.set_depth(depth);
    // Scanners deliver pages faster than a high compression level can pack them; the fast level
    // keeps the driver ahead of the feeder at a few percent more bytes.
    encoder.set_compression(png::Compression::Fast);
    let per_metre = |dpi: f32| (dpi / 0.0254).round() as u32;
    encoder.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_metre(dpi.x),
        yppu: per_metre(dpi.y),
        unit: png::Unit::Meter,
    }));
    let mut writer = encoder.write_header().expect("a PNG header into memory");
    let data: Vec<u8> = match samples {
        // PNG's 1-bit gray has 0 for black, SANE's line art 1 for black.
        Samples::Bits(d) => d.iter().map(|b| !b).collect(),
        Samples::Gray8(d) | Samples::Rgb8(d) => d.clone(),
        Samples::Gray16(d) | Samples::Rgb16(d) => d.iter().flat_map(|v| v.to_be_bytes()).collect(),
    };
    writer.write_image_data(&data).expect("samples of the size the header states");
    writer.finish().expect("a PNG into memory");
    out
}

/// Samples as a [`RawPage`]: a lossless PNG as the original, 8-bit pixels for processing. Used for
/// scanned pages and for pages of files whose own encoding cannot be kept page by page (TIFF, raw
/// PDF images).
pub(crate) fn raw_page(origin: String, width: u32, height: u32, dpi: Dpi, samples: Samples) -> RawPage {
    let original = png_of(width, height, dpi, &samples);
    let (w, h) = (width, height);
    let (pixels, components) = match samples {
        Samples::Bits(d) => {
            let stride = (w as usize).div_ceil(8);
            let gray = GrayImage::from_fn(w, h, |x, y| {
                let set = d[y as usize * stride + x as usize / 8] & (0x80 >> (x % 8)) != 0;
                image::Luma([if set { 0 } else { 255 }])
            });
            (Pixels::Gray(gray), 1)
        }
        Samples::Gray8(d) => (Pixels::Gray(GrayImage::from_raw(w, h, d).expect("w×h samples")), 1),
        Samples::Gray16(d) => (
            Pixels::Gray(GrayImage::from_raw(w, h, d.iter().map(|v| (v >> 8) as u8).collect()).expect("w×h samples")),
            1,
        ),
        Samples::Rgb8(d) => (Pixels::Rgb(RgbImage::from_raw(w, h, d).expect("w×h×3 samples")), 3),
        Samples::Rgb16(d) => (
            Pixels::Rgb(RgbImage::from_raw(w, h, d.iter().map(|v| (v >> 8) as u8).collect()).expect("w×h×3 samples")),
            3,
        ),
    };
    RawPage { origin, original, format: SourceFormat::Png, components, pixels, dpi, text: None }
}

fn reverse_pixels<T: Copy>(data: &mut [T], channels: usize) {
    let n = data.len() / channels;
    for i in 0..n / 2 {
        for c in 0..channels {
            data.swap(i * channels + c, (n - 1 - i) * channels + c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(samples: Samples, width: u32, height: u32) -> ScannedPage {
        ScannedPage {
            device: "test:0".into(),
            sheet: 1,
            side: Side::Front,
            width,
            height,
            dpi: Dpi { x: 300.0, y: 300.0, stated: true },
            samples,
        }
    }

    #[test]
    fn png_keeps_depth_mode_and_pixels() {
        // A 10×2 line-art page: the first pixel of the first row black.
        let mut bits = vec![0u8; 4];
        bits[0] = 0x80;
        let raw = page(Samples::Bits(bits), 10, 2).into_raw_page();
        let decoded = image::load_from_memory(&raw.original).unwrap();
        assert_eq!(decoded.to_luma8().get_pixel(0, 0)[0], 0);
        assert_eq!(decoded.to_luma8().get_pixel(1, 0)[0], 255);
        let Pixels::Gray(gray) = raw.pixels else { panic!("gray") };
        assert_eq!((gray.get_pixel(0, 0)[0], gray.get_pixel(9, 1)[0]), (0, 255));

        let raw = page(Samples::Gray16(vec![0x1234, 0xffff]), 2, 1).into_raw_page();
        let decoded = image::load_from_memory(&raw.original).unwrap();
        assert_eq!(decoded.color(), image::ColorType::L16);
        assert_eq!(decoded.to_luma16().get_pixel(0, 0)[0], 0x1234);
    }

    #[test]
    fn rotation_turns_every_mode_upside_down() {
        let mut p = page(Samples::Rgb8(vec![1, 2, 3, 4, 5, 6, 7, 8, 9]), 3, 1);
        p.rotate_180();
        assert_eq!(p.samples, Samples::Rgb8(vec![7, 8, 9, 4, 5, 6, 1, 2, 3]));
        let mut p = page(Samples::Bits(vec![0b1000_0000, 0]), 3, 2);
        p.rotate_180();
        assert_eq!(p.samples, Samples::Bits(vec![0, 0b0010_0000]));
    }
}
