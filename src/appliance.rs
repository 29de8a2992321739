//! The operations of the appliance over one data directory, shared by the CLI and the HTTP server.

use std::collections::HashSet;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Instant;

use anyhow::Context;
use archive::{
    Archive, ArchiveOptions, CapturedDocument, CapturedPage, Content, DocumentRecord, Lifecycle, NewCapture,
    NewDocument, PageRecord,
};
use capture::{Capture, OcrConfig, PageProgress, PageSource};
use domain::{BlobHash, DocumentMetadata, MetadataDraft, vietnam_now};
use scanner_driver::{FileImporter, ImportLimits, RawPage};
use search::{IndexDocument, IndexStatus, SearchIndex};
use signer::{KeyId, KeyRing, Manifest, ManifestPage, PageSeal, PdfBase, metadata_digest};

use crate::ApplianceError;
use crate::config::{ArchiveConfig, Config, HotFolderConfig, HttpConfig, ScannerConfig, TlsConfig};
use crate::config::{ConfigInForce, ImportConfig};
use crate::hotfolder::HotFiles;
use crate::metrics::{IngestTimer, Metrics, Outcome};
use crate::ops::dashboard::DashboardCache;
use crate::originals::Originals;
use crate::queue::{ReadingQueue, Stage, Taken};
use crate::seals::FOREIGN_DIR;
use crate::seals::{SealKeys, seal_record};
use crate::signing::Signing;

/// Capturing documents, and following a capture's pages: scan operators, admins, and the access
/// tokens of scanning stations and integrations (which may do nothing else).
pub const INGEST: crate::ops::Permit = crate::ops::Permit {
    what: "ingest documents",
    roles: &[crate::users::Role::Operator, crate::users::Role::Admin, crate::users::Role::Station],
};

/// Rebuilding the search index.
pub const REINDEX: crate::ops::Permit =
    crate::ops::Permit { what: "rebuild the search index", roles: crate::ops::ADMINS };

/// A document to capture: its metadata and its page files, in physical order.
pub struct IngestRequest {
    /// The metadata as entered.
    pub metadata: MetadataDraft,
    /// The page files, in physical order: where each came from (for messages) and its bytes. A
    /// file is an image (PNG, JPEG), a multi-page TIFF or a scanned PDF; a scanned page arrives as
    /// its lossless PNG.
    pub pages: Vec<(PathBuf, Vec<u8>)>,
    /// Who is ingesting, for the audit trail.
    pub actor: String,
    /// What the document is made from, when a retry must be able to tell it was already archived
    /// (the content hash of a hot-folder file); see [`Archive::find_by_source`].
    pub source: Option<String>,
}

/// What reading page files before an ingest found ([`Appliance::read_pages`]): for each page, in
/// order (a multi-page file gives several), why an ingest would flag it for review.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PagesRead {
    /// Each page, in order.
    pub pages: Vec<PageRead>,
}

/// One page read.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PageRead {
    /// 1-based page number among the files given.
    pub number: u32,
    /// Why it would be flagged for review; empty when nothing is.
    pub flags: Vec<String>,
}

impl PagesRead {
    /// The flags of [`Appliance::read_pages`], as the API and the CLI give them.
    pub fn of(flags: Vec<Vec<capture::PageFlag>>) -> Self {
        let pages = flags
            .into_iter()
            .zip(1..)
            .map(|(flags, number)| PageRead { number, flags: flags.iter().map(ToString::to_string).collect() })
            .collect();
        PagesRead { pages }
    }
}

/// What an ingest produced: the acknowledgement of its capture, or its archiving.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IngestReport {
    /// The new document's code.
    pub code: String,
    /// How far it went: `captured` (durable and sealed, to be read from the queue) or `archived`.
    pub stage: Stage,
    /// BLAKE3 of the signed PDF, once archived.
    pub pdf_hash: Option<String>,
    /// The verification token that the signed copy's QR code carries (`/verify?code=…&t=…`), so
    /// that the receipt printed for the citizen can carry the same link. The archive keeps only a
    /// lookup key of it, so this report is the one place it can be read after the ingest.
    pub verification_token: String,
    /// Per page: number, image hash, and (once read) why it was flagged for review.
    pub pages: Vec<PageReport>,
    /// Whether search shows the document yet; it is captured or archived either way.
    pub search: SearchState,
    /// Why reading it failed, when it was to be read at once and could not be: it stays captured
    /// and is read again from the queue.
    pub reading_error: Option<String>,
}

/// Whether search has caught up with a change that is already durable in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchState {
    /// Search shows the change.
    Indexed,
    /// Search could not be brought up to date just now; it catches up by itself (after the next
    /// change, every minute while serving, and at start-up). The change itself is archived.
    Pending,
}

/// The search index after a rebuild.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct Reindexed {
    /// The documents indexed.
    pub documents: u64,
}

/// One page of an [`IngestReport`].
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PageReport {
    /// Page number from 1.
    pub number: u32,
    /// BLAKE3 of the page image: as captured, then as archived (turned upright if it had to be).
    pub image_hash: String,
    /// Review flags, empty if none.
    pub flags: Vec<String>,
}

/// Creates the data directory (and its missing parents) readable by the appliance's user only: it holds
/// citizens' documents and the seal key.
fn create_data_dir(data: &Path) -> Result<(), ApplianceError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data)
        .with_context(|| format!("cannot create the data directory {}", data.display()))?;
    Ok(())
}

