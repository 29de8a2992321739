//! Seal keys of other appliances, pinned out of band (a configured allowlist or an administrator's
//! confirmation on import), kept apart from the appliance's own [`KeyRing`](crate::KeyRing): they are
//! never exported as the appliance's keys, never check its audit entries, checkpoints or destruction
//! reports, and each is valid only for the exact seals it was pinned with, those of the documents it
//! came with. A foreign key that signs anything else, later, is refused.
//!
//! On disk: one `<key id>.json` per key in the store's directory (`<data>/keys/foreign`), holding the
//! public key, who sent it, how it was pinned, and the BLAKE3 of each seal text it may verify, by
//! document.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use domain::{BlobHash, DocumentCode};
use serde::{Deserialize, Serialize};

use crate::keys::{io, write_atomically};
use crate::{KeyId, PublicSealKey, Sealed, SignerError};

/// One pinned foreign key and the seals it may verify.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    key: PublicSealKey,
    sender: String,
    pinned: String,
    seals: BTreeMap<DocumentCode, BTreeSet<BlobHash>>,
}

impl ForeignKey {
    /// The key.
    pub fn key(&self) -> &PublicSealKey {
        &self.key
    }

    /// The sending appliance, as the pin names it.
    pub fn sender(&self) -> &str {
        &self.sender
    }

    /// How and by whom the key was pinned.
    pub fn pinned(&self) -> &str {
        &self.pinned
    }

    /// The documents the key may verify.
    pub fn documents(&self) -> impl Iterator<Item = &DocumentCode> {
        self.seals.keys()
    }

    /// Every (document, BLAKE3 of a seal text) the key may verify.
    pub fn seals(&self) -> impl Iterator<Item = (&DocumentCode, &BlobHash)> {
        self.seals.iter().flat_map(|(code, hashes)| hashes.iter().map(move |h| (code, h)))
    }
}

/// A foreign key's file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForeignKeyFile {
    id: KeyId,
    public_key: String,
    sender: String,
    pinned: String,
    /// Hex BLAKE3 of each seal text, by document code.
    seals: BTreeMap<DocumentCode, BTreeSet<String>>,
}

/// The foreign keys in a directory.
#[derive(Debug)]
pub struct ForeignKeys {
    dir: PathBuf,
    keys: BTreeMap<KeyId, ForeignKey>,
}

