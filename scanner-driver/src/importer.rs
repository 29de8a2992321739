//! The importer's limits and checks (`ImportLimits`, held by `FileImporter`, checked on headers
//! before pixels are allocated), PNG and JPEG decoding, and the pixel conversions every format's
//! decoder shares. Splitting a file into pages by format is `import`.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::{Dpi, DriverError, Pixels, RawPage, SourceFormat};

/// Bounds that keep a hostile or broken file from exhausting memory. Checked against the header before
/// any pixel buffer is allocated.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    /// Largest accepted file, in bytes.
    pub max_file_bytes: u64,
    /// Largest accepted width or height, in pixels.
    pub max_side: u32,
    /// Largest accepted page area, in pixels (A3 at 600 dpi is about 70 million).
    pub max_pixels: u64,
    /// Most pages accepted from one multi-page file (TIFF, PDF).
    pub max_pages: usize,
    /// Largest size a PDF stream other than a page image (a page's content, an object or
    /// cross-reference stream) may decode to, at each stage of its filter chain. A page image is
    /// bounded by its declared width, height, components and bits instead.
    pub max_pdf_stream_bytes: u64,
    /// Most bytes decoded from one PDF file in all: every stage of every stream's filter chain,
    /// page images included, so that many streams each under their bound cannot add up to a bomb.
    pub max_pdf_decoded_bytes: u64,
    /// Most seconds, of wall-clock time and of CPU time alike, the PDF renderer may spend on one page
    /// (rendering it, or reading its text).
    pub max_render_seconds: u64,
    /// Most seconds of wall-clock time the PDF renderer may spend on all the pages of one file.
    pub max_render_file_seconds: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_file_bytes: 512 << 20,
            max_side: 20_000,
            max_pixels: 100_000_000,
            max_pages: 2_000,
            // A scanned page's content (its image drawn, an invisible OCR text layer) and a scan's
            // object streams hold kilobytes; 8 MiB leaves ample room.
            max_pdf_stream_bytes: 8 << 20,
            // 2000 bilevel A4 pages at 300 dpi, or 230 gray ones stored with Flate.
            max_pdf_decoded_bytes: 2 << 30,
            // Poppler renders an A4 page at 300 dpi in well under a second; a minute is a page
            // built to exhaust it.
            max_render_seconds: 60,
            // An hour: a thousand born-digital pages render in about half of it on two cores.
            max_render_file_seconds: 3600,
        }
    }
}

/// Reads image files into [`RawPage`]s.
#[derive(Debug, Clone)]
pub struct FileImporter {
    limits: ImportLimits,
    default_dpi: f32,
    refuse_below_dpi: Option<f32>,
}

impl FileImporter {
    /// An importer with these limits; `default_dpi` is assumed for files that do not state their
    /// resolution.
    pub fn new(limits: ImportLimits, default_dpi: f32) -> Self {
        FileImporter { limits, default_dpi, refuse_below_dpi: None }
    }

    /// The same importer refusing pages that state a resolution below `min` dpi (R1 made strict;
    /// by default such pages are only flagged for review downstream).
    pub fn refusing_below(self, min: f32) -> Self {
        FileImporter { refuse_below_dpi: Some(min), ..self }
    }

    /// The limits files are held to.
    pub fn limits(&self) -> &ImportLimits {
        &self.limits
    }

    pub(crate) fn default_dpi(&self) -> f32 {
        self.default_dpi
    }

    /// The resolution below which a page that states its resolution is refused, if any.
    pub(crate) fn refuse_below_dpi(&self) -> Option<f32> {
        self.refuse_below_dpi
    }

    /// Refuses a file larger than the limit: checked on the file's size before reading it, and on
    /// the bytes of a file that arrived another way.
    pub(crate) fn check_file_size(&self, path: &Path, size: u64) -> Result<(), DriverError> {
        if size > self.limits.max_file_bytes {
            return Err(DriverError::TooLarge {
                path: path.into(),
                reason: format!("file size {size} bytes exceeds the limit of {}", self.limits.max_file_bytes),
            });
        }
        Ok(())
    }

