//! PAdES B-B and B-T signatures (ETSI EN 319 142-1) on a PDF/A, as one incremental update: the
//! original bytes stay untouched, and the update adds page 1's visible blocks (where the page is
//! blank, or in a margin it adds above the page), the signature field and the signature itself, so
//! the result is still PDF/A-2b.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use chrono::{DateTime, FixedOffset};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat, dictionary};
use sha2::{Digest, Sha256};

use crate::appearance::{FontSubset, qr_code, text_block, text_string};
use crate::{PdfSigner, SignerError, TimestampAuthority};

/// Distance of the blocks from the page edges, in points.
const MARGIN: f32 = 14.0;
/// Width of the QR code, in points (about 25 mm).
const QR_SIZE: f32 = 72.0;
/// Blank paper kept between the blocks and the first ink of the page, in points (about 1.4 mm).
const CLEARANCE: f32 = 4.0;

/// What a signature says and shows.
#[derive(Debug, Clone)]
pub struct SignatureRequest {
    /// Who signs, as the signature dictionary's `/Name` (e.g. the agency's name).
    pub name: String,
    /// Why, e.g. "Chứng thực bản sao điện tử từ bản chính".
    pub reason: String,
    /// Where, e.g. the agency's address.
    pub location: String,
    /// When, written as `/M` (PAdES carries no signing-time attribute).
    pub time: DateTime<FixedOffset>,
    /// The operator's block, top-left of page 1 beside the QR code: name and scan time (R5).
    pub operator_block: Vec<String>,
    /// The agency's block, top-right of page 1, the signature's visible appearance: copy type,
    /// agency, signing time (R5). Text only.
    pub agency_block: Vec<String>,
    /// The QR code's content, top-left of page 1 (R6).
    pub qr_payload: String,
    /// The copy's verification link, also made a link annotation over the QR code: a reader can
    /// follow it from the file, and a verifier holding only the file finds it without reading the
    /// QR code's drawing.
    pub link: String,
    /// How far down from the top edge of page 1 its image holds no ink, in points: the blocks are
    /// drawn there when they fit, and otherwise in a margin added above the page by the update
    /// (enlarging page 1's boxes), so that they never cover the original. 0 when unknown.
    pub blank_top: f32,
}

/// What an incremental update needs of the PDF it extends, besides reading it once: the objects it
/// reads (the trailer, the catalog with its form, the page tree and page 1 with its resources,
/// boxes and annotations; content streams may be left out), the highest object number, the
/// offset of the last cross-reference section, and the file's length.
pub struct PdfBase<'a> {
    /// The objects, with the trailer and `max_id` of the whole file.
    pub objects: &'a Document,
    /// The file's length in bytes.
    pub len: u64,
    /// The offset of its last cross-reference section (`startxref`).
    pub startxref: u64,
}

/// Signs `pdf` with `signer`: PAdES B-B, or B-T when `tsa` timestamps the signature. Returns the
/// signed file.
pub fn sign_pdf(
    pdf: &[u8],
    request: &SignatureRequest,
    signer: &dyn PdfSigner,
    tsa: Option<&TimestampAuthority>,
) -> Result<Vec<u8>, SignerError> {
    let doc = Document::load_mem(pdf).map_err(|e| SignerError::Pdf(format!("cannot read the PDF to sign: {e}")))?;
    let base = PdfBase { objects: &doc, len: pdf.len() as u64, startxref: startxref(pdf)? as u64 };
    let update = sign_update(&base, &mut &pdf[..], request, signer, tsa)?;
    Ok([pdf, &update].concat())
}

