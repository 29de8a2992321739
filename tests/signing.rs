//! The legally recognised PDF signature: PAdES on the PDF/A from capture, signed with RSASSA-PSS and
//! ECDSA, from a PEM key, a PKCS #12 bundle and a SoftHSM2 token, timestamped by `openssl ts`
//! running as a local TSA; validated by pyHanko against the test CA, still PDF/A-2b to qpdf and
//! pikepdf; and every tampering the issue lists is detected and named by `verify_pdf_signatures`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use capture::{Capture, OcrConfig, WrittenPdf};
use domain::{DocumentCode, DocumentMetadata};
use scanner_driver::{FileImporter, ImportLimits};
use signer::{
    PdfBase, PdfSigner, SignatureRequest, SoftwareSigner, TimestampAuthority, TokenConfig, TokenSigner,
    read_pem_certificates, sign_pdf, sign_update, verify_pdf_signatures,
};

use crate::util::{assert_pdfa, corpus, corpus_pages, draft, qr_text, repo, venv_python};

/// The test PKI of `tests/pki.sh`, made once per test run.
pub fn pki() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let out = Command::new("bash").arg(repo().join("tests/pki.sh")).arg(&dir).output().expect("bash runs");
        assert!(out.status.success(), "tests/pki.sh: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
}

/// A local RFC 3161 TSA: an HTTP listener on the loopback that answers each request with
/// `openssl ts -reply`. It serves until the test process ends.
pub fn tsa_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/tsa", listener.local_addr().unwrap());
        let dir = pki().to_owned();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut query = vec![0; length];
                if reader.read_exact(&mut query).is_err() {
                    continue;
                }
                let (q, r) = (dir.join(format!("q{n}.tsq")), dir.join(format!("r{n}.tsr")));
                std::fs::write(&q, &query).unwrap();
                let ok = Command::new("openssl")
                    .args(["ts", "-reply", "-config"])
                    .arg(dir.join("tsa.cnf"))
                    .arg("-queryfile")
                    .arg(&q)
                    .arg("-out")
                    .arg(&r)
                    .output()
                    .is_ok_and(|o| o.status.success());
                let body = if ok { std::fs::read(&r).unwrap() } else { Vec::new() };
                let status = if ok { "200 OK" } else { "500 Internal Server Error" };
                let head = format!("HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
            }
        });
        url
    })
}

/// The token's user PIN: distinctive, so that a test can look for it in logs.
pub const TOKEN_PIN: &str = "pin-7f3a9c51";

/// The label of the second token, which holds the EC key only.
pub const RELOGIN_TOKEN: &str = "sohoa-relogin";

/// A SoftHSM2 token labelled `sohoa-test` holding the RSA and EC keys of the test PKI, and one
/// labelled [`RELOGIN_TOKEN`] holding the EC key, in a private token directory; returns the module
/// path.
pub fn softhsm() -> &'static Path {
    static MODULE: OnceLock<PathBuf> = OnceLock::new();
    MODULE.get_or_init(|| {
        let dir = pki().join("softhsm");
        std::fs::create_dir_all(dir.join("tokens")).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.join("tokens").display()
            ),
        )
        .unwrap();
        // SAFETY: set once, before the SoftHSM2 module is first loaded; no other test thread reads
        // or writes this variable.
        unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
        let util = |args: &[&str]| {
            let out = Command::new("softhsm2-util")
                .args(args)
                .env("SOFTHSM2_CONF", &conf)
                .output()
                .expect("softhsm2-util runs (Debian softhsm2)");
            assert!(
                out.status.success(),
                "softhsm2-util {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        util(&["--init-token", "--free", "--label", "sohoa-test", "--pin", TOKEN_PIN, "--so-pin", "123456"]);
        for (label, id, file) in [("agency-rsa", "01", "rsa.key"), ("agency-ec", "02", "ec.key")] {
            util(&[
                "--import",
                pki().join(file).to_str().unwrap(),
                "--token",
                "sohoa-test",
                "--label",
                label,
                "--id",
                id,
                "--pin",
                TOKEN_PIN,
            ]);
        }
        // A token of its own for the test that logs out behind a signer's back (lan_signer.rs), so
        // that no other test loses its login.
        util(&["--init-token", "--free", "--label", RELOGIN_TOKEN, "--pin", TOKEN_PIN, "--so-pin", "123456"]);
        util(&[
            "--import",
            pki().join("ec.key").to_str().unwrap(),
            "--token",
            RELOGIN_TOKEN,
            "--label",
            "agency-ec",
            "--id",
            "02",
            "--pin",
            TOKEN_PIN,
        ]);
        PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")
    })
}

