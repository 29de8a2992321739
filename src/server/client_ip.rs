//! The address a request came from, for the limits that are kept per client (login back-off, the rate of
//! anonymous requests). It is the TCP peer's address: a forwarded-for header naming
//! another address is ignored, since any client can send one. Behind a TLS proxy (`[tls] plain_http`)
//! every client therefore has the proxy's address, and shares its limits: one person's wrong passwords
//! close logins from the proxy for a while. Such a proxy must do its own per-client limiting.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The client's IP address; the unspecified address when the request did not come over a connection
/// (a test driving the router in process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientIp(peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), canonical)))
    }
}

/// The address a client's limits are kept under. An IPv4 client reaching a dual-stack listener appears
/// as `::ffff:a.b.c.d`; it is the same client as `a.b.c.d`. One IPv6 host can take any address of its
/// /64 network at will, so IPv6 clients are counted by that network.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_network_and_a_mapped_ipv4_client_its_address() {
        let ip = |s: &str| canonical(s.parse().unwrap());
        assert_eq!(ip("2001:db8:1:2::1"), ip("2001:db8:1:2:ffff::9"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:10.0.0.7"), ip("10.0.0.7"));
    }
}
