//! The storage contract the archive is written against ([`Store`], [`Snapshot`], [`Batch`], one
//! [`Table`] per kind of value) and its RocksDB implementation, [`RocksStore`].

use std::ops::ControlFlow;
use std::path::Path;

use domain::BlobHash;

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, DB, Direction, IteratorMode, MergeOperands, Options, WriteBatch,
    WriteOptions,
};

/// The block cache shared by all tables: index and filter blocks of tens of millions of pages, and
/// the small records, stay in memory; page images themselves are read from blob files.
const BLOCK_CACHE_BYTES: usize = 256 << 20;

use crate::ArchiveError;
use crate::blob_files::{BLOB_DIR, BlobFiles};
use crate::spool::{SpoolFile, Spooled};

/// The tables of the archive, one RocksDB column family each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// BLAKE3 hash → content, for small blobs, and for every blob of an archive written before
    /// large blobs became files of their own ([`Store::put_blob_files`]); a blob is in this table
    /// or has a file (both, when a blob of such an archive is archived again), and readers look
    /// here first. Write-once: a key is written with the
    /// content that hashes to it, and is only ever removed whole (by disposition), never changed.
    Blobs,
    /// BLAKE3 hash → reference count (i64, little-endian), changed only by [`Batch::add`].
    BlobRefs,
    /// Document code → document record.
    Documents,
    /// PDF hash → document code.
    ByPdf,
    /// Source key (what the document was made from, e.g. the BLAKE3 of a hot-folder file) →
    /// document code; written in the document's own batch, so a source is archived once or not at all.
    BySource,
    /// Owner ID, NUL, document code → empty.
    ByOwner,
    /// Dossier code, NUL, document code → empty.
    ByDossier,
    /// Document type code, NUL, document code → empty.
    ByType,
    /// Counter name → last number used (u32, little-endian).
    Counters,
    /// Event sequence number (u64, big-endian) → event. Append-only.
    Events,
    /// Audit sequence number (u64, big-endian) → audit entry. Append-only.
    Audit,
    /// User name → user record.
    Users,
    /// Archive log leaf index (u64, big-endian) → the leaf's canonical text. Append-only.
    LogLeaves,
    /// Archive log size (u64, big-endian) → signed checkpoint at that size. Append-only.
    Checkpoints,
    /// Hold id (u64, big-endian) → hold. Written when a hold is placed and when it is released.
    Holds,
    /// Perfect subtree of the archive log (level, u8; index at that level, u64 big-endian) → its
    /// SHA-256 tree hash; level 0 holds the leaf hashes. Written in the batch of the leaf that
    /// completes the subtree, never changed after.
    LogNodes,
    /// Document code → index (u64, big-endian) of the latest log leaf about it, rewritten in the
    /// batch of each new leaf about it.
    LogIndex,
    /// Verification lookup key ([`domain::VerificationToken::lookup_key`] of a document's code and
    /// token) → document code; written in the document's own batch. Documents archived before tokens
    /// existed have none here.
    VerificationKeys,
    /// BLAKE3 hash of a session's or access token's secret → [`crate::SessionRecord`]. The secret
    /// itself is never stored, so that a copy of the database opens no session.
    Sessions,
    /// Document code → [`crate::CapturedDocument`]: a document whose pages are durable and sealed,
    /// waiting to be read, signed and archived (the reading queue). The entry goes in the batch that
    /// writes its record.
    Captured,
    /// Follower name (who reads the event sequence from outside the archive, such as replication)
    /// → the sequence number (u64, big-endian) of the last event it has applied; written by the
    /// follower after it has applied them, so that a restart resumes where it stopped.
    Cursors,
}

impl Table {
    const ALL: [Table; 21] = [
        Table::Blobs,
        Table::BlobRefs,
        Table::Documents,
        Table::ByPdf,
        Table::BySource,
        Table::ByOwner,
        Table::ByDossier,
        Table::ByType,
        Table::Counters,
        Table::Events,
        Table::Audit,
        Table::Users,
        Table::LogLeaves,
        Table::Checkpoints,
        Table::Holds,
        Table::LogNodes,
        Table::LogIndex,
        Table::VerificationKeys,
        Table::Sessions,
        Table::Captured,
        Table::Cursors,
    ];

