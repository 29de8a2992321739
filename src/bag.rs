//! BagIt export and import (R8, Circular 13/2023/TT-BNV on handing over electronic records): a
//! document or a whole dossier as a BagIt 1.0 bag (RFC 8493) that any BagIt tool validates, carrying
//! everything another appliance or an archive needs to verify it without trusting the sender: the
//! signed PDF, the page images, the record with its seals, the metadata as XML and JSON, the
//! document's audit events, its inclusion proof in the archive log with the signed checkpoint, and
//! the public seal keys, which the receiving appliance trusts only once they are pinned out of band
//! (a bag cannot vouch for itself).
//!
//! Layout: `data/<document code>/{document.pdf, page-NNN.<ext>, original-NNN, record.json,
//! metadata.xml, audit.json, proof.json}` (one `original-NNN` per file the document was captured
//! from and keeps whole, in the order of the record's `originals`), `data/keys.json`, with
//! `manifest-sha256.txt` and `tagmanifest-sha256.txt`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use archive::{Content, DocumentRecord, DocumentStatus, InclusionProof, Lifecycle, NewDocument, Revocation};
use domain::{AuditAction, BlobHash, DocumentCode, DossierCode};
use sha2::{Digest, Sha256};
use signer::{KeyId, KeyRing, PublicSealKey, Sealed, SignerError};

use crate::foreign_record::{self, PinnedKeys};
use crate::{Appliance, ApplianceError};

fn sha256_hex(bytes: &[u8]) -> String {
    domain::hex(&Sha256::digest(bytes))
}

/// Creates the directory a bag or a backup is written to. It must not exist, as anything: the one
/// `mkdir` both checks and creates, so that a link planted at the name, or a second request for the
/// same name at the same moment, is refused instead of written through.
pub(crate) fn create_new_dir(dir: &Path, what: &str) -> Result<(), ApplianceError> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| input(format!("{}: cannot create ({e})", parent.display())))?;
    }
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(input(format!("{}: already exists; {what} is written to a new directory", dir.display())))
        }
        Err(e) => Err(input(format!("{}: cannot create ({e})", dir.display()))),
    }
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
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<document code=\"{}\">\n",
        xml_escape(&record.code.to_string())
    );
    for (name, value) in record.metadata.canonical_fields() {
        xml.push_str(&format!("  <{name}>{}</{name}>\n", xml_escape(&value)));
    }
    xml.push_str(&format!(
        "  <pdf_blake3>{}</pdf_blake3>\n  <status>{}</status>\n</document>\n",
        record.pdf,
        record.status.name()
    ));
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
        fs::create_dir_all(path.parent().expect("payload files are under data/"))
            .with_context(|| format!("cannot create {}", path.display()))?;
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        self.manifest.insert(relative.to_owned(), sha256_hex(bytes));
        Ok(())
    }

    fn finish(self, info: &[(&str, String)]) -> Result<(), ApplianceError> {
        let write = |name: &str, text: &str| {
            fs::write(self.root.join(name), text).with_context(|| format!("cannot write {name}"))
        };
        let bytes: usize =
            self.manifest.keys().map(|p| fs::metadata(self.root.join(p)).map(|m| m.len() as usize).unwrap_or(0)).sum();
        let bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
        let mut bag_info: String = info.iter().map(|(k, v)| format!("{k}: {}\n", v.replace('\n', " "))).collect();
        bag_info.push_str(&format!("Payload-Oxum: {bytes}.{}\n", self.manifest.len()));
        let manifest: String = self.manifest.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
        write("bagit.txt", bagit)?;
        write("bag-info.txt", &bag_info)?;
        write("manifest-sha256.txt", &manifest)?;
        let tags: String =
            [("bagit.txt", bagit), ("bag-info.txt", bag_info.as_str()), ("manifest-sha256.txt", manifest.as_str())]
                .iter()
                .map(|(name, text)| format!("{}  {name}\n", sha256_hex(text.as_bytes())))
                .collect();
        write("tagmanifest-sha256.txt", &tags)?;
        Ok(())
    }
}

