//! The archive section of `make bench`: synced ingest of already-OCRed documents from two clients,
//! at each document size of `SOHOA_BENCH_ARCHIVE_DOC_KB` (a comma-separated list, default
//! 200, 2000 and 20000 KB), with bytes on disk per logical byte under a 20%-duplicate workload; the
//! peak memory of `sohoa ingest` of one document of `SOHOA_BENCH_ARCHIVE_BIG_PAGES` scanned pages
//! (default 500); and random reads with hash verification at `SOHOA_BENCH_ARCHIVE_PAGES` stored pages
//! (default 1,000,000). The peer is what an archive of plain files does with the same bytes on the
//! same disk: one file per page and PDF, each fsynced, read back and hashed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use archive::{Archive, Content, DocumentRecord, DocumentStatus, Lifecycle, NewDocument, PageRecord};
use domain::{BlobHash, DocumentCode, DocumentMetadata, vietnam_now};
use signer::{Manifest, ManifestPage, PageSeal};
use sohoa::seals::{SealKeys, seal_record};

pub fn open(dir: &Path) -> (Archive, Arc<SealKeys>) {
    let keys = Arc::new(SealKeys::open_or_create(&dir.join("keys")).expect("seal key"));
    let options = sohoa::appliance::archive_options(keys.clone(), &sohoa::config::Config::default()).expect("options");
    (Archive::open(&dir.join("archive"), options).expect("archive opens"), keys)
}

/// A sealed document of `pages`, as capture hands it to the archive.
pub fn document(code: DocumentCode, keys: &SealKeys, pages: Vec<Vec<u8>>, pdf: Vec<u8>) -> NewDocument {
    let hashes: Vec<BlobHash> = pages.iter().map(|p| BlobHash::of(p)).collect();
    let pdf_hash = BlobHash::of(&pdf);
    hashed_document(code, keys, (pages, hashes), (pdf, pdf_hash))
}

/// [`document`] of pages and a PDF whose hashes capture computed when it sealed them.
fn hashed_document(
    code: DocumentCode,
    keys: &SealKeys,
    (pages, hashes): (Vec<Vec<u8>>, Vec<BlobHash>),
    (pdf, pdf_hash): (Vec<u8>, BlobHash),
) -> NewDocument {
    let metadata = DocumentMetadata::new(crate::util::draft("Nguyễn Văn An")).expect("metadata");
    let ring = keys.ring();
    let sealed_at = vietnam_now();
    let manifest = Manifest {
        document: code.clone(),
        metadata: signer::metadata_digest(&metadata),
        pages: hashes.iter().map(|h| ManifestPage { image: *h, stream: *h }).collect(),
        pdf: pdf_hash,
        operator: "Nguyễn Văn An".into(),
        sealed_at,
    };
    let records = hashes
        .iter()
        .enumerate()
        .map(|(i, h)| PageRecord {
            image: *h,
            stream: *h,
            mime: "image/jpeg".into(),
            size: (2480, 3508),
            dpi: (300.0, 300.0),
            text: "Cộng hoà xã hội chủ nghĩa Việt Nam".into(),
            flags: vec![],
            seal: seal_record(ring.seal_page(&PageSeal {
                document: code.clone(),
                page: i as u32 + 1,
                image: *h,
                sealed_at,
            })),
        })
        .collect();
    NewDocument {
        record: DocumentRecord {
            code,
            metadata,
            pages: records,
            pdf: pdf_hash,
            pdf_size: pdf.len() as u64,
            seal: seal_record(ring.seal(&manifest)),
            status: DocumentStatus::Active,
            archived_at: vietnam_now(),
            lifecycle: Lifecycle::default(),
            originals: Vec::new(),
        },
        page_images: pages.into_iter().map(Content::from).collect(),
        pdf: pdf.into(),
        originals: Vec::new(),
        actor: "bench".into(),
        source: None,
        verification: None,
    }
}

/// Writes a file and fsyncs it and its directory, as an archive of plain files must to acknowledge.
fn write_synced(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("create");
    f.write_all(bytes).expect("write");
    f.sync_all().expect("fsync");
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

const PAGES_PER_DOC: usize = 10;
const CLIENTS: usize = 2;
/// The turns sohoa and the peer take at ingest, each a slice of the documents.
const ROUNDS: usize = 4;

/// Runs `ingest` on each document index of `docs` from [`CLIENTS`] threads; returns the time taken.
fn from_clients(docs: std::ops::Range<usize>, ingest: impl Fn(usize) + Sync) -> Duration {
    let next = AtomicUsize::new(docs.start);
    let start = Instant::now();
    std::thread::scope(|clients| {
        for _ in 0..CLIENTS {
            clients.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= docs.end {
                        break;
                    }
                    ingest(i);
                }
            });
        }
    });
    start.elapsed()
}

