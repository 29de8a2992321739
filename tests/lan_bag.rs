//! Issue 17, hole 1 and the bag and backup items of hole 8: another appliance's seal keys are trusted
//! only once pinned out of band, stay apart from this appliance's own keys and verify only the
//! documents they came with; a bag's PDF signature must chain to this appliance's own trust anchors;
//! an imported document is one batch, arriving revoked when it was revoked at its source; a restore
//! takes only the seal keys it is told to expect and none of the backup's anchors; and a backup on
//! the live archive's file system shares none of its files.
//! Over HTTP, bags and backups go through the transfer directory, where links and names are refused.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::api::{Api, PASSWORD, get};
use crate::util::{Sohoa, copy_tree, corpus, open_archive};

/// Ingests one corpus page as a document of the owner; returns its code.
fn ingest(s: &Sohoa, owner: &str) -> String {
    let page = corpus("clean300-001.png");
    s.ok(&["ingest", "--owner", owner, "--type", "GPXD", "--name", "Giấy phép xây dựng", page.to_str().unwrap()])
        .trim()
        .to_owned()
}

/// The id of an appliance's current seal key (made on first use).
fn key_id(s: &Sohoa) -> String {
    s.ok(&["keys", "export"]);
    std::fs::read_to_string(s.data().join("keys/current")).unwrap().trim().to_owned()
}

/// The public key of an appliance's current seal key, in hex.
fn public_key(s: &Sohoa) -> String {
    let export: serde_json::Value = serde_json::from_str(&s.ok(&["keys", "export"])).unwrap();
    export["keys"].as_array().unwrap().iter().find(|k| k["current"] == true).unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Writes a configuration for `s` that trusts the development root of `sender` as agencies trust
/// each other's CA, with `extra` appended; returns its path.
fn config_trusting(s: &Sohoa, sender: &Sohoa, extra: &str) -> String {
    let config = s.dir.path().join("sohoa.toml");
    let anchor = sender.data().join("keys/x509/development-root.pem");
    std::fs::write(&config, format!("[signature]\ntrust_anchors = [{:?}]\n{extra}", anchor.to_str().unwrap())).unwrap();
    config.to_str().unwrap().to_owned()
}

/// Runs a command that must fail; returns its standard error after checking it names each of `expected`.
fn fails(s: &Sohoa, args: &[&str], expected: &[&str]) -> String {
    let out = s.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} succeeded: {}", String::from_utf8_lossy(&out.stdout));
    for e in expected {
        assert!(stderr.contains(e), "{args:?}: expected {e:?} in {stderr}");
    }
    stderr
}

/// The ids `sohoa keys export` lists.
fn exported_ids(s: &Sohoa, config: &str) -> BTreeSet<String> {
    let export: serde_json::Value = serde_json::from_str(&s.ok(&["--config", config, "keys", "export"])).unwrap();
    export["keys"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap().to_owned()).collect()
}

/// The names of the files in a directory (not below it).
fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
        .unwrap_or_default()
}

fn sha256_hex(bytes: &[u8]) -> String {
    domain::hex(&Sha256::digest(bytes))
}

