//! Assembles the document PDF: each page is its image, drawn at the scan's physical size, with the
//! recognised words laid over it in invisible text (render mode 3) so that viewers can search and
//! copy them and `pdftotext` reads them back.
//!
//! The text uses Tesseract's approach: a Type0 font over a CIDFontType2 whose every code maps to one
//! empty glyph of the glyphless font, codes being the UTF-16 code units of the text and a ToUnicode
//! map giving them back. Each word is stretched horizontally to cover its box, so that selection in a
//! viewer lands on the printed word.

use std::io::Write;

use domain::{BlobHash, DocumentCode, DocumentMetadata};
use flate2::{Compression, write::ZlibEncoder};
use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat, dictionary};
use scanner_driver::{Pixels, SourceFormat};

use crate::{CaptureError, CapturedPage, PageText};

/// The key in the PDF's document information dictionary that carries the document code, so that a PDF
/// file on its own can be matched to its archive record when it is verified.
pub const DOCUMENT_CODE_KEY: &str = "SohoaDocumentCode";

/// Prefix of the document information keys that carry the R3 fields.
const INFO_FIELD_PREFIX: &str = "Sohoa_";

/// The producer named in the document information and the XMP, which must agree.
const PRODUCER: &str = concat!("sohoa ", env!("CARGO_PKG_VERSION"));

/// Advance of the glyphless font's single glyph, in thousandths of the font size.
const GLYPH_ADVANCE: f32 = 500.0;

/// The sRGB profile of the output intent: the ICC's own sRGB v2 profile, which may be embedded
/// without restriction (see `data/sRGB2014.icc.LICENSE`).
const SRGB_ICC: &[u8] = include_bytes!("../data/sRGB2014.icc");

/// Objects before the pages: the page tree's root, then the glyphless font's six.
const PAGES_ID: u32 = 1;
const FONT_OBJECTS: u32 = 6;
/// The first object of page 1; page n has three from here: its image, its content and itself.
const FIRST_PAGE_ID: u32 = PAGES_ID + FONT_OBJECTS + 1;
const PER_PAGE: u32 = 3;

/// Writes the PDF/A-2b of a document as its pages come, in any order, to `W` (a file of the
/// archive's spool): each page's image and text go out when the page is read, so that only one
/// page is ever held, whatever the document's length. What stays in memory is the page
/// dictionaries, the objects' offsets and the image hashes; [`finish`](Self::finish) writes the
/// page tree, the catalog, the metadata and the cross-reference table after them.
///
/// The text uses Tesseract's approach (see the module's documentation); object numbers are laid
/// out in advance, so that a page's objects can be written before the pages ahead of it are read.
pub struct PdfWriter<W: Write> {
    out: W,
    written: u64,
    /// Offset of each object, by number (0 unused until written).
    offsets: Vec<u64>,
    /// Every dictionary of the file that is not a stream: what signing reads to append to it.
    skeleton: Document,
    font_id: ObjectId,
    /// BLAKE3 of each page's image, by page number, once it is written.
    pages: Vec<Option<BlobHash>>,
}

/// A finished PDF: where it went, and what an incremental update needs of it (see `signer::PdfBase`).
pub struct WrittenPdf<W> {
    /// Where it was written.
    pub out: W,
    /// Its dictionaries (catalog, page tree, pages, fonts, information) with its trailer and
    /// highest object number: the file without its streams.
    pub skeleton: Document,
    /// Its length in bytes; it ends with an end of line.
    pub len: u64,
    /// The offset of its cross-reference table.
    pub startxref: u64,
}