fn token(key: &str, chain: &str) -> TokenSigner {
    TokenSigner::open(&TokenConfig {
        module: softhsm().to_owned(),
        token: "sohoa-test".into(),
        key: key.into(),
        pin: TOKEN_PIN.to_owned().into(),
        chain: pki().join(chain),
    })
    .unwrap()
}

fn software(name: &str) -> SoftwareSigner {
    SoftwareSigner::from_pem_files(&pki().join(format!("{name}.key")), &pki().join(format!("{name}.crt"))).unwrap()
}

/// One corpus page captured into an unsigned PDF/A, made once.
fn unsigned_pdfa() -> &'static [u8] {
    &written_pdfa().out
}

/// The PDF/A of one corpus page as capture writes it, with the skeleton that signing reads.
fn written_pdfa() -> &'static WrittenPdf<Vec<u8>> {
    static PDF: OnceLock<WrittenPdf<Vec<u8>>> = OnceLock::new();
    PDF.get_or_init(|| {
        let capture = Capture::new(OcrConfig::system_default()).unwrap();
        let path = corpus(&corpus_pages()[0]);
        let bytes = std::fs::read(&path).unwrap();
        let importer = FileImporter::new(ImportLimits::default(), 300.0);
        let page = importer.pages(&path, bytes).unwrap().remove(0);
        let pages = capture.capture(vec![Box::new(move || page.decode())], &mut |_| {}).unwrap();
        let metadata = DocumentMetadata::new(draft("Nguyễn Văn An")).unwrap();
        let code = DocumentCode::new(metadata.owner().cloned(), metadata.doc_type().clone(), None).unwrap();
        let mut writer = capture.pdf_writer(Vec::new(), 1).unwrap();
        writer.add(&pages[0]).unwrap();
        writer.finish(&code, &metadata).unwrap()
    })
}

pub fn request() -> SignatureRequest {
    let time = domain::vietnam_now();
    SignatureRequest {
        name: "UBND phường Bến Thành".into(),
        reason: "Bản sao điện tử được chứng thực từ bản chính".into(),
        location: "Bộ phận Một cửa, UBND phường Bến Thành".into(),
        time,
        operator_block: vec!["Người số hoá: Nguyễn Văn An".into(), format!("Thời gian số hoá: {}", time.to_rfc3339())],
        agency_block: vec![
            "BẢN SAO ĐIỆN TỬ TỪ BẢN CHÍNH".into(),
            "UBND phường Bến Thành".into(),
            format!("Thời gian ký: {}", time.format("%Y-%m-%dT%H:%M:%S%:z")),
        ],
        qr_payload: "Mã hồ sơ: H56.14-261122-0001\nThủ tục: 1.001234\nChủ sở hữu: 001099012345\nTài liệu: Hồ sơ\nhttp://127.0.0.1:8080/verify?code=001099012345.HS"
            .into(),
        link: "http://127.0.0.1:8080/verify?code=001099012345.HS".into(),
        blank_top: 0.0,
    }
}

fn sign(signer: &dyn PdfSigner, timestamp: bool) -> Vec<u8> {
    let tsa = timestamp.then(|| TimestampAuthority::new(tsa_url(), Duration::from_secs(30)).unwrap());
    sign_pdf(unsigned_pdfa(), &request(), signer, tsa.as_ref()).unwrap()
}

fn anchors() -> Vec<signer::Certificate> {
    read_pem_certificates(&pki().join("root.crt")).unwrap()
}

/// The checks of the file's only signature that failed, as "name: detail".
fn failures(pdf: &[u8]) -> Vec<String> {
    let reports = verify_pdf_signatures(pdf, &anchors(), chrono::Utc::now()).unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    reports[0].checks.iter().filter(|c| !c.passed).map(|c| format!("{}: {}", c.name, c.detail)).collect()
}