/// What a capture keeps of a decoded page: the bytes as delivered (or as rendered), where it came
/// from, its resolution, and whether it carries its own text (a born-digital page).
struct CheckedPage {
    original: Vec<u8>,
    origin: String,
    dpi: scanner_driver::Dpi,
    carries_text: bool,
}

/// Decodes every page on up to `threads` threads, in order, keeping of each what a capture stores
/// and dropping its pixels as soon as it is checked, so that a long batch costs its files' size,
/// not its pixels'.
fn decode_pages(pending: Vec<scanner_driver::PendingPage>, threads: usize) -> Result<Vec<CheckedPage>, ApplianceError> {
    let count = pending.len();
    // Each page is taken by the thread that decodes it and dropped once decoded, so that a one-image
    // file's bytes move into its checked page instead of being held twice.
    let queue = Mutex::new(pending.into_iter().enumerate());
    let decoded: Mutex<Vec<Option<Result<CheckedPage, scanner_driver::DriverError>>>> =
        Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, count.max(1)) {
            scope.spawn(|| {
                loop {
                    // Taken in its own statement, so that the lock is not held while decoding.
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((i, page)) = next else { break };
                    let checked = page.into_decoded().map(|raw: RawPage| CheckedPage {
                        carries_text: raw.text.is_some(),
                        original: raw.original,
                        origin: raw.origin,
                        dpi: raw.dpi,
                    });
                    decoded.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(checked);
                }
            });
        }
    });
    let decoded = decoded.into_inner().unwrap_or_else(|p| p.into_inner());
    decoded
        .into_iter()
        .zip(1..)
        .map(|(d, page)| {
            d.expect("every page was decoded").map_err(|source| capture::CaptureError::Input { page, source }.into())
        })
        .collect()
}

/// The appliance opened on a data directory: `archive/` (RocksDB), `search/` (tantivy), `keys/`.
pub struct Appliance {
    data: PathBuf,
    /// Shared with the page sources of a reading, which read each captured image when a worker
    /// takes its page, not before.
    archive: Arc<Archive>,
    search: SearchIndex,
    keys: Arc<SealKeys>,
    archive_config: ArchiveConfig,
    scanner_config: ScannerConfig,
    hot_folder_config: HotFolderConfig,
    import_config: ImportConfig,
    http_config: HttpConfig,
    tls_config: TlsConfig,
    metrics: Metrics,
    capture: Capture,
    importer: FileImporter,
    signing: Signing,
    /// The hot folder's state directory.
    hot_files: HotFiles,
    /// Whether ingests may still commit; false once the server stops (see [`Appliance::stop_ingests`]).
    taking_ingests: RwLock<bool>,
    /// The documents captured and not yet archived, as the readers see them.
    queue: ReadingQueue,
    /// Serialises catching search up with the archive, so that events are applied in order and the
    /// cursor only moves forward.
    indexing: Mutex<()>,
    /// The configuration opened with, without secrets, as admins read it.
    configuration: ConfigInForce,
    /// The dashboard's last counts (see [`crate::ops::dashboard`]).
    dashboard_cache: DashboardCache,
    /// Replication to the province's object store, when `[replication]` is configured.
    pub(crate) replication: Option<crate::province::Replicator>,
    /// Publication to the province index, when `[province] index` is configured.
    pub(crate) publication: Option<crate::province::Publisher>,
    /// The other offices pinned in `[province] peers`, with their buckets.
    pub(crate) peers: crate::province::Peers,
    /// This office's name in the province (`[province] office`).
    pub(crate) province_office: Option<String>,
    /// The witness of the other offices' logs ([`peers`](Self::peers)), when `[province]` names
    /// some.
    pub(crate) witness: Option<crate::province::Witness>,
    /// The OCR workers on other machines, when `[offload]` is configured.
    offload: Option<crate::offload::Offloader>,
}

impl Appliance {
    /// [`open_with`](Self::open_with) the default configuration: the development signer.
    pub fn open(data: &Path) -> Result<Self, ApplianceError> {
        Self::open_with(data, &Config::default())
    }

