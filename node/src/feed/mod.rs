//! The change feed, an RPDE 1.0 feed (OpenActive's Realtime Paged Data
//! Exchange) so that existing harvesters can follow an aggregator.
//!
//! Every stored change to a hub (a new listing, a withdrawal, a delisting)
//! takes the next value of a counter that never goes back; that value is
//! the item's `modified`. Items are ordered by `modified` then `id`. The
//! `next` link of a page is built from its last item; an empty page links
//! to itself, which is where a consumer waits for new changes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::error::{NodeError, Result};

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 100;
/// Longest a request of the last page may ask to wait for a new item
/// (`wait`, in seconds): well under the server's request timeout (60 s by
/// default) and the idle timeouts of common proxies. A node whose
/// `server.request_timeout_secs` is shorter grants less ([`wait_within`]).
pub const MAX_WAIT_SECS: u32 = 30;
/// Most feed requests waiting at once, in total and per client address
/// (an IPv6 client by its /64): past either, a request is answered at
/// once, as if it had not asked to wait.
pub const MAX_WAITING: usize = 1000;
/// See [`MAX_WAITING`].
pub const MAX_WAITING_PER_CLIENT: usize = 4;
/// Seconds a held request ends before the request timeout it runs under,
/// so that it is answered with its page, never the timeout's 408.
pub const WAIT_MARGIN_SECS: u64 = 5;

/// The longest wait, up to `cap` seconds, that ends [`WAIT_MARGIN_SECS`]
/// before a request timeout of `timeout_secs` (0 when the timeout is
/// shorter than the margin): what the feed grants under the node's
/// `server.request_timeout_secs`, and what a follower asks for under its
/// fetch timeout.
pub fn wait_within(cap: u32, timeout_secs: u64) -> u32 {
    let room = timeout_secs.saturating_sub(WAIT_MARGIN_SECS);
    u32::try_from(room).map_or(cap, |room| room.min(cap))
}
pub use signpost_client::store::feed::Cursor;
use signpost_spec::feed::MAX_FEED_LIMIT;
pub use signpost_spec::feed::{FeedItem, FeedPage, WAIT_HEADER};

/// A checked feed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    /// Position to continue after.
    pub cursor: Cursor,
    /// Items per page.
    pub limit: u32,
    /// Seconds to wait for a new item when the page would be empty (0:
    /// answer at once, what RPDE harvesters that never send `wait` get).
    pub wait: u32,
}

impl FeedQuery {
    /// Reads `afterChangeNumber`, or `afterTimestamp` with `afterId`, and `limit`.
    pub fn from_query(query: &HashMap<String, String>) -> Result<FeedQuery> {
        for key in query.keys() {
            if !matches!(
                key.as_str(),
                "afterChangeNumber" | "afterTimestamp" | "afterId" | "limit" | "wait"
            ) {
                return Err(NodeError::invalid(
                    key,
                    "is not a feed parameter (afterChangeNumber, afterTimestamp, afterId, limit, wait)",
                ));
            }
        }
        let number = |name: &str| -> Result<Option<i64>> {
            query
                .get(name)
                .map(|v| {
                    v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        NodeError::invalid(
                            name,
                            format!("{v:?} is not a whole number of 0 or more"),
                        )
                    })
                })
                .transpose()
        };
        let change = number("afterChangeNumber")?;
        let timestamp = number("afterTimestamp")?;
        let after_id = query.get("afterId");
        let cursor = match (change, timestamp, after_id) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(NodeError::invalid(
                    "afterChangeNumber",
                    "give either afterChangeNumber or afterTimestamp with afterId, not both",
                ))
            }
            (Some(n), None, None) => Cursor::ChangeNumber(n),
            (None, Some(t), Some(id)) => {
                if id.len() > 256 {
                    return Err(NodeError::invalid("afterId", "is too long"));
                }
                Cursor::TimestampAndId(t, id.clone())
            }
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(NodeError::invalid(
                    "afterTimestamp",
                    "afterTimestamp and afterId go together",
                ))
            }
            (None, None, None) => Cursor::ChangeNumber(0),
        };
        let limit = match query.get("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_FEED_LIMIT).contains(n))
                .ok_or_else(|| {
                    NodeError::invalid(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_FEED_LIMIT}"),
                    )
                })?,
        };
        let wait = match query.get("wait") {
            None => 0,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_WAIT_SECS)
                .ok_or_else(|| {
                    NodeError::invalid(
                        "wait",
                        format!("must be a whole number of seconds from 0 to {MAX_WAIT_SECS}"),
                    )
                })?,
        };
        Ok(FeedQuery {
            cursor,
            limit,
            wait,
        })
    }

    /// The query string of this request (for a page that links to itself).
    pub fn query_string(&self) -> String {
        let mut s = match &self.cursor {
            Cursor::ChangeNumber(n) => format!("afterChangeNumber={n}"),
            Cursor::TimestampAndId(t, id) => {
                let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
                format!("afterTimestamp={t}&afterId={id}")
            }
        };
        s.push_str(&format!("&limit={}", self.limit));
        s
    }

    /// The query string that continues after an item.
    fn after(&self, modified: i64, id: &str) -> FeedQuery {
        FeedQuery {
            cursor: match self.cursor {
                Cursor::ChangeNumber(_) => Cursor::ChangeNumber(modified),
                Cursor::TimestampAndId(..) => Cursor::TimestampAndId(modified, id.to_owned()),
            },
            limit: self.limit,
            wait: 0,
        }
    }
}

