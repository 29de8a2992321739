//! The other offices' logs witnessed from their published checkpoints (`sohoa fixity --province`),
//! against a real object store: office B finds office A's history consistent as it grows, reads only
//! what is new on the next run, reports a fork when a copy of A's data directory (a restore from
//! an old backup that then lived on) publishes another history under A's name, and refuses
//! checkpoints signed by a key it has not pinned.

use crate::object_store::Weed;
use crate::replication::{ingest, replicate, with_config};
use crate::util::{Sohoa, copy_tree};

const ORIGIN: &str = "a.tinh.example.gov.vn/sohoa";

/// Office A: replicating to its own bucket, with its own log origin.
fn office_a(weed: &Weed) -> (Sohoa, std::path::PathBuf) {
    let mut s = Sohoa::new();
    s.env = weed.env();
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(&config, format!("[archive]\norigin = \"{ORIGIN}\"\n{}", weed.config("sohoa-office-a"))).unwrap();
    (s, config)
}

/// Office B, pinning `key` as A's seal key.
fn office_b(weed: &Weed, key: &str) -> (Sohoa, std::path::PathBuf) {
    let mut s = Sohoa::new();
    s.env = weed.env();
    let config = s.dir.path().join("sohoa.toml");
    let province = format!(
        "[province]\noffice = \"UBND phường B\"\n[[province.peers]]\noffice = \"UBND phường A\"\norigin = \"{ORIGIN}\"\nkeys = [\"{key}\"]\nbucket = \"sohoa-office-a\"\n"
    );
    std::fs::write(&config, format!("{}{province}", weed.config("sohoa-office-b"))).unwrap();
    (s, config)
}

/// A document archived and a checkpoint made at A, then replicated.
fn grow(a: &Sohoa, config: &std::path::Path, owner: &str) {
    ingest(a, owner, "GKS");
    assert!(with_config(a, config, &["log", "checkpoint"]).status.success());
    replicate(a, config);
}

/// `sohoa --json fixity --province` at B: whether it passed, and its report.
fn witness(b: &Sohoa, config: &std::path::Path) -> (bool, serde_json::Value) {
    let out = with_config(b, config, &["--json", "fixity", "--province"]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.success(), report)
}

#[test]
fn a_peer_log_is_witnessed_as_it_grows_and_a_fork_or_an_unpinned_key_is_reported() {
    let weed = Weed::start();
    weed.make_locked_bucket("sohoa-office-a");
    weed.make_locked_bucket("sohoa-office-b");
    let (a, a_config) = office_a(&weed);
    let keys: serde_json::Value = serde_json::from_str(&a.ok(&["--json", "keys", "export"])).unwrap();
    let a_key = keys["current"].as_str().unwrap().to_owned();
    grow(&a, &a_config, "079099000001");
    grow(&a, &a_config, "079099000002");

    let (b, b_config) = office_b(&weed, &a_key);
    let (intact, report) = witness(&b, &b_config);
    assert!(intact, "{report}");
    let peer = &report["peers"][0];
    assert_eq!(peer["office"], "UBND phường A");
    assert!(peer["checkpoints"].as_u64().unwrap() >= 2, "{report}");
    let size = peer["witnessed_size"].as_u64().unwrap();
    assert!(size >= 2, "{report}");

    // The next run reads only what A published since.
    let (intact, report) = witness(&b, &b_config);
    assert!(intact && report["peers"][0]["checkpoints"] == 0, "{report}");
    grow(&a, &a_config, "079099000003");
    let (intact, report) = witness(&b, &b_config);
    assert!(intact, "{report}");
    assert!(report["peers"][0]["checkpoints"].as_u64().unwrap() >= 1, "{report}");
    assert!(report["peers"][0]["witnessed_size"].as_u64().unwrap() > size, "{report}");

    // A copy of A's data directory lives on beside A, under A's name and key: each archives another
    // document, and both publish a checkpoint of the same size with another root. The copy first
    // makes an audited request more, so that its checkpoint's name differs from A's.
    let copy = Sohoa { dir: tempfile::tempdir().unwrap(), env: weed.env() };
    copy_tree(&a.data(), &copy.data());
    grow(&a, &a_config, "079099000004");
    copy.ok(&["--json", "keys", "export"]);
    grow(&copy, &a_config, "079099000005");
    let (intact, report) = witness(&b, &b_config);
    assert!(!intact, "a fork passed: {report}");
    let problems = report["peers"][0]["problems"].to_string();
    assert!(problems.contains("fork") || problems.contains("rewritten"), "{report}");
    // The witness stays before the fork, so that it is reported again until someone acts.
    let (intact, again) = witness(&b, &b_config);
    assert!(!intact && again["peers"][0]["problems"] == report["peers"][0]["problems"], "{again}");

    // An office that pinned another key takes none of A's checkpoints.
    let b_key: serde_json::Value = serde_json::from_str(&b.ok(&["--json", "keys", "export"])).unwrap();
    let (c, c_config) = office_b(&weed, b_key["current"].as_str().unwrap());
    let (intact, report) = witness(&c, &c_config);
    assert!(!intact && report["peers"][0]["witnessed_size"].is_null(), "{report}");
    assert!(report["peers"][0]["problems"].to_string().contains("not pinned"), "{report}");
}
