//! PDF import. A page that is exactly one image drawn over the page (an invisible OCR text layer, as
//! scanners' "searchable PDF" adds, is allowed) in an encoding sohoa decodes is taken as the scan it
//! is: a JPEG page image byte for byte, a Flate, LZW or CCITT Group 4 image decoded and kept as a
//! lossless PNG. Every other page is rendered by Poppler (`render`): a born-digital or mixed page at
//! the importer's resolution, with the text it carries when that text can be trusted; a scan in an
//! encoding sohoa does not decode (JBIG2, JPEG 2000, chained filters, indexed colour) or whose data
//! lopdf cannot inflate, at the resolution of its image, so that nothing is invented or lost and a
//! scan under the legal minimum is still seen as one.

use std::path::Path;
use std::sync::Arc;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, Stream};

use crate::decode_budget::{DecodeBudget, Refusal, STREAM_LIMIT, decode_object_streams, filter_names};
use crate::importer::FileImporter;
use crate::render::RenderFile;
use crate::scanned::{Samples, raw_page};
use crate::{Dpi, DriverError, RawPage};

/// Bytes a page image may decode to beyond its declared size: some encoders pad the end of the data.
const IMAGE_SLACK: usize = 4096;

/// Pixels from which an image on a born-digital page is taken for a scan pasted in: the text the
/// page carries does not hold what is in it, so such a page is read by OCR. A logo or a signature
/// picture is smaller; a tenth of an A4 page at 300 dpi is 870,000 pixels.
const SCAN_PIXELS: i64 = 500_000;

/// The page size a PDF reader assumes when a page has none: US Letter, in points.
const DEFAULT_PAGE: (f64, f64) = (612.0, 792.0);

/// Levels of `/Parent` followed for an inherited page attribute: a page tree deeper than this is
/// not a document but a trap.
const MAX_TREE_DEPTH: usize = 64;

/// The resolutions a scan's image is rendered at, whatever the resolution its drawing implies: a
/// stamp-sized drawing of a huge image must not ask for a giant render, nor a page-sized one of a
/// thumbnail for a useless one.
const SCAN_DPI: std::ops::RangeInclusive<f32> = 72.0..=1200.0;

/// One page of a PDF, as found when the file is split.
#[derive(Debug, Clone)]
pub(crate) struct PdfPage {
    /// The page number, from 1.
    pub number: usize,
    /// Width and height of the page's box in points, before `/Rotate`: what a render of it covers.
    size: (f64, f64),
    kind: PageKind,
    /// The file, for Poppler.
    file: Arc<RenderFile>,
}