    fn name(self) -> &'static str {
        match self {
            Table::Blobs => "blobs",
            Table::BlobRefs => "blob_refs",
            Table::Documents => "documents",
            Table::ByPdf => "by_pdf",
            Table::BySource => "by_source",
            Table::ByOwner => "by_owner",
            Table::ByDossier => "by_dossier",
            Table::ByType => "by_type",
            Table::Counters => "counters",
            Table::Events => "events",
            Table::Audit => "audit",
            Table::Users => "users",
            Table::LogLeaves => "log_leaves",
            Table::Checkpoints => "checkpoints",
            Table::Holds => "holds",
            Table::LogNodes => "log_nodes",
            Table::LogIndex => "log_index",
            Table::VerificationKeys => "verification_keys",
            Table::Sessions => "sessions",
            Table::Captured => "captured",
            Table::Cursors => "cursors",
        }
    }
}

enum Op {
    Put(Table, Vec<u8>, Vec<u8>),
    Add(Table, Vec<u8>, i64),
    Delete(Table, Vec<u8>),
}

/// A set of changes applied together by [`Store::apply`].
#[derive(Default)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// Sets `key` to `value`.
    pub fn put(&mut self, table: Table, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::Put(table, key.into(), value.into()));
    }

    /// Adds `delta` to the counter at `key` (absent counts as 0). Concurrent additions compose.
    pub fn add(&mut self, table: Table, key: impl Into<Vec<u8>>, delta: i64) {
        self.ops.push(Op::Add(table, key.into(), delta));
    }

    /// Removes `key`. Used only by disposition (blobs whose last reference went) and by the tests
    /// that damage an archive on purpose.
    pub fn delete(&mut self, table: Table, key: impl Into<Vec<u8>>) {
        self.ops.push(Op::Delete(table, key.into()));
    }

    /// Appends another batch's changes after this one's.
    pub fn extend(&mut self, other: Batch) {
        self.ops.extend(other.ops);
    }

    /// Whether the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// What a scan calls with each key and value, in key order; it breaks to end the scan.
pub type Visit<'v> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'v;

