//! # signpost-client
//!
//! The replica library: everything that turns signed listings into a
//! directory that can be searched, with no HTTP server in it. Apps use it
//! as it is ([`Replica`]: follow an aggregator's RPDE feed from a saved
//! cursor, verify every listing end to end against the hub that signed it,
//! keep a local SQLite replica and search it offline); the aggregator
//! (`signpost-node`) uses the same [`directory`] and adds crawling,
//! scheduling and serving around it.
//!
//! One path for a listing, arrows one way:
//! [`fetch`] (guarded HTTP) -> [`directory`] (verify first, parse once,
//! judge with [`verify`]) -> [`store`] (SQLite, the record) -> [`search`]
//! (tantivy, the index, and the one query engine) -> readers. [`follow`]
//! reads another node's feed into a directory; [`import`], [`hsds`] and
//! [`spreadsheet`] translate between listings and the files people keep;
//! [`calendar`] writes a hub's opening times as iCalendar.
//!
//! What an aggregator says is never trusted for content: only listings
//! signed by their hubs get in.
//!
//! ```no_run
//! # async fn example() -> signpost_client::Result<()> {
//! use signpost_client::{Replica, SyncLimits};
//! let replica = Replica::open(std::path::Path::new("directory.db"))?;
//! replica.sync("https://directory.example.org", SyncLimits::default(), |_| {}).await?;
//! let params = signpost_client::search::SearchParams::from_query(
//!     &[("q".to_owned(), "food bank".to_owned())].into_iter().collect(),
//! )?;
//! let page = replica.search(params).await?;
//! println!("{} services", page.total);
//! # Ok(()) }
//! ```

pub mod calendar;
pub mod directory;
pub mod error;
pub mod export;
pub mod fetch;
pub mod follow;
pub mod hsds;
pub mod import;
pub mod inspect;
pub mod search;
pub mod spreadsheet;
pub mod store;
pub mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use directory::{Directory, DirectorySettings};
use fetch::{FetchSettings, Fetchers};
use follow::{Deletions, PollLimits, PollReport, Refusal};
use search::SearchParams;
use store::aggregator::{self as db, HubSummary};
use verify::{Trust, TrustPolicy};

pub use error::{Error, Result};

// The same as an aggregator's defaults (`signpost-node`'s config).
/// Seconds allowed to open a connection to the aggregator.
const REPLICA_CONNECT_TIMEOUT_SECS: u64 = 5;
/// Seconds allowed for one feed page or listing, body included.
const REPLICA_REQUEST_TIMEOUT_SECS: u64 = 20;
/// Largest feed page read; a page too large is asked for again in fewer
/// items.
const REPLICA_MAX_FEED_PAGE_BYTES: usize = 16 * 1024 * 1024;
/// Fetches in flight at once.
const REPLICA_MAX_CONCURRENT_FETCHES: usize = 32;

/// A local, verified copy of one aggregator's directory.
pub struct Replica {
    store: Directory,
    fetchers: Fetchers,
    path: PathBuf,
}

/// How much a sync reads.
#[derive(Debug, Clone, Copy)]
pub struct SyncLimits {
    /// Items per feed page (1 to 500).
    pub page_size: u32,
    /// Stop after this many pages (None: read to the end).
    pub max_pages: Option<usize>,
}

impl Default for SyncLimits {
    fn default() -> Self {
        SyncLimits {
            page_size: 100,
            max_pages: None,
        }
    }
}

/// Progress of a sync, after each page.
#[derive(Debug, Clone, Default)]
pub struct SyncProgress {
    /// Pages read so far.
    pub pages: usize,
    /// Listings accepted so far.
    pub accepted: u64,
    /// Items refused so far (altered, replayed, or junk).
    pub rejected: u64,
    /// The cursor reached.
    pub cursor: i64,
}

/// What a sync did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncReport {
    /// The feed followed.
    pub feed: String,
    /// Pages read.
    pub pages: usize,
    /// Listings accepted (new or newer).
    pub accepted: u64,
    /// Listings already held.
    pub unchanged: u64,
    /// Items refused; see `refused` for the first of them.
    pub rejected: u64,
    /// The cursor reached (saved in the replica).
    pub cursor: i64,
    /// True when the end of the feed was reached.
    pub caught_up: bool,
    /// The first refused items, each with its reason.
    pub refused: Vec<Refusal>,
}

