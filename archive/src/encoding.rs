//! How values are stored: postcard encoding of records, decoding with the table and key named on
//! failure, and the big-endian sequence keys of the ordered tables (events, audit, log leaves).

use std::ops::ControlFlow;

use serde::{Serialize, de::DeserializeOwned};

use crate::{ArchiveError, Store, Table, Visit};

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("archive records always serialise")
}

pub(crate) fn decode<T: DeserializeOwned>(what: &'static str, key: &[u8], bytes: &[u8]) -> Result<T, ArchiveError> {
    postcard::from_bytes(bytes).map_err(|e| ArchiveError::Corrupt {
        what,
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

pub(crate) fn seq_from_key(key: &[u8]) -> u64 {
    key.get(..8).and_then(|k| k.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0)
}

/// Every value of a table, decoded, in key order.
pub(crate) fn decode_all<S: Store, T: DeserializeOwned>(
    store: &S,
    table: Table,
    what: &'static str,
) -> Result<Vec<T>, ArchiveError> {
    decode_scanned(what, |visit| store.scan(table, &[], &[], visit))
}

/// Every value `scan` visits (of a store or a snapshot), decoded, in key order.
pub(crate) fn decode_scanned<T: DeserializeOwned>(
    what: &'static str,
    scan: impl FnOnce(&mut Visit<'_>) -> Result<(), ArchiveError>,
) -> Result<Vec<T>, ArchiveError> {
    let mut all = Vec::new();
    let mut failure = None;
    scan(&mut |k, v| match decode(what, k, v) {
        Ok(value) => {
            all.push(value);
            ControlFlow::Continue(())
        }
        Err(e) => {
            failure = Some(e);
            ControlFlow::Break(())
        }
    })?;
    failure.map_or(Ok(all), Err)
}