    /// Opens (creating on first use) the appliance's stores in `data`, generating the seal key (and,
    /// unless `config` names a signer, the development X.509 signer) on first start, and brings the
    /// search index up to date with the archive.
    pub fn open_with(data: &Path, config: &Config) -> Result<Self, ApplianceError> {
        create_data_dir(data)?;
        let keys = Arc::new(SealKeys::open_or_create(&data.join("keys"))?);
        let archive = Archive::open(&data.join("archive"), archive_options(keys.clone(), config)?)?;
        let search = SearchIndex::open(&data.join("search"))?;
        let signing = Signing::open(&data.join("keys"), &config.signature, config.agency.clone())?;
        let capture = Capture::new(OcrConfig::system_default())?;
        let importer = FileImporter::new(ImportLimits::default(), config.scanner.default_dpi);
        let importer = if config.scanner.refuse_low_dpi { importer.refusing_below(capture::MIN_DPI) } else { importer };
        let metrics = Metrics::default();
        let offload = config
            .offload
            .as_ref()
            .map(|o| crate::offload::Offloader::start(o, &config.archive.origin, metrics.offload_counter()))
            .transpose()
            .map_err(|e| ApplianceError::Internal(anyhow::anyhow!("{e}")))?;
        let appliance = Appliance {
            data: data.to_owned(),
            archive: Arc::new(archive),
            search,
            keys,
            archive_config: config.archive.clone(),
            scanner_config: config.scanner.clone(),
            hot_folder_config: config.hot_folder.clone(),
            import_config: config.import.clone(),
            http_config: config.http.clone(),
            tls_config: config.tls.clone(),
            metrics,
            capture,
            importer,
            signing,
            hot_files: HotFiles::open(data)?,
            indexing: Mutex::new(()),
            taking_ingests: RwLock::new(true),
            queue: ReadingQueue::default(),
            configuration: config.in_force(),
            dashboard_cache: DashboardCache::default(),
            replication: config
                .replication
                .as_ref()
                .map(|r| crate::province::Replicator::open(r, &config.archive.origin))
                .transpose()?,
            publication: config
                .province
                .as_ref()
                .and_then(|p| Some((p, p.index.as_deref()?)))
                .map(|(p, index)| {
                    let index = crate::province::ProvinceIndex::open(index)?;
                    anyhow::Ok(crate::province::Publisher::open(index, &p.office, &config.archive.origin))
                })
                .transpose()?,
            peers: config
                .province
                .as_ref()
                .map(|p| crate::province::Peers::open(p, config.replication.as_ref()))
                .transpose()?
                .unwrap_or_default(),
            province_office: config.province.as_ref().map(|p| p.office.clone()),
            witness: config
                .province
                .as_ref()
                .is_some_and(|p| !p.peers.is_empty() && config.replication.is_some())
                .then(|| crate::province::Witness::new(data)),
            offload,
        };
        // The queue resumes where it stopped: every document captured and not archived is read again.
        appliance.queue.push(appliance.archive.captured_documents()?);
        appliance.catch_up_search()?;
        Ok(appliance)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The archive. For the operations layer and for tests: the front ends reach the archive only
    /// through operations (a tidy test checks this).
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// The search index. For the operations layer and for tests, like [`archive`](Self::archive).
    pub fn search_index(&self) -> &SearchIndex {
        &self.search
    }

    /// Rebuilds the search index from the archive alone: empties it and replays every event.
    pub fn reindex(&self, actor: &str) -> Result<Reindexed, ApplianceError> {
        {
            let _guard = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
            self.search.clear()?;
        }
        self.catch_up_search()?;
        let documents = self.archive.document_count()?;
        self.audit(actor, domain::AuditAction::Reindex, "search", &format!("{documents} documents"))?;
        Ok(Reindexed { documents })
    }

    /// The seal keys as they are now.
    pub fn keys(&self) -> RwLockReadGuard<'_, KeyRing> {
        self.keys.ring()
    }

    /// The seal keys, to add another appliance's public key.
    pub fn seal_keys(&self) -> &SealKeys {
        &self.keys
    }

    /// The archive's log and scrub settings.
    pub fn archive_config(&self) -> &ArchiveConfig {
        &self.archive_config
    }

    /// The scanner settings (quirks, resolution rule).
    pub fn scanner_config(&self) -> &ScannerConfig {
        &self.scanner_config
    }

    /// The hot folder settings.
    pub fn hot_folder_config(&self) -> &HotFolderConfig {
        &self.hot_folder_config
    }

    /// Whose bags are taken: the pinned seal keys of sending appliances.
    pub fn import_config(&self) -> &ImportConfig {
        &self.import_config
    }

    /// The importer of page files, with its limits.
    pub(crate) fn importer(&self) -> &FileImporter {
        &self.importer
    }

    /// The hot folder's state directory.
    pub(crate) fn hot_files(&self) -> &HotFiles {
        &self.hot_files
    }

    /// The HTTP server's limits.
    pub fn http_config(&self) -> &HttpConfig {
        &self.http_config
    }

    /// Stops ingests from committing, after waiting for those committing now: an ingest that reaches
    /// its commit later is refused whole (its client was told nothing was archived), so that the
    /// process can end without a document archived behind its client's back.
    pub fn stop_ingests(&self) {
        *self.taking_ingests.write().unwrap_or_else(|p| p.into_inner()) = false;
        self.queue.stop();
    }

    /// The counters and timings of what the appliance did since it started.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The configuration opened with, without secrets.
    pub(crate) fn configuration(&self) -> &ConfigInForce {
        &self.configuration
    }

    /// The dashboard's last counts.
    pub(crate) fn dashboard_cache(&self) -> &DashboardCache {
        &self.dashboard_cache
    }

    /// The `[tls]` configuration: the certificate the server presents.
    pub fn tls_config(&self) -> &TlsConfig {
        &self.tls_config
    }

    /// The PDF signer and the trust anchors of verification.
    pub fn signing(&self) -> &Signing {
        &self.signing
    }

    /// Captures files as one document and reads it at once: [`capture`](Self::capture), then the
    /// reading of [`read_taken`](Self::read_taken) on the caller's thread. For the command line,
    /// which owns the data directory while it runs; a served appliance acknowledges the capture and
    /// reads from the queue.
    ///
    /// `progress` hears each page's stages (queued, preprocessing, OCR, flagged or done) as they happen.
    pub fn ingest(
        &self,
        request: IngestRequest,
        progress: &mut dyn FnMut(PageProgress),
    ) -> Result<IngestReport, ApplianceError> {
        let (captured, document) = self.capture_document(request)?;
        // The capture is durable: from here on a failure is not the request's (sent again, it would
        // be captured twice) but the reading's, which the queue tries again.
        self.read_with(self.queue.push_taken(document), progress).or_else(|e| {
            tracing::warn!(code = %captured.code, "the document is captured; reading it failed and is tried again from the queue: {e}");
            Ok(IngestReport { reading_error: Some(e.to_string()), ..captured })
        })
    }

