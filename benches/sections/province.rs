//! The province section of `make bench`: replication of archived documents to an S3-compatible
//! object store with Object Lock (SeaweedFS on loopback, as the tests run it), by `sohoa replicate`,
//! beside `rclone copy` of the same blob files to the same store. `SOHOA_BENCH_PROVINCE_DOCS`
//! documents (default 200) of 10 pages of 186 KB and a PDF of as much (2 MB each, the archive
//! section's middle case) are committed to an archive first; then `sohoa replicate` copies them
//! with their evidence and the peer copies the archive's blob files (every page image and PDF) to
//! a bucket of its own. Then the same run against Ceph RGW (`scripts/ceph-rgw.sh`), as a
//! conformance run: its locks on sohoa's copies must refuse a deletion and a shorter retention.

use std::path::Path;
use std::process::Command;

use crate::archive_section;
use crate::ceph::Ceph;
use crate::object_store::Weed;

/// The documents' size: the archive section's 2 MB case, whose blobs are all files of their own.
const PAGES: usize = 10;
const PAGE_BYTES: usize = 186 * 1024;

pub fn province_section() {
    let docs: usize = std::env::var("SOHOA_BENCH_PROVINCE_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let work = tempfile::tempdir_in(crate::util::repo()).expect("temporary directory beside the checkout");
    let w = work.path();
    let data = w.join("data");
    commit_documents(&data, docs);
    // Opening the appliance once first indexes the documents for search, which is not replication.
    let opened = Command::new(crate::sohoa_exe()).arg("--data").arg(&data).arg("queue").output();
    assert!(opened.is_ok_and(|o| o.status.success()), "sohoa queue failed");
    // A copy for the conformance run, whose replication starts from the first event too.
    let ceph_data = w.join("data-ceph");
    crate::util::copy_tree(&data, &ceph_data);

    let weed = Weed::start();
    weed.make_locked_bucket("sohoa");
    let store = Store { name: "SeaweedFS", provider: "SeaweedFS", endpoint: weed.endpoint(), env: weed.env() };
    replicate_beside_rclone(&store, &data, w, docs);
    drop(weed);

    // The conformance run: the same documents to Ceph RGW, which must take sohoa's locks and then
    // refuse to delete or shorten them, as the province's store will.
    match Ceph::start() {
        Ok(ceph) => {
            ceph.make_locked_bucket("sohoa");
            let store =
                Store { name: "Ceph RGW", provider: "Ceph", endpoint: ceph.endpoint().to_owned(), env: ceph.env() };
            replicate_beside_rclone(&store, &ceph_data, w, docs);
            conformance(&ceph, &ceph_data, w);
        }
        Err(why) => println!("\n## province: Ceph RGW conformance run skipped: {why}"),
    }
}

/// An S3 store as sohoa and rclone are told of it.
struct Store {
    name: &'static str,
    /// rclone's name for the kind of store.
    provider: &'static str,
    endpoint: String,
    env: Vec<(String, String)>,
}

impl Store {
    fn config(&self, w: &Path) -> std::path::PathBuf {
        let config = w.join(format!("sohoa-{}.toml", self.provider));
        std::fs::write(&config, format!("[replication]\nendpoint = \"{}\"\nbucket = \"sohoa\"\n", self.endpoint))
            .expect("configuration");
        config
    }

    /// `sohoa --config … --data DATA ARGS` against this store.
    fn sohoa(&self, w: &Path, data: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(crate::sohoa_exe());
        command.arg("--config").arg(self.config(w)).arg("--data").arg(data).args(args).envs(self.env.clone());
        command
    }
}

/// `sohoa replicate` of the archive in `data` to `store`, beside `rclone copy` of its blob files to
/// another bucket of the same store, and their figures.
fn replicate_beside_rclone(store: &Store, data: &Path, w: &Path, docs: usize) {
    let blobs = data.join("archive").join("blobs");
    let (files, bytes) = std::fs::read_dir(&blobs)
        .expect("blob directory")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .fold((0u64, 0u64), |(n, b), len| (n + 1, b + len));
    let ours = crate::measure(store.sohoa(w, data, &["replicate"]).stdout(std::process::Stdio::null()));
    let peer = crate::measure(
        Command::new("rclone")
            .arg("copy")
            .arg(&blobs)
            .arg("store:rclone/blobs")
            .args(["--transfers", "4"])
            // rclone's S3 backend fails on a CA bundle named in the environment, which plain HTTP
            // to loopback does not use.
            .env_remove("AWS_CA_BUNDLE")
            .envs(rclone_env(store))
            .stdout(std::process::Stdio::null()),
    );
    let mb = bytes as f64 / 1e6;
    let (ours_s, peer_s) = (ours.wall.as_secs_f64(), peer.wall.as_secs_f64());
    println!(
        "\n## province: replication of {docs} documents of 2 MB ({files} blob files, {mb:.0} MB) to {} on loopback",
        store.name
    );
    println!("| what | sohoa replicate | peer: rclone copy (blob files only) | ratio |\n|---|---:|---:|---:|");
    println!("| MB/s of blob files | {:.1} | {:.1} | {:.2}× |", mb / ours_s, mb / peer_s, peer_s / ours_s);
    println!("| documents/s | {:.1} | {:.1} | |", docs as f64 / ours_s, docs as f64 / peer_s);
    println!("| wall time, s | {ours_s:.1} | {peer_s:.1} | |");
    println!("| peak RSS, MiB | {:.0} | {:.0} | |", ours.max_rss_kib as f64 / 1024.0, peer.max_rss_kib as f64 / 1024.0);
}

/// What Ceph RGW does with sohoa's copies: a locked version cannot be deleted, its retention cannot
/// be shortened, and `sohoa fixity --remote` finds every copy as the archive says.
fn conformance(ceph: &Ceph, data: &Path, w: &Path) {
    println!("\n## province: Ceph RGW conformance (sohoa's copies in a bucket with Object Lock)");
    println!("| check | outcome |\n|---|---|");
    // A content blob, and a document's evidence, which is locked for the permanent period: the date
    // that Ceph wrapped round to the past before sohoa capped it (`layout::LATEST_RETAIN_UNTIL`).
    for prefix in ["blobs/", "documents/"] {
        let (deleted, shortened, key) = try_to_unlock(ceph, prefix);
        println!("| delete a locked version of {key} | {} |", if deleted { "DELETED" } else { "refused" });
        println!("| shorten its COMPLIANCE retention | {} |", if shortened { "SHORTENED" } else { "refused" });
    }
    println!("| sohoa fixity --remote | {} |", store_fixity(ceph, data, w));
}

/// Tries to delete the first version under `prefix` in sohoa's bucket, and to shorten its retention
/// to a minute from now: whether each was done, and the key.
fn try_to_unlock(ceph: &Ceph, prefix: &str) -> (bool, bool, String) {
    use aws_sdk_s3::primitives::DateTime;
    use aws_sdk_s3::types::{ObjectLockRetention, ObjectLockRetentionMode};
    let client = ceph.client();
    let listed = ceph.runtime.block_on(client.list_object_versions().bucket("sohoa").prefix(prefix).max_keys(1).send());
    let listed = listed.expect("versions of sohoa's copies");
    let version = &listed.versions()[0];
    let (key, id) = (version.key().expect("a key"), version.version_id().expect("a version"));
    let shorter = ObjectLockRetention::builder()
        .mode(ObjectLockRetentionMode::Compliance)
        .retain_until_date(DateTime::from_secs(chrono::Utc::now().timestamp() + 60))
        .build();
    let shortened = ceph
        .runtime
        .block_on(client.put_object_retention().bucket("sohoa").key(key).version_id(id).retention(shorter).send());
    let deleted = ceph.runtime.block_on(client.delete_object().bucket("sohoa").key(key).version_id(id).send());
    (deleted.is_ok(), shortened.is_ok(), key.to_owned())
}

/// `sohoa fixity --remote` against Ceph: "intact", or what it said.
fn store_fixity(ceph: &Ceph, data: &Path, w: &Path) -> String {
    let store = Store { name: "Ceph RGW", provider: "Ceph", endpoint: ceph.endpoint().to_owned(), env: ceph.env() };
    let out = store.sohoa(w, data, &["--json", "fixity", "--remote"]).output().expect("sohoa fixity runs");
    if out.status.success() {
        return "intact".to_owned();
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let problems = report["problems"].as_array().cloned().unwrap_or_default();
    let first = problems.first().map_or_else(|| String::from_utf8_lossy(&out.stderr).into_owned(), |p| p.to_string());
    format!("FAILED: {} problems, the first: {first}", problems.len())
}

/// Commits `docs` documents of incompressible pages through the archive, as capture hands them over.
fn commit_documents(data: &Path, docs: usize) {
    let (archive, keys) = archive_section::open(data);
    let mut noise = crate::Rng(0x1234_5678_9abc_def1);
    for i in 0..docs {
        let pages = (0..PAGES).map(|_| noise.fill(PAGE_BYTES)).collect();
        let pdf = noise.fill(PAGE_BYTES);
        let reservation =
            archive.reserve_document_code(Some(&archive_section::owner(i)), &"HS".parse().unwrap()).expect("code");
        archive.commit(archive_section::document(reservation.code().clone(), &keys, pages, pdf)).expect("commit");
    }
}

/// rclone's remote `store:` for the same store, from the environment (no configuration file).
fn rclone_env(store: &Store) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = store
        .env
        .iter()
        .map(|(key, value)| match key.as_str() {
            "AWS_ACCESS_KEY_ID" => ("RCLONE_CONFIG_STORE_ACCESS_KEY_ID".to_owned(), value.clone()),
            "AWS_SECRET_ACCESS_KEY" => ("RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY".to_owned(), value.clone()),
            _ => (key.clone(), value.clone()),
        })
        .collect();
    env.extend([
        ("RCLONE_CONFIG_STORE_TYPE".to_owned(), "s3".to_owned()),
        ("RCLONE_CONFIG_STORE_PROVIDER".to_owned(), store.provider.to_owned()),
        ("RCLONE_CONFIG_STORE_ENDPOINT".to_owned(), store.endpoint.clone()),
        ("RCLONE_CONFIG_STORE_REGION".to_owned(), "us-east-1".to_owned()),
    ]);
    env
}