/// A key and its value.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// The storage the archive is written against.
///
/// Semantics every implementation keeps:
/// - [`apply`](Store::apply) is atomic and durable: after it returns `Ok`, all of the batch survives a
///   crash or power loss; after a crash during it, none of it is visible.
/// - Reads see every batch whose `apply` has returned, and no part of one that has not.
/// - Keys are ordered bytewise; [`scan`](Store::scan) visits them in that order.
pub trait Store: Send + Sync {
    /// The value at `key`, if any.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, ArchiveError>;
    /// Visits keys from `from` (inclusive) upward that start with `prefix`, until `visit` breaks.
    fn scan(&self, table: Table, prefix: &[u8], from: &[u8], visit: &mut Visit<'_>) -> Result<(), ArchiveError>;
    /// The last key and value of a table.
    fn last(&self, table: Table) -> Result<Option<KeyValue>, ArchiveError>;
    /// The last key and value of a table whose key sorts strictly before `key`.
    fn last_before(&self, table: Table, key: &[u8]) -> Result<Option<KeyValue>, ArchiveError>;
    /// Applies a batch atomically and durably.
    fn apply(&self, batch: Batch) -> Result<(), ArchiveError>;
    /// Stores each blob as a file of its own, outside any batch, unless it has one already; when
    /// this returns, every one of them is durable (data, name and directory synced), so that a
    /// batch applied afterwards may refer to them. The caller vouches that each content hashes to
    /// its hash. A file that no [`Table::BlobRefs`] count refers to (a crash came between the file
    /// and its batch) is removed when the store is next opened.
    fn put_blob_files(&self, blobs: &[(BlobHash, &[u8])]) -> Result<(), ArchiveError>;
    /// A new scratch file for a blob streamed before its commit ([`crate::spool`]).
    fn spool(&self) -> Result<SpoolFile, ArchiveError>;
    /// Gives each spooled blob its address as a blob file and syncs the names, so that a batch
    /// applied afterwards may refer to them. Only under the writer lock.
    fn adopt_spooled(&self, spooled: &[&Spooled]) -> Result<(), ArchiveError>;
    /// The file of a blob, opened for reading with its size, if it has one; a link or anything but a
    /// regular file in its place is an error, never followed.
    fn open_blob_file(&self, hash: &BlobHash) -> Result<Option<(std::fs::File, u64)>, ArchiveError>;
    /// Removes the file of a blob (absent is fine). Only after the batch that removed the blob's
    /// last reference is durable.
    fn remove_blob_file(&self, hash: &BlobHash) -> Result<(), ArchiveError>;
    /// Writes a consistent copy of the whole store, as of one instant, into `dir` (which must not
    /// exist), while the store stays in use: the tables, and the file of every blob they count a
    /// reference to. No batch may be applied, nor blob file removed, while it runs. Files that never
    /// change may be shared with the store (hard links); [`Archive::backup`](crate::Archive::backup)
    /// then makes them copies.
    fn snapshot_to(&self, dir: &Path) -> Result<(), ArchiveError>;
    /// A read-only view of the whole store as of now: batches applied after this call are not seen
    /// through it, however long it is kept.
    fn snapshot(&self) -> Box<dyn Snapshot + '_>;
}

/// A consistent, read-only view of a [`Store`] as of the instant it was taken (see
/// [`Store::snapshot`]). A long reader (fixity runs for hours while serving) reads every table
/// through one, so that it never sees a record from before a change beside a blob from after it.
pub trait Snapshot {
    /// The value at `key`, as of the snapshot.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, ArchiveError>;
    /// [`Store::scan`], as of the snapshot.
    fn scan(&self, table: Table, prefix: &[u8], from: &[u8], visit: &mut Visit<'_>) -> Result<(), ArchiveError>;
    /// [`Store::last`], as of the snapshot.
    fn last(&self, table: Table) -> Result<Option<KeyValue>, ArchiveError>;
}

/// The RocksDB implementation of [`Store`]: one column family per table, blobs in RocksDB's blob
/// files (so that compaction does not rewrite page images) or, for large ones, in files of their
/// own in its `blobs/` directory; every write synced.
pub struct RocksStore {
    db: DB,
    files: BlobFiles,
}

fn add_counts(_key: &[u8], existing: Option<&[u8]>, operands: &MergeOperands) -> Option<Vec<u8>> {
    let decode = |b: &[u8]| b.try_into().map(i64::from_le_bytes).unwrap_or(0);
    let total = operands.iter().fold(existing.map(decode).unwrap_or(0), |acc, op| acc + decode(op));
    Some(total.to_le_bytes().to_vec())
}

impl RocksStore {
    /// Opens (creating if needed) the database in `path`, and removes the blob files that a crash
    /// left without a reference (see [`Store::put_blob_files`]).
    pub fn open(path: &Path) -> Result<Self, ArchiveError> {
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        // One block cache for every table, with bloom filters and cached index blocks: a read of a
        // page among millions is then one index probe in memory and one read of its blob file.
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let mut table_options = BlockBasedOptions::default();
        table_options.set_block_cache(&cache);
        table_options.set_bloom_filter(10.0, false);
        table_options.set_cache_index_and_filter_blocks(true);
        table_options.set_pin_l0_filter_and_index_blocks_in_cache(true);
        let families = Table::ALL.iter().map(|t| {
            let mut opts = Options::default();
            opts.set_block_based_table_factory(&table_options);
            match t {
                Table::Blobs => {
                    opts.set_enable_blob_files(true);
                    opts.set_min_blob_size(4096);
                    // Blobs released by disposition leave garbage in blob files; compaction
                    // rewrites the oldest blob files to reclaim it.
                    opts.set_enable_blob_gc(true);
                    // Page images and PDFs are already compressed.
                    opts.set_compression_type(rocksdb::DBCompressionType::None);
                }
                Table::BlobRefs => opts.set_merge_operator_associative("add_i64", add_counts),
                _ => opts.set_compression_type(rocksdb::DBCompressionType::Lz4),
            }
            ColumnFamilyDescriptor::new(t.name(), opts)
        });
        let db = DB::open_cf_descriptors(&db_opts, path, families).map_err(|e| {
            let message = e.clone().into_string();
            if message.contains("lock") {
                ArchiveError::InUse { path: path.to_owned() }
            } else {
                ArchiveError::storage(format!("opening {}", path.display()), e)
            }
        })?;
        let files = BlobFiles::open(path)?;
        let store = RocksStore { db, files };
        // Nothing commits yet: a file without a reference now is one whose batch never came.
        store.files.sweep(&mut |hash| store.is_referenced(hash))?;
        Ok(store)
    }

