//! The client's address when the node sits behind reverse proxies.
//!
//! Behind Caddy or nginx every connection comes from the proxy, so a limit
//! "per client address" (registrations) would be one allowance shared by
//! everyone. Proxies say who their client was in `X-Forwarded-For`, but
//! anyone can send that header, so it is believed only from the proxies the
//! operator lists in `server.trusted_proxies`, and read from the right (the
//! entry the nearest proxy added) leftwards, past every trusted proxy, to
//! the first address that is not one: the earliest hop nobody we trust can
//! vouch beyond. With no trusted proxies the header is ignored.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Entries of `X-Forwarded-For` looked at, at most (a chain of proxies is
/// a handful long; the rest is whatever a client wrote).
const MAX_HOPS: usize = 32;

/// A proxy address or network whose `X-Forwarded-For` is believed:
/// `127.0.0.1`, `::1` or a network like `172.28.0.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustedProxy(IpNet);

impl TrustedProxy {
    /// Whether `ip` is this proxy (or inside this network).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl std::str::FromStr for TrustedProxy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(TrustedProxy(net.trunc()));
        }
        s.parse::<IpAddr>()
            .map(|ip| TrustedProxy(IpNet::from(ip.to_canonical())))
            .map_err(|_| {
                format!(
                    "{s:?} is not an IP address or network; write it like 127.0.0.1, ::1 or 172.28.0.0/24"
                )
            })
    }
}

impl TryFrom<String> for TrustedProxy {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<TrustedProxy> for String {
    fn from(p: TrustedProxy) -> String {
        p.to_string()
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// The client's address as far as the trusted proxies tell: the connection's
/// peer, or an address from `X-Forwarded-For` when the peer is trusted.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|p| p.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev().take(MAX_HOPS) {
        let Some(ip) = parse_hop(hop) else {
            // Garbage where an address should be: the last proxy we trust
            // is as far as we can see.
            return client;
        };
        client = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    client
}

/// Whom per-client limits count an address as: an IPv4 address itself,
/// an IPv6 address by its /64 (one household or host usually holds a
/// whole /64, so counting single addresses would give it billions).
pub fn allowance_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, maybe with a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// The client's address of a request, set by [`crate::listen`] from the
/// peer and the trusted proxies; an extractor for handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<ClientAddr>() {
            return Ok(*c);
        }
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| ClientAddr(peer.ip().to_canonical()))
            .ok_or((
                StatusCode::INTERNAL_SERVER_ERROR,
                "the client's address is unknown",
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_header_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<TrustedProxy> = vec!["127.0.0.1".parse().unwrap()];
        let spoofed = xff(&["203.0.113.9"]);
        assert_eq!(
            client_addr(ip("198.51.100.7"), &spoofed, &trusted),
            ip("198.51.100.7"),
            "a stranger cannot pick its address"
        );
        assert_eq!(client_addr(ip("127.0.0.1"), &spoofed, &[]), ip("127.0.0.1"));
        assert_eq!(
            client_addr(ip("127.0.0.1"), &spoofed, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_addr(ip("::ffff:127.0.0.1"), &spoofed, &trusted),
            ip("203.0.113.9"),
            "IPv4-mapped peers match IPv4 entries"
        );
        assert_eq!(
            client_addr(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_header_is_read_from_the_right_past_trusted_hops() {
        let trusted: Vec<TrustedProxy> =
            vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        // The client wrote a fake first entry; nginx appended the real one.
        let h = xff(&["1.2.3.4, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &h, &trusted),
            ip("203.0.113.9")
        );
        let h = xff(&["10.2.2.2, 10.1.1.1"]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &h, &trusted),
            ip("10.2.2.2"),
            "all trusted: the farthest"
        );
        let h = xff(&["203.0.113.9, nonsense"]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &h, &trusted),
            ip("127.0.0.1"),
            "garbage stops the walk at the last trusted hop"
        );
        let h = xff(&["[2001:db8::1]:4711"]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &h, &trusted),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn proxies_parse_as_addresses_or_networks() {
        let p: TrustedProxy = "172.28.0.9/24".parse().unwrap();
        assert_eq!(p.to_string(), "172.28.0.0/24");
        assert!(p.contains(ip("172.28.0.200")));
        assert!(!p.contains(ip("172.28.1.1")));
        let p: TrustedProxy = "::1".parse().unwrap();
        assert_eq!(p.to_string(), "::1");
        let err = "localhost".parse::<TrustedProxy>().unwrap_err();
        assert!(err.contains("127.0.0.1"), "{err}");
    }
}
