//! One operations layer under every front end: each archive operation is run once through the command
//! line (`sohoa --json`, a process per command) on one fresh appliance and once through HTTP on another,
//! and both must give the same result and write the same audit entries (action, target and detail,
//! which says the outcome). Times, hashes, signatures and the appliances' own paths differ between two
//! appliances by nature and are masked; everything else must match. The OpenAPI document names every
//! route the server declares.

use std::path::Path;

use axum::http::StatusCode;
use serde_json::{Value, json};
use sohoa::Appliance;
use sohoa::config::Config;
use sohoa::input::MetadataFields;
use sohoa::users::{Role, set_user};

use crate::api::{Api, PASSWORD, get, post_json};
use crate::util::{Sohoa, copy_tree, corpus, ingest_page};

/// The users of both appliances: name and role.
const USERS: &[(&str, &str)] =
    &[("admin", "admin"), ("alice", "archivist"), ("bob", "archivist"), ("olga", "officer"), ("aud", "auditor")];

/// One operation: who runs it, its command line and its HTTP request (method, path, JSON body), and
/// whether the user's role may run it.
struct Step {
    user: &'static str,
    cli: Vec<String>,
    method: &'static str,
    path: String,
    body: Value,
    allowed: bool,
}

fn step(user: &'static str, cli: &[&str], method: &'static str, path: &str, body: Value) -> Step {
    Step { user, cli: cli.iter().map(|s| s.to_string()).collect(), method, path: path.to_owned(), body, allowed: true }
}

/// A step the user's role may not run: both front ends must refuse it and record nothing.
fn refused(user: &'static str, cli: &[&str], method: &'static str, path: &str, body: Value) -> Step {
    Step { allowed: false, ..step(user, cli, method, path, body) }
}

/// Keys whose values differ between two appliances by nature and are not masked by their content:
/// signatures (base64 in a signed note), texts with times inside, sizes of signed files, and the
/// positions and lengths of trails that differ because the command line logs in once per command
/// and HTTP once per session. Hashes, key ids, byte arrays and times are masked wherever they are.
const VOLATILE: &[&str] = &["signature", "note", "text", "bytes", "audit_entries", "seq", "audit_seq"];

/// The value with what differs between appliances masked, and this appliance's directory named `<dir>`.
fn masked(value: &Value, dir: &Path) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if VOLATILE.contains(&k.as_str()) { json!("<volatile>") } else { masked(v, dir) };
                    (k.clone(), v)
                })
                .collect(),
        ),
        // A hash or signature serialised as bytes.
        Value::Array(items) if items.len() >= 16 && items.iter().all(Value::is_u64) => json!("<bytes>"),
        Value::Array(items) => Value::Array(items.iter().map(|v| masked(v, dir)).collect()),
        Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => json!("<time>"),
        Value::String(s) => Value::String(masked_text(s, dir)),
        other => other.clone(),
    }
}

/// A text with the appliance's directory named `<dir>`, times and hex runs of 16 digits or more
/// (hashes, key ids, tokens) masked.
fn masked_text(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "<dir>");
    let text: String = text
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            let bare = word.trim_end();
            match chrono::DateTime::parse_from_rfc3339(bare) {
                Ok(_) => format!("<time>{}", &word[bare.len()..]),
                Err(_) => word.to_owned(),
            }
        })
        .collect();
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() >= 16 { "<hex>" } else { &run });
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// The audit entries after `seq`, as (actor, action, target, detail), without logins: the command
/// line logs in once per command, HTTP once per session.
fn entries_after(appliance: &Appliance, seq: u64, dir: &Path) -> Vec<(String, String, String, String)> {
    appliance
        .archive()
        .audit_trail(None)
        .unwrap()
        .into_iter()
        .filter(|e| e.seq > seq && e.action != "login")
        .map(|e| (e.actor, e.action, masked_text(&e.target, dir), masked_counts(&masked_text(&e.detail, dir))))
        .collect()
}