impl<W: Write> PdfWriter<W> {
    /// Starts the PDF of a document of `pages` pages: its header and its font.
    pub(crate) fn start(out: W, pages: u32, glyphless_font: &[u8]) -> Result<Self, CaptureError> {
        if pages == 0 {
            return Err(CaptureError::Pdf("a document has at least one page".into()));
        }
        let max_id = FIRST_PAGE_ID + PER_PAGE * pages + 3;
        let mut skeleton = Document::with_version("1.7");
        skeleton.max_id = max_id;
        let mut writer = PdfWriter {
            out,
            written: 0,
            offsets: vec![0; max_id as usize + 1],
            skeleton,
            font_id: (PAGES_ID + FONT_OBJECTS, 0),
            pages: vec![None; pages as usize],
        };
        // The binary comment tells transfer programs that the file is binary (PDF/A-2 6.1.2).
        writer.raw(b"%PDF-1.7\n%\xBB\xAD\xC0\xDE\n")?;
        writer.font(glyphless_font)?;
        Ok(writer)
    }

    /// Writes page `page.number`: its image over the archived image's own compressed data, and
    /// its words in invisible text.
    pub fn add(&mut self, page: &CapturedPage) -> Result<(), CaptureError> {
        let number = page.number;
        let slot = number
            .checked_sub(1)
            .and_then(|i| self.pages.get_mut(i as usize))
            .ok_or_else(|| CaptureError::Pdf(format!("page {number} is not a page of this document")))?;
        if slot.replace(page.image_hash).is_some() {
            return Err(CaptureError::Pdf(format!("page {number} was written twice")));
        }
        let first = FIRST_PAGE_ID + PER_PAGE * (number - 1);
        let (image_id, content_id, page_id) = ((first, 0), (first + 1, 0), (first + 2, 0));
        let (image_dict, image_data) = image_xobject(page)?;
        self.stream(image_id.0, image_dict, &image_data)?;
        drop(image_data);
        let (w, h) = page.size;
        let (pt_w, pt_h) = (w as f32 * 72.0 / page.dpi.x, h as f32 * 72.0 / page.dpi.y);
        let content = deflate(&page_content(pt_w, pt_h, 72.0 / page.dpi.x, 72.0 / page.dpi.y, &page.text))?;
        self.stream(content_id.0, dictionary! { "Filter" => "FlateDecode" }, &content)?;
        let dict = dictionary! {
            "Type" => "Page",
            "Parent" => (PAGES_ID, 0),
            "MediaBox" => vec![0.into(), 0.into(), real(pt_w), real(pt_h)],
            "Contents" => content_id,
            "Resources" => dictionary! {
                "XObject" => dictionary! { "Im0" => image_id },
                "Font" => dictionary! { "F0" => self.font_id },
            },
        };
        self.object(page_id.0, Object::Dictionary(dict))
    }

