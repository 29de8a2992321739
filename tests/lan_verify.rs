//! Issue 17, holes 5 and 7 and the QR link of hole 8, attacked through the HTTP application in process
//! (`app` with `oneshot`, client addresses given as the server's `ConnectInfo`): the public page as a
//! personal-data oracle (codes begin with a personal ID), its rate and its audit cost; request bodies
//! far larger than their route takes; uploads beyond the bound; the verification link printed on a copy.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sohoa::config::{Config, HttpConfig};
use sohoa::server::app;
use sohoa::{Appliance, IngestRequest};
use tower::ServiceExt;

use crate::api::{Api, add_role_users};
use crate::util::{corpus, draft, qr_text};

const BOUNDARY: &str = "sohoa-lan-verify";

/// An appliance with users of every role (those of [`Api::new`]), served in process.
struct Lan {
    api: Api,
    dir: tempfile::TempDir,
}

/// A document archived by the appliance, as its holder knows it: the code and the token read from
/// the QR code of the signed copy, and the signed file.
struct Archived {
    code: String,
    token: String,
    qr: String,
    pdf: Vec<u8>,
}

impl Archived {
    fn pdf_hash(&self) -> String {
        blake3::hash(&self.pdf).to_hex().to_string()
    }
}

/// The answer to a request: status, `Retry-After`, body.
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Lan {
    fn new(http: HttpConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let appliance = Appliance::open_with(&dir.path().join("var"), &Config { http, ..Config::default() }).unwrap();
        add_role_users(&appliance);
        Lan { api: Api::with(appliance), dir }
    }

    /// Sends a request as if from `client`.
    async fn send_from(&self, client: &str, mut request: Request<Body>) -> Answer {
        let peer = SocketAddr::new(client.parse().unwrap(), 40000);
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = app(self.api.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let retry_after = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        Answer { status, retry_after, body: response.into_body().collect().await.unwrap().to_bytes().to_vec() }
    }

    /// The public page for a code and token, from `client`.
    async fn public(&self, client: &str, query: &str) -> Answer {
        self.send_from(client, Request::get(format!("/verify?{query}")).body(Body::empty()).unwrap()).await
    }

    /// Archives one page as a document of the test citizen and reads its copy's QR code back.
    fn archive_copy(&self) -> Archived {
        let appliance = &self.api.state.appliance;
        let page = std::fs::read(corpus("clean300-002.png")).unwrap();
        let request = IngestRequest {
            metadata: draft("operator"),
            pages: vec![("p1.png".into(), page)],
            actor: "operator".into(),
            source: None,
        };
        let code = appliance.ingest(request, &mut |_| {}).unwrap().code;
        let pdf = appliance.pdf(&code.parse().unwrap(), "operator").unwrap();
        let path = self.dir.path().join(format!("{code}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let qr = qr_text(&path);
        let link = qr.lines().last().unwrap().trim().to_owned();
        let token = link
            .split_once("&t=")
            .map(|(_, t)| t.to_owned())
            .unwrap_or_else(|| panic!("no token in the QR link {link:?}"));
        Archived { code, token, qr, pdf }
    }

    fn audit_len(&self) -> usize {
        self.api.state.appliance.archive().audit_trail(None).unwrap().len()
    }

    /// The files left in the upload directory.
    fn spooled_files(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("var/tmp/uploads")).map(|d| d.count()).unwrap_or(0)
    }
}

/// A configuration whose public rate never gets in the way.
fn generous() -> HttpConfig {
    HttpConfig { public_burst: 10_000, public_per_minute: 10_000, ..HttpConfig::default() }
}

/// A multipart body with one file part.
fn file_form(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"copy.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").into_bytes();
    body.extend_from_slice(bytes);
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").bytes());
    body
}

fn multipart_request(uri: &str, bearer: Option<&str>, body: Body) -> Request<Body> {
    let mut request =
        Request::post(uri).header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"));
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(body).unwrap()
}

#[tokio::test]
async fn hole05_public_page_answers_code_and_token_only_and_the_same_for_all_else() {
    let lan = Lan::new(generous());
    let copy = lan.archive_copy();
    let name = "Hồ sơ";

    // The holder of the paper: code and token from the QR code.
    let right = lan.public("10.0.0.2", &format!("code={}&t={}", copy.code, copy.token)).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text());
    assert!(right.text().contains("class=\"ok\">HỢP LỆ<") && right.text().contains(name), "{}", right.text());
    assert!(!right.text().contains(&copy.pdf_hash()), "the public page shows no hashes");

    // A wrong token, the code alone (an old copy's QR), an unknown code with the right token, a
    // malformed token or code: one and the same answer, byte for byte.
    let wrong = format!("{:032x}", u128::from_str_radix(&copy.token, 16).unwrap() ^ 1);
    let unknown = lan.public("10.0.0.2", &format!("code=001099012345.GPXD.42&t={}", copy.token)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for query in [
        format!("code={}&t={wrong}", copy.code),
        format!("code={}", copy.code),
        format!("code={}&t=", copy.code),
        format!("code={}&t=xyz", copy.code),
        format!("code=001099012345&t={}", copy.token),
        format!("t={}", copy.token),
    ] {
        let answer = lan.public("10.0.0.2", &query).await;
        assert_eq!((answer.status, &answer.body), (unknown.status, &unknown.body), "{query}: {}", answer.text());
    }
    assert!(!unknown.text().contains(name) && !unknown.text().contains(&copy.code));

    // Enumerating the citizen's documents of every type with the one token known, or any other,
    // finds nothing but the one document the token belongs to.
    for doc_type in ["HS", "GPXD", "KQ01"] {
        for n in 1..=99 {
            let code = format!("001099012345.{doc_type}.{n:02}");
            for token in [copy.token.as_str(), wrong.as_str()] {
                let answer = lan.public("10.0.0.3", &format!("code={code}&t={token}")).await;
                if code == copy.code && token == copy.token {
                    assert_eq!(answer.status, StatusCode::OK);
                } else {
                    assert_eq!((answer.status, &answer.body), (unknown.status, &unknown.body), "{code} with {token}");
                }
            }
        }
    }

    // The holder of the signed file may upload it instead. A copy changed after signing still carries
    // its verification link (code and token, as its QR code): it is named, and said to be altered. A
    // file that names the document's code, or its code with a wrong token, finds nothing.
    let upload = |bytes: &[u8]| multipart_request("/verify", None, Body::from(file_form("file", bytes)));
    let answer = lan.send_from("10.0.0.4", upload(&copy.pdf)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.text().contains("class=\"ok\">HỢP LỆ<") && answer.text().contains(name), "{}", answer.text());
    let mut altered = copy.pdf.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 1;
    let answer = lan.send_from("10.0.0.4", upload(&altered)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.text().contains("class=\"bad\">ĐÃ BỊ SỬA ĐỔI<") && answer.text().contains(name),
        "{}",
        answer.text()
    );
    let forged = format!("%PDF-1.7\n<< /{} ({}) >>\n", capture::DOCUMENT_CODE_KEY, copy.code).into_bytes();
    let wrong_link = format!("%PDF-1.7\n<< /S /URI /URI (/verify?code={}&t={wrong}) >>\n", copy.code).into_bytes();
    for file in [forged, wrong_link] {
        let answer = lan.send_from("10.0.0.4", upload(&file)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert!(!answer.text().contains(name) && !answer.text().contains(&copy.code), "{}", answer.text());
    }
}

#[tokio::test]
async fn hole05_a_burst_from_one_address_gets_429_while_another_is_served() {
    // One request a minute after a burst of three: the fourth request of a burst is refused however
    // slowly the test runs.
    let lan = Lan::new(HttpConfig { public_burst: 3, public_per_minute: 1, ..HttpConfig::default() });
    let query = "code=001099012345.GPXD.01&t=00112233445566778899aabbccddeeff";
    for _ in 0..3 {
        assert_eq!(lan.public("192.0.2.7", query).await.status, StatusCode::NOT_FOUND);
    }
    let refused = lan.public("192.0.2.7", query).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.text());
    let wait: u64 = refused.retry_after.as_deref().expect("a Retry-After header").parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    // Uploads by the same address count against the same bucket.
    let upload = multipart_request("/verify", None, Body::from(file_form("file", b"%PDF-1.7")));
    assert_eq!(lan.send_from("192.0.2.7", upload).await.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address, and another IPv6 network, are still served.
    assert_eq!(lan.public("192.0.2.8", query).await.status, StatusCode::NOT_FOUND);
    assert_eq!(lan.public("2001:db8:1:2::5", query).await.status, StatusCode::NOT_FOUND);
    // The form itself, which verifies nothing, is never refused.
    assert_eq!(lan.public("192.0.2.7", "lang=en").await.status, StatusCode::OK);
}

#[tokio::test]
async fn hole05_anonymous_verifications_are_counted_not_audited_one_by_one() {
    let lan = Lan::new(generous());
    let copy = lan.archive_copy();
    let before = lan.audit_len();
    for i in 0..25 {
        let token = if i % 5 == 0 { copy.token.clone() } else { format!("{i:032x}") };
        lan.public(&format!("10.1.0.{i}"), &format!("code={}&t={token}", copy.code)).await;
    }
    assert_eq!(lan.audit_len(), before, "no audit entry per anonymous verification");

    // One entry counts them all.
    let detail = lan.api.state.public.audit_counts(&lan.api.state.appliance).unwrap().expect("an entry for the counts");
    assert!(detail.starts_with("25 anonymous verifications answered (5 named a document)"), "{detail}");
    let trail = lan.api.state.appliance.archive().audit_trail(None).unwrap();
    assert_eq!(trail.len(), before + 1);
    assert_eq!(
        (trail.last().unwrap().actor.as_str(), trail.last().unwrap().action.as_str()),
        ("public", "public-verify")
    );
    assert!(lan.api.state.public.audit_counts(&lan.api.state.appliance).unwrap().is_none(), "nothing new to count");

    // A logged-in verification by code is still audited, by name.
    let auditor = lan.api.login("auditor").await;
    let request = Request::get(format!("/api/verify/{}", copy.code))
        .header(header::AUTHORIZATION, format!("Bearer {auditor}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(lan.send_from("10.0.0.9", request).await.status, StatusCode::OK);
    let trail = lan.api.state.appliance.archive().audit_trail(Some(&copy.code)).unwrap();
    assert_eq!((trail.last().unwrap().actor.as_str(), trail.last().unwrap().action.as_str()), ("auditor", "verify"));
}

/// A request body of `total` bytes made on demand (a multipart file part of `0` bytes after `head`),
/// counting how much of it the server pulled; it never holds more than one chunk.
struct Endless {
    head: Option<Bytes>,
    left: u64,
    pulled: Arc<AtomicU64>,
}

const CHUNK: usize = 64 << 10;

impl HttpBody for Endless {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let chunk = match self.head.take() {
            Some(head) => head,
            None if self.left == 0 => return Poll::Ready(None),
            None => {
                let n = self.left.min(CHUNK as u64);
                self.left -= n;
                Bytes::from(vec![b'0'; n as usize])
            }
        };
        self.pulled.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
    }
}

/// A 1 GiB multipart upload of one part named `part`, and the count of the bytes the server pulled.
fn gigabyte(part: &str) -> (Body, Arc<AtomicU64>) {
    let pulled = Arc::new(AtomicU64::new(0));
    let head = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"big.pdf\"\r\n\r\n");
    (Body::new(Endless { head: Some(Bytes::from(head)), left: 1 << 30, pulled: pulled.clone() }), pulled)
}

#[tokio::test]
async fn hole07_oversized_bodies_are_refused_with_413_without_being_buffered() {
    let (verify_limit, ingest_limit) = (256u64 << 10, 1u64 << 20);
    let lan = Lan::new(HttpConfig { max_verify_bytes: verify_limit, max_ingest_bytes: ingest_limit, ..generous() });
    let (operator, auditor) = (lan.api.login("operator").await, lan.api.login("auditor").await);

    for (uri, bearer, part, limit) in [
        ("/api/verify", Some(auditor.as_str()), "file", verify_limit),
        ("/verify", None, "file", verify_limit),
        ("/api/documents", Some(operator.as_str()), "page", ingest_limit),
    ] {
        // Declared: refused before one byte of the body is read.
        let (body, pulled) = gigabyte(part);
        let mut request = multipart_request(uri, bearer, body);
        request.headers_mut().insert(header::CONTENT_LENGTH, (1u64 << 30).into());
        let answer = lan.send_from("10.2.0.1", request).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{uri}: {}", answer.text());
        assert!(answer.text().contains(&format!("at most {limit} bytes")), "{uri}: {}", answer.text());
        assert_eq!(pulled.load(Ordering::SeqCst), 0, "{uri}: the declared length alone is refused");

        // Not declared: streamed up to the limit and cut off there, nothing of it kept.
        let (body, pulled) = gigabyte(part);
        let answer = lan.send_from("10.2.0.1", multipart_request(uri, bearer, body)).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{uri}: {}", answer.text());
        assert!(answer.text().contains(&format!("at most {limit} bytes")), "{uri}: {}", answer.text());
        let read = pulled.load(Ordering::SeqCst);
        assert!(read <= limit + 2 * CHUNK as u64, "{uri}: {read} bytes read for a limit of {limit}");
        assert_eq!(lan.spooled_files(), 0, "{uri}: the partial upload was removed");
    }
    assert_eq!(lan.api.state.appliance.archive().document_count().unwrap(), 0);

    // A login (JSON) is a few KiB at most.
    let huge = serde_json::json!({ "username": "a".repeat(1 << 20), "password": "x" }).to_string();
    let request = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, huge.len())
        .body(Body::from(huge))
        .unwrap();
    let answer = lan.send_from("10.2.0.1", request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", answer.text());
    assert!(answer.text().contains("at most 16384 bytes"), "{}", answer.text());
    // A metadata field is bounded on its own, within an ingest that fits its limit.
    let field = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{}\r\n--{BOUNDARY}--\r\n",
        "x".repeat(512 << 10)
    );
    let answer =
        lan.send_from("10.2.0.1", multipart_request("/api/documents", Some(&operator), Body::from(field))).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", answer.text());
    assert!(answer.text().contains("form field \\\"name\\\""), "{}", answer.text());
}

/// A body that sends `head` and then waits forever, saying when it was first read.
struct Stalled {
    head: Option<Bytes>,
    started: Option<tokio::sync::oneshot::Sender<()>>,
}

impl HttpBody for Stalled {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Some(started) = self.started.take() {
            let _ = started.send(());
        }
        match self.head.take() {
            Some(head) => Poll::Ready(Some(Ok(http_body::Frame::data(head)))),
            None => Poll::Pending,
        }
    }
}

