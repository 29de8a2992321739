//! The archive log: an append-only Merkle log (RFC 9162 hashing) with one leaf per sealed document,
//! revocation and destruction, and signed checkpoints of its size and root, so that anyone holding
//! an old checkpoint can be shown that nothing in the log was since rewritten or removed.

use base64::Engine;
use chrono::{DateTime, FixedOffset};
use domain::{BlobHash, DocumentCode};
use serde::{Deserialize, Serialize};

use crate::SealRecord;
use crate::merkle::{self, Hash};

/// What a log leaf records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeafKind {
    /// A document was archived (or imported) with this seal.
    Archived,
    /// A document was revoked.
    Revoked,
    /// A document was destroyed; its record is a tombstone.
    Destroyed,
}

impl LeafKind {
    fn name(self) -> &'static str {
        match self {
            LeafKind::Archived => "archived",
            LeafKind::Revoked => "revoked",
            LeafKind::Destroyed => "destroyed",
        }
    }
}

/// One leaf of the archive log. Its canonical text is what is hashed; it binds the document code to
/// its PDF hash and to the exact seal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLeaf {
    /// What happened.
    pub kind: LeafKind,
    /// To which document.
    pub document: DocumentCode,
    /// Its PDF's BLAKE3.
    pub pdf: BlobHash,
    /// BLAKE3 of its document seal's text.
    pub seal: BlobHash,
    /// When.
    pub at: DateTime<FixedOffset>,
}

impl LogLeaf {
    /// The canonical text.
    pub fn to_text(&self) -> String {
        format!(
            "sohoa-log-leaf/1\nkind: {}\ndocument: {}\npdf: {}\nseal: {}\nat: {}\n",
            self.kind.name(),
            self.document,
            self.pdf,
            self.seal,
            self.at.to_rfc3339()
        )
    }

    /// The document a leaf's text names, read back from stored text.
    pub fn document_of(text: &str) -> Option<(&str, &str)> {
        let kind = text.lines().nth(1)?.strip_prefix("kind: ")?;
        let code = text.lines().nth(2)?.strip_prefix("document: ")?;
        Some((kind, code))
    }
}

/// A signed statement of the log's size and root, and of the audit trail's head at that moment, in
/// the C2SP checkpoint form (origin, size, base64 root, then an extension line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The log's name: `sohoa/<key id>` of the appliance that keeps it.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// The Merkle root over them.
    pub root: Hash,
    /// The audit trail's last sequence number when the checkpoint was made.
    pub audit_seq: u64,
    /// That entry's hash.
    pub audit_hash: [u8; 32],
    /// When it was made.
    pub at: DateTime<FixedOffset>,
    /// The seal over [`Checkpoint::body`].
    pub seal: SealRecord,
}

impl Checkpoint {
    /// The signed body.
    pub fn body(
        origin: &str,
        size: u64,
        root: &Hash,
        audit_seq: u64,
        audit_hash: &[u8; 32],
        at: DateTime<FixedOffset>,
    ) -> String {
        format!(
            "{origin}\n{size}\n{}\naudit {audit_seq} {}\ntime {}\n",
            base64::engine::general_purpose::STANDARD.encode(root),
            BlobHash::from_bytes(*audit_hash),
            at.to_rfc3339()
        )
    }

    /// Whether the seal's text is exactly this checkpoint's body (the signature itself is checked by
    /// a [`Sealer`](crate::Sealer)).
    pub fn body_matches(&self) -> bool {
        self.seal.text == Self::body(&self.origin, self.size, &self.root, self.audit_seq, &self.audit_hash, self.at)
    }

    /// The checkpoint as a signed note: the body, a blank line, and the signature line.
    pub fn to_note(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD;
        format!("{}\n— {} {}\n", self.seal.text, self.seal.key, b64.encode(&self.seal.signature))
    }

    /// Reads a signed note back, exactly as [`to_note`](Self::to_note) writes it: anything else (a
    /// second signature line, text after it, a field out of its form) is refused, saying what. The
    /// signature is not checked here: that takes the signer's key, which the caller must know.
    pub fn from_note(note: &str) -> Result<Checkpoint, String> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let (body, signature) = note.split_once("\n\n— ").ok_or("no signature line after a blank line")?;
        let body = format!("{body}\n");
        let signature = signature.strip_suffix('\n').ok_or("the signature line does not end the note")?;
        let (key, signature) = signature.split_once(' ').ok_or("the signature line has no key")?;
        let signature = b64.decode(signature).map_err(|e| format!("the signature is not base64: {e}"))?;
        let lines: Vec<&str> = body.lines().collect();
        let [origin, size, root, audit, time] = lines[..] else {
            return Err(format!("the body has {} lines instead of 5", lines.len()));
        };
        let size = size.parse().map_err(|_| format!("size {size:?} is not a number"))?;
        let root: Hash = b64
            .decode(root)
            .ok()
            .and_then(|root| root.try_into().ok())
            .ok_or_else(|| format!("root {root:?} is not 32 bytes of base64"))?;
        let (audit_seq, audit_hash) = audit
            .strip_prefix("audit ")
            .and_then(|a| a.split_once(' '))
            .ok_or_else(|| format!("{audit:?} is not `audit <seq> <hash>`"))?;
        let audit_seq = audit_seq.parse().map_err(|_| format!("audit entry {audit_seq:?} is not a number"))?;
        let audit_hash: BlobHash =
            audit_hash.parse().map_err(|_| format!("audit hash {audit_hash:?} is not a hash"))?;
        let at = time
            .strip_prefix("time ")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| format!("{time:?} is not `time <RFC 3339>`"))?;
        let checkpoint = Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            audit_seq,
            audit_hash: *audit_hash.as_bytes(),
            at,
            seal: SealRecord { text: body, signature, key: key.to_owned() },
        };
        // The body is rebuilt from the fields: a note that writes a field otherwise (a sign, leading
        // zeros, another time zone spelling) does not say what its signature covers in one way only.
        if !checkpoint.body_matches() || checkpoint.to_note() != note {
            return Err("the note is not in its canonical form".into());
        }
        Ok(checkpoint)
    }
}

/// The proof that a leaf is in the log as of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The leaf's index, from 0.
    pub index: u64,
    /// The leaf's text.
    pub leaf: String,
    /// The audit path, leaf side first.
    pub path: Vec<Hash>,
    /// The checkpoint it is proved against.
    pub checkpoint: Checkpoint,
}

impl InclusionProof {
    /// Whether the path leads from the leaf to the checkpoint's root (the checkpoint's seal is
    /// checked separately).
    pub fn verifies(&self) -> bool {
        let leaf = merkle::leaf_hash(self.leaf.as_bytes());
        merkle::verify_inclusion(self.index, self.checkpoint.size, &leaf, &self.path, &self.checkpoint.root)
    }
}

/// The proof that the log at one checkpoint is a prefix of the log at a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// The older checkpoint.
    pub from: Checkpoint,
    /// The newer checkpoint.
    pub to: Checkpoint,
    /// The proof hashes.
    pub path: Vec<Hash>,
}

impl ConsistencyProof {
    /// Whether the proof holds between the two roots.
    pub fn verifies(&self) -> bool {
        merkle::verify_consistency(self.from.size, self.to.size, &self.from.root, &self.to.root, &self.path)
    }
}
