//! The SSRF guard: an aggregator fetches URLs that strangers give it (through
//! `POST /v1/register`), so it must never be turned into a probe of the
//! network it runs in. Every address a crawl connects to passes
//! [`refused_reason`], both for host names (through [`GuardedResolver`], so
//! the check applies to the very addresses used, after DNS) and for IP
//! literals and every redirect (through [`check_url`]).
//!
//! Only global unicast addresses pass. The ranges refused are the entries
//! of the IANA IPv4 and IPv6 Special-Purpose Address Registries whose
//! "Globally Reachable" is False (or N/A), named as the registries name
//! them, in [`V4_REFUSED`] and [`V6_REFUSED`]; plus multicast, and for
//! IPv6 everything outside Global Unicast 2000::/3. IPv6 forms that carry
//! an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96, 6to4, Teredo) are
//! judged by the IPv4 address inside, since that is the host reached.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// One registry entry: a prefix and the name the registry gives it.
#[derive(Debug, PartialEq, Eq)]
pub struct Range {
    net: IpAddr,
    len: u8,
    /// The entry's name in the registry (e.g. "Private-Use").
    pub name: &'static str,
}

impl Range {
    const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8, name: &'static str) -> Range {
        Range {
            net: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            len,
            name,
        }
    }

    const fn v6(segments: [u16; 8], len: u8, name: &'static str) -> Range {
        let [a, b, c, d, e, f, g, h] = segments;
        Range {
            net: IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)),
            len,
            name,
        }
    }

    /// Whether `ip` lies in this prefix (never across families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_match(
                u128::from(net.to_bits()),
                u128::from(ip.to_bits()),
                32,
                self.len,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match(net.to_bits(), ip.to_bits(), 128, self.len)
            }
            _ => false,
        }
    }
}

fn prefix_match(net: u128, ip: u128, width: u8, len: u8) -> bool {
    let len = len.min(width);
    if len == 0 {
        return true;
    }
    let shift = u32::from(width - len);
    (net >> shift) == (ip >> shift)
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}/{})", self.name, self.net, self.len)
    }
}

/// IPv4 ranges refused: the IANA IPv4 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv4-special-registry/>) in its
/// order, every entry whose Globally Reachable is False or N/A. The entries
/// it marks True are allowed and listed in comments. Where an entry sits
/// inside another, the longer prefix names the refusal.
// One row per registry entry, to compare with IANA's page line by line.
#[rustfmt::skip]
pub static V4_REFUSED: &[Range] = &[
    Range::v4(0, 0, 0, 0, 8, "\"This network\""),
    Range::v4(0, 0, 0, 0, 32, "\"This host on this network\""),
    Range::v4(10, 0, 0, 0, 8, "Private-Use"),
    Range::v4(100, 64, 0, 0, 10, "Shared Address Space"),
    Range::v4(127, 0, 0, 0, 8, "Loopback"),
    Range::v4(169, 254, 0, 0, 16, "Link Local"),
    Range::v4(172, 16, 0, 0, 12, "Private-Use"),
    // The whole /24 is refused, including its globally reachable
    // sub-entries 192.0.0.9/32 (Port Control Protocol Anycast) and
    // 192.0.0.10/32 (Traversal Using Relays around NAT Anycast): anycast
    // protocol servers, never a hub.
    Range::v4(192, 0, 0, 0, 24, "IETF Protocol Assignments"),
    Range::v4(192, 0, 0, 0, 29, "IPv4 Service Continuity Prefix"),
    Range::v4(192, 0, 0, 8, 32, "IPv4 dummy address"),
    Range::v4(192, 0, 0, 170, 32, "NAT64/DNS64 Discovery"),
    Range::v4(192, 0, 0, 171, 32, "NAT64/DNS64 Discovery"),
    Range::v4(192, 0, 2, 0, 24, "Documentation (TEST-NET-1)"),
    // 192.31.196.0/24 AS112-v4: globally reachable, allowed.
    // 192.52.193.0/24 AMT: globally reachable, allowed.
    Range::v4(192, 88, 99, 0, 24, "Deprecated (6to4 Relay Anycast)"),
    Range::v4(192, 168, 0, 0, 16, "Private-Use"),
    // 192.175.48.0/24 Direct Delegation AS112 Service: allowed.
    Range::v4(198, 18, 0, 0, 15, "Benchmarking"),
    Range::v4(198, 51, 100, 0, 24, "Documentation (TEST-NET-2)"),
    Range::v4(203, 0, 113, 0, 24, "Documentation (TEST-NET-3)"),
    Range::v4(240, 0, 0, 0, 4, "Reserved"),
    Range::v4(255, 255, 255, 255, 32, "Limited Broadcast"),
    // Not in the special-purpose registry: the IANA IPv4 Multicast Address
    // Space. Not unicast, so refused.
    Range::v4(224, 0, 0, 0, 4, "Multicast"),
];