impl ForeignKeys {
    /// Opens the store in `dir`; a directory that does not exist is an empty store. A file whose
    /// key does not hash to its id, or that is not in the store's form, is refused.
    pub fn open(dir: &Path) -> Result<Self, SignerError> {
        let mut keys = BTreeMap::new();
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ForeignKeys { dir: dir.to_owned(), keys }),
            Err(e) => return Err(io(dir)(e)),
        };
        for entry in entries {
            let path = entry.map_err(io(dir))?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let malformed = |reason: String| SignerError::Malformed { path: path.clone(), reason };
            let file: ForeignKeyFile =
                serde_json::from_slice(&fs::read(&path).map_err(io(&path))?).map_err(|e| malformed(e.to_string()))?;
            let key = PublicSealKey::from_hex(&file.public_key).map_err(|e| malformed(e.to_string()))?;
            if *key.id() != file.id || path.file_stem().is_none_or(|s| *s != *file.id.as_str()) {
                return Err(malformed(format!(
                    "the key hashes to id {}, not to the id {} it is stored under",
                    key.id(),
                    file.id
                )));
            }
            let mut seals = BTreeMap::new();
            for (code, hashes) in file.seals {
                let hashes = hashes
                    .iter()
                    .map(|h| h.parse())
                    .collect::<Result<BTreeSet<BlobHash>, _>>()
                    .map_err(|e| malformed(format!("document {code}: {e}")))?;
                seals.insert(code, hashes);
            }
            keys.insert(file.id, ForeignKey { key, sender: file.sender, pinned: file.pinned, seals });
        }
        Ok(ForeignKeys { dir: dir.to_owned(), keys })
    }

    /// Pins `key` for the seals given as (document, seal text), adding them to those it was pinned
    /// for before; `sender` and `pinned` say whose key it is and who decided to trust it, and replace
    /// what an earlier pin said. The key's file is replaced atomically.
    pub fn pin<'a>(
        &mut self,
        key: &PublicSealKey,
        sender: &str,
        pinned: &str,
        seals: impl IntoIterator<Item = (&'a DocumentCode, BlobHash)>,
    ) -> Result<(), SignerError> {
        let mut entry = self.keys.get(key.id()).cloned().unwrap_or_else(|| ForeignKey {
            key: key.clone(),
            sender: String::new(),
            pinned: String::new(),
            seals: BTreeMap::new(),
        });
        entry.sender = sender.to_owned();
        entry.pinned = pinned.to_owned();
        for (code, hash) in seals {
            entry.seals.entry(code.clone()).or_default().insert(hash);
        }
        let file = ForeignKeyFile {
            id: key.id().clone(),
            public_key: key.to_hex(),
            sender: entry.sender.clone(),
            pinned: entry.pinned.clone(),
            seals: entry
                .seals
                .iter()
                .map(|(code, hashes)| (code.clone(), hashes.iter().map(BlobHash::to_hex).collect()))
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&file).expect("a foreign key file serialises");
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        write_atomically(&self.dir.join(format!("{}.json", key.id())), &json, 0o644)?;
        self.keys.insert(key.id().clone(), entry);
        Ok(())
    }

    /// The pinned key with this id.
    pub fn get(&self, id: &KeyId) -> Option<&ForeignKey> {
        self.keys.get(id)
    }

    /// Every pinned key, by id.
    pub fn iter(&self) -> impl Iterator<Item = &ForeignKey> {
        self.keys.values()
    }

    /// The text of a seal about `document`, once its signature is checked with the foreign key it
    /// names; refused unless that key was pinned for exactly this seal of this document. Returns
    /// the key too, to say whose it is.
    pub fn verified_text<'a>(
        &self,
        document: &DocumentCode,
        sealed: &'a Sealed,
    ) -> Result<(&'a str, &ForeignKey), SignerError> {
        let foreign = self.keys.get(&sealed.key).ok_or_else(|| SignerError::UnknownKey(sealed.key.clone()))?;
        let text = foreign.key.verified_text(sealed)?;
        if !foreign.seals.get(document).is_some_and(|hashes| hashes.contains(&BlobHash::of(text.as_bytes()))) {
            return Err(SignerError::NotPinnedFor {
                key: sealed.key.clone(),
                sender: foreign.sender.clone(),
                document: document.clone(),
            });
        }
        Ok((text, foreign))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyRing;

    #[test]
    fn a_pinned_key_verifies_only_the_seals_it_was_pinned_for() {
        let other = tempfile::tempdir().unwrap();
        let ring = KeyRing::open_or_create(other.path()).unwrap();
        let (id, hex) = ring.public_keys().into_iter().next().unwrap();
        let key = PublicSealKey::from_hex(&hex).unwrap();
        assert_eq!(key.id(), &id);
        let code: DocumentCode = "001099012345.GPXD.01".parse().unwrap();
        let pinned = ring.sign_text("sohoa-manifest/1\ndocument: 001099012345.GPXD.01\n".into());
        let later = ring.sign_text("sohoa-manifest/1\ndocument: 001099012345.GPXD.01\nforged\n".into());

        let dir = tempfile::tempdir().unwrap();
        let mut store = ForeignKeys::open(&dir.path().join("foreign")).unwrap();
        assert!(matches!(store.verified_text(&code, &pinned), Err(SignerError::UnknownKey(_))));
        store.pin(&key, "UBND phường Bến Nghé", "test", [(&code, BlobHash::of(pinned.text.as_bytes()))]).unwrap();

        // Reopened from disk, the pin holds for the one seal and nothing else.
        let store = ForeignKeys::open(&dir.path().join("foreign")).unwrap();
        let (text, foreign) = store.verified_text(&code, &pinned).unwrap();
        assert_eq!((text, foreign.sender()), (pinned.text.as_str(), "UBND phường Bến Nghé"));
        assert!(matches!(store.verified_text(&code, &later), Err(SignerError::NotPinnedFor { .. })));
        let elsewhere: DocumentCode = "001099012345.GPXD.02".parse().unwrap();
        assert!(matches!(store.verified_text(&elsewhere, &pinned), Err(SignerError::NotPinnedFor { .. })));
        let mut forged = pinned.clone();
        forged.text.push('x');
        assert!(matches!(store.verified_text(&code, &forged), Err(SignerError::BadSignature(_))));

        // A file whose key was swapped no longer matches its id and is refused.
        let path = dir.path().join("foreign").join(format!("{id}.json"));
        let other_key = KeyRing::open_or_create(tempfile::tempdir().unwrap().path()).unwrap().public_keys().remove(0).1;
        fs::write(&path, fs::read_to_string(&path).unwrap().replace(&hex, &other_key)).unwrap();
        let e = ForeignKeys::open(&dir.path().join("foreign")).unwrap_err().to_string();
        assert!(e.contains("hashes to id"), "{e}");
    }
}