/// A fixity entry's detail with the counts that differ by nature masked: the bytes of signed PDFs and
/// the length of the trail.
fn masked_counts(detail: &str) -> String {
    let mut out = detail.to_owned();
    for unit in [" bytes", " audit entries"] {
        if let Some(end) = out.find(unit) {
            let start = out[..end].rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
            out.replace_range(start..end, "N");
        }
    }
    out
}

fn last_seq(appliance: &Appliance) -> u64 {
    appliance.archive().audit_trail(None).unwrap().last().map_or(0, |e| e.seq)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_archive_operation_gives_the_same_result_and_audit_through_the_cli_and_http() {
    let cli = Sohoa::new();
    cli.add_users(USERS);
    let page = corpus("clean300-001.png");
    let page = page.to_str().unwrap();
    // A bag from a third appliance, for both to import: its seal key is pinned by id on each side.
    let third_dir = tempfile::tempdir().unwrap();
    let third = Appliance::open(third_dir.path()).unwrap();
    let fields = MetadataFields {
        owner: Some("001099077777".into()),
        doc_type: "QD".into(),
        name: "Quyết định của huyện".into(),
        ..Default::default()
    };
    let foreign = ingest_page(&third, &fields, "admin");
    let third_bag = third_dir.path().join("bag");
    third.export(&foreign, &third_bag, "admin", &mut |_, _| {}).unwrap();
    let third_key = third.keys().current_id().to_string();
    drop(third);
    // Its PDF signature chains to its own development CA, which both importers are configured to trust.
    let config = third_dir.path().join("sohoa.toml");
    let anchor = third_dir.path().join("keys/x509/development-root.pem");
    std::fs::write(&config, format!("[signature]\ntrust_anchors = [{:?}]\n", anchor.to_str().unwrap())).unwrap();

    let http_dir = tempfile::tempdir().unwrap();
    let appliance = Appliance::open_with(http_dir.path(), &Config::load(Some(&config)).unwrap()).unwrap();
    for (name, role) in USERS {
        set_user(appliance.archive(), name, role.parse::<Role>().unwrap(), PASSWORD).unwrap();
    }
    let api = Api::with(appliance);
    let mut tokens = std::collections::HashMap::new();
    for (name, _) in USERS {
        tokens.insert(*name, api.login_as(name, PASSWORD).await);
    }

    // The same two documents in both, so that both allocate the same codes.
    let mut codes = Vec::new();
    for owner in ["001099012345", "001099054321"] {
        let args = ["ingest", "--owner", owner, "--type", "QD", "--name", "Quyết định", "--issued", "2001-02-03"];
        let code = cli.ok_as("admin", &[&args[..], &[page]].concat()).trim().to_owned();
        let fields = MetadataFields {
            owner: Some(owner.into()),
            doc_type: "QD".into(),
            name: "Quyết định".into(),
            issued: Some("2001-02-03".into()),
            ..Default::default()
        };
        assert_eq!(ingest_page(&api.state.appliance, &fields, "admin"), code, "both appliances allocate the same code");
        codes.push(code);
    }
    let (kept, doomed) = (codes[0].as_str(), codes[1].as_str());
    let cli_transfer = cli.dir.path().join("transfer");
    std::fs::create_dir_all(&cli_transfer).unwrap();
    let out = |name: &str| cli_transfer.join(name).display().to_string();
    let (backup_dir, bag_dir) = (out("backup-1"), out("bag-1"));
    let http_transfer = http_dir.path().join("transfer");

    copy_tree(&third_bag, &cli_transfer.join("incoming"));
    copy_tree(&third_bag, &http_transfer.join("incoming"));
    let incoming = out("incoming");

    let steps = vec![
        step(
            "alice",
            &["hold", "--owner", "001099012345", "--reason", "vụ án 12/2026"],
            "POST",
            "/api/holds",
            json!({ "owner": "001099012345", "reason": "vụ án 12/2026" }),
        ),
        step("alice", &["holds"], "GET", "/api/holds", Value::Null),
        step("alice", &["release", "1"], "POST", "/api/holds/1/release", Value::Null),
        step(
            "olga",
            &["revoke", kept, "--reason", "cấp sai đối tượng"],
            "POST",
            &format!("/api/documents/{kept}/revoke"),
            json!({ "reason": "cấp sai đối tượng" }),
        ),
        step("alice", &["retention", "classes"], "GET", "/api/retention", Value::Null),
        step(
            "alice",
            &["retention", "set", doomed, "20y", "--reason", "danh mục 2026"],
            "POST",
            &format!("/api/documents/{doomed}/retention"),
            json!({ "class": "20y", "reason": "danh mục 2026" }),
        ),
        step(
            "alice",
            &["dispose", "mark", "--today", "2021-02-04"],
            "POST",
            "/api/disposition/mark",
            json!({ "day": "2021-02-04" }),
        ),
        step("alice", &["dispose", "list"], "GET", "/api/disposition", Value::Null),
        step(
            "alice",
            &["dispose", "review", doomed, "--approve"],
            "POST",
            &format!("/api/documents/{doomed}/review"),
            json!({ "approve": true }),
        ),
        step(
            "alice",
            &["dispose", "request", doomed, "--decision", "07/QĐ-HĐXĐGTTL", "--decision-date", "2026-02-01"],
            "POST",
            &format!("/api/documents/{doomed}/destruction"),
            json!({ "decision": "07/QĐ-HĐXĐGTTL", "decision_date": "2026-02-01" }),
        ),
        step(
            "bob",
            &["dispose", "confirm", doomed],
            "POST",
            &format!("/api/documents/{doomed}/destruction/confirm"),
            Value::Null,
        ),
        step("aud", &["fixity"], "POST", "/api/fixity", Value::Null),
        step("aud", &["log", "checkpoint"], "POST", "/api/log/checkpoint", Value::Null),
        step("aud", &["log", "prove", kept], "GET", &format!("/api/log/proof/{kept}"), Value::Null),
        step("aud", &["log", "consistency", "4"], "GET", "/api/log/consistency/4", Value::Null),
        step("aud", &["audit", "--target", kept], "GET", &format!("/api/audit?target={kept}"), Value::Null),
        step("admin", &["backup", &backup_dir], "POST", "/api/backup", json!({ "name": "backup-1" })),
        step(
            "alice",
            &["export", kept, "--out", &bag_dir],
            "POST",
            "/api/export",
            json!({ "code": kept, "name": "bag-1" }),
        ),
        step(
            "alice",
            &["--config", config.to_str().unwrap(), "import", &incoming, "--trust-key", &third_key],
            "POST",
            "/api/import",
            json!({ "name": "incoming", "trust_keys": [third_key] }),
        ),
        step("aud", &["keys", "export"], "GET", "/api/keys", Value::Null),
        step("admin", &["keys", "rotate"], "POST", "/api/keys/rotate", Value::Null),
        step("admin", &["reindex"], "POST", "/api/reindex", Value::Null),
        // Accounts and access tokens (bob's last act was above: disabling him ends his session).
        step(
            "admin",
            &["users", "role", "olga", "--role", "officer"],
            "POST",
            "/api/users/olga/role",
            json!({ "role": "officer" }),
        ),
        step("admin", &["users", "disable", "bob"], "POST", "/api/users/bob/disable", Value::Null),
        step("admin", &["users", "enable", "bob"], "POST", "/api/users/bob/enable", Value::Null),
        step("admin", &["users", "list"], "GET", "/api/users", Value::Null),
        step(
            "admin",
            &["tokens", "issue", "quay-1", "--purpose", "station"],
            "POST",
            "/api/tokens",
            json!({ "name": "quay-1", "purpose": "station" }),
        ),
        step("admin", &["tokens", "list"], "GET", "/api/tokens", Value::Null),
        step("admin", &["tokens", "revoke", "quay-1"], "POST", "/api/tokens/quay-1/revoke", Value::Null),
        refused("aud", &["users", "list"], "GET", "/api/users", Value::Null),
        refused("alice", &["tokens", "list"], "GET", "/api/tokens", Value::Null),
        // What a role may not do, each front end refuses alike.
        refused(
            "olga",
            &["export", kept, "--out", &out("bag-2")],
            "POST",
            "/api/export",
            json!({ "code": kept, "name": "bag-2" }),
        ),
        refused("olga", &["holds"], "GET", "/api/holds", Value::Null),
        refused("alice", &["fixity"], "POST", "/api/fixity", Value::Null),
        refused(
            "aud",
            &["revoke", kept, "--reason", "x"],
            "POST",
            &format!("/api/documents/{kept}/revoke"),
            json!({ "reason": "x" }),
        ),
        refused("alice", &["reindex"], "POST", "/api/reindex", Value::Null),
    ];

    for step in steps {
        let before_cli = last_seq(&Appliance::open(&cli.data()).unwrap());
        let output = cli
            .run_as(step.user, &[&["--json"][..], &step.cli.iter().map(String::as_str).collect::<Vec<_>>()].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.success(), step.allowed, "{:?} as {}: {stderr}", step.cli, step.user);

        let before_http = last_seq(&api.state.appliance);
        let token = &tokens[step.user];
        let request = match step.method {
            "GET" => get(&step.path, token),
            _ => post_json(&step.path, token, if step.body.is_null() { json!({}) } else { step.body.clone() }),
        };
        let (status, http_result) = api.json(request).await;
        if step.allowed {
            assert_eq!(status, StatusCode::OK, "{} {}: {http_result}", step.method, step.path);
            let cli_result: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
                panic!("{:?} printed no JSON ({e}): {}", step.cli, String::from_utf8_lossy(&output.stdout))
            });
            assert_eq!(
                masked(&cli_result, &cli_transfer),
                masked(&http_result, &http_transfer),
                "{:?} and {} {} answer differently",
                step.cli,
                step.method,
                step.path
            );
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{} {} as {}: {http_result}", step.method, step.path, step.user);
            assert!(stderr.contains("only") && stderr.contains("may"), "{:?} as {}: {stderr}", step.cli, step.user);
        }
        let cli_appliance = Appliance::open(&cli.data()).unwrap();
        let cli_entries = entries_after(&cli_appliance, before_cli, &cli_transfer);
        drop(cli_appliance);
        let http_entries = entries_after(&api.state.appliance, before_http, &http_transfer);
        // Every change and every read of evidence is audited; a checkpoint is its own signed record,
        // and a refusal changes nothing.
        let unaudited = !step.allowed || step.method == "GET" || step.path == "/api/log/checkpoint";
        assert!(!http_entries.is_empty() || unaudited, "{} {} audited nothing", step.method, step.path);
        assert_eq!(cli_entries, http_entries, "{:?} and {} {} audit differently", step.cli, step.method, step.path);
    }
}

#[tokio::test]
async fn the_openapi_document_names_every_route_the_server_declares() {
    let api = Api::new();
    let token = api.login("auditor").await;
    let (status, doc) = api.json(get("/api/openapi.json", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    let dir = crate::util::repo().join("src/server");
    let mut declared = 0;
    // The API's modules; the web UI's pages (`ui/`) are no API routes and are walked by lan_routes.
    for entry in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()) {
        let source = std::fs::read_to_string(entry).unwrap();
        for piece in source.split(".route(\"").skip(1) {
            let path = piece.split('"').next().unwrap();
            // The methods the router gives the path, as `get(`/`post(` after it on the same route.
            let methods: String = piece.split(".route(").next().unwrap().to_owned();
            let documented = paths.get(path).unwrap_or_else(|| panic!("{path} is not in /api/openapi.json"));
            for method in ["get", "post"] {
                if methods.contains(&format!("{method}(")) {
                    assert!(documented.get(method).is_some(), "{method} {path} is not in /api/openapi.json");
                }
            }
            declared += 1;
        }
    }
    assert!(declared > 30, "routes not found in {}", dir.display());
}