/// pyHanko's verdict on a file, with the test CA as the only trust root.
fn pyhanko(pdf: &Path) -> (bool, String) {
    pyhanko_trusting(pdf, &pki().join("root.crt"))
}

/// pyHanko's verdict on a file, with `root` (a PEM file) as the only trust root.
pub fn pyhanko_trusting(pdf: &Path, root: &Path) -> (bool, String) {
    let pyhanko = venv_python().with_file_name("pyhanko");
    let out = Command::new(pyhanko)
        .args(["sign", "validate", "--pretty-print", "--no-revocation-check", "--trust-replace", "--trust"])
        .arg(root)
        .arg(pdf)
        .output()
        .expect("pyhanko runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn assert_valid_everywhere(name: &str, pdf: &[u8], timestamped: bool) {
    let path = pki().join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    assert!(failures(pdf).is_empty(), "{name}: {:?}", failures(pdf));
    let (ok, report) = pyhanko(&path);
    assert!(ok, "{name}: pyHanko says\n{report}");
    assert!(report.contains("The signature is cryptographically sound"), "{name}: {report}");
    assert!(report.contains("The signer's certificate is trusted"), "{name}: {report}");
    assert!(report.contains("The signature covers the entire file"), "{name}: {report}");
    assert_eq!(
        report.contains("The signature is timestamped") || report.contains("timestamp token"),
        timestamped,
        "{name}: {report}"
    );
    assert_pdfa(&path);
    assert_signature_widget_is_pdfa(pdf);
}

/// The PDF/A-2 rules for the signature widget that pikepdf's validator leaves unchecked (ISO
/// 19005-2 6.3.2, 6.4.1): printable and visible, a normal appearance only, no form that asks the
/// viewer to make appearances, no XFA; and every font of the appearances embedded.
fn assert_signature_widget_is_pdfa(pdf: &[u8]) {
    use lopdf::Object;
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let catalog = doc.catalog().unwrap();
    let form = doc.dereference(catalog.get(b"AcroForm").unwrap()).unwrap().1.as_dict().unwrap();
    assert!(form.get(b"NeedAppearances").is_err() && form.get(b"XFA").is_err(), "{form:?}");
    let widgets: Vec<_> = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Widget"))
        .collect();
    assert_eq!(widgets.len(), 1);
    let widget = widgets[0];
    assert_eq!(
        widget.get(b"F").unwrap().as_i64().unwrap() & 0b1_0000_0110,
        0b100,
        "Print set; Hidden, Invisible and NoView clear"
    );
    let appearance = widget.get(b"AP").unwrap().as_dict().unwrap();
    assert_eq!(appearance.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), vec![b"N".to_vec()]);
    for font in doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Type").and_then(Object::as_name).is_ok_and(|n| n == b"FontDescriptor"))
    {
        assert!(
            font.get(b"FontFile2").is_ok() || font.get(b"FontFile").is_ok() || font.get(b"FontFile3").is_ok(),
            "font not embedded: {font:?}"
        );
    }
}

#[test]
fn rsa_pss_from_a_pem_key_validates_in_pyhanko_and_stays_pdfa() {
    let signer = software("rsa");
    assert_eq!(signer.algorithm(), signer::SignatureAlgorithm::RsaPssSha256);
    assert_valid_everywhere("rsa-pem", &sign(&signer, false), false);
}

#[test]
fn ecdsa_from_a_pem_key_with_a_timestamp_validates_in_pyhanko() {
    let signer = software("ec");
    assert_eq!(signer.algorithm(), signer::SignatureAlgorithm::EcdsaP256Sha256);
    assert_valid_everywhere("ec-pem-tsa", &sign(&signer, true), true);
}

