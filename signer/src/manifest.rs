//! The texts a seal signs (`Manifest` of a document, its pages) in their one canonical form, and
//! `Sealed`, such a text exactly as signed.

use chrono::{DateTime, FixedOffset};
use domain::{BlobHash, DocumentCode, DocumentMetadata};

use crate::{KeyId, KeyRing, SignerError};

const HEADER: &str = "sohoa-manifest/1";

/// The two hashes that bind one page: of the image as delivered, and of its image stream in the PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestPage {
    /// BLAKE3 of the stored page image.
    pub image: BlobHash,
    /// BLAKE3 of the page's image stream inside the PDF.
    pub stream: BlobHash,
}

/// What a document seal covers. Its canonical text is one `name: value` per line in a fixed order;
/// the signature is over exactly those bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The document.
    pub document: DocumentCode,
    /// BLAKE3 of the canonical metadata (see [`metadata_digest`]).
    pub metadata: BlobHash,
    /// Pages in physical order.
    pub pages: Vec<ManifestPage>,
    /// BLAKE3 of the PDF.
    pub pdf: BlobHash,
    /// The scan operator.
    pub operator: String,
    /// When the seal was made, +07:00.
    pub sealed_at: DateTime<FixedOffset>,
}

/// A canonical text as it was signed (a document manifest or a page seal): the exact text, the
/// signature and the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The canonical text that was signed.
    pub text: String,
    /// The Ed25519 signature of `text`.
    pub signature: [u8; 64],
    /// The key that signed.
    pub key: KeyId,
}

/// BLAKE3 over the metadata's canonical fields, one `name=value` line each, so that any change to any
/// R3 field changes the sealed manifest.
pub fn metadata_digest(metadata: &DocumentMetadata) -> BlobHash {
    let mut hasher = blake3::Hasher::new();
    for (name, value) in metadata.canonical_fields() {
        hasher.update(name.as_bytes());
        hasher.update(b"=");
        // Values are single-line by construction (clean text folds white space); escaping the one
        // separator that could still appear keeps the encoding injective.
        hasher.update(value.replace('\\', "\\\\").replace('\n', "\\n").as_bytes());
        hasher.update(b"\n");
    }
    BlobHash::from_bytes(*hasher.finalize().as_bytes())
}

impl Manifest {
    /// The canonical text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\ndocument: {}\nmetadata: {}\n", self.document, self.metadata);
        for (i, p) in self.pages.iter().enumerate() {
            out.push_str(&format!("page {}: image {} stream {}\n", i + 1, p.image, p.stream));
        }
        out.push_str(&format!(
            "pdf: {}\noperator: {}\nsealed-at: {}\n",
            self.pdf,
            self.operator.replace('\n', " "),
            self.sealed_at.to_rfc3339()
        ));
        out
    }

    /// Parses canonical text; anything not in the exact form is refused.
    pub fn parse(text: &str) -> Result<Self, SignerError> {
        let bad = |what: String| SignerError::BadManifest(what);
        let mut lines = text.lines().peekable();
        if lines.next() != Some(HEADER) {
            return Err(bad("does not start with the sohoa-manifest/1 header".into()));
        }
        let document = field(&mut lines, "document")?.parse().map_err(|e| bad(format!("{e}")))?;
        let metadata = field(&mut lines, "metadata")?.parse().map_err(|e| bad(format!("{e}")))?;
        let mut pages = Vec::new();
        while let Some(line) = lines.next_if(|l| l.starts_with("page ")) {
            let expected = format!("page {}: image ", pages.len() + 1);
            let hashes =
                line.strip_prefix(&expected).ok_or_else(|| bad(format!("page line out of order: {line:?}")))?;
            let (image, stream) =
                hashes.split_once(" stream ").ok_or_else(|| bad(format!("malformed page line {line:?}")))?;
            pages.push(ManifestPage {
                image: image.parse().map_err(|e| bad(format!("{e}")))?,
                stream: stream.parse().map_err(|e| bad(format!("{e}")))?,
            });
        }
        let pdf = field(&mut lines, "pdf")?.parse().map_err(|e| bad(format!("{e}")))?;
        let operator = field(&mut lines, "operator")?.to_owned();
        let sealed_at = DateTime::parse_from_rfc3339(field(&mut lines, "sealed-at")?)
            .map_err(|e| bad(format!("sealed-at: {e}")))?;
        if lines.next().is_some() {
            return Err(bad("has lines after sealed-at".into()));
        }
        let manifest = Manifest { document, metadata, pages, pdf, operator, sealed_at };
        if manifest.to_text() != text {
            return Err(bad("is not in canonical form".into()));
        }
        Ok(manifest)
    }
}

