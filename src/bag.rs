//! BagIt export and import (R8, Circular 13/2023/TT-BNV on handing over electronic records): a
//! document or a whole dossier as a BagIt 1.0 bag (RFC 8493) that any BagIt tool validates, carrying
//! everything another appliance or an archive needs to verify it without trusting the sender: the
//! signed PDF, the page images, the record with its seals, the metadata as XML and JSON, the
//! document's audit events, its inclusion proof in the archive log with the signed checkpoint, and
//! the public seal keys.
//!
//! Layout: `data/<document code>/{document.pdf, page-NNN.<ext>, record.json, metadata.xml,
//! audit.json, proof.json}`, `data/keys.json`, with `manifest-sha256.txt` and
//! `tagmanifest-sha256.txt`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use archive::{DocumentRecord, DocumentStatus, InclusionProof, Lifecycle, NewDocument, Sealer};
use domain::{BlobHash, DocumentCode, DossierCode};
use sha2::{Digest, Sha256};
use signer::{KeyRing, metadata_digest};

use crate::seals::{SealKeys, sealed};
use crate::{Appliance, ApplianceError};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn input(what: impl Into<String>) -> ApplianceError {
    ApplianceError::Input(what.into())
}

fn extension(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/tiff" => "tif",
        _ => "png",
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The R3 metadata as XML, one element per field, in the order of the sealed metadata digest.
fn metadata_xml(record: &DocumentRecord) -> String {
    let mut xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<document code=\"{}\">\n", xml_escape(&record.code.to_string()));
    for (name, value) in record.metadata.canonical_fields() {
        xml.push_str(&format!("  <{name}>{}</{name}>\n", xml_escape(&value)));
    }
    xml.push_str(&format!("  <pdf_blake3>{}</pdf_blake3>\n  <status>{}</status>\n</document>\n", record.pdf, record.status.name()));
    xml
}

/// A bag being written: payload files and their SHA-256.
struct BagWriter {
    root: PathBuf,
    manifest: BTreeMap<String, String>,
}

impl BagWriter {
    fn payload(&mut self, relative: &str, bytes: &[u8]) -> Result<(), ApplianceError> {
        let path = self.root.join(relative);
        fs::create_dir_all(path.parent().expect("payload files are under data/")).with_context(|| format!("cannot create {}", path.display()))?;
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        self.manifest.insert(relative.to_owned(), sha256_hex(bytes));
        Ok(())
    }

    fn finish(self, info: &[(&str, String)]) -> Result<(), ApplianceError> {
        let write = |name: &str, text: &str| fs::write(self.root.join(name), text).with_context(|| format!("cannot write {name}"));
        let bytes: usize = self.manifest.keys().map(|p| fs::metadata(self.root.join(p)).map(|m| m.len() as usize).unwrap_or(0)).sum();
        let bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
        let mut bag_info: String = info.iter().map(|(k, v)| format!("{k}: {}\n", v.replace('\n', " "))).collect();
        bag_info.push_str(&format!("Payload-Oxum: {bytes}.{}\n", self.manifest.len()));
        let manifest: String = self.manifest.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
        write("bagit.txt", bagit)?;
        write("bag-info.txt", &bag_info)?;
        write("manifest-sha256.txt", &manifest)?;
        let tags: String = [("bagit.txt", bagit), ("bag-info.txt", bag_info.as_str()), ("manifest-sha256.txt", manifest.as_str())]
            .iter()
            .map(|(name, text)| format!("{}  {name}\n", sha256_hex(text.as_bytes())))
            .collect();
        write("tagmanifest-sha256.txt", &tags)?;
        Ok(())
    }
}

