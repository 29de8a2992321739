//! The secondary keys of records (owner, dossier, type, PDF hash, source, verification token) and
//! the lookups through them.

use std::ops::ControlFlow;

use domain::{BlobHash, DocumentCode, DocumentTypeCode, DossierCode, OwnerId, VerificationToken};

use super::Archive;
use crate::{ArchiveError, DocumentRecord, Store, Table};

impl<S: Store> Archive<S> {
    /// The record of a document, if `token` is the verification token committed with it. A wrong
    /// token and an unknown code are the same single lookup that finds nothing: nothing about the
    /// stored token is compared byte by byte, so neither the answer nor its timing tells them apart.
    pub fn record_by_token(
        &self,
        code: &DocumentCode,
        token: &VerificationToken,
    ) -> Result<Option<DocumentRecord>, ArchiveError> {
        let key = code.to_string();
        match self.store.get(Table::VerificationKeys, &token.lookup_key(code))? {
            // The stored code is checked too, so that even a collision of lookup keys could not
            // answer for another document.
            Some(stored) if stored == key.as_bytes() => self.record(code),
            _ => Ok(None),
        }
    }

    /// The document whose PDF has this hash.
    pub fn find_by_pdf(&self, pdf: &BlobHash) -> Result<Option<DocumentCode>, ArchiveError> {
        let Some(v) = self.store.get(Table::ByPdf, pdf.as_bytes())? else { return Ok(None) };
        let text = String::from_utf8(v).map_err(|e| ArchiveError::Corrupt {
            what: "PDF key",
            key: pdf.to_hex(),
            reason: e.to_string(),
        })?;
        Ok(Some(text.parse()?))
    }

    /// The document made from `source` (the key its [`NewDocument`](crate::NewDocument) or its
    /// capture carried), if one was archived or captured.
    pub fn find_by_source(&self, source: &str) -> Result<Option<DocumentCode>, ArchiveError> {
        let Some(v) = self.store.get(Table::BySource, source.as_bytes())? else {
            return self.captured_from_source(source);
        };
        let text = String::from_utf8(v).map_err(|e| ArchiveError::Corrupt {
            what: "source key",
            key: source.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Some(text.parse()?))
    }

    /// The codes of an owner's documents, in code order.
    pub fn documents_of(&self, owner: &OwnerId) -> Result<Vec<DocumentCode>, ArchiveError> {
        self.codes_by(Table::ByOwner, owner.as_str())
    }

    /// The codes of a dossier's documents, in code order.
    pub fn documents_of_dossier(&self, dossier: &DossierCode) -> Result<Vec<DocumentCode>, ArchiveError> {
        self.codes_by(Table::ByDossier, &dossier.to_string())
    }

    /// The codes of the documents of a type, in code order.
    pub fn documents_of_type(&self, doc_type: &DocumentTypeCode) -> Result<Vec<DocumentCode>, ArchiveError> {
        self.codes_by(Table::ByType, doc_type.as_str())
    }

    fn codes_by(&self, table: Table, value: &str) -> Result<Vec<DocumentCode>, ArchiveError> {
        let prefix = [value.as_bytes(), b"\0"].concat();
        let mut codes = Vec::new();
        let mut bad = None;
        self.store.scan(table, &prefix, &prefix, &mut |k, _| {
            match std::str::from_utf8(&k[prefix.len()..]).ok().and_then(|s| s.parse().ok()) {
                Some(code) => codes.push(code),
                None => bad = Some(String::from_utf8_lossy(k).into_owned()),
            }
            ControlFlow::Continue(())
        })?;
        match bad {
            Some(key) => Err(ArchiveError::Corrupt {
                what: "secondary key",
                key,
                reason: "not a value and document code".into(),
            }),
            None => Ok(codes),
        }
    }
}

/// The secondary keys of a record: owner, dossier and type.
pub(crate) fn index_keys(record: &DocumentRecord) -> Vec<(Table, Vec<u8>)> {
    let code = record.code.to_string();
    let key = |value: &str| [value.as_bytes(), b"\0", code.as_bytes()].concat();
    let mut keys = vec![(Table::ByType, key(record.metadata.doc_type().as_str()))];
    if let Some(owner) = record.metadata.owner() {
        keys.push((Table::ByOwner, key(owner.as_str())));
    }
    if let Some(dossier) = record.metadata.dossier() {
        keys.push((Table::ByDossier, key(&dossier.to_string())));
    }
    keys
}

#[cfg(test)]
mod tests {
    use domain::{DocumentCode, VerificationToken};

    use super::super::test_support::{new_document, open, reserve};
    use crate::NewDocument;

    #[test]
    fn a_document_is_found_by_its_token_only_with_its_own_code() {
        let dir = tempfile::tempdir().unwrap();
        let archive = open(dir.path());
        let token = VerificationToken::from_random([7; 16]);
        let (first_slot, second_slot) = (reserve(&archive), reserve(&archive));
        let first = new_document(&first_slot, &[b"trang"]);
        let code = first.record.code.clone();
        archive.commit(NewDocument { verification: Some(token.clone()), ..first }).unwrap();
        let second = new_document(&second_slot, &[b"trang khac"]);
        let other = second.record.code.clone();
        archive.commit(second).unwrap();

        assert_eq!(archive.record_by_token(&code, &token).unwrap().map(|r| r.code), Some(code.clone()));
        assert!(
            archive.record_by_token(&code, &VerificationToken::from_random([8; 16])).unwrap().is_none(),
            "a wrong token"
        );
        assert!(archive.record_by_token(&other, &token).unwrap().is_none(), "another document's token");
        let unknown: DocumentCode = "001099012345.GPXD.99".parse().unwrap();
        assert!(archive.record_by_token(&unknown, &token).unwrap().is_none(), "an unknown code");
    }
}
