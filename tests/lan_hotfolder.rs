//! Issue 17, holes 2 and 3: a PDF decompression bomb is refused by the importer, by `sohoa ingest`
//! and through the hot folder with bounded memory; a file dropped into the hot folder's share is
//! archived only once a logged-in operator confirms it, in that operator's name, and links planted
//! in the share or the state directory are never followed.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lopdf::{Document, Object, Stream, dictionary};
use sohoa::Appliance;
use sohoa::config::{Config, HotFolderConfig, ScannerConfig};
use sohoa::users::Role;

use crate::api::{Api, add_role_users};
use crate::files::{all_bytes_under, contains};
use crate::util::{Sohoa, open_archive, page_png};

/// What the bomb's page content inflates to: gigabytes, from a file of a few kilobytes.
const BOMB_BYTES: u64 = 8 << 30;

/// Writes deflate data (RFC 1951) with the fixed Huffman codes, least significant bit first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    used: u32,
}

impl Bits {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.used;
        self.used += bits;
        while self.used >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    /// A Huffman code goes most significant bit first.
    fn code(&mut self, code: u32, bits: u32) {
        self.put(code.reverse_bits() >> (32 - bits), bits);
    }

    fn literal(&mut self, byte: u8) {
        if byte < 144 { self.code(0x30 + u32::from(byte), 8) } else { self.code(0x190 + u32::from(byte) - 144, 9) }
    }

    /// A copy of 258 bytes from `distance` back (length code 285, then the distance code).
    fn copy_258(&mut self, distance: u32) {
        const BASE: [u32; 30] = [
            1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
            4097, 6145, 8193, 12289, 16385, 24577,
        ];
        self.code(0xC5, 8);
        let index = BASE.iter().rposition(|&b| b <= distance).unwrap();
        self.code(index as u32, 5);
        let extra = if index < 4 { 0 } else { (index as u32 - 2) / 2 };
        self.put(distance - BASE[index], extra);
    }
}

/// A zlib stream of `prefix`, then `copies` copies of 258 bytes continuing it with period `period`,
/// then `tail`, whose decoded content has the Adler-32 `adler`.
fn zlib_periodic(prefix: &[u8], period: u32, copies: u64, tail: &[u8], adler: u32) -> Vec<u8> {
    let mut bits = Bits { out: vec![0x78, 0x01], ..Bits::default() };
    // One final block with the fixed codes.
    bits.put(1, 1);
    bits.put(1, 2);
    prefix.iter().for_each(|&b| bits.literal(b));
    (0..copies).for_each(|_| bits.copy_258(period));
    tail.iter().for_each(|&b| bits.literal(b));
    bits.code(0, 7);
    bits.put(0, 7);
    let mut out = bits.out;
    out.extend(adler.to_be_bytes());
    out
}

const ADLER_MOD: u64 = 65521;

fn adler32(bytes: &[u8]) -> (u64, u64) {
    bytes.iter().fold((1, 0), |(a, b), &x| ((a + u64::from(x)) % ADLER_MOD, (b + a + u64::from(x)) % ADLER_MOD))
}

/// The Adler-32 of `start` (as [`adler32`] gives it) followed by `n` bytes `byte`, without reading them.
fn adler32_extended((a, b): (u64, u64), byte: u8, n: u64) -> u32 {
    let (n, v) = (u128::from(n), u128::from(byte));
    let (a0, b0, m) = (u128::from(a), u128::from(b), u128::from(ADLER_MOD));
    let a1 = (a0 + v * n) % m;
    let b1 = (b0 + n * a0 + v * (n * (n + 1) / 2)) % m;
    ((b1 << 16) | a1) as u32
}

/// The longest run of `data` that repeats itself `period` bytes back: (start, end).
fn periodic_run(data: &[u8], period: usize) -> (usize, usize) {
    let (mut best, mut start) = ((0, 0), period);
    for k in period..=data.len() {
        if k == data.len() || data[k] != data[k - period] {
            if k - start > best.1 - best.0 {
                best = (start, k);
            }
            start = k + 1;
        }
    }
    best
}

