//! The HTTP API, driven in process through `app()` with `oneshot`: authentication and roles on every
//! route, ingest, search, download, verification, and the public verification page.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sohoa::users::{Role, set_user};

use crate::api::{Api, BOUNDARY, PASSWORD, get, multipart, post_form, post_json};
use crate::util::corpus;

#[tokio::test]
async fn every_api_route_needs_a_session_and_the_right_role() {
    let api = Api::new();
    let uris = [
        "/api/health",
        "/api/search?q=a",
        "/api/documents/001099012345.GPXD.01",
        "/api/documents/001099012345.GPXD.01/pdf",
        "/api/documents/progress/job-1",
        "/api/verify/001099012345.GPXD.01",
        "/api/keys",
        "/api/holds",
        "/api/disposition",
        "/api/audit",
        "/api/log/proof/001099012345.GPXD.01",
        "/api/log/consistency/1",
        "/api/reuse?owner=001099012345",
        "/api/reuse/report",
    ];
    for uri in uris {
        let (status, json) = api.json(Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(json["error"].as_str().unwrap().contains("log in"), "{uri}: {json}");
        let (status, _) = api.send(get(uri, "forged-token")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let bad_login = serde_json::json!({ "username": "officer", "password": "wrong password" }).to_string();
    let (status, _) = api
        .send(
            Request::post("/api/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(bad_login))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    api.state.audit_failed_logins().unwrap();
    let trail = api.state.appliance.archive().audit_trail(Some("officer")).unwrap();
    assert!(trail.iter().any(|e| e.action == "login-failed"));

    let officer = api.login("officer").await;
    let (status, json) = api.json(get("/api/health", &officer)).await;
    assert_eq!((status, json["role"].as_str()), (StatusCode::OK, Some("officer")));
    let form = multipart(&[("type", "GPXD"), ("name", "x")], &[]);
    let (status, json) = api.json(post_form("/api/documents", &officer, form)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
    let operator = api.login("operator").await;
    let (status, _) = api.send(get("/api/documents/001099012345.GPXD.01/pdf", &operator)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, json) = api.json(get("/api/documents/not-a-code", &officer)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json["error"].as_str().unwrap().contains("document code"), "{json}");
    let (status, _) = api.send(get("/api/documents/001099012345.GPXD.01", &officer)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ingest_search_download_and_verify_over_http() {
    let api = Api::new();
    let operator = api.login("operator").await;
    let page = std::fs::read(corpus("clean300-002.png")).unwrap();

    // Bad metadata is refused with the field named, before any work is done.
    let form =
        multipart(&[("type", "GPXD"), ("name", "Giấy phép"), ("owner", "12345")], &[("page", "p1.png", page.clone())]);
    let (status, json) = api.json(post_form("/api/documents", &operator, form)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json["error"].as_str().unwrap().contains("owner ID"), "{json}");

    let form = multipart(
        &[("type", "GPXD"), ("name", "Giấy phép xây dựng"), ("owner", "001099012345"), ("issued", "2024-03-01")],
        &[("page", "p1.png", page)],
    );
    let (status, json) = api.json(post_form("/api/documents?job=counter1-0001&wait=archived", &operator, form)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let code = json["code"].as_str().unwrap().to_owned();
    assert_eq!(code, "001099012345.GPXD.01");

    // The operator's screen follows the pages by the job name it chose; nobody else sees the job.
    let (status, progress) = api.json(get("/api/documents/progress/counter1-0001", &operator)).await;
    assert_eq!(status, StatusCode::OK, "{progress}");
    assert_eq!(
        (progress["finished"].as_bool(), progress["code"].as_str()),
        (Some(true), Some(code.as_str())),
        "{progress}"
    );
    assert_eq!(progress["pages"], serde_json::json!([{ "page": 1, "stage": "done", "flags": [] }]));
    set_user(api.state.appliance.archive(), "operator2", Role::Operator, PASSWORD).unwrap();
    let other = api.login("operator2").await;
    let (status, _) = api.json(get("/api/documents/progress/counter1-0001", &other)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, json) = api.json(get("/api/documents/progress/..%2Fetc", &operator)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");

    let officer = api.login("officer").await;
    let (status, json) = api.json(get("/api/search?q=cong%20dich%20vu%20cong", &officer)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["hits"][0]["code"], code.as_str(), "{json}");
    assert!(json["hits"][0]["snippet"].as_str().unwrap().contains("<b>"), "{json}");

    let (status, record) = api.json(get(&format!("/api/documents/{code}"), &officer)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(record["metadata"]["operator"], "operator");
    let (status, pdf) = api.send(get(&format!("/api/documents/{code}/pdf"), &officer)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(blake3::hash(&pdf).to_hex().as_str(), record["pdf"]["blake3"].as_str().unwrap());
    // In force: neither revoked nor held, valid without end.
    assert_eq!(
        record["lifecycle"],
        serde_json::json!({ "revoked": null, "holds": [], "valid_until": null, "expired": false }),
        "{record}"
    );
    // The page as scanned, and nothing past the last page.
    let (status, image) = api.send(get(&format!("/api/documents/{code}/pages/1"), &officer)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(blake3::hash(&image).to_hex().as_str(), record["pages"][0]["blake3"].as_str().unwrap());
    let (status, _) = api.send(get(&format!("/api/documents/{code}/pages/2"), &officer)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The evidence bundle: the record with its seals, a proof that verifies, and the keys.
    let (status, evidence) = api.json(get(&format!("/api/documents/{code}/evidence"), &officer)).await;
    assert_eq!(status, StatusCode::OK, "{evidence}");
    assert_eq!(evidence["proof_verifies"], true, "{evidence}");
    assert_eq!(evidence["record"]["seal"]["key"], record["seal"]["key"], "{evidence}");
    assert_eq!(evidence["keys"][0]["id"], record["seal"]["key"], "{evidence}");

    let (status, report) = api.json(get(&format!("/api/verify/{code}"), &officer)).await;
    assert_eq!((status, report["valid"].as_bool()), (StatusCode::OK, Some(true)), "{report}");
    // Outside verifiers get the public key that sealed it.
    let (status, keys) = api.json(get("/api/keys", &officer)).await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    assert_eq!(keys["keys"][0]["id"], keys["current"]);
    assert_eq!(keys["keys"][0]["public_key"].as_str().map(str::len), Some(64), "{keys}");
    assert!(record["seal"]["manifest"].as_str().unwrap().contains("sohoa-manifest/1"));
    assert_eq!(record["seal"]["key"], keys["current"]);
    let auditor = api.login("auditor").await;
    let form = multipart(&[], &[("file", "copy.pdf", pdf.clone())]);
    let (status, report) = api.json(post_form("/api/verify", &auditor, form)).await;
    assert_eq!((status, report["valid"].as_bool()), (StatusCode::OK, Some(true)), "{report}");
    let mut tampered = pdf.clone();
    let last = tampered.len() - 40;
    tampered[last] ^= 0x20;
    let form = multipart(&[], &[("file", "copy.pdf", tampered)]);
    let (_, report) = api.json(post_form("/api/verify", &auditor, form)).await;
    assert_eq!(report["valid"].as_bool(), Some(false), "{report}");

    // The public page needs no login and answers in Vietnamese, with an English switch: to the holder
    // of the signed file (the code and token of the QR code are tested in lan_verify).
    let form = multipart(&[], &[("file", "copy.pdf", pdf)]);
    let upload = Request::post("/verify")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(form))
        .unwrap();
    let (status, html) = api.send(upload).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(">HỢP LỆ<") && html.contains("Giấy phép xây dựng"), "{html}");
    let (_, html) = api.send(Request::get(format!("/verify?code={code}&lang=en")).body(Body::empty()).unwrap()).await;
    assert!(String::from_utf8(html).unwrap().contains("No document has this code and verification token"));

    // Every access above is in the audit trail.
    let actions: Vec<String> =
        api.state.appliance.archive().audit_trail(Some(&code)).unwrap().into_iter().map(|e| e.action).collect();
    for expected in ["ingest", "view", "download", "verify", "verify-file"] {
        assert!(actions.iter().any(|a| a == expected), "no {expected} in {actions:?}");
    }
}

#[tokio::test]
async fn archive_operations_over_http_each_for_its_roles() {
    let api = Api::new();
    let operator = api.login("operator").await;
    let page = std::fs::read(corpus("clean300-002.png")).unwrap();
    let form = multipart(
        &[("type", "GPXD"), ("name", "Giấy phép xây dựng"), ("owner", "001099012345")],
        &[("page", "p1.png", page)],
    );
    let (status, json) = api.json(post_form("/api/documents?wait=archived", &operator, form)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let code = json["code"].as_str().unwrap().to_owned();
    let (officer, archivist, auditor) =
        (api.login("officer").await, api.login("archivist").await, api.login("auditor").await);

    // Holds are the archivist's; a held document cannot be revoked.
    let hold = serde_json::json!({ "owner": "001099012345", "reason": "vụ án 12/2026" });
    let (status, _) = api.json(post_json("/api/holds", &officer, hold.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, json) =
        api.json(post_json("/api/holds", &archivist, serde_json::json!({ "owner": "12", "reason": "x" }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    let (status, json) = api.json(post_json("/api/holds", &archivist, hold)).await;
    assert_eq!((status, json["documents"][0].as_str()), (StatusCode::OK, Some(code.as_str())), "{json}");
    let revoke = serde_json::json!({ "reason": "cấp sai đối tượng" });
    let (status, json) = api.json(post_json(&format!("/api/documents/{code}/revoke"), &officer, revoke.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json["error"].as_str().unwrap().contains("held"), "{json}");
    let (status, _) = api
        .json(post_json(
            &format!("/api/holds/{}/release", json_id(&api, &auditor).await),
            &archivist,
            serde_json::json!({}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, json) = api
        .json(post_json(&format!("/api/documents/{code}/revoke"), &officer, serde_json::json!({ "why": "x" })))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json["error"].as_str().unwrap().contains("reason"), "{json}");
    let (status, json) = api.json(post_json(&format!("/api/documents/{code}/revoke"), &officer, revoke)).await;
    assert_eq!((status, json["status"].as_str()), (StatusCode::OK, Some("revoked")), "{json}");
    let (_, report) = api.json(get(&format!("/api/verify/{code}"), &officer)).await;
    assert_eq!(report["valid"].as_bool(), Some(false), "{report}");
    // Search applies each role's view: the counter no longer finds the revoked document, officers do.
    let (_, found) = api.json(get("/api/search?q=cong%20dich%20vu", &operator)).await;
    assert_eq!(found["total"].as_u64(), Some(0), "{found}");
    let (_, found) = api.json(get("/api/search?q=cong%20dich%20vu&sort=newest", &officer)).await;
    assert_eq!((found["total"].as_u64(), found["hits"][0]["status"].as_str()), (Some(1), Some("revoked")), "{found}");
    assert_eq!(found["facets"]["/status/revoked"].as_u64(), Some(1), "{found}");
    assert_eq!(found["truncated"].as_bool(), Some(false), "{found}");
    assert_eq!(api.json(get("/api/search?q=a&sort=best", &officer)).await.0, StatusCode::BAD_REQUEST);

    // Fixity, the trail and the log are the auditor's.
    let fixity = Request::post("/api/fixity")
        .header(header::AUTHORIZATION, format!("Bearer {officer}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.send(fixity).await.0, StatusCode::FORBIDDEN);
    let fixity = Request::post("/api/fixity")
        .header(header::AUTHORIZATION, format!("Bearer {auditor}"))
        .body(Body::empty())
        .unwrap();
    let (status, report) = api.json(fixity).await;
    assert_eq!((status, report["problems"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{report}");
    let (status, trail) = api.json(get(&format!("/api/audit?target={code}"), &auditor)).await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> =
        trail["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions.iter().filter(|a| ["ingest", "hold", "release", "revoke"].contains(a)).count(),
        4,
        "{actions:?}"
    );
    assert_eq!(api.json(get("/api/audit?from=yesterday", &auditor)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.json(get("/api/audit", &officer)).await.0, StatusCode::FORBIDDEN);
    let (status, proof) = api.json(get(&format!("/api/log/proof/{code}"), &auditor)).await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    assert!(proof["leaf"].as_str().unwrap().contains("kind: revoked"), "{proof}");
}

/// The id of the only hold, as the auditor lists it.
async fn json_id(api: &Api, auditor: &str) -> u64 {
    let (status, holds) = api.json(get("/api/holds", auditor)).await;
    assert_eq!(status, StatusCode::OK, "{holds}");
    holds["holds"][0]["id"].as_u64().unwrap()
}

#[tokio::test]
async fn reuse_over_http_at_the_counter() {
    let api = Api::new();
    let operator = api.login("operator").await;
    let page = std::fs::read(corpus("clean300-002.png")).unwrap();
    let form = multipart(
        &[("type", "GKS"), ("name", "Giấy khai sinh"), ("owner", "001099012345"), ("issued", "1999-05-01")],
        &[("page", "p1.png", page)],
    );
    let (status, json) = api.json(post_form("/api/documents?wait=archived", &operator, form)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let code = json["code"].as_str().unwrap().to_owned();

    let (status, found) = api.json(get("/api/reuse?owner=001099012345&valid_on=2026-01-01", &operator)).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        (found["documents"][0]["code"].as_str(), found["documents"][0]["verified"].as_bool()),
        (Some(code.as_str()), Some(true)),
        "{found}"
    );
    let (status, json) = api.json(get("/api/reuse?owner=123", &operator)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    let auditor = api.login("auditor").await;
    assert_eq!(api.json(get("/api/reuse?owner=001099012345", &auditor)).await.0, StatusCode::FORBIDDEN);

    let reuse = serde_json::json!({ "code": code, "dossier": "H56.14-261123-0007" });
    let (status, json) = api.json(post_json("/api/reuse", &operator, reuse)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let (status, report) = api.json(get("/api/reuse/report", &auditor)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["months"][0]["dossiers"].as_u64(), report["months"][0]["with_reuse"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
}

#[tokio::test]
async fn pages_are_read_before_an_ingest_with_the_flags_it_would_record_and_nothing_archived() {
    let api = Api::new();
    let operator = api.login("operator").await;
    let clean = std::fs::read(corpus("clean300-001.png")).unwrap();
    let faded = std::fs::read(corpus("faded150-001.png")).unwrap();
    let form = multipart(&[], &[("page", "clean.png", clean), ("page", "faded.png", faded)]);
    let (status, json) = api.json(post_form("/api/pages/read", &operator, form)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let pages = json["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2, "{json}");
    assert_eq!(pages[0]["flags"].as_array().unwrap().len(), 0, "{json}");
    assert!(pages[1]["flags"].to_string().contains("150 dpi is below the legal minimum"), "{json}");
    assert_eq!(api.state.appliance.archive().document_count().unwrap(), 0, "reading archives nothing");
    let officer = api.login("officer").await;
    let (status, _) = api.send(post_form("/api/pages/read", &officer, multipart(&[], &[]))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
