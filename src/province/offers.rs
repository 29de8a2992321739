//! What another office holds, verified here before it is offered. The province index only says
//! where to look; the evidence comes from the office's bucket in the object store, and it is
//! checked on this appliance with the keys pinned for that office in `[province] peers`: the
//! latest evidence object of the document (its key naming its event and its bytes' hash), read
//! bounded, parsed, its record's seals and its inclusion proof checked as a bag's are
//! ([`crate::foreign_record`]), the proof's checkpoint of the office's own log, and the record
//! neither revoked nor destroyed. A key the evidence carries is used only if its id is pinned here.

use std::collections::BTreeMap;

use archive::{DocumentRecord, DocumentStatus};
use domain::{BlobHash, DocumentCode};

use super::layout;
use super::object_store::ObjectStore;
use crate::config::{PeerOffice, ProvinceConfig, ReplicationConfig};
use crate::foreign_record;
use crate::ops::documents::Evidence;

/// The largest evidence object read: a record with a thousand pages of text is a few MiB.
pub const MAX_EVIDENCE: u64 = 32 << 20;

/// Another office as pinned here, and its bucket.
pub struct Peer {
    /// The office as configured.
    pub config: PeerOffice,
    store: ObjectStore,
}

/// A document of another office whose evidence verified here.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The record, as its evidence carries it.
    pub record: DocumentRecord,
    /// The evidence object it was verified from.
    pub evidence: String,
    /// The size of the office's log at the checkpoint the proof leads to.
    pub checkpoint_size: u64,
}

/// The other offices pinned in `[province] peers`.
#[derive(Default)]
pub struct Peers(Vec<Peer>);

impl Peers {
    /// A client of each peer's bucket in the store of `[replication]` (the configuration checks
    /// that peers come with it). Nothing is sent yet.
    pub fn open(province: &ProvinceConfig, replication: Option<&ReplicationConfig>) -> anyhow::Result<Self> {
        let Some(replication) = replication else { return Ok(Peers::default()) };
        let peers = province.peers.iter().map(|peer| {
            let store =
                ObjectStore::connect(&ReplicationConfig { bucket: peer.bucket.clone(), ..replication.clone() })?;
            Ok(Peer { config: peer.clone(), store })
        });
        Ok(Peers(peers.collect::<anyhow::Result<_>>()?))
    }

    /// Every peer, as configured.
    pub fn iter(&self) -> impl Iterator<Item = &Peer> {
        self.0.iter()
    }

    /// The peer whose archive log is `origin`, if it is pinned here.
    pub fn get(&self, origin: &str) -> Option<&Peer> {
        self.0.iter().find(|p| p.config.origin == origin)
    }
}

impl Peer {
    /// The client of the office's bucket.
    pub fn store(&self) -> &ObjectStore {
        &self.store
    }

    /// Fetches document `code`'s latest evidence from the office's bucket and verifies it; the error
    /// is the reason it is not offered.
    pub fn verify(&self, code: &DocumentCode) -> Result<Verified, String> {
        let listed =
            self.store.list(&layout::evidence_dir(code)).map_err(|e| format!("cannot list its evidence: {e}"))?;
        let Some((key, hash)) = listed
            .iter()
            .filter_map(|key| layout::evidence_event(key, code).map(|(seq, hash)| (seq, key, hash)))
            .max_by_key(|(seq, _, _)| *seq)
            .map(|(_, key, hash)| (key, hash))
        else {
            return Err("the office's bucket holds no evidence of it (not replicated yet)".into());
        };
        let bytes = self.store.read_whole(key, MAX_EVIDENCE)?;
        if BlobHash::of(&bytes) != hash {
            return Err(format!("{key} does not hash to its name (BLAKE3 {})", BlobHash::of(&bytes)));
        }
        let evidence: Evidence =
            serde_json::from_slice(&bytes).map_err(|e| format!("{key} is not a document's evidence: {e}"))?;
        if evidence.code != code.to_string() || evidence.record.code != *code {
            return Err(format!("{key} is the evidence of another document ({})", evidence.record.code));
        }
        if let DocumentStatus::Destroyed(_) = evidence.record.status {
            return Err("it was destroyed at its office".into());
        }
        let mut keys = BTreeMap::new();
        for carried in evidence.keys.iter().filter(|k| self.config.keys.contains(&k.id)) {
            keys.insert(carried.id.clone(), foreign_record::carried_key(carried).map_err(|e| format!("{key}: {e}"))?);
        }
        let checkpoint = &evidence.proof.checkpoint;
        if checkpoint.origin != self.config.origin {
            return Err(format!(
                "its proof leads to a checkpoint of log {:?}, not of the office's log {:?}",
                checkpoint.origin, self.config.origin
            ));
        }
        foreign_record::check(&evidence.record, &evidence.proof, &keys)
            .map_err(|e| format!("{e} (checked with the keys pinned for {})", self.config.office))?;
        if let DocumentStatus::Revoked(r) = &evidence.record.status {
            return Err(format!("it was revoked at its office on {}: {}", r.at.to_rfc3339(), r.reason));
        }
        Ok(Verified { checkpoint_size: checkpoint.size, evidence: key.clone(), record: evidence.record })
    }
}