/// A scanned-looking PDF of a few kilobytes whose one page's content is three nested Flate
/// streams inflating to [`BOMB_BYTES`]: the drawing of its image, then spaces.
fn bomb_pdf() -> Vec<u8> {
    let drawing = b"q 144 0 0 72 0 0 cm /Im0 Do Q ";
    let spaces = (BOMB_BYTES - drawing.len() as u64) / 258;
    // Stage 3: the content, `drawing` then spaces copied from one byte back.
    let content_adler = adler32_extended(adler32(drawing), b' ', spaces * 258);
    let inner = zlib_periodic(drawing, 1, spaces, b"", content_adler);
    // Stage 2: the inner stream repeats itself every 13 bytes (8 copies of 13 bits); copy that.
    let (start, end) = periodic_run(&inner, 13);
    let copies = ((end - start) / 258) as u64;
    let (a, b) = adler32(&inner);
    let middle =
        zlib_periodic(&inner[..start], 13, copies, &inner[start + copies as usize * 258..], ((b << 16) | a) as u32);
    // Stage 1: ordinary Flate of the middle stream.
    let mut content = Stream::new(dictionary! {}, middle);
    content.compress().unwrap();
    content.dict.set("Filter", vec![Object::from("FlateDecode"), "FlateDecode".into(), "FlateDecode".into()]);

    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let image = Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 2, "Height" => 1, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        vec![0, 255],
    );
    let image_id = doc.add_object(image);
    let content_id = doc.add_object(content);
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 144.into(), 72.into()],
        "Contents" => content_id, "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
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

/// Runs `command` to its end and returns its status, its standard error and its peak resident memory
/// in bytes. The peak is taken by a small Python parent (`getrusage` of its one child), not by `wait4`
/// from here: Linux counts the peak of the process that starts a program into that program's peak
/// (at `exec`), and this test process, beside the other tests, can itself peak higher than the bound.
fn run_measured(command: &Command) -> (ExitStatus, String, u64) {
    const MEASURE: &str = "import resource, subprocess, sys\n\
                           p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n\
                           sys.stderr.buffer.write(p.stderr)\n\
                           print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
                           sys.exit(p.returncode)";
    let mut measured = Command::new(crate::util::venv_python());
    measured.arg("-c").arg(MEASURE).arg(command.get_program()).args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => measured.env(name, value),
            None => measured.env_remove(name),
        };
    }
    let out = measured.output().unwrap();
    let kib: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("the peak, in KiB");
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned(), kib * 1024)
}

/// The peak resident memory of a running process, in bytes, from `/proc` (its own address space's
/// high-water mark, so nothing of the process that started it).
fn peak_of_running(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/PID/status");
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(300), "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn hole02_nested_flate_bomb_is_refused() {
    let bomb = bomb_pdf();
    assert!(bomb.len() < 16 * 1024, "the bomb is {} bytes", bomb.len());

    // The importer refuses it while decoding the second of its three stages, naming the limit.
    let importer = scanner_driver::FileImporter::new(scanner_driver::ImportLimits::default(), 300.0);
    let e = importer.pages(Path::new("bomb.pdf"), bomb.clone()).unwrap_err().to_string();
    assert!(
        e.contains("stage 2 of 3")
            && e.contains("page 1's content")
            && e.contains("8388608 bytes")
            && e.contains("max_pdf_stream_bytes"),
        "{e}"
    );

    // `sohoa ingest` refuses it with its memory far below what the bomb inflates to.
    let s = Sohoa::new();
    let file = s.dir.path().join("001099012345_HS_bom.pdf");
    std::fs::write(&file, &bomb).unwrap();
    let mut ingest = s.command();
    ingest.args(["ingest", "--owner", "001099012345", "--type", "HS", "--name", "Hồ sơ"]).arg(&file);
    let (status, stderr, peak) = run_measured(&ingest);
    assert!(!status.success(), "the bomb was ingested");
    assert!(stderr.contains("refused before decoding") && stderr.contains("max_pdf_stream_bytes"), "{stderr}");
    assert!(peak < BOMB_BYTES / 16, "sohoa ingest peaked at {peak} bytes");

    // Through the hot folder: refused once, into failed/ with its reason; the server lives on.
    let share = s.dir.path().join("share");
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(&config, format!("[scanner]\ntest_scanner = false\n[hot_folder]\npath = \"{}\"\nsettle_seconds = 0.2\npoll_milliseconds = 100\n", share.display())).unwrap();
    let mut server = s
        .command()
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the share", || share.exists());
    std::fs::write(share.join("001099012345_HS_bom.pdf"), &bomb).unwrap();
    let id = blake3::hash(&bomb).to_hex().to_string();
    let state = s.data().join("hotfolder");
    let reason_file = state.join("failed").join(format!("{id}.reason.txt"));
    wait_until("the bomb's refusal", || reason_file.exists() && state.join("failed").join(&id).exists());
    assert!(server.try_wait().unwrap().is_none(), "the server died on the bomb");
    let reason = std::fs::read_to_string(&reason_file).unwrap();
    assert!(reason.contains("max_pdf_stream_bytes"), "{reason}");
    let listing: serde_json::Value = serde_json::from_str(&s.ok(&["--json", "hotfolder"])).unwrap();
    assert_eq!(listing["pending"].as_array().unwrap().len(), 0, "{listing}");
    assert_eq!(listing["failed"].as_array().unwrap().len(), 1, "refused once: {listing}");
    assert_eq!(listing["failed"][0]["file_name"], "001099012345_HS_bom.pdf");
    assert_eq!(std::fs::read_dir(state.join("processing")).unwrap().count(), 0, "nothing left to retry");
    let server_peak = peak_of_running(server.id());
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(server_peak < BOMB_BYTES / 16, "the server peaked at {server_peak} bytes");
    assert_eq!(open_archive(&s.data()).document_count().unwrap(), 0, "nothing archived");
}

