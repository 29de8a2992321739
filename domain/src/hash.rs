//! `BlobHash`, the BLAKE3 hash that addresses content in the archive.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{DomainError, Reason};

/// The BLAKE3 hash of a stored piece of content (a page image, a PDF). Content in the archive is
/// addressed by it, and seals sign it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlobHash([u8; 32]);

impl BlobHash {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        BlobHash(*blake3::hash(bytes).as_bytes())
    }

    /// Wraps a digest computed elsewhere (for example by a streaming hasher).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        BlobHash(bytes)
    }

    /// The 32 raw bytes, as used for storage keys.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hexadecimal, 64 characters.
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

impl FromStr for BlobHash {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 {
            return Err(DomainError::code("BLAKE3 hash", s, hex_reason()));
        }
        blake3::Hash::from_hex(s)
            .map(|h| BlobHash(*h.as_bytes()))
            .map_err(|_| DomainError::code("BLAKE3 hash", s, hex_reason()))
    }
}

impl fmt::Display for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobHash({})", self.to_hex())
    }
}

fn hex_reason() -> Reason {
    Reason::new("must be 64 hexadecimal characters", "Mã băm BLAKE3 phải gồm 64 ký tự thập lục phân")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let h = BlobHash::of(b"trang 1");
        assert_eq!(h.to_hex().parse::<BlobHash>().unwrap(), h);
        assert_eq!(h.to_hex().len(), 64);
    }

    #[test]
    fn rejects_bad_hex() {
        assert!("abc".parse::<BlobHash>().is_err());
        assert!("zz".repeat(32).parse::<BlobHash>().is_err());
    }
}