/// Checks a bag's manifests; returns the payload files by relative path. The bag is read as a tree
/// of directories and regular files only: its root, its tag files and every payload file are opened
/// without following a link, so that a link planted in a bag (or in the directory bags are taken
/// from) never makes the import read a file outside it. Nothing read from a file is echoed in an
/// error.
fn read_bag(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, ApplianceError> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(input(format!("{}: not a bag (not a directory, or a link to one)", dir.display()))),
        Err(e) => return Err(input(format!("{}: not a bag ({e})", dir.display()))),
    }
    let read = |name: &str| {
        regular_file(dir, name)
            .and_then(|()| read_regular(&dir.join(name)).map_err(|e| e.to_string()))
            .map_err(|e| input(format!("{}: not a bag ({name}: {e})", dir.display())))
    };
    let bagit = String::from_utf8(read("bagit.txt")?).map_err(|_| input("bagit.txt is not UTF-8"))?;
    if !bagit.starts_with("BagIt-Version: ") {
        return Err(input(format!("{}: bagit.txt does not declare a BagIt version", dir.display())));
    }
    let check = |manifest: &str, payload: bool| -> Result<BTreeMap<String, Vec<u8>>, ApplianceError> {
        let text = String::from_utf8(read(manifest)?).map_err(|_| input(format!("{manifest} is not UTF-8")))?;
        let mut files = BTreeMap::new();
        for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let (hash, path) = line
                .split_once("  ")
                .ok_or_else(|| input(format!("{manifest}: line {} is not `HASH  PATH`", number + 1)))?;
            if path.contains("..") || path.starts_with('/') || (payload && !path.starts_with("data/")) {
                return Err(input(format!("{manifest}: line {} points outside the bag's payload", number + 1)));
            }
            regular_file(dir, path).map_err(|e| input(format!("{path}: listed in {manifest}, but {e}")))?;
            let bytes = read_regular(&dir.join(path))
                .map_err(|e| input(format!("{path}: listed in {manifest} but unreadable: {e}")))?;
            if sha256_hex(&bytes) != hash {
                return Err(input(format!("{path}: its SHA-256 differs from {manifest} (the bag was altered)")));
            }
            files.insert(path.to_owned(), bytes);
        }
        Ok(files)
    };
    check("tagmanifest-sha256.txt", false)?;
    let files = check("manifest-sha256.txt", true)?;
    regular_dir(&dir.join("data")).map_err(|e| input(format!("data: {e}")))?;
    let mut on_disk = Vec::new();
    collect_files(&dir.join("data"), "data", &mut on_disk)?;
    if let Some(extra) = on_disk.iter().find(|p| !files.contains_key(*p)) {
        return Err(input(format!("{extra}: in the payload but not in manifest-sha256.txt")));
    }
    Ok(files)
}

/// Reads a file that must be a regular file, opened without following a link at its last component
/// (the components before it are checked by [`regular_file`]).
fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Checks that `dir` is a directory and not a link to one.
fn regular_dir(dir: &Path) -> Result<(), String> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err("not a directory (a bag's payload is a directory, never a link)".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn collect_files(dir: &Path, relative: &str, out: &mut Vec<String>) -> Result<(), ApplianceError> {
    for entry in fs::read_dir(dir).map_err(|e| input(format!("{}: {e}", dir.display())))? {
        let entry = entry.map_err(|e| input(format!("{}: {e}", dir.display())))?;
        let name = format!("{relative}/{}", entry.file_name().to_string_lossy());
        let kind = entry.file_type().map_err(|e| input(format!("{name}: {e}")))?;
        if kind.is_symlink() {
            return Err(input(format!("{name}: is a symbolic link; a bag holds regular files only")));
        } else if kind.is_dir() {
            collect_files(&entry.path(), &name, out)?;
        } else {
            out.push(name);
        }
    }
    Ok(())
}

/// Checks that `path` under `dir` is a regular file reached through directories only: a symbolic
/// link in a bag would make the import read a file outside it.
fn regular_file(dir: &Path, path: &str) -> Result<(), String> {
    let mut at = dir.to_owned();
    for part in path.split('/') {
        at.push(part);
        let meta = fs::symlink_metadata(&at).map_err(|e| e.to_string())?;
        if meta.file_type().is_symlink() {
            return Err(format!("{} is a symbolic link; a bag holds regular files only", at.display()));
        }
    }
    match fs::symlink_metadata(&at) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err("it is not a regular file".into()),
        Err(e) => Err(e.to_string()),
    }
}

