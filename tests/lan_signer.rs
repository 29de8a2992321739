//! Issue 17, the signer's holes: the key's PIN leaves the environment and a token that forgot its
//! login is logged in again (9); certificate paths are refused for their key usage, path length,
//! unknown critical extensions and revocation (10); the blocks of a signed copy never cover the
//! scan (11). Certificates come from `openssl` (`tests/pki.sh`), CRLs are served on the loopback,
//! and pages are drawn here with Pillow.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use signer::{
    Revocation, SoftwareSigner, TokenConfig, TokenSigner, read_pem_certificates, sign_pdf, verify_pdf_signatures_with,
};

use crate::signing::{RELOGIN_TOKEN, TOKEN_PIN, pki, pyhanko_trusting, request, softhsm};
use crate::util::{Sohoa, assert_pdfa, repo, venv_python};

/// Requests for the chains' CRL that the loopback listener has answered.
static CRL_REQUESTS: AtomicUsize = AtomicUsize::new(0);

/// The test PKI with the chains of the certificate checks (`tests/pki.sh DIR URL`), made once. A
/// listener on the loopback at URL serves root's CRL (`GET /root.crl`) and answers OCSP requests
/// (`POST /ocsp`) with `openssl ocsp` from root's database, for as long as the tests run.
fn chains() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let out =
            Command::new("bash").arg(repo().join("tests/pki.sh")).arg(&dir).arg(&url).output().expect("bash runs");
        assert!(out.status.success(), "tests/pki.sh: {}", String::from_utf8_lossy(&out.stderr));
        let served = dir.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let mut length = 0;
                let mut header = String::new();
                while reader.read_line(&mut header).unwrap_or(0) > 0 && header != "\r\n" {
                    if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    header.clear();
                }
                let mut body = vec![0; length];
                let answer = if reader.read_exact(&mut body).is_err() {
                    None
                } else if request_line.starts_with("GET /root.crl ") {
                    CRL_REQUESTS.fetch_add(1, Ordering::SeqCst);
                    std::fs::read(served.join("root.crl.der")).ok()
                } else if request_line.starts_with("POST /ocsp ") {
                    let (query, reply) = (served.join(format!("ocsp{n}.req")), served.join(format!("ocsp{n}.resp")));
                    std::fs::write(&query, &body).unwrap();
                    let ok = Command::new("openssl")
                        .args([
                            "ocsp",
                            "-index",
                            "root.db/index.txt",
                            "-rsigner",
                            "root.crt",
                            "-rkey",
                            "root.key",
                            "-CA",
                            "root.crt",
                            "-ndays",
                            "1",
                            "-reqin",
                        ])
                        .arg(&query)
                        .arg("-respout")
                        .arg(&reply)
                        .current_dir(&served)
                        .output()
                        .is_ok_and(|o| o.status.success());
                    if ok { std::fs::read(&reply).ok() } else { None }
                } else {
                    None
                };
                let status = if answer.is_some() { "200 OK" } else { "404 Not Found" };
                let answer = answer.unwrap_or_default();
                let head =
                    format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", answer.len());
                let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&answer));
            }
        });
        dir
    })
}

/// A one-page PDF with nothing on its page, to sign where the page's content does not matter.
fn blank_pdf() -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let content_id = doc.add_object(Stream::new(dictionary! {}, Vec::new()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).unwrap();
    pdf
}

/// `blank_pdf` signed (PAdES B-B) with the key `NAME.key` of the chains and the PEM chain `chain`.
fn signed_by(name: &str, chain: &str) -> Vec<u8> {
    let dir = chains();
    let signer = SoftwareSigner::from_pem_files(&dir.join(format!("{name}.key")), &dir.join(chain)).unwrap();
    sign_pdf(&blank_pdf(), &request(), &signer, None).unwrap()
}