/// `Cache-Control` of a full page: its items can never change (the next
/// page's cursor is fixed by them), so CDNs may keep it an hour, as RPDE's
/// scaling guidance says.
pub const FULL_PAGE_CACHE: &str = "public, max-age=3600";
/// `Cache-Control` of the last page (fewer items than asked for, or none):
/// new changes will appear on it, so it is kept only briefly, long enough
/// to absorb many harvesters polling at once.
pub const LAST_PAGE_CACHE: &str = "public, max-age=8";

/// The `Cache-Control` of a page with `items` items, `limit` asked for.
pub fn cache_control(items: usize, limit: u32) -> &'static str {
    if items > 0 && items >= limit as usize {
        FULL_PAGE_CACHE
    } else {
        LAST_PAGE_CACHE
    }
}

/// Who is waiting for the feed's next item, counted to keep waiting
/// requests within [`MAX_WAITING`] and [`MAX_WAITING_PER_CLIENT`].
#[derive(Debug, Default)]
pub struct Waiters {
    /// (in total, per client address)
    waiting: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// A place among the [`Waiters`], given back when dropped.
#[derive(Debug)]
pub struct WaitTurn<'a> {
    waiters: &'a Waiters,
    client: IpAddr,
}

impl Waiters {
    /// A turn to wait for `client` (an address as
    /// [`crate::forwarded::allowance_key`] groups it), or None when too
    /// many are waiting.
    pub fn enter(&self, client: IpAddr) -> Option<WaitTurn<'_>> {
        let mut waiting = self.waiting.lock().ok()?;
        let (total, per_client) = &mut *waiting;
        let mine = per_client.entry(client).or_default();
        if *total >= MAX_WAITING || *mine >= MAX_WAITING_PER_CLIENT {
            return None;
        }
        *mine += 1;
        *total += 1;
        Some(WaitTurn {
            waiters: self,
            client,
        })
    }
}

impl Drop for WaitTurn<'_> {
    fn drop(&mut self) {
        let Ok(mut waiting) = self.waiters.waiting.lock() else {
            return;
        };
        let (total, per_client) = &mut *waiting;
        *total = total.saturating_sub(1);
        if let Some(mine) = per_client.get_mut(&self.client) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                per_client.remove(&self.client);
            }
        }
    }
}

/// Wraps the items read after `query`'s cursor
/// ([`signpost_client::directory::Directory::feed_page`]) in an RPDE page.
/// `feed_url` is the absolute URL of `/v1/feed` on this node; `next`
/// continues from the last item (an empty page links to itself).
pub fn page(items: Vec<FeedItem>, query: &FeedQuery, feed_url: &str, license: &str) -> FeedPage {
    let next_query = match items.last() {
        Some(last) => query.after(last.modified, &last.id),
        None => query.clone(),
    };
    FeedPage {
        items,
        next: format!("{feed_url}?{}", next_query.query_string()),
        license: license.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<FeedQuery> {
        FeedQuery::from_query(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_wait_ends_before_the_request_timeout() {
        assert_eq!(wait_within(MAX_WAIT_SECS, 60), MAX_WAIT_SECS);
        assert_eq!(wait_within(MAX_WAIT_SECS, 35), 30);
        assert_eq!(wait_within(MAX_WAIT_SECS, 20), 15);
        assert_eq!(wait_within(MAX_WAIT_SECS, 6), 1);
        assert_eq!(wait_within(MAX_WAIT_SECS, 5), 0);
        assert_eq!(wait_within(MAX_WAIT_SECS, 1), 0);
        assert_eq!(wait_within(25, u64::MAX), 25);
    }

    #[test]
    fn cursors_parse_and_print() {
        assert_eq!(q(&[]).unwrap().cursor, Cursor::ChangeNumber(0));
        let t = q(&[
            ("afterTimestamp", "5"),
            ("afterId", "ed25519:a b"),
            ("limit", "7"),
        ])
        .unwrap();
        assert_eq!(
            t.query_string(),
            "afterTimestamp=5&afterId=ed25519%3Aa+b&limit=7"
        );
        assert!(q(&[("afterChangeNumber", "-1")]).is_err());
        assert!(q(&[("afterChangeNumber", "1"), ("afterId", "x")]).is_err());
        assert!(q(&[("afterTimestamp", "1")]).is_err());
        assert!(q(&[("limit", "0")]).is_err());
        assert!(q(&[("limit", "100000")]).is_err());
        assert!(q(&[("after", "1")]).is_err());
    }
}