    /// Captures files as one document and acknowledges it (see [`crate::queue`]): each page is split
    /// out of its file and decoded on every core (so that a damaged page or a decompression bomb is
    /// refused now, before anything is written), the code is allocated, the verification token
    /// drawn, each page image as delivered sealed with its number, and pages, seals, metadata and
    /// code committed in one synced batch. The document then waits in the reading queue for OCR,
    /// its PDF/A, signature and log leaf; the report says `captured`.
    pub fn capture(&self, request: IngestRequest) -> Result<IngestReport, ApplianceError> {
        let (report, document) = self.capture_document(request)?;
        self.queue.push([document]);
        Ok(report)
    }

    /// [`capture`](Self::capture) up to its durable commit, before its document joins the queue.
    fn capture_document(&self, request: IngestRequest) -> Result<(IngestReport, CapturedDocument), ApplianceError> {
        let started = Instant::now();
        if request.pages.is_empty() {
            return Err(ApplianceError::Input("no page files given".into()));
        }
        let metadata = DocumentMetadata::new(request.metadata)?;
        let mut pending = Vec::new();
        let mut originals = Originals::default();
        for (path, bytes) in request.pages {
            let pages = self.importer.pages(&path, bytes)?;
            originals.note(&path, pending.len(), &pages);
            pending.extend(pages);
        }
        let pages = decode_pages(pending, self.capture.workers())?;
        let (originals, original_bytes) = originals.into_records(|n| pages[n as usize - 1].carries_text);
        // The code is taken by the capture's own batch; until then it is only reserved, so a refused
        // capture burns no number.
        let reservation = self.archive.reserve_document_code(metadata.owner(), metadata.doc_type())?;
        let code = reservation.code().clone();
        let token = crate::verify::new_token()?;
        let captured_at = vietnam_now();
        let ring = self.keys();
        let captured_pages: Vec<CapturedPage> = pages
            .iter()
            .zip(1..)
            .map(|(page, number)| {
                let image = BlobHash::of(&page.original);
                let seal =
                    ring.seal_page(&PageSeal { document: code.clone(), page: number, image, sealed_at: captured_at });
                CapturedPage {
                    image,
                    origin: page.origin.clone(),
                    dpi: (page.dpi.x, page.dpi.y),
                    dpi_stated: page.dpi.stated,
                    seal: seal_record(seal),
                }
            })
            .collect();
        drop(ring);
        let report = IngestReport {
            code: code.to_string(),
            stage: Stage::Captured,
            pdf_hash: None,
            verification_token: token.to_string(),
            pages: captured_pages
                .iter()
                .zip(1..)
                .map(|(p, number)| PageReport { number, image_hash: p.image.to_hex(), flags: Vec::new() })
                .collect(),
            search: SearchState::Pending,
            reading_error: None,
        };
        let document = CapturedDocument {
            code,
            metadata,
            pages: captured_pages,
            token: token.to_string(),
            originals,
            actor: request.actor,
            source: request.source,
            captured_at,
        };
        let page_images = pages.into_iter().map(|p| p.original).collect();
        // Held across the commit: once the server has stopped taking ingests, none starts committing,
        // and none is left half-way when the process ends.
        let taking = self.taking_ingests.read().unwrap_or_else(|p| p.into_inner());
        if !*taking {
            return Err(ApplianceError::Busy("the appliance is stopping; nothing was captured: send it again".into()));
        }
        self.archive.capture(NewCapture { document: document.clone(), page_images, originals: original_bytes })?;
        drop(taking);
        drop(reservation);
        self.metrics.captured(started.elapsed());
        Ok((report, document))
    }

    /// Reads a document taken from the reading queue and archives it: every page through the
    /// capture pool (decode, upright, deskew, OCR), the PDF/A with the code and the token printed at
    /// capture, its signature, the manifest's seal, new page seals over the images as archived, and
    /// the commit that writes its record and removes its captured entry in one batch; then search.
    /// A failure leaves it captured, to be read again (see [`crate::queue::Taken::failed`]).
    pub(crate) fn read_taken(&self, taken: Taken<'_>) -> Result<IngestReport, ApplianceError> {
        self.read_with(taken, &mut |_| {})
    }

    fn read_with(
        &self,
        taken: Taken<'_>,
        progress: &mut dyn FnMut(PageProgress),
    ) -> Result<IngestReport, ApplianceError> {
        let mut timer = IngestTimer::new(&self.metrics);
        let result = self.archive_captured(&taken, &mut |event| {
            timer.note(&event);
            if matches!(event.stage, capture::PageStage::Done | capture::PageStage::Flagged(_)) {
                taken.page_read();
            }
            progress(event);
        });
        timer.finish(if result.is_ok() { Outcome::Archived } else { Outcome::Refused });
        match result {
            Ok(report) => {
                let seconds = crate::queue::seconds_since(taken.document.captured_at);
                self.metrics.archived_after_capture(seconds);
                taken.archived(seconds);
                Ok(report)
            }
            Err(e) => {
                taken.failed(&e);
                Err(e)
            }
        }
    }

    /// Reads every captured document that is due, one after the other, until none is left: the
    /// backlog of an appliance that is not serving (`sohoa queue --read`). Returns how many were
    /// archived; a failed one stays captured (the queue's report says why) and waits for its retry.
    pub fn read_queue(&self, progress: &mut dyn FnMut(&str, PageProgress)) -> usize {
        let mut archived = 0;
        while let Some(taken) = self.queue.next(false) {
            let code = taken.document.code.to_string();
            match self.read_with(taken, &mut |event| progress(&code, event)) {
                Ok(_) => archived += 1,
                Err(e) => tracing::warn!(%code, "reading a captured document failed; it stays captured: {e}"),
            }
        }
        archived
    }