/// The checks of the file's only signature against the chains' root, as (name, passed, detail).
fn checks(pdf: &[u8], revocation: &Revocation) -> Vec<(String, bool, String)> {
    let anchors = read_pem_certificates(&chains().join("root.crt")).unwrap();
    let reports = verify_pdf_signatures_with(pdf, &anchors, revocation, chrono::Utc::now()).unwrap();
    assert_eq!(reports.len(), 1);
    reports[0].checks.iter().map(|c| (c.name.clone(), c.passed, c.detail.clone())).collect()
}

fn assert_valid(pdf: &[u8], revocation: &Revocation) {
    let found = checks(pdf, revocation);
    assert!(found.iter().all(|(_, passed, _)| *passed), "{found:?}");
}

/// Asserts that the signature fails the check `name` with a detail containing `detail`.
fn assert_refused(pdf: &[u8], revocation: &Revocation, name: &str, detail: &str) {
    let found = checks(pdf, revocation);
    assert!(
        found.iter().any(|(n, passed, d)| n == name && !passed && d.contains(detail)),
        "expected {name:?} to fail with {detail:?}, got {found:?}"
    );
}

#[test]
fn hole10_key_usage_path_length_and_unknown_critical_extensions_are_refused() {
    let none = Revocation::none();
    let good = signed_by("ec", "ec.crt");
    assert_valid(&good, &none);
    let path = chains().join("good.pdf");
    std::fs::write(&path, &good).unwrap();
    let (trusted, report) = pyhanko_trusting(&path, &chains().join("root.crt"));
    assert!(trusted && report.contains("The signer's certificate is trusted"), "pyHanko: {report}");

    // A signer whose certificate allows only key encipherment.
    assert_refused(
        &signed_by("no-sign", "no-sign.crt"),
        &none,
        "key usage",
        "CN=No Signing Usage may not sign: it has key usage KeyEncipherment",
    );
    // A signer under a CA that its own CA allowed no CA below it (pathlen:0), the chain sent along.
    assert_refused(
        &signed_by("deep", "deep-chain.pem"),
        &none,
        "path length",
        "CN=Sub-CA Allowing No Sub-CA allows 0 CA certificate(s) below it",
    );
    // A signer whose certificate carries a critical extension nobody understands.
    assert_refused(
        &signed_by("critical", "critical.crt"),
        &none,
        "critical extension",
        "marks extension 1.3.6.1.4.1.99999.7 critical",
    );
}

#[test]
fn hole10_revoked_signers_are_refused_by_crl_files_distribution_points_and_ocsp() {
    let dir = chains();
    let revoked = signed_by("revoked", "revoked.crt");
    assert_valid(&revoked, &Revocation::none());
    // A CRL file, in PEM as `openssl ca -gencrl` writes it, and the same list in DER.
    for file in ["root.crl", "root.crl.der"] {
        let crl = Revocation::new(vec![dir.join(file)], None);
        assert_refused(&revoked, &crl, "revocation", "CN=Revoked Signer was revoked by its issuer on");
        let good = checks(&signed_by("ec", "ec.crt"), &crl);
        assert!(good.iter().all(|(_, passed, _)| *passed), "{good:?}");
        assert!(good.iter().any(|(n, _, d)| n == "revocation" && d.contains(file)), "{good:?}");
    }

    // The CRL named by the certificates' distribution point, fetched from the loopback listener.
    let fetching = Revocation::new(Vec::new(), Some(Duration::from_secs(10)));
    assert_valid(&signed_by("dp", "dp.crt"), &fetching);
    assert_refused(
        &signed_by("dp-revoked", "dp-revoked.crt"),
        &fetching,
        "revocation",
        "CN=Revoked Signer With CRL Distribution Point was revoked",
    );
    assert!(CRL_REQUESTS.load(Ordering::SeqCst) >= 1, "the CRL was fetched from its distribution point");
    // Revocation checking on, and no CRL to be had for a certificate without a distribution point:
    // its status is unknown, which is refused rather than taken for good.
    assert_refused(&signed_by("ec", "ec.crt"), &fetching, "revocation", "no CRL could be had");

    // The OCSP responder the certificates name, answering from root's database.
    let ocsp = Revocation::none().with_ocsp(Duration::from_secs(10));
    let good = checks(&signed_by("ocsp-good", "ocsp-good.crt"), &ocsp);
    assert!(good.iter().all(|(_, passed, _)| *passed), "{good:?}");
    assert!(
        good.iter().any(|(n, _, d)| n == "revocation" && d.contains("OCSP says no certificate of the path is revoked")),
        "{good:?}"
    );
    assert_refused(
        &signed_by("ocsp-revoked", "ocsp-revoked.crt"),
        &ocsp,
        "revocation",
        "CN=Revoked Signer With OCSP Responder was revoked by its issuer on",
    );
    assert_refused(&signed_by("ec", "ec.crt"), &ocsp, "revocation", "names no OCSP responder");
}

