//! The province index: one PostgreSQL table that every office's appliance publishes its documents
//! to (metadata, status, page text) and that reuse lookup and full-text search at the province ask.
//! It is a finding aid, never evidence: what it answers is offered only once the office's evidence
//! in the object store verifies here (see [`super::offers`]).
//!
//! One row per document, keyed by (log origin, code) and guarded by the publishing event's sequence
//! number, so that a chunk published again, or late, writes nothing over a newer row. Reuse is
//! answered from a btree index on the owner's ID, full text from a GIN index on a `tsvector` of
//! the unaccented name and page text under the `simple` configuration, so that a query with or
//! without diacritics finds the same documents. A destroyed document is a tombstone row: its status,
//! code and hashes, without its owner, name or text.
//!
//! The client is the synchronous `postgres` crate on one connection, opened on first use and
//! opened again after a failure; connecting and every statement are bounded in time, so a dead or
//! stuck server makes a call fail, never wait.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::{DateTime, FixedOffset, NaiveDate};
use postgres::{Client, NoTls};
use serde::Serialize;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The server-side bound on each statement, and on waiting for a lock (milliseconds), so that a
/// lookup never queues behind a stuck publication for long.
const STATEMENT_OPTIONS: &str = "-c statement_timeout=10000 -c lock_timeout=5000";
/// Most rows a lookup or a search returns: more than any citizen has, more than an officer reads.
pub const MAX_HITS: i64 = 50;
/// Most characters of a document's text the index keeps (a `tsvector` holds at most 1 MiB).
const MAX_TEXT: usize = 256 * 1024;

/// The schema, created when missing. `unaccent` needs a role that may create extensions; a
/// province whose role may not has its DBA create it once (DEPLOYMENT.md).
const SCHEMA: &str = "
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TABLE IF NOT EXISTS sohoa_documents (
    origin       text        NOT NULL,
    code         text        NOT NULL,
    office       text        NOT NULL,
    seq          bigint      NOT NULL,
    doc_type     text        NOT NULL,
    owner        text,
    name         text        NOT NULL,
    number       text,
    issuing_body text,
    issue_date   date,
    valid_until  date,
    archived_at  timestamptz NOT NULL,
    status       text        NOT NULL CHECK (status IN ('active', 'revoked', 'destroyed')),
    held         boolean     NOT NULL,
    pages        integer     NOT NULL,
    pdf          text        NOT NULL,
    body         text,
    tsv          tsvector,
    PRIMARY KEY (origin, code)
);
CREATE INDEX IF NOT EXISTS sohoa_documents_owner ON sohoa_documents (owner);
CREATE INDEX IF NOT EXISTS sohoa_documents_tsv ON sohoa_documents USING gin (tsv);
";

/// The upsert of one row: written when new, or when its event is later than the row's.
const UPSERT: &str = "
INSERT INTO sohoa_documents AS d
    (origin, code, office, seq, doc_type, owner, name, number, issuing_body, issue_date, valid_until,
     archived_at, status, held, pages, pdf, body, tsv)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
        CASE WHEN $17::text IS NULL THEN NULL
             ELSE to_tsvector('simple', unaccent($7::text || ' ' || $17::text)) END)
ON CONFLICT (origin, code) DO UPDATE SET
    office = EXCLUDED.office, seq = EXCLUDED.seq, doc_type = EXCLUDED.doc_type, owner = EXCLUDED.owner,
    name = EXCLUDED.name, number = EXCLUDED.number, issuing_body = EXCLUDED.issuing_body,
    issue_date = EXCLUDED.issue_date, valid_until = EXCLUDED.valid_until,
    archived_at = EXCLUDED.archived_at, status = EXCLUDED.status, held = EXCLUDED.held,
    pages = EXCLUDED.pages, pdf = EXCLUDED.pdf, body = EXCLUDED.body, tsv = EXCLUDED.tsv
WHERE d.seq < EXCLUDED.seq";