/// IPv6 ranges refused: the IANA IPv6 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv6-special-registry/>) in its
/// order, every entry whose Globally Reachable is False or N/A. Four
/// entries carry an IPv4 address and are judged by it first (see
/// [`carried_v4`]): IPv4-mapped ::ffff:0:0/96 and NAT64 64:ff9b::/96 pass
/// when the IPv4 address does; 6to4 2002::/16 likewise; Teredo 2001::/32
/// is refused even when both of its IPv4 addresses are public.
#[rustfmt::skip]
pub static V6_REFUSED: &[Range] = &[
    Range::v6([0, 0, 0, 0, 0, 0, 0, 1], 128, "Loopback Address"),
    Range::v6([0; 8], 128, "Unspecified Address"),
    // ::ffff:0:0/96 IPv4-mapped Address: judged by the IPv4 address.
    // 64:ff9b::/96 IPv4-IPv6 Translat.: judged by the IPv4 address.
    Range::v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "IPv4-IPv6 Translat. (local-use NAT64)"),
    Range::v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "Discard-Only Address Block"),
    Range::v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, "Dummy IPv6 Prefix"),
    // The whole /23 is refused, including its globally reachable
    // sub-entries (2001:1::1-3/128 anycast, 2001:3::/32 AMT,
    // 2001:4:112::/48 AS112-v6, 2001:20::/28 ORCHIDv2, 2001:30::/28 DETs):
    // protocol infrastructure and identifiers, never a hub.
    Range::v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, "IETF Protocol Assignments"),
    Range::v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "TEREDO"),
    Range::v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, "Benchmarking"),
    Range::v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, "Deprecated (previously ORCHID)"),
    Range::v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "Documentation"),
    // 2002::/16 6to4: judged by the IPv4 address in bits 16-47.
    // 2620:4f:8000::/48 Direct Delegation AS112 Service: allowed.
    Range::v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "Documentation"),
    Range::v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, "Segment Routing (SRv6) SIDs"),
    Range::v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "Unique-Local"),
    Range::v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "Link-Local Unicast"),
    // Not in the special-purpose registry, named for a clearer reason
    // (all lie outside Global Unicast 2000::/3, refused below anyway):
    // deprecated IPv4-compatible addresses (RFC 4291), deprecated
    // site-local (RFC 3879), multicast.
    Range::v6([0; 8], 96, "IPv4-Compatible (deprecated)"),
    Range::v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "Site-Local (deprecated)"),
    Range::v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "Multicast"),
];

/// Everything in IPv6 outside this prefix is refused: the IANA IPv6
/// Address Space registry assigns only 2000::/3 as Global Unicast.
static V6_GLOBAL_UNICAST: Range = Range::v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3, "Global Unicast");

/// Stands for "outside [`V6_GLOBAL_UNICAST`]" in a refusal.
static V6_NOT_GLOBAL_UNICAST: Range =
    Range::v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3, "outside Global Unicast");

/// Why an address is refused: the registry entry it falls in and, for an
/// IPv6 address that carries an IPv4 one, how it carried which address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The registry entry that refuses it.
    pub range: &'static Range,
    /// For a refusal of a carried IPv4 address: the carrier (e.g. "6to4
    /// 2002::/16") and the IPv4 address judged.
    pub carried: Option<(&'static str, Ipv4Addr)>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.carried {
            Some((carrier, v4)) => write!(f, "{carrier} carrying {v4}, which is {}", self.range),
            None => write!(f, "{}", self.range),
        }
    }
}