#[test]
fn hole10_sohoa_verify_checks_the_configured_crl() {
    let dir = chains();
    let s = Sohoa::new();
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(
        &config,
        format!(
            "[signature]\ntrust_anchors = [{:?}]\ncrl_files = [{:?}]\n",
            dir.join("root.crt"),
            dir.join("root.crl")
        ),
    )
    .unwrap();
    let verify = |name: &str, pdf: &[u8]| {
        let file = s.dir.path().join(format!("{name}.pdf"));
        std::fs::write(&file, pdf).unwrap();
        let out = s.command().arg("--config").arg(&config).args(["verify", file.to_str().unwrap()]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let report = verify("revoked", &signed_by("revoked", "revoked.crt"));
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("FAIL PDF signature: revocation:") && l.contains("CN=Revoked Signer was revoked")),
        "{report}"
    );
    let report = verify("good", &signed_by("ec", "ec.crt"));
    assert!(
        report.contains("ok   PDF signature: certificate chain:")
            && report.contains("ok   PDF signature: revocation: no certificate of the path is revoked"),
        "{report}"
    );
}

/// A page scanned at 300 dpi, drawn with Pillow in DejaVu Sans: lines of 12 pt text whose first
/// starts `top_cm` from the top edge, as an ordinary administrative document does.
fn page(dir: &Path, top_cm: f32) -> PathBuf {
    const DRAW: &str = r#"
import sys
from PIL import Image, ImageDraw, ImageFont
out, font, top = sys.argv[1], sys.argv[2], float(sys.argv[3])
image = Image.new('L', (2480, 3508), 255)
draw = ImageDraw.Draw(image)
face = ImageFont.truetype(font, 50)
lines = ['CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', 'Độc lập - Tự do - Hạnh phúc', '', 'GIẤY PHÉP XÂY DỰNG', 'Số: 123/GPXD-UBND',
         'Cấp cho: Ông Nguyễn Văn An, số định danh 001099012345', 'Địa chỉ công trình: 12 Lê Lợi, phường Bến Thành']
y = round(top / 2.54 * 300)
for line in lines:
    draw.text((354, y), line, font=face, fill=0, anchor='la')
    y += 80
image.save(out, dpi=(300, 300))
"#;
    let path = dir.join(format!("page-{top_cm}cm.png"));
    let font = repo().join("signer/data/DejaVuSans.ttf");
    let out =
        Command::new(venv_python()).args(["-c", DRAW]).arg(&path).arg(&font).arg(top_cm.to_string()).output().unwrap();
    assert!(out.status.success(), "drawing the page: {}", String::from_utf8_lossy(&out.stderr));
    path
}

