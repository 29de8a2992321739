//! The load section of `make bench` (issue 17's acceptance): the real server, `sohoa serve` started as a
//! child on loopback, under 200 concurrent clients for `SOHOA_BENCH_LOAD_SECONDS` (default 60): a
//! quarter guess passwords, half are officers searching and verifying documents, a quarter verify
//! publicly, while an operator captures a batch of `SOHOA_BENCH_LOAD_PAGES` pages (default 10).
//! Every legitimate request must succeed; the server's resident memory is sampled throughout.
//!
//! The clients speak HTTP/1.1 with keep-alive over plain sockets, so that the figures are the server's
//! and not a client library's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const CLIENTS: usize = 200;
/// The addresses public verifications come from: fewer than the public page tracks (4096), and
/// enough that each stays within its default rate (a burst of 20, then 20 a minute) for the run.
const CITIZENS: u32 = 4000;
const PASSWORD: &str = "mật-khẩu-tải-thử";

/// One keep-alive connection to the server, from the machine's loopback address or from another
/// address of the loopback network (127.0.0.0/8), as another client on the LAN would come.
struct Connection {
    addr: SocketAddr,
    from: Option<std::net::Ipv4Addr>,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    fn new(addr: SocketAddr) -> Self {
        Connection { addr, from: None, stream: None }
    }

    /// A connection from `from`, an address of the loopback network.
    fn from(addr: SocketAddr, from: std::net::Ipv4Addr) -> Self {
        Connection { addr, from: Some(from), stream: None }
    }

    async fn connect(&self) -> std::io::Result<TcpStream> {
        let Some(from) = self.from else { return TcpStream::connect(self.addr).await };
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from.into(), 0))?;
        socket.connect(self.addr).await
    }

    /// Sends one request and reads the whole answer: its status and body. A connection the server
    /// closed is opened again once.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n", self.addr, body.len());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut retried = false;
        loop {
            if self.stream.is_none() {
                self.stream = Some(BufReader::new(self.connect().await?));
            }
            let stream = self.stream.as_mut().expect("connected");
            let sent = async {
                stream.get_mut().write_all(head.as_bytes()).await?;
                stream.get_mut().write_all(body).await?;
                read_response(stream).await
            };
            match sent.await {
                Ok(answer) => return Ok(answer),
                // The server may have closed an idle keep-alive connection: one fresh one is tried.
                Err(_) if !retried => {
                    retried = true;
                    self.stream = None;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// One request a client sends: its kind (for the tallies), method, path, headers and body.
type Planned = (&'static str, &'static str, String, Vec<(&'static str, String)>, Vec<u8>);
async fn read_response(stream: &mut BufReader<TcpStream>) -> std::io::Result<(u16, Vec<u8>)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("status line"))?;
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').ok_or_else(|| bad("header"))?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().map_err(|_| bad("content-length"))?,
            "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim(), 16).map_err(|_| bad("chunk size"))?;
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        stream.read_exact(&mut body).await?;
    }
    Ok((status, body))
}

/// What one kind of request did: answers by status, and latencies.
#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, u64>,
    latencies: Vec<Duration>,
}

type Tallies = Arc<Mutex<BTreeMap<&'static str, Tally>>>;

fn record(tallies: &Tallies, kind: &'static str, status: u16, latency: Duration) {
    let mut all = tallies.lock().expect("tallies");
    let tally = all.entry(kind).or_default();
    *tally.statuses.entry(status).or_default() += 1;
    tally.latencies.push(latency);
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port")
}

/// Creates a user with the load's password: the first, `admin`, as the first account is made; the
/// others logged in as that admin, whose password comes first on standard input.
fn add_user(data: &Path, name: &str, role: &str) {
    let mut command = Command::new(crate::sohoa_exe());
    command.arg("--data").arg(data);
    let input = if name == "admin" { format!("{PASSWORD}\n") } else { format!("{PASSWORD}\n{PASSWORD}\n") };
    if name != "admin" {
        command.args(["--user", "admin"]);
    }
    let mut child =
        command.args(["users", "add", name, "--role", role]).stdin(Stdio::piped()).spawn().expect("sohoa users add");
    let mut stdin = child.stdin.take().expect("piped");
    std::io::Write::write_all(&mut stdin, input.as_bytes()).expect("passwords written");
    drop(stdin);
    assert!(child.wait().expect("waited").success(), "sohoa users add {name} failed");
}

/// The server's resident memory now and at its peak, in KiB, from `/proc`.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A scanned-looking A4 page at 300 dpi: white, with dark bars where lines of text would be. Made
/// here, so that the bench reads nothing outside the checkout.
fn page(seed: u32) -> Vec<u8> {
    let (w, h) = (2480u32, 3508u32);
    let image = image::GrayImage::from_fn(w, h, |x, y| {
        let line = !(y / 60).is_multiple_of(2) && y > 300 && y < h - 300;
        let word = !(x / 90 + y / 60 + seed).is_multiple_of(7) && x > 250 && x < w - 250;
        image::Luma([if line && word && y % 60 < 30 { 20 } else { 245 }])
    });
    let mut png = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).expect("PNG encodes");
    png
}

