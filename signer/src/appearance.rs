//! What a signed copy shows on page 1 (R5, R6): text blocks in DejaVu Sans, embedded as a subset
//! because PDF/A embeds every font it uses, and the QR code drawn as vector squares.

use std::collections::BTreeMap;
use std::fmt::Write;

use lopdf::{Dictionary, Object, Stream, StringFormat, dictionary};

use crate::SignerError;

static FONT: &[u8] = include_bytes!("../data/DejaVuSans.ttf");

/// Font size of the blocks, in points.
pub(crate) const FONT_SIZE: f32 = 7.0;
/// Distance between baselines, in points.
pub(crate) const LEADING: f32 = 8.5;
/// Inner margin of a block, in points.
pub(crate) const PADDING: f32 = 3.0;

/// The glyphs used so far, for one subset of DejaVu Sans.
pub(crate) struct FontSubset {
    face: ttf_parser::Face<'static>,
    remapper: subsetter::GlyphRemapper,
    /// New glyph id → (advance in font units, the text it shows).
    glyphs: BTreeMap<u16, (u16, char)>,
}

impl FontSubset {
    pub(crate) fn new() -> Self {
        let face = ttf_parser::Face::parse(FONT, 0).expect("the bundled font parses");
        FontSubset { face, remapper: subsetter::GlyphRemapper::new(), glyphs: BTreeMap::new() }
    }

    /// The string of 2-byte glyph codes that shows `text`, and its width at `size` points.
    /// Characters the font lacks show as its missing-glyph box.
    pub(crate) fn encode(&mut self, text: &str, size: f32) -> (Vec<u8>, f32) {
        let mut codes = Vec::with_capacity(text.len() * 2);
        let mut units = 0u32;
        for c in text.chars() {
            let old = self.face.glyph_index(c).map_or(0, |g| g.0);
            let advance = self.face.glyph_hor_advance(ttf_parser::GlyphId(old)).unwrap_or(0);
            let new = self.remapper.remap(old);
            self.glyphs.entry(new).or_insert((advance, c));
            codes.extend_from_slice(&new.to_be_bytes());
            units += u32::from(advance);
        }
        (codes, units as f32 * size / f32::from(self.face.units_per_em()))
    }