    /// Writes what follows the pages: the page tree, the XMP metadata, the output intent's profile,
    /// the catalog, the document information with `code` and `metadata`, and the cross-reference
    /// table with the trailer. Every page must have been written.
    pub fn finish(mut self, code: &DocumentCode, metadata: &DocumentMetadata) -> Result<WrittenPdf<W>, CaptureError> {
        let mut hashes = Vec::with_capacity(self.pages.len());
        for (number, page) in self.pages.iter().enumerate() {
            hashes.push(page.ok_or_else(|| CaptureError::Pdf(format!("page {} was never written", number + 1)))?);
        }
        let count = hashes.len() as u32;
        let kids: Vec<Object> = (0..count).map(|i| Object::Reference((FIRST_PAGE_ID + PER_PAGE * i + 2, 0))).collect();
        self.object(
            PAGES_ID,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => i64::from(count) }),
        )?;
        let after = FIRST_PAGE_ID + PER_PAGE * count;
        let (xmp_id, icc_id, catalog_id, info_id) = (after, after + 1, after + 2, after + 3);
        // PDF/A wants the XMP readable by tools that do not parse PDF filters: it is not compressed.
        self.stream(xmp_id, dictionary! { "Type" => "Metadata", "Subtype" => "XML" }, xmp(code, metadata).as_bytes())?;
        self.stream(icc_id, dictionary! { "N" => 3, "Filter" => "FlateDecode" }, &deflate(SRGB_ICC)?)?;
        let catalog = dictionary! {
            "Type" => "Catalog",
            "Pages" => (PAGES_ID, 0),
            "Metadata" => (xmp_id, 0),
            "Lang" => Object::string_literal("vi-VN"),
            "OutputIntents" => vec![Object::Dictionary(dictionary! {
                "Type" => "OutputIntent",
                "S" => "GTS_PDFA1",
                "OutputConditionIdentifier" => Object::string_literal("sRGB IEC61966-2.1"),
                "RegistryName" => Object::string_literal("http://www.color.org"),
                "Info" => Object::string_literal("sRGB IEC61966-2.1"),
                "DestOutputProfile" => (icc_id, 0),
            })],
        };
        self.object(catalog_id, Object::Dictionary(catalog))?;
        self.object(info_id, Object::Dictionary(info(code, metadata)))?;
        let id = file_id(code, &hashes);
        let trailer = dictionary! {
            "Size" => i64::from(info_id + 1),
            "Root" => (catalog_id, 0),
            "Info" => (info_id, 0),
            "ID" => vec![Object::String(id.clone(), StringFormat::Hexadecimal), Object::String(id, StringFormat::Hexadecimal)],
        };
        let startxref = self.written;
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", info_id + 1);
        for (number, offset) in self.offsets.iter().enumerate().skip(1) {
            if *offset == 0 {
                return Err(CaptureError::Pdf(format!("object {number} was never written")));
            }
            table.push_str(&format!("{offset:010} 00000 n \n"));
        }
        table.push_str("trailer\n");
        self.raw(table.as_bytes())?;
        let mut bytes = Vec::new();
        lopdf::Writer::write_object(&mut bytes, &Object::Dictionary(trailer.clone())).map_err(pdf_error)?;
        bytes.extend_from_slice(format!("\nstartxref\n{startxref}\n%%EOF\n").as_bytes());
        self.raw(&bytes)?;
        self.out.flush().map_err(pdf_error)?;
        self.skeleton.trailer = trailer;
        Ok(WrittenPdf { out: self.out, skeleton: self.skeleton, len: self.written, startxref })
    }

    /// The glyphless Type0 font of the text layer, objects 2 to 7.
    fn font(&mut self, glyphless_font: &[u8]) -> Result<(), CaptureError> {
        let [cid_to_gid_id, font_file_id, descriptor_id, cid_font_id, to_unicode_id, type0_id] =
            std::array::from_fn(|i| PAGES_ID + 1 + i as u32);
        debug_assert_eq!((type0_id, 0), self.font_id);
        // Every CID maps to glyph 1, the font's one (empty) glyph.
        let cid_to_gid: Vec<u8> = std::iter::repeat_n([0u8, 1u8], 65536).flatten().collect();
        self.stream(cid_to_gid_id, dictionary! { "Filter" => "FlateDecode" }, &deflate(&cid_to_gid)?)?;
        self.stream(
            font_file_id,
            dictionary! { "Length1" => glyphless_font.len() as i64, "Filter" => "FlateDecode" },
            &deflate(glyphless_font)?,
        )?;
        self.object(
            descriptor_id,
            Object::Dictionary(dictionary! {
                "Type" => "FontDescriptor",
                "FontName" => "GlyphLessFont",
                "Flags" => 5,
                "FontBBox" => vec![0.into(), 0.into(), (GLYPH_ADVANCE as i64).into(), 1000.into()],
                "ItalicAngle" => 0,
                "Ascent" => 1000,
                "Descent" => 0,
                "CapHeight" => 1000,
                "StemV" => 80,
                "FontFile2" => (font_file_id, 0),
            }),
        )?;
        self.object(
            cid_font_id,
            Object::Dictionary(dictionary! {
                "Type" => "Font",
                "Subtype" => "CIDFontType2",
                "BaseFont" => "GlyphLessFont",
                "CIDSystemInfo" => dictionary! {
                    "Registry" => Object::string_literal("Adobe"),
                    "Ordering" => Object::string_literal("Identity"),
                    "Supplement" => 0,
                },
                "FontDescriptor" => (descriptor_id, 0),
                "DW" => GLYPH_ADVANCE as i64,
                "CIDToGIDMap" => (cid_to_gid_id, 0),
            }),
        )?;
        self.stream(to_unicode_id, dictionary! { "Filter" => "FlateDecode" }, &deflate(to_unicode_cmap().as_bytes())?)?;
        self.object(
            type0_id,
            Object::Dictionary(dictionary! {
                "Type" => "Font",
                "Subtype" => "Type0",
                "BaseFont" => "GlyphLessFont",
                "Encoding" => "Identity-H",
                "DescendantFonts" => vec![Object::Reference((cid_font_id, 0))],
                "ToUnicode" => (to_unicode_id, 0),
            }),
        )
    }

    /// Writes object `id`, a dictionary or another object without a stream, and keeps it for the
    /// skeleton.
    fn object(&mut self, id: u32, object: Object) -> Result<(), CaptureError> {
        let mut bytes = format!("{id} 0 obj\n").into_bytes();
        lopdf::Writer::write_object(&mut bytes, &object).map_err(pdf_error)?;
        bytes.extend_from_slice(b"\nendobj\n");
        self.at(id)?;
        self.raw(&bytes)?;
        self.skeleton.objects.insert((id, 0), object);
        Ok(())
    }

    /// Writes stream object `id`: `dict` with the data's length, then the data as it is.
    fn stream(&mut self, id: u32, mut dict: Dictionary, data: &[u8]) -> Result<(), CaptureError> {
        dict.set("Length", data.len() as i64);
        let mut head = format!("{id} 0 obj\n").into_bytes();
        lopdf::Writer::write_object(&mut head, &Object::Dictionary(dict)).map_err(pdf_error)?;
        head.extend_from_slice(b"\nstream\n");
        self.at(id)?;
        self.raw(&head)?;
        self.raw(data)?;
        self.raw(b"\nendstream\nendobj\n")
    }

    /// Notes that object `id` starts here.
    fn at(&mut self, id: u32) -> Result<(), CaptureError> {
        match self.offsets.get_mut(id as usize) {
            Some(offset) if *offset == 0 => {
                *offset = self.written;
                Ok(())
            }
            _ => Err(CaptureError::Pdf(format!("object {id} is out of place or written twice"))),
        }
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<(), CaptureError> {
        self.out.write_all(bytes).map_err(pdf_error)?;
        self.written += bytes.len() as u64;
        Ok(())
    }
}

