//! How the archive gets things sealed without ever holding a key: the binary hands it a [`Sealer`]
//! backed by the signer's key ring.

use domain::DocumentCode;

use crate::SealRecord;

/// Signs and checks the archive's canonical texts (audit entries, log checkpoints, destruction
/// reports) with the appliance's Ed25519 seal key.
///
/// Semantics: [`seal`](Sealer::seal) signs exactly the bytes of `text` with the current key;
/// [`check`](Sealer::check) accepts a seal made by any key the appliance ever had (rotation keeps
/// old public keys) and refuses one whose text was changed, whose signature is not 64 bytes or
/// whose key is unknown, saying which.
pub trait Sealer: Send + Sync {
    /// Signs `text` with the current seal key.
    fn seal(&self, text: String) -> SealRecord;
    /// Checks a seal's signature against the key it names.
    fn check(&self, seal: &SealRecord) -> Result<(), String>;

    /// Checks the seal of `document` (its manifest or a page): like [`check`](Sealer::check), and
    /// also accepting another appliance's key pinned for exactly this seal of this document (an
    /// imported one). A sealer that knows no foreign keys checks with its own keys only.
    fn check_document(&self, _document: &DocumentCode, seal: &SealRecord) -> Result<(), String> {
        self.check(seal)
    }
}