/// The in-process HTTP API of an appliance whose hot folder watches a share beside its data directory.
struct HotFolderLan {
    api: Api,
    data: PathBuf,
    share: PathBuf,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for HotFolderLan {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl HotFolderLan {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (data, share) = (dir.path().join("var"), dir.path().join("share"));
        let config = Config {
            scanner: ScannerConfig { test_scanner: false, ..ScannerConfig::default() },
            hot_folder: HotFolderConfig {
                path: Some(share.clone()),
                settle_seconds: 0.0,
                poll_milliseconds: 50,
                ..HotFolderConfig::default()
            },
            ..Config::default()
        };
        let appliance = Appliance::open_with(&data, &config).unwrap();
        add_role_users(&appliance);
        let api = Api::with(appliance);
        sohoa::hotfolder::spawn_hot_folder(api.state.appliance.clone()).unwrap();
        HotFolderLan { api, data, share, _dir: dir }
    }
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

fn post(uri: &str, token: Option<&str>, body: serde_json::Value) -> Request<Body> {
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body.to_string())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole03_a_dropped_file_is_signed_only_once_an_operator_confirms_it() {
    let api = HotFolderLan::new();
    let keys = api.data.join("keys");
    let seal_key = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".key"))
        .unwrap();
    let seal_secret = std::fs::read(&seal_key).unwrap();
    let victim = api.data.parent().unwrap().join("victim.txt");
    std::fs::write(&victim, b"ORIGINAL").unwrap();

    let (page, note) = (page_png(1), page_png(2));
    let (page_id, note_id) = (blake3::hash(&page).to_hex().to_string(), blake3::hash(&note).to_hex().to_string());
    // The attacks: the seal key linked into the share under a name that sets an owner, a FIFO, and
    // a link planted where the rejected file's reason will be written.
    std::os::unix::fs::symlink(&seal_key, api.share.join("001099012345_HS_khóa.pdf")).unwrap();
    make_fifo(&api.share.join("ống.pdf"));
    std::os::unix::fs::symlink(&victim, api.data.join("hotfolder/failed").join(format!("{note_id}.reason.txt")))
        .unwrap();
    std::fs::write(api.share.join("001099012345_GKS_Giấy khai sinh.png"), &page).unwrap();
    std::fs::write(api.share.join("ghi chú.png"), &note).unwrap();

