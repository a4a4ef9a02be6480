//! Who is on the other end (docs/SECURITY.md, "Client addresses"): the connection's peer,
//! or, when that peer is a proxy named in `--trusted-proxy`, the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy. A header from anyone else is
//! ignored, so a client cannot pick its own rate-limit bucket. IPv6 clients are limited by
//! their /64, which one household or one attacker usually holds whole.

use std::{
    convert::Infallible,
    net::{IpAddr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{request::Parts, HeaderMap, Request},
};
use ipnet::IpNet;
use tower_governor::{key_extractor::KeyExtractor, GovernorError};

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(Arc::new(nets))
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address, from the peer and the request's headers.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(canonical)?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        // Right to left: each hop appended the address it saw; the first one not ours is
        // the client (anything left of it, the client could have written).
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>().map(canonical) {
                Ok(ip) if self.trusts(ip) => continue,
                Ok(ip) => return Some(ip),
                // Garbage in the chain: stop at the last address we can stand behind.
                Err(_) => return Some(peer),
            }
        }
        Some(peer)
    }
}

/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key rate limits count under: the address itself, or an IPv6 address's /64.
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

fn peer_of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The client's address, as an extractor (`None` only without a connection, in tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let trusted = parts
            .extensions
            .get::<TrustedProxies>()
            .cloned()
            .unwrap_or_default();
        Ok(Self(
            trusted.client(peer_of(&parts.extensions), &parts.headers),
        ))
    }
}

/// The rate limiters' key: the client's [`rate_key`].
#[derive(Debug, Clone, Default)]
pub struct ClientKey(pub TrustedProxies);

impl KeyExtractor for ClientKey {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        self.0
            .client(peer_of(req.extensions()), req.headers())
            .map(rate_key)
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append(
                "x-forwarded-for",
                v.parse().unwrap_or_else(|_| unreachable!()),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let proxy = TrustedProxies::new(vec!["10.0.0.0/8"
            .parse()
            .unwrap_or_else(|_| unreachable!())]);
        let spoof = headers(&["203.0.113.9"]);
        // Straight from a client: its own header means nothing.
        assert_eq!(
            none.client(Some(ip("198.51.100.7")), &spoof),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            proxy.client(Some(ip("198.51.100.7")), &spoof),
            Some(ip("198.51.100.7"))
        );
        // Through the proxy: the nearest untrusted hop, not what the client prepended.
        let chain = headers(&["203.0.113.9, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(
            proxy.client(Some(ip("10.0.0.1")), &chain),
            Some(ip("198.51.100.7"))
        );
        // A proxy with no header, or garbage in it: the proxy itself.
        assert_eq!(
            proxy.client(Some(ip("10.0.0.1")), &headers(&[])),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            proxy.client(Some(ip("10.0.0.1")), &headers(&["nonsense"])),
            Some(ip("10.0.0.1"))
        );
        // IPv4-mapped IPv6 peers count as IPv4.
        assert_eq!(
            none.client(Some(ip("::ffff:192.0.2.1")), &spoof),
            Some(ip("192.0.2.1"))
        );
    }

    #[test]
    fn ipv6_clients_share_their_64_and_ipv4_clients_do_not() {
        assert_eq!(
            rate_key(ip("2001:db8:1:2:aaaa::1")),
            rate_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            rate_key(ip("2001:db8:1:2::1")),
            rate_key(ip("2001:db8:1:3::1"))
        );
        assert_ne!(rate_key(ip("192.0.2.1")), rate_key(ip("192.0.2.2")));
    }
}