    /// Whether the stored reference count of a blob is above zero.
    fn is_referenced(&self, hash: &BlobHash) -> Result<bool, ArchiveError> {
        let count = self.get(Table::BlobRefs, hash.as_bytes())?;
        Ok(count.and_then(|v| <[u8; 8]>::try_from(v).ok()).is_some_and(|v| i64::from_le_bytes(v) > 0))
    }

    fn cf(&self, table: Table) -> &rocksdb::ColumnFamily {
        self.db.cf_handle(table.name()).expect("every table's column family is created at open")
    }
}

impl Drop for RocksStore {
    /// Flushes the memtables on close, so that the write-ahead log (which holds every blob a second
    /// time until then) is released and the next open has nothing to replay. Every write is already
    /// durable; a failed flush loses nothing.
    fn drop(&mut self) {
        let families: Vec<_> = Table::ALL.iter().map(|t| self.cf(*t)).collect();
        let _ = self.db.flush_cfs_opt(&families, &rocksdb::FlushOptions::default());
    }
}

impl Store for RocksStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, ArchiveError> {
        self.db.get_cf(self.cf(table), key).map_err(|e| ArchiveError::storage(format!("reading {}", table.name()), e))
    }

    fn scan(&self, table: Table, prefix: &[u8], from: &[u8], visit: &mut Visit<'_>) -> Result<(), ArchiveError> {
        visit_items(
            table,
            self.db.iterator_cf(self.cf(table), IteratorMode::From(scan_start(prefix, from), Direction::Forward)),
            prefix,
            visit,
        )
    }

    fn last(&self, table: Table) -> Result<Option<KeyValue>, ArchiveError> {
        first_item(table, self.db.iterator_cf(self.cf(table), IteratorMode::End))
    }

    fn last_before(&self, table: Table, key: &[u8]) -> Result<Option<KeyValue>, ArchiveError> {
        // A reverse iterator from `key` starts at the last key at or before it.
        let items = self.db.iterator_cf(self.cf(table), IteratorMode::From(key, Direction::Reverse));
        first_item(table, items.filter(|item| !matches!(item, Ok((k, _)) if **k == *key)))
    }

    fn apply(&self, batch: Batch) -> Result<(), ArchiveError> {
        let mut wb = WriteBatch::default();
        for op in batch.ops {
            match op {
                Op::Put(t, k, v) => wb.put_cf(self.cf(t), k, v),
                Op::Add(t, k, d) => wb.merge_cf(self.cf(t), k, d.to_le_bytes()),
                Op::Delete(t, k) => wb.delete_cf(self.cf(t), k),
            }
        }
        let mut opts = WriteOptions::default();
        opts.set_sync(true);
        self.db.write_opt(wb, &opts).map_err(|e| ArchiveError::storage("committing a write batch", e))
    }

    fn put_blob_files(&self, blobs: &[(BlobHash, &[u8])]) -> Result<(), ArchiveError> {
        self.files.put(blobs)
    }

    fn spool(&self) -> Result<SpoolFile, ArchiveError> {
        self.files.spool()
    }

    fn adopt_spooled(&self, spooled: &[&Spooled]) -> Result<(), ArchiveError> {
        self.files.adopt(spooled)
    }

    fn open_blob_file(&self, hash: &BlobHash) -> Result<Option<(std::fs::File, u64)>, ArchiveError> {
        self.files.open_blob(hash)
    }

    fn remove_blob_file(&self, hash: &BlobHash) -> Result<(), ArchiveError> {
        self.files.remove(hash)
    }