/// Checks a bag's manifests; returns the payload files by relative path.
fn read_bag(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, ApplianceError> {
    let read = |name: &str| fs::read(dir.join(name)).map_err(|e| input(format!("{}: not a bag ({name}: {e})", dir.display())));
    let bagit = String::from_utf8(read("bagit.txt")?).map_err(|_| input("bagit.txt is not UTF-8"))?;
    if !bagit.starts_with("BagIt-Version: ") {
        return Err(input(format!("{}: bagit.txt does not declare a BagIt version", dir.display())));
    }
    let check = |manifest: &str, payload: bool| -> Result<BTreeMap<String, Vec<u8>>, ApplianceError> {
        let text = String::from_utf8(read(manifest)?).map_err(|_| input(format!("{manifest} is not UTF-8")))?;
        let mut files = BTreeMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (hash, path) = line.split_once("  ").ok_or_else(|| input(format!("{manifest}: malformed line {line:?}")))?;
            if path.contains("..") || path.starts_with('/') || (payload && !path.starts_with("data/")) {
                return Err(input(format!("{manifest}: path {path:?} points outside the bag's payload")));
            }
            let bytes = fs::read(dir.join(path)).map_err(|e| input(format!("{path}: listed in {manifest} but unreadable: {e}")))?;
            if sha256_hex(&bytes) != hash {
                return Err(input(format!("{path}: its SHA-256 differs from {manifest} (the bag was altered)")));
            }
            files.insert(path.to_owned(), bytes);
        }
        Ok(files)
    };
    check("tagmanifest-sha256.txt", false)?;
    let files = check("manifest-sha256.txt", true)?;
    let mut on_disk = Vec::new();
    collect_files(&dir.join("data"), "data", &mut on_disk)?;
    if let Some(extra) = on_disk.iter().find(|p| !files.contains_key(*p)) {
        return Err(input(format!("{extra}: in the payload but not in manifest-sha256.txt")));
    }
    Ok(files)
}

fn collect_files(dir: &Path, relative: &str, out: &mut Vec<String>) -> Result<(), ApplianceError> {
    for entry in fs::read_dir(dir).map_err(|e| input(format!("{}: {e}", dir.display())))? {
        let entry = entry.map_err(|e| input(format!("{}: {e}", dir.display())))?;
        let name = format!("{relative}/{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            collect_files(&entry.path(), &name, out)?;
        } else {
            out.push(name);
        }
    }
    Ok(())
}

impl Appliance {
    /// Exports a document (by document code) or all documents of a dossier (by dossier code) as a
    /// BagIt bag in `out`, which must not exist. The export is audited per document; `progress`
    /// hears (documents written, documents in all). Returns the exported codes.
    pub fn export_bag(&self, code: &str, out: &Path, actor: &str, progress: &mut dyn FnMut(u64, u64)) -> Result<Vec<String>, ApplianceError> {
        let codes: Vec<DocumentCode> = match code.parse::<DocumentCode>() {
            Ok(c) => vec![c],
            Err(_) => {
                let dossier: DossierCode = code.parse().map_err(|e| input(format!("{code:?} is neither a document code nor a dossier code ({e})")))?;
                let codes = self.archive().documents_of_dossier(&dossier)?;
                if codes.is_empty() {
                    return Err(ApplianceError::NotFound(format!("dossier {dossier} has no archived documents")));
                }
                codes
            }
        };
        if out.exists() {
            return Err(input(format!("{}: already exists; a bag is written to a new directory", out.display())));
        }
        let mut bag = BagWriter { root: out.to_owned(), manifest: BTreeMap::new() };
        let mut names = Vec::new();
        for code in &codes {
            let record = self.record(code)?;
            if matches!(record.status, DocumentStatus::Destroyed(_)) {
                return Err(input(format!("document {code} is destroyed; only its tombstone remains")));
            }
            let base = format!("data/{code}");
            bag.payload(&format!("{base}/document.pdf"), &self.archive().read_blob(&record.pdf)?)?;
            for (i, page) in record.pages.iter().enumerate() {
                bag.payload(&format!("{base}/page-{:03}.{}", i + 1, extension(&page.mime)), &self.archive().read_blob(&page.image)?)?;
            }
            bag.payload(&format!("{base}/record.json"), pretty(&record).as_bytes())?;
            bag.payload(&format!("{base}/metadata.xml"), metadata_xml(&record).as_bytes())?;
            bag.payload(&format!("{base}/audit.json"), pretty(&self.archive().audit_trail(Some(&code.to_string()))?).as_bytes())?;
            bag.payload(&format!("{base}/proof.json"), pretty(&self.archive().prove(code)?).as_bytes())?;
            self.archive().audit(actor, "export", &code.to_string(), &format!("BagIt bag {}", out.display()))?;
            names.push(code.to_string());
            progress(names.len() as u64, codes.len() as u64);
        }
        let keys: Vec<serde_json::Value> =
            self.keys().public_keys().into_iter().map(|(id, key)| serde_json::json!({ "id": id.as_str(), "algorithm": "Ed25519", "public_key": key })).collect();
        bag.payload("data/keys.json", serde_json::to_string_pretty(&keys).map_err(anyhow::Error::from)?.as_bytes())?;
        bag.finish(&[
            ("Source-Organization", self.signing().agency().name.clone()),
            ("Bagging-Date", domain::vietnam_now().date_naive().to_string()),
            ("External-Identifier", code.to_owned()),
            ("Bag-Software-Agent", format!("sohoa {}", env!("CARGO_PKG_VERSION"))),
            ("Internal-Sender-Description", format!("{} documents with seals, audit events and archive log proofs", names.len())),
        ])?;
        Ok(names)
    }

