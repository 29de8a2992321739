//! Malformed and hostile files: each is refused with an error, none panics, and none makes the
//! importer allocate more than it may (decompression bombs are refused on their header, before any
//! pixel buffer exists). A test binary of its own, because it watches every allocation of the
//! process through a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use sohoa_scanner_driver::{FileImporter, ImportLimits};

/// The system allocator, keeping the largest single allocation made since the last reset.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

#[test]
fn a_40000_by_40000_png_is_refused_before_decoding_allocates_it() {
    // A valid 1x1 PNG whose header is rewritten to declare 40,000 x 40,000 pixels (1.6 GB of gray).
    let mut bytes = Vec::new();
    image::GrayImage::from_pixel(1, 1, image::Luma([200]))
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes[16..20].copy_from_slice(&40_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&40_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());

    let importer = FileImporter::new(ImportLimits::default(), 300.0);
    LARGEST.store(0, Ordering::Relaxed);
    let e = importer.pages(Path::new("huge.png"), bytes).and_then(|p| p[0].decode()).unwrap_err().to_string();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(e.contains("huge.png") && e.contains("refused before decoding") && e.contains("40000"), "{e}");
    assert!(largest < 1 << 20, "the refusal allocated {largest} bytes at once");
}

/// Splits and decodes every page, catching a panic so that the test can name the input that caused it.
fn import_all(name: &str, bytes: Vec<u8>) -> Result<usize, String> {
    let importer = FileImporter::new(ImportLimits { max_pixels: 50_000_000, ..ImportLimits::default() }, 300.0);
    let outcome = std::panic::catch_unwind(|| -> Result<usize, sohoa_scanner_driver::DriverError> {
        let pages = importer.pages(Path::new(name), bytes)?;
        for page in &pages {
            page.decode()?;
        }
        Ok(pages.len())
    });
    match outcome {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => panic!("{name}: the importer panicked"),
    }
}

fn png_of(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::GrayImage::from_fn(w, h, |x, y| image::Luma([(x * 7 + y * 3) as u8]))
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

fn jpeg_of(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90]))
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg)
        .unwrap();
    bytes
}

fn tiff_of(pages: usize, w: u32, h: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut enc = tiff::encoder::TiffEncoder::new(&mut out).unwrap();
    for _ in 0..pages {
        enc.write_image::<tiff::encoder::colortype::Gray8>(w, h, &vec![128; (w * h) as usize]).unwrap();
    }
    out.into_inner()
}

/// A one-page PDF drawing an image stream with this dictionary and data, or drawing only text.
fn pdf_of(image: Option<(lopdf::Dictionary, Vec<u8>)>) -> Vec<u8> {
    page_of(image, &[0, 0, 595, 842], None)
}

/// A one-page PDF of these content operations (raw), on a page of this media box.
fn raw_page_of(content: Vec<u8>, media_box: &[i64], user_unit: Option<f32>) -> Vec<u8> {
    page_of(None, media_box, Some((content, user_unit)))
}

/// A one-page PDF: an image drawn over the page, text, or raw content, on a page of this media box.
fn page_of(
    image: Option<(lopdf::Dictionary, Vec<u8>)>,
    media_box: &[i64],
    raw: Option<(Vec<u8>, Option<f32>)>,
) -> Vec<u8> {
    use lopdf::{Document, Object, Stream, content::Content, content::Operation, dictionary};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let (ops, resources) = match image {
        Some((dict, data)) => {
            let id = doc.add_object(Stream::new(dict, data));
            (
                vec![
                    Operation::new("cm", vec![595.into(), 0.into(), 0.into(), 842.into(), 0.into(), 0.into()]),
                    Operation::new("Do", vec!["Im0".into()]),
                ],
                dictionary! { "XObject" => dictionary! { "Im0" => id } },
            )
        }
        None => (
            vec![
                Operation::new("BT", vec![]),
                Operation::new("Tj", vec![Object::string_literal("born digital")]),
                Operation::new("ET", vec![]),
            ],
            dictionary! {},
        ),
    };
    let (content, user_unit) = match raw {
        Some((content, user_unit)) => (content, user_unit),
        None => (Content { operations: ops }.encode().unwrap(), None),
    };
    let content = doc.add_object(Stream::new(dictionary! {}, content));
    let media_box: Vec<Object> = media_box.iter().map(|&v| v.into()).collect();
    let page = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "MediaBox" => media_box, "Contents" => content, "Resources" => resources });
    if let Some(unit) = user_unit {
        doc.get_dictionary_mut(page).unwrap().set("UserUnit", unit);
    }
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

