//! RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256: leaf `H(0x00 ‖ data)`, node
//! `H(0x01 ‖ left ‖ right)`, the tree over `n` leaves split at the largest power of two below `n`.
//! Proofs are checked by the verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2, so that any
//! RFC 9162 verifier accepts them.
//!
//! Proofs come two ways, with the same result. [`inclusion_proof`] and [`consistency_proof`] are the
//! RFC's definitions over the list of every leaf hash: O(n), the reference. [`inclusion_path`] and
//! [`consistency_path`] read only hashes of perfect [`Subtree`]s (which never change once complete, so
//! a log can store them as it grows): every node of a tree of `n` leaves is a perfect subtree or
//! the join of at most log2(n) of them along the right edge, so a proof reads O(log n) hashes.

use sha2::{Digest, Sha256};

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// The hash of a leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new().chain_update([0u8]).chain_update(data).finalize().into()
}

/// The hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// A perfect subtree of a log: the `2^level` leaves from leaf `index << level` on. Level 0 is a
/// single leaf; the hash of a subtree is its Merkle root, and never changes once its last leaf is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subtree {
    /// The height: the subtree holds `2^level` leaves.
    pub level: u8,
    /// Its position among the subtrees of its level, from 0.
    pub index: u64,
}

impl Subtree {
    /// The perfect subtree over leaves `start..start + len`, if that range is one (`len` a power of
    /// two and `start` a multiple of it).
    fn over(start: u64, len: u64) -> Option<Subtree> {
        (len.is_power_of_two() && start.is_multiple_of(len))
            .then(|| Subtree { level: len.trailing_zeros() as u8, index: start >> len.trailing_zeros() })
    }

    /// The perfect subtrees whose roots make up the root of a tree of `size` leaves (its right
    /// edge), left to right and so largest first: one per bit set in `size`.
    pub fn edge(size: u64) -> Vec<Subtree> {
        let mut start = 0;
        (0..u64::BITS)
            .rev()
            .filter(|bit| size & (1 << bit) != 0)
            .map(|bit| {
                let subtree = Subtree { level: bit as u8, index: start >> bit };
                start += 1 << bit;
                subtree
            })
            .collect()
    }
}

/// The root of leaves `start..end` (a node of the tree, so `start` is aligned as the RFC's splits
/// align it) from perfect subtree hashes: one when the range is a perfect subtree, else the left
/// part (perfect, at the largest power of two) joined with the root of the rest.
fn range_root<E>(start: u64, end: u64, node: &mut impl FnMut(Subtree) -> Result<Hash, E>) -> Result<Hash, E> {
    let len = end - start;
    if let Some(subtree) = Subtree::over(start, len) {
        return node(subtree);
    }
    let k = split(len as usize) as u64;
    let left = range_root(start, start + k, node)?;
    Ok(node_hash(&left, &range_root(start + k, end, node)?))
}

/// The audit path of leaf `index` in the tree of `size` leaves, equal to [`inclusion_proof`] over
/// those leaves, from perfect subtree hashes: at most 2·log2(size) calls of `node`. The one sibling
/// that is not a perfect subtree (on the right edge, when the path first turns left there) costs one
/// call per bit of its size; every other sibling is a perfect subtree and costs one.
pub fn inclusion_path<E>(
    index: u64,
    size: u64,
    mut node: impl FnMut(Subtree) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    let (mut start, mut end) = (0, size);
    let mut siblings = Vec::new();
    while end - start > 1 {
        let k = split((end - start) as usize) as u64;
        if index < start + k {
            siblings.push(range_root(start + k, end, &mut node)?);
            end = start + k;
        } else {
            siblings.push(range_root(start, start + k, &mut node)?);
            start += k;
        }
    }
    // Found top down; the path lists them leaf side first.
    siblings.reverse();
    Ok(siblings)
}

