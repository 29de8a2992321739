//! The archive log's stored tree: the hash of every perfect subtree of the log ([`Table::LogNodes`])
//! and, for every document, the index of its latest leaf ([`Table::LogIndex`]). Both are written in
//! the batch that appends the leaf, so that a proof reads O(log n) stored values
//! ([`merkle::inclusion_path`]) instead of every leaf, and opening the archive reads the log's right
//! edge instead of replaying the log. An archive written before they existed, or whose tree stops
//! short of its last leaf, has them built once from its leaves when it is opened.

use std::ops::ControlFlow;

use crate::encoding::{decode, seq_from_key};
use crate::log::{Checkpoint, LogLeaf};
use crate::merkle::{self, Frontier, Hash, Subtree};
use crate::{ArchiveError, Batch, Store, Table};

/// Leaves per write when the tree is built for an existing archive: memory stays bounded (a few
/// megabytes per batch) and a log of millions of leaves costs tens of syncs.
const BUILD_BATCH_LEAVES: u64 = 65_536;

/// The key of a stored subtree hash: its level, then its index big-endian, so that each level's
/// subtrees are in order.
pub(crate) fn node_key(subtree: Subtree) -> Vec<u8> {
    [&[subtree.level][..], &subtree.index.to_be_bytes()].concat()
}

/// The subtree a stored key names, if it names one.
pub(crate) fn subtree_of_key(key: &[u8]) -> Option<Subtree> {
    let (&level, index) = key.split_first()?;
    let index: [u8; 8] = index.try_into().ok()?;
    (u32::from(level) < u64::BITS).then(|| Subtree { level, index: u64::from_be_bytes(index) })
}

/// A stored subtree hash, checked to be one.
pub(crate) fn node_value(subtree: Subtree, value: &[u8]) -> Result<Hash, ArchiveError> {
    value.try_into().map_err(|_| ArchiveError::Corrupt {
        what: "log node",
        key: node_name(subtree),
        reason: format!("{} bytes instead of a 32-byte hash", value.len()),
    })
}

/// How messages name a subtree: by the leaves it covers.
pub(crate) fn node_name(subtree: Subtree) -> String {
    let first = subtree.index << subtree.level;
    format!(
        "log node {}/{} (leaves {first}..{})",
        subtree.level,
        subtree.index,
        first.saturating_add(1 << subtree.level)
    )
}

/// Stages what appending a leaf adds to the stored tree: the subtrees its hash completes (pushed
/// onto `log`, the log's right edge), and its document's latest leaf. Returns the leaf's index.
pub(crate) fn stage_leaf(batch: &mut Batch, log: &mut Frontier, text: &str) -> u64 {
    let index = log.size();
    for (subtree, hash) in log.push(merkle::leaf_hash(text.as_bytes())) {
        batch.put(Table::LogNodes, node_key(subtree), hash.to_vec());
    }
    // A leaf that names no document (damage fixity reports) has no index entry to point at it.
    if let Some((_, code)) = LogLeaf::document_of(text) {
        batch.put(Table::LogIndex, code.as_bytes().to_vec(), index.to_be_bytes().to_vec());
    }
    index
}

/// The number of leaves: one more than the last leaf's index.
fn log_size<S: Store>(store: &S) -> Result<u64, ArchiveError> {
    Ok(store.last(Table::LogLeaves)?.map(|(k, _)| seq_from_key(&k) + 1).unwrap_or(0))
}

/// The right edge of the tree of the first `size` leaves, from stored subtrees; `None` when one of
/// them is not stored.
fn stored_edge<S: Store>(store: &S, size: u64) -> Result<Option<Frontier>, ArchiveError> {
    let mut hashes = Vec::new();
    for subtree in Subtree::edge(size) {
        let Some(value) = store.get(Table::LogNodes, &node_key(subtree))? else { return Ok(None) };
        hashes.push(node_value(subtree, &value)?);
    }
    Ok(Some(Frontier::from_edge(size, hashes)))
}

/// The log's right edge for the writer, read from the stored tree in O(log n). The stored tree is
/// used only when it reaches the last leaf and gives the latest checkpoint's root, since every
/// later checkpoint is signed over it; otherwise (an archive from before the stored tree, one that
/// the previous version appended to, a build cut short, a damaged node) it is built from the leaves.
pub(crate) fn frontier<S: Store>(store: &S) -> Result<Frontier, ArchiveError> {
    let size = log_size(store)?;
    let reaches_last =
        size == 0 || store.get(Table::LogNodes, &node_key(Subtree { level: 0, index: size - 1 }))?.is_some();
    if reaches_last && let Some(edge) = stored_edge(store, size)? {
        let agrees = match store.last(Table::Checkpoints)? {
            None => true,
            Some((k, v)) => {
                let checkpoint: Checkpoint = decode("checkpoint", &k, &v)?;
                // A checkpoint beyond the log means lost leaves, which no rebuild brings back:
                // fixity reports that.
                checkpoint.size > size
                    || stored_edge(store, checkpoint.size)?.is_some_and(|e| e.root() == checkpoint.root)
            }
        };
        if agrees {
            return Ok(edge);
        }
    }
    build(store)
}

/// Builds the stored tree and the document index from the leaves, in leaf order and in batches, and
/// returns the log's right edge. Every value written is the one appending would have written, so a
/// build cut short by a crash is simply done again at the next open: its last batch, which holds
/// the last leaf's node, is what marks it finished.
fn build<S: Store>(store: &S) -> Result<Frontier, ArchiveError> {
    let mut log = Frontier::default();
    let mut batch = Batch::default();
    let mut failure = None;
    store.scan(Table::LogLeaves, &[], &[], &mut |_, v| {
        stage_leaf(&mut batch, &mut log, &String::from_utf8_lossy(v));
        if log.size().is_multiple_of(BUILD_BATCH_LEAVES)
            && let Err(e) = store.apply(std::mem::take(&mut batch))
        {
            failure = Some(e);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !batch.is_empty() {
        store.apply(batch)?;
    }
    Ok(log)
}