/// A copy of `bag` changed by `alter`, its BagIt manifests recomputed as someone who alters a bag
/// in transit would do, so that only the seals, proofs and signatures can tell.
fn altered_bag(bag: &Path, name: &str, alter: impl FnOnce(&Path)) -> PathBuf {
    let copy = bag.with_file_name(name);
    copy_tree(bag, &copy);
    alter(&copy);
    fn payload(dir: &Path, relative: &str, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{relative}/{}", entry.file_name().to_str().unwrap());
            if entry.file_type().unwrap().is_dir() {
                payload(&entry.path(), &name, out);
            } else {
                out.push((name, std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    payload(&copy.join("data"), "data", &mut files);
    let manifest: String = files.iter().map(|(name, bytes)| format!("{}  {name}\n", sha256_hex(bytes))).collect();
    std::fs::write(copy.join("manifest-sha256.txt"), &manifest).unwrap();
    let tags: String = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt"]
        .iter()
        .map(|name| format!("{}  {name}\n", sha256_hex(&std::fs::read(copy.join(name)).unwrap())))
        .collect();
    std::fs::write(copy.join("tagmanifest-sha256.txt"), tags).unwrap();
    copy
}

/// Rewrites a JSON file of a bag.
fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

/// An archive opened on `data` whose sealer is the seal key ring in `keys`: what someone holding
/// another appliance's key would write into this one.
fn archive_sealed_by(data: &Path, keys: &Path) -> archive::Archive {
    let sealer = Arc::new(sohoa::seals::SealKeys::open_or_create(keys).unwrap());
    let options = sohoa::appliance::archive_options(sealer, &sohoa::config::Config::default()).unwrap();
    archive::Archive::open(&data.join("archive"), options).unwrap()
}

/// The key ids `GET /api/keys` lists, asked as the admin through the server's router.
fn api_keys(data: &Path, config: &str) -> BTreeSet<String> {
    let config = sohoa::config::Config::load(Some(Path::new(config))).unwrap();
    let appliance = sohoa::Appliance::open_with(data, &config).unwrap();
    sohoa::users::set_user(appliance.archive(), "admin", sohoa::users::Role::Admin, PASSWORD).unwrap();
    let api = Api::with(appliance);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let admin = api.login("admin").await;
        let (status, keys) = api.json(get("/api/keys", &admin)).await;
        assert!(status.is_success(), "{status}: {keys}");
        keys["keys"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap().to_owned()).collect()
    })
}

#[test]
fn hole01_a_bag_imports_only_with_its_senders_key_pinned_and_that_key_stays_foreign() {
    let x = Sohoa::new();
    let doc = ingest(&x, "001099012345");
    let not_bagged = ingest(&x, "001099012345");
    let bag = x.dir.path().join("bag");
    x.ok(&["export", &doc, "-o", bag.to_str().unwrap()]);
    let x_key = key_id(&x);

    // Without a pin, the bag is refused by the id of its key; nothing of it reaches A.
    let a = Sohoa::new();
    let config = config_trusting(&a, &x, "");
    let own = exported_ids(&a, &config);
    let ring = file_names(&a.data().join("keys"));
    fails(
        &a,
        &["--config", &config, "import", bag.to_str().unwrap()],
        &[&x_key, "does not trust", &format!("--trust-key {x_key}")],
    );
    assert_eq!(exported_ids(&a, &config), own);
    assert_eq!(file_names(&a.data().join("keys")), ring, "the refused import changed the key ring");
    fails(&a, &["--config", &config, "verify", &doc], &["no archived document"]);

    // Pinned after comparing the id out of band, it imports; the key verifies the document as a
    // foreign key and never joins A's ring or its exported keys.
    let imported = a.ok(&["--config", &config, "import", "--trust-key", &x_key, bag.to_str().unwrap()]);
    assert!(imported.contains(&doc), "{imported}");
    let report = a.ok(&["--config", &config, "verify", &doc]);
    assert!(report.trim_end().ends_with("\nvalid"), "{report}");
    assert!(report.contains(&format!("ok   seal signature: Ed25519 signature by foreign key {x_key}")), "{report}");
    assert!(report.contains(&format!("ok   page 1 seal: Ed25519 signature by foreign key {x_key}")), "{report}");
    assert_eq!(exported_ids(&a, &config), own, "`keys export` lists the foreign key as A's");
    assert_eq!(file_names(&a.data().join("keys")), ring.iter().cloned().chain(["foreign".to_owned()]).collect());
    assert_eq!(api_keys(&a.data(), &config), own, "/api/keys lists the foreign key as A's");

    // X's key verifies nothing of X's that did not come with the bag: a document slipped into A's
    // archive past the import, an audit entry and a checkpoint sealed with X's key.
    let x_archive = open_archive(&x.data());
    let record = x_archive.record(&not_bagged.parse().unwrap()).unwrap().unwrap();
    let page_images = record.pages.iter().map(|p| x_archive.read_blob(&p.image).unwrap().into()).collect();
    let pdf = x_archive.read_blob(&record.pdf).unwrap().into();
    drop(x_archive);
    open_archive(&a.data())
        .commit(archive::NewDocument {
            record,
            page_images,
            pdf,
            originals: Vec::new(),
            actor: "intruder".into(),
            source: None,
            verification: None,
        })
        .unwrap();
    let out = a.run(&["--config", &config, "verify", &not_bagged]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success()
            && text.contains(&format!("FAIL seal signature: seal by foreign key {x_key}"))
            && text.contains("only the documents it came with"),
        "{text}"
    );
    assert!(text.contains("FAIL page 1 seal"), "{text}");
    let forged = archive_sealed_by(&a.data(), &x.data().join("keys"));
    let entry = forged.audit("intruder", domain::AuditAction::Download, &doc, "").unwrap();
    let checkpoint = forged.checkpoint().unwrap();
    drop(forged);
    let out = a.run(&["--config", &config, "fixity"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!("PROBLEM Altered audit entry {}: seal: seal signed by unknown key {x_key}", entry.seq)),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "PROBLEM Altered checkpoint {} (audit {}): seal: seal signed by unknown key {x_key}",
            checkpoint.size, checkpoint.audit_seq
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("PROBLEM Altered document {not_bagged}: document seal: seal by foreign key {x_key}")),
        "{text}"
    );
    assert!(!text.contains(&format!("document {doc}")), "the imported document itself is intact: {text}");
    let out = a.run(&["--config", &config, "verify", &doc]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success()
            && text.contains(&format!(
                "FAIL archive log: checkpoint {}: seal signed by unknown key {x_key}",
                checkpoint.size
            )),
        "{text}"
    );
}

#[test]
fn hole01_bags_with_a_tampered_key_or_seal_or_an_anchor_of_their_own_are_refused() {
    let x = Sohoa::new();
    let doc = ingest(&x, "001099012345");
    let bag = x.dir.path().join("bag");
    x.ok(&["export", &doc, "-o", bag.to_str().unwrap()]);
    let x_key = key_id(&x);
    let y = Sohoa::new();
    let (y_key, y_public) = (key_id(&y), public_key(&y));
    let a = Sohoa::new();
    let config = config_trusting(&a, &x, "");
    let import = |bag: &Path, key: &str, expected: &[&str]| {
        fails(&a, &["--config", &config, "import", "--trust-key", key, bag.to_str().unwrap()], expected);
        fails(&a, &["--config", &config, "verify", &doc], &["no archived document"]);
        assert!(!a.data().join("keys/foreign").exists(), "a refused bag pinned a key");
    };

    // Another key under X's id: the id is computed from the key, never taken from the bag.
    let swapped = altered_bag(&bag, "swapped-key", |b| {
        edit_json(&b.join("data/keys.json"), |k| k[0]["public_key"] = y_public.clone().into())
    });
    import(&swapped, &x_key, &["data/keys.json", &x_key, "hashes to id", &y_key]);
    // Y's key listed instead of X's, and pinned: the seals still name X's key, which the bag no longer carries.
    let replaced = altered_bag(&bag, "replaced-key", |b| {
        edit_json(&b.join("data/keys.json"), |k| {
            k[0]["id"] = y_key.clone().into();
            k[0]["public_key"] = y_public.clone().into();
        })
    });
    import(&replaced, &y_key, &[&doc, &format!("sealed by key {x_key}, which data/keys.json does not carry")]);
    // A changed seal signature.
    let resealed = altered_bag(&bag, "tampered-seal", |b| {
        edit_json(&b.join("data").join(&doc).join("record.json"), |r| {
            let byte = r["seal"]["signature"][7].as_u64().unwrap();
            r["seal"]["signature"][7] = (byte ^ 1).into();
        })
    });
    import(&resealed, &x_key, &[&format!("document {doc}: seal: seal signature by key {x_key} does not match")]);
    // Metadata changed in the record: the seal no longer covers it.
    let renamed = altered_bag(&bag, "tampered-record", |b| {
        edit_json(&b.join("data").join(&doc).join("record.json"), |r| r["metadata"]["name"] = "Giấy phép khác".into())
    });
    import(&renamed, &x_key, &[&doc, "the seal does not cover this record"]);
    // A page that is a symbolic link to a file outside the bag (here one with the same bytes).
    let linked = altered_bag(&bag, "linked-page", |b| {
        let page = b.join("data").join(&doc).join("page-001.png");
        let outside = b.with_file_name("outside.png");
        std::fs::rename(&page, &outside).unwrap();
        std::os::unix::fs::symlink(&outside, &page).unwrap();
    });
    import(&linked, &x_key, &["page-001.png", "symbolic link"]);

    // An appliance that does not trust X's CA refuses X's PDF signature, even with X's seal key
    // pinned and X's root shipped in the bag.
    let b = Sohoa::new();
    let with_anchor = altered_bag(&bag, "with-anchor", |bag| {
        std::fs::copy(x.data().join("keys/x509/development-root.pem"), bag.join("data/trust-anchors.pem")).unwrap();
    });
    fails(
        &b,
        &["import", "--trust-key", &x_key, with_anchor.to_str().unwrap()],
        &[&doc, "PDF signature", "trust anchors", "certificate chain"],
    );
    fails(&b, &["verify", &doc], &["no archived document"]);
    assert!(!b.data().join("keys/foreign").exists() && !b.data().join("keys/trusted").exists());
}

#[test]
fn hole08_a_revoked_document_imported_under_a_hold_arrives_revoked_in_one_batch() {
    let x = Sohoa::new();
    x.add_users(&[("admin", "admin"), ("olga", "officer")]);
    let doc = ingest(&x, "001099012345");
    x.ok_as("olga", &["revoke", &doc, "--reason", "cấp sai đối tượng"]);
    let bag = x.dir.path().join("bag");
    x.ok(&["export", &doc, "-o", bag.to_str().unwrap()]);
    let x_key = key_id(&x);

    // A pins X's key in its configuration and holds every document of the owner.
    let a = Sohoa::new();
    let config = config_trusting(
        &a,
        &x,
        &format!("[import]\ntrusted_keys = [{{ id = \"{x_key}\", sender = \"UBND phường Bến Nghé\" }}]\n"),
    );
    a.add_users(&[("admin", "admin"), ("alice", "archivist")]);
    a.ok_as("alice", &["--config", &config, "hold", "--owner", "001099012345", "--reason", "thanh tra 2026"]);

    // The revocation is not sealed, but the proven log leaf says it: a bag that drops it is refused.
    let unrevoked = altered_bag(&bag, "unrevoked", |b| {
        edit_json(&b.join("data").join(&doc).join("record.json"), |r| r["status"] = "Active".into())
    });
    fails(
        &a,
        &["--config", &config, "import", unrevoked.to_str().unwrap()],
        &[&doc, "says active", "not of kind archived"],
    );
    fails(&a, &["--config", &config, "verify", &doc], &["no archived document"]);

    let imported = a.ok(&["--config", &config, "import", bag.to_str().unwrap()]);
    assert!(imported.contains(&doc), "{imported}");
    let out = a.run(&["--config", &config, "verify", &doc]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success()
            && report.contains("FAIL status: revoked")
            && report.contains("revoked at the source")
            && report.contains("cấp sai đối tượng"),
        "{report}"
    );
    assert!(report.contains(&format!("foreign key {x_key} of UBND phường Bến Nghé")), "{report}");
    let record = open_archive(&a.data()).record(&doc.parse().unwrap()).unwrap().unwrap();
    assert!(
        matches!(record.status, archive::DocumentStatus::Revoked(_)) && record.is_held(),
        "{:?} {:?}",
        record.status,
        record.lifecycle
    );

    // One batch: the import and its revocation are adjacent audit entries, and the document's
    // latest log leaf is its revocation; the archive is intact.
    let trail = open_archive(&a.data()).audit_trail(Some(&doc)).unwrap();
    let actions: Vec<(u64, &str)> = trail.iter().map(|e| (e.seq, e.action.as_str())).collect();
    let import = actions.iter().position(|(_, a)| *a == "import").expect("an import entry");
    assert_eq!(actions[import + 1], (actions[import].0 + 1, "revoke"), "{actions:?}");
    assert!(!actions.iter().any(|(_, a)| *a == "ingest"), "{actions:?}");
    assert!(a.ok(&["--config", &config, "log", "prove", &doc]).contains("kind: revoked"));
    assert!(a.ok(&["--config", &config, "fixity"]).trim_end().ends_with("intact"));
}

#[test]
fn hole08_restore_takes_only_the_keys_it_is_told_to_expect_and_no_anchor_from_the_backup() {
    let x = Sohoa::new();
    let doc = ingest(&x, "001099012345");
    let x_key = key_id(&x);
    let backup = x.dir.path().join("backup");
    let written = x.ok(&["backup", backup.to_str().unwrap()]);
    assert!(written.contains(&format!("(a restore must name them): {x_key}")), "{written}");

    // Without the expected keys named, nothing is restored; the refusal lists the keys to compare.
    let r = Sohoa::new();
    fails(&r, &["restore", backup.to_str().unwrap()], &[&x_key, "--expect-key"]);
    assert!(!r.data().join("archive").exists());

    // A backup changed to carry an audit entry sealed by another key, and that key.
    let y = Sohoa::new();
    let y_key = key_id(&y);
    let forged = x.dir.path().join("forged");
    copy_tree(&backup, &forged);
    archive_sealed_by(&forged, &y.data().join("keys"))
        .audit("intruder", domain::AuditAction::Destroy, &doc, "")
        .unwrap();
    std::fs::write(forged.join("keys").join(format!("{y_key}.hex")), public_key(&y)).unwrap();
    fails(&r, &["restore", "--expect-key", &x_key, forged.to_str().unwrap()], &[&y_key, "not named"]);
    std::fs::remove_file(forged.join("keys").join(format!("{y_key}.hex"))).unwrap();
    fails(
        &r,
        &["restore", "--expect-key", &x_key, forged.to_str().unwrap()],
        &["did not verify", &format!("unknown key {y_key}")],
    );
    fails(&r, &["restore", "--expect-key", &y_key, backup.to_str().unwrap()], &[&x_key, "not named"]);
    assert!(!r.data().join("archive").exists());

    // The honest backup restores with X's key named; the backup's anchors are not trusted: X's PDF
    // signature verifies only once X's CA is configured.
    assert!(r.ok(&["restore", "--expect-key", &x_key, backup.to_str().unwrap()]).contains("restored 1 documents"));
    assert!(backup.join("anchors.pem").is_file());
    let out = r.run(&["verify", &doc]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && report.contains("FAIL PDF signature: certificate chain"), "{report}");
    assert!(report.contains(&format!("ok   seal signature: Ed25519 signature by key {x_key}")), "{report}");
    let config = config_trusting(&r, &x, "");
    assert!(r.ok(&["--config", &config, "verify", &doc]).trim_end().ends_with("\nvalid"));
}

#[test]
fn hole08_a_backup_on_the_same_file_system_shares_no_inode_with_the_live_archive() {
    let s = Sohoa::new();
    s.ok(&["log", "checkpoint"]);
    let backup = s.dir.path().join("backup");
    s.ok(&["backup", backup.to_str().unwrap()]);
    let (live, copy) = (s.data().join("archive"), backup.join("archive"));
    assert_eq!(
        std::fs::metadata(&live).unwrap().dev(),
        std::fs::metadata(&copy).unwrap().dev(),
        "the backup is on the live archive's file system"
    );
    let inodes = |dir: &Path| -> BTreeSet<(u64, u64)> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::metadata(e.unwrap().path()).unwrap())
            .filter(|m| m.is_file())
            .map(|m| (m.dev(), m.ino()))
            .collect()
    };
    // The SST files a RocksDB checkpoint would hard-link are there under the same names...
    let shared_names: Vec<String> =
        file_names(&copy).intersection(&file_names(&live)).filter(|n| n.ends_with(".sst")).cloned().collect();
    assert!(!shared_names.is_empty(), "the backup holds none of the live SST files: {:?}", file_names(&copy));
    // ...but as copies: no inode in common, and no file of the backup has another link.
    assert!(
        inodes(&copy).is_disjoint(&inodes(&live)),
        "the backup shares files with the live archive: {shared_names:?}"
    );
    // The blob files too, in their directory.
    assert!(inodes(&copy.join("blobs")).is_disjoint(&inodes(&live.join("blobs"))), "the backup shares blob files");
    for dir in [copy.clone(), copy.join("blobs")] {
        for name in file_names(&dir) {
            let meta = std::fs::metadata(dir.join(&name)).unwrap();
            assert!(meta.is_dir() || meta.nlink() == 1, "{name} has other links");
        }
    }
    let restored = Sohoa::new();
    let key = std::fs::read_to_string(s.data().join("keys/current")).unwrap();
    assert!(restored.ok(&["restore", "--expect-key", key.trim(), backup.to_str().unwrap()]).contains("fixity: intact"));
}