    /// The refusal for a file of more pages than the limit.
    pub(crate) fn too_many_pages(&self, path: &Path, found: usize) -> DriverError {
        DriverError::TooLarge {
            path: path.into(),
            reason: format!("{found} or more pages exceed the limit of {}", self.limits.max_pages),
        }
    }

    /// Decodes one PNG or JPEG image, kept as it is as the original.
    pub(crate) fn decode_image(&self, path: &Path, bytes: Vec<u8>) -> Result<RawPage, DriverError> {
        let (format, image_format, name) = sniff(&bytes)
            .ok_or_else(|| DriverError::UnsupportedFormat { path: path.into(), found: describe_magic(&bytes) })?;
        let corrupt =
            |e: image::ImageError| DriverError::Corrupt { path: path.into(), format: name, reason: e.to_string() };
        // The JPEG decoder fills a cut-off scan with grey rather than failing; a scan that lost its
        // end is damaged all the same.
        if format == SourceFormat::Jpeg
            && !bytes[bytes.len().saturating_sub(64)..].windows(2).any(|w| w == [0xFF, 0xD9])
        {
            return Err(DriverError::Corrupt {
                path: path.into(),
                format: name,
                reason: "truncated: the end-of-image marker is missing".into(),
            });
        }

        let mut reader = ImageReader::with_format(Cursor::new(&bytes), image_format);
        // Width and height are checked below against the header, with a message that names them;
        // the decoder's own limit bounds every buffer it may allocate on the way.
        let mut limits = Limits::default();
        // Four bytes a pixel covers the largest buffer decoding may need (RGBA 8-bit); 16-bit images
        // are rarer and are held to the same total.
        limits.max_alloc = Some(self.limits.max_pixels.saturating_mul(4));
        reader.limits(limits);
        let decoder = reader.into_decoder().map_err(|e| self.limit_error(path, name, e))?;
        let (w, h) = decoder.dimensions();
        self.check_dimensions(path, w, h)?;
        let decoded_components = decoder.color_type().channel_count();
        let image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;

        let stated = match format {
            SourceFormat::Png => png_dpi(&bytes),
            SourceFormat::Jpeg => jpeg_dpi(&bytes),
        };
        let dpi = match stated {
            Some((x, y)) => Dpi { x, y, stated: true },
            None => Dpi { x: self.default_dpi, y: self.default_dpi, stated: false },
        };
        let components = match format {
            SourceFormat::Jpeg => jpeg_components(&bytes).unwrap_or(decoded_components),
            SourceFormat::Png => decoded_components,
        };
        Ok(RawPage {
            origin: path.display().to_string(),
            pixels: to_pixels(image),
            original: bytes,
            format,
            components,
            dpi,
            text: None,
        })
    }

    pub(crate) fn check_dimensions(&self, path: &Path, w: u32, h: u32) -> Result<(), DriverError> {
        let too_large = |what: &str, actual: u64, limit: u64| DriverError::TooLarge {
            path: path.into(),
            reason: format!("{what} {actual} exceeds the limit of {limit}"),
        };
        let side = u64::from(self.limits.max_side);
        if u64::from(w) > side {
            return Err(too_large("width in pixels", w.into(), side));
        }
        if u64::from(h) > side {
            return Err(too_large("height in pixels", h.into(), side));
        }
        let area = u64::from(w) * u64::from(h);
        if area > self.limits.max_pixels {
            return Err(too_large("page area in pixels", area, self.limits.max_pixels));
        }
        if w == 0 || h == 0 {
            return Err(DriverError::Corrupt {
                path: path.into(),
                format: "image",
                reason: "zero width or height".into(),
            });
        }
        Ok(())
    }

    /// Turns a decoder's refusal at header time into the clearest error: a limit breach is reported as
    /// such, anything else as damage.
    fn limit_error(&self, path: &Path, format: &'static str, e: image::ImageError) -> DriverError {
        match e {
            image::ImageError::Limits(l) => DriverError::TooLarge { path: path.into(), reason: l.to_string() },
            other => DriverError::Corrupt { path: path.into(), format, reason: other.to_string() },
        }
    }
}