#[tokio::test]
async fn hole07_uploads_beyond_the_bound_get_503_with_retry_after() {
    let lan = Lan::new(HttpConfig { max_concurrent_uploads: 1, ..generous() });
    let auditor = lan.api.login("auditor").await;
    let (started, reading) = tokio::sync::oneshot::channel();
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.pdf\"\r\n\r\n%PDF-1.7\n"
    );
    let slow = multipart_request(
        "/api/verify",
        Some(&auditor),
        Body::new(Stalled { head: Some(Bytes::from(head)), started: Some(started) }),
    );
    let first = tokio::spawn(app(lan.api.state.clone()).oneshot(slow));
    reading.await.expect("the first upload is being read");

    let second = multipart_request("/api/verify", Some(&auditor), Body::from(file_form("file", b"%PDF-1.7")));
    let answer = lan.send_from("10.3.0.1", second).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.text());
    assert!(answer.retry_after.is_some(), "503 says when to come back");
    assert!(answer.text().contains("1 uploads are being received"), "{}", answer.text());

    // Anonymous uploads have slots of their own: they cannot take the operators' slots, nor the
    // operators theirs.
    let public = multipart_request("/verify", None, Body::from(file_form("file", b"%PDF-1.7")));
    assert_eq!(lan.send_from("10.3.0.2", public).await.status, StatusCode::NOT_FOUND);

    // The slot comes back when the stalled upload ends.
    first.abort();
    let _ = first.await;
    let again = multipart_request("/api/verify", Some(&auditor), Body::from(file_form("file", b"%PDF-1.7")));
    assert_eq!(lan.send_from("10.3.0.1", again).await.status, StatusCode::OK);
    assert_eq!(lan.spooled_files(), 0);
}