impl Appliance {
    /// The public keys that verify what this appliance holds: its own, and the keys of other
    /// appliances among `sealed_by` (a document imported here is sealed by its sender's key), each
    /// named as its sender's, for the receiver to pin or refuse.
    pub(crate) fn carried_keys(&self, sealed_by: &BTreeSet<String>) -> Vec<CarriedKey> {
        let mut keys: Vec<CarriedKey> = self
            .keys()
            .public_keys()
            .into_iter()
            .map(|(id, key)| CarriedKey { id, algorithm: "Ed25519".into(), public_key: key, sender: None })
            .collect();
        for foreign in self.seal_keys().foreign().iter().filter(|k| sealed_by.contains(k.key().id().as_str())) {
            keys.push(CarriedKey {
                id: foreign.key().id().clone(),
                algorithm: "Ed25519".into(),
                public_key: foreign.key().to_hex(),
                sender: Some(foreign.sender().to_owned()),
            });
        }
        keys
    }
}

impl Appliance {
    /// Exports a document (by document code) or all documents of a dossier (by dossier code) as a
    /// BagIt bag in `out`, which must not exist. The export is audited per document; `progress`
    /// hears (documents written, documents in all). Returns the exported codes.
    pub(crate) fn export_bag(
        &self,
        code: &str,
        out: &Path,
        actor: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Vec<String>, ApplianceError> {
        let codes: Vec<DocumentCode> = match code.parse::<DocumentCode>() {
            Ok(c) => vec![c],
            Err(_) => {
                let dossier: DossierCode = code
                    .parse()
                    .map_err(|e| input(format!("{code:?} is neither a document code nor a dossier code ({e})")))?;
                let codes = self.archive().documents_of_dossier(&dossier)?;
                if codes.is_empty() {
                    return Err(ApplianceError::NotFound(format!("dossier {dossier} has no archived documents")));
                }
                codes
            }
        };
        create_new_dir(out, "a bag")?;
        let mut bag = BagWriter { root: out.to_owned(), manifest: BTreeMap::new() };
        let mut names = Vec::new();
        let mut sealed_by = BTreeSet::new();
        for code in &codes {
            let record = self.record(code)?;
            if matches!(record.status, DocumentStatus::Destroyed(_)) {
                return Err(input(format!("document {code} is destroyed; only its tombstone remains")));
            }
            sealed_by.extend(
                std::iter::once(&record.seal).chain(record.pages.iter().map(|p| &p.seal)).map(|s| s.key.clone()),
            );
            let base = format!("data/{code}");
            bag.payload(&format!("{base}/document.pdf"), &self.archive().read_blob(&record.pdf)?)?;
            for (i, page) in record.pages.iter().enumerate() {
                bag.payload(
                    &format!("{base}/page-{:03}.{}", i + 1, extension(&page.mime)),
                    &self.archive().read_blob(&page.image)?,
                )?;
            }
            for (i, original) in record.originals.iter().enumerate() {
                bag.payload(&format!("{base}/original-{:03}", i + 1), &self.archive().read_blob(&original.blob)?)?;
            }
            bag.payload(&format!("{base}/record.json"), pretty(&record).as_bytes())?;
            bag.payload(&format!("{base}/metadata.xml"), metadata_xml(&record).as_bytes())?;
            bag.payload(
                &format!("{base}/audit.json"),
                pretty(&self.archive().audit_trail(Some(&code.to_string()))?).as_bytes(),
            )?;
            bag.payload(&format!("{base}/proof.json"), pretty(&self.archive().prove(code)?).as_bytes())?;
            self.audit(actor, AuditAction::Export, &code.to_string(), &format!("BagIt bag {}", out.display()))?;
            names.push(code.to_string());
            progress(names.len() as u64, codes.len() as u64);
        }
        let keys = self.carried_keys(&sealed_by);
        bag.payload("data/keys.json", serde_json::to_string_pretty(&keys).map_err(anyhow::Error::from)?.as_bytes())?;
        bag.finish(&[
            ("Source-Organization", self.signing().agency().name.clone()),
            ("Bagging-Date", domain::vietnam_now().date_naive().to_string()),
            ("External-Identifier", code.to_owned()),
            ("Bag-Software-Agent", format!("sohoa {}", env!("CARGO_PKG_VERSION"))),
            (
                "Internal-Sender-Description",
                format!("{} documents with seals, audit events and archive log proofs", names.len()),
            ),
        ])?;
        Ok(names)
    }

    /// Imports a bag written by [`export_bag`](Self::export_bag), verifying everything before
    /// anything is written: the bag's manifests; that every key that sealed what the bag holds is
    /// this appliance's own or pinned (in `[import] trusted_keys`, or in `trust` once the
    /// administrator compared it out of band), an unpinned one being refused by its id; each
    /// document's seals with those keys and that they cover the record and content; its PDF
    /// signature against this appliance's trust anchors (never anchors that came with the bag); and
    /// its inclusion proof against the sender's signed checkpoint, whose leaf must name the
    /// document, its PDF, its seal and its status. The sender's keys are then pinned apart from this
    /// appliance's ring, each for exactly the seals of the documents it came with, and each document
    /// is committed in one batch with its status: a revoked one arrives revoked. Returns the
    /// imported codes.
    pub(crate) fn import_bag(&self, dir: &Path, trust: &[KeyId], actor: &str) -> Result<Vec<String>, ApplianceError> {
        let files = read_bag(dir)?;
        let carried = carried_keys(&files)?;
        let bases: Vec<&str> = files.keys().filter_map(|p| p.strip_suffix("/record.json")).collect();
        if bases.is_empty() {
            return Err(input("the bag holds no document (no data/<code>/record.json)"));
        }
        let documents = bases.into_iter().map(|base| read_document(&files, base)).collect::<Result<Vec<_>, _>>()?;
        let ring = self.keys();
        let mut keys = BagKeys { own: &ring, pinned: BTreeMap::new() };
        let mut unpinned = Vec::new();
        for (code, id) in documents.iter().flat_map(|d| d.seal_keys().map(move |id| (&d.record.code, id))) {
            if ring.knows(&id) || keys.pinned.contains_key(&id) || unpinned.contains(&id) {
                continue;
            }
            let key = carried.get(&id).ok_or_else(|| {
                input(format!("document {code} is sealed by key {id}, which data/keys.json does not carry"))
            })?;
            let pin = match (self.import_config().sender(&id), trust.contains(&id)) {
                (Some(sender), _) => {
                    Pin { key: key.clone(), sender: sender.to_owned(), how: "[import] trusted_keys".to_owned() }
                }
                (None, true) => Pin {
                    key: key.clone(),
                    sender: format!("the sender of bag {}", dir.display()),
                    how: format!("--trust-key by {actor}"),
                },
                (None, false) => {
                    unpinned.push(id);
                    continue;
                }
            };
            keys.pinned.insert(id, pin);
        }
        if !unpinned.is_empty() {
            let ids: Vec<&str> = unpinned.iter().map(KeyId::as_str).collect();
            return Err(input(format!(
                "{}: sealed by another appliance's key {}, which this appliance does not trust; compare the id with the sending appliance's `sohoa keys export` \
                 (out of band, not from the bag), then pin it in [import] trusted_keys or import again with --trust-key {}",
                dir.display(),
                ids.join(", "),
                ids.join(" --trust-key ")
            )));
        }
        for document in &documents {
            document.verify(&keys)?;
            let failed: Vec<String> = self
                .signing()
                .checks(&document.pdf)
                .into_iter()
                .filter(|c| !c.passed)
                .map(|c| format!("{}: {}", c.name, c.detail))
                .collect();
            if !failed.is_empty() {
                return Err(input(format!(
                    "document {}: its PDF signature does not verify against this appliance's trust anchors (anchors that come with a bag are never trusted): {}",
                    document.record.code,
                    failed.join("; ")
                )));
            }
            if self.archive().record(&document.record.code)?.is_some() {
                return Err(input(format!("document {} is already in this archive", document.record.code)));
            }
        }
        for (id, pin) in &keys.pinned {
            let seals: Vec<(&DocumentCode, BlobHash)> = documents.iter().flat_map(|d| d.seals_by(id)).collect();
            if !seals.is_empty() {
                self.seal_keys().pin_foreign(&pin.key, &pin.sender, &pin.how, seals)?;
            }
        }
        drop(ring);
        let from = format!("BagIt bag {}", dir.display());
        let mut codes = Vec::new();
        for BaggedDocument { mut record, pages, pdf, originals, .. } in documents {
            let revocation = match std::mem::replace(&mut record.status, DocumentStatus::Active) {
                DocumentStatus::Revoked(r) => Some(Revocation {
                    at: domain::vietnam_now(),
                    by: actor.to_owned(),
                    reason: format!("revoked at the source on {} by {}: {}", r.at.to_rfc3339(), r.by, r.reason),
                }),
                _ => None,
            };
            record.lifecycle = Lifecycle::default();
            let code = record.code.to_string();
            // The bag does not carry the token that the sending appliance printed on the copy (only it
            // can answer for that token), so here the document is publicly verifiable by its file.
            let document = NewDocument {
                record,
                page_images: pages.into_iter().map(Content::from).collect(),
                pdf: pdf.into(),
                originals: originals.into_iter().map(Content::from).collect(),
                actor: actor.to_owned(),
                source: None,
                verification: None,
            };
            self.archive().import(document, &from, revocation)?;
            codes.push(code);
        }
        self.catch_up_search()?;
        Ok(codes)
    }
}

/// How one of the sender's keys came to be trusted for a bag.
struct Pin {
    key: PublicSealKey,
    sender: String,
    how: String,
}

/// The keys a bag's seals are checked with: this appliance's own, and the sender's pinned keys.
struct BagKeys<'a> {
    own: &'a KeyRing,
    pinned: BTreeMap<KeyId, Pin>,
}