    /// Imports a bag written by [`export_bag`](Self::export_bag), verifying everything before
    /// anything is written: the bag's manifests, each document's seals with the bag's public keys,
    /// that the seals cover the record and content, and each inclusion proof against its signed
    /// checkpoint. Then the sender's public keys join this appliance's ring and each document is
    /// committed (a revoked one is revoked here too). Returns the imported codes.
    pub fn import_bag(&self, dir: &Path, actor: &str) -> Result<Vec<String>, ApplianceError> {
        let files = read_bag(dir)?;
        let keys_json = files.get("data/keys.json").ok_or_else(|| input("the bag has no data/keys.json (public seal keys)"))?;
        let keys: Vec<serde_json::Value> = serde_json::from_slice(keys_json).map_err(|e| input(format!("data/keys.json: {e}")))?;
        let hexes: Vec<String> = keys.iter().filter_map(|k| k["public_key"].as_str().map(str::to_owned)).collect();
        // The sender's keys verify in a throw-away ring first, so that a bag that fails leaves this
        // appliance's keys as they were.
        let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
        let sender = SealKeys::open_or_create(scratch.path())?;
        for hex in &hexes {
            sender.import_public(hex).map_err(|e| input(format!("data/keys.json: {e}")))?;
        }
        let mut documents = Vec::new();
        let dirs: Vec<&str> = files.keys().filter_map(|p| p.strip_suffix("/record.json")).collect();
        if dirs.is_empty() {
            return Err(input("the bag holds no document (no data/<code>/record.json)"));
        }
        for base in dirs {
            documents.push(verify_bagged(&files, base, &sender.ring(), &sender)?);
        }
        for (record, _, _) in &documents {
            if self.archive().record(&record.code)?.is_some() {
                return Err(input(format!("document {} is already in this archive", record.code)));
            }
        }
        for hex in &hexes {
            self.seal_keys().import_public(hex)?;
        }
        let mut codes = Vec::new();
        for (mut record, page_images, pdf) in documents {
            let status = std::mem::replace(&mut record.status, DocumentStatus::Active);
            record.lifecycle = Lifecycle::default();
            let code = record.code.clone();
            // The bag does not carry the token that the sending appliance printed on the copy (only it
            // can answer for that token), so here the document is publicly verifiable by its file.
            self.archive().commit(NewDocument { record, page_images, pdf, actor: actor.to_owned(), source: None, verification: None })?;
            self.archive().audit(actor, "import", &code.to_string(), &format!("from BagIt bag {}", dir.display()))?;
            if let DocumentStatus::Revoked(r) = status {
                self.archive().revoke(&code, &format!("revoked at the source on {} by {}: {}", r.at.to_rfc3339(), r.by, r.reason), actor)?;
            }
            codes.push(code.to_string());
        }
        self.catch_up_search()?;
        Ok(codes)
    }
}

