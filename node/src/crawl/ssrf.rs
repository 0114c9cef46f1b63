//! The SSRF guard: an aggregator fetches URLs that strangers give it (through
//! `POST /v1/register`), so it must never be turned into a probe of the
//! network it runs in. Every address a crawl connects to passes
//! [`refused_reason`], both for host names (through [`GuardedResolver`], so
//! the check applies to the very addresses used, after DNS) and for IP
//! literals and every redirect (through [`check_url`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why an address must not be crawled, or `None` if it is a public address.
pub fn refused_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("unspecified address")
    } else if ip.is_loopback() {
        Some("loopback address")
    } else if ip.is_private() {
        Some("private network address")
    } else if ip.is_link_local() {
        Some("link-local address")
    } else if ip.is_multicast() {
        Some("multicast address")
    } else if ip.is_broadcast() {
        Some("broadcast address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("carrier-grade NAT address")
    } else if a >= 240 {
        Some("reserved address")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // Embedded IPv4 forms reach IPv4 hosts, so they are judged as those.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4);
    }
    let segments = ip.segments();
    // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96).
    if segments[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some("IPv4-compatible address");
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = Ipv4Addr::new(
            (segments[6] >> 8) as u8,
            segments[6] as u8,
            (segments[7] >> 8) as u8,
            segments[7] as u8,
        );
        return refused_v4(v4);
    }
    if ip.is_unspecified() {
        Some("unspecified address")
    } else if ip.is_loopback() {
        Some("loopback address")
    } else if ip.is_multicast() {
        Some("multicast address")
    } else if segments[0] & 0xffc0 == 0xfe80 {
        Some("link-local address")
    } else if segments[0] & 0xffc0 == 0xfec0 {
        Some("site-local address")
    } else if segments[0] & 0xfe00 == 0xfc00 {
        Some("private network address (unique local)")
    } else {
        None
    }
}

/// Which addresses a crawler may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Let every loopback and private address through (tests, local demos).
    pub allow_private: bool,
    /// Addresses let through even though they are private (an intranet
    /// hub the operator named); everything else private stays refused.
    pub allowed: Vec<IpAddr>,
}

impl AddressPolicy {
    /// Why `ip` must not be reached under this policy, if it must not.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        if self.allow_private || self.allowed.contains(&ip) {
            return None;
        }
        refused_reason(ip)
    }
}

/// Checks a URL before any request to it: http or https, a host, no
/// user name or password, and (for IP literals) an allowed address.
pub fn check_url(url: &Url, policy: &AddressPolicy) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{url} is not an http or https address (scheme {:?})",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("addresses with a user name or password are not crawled".to_owned());
    }
    let ip = match url.host() {
        None => return Err(format!("{url} has no host")),
        Some(Host::Domain(_)) => return Ok(()),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    match policy.refusal(ip) {
        Some(reason) => Err(refused_message(ip, reason)),
        None => Ok(()),
    }
}

/// The message shown when an address is refused (also used to recognise
/// refusals in errors that reqwest wraps).
pub fn refused_message(ip: IpAddr, reason: &str) -> String {
    format!("refused address {ip}: {reason} (set aggregator.allow_private_networks only for local testing)")
}

/// Marker text in every refusal, so a crawl error can be classified.
pub const REFUSED_MARKER: &str = "refused address";

/// A DNS resolver for reqwest that drops refused addresses from each
/// answer and fails when none are left.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    /// Which addresses may be used.
    pub policy: std::sync::Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (allowed, refused) = partition(found, &policy);
            if allowed.is_empty() {
                let message = match refused.first() {
                    Some((ip, reason)) => format!("{host}: {}", refused_message(*ip, reason)),
                    None => format!("{host} has no addresses"),
                };
                return Err(message.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Splits resolved addresses into those that may be used and those refused.
fn partition(
    found: Vec<SocketAddr>,
    policy: &AddressPolicy,
) -> (Vec<SocketAddr>, Vec<(IpAddr, &'static str)>) {
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    for addr in found {
        match policy.refusal(addr.ip()) {
            Some(reason) => refused.push((addr.ip(), reason)),
            None => allowed.push(addr),
        }
    }
    (allowed, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(s: &str) -> Option<&'static str> {
        refused_reason(s.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "240.0.0.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "fec0::1",
        ] {
            assert!(judged(ip).is_some(), "{ip} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "81.2.69.160",
            "172.32.0.1",
            "100.128.0.1",
            "2a00:1450:4009:81f::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(judged(ip), None, "{ip} should pass");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_credentials_and_literal_addresses() {
        let closed = AddressPolicy::default();
        let ok = |s: &str| check_url(&Url::parse(s).unwrap(), &closed);
        assert!(ok("https://hub.example.org/x").is_ok());
        assert!(ok("http://81.2.69.160/").is_ok());
        assert!(ok("ftp://hub.example.org/").is_err());
        assert!(ok("file:///etc/passwd").is_err());
        assert!(ok("https://user:pw@hub.example.org/").is_err());
        let err = ok("http://127.0.0.1:8080/").unwrap_err();
        assert!(
            err.contains(REFUSED_MARKER) && err.contains("loopback"),
            "{err}"
        );
        assert!(ok("http://[::ffff:192.168.0.1]/").is_err());
        assert!(
            ok("http://0x7f000001/").is_err(),
            "hex IPv4 forms are parsed"
        );
        let open = AddressPolicy {
            allow_private: true,
            allowed: vec![],
        };
        assert!(check_url(&Url::parse("http://127.0.0.1/").unwrap(), &open).is_ok());
        let one = AddressPolicy {
            allow_private: false,
            allowed: vec!["127.0.0.1".parse().unwrap()],
        };
        assert!(check_url(&Url::parse("http://127.0.0.1/").unwrap(), &one).is_ok());
        assert!(check_url(&Url::parse("http://127.0.0.2/").unwrap(), &one).is_err());
    }

    #[tokio::test]
    async fn resolver_drops_refused_answers() {
        let name: Name = "localhost".parse().unwrap();
        let err = GuardedResolver {
            policy: Default::default(),
        }
        .resolve(name)
        .await
        .err()
        .expect("localhost must be refused");
        assert!(err.to_string().contains(REFUSED_MARKER), "{err}");
        let name: Name = "localhost".parse().unwrap();
        let addrs: Vec<_> = GuardedResolver {
            policy: std::sync::Arc::new(AddressPolicy {
                allow_private: true,
                allowed: vec![],
            }),
        }
        .resolve(name)
        .await
        .unwrap()
        .collect();
        assert!(!addrs.is_empty());
    }
}
