//! PDF import for scanned PDFs: each page must be exactly one image drawn over the page (an
//! invisible OCR text layer, as scanners' "searchable PDF" adds, is allowed). A JPEG page image is
//! taken out byte for byte; Flate, LZW and CCITT Group 4 images are decoded and kept as lossless
//! PNG. A page that is anything else (text, drawings, several images) is refused with what it holds:
//! it is a born-digital document, not a scan, and capturing it as an image would lose its text.

use std::path::Path;
use std::sync::Arc;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, Stream};

use crate::decode_budget::{DecodeBudget, Refusal, STREAM_LIMIT, decode_object_streams, filter_names};
use crate::importer::FileImporter;
use crate::scanned::{Samples, raw_page};
use crate::{Dpi, DriverError, RawPage};

/// Bytes a page image may decode to beyond its declared size: some encoders pad the end of the data.
const IMAGE_SLACK: usize = 4096;

/// The image of one scanned page, taken out of the document when it is split.
#[derive(Debug, Clone)]
pub(crate) struct PdfPage {
    /// The page number, from 1.
    pub number: usize,
    image: Arc<Stream>,
    /// Resolution from the image's size in pixels and its size drawn on the page.
    dpi: Option<(f32, f32)>,
    /// What is left to decode from the file this page is in.
    budget: Arc<DecodeBudget>,
}

fn corrupt(path: &Path, reason: impl std::fmt::Display) -> DriverError {
    DriverError::Corrupt { path: path.into(), format: "PDF", reason: reason.to_string() }
}

/// The refusal of a stream that could not be decoded: a limit reached, or damage.
fn refusal(path: &Path, refusal: Refusal) -> DriverError {
    match refusal {
        Refusal::Limit(reason) => DriverError::TooLarge { path: path.into(), reason },
        Refusal::Damaged(reason) => corrupt(path, reason),
    }
}

fn load(
    importer: &FileImporter,
    path: &Path,
    bytes: &[u8],
    budget: &Arc<DecodeBudget>,
) -> Result<Document, DriverError> {
    let bound = importer.limits().max_pdf_stream_bytes;
    // Object streams are decoded by the filter, under the file's budget; cross-reference streams,
    // which the parser decodes before any filter sees them, are bounded per stream here.
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(usize::try_from(bound).unwrap_or(usize::MAX)),
        filter: Some(decode_object_streams),
        ..lopdf::LoadOptions::default()
    };
    // The parser is not ours: a panic on a hostile file must become a refusal of that file, not
    // the end of the service.
    let loaded = crate::decode_budget::loading(budget.clone(), bound, || {
        std::panic::catch_unwind(|| Document::load_mem_with_options(bytes, options))
    })
    .map_err(|r| refusal(path, r))?
    .map_err(|_| corrupt(path, "the PDF parser failed on this file"))?;
    let doc = loaded.map_err(|e| match e {
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit }) => {
            DriverError::TooLarge { path: path.into(), reason: format!("a cross-reference stream decodes to more than the limit of {limit} bytes for one stream (max_pdf_stream_bytes)") }
        }
        other => corrupt(path, other),
    })?;
    if doc.is_encrypted() {
        return Err(corrupt(path, "the PDF is encrypted; save it without a password first"));
    }
    Ok(doc)
}

/// The scanned pages of a PDF, each checked to be one image. Every stream decoded from the file,
/// here and when its pages are decoded, is charged to one budget of
/// [`ImportLimits::max_pdf_decoded_bytes`](crate::ImportLimits).
pub(crate) fn pages(importer: &FileImporter, path: &Path, bytes: &[u8]) -> Result<Vec<PdfPage>, DriverError> {
    let budget = Arc::new(DecodeBudget::new(importer.limits().max_pdf_decoded_bytes));
    let doc = load(importer, path, bytes, &budget)?;
    let pages = doc.get_pages();
    if pages.len() > importer.limits().max_pages {
        return Err(importer.too_many_pages(path, pages.len()));
    }
    let bound = importer.limits().max_pdf_stream_bytes;
    let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pages
            .iter()
            .map(|(&number, &id)| page(&doc, path, number as usize, id, &budget, bound))
            .collect::<Result<Vec<_>, _>>()
    }));
    analysed.map_err(|_| corrupt(path, "the PDF parser failed on this file"))?
}

