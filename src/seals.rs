//! The appliance's seal keys as the archive's [`Sealer`]: the signer's [`KeyRing`] behind a lock, so
//! that a key rotation takes effect for everything that seals (captures, audit entries, checkpoints,
//! destruction reports) at once; and, apart from it, the [`ForeignKeys`] pinned for imported
//! documents, which check those documents' seals and nothing else.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};

use archive::{SealRecord, Sealer};
use domain::{BlobHash, DocumentCode};
use signer::{ForeignKeys, KeyId, KeyRing, Manifest, PageSeal, PublicSealKey, Sealed, SignerError};

/// The folder under the key directory that holds the pinned foreign keys.
pub const FOREIGN_DIR: &str = "foreign";

/// The key ring in `<data>/keys` and the foreign keys in `<data>/keys/foreign`.
pub struct SealKeys {
    dir: PathBuf,
    ring: RwLock<KeyRing>,
    foreign: RwLock<ForeignKeys>,
}

/// Whose key made a seal that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealOrigin {
    /// One of this appliance's keys.
    Own(KeyId),
    /// Another appliance's key, pinned for this document when it was imported.
    Foreign {
        /// The key.
        key: KeyId,
        /// The sending appliance, as the pin names it.
        sender: String,
    },
}

impl fmt::Display for SealOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealOrigin::Own(key) => write!(f, "key {key}"),
            SealOrigin::Foreign { key, sender } => {
                write!(f, "foreign key {key} of {sender}, pinned for this imported document only")
            }
        }
    }
}

impl SealKeys {
    /// Opens the ring, generating the first key on first start, and the foreign keys beside it.
    pub fn open_or_create(dir: &Path) -> Result<Self, SignerError> {
        let ring = KeyRing::open_or_create(dir)?;
        let foreign = ForeignKeys::open(&dir.join(FOREIGN_DIR))?;
        Ok(SealKeys { dir: dir.to_owned(), ring: RwLock::new(ring), foreign: RwLock::new(foreign) })
    }

    /// The ring as it is now.
    pub fn ring(&self) -> RwLockReadGuard<'_, KeyRing> {
        // Nothing panics while holding the write lock but `KeyRing::open`, which leaves the old ring.
        self.ring.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The pinned foreign keys as they are now.
    pub fn foreign(&self) -> RwLockReadGuard<'_, ForeignKeys> {
        self.foreign.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes a new key current (see [`KeyRing::rotate`]) and returns its id.
    pub fn rotate(&self) -> Result<KeyId, SignerError> {
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        let id = KeyRing::rotate(&self.dir)?;
        *ring = KeyRing::open(&self.dir)?;
        Ok(id)
    }

    /// Adds an earlier public key of this appliance (see [`KeyRing::import_public`]); a restore
    /// calls it for the keys the administrator named as the appliance's own.
    pub fn import_own_public(&self, key: &PublicSealKey) -> Result<KeyId, SignerError> {
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        let id = KeyRing::import_public(&self.dir, key)?;
        *ring = KeyRing::open(&self.dir)?;
        Ok(id)
    }

    /// Pins another appliance's key for the given seals (see [`ForeignKeys::pin`]).
    pub fn pin_foreign<'a>(
        &self,
        key: &PublicSealKey,
        sender: &str,
        pinned: &str,
        seals: impl IntoIterator<Item = (&'a DocumentCode, BlobHash)>,
    ) -> Result<(), SignerError> {
        self.foreign.write().unwrap_or_else(|p| p.into_inner()).pin(key, sender, pinned, seals)
    }

    /// The text of a seal about `document`, checked with this appliance's key it names or else
    /// with a foreign key pinned for exactly this seal of this document; and whose key it was.
    pub fn document_seal_text<'a>(
        &self,
        document: &DocumentCode,
        sealed: &'a Sealed,
    ) -> Result<(&'a str, SealOrigin), SignerError> {
        match self.ring().verified_text(sealed) {
            Err(SignerError::UnknownKey(_)) => {
                let foreign = self.foreign();
                let (text, key) = foreign.verified_text(document, sealed)?;
                Ok((text, SealOrigin::Foreign { key: key.key().id().clone(), sender: key.sender().to_owned() }))
            }
            other => other.map(|text| (text, SealOrigin::Own(sealed.key.clone()))),
        }
    }

    /// A document's manifest seal, checked as [`document_seal_text`](Self::document_seal_text) does.
    pub fn verify_manifest(
        &self,
        document: &DocumentCode,
        seal: &SealRecord,
    ) -> Result<(Manifest, SealOrigin), SignerError> {
        let sealed = sealed(seal)?;
        let (text, origin) = self.document_seal_text(document, &sealed)?;
        Ok((Manifest::parse(text)?, origin))
    }

    /// A page seal of `document`, checked as [`document_seal_text`](Self::document_seal_text) does.
    pub fn verify_page(
        &self,
        document: &DocumentCode,
        seal: &SealRecord,
    ) -> Result<(PageSeal, SealOrigin), SignerError> {
        let sealed = sealed(seal)?;
        let (text, origin) = self.document_seal_text(document, &sealed)?;
        Ok((PageSeal::parse(text)?, origin))
    }
}

/// A seal as the archive keeps it.
pub fn seal_record(sealed: Sealed) -> SealRecord {
    SealRecord { text: sealed.text, signature: sealed.signature.to_vec(), key: sealed.key.to_string() }
}

/// A stored seal in the signer's form, or why it cannot be one.
pub fn sealed(seal: &SealRecord) -> Result<Sealed, SignerError> {
    let key = KeyId::parse(&seal.key)?;
    let signature: [u8; 64] = seal
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| SignerError::BadManifest(format!("signature has {} bytes, not 64", seal.signature.len())))?;
    Ok(Sealed { text: seal.text.clone(), signature, key })
}

impl Sealer for SealKeys {
    fn seal(&self, text: String) -> SealRecord {
        seal_record(self.ring().sign_text(text))
    }

    /// The appliance's own keys only: audit entries, checkpoints and destruction reports are its
    /// own statements, which no other appliance's key may make.
    fn check(&self, seal: &SealRecord) -> Result<(), String> {
        let sealed = sealed(seal).map_err(|e| e.to_string())?;
        self.ring().verified_text(&sealed).map(|_| ()).map_err(|e| e.to_string())
    }

    fn check_document(&self, document: &DocumentCode, seal: &SealRecord) -> Result<(), String> {
        let sealed = sealed(seal).map_err(|e| e.to_string())?;
        self.document_seal_text(document, &sealed).map(|_| ()).map_err(|e| e.to_string())
    }
}