fn gray_dict(w: i64, h: i64, filter: Option<&str>) -> lopdf::Dictionary {
    let mut d = lopdf::dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => w, "Height" => h, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 };
    if let Some(f) = filter {
        d.set("Filter", lopdf::Object::Name(f.as_bytes().to_vec()));
    }
    d
}

/// The malformed corpus: each entry must be refused, with a message containing the given words.
fn malformed() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let truncate = |mut b: Vec<u8>| {
        b.truncate(b.len() / 2);
        b
    };
    let mut zero_page_tiff = tiff_of(1, 4, 4);
    // The first directory's offset pointing past the end of the file: no page can be read.
    zero_page_tiff[4..8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let mut huge_tiff = tiff_of(1, 4, 4);
    // The first directory starts at the offset in bytes 4..8 with its entry count; its first entry
    // is ImageWidth (256), rewritten as a LONG of 4 billion pixels.
    let ifd = u32::from_le_bytes(huge_tiff[4..8].try_into().unwrap()) as usize + 2;
    assert_eq!(huge_tiff[ifd..ifd + 2], [0x00, 0x01], "ImageWidth comes first");
    huge_tiff[ifd + 2..ifd + 12].copy_from_slice(&[4, 0, 1, 0, 0, 0, 0, 0x28, 0x6b, 0xee]);
    let mut huge_jpeg = jpeg_of(8, 8);
    let sof = huge_jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline frame header");
    huge_jpeg[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    let no_pages_pdf = {
        let text =
            String::from_utf8_lossy(&pdf_of(None)).replace("/Count 1", "/Count 0").replace("/Kids[", "/Kids[ ]/Old[");
        text.into_bytes()
    };
    vec![
        ("truncated.png", truncate(png_of(300, 300)), "damaged"),
        ("truncated.jpg", truncate(jpeg_of(300, 300)), "damaged"),
        ("truncated.tif", truncate(tiff_of(2, 300, 300)), "TIFF"),
        ("truncated.pdf", truncate(pdf_of(Some((gray_dict(64, 64, None), vec![7; 64 * 64])))), "PDF"),
        ("zero-pages.tif", zero_page_tiff, "TIFF"),
        ("zero-pages.pdf", no_pages_pdf, "no pages"),
        ("huge.tif", huge_tiff, "exceeds the limit"),
        ("huge.jpg", huge_jpeg, "exceeds the limit"),
        (
            "huge.pdf",
            pdf_of(Some((gray_dict(40_000, 40_000, Some("FlateDecode")), vec![0x78, 0x9c, 0x03, 0x00]))),
            "exceeds the limit",
        ),
        ("short-image.pdf", pdf_of(Some((gray_dict(64, 64, None), vec![7; 100]))), "bytes of the"),
        ("wrong-magic.png", b"GIF89a not what the name says".to_vec(), "not a PNG, JPEG, TIFF or PDF"),
        // Text shown before any font is chosen: Poppler, which renders a page sohoa cannot take
        // as one image, says what is wrong.
        ("no-font.pdf", pdf_of(None), "No font in show"),
        ("jbig2.pdf", pdf_of(Some((gray_dict(64, 64, Some("JBIG2Decode")), vec![0; 16]))), "JBIG2"),
        // Renderer bombs: pages asking for a render of billions of pixels, by their size or by
        // their user unit, are refused before Poppler runs.
        (
            "huge-page.pdf",
            raw_page_of(b"0 0 m 10 10 l S".to_vec(), &[0, 0, 14_400, 14_400], None),
            "rendered at 300 dpi: width in pixels 60000 exceeds the limit",
        ),
        (
            "user-unit.pdf",
            raw_page_of(b"0 0 m 10 10 l S".to_vec(), &[0, 0, 595, 842], Some(75.0)),
            "rendered at 300 dpi: width in pixels 185938 exceeds the limit",
        ),
        // A content stream nested a hundred thousand levels deep (arrays in arrays).
        ("empty.tif", Vec::new(), "empty"),
    ]
}

#[test]
fn every_malformed_file_gets_an_error_that_says_what_is_wrong() {
    for (name, bytes, expected) in malformed() {
        LARGEST.store(0, Ordering::Relaxed);
        let e = match import_all(name, bytes) {
            Ok(pages) => panic!("{name} was accepted as {pages} pages"),
            Err(e) => e,
        };
        assert!(e.contains(name) && e.contains(expected), "{name}: {e}");
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(largest < 1 << 30, "{name}: allocated {largest} bytes at once");
    }
}

#[test]
fn mutated_files_never_panic_nor_allocate_a_gibibyte() {
    // Deterministic mutations of valid files of every format: flipped bytes, overwritten runs,
    // cut tails. Whatever the importer makes of them, it returns.
    let seeds = [
        ("seed.png", png_of(64, 48)),
        ("seed.jpg", jpeg_of(64, 48)),
        ("seed.tif", tiff_of(3, 32, 24)),
        ("seed.pdf", pdf_of(Some((gray_dict(32, 24, None), vec![9; 32 * 24])))),
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    LARGEST.store(0, Ordering::Relaxed);
    for round in 0..600 {
        for (name, seed) in &seeds {
            let mut bytes = seed.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => bytes[at] ^= 1 << (next() % 8),
                    1 => bytes[at..].iter_mut().take(4).for_each(|b| *b = 0xff),
                    _ => bytes.truncate(at.max(1)),
                }
            }
            let _ = import_all(&format!("{round}-{name}"), bytes);
        }
    }
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest < 1 << 30, "a mutated file made the importer allocate {largest} bytes at once");
}

