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