fn multipart(boundary: &str, fields: &[(&str, &str)], pages: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    for (i, png) in pages.iter().enumerate() {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"page\"; filename=\"p{i}.png\"\r\nContent-Type: image/png\r\n\r\n").bytes());
        body.extend(png);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    body
}

async fn login(addr: SocketAddr, name: &str) -> String {
    let body = serde_json::json!({ "username": name, "password": PASSWORD }).to_string();
    let (status, answer) = Connection::new(addr)
        .send("POST", "/api/login", &[("content-type", "application/json".into())], body.as_bytes())
        .await
        .expect("login");
    assert_eq!(status, 200, "login of {name}: {}", String::from_utf8_lossy(&answer));
    serde_json::from_slice::<serde_json::Value>(&answer).expect("JSON")["token"].as_str().expect("token").to_owned()
}

async fn ingest(mut connection: Connection, token: &str, owner: &str, pages: &[Vec<u8>]) -> (u16, serde_json::Value) {
    let boundary = "sohoa-load-boundary";
    let body = multipart(boundary, &[("type", "GPXD"), ("name", "Giấy phép xây dựng"), ("owner", owner)], pages);
    let headers = [
        ("authorization", format!("Bearer {token}")),
        ("content-type", format!("multipart/form-data; boundary={boundary}")),
    ];
    let (status, answer) = connection.send("POST", "/api/documents", &headers, &body).await.expect("ingest answered");
    (status, serde_json::from_slice(&answer).unwrap_or(serde_json::Value::Null))
}

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the load section.
pub fn load_section() {
    let seconds: u64 = std::env::var("SOHOA_BENCH_LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let batch_pages: u32 = std::env::var("SOHOA_BENCH_LOAD_PAGES").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("var");
    for (name, role) in [("admin", "admin"), ("operator", "operator"), ("officer", "officer")] {
        add_user(&data, name, role);
    }
    let addr = free_port();
    let child = Command::new(crate::sohoa_exe())
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sohoa serve starts");
    let server = Server { child };
    let pid = server.child.id();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let started = Instant::now();
        while TcpStream::connect(addr).await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(120), "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (operator, officer) = (login(addr, "operator").await, login(addr, "officer").await);
        let (status, first) = ingest(Connection::new(addr), &operator, "001099012345", &[page(0)]).await;
        assert_eq!(status, 200, "the first document: {first}");
        let code = first["code"].as_str().expect("code").to_owned();
        // The public page is asked as a citizen would: with the link of the copy's QR code.
        let (status, pdf) = Connection::new(addr)
            .send("GET", &format!("/api/documents/{code}/pdf"), &[("authorization", format!("Bearer {officer}"))], &[])
            .await
            .expect("the signed copy");
        assert_eq!(status, 200, "the signed copy of {code}");
        let copy = dir.path().join("copy.pdf");
        std::fs::write(&copy, pdf).expect("copy written");
        let qr = crate::util::qr_text(&copy);
        let public_link = format!("/verify{}", qr.trim().split_once("/verify").expect("a verification link in the QR code").1);
        let (_, idle) = memory_kib(pid);
        println!("load: {CLIENTS} clients for {seconds} s against sohoa serve on {addr}, a {batch_pages}-page batch captured meanwhile");

        let tallies: Tallies = Arc::default();
        let next_citizen = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut clients = Vec::new();
        for i in 0..CLIENTS {
            let (tallies, officer, code, public_link) = (tallies.clone(), officer.clone(), code.clone(), public_link.clone());
            let next_citizen = next_citizen.clone();
            clients.push(tokio::spawn(async move {
                // Each officer works at a counter PC of their own; the guessers share one host, which
                // the server lets hold only so many connections (the rest are closed at once).
                let mut connection = match i % 4 {
                    1 | 2 => Connection::from(addr, std::net::Ipv4Addr::new(127, 2, 0, i as u8)),
                    _ => Connection::new(addr),
                };
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let (kind, method, path, headers, body): Planned = match i % 4 {
                        0 => {
                            let body = serde_json::json!({ "username": format!("guess{}", n % 50), "password": format!("wrong-{n}") }).to_string();
                            ("login failure (attack)", "POST", "/api/login".into(), vec![("content-type", "application/json".into())], body.into_bytes())
                        }
                        1 => ("search", "GET", "/api/search?q=giay%20phep".into(), vec![("authorization", format!("Bearer {officer}"))], Vec::new()),
                        2 => ("verify by code", "GET", format!("/api/verify/{code}"), vec![("authorization", format!("Bearer {officer}"))], Vec::new()),
                        _ => ("public verification page", "GET", public_link.clone(), Vec::new(), Vec::new()),
                    };
                    // Citizens verifying their copies come from many addresses, each a few times: public
                    // requests take turns among CITIZENS addresses of 127.1.0.0/16, each on a connection
                    // of its own, so that each address stays within the public page's default rate.
                    if i % 4 == 3 {
                        let turn = next_citizen.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % CITIZENS;
                        let [_, _, a, b] = turn.to_be_bytes();
                        connection = Connection::from(addr, std::net::Ipv4Addr::new(127, 1, a, b));
                    }
                    let start = Instant::now();
                    let status = connection.send(method, &path, &headers, &body).await.map_or(0, |(s, _)| s);
                    record(&tallies, kind, status, start.elapsed());
                }
            }));
        }
        let sampler = tokio::spawn(async move {
            let mut peak = 0;
            while Instant::now() < deadline {
                peak = peak.max(memory_kib(pid).0);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            peak
        });
        let pages: Vec<Vec<u8>> = (1..=batch_pages).map(page).collect();
        let batch_started = Instant::now();
        // The scan operator's own PC.
        let operator_pc = Connection::from(addr, std::net::Ipv4Addr::new(127, 3, 0, 1));
        let (status, batch) = ingest(operator_pc, &operator, "001099012346", &pages).await;
        let batch_time = batch_started.elapsed();
        for client in clients {
            client.await.expect("client");
        }
        let peak = sampler.await.expect("sampler");
        let (rss, hwm) = memory_kib(pid);
        println!("  batch of {batch_pages} pages captured under load: status {status} in {:.1} s", batch_time.as_secs_f64());
        println!("  server memory: {} MiB idle, {} MiB peak under load (sampled), {} MiB high-water mark, {} MiB after", idle / 1024, peak / 1024, hwm / 1024, rss / 1024);
        let tallies = tallies.lock().expect("tallies");
        let mut legitimate_errors = 0;
        for (kind, tally) in tallies.iter() {
            let mut latencies = tally.latencies.clone();
            latencies.sort();
            let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
            let count = latencies.len() as f64;
            println!(
                "  {kind:<26} {:>8} requests, {:>7.0}/s, p50 {:>7.2} ms, p99 {:>7.2} ms, statuses {:?}",
                latencies.len(),
                count / seconds as f64,
                at(0.5).as_secs_f64() * 1e3,
                at(0.99).as_secs_f64() * 1e3,
                tally.statuses
            );
            if !kind.contains("attack") {
                legitimate_errors += tally.statuses.iter().filter(|(s, _)| **s != 200).map(|(_, n)| n).sum::<u64>();
            }
        }
        assert_eq!(status, 200, "the batch under load failed: {batch}");
        assert_eq!(legitimate_errors, 0, "legitimate requests failed under load");
        println!("  every legitimate request succeeded; attackers were answered 401, then 429");
    });
    drop(server);
}