    fn snapshot_to(&self, dir: &Path) -> Result<(), ArchiveError> {
        // A RocksDB checkpoint: SST and blob files hard-linked (copied across file systems), the WAL
        // flushed first, so the copy opens as the database stood at one instant.
        let checkpoint = rocksdb::checkpoint::Checkpoint::new(&self.db)
            .map_err(|e| ArchiveError::storage("preparing a backup", e))?;
        checkpoint
            .create_checkpoint(dir)
            .map_err(|e| ArchiveError::storage(format!("writing a backup to {}", dir.display()), e))?;
        // Then the files of the blobs it counts: since no batch is applied meanwhile, those are
        // the ones the live store counts now. A file of a commit whose batch is still to come is
        // left out.
        self.files.link_into(&dir.join(BLOB_DIR), &mut |hash| self.is_referenced(hash))?;
        Ok(())
    }

    fn snapshot(&self) -> Box<dyn Snapshot + '_> {
        Box::new(RocksSnapshot { store: self, snapshot: self.db.snapshot() })
    }
}

/// A RocksDB snapshot: every read through it sees the sequence number it was taken at. RocksDB keeps
/// what later batches overwrite or delete until the snapshot is dropped.
struct RocksSnapshot<'a> {
    store: &'a RocksStore,
    snapshot: rocksdb::Snapshot<'a>,
}

impl Snapshot for RocksSnapshot<'_> {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, ArchiveError> {
        self.snapshot
            .get_cf(self.store.cf(table), key)
            .map_err(|e| ArchiveError::storage(format!("reading {} in a snapshot", table.name()), e))
    }

    fn scan(&self, table: Table, prefix: &[u8], from: &[u8], visit: &mut Visit<'_>) -> Result<(), ArchiveError> {
        let items = self
            .snapshot
            .iterator_cf(self.store.cf(table), IteratorMode::From(scan_start(prefix, from), Direction::Forward));
        visit_items(table, items, prefix, visit)
    }

    fn last(&self, table: Table) -> Result<Option<KeyValue>, ArchiveError> {
        first_item(table, self.snapshot.iterator_cf(self.store.cf(table), IteratorMode::End))
    }
}

/// An item of a RocksDB iterator.
type RawItem = Result<(Box<[u8]>, Box<[u8]>), rocksdb::Error>;

/// The first item of an iterator (the last key of a table, for one that runs backward from the end).
fn first_item(table: Table, mut items: impl Iterator<Item = RawItem>) -> Result<Option<KeyValue>, ArchiveError> {
    match items.next() {
        None => Ok(None),
        Some(Ok((k, v))) => Ok(Some((k.into_vec(), v.into_vec()))),
        Some(Err(e)) => Err(ArchiveError::storage(format!("reading the end of {}", table.name()), e)),
    }
}

/// Where a scan of `prefix` from `from` starts: at the later of the two.
fn scan_start<'k>(prefix: &'k [u8], from: &'k [u8]) -> &'k [u8] {
    if from > prefix { from } else { prefix }
}

/// Visits the items of a forward iterator while their keys start with `prefix`, until `visit` breaks.
fn visit_items(
    table: Table,
    items: impl Iterator<Item = RawItem>,
    prefix: &[u8],
    visit: &mut Visit<'_>,
) -> Result<(), ArchiveError> {
    for item in items {
        let (k, v) = item.map_err(|e| ArchiveError::storage(format!("scanning {}", table.name()), e))?;
        if !k.starts_with(prefix) || visit(&k, &v).is_break() {
            break;
        }
    }
    Ok(())
}

/// Replaces every file in `dir` and its subdirectories that has other hard links by a copy of its
/// own. A checkpoint on the store's file system hard-links the store's SST, RocksDB blob files and
/// blob files: one inode, so a bit flipped in a live file, or a file truncated by a failing disk,
/// would be in the backup too.
pub(crate) fn unshare_files(dir: &Path) -> Result<(), ArchiveError> {
    use std::os::unix::fs::MetadataExt;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ArchiveError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        if meta.is_dir() {
            unshare_files(&path)?;
            continue;
        }
        if !meta.is_file() || meta.nlink() == 1 {
            continue;
        }
        let name = path.file_name().expect("a directory entry has a name").to_string_lossy();
        let copy = dir.join(format!(".{name}.copy"));
        std::fs::copy(&path, &copy).map_err(io(&copy))?;
        std::fs::File::open(&copy).and_then(|f| f.sync_all()).map_err(io(&copy))?;
        std::fs::rename(&copy, &path).map_err(io(&path))?;
    }
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}
