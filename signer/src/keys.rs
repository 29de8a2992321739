//! The Ed25519 seal keys: `KeyId`, `PublicSealKey` and the `KeyRing` on disk, with the private-file
//! helpers every key file of the crate is read and written through.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use domain::hex;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use zeroize::Zeroizing;

use crate::{Sealed, SignerError};

/// Identifies a seal key: the first 8 bytes of BLAKE3 of its public key, in hexadecimal.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl TryFrom<String> for KeyId {
    type Error = SignerError;

    fn try_from(s: String) -> Result<Self, SignerError> {
        KeyId::parse(&s)
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.0
    }
}

impl std::str::FromStr for KeyId {
    type Err = SignerError;

    fn from_str(s: &str) -> Result<Self, SignerError> {
        KeyId::parse(s)
    }
}

impl KeyId {
    fn of(public: &VerifyingKey) -> Self {
        KeyId(blake3::hash(public.as_bytes()).to_hex()[..16].to_owned())
    }

    /// Checks the form of a key id read from a manifest or a file name.
    pub fn parse(s: &str) -> Result<Self, SignerError> {
        if s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            Ok(KeyId(s.to_owned()))
        } else {
            Err(SignerError::BadManifest(format!("{s:?} is not a key id (16 lower-case hex digits)")))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

/// A public seal key known by its bytes alone: another appliance's key read from a bag or a backup,
/// before anyone has decided to trust it. Its id is computed from the key, never taken on trust.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicSealKey {
    id: KeyId,
    key: VerifyingKey,
}

impl fmt::Debug for PublicSealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicSealKey({})", self.id)
    }
}

impl PublicSealKey {
    /// Reads a key in the hex form [`KeyRing::public_keys`] exports.
    pub fn from_hex(hex: &str) -> Result<Self, SignerError> {
        let bad = || SignerError::BadPublicKey(format!("{hex:?} is not a hex Ed25519 public key"));
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut raw = [0u8; 32];
        for (i, b) in raw.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad())?;
        Ok(PublicSealKey { id: KeyId::of(&key), key })
    }

    /// The key's id, computed from the key.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The key in hex.
    pub fn to_hex(&self) -> String {
        hex(self.key.as_bytes())
    }

    /// The text of a seal, once its signature is checked with this key; a seal naming another key
    /// is refused.
    pub fn verified_text<'a>(&self, sealed: &'a Sealed) -> Result<&'a str, SignerError> {
        if sealed.key != self.id {
            return Err(SignerError::UnknownKey(sealed.key.clone()));
        }
        self.key
            .verify(sealed.text.as_bytes(), &Signature::from_bytes(&sealed.signature))
            .map_err(|_| SignerError::BadSignature(self.id.clone()))?;
        Ok(&sealed.text)
    }
}

/// The appliance's seal keys in a directory: `seal-<id>.key` (32 secret bytes, mode 0600) for the
/// current key, `seal-<id>.pub` (32 public bytes) for it and every key before it, and `current`
/// naming the key that signs. Old public keys stay so that everything ever sealed still verifies.
pub struct KeyRing {
    current: SigningKey,
    current_id: KeyId,
    public: BTreeMap<KeyId, VerifyingKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current_id)
            .field("known", &self.public.keys().collect::<Vec<_>>())
            .finish()
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SignerError + '_ {
    move |source| SignerError::Io { path: path.to_owned(), source }
}

impl KeyRing {
    /// Opens the key ring in `dir`, generating the first key when there is none.
    pub fn open_or_create(dir: &Path) -> Result<Self, SignerError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
        let current_file = dir.join("current");
        if !current_file.exists() {
            let id = generate(dir)?;
            write_atomically(&current_file, id.as_str().as_bytes(), 0o644)?;
        }
        Self::open(dir)
    }

    /// Opens an existing key ring.
    pub fn open(dir: &Path) -> Result<Self, SignerError> {
        let current_file = dir.join("current");
        let text = fs::read_to_string(&current_file).map_err(io(&current_file))?;
        let current_id = KeyId::parse(text.trim()).map_err(|_| SignerError::Malformed {
            path: current_file.clone(),
            reason: "does not name a key id".into(),
        })?;
        let key_path = dir.join(format!("seal-{current_id}.key"));
        let current = read_secret(&key_path)?;
        if KeyId::of(&current.verifying_key()) != current_id {
            return Err(SignerError::Malformed { path: key_path, reason: "the key does not match its id".into() });
        }
        let mut public = BTreeMap::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            if let Some(id) = name.strip_prefix("seal-").and_then(|n| n.strip_suffix(".pub")) {
                let key = read_public(&path)?;
                if KeyId::of(&key).as_str() != id {
                    return Err(SignerError::Malformed { path, reason: "the key does not match its id".into() });
                }
                public.insert(KeyId::of(&key), key);
            }
        }
        public.insert(current_id.clone(), current.verifying_key());
        Ok(KeyRing { current, current_id, public })
    }

    /// Generates a new seal key and makes it current; earlier public keys stay for verification and
    /// the earlier private key is deleted, so it can no longer sign.
    pub fn rotate(dir: &Path) -> Result<KeyId, SignerError> {
        let old = Self::open(dir)?;
        let id = generate(dir)?;
        write_atomically(&dir.join("current"), id.as_str().as_bytes(), 0o644)?;
        let old_key = dir.join(format!("seal-{}.key", old.current_id));
        fs::remove_file(&old_key).map_err(io(&old_key))?;
        Ok(id)
    }

    /// Adds an earlier public seal key of this same appliance to the ring in `dir` (a restore, after
    /// the administrator named the key as the appliance's own), so that what it sealed verifies here.
    /// Another appliance's key never goes here: it is pinned in [`ForeignKeys`](crate::ForeignKeys).
    /// Returns its id.
    pub fn import_public(dir: &Path, key: &PublicSealKey) -> Result<KeyId, SignerError> {
        write_atomically(&dir.join(format!("seal-{}.pub", key.id)), key.key.as_bytes(), 0o644)?;
        Ok(key.id.clone())
    }

    /// The id of the key that signs.
    pub fn current_id(&self) -> &KeyId {
        &self.current_id
    }

    /// Whether the key is one of this ring's.
    pub fn knows(&self, id: &KeyId) -> bool {
        self.public.contains_key(id)
    }

    /// Every known public key, hex-encoded, by id (for export to verifiers).
    pub fn public_keys(&self) -> Vec<(KeyId, String)> {
        self.public.iter().map(|(id, k)| (id.clone(), hex(k.as_bytes()))).collect()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.current.sign(message).to_bytes()
    }

    pub(crate) fn verify(&self, key: &KeyId, message: &[u8], signature: &[u8; 64]) -> Result<(), SignerError> {
        let public = self.public.get(key).ok_or_else(|| SignerError::UnknownKey(key.clone()))?;
        public.verify(message, &Signature::from_bytes(signature)).map_err(|_| SignerError::BadSignature(key.clone()))
    }
}