/// The proof that the tree of the first `old` leaves is a prefix of the tree of `size` leaves, equal
/// to [`consistency_proof`], from perfect subtree hashes: O(log size) calls of `node`.
pub fn consistency_path<E>(
    old: u64,
    size: u64,
    mut node: impl FnMut(Subtree) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    if old == 0 || old >= size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start:end], complete) of RFC 6962 §2.1.2, walked top down.
    let (mut m, mut start, mut end, mut complete) = (old, 0, size, true);
    let mut hashes = Vec::new();
    while m != end - start {
        let k = split((end - start) as usize) as u64;
        if m <= k {
            hashes.push(range_root(start + k, end, &mut node)?);
            end = start + k;
        } else {
            hashes.push(range_root(start, start + k, &mut node)?);
            m -= k;
            start += k;
            complete = false;
        }
    }
    if !complete {
        hashes.push(range_root(start, end, &mut node)?);
    }
    hashes.reverse();
    Ok(hashes)
}

/// The root over `leaves` (leaf hashes), MTH of RFC 6962 §2.1.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path of leaf `index` in the tree over `leaves` (RFC 6962 §2.1.1), leaf side first.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut path = inclusion_proof(index, &leaves[..k]);
        path.push(root(&leaves[k..]));
        path
    } else {
        let mut path = inclusion_proof(index - k, &leaves[k..]);
        path.push(root(&leaves[..k]));
        path
    }
}

/// The proof that the tree over the first `m` of `leaves` is a prefix of the tree over all of them
/// (RFC 6962 §2.1.2).
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    fn subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if complete { Vec::new() } else { vec![root(leaves)] };
        }
        let k = split(n);
        if m <= k {
            let mut proof = subproof(m, &leaves[..k], complete);
            proof.push(root(&leaves[k..]));
            proof
        } else {
            let mut proof = subproof(m - k, &leaves[k..], false);
            proof.push(root(&leaves[..k]));
            proof
        }
    }
    if m == 0 || m >= leaves.len() {
        return Vec::new();
    }
    subproof(m, leaves, true)
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

/// Checks a consistency proof between the tree of `size1` leaves with `root1` and the tree of
/// `size2` leaves with `root2` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(size1: u64, size2: u64, root1: &Hash, root2: &Hash, proof: &[Hash]) -> bool {
    if size1 > size2 {
        return false;
    }
    if size1 == size2 {
        return proof.is_empty() && root1 == root2;
    }
    if size1 == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if size1.is_power_of_two() {
        path.insert(0, *root1);
    }
    let Some((first, rest)) = path.split_first() else { return false };
    let (mut f_n, mut s_n) = (size1 - 1, size2 - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    fr == *root1 && sr == *root2 && s_n == 0
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest first. Appending a
/// leaf and taking the root cost O(log n), so the archive keeps one in memory instead of rehashing
/// the whole log at every checkpoint.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    /// (number of leaves, root) of each perfect subtree, left to right, sizes strictly decreasing.
    subtrees: Vec<(u64, Hash)>,
    size: u64,
}

impl Frontier {
    /// The frontier of a tree of `size` leaves from the hashes of its [`Subtree::edge`], in that order.
    pub fn from_edge(size: u64, hashes: impl IntoIterator<Item = Hash>) -> Frontier {
        let subtrees = Subtree::edge(size).into_iter().zip(hashes).map(|(s, h)| (1u64 << s.level, h)).collect();
        Frontier { subtrees, size }
    }

