//! Helpers shared by the themes: a data directory with the `sohoa` binary run on it, the test pages
//! (found by `files`, whose helpers are re-exported here) and their ground truth, the independent checkers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub use crate::files::{corpus, corpus_pages, repo};

/// The metadata of a one-stop-shop dossier ("Hồ sơ", type HS) of a citizen, captured now by
/// `operator`, for tests and benchmarks that ingest through the library.
pub fn draft(operator: &str) -> domain::MetadataDraft {
    domain::MetadataDraft {
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
        operator: operator.into(),
        captured_at: domain::vietnam_now(),
    }
}

/// Captures the test page `clean300-001.png` as a document with `fields` on an appliance opened in
/// process, as `actor`; returns its code.
pub fn ingest_page(appliance: &sohoa::Appliance, fields: &sohoa::input::MetadataFields, actor: &str) -> String {
    let page = corpus("clean300-001.png");
    let request = sohoa::IngestRequest {
        metadata: fields.draft(actor.into()).unwrap(),
        pages: vec![(page.clone(), std::fs::read(&page).unwrap())],
        actor: actor.into(),
        source: None,
    };
    appliance.ingest(request, &mut |_| {}).unwrap().code
}

/// Copies a directory tree of regular files.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// The archive of a data directory, opened as the appliance opens it (default configuration), for
/// tests that look behind the commands.
pub fn open_archive(data: &Path) -> archive::Archive {
    let keys = std::sync::Arc::new(sohoa::seals::SealKeys::open_or_create(&data.join("keys")).unwrap());
    let options = sohoa::appliance::archive_options(keys, &sohoa::config::Config::default()).unwrap();
    archive::Archive::open(&data.join("archive"), options).unwrap()
}

/// The Python of the project's venv (made by `scripts/bootstrap.sh`), for the independent checkers.
pub fn venv_python() -> PathBuf {
    let python = repo().join(".venv/bin/python");
    assert!(python.is_file(), "{} is missing: run `make test` (its bootstrap makes the venv)", python.display());
    python
}