impl PinnedKeys for BagKeys<'_> {
    fn text<'s>(&self, seal: &'s Sealed) -> Result<&'s str, SignerError> {
        match self.pinned.get(&seal.key) {
            Some(pin) => pin.key.verified_text(seal),
            None => self.own.verified_text(seal),
        }
    }
}

/// The public keys in a bag's `data/keys.json`, each checked to hash to the id it is listed under.
fn carried_keys(files: &BTreeMap<String, Vec<u8>>) -> Result<BTreeMap<KeyId, PublicSealKey>, ApplianceError> {
    let json = files.get("data/keys.json").ok_or_else(|| input("the bag has no data/keys.json (public seal keys)"))?;
    let listed: Vec<CarriedKey> = serde_json::from_slice(json).map_err(|e| input(format!("data/keys.json: {e}")))?;
    let mut keys = BTreeMap::new();
    for entry in listed {
        let key = foreign_record::carried_key(&entry).map_err(|e| input(format!("data/keys.json: {e}")))?;
        keys.insert(entry.id, key);
    }
    Ok(keys)
}

/// One entry of a bag's `data/keys.json` (and of a document's evidence bundle): a public seal key.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CarriedKey {
    /// The key's id, as seals name it.
    pub id: KeyId,
    /// Always `Ed25519`.
    pub algorithm: String,
    /// The public key, hex.
    pub public_key: String,
    /// The appliance whose key it is, for another appliance's key that sealed a document imported
    /// here and exported again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
}

