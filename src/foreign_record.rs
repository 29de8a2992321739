//! Checking a record that another appliance sealed, with keys pinned here and nothing it brings
//! along: what a bag import and a province offer share. The record's page seals and manifest seal
//! must verify with pinned keys and cover the record (code, PDF, metadata, pages); its inclusion
//! proof must lead to a checkpoint sealed by a pinned key, and the proven leaf must name the
//! document, its PDF, its seal and its status. Content (the PDF and page bytes) is the caller's to
//! check against the record's hashes, when it has them.

use std::collections::BTreeMap;

use archive::{DocumentRecord, DocumentStatus, InclusionProof, LogLeaf};
use domain::BlobHash;
use signer::{KeyId, Manifest, PageSeal, PublicSealKey, Sealed, SignerError, metadata_digest};

use crate::bag::CarriedKey;
use crate::seals::sealed;

/// The keys a foreign record's seals are checked with.
pub(crate) trait PinnedKeys {
    /// The text of a seal, checked with the key it names, if that key is trusted here.
    fn text<'s>(&self, seal: &'s Sealed) -> Result<&'s str, SignerError>;
}

/// Exactly these keys: those pinned for one peer.
impl PinnedKeys for BTreeMap<KeyId, PublicSealKey> {
    fn text<'s>(&self, seal: &'s Sealed) -> Result<&'s str, SignerError> {
        self.get(&seal.key).ok_or_else(|| SignerError::UnknownKey(seal.key.clone()))?.verified_text(seal)
    }
}

/// A public key as it came with a bag or evidence, checked to be an Ed25519 key that hashes to the
/// id it is listed under (so that a pinned id pins exactly this key).
pub(crate) fn carried_key(entry: &CarriedKey) -> Result<PublicSealKey, String> {
    if entry.algorithm != "Ed25519" {
        return Err(format!("key {} is {}, not an Ed25519 seal key", entry.id, entry.algorithm));
    }
    let key = PublicSealKey::from_hex(&entry.public_key).map_err(|e| format!("key {}: {e}", entry.id))?;
    if *key.id() != entry.id {
        return Err(format!(
            "the key listed as {} hashes to id {} (the key or its id was altered)",
            entry.id,
            key.id()
        ));
    }
    Ok(key)
}

/// Checks `record` and `proof` with `keys` (see the module's documentation); the error says what
/// did not hold, for the caller to prefix with the document.
pub(crate) fn check(record: &DocumentRecord, proof: &InclusionProof, keys: &dyn PinnedKeys) -> Result<(), String> {
    let code = &record.code;
    for (i, page) in record.pages.iter().enumerate() {
        let seal = sealed(&page.seal)
            .and_then(|s| PageSeal::parse(keys.text(&s)?))
            .map_err(|e| format!("page {} seal: {e}", i + 1))?;
        if seal.document != *code || seal.page != i as u32 + 1 || seal.image != page.image {
            return Err(format!("the seal of page {} does not cover this page", i + 1));
        }
    }
    let manifest =
        sealed(&record.seal).and_then(|s| Manifest::parse(keys.text(&s)?)).map_err(|e| format!("seal: {e}"))?;
    let sealed_pages: Vec<BlobHash> = manifest.pages.iter().map(|p| p.image).collect();
    let record_pages: Vec<BlobHash> = record.pages.iter().map(|p| p.image).collect();
    if manifest.document != *code
        || manifest.pdf != record.pdf
        || manifest.metadata != metadata_digest(&record.metadata)
        || sealed_pages != record_pages
    {
        return Err("the seal does not cover this record (code, PDF, metadata or pages differ)".into());
    }
    if !proof.verifies() {
        return Err("its inclusion proof does not lead to the checkpoint's root".into());
    }
    if !proof.checkpoint.body_matches() {
        return Err("the checkpoint is not what its seal signed".into());
    }
    sealed(&proof.checkpoint.seal)
        .and_then(|s| keys.text(&s).map(|_| ()))
        .map_err(|e| format!("checkpoint seal: {e}"))?;
    let leaf_has = |line: String| proof.leaf.lines().any(|l| l == line);
    if LogLeaf::document_of(&proof.leaf).is_none_or(|(_, c)| c != code.to_string())
        || !leaf_has(format!("pdf: {}", record.pdf))
        || !leaf_has(format!("seal: {}", BlobHash::of(record.seal.text.as_bytes())))
    {
        return Err("the proven log leaf is about another document, PDF or seal".into());
    }
    // The status is not sealed, but the kind of the document's latest leaf is: a revocation cannot
    // be dropped from the record without the proof saying so.
    let kind = match record.status {
        DocumentStatus::Revoked(_) => "revoked",
        _ => "archived",
    };
    if !leaf_has(format!("kind: {kind}")) {
        return Err(format!(
            "the record says {}, but the document's latest log leaf is not of kind {kind}",
            record.status.name()
        ));
    }
    Ok(())
}
