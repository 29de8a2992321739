//! The verification token of a document: 128 random bits made when the document is captured, printed
//! in the QR code of its signed copy, and asked for by the public verification page together with the
//! code. Document codes start with the owner's personal ID, so a code alone must never be enough to
//! learn anything about a document: the token is what shows that the asker holds the paper.

use std::fmt;
use std::str::FromStr;

use crate::{DocumentCode, DomainError, Reason};

/// The context string of the lookup key's BLAKE3 key derivation, so that the key can never collide
/// with a hash sohoa computes for any other purpose.
const LOOKUP_CONTEXT: &str = "sohoa 2026-11 document verification token lookup key";

/// A document's verification token: 16 random bytes, written as 32 lower-case hexadecimal digits.
///
/// It is a secret of the holder of the paper, so `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationToken([u8; 16]);

impl VerificationToken {
    /// Number of hexadecimal digits of the written form.
    pub const HEX_LEN: usize = 32;

    /// Wraps 16 bytes that the caller drew from the operating system's random source.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        VerificationToken(bytes)
    }

    /// The key under which the archive finds a document by code and token: a BLAKE3 key derivation
    /// over both, so that a lookup with any wrong pair is the same single miss, and the stored keys
    /// reveal neither the tokens nor, without a token, which codes have one.
    pub fn lookup_key(&self, code: &DocumentCode) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new_derive_key(LOOKUP_CONTEXT);
        hasher.update(&self.0);
        hasher.update(code.to_string().as_bytes());
        *hasher.finalize().as_bytes()
    }
}

impl FromStr for VerificationToken {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            DomainError::code(
                "verification token",
                s,
                Reason::new("must be 32 hexadecimal digits", "Mã xác thực phải gồm 32 chữ số thập lục phân"),
            )
        };
        if s.len() != Self::HEX_LEN || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(VerificationToken(bytes))
    }
}

impl fmt::Display for VerificationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::hex(&self.0))
    }
}

impl fmt::Debug for VerificationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationToken(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_hides_itself_from_debug() {
        let token = VerificationToken::from_random([0xa5; 16]);
        assert_eq!(token.to_string(), "a5".repeat(16));
        assert_eq!(token.to_string().parse::<VerificationToken>().unwrap(), token);
        assert_eq!("A5".repeat(16).parse::<VerificationToken>().unwrap(), token);
        assert!(!format!("{token:?}").contains("a5"));
    }

    #[test]
    fn rejects_anything_but_32_hex_digits() {
        for bad in ["", "a5", &"a5".repeat(17), &"g5".repeat(16), &"é".repeat(16)] {
            assert!(bad.parse::<VerificationToken>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_lookup_key_binds_token_and_code() {
        let (a, b) = (VerificationToken::from_random([1; 16]), VerificationToken::from_random([2; 16]));
        let (x, y): (DocumentCode, DocumentCode) =
            ("001099012345.GPXD.01".parse().unwrap(), "001099012345.GPXD.02".parse().unwrap());
        assert_eq!(a.lookup_key(&x), a.lookup_key(&x));
        assert_ne!(a.lookup_key(&x), a.lookup_key(&y));
        assert_ne!(a.lookup_key(&x), b.lookup_key(&x));
    }
}
