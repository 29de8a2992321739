//! The province index and reuse across offices, against the real components: two appliances, A
//! and B, each replicating to its own bucket of one SeaweedFS store (see `object_store`) and
//! publishing to one private PostgreSQL cluster (see `postgres`), each pinning the other's log
//! origin and seal key. A document archived at A is offered at B, verified there from A's
//! evidence in the store, and found by full text with or without diacritics; publication catches
//! up after PostgreSQL was down, by hand and in the background of `sohoa serve`; an office not
//! pinned and a forged evidence object are refused with their reason; and a revocation at A takes
//! the document off B's offers.

use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;

use crate::object_store::Weed;
use crate::postgres::Postgres;
use crate::replication::wait_for_metric;
use crate::util::{PASSWORD, Server, Sohoa, corpus};

/// One office's appliance, its configuration in `SOHOA_CONFIG`.
struct Office {
    sohoa: Sohoa,
    name: &'static str,
}

impl Office {
    /// An appliance with an admin, an archivist and an officer, whose log origin is
    /// `<name>.example/sohoa` and whose bucket is `office-<name>`; its seal key is made.
    fn new(weed: &Weed, name: &'static str) -> Office {
        let mut sohoa = Sohoa::new();
        sohoa.env = weed.env();
        let config = sohoa.dir.path().join("sohoa.toml");
        sohoa.env.push(("SOHOA_CONFIG".into(), config.to_str().unwrap().into()));
        let office = Office { sohoa, name };
        office.configure(&format!("{}\n{}", office.archive(), weed.config(&office.bucket())));
        office.sohoa.add_users(&[("admin", "admin"), ("alice", "archivist"), ("olga", "officer")]);
        office
    }

    fn archive(&self) -> String {
        format!("[archive]\norigin = \"{}.example/sohoa\"\n", self.name)
    }

    fn bucket(&self) -> String {
        format!("office-{}", self.name)
    }

    /// Writes the configuration.
    fn configure(&self, text: &str) {
        std::fs::write(self.sohoa.dir.path().join("sohoa.toml"), text).unwrap();
    }

    /// The current seal key id.
    fn key(&self) -> String {
        let keys: Value = serde_json::from_str(&self.sohoa.ok(&["--json", "keys", "export"])).unwrap();
        keys["current"].as_str().unwrap().to_owned()
    }

    /// Adds `[province]`: this office in `pg`'s index, pinning `peer`.
    fn join(&self, weed: &Weed, pg: &Postgres, peer: &Office) {
        self.configure(&format!(
            "{}\n{}\n[province]\noffice = \"Phường {}\"\nindex = \"{}\"\n\n\
             [[province.peers]]\noffice = \"Phường {}\"\norigin = \"{}.example/sohoa\"\nkeys = [\"{}\"]\nbucket = \"{}\"\n",
            self.archive(),
            weed.config(&self.bucket()),
            self.name,
            pg.conninfo(),
            peer.name,
            peer.name,
            peer.key(),
            peer.bucket(),
        ));
    }

    /// `sohoa --json ARGS` as `user`, which must succeed; its JSON.
    fn json(&self, user: &str, args: &[&str]) -> Value {
        let args: Vec<&str> = ["--json"].iter().chain(args).copied().collect();
        serde_json::from_str(&self.sohoa.ok_as(user, &args)).unwrap()
    }

    /// Ingests one corpus page as a document; returns its code.
    fn ingest(&self, owner: &str, doc_type: &str, name: &str) -> String {
        let page = corpus("clean300-001.png");
        let args = ["ingest", "--owner", owner, "--type", doc_type, "--name", name, page.to_str().unwrap()];
        self.sohoa.ok(&args).trim().to_owned()
    }

    /// Publishes and replicates everything, which must succeed.
    fn send(&self) {
        let published = self.json("admin", &["publish"]);
        assert_eq!(published["lag"]["events_behind"], 0, "{published}");
        let replicated = self.json("admin", &["replicate"]);
        assert_eq!(replicated["lag"]["events_behind"], 0, "{replicated}");
    }
}