/// Signs the PDF that `base` describes and `content` reads, from its first byte to its last, as
/// [`sign_pdf`] does; returns only the incremental update, to append to the file. The file is read
/// once, to hash it, and never held: a PDF of any size costs what its objects of `base` cost. A
/// reader that does not give exactly `base.len` bytes is refused.
pub fn sign_update(
    base: &PdfBase<'_>,
    content: &mut dyn Read,
    request: &SignatureRequest,
    signer: &dyn PdfSigner,
    tsa: Option<&TimestampAuthority>,
) -> Result<Vec<u8>, SignerError> {
    let doc = base.objects;
    let (mut hasher, last_byte) = hash_exactly(content, base.len)?;
    let root_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| SignerError::Pdf("the trailer has no /Root".into()))?;
    let page_id = *doc.get_pages().get(&1).ok_or_else(|| SignerError::Pdf("the PDF has no page".into()))?;
    let media =
        page_box(doc, page_id, b"MediaBox")?.ok_or_else(|| SignerError::Pdf("page 1 has no MediaBox".into()))?;

    let mut next_id = doc.max_id + 1;
    let mut take = || {
        next_id += 1;
        next_id - 1
    };
    let (stamp_id, appearance_id, widget_id, signature_id, open_id, close_id, link_id) =
        (take(), take(), take(), take(), take(), take(), take());
    let mut objects: Vec<(u32, Object)> = Vec::new();

    // The blocks go in a band along the top edge: within the page where its image is blank deep
    // enough, else in a margin added above it, so that they never cover the original.
    let mut font = FontSubset::new();
    let operator = text_block(&mut font, &request.operator_block);
    let agency = text_block(&mut font, &request.agency_block);
    let band = MARGIN + QR_SIZE.max(operator.height).max(agency.height) + CLEARANCE;
    let added = (band - request.blank_top.max(0.0)).max(0.0);
    let [left, bottom, right, top] = media;
    let top = top + added;

    // The QR code and the operator's block, drawn on page 1 as a form XObject.
    let mut stamp = qr_code(&request.qr_payload, left + MARGIN, top - MARGIN - QR_SIZE, QR_SIZE)?;
    let (x, y) = (left + MARGIN + QR_SIZE + 4.0, top - MARGIN - operator.height);
    stamp.push_str(&format!("q 1 0 0 1 {x:.2} {y:.2} cm\n{}Q\n", operator.content));
    // The agency's block: the signature widget's appearance, in its own coordinates.
    let agency_rect = [right - MARGIN - agency.width, top - MARGIN - agency.height, right - MARGIN, top - MARGIN];
    let mut font_next = next_id;
    let font_id = font.into_objects(&mut font_next, &mut objects)?;
    let font_resources = || dictionary! { "Font" => dictionary! { "F1" => Object::Reference((font_id, 0)) } };
    objects.push((stamp_id, form(stamp, [left, bottom, right, top], font_resources())));
    objects.push((appearance_id, form(agency.content, [0.0, 0.0, agency.width, agency.height], font_resources())));

    // Page 1: its content wrapped in q … Q so that nothing it leaves set moves the stamp, then the
    // stamp; the widget joins its annotations.
    let mut page = doc.get_dictionary(page_id).map_err(|e| SignerError::Pdf(format!("page 1: {e}")))?.clone();
    if added > 0.0 {
        // Every box of the page grows upwards by the added margin: the page's own content keeps its
        // coordinates, and a crop box does not hide the margin.
        for key in [&b"MediaBox"[..], b"CropBox", b"BleedBox", b"TrimBox", b"ArtBox"] {
            if let Some([x0, y0, x1, y1]) = page_box(doc, page_id, key)? {
                page.set(key, vec![Object::Real(x0), Object::Real(y0), Object::Real(x1), Object::Real(y1 + added)]);
            }
        }
    }
    let mut contents = vec![Object::Reference((open_id, 0))];
    match page.get(b"Contents") {
        Ok(Object::Array(parts)) => contents.extend(parts.iter().cloned()),
        Ok(part) => contents.push(part.clone()),
        Err(_) => {}
    }
    contents.push(Object::Reference((close_id, 0)));
    page.set("Contents", contents);
    objects.push((open_id, Object::Stream(Stream::new(Dictionary::new(), b"q\n".to_vec()))));
    objects.push((close_id, Object::Stream(Stream::new(Dictionary::new(), b"Q q /SohoaStamp Do Q\n".to_vec()))));
    let mut resources = match page.get(b"Resources") {
        Ok(Object::Reference(id)) => {
            doc.get_dictionary(*id).map_err(|e| SignerError::Pdf(format!("page 1 resources: {e}")))?.clone()
        }
        Ok(Object::Dictionary(d)) => d.clone(),
        _ => Dictionary::new(),
    };
    let mut xobjects = match resources.get(b"XObject") {
        Ok(Object::Reference(id)) => {
            doc.get_dictionary(*id).map_err(|e| SignerError::Pdf(format!("page 1 XObjects: {e}")))?.clone()
        }
        Ok(Object::Dictionary(d)) => d.clone(),
        _ => Dictionary::new(),
    };
    xobjects.set("SohoaStamp", Object::Reference((stamp_id, 0)));
    resources.set("XObject", xobjects);
    page.set("Resources", resources);
    let mut annotations = match page.get(b"Annots") {
        Ok(Object::Reference(id)) => doc
            .get_object(*id)
            .and_then(Object::as_array)
            .map_err(|e| SignerError::Pdf(format!("page 1 annotations: {e}")))?
            .clone(),
        Ok(Object::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    annotations.push(Object::Reference((widget_id, 0)));
    annotations.push(Object::Reference((link_id, 0)));
    page.set("Annots", annotations);
    objects.push((page_id.0, Object::Dictionary(page)));
    // PDF/A-2 allows a URI action, and needs the print flag; a link annotation needs no appearance.
    let qr_rect = [left + MARGIN, top - MARGIN - QR_SIZE, left + MARGIN + QR_SIZE, top - MARGIN];
    objects.push((
        link_id,
        Object::Dictionary(dictionary! {
            "Type" => "Annot",
            "Subtype" => "Link",
            "F" => 4,
            "Border" => vec![Object::Integer(0), Object::Integer(0), Object::Integer(0)],
            "Rect" => qr_rect.iter().map(|v| Object::Real(*v)).collect::<Vec<_>>(),
            "P" => Object::Reference(page_id),
            "A" => dictionary! { "S" => "URI", "URI" => Object::string_literal(request.link.as_str()) },
        }),
    ));

    // The signature field, merged with its widget; PDF/A wants the print flag and an appearance.
    let field_name = format!("Signature{}", count_signature_fields(doc) + 1);
    objects.push((
        widget_id,
        Object::Dictionary(dictionary! {
            "Type" => "Annot",
            "Subtype" => "Widget",
            "FT" => "Sig",
            "T" => Object::string_literal(field_name),
            "V" => Object::Reference((signature_id, 0)),
            "F" => 4,
            "Rect" => agency_rect.iter().map(|v| Object::Real(*v)).collect::<Vec<_>>(),
            "P" => Object::Reference(page_id),
            "AP" => dictionary! { "N" => Object::Reference((appearance_id, 0)) },
        }),
    ));
    let mut catalog = doc.get_dictionary(root_id).map_err(|e| SignerError::Pdf(format!("catalog: {e}")))?.clone();
    let mut form = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(id)) => {
            doc.get_dictionary(*id).map_err(|e| SignerError::Pdf(format!("AcroForm: {e}")))?.clone()
        }
        Ok(Object::Dictionary(d)) => d.clone(),
        _ => Dictionary::new(),
    };
    let mut fields = form.get(b"Fields").and_then(Object::as_array).cloned().unwrap_or_default();
    fields.push(Object::Reference((widget_id, 0)));
    form.set("Fields", fields);
    form.set("SigFlags", 3);
    catalog.set("AcroForm", form);
    objects.push((root_id.0, Object::Dictionary(catalog)));

    // The signature dictionary, with placeholders for /ByteRange and /Contents sized for the worst case.
    let reserved = signer
        .chain()
        .iter()
        .map(|c| der::Encode::encoded_len(c).map(u32::from).unwrap_or(4096) as usize)
        .sum::<usize>()
        + 4096
        + if tsa.is_some() { 12288 } else { 0 };
    let placeholder_range = Object::Array(vec![
        Object::Integer(0),
        Object::Integer(9_999_999_999),
        Object::Integer(9_999_999_999),
        Object::Integer(9_999_999_999),
    ]);
    let placeholder_contents = Object::String(vec![0; reserved], StringFormat::Hexadecimal);
    objects.push((
        signature_id,
        Object::Dictionary(dictionary! {
            "Type" => "Sig",
            "Filter" => "Adobe.PPKLite",
            "SubFilter" => "ETSI.CAdES.detached",
            "ByteRange" => placeholder_range.clone(),
            "Contents" => placeholder_contents.clone(),
            "M" => Object::string_literal(pdf_date(&request.time)),
            "Name" => text_string(&request.name),
            "Reason" => text_string(&request.reason),
            "Location" => text_string(&request.location),
        }),
    ));

    // The update, at the file's end; offsets in the file are `at` plus offsets in `out`.
    let mut out = Vec::new();
    if last_byte != Some(b'\n') {
        out.push(b'\n');
    }
    let at = base.len as usize;
    let objects: BTreeMap<u32, Object> = objects.into_iter().collect();
    let size = objects.keys().max().map_or(doc.max_id, |m| (*m).max(doc.max_id)) + 1;
    let mut offsets = BTreeMap::new();
    for (id, object) in &objects {
        offsets.insert(*id, at + out.len());
        writeln!(out, "{id} 0 obj").expect("writing to memory");
        lopdf::Writer::write_object(&mut out, object).map_err(|e| SignerError::Pdf(e.to_string()))?;
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = at + out.len();
    out.extend_from_slice(b"xref\n");
    let ids: Vec<u32> = offsets.keys().copied().collect();
    for run in ids.chunk_by(|a, b| b == &(a + 1)) {
        writeln!(out, "{} {}", run[0], run.len()).expect("writing to memory");
        for id in run {
            writeln!(out, "{:010} 00000 n ", offsets[id]).expect("writing to memory");
        }
    }
    let mut trailer = dictionary! {
        "Size" => i64::from(size),
        "Root" => Object::Reference(root_id),
        "Prev" => base.startxref as i64,
    };
    for key in [&b"Info"[..], b"ID"] {
        if let Ok(value) = doc.trailer.get(key) {
            trailer.set(key, value.clone());
        }
    }
    out.extend_from_slice(b"trailer\n");
    lopdf::Writer::write_object(&mut out, &Object::Dictionary(trailer)).map_err(|e| SignerError::Pdf(e.to_string()))?;
    write!(out, "\nstartxref\n{xref}\n%%EOF\n").expect("writing to memory");

    // Fill in the byte range, hash everything but /Contents, sign, and write the CMS in. The
    // placeholders are looked for in the signature dictionary only, which the update writes last
    // but for its cross-reference section: a page dictionary before it may hold any text.
    let signature_at = offsets[&signature_id] - at;
    let contents_at = signature_at + find_in(&out[signature_at..], &serialized(&placeholder_contents)?)?;
    let contents_end = contents_at + 2 + 2 * reserved;
    let range_text = serialized(&placeholder_range)?;
    let range_at = signature_at + find_in(&out[signature_at..], &range_text)?;
    let range = format!("[0 {} {} {}", at + contents_at, at + contents_end, out.len() - contents_end);
    let mut filled = range.into_bytes();
    filled.resize(range_text.len() - 1, b' ');
    filled.push(b']');
    out[range_at..range_at + range_text.len()].copy_from_slice(&filled);
    hasher.update(&out[..contents_at]);
    hasher.update(&out[contents_end..]);
    let cms = crate::cms::sign_digest(&hasher.finalize().into(), signer, tsa)?;
    if cms.len() > reserved {
        return Err(SignerError::Pdf(format!(
            "the signature ({} bytes) is larger than the {reserved} bytes reserved for it",
            cms.len()
        )));
    }
    let hex: String = cms.iter().map(|b| format!("{b:02X}")).collect();
    out[contents_at + 1..contents_at + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(out)
}

/// The SHA-256 state of exactly `len` bytes of `content`, and the last of them.
fn hash_exactly(content: &mut dyn Read, len: u64) -> Result<(Sha256, Option<u8>), SignerError> {
    let unreadable = |e: std::io::Error| SignerError::Pdf(format!("cannot read the PDF to sign: {e}"));
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 << 10];
    let (mut read, mut last) = (0u64, None);
    loop {
        let n = match content.read(&mut buffer) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(unreadable(e)),
        };
        if n == 0 {
            break;
        }
        read += n as u64;
        if read > len {
            return Err(SignerError::Pdf(format!("the PDF to sign is longer than the {len} bytes described")));
        }
        hasher.update(&buffer[..n]);
        last = Some(buffer[n - 1]);
    }
    if read != len {
        return Err(SignerError::Pdf(format!("the PDF to sign has {read} bytes, not the {len} described")));
    }
    Ok((hasher, last))
}