fn pdf_error(e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Pdf(format!("cannot write the PDF: {e}"))
}

/// The raw (still encoded) bytes of each page's image stream, in page order, for verification. Only
/// PDFs that sohoa assembled have the layout this expects.
pub fn image_streams(pdf: &[u8]) -> Result<Vec<Vec<u8>>, CaptureError> {
    let doc = Document::load_mem(pdf).map_err(|e| CaptureError::Pdf(format!("cannot parse the PDF: {e}")))?;
    let mut out = Vec::new();
    for (number, page_id) in doc.get_pages() {
        let missing = || CaptureError::Pdf(format!("page {number} has no image /Im0"));
        let page = doc.get_dictionary(page_id).map_err(|_| missing())?;
        let image_ref = page
            .get(b"Resources")
            .and_then(Object::as_dict)
            .and_then(|r| r.get(b"XObject"))
            .and_then(Object::as_dict)
            .and_then(|x| x.get(b"Im0"))
            .and_then(Object::as_reference)
            .map_err(|_| missing())?;
        let stream = doc.get_object(image_ref).and_then(Object::as_stream).map_err(|_| missing())?;
        out.push(stream.content.clone());
    }
    Ok(out)
}

fn real(v: f32) -> Object {
    Object::Real(v)
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, CaptureError> {
    let mut enc = ZlibEncoder::new(Vec::with_capacity(data.len() / 4), Compression::new(6));
    enc.write_all(data).and_then(|_| enc.finish()).map_err(|e| CaptureError::Pdf(format!("compression failed: {e}")))
}

/// A PDF text string in UTF-16BE with a byte-order mark, the form that carries Vietnamese.
fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
    Object::String(bytes, StringFormat::Hexadecimal)
}