/// Page 1 of a PDF rendered in gray by poppler at 150 dpi: width, height and one byte per pixel.
fn render(pdf: &Path) -> (usize, usize, Vec<u8>) {
    let root = pdf.with_extension("page-1");
    let out = Command::new("pdftoppm")
        .args(["-f", "1", "-l", "1", "-r", "150", "-gray", "-singlefile"])
        .arg(pdf)
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let pgm = std::fs::read(format!("{}.pgm", root.display())).unwrap();
    // P5 header: magic, width, height, maximum value, each followed by one whitespace byte.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        let end = at + pgm[at..].iter().position(u8::is_ascii_whitespace).unwrap();
        fields.push(String::from_utf8_lossy(&pgm[at..end]).into_owned());
        at = end + 1;
    }
    assert_eq!(fields[0], "P5");
    let (width, height) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (width, height, pgm[at..at + width * height].to_vec())
}

/// The original revision of a signed file: everything up to the `%%EOF` that ends the revision the
/// signature's update points back to (`/Prev`).
fn original_revision(signed: &[u8]) -> Vec<u8> {
    let prev = signed.windows(5).rposition(|w| w == b"/Prev").unwrap() + 5;
    let digits: String = signed[prev..]
        .iter()
        .map(|&b| b as char)
        .skip_while(|c| c.is_whitespace())
        .take_while(char::is_ascii_digit)
        .collect();
    let xref: usize = digits.parse().unwrap();
    let eof = xref + signed[xref..].windows(5).position(|w| w == b"%%EOF").unwrap() + 5;
    signed[..eof].to_vec()
}

/// Ingests a page whose text starts `top_cm` from the top, and checks page 1 of the signed copy
/// against the original page: the blocks (every mark the signed copy adds) cover no ink of the
/// scan. Returns how many rows the signed page is taller than the original at 150 dpi.
fn blocks_beside_the_ink(top_cm: f32) -> usize {
    let s = Sohoa::new();
    let page = page(s.dir.path(), top_cm);
    let code = s
        .ok(&[
            "ingest",
            "--owner",
            "001099012345",
            "--type",
            "GPXD",
            "--name",
            "Giấy phép xây dựng",
            page.to_str().unwrap(),
        ])
        .trim()
        .to_owned();
    let signed = s.dir.path().join("signed.pdf");
    s.ok(&["get", &code, "-o", signed.to_str().unwrap()]);
    let unsigned = s.dir.path().join("unsigned.pdf");
    std::fs::write(&unsigned, original_revision(&std::fs::read(&signed).unwrap())).unwrap();
    assert_pdfa(&signed);
    assert!(s.ok(&["verify", &code]).trim_end().ends_with("\nvalid"));

    let (width, height, original) = render(&unsigned);
    let (signed_width, signed_height, copy) = render(&signed);
    assert_eq!(width, signed_width);
    // A margin, if one is added, is added above the page; the original keeps its place below it.
    let added = signed_height - height;
    let paper_around = |x: usize, y: usize| {
        (y.saturating_sub(1)..(y + 2).min(height))
            .all(|yy| (x.saturating_sub(1)..(x + 2).min(width)).all(|xx| original[yy * width + xx] > 200))
    };
    // The blocks: the dark pixels of the copy where the original is paper all around (or absent).
    let mut blocks: Option<[usize; 4]> = None;
    for y in 0..signed_height {
        for x in 0..width {
            if copy[y * width + x] < 128 && (y < added || paper_around(x, y - added)) {
                let b = blocks.get_or_insert([x, y, x, y]);
                *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            }
        }
    }
    let [left, top, right, bottom] = blocks.expect("the signed copy shows its blocks");
    assert!(
        bottom - top > 100 && right - left > 1000,
        "the QR code and both blocks are drawn: {left},{top} – {right},{bottom}"
    );
    let ink: Vec<(usize, usize)> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| original[y * width + x] < 128)
        .collect();
    assert!(!ink.is_empty(), "the page has ink");
    let covered =
        ink.iter().filter(|&&(x, y)| (left..=right).contains(&x) && (top..=bottom).contains(&(y + added))).count();
    assert_eq!(
        covered, 0,
        "{covered} ink pixels of the scan lie under the blocks ({left},{top} – {right},{bottom}, {added} rows added)"
    );

    let qr = Command::new("zbarimg").args(["-q", "--raw"]).arg(signed.with_extension("page-1.pgm")).output().unwrap();
    assert!(
        String::from_utf8_lossy(&qr.stdout).contains(&format!("/verify?code={code}")),
        "the QR code reads on the rendered page"
    );
    added
}