/// The transfer directory over HTTP: a link planted at a bag's or backup's name is refused and nothing
/// is written where it points; a name is one path component; a bag whose tag manifest is a link to a
/// secret file is refused without a byte of that file in the answer.
#[tokio::test]
async fn transfer_directory_names_links_and_bag_contents_are_refused_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let appliance = sohoa::Appliance::open(dir.path()).unwrap();
    crate::api::add_role_users(&appliance);
    let fields = sohoa::input::MetadataFields {
        owner: Some("001099012345".into()),
        doc_type: "GPXD".into(),
        name: "Giấy phép xây dựng".into(),
        ..Default::default()
    };
    let code = crate::util::ingest_page(&appliance, &fields, "operator");
    let api = Api::with(appliance);
    let (archivist, admin) = (api.login("archivist").await, api.login("admin").await);
    let transfer = dir.path().join("transfer");
    std::fs::create_dir_all(&transfer).unwrap();

    // A link planted at the name, to a directory outside: refused, nothing written there.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), transfer.join("planted")).unwrap();
    for (path, token, body) in [
        ("/api/export", &archivist, serde_json::json!({ "code": code, "name": "planted" })),
        ("/api/backup", &admin, serde_json::json!({ "name": "planted" })),
    ] {
        let (status, answer) = api.json(crate::api::post_json(path, token, body)).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains("already exists"), "{answer}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "{path} wrote through the link");
    }
    // Names are one component of letters, digits and . _ -, not starting with a dot.
    for name in ["..", "../x", "/tmp/x", ".hidden", "a/b", ""] {
        let body = serde_json::json!({ "code": code, "name": name });
        let (status, answer) = api.json(crate::api::post_json("/api/export", &archivist, body)).await;
        assert_eq!(status, 400, "{name:?}: {answer}");
    }

    // A bag whose tag manifest is a link to the first admin's password file.
    let (status, answer) = api
        .json(crate::api::post_json("/api/export", &archivist, serde_json::json!({ "code": code, "name": "good" })))
        .await;
    assert_eq!(status, 200, "{answer}");
    let secret = dir.path().join("initial-admin-password");
    std::fs::write(&secret, "a-secret-one-line-password\n").unwrap();
    let bag = transfer.join("linked");
    copy_tree(&transfer.join("good"), &bag);
    std::fs::remove_file(bag.join("tagmanifest-sha256.txt")).unwrap();
    std::os::unix::fs::symlink(&secret, bag.join("tagmanifest-sha256.txt")).unwrap();
    let body = serde_json::json!({ "name": "linked" });
    let (status, answer) = api.json(crate::api::post_json("/api/import", &archivist, body)).await;
    assert_eq!(status, 400, "{answer}");
    assert!(!answer.to_string().contains("a-secret"), "the answer shows the linked file: {answer}");
    assert!(answer["error"].as_str().unwrap().contains("link"), "{answer}");
    // The bag directory itself as a link is refused too.
    std::os::unix::fs::symlink(transfer.join("good"), transfer.join("alias")).unwrap();
    let (status, answer) =
        api.json(crate::api::post_json("/api/import", &archivist, serde_json::json!({ "name": "alias" }))).await;
    assert_eq!(status, 400, "{answer}");
}