/// Why an address must not be crawled, or `None` if it is a global unicast
/// address.
pub fn refused_reason(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

/// The most specific entry of `table` holding `ip`.
fn longest_match(table: &'static [Range], ip: IpAddr) -> Option<&'static Range> {
    table
        .iter()
        .filter(|r| r.contains(ip))
        .max_by_key(|r| r.len)
}

fn refused_v4(ip: Ipv4Addr) -> Option<Refusal> {
    longest_match(V4_REFUSED, IpAddr::V4(ip)).map(|range| Refusal {
        range,
        carried: None,
    })
}

/// The IPv4 address in bits `from..from + 32` of `ip` (0 is the leftmost).
fn v4_at(ip: Ipv6Addr, from: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits((ip.to_bits() >> (96 - from)) as u32)
}

/// How an IPv6 address reaches IPv4 hosts, and which: the IPv4 addresses
/// the traffic goes to, judged before the IPv6 address, and whether the
/// IPv6 address passes when they all do.
fn carried_v4(ip: Ipv6Addr) -> Option<(&'static str, Vec<Ipv4Addr>, bool)> {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(("IPv4-mapped ::ffff:0:0/96", vec![v4], true))
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(("NAT64 64:ff9b::/96", vec![v4_at(ip, 96)], true))
    } else if s[0] == 0x2002 {
        Some(("6to4 2002::/16", vec![v4_at(ip, 16)], true))
    } else if s[0] == 0x2001 && s[1] == 0 {
        // Teredo (RFC 4380): the server in bits 32-63, the client's public
        // address in the last 32 bits, inverted.
        let server = v4_at(ip, 32);
        let client = Ipv4Addr::from_bits(!v4_at(ip, 96).to_bits());
        // Teredo is refused even when both are public (its table entry):
        // it tunnels through a relay to a host behind a NAT, no hub needs
        // it, and the relay's path is not ours to judge. The addresses are
        // still decoded so that the reason names a private one.
        Some(("Teredo 2001::/32", vec![server, client], false))
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<Refusal> {
    if let Some((carrier, inside, passes)) = carried_v4(ip) {
        for v4 in inside {
            if let Some(inner) = refused_v4(v4) {
                return Some(Refusal {
                    range: inner.range,
                    carried: Some((carrier, v4)),
                });
            }
        }
        if passes {
            return None;
        }
    }
    let v6 = IpAddr::V6(ip);
    if let Some(range) = longest_match(V6_REFUSED, v6) {
        return Some(Refusal {
            range,
            carried: None,
        });
    }
    if !V6_GLOBAL_UNICAST.contains(v6) {
        return Some(Refusal {
            range: &V6_NOT_GLOBAL_UNICAST,
            carried: None,
        });
    }
    None
}

/// What the crawler does with one address under a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A global unicast address: fetched.
    Global,
    /// Refused by the registries, but let through by the operator's
    /// setting named here.
    AllowedBy(&'static str, Refusal),
    /// Refused, and why.
    Refused(Refusal),
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
    pub fn refusal(&self, ip: IpAddr) -> Option<Refusal> {
        match self.verdict(ip) {
            Verdict::Refused(r) => Some(r),
            Verdict::Global | Verdict::AllowedBy(..) => None,
        }
    }

    /// What the crawler does with `ip`, naming the setting that lets a
    /// refused address through (for `signpost-node check-url`).
    pub fn verdict(&self, ip: IpAddr) -> Verdict {
        match refused_reason(ip) {
            None => Verdict::Global,
            Some(r) if self.allow_private => {
                Verdict::AllowedBy("aggregator.allow_private_networks", r)
            }
            Some(r) if self.allowed.contains(&ip) => {
                Verdict::AllowedBy("aggregator.allow_addresses", r)
            }
            Some(r) => Verdict::Refused(r),
        }
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
    let Some(ip) = literal_ip(url)? else {
        return Ok(());
    };
    match policy.refusal(ip) {
        Some(reason) => Err(refused_message(ip, &reason)),
        None => Ok(()),
    }
}

/// The address of a URL whose host is an IP literal (`None` for a name).
pub fn literal_ip(url: &Url) -> Result<Option<IpAddr>, String> {
    match url.host() {
        None => Err(format!("{url} has no host")),
        Some(Host::Domain(_)) => Ok(None),
        Some(Host::Ipv4(v4)) => Ok(Some(IpAddr::V4(v4))),
        Some(Host::Ipv6(v6)) => Ok(Some(IpAddr::V6(v6))),
    }
}

/// The message shown when an address is refused (also used to recognise
/// refusals in errors that reqwest wraps).
pub fn refused_message(ip: IpAddr, reason: &Refusal) -> String {
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

/// Why [`check_addresses`] could not judge a URL.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The crawler would not take the text as a listing address at all.
    #[error("{0}")]
    BadUrl(String),
    /// The system resolver found nothing or failed.
    #[error("looking up {host}: {source}")]
    Lookup {
        /// The host name looked up.
        host: String,
        /// What the resolver said.
        source: std::io::Error,
    },
}

/// What the crawler would do with a URL: the listing address it would
/// fetch and its verdict on each address the host resolves to.
#[derive(Debug, Clone)]
pub struct UrlCheck {
    /// The listing address, as the crawler completes it.
    pub url: Url,
    /// Every address found, with the verdict on it.
    pub addresses: Vec<(IpAddr, Verdict)>,
}

impl UrlCheck {
    /// Whether a fetch would go ahead: like [`GuardedResolver`], the
    /// crawler uses the addresses not refused and fails only when none are
    /// left.
    pub fn would_fetch(&self) -> bool {
        self.addresses
            .iter()
            .any(|(_, v)| !matches!(v, Verdict::Refused(_)))
    }
}

/// Judges a URL as the crawler would, for an operator (`signpost-node
/// check-url`): reads it like [`super::listing_url`], looks a host name up
/// with the system resolver, and never connects to anything.
pub async fn check_addresses(raw: &str, policy: &AddressPolicy) -> Result<UrlCheck, CheckError> {
    let url = super::listing_url(raw).map_err(CheckError::BadUrl)?;
    let ips = match literal_ip(&url).map_err(CheckError::BadUrl)? {
        Some(ip) => vec![ip],
        None => {
            let host = url.host_str().unwrap_or_default().to_owned();
            let port = url.port_or_known_default().unwrap_or(0);
            let mut ips: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|source| CheckError::Lookup {
                    host: host.clone(),
                    source,
                })?
                .map(|a| a.ip())
                .collect();
            ips.dedup();
            ips
        }
    };
    let addresses = ips.into_iter().map(|ip| (ip, policy.verdict(ip))).collect();
    Ok(UrlCheck { url, addresses })
}

/// Splits resolved addresses into those that may be used and those refused.
fn partition(
    found: Vec<SocketAddr>,
    policy: &AddressPolicy,
) -> (Vec<SocketAddr>, Vec<(IpAddr, Refusal)>) {
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

    fn judged(s: &str) -> Option<Refusal> {
        refused_reason(s.parse().unwrap())
    }

    /// The registry name of the entry that refuses `s`.
    fn refused_as(s: &str) -> &'static str {
        judged(s)
            .unwrap_or_else(|| panic!("{s} should be refused"))
            .range
            .name
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

    /// One address inside each refused range, with the registry entry that
    /// must name the refusal (the ranges issue 15 found let through first).
    #[test]
    fn every_registry_range_is_refused_by_name() {
        for (ip, name) in [
            ("192.0.0.8", "IPv4 dummy address"),
            ("192.0.0.1", "IPv4 Service Continuity Prefix"),
            ("192.0.0.9", "IETF Protocol Assignments"),
            ("192.0.0.170", "NAT64/DNS64 Discovery"),
            ("192.0.0.200", "IETF Protocol Assignments"),
            ("192.0.2.7", "Documentation (TEST-NET-1)"),
            ("192.88.99.1", "Deprecated (6to4 Relay Anycast)"),
            ("198.18.0.1", "Benchmarking"),
            ("198.19.255.254", "Benchmarking"),
            ("198.51.100.9", "Documentation (TEST-NET-2)"),
            ("203.0.113.9", "Documentation (TEST-NET-3)"),
            ("0.0.0.0", "\"This host on this network\""),
            ("0.9.9.9", "\"This network\""),
            ("100.127.255.255", "Shared Address Space"),
            ("239.255.255.250", "Multicast"),
            ("255.255.255.255", "Limited Broadcast"),
            ("250.1.1.1", "Reserved"),
            ("::", "Unspecified Address"),
            ("::1", "Loopback Address"),
            ("::127.0.0.1", "IPv4-Compatible (deprecated)"),
            ("64:ff9b:1::1", "IPv4-IPv6 Translat. (local-use NAT64)"),
            (
                "64:ff9b:1:ffff::808:808",
                "IPv4-IPv6 Translat. (local-use NAT64)",
            ),
            ("100::1", "Discard-Only Address Block"),
            ("100:0:0:1::1", "Dummy IPv6 Prefix"),
            ("2001:1::1", "IETF Protocol Assignments"),
            ("2001:2::1", "Benchmarking"),
            ("2001:10::1", "Deprecated (previously ORCHID)"),
            ("2001:20::1", "IETF Protocol Assignments"),
            ("2001:db8::1", "Documentation"),
            ("3fff::1", "Documentation"),
            ("5f00::1", "Segment Routing (SRv6) SIDs"),
            ("fc00::1", "Unique-Local"),
            ("fe80::1", "Link-Local Unicast"),
            ("fec0::1", "Site-Local (deprecated)"),
            ("ff02::1", "Multicast"),
            ("4000::1", "outside Global Unicast"),
            ("::ffff:0:a00:1", "outside Global Unicast"),
        ] {
            assert_eq!(refused_as(ip), name, "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_that_carry_ipv4_are_judged_by_the_ipv4_inside() {
        let carried = |s: &str| {
            let r = judged(s).unwrap_or_else(|| panic!("{s} should be refused"));
            let (_, v4) = r.carried.unwrap_or_else(|| panic!("{s}: {r}"));
            (v4.to_string(), r.range.name)
        };
        // 6to4: the IPv4 address is in bits 16-47.
        assert_eq!(
            carried("2002:c0a8:0101::1"),
            ("192.168.1.1".into(), "Private-Use")
        );
        assert_eq!(carried("2002:7f00:1::"), ("127.0.0.1".into(), "Loopback"));
        assert_eq!(
            carried("2002:a9fe:a9fe::1"),
            ("169.254.169.254".into(), "Link Local")
        );
        // NAT64 and IPv4-mapped.
        assert_eq!(
            carried("64:ff9b::c0a8:101"),
            ("192.168.1.1".into(), "Private-Use")
        );
        assert_eq!(
            carried("::ffff:198.18.0.1"),
            ("198.18.0.1".into(), "Benchmarking")
        );
        // Teredo: server 10.0.0.1 in bits 32-63; client = last 32 bits
        // inverted (0x3f57fefe inverted is 192.168.1.1).
        assert_eq!(
            carried("2001:0:a00:1::3f57:fefe"),
            ("10.0.0.1".into(), "Private-Use")
        );
        assert_eq!(
            carried("2001:0:4136:e378:8000:63bf:3f57:fefe"),
            ("192.168.1.1".into(), "Private-Use")
        );
        let message = judged("2002:c0a8:0101::1").unwrap().to_string();
        assert_eq!(
            message,
            "6to4 2002::/16 carrying 192.168.1.1, which is Private-Use (192.168.0.0/16)"
        );
        // Teredo with public addresses on both ends is still refused.
        let public_teredo = judged("2001:0:4136:e378:8000:63bf:f7f7:f7f7").unwrap();
        assert_eq!(public_teredo.range.name, "TEREDO");
        assert_eq!(public_teredo.carried, None);
        // 6to4, NAT64 and mapped forms of public IPv4 pass.
        for ip in ["2002:808:808::1", "64:ff9b::808:808", "::ffff:8.8.8.8"] {
            assert_eq!(judged(ip), None, "{ip} should pass");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "81.2.69.160",
            "172.32.0.1",
            "100.128.0.1",
            "192.0.1.1",
            "192.31.196.1",
            "192.52.193.1",
            "192.175.48.1",
            "198.20.0.1",
            "223.255.255.255",
            "2a00:1450:4009:81f::200e",
            "2001:200::1",
            "2620:4f:8000::1",
            "3ffe::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(judged(ip), None, "{ip} should pass");
        }
    }

    #[test]
    fn the_operator_settings_let_refused_addresses_through() {
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        let closed = AddressPolicy::default();
        assert!(matches!(closed.verdict(ip), Verdict::Refused(_)));
        let open = AddressPolicy {
            allow_private: true,
            allowed: vec![],
        };
        assert!(matches!(
            open.verdict(ip),
            Verdict::AllowedBy("aggregator.allow_private_networks", _)
        ));
        let named = AddressPolicy {
            allow_private: false,
            allowed: vec![ip],
        };
        assert!(matches!(
            named.verdict(ip),
            Verdict::AllowedBy("aggregator.allow_addresses", _)
        ));
        assert!(named.refusal("10.1.2.4".parse().unwrap()).is_some());
        assert_eq!(closed.verdict("8.8.8.8".parse().unwrap()), Verdict::Global);
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
            err.contains(REFUSED_MARKER) && err.contains("Loopback (127.0.0.0/8)"),
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
