//! The seal of one page: BLAKE3 of its stored image, bound to the document code, the page number and
//! the time, so that a single page shown on its own (a copy handed out, a page in an export) proves
//! where it belongs.

use chrono::{DateTime, FixedOffset};
use domain::{BlobHash, DocumentCode};

use crate::{KeyRing, Sealed, SignerError};

const HEADER: &str = "sohoa-page-seal/1";

/// What a page seal covers. Its canonical text is one `name: value` per line in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSeal {
    /// The document the page belongs to.
    pub document: DocumentCode,
    /// Its 1-based number in the document.
    pub page: u32,
    /// BLAKE3 of the stored page image.
    pub image: BlobHash,
    /// When the seal was made, +07:00.
    pub sealed_at: DateTime<FixedOffset>,
}

impl PageSeal {
    /// The canonical text.
    pub fn to_text(&self) -> String {
        format!(
            "{HEADER}\ndocument: {}\npage: {}\nimage: {}\nsealed-at: {}\n",
            self.document,
            self.page,
            self.image,
            self.sealed_at.to_rfc3339()
        )
    }

    /// Parses canonical text; anything not in the exact form is refused.
    pub fn parse(text: &str) -> Result<Self, SignerError> {
        let bad = |what: String| SignerError::BadManifest(format!("page seal {what}"));
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(bad(format!("does not start with the {HEADER} header")));
        }
        let document = crate::manifest::field(&mut lines, "document")?.parse().map_err(|e| bad(format!("{e}")))?;
        let page = crate::manifest::field(&mut lines, "page")?.parse().map_err(|e| bad(format!("page number: {e}")))?;
        let image = crate::manifest::field(&mut lines, "image")?.parse().map_err(|e| bad(format!("{e}")))?;
        let sealed_at = DateTime::parse_from_rfc3339(crate::manifest::field(&mut lines, "sealed-at")?)
            .map_err(|e| bad(format!("sealed-at: {e}")))?;
        let seal = PageSeal { document, page, image, sealed_at };
        if seal.to_text() != text {
            return Err(bad("is not in canonical form".into()));
        }
        Ok(seal)
    }
}

impl KeyRing {
    /// Seals a page with the current key.
    pub fn seal_page(&self, seal: &PageSeal) -> Sealed {
        self.sign_text(seal.to_text())
    }

    /// Checks a page seal's signature with the key it names and returns what it covers.
    pub fn verify_page_seal(&self, sealed: &Sealed) -> Result<PageSeal, SignerError> {
        PageSeal::parse(self.verified_text(sealed)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal() -> PageSeal {
        PageSeal {
            document: "001099012345.GPXD.01".parse().unwrap(),
            page: 2,
            image: BlobHash::of(b"page two"),
            sealed_at: "2026-11-22T09:30:00+07:00".parse().unwrap(),
        }
    }

    #[test]
    fn text_round_trip_and_exact_form() {
        assert_eq!(PageSeal::parse(&seal().to_text()).unwrap(), seal());
        assert!(PageSeal::parse(&seal().to_text().replace("page: 2", "page: 02")).is_err());
        assert!(PageSeal::parse(&format!("{}extra\n", seal().to_text())).is_err());
    }

    #[test]
    fn page_seal_verifies_and_detects_a_moved_page_and_a_stranger() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::open_or_create(dir.path()).unwrap();
        let sealed = ring.seal_page(&seal());
        assert_eq!(ring.verify_page_seal(&sealed).unwrap(), seal());
        let mut moved = sealed.clone();
        moved.text = moved.text.replace("page: 2", "page: 3");
        assert!(matches!(ring.verify_page_seal(&moved), Err(SignerError::BadSignature(_))));
        let other = tempfile::tempdir().unwrap();
        let stranger = KeyRing::open_or_create(other.path()).unwrap().seal_page(&seal());
        assert!(matches!(ring.verify_page_seal(&stranger), Err(SignerError::UnknownKey(_))));
    }
}
