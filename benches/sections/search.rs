//! The search section of `make bench`: a generated corpus of `SOHOA_BENCH_SEARCH_PAGES` pages
//! (default 1,000,000; Vietnamese text chained from the words of the test pages' ground truth,
//! realistic owner IDs, numbers and dates), indexed by sohoa's `SearchIndex` and loaded into
//! PostgreSQL (Debian's server in a private cluster, `unaccent` + GIN over a `tsvector`) in the same
//! run; then reuse lookups and 2–4 word full-text queries from 8 concurrent clients against both.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use search::{IndexDocument, IndexStatus, SearchIndex, SearchRequest};

use crate::postgres::Postgres;

const PAGES_PER_DOC: usize = 10;
const WORDS_PER_PAGE: usize = 250;
const CLIENTS: usize = 8;
/// Reuse lookups per client.
const QUERIES_PER_CLIENT: usize = 250;
/// Full-text queries per client: fewer, because PostgreSQL takes up to seconds for each at a million
/// pages (`SOHOA_BENCH_SEARCH_TEXT_QUERIES` changes it).
const TEXT_QUERIES_PER_CLIENT: usize = 64;
/// A PostgreSQL full-text query stopped after this long counts as taking this long (a lower bound).
const PG_TIMEOUT_MS: u64 = 30_000;
const TYPES: [&str; 6] = ["GKS", "CCCD", "GPXD", "QD", "HS", "GCNQSDD"];
const ISSUERS: [&str; 4] = ["UBND quận 1", "UBND quận 3", "Công an TP. Hồ Chí Minh", "Sở Xây dựng"];

/// Text chained from the test pages' words: each next word is one that follows the current one
/// somewhere in their ground truth, so that word pairs (and phrase queries) are as real as those pages make them.
struct Chain {
    words: Vec<String>,
    next: Vec<Vec<u32>>,
}

impl Chain {
    fn from_corpus() -> Chain {
        let dir = crate::files::pages_dir();
        let mut text = String::new();
        for entry in std::fs::read_dir(&dir).expect("the test pages' directory can be read") {
            let path = entry.expect("entry").path();
            if path.to_string_lossy().ends_with(".gt.txt") {
                text.push_str(&std::fs::read_to_string(&path).expect("ground truth"));
                text.push('\n');
            }
        }
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let mut index = std::collections::HashMap::new();
        let mut words = Vec::new();
        let ids: Vec<u32> = tokens
            .iter()
            .map(|w| {
                *index.entry(*w).or_insert_with(|| {
                    words.push((*w).to_owned());
                    (words.len() - 1) as u32
                })
            })
            .collect();
        let mut next = vec![Vec::new(); words.len()];
        for pair in ids.windows(2) {
            next[pair[0] as usize].push(pair[1]);
        }
        Chain { words, next }
    }

    fn page(&self, rng: &mut crate::Rng) -> String {
        let mut w = rng.below(self.words.len());
        let mut out = String::with_capacity(WORDS_PER_PAGE * 7);
        for i in 0..WORDS_PER_PAGE {
            out.push_str(&self.words[w]);
            out.push(if i % 14 == 13 { '\n' } else { ' ' });
            let followers = &self.next[w];
            w = if followers.is_empty() || rng.below(20) == 0 {
                rng.below(self.words.len())
            } else {
                followers[rng.below(followers.len())] as usize
            };
        }
        out
    }

    /// 2–4 consecutive words of a page, as someone remembers a phrase.
    fn query(&self, rng: &mut crate::Rng) -> String {
        let page = self.page(rng);
        let words: Vec<&str> = page.split_whitespace().filter(|w| w.chars().any(char::is_alphabetic)).collect();
        let n = 2 + rng.below(3);
        let start = rng.below(words.len() - n);
        words[start..start + n].join(" ")
    }
}

fn owner(i: usize) -> String {
    format!("0010{:08}", 99_000_000 + i / 5)
}

