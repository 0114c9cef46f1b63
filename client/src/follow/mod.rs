//! Following another aggregator's RPDE feed: what makes a network of
//! aggregators with no centre, and what an app's replica does too.
//!
//! Nothing an upstream says is trusted because of who says it. Every
//! envelope goes through [`Directory::ingest`], the same path as a direct
//! crawl: signature, the hub's own pinned key and rotation chain, `seq`
//! strictly rising, expiry. Listings are keyed by `(hub_id, seq)`, so the
//! same one arriving twice, or around a loop of aggregators, is a no-op and
//! any graph of aggregators converges. A deleted item carries no signature,
//! so it is only a hint: the upstream's stored envelope is fetched and
//! believed only if it is a signed withdrawal.
//!
//! The cursor is our own (the last change number read), kept in the store
//! after each page, so a poll that is interrupted resumes without missing
//! or repeating anything. A page that goes backwards, repeats itself, or is
//! not an RPDE page is refused whole and counted against that upstream
//! only.

use std::collections::HashSet;

use futures_util::StreamExt;
use serde::Serialize;
use url::Url;

use signpost_spec::feed::{FeedItem, FeedPage, ItemState, FEED_PATH, ITEM_KIND, MAX_FEED_LIMIT};

use crate::directory::{Directory, Ingested};
use crate::error::Result;
use crate::fetch::{FetchError, Fetched, Fetcher, Fetchers};
use crate::store::aggregator::{self as db, PageCounts, Upstream};

/// How much one poll reads.
#[derive(Debug, Clone, Copy)]
pub struct PollLimits {
    /// Items asked for per page.
    pub page_size: u32,
    /// Most pages read in one poll (the next poll carries on).
    pub max_pages: usize,
    /// At the end of the feed, ask the upstream to hold the request this
    /// many seconds for a new item (`wait=`; 0 never asks). Must stay
    /// under the fetcher's timeout.
    pub wait_secs: u32,
}

impl Default for PollLimits {
    fn default() -> Self {
        PollLimits {
            page_size: 50,
            max_pages: 200,
            wait_secs: 0,
        }
    }
}

/// Most refusals described one by one in a [`PollReport`].
pub const MAX_REFUSALS_LISTED: usize = 100;

/// Items of one feed page being verified at once: enough to keep every
/// core and the group-committed writer busy, few enough to bound memory.
const PAGE_CONCURRENCY: usize = 32;

/// One refused item, for the operator or the app.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// The item's hub id as the upstream gave it.
    pub hub_id: String,
    /// Stable code (a spec error code, an acceptance rule, or `bad_feed`).
    pub code: String,
    /// What is wrong.
    pub message: String,
}

/// The feed URL for what an operator typed: a bare base address gets
/// `/v1/feed`; anything with a path is used as it is (without its query).
pub fn feed_url(input: &str) -> std::result::Result<Url, String> {
    let mut url = crate::fetch::listing_url(input)?;
    if url.path() == crate::fetch::WELL_KNOWN_PATH && !input.contains(crate::fetch::WELL_KNOWN_PATH)
    {
        url.set_path(FEED_PATH);
    }
    url.set_query(None);
    Ok(url)
}

/// What one poll of an upstream did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PollReport {
    /// The upstream's feed URL.
    pub url: String,
    /// Pages read.
    pub pages: usize,
    /// Counts over all pages.
    pub counts: PageCounts,
    /// The cursor after the poll.
    pub cursor: i64,
    /// True when the poll reached the end of the feed.
    pub caught_up: bool,
    /// True when the upstream held a request at the end of its feed
    /// (`wait=`): it may be polled again at once, the wait being the
    /// interval.
    pub waited: bool,
    /// Why the poll stopped early, if it did: (code, message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<(String, String)>,
    /// The first refused items, each with its reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refusal>,
}

fn page_url(feed: &Url, cursor: i64, limit: u32, wait: u32) -> Url {
    let mut url = feed.clone();
    let mut query = format!("afterChangeNumber={cursor}&limit={limit}");
    if wait > 0 {
        query.push_str(&format!("&wait={wait}"));
    }
    url.set_query(Some(&query));
    url
}