/// What ingest does with a long document, whose PDF is never held: the update is made from the
/// writer's skeleton and the file read once. It is the update that signing the whole file in
/// memory appends, byte for byte but for the signature value itself.
#[test]
fn a_pdf_signed_from_its_skeleton_is_the_pdf_signed_from_its_bytes() {
    let written = written_pdfa();
    let (signer, request) = (software("ec"), request());
    let whole = sign_pdf(&written.out, &request, &signer, None).unwrap();
    let base = PdfBase { objects: &written.skeleton, len: written.len, startxref: written.startxref };
    assert_eq!(written.out.len() as u64, written.len);
    let update = sign_update(&base, &mut written.out.as_slice(), &request, &signer, None).unwrap();
    let streamed = [written.out.as_slice(), &update].concat();
    let blank = |pdf: &[u8]| {
        let (start, end, _) = contents(pdf);
        [&pdf[..start], &pdf[end..]].concat()
    };
    assert_eq!(contents(&whole).0, contents(&streamed).0, "the same byte range");
    assert!(blank(&whole) == blank(&streamed), "the same update around the signature value");
    assert_valid_everywhere("streamed", &streamed, false);
    // A file that is not the one the base describes is refused, not signed.
    let short = &written.out[..written.out.len() - 1];
    let e = sign_update(&base, &mut &short[..], &request, &signer, None).unwrap_err().to_string();
    assert!(e.contains("bytes, not the"), "{e}");
    let long = [written.out.as_slice(), b"%"].concat();
    let e = sign_update(&base, &mut long.as_slice(), &request, &signer, None).unwrap_err().to_string();
    assert!(e.contains("longer than the"), "{e}");
}

#[test]
fn pkcs12_bundle_signs_with_its_chain() {
    let signer = SoftwareSigner::from_pkcs12(&pki().join("rsa.p12"), "test-p12").unwrap();
    assert_eq!(signer.chain().len(), 2, "the agency certificate and the root");
    assert_valid_everywhere("rsa-p12-tsa", &sign(&signer, true), true);
    let wrong = SoftwareSigner::from_pkcs12(&pki().join("rsa.p12"), "wrong").unwrap_err().to_string();
    assert!(wrong.contains("wrong password"), "{wrong}");
}

#[test]
fn softhsm2_token_signs_with_rsa_pss_and_ecdsa() {
    for (key, chain, name) in [("agency-rsa", "rsa.crt", "token-rsa"), ("agency-ec", "ec.crt", "token-ec")] {
        let signer = token(key, chain);
        assert_valid_everywhere(name, &sign(&signer, name == "token-ec"), name == "token-ec");
    }
    let wrong_pin = TokenSigner::open(&TokenConfig {
        module: softhsm().to_owned(),
        token: "sohoa-test".into(),
        key: "agency-rsa".into(),
        pin: "0000".to_owned().into(),
        chain: pki().join("rsa.crt"),
    });
    let message = wrong_pin.unwrap_err().to_string();
    assert!(message.contains("wrong PIN"), "{message}");
    assert!(!message.contains("0000"), "the PIN must not appear in messages: {message}");
}

