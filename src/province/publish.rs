//! Publication: this office's documents in the province index, following the archive's events
//! from publication's own durable cursor (see [`super::follow`]), like replication and apart from
//! it. Each document a chunk of events names is published as its record is now, the chunk in one
//! PostgreSQL transaction; the cursor moves past the chunk only after the commit. Each row is
//! guarded by its event's sequence number, so a chunk published again writes nothing.

use domain::{DocumentCode, Validity};
use serde::Serialize;

use super::follow::{Follower, Lag};
use super::index::{ProvinceIndex, Row, index_text};
use crate::{Appliance, ApplianceError};
use archive::{DocumentRecord, DocumentStatus};

/// The name publication's cursor is kept under in the archive.
pub const FOLLOWER: &str = "province-index";

/// What one pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PublishCounts {
    /// Documents published (each once per chunk that named it).
    pub documents: u64,
    /// Rows the index took as new or newer; a pass done again takes none.
    pub rows_written: u64,
}

/// Publication to the province index, and what the running process knows of its lag.
pub struct Publisher {
    index: ProvinceIndex,
    office: String,
    origin: String,
    follower: Follower,
}

impl Publisher {
    /// Publication to `index` as `office`, whose archive log is `origin`. Nothing is sent yet.
    pub fn open(index: ProvinceIndex, office: &str, origin: &str) -> Self {
        Publisher { index, office: office.to_owned(), origin: origin.to_owned(), follower: Follower::new(FOLLOWER) }
    }

    /// The index, which province lookups ask too.
    pub fn index(&self) -> &ProvinceIndex {
        &self.index
    }

    /// This office's archive log origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// How far the index is behind the archive.
    pub fn lag(&self, appliance: &Appliance) -> Result<Lag, ApplianceError> {
        self.follower.lag(appliance.archive())
    }

    /// Publishes every event after the cursor, one transaction per chunk.
    pub fn pass(&self, appliance: &Appliance) -> Result<PublishCounts, ApplianceError> {
        let mut counts = PublishCounts::default();
        self.follower.pass(appliance.archive(), &mut |chunk, _| {
            let rows = chunk
                .documents
                .iter()
                .map(|(code, seq)| Ok(self.row(&appliance.record(code)?, code, *seq)))
                .collect::<Result<Vec<Row>, ApplianceError>>()?;
            counts.rows_written += self.index.publish(&rows)?;
            counts.documents += rows.len() as u64;
            Ok(())
        })?;
        Ok(counts)
    }

    /// The row of `record` as of event `seq`: a tombstone, without owner, name or text, once the
    /// document is destroyed.
    fn row(&self, record: &DocumentRecord, code: &DocumentCode, seq: u64) -> Row {
        let m = &record.metadata;
        let destroyed = matches!(record.status, DocumentStatus::Destroyed(_));
        let kept = |value: Option<&str>| value.filter(|_| !destroyed).map(str::to_owned);
        Row {
            origin: self.origin.clone(),
            code: code.to_string(),
            office: self.office.clone(),
            seq: i64::try_from(seq).unwrap_or(i64::MAX),
            doc_type: m.doc_type().to_string(),
            owner: kept(m.owner().map(|o| o.as_str())),
            name: if destroyed { String::new() } else { m.name().to_owned() },
            number: kept(m.number_symbol()),
            issuing_body: kept(m.issuing_body()),
            issue_date: m.issue_date(),
            valid_until: match m.validity() {
                Validity::Until(day) => Some(day),
                Validity::Permanent => None,
            },
            archived_at: record.archived_at,
            status: record.status.name(),
            held: record.is_held(),
            pages: i32::try_from(record.pages.len()).unwrap_or(i32::MAX),
            pdf: record.pdf.to_string(),
            body: (!destroyed).then(|| index_text(record.pages.iter().map(|p| p.text.clone()))),
        }
    }
}