impl Replica {
    /// Opens (creating if needed) a replica file.
    pub fn open(path: &Path) -> Result<Replica> {
        let limits = signpost_spec::Limits::default();
        let fetchers = Fetchers::new(
            FetchSettings {
                max_bytes: limits.max_envelope_bytes,
                connect_timeout: Duration::from_secs(REPLICA_CONNECT_TIMEOUT_SECS),
                total_timeout: Duration::from_secs(REPLICA_REQUEST_TIMEOUT_SECS),
                // The app chose the aggregator's address itself.
                allow_private: true,
                allowed_addresses: Vec::new(),
            },
            REPLICA_MAX_FEED_PAGE_BYTES,
            REPLICA_MAX_CONCURRENT_FETCHES,
        )?;
        let store = Directory::open(
            path,
            DirectorySettings {
                limits,
                // Trust on first use: keys are pinned on the first listing
                // met, so the aggregator cannot swap a hub's key later.
                policy: TrustPolicy::new(Trust::Open, []),
                on_ingest: None,
            },
        )?;
        Ok(Replica {
            store,
            fetchers,
            path: path.to_owned(),
        })
    }

    /// Follows the aggregator at `from` (its base address or feed URL) from
    /// the saved cursor, within `limits`. Safe to interrupt at any point:
    /// the cursor is saved after each page, and a page read twice changes
    /// nothing the second time.
    pub async fn sync(
        &self,
        from: &str,
        limits: SyncLimits,
        mut progress: impl FnMut(&SyncProgress),
    ) -> Result<SyncReport> {
        let max_pages = limits.max_pages;
        let feed = follow::feed_url(from)
            .map_err(Error::BadAddress)?
            .to_string();
        let upstream = {
            let feed = feed.clone();
            self.store
                .write(move |c| {
                    let existing = db::list_upstreams(c)?;
                    if existing.is_empty() {
                        db::add_upstream(c, &feed, "cli")?;
                    }
                    db::list_upstreams(c)
                })
                .await?
        };
        let Some(upstream) = upstream.into_iter().next() else {
            return Err(Error::BadAddress(format!("could not record {feed}")));
        };
        if upstream.url != feed {
            return Err(Error::OtherAggregator {
                db: self.path.clone(),
                following: upstream.url,
                asked: feed,
            });
        }
        let mut total = SyncReport {
            feed: feed.clone(),
            pages: 0,
            accepted: 0,
            unchanged: 0,
            rejected: 0,
            cursor: upstream.cursor,
            caught_up: false,
            refused: Vec::new(),
        };
        let mut upstream = upstream;
        loop {
            let budget = max_pages.map(|m| m.saturating_sub(total.pages));
            if budget == Some(0) {
                break;
            }
            let limits = PollLimits {
                page_size: limits.page_size,
                max_pages: budget.unwrap_or(usize::MAX).min(200),
                wait_secs: 0,
            };
            let base = total.clone();
            let report: PollReport = follow::poll(
                &self.store,
                &self.fetchers,
                &upstream,
                Deletions::Mirror,
                limits,
                |r| {
                    progress(&SyncProgress {
                        pages: base.pages + r.pages,
                        accepted: base.accepted + r.counts.accepted,
                        rejected: base.rejected + r.counts.rejected,
                        cursor: r.cursor,
                    })
                },
            )
            .await?;
            total.pages += report.pages;
            total.accepted += report.counts.accepted;
            total.unchanged += report.counts.unchanged;
            total.rejected += report.counts.rejected;
            total.cursor = report.cursor;
            total.refused.extend(report.refused);
            total.refused.truncate(follow::MAX_REFUSALS_LISTED);
            let now = Timestamp::now().as_second();
            let (url, error) = (feed.clone(), report.error.clone());
            self.store
                .write(move |c| {
                    db::record_poll(
                        c,
                        &url,
                        now,
                        error.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
                        now,
                    )
                })
                .await?;
            if let Some((code, message)) = report.error {
                return Err(Error::Feed { code, message });
            }
            if report.caught_up {
                total.caught_up = true;
                break;
            }
            upstream.cursor = report.cursor;
        }
        Ok(total)
    }

    /// Searches the replica (text, category, distance, open at), offline.
    pub async fn search(&self, params: SearchParams) -> Result<search::Page> {
        self.store.search(params).await
    }

    /// Every hub held, with profile and freshness.
    pub async fn hubs(&self) -> Result<Vec<HubSummary>> {
        let (hubs, _) = self.store.hubs(u32::MAX, 0).await?;
        Ok(hubs)
    }

    /// Every active listing: (hub id, seq, the signed envelope's bytes).
    pub async fn listings(&self) -> Result<Vec<(String, u64, Vec<u8>)>> {
        self.store.active_listings().await
    }
}