fn form(content: String, bbox: [f32; 4], resources: Dictionary) -> Object {
    Object::Stream(
        Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Form",
                "BBox" => bbox.iter().map(|v| Object::Real(*v)).collect::<Vec<_>>(),
                "Resources" => resources,
            },
            content.into_bytes(),
        )
        .with_compression(true),
    )
}

fn serialized(object: &Object) -> Result<Vec<u8>, SignerError> {
    let mut bytes = Vec::new();
    lopdf::Writer::write_object(&mut bytes, object).map_err(|e| SignerError::Pdf(e.to_string()))?;
    Ok(bytes)
}

fn find_in(haystack: &[u8], needle: &[u8]) -> Result<usize, SignerError> {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .ok_or_else(|| SignerError::Pdf("the signature placeholder was not written as expected".into()))
}

/// The offset of the last cross-reference section, from the `startxref` at the end of the file.
pub(crate) fn startxref(pdf: &[u8]) -> Result<usize, SignerError> {
    let tail = &pdf[pdf.len().saturating_sub(1024)..];
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| SignerError::Pdf("no startxref at the end of the file".into()))?;
    std::str::from_utf8(&tail[at + 9..])
        .ok()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| SignerError::Pdf("startxref is not followed by an offset".into()))
}

/// A box of a page (`/MediaBox`, `/CropBox`…) as [left, bottom, right, top], from the page or, for
/// the inheritable ones, from its ancestors.
fn page_box(doc: &Document, page: ObjectId, key: &[u8]) -> Result<Option<[f32; 4]>, SignerError> {
    let inheritable = key == b"MediaBox" || key == b"CropBox";
    let mut node = doc.get_dictionary(page).map_err(|e| SignerError::Pdf(format!("page 1: {e}")))?;
    loop {
        if let Ok(value) = node.get(key) {
            let corners = doc
                .dereference(value)
                .ok()
                .and_then(|(_, v)| v.as_array().ok())
                .map(|a| a.iter().filter_map(|o| o.as_float().ok()).collect::<Vec<_>>());
            return match corners.as_deref() {
                Some(&[x0, y0, x1, y1]) => Ok(Some([x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)])),
                _ => Err(SignerError::Pdf(format!("page 1's /{} is not a rectangle", String::from_utf8_lossy(key)))),
            };
        }
        let Ok(parent) = node.get(b"Parent").and_then(Object::as_reference) else { return Ok(None) };
        if !inheritable {
            return Ok(None);
        }
        node = doc.get_dictionary(parent).map_err(|e| SignerError::Pdf(format!("page tree: {e}")))?;
    }
}

fn count_signature_fields(doc: &Document) -> usize {
    doc.objects
        .values()
        .filter(|o| o.as_dict().is_ok_and(|d| d.get(b"FT").and_then(Object::as_name).is_ok_and(|n| n == b"Sig")))
        .count()
}

/// `D:YYYYMMDDHHmmSS+07'00'`, the PDF date form.
fn pdf_date(time: &DateTime<FixedOffset>) -> String {
    let offset = time.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs();
    format!("D:{}{sign}{:02}'{:02}'", time.format("%Y%m%d%H%M%S"), offset / 3600, offset % 3600 / 60)
}
