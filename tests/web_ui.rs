//! Issue 20's acceptance: the web UI in real headless Chromium (Debian's `chromium`), driven by
//! Playwright from Python (`tests/browser/`, in the venv the bootstrap makes), against a real
//! `sohoa serve` on loopback. One server, the journeys in order (the document the operator seals is
//! the one the officer finds); every screen a journey passes is saved as a screenshot under
//! `$CARGO_TARGET_TMPDIR/web-ui/` and checked with axe-core.

use std::path::PathBuf;
use std::process::Command;

use crate::util::{PASSWORD, Server, Sohoa, repo, venv_python};

/// The appliance's people: one account per role, and a second archivist for destruction's
/// second person.
const PEOPLE: &[(&str, &str)] = &[
    ("admin", "admin"),
    ("lan", "operator"),
    ("minh", "officer"),
    ("hoa", "archivist"),
    ("tuan", "archivist"),
    ("thu", "auditor"),
];

/// A served appliance with its people, and where the journeys' screenshots go.
pub struct Browsed {
    pub sohoa: Sohoa,
    pub server: Server,
    pub out: PathBuf,
}

impl Browsed {
    /// Serves a new appliance (the SANE test scanner enabled, as in the embedded default) for the
    /// journeys named `name`.
    pub fn start(name: &str) -> Browsed {
        let sohoa = Sohoa::new();
        sohoa.add_users(PEOPLE);
        let config = sohoa.dir.path().join("sohoa.toml");
        std::fs::write(&config, "").unwrap();
        let server = Server::start(&sohoa, &config, &sohoa.dir.path().join("serve.log"));
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-ui").join(name);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        Browsed { sohoa, server, out }
    }

    /// Runs the journeys (modules of `tests/browser/`) in one browser, in order; panics with their
    /// output when one fails. Returns what they printed.
    pub fn run(&self, journeys: &[&str]) -> String {
        let out = Command::new(venv_python())
            .arg(repo().join("tests/browser/run.py"))
            .args(["--url", &self.server.url, "--password", PASSWORD, "--out"])
            .arg(&self.out)
            .args(journeys)
            .output()
            .expect("the browser tests' Python runs");
        let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(
            out.status.success(),
            "journeys {journeys:?} failed; screenshots in {}:\n{printed}\nserver log:\n{}",
            self.out.display(),
            std::fs::read_to_string(self.sohoa.dir.path().join("serve.log")).unwrap_or_default()
        );
        printed
    }
}

#[test]
fn the_login_form_leads_each_role_to_its_first_screen() {
    let browsed = Browsed::start("login");
    browsed.run(&["journey_login"]);
}

/// The five journeys on one appliance, in the order a document lives them: the operator scans
/// and seals it; the officer finds it without diacritics, sees every check green, downloads it and
/// records its reuse; the archivist places a hold on its owner, and a destruction of the owner's other
/// document is refused naming the hold; the auditor follows it in the trail; anyone verifies the
/// downloaded copy on the public page, which says "altered" for one changed byte; a wrong personal ID
/// is said in Vietnamese beside its field and nothing is archived. Then every screen of every role is
/// weighed and checked with axe-core, the document's own pages among them.
#[test]
fn the_journeys_from_the_counter_to_the_public_page() {
    let browsed = Browsed::start("journeys");
    let printed = browsed.run(&[
        "journey_station",
        "journey_officer",
        "journey_archivist",
        "journey_auditor",
        "journey_public",
        "journey_wrong_id",
        "journey_screens",
    ]);
    println!("{printed}");
}

#[test]
fn the_receipt_prints_the_document_and_its_verification_link_as_a_qr_code() {
    let browsed = Browsed::start("receipt");
    browsed.run(&["journey_receipt"]);
}

#[test]
fn the_hot_folder_panel_lists_waiting_and_refused_files_and_decides_them() {
    let browsed = Browsed::start("hotfolder");
    let inbox = browsed.sohoa.data().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(inbox.join("001099012345_GPXD_Giay phep xay dung.png"), crate::util::page_png(3)).unwrap();
    std::fs::write(inbox.join("trang-le.png"), crate::util::page_png(5)).unwrap();
    std::fs::write(inbox.join("hong.png"), b"\x89PNG\r\n\x1a\nnot a picture").unwrap();
    browsed.run(&["journey_hotfolder"]);
}

#[test]
fn the_admin_sees_the_dashboard_and_manages_users_tokens_and_the_configuration() {
    let browsed = Browsed::start("admin");
    browsed.run(&["journey_admin"]);
}
