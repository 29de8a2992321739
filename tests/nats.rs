//! A real NATS JetStream cluster for the offload tests: three `nats-server` processes (Debian's
//! `nats-server`) on free loopback ports, routed to each other, each with JetStream and its store in
//! a temporary directory, `max_payload` raised to 8 MB as DEPLOYMENT.md says; killed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs the server.
const NATS_SERVER: &str = "/usr/sbin/nats-server";
/// How long the cluster may take to elect its JetStream leader.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// A running three-server cluster.
pub struct Nats {
    dir: tempfile::TempDir,
    children: Vec<Child>,
    /// Each server's client port.
    pub ports: Vec<u16>,
}

impl Nats {
    /// Starts the three servers and waits until every one says JetStream is healthy (which needs the
    /// cluster's meta leader).
    pub fn start() -> Nats {
        assert!(Path::new(NATS_SERVER).is_file(), "{NATS_SERVER} is missing: apt-get install nats-server");
        let dir = tempfile::tempdir().unwrap();
        // Held all at once while chosen, so that no two are the same.
        let listeners: Vec<TcpListener> = (0..9).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let p: Vec<u16> = listeners.iter().map(|l| l.local_addr().unwrap().port()).collect();
        drop(listeners);
        let (clients, routes, monitors) = (&p[0..3], &p[3..6], &p[6..9]);
        let route_urls: Vec<String> = routes.iter().map(|r| format!("\"nats-route://127.0.0.1:{r}\"")).collect();
        let mut children = Vec::new();
        for i in 0..3 {
            let store = dir.path().join(format!("store-{i}"));
            let config = format!(
                "server_name: n{i}\nlisten: 127.0.0.1:{}\nhttp: 127.0.0.1:{}\nmax_payload: 8MB\n\
                 jetstream {{ store_dir: \"{}\" }}\n\
                 cluster {{ name: sohoa, listen: 127.0.0.1:{}, routes: [{}] }}\n",
                clients[i],
                monitors[i],
                store.display(),
                routes[i],
                route_urls.join(", ")
            );
            let path = dir.path().join(format!("n{i}.conf"));
            std::fs::write(&path, config).unwrap();
            let log = std::fs::File::create(dir.path().join(format!("n{i}.log"))).unwrap();
            children.push(
                Command::new(NATS_SERVER)
                    .arg("-c")
                    .arg(&path)
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .expect("nats-server starts"),
            );
        }
        let nats = Nats { dir, children, ports: clients.to_vec() };
        let started = Instant::now();
        for &monitor in monitors {
            loop {
                let health = http_get(monitor, "/healthz");
                if health.as_deref().is_some_and(|h| h.starts_with("HTTP/1.1 200") && h.contains("\"ok\"")) {
                    break;
                }
                assert!(
                    started.elapsed() < READY_WITHIN,
                    "the cluster has no JetStream leader after {READY_WITHIN:?}: {health:?}\n{}",
                    nats.log()
                );
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        nats
    }

    /// The servers' URLs, as the appliance's `[offload] servers` and `sohoa worker --nats` take them.
    pub fn urls(&self) -> Vec<String> {
        self.ports.iter().map(|p| format!("nats://127.0.0.1:{p}")).collect()
    }

    /// The `[offload]` section of an appliance using this cluster.
    pub fn offload_config(&self, when_pages_waiting: usize, result_seconds: u64) -> String {
        let servers: Vec<String> = self.urls().iter().map(|u| format!("\"{u}\"")).collect();
        format!(
            "[offload]\nservers = [{}]\nreplicas = 3\nwhen_pages_waiting = {when_pages_waiting}\n\
             result_seconds = {result_seconds}\n",
            servers.join(", ")
        )
    }

    /// The servers' logs, for a failure's message.
    pub fn log(&self) -> String {
        (0..3)
            .map(|i| std::fs::read_to_string(self.dir.path().join(format!("n{i}.log"))).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A GET on loopback, the whole answer with its status line; `None` if the server does not answer.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}