/// One document as a bag holds it, read but not yet verified.
struct BaggedDocument {
    record: DocumentRecord,
    pages: Vec<Vec<u8>>,
    pdf: Vec<u8>,
    /// The original files, checked against the record's hashes by the archive's commit.
    originals: Vec<Vec<u8>>,
    proof: InclusionProof,
}

/// Reads one bagged document: its record, page images, PDF, original files and proof.
fn read_document(files: &BTreeMap<String, Vec<u8>>, base: &str) -> Result<BaggedDocument, ApplianceError> {
    let file = |name: &str| {
        files.get(&format!("{base}/{name}")).ok_or_else(|| input(format!("{base}/{name} is missing from the bag")))
    };
    let record: DocumentRecord =
        serde_json::from_slice(file("record.json")?).map_err(|e| input(format!("{base}/record.json: {e}")))?;
    let code = &record.code;
    if *base != format!("data/{code}") {
        return Err(input(format!("{base}/record.json describes document {code}")));
    }
    if matches!(record.status, DocumentStatus::Destroyed(_)) {
        return Err(input(format!("document {code}: is destroyed")));
    }
    let pdf = file("document.pdf")?.clone();
    let pages = (0..record.pages.len())
        .map(|i| file(&format!("page-{:03}.{}", i + 1, extension(&record.pages[i].mime))).cloned())
        .collect::<Result<_, _>>()?;
    let originals = (0..record.originals.len())
        .map(|i| file(&format!("original-{:03}", i + 1)).cloned())
        .collect::<Result<_, _>>()?;
    let proof: InclusionProof =
        serde_json::from_slice(file("proof.json")?).map_err(|e| input(format!("{base}/proof.json: {e}")))?;
    Ok(BaggedDocument { record, pages, pdf, originals, proof })
}