#[test]
fn deeply_nested_pages_are_rendered_within_the_renderers_bounds() {
    // Arrays nested a hundred thousand deep, and a hundred thousand graphics states saved and never
    // restored: Poppler is the one to parse them, in a process of its own under its limits, and
    // what comes back is an ordinary A4 page image.
    let nested = [b"[".repeat(100_000), b"]".repeat(100_000), b" pop".to_vec()].concat();
    let states = b"q 0 0 m 9 9 l S ".repeat(100_000);
    for (name, content) in [("nested.pdf", nested), ("states.pdf", states)] {
        LARGEST.store(0, Ordering::Relaxed);
        let importer = FileImporter::new(ImportLimits::default(), 300.0);
        let pages = importer.pages(Path::new(name), raw_page_of(content, &[0, 0, 595, 842], None)).unwrap();
        let page = pages[0].decode().unwrap();
        assert_eq!(page.pixels.dimensions(), (2480, 3509), "{name}");
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(largest < 1 << 30, "{name}: allocated {largest} bytes at once");
    }
}

#[test]
fn a_render_past_its_time_is_stopped_and_refused() {
    // No time at all: the renderer is stopped by its CPU limit or killed at its deadline, whichever
    // comes first, and the page is refused as too much to render.
    let importer = FileImporter::new(ImportLimits { max_render_seconds: 0, ..ImportLimits::default() }, 300.0);
    let pages = importer.pages(Path::new("slow.pdf"), raw_page_of(b"0 0 m 9 9 l S".to_vec(), &[0, 0, 595, 842], None));
    let e = pages.unwrap()[0].decode().unwrap_err();
    assert!(matches!(e, sohoa_scanner_driver::DriverError::TooLarge { .. }), "{e}");
    assert!(
        e.to_string().contains("slow.pdf: refused before decoding: page 1: pdftoppm")
            && e.to_string().contains("renderer"),
        "{e}"
    );
}

#[test]
fn the_pages_of_one_file_share_a_time_limit() {
    // Each page of this file would be allowed a minute, but the file as a whole nothing at all: the
    // first page's render is already past it.
    let limits = ImportLimits { max_render_file_seconds: 0, ..ImportLimits::default() };
    let importer = FileImporter::new(limits, 300.0);
    let pages = importer.pages(Path::new("many.pdf"), raw_page_of(b"0 0 m 9 9 l S".to_vec(), &[0, 0, 595, 842], None));
    let e = pages.unwrap()[0].decode().unwrap_err().to_string();
    assert!(
        e.contains("many.pdf: refused before decoding: page 1: rendering this file has taken more than 0 seconds in all (max_render_file_seconds)"),
        "{e}"
    );
}