/// Whether a delivered image can go into the PDF exactly as it is: a JPEG whose components match its
/// pixels, or a plain PNG (8-bit gray or RGB, not interlaced) whose compressed data becomes the image
/// stream. Anything else is re-encoded first, in the same family of encoding.
pub(crate) fn embeds_as_is(format: SourceFormat, bytes: &[u8], components: u8, pixels: &Pixels) -> bool {
    let expected = pixels.components();
    match format {
        SourceFormat::Jpeg => components == expected,
        SourceFormat::Png => png_layout(bytes).is_some_and(|l| l.components == expected),
    }
}

/// The bytes of a page's image stream: a JPEG as it is (DCTDecode), a PNG's concatenated IDAT data
/// (FlateDecode with the PNG predictors), so that the PDF holds the archived image's own compressed
/// data, never a second compression of it.
pub(crate) fn image_stream_data(format: SourceFormat, bytes: &[u8]) -> Result<Vec<u8>, CaptureError> {
    match format {
        SourceFormat::Jpeg => Ok(bytes.to_vec()),
        SourceFormat::Png => png_layout(bytes)
            .map(|l| l.data)
            .ok_or_else(|| CaptureError::Pdf("a page PNG is not 8-bit gray or RGB without interlacing".into())),
    }
}

/// What the PDF needs of a plain PNG.
struct PngLayout {
    components: u8,
    data: Vec<u8>,
}

/// Reads the chunks of a PNG: `None` unless it is 8-bit gray (colour type 0) or RGB (2), not
/// interlaced, with its IDAT data.
fn png_layout(bytes: &[u8]) -> Option<PngLayout> {
    let mut rest = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n")?;
    let mut components = None;
    let mut data = Vec::new();
    while rest.len() >= 12 {
        let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
        let kind = &rest[4..8];
        let body = rest.get(8..8 + len)?;
        match kind {
            b"IHDR" if body.len() == 13 => {
                let (depth, colour, interlace) = (body[8], body[9], body[12]);
                components = match (depth, colour, interlace) {
                    (8, 0, 0) => Some(1),
                    (8, 2, 0) => Some(3),
                    _ => return None,
                };
            }
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        rest = rest.get(12 + len..)?;
    }
    Some(PngLayout { components: components?, data })
}

/// The page image as an image XObject's dictionary and data: the archived image's own compressed
/// data.
fn image_xobject(page: &CapturedPage) -> Result<(Dictionary, Vec<u8>), CaptureError> {
    let (w, h) = page.size;
    let space = if page.components == 1 { "DeviceGray" } else { "DeviceRGB" };
    let mut dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => w as i64,
        "Height" => h as i64,
        "BitsPerComponent" => 8,
        "ColorSpace" => space,
    };
    match page.format {
        SourceFormat::Jpeg => dict.set("Filter", "DCTDecode"),
        SourceFormat::Png => {
            dict.set("Filter", "FlateDecode");
            dict.set(
                "DecodeParms",
                dictionary! { "Predictor" => 15, "Colors" => page.components as i64, "BitsPerComponent" => 8, "Columns" => w as i64 },
            );
        }
    }
    Ok((dict, image_stream_data(page.format, &page.image)?))
}