    /// Appends a leaf hash. Returns the perfect subtrees it completed with their hashes, smallest
    /// first: the leaf itself (level 0), then each subtree it closed, as many as the trailing ones
    /// of the old size.
    pub fn push(&mut self, leaf: Hash) -> Vec<(Subtree, Hash)> {
        let mut completed = vec![(Subtree { level: 0, index: self.size }, leaf)];
        self.subtrees.push((1, leaf));
        self.size += 1;
        while let [.., (a, left), (b, right)] = self.subtrees[..] {
            if a != b {
                break;
            }
            let (len, hash) = (a + b, node_hash(&left, &right));
            self.subtrees.truncate(self.subtrees.len() - 2);
            self.subtrees.push((len, hash));
            let subtree = Subtree::over(self.size - len, len).expect("merged subtrees are perfect and aligned");
            completed.push((subtree, hash));
        }
        completed
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the tree so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.subtrees.iter().rev();
        let Some(&(_, mut r)) = iter.next() else { return empty_root() };
        for (_, left) in iter {
            r = node_hash(left, &r);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect()
    }

    #[test]
    fn known_answers_of_rfc6962() {
        // The empty tree and a one-leaf tree of the empty string, as in the RFC 6962 test vectors
        // (certificate-transparency-go's merkle tests).
        let hex = |h: Hash| domain::hex(&h);
        assert_eq!(hex(empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    }

    #[test]
    fn frontier_matches_the_recursive_root() {
        let all = leaves(70);
        let mut frontier = Frontier::default();
        for n in 0..=70 {
            assert_eq!(frontier.root(), root(&all[..n]), "size {n}");
            if n < 70 {
                frontier.push(all[n]);
            }
        }
    }

    /// The hash of a perfect subtree, computed from all the leaves.
    fn subtree_root(all: &[Hash], s: Subtree) -> Hash {
        let first = (s.index << s.level) as usize;
        root(&all[first..first + (1 << s.level)])
    }

    #[test]
    fn push_reports_every_completed_subtree_and_the_edge_restores_the_frontier() {
        let all = leaves(70);
        let mut frontier = Frontier::default();
        let mut completed = Vec::new();
        for (n, leaf) in all.iter().enumerate() {
            completed.extend(frontier.push(*leaf));
            let size = n as u64 + 1;
            // Every perfect subtree within the first `size` leaves has been reported exactly once.
            let expected: u64 = (0..7).map(|level| size >> level).sum();
            assert_eq!(completed.len() as u64, expected, "size {size}");
            let edge: Vec<Hash> = Subtree::edge(size).into_iter().map(|s| subtree_root(&all, s)).collect();
            assert_eq!(Frontier::from_edge(size, edge).root(), root(&all[..=n]), "size {size}");
        }
        for (subtree, hash) in completed {
            assert_eq!(hash, subtree_root(&all, subtree), "{subtree:?}");
        }
    }

    #[test]
    fn proofs_from_subtrees_equal_the_full_computation_within_the_log_bound() {
        let all = leaves(130);
        for n in 1..=all.len() {
            let leaves = &all[..n];
            let reads = std::cell::Cell::new(0);
            let node = |s: Subtree| -> Result<Hash, ()> {
                reads.set(reads.get() + 1);
                Ok(subtree_root(leaves, s))
            };
            // Each proof has at most one sibling on the right edge that is not a perfect subtree.
            let bound = 2 * (n as f64).log2().ceil() as usize;
            for i in 0..n {
                reads.set(0);
                assert_eq!(inclusion_path(i as u64, n as u64, node), Ok(inclusion_proof(i, leaves)), "leaf {i} of {n}");
                assert!(reads.get() <= bound, "leaf {i} of {n}: {} subtrees read", reads.get());
            }
            for m in 0..=n {
                reads.set(0);
                assert_eq!(consistency_path(m as u64, n as u64, node), Ok(consistency_proof(m, leaves)), "{m} -> {n}");
                assert!(reads.get() <= bound + 1, "{m} -> {n}: {} subtrees read", reads.get());
            }
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_a_wrong_one_does_not() {
        for n in 1..=33 {
            let all = leaves(n);
            let r = root(&all);
            for i in 0..n {
                let proof = inclusion_proof(i, &all);
                assert!(verify_inclusion(i as u64, n as u64, &all[i], &proof, &r), "leaf {i} of {n}");
                let other = leaf_hash(b"other");
                assert!(!verify_inclusion(i as u64, n as u64, &other, &proof, &r));
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_a_forked_log_does_not() {
        for n in 1..=33 {
            let all = leaves(n);
            let r2 = root(&all);
            for m in 1..=n {
                let proof = consistency_proof(m, &all);
                assert!(verify_consistency(m as u64, n as u64, &root(&all[..m]), &r2, &proof), "{m} -> {n}");
                if m < n {
                    let mut forked = all.clone();
                    forked[m - 1] = leaf_hash(b"rewritten");
                    assert!(
                        !verify_consistency(m as u64, n as u64, &root(&forked[..m]), &r2, &proof),
                        "fork {m} -> {n}"
                    );
                }
            }
        }
    }
}
