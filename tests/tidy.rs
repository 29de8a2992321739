//! The rules of the house that a machine can check: every module says what it is for, each crate
//! depends only on what its Architecture Invariant allows, and the front ends reach the archive and
//! the search index only through operations, which write the audit trail themselves.

use std::path::{Path, PathBuf};

use crate::util::repo;

/// The library crates, at the top of the repository.
const CRATES: &[&str] = &["domain", "scanner-driver", "capture", "signer", "archive", "search"];

/// Crates that hold or use key material: only `signer` may depend on them.
const KEY_MATERIAL: &[&str] = &["ed25519-dalek", "rsa", "p256", "p384", "ecdsa", "pkcs8", "cryptoki", "p12-keystore"];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The names of a manifest's `[dependencies]` (not dev- or build-dependencies).
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    table.get("dependencies").and_then(|d| d.as_table()).map(|d| d.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn every_module_of_the_crates_and_the_binary_says_what_it_is_for() {
    let mut missing = Vec::new();
    for dir in CRATES.iter().map(|c| repo().join(c).join("src")).chain([repo().join("src")]) {
        for file in sources(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.trim_start().starts_with("//!") {
                missing.push(file.strip_prefix(repo()).unwrap().display().to_string());
            }
        }
    }
    assert!(missing.is_empty(), "modules without a `//!` doc: {missing:?}");
    for c in CRATES {
        let lib = std::fs::read_to_string(repo().join(c).join("src/lib.rs")).unwrap();
        assert!(lib.contains("#![deny(missing_docs)]"), "{c}/src/lib.rs does not deny missing docs");
    }
}

#[test]
fn each_crate_depends_only_on_what_its_invariant_allows() {
    let sohoa_crates = ["domain", "capture", "archive", "search", "signer", "scanner-driver"];
    let forbidden: &[(&str, &[&str], &str)] = &[
        ("domain", &sohoa_crates, "domain depends on no other sohoa crate"),
        ("search", &["rocksdb", "archive"], "search never opens RocksDB: it is fed from archive events"),
        ("capture", &["archive"], "capture knows nothing of storage"),
        ("capture", &["async-nats"], "capture knows nothing of NATS: the offload is the binary's"),
        ("archive", &["async-nats"], "archive knows nothing of the OCR offload"),
        ("archive", &["aws-sdk-s3", "aws-smithy-http-client"], "archive knows nothing of the province's object store"),
    ];
    for (krate, deps, why) in forbidden {
        let have = dependencies(&repo().join(krate).join("Cargo.toml"));
        for dep in *deps {
            assert!(!have.iter().any(|h| h == dep), "{krate} depends on {dep}: {why}");
        }
    }
    let root = dependencies(&repo().join("Cargo.toml"));
    for krate in CRATES
        .iter()
        .filter(|c| **c != "signer")
        .map(|c| (*c, dependencies(&repo().join(c).join("Cargo.toml"))))
        .chain([("sohoa", root)])
    {
        for dep in KEY_MATERIAL {
            assert!(
                !krate.1.iter().any(|h| h == dep),
                "{} depends on {dep}: only signer handles key material",
                krate.0
            );
        }
    }
}

#[test]
fn the_front_ends_reach_the_archive_and_search_only_through_operations() {
    let front_ends: Vec<PathBuf> = sources(&repo().join("src"))
        .into_iter()
        .filter(|f| {
            let name = f.file_name().unwrap().to_string_lossy();
            f.parent().unwrap().ends_with("server") || name.starts_with("cli") || name == "archive_cli.rs"
        })
        .collect();
    assert!(front_ends.len() > 10, "front ends not found");
    for file in front_ends {
        let text = std::fs::read_to_string(&file).unwrap();
        for reach in [".archive()", ".search_index()", "archive::Archive", "SearchIndex", ".audit("] {
            assert!(!text.contains(reach), "{} uses {reach}: call an operation of src/ops instead", file.display());
        }
    }
}