#[derive(Debug, Clone)]
enum PageKind {
    /// One image drawn over the page: a scan.
    Scan {
        image: Arc<Stream>,
        /// Resolution from the image's size in pixels and its size drawn on the page.
        dpi: Option<(f32, f32)>,
        /// What is left to decode from the file this page is in.
        budget: Arc<DecodeBudget>,
    },
    /// Anything else: rendered; the text it carries is read when it has no image the size of a scan.
    Drawn { read_text: bool },
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
pub(crate) fn pages(importer: &FileImporter, path: &Path, bytes: &Arc<Vec<u8>>) -> Result<Vec<PdfPage>, DriverError> {
    let budget = Arc::new(DecodeBudget::new(importer.limits().max_pdf_decoded_bytes));
    let doc = load(importer, path, bytes, &budget)?;
    let limits = importer.limits();
    let file =
        Arc::new(RenderFile::new(path, bytes.clone(), limits.max_render_seconds, limits.max_render_file_seconds));
    let pages = doc.get_pages();
    if pages.len() > importer.limits().max_pages {
        return Err(importer.too_many_pages(path, pages.len()));
    }
    let bound = importer.limits().max_pdf_stream_bytes;
    let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pages
            .iter()
            .map(|(&number, &id)| page(&doc, path, number as usize, id, (&budget, &file), bound))
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
/// `bound` bytes; `None` when lopdf cannot inflate or parse it (Poppler may: the page is rendered).
fn page_content(
    doc: &Document,
    path: &Path,
    number: usize,
    id: lopdf::ObjectId,
    budget: &DecodeBudget,
    bound: u64,
) -> Result<Option<Content>, DriverError> {
    let mut data = Vec::new();
    for stream_id in doc.get_page_contents(id) {
        let Ok(stream) = doc.get_object(stream_id).and_then(Object::as_stream) else { continue };
        let left = bound.saturating_sub(data.len() as u64);
        match budget.decode(stream, left, STREAM_LIMIT, &format!("page {number}'s content")) {
            Ok(decoded) => data.extend(decoded),
            Err(Refusal::Damaged(_)) => return Ok(None),
            Err(limit) => return Err(refusal(path, limit)),
        }
        data.push(b'\n');
    }
    Ok(Content::decode(&data).ok())
}

/// A page attribute, from the page or the nearest of its ancestors that has it.
fn inherited<'a>(doc: &'a Document, id: lopdf::ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut dict = doc.get_dictionary(id).ok()?;
    for _ in 0..MAX_TREE_DEPTH {
        if let Ok(value) = dict.get(key) {
            return doc.dereference(value).ok().map(|(_, o)| o);
        }
        dict = doc.get_dictionary(dict.get(b"Parent").ok()?.as_reference().ok()?).ok()?;
    }
    None
}

/// Width and height of a page box in points, if it is a valid one.
fn box_size(doc: &Document, value: Option<&Object>) -> Option<(f64, f64)> {
    let corners: Vec<f64> =
        value?.as_array().ok()?.iter().filter_map(|o| doc.dereference(o).ok().and_then(|(_, o)| operand(o))).collect();
    let [x0, y0, x1, y1] = <[f64; 4]>::try_from(corners).ok()?;
    let size = ((x1 - x0).abs(), (y1 - y0).abs());
    (size.0.is_finite() && size.1.is_finite()).then_some(size)
}

/// The size of a page as a reader shows it, in points: its crop box within its media box, in user
/// units. An upper bound of what Poppler renders, so that the render can be refused on it.
fn shown_size(doc: &Document, id: lopdf::ObjectId) -> (f64, f64) {
    let media = box_size(doc, inherited(doc, id, b"MediaBox")).unwrap_or(DEFAULT_PAGE);
    let (w, h) = match box_size(doc, inherited(doc, id, b"CropBox")) {
        Some((w, h)) => (w.min(media.0), h.min(media.1)),
        None => media,
    };
    let unit = doc.get_dictionary(id).ok().and_then(|d| d.get(b"UserUnit").ok()).and_then(operand).unwrap_or(1.0);
    let unit = if unit.is_finite() { unit.max(1.0) } else { 1.0 };
    (w * unit, h * unit)
}

fn page(
    doc: &Document,
    path: &Path,
    number: usize,
    id: lopdf::ObjectId,
    (budget, file): (&Arc<DecodeBudget>, &Arc<RenderFile>),
    bound: u64,
) -> Result<PdfPage, DriverError> {
    let size = shown_size(doc, id);
    let drawn = |read_text: bool| PdfPage { number, size, kind: PageKind::Drawn { read_text }, file: file.clone() };
    // A page lopdf cannot analyse is left to Poppler, which reads more damaged files than lopdf
    // and refuses what it cannot read.
    let Ok(images) = doc.get_page_images(id) else { return Ok(drawn(true)) };
    let read_text = !images.iter().any(|i| i.width.saturating_mul(i.height) >= SCAN_PIXELS);
    let Some(content) = page_content(doc, path, number, id, budget, bound)? else { return Ok(drawn(read_text)) };
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
    let single = images.len() == 1 && draws == 1 && visible_text == 0 && paths == 0;
    let stream = single.then(|| doc.get_object(images[0].id).and_then(Object::as_stream).ok()).flatten();
    let Some(stream) = stream else { return Ok(drawn(read_text)) };
    let image = &images[0];
    let (w_pt, h_pt) = (drawn_at[0].hypot(drawn_at[1]), drawn_at[2].hypot(drawn_at[3]));
    let dpi = (w_pt > 1.0 && h_pt > 1.0)
        .then(|| ((image.width as f64 * 72.0 / w_pt) as f32, (image.height as f64 * 72.0 / h_pt) as f32));
    let kind = PageKind::Scan { image: Arc::new(stream.clone()), dpi, budget: budget.clone() };
    Ok(PdfPage { number, size, kind, file: file.clone() })
}

fn int(dict: &Dictionary, key: &[u8]) -> Option<i64> {
    dict.get(key).ok().and_then(|o| o.as_i64().ok())
}

/// Colour components of the image's colour space, if sohoa decodes it itself. An ICC-based space
/// is not: its profile's number of components is in a stream not at hand here, so Poppler, which
/// reads the profile, renders such a scan.
fn components(doc_dict: &Dictionary) -> Option<usize> {
    let family = match doc_dict.get(b"ColorSpace").ok()? {
        Object::Name(n) => n.as_slice(),
        Object::Array(a) => a.first()?.as_name().ok()?,
        _ => return None,
    };
    match family {
        b"DeviceGray" | b"CalGray" => Some(1),
        b"DeviceRGB" | b"CalRGB" => Some(3),
        _ => None,
    }
}

/// Decodes a page: a scan's image as it is when sohoa decodes its encoding, else the page rendered
/// by Poppler.
pub(crate) fn decode(importer: &FileImporter, path: &Path, page: &PdfPage) -> Result<RawPage, DriverError> {
    match &page.kind {
        PageKind::Scan { image, dpi, budget } => match decode_scan(importer, path, page.number, image, *dpi, budget) {
            Ok(raw) => Ok(raw),
            Err(ScanFault::Refused(e)) => Err(e),
            Err(ScanFault::Undecodable) => {
                // Rendered at the image's own resolution: no pixel invented, none lost.
                let scan_dpi = dpi.map_or(importer.default_dpi(), |(x, y)| x.min(y));
                render(importer, path, page, scan_dpi.clamp(*SCAN_DPI.start(), *SCAN_DPI.end()), false)
            }
        },
        PageKind::Drawn { read_text } => render(importer, path, page, importer.default_dpi(), *read_text),
    }
}

/// Renders a page at `dpi` as the reader shows it, refused before Poppler runs when the render
/// would pass the importer's limits; with the text it carries when `read_text` and it can be
/// trusted.
fn render(
    importer: &FileImporter,
    path: &Path,
    page: &PdfPage,
    dpi: f32,
    read_text: bool,
) -> Result<RawPage, DriverError> {
    let pixels = |points: f64| (points * f64::from(dpi) / 72.0).ceil().min(f64::from(u32::MAX)) as u32;
    let (w, h) = (pixels(page.size.0), pixels(page.size.1));
    importer.check_dimensions(path, w, h).map_err(|e| match e {
        DriverError::TooLarge { path, reason } => {
            DriverError::TooLarge { path, reason: format!("page {} rendered at {dpi:.0} dpi: {reason}", page.number) }
        }
        other => other,
    })?;
    let png = page.file.render(page.number, dpi, u64::from(w) * u64::from(h))?;
    let mut raw = importer.decode_image(path, png)?;
    raw.dpi = Dpi { x: dpi, y: dpi, stated: true };
    if read_text {
        raw.text = page.file.text(page.number, dpi)?;
    }
    Ok(raw)
}

/// Why a scan's image was not decoded here.
enum ScanFault {
    /// Its encoding is not one sohoa decodes, or lopdf cannot decode its data: Poppler renders it.
    Undecodable,
    /// It is refused: a limit, or damage that no reader could mend.
    Refused(DriverError),
}

impl From<DriverError> for ScanFault {
    fn from(e: DriverError) -> Self {
        ScanFault::Refused(e)
    }
}

/// What a refusal to decode a scan's stream means here: a limit stays a refusal, damage lopdf sees
/// is left to Poppler to judge.
fn stream_fault(path: &Path, r: Refusal) -> ScanFault {
    match r {
        Refusal::Damaged(_) => ScanFault::Undecodable,
        limit => ScanFault::Refused(refusal(path, limit)),
    }
}

/// Decodes a scan's image, page `number`, drawn at `dpi`.
fn decode_scan(
    importer: &FileImporter,
    path: &Path,
    number: usize,
    image: &Stream,
    dpi: Option<(f32, f32)>,
    budget: &DecodeBudget,
) -> Result<RawPage, ScanFault> {
    let dict = &image.dict;
    let (w, h) = (int(dict, b"Width").unwrap_or(0), int(dict, b"Height").unwrap_or(0));
    let (w, h) = (
        u32::try_from(w).map_err(|_| corrupt(path, format!("page {number}: image width {w}")))?,
        u32::try_from(h).map_err(|_| corrupt(path, format!("page {number}: image height {h}")))?,
    );
    importer.check_dimensions(path, w, h)?;
    let dpi = dpi.map_or(Dpi { x: importer.default_dpi(), y: importer.default_dpi(), stated: false }, |(x, y)| Dpi {
        x,
        y,
        stated: true,
    });
    let filters = filter_names(dict);
    let names: Vec<&[u8]> = filters.iter().map(Vec::as_slice).collect();
    let origin = format!("{} page {number}", path.display());
    match names.as_slice() {
        [transport @ .., b"DCTDecode"] => {
            // The JPEG as the scanner made it, byte for byte, once out of the lossless transport
            // filters some writers wrap it in (ASCII85, Flate).
            let jpeg = if transport.is_empty() {
                image.content.clone()
            } else {
                let mut outer = image.clone();
                let names = transport.iter().map(|n| Object::Name(n.to_vec())).collect::<Vec<_>>();
                outer.dict.set("Filter", names);
                if let Ok(Object::Array(params)) = dict.get(b"DecodeParms") {
                    outer.dict.set("DecodeParms", params[..params.len().saturating_sub(1)].to_vec());
                }
                // A JPEG is smaller than its samples; four bytes a pixel is more than any holds.
                let bound = u64::from(w) * u64::from(h) * 4 + IMAGE_SLACK as u64;
                budget
                    .decode(&outer, bound, "four bytes a pixel of its declared size", &format!("page {number}'s image"))
                    .map_err(|r| stream_fault(path, r))?
            };
            let mut raw = match importer.decode_image(path, jpeg) {
                Ok(raw) => raw,
                Err(e @ DriverError::TooLarge { .. }) => return Err(e.into()),
                // A JPEG the decoder does not read (arithmetic coding, 12 bits) may still be sound.
                Err(_) => return Err(ScanFault::Undecodable),
            };
            if dpi.stated {
                raw.dpi = dpi;
            }
            Ok(raw)
        }
        [b"CCITTFaxDecode"] => {
            let params = dict.get(b"DecodeParms").ok().and_then(|o| o.as_dict().ok());
            let k = params.and_then(|p| int(p, b"K")).unwrap_or(0);
            if k >= 0 {
                return Err(ScanFault::Undecodable);
            }
            let columns = params.and_then(|p| int(p, b"Columns")).unwrap_or(1728);
            let black_is_1 =
                params.and_then(|p| p.get(b"BlackIs1").ok()).and_then(|o| o.as_bool().ok()).unwrap_or(false);
            if columns != i64::from(w) || w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
                return Err(ScanFault::Undecodable);
            }
            let stride = (w as usize).div_ceil(8);
            budget
                .charge((stride * h as usize) as u64, &format!("page {number}'s image"))
                .map_err(|r| refusal(path, r))?;
            let mut bits = Vec::with_capacity(stride * h as usize);
            let decoded =
                fax::decoder::decode_g4(image.content.iter().copied(), w as u16, Some(h as u16), |transitions| {
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
                // The decoder sohoa links may fail where Poppler's reads the image, or says why not.
                return Err(ScanFault::Undecodable);
            }
            Ok(raw_page(origin, w, h, dpi, Samples::Bits(bits)))
        }
        [] | [b"FlateDecode"] | [b"LZWDecode"] => {
            let channels = components(dict).ok_or(ScanFault::Undecodable)?;
            let depth = int(dict, b"BitsPerComponent").unwrap_or(8);
            let row = match depth {
                1 | 8 | 16 => (w as usize * channels * depth as usize).div_ceil(8),
                _ => return Err(ScanFault::Undecodable),
            };
            let limit = row * h as usize;
            // The declared size bounds the decoding, with one byte a row for PNG predictors and a
            // little for encoders that pad the end.
            let bound = (limit + h as usize + IMAGE_SLACK) as u64;
            let data = budget
                .decode(image, bound, "what its declared size and depth need", &format!("page {number}'s image"))
                .map_err(|r| stream_fault(path, r))?;
            if data.len() < limit {
                return Err(corrupt(
                    path,
                    format!("page {number}: the image holds {} bytes of the {limit} its size needs", data.len()),
                )
                .into());
            }
            let inverted =
                matches!(dict.get(b"Decode"), Ok(Object::Array(d)) if d.first().and_then(operand) == Some(1.0));
            let rows = data.chunks_exact(row).take(h as usize);
            let samples = match (depth, channels) {
                // DeviceGray shows 0 as black; sohoa's line art sets a bit for black.
                (1, 1) => Samples::Bits(rows.flatten().map(|b| if inverted { *b } else { !b }).collect()),
                (1, _) => return Err(ScanFault::Undecodable),
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
        _ => Err(ScanFault::Undecodable),
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

    /// A born-digital page: Helvetica text over a small picture, on a page turned by `/Rotate`.
    fn born_digital(rotate: i64) -> Vec<u8> {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
        let image = doc.add_object(gray_image(20, 10));
        let text = "q 40 0 0 20 10 10 cm /Im0 Do Q BT /F1 14 Tf 10 40 Td (Hello born digital) Tj ET";
        let content = doc.add_object(Stream::new(dictionary! {}, text.as_bytes().to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 144.into(), 72.into()], "Rotate" => rotate,
            "Contents" => content, "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image }, "Font" => dictionary! { "F1" => font } },
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn a_born_digital_page_is_rendered_with_the_text_it_carries() {
        let importer = FileImporter::new(ImportLimits::default(), 300.0);
        let page = importer.pages(Path::new("digital.pdf"), born_digital(0)).unwrap()[0].decode().unwrap();
        // 2 by 1 inches at 300 dpi, as a PNG of the render.
        assert_eq!(page.pixels.dimensions(), (600, 300));
        assert_eq!((page.format, page.dpi.x, page.dpi.stated), (crate::SourceFormat::Png, 300.0, true));
        let text = page.text.expect("Helvetica's text is real Unicode text");
        let words: Vec<&str> = text.lines.iter().flatten().map(|w| w.text.as_str()).collect();
        assert_eq!(words, ["Hello", "born", "digital"]);
        // The baseline is 40 points up a 72-point page: the words' boxes end about 32 points down.
        let hello = &text.lines[0][0];
        assert!(hello.left.abs_diff(10 * 300 / 72) < 8, "{hello:?}");
        assert!((hello.top + hello.height).abs_diff(32 * 300 / 72) < 20, "{hello:?}");
    }

    #[test]
    fn a_page_turned_by_rotate_comes_out_as_shown_and_sideways_text_is_left_to_ocr() {
        let importer = FileImporter::new(ImportLimits::default(), 300.0);
        let page = importer.pages(Path::new("turned.pdf"), born_digital(90)).unwrap()[0].decode().unwrap();
        assert_eq!(page.pixels.dimensions(), (300, 600));
        assert_eq!(page.text, None, "the text runs top to bottom as the page is shown");
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