    let operator = api.login("operator").await;
    let pending = || async {
        let (status, json) = api.json(get("/api/hotfolder", Some(&operator))).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        json
    };
    let start = Instant::now();
    let listing = loop {
        let listing = pending().await;
        if listing["pending"].as_array().unwrap().len() == 2 {
            break listing;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the files never waited for confirmation: {listing}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let first = listing["pending"].as_array().unwrap().iter().find(|f| f["id"] == page_id.as_str()).unwrap().clone();
    assert_eq!(
        (first["owner"].as_str(), first["type"].as_str(), first["name"].as_str()),
        (Some("001099012345"), Some("GKS"), Some("Giấy khai sinh"))
    );
    assert_eq!(
        (first["size"].as_u64(), first["file_name"].as_str()),
        (Some(page.len() as u64), Some("001099012345_GKS_Giấy khai sinh.png"))
    );
    assert!(first["received_at"].as_str().unwrap().ends_with("+07:00"), "{first}");
    assert_eq!(api.state.appliance.archive().document_count().unwrap(), 0, "archived before anyone confirmed it");

    // Only a logged-in operator or admin sees and decides.
    let confirm_uri = format!("/api/hotfolder/{page_id}/confirm");
    assert_eq!(api.json(get("/api/hotfolder", None)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.json(post(&confirm_uri, None, serde_json::json!({}))).await.0, StatusCode::UNAUTHORIZED);
    for role in [Role::Officer, Role::Archivist, Role::Auditor] {
        let token = api.login(role.as_str()).await;
        assert_eq!(api.json(get("/api/hotfolder", Some(&token))).await.0, StatusCode::FORBIDDEN, "{role}");
        assert_eq!(
            api.json(post(&confirm_uri, Some(&token), serde_json::json!({}))).await.0,
            StatusCode::FORBIDDEN,
            "{role}"
        );
        assert_eq!(
            api.json(post(
                &format!("/api/hotfolder/{note_id}/reject"),
                Some(&token),
                serde_json::json!({ "reason": "x" })
            ))
            .await
            .0,
            StatusCode::FORBIDDEN,
            "{role}"
        );
    }
    assert_eq!(
        api.json(post("/api/hotfolder/not-an-id/confirm", Some(&operator), serde_json::json!({}))).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, json) = api.json(post(&confirm_uri, Some(&operator), serde_json::json!({ "owner": "12345" }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a wrong correction is refused: {json}");
    assert_eq!(api.state.appliance.archive().document_count().unwrap(), 0);

    // The operator confirms, correcting the name: archived in the operator's name.
    let (status, json) =
        api.json(post(&confirm_uri, Some(&operator), serde_json::json!({ "name": "Giấy khai sinh (bản sao)" }))).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["document"]["stage"], "captured", "{json}");
    let code: domain::DocumentCode = json["document"]["code"].as_str().unwrap().parse().unwrap();
    // What a served appliance's readers do: the captured file is read, signed and archived.
    assert_eq!(api.state.appliance.read_queue(&mut |_, _| {}), 1);
    let record = api.state.appliance.record(&code).unwrap();
    assert_eq!((record.metadata.operator(), record.metadata.name()), ("operator", "Giấy khai sinh (bản sao)"));
    assert_eq!(record.metadata.owner().map(|o| o.as_str().to_owned()), Some("001099012345".into()));
    let trail = api.state.appliance.archive().audit_trail(Some(&code.to_string())).unwrap();
    assert!(trail.iter().any(|e| e.action == "hotfolder-confirm" && e.actor == "operator"), "{trail:?}");
    assert!(trail.iter().all(|e| e.actor == "operator"), "{trail:?}");
    assert_eq!(
        api.json(post(&confirm_uri, Some(&operator), serde_json::json!({}))).await.0,
        StatusCode::NOT_FOUND,
        "confirmed twice"
    );

    // The admin rejects the other: refused with the reason and who gave it, never archived.
    let admin = api.login("admin").await;
    let (status, json) = api
        .json(post(
            &format!("/api/hotfolder/{note_id}/reject"),
            Some(&admin),
            serde_json::json!({ "reason": "không phải hồ sơ" }),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let listing = pending().await;
    assert_eq!(listing["pending"].as_array().unwrap().len(), 0, "{listing}");
    let failed = listing["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{listing}");
    assert_eq!(
        (failed[0]["id"].as_str(), failed[0]["reason"].as_str()),
        (Some(note_id.as_str()), Some("rejected by admin: không phải hồ sơ"))
    );
    let trail = api.state.appliance.archive().audit_trail(Some(&note_id)).unwrap();
    assert!(trail.iter().any(|e| e.action == "hotfolder-reject" && e.actor == "admin"), "{trail:?}");
    assert_eq!(api.state.appliance.archive().document_count().unwrap(), 1);

    // Nothing was read through the links or written through them.
    assert_eq!(std::fs::read(&victim).unwrap(), b"ORIGINAL");
    assert!(
        !contains(&all_bytes_under(&api.data.join("hotfolder")), &seal_secret),
        "the seal key leaked into the hot folder's state"
    );
    assert!(!contains(&api.state.appliance.pdf(&code, "operator").unwrap(), &seal_secret));
    assert!(
        std::fs::symlink_metadata(api.share.join("001099012345_HS_khóa.pdf")).unwrap().file_type().is_symlink(),
        "the link stays, unfollowed"
    );

    // done/ is purged after `keep_done_days`.
    let done = api.data.join("hotfolder/done").join(&page_id);
    assert!(done.is_file());
    assert_eq!(api.state.appliance.purge_hot_folder().unwrap(), 0, "purged before its time");
    std::fs::File::options()
        .write(true)
        .open(&done)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(31 * 86_400))
        .unwrap();
    assert_eq!(api.state.appliance.purge_hot_folder().unwrap(), 1);
    assert!(!done.exists());
}

/// Makes a FIFO at `path`.
fn make_fifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}