#[test]
fn hole11_signature_blocks_never_cover_the_scan() {
    // An ordinary 2 cm top margin is too narrow for the blocks: they go in a margin added above.
    assert!(blocks_beside_the_ink(2.0) > 0, "a margin is added above a page with a 2 cm top margin");
    // A page blank 5 cm down holds them within its own blank band, its size unchanged.
    assert_eq!(blocks_beside_the_ink(5.0), 0, "a page blank deep enough keeps its size");
}

#[test]
fn hole09_the_pin_leaves_the_environment_and_is_still_used() {
    let s = Sohoa::new();
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(
        &config,
        format!(
            "[signature]\npkcs11_module = {:?}\ntoken = \"sohoa-test\"\nkey_label = \"agency-ec\"\nchain = {:?}\ntrust_anchors = [{:?}]\n",
            softhsm(),
            pki().join("ec.crt"),
            pki().join("root.crt")
        ),
    )
    .unwrap();
    let sohoa = || {
        let mut command = s.command();
        command.arg("--config").arg(&config).env("SOHOA_TOKEN_PIN", TOKEN_PIN);
        command
    };
    // The PIN opened the token: a document is signed with it.
    let page = page(s.dir.path(), 2.0);
    let out = sohoa()
        .args(["ingest", "--owner", "001099012345", "--type", "GPXD", "--name", "Giấy phép", page.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN_PIN));

    // While the server runs, neither its environment nor what it shows of it holds the PIN.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = sohoa()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut environment = Vec::new();
    std::fs::File::open(format!("/proc/{}/environ", server.id())).unwrap().read_to_end(&mut environment).unwrap();
    // SAFETY: sends SIGTERM to the server this test started, by its id.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    server.wait().unwrap();
    assert!(environment.windows(TOKEN_PIN.len()).all(|w| w != TOKEN_PIN.as_bytes()), "the PIN is in /proc/PID/environ");
    let variables: Vec<String> =
        environment.split(|&b| b == 0).map(|v| String::from_utf8_lossy(v).into_owned()).collect();
    assert!(variables.iter().all(|v| !v.starts_with("SOHOA_TOKEN_PIN=") || v == "SOHOA_TOKEN_PIN="), "{variables:?}");
}

#[test]
fn hole09_a_token_that_lost_its_login_is_logged_in_again() {
    let module = softhsm();
    let signer = TokenSigner::open(&TokenConfig {
        module: module.to_owned(),
        token: RELOGIN_TOKEN.into(),
        key: "agency-ec".into(),
        pin: TOKEN_PIN.to_owned().into(),
        chain: pki().join("ec.crt"),
    })
    .unwrap();
    let anchors = read_pem_certificates(&pki().join("root.crt")).unwrap();
    let sign_and_check = || {
        let pdf = sign_pdf(&blank_pdf(), &request(), &signer, None).unwrap();
        let reports = verify_pdf_signatures_with(&pdf, &anchors, &Revocation::none(), chrono::Utc::now()).unwrap();
        assert!(reports[0].valid(), "{reports:?}");
    };
    sign_and_check();
    // Another session of this process logs out: PKCS #11 logins belong to the application, so the
    // signer's session is no longer logged in (CKR_USER_NOT_LOGGED_IN on its next signature), as
    // after a token is pulled out and put back.
    let context = cryptoki::context::Pkcs11::new(module).unwrap();
    let slot = context
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|slot| context.get_token_info(*slot).is_ok_and(|info| info.label().trim_end() == RELOGIN_TOKEN))
        .unwrap();
    let session = context.open_ro_session(slot).unwrap();
    session.logout().unwrap();
    drop(session);
    sign_and_check();
}