/// Reuse: an owner's active documents (of a type, if given) in force on a day, at other offices
/// than the asker's.
const REUSE: &str = "
SELECT origin, office, code, doc_type, owner, name, issue_date, valid_until, held, pdf, NULL::real AS rank
FROM sohoa_documents
WHERE owner = $1 AND status = 'active' AND origin <> $2 AND (valid_until IS NULL OR valid_until >= $3)
  AND ($5::text IS NULL OR doc_type = $5)
ORDER BY issue_date DESC NULLS LAST, origin, code
LIMIT $4";

/// Full text: active documents at other offices, best first.
const SEARCH: &str = "
SELECT origin, office, code, doc_type, owner, name, issue_date, valid_until, held, pdf, ts_rank(tsv, q) AS rank
FROM sohoa_documents, websearch_to_tsquery('simple', unaccent($1)) AS q
WHERE tsv @@ q AND status = 'active' AND origin <> $2
ORDER BY rank DESC, origin, code
LIMIT $3";

/// A document as an office publishes it.
#[derive(Debug, Clone)]
pub struct Row {
    /// The office's archive log origin.
    pub origin: String,
    /// The document code.
    pub code: String,
    /// The office's name.
    pub office: String,
    /// The archive event this row is as of.
    pub seq: i64,
    /// The type code.
    pub doc_type: String,
    /// The owner's ID; none for a tombstone or a document without one.
    pub owner: Option<String>,
    /// The document name; empty for a tombstone.
    pub name: String,
    /// Number and symbol.
    pub number: Option<String>,
    /// Issuing body.
    pub issuing_body: Option<String>,
    /// Issue date.
    pub issue_date: Option<NaiveDate>,
    /// Last day of validity; none when valid without end.
    pub valid_until: Option<NaiveDate>,
    /// When the office archived it.
    pub archived_at: DateTime<FixedOffset>,
    /// `active`, `revoked` or `destroyed`.
    pub status: &'static str,
    /// Whether a hold is on.
    pub held: bool,
    /// Number of pages.
    pub pages: i32,
    /// BLAKE3 of the PDF, hex.
    pub pdf: String,
    /// The name and page text for full text; none for a tombstone.
    pub body: Option<String>,
}

/// A row the index answered with: a finding, to be verified before it is offered.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// The holding office's log origin.
    pub origin: String,
    /// The holding office, as it names itself.
    pub office: String,
    /// The document code.
    pub code: String,
    /// The type code.
    pub doc_type: String,
    /// The owner's ID.
    pub owner: Option<String>,
    /// The document name.
    pub name: String,
    /// Issue date.
    pub issue_date: Option<NaiveDate>,
    /// Last day of validity.
    pub valid_until: Option<NaiveDate>,
    /// Whether a hold is on.
    pub held: bool,
    /// BLAKE3 of the PDF, hex.
    pub pdf: String,
    /// The full-text rank, for a search.
    pub rank: Option<f32>,
}

/// Creates the table, its indexes and `unaccent` where missing. Public for the benchmark, which
/// fills the very schema the appliance makes.
pub fn create_schema(client: &mut Client) -> Result<(), postgres::Error> {
    client.batch_execute(SCHEMA)
}

/// An owner's active documents (of `doc_type` if given) in force on `valid_on` held by other offices
/// than `asker`'s origin, newest issue first. Public for the benchmark, which measures this very
/// query.
pub fn reuse(
    client: &mut Client,
    owner: &str,
    doc_type: Option<&str>,
    asker: &str,
    valid_on: NaiveDate,
) -> Result<Vec<Found>, postgres::Error> {
    Ok(client.query(REUSE, &[&owner, &asker, &valid_on, &MAX_HITS, &doc_type])?.iter().map(found).collect())
}

/// Active documents of other offices than `asker`'s whose name or text matches `query` (web search
/// syntax, diacritics ignored), best first.
pub fn search(client: &mut Client, query: &str, asker: &str) -> Result<Vec<Found>, postgres::Error> {
    Ok(client.query(SEARCH, &[&query, &asker, &MAX_HITS])?.iter().map(found).collect())
}

