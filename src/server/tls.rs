//! HTTPS. Passwords, session cookies and citizens' documents must not cross the office LAN in clear, so
//! the server speaks TLS (rustls) on every address but loopback: with the certificate `[tls]` names,
//! or else with one it makes itself under `DATA/tls/` for its host name and addresses, which browsers
//! warn about until an admin installs the agency's own. Plain HTTP remains for the machine's own
//! browser on loopback, and, when `[tls] plain_http` says so, behind a proxy that terminates TLS.
//!
//! Handshakes run beside the accept loop, each bounded in time, and at most [`MAX_HANDSHAKES`] at
//! once: a client that opens a connection and sends nothing holds neither the loop nor a worker.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::TlsConfig;

/// Handshakes in progress at once; more connections wait in the kernel's backlog.
const MAX_HANDSHAKES: usize = 256;

/// The longest a client may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How the server speaks on its address.
pub enum Transport {
    /// Plain HTTP: loopback, or a configured proxy in front.
    Plain,
    /// HTTPS with this certificate.
    Tls {
        /// The server's rustls configuration.
        config: Arc<rustls::ServerConfig>,
        /// Where the certificate came from, for the start-up message.
        certificate: PathBuf,
        /// Whether the appliance made the certificate itself.
        self_made: bool,
    },
}

impl Transport {
    /// The transport for `listen` under `[tls]`: see the module's rules.
    pub fn choose(tls: &TlsConfig, listen: SocketAddr, data: &Path, agency: &str) -> anyhow::Result<Transport> {
        if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
            return Ok(Transport::Tls {
                config: server_config(cert, key)?,
                certificate: cert.clone(),
                self_made: false,
            });
        }
        if listen.ip().is_loopback() || tls.plain_http {
            return Ok(Transport::Plain);
        }
        let (cert, key) = self_made_certificate(&data.join("tls"), listen, agency)?;
        Ok(Transport::Tls { config: server_config(&cert, &key)?, certificate: cert, self_made: true })
    }

    /// The scheme of the server's URLs.
    pub fn scheme(&self) -> &'static str {
        match self {
            Transport::Plain => "http",
            Transport::Tls { .. } => "https",
        }
    }
}

/// The rustls configuration of a PEM certificate chain and its private key.
fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("[tls] cert {}: not a readable PEM certificate chain", cert.display()))?;
    if chain.is_empty() {
        bail!("[tls] cert {}: no certificate in the file", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("[tls] key {}: not a readable PEM private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .with_context(|| format!("[tls] the key does not fit the certificate {}", cert.display()))?;
    // HTTP/1.1 only: the counter PCs' browsers and the scanning stations need nothing more.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The certificate the appliance makes itself (once) in `dir`, for `localhost`, its host name and the
/// address it listens on; its key is readable by the owner only.
fn self_made_certificate(dir: &Path, listen: SocketAddr, agency: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("self-made-cert.pem"), dir.join("self-made-key.pem"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if let Some(host) = host_name() {
        names.push(host);
    }
    if !listen.ip().is_unspecified() {
        names.push(listen.ip().to_string());
    }
    let mut params = rcgen::CertificateParams::new(names).context("the self-made certificate's names")?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "sohoa appliance (self-made certificate)");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, agency);
    let key_pair = rcgen::KeyPair::generate().context("a key for the self-made certificate")?;
    let certificate = params.self_signed(&key_pair).context("signing the self-made certificate")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_private(&key, key_pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert, certificate.pem()).with_context(|| format!("cannot write {}", cert.display()))?;
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The machine's host name, as the LAN's browsers may call it.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))).then(|| name.to_owned())
}

/// A listener whose connections have finished their TLS handshake.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    /// Accepts on `listener` and hands on the connections whose handshake under `config` succeeds.
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (sender, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
        tokio::spawn(async move {
            loop {
                let Ok(permit) = handshakes.clone().acquire_owned().await else { return };
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors, most likely: wait rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (acceptor, ready) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            drop(permit);
                            let _ = ready.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
                if sender.is_closed() {
                    return;
                }
            }
        });
        Ok(TlsListener { local, ready })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop ends only when this listener is dropped, so nobody waits here then.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
