//! HTTPS. Passwords, session cookies and citizens' documents must not cross the office LAN in clear, so
//! the server speaks TLS (rustls) on every address but loopback: with the certificate `[tls]` names,
//! or else with one it makes itself under `DATA/tls/` for its host name and addresses, which browsers
//! warn about until an admin installs the agency's own. Plain HTTP remains for the machine's own
//! browser on loopback, and, when `[tls] plain_http` says so, behind a proxy that terminates TLS.
//! The connections themselves are [`super::connections`]'.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsConfig;

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

/// The certificate the appliance makes itself in `dir`, for `localhost`, its host name and the
/// addresses it is reached at (every interface's, when it listens on all); its key is readable by the
/// owner only. It is made again when those names change (a new address on the LAN), and kept otherwise,
/// so that browsers that were told to trust it go on trusting it.
fn self_made_certificate(dir: &Path, listen: SocketAddr, agency: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let (cert, key, named) =
        (dir.join("self-made-cert.pem"), dir.join("self-made-key.pem"), dir.join("self-made-names"));
    let mut names = vec!["localhost".to_owned()];
    names.extend(host_name());
    let addresses = if listen.ip().is_unspecified() {
        interface_addresses().into_iter().filter(|a| a.is_ipv4() || listen.is_ipv6()).collect()
    } else {
        vec![listen.ip()]
    };
    names.extend(
        addresses
            .iter()
            .chain(&[IpAddr::from([127, 0, 0, 1]), IpAddr::from(Ipv6Addr::LOCALHOST)])
            .map(IpAddr::to_string),
    );
    names.sort();
    names.dedup();
    let listed = names.join("\n");
    if cert.exists() && key.exists() && std::fs::read_to_string(&named).is_ok_and(|n| n == listed) {
        return Ok((cert, key));
    }
    let mut params = rcgen::CertificateParams::new(names).context("the self-made certificate's names")?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "sohoa appliance (self-made certificate)");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, agency);
    let key_pair = rcgen::KeyPair::generate().context("a key for the self-made certificate")?;
    let certificate = params.self_signed(&key_pair).context("signing the self-made certificate")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_private(&key, key_pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert, certificate.pem()).with_context(|| format!("cannot write {}", cert.display()))?;
    std::fs::write(&named, listed).with_context(|| format!("cannot write {}", named.display()))?;
    Ok((cert, key))
}

/// The addresses of the machine's network interfaces that stay: IPv4, and IPv6 unique local ones.
/// Other IPv6 addresses come and go (temporary privacy addresses, a provider's changing prefix) and
/// would make the certificate again at each change; link-local ones need a zone no browser URL carries.
fn interface_addresses() -> Vec<IpAddr> {
    let mut found = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list that stays valid until freeifaddrs; each entry's
    // address, when present, is a sockaddr of the family it names, read as that family's struct.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return found;
        }
        let mut entry = list;
        while !entry.is_null() {
            let address = (*entry).ifa_addr;
            if !address.is_null() {
                match i32::from((*address).sa_family) {
                    libc::AF_INET => {
                        let v4 = &*(address as *const libc::sockaddr_in);
                        found.push(IpAddr::from(u32::from_be(v4.sin_addr.s_addr).to_be_bytes()));
                    }
                    libc::AF_INET6 => {
                        let v6 = Ipv6Addr::from((*(address as *const libc::sockaddr_in6)).sin6_addr.s6_addr);
                        if v6.is_unique_local() {
                            found.push(IpAddr::V6(v6));
                        }
                    }
                    _ => {}
                }
            }
            entry = (*entry).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    found
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
