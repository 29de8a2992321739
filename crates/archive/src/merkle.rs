//! RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256: leaf `H(0x00 ‖ data)`, node
//! `H(0x01 ‖ left ‖ right)`, the tree over `n` leaves split at the largest power of two below `n`.
//! Proofs are computed from the list of leaf hashes and checked by the verification algorithms of
//! RFC 9162 §2.1.3.2 and §2.1.4.2, so that any RFC 9162 verifier accepts them.

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
    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        self.subtrees.push((1, leaf));
        self.size += 1;
        while let [.., (a, left), (b, right)] = self.subtrees[..] {
            if a != b {
                break;
            }
            self.subtrees.truncate(self.subtrees.len() - 2);
            self.subtrees.push((a + b, node_hash(&left, &right)));
        }
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
        let hex = |h: Hash| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
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
                    assert!(!verify_consistency(m as u64, n as u64, &root(&forked[..m]), &r2, &proof), "fork {m} -> {n}");
                }
            }
        }
    }
}