/// The value of the next line, which must be `name: value`.
pub(crate) fn field<'a>(lines: &mut impl Iterator<Item = &'a str>, name: &str) -> Result<&'a str, SignerError> {
    let line = lines.next().ok_or_else(|| SignerError::BadManifest(format!("ends before {name}")))?;
    line.strip_prefix(name)
        .and_then(|r| r.strip_prefix(": "))
        .ok_or_else(|| SignerError::BadManifest(format!("expected {name}, found {line:?}")))
}

impl KeyRing {
    /// Seals a manifest with the current key.
    pub fn seal(&self, manifest: &Manifest) -> Sealed {
        self.sign_text(manifest.to_text())
    }

    /// Signs a canonical text with the current key.
    pub fn sign_text(&self, text: String) -> Sealed {
        Sealed { signature: self.sign(text.as_bytes()), text, key: self.current_id().clone() }
    }

    /// Checks a seal's signature with the key it names and returns the manifest it covers.
    pub fn verify_seal(&self, sealed: &Sealed) -> Result<Manifest, SignerError> {
        Manifest::parse(self.verified_text(sealed)?)
    }

    /// The text of a seal, once its signature is checked with the key it names.
    pub fn verified_text<'a>(&self, sealed: &'a Sealed) -> Result<&'a str, SignerError> {
        self.verify(&sealed.key, sealed.text.as_bytes(), &sealed.signature)?;
        Ok(&sealed.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            document: "001099012345.GPXD.01".parse().unwrap(),
            metadata: BlobHash::of(b"m"),
            pages: vec![
                ManifestPage { image: BlobHash::of(b"p1"), stream: BlobHash::of(b"s1") },
                ManifestPage { image: BlobHash::of(b"p2"), stream: BlobHash::of(b"s2") },
            ],
            pdf: BlobHash::of(b"pdf"),
            operator: "nguyen.van.a".into(),
            sealed_at: "2026-11-22T09:30:00+07:00".parse().unwrap(),
        }
    }

    #[test]
    fn text_round_trip() {
        let m = manifest();
        assert_eq!(Manifest::parse(&m.to_text()).unwrap(), m);
        assert!(Manifest::parse(&m.to_text().replace("page 2", "page 3")).is_err());
        assert!(Manifest::parse(&format!("{}extra\n", m.to_text())).is_err());
    }

    #[test]
    fn seal_verifies_and_detects_changes() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::open_or_create(dir.path()).unwrap();
        let sealed = ring.seal(&manifest());
        assert_eq!(ring.verify_seal(&sealed).unwrap(), manifest());
        let mut forged = sealed.clone();
        forged.text = forged.text.replace("nguyen.van.a", "tran.thi.b");
        assert!(matches!(ring.verify_seal(&forged), Err(SignerError::BadSignature(_))));
        let other = tempfile::tempdir().unwrap();
        let stranger = KeyRing::open_or_create(other.path()).unwrap().seal(&manifest());
        let e = ring.verify_seal(&stranger).unwrap_err();
        assert!(matches!(e, SignerError::UnknownKey(_)), "{e}");
    }
}
