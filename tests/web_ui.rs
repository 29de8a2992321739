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

#[test]
fn the_scanning_station_scans_a_feeder_batch_live_and_seals_it() {
    let browsed = Browsed::start("station");
    browsed.run(&["journey_station"]);
}
