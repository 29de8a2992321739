//! The dashboard (issue 20, screen 6) and the configuration in force: after a few dossiers are
//! ingested and one reuse is recorded, `sohoa --json dashboard`, `GET /api/dashboard` and the
//! `/dashboard` page show the same figures, and they are the right ones; the configuration is shown to
//! admins alone.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sohoa::Appliance;

use crate::api::Api;
use crate::util::{Sohoa, corpus};

const OWNER: &str = "001099012345";

/// Every number of a dashboard in JSON, by its place: `results.signed`, `daily.2026-11-30.pages`,
/// `operators.lan.dossiers` (an array's items are named by their day, month or operator).
fn figures(value: &serde_json::Value, prefix: &str, out: &mut BTreeMap<String, f64>) {
    use serde_json::Value;
    let key = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}.{k}") };
    match value {
        Value::Number(n) => {
            out.insert(prefix.to_owned(), n.as_f64().unwrap());
        }
        Value::Object(map) => {
            for (k, v) in map.iter().filter(|(k, _)| !(prefix.is_empty() && *k == "days")) {
                figures(v, &key(k), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                let name = ["day", "month", "operator"].iter().find_map(|k| item.get(*k).and_then(Value::as_str));
                if let Some(name) = name {
                    figures(item, &key(name), out);
                }
            }
        }
        _ => {}
    }
}

/// The figures a page carries in `data-figure`/`data-value` attributes.
fn page_figures(html: &str) -> BTreeMap<String, f64> {
    html.split("data-figure=\"")
        .skip(1)
        .filter_map(|piece| {
            let (key, rest) = piece.split_once('"')?;
            let value = rest.strip_prefix(" data-value=\"")?.split('"').next()?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_cli_the_api_and_the_page_show_the_same_dashboard() {
    let s = Sohoa::new();
    s.add_users(&[("admin", "admin"), ("minh", "officer")]);
    let today = domain::vietnam_now().date_naive();
    let dossier = |n: u32| format!("H56.14-{}-{n:04}", today.format("%y%m%d"));
    let page = corpus("clean300-002.png");
    let mut codes = Vec::new();
    for (doc_type, n) in [("GKS", 1), ("CCCD", 1), ("GPXD", 2)] {
        let args = ["ingest", "--owner", OWNER, "--type", doc_type, "--name", "Giấy tờ", "--dossier", &dossier(n)];
        codes.push(s.ok(&[&args[..], &[page.to_str().unwrap()]].concat()).trim().to_owned());
    }
    s.ok(&["reuse", "--record", &codes[0], "--dossier", &dossier(3)]);

    let cli: serde_json::Value = serde_json::from_str(&s.ok(&["--json", "dashboard"])).unwrap();
    let api = Api::with(Appliance::open(&s.data()).unwrap());
    let token = api.login("admin").await;
    let (status, json) = api.json(get("/api/dashboard", &token)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let (status, html) = api.send(get("/dashboard", &token)).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(html).unwrap();

    // The same figures everywhere (the time of counting aside: the server counted anew).
    let (mut from_cli, mut from_api) = (BTreeMap::new(), BTreeMap::new());
    figures(&cli, "", &mut from_cli);
    figures(&json, "", &mut from_api);
    assert_eq!(from_cli, from_api);
    let on_page = page_figures(&html);
    // The page shows every figure but the queue's and the durations' absent values, and nothing else.
    let shown: BTreeMap<String, f64> =
        from_api.iter().filter(|(k, _)| !k.starts_with("reuse_targets")).map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(on_page, shown, "the page's figures differ from the API's");

    // And they are right: three documents of one page each, all signed and in force, by one
    // operator in two dossiers; a third dossier reused one of them this month.
    let day = format!("daily.{today}");
    let month = format!("reuse.{}", today.format("%Y-%m"));
    // The command line's ingests are recorded under the system's user.
    assert_eq!(cli["operators"].as_array().unwrap().len(), 1, "{cli}");
    let operator = cli["operators"][0]["operator"].as_str().unwrap().to_owned();
    for (key, value) in [
        ("documents".to_owned(), 3.0),
        ("pages".to_owned(), 3.0),
        ("results.signed".to_owned(), 3.0),
        ("results.signed_percent".to_owned(), 100.0),
        (format!("{day}.documents"), 3.0),
        (format!("{month}.dossiers"), 3.0),
        (format!("{month}.with_reuse"), 1.0),
        (format!("{month}.rate_percent"), 33.3),
        (format!("operators.{operator}.dossiers"), 2.0),
        (format!("operators.{operator}.documents"), 3.0),
        ("dossier_norm".to_owned(), 164.4),
        ("scan_to_archive.documents".to_owned(), 3.0),
    ] {
        assert_eq!(from_api.get(&key), Some(&value), "{key} in {json}");
    }
    assert_eq!(cli["daily"].as_array().unwrap().len(), 30);
    assert!(html.contains("role=\"img\" aria-labelledby=\"chart-reuse-title chart-reuse-desc\""), "{html}");

    // The page's form: a cleared day is today; a period out of bounds is refused.
    let (status, week) = api.send(get("/dashboard?days=7&last_day=", &token)).await;
    let week = String::from_utf8(week).unwrap();
    assert_eq!((status, week.matches(".pages\" data-value=").count()), (StatusCode::OK, 7), "{week}");
    assert_eq!(api.send(get("/api/dashboard?days=0", &token)).await.0, StatusCode::BAD_REQUEST);

    // Reading it again costs no recount, even after another period was asked for: the counts are
    // the same, counted at the same time.
    let (_, again) = api.json(get("/api/dashboard", &token)).await;
    assert_eq!(again["counted_at"], json["counted_at"]);

    // The configuration in force: admins alone, with the development signer named.
    let (status, config) = api.json(get("/api/config", &token)).await;
    assert_eq!((status, config["signature"]["signer"].as_str()), (StatusCode::OK, Some("development")), "{config}");
    let officer = api.login("minh").await;
    assert_eq!(api.send(get("/api/config", &officer)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(api.send(get("/api/dashboard", &officer)).await.0, StatusCode::OK);
}

#[test]
fn config_show_prints_each_section_without_secrets() {
    let s = Sohoa::new();
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(
        &config,
        "[signature]\ntsa_url = \"http://stamp:SECRET-1@tsa.example.vn/?key=SECRET-2\"\n[http]\npublic_burst = 7\n",
    )
    .unwrap();
    let text = s.ok(&["--config", config.to_str().unwrap(), "config", "show"]);
    assert!(text.contains("[http]") && text.contains("public_burst = 7"), "{text}");
    assert!(text.contains("tsa_url = \"http://tsa.example.vn/\""), "{text}");
    let json = s.ok(&["--config", config.to_str().unwrap(), "--json", "config", "show"]);
    assert!(!text.contains("SECRET") && !json.contains("SECRET"), "{text}\n{json}");
}