#[tokio::test]
async fn hole08_the_qr_code_carries_the_token_and_no_loopback_url() {
    let lan = Lan::new(generous());
    let copy = lan.archive_copy();
    // Without `[agency] public_url` the link is the path alone: no made-up host on the paper.
    let link = copy.qr.lines().last().unwrap().trim();
    assert_eq!(link, format!("/verify?code={}&t={}", copy.code, copy.token), "{}", copy.qr);
    assert_eq!(copy.token.len(), 32, "128 random bits");
    assert!(!copy.qr.contains("127.0.0.1") && !copy.qr.contains("localhost"), "{}", copy.qr);
    // The link works as printed.
    assert_eq!(lan.public("10.4.0.1", link.trim_start_matches("/verify?")).await.status, StatusCode::OK);

    // A configured address is printed in front of the path; a loopback one is refused at load.
    let dir = tempfile::tempdir().unwrap();
    let write = |url: &str| {
        let path = dir.path().join("sohoa.toml");
        std::fs::write(&path, format!("[agency]\nname = \"UBND\"\nlocation = \"Một cửa\"\npublic_url = \"{url}\"\n"))
            .unwrap();
        Config::load(Some(&path))
    };
    for bad in [
        "http://127.0.0.1:8080",
        "http://localhost/",
        "https://[::1]:8443",
        "http://0.0.0.0",
        "motcua.example.vn",
        "https://motcua.example.vn/?a=1",
    ] {
        let e = write(bad).map(|_| ()).unwrap_err();
        assert!(format!("{e:#}").contains("public_url"), "{bad}: {e:#}");
    }
    let config = write("https://motcua.example.gov.vn/").unwrap();
    let appliance = Appliance::open_with(&dir.path().join("var"), &config).unwrap();
    let code = copy.code.parse().unwrap();
    let token = copy.token.parse().unwrap();
    assert_eq!(
        appliance.signing().verification_link(&code, &token),
        format!("https://motcua.example.gov.vn/verify?code={}&t={}", copy.code, copy.token)
    );
}