/// Fetches and checks one page after `cursor`; with `wait`, asks the
/// upstream to hold the request that long when the page would be empty.
/// Gives the page and the seconds the upstream allowed, when it said.
pub async fn fetch_page(
    fetcher: &Fetcher,
    feed: &Url,
    cursor: i64,
    limit: u32,
    wait: u32,
) -> std::result::Result<(FeedPage, Option<u32>), FetchError> {
    let url = page_url(feed, cursor, limit, wait);
    let (bytes, allowed) = match fetcher.fetch(&url, &Default::default()).await? {
        Fetched::Body {
            bytes, feed_wait, ..
        } => (bytes, feed_wait),
        Fetched::NotModified => {
            return Err(FetchError {
                code: "http_status",
                message: format!("{url} answered 304 to an unconditional request"),
            })
        }
    };
    signpost_spec::check_depth(&bytes, 64, "feed page").map_err(|e| FetchError {
        code: "bad_feed",
        message: format!("{url}: {e}"),
    })?;
    let page: FeedPage = serde_json::from_slice(&bytes).map_err(|e| FetchError {
        code: "bad_feed",
        message: format!("{url} is not an RPDE page: {e}"),
    })?;
    let mut last = (cursor, String::new());
    let mut seen = HashSet::new();
    for item in &page.items {
        let key = (item.modified, item.id.clone());
        if item.modified <= cursor || key <= last || !seen.insert(key.clone()) {
            return Err(FetchError {
                code: "feed_backwards",
                message: format!(
                    "{url}: item {} with modified {} is not after {} (the feed must be ordered by modified, then id, after the cursor)",
                    item.id, item.modified, last.0
                ),
            });
        }
        last = key;
    }
    Ok((page, allowed))
}

/// How deleted items without a signed withdrawal are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletions {
    /// Ignore them: an upstream's local delisting is its own business
    /// (aggregators following aggregators).
    SignedOnly,
    /// Mirror them: a replica shows what its aggregator shows (apps).
    Mirror,
}

/// Reads an upstream's feed from its stored cursor to the end (or
/// [`MAX_PAGES_PER_POLL`] pages), ingesting every item, and records the
/// cursor after each page. `progress` is called after each page.
pub async fn poll(
    directory: &Directory,
    fetchers: &Fetchers,
    upstream: &Upstream,
    deletions: Deletions,
    limits: PollLimits,
    mut progress: impl FnMut(&PollReport),
) -> Result<PollReport> {
    let feed = match Url::parse(&upstream.url) {
        Ok(u) => u,
        Err(e) => {
            return Ok(PollReport {
                url: upstream.url.clone(),
                error: Some(("bad_url".into(), e.to_string())),
                ..Default::default()
            })
        }
    };
    let mut report = PollReport {
        url: upstream.url.clone(),
        cursor: upstream.cursor,
        ..Default::default()
    };
    let mut limit = limits.page_size.clamp(1, MAX_FEED_LIMIT);
    // Once per poll, at the end of the feed, a request waits there.
    let (mut wait, mut held) = (0, false);
    while report.pages < limits.max_pages {
        let fetched = if wait > 0 {
            // A held request takes no politeness turn: it is one
            // connection waiting, not load on the upstream.
            fetch_page(&fetchers.feed, &feed, report.cursor, limit, wait).await
        } else {
            let _turn = fetchers.politeness.turn(&feed).await;
            fetch_page(&fetchers.feed, &feed, report.cursor, limit, 0).await
        };
        let asked_to_wait = std::mem::take(&mut wait) > 0;
        let page = match fetched {
            Ok((page, allowed)) => {
                if asked_to_wait {
                    report.waited = allowed.is_some_and(|s| s > 0);
                }
                page
            }
            // An upstream that does not know `wait` may refuse it: it is
            // then polled on the interval, as before.
            Err(_) if asked_to_wait => {
                report.caught_up = true;
                break;
            }
            // A page of big listings may not fit: ask for fewer at a time.
            Err(e) if e.code == "too_large" && limit > 1 => {
                limit = (limit / 5).max(1);
                continue;
            }
            Err(e) => {
                report.error = Some((e.code.to_owned(), e.message));
                break;
            }
        };
        report.pages += 1;
        if page.items.is_empty() {
            if !held && limits.wait_secs > 0 && report.pages < limits.max_pages {
                (wait, held) = (limits.wait_secs, true);
                continue;
            }
            report.caught_up = true;
            break;
        }
        let mut counts = PageCounts::default();
        let mut cursor = report.cursor;
        // Items are verified concurrently (every core) and stored by the
        // group-committed writer; results are read back in feed order.
        let mut outcomes = futures_util::stream::iter(page.items)
            .map(|item| {
                let (id, modified) = (item.id.clone(), item.modified);
                let feed = &feed;
                async move {
                    (
                        id,
                        modified,
                        ingest_item(directory, fetchers, feed, item, deletions).await,
                    )
                }
            })
            .buffered(PAGE_CONCURRENCY);
        while let Some((id, modified, outcome)) = outcomes.next().await {
            cursor = modified;
            match outcome? {
                Some(Ingested::Accepted { .. }) => counts.accepted += 1,
                Some(Ingested::Unchanged { .. }) | None => counts.unchanged += 1,
                Some(Ingested::Rejected { code, message, .. }) => {
                    counts.rejected += 1;
                    tracing::warn!(upstream = %feed, hub_id = %id, %code, %message,
                        "refused an item from an upstream");
                    if report.refused.len() < MAX_REFUSALS_LISTED {
                        report.refused.push(Refusal {
                            hub_id: id,
                            code,
                            message,
                        });
                    }
                }
            }
        }
        let url = upstream.url.clone();
        directory
            .write(move |c| db::advance_upstream(c, &url, cursor, counts))
            .await?;
        report.cursor = cursor;
        report.counts.accepted += counts.accepted;
        report.counts.unchanged += counts.unchanged;
        report.counts.rejected += counts.rejected;
        progress(&report);
    }
    // A finished poll's listings are searchable when it answers (not only
    // within the index's commit interval).
    if report.counts.accepted > 0 {
        directory.make_searchable().await?;
    }
    Ok(report)
}