/// `qpdf --check` and pikepdf's PDF/A-2b validator on a file; panics with their findings.
///
/// pikepdf's validator does not check signature fields: it reports the `/AcroForm` of a signed file
/// as unsupported and checks everything else. Such a file passes when that is its only finding;
/// the PDF/A rules of the signature widget itself are asserted by the signing tests.
pub fn assert_pdfa(pdf: &Path) {
    let qpdf = Command::new("qpdf").arg("--check").arg(pdf).output().expect("qpdf runs");
    assert!(qpdf.status.success(), "qpdf --check: {}", String::from_utf8_lossy(&qpdf.stdout));
    let check = "import sys, pikepdf, pikepdf.pdfa as a\n\
                 r = a.check(pikepdf.open(sys.argv[1]), '2b')\n\
                 print(r.verdict, r.findings, r.unsupported)\n\
                 only_signature = r.findings and all(f.kind == 'unsupported' and '/AcroForm' in f.where for f in r.findings)\n\
                 sys.exit(0 if r.passed or only_signature else 1)";
    let out = Command::new(venv_python()).args(["-c", check]).arg(pdf).output().expect("python runs");
    assert!(
        out.status.success(),
        "pikepdf.pdfa.check 2b: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The ground truth of a test page.
pub fn ground_truth(page: &str) -> String {
    let stem = page.rsplit_once('.').map(|(s, _)| s).unwrap_or(page);
    let path = corpus(&format!("{stem}.gt.txt"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh data directory and the `sohoa` binary.
pub struct Sohoa {
    pub dir: tempfile::TempDir,
    /// Variables every command gets in its environment (the object store's credentials).
    pub env: Vec<(String, String)>,
}

impl Sohoa {
    pub fn new() -> Self {
        Sohoa { dir: tempfile::tempdir().expect("temporary directory"), env: Vec::new() }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("var")
    }

    /// `sohoa --data <this data directory>`, to add arguments and environment to.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sohoa"));
        command.arg("--data").arg(self.data()).envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("sohoa runs")
    }

    /// Runs a command that must succeed and returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.run(args))
    }

    /// `sohoa --user USER ARGS`, with `input` on standard input (for a login: the password first).
    pub fn run_with_input(&self, user: &str, args: &[&str], input: &[&str]) -> Output {
        use std::io::Write;
        let mut child = self
            .command()
            .args(["--user", user])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sohoa runs");
        let mut stdin = child.stdin.take().expect("piped");
        for line in input {
            writeln!(stdin, "{line}").expect("sohoa reads its standard input");
        }
        drop(stdin);
        child.wait_with_output().expect("sohoa runs")
    }

    /// `sohoa --user USER ARGS`, logged in with the test password.
    pub fn run_as(&self, user: &str, args: &[&str]) -> Output {
        self.run_with_input(user, args, &[PASSWORD])
    }

    /// [`run_as`](Self::run_as) a command that must succeed; returns its standard output.
    pub fn ok_as(&self, user: &str, args: &[&str]) -> String {
        succeeded(args, self.run_as(user, args))
    }

    /// Creates users `(name, role)` with the test password: the first, an admin, before any user
    /// exists, the others logged in as it.
    pub fn add_users(&self, users: &[(&str, &str)]) {
        let (admin, role) = users[0];
        assert_eq!(role, "admin");
        let out = self
            .command()
            .args(["users", "add", admin, "--role", "admin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                writeln!(child.stdin.take().expect("piped"), "{PASSWORD}")?;
                child.wait_with_output()
            });
        assert!(out.expect("sohoa runs").status.success(), "the first user is made without a login");
        for (name, role) in &users[1..] {
            succeeded(
                &["users", "add"],
                self.run_with_input(admin, &["users", "add", name, "--role", role], &[PASSWORD, PASSWORD]),
            );
        }
    }
}

/// The password of the users tests make.
pub const PASSWORD: &str = "mật-khẩu-thử-nghiệm";

/// The standard output of a command that must have succeeded.
fn succeeded(args: &[&str], out: Output) -> String {
    assert!(out.status.success(), "sohoa {args:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The text of the QR code on page 1 of a PDF, read from a 200 dpi rendering by zbar.
pub fn qr_text(pdf: &Path) -> String {
    let root = pdf.with_extension("page-1");
    let render = Command::new("pdftoppm")
        .args(["-f", "1", "-l", "1", "-r", "200", "-png", "-singlefile"])
        .arg(pdf)
        .arg(&root)
        .output()
        .unwrap();
    assert!(render.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&render.stderr));
    let out = Command::new("zbarimg")
        .args(["-q", "--raw"])
        .arg(format!("{}.png", root.display()))
        .output()
        .expect("zbarimg runs (Debian zbar-tools)");
    assert!(out.status.success(), "zbar found no QR code on page 1");
    String::from_utf8(out.stdout).unwrap()
}

/// `pdftotext` of one page of a PDF.
pub fn pdftotext(pdf: &Path, page: u32) -> String {
    let out = Command::new("pdftotext")
        .args(["-f", &page.to_string(), "-l", &page.to_string(), "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs (Debian poppler-utils, installed by the bootstrap)");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

/// The OCR text layer of one page: `pdftotext` without the lines of the signature blocks that
/// signing draws on page 1 (the operator's and the agency's, default configuration), which are not
/// the page's own text and would count as OCR errors.
pub fn ocr_layer(pdf: &Path, page: u32) -> String {
    const BLOCK_PREFIXES: [&str; 3] = ["Người số hoá: ", "Thời gian số hoá: ", "Thời gian ký: "];
    const BLOCK_LINES: [&str; 2] = ["SAO Y", "Cơ quan thử nghiệm sohoa"];
    pdftotext(pdf, page)
        .lines()
        .filter(|l| !BLOCK_PREFIXES.iter().any(|p| l.starts_with(p)) && !BLOCK_LINES.contains(&l.trim()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A small gray page, different for each `seed`.
pub fn page_png(seed: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(96, 64, |x, y| {
        image::Luma([if (y < 40 && (x + y * 3 + seed).is_multiple_of(17)) || (x, y) == (seed % 96, 50) {
            0
        } else {
            255
        }])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

/// A `sohoa serve` on a free loopback port, with the URL it printed, logging JSON to a file.
pub struct Server {
    child: Child,
    /// Where it serves, without a trailing slash.
    pub url: String,
}

impl Server {
    pub fn start(sohoa: &Sohoa, config: &Path, log: &Path) -> Server {
        Server::start_on(sohoa, config, log, "127.0.0.1:0")
    }

    pub fn start_on(sohoa: &Sohoa, config: &Path, log: &Path, listen: &str) -> Server {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let mut child = sohoa
            .command()
            .arg("--config")
            .arg(config)
            .args(["serve", "--listen", listen, "--log-format", "json"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("sohoa serve printed where it serves").unwrap();
            if let Some(rest) = line.strip_prefix("sohoa is serving on ") {
                break rest.split_whitespace().next().unwrap().trim_end_matches('/').to_owned();
            }
        };
        // The rest of the output is drained so that the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, url }
    }

    /// SIGKILL: the appliance is given no chance to finish anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on the child's own pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) }, 0);
        self.child.wait().unwrap()
    }
}

/// A server that a test neither killed nor stopped (it ended, or it failed) is killed with it: the
/// process would otherwise outlive the test binary, serving from a data directory already deleted.
impl Drop for Server {
    fn drop(&mut self) {
        // After `kill` or `stop` the child is reaped, and std sends no signal to a reaped child.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
