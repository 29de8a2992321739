//! A private PostgreSQL cluster (Debian's server, the newest installed under `/usr/lib/postgresql`)
//! for the province tests and the benchmarks: made by `initdb` in a directory of its own, run as
//! the `postgres` system user (`runuser`; the tests run as root), listening only on a Unix socket in
//! that directory, stopped and started again for the outage tests, and stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster, or one stopped for a while.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    options: String,
    running: bool,
    /// Removed when the cluster is dropped, after it is stopped.
    _temp: tempfile::TempDir,
}

impl Postgres {
    /// Makes a cluster in a new temporary directory under `parent` and starts it with the server
    /// options `extra` (`-c name=value …`) besides its socket.
    pub fn start_in(parent: &Path, extra: &str) -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Debian's PostgreSQL server (installed by the bootstrap)")
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .max()
            .expect("a PostgreSQL version");
        let temp = tempfile::tempdir_in(parent).expect("temporary directory");
        let dir = temp.path().to_owned();
        // The server runs as its own user, which must reach its directory.
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let status = Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().unwrap();
        assert!(status.success());
        let data = dir.join("data");
        run(&[
            bin.join("initdb").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-E",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "-A",
            "trust",
        ]);
        let options = format!("-k {} -c listen_addresses='' {extra}", dir.display());
        let mut pg = Postgres { dir, bin, options, running: false, _temp: temp };
        pg.resume();
        pg
    }

    /// Starts the cluster again on the same data, and waits until it answers.
    pub fn resume(&mut self) {
        assert!(!self.running, "the cluster is already running");
        run(&[
            self.bin.join("pg_ctl").to_str().unwrap(),
            "-D",
            self.dir.join("data").to_str().unwrap(),
            "-o",
            &self.options,
            "-w",
            "-l",
            self.dir.join("log").to_str().unwrap(),
            "start",
        ]);
        self.running = true;
    }

    /// Stops the cluster at once (`-m immediate`: as a crash or a pulled cable would), keeping its
    /// data.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D"])
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        self.running = false;
    }

    /// The connection string of the cluster's `postgres` database, as `[province] index` takes it.
    pub fn conninfo(&self) -> String {
        format!("host={} user=postgres dbname=postgres", self.dir.display())
    }

    /// A client of the tests' own.
    pub fn connect(&self) -> postgres::Client {
        postgres::Client::connect(&self.conninfo(), postgres::NoTls).expect("connects to the private cluster")
    }
}

/// Runs a server program as the `postgres` user; it must succeed.
fn run(args: &[&str]) {
    let out = Command::new("runuser").args(["-u", "postgres", "--"]).args(args).output().expect("runuser");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