impl BaggedDocument {
    /// The ids of the keys that sealed the document, its pages and its checkpoint (unparsable ids
    /// are left to [`verify`](Self::verify), which names them).
    fn seal_keys(&self) -> impl Iterator<Item = KeyId> + '_ {
        let seals = std::iter::once(&self.record.seal)
            .chain(self.record.pages.iter().map(|p| &p.seal))
            .chain(std::iter::once(&self.proof.checkpoint.seal));
        seals.filter_map(|s| KeyId::parse(&s.key).ok())
    }

    /// The (document, BLAKE3 of the seal text) of each of the document's own seals made by `key`:
    /// what that key is pinned for.
    fn seals_by<'a>(&'a self, key: &'a KeyId) -> impl Iterator<Item = (&'a DocumentCode, BlobHash)> + 'a {
        std::iter::once(&self.record.seal)
            .chain(self.record.pages.iter().map(|p| &p.seal))
            .filter(move |s| s.key == key.as_str())
            .map(|s| (&self.record.code, BlobHash::of(s.text.as_bytes())))
    }

    /// Verifies the document with `keys`: content against the record's hashes, then the record as
    /// [`foreign_record::check`] does.
    fn verify(&self, keys: &BagKeys<'_>) -> Result<(), ApplianceError> {
        let record = &self.record;
        let code = &record.code;
        let bad = |what: String| input(format!("document {code}: {what}"));
        if BlobHash::of(&self.pdf) != record.pdf {
            return Err(bad(format!(
                "document.pdf has BLAKE3 {}, the record says {}",
                BlobHash::of(&self.pdf),
                record.pdf
            )));
        }
        for (i, (page, bytes)) in record.pages.iter().zip(&self.pages).enumerate() {
            if BlobHash::of(bytes) != page.image {
                return Err(bad(format!(
                    "page-{:03} has BLAKE3 {}, the record says {}",
                    i + 1,
                    BlobHash::of(bytes),
                    page.image
                )));
            }
        }
        foreign_record::check(record, &self.proof, keys).map_err(bad)
    }
}

/// Pretty JSON of an archive value.
fn pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("archive values serialise to JSON")
}
