//! Every PDF a citizen brings: born-digital files from several producers (Chromium, Ghostscript,
//! cairo, ReportLab with a form and annotations), a mixed scanned-and-digital file, a page turned by
//! `/Rotate`, scans in encodings the importer leaves to Poppler (JBIG2, JPEG 2000, indexed and ICC
//! colour) and a JPEG scan behind Flate, which it takes out as it is, all from `tests/data/pdf` (made by `scripts/make_test_pdfs.py`). Each is
//! captured by `sohoa ingest`, verifies, keeps its original file as a blob of the record, and is found
//! by the words it holds; a bag carries the original to another appliance.

use std::path::PathBuf;

use crate::util::{Sohoa, assert_pdfa, open_archive, repo};

/// A file of `tests/data/pdf`.
fn test_pdf(name: &str) -> PathBuf {
    let path = repo().join("tests/data/pdf").join(name);
    assert!(path.is_file(), "test PDF {name} is missing: no file {}", path.display());
    path
}

/// What one file must become.
struct Expected {
    file: &'static str,
    /// Words search must find the document by.
    words: &'static [&'static str],
    /// The pages whose text is the file's own rather than OCR's.
    text_pages: &'static [u32],
}

const FILES: [Expected; 10] = [
    Expected { file: "chromium.pdf", words: &["kết hôn", "Điện Biên"], text_pages: &[1] },
    Expected { file: "ghostscript.pdf", words: &["Ghostscript", "sideways"], text_pages: &[1, 2] },
    Expected { file: "cairo.pdf", words: &["thường trú"], text_pages: &[1] },
    Expected { file: "form.pdf", words: &["biểu mẫu", "Cổng Dịch vụ công"], text_pages: &[1] },
    Expected { file: "mixed.pdf", words: &["hộ tịch", "NAFOSTED", "dán vào trang"], text_pages: &[1] },
    Expected { file: "jbig2.pdf", words: &["NAFOSTED"], text_pages: &[] },
    Expected { file: "jpx.pdf", words: &["NAFOSTED"], text_pages: &[] },
    Expected { file: "flate-dct.pdf", words: &["NAFOSTED"], text_pages: &[] },
    Expected { file: "indexed.pdf", words: &["NAFOSTED"], text_pages: &[] },
    Expected { file: "icc.pdf", words: &["NAFOSTED"], text_pages: &[] },
];

#[test]
fn pdfs_of_every_kind_are_captured_verify_keep_their_original_and_are_found_by_their_text() {
    let s = Sohoa::new();
    let mut codes = Vec::new();
    for expected in &FILES {
        let path = test_pdf(expected.file);
        let out = s.ok(&[
            "ingest",
            "--owner",
            "001099012345",
            "--type",
            "HS",
            "--name",
            "Hồ sơ nộp trực tuyến",
            path.to_str().unwrap(),
        ]);
        let code = out.lines().last().expect("ingest prints the code").to_owned();
        let report = s.ok(&["verify", &code]);
        assert!(report.trim_end().ends_with("\nvalid"), "{}: {report}", expected.file);
        codes.push(code);
    }

    for (expected, code) in FILES.iter().zip(&codes) {
        for word in expected.words {
            let hits = s.ok(&["search", word]);
            assert!(hits.contains(code.as_str()), "{}: search {word:?} did not find {code}: {hits}", expected.file);
        }
    }

    let archive = open_archive(&s.data());
    for (expected, code) in FILES.iter().zip(&codes) {
        let record = archive.record(&code.parse().unwrap()).unwrap().unwrap();
        let bytes = std::fs::read(test_pdf(expected.file)).unwrap();
        let [original] = record.originals.as_slice() else {
            panic!("{}: one original file expected: {:?}", expected.file, record.originals)
        };
        assert_eq!(
            (original.name.as_str(), original.size, original.blob),
            (expected.file, bytes.len() as u64, domain::BlobHash::of(&bytes)),
            "{}",
            expected.file
        );
        assert_eq!(
            archive.read_blob(&original.blob).unwrap(),
            bytes,
            "{}: the original is kept byte for byte",
            expected.file
        );
        let all: Vec<u32> = (1..=record.pages.len() as u32).collect();
        assert_eq!(
            (original.pages.as_slice(), original.text_pages.as_slice()),
            (all.as_slice(), expected.text_pages),
            "{}",
            expected.file
        );
    }

    // The page turned by /Rotate is archived upright: as tall as A4 at 300 dpi, not as wide.
    let turned = archive.record(&codes[1].parse().unwrap()).unwrap().unwrap();
    assert_eq!(turned.pages[1].size, (2480, 3509), "{:?}", turned.pages[1]);
    // In the mixed file, the page that is one JPEG scan (ASCII85 over DCT, as ReportLab writes it) is
    // archived as that JPEG; the rendered pages are PNG at 300 dpi. Flate over DCT is a JPEG too.
    let mixed = archive.record(&codes[4].parse().unwrap()).unwrap().unwrap();
    let mimes: Vec<&str> = mixed.pages.iter().map(|p| p.mime.as_str()).collect();
    assert_eq!(mimes, ["image/png", "image/jpeg", "image/png"]);
    assert_eq!(mixed.pages[0].dpi, (300.0, 300.0));
    let flate_dct = archive.record(&codes[7].parse().unwrap()).unwrap().unwrap();
    assert_eq!(flate_dct.pages[0].mime, "image/jpeg");
    drop(archive);

    // A born-digital page's own text is the PDF/A's text layer, and the PDF/A is valid.
    let pdf = s.dir.path().join("chromium-archived.pdf");
    s.ok(&["get", &codes[0], "-o", pdf.to_str().unwrap()]);
    let layer = crate::util::ocr_layer(&pdf, 1);
    assert!(layer.contains("Giấy xác nhận tình trạng hôn") && layer.contains("Nguyễn Văn An"), "{layer}");
    assert_pdfa(&pdf);

    // Fixity covers the originals with the rest.
    let fixity = s.ok(&["fixity"]);
    assert!(fixity.trim_end().ends_with("intact"), "{fixity}");

    // A bag carries the original file, and the appliance that imports it keeps it too.
    let bag = s.dir.path().join("bag");
    s.ok(&["export", &codes[4], "-o", bag.to_str().unwrap()]);
    let bagged = std::fs::read(bag.join("data").join(&codes[4]).join("original-001")).unwrap();
    assert_eq!(bagged, std::fs::read(test_pdf("mixed.pdf")).unwrap());
    let other = Sohoa::new();
    let config = other.dir.path().join("sohoa.toml");
    let anchor = s.data().join("keys/x509/development-root.pem");
    std::fs::write(&config, format!("[signature]\ntrust_anchors = [{:?}]\n", anchor.to_str().unwrap())).unwrap();
    let key = std::fs::read_to_string(s.data().join("keys/current")).unwrap().trim().to_owned();
    other.ok(&["--config", config.to_str().unwrap(), "import", "--trust-key", &key, bag.to_str().unwrap()]);
    let imported = open_archive(&other.data()).record(&codes[4].parse().unwrap()).unwrap().unwrap();
    assert_eq!(imported.originals, mixed.originals);
}