/// The content stream of one page: the image over the whole page, then the words in invisible text.
/// `sx` and `sy` convert pixels to points.
fn page_content(pt_w: f32, pt_h: f32, sx: f32, sy: f32, text: &PageText) -> Vec<u8> {
    let mut out = format!("q\n{pt_w:.3} 0 0 {pt_h:.3} 0 0 cm\n/Im0 Do\nQ\n");
    if !text.lines.is_empty() {
        out.push_str("BT\n3 Tr\n");
        for line in &text.lines {
            let size = (line.height as f32 * sy).max(1.0);
            // The line box runs from ascender to descender; the baseline sits about a fifth of the
            // height above its bottom.
            let baseline = pt_h - (line.top + line.height) as f32 * sy + 0.2 * size;
            out.push_str(&format!("/F0 {size:.2} Tf\n"));
            for (i, word) in line.words.iter().enumerate() {
                // A word carries the space that follows it, and stretches to reach the next word, so
                // that text extraction sees one space between words and none inside them.
                let next = line.words.get(i + 1);
                let mut chars = word.text.clone();
                let width_px = match next {
                    Some(n) => {
                        chars.push(' ');
                        n.left.saturating_sub(word.left).max(word.width)
                    }
                    None => word.width,
                };
                let units: Vec<u16> =
                    chars.chars().map(|c| if (c as u32) < 0x10000 { c as u16 } else { 0xFFFD }).collect();
                let natural = units.len() as f32 * GLYPH_ADVANCE / 1000.0 * size;
                let stretch = if natural > 0.0 { 100.0 * width_px as f32 * sx / natural } else { 100.0 };
                let hex: String = units.iter().map(|u| format!("{u:04X}")).collect();
                out.push_str(&format!(
                    "1 0 0 1 {:.2} {:.2} Tm\n{stretch:.2} Tz\n<{hex}> Tj\n",
                    word.left as f32 * sx,
                    baseline
                ));
            }
        }
        out.push_str("ET\n");
    }
    out.into_bytes()
}

