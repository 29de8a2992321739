//! The one real path: ingest two corpus pages → search with and without diacritics → get → verify
//! (by code and as a file) → tamper → verify fails and names what failed.

use crate::cer::cer;
use crate::util::{Sohoa, assert_pdfa, corpus, ground_truth, ocr_layer};

const PAGES: [&str; 2] = ["clean300-001.png", "clean300-002.png"];

#[test]
fn ingest_search_get_verify_and_detect_tampering() {
    let s = Sohoa::new();
    let (p1, p2) = (corpus(PAGES[0]), corpus(PAGES[1]));
    let out = s.ok(&[
        "ingest",
        "--owner",
        "001099012345",
        "--type",
        "GPXD",
        "--name",
        "Giấy phép xây dựng",
        "--number",
        "123/GPXD-UBND",
        "--issued",
        "2024-03-01",
        "--issuer",
        "UBND quận Ba Đình",
        p1.to_str().unwrap(),
        p2.to_str().unwrap(),
    ]);
    let code = out.lines().last().expect("ingest prints the code").to_owned();
    assert_eq!(code, "001099012345.GPXD.01");

    // The name and the OCR text are both found, with and without diacritics.
    for query in ["giấy phép", "giay phep", "Cổng Dịch vụ công Quốc gia", "cong dich vu cong quoc gia"] {
        let hits = s.ok(&["search", query]);
        assert!(hits.contains(&code), "search {query:?} did not find {code}: {hits:?}");
    }
    assert!(!s.ok(&["search", "xyzzy không tồn tại"]).contains(&code));

    // The PDF comes back exactly as archived, and its text layer holds each page's text.
    let pdf = s.dir.path().join("out.pdf");
    s.ok(&["get", &code, "-o", pdf.to_str().unwrap()]);
    for (i, page) in PAGES.iter().enumerate() {
        let text = ocr_layer(&pdf, i as u32 + 1);
        let rate = cer(&ground_truth(page), &text);
        assert!(rate < 0.02, "page {} text layer CER {:.2}% >= 2%:\n{text}", i + 1, rate * 100.0);
    }
    assert_pdfa(&pdf);

    // The OCR text is kept in the archive, page by page.
    let text = s.ok(&["text", &code]);
    assert!(text.contains("--- page 2 ---") && text.contains("Cổng Dịch vụ công"), "{text}");

    // The evidence bundle: the record with its seals, the log proof and the public keys, to check the
    // document without this appliance.
    let evidence = s.dir.path().join("evidence.json");
    s.ok(&["evidence", &code, "-o", evidence.to_str().unwrap()]);
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&evidence).unwrap()).unwrap();
    assert_eq!((bundle["code"].as_str(), bundle["proof_verifies"].as_bool()), (Some(code.as_str()), Some(true)));
    assert_eq!(bundle["record"]["pages"].as_array().map(Vec::len), Some(2), "{bundle}");
    assert!(bundle["keys"][0]["public_key"].is_string(), "{bundle}");

    let report = s.ok(&["verify", &code]);
    assert!(report.trim_end().ends_with("\nvalid"), "{report}");
    assert!(report.contains("ok   seal signature") && report.contains("ok   page 2 image"), "{report}");
    assert!(
        report.contains("ok   page 1 seal") && report.contains("ok   page 2 seal: Ed25519 signature by key"),
        "{report}"
    );
    let report = s.ok(&["verify", pdf.to_str().unwrap()]);
    assert!(report.contains("ok   PDF file") && report.trim_end().ends_with("valid"), "{report}");

    // One byte changed inside page 2's image: verify fails, naming the file's hash, the sealed hash,
    // the page and the key.
    let key = std::fs::read_to_string(s.data().join("keys/current")).unwrap().trim().to_owned();
    let mut bytes = std::fs::read(&pdf).unwrap();
    let second_image = find_all(&bytes, b"/Subtype/Image").nth(1).expect("two page images");
    let data = second_image + find_all(&bytes[second_image..], b"stream\n").next().expect("image stream") + 1000;
    bytes[data] ^= 0x01;
    let tampered = s.dir.path().join("tampered.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    let out = s.run(&["verify", tampered.to_str().unwrap()]);
    assert!(!out.status.success(), "a tampered PDF verified");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.trim_end().ends_with("INVALID"), "{report}");
    let file_line = report.lines().find(|l| l.starts_with("FAIL PDF file")).unwrap_or_else(|| panic!("{report}"));
    assert!(file_line.contains(&blake3::hash(&bytes).to_hex().to_string()) && file_line.contains(&key), "{file_line}");
    let page_fail = report.lines().filter(|l| l.starts_with("FAIL page ") && l.contains(&key)).count();
    assert_eq!(page_fail, 1, "exactly one page image should be named as changed:\n{report}");
    // The archived copy itself is untouched.
    assert!(s.ok(&["verify", &code]).trim_end().ends_with("\nvalid"));
}

/// Offsets of every occurrence of `needle` in `haystack`.
fn find_all<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    haystack.windows(needle.len()).enumerate().filter(move |(_, w)| *w == needle).map(|(i, _)| i)
}