pub(crate) fn sniff(bytes: &[u8]) -> Option<(SourceFormat, ImageFormat, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some((SourceFormat::Png, ImageFormat::Png, "PNG"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some((SourceFormat::Jpeg, ImageFormat::Jpeg, "JPEG"))
    } else {
        None
    }
}

pub(crate) fn describe_magic(bytes: &[u8]) -> String {
    let head: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
    format!("starts with bytes {head}")
}

/// Normalises decoded pixels to 8-bit gray or 8-bit RGB. Transparency is composited onto white paper,
/// the way the page would print.
fn to_pixels(image: DynamicImage) -> Pixels {
    use image::ColorType::*;
    match image.color() {
        L8 | L16 => Pixels::Gray(image.into_luma8()),
        La8 | La16 => {
            let la = image.into_luma_alpha8();
            let (w, h) = la.dimensions();
            Pixels::Gray(image::GrayImage::from_fn(w, h, |x, y| {
                let p = la.get_pixel(x, y);
                image::Luma([composite(p[0], p[1])])
            }))
        }
        Rgb8 | Rgb16 | Rgb32F => Pixels::Rgb(image.into_rgb8()),
        _ => {
            let rgba = image.into_rgba8();
            let (w, h) = rgba.dimensions();
            Pixels::Rgb(image::RgbImage::from_fn(w, h, |x, y| {
                let p = rgba.get_pixel(x, y);
                image::Rgb([composite(p[0], p[3]), composite(p[1], p[3]), composite(p[2], p[3])])
            }))
        }
    }
}

/// `value` over white paper at opacity `alpha`.
pub(crate) fn composite(value: u8, alpha: u8) -> u8 {
    let (v, a) = (u32::from(value), u32::from(alpha));
    ((v * a + 255 * (255 - a) + 127) / 255) as u8
}

/// Resolution from a PNG's `pHYs` chunk (pixels per metre) when its unit is the metre.
fn png_dpi(bytes: &[u8]) -> Option<(f32, f32)> {
    let mut pos = 8;
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = bytes.get(pos + 8..pos + 8 + len)?;
        if kind == b"pHYs" && len == 9 && data[8] == 1 {
            let x = u32::from_be_bytes(data[0..4].try_into().ok()?) as f32 * 0.0254;
            let y = u32::from_be_bytes(data[4..8].try_into().ok()?) as f32 * 0.0254;
            return (x > 0.0 && y > 0.0).then(|| (x.round(), y.round()));
        }
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        pos += 12 + len;
    }
    None
}

/// Walks a JPEG's marker segments up to the start of scan, calling `visit` with each marker and its
/// payload; stops early when `visit` returns a value.
fn jpeg_segments<T>(bytes: &[u8], mut visit: impl FnMut(u8, &[u8]) -> Option<T>) -> Option<T> {
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            return None;
        }
        let marker = bytes[pos + 1];
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        let payload = bytes.get(pos + 4..pos + 2 + len)?;
        if let Some(found) = visit(marker, payload) {
            return Some(found);
        }
        pos += 2 + len;
    }
    None
}

/// Resolution from a JFIF APP0 segment, in dots per inch or per centimetre.
fn jpeg_dpi(bytes: &[u8]) -> Option<(f32, f32)> {
    jpeg_segments(bytes, |marker, p| {
        if marker != 0xE0 || p.len() < 12 || &p[0..5] != b"JFIF\0" {
            return None;
        }
        let x = f32::from(u16::from_be_bytes([p[8], p[9]]));
        let y = f32::from(u16::from_be_bytes([p[10], p[11]]));
        let scale = match p[7] {
            1 => 1.0,
            2 => 2.54,
            _ => return Some(None),
        };
        Some((x > 0.0 && y > 0.0).then_some((x * scale, y * scale)))
    })
    .flatten()
}

/// Number of colour components from a JPEG's start-of-frame segment.
fn jpeg_components(bytes: &[u8]) -> Option<u8> {
    jpeg_segments(bytes, |marker, p| {
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        (is_sof && p.len() >= 6).then(|| p[5])
    })
}
