//! When aggregators last fetched this hub's listing, so hub staff can see
//! on the admin page that their edits are being picked up. Kept in memory
//! (it is a hint, not a record) and bounded: one entry per address, at most
//! [`MAX_FETCHERS`] addresses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::Timestamp;

/// Most aggregator addresses remembered; the one heard from longest ago
/// is forgotten first.
pub const MAX_FETCHERS: usize = 32;

/// One aggregator address and when it last fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetcher {
    /// Where the request came from (a reverse proxy's address, behind one).
    pub address: IpAddr,
    /// The User-Agent it sent (cut to 200 characters).
    pub user_agent: String,
    /// When it last fetched (a 304 counts: it checked and had the latest).
    pub at: Timestamp,
    /// The number (seq) of the listing it got (a 304 means it had it
    /// already): whether it has the latest edit yet.
    pub seq: u64,
    /// Where it asked to be nudged when the listing changes
    /// (`Signpost-Notify`), when it did and the address is a plain http(s)
    /// URL.
    pub notify: Option<url::Url>,
}

/// Longest `Signpost-Notify` address remembered.
const MAX_NOTIFY_CHARS: usize = 2048;

/// A `Signpost-Notify` value, when it is a plain http(s) URL of a sane
/// length (anything else is ignored: the header is a hint from a stranger).
pub fn notify_url(value: &str) -> Option<url::Url> {
    if value.len() > MAX_NOTIFY_CHARS {
        return None;
    }
    let url = url::Url::parse(value.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none())
    .then_some(url)
}

/// The bounded log of aggregator fetches.
#[derive(Debug, Default)]
pub struct FetchLog {
    seen: Mutex<HashMap<IpAddr, Fetcher>>,
}

/// True for the User-Agent that Signpost aggregators send
/// (`signpost-node/VERSION (aggregator)`).
pub fn is_aggregator(user_agent: &str) -> bool {
    user_agent.starts_with("signpost-node/") && user_agent.contains("aggregator")
}

impl FetchLog {
    /// Notes a fetch if it came from an aggregator; other clients are
    /// not recorded.
    pub fn record(
        &self,
        address: IpAddr,
        user_agent: &str,
        notify: Option<&str>,
        seq: u64,
        at: Timestamp,
    ) {
        if !is_aggregator(user_agent) {
            return;
        }
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if !seen.contains_key(&address) && seen.len() >= MAX_FETCHERS {
            if let Some(oldest) = seen.values().min_by_key(|f| f.at).map(|f| f.address) {
                seen.remove(&oldest);
            }
        }
        seen.insert(
            address,
            Fetcher {
                address,
                user_agent: user_agent.chars().take(200).collect(),
                at,
                seq,
                notify: notify.and_then(notify_url),
            },
        );
    }

    /// Every remembered aggregator, most recent first.
    pub fn recent(&self) -> Vec<Fetcher> {
        let mut all: Vec<Fetcher> = self
            .seen
            .lock()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by(|a, b| b.at.cmp(&a.at).then(a.address.cmp(&b.address)));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_aggregators_are_recorded_and_the_log_is_bounded() {
        let log = FetchLog::default();
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        log.record("192.0.2.1".parse().unwrap(), "curl/8.0", None, 1, t(0));
        assert!(log.recent().is_empty());
        for i in 0..(MAX_FETCHERS as i64 + 5) {
            let ip: IpAddr = format!("192.0.2.{}", i + 1).parse().unwrap();
            log.record(ip, "signpost-node/0.1.0 (aggregator)", None, 1, t(i));
        }
        let recent = log.recent();
        assert_eq!(recent.len(), MAX_FETCHERS);
        assert!(notify_url("http://agg.example.org/v1/notify?source=x").is_some());
        assert!(notify_url("ftp://agg.example.org/").is_none());
        assert!(notify_url("http://user:pw@agg.example.org/").is_none());
        assert!(notify_url(&format!("http://a.example.org/{}", "x".repeat(3000))).is_none());
        assert_eq!(recent[0].at, t(MAX_FETCHERS as i64 + 4));
        assert!(
            !recent.iter().any(|f| f.at == t(0)),
            "the oldest went first"
        );
    }
}