    /// The reading queue.
    pub fn reading_queue(&self) -> &ReadingQueue {
        &self.queue
    }

    /// How many pages the capture pool reads at once.
    pub fn capture_workers(&self) -> usize {
        self.capture.workers()
    }

    /// The OCR offload, when `[offload]` is configured.
    pub fn offload(&self) -> Option<&crate::offload::Offloader> {
        self.offload.as_ref()
    }

    /// Reads staged pages before they are sealed, as the scanning station shows them: each page goes
    /// through the same capture pipeline as an ingest (decode, upright, deskew, OCR) and comes back
    /// with the flags an ingest would record, so that an operator sees a blank or unreadable sheet
    /// while it is still on the counter. Nothing is archived and nothing is audited: the pages are not
    /// a record yet, and the ingest that seals them writes the audit entry. `pages` are single-page
    /// files (a PNG as scanned, or one page split from an upload); `progress` hears each page's stage.
    ///
    /// `sohoa read-pages FILE…` and `POST /api/pages/read` give the same, as [`PagesRead`].
    pub fn read_pages(
        &self,
        pages: Vec<(PathBuf, Vec<u8>)>,
        progress: &mut dyn FnMut(PageProgress),
    ) -> Result<Vec<Vec<capture::PageFlag>>, ApplianceError> {
        let mut sources: Vec<PageSource> = Vec::new();
        for (path, bytes) in pages {
            for page in self.importer.pages(&path, bytes)? {
                sources.push(Box::new(move || page.into_decoded()));
            }
        }
        Ok(self.capture.capture(sources, progress)?.into_iter().map(|p| p.flags).collect())
    }