/// The codes of a lookup's offers and of its refusals, with their reasons.
fn codes(answer: &Value) -> (Vec<String>, Vec<(String, String)>) {
    let offers = answer["offers"].as_array().unwrap().iter().map(|o| o["code"].as_str().unwrap().to_owned()).collect();
    let refused = answer["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap().to_owned(), r["reason"].as_str().unwrap().to_owned()))
        .collect();
    (offers, refused)
}

const OWNER: &str = "001099012345";

#[test]
fn a_document_archived_at_one_office_is_offered_at_another_only_while_it_verifies() {
    let weed = Weed::start();
    weed.make_locked_bucket("office-a");
    weed.make_locked_bucket("office-b");
    let mut pg = Postgres::start_in(&std::env::temp_dir(), "");
    let a = Office::new(&weed, "a");
    let b = Office::new(&weed, "b");
    a.join(&weed, &pg, &b);
    b.join(&weed, &pg, &a);

    // Archived at A, published and replicated: B offers it, naming A's office, verified.
    let first = a.ingest(OWNER, "HS", "Giấy khai sinh Nguyễn Văn Đức");
    a.send();
    let answer = b.json("olga", &["reuse", "--province", OWNER]);
    assert_eq!(codes(&answer), (vec![first.clone()], vec![]), "{answer}");
    let offer = &answer["offers"][0];
    assert_eq!(offer["office"], "Phường a", "{offer}");
    assert_eq!(offer["verified"], true);
    assert_eq!(answer["office"], "Phường b");
    // A does not offer its own document as another office's: it is in its local lookup.
    let own = a.json("olga", &["reuse", "--province", OWNER]);
    assert_eq!(codes(&own), (vec![], vec![]), "{own}");
    assert_eq!(own["local"]["documents"][0]["code"], first.as_str(), "{own}");

    // Full text at the province, with and without diacritics.
    for query in ["Nguyễn Văn Đức", "nguyen van duc"] {
        let found = b.json("olga", &["search", "--province", query]);
        assert_eq!(codes(&found).0, vec![first.clone()], "{query}: {found}");
    }
    let none = b.json("olga", &["search", "--province", "không có từ này"]);
    assert_eq!(codes(&none), (vec![], vec![]), "{none}");

    // PostgreSQL down while A archives: publication fails saying how far behind it is, and catches
    // up once the index is back, nothing lost.
    pg.stop();
    let second = a.ingest(OWNER, "GPXD", "Giấy phép xây dựng");
    let third = a.ingest("001099054321", "HS", "Hồ sơ khác");
    let out = a.sohoa.run_as("admin", &["publish"]);
    assert!(!out.status.success(), "publication succeeded with the index down");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("events behind"), "the failure does not say the lag: {stderr}");
    pg.resume();
    a.send();
    let rows: i64 = pg.connect().query_one("SELECT count(*) FROM sohoa_documents", &[]).unwrap().get(0);
    assert_eq!(rows, 3, "every document of A is in the index once");
    let answer = b.json("olga", &["reuse", "--province", OWNER]);
    let (mut offered, refused) = codes(&answer);
    offered.sort();
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!((offered, refused), (expected, vec![]), "{answer}");
    assert!(!answer.to_string().contains(&third), "another owner's document is offered");

    // A chunk published again (a crash between the commit and the cursor), or late, writes nothing
    // over a newer row: each row is guarded by its event.
    let stale = sohoa::province::index::Row {
        origin: "a.example/sohoa".into(),
        code: second.clone(),
        office: "Phường a".into(),
        seq: 1,
        doc_type: "GPXD".into(),
        owner: Some(OWNER.into()),
        name: "cũ".into(),
        number: None,
        issuing_body: None,
        issue_date: None,
        valid_until: None,
        archived_at: chrono::Utc::now().fixed_offset(),
        status: "revoked",
        held: false,
        pages: 1,
        pdf: String::new(),
        body: None,
    };
    let index = sohoa::province::ProvinceIndex::open(&pg.conninfo()).unwrap();
    assert_eq!(index.publish(&[stale]).unwrap(), 0, "a stale row was written");
    let status: String =
        pg.connect().query_one("SELECT status FROM sohoa_documents WHERE code = $1", &[&second]).unwrap().get(0);
    assert_eq!(status, "active");

    // An office the index names but B does not pin is never offered.
    pg.connect()
        .execute(
            "INSERT INTO sohoa_documents (origin, code, office, seq, doc_type, owner, name, archived_at, status, held, pages, pdf)
             SELECT 'c.example/sohoa', code, 'Phường c', seq, doc_type, owner, name, archived_at, status, held, pages, pdf
             FROM sohoa_documents WHERE code = $1",
            &[&first],
        )
        .unwrap();
    let answer = b.json("olga", &["reuse", "--province", OWNER]);
    let refused = codes(&answer).1;
    assert_eq!(refused.len(), 1, "{answer}");
    assert!(refused[0].1.contains("not pinned"), "{answer}");

    // A forged evidence object in A's bucket, newer than A's own (the record renamed): refused at B
    // with the reason, while the other document is still offered.
    let client = weed.client();
    let prefix = format!("documents/{second}/");
    let listed = weed.runtime.block_on(client.list_objects_v2().bucket("office-a").prefix(&prefix).send()).unwrap();
    let latest = listed.contents().iter().filter_map(|o| o.key()).max().unwrap().to_owned();
    let seq: u64 = latest[prefix.len()..prefix.len() + 20].parse().unwrap();
    let body = weed.runtime.block_on(client.get_object().bucket("office-a").key(&latest).send()).unwrap().body;
    let bytes = weed.runtime.block_on(body.collect()).unwrap().into_bytes();
    let mut evidence: Value = serde_json::from_slice(&bytes).unwrap();
    evidence["record"]["metadata"]["name"] = "Giấy phép giả".into();
    let forged = serde_json::to_vec(&evidence).unwrap();
    let key = format!("{prefix}{:020}-{}.json", seq + 1, domain::BlobHash::of(&forged));
    let put = client.put_object().bucket("office-a").key(&key).body(ByteStream::from(forged));
    weed.runtime.block_on(put.send()).unwrap();
    let answer = b.json("olga", &["reuse", "--province", OWNER]);
    let (offered, refused) = codes(&answer);
    assert_eq!(offered, vec![first.clone()], "{answer}");
    let reason = &refused.iter().find(|(code, _)| *code == second).expect("the forged one is refused").1;
    assert!(reason.contains("does not cover this record"), "{reason}");

    // The same over HTTP at B: the API route, and the officer's screen, which shows the offer with
    // A's office and the mark that it verified, and the forged one with its reason.
    let config = b.sohoa.dir.path().join("sohoa.toml");
    let server = Server::start(&b.sohoa, &config, &b.sohoa.dir.path().join("serve.log"));
    let jar = b.sohoa.dir.path().join("cookies");
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "-b", jar.to_str().unwrap(), "-c", jar.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let login = serde_json::json!({ "username": "olga", "password": PASSWORD }).to_string();
    let login: Value = serde_json::from_str(&curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        &login,
        &format!("{}/api/login", server.url),
    ]))
    .unwrap();
    let bearer = format!("Authorization: Bearer {}", login["token"].as_str().unwrap());
    let api: Value =
        serde_json::from_str(&curl(&["-H", &bearer, &format!("{}/api/province/reuse?owner={OWNER}", server.url)]))
            .unwrap();
    assert_eq!(codes(&api).0, vec![first.clone()], "{api}");
    curl(&[
        "--data-urlencode",
        "username=olga",
        "--data-urlencode",
        &format!("password={PASSWORD}"),
        &format!("{}/login", server.url),
    ]);
    let screen = curl(&["-H", "Accept-Language: vi", &format!("{}/reuse?owner={OWNER}", server.url)]);
    let offered = screen.split("province-offer").nth(1).unwrap_or_else(|| panic!("no offer on the screen: {screen}"));
    assert!(offered.contains("Phường a") && offered.contains("Đã xác minh") && offered.contains(&first), "{offered}");
    let refused = screen.split("province-refused").skip(1).collect::<String>();
    assert!(refused.contains(&second) && refused.contains("does not cover this record"), "{refused}");
    let screen = curl(&["-H", "Accept-Language: vi", &format!("{}/search?q=nguyen+van+duc", server.url)]);
    let offered =
        screen.split("province-offer").nth(1).unwrap_or_else(|| panic!("no offer on the search screen: {screen}"));
    assert!(offered.contains("Phường a") && offered.contains(&first), "{offered}");
    server.stop();

    // Revoked at A: once published, B no longer offers it.
    a.sohoa.ok_as("alice", &["revoke", &first, "--reason", "cấp sai"]);
    a.send();
    let answer = b.json("olga", &["reuse", "--province", OWNER]);
    assert!(!codes(&answer).0.contains(&first), "a revoked document is offered: {answer}");

    // `sohoa serve` publishes in the background: a document archived while PostgreSQL is down waits,
    // /metrics says so, and it is published once the index is back.
    let token = a.sohoa.ok_as("admin", &["--json", "tokens", "issue", "prometheus", "--purpose", "monitor"]);
    let token = serde_json::from_str::<Value>(&token).unwrap()["token"].as_str().unwrap().to_owned();
    pg.stop();
    let fourth = a.ingest(OWNER, "KS", "Giấy kết hôn");
    let config = a.sohoa.dir.path().join("sohoa.toml");
    let server = Server::start(&a.sohoa, &config, &a.sohoa.dir.path().join("serve.log"));
    assert!(wait_for_metric(&server, &token, "sohoa_publication_events_behind", |v| v > 0.0) >= 1.0);
    pg.resume();
    wait_for_metric(&server, &token, "sohoa_publication_events_behind", |v| v == 0.0);
    let published: i64 =
        pg.connect().query_one("SELECT count(*) FROM sohoa_documents WHERE code = $1", &[&fourth]).unwrap().get(0);
    assert_eq!(published, 1, "the document archived while the index was down is not published");
    server.stop();
}
