//! The province-index section of `make bench`: reuse lookup at the province, at
//! `SOHOA_BENCH_PROVINCE_ROWS` documents (default 1,000,000) of 20 offices in the province index.
//! The table and its indexes are the appliance's own (`province::index::create_schema`, in a
//! private PostgreSQL cluster); the rows are generated in SQL (`generate_series`: three documents
//! per owner, 2% revoked, names without page text), and each lookup is the appliance's own query
//! (`province::index::reuse`) for a random owner, asked by one office of the 20, one at a time on
//! one connection. What the lookup then costs per hit (reading and verifying the evidence from the
//! object store) is not in this figure.

use std::time::{Duration, Instant};

use sohoa::province::index;

use crate::postgres::Postgres;

/// Lookups measured (after as many to warm the cache).
const LOOKUPS: usize = 5_000;
/// Offices of the province.
const OFFICES: u64 = 20;

pub fn province_index_section() {
    let rows: u64 = std::env::var("SOHOA_BENCH_PROVINCE_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let work = tempfile::tempdir_in(crate::util::repo()).expect("temporary directory beside the checkout");
    // The server runs as its own user, which must reach its directory inside.
    std::fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let server = Postgres::start_in(
        work.path(),
        "-c shared_buffers=2GB -c max_wal_size=8GB -c fsync=off -c synchronous_commit=off -c maintenance_work_mem=1GB",
    );
    let mut pg = server.connect();
    index::create_schema(&mut pg).expect("the appliance's schema");

    let start = Instant::now();
    // Owner k (12 digits) has documents 3k, 3k+1, 3k+2, each at an office of its own.
    pg.execute(
        "INSERT INTO sohoa_documents (origin, code, office, seq, doc_type, owner, name, issue_date, archived_at, status, held, pages, pdf)
         SELECT 'office-' || (i % $2::bigint) || '.example/sohoa', lpad((i / 3)::text, 12, '0') || '.HS.' || (i % 3),
                'Phường ' || (i % $2::bigint), i, 'HS', lpad((i / 3)::text, 12, '0'), 'Giấy tờ ' || i,
                date '2015-01-01' + (i % 3650)::int, now(),
                CASE WHEN i % 50 = 0 THEN 'revoked' ELSE 'active' END, false, 2, md5(i::text) || md5(i::text)
         FROM generate_series(0::bigint, $1::bigint - 1) AS i",
        &[&(rows as i64), &(OFFICES as i64)],
    )
    .expect("rows generated");
    pg.batch_execute("VACUUM ANALYZE sohoa_documents").expect("vacuum");
    let load = start.elapsed();
    let bytes: i64 = pg.query_one("SELECT pg_total_relation_size('sohoa_documents')", &[]).expect("size").get(0);

    let today = chrono::Utc::now().date_naive();
    let mut rng = crate::Rng(0x5851_f42d_4c95_7f2d);
    let owners = (rows / 3).max(1);
    let mut times = Vec::with_capacity(LOOKUPS);
    let mut hits = 0;
    for round in 0..2 * LOOKUPS {
        let owner = format!("{:012}", rng.next() % owners);
        let asker = format!("office-{}.example/sohoa", rng.next() % OFFICES);
        let began = Instant::now();
        let found = index::reuse(&mut pg, &owner, None, &asker, today).expect("lookup");
        if round >= LOOKUPS {
            times.push(began.elapsed());
            hits += found.len();
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("\n## province-index: reuse lookup at the province, {rows} documents of {OFFICES} offices in PostgreSQL");
    println!("| what | figure |\n|---|---:|");
    println!("| rows generated and analysed, s | {:.0} |", load.as_secs_f64());
    println!("| table and indexes, MiB | {:.0} |", bytes as f64 / (1024.0 * 1024.0));
    println!("| lookups measured (one connection, one at a time) | {LOOKUPS} |");
    println!("| hits per lookup (other offices' active documents) | {:.2} |", hits as f64 / LOOKUPS as f64);
    println!("| reuse lookup p50 / p99 / max, ms | {:.3} / {:.3} / {:.3} |", ms(at(0.5)), ms(at(0.99)), ms(at(1.0)));
}