    fn archive_captured(
        &self,
        taken: &Taken<'_>,
        progress: &mut dyn FnMut(PageProgress),
    ) -> Result<IngestReport, ApplianceError> {
        let entry = &taken.document;
        let (code, metadata, token) = (entry.code.clone(), entry.metadata.clone(), entry.token()?);
        let sources = self.reading_sources(entry)?;
        // The PDF/A goes to a spooled file page by page as the pages are read, and each page
        // keeps only its text and hashes: a long document is never held whole in memory.
        let count = u32::try_from(sources.len()).map_err(|_| {
            ApplianceError::Internal(anyhow::anyhow!("{code} has {} pages, past any page number", sources.len()))
        })?;
        let mut pdf = self.capture.pdf_writer(self.archive.spool()?, count)?;
        let captured_images: HashSet<BlobHash> = entry.pages.iter().map(|p| p.image).collect();
        let mut read: Vec<Option<(capture::CapturedPage, Content)>> = (0..count).map(|_| None).collect();
        let mut take = |mut page: capture::CapturedPage| -> Result<(), ApplianceError> {
            pdf.add(&page)?;
            let image = std::mem::take(&mut page.image);
            // A page reading did not turn is the captured scan, already in the archive.
            let content = if captured_images.contains(&page.image_hash) {
                Content::Captured(page.image_hash)
            } else {
                self.archive.stage(image)?
            };
            let slot = page.number as usize - 1;
            read[slot] = Some((page, content));
            Ok(())
        };
        match self.offload.as_ref().and_then(|o| o.begin(self.queue.pages_waiting())) {
            Some(offloaded) => self.read_offloaded(entry, offloaded, sources, progress, &mut take)?,
            None => self.capture.capture_each(sources, progress, &mut take)?,
        }
        let (pages, page_images): (Vec<capture::CapturedPage>, Vec<Content>) = read.into_iter().flatten().unzip();
        let written = pdf.finish(&code, &metadata)?;
        let mut file = written.out;
        let base = PdfBase { objects: &written.skeleton, len: written.len, startxref: written.startxref };
        let update =
            self.signing.sign(&base, &mut file.written()?, &code, &token, &metadata, pages[0].blank_top_points())?;
        file.write_all(&update).context("cannot append the signature to the spooled PDF")?;
        let pdf = file.finish()?;
        let pdf_hash = pdf.hash();

        let sealed_at = vietnam_now();
        let manifest = Manifest {
            document: code.clone(),
            metadata: metadata_digest(&metadata),
            pages: pages.iter().map(|p| ManifestPage { image: p.image_hash, stream: p.stream_hash }).collect(),
            pdf: pdf_hash,
            operator: metadata.operator().to_owned(),
            sealed_at,
        };
        let ring = self.keys();
        let sealed = ring.seal(&manifest);
        let mut report = IngestReport {
            code: code.to_string(),
            stage: Stage::Archived,
            pdf_hash: Some(pdf_hash.to_hex()),
            verification_token: token.to_string(),
            pages: pages
                .iter()
                .map(|p| PageReport {
                    number: p.number,
                    image_hash: p.image_hash.to_hex(),
                    flags: p.flags.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            search: SearchState::Pending,
            reading_error: None,
        };
        let page_records: Vec<PageRecord> = pages
            .iter()
            .map(|p| PageRecord {
                image: p.image_hash,
                stream: p.stream_hash,
                mime: p.format.mime().to_owned(),
                size: p.size,
                dpi: (p.dpi.x, p.dpi.y),
                text: p.text.plain(),
                flags: p.flags.iter().map(ToString::to_string).collect(),
                seal: seal_record(ring.seal_page(&PageSeal {
                    document: code.clone(),
                    page: p.number,
                    image: p.image_hash,
                    sealed_at,
                })),
            })
            .collect();
        let record = DocumentRecord {
            code,
            pages: page_records,
            metadata,
            pdf: pdf_hash,
            pdf_size: pdf.len(),
            seal: seal_record(sealed),
            status: archive::DocumentStatus::Active,
            archived_at: vietnam_now(),
            lifecycle: Lifecycle::default(),
            originals: entry.originals.clone(),
        };
        drop(ring);
        let originals = entry.originals.iter().map(|o| Content::Captured(o.blob)).collect();
        // Held across the commit, as for a capture: a reading finished after the server stopped
        // taking ingests is not committed, and the document stays captured for the next start.
        let taking = self.taking_ingests.read().unwrap_or_else(|p| p.into_inner());
        if !*taking {
            return Err(ApplianceError::Busy("the appliance is stopping; the document stays captured".into()));
        }
        self.archive.commit_captured(NewDocument {
            record,
            page_images,
            pdf: Content::Spooled(pdf),
            originals,
            actor: entry.actor.clone(),
            source: entry.source.clone(),
            verification: Some(token),
        })?;
        drop(taking);
        report.search = self.index_committed();
        Ok(report)
    }

    /// Reads a document's pages with the OCR workers' help (see [`crate::offload`]): each captured
    /// scan is sent as a job, the pages that cannot be sent are read here meanwhile, and each reading
    /// that comes back is applied to the appliance's own copy of the scan, which is what `take` gets;
    /// a page whose result is refused, failed, or does not come within the deadline is read here.
    fn read_offloaded(
        &self,
        entry: &archive::CapturedDocument,
        mut offloaded: crate::offload::Offloaded<'_>,
        sources: Vec<PageSource>,
        progress: &mut dyn FnMut(PageProgress),
        take: &mut dyn FnMut(capture::CapturedPage) -> Result<(), ApplianceError>,
    ) -> Result<(), ApplianceError> {
        let code = entry.code.to_string();
        // Pages split from a kept original carry their file's text and are read here.
        let from_originals: HashSet<u32> = entry.originals.iter().flat_map(|o| o.pages.iter().copied()).collect();
        let mut sources: Vec<Option<PageSource>> = sources.into_iter().map(Some).collect();
        let mut here = Vec::new();
        for (page, number) in entry.pages.iter().zip(1u32..) {
            progress(PageProgress { page: number, stage: capture::PageStage::Queued });
            let sent = !from_originals.contains(&number)
                && self.archive.read_blob(&page.image).is_ok_and(|image| {
                    offloaded.send(crate::offload::PageJob {
                        document: &code,
                        page: number,
                        origin: &page.origin,
                        dpi: scanner_driver::Dpi { x: page.dpi.0, y: page.dpi.1, stated: page.dpi_stated },
                        image: &image,
                    })
                });
            if !sent {
                here.push(number);
            }
        }
        self.read_here(&mut sources, &here, progress, take)?;
        let mut again = Vec::new();
        while let Some((number, delivered)) = offloaded.next_result() {
            let source = sources[number as usize - 1].take().expect("each page is read once");
            let applied = match delivered {
                crate::offload::Delivered::Read(reading) => {
                    let raw = source().map_err(|source| capture::CaptureError::Input { page: number, source })?;
                    capture::apply_reading(raw, number, reading).map_err(|e| ("invalid", e.to_string()))
                }
                crate::offload::Delivered::Failed(reason) => Err(("failed", reason)),
                crate::offload::Delivered::Invalid(reason) => Err(("invalid", reason)),
            };
            match applied {
                Ok(page) => {
                    offloaded.count("applied");
                    let stage = if page.flags.is_empty() {
                        capture::PageStage::Done
                    } else {
                        capture::PageStage::Flagged(page.flags.clone())
                    };
                    take(page)?;
                    progress(PageProgress { page: number, stage });
                }
                Err((outcome, reason)) => {
                    offloaded.count(outcome);
                    tracing::warn!(
                        code,
                        page = number,
                        "a worker's reading is not applied ({reason}); the page is read here"
                    );
                    // Its source was used to check the reading: a new one reads it here.
                    sources[number as usize - 1] = self.reading_sources(entry)?.into_iter().nth(number as usize - 1);
                    again.push(number);
                }
            }
        }
        again.extend(offloaded.unanswered());
        drop(offloaded);
        self.read_here(&mut sources, &again, progress, take)
    }

    /// Reads pages `numbers` of a document here, through the capture pool, with their numbers in
    /// the document.
    fn read_here(
        &self,
        sources: &mut [Option<PageSource>],
        numbers: &[u32],
        progress: &mut dyn FnMut(PageProgress),
        take: &mut dyn FnMut(capture::CapturedPage) -> Result<(), ApplianceError>,
    ) -> Result<(), ApplianceError> {
        if numbers.is_empty() {
            return Ok(());
        }
        let chosen: Vec<PageSource> =
            numbers.iter().map(|&n| sources[n as usize - 1].take().expect("each page is read once")).collect();
        let number = |i: u32| numbers[i as usize - 1];
        self.capture.capture_each(
            chosen,
            &mut |p| progress(PageProgress { page: number(p.page), stage: p.stage }),
            &mut |mut page| {
                page.number = number(page.number);
                take(page)
            },
        )
    }

    /// The pages of a captured document as the capture pool reads them, each obtained when a
    /// worker takes it: a page of a kept original file is split from it again, as at capture, so
    /// that a born-digital page keeps the text it carries; any other page is read from its
    /// captured image. Every source gives up once the appliance is stopping.
    fn reading_sources(&self, entry: &archive::CapturedDocument) -> Result<Vec<PageSource>, ApplianceError> {
        let code = &entry.code;
        let mut from_originals = std::collections::HashMap::new();
        for original in &entry.originals {
            let bytes = self.archive.read_blob(&original.blob)?;
            let split = self.importer.pages(Path::new(&original.name), bytes)?;
            from_originals.extend(original.pages.iter().copied().zip(split));
        }
        let mut sources: Vec<PageSource> = Vec::new();
        for (page, number) in entry.pages.iter().zip(1u32..) {
            let (stopping, reading) = (self.queue.stopping(), format!("reading {code}"));
            let cancelled = move || {
                stopping
                    .load(std::sync::atomic::Ordering::SeqCst)
                    .then(|| scanner_driver::DriverError::Cancelled { device: reading, pages: number - 1 })
            };
            if let Some(pending) = from_originals.remove(&number) {
                sources.push(Box::new(move || cancelled().map_or_else(|| pending.into_decoded(), Err)));
                continue;
            }
            let (dpi, origin) =
                (scanner_driver::Dpi { x: page.dpi.0, y: page.dpi.1, stated: page.dpi_stated }, page.origin.clone());
            let (archive, importer, image, code) =
                (Arc::clone(&self.archive), self.importer.clone(), page.image, code.clone());
            sources.push(Box::new(move || {
                if let Some(e) = cancelled() {
                    return Err(e);
                }
                let unreadable = |reason: String| scanner_driver::DriverError::Read {
                    path: origin.clone().into(),
                    source: std::io::Error::other(reason),
                };
                let bytes =
                    archive.read_blob(&image).map_err(|e| unreadable(format!("captured page of {code}: {e}")))?;
                let mut split = importer.pages(Path::new(&origin), bytes)?;
                let (Some(pending), true) = (split.pop(), split.is_empty()) else {
                    return Err(unreadable(format!("captured page of {code} is not one page")));
                };
                let mut raw = pending.into_decoded()?;
                (raw.origin, raw.dpi) = (origin, dpi);
                Ok(raw)
            }));
        }
        Ok(sources)
    }

    /// Brings search up to date after a change that is already durable in the archive. The change
    /// stands whatever happens here, so a failure must not reach the caller as a failed request (a
    /// client would retry, and an ingest would be archived twice): it is logged and answered as
    /// [`SearchState::Pending`], and the next catch-up repairs it.
    pub fn index_committed(&self) -> SearchState {
        match self.catch_up_search() {
            Ok(()) => SearchState::Indexed,
            Err(e) => {
                tracing::warn!("search is behind the archive and will catch up later: {e}");
                SearchState::Pending
            }
        }
    }

    /// Applies to the search index every archive event it has not seen, in order, and commits the
    /// index with the new cursor. Called after each commit and at start-up, so that a crash between
    /// an archive commit and an index commit is repaired on the next start.
    pub fn catch_up_search(&self) -> Result<(), ApplianceError> {
        let _guard = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        let cursor = self.search.cursor()?;
        let mut pending = Vec::new();
        self.archive.events_after(cursor, &mut |seq, event| {
            pending.push((seq, event));
            ControlFlow::Continue(())
        })?;
        let Some(&(last, _)) = pending.last() else { return Ok(()) };
        // A checkpoint names no document: search only moves its cursor past it.
        for code in pending.iter().filter_map(|(_, event)| event.document()) {
            // The record as it is now: a destroyed one keeps its metadata in the index, without any
            // text.
            self.search.add(&index_document(&self.record(code)?))?;
        }
        self.search.commit(last)?;
        Ok(())
    }

    /// Writes a consistent copy of the archive (a RocksDB checkpoint in files of its own), the public
    /// seal keys, the pinned foreign keys and, for the administrator's reference, the trust anchors of
    /// the PDF signatures into `dir`, which must not exist, while the appliance stays in use. Private
    /// keys are not copied: a restored appliance makes its own keys and verifies the old seals with
    /// the public keys. Returns the keys the backup carries, which the administrator records: a
    /// restore takes only keys it is told to expect.
    pub(crate) fn backup(&self, dir: &Path, actor: &str) -> Result<BackupKeys, ApplianceError> {
        crate::bag::create_new_dir(dir, "a backup")?;
        std::fs::create_dir(dir.join("keys")).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut carried = BackupKeys::default();
        for (id, key) in self.keys().public_keys() {
            std::fs::write(dir.join("keys").join(format!("{id}.hex")), key)
                .with_context(|| format!("cannot write to {}", dir.display()))?;
            carried.own.push(id);
        }
        let mut foreign = signer::ForeignKeys::open(&dir.join("keys").join(FOREIGN_DIR))?;
        for key in self.keys.foreign().iter() {
            foreign.pin(key.key(), key.sender(), key.pinned(), key.seals().map(|(code, hash)| (code, *hash)))?;
            carried.foreign.push((key.key().id().clone(), key.sender().to_owned()));
        }
        std::fs::write(dir.join(ANCHORS_FILE), signer::certificates_to_pem(self.signing.anchors()))
            .with_context(|| format!("cannot write to {}", dir.display()))?;
        self.archive.backup(&dir.join("archive"), actor)?;
        Ok(carried)
    }

    /// Restores a backup made by [`backup`](Self::backup) into the data directory `data`, which
    /// must hold no archive yet. Nothing in the backup is trusted on its word: every seal key it
    /// carries must be named in `expected` (the ids the administrator recorded from `sohoa keys
    /// export` or the backup's output) or, for another appliance's key, be pinned in `[import]
    /// trusted_keys`; only those keys check the restored seals, and the archive must pass fixity
    /// with them, or nothing is kept. The backup's trust anchors are not taken: PDF signatures are
    /// verified against the configured ones. The search index is rebuilt on the next open.
    pub fn restore(
        data: &Path,
        backup: &Path,
        expected: &[KeyId],
        config: &Config,
        actor: &str,
    ) -> Result<archive::FixityReport, ApplianceError> {
        if data.join("archive").exists() {
            return Err(ApplianceError::Input(format!(
                "{} already holds an archive; restore into a new data directory",
                data.display()
            )));
        }
        let input = |what: String| ApplianceError::Input(what);
        let key_dir = backup.join("keys");
        let entries = std::fs::read_dir(&key_dir)
            .map_err(|e| input(format!("{}: not a sohoa backup ({e})", key_dir.display())))?;
        let mut own = Vec::new();
        for entry in entries {
            let path = entry.with_context(|| key_dir.display().to_string())?.path();
            let Some(id) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".hex")) else {
                continue;
            };
            let hex = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let key =
                signer::PublicSealKey::from_hex(hex.trim()).map_err(|e| input(format!("{}: {e}", path.display())))?;
            if key.id().as_str() != id {
                return Err(input(format!(
                    "{}: holds key {}, not key {id} (the backup was altered)",
                    path.display(),
                    key.id()
                )));
            }
            own.push(key);
        }
        let foreign = signer::ForeignKeys::open(&key_dir.join(FOREIGN_DIR)).map_err(|e| input(e.to_string()))?;
        let unnamed: Vec<String> = own
            .iter()
            .map(|k| k.id())
            .filter(|id| !expected.contains(id))
            .map(ToString::to_string)
            .chain(
                foreign
                    .iter()
                    .filter(|k| !expected.contains(k.key().id()) && config.import.sender(k.key().id()).is_none())
                    .map(|k| format!("{} (another appliance's, of {})", k.key().id(), k.sender())),
            )
            .collect();
        if !unnamed.is_empty() {
            return Err(input(format!(
                "{}: the backup carries seal keys that were not named: {}; compare each with the key ids recorded from `sohoa keys export` and name those that are this appliance's with --expect-key ID",
                backup.display(),
                unnamed.join(", ")
            )));
        }
        if let Some(absent) = expected.iter().find(|id| !own.iter().any(|k| k.id() == *id) && foreign.get(id).is_none())
        {
            return Err(input(format!(
                "{}: --expect-key {absent} names a key the backup does not carry (is it the right backup?)",
                backup.display()
            )));
        }
        create_data_dir(data)?;
        let keys = Arc::new(SealKeys::open_or_create(&data.join("keys"))?);
        for key in &own {
            keys.import_own_public(key)?;
        }
        for key in foreign.iter() {
            let pinned = format!("restored from {} by {actor} ({})", backup.display(), key.pinned());
            keys.pin_foreign(key.key(), key.sender(), &pinned, key.seals().map(|(code, hash)| (code, *hash)))?;
        }
        let (archive, report) =
            Archive::restore(&backup.join("archive"), &data.join("archive"), archive_options(keys, config)?, actor)?;
        // The sessions and access tokens of the backup's day are not brought back: a token revoked
        // since, or a session ended, must stay ended. Users log in again; admins issue new tokens.
        let (sessions, uses) = archive.sessions()?;
        let ids: Vec<[u8; 32]> = sessions.into_iter().map(|(id, _)| id).chain(uses).collect();
        archive.delete_sessions(&ids)?;
        Ok(report)
    }
}