/// The `i`th generated document.
fn document(i: usize, chain: &Chain, rng: &mut crate::Rng) -> IndexDocument {
    let doc_type = TYPES[i % TYPES.len()];
    let issued = NaiveDate::from_ymd_opt(1990 + (i % 35) as i32, 1 + (i % 12) as u32, 1 + (i % 28) as u32).unwrap();
    let status = match i % 50 {
        0 => IndexStatus::Revoked,
        1 => IndexStatus::Held,
        _ => IndexStatus::Active,
    };
    IndexDocument {
        // Five documents per owner, each of another type: every code ends in 01.
        code: format!("{}.{doc_type}.01", owner(i)).parse().expect("a valid code"),
        owner: Some(owner(i)),
        dossier: Some(format!("H56.14-{}-{:04}", issued.format("%y%m%d"), 1 + i % 9999)),
        procedure: None,
        doc_type: doc_type.to_owned(),
        name: format!("{doc_type} của công dân"),
        number: Some(format!("{}/QĐ-UBND", 1 + i % 9000)),
        issuing_body: Some(ISSUERS[i % ISSUERS.len()].to_owned()),
        issue_date: Some(issued),
        valid_until: (doc_type == "CCCD").then(|| issued.checked_add_days(chrono::Days::new(15 * 365)).unwrap()),
        status,
        captured_at: 1_700_000_000 + i as i64 * 60,
        pages: (0..PAGES_PER_DOC).map(|_| chain.page(rng)).collect(),
    }
}

