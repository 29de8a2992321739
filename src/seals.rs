//! The appliance's seal keys as the archive's [`Sealer`]: the signer's [`KeyRing`] behind a lock, so
//! that a key rotation takes effect for everything that seals (captures, audit entries, checkpoints,
//! destruction reports) at once.

use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};

use archive::{SealRecord, Sealer};
use signer::{KeyId, KeyRing, Sealed, SignerError};

/// The key ring in `<data>/keys`.
pub struct SealKeys {
    dir: PathBuf,
    ring: RwLock<KeyRing>,
}

impl SealKeys {
    /// Opens the ring, generating the first key on first start.
    pub fn open_or_create(dir: &Path) -> Result<Self, SignerError> {
        Ok(SealKeys { dir: dir.to_owned(), ring: RwLock::new(KeyRing::open_or_create(dir)?) })
    }

    /// The ring as it is now.
    pub fn ring(&self) -> RwLockReadGuard<'_, KeyRing> {
        // Nothing panics while holding the write lock but `KeyRing::open`, which leaves the old ring.
        self.ring.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes a new key current (see [`KeyRing::rotate`]) and returns its id.
    pub fn rotate(&self) -> Result<KeyId, SignerError> {
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        let id = KeyRing::rotate(&self.dir)?;
        *ring = KeyRing::open(&self.dir)?;
        Ok(id)
    }

    /// Adds another appliance's public key (see [`KeyRing::import_public`]).
    pub fn import_public(&self, hex: &str) -> Result<KeyId, SignerError> {
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        let id = KeyRing::import_public(&self.dir, hex)?;
        *ring = KeyRing::open(&self.dir)?;
        Ok(id)
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

    fn check(&self, seal: &SealRecord) -> Result<(), String> {
        let sealed = sealed(seal).map_err(|e| e.to_string())?;
        self.ring().verified_text(&sealed).map(|_| ()).map_err(|e| e.to_string())
    }
}