/// The file of a backup that holds the trust anchors the appliance had, for the administrator to
/// compare and configure: a restore never trusts it.
const ANCHORS_FILE: &str = "anchors.pem";

/// The seal keys a backup carries.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BackupKeys {
    /// The appliance's own public keys.
    pub own: Vec<KeyId>,
    /// The pinned keys of other appliances, with their senders.
    pub foreign: Vec<(KeyId, String)>,
}

/// What the archive is opened with: the seal keys as its sealer, the configured retention schedule
/// and log origin.
pub fn archive_options(keys: Arc<SealKeys>, config: &Config) -> Result<ArchiveOptions, ApplianceError> {
    Ok(ArchiveOptions { sealer: keys, schedule: config.retention.load()?, origin: config.archive.origin.clone() })
}

/// What search indexes of an archived document.
fn index_document(record: &DocumentRecord) -> IndexDocument {
    let m = &record.metadata;
    let status = match record.status {
        archive::DocumentStatus::Active if record.is_held() => IndexStatus::Held,
        archive::DocumentStatus::Active => IndexStatus::Active,
        archive::DocumentStatus::Revoked(_) => IndexStatus::Revoked,
        archive::DocumentStatus::Destroyed(_) => IndexStatus::Destroyed,
    };
    IndexDocument {
        code: record.code.clone(),
        owner: m.owner().map(ToString::to_string),
        dossier: m.dossier().map(ToString::to_string),
        procedure: m.procedure().map(ToString::to_string),
        doc_type: m.doc_type().to_string(),
        name: m.name().to_owned(),
        number: m.number_symbol().map(str::to_owned),
        issuing_body: m.issuing_body().map(str::to_owned),
        issue_date: m.issue_date(),
        valid_until: match m.validity() {
            domain::Validity::Permanent => None,
            domain::Validity::Until(day) => Some(day),
        },
        status,
        captured_at: m.captured_at().timestamp(),
        pages: record.pages.iter().map(|p| p.text.clone()).collect(),
    }
}
