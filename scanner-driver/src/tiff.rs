//! TIFF import: one page per image file directory, including CCITT Group 4 bilevel pages (the
//! usual encoding of archived scans). A TIFF page cannot be cut out of its file byte for byte, so
//! each page is kept as a lossless PNG of the same depth.

use std::io::Cursor;
use std::path::Path;

use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::{ResolutionUnit, Tag};

use crate::importer::FileImporter;
use crate::importer::composite;
use crate::scanned::{Samples, raw_page};
use crate::{Dpi, DriverError, RawPage};

fn corrupt(path: &Path) -> impl Fn(tiff::TiffError) -> DriverError + '_ {
    move |e| match e {
        tiff::TiffError::LimitsExceeded => DriverError::TooLarge {
            path: path.into(),
            reason: "the TIFF needs more memory than the page limits allow".into(),
        },
        other => DriverError::Corrupt { path: path.into(), format: "TIFF", reason: other.to_string() },
    }
}

fn decoder<'a>(
    importer: &FileImporter,
    path: &Path,
    bytes: &'a [u8],
) -> Result<Decoder<Cursor<&'a [u8]>>, DriverError> {
    let mut limits = Limits::default();
    // The largest page (16-bit RGB) bounds every buffer the decoder may allocate.
    limits.decoding_buffer_size = usize::try_from(importer.limits().max_pixels.saturating_mul(6)).unwrap_or(usize::MAX);
    limits.intermediate_buffer_size = limits.decoding_buffer_size;
    Ok(Decoder::new(Cursor::new(bytes)).map_err(corrupt(path))?.with_limits(limits))
}

/// The number of pages, refused above the page limit.
pub(crate) fn count(importer: &FileImporter, path: &Path, bytes: &[u8]) -> Result<usize, DriverError> {
    let mut d = decoder(importer, path, bytes)?;
    let mut n = 1;
    while d.more_images() {
        if n >= importer.limits().max_pages {
            return Err(importer.too_many_pages(path, n + 1));
        }
        d.next_image().map_err(corrupt(path))?;
        n += 1;
    }
    Ok(n)
}

/// Decodes page `index` (from 0).
pub(crate) fn decode(importer: &FileImporter, path: &Path, bytes: &[u8], index: usize) -> Result<RawPage, DriverError> {
    let mut d = decoder(importer, path, bytes)?;
    d.seek_to_image(index).map_err(corrupt(path))?;
    let (w, h) = d.dimensions().map_err(corrupt(path))?;
    importer.check_dimensions(path, w, h)?;
    let color = d.colortype().map_err(corrupt(path))?;
    let dpi = resolution(&mut d).map_or(
        Dpi { x: importer.default_dpi(), y: importer.default_dpi(), stated: false },
        |(x, y)| Dpi { x, y, stated: true },
    );
    let unsupported = |what: String| DriverError::Corrupt {
        path: path.into(),
        format: "TIFF",
        reason: format!("page {}: {what} is not supported", index + 1),
    };
    let image = d.read_image().map_err(corrupt(path))?;
    let samples = match (color, image) {
        // The decoder hands bilevel pages black-is-zero; sohoa's line art has a set bit for black.
        (ColorType::Gray(1), DecodingResult::U8(bits)) => Samples::Bits(bits.into_iter().map(|b| !b).collect()),
        (ColorType::Gray(8), DecodingResult::U8(v)) => Samples::Gray8(v),
        (ColorType::Gray(16), DecodingResult::U16(v)) => Samples::Gray16(v),
        (ColorType::RGB(8), DecodingResult::U8(v)) => Samples::Rgb8(v),
        (ColorType::RGB(16), DecodingResult::U16(v)) => Samples::Rgb16(v),
        // Alpha is composited onto white paper, the way the page would print.
        (ColorType::RGBA(8), DecodingResult::U8(v)) => {
            Samples::Rgb8(v.chunks_exact(4).flat_map(|p| [0, 1, 2].map(|c| composite(p[c], p[3]))).collect())
        }
        (ColorType::GrayA(8), DecodingResult::U8(v)) => {
            Samples::Gray8(v.chunks_exact(2).map(|p| composite(p[0], p[1])).collect())
        }
        (other, _) => return Err(unsupported(format!("colour type {other:?}"))),
    };
    let expected = match &samples {
        Samples::Bits(v) => v.len() == (w as usize).div_ceil(8) * h as usize,
        Samples::Gray8(v) => v.len() == w as usize * h as usize,
        Samples::Gray16(v) => v.len() == w as usize * h as usize,
        Samples::Rgb8(v) => v.len() == 3 * w as usize * h as usize,
        Samples::Rgb16(v) => v.len() == 3 * w as usize * h as usize,
    };
    if !expected {
        return Err(DriverError::Corrupt {
            path: path.into(),
            format: "TIFF",
            reason: format!("page {} decodes to fewer samples than {w}×{h}", index + 1),
        });
    }
    Ok(raw_page(path.display().to_string(), w, h, dpi, samples))
}

/// Resolution from XResolution/YResolution and ResolutionUnit, in dots per inch.
fn resolution(d: &mut Decoder<Cursor<&[u8]>>) -> Option<(f32, f32)> {
    let x = d.get_tag_f32(Tag::XResolution).ok()?;
    let y = d.get_tag_f32(Tag::YResolution).unwrap_or(x);
    let unit = d.find_tag_unsigned::<u16>(Tag::ResolutionUnit).ok().flatten().and_then(ResolutionUnit::from_u16);
    let scale = match unit {
        Some(ResolutionUnit::Centimeter) => 2.54,
        Some(ResolutionUnit::None) => return None,
        _ => 1.0,
    };
    (x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0).then_some((x * scale, y * scale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ImportLimits;
    use tiff::encoder::{TiffEncoder, colortype};

    fn two_page_tiff() -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut enc = TiffEncoder::new(&mut out).unwrap();
        enc.write_image::<colortype::Gray8>(4, 3, &[10; 12]).unwrap();
        enc.write_image::<colortype::RGB8>(2, 2, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).unwrap();
        out.into_inner()
    }

    #[test]
    fn every_page_of_a_multi_page_tiff() {
        let importer = FileImporter::new(ImportLimits::default(), 300.0);
        let pages = importer.pages(Path::new("two.tif"), two_page_tiff()).unwrap();
        assert_eq!(pages.len(), 2);
        let first = pages[0].decode().unwrap();
        assert_eq!(first.pixels.dimensions(), (4, 3));
        assert_eq!(first.origin, "two.tif page 1");
        let second = pages[1].decode().unwrap();
        assert_eq!((second.pixels.dimensions(), second.components), ((2, 2), 3));
        let limited = FileImporter::new(ImportLimits { max_pages: 1, ..ImportLimits::default() }, 300.0);
        let e = limited.pages(Path::new("two.tif"), two_page_tiff()).unwrap_err();
        assert!(e.to_string().contains("exceed the limit of 1"), "{e}");
    }
}