fn generate(dir: &Path) -> Result<KeyId, SignerError> {
    let mut secret = Zeroizing::new([0u8; 32]);
    getrandom::fill(secret.as_mut())
        .map_err(|e| SignerError::Io { path: dir.to_owned(), source: std::io::Error::other(e) })?;
    let key = SigningKey::from_bytes(&secret);
    let id = KeyId::of(&key.verifying_key());
    write_atomically(&dir.join(format!("seal-{id}.key")), secret.as_ref(), 0o600)?;
    write_atomically(&dir.join(format!("seal-{id}.pub")), key.verifying_key().as_bytes(), 0o644)?;
    Ok(id)
}

/// Reads a private key file, refusing it when anyone but its owner may read or write it: a key
/// others could copy is no longer the appliance's own.
pub(crate) fn read_private_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, SignerError> {
    let mode = fs::metadata(path).map_err(io(path))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SignerError::LoosePermissions { path: path.to_owned(), mode });
    }
    Ok(Zeroizing::new(fs::read(path).map_err(io(path))?))
}

fn read_secret(path: &Path) -> Result<SigningKey, SignerError> {
    let bytes = read_private_file(path)?;
    let secret: &[u8; 32] = bytes.as_slice().try_into().map_err(|_| SignerError::Malformed {
        path: path.to_owned(),
        reason: format!("holds {} bytes, not 32", bytes.len()),
    })?;
    Ok(SigningKey::from_bytes(secret))
}

fn read_public(path: &Path) -> Result<VerifyingKey, SignerError> {
    let bytes = fs::read(path).map_err(io(path))?;
    let raw: [u8; 32] = bytes.as_slice().try_into().map_err(|_| SignerError::Malformed {
        path: path.to_owned(),
        reason: format!("holds {} bytes, not 32", bytes.len()),
    })?;
    VerifyingKey::from_bytes(&raw)
        .map_err(|_| SignerError::Malformed { path: path.to_owned(), reason: "not an Ed25519 public key".into() })
}

/// Writes a file so that a crash leaves either the old content or the new, never a torn key: write to
/// a temporary name with the final mode, sync, rename, sync the directory.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SignerError> {
    let tmp: PathBuf = path.with_extension("tmp");
    let mut f =
        fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))?;
    let dir = path.parent().expect("key files live in a directory");
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_key_with_owner_only_mode_and_reopens_it() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::open_or_create(dir.path()).unwrap();
        let id = ring.current_id().clone();
        let mode = fs::metadata(dir.path().join(format!("seal-{id}.key"))).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(KeyRing::open_or_create(dir.path()).unwrap().current_id(), &id);
        assert!(!format!("{ring:?}").contains(&format!("{:?}", ring.current.to_bytes())));
    }

    #[test]
    fn refuses_loose_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let id = KeyRing::open_or_create(dir.path()).unwrap().current_id().clone();
        let key = dir.path().join(format!("seal-{id}.key"));
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let e = KeyRing::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }

    #[test]
    fn rotation_keeps_old_public_keys() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::open_or_create(dir.path()).unwrap();
        let old = ring.current_id().clone();
        let sig = ring.sign(b"m");
        let new = KeyRing::rotate(dir.path()).unwrap();
        let ring = KeyRing::open(dir.path()).unwrap();
        assert_eq!(ring.current_id(), &new);
        ring.verify(&old, b"m", &sig).unwrap();
        assert!(matches!(ring.verify(&old, b"x", &sig), Err(SignerError::BadSignature(_))));
        assert!(!dir.path().join(format!("seal-{old}.key")).exists());
    }
}
