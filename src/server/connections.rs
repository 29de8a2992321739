//! The server's connections: accepted, bounded, handshaken (over HTTPS), served with hyper's HTTP/1,
//! and drained on shutdown. `axum::serve` is not used because it sets no timer, so hyper could not
//! close a connection that sends nothing; and it bounds no number of connections. Here:
//! - at most [`MAX_CONNECTIONS`] connections are open at once, and [`MAX_PER_ADDRESS`] from one client
//!   address (an IPv6 client by its /64), so that one LAN host cannot take every file descriptor;
//!   a connection over either bound is closed at once;
//! - a TLS handshake must finish within [`HANDSHAKE_TIMEOUT`], on the connection's own task, so a
//!   slow client holds nothing but its own slot;
//! - a request's head must arrive within [`HEADER_TIMEOUT`], which also closes an idle kept-alive
//!   connection (an upload's body is bounded by its handler: see `limits::BodyLimit::read`);
//! - on shutdown, listening stops, idle connections close, and requests in flight are waited for.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulConnection, GracefulShutdown};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::Layer;

use super::tls::Transport;

/// Connections open at once; the service's file descriptor limit must be well above it.
pub const MAX_CONNECTIONS: usize = 512;

/// Connections open at once from one client address: a counter PC's browser opens six or so.
pub const MAX_PER_ADDRESS: usize = 32;

/// The longest a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a client may take to send a request's head, or leave a kept-alive connection idle.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The connections open now, in all and per client address.
#[derive(Default)]
struct Open {
    counts: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One open connection's place in [`Open`], given back when the connection ends.
struct Slot {
    open: Arc<Open>,
    address: IpAddr,
}

impl Open {
    fn take(self: &Arc<Self>, address: IpAddr) -> Option<Slot> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let (all, by_address) = &mut *counts;
        if *all >= MAX_CONNECTIONS {
            return None;
        }
        let mine = by_address.entry(address).or_insert(0);
        if *mine >= MAX_PER_ADDRESS {
            return None;
        }
        *all += 1;
        *mine += 1;
        Some(Slot { open: self.clone(), address })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.open.counts.lock().unwrap_or_else(|p| p.into_inner());
        let (all, by_address) = &mut *counts;
        *all -= 1;
        if let Some(n) = by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                by_address.remove(&self.address);
            }
        }
    }
}

/// The client's host: an IPv4 client reaching a dual-stack listener as `::ffff:a.b.c.d` is `a.b.c.d`.
/// An IPv6 client is its own address, not its /64 as the login limits count it: every host of a LAN
/// shares one /64, and would share one bound of connections.
fn host(peer: SocketAddr) -> IpAddr {
    match peer.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Serves `app` on `listener` until `stop` completes, then waits for the requests in flight (for as
/// long as the caller lets this future run).
pub async fn serve(listener: TcpListener, transport: Transport, app: Router, stop: impl Future<Output = ()>) {
    let acceptor = match transport {
        Transport::Plain => None,
        Transport::Tls { config, .. } => Some(TlsAcceptor::from(config)),
    };
    let open = Arc::new(Open::default());
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(slot) = open.take(host(peer)) else {
            tracing::debug!(%peer, "connection refused: too many open");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let watcher = graceful.watcher();
        match acceptor.clone() {
            None => {
                tokio::spawn(async move {
                    let _slot = slot;
                    ended(peer, watcher.watch(connection(stream, app, peer)).await);
                });
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    let _slot = slot;
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => ended(peer, watcher.watch(connection(tls, app, peer)).await),
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Notes how a connection ended: a client that went away or timed out is no server error.
fn ended<E: std::fmt::Display>(peer: SocketAddr, outcome: Result<(), E>) {
    if let Err(e) = outcome {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

/// One connection served with hyper's HTTP/1, bounded in time by [`HEADER_TIMEOUT`]; the client's
/// address reaches the handlers as axum's `ConnectInfo`.
fn connection<I>(io: I, app: Router, peer: SocketAddr) -> impl GracefulConnection<Error = hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = axum::Extension(ConnectInfo(peer)).layer(app);
    hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
}
