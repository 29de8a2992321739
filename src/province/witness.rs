//! `sohoa fixity --province`: this appliance as a witness of the other offices' archive logs. Each
//! office publishes its signed checkpoints in its locked bucket, each with the proof that the log of
//! the checkpoint before it is a prefix of its own (`layout`). A witness reads the checkpoints it has
//! not seen yet, in order, and checks each against the last one it witnessed: signed by a key pinned
//! in `[province] peers` (a key that arrives with the data is used only if its id is pinned), of the
//! peer's origin, and either of the same size with the same root, or larger with a proof that leads
//! from the witnessed root to its own. A fork (two roots for one size), a proof that does not hold,
//! or a checkpoint the witness had seen and the store no longer has is reported, and the witness
//! stays at the last checkpoint that was good, so that the next run reports it again.
//!
//! What was witnessed last of each peer is kept in `DATA/province/witnessed.json`, so that a run
//! reads only what is new. Losing the file costs one run that reads every checkpoint again, from
//! the first one the store has, which it then takes on trust as the start of the peer's history.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use archive::merkle::Hash;
use archive::{Checkpoint, ConsistencyProof};
use serde::{Deserialize, Serialize};
use signer::{KeyId, PublicSealKey, Sealed};

use super::RemoteProblem;
use super::layout;
use super::object_store::ObjectStore;
use super::offers::Peers;
use crate::ApplianceError;
use crate::bag::CarriedKey;
use crate::config::PeerOffice;

/// The largest checkpoint note read.
const MAX_NOTE_BYTES: u64 = 64 << 10;
/// The largest consistency proof read: two checkpoints and at most 2 × 64 hashes.
const MAX_PROOF_BYTES: u64 = 256 << 10;
/// The largest public key file read.
const MAX_KEY_BYTES: u64 = 4 << 10;

/// The last checkpoint of a peer's log that this appliance witnessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witnessed {
    /// Its key in the peer's bucket.
    pub key: String,
    /// The log's size.
    pub size: u64,
    /// Its root.
    pub root: Hash,
}

/// What was found of one peer's log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PeerReport {
    /// The office, as `[province] peers` names it.
    pub office: String,
    /// Its log's origin.
    pub origin: String,
    /// Checkpoints read and checked in this run.
    pub checkpoints: u64,
    /// The log size witnessed so far, if any.
    pub witnessed_size: Option<u64>,
    /// Every problem found; the witness stopped at the first one of the log's history.
    pub problems: Vec<RemoteProblem>,
}

/// The witness of the peers' logs: where it keeps what it witnessed.
pub struct Witness {
    state: PathBuf,
    /// One run at a time, so that two never write the state file over each other.
    runs: std::sync::Mutex<()>,
}

impl Witness {
    /// The witness whose state is kept under `data`.
    pub fn new(data: &Path) -> Self {
        Witness { state: data.join("province").join("witnessed.json"), runs: Default::default() }
    }

    /// Reads and checks the checkpoints each of `peers` published since the last run.
    pub fn run(&self, peers: &Peers) -> Result<Vec<PeerReport>, ApplianceError> {
        let _one = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let before = self.load()?;
        let mut state = before.clone();
        let mut reports = Vec::new();
        for (peer, store) in peers.iter().map(|p| (&p.config, p.store())) {
            let mut report = PeerReport {
                office: peer.office.clone(),
                origin: peer.origin.clone(),
                checkpoints: 0,
                witnessed_size: None,
                problems: Vec::new(),
            };
            let mut log = PeerLog { peer, store, keys: BTreeMap::new(), report: &mut report };
            let witnessed = log.witness(state.get(&peer.origin).cloned());
            report.witnessed_size = witnessed.as_ref().map(|w| w.size);
            if let Some(witnessed) = witnessed {
                state.insert(peer.origin.clone(), witnessed);
            }
            reports.push(report);
        }
        // Most runs find nothing new: the file is replaced (three syncs) only when it changes.
        if state != before {
            self.save(&state)?;
        }
        Ok(reports)
    }

    fn load(&self) -> Result<BTreeMap<String, Witnessed>, ApplianceError> {
        match std::fs::read(&self.state) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                ApplianceError::Internal(anyhow::anyhow!(
                    "{} is damaged ({e}); remove it to witness the peers' logs again from their start",
                    self.state.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(ApplianceError::Internal(anyhow::anyhow!("cannot read {}: {e}", self.state.display()))),
        }
    }

    /// Replaces the state file whole: written under a temporary name, synced, renamed, and the
    /// directory synced, so that a crash leaves the old state or the new.
    fn save(&self, state: &BTreeMap<String, Witnessed>) -> Result<(), ApplianceError> {
        let dir = self.state.parent().expect("the state file is in a directory");
        let write = || -> anyhow::Result<()> {
            std::fs::create_dir_all(dir)?;
            let tmp = self.state.with_extension("tmp");
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&serde_json::to_vec_pretty(state)?)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.state)?;
            std::fs::File::open(dir)?.sync_all()?;
            Ok(())
        };
        write().with_context(|| format!("cannot write {}", self.state.display())).map_err(ApplianceError::Internal)
    }
}

/// One run over one peer's log.
struct PeerLog<'a> {
    peer: &'a PeerOffice,
    store: &'a ObjectStore,
    /// Public keys read so far, by id, each checked against its pinned id.
    keys: BTreeMap<KeyId, PublicSealKey>,
    report: &'a mut PeerReport,
}