/// The owner of the `i`th bench document: 50 documents per owner, so no code counter runs out.
pub fn owner(i: usize) -> domain::OwnerId {
    format!("001099{:06}", i / 50).parse().expect("valid owner id")
}

/// The logical bytes each ingest case writes when `SOHOA_BENCH_ARCHIVE_DOCS` does not say how many
/// documents: enough for the disk's write-back to count (51 of 20 MB), at most 2000 documents.
const CASE_BYTES: usize = 1 << 30;

pub fn archive_section() {
    let docs: Option<usize> = std::env::var("SOHOA_BENCH_ARCHIVE_DOCS").ok().and_then(|v| v.parse().ok());
    let sizes_kb: Vec<usize> = std::env::var("SOHOA_BENCH_ARCHIVE_DOC_KB")
        .unwrap_or_else(|_| "200,2000,20000".into())
        .split(',')
        .map(|kb| kb.trim().parse().expect("SOHOA_BENCH_ARCHIVE_DOC_KB: a comma-separated list of sizes in KB"))
        .collect();
    let big_pages: usize =
        std::env::var("SOHOA_BENCH_ARCHIVE_BIG_PAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let read_pages: usize =
        std::env::var("SOHOA_BENCH_ARCHIVE_PAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let work = tempfile::tempdir_in(crate::util::repo())
        .expect("temporary directory beside the checkout (same disk as ./var)");
    let w = work.path();
    // First, while this process is small: a child's peak memory as the kernel reports it includes
    // the parent's resident memory at the fork (it is kept across exec).
    if big_pages > 0 {
        big_document_memory(w, big_pages);
    }
    for kb in sizes_kb {
        let doc_bytes = kb * 1024;
        ingest(w, docs.unwrap_or((CASE_BYTES / doc_bytes).clamp(20, 2000)), doc_bytes);
    }
    if read_pages > 0 {
        read_latency(w, read_pages);
    }
}

/// Ingest of `docs` documents of `doc_bytes` by sohoa and by plain files with fsync, one after the
/// other on the same disk, and the bytes each leaves on it.
fn ingest(w: &Path, docs: usize, doc_bytes: usize) {
    // The workload: documents of 10 pages and a PDF, of `doc_bytes` in all; one page in five
    // repeats an earlier one. The hashes are computed here: capture computes them when it seals
    // the pages, before the archive sees them.
    let mut noise = crate::Rng(0x9e37_79b9_7f4a_7c15);
    let page_bytes = doc_bytes / (PAGES_PER_DOC + 1);
    let mut pool: Vec<Arc<Vec<u8>>> = Vec::new();
    let mut workload = Vec::with_capacity(docs);
    let mut logical = 0u64;
    for i in 0..docs {
        let pages: Vec<Arc<Vec<u8>>> = (0..PAGES_PER_DOC)
            .map(|p| {
                if (i * PAGES_PER_DOC + p) % 5 == 4 && !pool.is_empty() {
                    pool[noise.next() as usize % pool.len()].clone()
                } else {
                    let page = Arc::new(noise.fill(page_bytes));
                    pool.push(page.clone());
                    page
                }
            })
            .collect();
        let pdf = noise.fill(page_bytes);
        logical += (pages.iter().map(|p| p.len()).sum::<usize>() + pdf.len()) as u64;
        let hashes: Vec<BlobHash> = pages.iter().map(|p| BlobHash::of(p)).collect();
        let pdf_hash = BlobHash::of(&pdf);
        workload.push((pages, hashes, pdf, pdf_hash));
    }

    // sohoa (allocate the code, seal, commit: synced, grouped) and the peer (each page and PDF a
    // file, fsynced, the document's directory fsynced), a slice of the documents each in turn,
    // so that the load of a shared machine changing during the run weighs on both alike.
    let (archive, keys) = open(&w.join("sohoa"));
    let files = w.join("files");
    let (mut ours, mut peer) = (Duration::ZERO, Duration::ZERO);
    for round in 0..ROUNDS {
        let slice = round * docs / ROUNDS..(round + 1) * docs / ROUNDS;
        ours += from_clients(slice.clone(), |i| {
            let (pages, hashes, pdf, pdf_hash) = &workload[i];
            let reservation = archive.reserve_document_code(Some(&owner(i)), &"HS".parse().unwrap()).expect("code");
            let pages = (pages.iter().map(|p| p.as_ref().clone()).collect(), hashes.clone());
            archive
                .commit(hashed_document(reservation.code().clone(), &keys, pages, (pdf.clone(), *pdf_hash)))
                .expect("commit");
        });
        peer += from_clients(slice, |i| {
            let (pages, _, pdf, _) = &workload[i];
            let dir = files.join(i.to_string());
            std::fs::create_dir_all(&dir).expect("mkdir");
            for (n, page) in pages.iter().enumerate() {
                write_synced(&dir.join(format!("page-{n}.jpg")), page);
            }
            write_synced(&dir.join("document.pdf"), pdf);
            std::fs::File::open(&dir).and_then(|d| d.sync_all()).expect("fsync dir");
        });
    }
    drop(archive);
    let ours_disk = crate::disk_bytes(&w.join("sohoa/archive"));
    let peer_disk = crate::disk_bytes(&files);
    let mb = logical as f64 / 1e6;
    println!(
        "\n## archive ({docs} documents of {PAGES_PER_DOC} pages, {} KB each, 20% duplicate pages, {CLIENTS} clients, every commit synced, {ROUNDS} turns each)",
        doc_bytes / 1024
    );
    println!("| what | sohoa | peer: files + fsync | ratio |\n|---|---:|---:|---:|");
    let (our_rate, peer_rate) = (docs as f64 / ours.as_secs_f64(), docs as f64 / peer.as_secs_f64());
    println!("| ingest, documents/s (target ≥ 200) | {our_rate:.0} | {peer_rate:.0} | {:.2}× |", our_rate / peer_rate);
    println!(
        "| ingest, MB/s | {:.1} | {:.1} | {:.2}× |",
        mb / ours.as_secs_f64(),
        mb / peer.as_secs_f64(),
        our_rate / peer_rate
    );
    println!(
        "| bytes on disk per logical byte | {:.3} | {:.3} | {:.2}× less |",
        ours_disk as f64 / logical as f64,
        peer_disk as f64 / logical as f64,
        peer_disk as f64 / ours_disk as f64
    );
    std::fs::remove_dir_all(&files).ok();
    std::fs::remove_dir_all(w.join("sohoa")).ok();
}

/// The peak resident memory of `sohoa ingest` of one document of `pages` scanned A4 pages at 300
/// dpi of 300 KB to 1 MB each (what such a page weighs as a JPEG): the whole path, from the files
/// through capture, reading, the PDF/A, its signature and the commit. The pages are blank paper
/// with its grain, which capture judges blank and does not recognise, so that the run measures
/// what a long document costs in memory rather than 500 pages of OCR; recognised text adds a few
/// kilobytes a page.
fn big_document_memory(w: &Path, pages: usize) {
    let dir = w.join("big");
    let files = blank_paper_pages(&dir.join("pages"), pages);
    let sizes: Vec<u64> = files.iter().map(|f| std::fs::metadata(f).expect("a page file").len()).collect();
    let bytes: u64 = sizes.iter().sum();
    let (smallest, largest) = (sizes.iter().min().copied().unwrap_or(0), sizes.iter().max().copied().unwrap_or(0));
    let report = dir.join("report.json");
    let usage = crate::measure(
        std::process::Command::new(crate::sohoa_exe())
            .arg("--data")
            .arg(dir.join("data"))
            .args(["--json", "ingest", "--owner", "001099012345", "--type", "HS", "--name", "Hồ sơ dày"])
            .args(&files)
            .stdout(std::fs::File::create(&report).expect("report file")),
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("ingest report")).expect("ingest JSON");
    assert_eq!(report["stage"], "archived", "the document was not archived: {report}");
    let code = report["code"].as_str().expect("a code");
    let pdf = dir.join("document.pdf");
    let got = std::process::Command::new(crate::sohoa_exe())
        .arg("--data")
        .arg(dir.join("data"))
        .args(["get", code, "-o"])
        .arg(&pdf)
        .status();
    assert!(got.is_ok_and(|s| s.success()), "sohoa get failed");
    let pdf_bytes = std::fs::metadata(&pdf).expect("the signed PDF").len();
    std::fs::remove_dir_all(&dir).ok();
    let rss = usage.max_rss_kib as f64 / 1024.0;
    let mb = |b: u64| b as f64 / 1e6;
    println!(
        "\n## one document of {pages} JPEG pages of {:.2} to {:.2} MB ({:.0} MB), through `sohoa ingest` to a {:.0} MB signed PDF",
        mb(smallest),
        mb(largest),
        mb(bytes),
        mb(pdf_bytes)
    );
    println!("| what | sohoa | target |\n|---|---:|---:|");
    println!("| peak RSS, MiB (capture, reading, PDF/A, signature, commit) | {rss:.0} | < 1024 |");
    println!("| wall time, s | {:.1} | |", usage.wall.as_secs_f64());
}

/// Writes `count` JPEG files of blank A4 paper at 300 dpi, each different, of 300 KB to 1 MB: a
/// few sheets of paper grain of growing coarseness, each file told apart from the others by a
/// comment segment naming its page.
fn blank_paper_pages(dir: &Path, count: usize) -> Vec<PathBuf> {
    use image::codecs::jpeg::{JpegEncoder, PixelDensity};
    const SHEETS: usize = 6;
    std::fs::create_dir_all(dir).expect("page directory");
    let mut noise = crate::Rng(0x51_7cc1_b727_220a);
    let (width, height) = (2480u32, 3508u32);
    let sheets: Vec<Vec<u8>> = (0..SHEETS)
        .map(|sheet| {
            let grain = 4 + sheet as u64;
            let pixels: Vec<u8> =
                (0..width as usize * height as usize).map(|_| (236 + noise.next() % grain - grain / 2) as u8).collect();
            let mut jpeg = Vec::new();
            let mut encoder = JpegEncoder::new_with_quality(&mut jpeg, 90);
            encoder.set_pixel_density(PixelDensity::dpi(300));
            encoder.encode(&pixels, width, height, image::ExtendedColorType::L8).expect("JPEG encoding");
            jpeg
        })
        .collect();
    (0..count)
        .map(|n| {
            let sheet = &sheets[n % SHEETS];
            let comment = format!("page {}", n + 1).into_bytes();
            let mut file = sheet[..2].to_vec(); // SOI
            file.extend_from_slice(&[0xFF, 0xFE]);
            file.extend_from_slice(&(comment.len() as u16 + 2).to_be_bytes());
            file.extend_from_slice(&comment);
            file.extend_from_slice(&sheet[2..]);
            let path = dir.join(format!("page-{:04}.jpg", n + 1));
            std::fs::write(&path, file).expect("page file");
            path
        })
        .collect()
}

/// Random reads with hash verification at `total` stored pages of 4 KiB, beside the same reads from
/// one file per page (hashed the same way).
fn read_latency(w: &Path, total: usize) {
    const PAGE: usize = 4096;
    const PER_DOC: usize = 100;
    let (archive, keys) = open(&w.join("reads"));
    let mut noise = crate::Rng(0x2545_f491_4f6c_dd1d);
    let mut hashes = Vec::with_capacity(total);
    let files = w.join("read-files");
    let load = Instant::now();
    for d in 0..total.div_ceil(PER_DOC) {
        let pages: Vec<Vec<u8>> = (0..PER_DOC.min(total - d * PER_DOC)).map(|_| noise.fill(PAGE)).collect();
        let dir: PathBuf = files.join(format!("{:03}", d % 1000));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for p in &pages {
            let h = BlobHash::of(p);
            std::fs::write(dir.join(h.to_hex()), p).expect("write");
            hashes.push((h, dir.clone()));
        }
        let reservation = archive.reserve_document_code(Some(&owner(d)), &"HS".parse().unwrap()).expect("code");
        let pdf = noise.fill(64);
        archive.commit(document(reservation.code().clone(), &keys, pages, pdf)).expect("commit");
    }
    eprintln!("loaded {total} pages into sohoa and {} in {:.0} s", files.display(), load.elapsed().as_secs_f64());
    let reads = 200_000.min(total * 2);
    let mut ours = Vec::with_capacity(reads);
    let mut peer = Vec::with_capacity(reads);
    for _ in 0..reads {
        let (hash, dir) = &hashes[noise.next() as usize % hashes.len()];
        let t = Instant::now();
        std::hint::black_box(archive.read_blob(hash).expect("read"));
        ours.push(t.elapsed());
        let t = Instant::now();
        let bytes = std::fs::read(dir.join(hash.to_hex())).expect("read");
        assert_eq!(BlobHash::of(&bytes), *hash);
        peer.push(t.elapsed());
    }
    ours.sort();
    peer.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "\n## archive reads ({total} stored pages of 4 KiB, {reads} random reads, BLAKE3 verified on every read, page cache warm)"
    );
    println!("| what | sohoa µs | peer: one file per page µs | ratio |\n|---|---:|---:|---:|");
    for (name, p) in [("p50", 0.5), ("p99 (target < 5000)", 0.99)] {
        let (a, b) = (percentile(&ours, p), percentile(&peer, p));
        println!("| read {name} | {:.1} | {:.1} | {:.2}× |", us(a), us(b), us(b) / us(a));
    }
}