fn rejected(hub_id: &str, code: &str, message: String) -> Ingested {
    Ingested::Rejected {
        hub_id: Some(hub_id.to_owned()),
        code: code.to_owned(),
        message,
    }
}

async fn ingest_item(
    directory: &Directory,
    fetchers: &Fetchers,
    feed: &Url,
    item: FeedItem,
    deletions: Deletions,
) -> Result<Option<Ingested>> {
    if item.kind != ITEM_KIND {
        return Ok(Some(rejected(
            &item.id,
            "bad_feed",
            format!("kind {:?} is not SignpostListing", item.kind),
        )));
    }
    match (item.state, item.data) {
        (ItemState::Updated, Some(data)) => {
            if data.hub_id != item.id {
                return Ok(Some(rejected(
                    &item.id,
                    "bad_feed",
                    "data.hub_id differs from the item's id".into(),
                )));
            }
            let bytes = data.envelope.get().as_bytes().to_vec();
            // The envelope must be the item's hub's: checked after the
            // signature and before anything is stored.
            let outcome = directory
                .ingest_expecting(bytes, Some(feed.to_string()), Some(item.id.clone()))
                .await?;
            Ok(Some(outcome))
        }
        (ItemState::Updated, None) => Ok(Some(rejected(
            &item.id,
            "bad_feed",
            "an updated item without data".into(),
        ))),
        (ItemState::Deleted, _) => {
            deleted_item(directory, fetchers, feed, &item.id, deletions).await
        }
        (ItemState::Other, _) => Ok(Some(rejected(
            &item.id,
            "bad_feed",
            "the item's state is neither updated nor deleted".into(),
        ))),
    }
}

/// A deleted item: believe a signed withdrawal, else (for replicas) mirror.
async fn deleted_item(
    directory: &Directory,
    fetchers: &Fetchers,
    feed: &Url,
    hub_id: &str,
    deletions: Deletions,
) -> Result<Option<Ingested>> {
    if signpost_spec::KeyId::parse(hub_id).is_err() {
        return Ok(Some(rejected(
            hub_id,
            "bad_feed",
            "a deleted item's id is not a hub id".into(),
        )));
    }
    let mut listing_url = feed.clone();
    listing_url.set_query(None);
    listing_url.set_path(&format!("/v1/hubs/{hub_id}/listing"));
    let fetched = {
        let _turn = fetchers.politeness.turn(&listing_url).await;
        fetchers
            .listing
            .fetch(&listing_url, &Default::default())
            .await
    };
    match fetched {
        Ok(Fetched::Body { bytes, .. }) => {
            let outcome = directory
                .ingest_expecting(bytes, Some(feed.to_string()), Some(hub_id.to_owned()))
                .await?;
            Ok(Some(outcome))
        }
        Err(e) if e.code == "not_found" && deletions == Deletions::Mirror => {
            directory.delist(hub_id).await?;
            Ok(None)
        }
        Ok(Fetched::NotModified) | Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_addresses() {
        assert_eq!(
            feed_url("https://agg.example.org").unwrap().as_str(),
            "https://agg.example.org/v1/feed"
        );
        assert_eq!(
            feed_url("https://agg.example.org/v1/feed?afterChangeNumber=5")
                .unwrap()
                .as_str(),
            "https://agg.example.org/v1/feed"
        );
        assert!(feed_url("ftp://agg.example.org").is_err());
        let u = page_url(&feed_url("http://127.0.0.1:9/").unwrap(), 7, 50, 0);
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/v1/feed?afterChangeNumber=7&limit=50"
        );
        let u = page_url(&feed_url("http://127.0.0.1:9/").unwrap(), 7, 50, 15);
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/v1/feed?afterChangeNumber=7&limit=50&wait=15"
        );
    }
}