/// A result row.
fn found(row: &postgres::Row) -> Found {
    Found {
        origin: row.get("origin"),
        office: row.get("office"),
        code: row.get("code"),
        doc_type: row.get("doc_type"),
        owner: row.get("owner"),
        name: row.get("name"),
        issue_date: row.get("issue_date"),
        valid_until: row.get("valid_until"),
        held: row.get("held"),
        pdf: row.get("pdf"),
        rank: row.get("rank"),
    }
}

/// The text of `pages` as the index keeps it: at most [`MAX_TEXT`] characters.
pub fn index_text(pages: impl Iterator<Item = String>) -> String {
    let mut text = String::new();
    for page in pages {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&page);
        if text.len() >= MAX_TEXT {
            let mut end = MAX_TEXT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            break;
        }
    }
    text
}

/// The province index as configured, and the one connection to it.
pub struct ProvinceIndex {
    config: postgres::Config,
    client: Mutex<Option<Client>>,
}

impl ProvinceIndex {
    /// The index at `conninfo` (no password in it: `PGPASSWORD` gives it), bounded in time. Nothing
    /// is connected yet.
    pub fn open(conninfo: &str) -> anyhow::Result<Self> {
        let mut config = postgres::Config::from_str(conninfo)
            .map_err(|e| anyhow!("[province] index is not a PostgreSQL connection string: {e}"))?;
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .application_name("sohoa")
            .options(STATEMENT_OPTIONS);
        Ok(ProvinceIndex { config, client: Mutex::new(None) })
    }

    /// Runs `work` on the connection, connecting (and creating the schema) first if there is none;
    /// a failure drops the connection, so that the next call connects again.
    fn with<T>(&self, what: &str, work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>) -> anyhow::Result<T> {
        let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(Client::is_closed) {
            let mut client = self.config.connect(NoTls).context("province index: cannot connect")?;
            create_schema(&mut client).context("province index: cannot create the schema (see DEPLOYMENT.md)")?;
            *slot = Some(client);
        }
        let client = slot.as_mut().expect("connected above");
        work(client).map_err(|e| {
            *slot = None;
            anyhow!("province index: {what}: {e}")
        })
    }

    /// Writes `rows` in one transaction; returns how many were new or newer than the index's.
    pub fn publish(&self, rows: &[Row]) -> anyhow::Result<u64> {
        self.with("publishing", |client| {
            let mut tx = client.transaction()?;
            let upsert = tx.prepare(UPSERT)?;
            let mut written = 0;
            for r in rows {
                written += tx.execute(
                    &upsert,
                    &[
                        &r.origin,
                        &r.code,
                        &r.office,
                        &r.seq,
                        &r.doc_type,
                        &r.owner,
                        &r.name,
                        &r.number,
                        &r.issuing_body,
                        &r.issue_date,
                        &r.valid_until,
                        &r.archived_at,
                        &r.status,
                        &r.held,
                        &r.pages,
                        &r.pdf,
                        &r.body,
                    ],
                )?;
            }
            tx.commit()?;
            Ok(written)
        })
    }

    /// See [`reuse`].
    pub fn reuse(
        &self,
        owner: &str,
        doc_type: Option<&str>,
        asker: &str,
        valid_on: NaiveDate,
    ) -> anyhow::Result<Vec<Found>> {
        self.with("reuse lookup", |client| reuse(client, owner, doc_type, asker, valid_on))
    }

    /// See [`search`].
    pub fn search(&self, query: &str, asker: &str) -> anyhow::Result<Vec<Found>> {
        self.with("search", |client| search(client, query, asker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_text_is_bounded_on_a_character_boundary() {
        let text = index_text(std::iter::repeat_n("đường ".repeat(1000), 100));
        assert!(text.len() <= MAX_TEXT && text.len() > MAX_TEXT - 8);
        assert_eq!(index_text(["a".to_owned(), "b".to_owned()].into_iter()), "a\nb");
    }
}
