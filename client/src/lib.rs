//! # signpost-client
//!
//! For apps that use a Signpost directory: follow an aggregator's RPDE feed
//! incrementally from a saved cursor, verify every listing end to end
//! against the hub that signed it (with a pin store of hub keys, so an
//! aggregator cannot swap a hub's key), keep a local SQLite replica, and
//! search it offline.
//!
//! The replica is the same store an aggregator keeps, filled by the same
//! verification path ([`signpost_node::follow`]): what the aggregator says
//! is never trusted for content; only signed listings get in.

pub mod export;
pub mod inspect;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use signpost_node::aggregator::Aggregator;
use signpost_node::config::AggregatorSection;
use signpost_node::follow::{self, Deletions, PollLimits, PollReport, Refusal};
use signpost_node::search::{self, SearchParams};
use signpost_node::store::aggregator::{self as db, HubSummary};
use signpost_node::NodeError;
use thiserror::Error;

/// Everything that can go wrong in the client library.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The replica's database or its verification failed.
    #[error("{0}")]
    Store(#[from] NodeError),
    /// The aggregator's address is not usable.
    #[error("{0}")]
    BadAddress(String),
    /// This replica already follows another aggregator.
    #[error("{db} follows {following}; use another file to follow {asked}")]
    OtherAggregator {
        /// The replica file.
        db: PathBuf,
        /// The feed it follows.
        following: String,
        /// The feed asked for.
        asked: String,
    },
    /// The feed could not be read (network, HTTP, or not an RPDE feed).
    #[error("sync stopped: {code}: {message}")]
    Feed {
        /// Stable code (`timeout`, `connect_failed`, `bad_feed`, `feed_backwards`, ...).
        code: String,
        /// What happened.
        message: String,
    },
    /// A stored listing could not be written out.
    #[error("export: {0}")]
    Export(String),
    /// A listing file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Result alias for the client library.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// A local, verified copy of one aggregator's directory.
pub struct Replica {
    store: Arc<Aggregator>,
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
        let settings = AggregatorSection {
            enabled: true,
            // The app chose the aggregator's address itself.
            allow_private_networks: true,
            ..AggregatorSection::default()
        };
        Ok(Replica {
            store: Arc::new(Aggregator::open_db(path, &settings)?),
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
            .map_err(ClientError::BadAddress)?
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
            return Err(ClientError::BadAddress(format!("could not record {feed}")));
        };
        if upstream.url != feed {
            return Err(ClientError::OtherAggregator {
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
            };
            let base = total.clone();
            let report: PollReport =
                follow::poll(&self.store, &upstream, Deletions::Mirror, limits, |r| {
                    progress(&SyncProgress {
                        pages: base.pages + r.pages,
                        accepted: base.accepted + r.counts.accepted,
                        rejected: base.rejected + r.counts.rejected,
                        cursor: r.cursor,
                    })
                })
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
                return Err(ClientError::Feed { code, message });
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
        Ok(self.store.search(params).await?)
    }

    /// Every hub held, with profile and freshness.
    pub async fn hubs(&self) -> Result<Vec<HubSummary>> {
        let (hubs, _) = self
            .store
            .read(|c| db::list_hubs(c, None, u32::MAX, 0, Timestamp::now().as_second()))
            .await?;
        Ok(hubs)
    }

    /// Every active listing: (hub id, seq, the signed envelope's bytes).
    pub async fn listings(&self) -> Result<Vec<(String, u64, Vec<u8>)>> {
        Ok(self.store.read(db::active_listings).await?)
    }
}