/// Verifies one bagged document; returns its record, page images and PDF.
fn verify_bagged(files: &BTreeMap<String, Vec<u8>>, base: &str, ring: &KeyRing, sealer: &SealKeys) -> Result<(DocumentRecord, Vec<Vec<u8>>, Vec<u8>), ApplianceError> {
    let file = |name: &str| files.get(&format!("{base}/{name}")).ok_or_else(|| input(format!("{base}/{name} is missing from the bag")));
    let record: DocumentRecord = serde_json::from_slice(file("record.json")?).map_err(|e| input(format!("{base}/record.json: {e}")))?;
    let code = &record.code;
    if *base != format!("data/{code}") {
        return Err(input(format!("{base}/record.json describes document {code}")));
    }
    let bad = |what: String| input(format!("document {code}: {what}"));
    if matches!(record.status, DocumentStatus::Destroyed(_)) {
        return Err(bad("is destroyed".into()));
    }
    let pdf = file("document.pdf")?.clone();
    if BlobHash::of(&pdf) != record.pdf {
        return Err(bad(format!("document.pdf has BLAKE3 {}, the record says {}", BlobHash::of(&pdf), record.pdf)));
    }
    let mut pages = Vec::new();
    for (i, page) in record.pages.iter().enumerate() {
        let name = format!("page-{:03}.{}", i + 1, extension(&page.mime));
        let bytes = file(&name)?.clone();
        if BlobHash::of(&bytes) != page.image {
            return Err(bad(format!("{name} has BLAKE3 {}, the record says {}", BlobHash::of(&bytes), page.image)));
        }
        let seal = sealed(&page.seal).and_then(|s| ring.verify_page_seal(&s)).map_err(|e| bad(format!("page {} seal: {e}", i + 1)))?;
        if seal.document != *code || seal.page != i as u32 + 1 || seal.image != page.image {
            return Err(bad(format!("the seal of page {} does not cover this page", i + 1)));
        }
        pages.push(bytes);
    }
    let manifest = sealed(&record.seal).and_then(|s| ring.verify_seal(&s)).map_err(|e| bad(format!("seal: {e}")))?;
    let sealed_pages: Vec<BlobHash> = manifest.pages.iter().map(|p| p.image).collect();
    let record_pages: Vec<BlobHash> = record.pages.iter().map(|p| p.image).collect();
    if manifest.document != *code || manifest.pdf != record.pdf || manifest.metadata != metadata_digest(&record.metadata) || sealed_pages != record_pages {
        return Err(bad("the seal does not cover this record (code, PDF, metadata or pages differ)".into()));
    }
    let proof: InclusionProof = serde_json::from_slice(file("proof.json")?).map_err(|e| input(format!("{base}/proof.json: {e}")))?;
    if !proof.verifies() {
        return Err(bad("its inclusion proof does not lead to the checkpoint's root".into()));
    }
    if !proof.checkpoint.body_matches() {
        return Err(bad("the checkpoint is not what its seal signed".into()));
    }
    sealer.check(&proof.checkpoint.seal).map_err(|e| bad(format!("checkpoint seal: {e}")))?;
    let leaf_names = proof.leaf.lines().any(|l| l == format!("document: {code}")) && proof.leaf.lines().any(|l| l == format!("pdf: {}", record.pdf));
    if !leaf_names {
        return Err(bad("the proven log leaf is about another document or PDF".into()));
    }
    Ok((record, pages, pdf))
}

/// Pretty JSON of an archive value.
fn pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("archive values serialise to JSON")
}