/// Multiplies two PDF matrices `[a b c d e f]`.
fn concat(m: [f64; 6], n: [f64; 6]) -> [f64; 6] {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn operand(o: &Object) -> Option<f64> {
    match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

/// The content of a page: its content streams decoded under the file's budget, together at most
/// `bound` bytes.
fn page_content(
    doc: &Document,
    path: &Path,
    number: usize,
    id: lopdf::ObjectId,
    budget: &DecodeBudget,
    bound: u64,
) -> Result<Content, DriverError> {
    let mut data = Vec::new();
    for stream_id in doc.get_page_contents(id) {
        let Ok(stream) = doc.get_object(stream_id).and_then(Object::as_stream) else { continue };
        let left = bound.saturating_sub(data.len() as u64);
        data.extend(
            budget
                .decode(stream, left, STREAM_LIMIT, &format!("page {number}'s content"))
                .map_err(|r| refusal(path, r))?,
        );
        data.push(b'\n');
    }
    Content::decode(&data).map_err(|e| DriverError::NotScanned {
        path: path.into(),
        page: number,
        reason: format!("cannot read its content: {e}"),
    })
}

fn page(
    doc: &Document,
    path: &Path,
    number: usize,
    id: lopdf::ObjectId,
    budget: &Arc<DecodeBudget>,
    bound: u64,
) -> Result<PdfPage, DriverError> {
    let not_scanned = |reason: String| DriverError::NotScanned { path: path.into(), page: number, reason };
    let images = doc.get_page_images(id).map_err(|e| not_scanned(format!("cannot read its images: {e}")))?;
    let content = page_content(doc, path, number, id, budget, bound)?;
    let (mut draws, mut visible_text, mut paths) = (0, 0, 0);
    let mut ctm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let mut stack = Vec::new();
    let mut render_mode = 0;
    let mut drawn_at = ctm;
    for op in &content.operations {
        match op.operator.as_str() {
            "q" => stack.push(ctm),
            "Q" => ctm = stack.pop().unwrap_or(ctm),
            "cm" => {
                let m: Vec<f64> = op.operands.iter().filter_map(operand).collect();
                if let Ok(m) = <[f64; 6]>::try_from(m) {
                    ctm = concat(m, ctm);
                }
            }
            "Tr" => render_mode = op.operands.first().and_then(operand).unwrap_or(0.0) as i64,
            // Render mode 3 is invisible text: the OCR layer of a searchable scan.
            "Tj" | "TJ" | "'" | "\"" if render_mode != 3 => visible_text += 1,
            "f" | "F" | "f*" | "S" | "s" | "B" | "B*" | "b" | "b*" | "sh" | "BI" => paths += 1,
            "Do" => {
                draws += 1;
                drawn_at = ctm;
            }
            _ => {}
        }
    }
    if images.len() != 1 || draws != 1 || visible_text > 0 || paths > 0 {
        let mut holds = vec![format!("{} image{}", images.len(), if images.len() == 1 { "" } else { "s" })];
        if visible_text > 0 {
            holds.push("text".into());
        }
        if paths > 0 {
            holds.push("drawings".into());
        }
        return Err(not_scanned(format!(
            "not a scanned page (it holds {}); print it to images or import the original images instead",
            holds.join(", ")
        )));
    }
    let image = &images[0];
    let stream = doc
        .get_object(image.id)
        .and_then(Object::as_stream)
        .map_err(|e| not_scanned(format!("cannot read its image: {e}")))?;
    let (w_pt, h_pt) = (drawn_at[0].hypot(drawn_at[1]), drawn_at[2].hypot(drawn_at[3]));
    let dpi = (w_pt > 1.0 && h_pt > 1.0)
        .then(|| ((image.width as f64 * 72.0 / w_pt) as f32, (image.height as f64 * 72.0 / h_pt) as f32));
    Ok(PdfPage { number, image: Arc::new(stream.clone()), dpi, budget: budget.clone() })
}

fn int(dict: &Dictionary, key: &[u8]) -> Option<i64> {
    dict.get(key).ok().and_then(|o| o.as_i64().ok())
}

/// Colour components of the image's colour space, if sohoa can take it.
fn components(doc_dict: &Dictionary) -> Result<usize, String> {
    match doc_dict.get(b"ColorSpace") {
        Ok(Object::Name(n)) if n == b"DeviceGray" || n == b"CalGray" => Ok(1),
        Ok(Object::Name(n)) if n == b"DeviceRGB" || n == b"CalRGB" => Ok(3),
        Ok(Object::Array(a)) if a.first().and_then(|o| o.as_name().ok()) == Some(b"ICCBased") => match a.get(1) {
            // The profile's stream is not at hand here; its colours are those of a gray or RGB scan.
            Some(_) => Ok(3),
            None => Err("an ICC colour space without a profile".into()),
        },
        Ok(Object::Array(a)) if a.first().and_then(|o| o.as_name().ok()) == Some(b"CalGray") => Ok(1),
        Ok(Object::Array(a)) if a.first().and_then(|o| o.as_name().ok()) == Some(b"CalRGB") => Ok(3),
        Ok(other) => Err(format!("colour space {other:?} is not supported")),
        Err(_) => Err("the image has no colour space".into()),
    }
}

/// Decodes a page's image.
pub(crate) fn decode(importer: &FileImporter, path: &Path, page: &PdfPage) -> Result<RawPage, DriverError> {
    let refuse = |reason: String| DriverError::NotScanned { path: path.into(), page: page.number, reason };
    let dict = &page.image.dict;
    let (w, h) = (int(dict, b"Width").unwrap_or(0), int(dict, b"Height").unwrap_or(0));
    let (w, h) = (
        u32::try_from(w).map_err(|_| refuse(format!("image width {w}")))?,
        u32::try_from(h).map_err(|_| refuse(format!("image height {h}")))?,
    );
    importer.check_dimensions(path, w, h)?;
    let dpi = page.dpi.map_or(Dpi { x: importer.default_dpi(), y: importer.default_dpi(), stated: false }, |(x, y)| {
        Dpi { x, y, stated: true }
    });
    let filters = filter_names(dict);
    let names: Vec<&[u8]> = filters.iter().map(Vec::as_slice).collect();
    let origin = format!("{} page {}", path.display(), page.number);
    match names.as_slice() {
        [b"DCTDecode"] => {
            // The JPEG as the scanner made it, byte for byte.
            let mut raw = importer.decode_image(path, page.image.content.clone())?;
            if dpi.stated {
                raw.dpi = dpi;
            }
            Ok(raw)
        }
        [b"CCITTFaxDecode"] => {
            let params = dict.get(b"DecodeParms").ok().and_then(|o| o.as_dict().ok());
            let k = params.and_then(|p| int(p, b"K")).unwrap_or(0);
            if k >= 0 {
                return Err(refuse("CCITT Group 3 page images are not supported (Group 4 is)".into()));
            }
            let columns = params.and_then(|p| int(p, b"Columns")).unwrap_or(1728);
            let black_is_1 =
                params.and_then(|p| p.get(b"BlackIs1").ok()).and_then(|o| o.as_bool().ok()).unwrap_or(false);
            if columns != i64::from(w) || w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
                return Err(refuse(format!("a Group 4 image of {columns} columns drawn {w} pixels wide")));
            }
            let stride = (w as usize).div_ceil(8);
            page.budget
                .charge((stride * h as usize) as u64, &format!("page {}'s image", page.number))
                .map_err(|r| refusal(path, r))?;
            let mut bits = Vec::with_capacity(stride * h as usize);
            let decoded =
                fax::decoder::decode_g4(page.image.content.iter().copied(), w as u16, Some(h as u16), |transitions| {
                    let mut row = vec![0u8; stride];
                    for (x, color) in fax::decoder::pels(transitions, w as u16).enumerate() {
                        // A black run shows black unless BlackIs1 maps it to 1, which DeviceGray shows white.
                        if (color == fax::Color::Black) != black_is_1 {
                            row[x / 8] |= 0x80 >> (x % 8);
                        }
                    }
                    bits.extend_from_slice(&row);
                });
            if decoded.is_none() || bits.len() < stride * h as usize {
                return Err(corrupt(path, format!("page {}: the Group 4 image is damaged", page.number)));
            }
            Ok(raw_page(origin, w, h, dpi, Samples::Bits(bits)))
        }
        [] | [b"FlateDecode"] | [b"LZWDecode"] => {
            let channels = components(dict).map_err(refuse)?;
            let depth = int(dict, b"BitsPerComponent").unwrap_or(8);
            let row = match depth {
                1 | 8 | 16 => (w as usize * channels * depth as usize).div_ceil(8),
                other => return Err(refuse(format!("{other} bits per component is not supported"))),
            };
            let limit = row * h as usize;
            // The declared size bounds the decoding, with one byte a row for PNG predictors and a
            // little for encoders that pad the end.
            let bound = (limit + h as usize + IMAGE_SLACK) as u64;
            let data = page
                .budget
                .decode(
                    &page.image,
                    bound,
                    "what its declared size and depth need",
                    &format!("page {}'s image", page.number),
                )
                .map_err(|r| refusal(path, r))?;
            if data.len() < limit {
                return Err(corrupt(
                    path,
                    format!("page {}: the image holds {} bytes of the {limit} its size needs", page.number, data.len()),
                ));
            }
            let inverted =
                matches!(dict.get(b"Decode"), Ok(Object::Array(d)) if d.first().and_then(operand) == Some(1.0));
            let rows = data.chunks_exact(row).take(h as usize);
            let samples = match (depth, channels) {
                // DeviceGray shows 0 as black; sohoa's line art sets a bit for black.
                (1, 1) => Samples::Bits(rows.flatten().map(|b| if inverted { *b } else { !b }).collect()),
                (1, _) => return Err(refuse("1-bit colour images are not supported".into())),
                (8, 1) => Samples::Gray8(rows.flatten().copied().collect()),
                (8, _) => Samples::Rgb8(rows.flatten().copied().collect()),
                (_, 1) => Samples::Gray16(
                    rows.flat_map(|r| r.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))).collect(),
                ),
                _ => Samples::Rgb16(
                    rows.flat_map(|r| r.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))).collect(),
                ),
            };
            Ok(raw_page(origin, w, h, dpi, samples))
        }
        other => {
            let names: Vec<String> = other.iter().map(|n| String::from_utf8_lossy(n).into_owned()).collect();
            Err(refuse(format!("page images encoded with {} are not supported", names.join(" + "))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ImportLimits;
    use lopdf::{content::Content, content::Operation, dictionary};

    /// The content of a page drawing its image, with visible text on request.
    fn drawing(with_text: bool) -> Stream {
        let mut ops = vec![
            Operation::new("q", vec![]),
            Operation::new("cm", vec![144.into(), 0.into(), 0.into(), 72.into(), 0.into(), 0.into()]),
            Operation::new("Do", vec!["Im0".into()]),
            Operation::new("Q", vec![]),
        ];
        if with_text {
            ops.extend([
                Operation::new("BT", vec![]),
                Operation::new("Tj", vec![Object::string_literal("hello")]),
                Operation::new("ET", vec![]),
            ]);
        }
        Stream::new(dictionary! {}, Content { operations: ops }.encode().unwrap())
    }

    /// A PDF whose pages draw `images` (JPEG bytes or raw gray samples) and, on request, text.
    fn pdf(pages: &[(Stream, bool)]) -> Vec<u8> {
        document(pages.iter().map(|(image, with_text)| (image.clone(), drawing(*with_text))).collect())
    }

    /// A PDF of pages each with its image (as `Im0`) and its content stream.
    fn document(pages: Vec<(Stream, Stream)>) -> Vec<u8> {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let mut kids = Vec::new();
        for (image, content) in pages {
            let image_id = doc.add_object(image);
            let content = doc.add_object(content);
            kids.push(doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 144.into(), 72.into()],
                "Contents" => content, "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
            }));
        }
        let count = kids.len() as i64;
        doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids.into_iter().map(Object::from).collect::<Vec<_>>(), "Count" => count }));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    /// `data` compressed with Flate `stages` times, the filters named in decoding order (each stage
    /// must shrink what it compresses, or lopdf leaves it as it is).
    fn nested_flate(data: Vec<u8>, stages: usize) -> Stream {
        let mut content = data;
        for _ in 0..stages {
            let mut stream = Stream::new(dictionary! {}, content);
            stream.compress().unwrap();
            content = stream.content;
        }
        Stream::new(dictionary! { "Filter" => vec![Object::from("FlateDecode"); stages] }, content)
    }

    /// A page's drawing followed by `spaces` spaces.
    fn padded_drawing(spaces: usize) -> Vec<u8> {
        let mut content = drawing(false).content;
        content.resize(content.len() + spaces, b' ');
        content
    }

    fn gray_image(w: i64, h: i64) -> Stream {
        let samples: Vec<u8> = (0..w * h).map(|i| (i % 256) as u8).collect();
        let mut s = Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => w, "Height" => h, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
            samples,
        );
        s.compress().unwrap();
        s
    }

    fn jpeg_image() -> (Stream, Vec<u8>) {
        let img = image::GrayImage::from_pixel(300, 150, image::Luma([180]));
        let mut jpeg = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
        let s = Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 300, "Height" => 150, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
            jpeg.clone(),
        );
        (s, jpeg)
    }

    #[test]
    fn scanned_pages_come_out_as_their_images() {
        let (jpeg_stream, jpeg) = jpeg_image();
        let file = pdf(&[(jpeg_stream, false), (gray_image(200, 100), false)]);
        let importer = FileImporter::new(ImportLimits::default(), 300.0);
        let pages = importer.pages(Path::new("scan.pdf"), file).unwrap();
        assert_eq!(pages.len(), 2);
        let first = pages[0].decode().unwrap();
        assert_eq!(first.original, jpeg, "the JPEG is taken out byte for byte");
        assert_eq!(first.format, crate::SourceFormat::Jpeg);
        // 300 pixels drawn 2 inches wide.
        assert_eq!((first.dpi.x.round(), first.dpi.y.round(), first.dpi.stated), (150.0, 150.0, true));
        let second = pages[1].decode().unwrap();
        assert_eq!(second.pixels.dimensions(), (200, 100));
        let crate::Pixels::Gray(g) = second.pixels else { panic!("gray") };
        assert_eq!(g.get_pixel(7, 0)[0], 7);
    }

    #[test]
    fn a_page_with_text_is_refused_with_what_it_holds() {
        let file = pdf(&[(gray_image(20, 10), false), (gray_image(20, 10), true)]);
        let e = FileImporter::new(ImportLimits::default(), 300.0).pages(Path::new("mixed.pdf"), file).unwrap_err();
        assert!(e.to_string().contains("page 2: not a scanned page (it holds 1 image, text)"), "{e}");
    }

    #[test]
    fn hole02_every_stage_of_a_nested_chain_is_bounded() {
        let limits = ImportLimits { max_pdf_stream_bytes: 64 << 10, ..ImportLimits::default() };
        let importer = FileImporter::new(limits, 300.0);
        // A megabyte of page content, behind two Flate stages: the second passes the bound.
        let file = document(vec![(gray_image(20, 10), nested_flate(padded_drawing(1 << 20), 2))]);
        let e = importer.pages(Path::new("nested.pdf"), file).unwrap_err();
        assert!(matches!(e, DriverError::TooLarge { .. }), "{e}");
        let e = e.to_string();
        assert!(e.contains("stage 2 of 2 (FlateDecode + FlateDecode) of page 1's content decodes to more than 65536 bytes, the limit for one PDF stream (max_pdf_stream_bytes)"), "{e}");
        // Content under the bound is taken.
        let file = document(vec![(gray_image(20, 10), nested_flate(padded_drawing(40_000), 1))]);
        assert_eq!(importer.pages(Path::new("small.pdf"), file).unwrap().len(), 1);
    }

    #[test]
    fn hole02_the_total_decoded_from_a_file_counts_every_stream() {
        let limits =
            ImportLimits { max_pdf_stream_bytes: 64 << 10, max_pdf_decoded_bytes: 100_000, ..ImportLimits::default() };
        let importer = FileImporter::new(limits, 300.0);
        // Three pages, each under the bound of one stream, together over the file's total.
        let page = || (gray_image(20, 10), nested_flate(padded_drawing(40_000), 1));
        let e = importer.pages(Path::new("many.pdf"), document(vec![page(), page(), page()])).unwrap_err().to_string();
        assert!(
            e.contains("page 3's content")
                && e.contains("limit of 100000 bytes decoded from one PDF file (max_pdf_decoded_bytes)"),
            "{e}"
        );
        assert_eq!(importer.pages(Path::new("two.pdf"), document(vec![page(), page()])).unwrap().len(), 2);
    }

    #[test]
    fn hole02_a_page_image_decodes_to_its_declared_size_at_most() {
        // 20 x 10 gray pixels declared, a megabyte of samples inflated.
        let mut image = gray_image(20, 10);
        let mut bomb = Stream::new(dictionary! {}, vec![0; 1 << 20]);
        bomb.compress().unwrap();
        image.content = bomb.content;
        image.dict.set("Filter", "FlateDecode");
        let pages = FileImporter::new(ImportLimits::default(), 300.0)
            .pages(Path::new("image.pdf"), pdf(&[(image, false)]))
            .unwrap();
        let e = pages[0].decode().unwrap_err().to_string();
        assert!(e.contains("stage 1 of 1 (FlateDecode) of page 1's image decodes to more than 4306 bytes, what its declared size and depth need"), "{e}");
    }
}