/// The byte range of the file's only signature and its /Contents, decoded.
fn contents(pdf: &[u8]) -> (usize, usize, Vec<u8>) {
    let at = pdf
        .windows(11)
        .rposition(|w| w == b"/ByteRange[")
        .or_else(|| pdf.windows(12).rposition(|w| w == b"/ByteRange ["))
        .unwrap();
    let text = std::str::from_utf8(&pdf[at..at + 80]).unwrap();
    let numbers: Vec<usize> = text[text.find('[').unwrap() + 1..text.find(']').unwrap()]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let (start, end) = (numbers[1], numbers[2]);
    let hex = std::str::from_utf8(&pdf[start + 1..end - 1]).unwrap();
    (start, end, (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect())
}

/// Replaces the CMS object in /Contents by `cms`, zero-padded, the way an attacker would after
/// editing the signature container.
fn with_contents(pdf: &[u8], cms: &[u8]) -> Vec<u8> {
    let (start, end, _) = contents(pdf);
    let mut hex = domain::hex(cms).into_bytes();
    assert!(hex.len() <= end - start - 2);
    hex.resize(end - start - 2, b'0');
    let mut out = pdf.to_vec();
    out[start + 1..end - 1].copy_from_slice(&hex);
    out
}

fn assert_fails(pdf: &[u8], check: &str, detail: &str) {
    let found = failures(pdf);
    assert!(
        found.iter().any(|f| f.starts_with(check) && f.contains(detail)),
        "expected {check:?} to fail with {detail:?}, got {found:?}"
    );
}

#[test]
fn tampering_is_detected_and_named() {
    let signed = sign(&software("ec"), false);
    assert!(failures(&signed).is_empty(), "{:?}", failures(&signed));

    // A byte inside the byte range: in the page image, a third of the way into the file.
    let mut inside = signed.clone();
    inside[signed.len() / 3] ^= 0x01;
    assert_fails(&inside, "digest", "differs from the digest of the signed bytes");

    // A byte outside the byte range: the last byte of the CMS object, in the signature value; and
    // a byte of the zero padding after it.
    let (start, _, cms) = contents(&signed);
    let used = cms.iter().rposition(|&b| b != 0).unwrap() + 1;
    let mut outside = signed.clone();
    let digit = start + 1 + 2 * used - 1;
    outside[digit] = if outside[digit] == b'0' { b'1' } else { b'0' };
    assert_fails(&outside, "signature", "does not match");
    let mut padding = signed.clone();
    padding[start + 1 + 2 * used + 10] = b'7';
    assert_fails(&padding, "signature contents", "is not zero padding");

    // An incremental update appended after signing that turns page 1 upside down.
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let page_id = doc.get_pages()[&1];
    let mut page = doc.get_dictionary(page_id).unwrap().clone();
    page.set("Rotate", 180);
    let mut appended = signed.clone();
    let offset = appended.len();
    appended.extend_from_slice(format!("{} 0 obj\n", page_id.0).as_bytes());
    lopdf::Writer::write_object(&mut appended, &lopdf::Object::Dictionary(page)).unwrap();
    let prev = {
        let tail = std::str::from_utf8(&signed[signed.len() - 40..]).unwrap();
        tail.split("startxref").nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
    };
    let xref = appended.len() + 8;
    appended.extend_from_slice(
        format!(
            "\nendobj\nxref\n{} 1\n{offset:010} 00000 n \ntrailer\n<< /Size {} /Root {} 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n",
            page_id.0,
            doc.max_id + 1,
            doc.trailer.get(b"Root").unwrap().as_reference().unwrap().0
        )
        .as_bytes(),
    );
    assert_eq!(
        lopdf::Document::load_mem(&appended)
            .unwrap()
            .get_dictionary(page_id)
            .unwrap()
            .get(b"Rotate")
            .unwrap()
            .as_i64()
            .unwrap(),
        180
    );
    assert_fails(&appended, "whole file signed", "bytes were appended after the signed revision");
    let path = pki().join("appended.pdf");
    std::fs::write(&path, &appended).unwrap();
    let (ok, report) = pyhanko(&path);
    assert!(
        !ok || !report.contains("The signature covers the entire file"),
        "pyHanko accepted the altered file:\n{report}"
    );

    // A swapped certificate: the same public key, certified by another CA, put in the signature
    // container in place of the signed one. The signature still verifies with that key, but the
    // signed signing-certificate-v2 attribute names the original certificate.
    use cms::cert::CertificateChoices;
    use cms::content_info::ContentInfo;
    use cms::signed_data::{SignedData, SignerIdentifier};
    use der::{Decode, Encode};
    let info = ContentInfo::from_der(&cms[..used]).unwrap();
    let mut data: SignedData = info.content.decode_as().unwrap();
    let swapped = read_pem_certificates(&pki().join("ec-other.crt")).unwrap().remove(0);
    let certs: Vec<CertificateChoices> = std::iter::once(CertificateChoices::Certificate(swapped.clone())).collect();
    data.certificates = Some(cms::signed_data::CertificateSet(certs.try_into().unwrap()));
    let mut infos: Vec<_> = data.signer_infos.0.iter().cloned().collect();
    infos[0].sid = SignerIdentifier::IssuerAndSerialNumber(cms::cert::IssuerAndSerialNumber {
        issuer: swapped.tbs_certificate.issuer.clone(),
        serial_number: swapped.tbs_certificate.serial_number.clone(),
    });
    data.signer_infos = cms::signed_data::SignerInfos(infos.try_into().unwrap());
    let info = ContentInfo { content_type: info.content_type, content: der::Any::encode_from(&data).unwrap() };
    let swapped_pdf = with_contents(&signed, &info.to_der().unwrap());
    let found = failures(&swapped_pdf);
    assert!(
        !found.iter().any(|f| f.starts_with("signature:")),
        "the key is the same, so the signature itself verifies: {found:?}"
    );
    assert_fails(&swapped_pdf, "signing certificate", "is not the one that was signed");
    assert_fails(&swapped_pdf, "certificate chain", "no trusted issuer");

    // An expired certificate.
    let expired = sign(&software("expired"), false);
    assert_fails(&expired, "certificate chain", "valid from 2020-01-01 until 2021-01-01");
    // A certificate from a CA that is not trusted.
    assert_fails(&sign(&software("other"), false), "certificate chain", "no trusted issuer");
}

#[test]
fn loose_key_file_permissions_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("agency.key");
    std::fs::copy(pki().join("ec.key"), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = SoftwareSigner::from_pem_files(&key, &pki().join("ec.crt")).unwrap_err().to_string();
    assert!(e.contains("chmod 600"), "{e}");
    // A key that does not belong to the certificate is refused too.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let e = SoftwareSigner::from_pem_files(&key, &pki().join("rsa.crt")).unwrap_err().to_string();
    assert!(e.contains("no certificate in the chain is for this private key"), "{e}");
}

#[test]
fn an_ingested_copy_shows_both_blocks_and_the_qr_code_and_verifies_by_name() {
    let s = crate::util::Sohoa::new();
    let page = corpus("noisy-001.jpg");
    let args = [
        "ingest",
        "--owner",
        "001099012345",
        "--type",
        "GPXD",
        "--name",
        "Giấy phép xây dựng",
        "--dossier",
        "H56.14-261122-0007",
        "--procedure",
        "1.003560.000.00.00.H56",
        "--operator",
        "Trần Thị Bình",
        page.to_str().unwrap(),
    ];
    let code = s.ok(&args).trim().to_owned();
    let pdf = s.dir.path().join("copy.pdf");
    s.ok(&["get", &code, "-o", pdf.to_str().unwrap()]);

    // R6: the QR code carries the dossier, procedure, owner, document name and the verification link.
    let qr = qr_text(&pdf);
    for expected in [
        "H56.14-261122-0007",
        "1.003560.000.00.00.H56",
        "001099012345",
        "Giấy phép xây dựng",
        &format!("/verify?code={code}"),
    ] {
        assert!(qr.contains(expected), "QR code lacks {expected:?}: {qr}");
    }
    // R5: the operator's name and scan time, and the agency's block with the ISO 8601 +07:00 time.
    let text = crate::util::pdftotext(&pdf, 1);
    for expected in ["Người số hoá: Trần Thị Bình", "Thời gian số hoá: 20", "SAO Y", "Thời gian ký: 20"]
    {
        assert!(text.contains(expected), "page 1 lacks {expected:?}: {text}");
    }
    assert!(text.lines().any(|l| l.starts_with("Thời gian ký: ") && l.trim_end().ends_with("+07:00")), "{text}");
    assert_pdfa(&pdf);

    // The development signer's root is the trust anchor pyHanko is given.
    let (ok, report) = {
        let pyhanko = venv_python().with_file_name("pyhanko");
        let out = Command::new(pyhanko)
            .args(["sign", "validate", "--pretty-print", "--no-revocation-check", "--trust-replace", "--trust"])
            .arg(s.data().join("keys/x509/development-root.pem"))
            .arg(&pdf)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert!(ok && report.contains("judged VALID"), "{report}");

    // `sohoa verify` names every signature check, for the code and for the file.
    for target in [code.as_str(), pdf.to_str().unwrap()] {
        let report = s.ok(&["verify", target]);
        for check in [
            "PDF signature: byte range",
            "PDF signature: digest",
            "PDF signature: signature",
            "PDF signature: certificate chain",
            "PDF signature: timestamp",
        ] {
            assert!(report.contains(&format!("ok   {check}:")), "{target}: no passing {check:?} in\n{report}");
        }
        assert!(report.trim_end().ends_with("\nvalid"), "{report}");
    }
    // A copy altered inside the signed bytes fails, and says where.
    let mut altered = std::fs::read(&pdf).unwrap();
    let middle = altered.len() / 3;
    altered[middle] ^= 0x20;
    let altered_path = s.dir.path().join("altered.pdf");
    std::fs::write(&altered_path, &altered).unwrap();
    let out = s.run(&["verify", altered_path.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{report}");
    assert!(report.contains("FAIL PDF signature: digest"), "{report}");
}