    /// The Type0 font object and its descendants, added to `objects` with ids from `next_id`.
    pub(crate) fn into_objects(self, next_id: &mut u32, objects: &mut Vec<(u32, Object)>) -> Result<u32, SignerError> {
        let subset = subsetter::subset(FONT, 0, &self.remapper)
            .map_err(|e| SignerError::Pdf(format!("font subsetting failed: {e:?}")))?;
        let scale = 1000.0 / f32::from(self.face.units_per_em());
        let mut take = || {
            *next_id += 1;
            *next_id - 1
        };
        let (file_id, descriptor_id, cid_id, unicode_id, font_id) = (take(), take(), take(), take(), take());
        let name = format!("{}+DejaVuSans", subset_tag(&subset));
        let widths: Vec<Object> = self
            .glyphs
            .iter()
            .flat_map(|(gid, (advance, _))| {
                [Object::Integer(i64::from(*gid)), Object::Array(vec![Object::Real(f32::from(*advance) * scale)])]
            })
            .collect();
        let bbox = self.face.global_bounding_box();
        let length = subset.len() as i64;
        objects.push((
            file_id,
            Object::Stream(Stream::new(dictionary! { "Length1" => length }, subset).with_compression(true)),
        ));
        objects.push((
            descriptor_id,
            Object::Dictionary(dictionary! {
                "Type" => "FontDescriptor",
                "FontName" => Object::Name(name.clone().into_bytes()),
                "Flags" => 32,
                "FontBBox" => vec![bbox.x_min, bbox.y_min, bbox.x_max, bbox.y_max].into_iter().map(|v| Object::Real(f32::from(v) * scale)).collect::<Vec<_>>(),
                "ItalicAngle" => 0,
                "Ascent" => Object::Real(f32::from(self.face.ascender()) * scale),
                "Descent" => Object::Real(f32::from(self.face.descender()) * scale),
                "CapHeight" => Object::Real(f32::from(self.face.capital_height().unwrap_or(self.face.ascender())) * scale),
                "StemV" => 80,
                "FontFile2" => Object::Reference((file_id, 0)),
            }),
        ));
        objects.push((
            cid_id,
            Object::Dictionary(dictionary! {
                "Type" => "Font",
                "Subtype" => "CIDFontType2",
                "BaseFont" => Object::Name(name.clone().into_bytes()),
                "CIDSystemInfo" => dictionary! {
                    "Registry" => Object::string_literal("Adobe"),
                    "Ordering" => Object::string_literal("Identity"),
                    "Supplement" => 0,
                },
                "FontDescriptor" => Object::Reference((descriptor_id, 0)),
                "CIDToGIDMap" => "Identity",
                "W" => widths,
            }),
        ));
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def /CMapType 2 def 1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
        );
        let entries: Vec<_> = self.glyphs.iter().collect();
        for chunk in entries.chunks(100) {
            let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
            for (gid, (_, c)) in chunk {
                let utf16: String = c.encode_utf16(&mut [0; 2]).iter().map(|u| format!("{u:04X}")).collect();
                let _ = writeln!(cmap, "<{gid:04X}> <{utf16}>");
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap CMapName currentdict /CMap defineresource pop end end\n");
        objects.push((
            unicode_id,
            Object::Stream(Stream::new(Dictionary::new(), cmap.into_bytes()).with_compression(true)),
        ));
        objects.push((
            font_id,
            Object::Dictionary(dictionary! {
                "Type" => "Font",
                "Subtype" => "Type0",
                "BaseFont" => Object::Name(name.into_bytes()),
                "Encoding" => "Identity-H",
                "DescendantFonts" => vec![Object::Reference((cid_id, 0))],
                "ToUnicode" => Object::Reference((unicode_id, 0)),
            }),
        ));
        Ok(font_id)
    }
}

/// Six capital letters derived from the subset's bytes, as PDF names subsets (ISO 32000-1 9.6.4).
fn subset_tag(subset: &[u8]) -> String {
    blake3::hash(subset).as_bytes()[..6].iter().map(|b| char::from(b'A' + b % 26)).collect()
}

/// A block of text lines laid out from its top-left corner: its content stream and its size.
pub(crate) struct TextBlock {
    pub content: String,
    pub width: f32,
    pub height: f32,
}

/// Lays out `lines` with a thin frame; the content draws the block with its lower-left corner at
/// the origin, with font resource `/F1`.
pub(crate) fn text_block(font: &mut FontSubset, lines: &[String]) -> TextBlock {
    let encoded: Vec<(Vec<u8>, f32)> = lines.iter().map(|l| font.encode(l, FONT_SIZE)).collect();
    let width = encoded.iter().map(|(_, w)| *w).fold(0.0, f32::max) + 2.0 * PADDING;
    let height = lines.len() as f32 * LEADING + 2.0 * PADDING;
    let mut content = format!(
        "q 0 0 0.55 RG 0.6 w 0.3 0.3 {:.2} {:.2} re S Q\nBT /F1 {FONT_SIZE} Tf 0 g\n",
        width - 0.6,
        height - 0.6
    );
    for (i, (codes, _)) in encoded.iter().enumerate() {
        let baseline = height - PADDING - (i as f32 + 1.0) * LEADING + 2.0;
        let hex: String = codes.iter().map(|b| format!("{b:02X}")).collect();
        let _ = writeln!(content, "1 0 0 1 {:.2} {baseline:.2} Tm <{hex}> Tj", PADDING);
    }
    content.push_str("ET\n");
    TextBlock { content, width, height }
}

/// A QR code as its rows' runs of dark modules: what both drawings of it (the PDF's squares, a page's
/// SVG) are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrRuns {
    /// Modules on a side, without the quiet zone.
    pub modules: usize,
    /// Each run of dark modules: its row, its first column and its length, rows from the top.
    pub runs: Vec<(usize, usize, usize)>,
}

/// The QR code of `payload` (ISO/IEC 18004, error correction M), as runs of dark modules.
pub fn qr_runs(payload: &str) -> Result<QrRuns, SignerError> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M).map_err(|e| {
        SignerError::Pdf(format!("the QR payload ({} bytes) does not fit a QR code: {e}", payload.len()))
    })?;
    let modules = code.width();
    let colors = code.to_colors();
    let dark = |row: usize, col: usize| colors[row * modules + col] == qrcode::Color::Dark;
    let mut runs = Vec::new();
    for row in 0..modules {
        let mut col = 0;
        while col < modules {
            if dark(row, col) {
                let start = col;
                while col < modules && dark(row, col) {
                    col += 1;
                }
                runs.push((row, start, col - start));
            } else {
                col += 1;
            }
        }
    }
    Ok(QrRuns { modules, runs })
}

/// The QR code of `payload` as filled squares on a white quiet zone, `size` points wide, lower-left
/// corner at (`x`, `y`).
pub(crate) fn qr_code(payload: &str, x: f32, y: f32, size: f32) -> Result<String, SignerError> {
    let QrRuns { modules, runs } = qr_runs(payload)?;
    // Four modules of quiet zone on each side, as the standard asks.
    let unit = size / (modules + 8) as f32;
    let mut content = format!("q 1 g {x:.2} {y:.2} {size:.2} {size:.2} re f 0 g\n");
    for (row, start, length) in runs {
        let top = y + size - (row + 4) as f32 * unit;
        let _ = writeln!(
            content,
            "{:.3} {:.3} {:.3} {unit:.3} re",
            x + (start + 4) as f32 * unit,
            top - unit,
            length as f32 * unit
        );
    }
    content.push_str("f Q\n");
    Ok(content)
}

/// A text string for a PDF dictionary: UTF-16BE with a byte-order mark, so Vietnamese survives.
pub(crate) fn text_string(text: &str) -> Object {
    let mut bytes = vec![0xfe, 0xff];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}
