//! Counters and reservations: dossier numbers per unit and day, hold ids, and the document codes
//! reserved for ingests in progress.

use std::ops::ControlFlow;

use chrono::NaiveDate;
use domain::{DocumentCode, DocumentTypeCode, DossierCode, OwnerId, UnitCode};

use super::{Archive, Staged};
use crate::{ArchiveError, RocksStore, Store, Table};

/// A document code held for one ingest, from before its PDF is made (the code is printed in it and
/// sealed) until its commit. Nothing durable is written to take it: the record that the commit's own
/// batch writes is what uses the number. An ingest that fails after reserving (a timestamp authority
/// down), or a process killed before the commit, leaves the number free; while the reservation
/// lives, no other ingest is given the same code. Dropping it releases the code.
pub struct CodeReservation<'a, S: Store = RocksStore> {
    archive: &'a Archive<S>,
    code: DocumentCode,
}

impl<S: Store> CodeReservation<'_, S> {
    /// The reserved code.
    pub fn code(&self) -> &DocumentCode {
        &self.code
    }
}

impl<S: Store> Drop for CodeReservation<'_, S> {
    fn drop(&mut self) {
        // After a commit the record holds the code, so releasing the reservation frees nothing.
        self.archive.writer.lock().state.reserved.remove(&self.code.to_string());
    }
}

/// The largest number of a document code's two digits.
const MAX_DOCUMENT_NUMBER: u8 = 99;

impl<S: Store> Archive<S> {
    /// The next number of a counter (kept in memory once read, so grouped writers never hand out
    /// the same number twice), staged durably.
    fn next_number(
        &self,
        staged: &mut Staged<'_>,
        key: String,
        what: &'static str,
        scope: String,
        max: u32,
    ) -> Result<u32, ArchiveError> {
        let last = match staged.state.counters.get(&key) {
            Some(n) => *n,
            None => match self.store.get(Table::Counters, key.as_bytes())? {
                Some(v) => u32::from_le_bytes(v.as_slice().try_into().map_err(|_| ArchiveError::Corrupt {
                    what: "counter",
                    key: key.clone(),
                    reason: format!("{} bytes instead of 4", v.len()),
                })?),
                None => 0,
            },
        };
        if last >= max {
            return Err(ArchiveError::CounterExhausted { what, scope, max });
        }
        staged.batch.put(Table::Counters, key.clone().into_bytes(), (last + 1).to_le_bytes().to_vec());
        staged.state.counters.insert(key, last + 1);
        Ok(last + 1)
    }

    pub(crate) fn next_hold_id(&self, staged: &mut Staged<'_>) -> Result<u64, ArchiveError> {
        Ok(u64::from(self.next_number(staged, "hold".into(), "hold", "the archive".into(), u32::MAX)?))
    }

    /// Allocates the next dossier code of `unit` for `date`. Numbers are never reused, survive
    /// restarts, and concurrent callers never receive the same one.
    pub fn allocate_dossier_code(&self, unit: &UnitCode, date: NaiveDate) -> Result<DossierCode, ArchiveError> {
        let key = format!("dossier/{unit}/{}", date.format("%Y%m%d"));
        let scope = format!("unit {unit} on {date}");
        let n = self.grouped(|a, s| a.next_number(s, key, "dossier", scope, u32::from(DossierCode::MAX_NUMBER)))?;
        Ok(DossierCode::new(unit.clone(), date, n as u16)?)
    }

    /// Reserves the lowest free document code `<owner>.<type>.<NN>` of this owner and type (see
    /// [`CodeReservation`]): a number is free when no record has it (records are never removed, so
    /// a destroyed document keeps its number), no captured document waiting to be read has it, no
    /// commit in flight has it and no other ingest holds it. Commit the document under the reserved code while the reservation lives.
    pub fn reserve_document_code(
        &self,
        owner: Option<&OwnerId>,
        doc_type: &DocumentTypeCode,
    ) -> Result<CodeReservation<'_, S>, ArchiveError> {
        let owner_part = owner.map(OwnerId::as_str).unwrap_or_default();
        let mut w = self.writer.lock();
        let mut used = [false; 100];
        let mut mark_used = |table: Table, prefix: String| {
            self.store.scan(table, prefix.as_bytes(), prefix.as_bytes(), &mut |k, _| {
                if let Some(n) = std::str::from_utf8(&k[prefix.len()..])
                    .ok()
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n < used.len())
                {
                    used[n] = true;
                }
                ControlFlow::Continue(())
            })
        };
        // The type's secondary keys are `<type> NUL <code>`, and every code of this owner and type
        // starts with `<owner>.<type>.`: one short scan lists the numbers in use.
        mark_used(Table::ByType, format!("{doc_type}\0{owner_part}.{doc_type}."))?;
        // A captured document takes its number from its capture on, before its record exists.
        mark_used(Table::Captured, format!("{owner_part}.{doc_type}."))?;
        for n in (1..=MAX_DOCUMENT_NUMBER).filter(|n| !used[usize::from(*n)]) {
            let code = DocumentCode::new(owner.cloned(), doc_type.clone(), Some(n))?;
            let key = code.to_string();
            if !w.state.reserved.contains(&key) && !w.state.in_flight.contains(&key) {
                w.state.reserved.insert(key);
                return Ok(CodeReservation { archive: self, code });
            }
        }
        Err(ArchiveError::CounterExhausted {
            what: "document",
            scope: format!("owner {owner_part:?}, type {doc_type}"),
            max: u32::from(MAX_DOCUMENT_NUMBER),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use chrono::NaiveDate;
    use domain::DossierCode;

    use super::super::test_support::{open, unit};

    #[test]
    fn dossier_codes_are_unique_under_concurrency_and_survive_restart() {
        let dir = tempfile::tempdir().unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 10, 11).unwrap();
        let archive = Arc::new(open(dir.path()));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let archive = archive.clone();
                std::thread::spawn(move || {
                    (0..25).map(|_| archive.allocate_dossier_code(&unit(), day).unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        let codes: HashSet<DossierCode> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        assert_eq!(codes.len(), 100);
        assert!(codes.contains(&"H56.14-241011-0100".parse().unwrap()));
        drop(archive);

        let archive = open(dir.path());
        assert_eq!(archive.allocate_dossier_code(&unit(), day).unwrap().to_string(), "H56.14-241011-0101");
        let next_day = day.succ_opt().unwrap();
        assert_eq!(archive.allocate_dossier_code(&unit(), next_day).unwrap().to_string(), "H56.14-241012-0001");
    }
}