/// Maps every two-byte code to the same UTF-16 code unit, in ranges of 256 codes (a range may only
/// vary in its last byte) and blocks of at most 100 entries, as the CMap format requires.
fn to_unicode_cmap() -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // Surrogate code units (D800-DFFF) never occur alone in the text layer, so they are left out.
    let highs: Vec<u32> = (0u32..=0xFF).filter(|h| !(0xD8..=0xDF).contains(h)).collect();
    for block in highs.chunks(100) {
        cmap.push_str(&format!("{} beginbfrange\n", block.len()));
        for h in block {
            cmap.push_str(&format!("<{h:02X}00> <{h:02X}FF> <{h:02X}00>\n"));
        }
        cmap.push_str("endbfrange\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

fn pdf_date(t: chrono::DateTime<chrono::FixedOffset>) -> Object {
    let offset = t.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
    Object::string_literal(format!("D:{}{sign}{h:02}'{m:02}'", t.format("%Y%m%d%H%M%S")))
}

fn info(code: &DocumentCode, m: &DocumentMetadata) -> Dictionary {
    let mut info = dictionary! {
        "Title" => text_string(m.name()),
        "Author" => text_string(m.operator()),
        "Creator" => Object::string_literal("sohoa"),
        "Producer" => Object::string_literal(PRODUCER),
        "CreationDate" => pdf_date(m.captured_at()),
        "ModDate" => pdf_date(m.captured_at()),
        DOCUMENT_CODE_KEY => Object::string_literal(code.to_string()),
    };
    if let Some(summary) = m.summary() {
        info.set("Subject", text_string(summary));
    }
    // Every R3 field under its canonical name, so that the file alone carries its whole record.
    for (name, value) in m.canonical_fields() {
        if !value.is_empty() {
            info.set(format!("{INFO_FIELD_PREFIX}{name}"), text_string(&value));
        }
    }
    info
}

/// Escapes text for XML content.
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The XMP metadata: PDF/A-2b identification, the XMP properties that mirror the document information
/// dictionary (PDF/A requires them to agree), and the R3 fields in Dublin Core terms: identifier (the
/// document code), title, description (summary), publisher (issuing body), date (issue date), type
/// (document type), source (number and symbol), coverage (validity), and relations to the owner, the
/// dossier and the procedure. Only predefined schemas are used, since PDF/A validators reject or ignore
/// extension schemas; every R3 field is also in the document information under its canonical name.
fn xmp(code: &DocumentCode, m: &DocumentMetadata) -> String {
    let created = m.captured_at().to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let e = xml_escape;
    let lang_alt = |tag: &str, value: &str| {
        format!("<{tag}><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></{tag}>", e(value))
    };
    let list = |tag: &str, kind: &str, values: &[String]| {
        let items: String = values.iter().map(|v| format!("<rdf:li>{}</rdf:li>", e(v))).collect();
        format!("<{tag}><rdf:{kind}>{items}</rdf:{kind}></{tag}>")
    };
    let mut dc =
        format!("<dc:format>application/pdf</dc:format><dc:identifier>{}</dc:identifier>", e(&code.to_string()));
    dc.push_str(&lang_alt("dc:title", m.name()));
    dc.push_str(&list("dc:creator", "Seq", &[m.operator().to_owned()]));
    dc.push_str(&list("dc:type", "Bag", &[m.doc_type().to_string()]));
    let fields = m.canonical_fields();
    let validity = fields.iter().find(|(name, _)| *name == "validity").map(|(_, v)| v.as_str()).unwrap_or_default();
    dc.push_str(&format!("<dc:coverage>{}</dc:coverage>", e(validity)));
    if let Some(summary) = m.summary() {
        dc.push_str(&lang_alt("dc:description", summary));
    }
    if let Some(body) = m.issuing_body() {
        dc.push_str(&list("dc:publisher", "Bag", &[body.to_owned()]));
    }
    if let Some(date) = m.issue_date() {
        dc.push_str(&list("dc:date", "Seq", &[date.to_string()]));
    }
    if let Some(number) = m.number_symbol() {
        dc.push_str(&format!("<dc:source>{}</dc:source>", e(number)));
    }
    let relations: Vec<String> = [
        m.owner().map(|o| format!("owner:{o}")),
        m.dossier().map(|d| format!("dossier:{d}")),
        m.procedure().map(|p| format!("procedure:{p}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !relations.is_empty() {
        dc.push_str(&list("dc:relation", "Bag", &relations));
    }
    format!(
        "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
         <rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>\n\
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">{dc}</rdf:Description>\n\
         <rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"><xmp:CreatorTool>sohoa</xmp:CreatorTool>\
         <xmp:CreateDate>{created}</xmp:CreateDate><xmp:ModifyDate>{created}</xmp:ModifyDate><xmp:MetadataDate>{created}</xmp:MetadataDate></rdf:Description>\n\
         <rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\"><pdf:Producer>{PRODUCER}</pdf:Producer></rdf:Description>\n\
         </rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>"
    )
}

/// The trailer's file identifier: a digest of the code and the page images, so that two different
/// documents never share one.
fn file_id(code: &DocumentCode, pages: &[BlobHash]) -> Vec<u8> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(code.to_string().as_bytes());
    for page in pages {
        hasher.update(page.as_bytes());
    }
    hasher.finalize().as_bytes()[..16].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Correction, Line, TextSource, Word};

    fn page(number: u32) -> CapturedPage {
        // The image stream is the JPEG's bytes as they are, so any bytes stand for one here.
        let image = format!("image of page {number}").into_bytes();
        let word =
            |text: &str, left| Word { text: text.into(), left, top: 100, width: 80, height: 30, confidence: 95.0 };
        CapturedPage {
            number,
            image_hash: BlobHash::of(&image),
            stream_hash: BlobHash::of(&image),
            image,
            format: SourceFormat::Jpeg,
            components: 1,
            size: (2480, 3508),
            dpi: scanner_driver::Dpi { x: 300.0, y: 300.0, stated: true },
            correction: Correction::default(),
            text: PageText {
                lines: vec![Line {
                    top: 100,
                    height: 30,
                    words: vec![word("Trang", 100), word(&number.to_string(), 200)],
                }],
            },
            text_source: TextSource::Ocr,
            flags: Vec::new(),
            blank_top: 0,
        }
    }

    fn document() -> (DocumentCode, DocumentMetadata) {
        let metadata = DocumentMetadata::new(domain::MetadataDraft {
            doc_type: "HS".parse().unwrap(),
            owner: Some("001099012345".parse().unwrap()),
            name: "Hồ sơ".into(),
            number_symbol: None,
            issue_date: None,
            issuing_body: None,
            summary: None,
            validity: domain::Validity::Permanent,
            validity_scope: None,
            dossier: None,
            procedure: None,
            operator: "Nguyễn Văn An".into(),
            captured_at: domain::vietnam_now(),
        })
        .unwrap();
        let code = DocumentCode::new(metadata.owner().cloned(), metadata.doc_type().clone(), None).unwrap();
        (code, metadata)
    }

    #[test]
    fn pages_written_in_the_order_they_are_read_come_out_in_page_order() {
        let (code, metadata) = document();
        let mut writer = PdfWriter::start(Vec::new(), 3, b"a font").unwrap();
        for number in [3, 1, 2] {
            writer.add(&page(number)).unwrap();
        }
        let written = writer.finish(&code, &metadata).unwrap();
        assert_eq!(written.len, written.out.len() as u64);
        assert!(written.out.ends_with(b"%%EOF\n"));
        let images = image_streams(&written.out).unwrap();
        assert_eq!(images, [page(1).image, page(2).image, page(3).image]);
        // The file parses by its cross-reference table, which the skeleton agrees with.
        let doc = Document::load_mem(&written.out).unwrap();
        assert_eq!(doc.max_id, written.skeleton.max_id);
        assert_eq!(doc.trailer.get(b"Root").unwrap(), written.skeleton.trailer.get(b"Root").unwrap());
        assert_eq!(doc.get_pages(), written.skeleton.get_pages());
        let first = doc.get_pages()[&1];
        assert_eq!(doc.get_dictionary(first).unwrap(), written.skeleton.get_dictionary(first).unwrap());
        assert!(!written.skeleton.objects.values().any(|o| o.as_stream().is_ok()), "no stream is kept");
        let startxref = &written.out[written.startxref as usize..];
        assert!(startxref.starts_with(b"xref\n0 "));
    }

    #[test]
    fn a_page_twice_a_stranger_page_or_a_missing_page_is_refused() {
        let (code, metadata) = document();
        let mut writer = PdfWriter::start(Vec::new(), 2, b"a font").unwrap();
        writer.add(&page(1)).unwrap();
        assert!(writer.add(&page(1)).unwrap_err().to_string().contains("page 1 was written twice"));
        assert!(writer.add(&page(3)).unwrap_err().to_string().contains("page 3 is not a page of this document"));
        assert!(writer.add(&page(0)).is_err());
        let e = writer.finish(&code, &metadata).err().unwrap().to_string();
        assert!(e.contains("page 2 was never written"), "{e}");
        assert!(PdfWriter::start(Vec::new(), 0, b"a font").is_err());
    }

    #[test]
    fn cmap_ranges_stay_within_one_high_byte_and_100_entries() {
        let cmap = to_unicode_cmap();
        assert!(cmap.contains("<1E00> <1EFF> <1E00>")); // Vietnamese precomposed letters
        assert!(!cmap.contains("<D800>"));
        for header in cmap.lines().filter(|l| l.ends_with("beginbfrange")) {
            let n: usize = header.split(' ').next().unwrap().parse().unwrap();
            assert!(n <= 100);
        }
    }
}