impl PeerLog<'_> {
    /// Checks the checkpoints after `last`, and returns the last one that was good.
    fn witness(&mut self, mut last: Option<Witnessed>) -> Option<Witnessed> {
        if let Err(e) = self.store.check_bucket() {
            self.problem(&self.peer.bucket.clone(), format!("{e:#}"));
            return last;
        }
        if let Some(w) = &last {
            match self.store.head(&w.key) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    self.problem(
                        &w.key,
                        "the checkpoint witnessed last is gone from the store: its history was rewritten",
                    );
                    return last;
                }
                Err(e) => {
                    self.problem(&w.key, format!("{e:#}"));
                    return last;
                }
            }
        }
        let prefix = layout::checkpoints_prefix(&self.peer.origin);
        loop {
            let after = last.as_ref().map(|w| w.key.clone());
            let keys = match self.store.list_after(&prefix, after.as_deref()) {
                Ok(keys) => keys,
                Err(e) => {
                    self.problem(&prefix, format!("{e:#}"));
                    return last;
                }
            };
            if keys.is_empty() {
                return last;
            }
            for key in keys {
                match self.next(&key, &prefix, last.as_ref()) {
                    Ok(next) => {
                        self.report.checkpoints += 1;
                        last = Some(next);
                    }
                    Err(problem) => {
                        self.problem(&key, problem);
                        return last;
                    }
                }
            }
        }
    }

    /// Checks the checkpoint at `key` against the last one witnessed, and returns it as witnessed.
    fn next(&mut self, key: &str, prefix: &str, last: Option<&Witnessed>) -> Result<Witnessed, String> {
        let (size, audit_seq) = layout::checkpoint_of(key, prefix).ok_or("not a name sohoa writes for a checkpoint")?;
        let note = self.store.read_whole(key, MAX_NOTE_BYTES)?;
        let note = String::from_utf8(note).map_err(|_| "the note is not UTF-8".to_owned())?;
        let checkpoint = Checkpoint::from_note(&note)?;
        if checkpoint.origin != self.peer.origin {
            return Err(format!("the checkpoint is of log {:?}, not {:?}", checkpoint.origin, self.peer.origin));
        }
        if (checkpoint.size, checkpoint.audit_seq) != (size, audit_seq) {
            return Err(format!(
                "the checkpoint is of size {} and audit entry {}, not what its name says",
                checkpoint.size, checkpoint.audit_seq
            ));
        }
        self.check_seal(&checkpoint)?;
        let witnessed = Witnessed { key: key.to_owned(), size, root: checkpoint.root };
        let Some(last) = last else { return Ok(witnessed) };
        if size == last.size {
            return if checkpoint.root == last.root {
                Ok(witnessed)
            } else {
                Err(format!("fork: a second root for log size {size}, unlike the checkpoint {}", last.key))
            };
        }
        let proof_key = layout::consistency_key(&self.peer.origin, size, audit_seq);
        let proof: ConsistencyProof = serde_json::from_slice(&self.store.read_whole(&proof_key, MAX_PROOF_BYTES)?)
            .map_err(|e| format!("its consistency proof {proof_key} is not one: {e}"))?;
        if (proof.to.size, proof.to.root) != (size, checkpoint.root) {
            return Err(format!("its consistency proof {proof_key} leads to another checkpoint"));
        }
        if (proof.from.size, proof.from.root) != (last.size, last.root) {
            return Err(format!(
                "its consistency proof starts from log size {}, not from the size {} witnessed last: the history between them was rewritten",
                proof.from.size, last.size
            ));
        }
        if !proof.verifies() {
            return Err(format!(
                "the log at size {} is not a prefix of the log at size {size}: its history was rewritten",
                last.size
            ));
        }
        Ok(witnessed)
    }

    /// Checks a checkpoint's seal with a key pinned for the peer.
    fn check_seal(&mut self, checkpoint: &Checkpoint) -> Result<(), String> {
        let id = KeyId::parse(&checkpoint.seal.key).map_err(|e| format!("the note's key id: {e}"))?;
        if !self.peer.keys.contains(&id) {
            return Err(format!("signed by key {id}, which is not pinned for {}", self.peer.office));
        }
        if !self.keys.contains_key(&id) {
            let key_key = layout::seal_key_key(&self.peer.origin, &id);
            let carried: CarriedKey = serde_json::from_slice(&self.store.read_whole(&key_key, MAX_KEY_BYTES)?)
                .map_err(|e| format!("{key_key} is not a public key: {e}"))?;
            let key = PublicSealKey::from_hex(&carried.public_key).map_err(|e| format!("{key_key}: {e}"))?;
            if key.id() != &id {
                return Err(format!("{key_key} holds key {}, not the pinned {id}", key.id()));
            }
            self.keys.insert(id.clone(), key);
        }
        let signature =
            checkpoint.seal.signature.as_slice().try_into().map_err(|_| "the signature is not 64 bytes".to_owned())?;
        let sealed = Sealed { text: checkpoint.seal.text.clone(), signature, key: id.clone() };
        self.keys[&id].verified_text(&sealed).map_err(|e| format!("the signature does not verify: {e}"))?;
        Ok(())
    }

    fn problem(&mut self, key: &str, problem: impl Into<String>) {
        self.report.problems.push(RemoteProblem { key: key.to_owned(), problem: problem.into() });
    }
}