/// Runs `query` from [`CLIENTS`] threads, `per_client` times each; returns p50 and p99. A quarter of
/// the queries run once untimed first, so that both sides are measured warm, as a serving appliance
/// is.
fn concurrent<C: Send + 'static>(
    per_client: usize,
    connect: impl Fn() -> C + Send + Sync + 'static,
    query: impl Fn(&mut C, usize) + Send + Sync + 'static,
) -> (Duration, Duration) {
    let connect = Arc::new(connect);
    let query = Arc::new(query);
    let warm: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let (connect, query) = (connect.clone(), query.clone());
            std::thread::spawn(move || {
                let mut client = connect();
                (0..per_client / 4).for_each(|i| query(&mut client, t * per_client + i));
            })
        })
        .collect();
    warm.into_iter().for_each(|t| t.join().expect("client"));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let (connect, query) = (connect.clone(), query.clone());
            std::thread::spawn(move || {
                let mut client = connect();
                (0..per_client)
                    .map(|i| {
                        let start = Instant::now();
                        query(&mut client, t * per_client + i);
                        start.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().expect("client")).collect();
    all.sort();
    (all[all.len() / 2], all[all.len() * 99 / 100])
}

/// sohoa's side as the appliance serves it: one worker per core takes the clients' requests in
/// turn, as the HTTP server's runtime does, and a client waits for its answer. (Eight CPU-bound
/// client threads calling the index themselves would measure the kernel's time slices instead: a
/// thread preempted mid-query waits out three others' slices.) PostgreSQL's clients wait on their
/// backend processes the same way.
type Request = (usize, std::sync::mpsc::SyncSender<()>);

fn served(
    work: impl Fn(usize) + Send + Sync + 'static,
) -> impl Fn() -> (std::sync::mpsc::Sender<Request>, std::sync::mpsc::SyncSender<()>, std::sync::mpsc::Receiver<()>)
+ Send
+ Sync
+ 'static {
    let (tx, rx) = std::sync::mpsc::channel::<Request>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let work = Arc::new(work);
    for _ in 0..crate::cores() {
        let (rx, work) = (rx.clone(), work.clone());
        std::thread::spawn(move || {
            loop {
                let next = rx.lock().unwrap().recv();
                let Ok((i, reply)) = next else { return };
                work(i);
                let _ = reply.send(());
            }
        });
    }
    let tx = std::sync::Mutex::new(tx);
    move || {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        (tx.lock().unwrap().clone(), reply, answer)
    }
}

/// Sends request `i` to the workers of [`served`] and waits for the answer.
fn ask(
    client: &mut (std::sync::mpsc::Sender<Request>, std::sync::mpsc::SyncSender<()>, std::sync::mpsc::Receiver<()>),
    i: usize,
) {
    client.0.send((i, client.1.clone())).expect("the workers run");
    client.2.recv().expect("an answer");
}

pub fn search_section() {
    let pages: usize = std::env::var("SOHOA_BENCH_SEARCH_PAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let docs = pages / PAGES_PER_DOC;
    let work = tempfile::tempdir_in(crate::util::repo()).expect("temporary directory");
    // The PostgreSQL server runs as its own user and must reach its directory inside.
    std::fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let chain = Chain::from_corpus();

    // sohoa: index, commit every 10,000 documents as catching up with the archive does.
    let index = SearchIndex::open(&work.path().join("tantivy")).expect("index opens");
    let mut rng = crate::Rng(0x9e37_79b9_7f4a_7c15);
    let start = Instant::now();
    for i in 0..docs {
        index.add(&document(i, &chain, &mut rng)).expect("add");
        if i % 10_000 == 9_999 {
            index.commit(i as u64).expect("commit");
        }
    }
    index.commit(docs as u64).expect("commit");
    // The build is done when the segments are merged, as the table (like PostgreSQL's VACUUM
    // ANALYZE below) is at rest before it is queried.
    index.wait_for_merges().expect("merges");
    let ours_build = start.elapsed();
    let ours_bytes = crate::disk_bytes(&work.path().join("tantivy"));

    // PostgreSQL: the same documents, one row per page, tsvector of the unaccented text.
    let server = Postgres::start_in(work.path(), "-c shared_buffers=1GB -c max_wal_size=4GB -c fsync=off");
    let mut pg = server.connect();
    pg.batch_execute(
        "CREATE EXTENSION unaccent;
         CREATE TABLE documents (code text PRIMARY KEY, owner text, doc_type text, status text, valid_until date, name text, number text, issue_date date);
         CREATE TABLE pages (code text, page int, body text, tsv tsvector);",
    )
    .unwrap();
    let mut rng = crate::Rng(0x9e37_79b9_7f4a_7c15);
    let start = Instant::now();
    for chunk in (0..docs).collect::<Vec<_>>().chunks(2_000) {
        let mut docs_copy = pg.copy_in("COPY documents FROM STDIN").unwrap();
        let mut pages_rows = String::new();
        use std::io::Write;
        for &i in chunk {
            let d = document(i, &chain, &mut rng);
            let until = d.valid_until.map_or("9999-12-31".to_owned(), |u| u.to_string());
            writeln!(
                docs_copy,
                "{}\t{}\t{}\t{}\t{until}\t{}\t{}\t{}",
                d.code,
                d.owner.unwrap(),
                d.doc_type,
                d.status.as_str(),
                d.name,
                d.number.unwrap(),
                d.issue_date.unwrap()
            )
            .unwrap();
            for (p, text) in d.pages.iter().enumerate() {
                let escaped = text.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', " ");
                pages_rows.push_str(&format!("{}\t{}\t{escaped}\n", d.code, p + 1));
            }
        }
        docs_copy.finish().unwrap();
        let mut pages_copy = pg.copy_in("COPY pages (code, page, body) FROM STDIN").unwrap();
        pages_copy.write_all(pages_rows.as_bytes()).unwrap();
        pages_copy.finish().unwrap();
    }
    pg.batch_execute(
        "UPDATE pages SET tsv = to_tsvector('simple', unaccent(body));
         CREATE INDEX pages_tsv ON pages USING gin (tsv);
         CREATE INDEX documents_owner ON documents (owner);",
    )
    .unwrap();
    pg.batch_execute("VACUUM ANALYZE").unwrap();
    let peer_build = start.elapsed();
    // Both sides are measured at rest: PostgreSQL's dirty buffers and the kernel's dirty pages of
    // the load are written out first, or whichever side is measured first would compete with the
    // other's write-back.
    pg.batch_execute("CHECKPOINT").unwrap();
    assert!(Command::new("sync").status().unwrap().success());
    let peer_bytes: i64 = pg
        .query_one("SELECT pg_total_relation_size('pages') + pg_total_relation_size('documents')", &[])
        .unwrap()
        .get(0);
    let peer_bytes = peer_bytes as u64;

    let text_queries: usize = std::env::var("SOHOA_BENCH_SEARCH_TEXT_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(TEXT_QUERIES_PER_CLIENT);
    println!(
        "\n## search ({pages} generated pages in {docs} documents; {CLIENTS} concurrent clients; {} reuse lookups and {} full-text queries each side)",
        CLIENTS * QUERIES_PER_CLIENT,
        CLIENTS * text_queries
    );
    println!("| what | sohoa (tantivy) | PostgreSQL (unaccent + GIN) | ratio |\n|---|---:|---:|---:|");
    let (ours_rate, peer_rate) = (pages as f64 / ours_build.as_secs_f64(), pages as f64 / peer_build.as_secs_f64());
    println!("| index build, pages/s | {ours_rate:.0} | {peer_rate:.0} | {:.2}× |", ours_rate / peer_rate);
    println!(
        "| index size per page, bytes | {:.0} | {:.0} | {:.2}× smaller |",
        ours_bytes as f64 / pages as f64,
        peer_bytes as f64 / pages as f64,
        peer_bytes as f64 / ours_bytes as f64
    );

    let index = Arc::new(index);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let owners = move |i: usize| owner((i * 7919) % docs);
    let ours = {
        let index = index.clone();
        let connect = served(move |i| {
            std::hint::black_box(index.reuse(&owners(i), None, today).unwrap());
        });
        concurrent(QUERIES_PER_CLIENT, connect, ask)
    };
    let conninfo = server.conninfo();
    let peer = concurrent(
        QUERIES_PER_CLIENT,
        move || postgres::Client::connect(&conninfo, postgres::NoTls).expect("connects to the private cluster"),
        move |c: &mut postgres::Client, i| {
            let rows = c
            .query("SELECT code, name, number FROM documents WHERE owner = $1 AND status IN ('active', 'held') AND valid_until >= $2 ORDER BY issue_date DESC", &[&owners(i), &today])
            .unwrap();
            std::hint::black_box(rows);
        },
    );
    println!(
        "| reuse lookup p50 / p99, ms (target p99 < 10, no slower than PostgreSQL) | {:.2} / {:.2} | {:.2} / {:.2} | {:.2}× at p99 |",
        ms(ours.0),
        ms(ours.1),
        ms(peer.0),
        ms(peer.1),
        ms(peer.1) / ms(ours.1)
    );

    let mut rng = crate::Rng(0x2545_f491_4f6c_dd1d);
    let queries: Arc<Vec<String>> = Arc::new((0..CLIENTS * text_queries).map(|_| chain.query(&mut rng)).collect());
    let q = queries.clone();
    let connect = served(move |i| {
        let request = SearchRequest { text: q[i].clone(), limit: 20, ..SearchRequest::default() };
        std::hint::black_box(index.search(&request).unwrap());
    });
    let ours = concurrent(text_queries, connect, ask);
    let conninfo = server.conninfo();
    let timed_out = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = timed_out.clone();
    let connect = move || {
        let mut c = postgres::Client::connect(&conninfo, postgres::NoTls).expect("connects to the private cluster");
        c.batch_execute(&format!("SET statement_timeout = {PG_TIMEOUT_MS}")).unwrap();
        c
    };
    let peer = concurrent(text_queries, connect, move |c: &mut postgres::Client, i| {
        let rows = c
            .query(
                "SELECT code, page, ts_rank(tsv, q) AS r FROM pages, plainto_tsquery('simple', unaccent($1)) q WHERE tsv @@ q ORDER BY r DESC LIMIT 20",
                &[&queries[i]],
            )
            // A query stopped at the statement timeout is counted; any other error ends the bench.
            .map_err(|e| assert_eq!(e.code(), Some(&postgres::error::SqlState::QUERY_CANCELED), "{e:?}"));
        if rows.is_err() {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        std::hint::black_box(rows.ok());
    });
    let timed_out = timed_out.load(std::sync::atomic::Ordering::Relaxed);
    if timed_out > 0 {
        println!(
            "({timed_out} PostgreSQL full-text queries, warm-up included, were stopped at {} s and count as that long)",
            PG_TIMEOUT_MS / 1000
        );
    }
    println!(
        "| full text, 2–4 words, p50 / p99, ms (target p99 < 50, ≥ 5× PostgreSQL) | {:.2} / {:.2} | {:.2} / {:.2} | {:.2}× at p99 |",
        ms(ours.0),
        ms(ours.1),
        ms(peer.0),
        ms(peer.1),
        ms(peer.1) / ms(ours.1)
    );
}
