//! The archive's commands on a real appliance: revocation and holds as verification and search see
//! them, disposition by two people, fixity, the log's proofs, the audit trail, backup and restore,
//! and BagIt bags that Python's `bagit` validates and a second appliance imports after verifying.

use std::process::Command;

use crate::util::{Sohoa, corpus, open_archive, venv_python};

/// Ingests one corpus page as a document of `owner` and type `doc_type`; returns its code.
fn ingest(s: &Sohoa, owner: &str, doc_type: &str, extra: &[&str]) -> String {
    let page = corpus("clean300-001.png");
    let mut args = vec!["ingest", "--owner", owner, "--type", doc_type, "--name", "Quyết định cấp phép"];
    args.extend_from_slice(extra);
    args.push(page.to_str().unwrap());
    s.ok(&args).trim().to_owned()
}

/// Runs a command as the archivist `alice`, which must fail saying `expected`.
fn fails(s: &Sohoa, args: &[&str], expected: &str) {
    let out = s.run_as("alice", args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded: {}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
}

#[test]
fn revocation_holds_disposition_log_audit_and_fixity_from_the_command_line() {
    let s = Sohoa::new();
    s.add_users(&[("admin", "admin"), ("alice", "archivist"), ("bob", "archivist"), ("olga", "officer")]);
    let kept = ingest(&s, "001099012345", "QD", &["--issued", "2001-02-03"]);
    let doomed = ingest(&s, "001099054321", "QD", &["--issued", "2001-02-03"]);
    assert!(s.ok(&["verify", &kept]).contains("ok   archive log: leaf 0 is in the log"), "verify names the log check");

    // A hold on the owner blocks revocation; released, the revocation goes through and verify says so.
    let hold = s.ok_as("alice", &["--json", "hold", "--owner", "001099012345", "--reason", "vụ án 12/2026"]);
    let hold: serde_json::Value = serde_json::from_str(&hold).unwrap();
    assert_eq!(hold["documents"][0], kept.as_str());
    fails(&s, &["revoke", &kept, "--reason", "cấp sai"], "held");
    s.ok_as("alice", &["release", &hold["hold"].to_string()]);
    s.ok_as("olga", &["revoke", &kept, "--reason", "cấp sai đối tượng"]);
    let out = s.run(&["verify", &kept]);
    assert!(!out.status.success());
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("FAIL status: revoked") && report.contains("cấp sai đối tượng"), "{report}");
    fails(&s, &["revoke", "001099012345.QD.99", "--reason", "x"], "no archived document");
    fails(&s, &["revoke", &doomed, "--reason", "  "], "reason is required");

    // Disposition. QD is not in the built-in schedule, so it is permanent; the archivist gives the
    // document a 20-year class, which makes it eligible from 2021-02-04 (issued 2001-02-03).
    s.ok_as("alice", &["retention", "set", &doomed, "20y", "--reason", "danh mục hồ sơ 2026"]);
    assert!(s.ok_as("alice", &["dispose", "mark", "--today", "2021-02-03"]).starts_with("0 documents"));
    assert!(s.ok_as("alice", &["dispose", "mark", "--today", "2021-02-04"]).contains(&doomed));
    s.ok_as("alice", &["dispose", "review", &doomed, "--approve"]);
    s.ok_as("alice", &["dispose", "request", &doomed, "--decision", "07/QĐ-HĐXĐGTTL", "--decision-date", "2026-02-01"]);
    fails(&s, &["dispose", "confirm", &doomed], "second person");
    let report_file = s.dir.path().join("destruction.json");
    s.ok_as("bob", &["dispose", "confirm", &doomed, "--report", report_file.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    assert_eq!(report["report"]["decision"]["number"], "07/QĐ-HĐXĐGTTL");
    assert_eq!(report["report"]["requested_by"], "alice");
    let out = s.run(&["verify", &doomed]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && text.contains("FAIL status: destroyed") && text.contains("ok   destruction report"),
        "{text}"
    );
    assert!(s.ok(&["search", "quyết định"]).lines().all(|l| !l.starts_with(&doomed)), "destroyed text left the index");
    fails(&s, &["get", &doomed, "-o", s.dir.path().join("x.pdf").to_str().unwrap()], "missing");

    // The log: a signed checkpoint, a proof per document, consistency with an earlier checkpoint.
    let note = s.ok(&["log", "checkpoint"]);
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    assert_eq!(size, 4, "2 archived, 1 revoked, 1 destroyed:\n{note}");
    assert!(note.lines().any(|l| l.starts_with("— ")), "{note}");
    let proof: serde_json::Value = serde_json::from_str(&s.ok(&["--json", "log", "prove", &kept])).unwrap();
    assert!(proof["leaf"].as_str().unwrap().contains("kind: revoked"));
    ingest(&s, "001099012345", "GPXD", &[]);
    s.ok(&["log", "checkpoint"]);
    assert!(s.ok(&["log", "consistency", "4"]).starts_with("4 -> 5: consistent"));

    // The audit trail by document and by actor.
    let trail = s.ok(&["audit", "--target", &doomed]);
    let actions: Vec<&str> = trail.lines().map(|l| l.split('\t').nth(3).unwrap()).collect();
    for action in ["ingest", "retention", "eligible", "review", "destroy-request", "destroy"] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
    assert!(s.ok(&["audit", "--actor", "alice"]).lines().all(|l| l.contains("\talice\t")));

    // Fixity is clean; a flipped byte in a stored blob is named and fails the command.
    let fixity = s.ok(&["fixity"]);
    assert!(fixity.trim_end().ends_with("intact"), "{fixity}");
    let archive = open_archive(&s.data());
    let record = archive.record(&kept.parse().unwrap()).unwrap().unwrap();
    drop(archive);
    // The PDF, large enough to be a file of its own.
    let file = s.data().join("archive/blobs").join(record.pdf.to_hex());
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[100] ^= 0x20;
    std::fs::write(&file, bytes).unwrap();
    let out = s.run(&["fixity"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && text.contains(&format!("PROBLEM Altered blob {}", record.pdf)), "{text}");
}

#[test]
fn backup_restores_into_a_new_appliance_and_bags_validate_and_import_elsewhere() {
    let a = Sohoa::new();
    let dossier = "H56.14-241011-0001";
    let first = ingest(&a, "001099012345", "GPXD", &["--dossier", dossier]);
    let second = ingest(&a, "001099012345", "HS", &["--dossier", dossier]);

    // Backup while the appliance is in use, restore into a fresh data directory with the seal key
    // the administrator recorded: fixity-verified, and the restored documents verify there once the
    // agency's CA is configured (a restore takes no anchor from the backup).
    let backup = a.dir.path().join("backup");
    a.ok(&["backup", backup.to_str().unwrap()]);
    let a_key = std::fs::read_to_string(a.data().join("keys/current")).unwrap().trim().to_owned();
    let anchor = a.data().join("keys/x509/development-root.pem");
    let restored = Sohoa::new();
    assert!(
        restored.ok(&["restore", "--expect-key", &a_key, backup.to_str().unwrap()]).contains("restored 2 documents")
    );
    let restored_config = restored.dir.path().join("sohoa.toml");
    std::fs::write(&restored_config, format!("[signature]\ntrust_anchors = [{:?}]\n", anchor.to_str().unwrap()))
        .unwrap();
    assert!(
        restored.ok(&["--config", restored_config.to_str().unwrap(), "verify", &first]).trim_end().ends_with("valid")
    );
    assert_eq!(
        restored.ok(&["search", "quyết định"]).lines().count(),
        2,
        "the index is rebuilt from the restored archive"
    );
    let again = restored.run(&["restore", "--expect-key", &a_key, backup.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds an archive"));

    // Export the dossier as a bag; Python's bagit validates it.
    let bag = a.dir.path().join("bag");
    a.ok(&["export", dossier, "-o", bag.to_str().unwrap()]);
    let validate = |bag: &std::path::Path| {
        Command::new(venv_python()).args(["-m", "bagit", "--validate"]).arg(bag).output().expect("python runs")
    };
    let out = validate(&bag);
    assert!(out.status.success(), "bagit: {}", String::from_utf8_lossy(&out.stderr));
    for file in ["document.pdf", "page-001.png", "record.json", "metadata.xml", "audit.json", "proof.json"] {
        assert!(bag.join("data").join(&first).join(file).is_file(), "{file} missing");
    }

    // A second appliance, which trusts the first one's CA as agencies trust each other's and pins
    // its seal key, imports it after verifying seals, PDF signatures and proofs; the documents
    // verify there.
    let b = Sohoa::new();
    let config = b.dir.path().join("sohoa.toml");
    std::fs::write(&config, format!("[signature]\ntrust_anchors = [{:?}]\n", anchor.to_str().unwrap())).unwrap();
    let config = config.to_str().unwrap();
    let imported = b.ok(&["--config", config, "import", "--trust-key", &a_key, bag.to_str().unwrap()]);
    assert!(imported.contains(&first) && imported.contains(&second), "{imported}");
    assert!(b.ok(&["--config", config, "verify", &second]).trim_end().ends_with("valid"));
    let again = b.run(&["--config", config, "import", "--trust-key", &a_key, bag.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already in this archive"));

    // A bag altered after export is refused by bagit and by the import, naming the file.
    let altered = a.dir.path().join("bag-altered");
    a.ok(&["export", &first, "-o", altered.to_str().unwrap()]);
    let metadata = altered.join("data").join(&first).join("metadata.xml");
    let text = std::fs::read_to_string(&metadata).unwrap().replace("Quyết định", "Quyết đinh");
    std::fs::write(&metadata, text).unwrap();
    assert!(!validate(&altered).status.success());
    let c = Sohoa::new();
    let out = c.run(&["import", altered.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("metadata.xml") && stderr.contains("altered"), "{stderr}");
}
