//! The province section of `make bench`: replication of archived documents to an S3-compatible
//! object store with Object Lock (SeaweedFS on loopback, as the tests run it), by `sohoa replicate`,
//! beside `rclone copy` of the same blob files to the same store. `SOHOA_BENCH_PROVINCE_DOCS`
//! documents (default 200) of 10 pages of 186 KB and a PDF of as much (2 MB each, the archive
//! section's middle case) are committed to an archive first; then `sohoa replicate` copies them
//! with their evidence and the peer copies the archive's blob files (every page image and PDF) to
//! a bucket of its own.

use std::path::Path;
use std::process::Command;

use crate::archive_section;
use crate::object_store::Weed;

/// The documents' size: the archive section's 2 MB case, whose blobs are all files of their own.
const PAGES: usize = 10;
const PAGE_BYTES: usize = 186 * 1024;

pub fn province_section() {
    let docs: usize = std::env::var("SOHOA_BENCH_PROVINCE_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let work = tempfile::tempdir_in(crate::util::repo()).expect("temporary directory beside the checkout");
    let w = work.path();
    let weed = Weed::start();
    weed.make_locked_bucket("sohoa");
    let data = w.join("data");
    commit_documents(&data, docs);
    let blobs = data.join("archive").join("blobs");
    let (files, bytes) = std::fs::read_dir(&blobs)
        .expect("blob directory")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .fold((0u64, 0u64), |(n, b), len| (n + 1, b + len));

    let config = w.join("sohoa.toml");
    std::fs::write(&config, weed.config("sohoa")).expect("configuration");
    // Opening the appliance once first indexes the documents for search, which is not replication.
    let opened = Command::new(crate::sohoa_exe()).arg("--data").arg(&data).arg("queue").output();
    assert!(opened.is_ok_and(|o| o.status.success()), "sohoa queue failed");
    let ours = crate::measure(
        Command::new(crate::sohoa_exe())
            .arg("--config")
            .arg(&config)
            .arg("--data")
            .arg(&data)
            .arg("replicate")
            .envs(weed.env())
            .stdout(std::process::Stdio::null()),
    );
    let peer = crate::measure(
        Command::new("rclone")
            .arg("copy")
            .arg(&blobs)
            .arg("store:rclone/blobs")
            .args(["--transfers", "4"])
            // rclone's S3 backend fails on a CA bundle named in the environment, which plain HTTP
            // to loopback does not use.
            .env_remove("AWS_CA_BUNDLE")
            .envs(rclone_env(&weed))
            .stdout(std::process::Stdio::null()),
    );
    let mb = bytes as f64 / 1e6;
    let (ours_s, peer_s) = (ours.wall.as_secs_f64(), peer.wall.as_secs_f64());
    println!(
        "\n## province: replication of {docs} documents of 2 MB ({files} blob files, {mb:.0} MB) to SeaweedFS on loopback"
    );
    println!("| what | sohoa replicate | peer: rclone copy (blob files only) | ratio |\n|---|---:|---:|---:|");
    println!("| MB/s of blob files | {:.1} | {:.1} | {:.2}× |", mb / ours_s, mb / peer_s, peer_s / ours_s);
    println!("| documents/s | {:.1} | {:.1} | |", docs as f64 / ours_s, docs as f64 / peer_s);
    println!("| wall time, s | {ours_s:.1} | {peer_s:.1} | |");
    println!("| peak RSS, MiB | {:.0} | {:.0} | |", ours.max_rss_kib as f64 / 1024.0, peer.max_rss_kib as f64 / 1024.0);
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
fn rclone_env(weed: &Weed) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = weed
        .env()
        .into_iter()
        .map(|(key, value)| match key.as_str() {
            "AWS_ACCESS_KEY_ID" => ("RCLONE_CONFIG_STORE_ACCESS_KEY_ID".to_owned(), value),
            "AWS_SECRET_ACCESS_KEY" => ("RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY".to_owned(), value),
            _ => (key, value),
        })
        .collect();
    env.extend([
        ("RCLONE_CONFIG_STORE_TYPE".to_owned(), "s3".to_owned()),
        ("RCLONE_CONFIG_STORE_PROVIDER".to_owned(), "SeaweedFS".to_owned()),
        ("RCLONE_CONFIG_STORE_ENDPOINT".to_owned(), weed.endpoint()),
        ("RCLONE_CONFIG_STORE_REGION".to_owned(), "us-east-1".to_owned()),
    ]);
    env
}
