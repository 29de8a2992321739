//! Ceph's S3 gateway (RGW) for the province section's conformance run: a one-machine cluster (one
//! monitor, one memory-backed OSD, radosgw) started on loopback by `scripts/ceph-rgw.sh`, which
//! installs Debian's packages when they are missing, and stopped when this is dropped.

use std::path::PathBuf;
use std::process::Command;

use aws_sdk_s3::Client;

use crate::object_store::{client, make_locked_bucket};
use crate::util::repo;

/// A running cluster with an S3 user.
pub struct Ceph {
    dir: tempfile::TempDir,
    endpoint: String,
    access_key: String,
    secret_key: String,
    /// A runtime for the bench's own requests.
    pub runtime: tokio::runtime::Runtime,
}

impl Ceph {
    /// Starts the cluster, or says why it could not.
    pub fn start() -> Result<Ceph, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new(Ceph::script()).arg("start").arg(dir.path().join("cluster")).output();
        let out = out.map_err(|e| format!("scripts/ceph-rgw.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!("scripts/ceph-rgw.sh failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        let env = std::fs::read_to_string(dir.path().join("cluster").join("env")).map_err(|e| e.to_string())?;
        let value = |name: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_owned)
                .ok_or_else(|| format!("scripts/ceph-rgw.sh wrote no {name}"))
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        Ok(Ceph {
            endpoint: value("ENDPOINT")?,
            access_key: value("AWS_ACCESS_KEY_ID")?,
            secret_key: value("AWS_SECRET_ACCESS_KEY")?,
            dir,
            runtime,
        })
    }

    fn script() -> PathBuf {
        repo().join("scripts").join("ceph-rgw.sh")
    }

    /// The S3 endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The environment sohoa needs for it.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID".into(), self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), self.secret_key.clone()),
        ]
    }

    /// A client of the bench's own.
    pub fn client(&self) -> Client {
        client(&self.endpoint, &self.access_key, &self.secret_key)
    }

    /// Makes a bucket with Object Lock enabled.
    pub fn make_locked_bucket(&self, bucket: &str) {
        make_locked_bucket(&self.runtime, &self.client(), bucket);
    }
}

impl Drop for Ceph {
    fn drop(&mut self) {
        let _ = Command::new(Ceph::script()).arg("stop").arg(self.dir.path().join("cluster")).status();
    }
}
