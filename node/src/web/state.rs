//! What every request handler can reach: the roles a node runs (its hub,
//! its aggregator), their allowances and caches, and the hub's live
//! publication. Built once by [`crate::server::start`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;

use crate::aggregator::Aggregator;
use crate::config::Config;
use crate::error::{NodeError, Result};
use crate::hub::{HubCore, Published};
use crate::rate_limit::RateLimiter;
use crate::web::admin::token::AdminToken;

/// What every request handler can reach.
pub struct AppState {
    /// The hub role, when enabled.
    pub hub: Option<Arc<HubHandle>>,
    /// The aggregator role, when enabled.
    pub aggregator: Option<Arc<Aggregator>>,
    /// The admin token's hash.
    pub admin_token: AdminToken,
    /// `node.public_url`, for absolute links (the feed's `next`).
    pub public_url: Option<String>,
    /// Allowance of `POST /v1/register` per client address.
    pub register_limiter: RateLimiter,
    /// Allowance of `POST /v1/notify` per client address.
    pub nudge_limiter: RateLimiter,
    /// Feed requests waiting for the next item (`/v1/feed?wait=`).
    pub feed_waiters: crate::feed::Waiters,
    /// Longest wait granted on the feed: [`crate::feed::MAX_WAIT_SECS`],
    /// or less so a held request ends before `server.request_timeout_secs`.
    pub feed_max_wait_secs: u32,
    /// Turns true when the node stops: waiting feed requests are answered
    /// then, so they do not hold up a graceful shutdown.
    pub stopping: watch::Receiver<bool>,
    /// What the HTML pages need (map tiles, security policy).
    pub pages: crate::web::html::PageSettings,
    /// Signed-in sessions of the admin page.
    pub admin_sessions: crate::web::admin::pages::session::Sessions,
    /// Counters for `/metrics` (shared with the aggregator role).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The data directory (for store size in metrics).
    pub dir: PathBuf,
}

/// The hub role inside a running server: the core behind a mutex (all its
/// work is blocking SQLite and signing) and the publication being served.
pub struct HubHandle {
    core: Arc<Mutex<HubCore>>,
    current: RwLock<Option<Arc<Published>>>,
    /// When aggregators last fetched the listing (shown on the admin page).
    pub fetches: crate::hub::fetch_log::FetchLog,
    /// The current listing compressed, once per publication.
    pub precompressed: crate::web::compress::Precompressed,
    /// Sends the nudges of a new publication (through the address guard).
    nudger: Option<signpost_client::fetch::Fetcher>,
}

/// Aggregators that fetched the listing longer ago than this are not
/// nudged (they have stopped following it, or moved).
const NUDGE_FETCHERS_WITHIN_SECS: i64 = 7 * 24 * 3600;

impl HubHandle {
    pub(crate) fn new(core: HubCore, config: &Config) -> Result<HubHandle> {
        let current = core.published()?.map(Arc::new);
        // Nudges go where strangers' headers say, so through the same
        // guard as crawls: private addresses only where the operator
        // allows them (local demos and tests).
        let nudger = signpost_client::fetch::Fetcher::new(signpost_client::fetch::FetchSettings {
            max_bytes: 64 * 1024,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            allow_private: config.aggregator.allow_private_networks,
            allowed_addresses: config.aggregator.allow_addresses.clone(),
        })
        .map_err(|e| tracing::warn!(error = %e, "hub nudges are off: no HTTP client"))
        .ok();
        Ok(HubHandle {
            core: Arc::new(Mutex::new(core)),
            current: RwLock::new(current),
            fetches: Default::default(),
            precompressed: Default::default(),
            nudger,
        })
    }

    /// Tells each aggregator that fetched the listing recently, and asked
    /// to be told (`Signpost-Notify`), that it changed: best effort, in
    /// the background; a lost nudge costs only the wait for its next
    /// scheduled crawl.
    fn nudge_fetchers(&self) {
        let Some(nudger) = self.nudger.clone() else {
            return;
        };
        let since = jiff::Timestamp::now().as_second() - NUDGE_FETCHERS_WITHIN_SECS;
        let mut targets: Vec<url::Url> = self
            .fetches
            .recent()
            .into_iter()
            .filter(|f| f.at.as_second() >= since)
            .filter_map(|f| f.notify)
            .collect();
        targets.sort();
        targets.dedup();
        if targets.is_empty() {
            return;
        }
        tokio::spawn(async move {
            let sent = targets.iter().map(|url| {
                let nudger = &nudger;
                async move { (url, nudger.nudge(url).await) }
            });
            for (url, outcome) in futures_util::future::join_all(sent).await {
                match outcome {
                    Ok(status) => tracing::debug!(%url, %status, "nudged an aggregator"),
                    Err(e) => {
                        tracing::info!(%url, error = %e.message, "could not nudge an aggregator")
                    }
                }
            }
        });
    }

    /// The publication being served now.
    pub fn current(&self) -> Option<Arc<Published>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    fn set_current(&self, published: Published) {
        let newer = match self.current.write() {
            Ok(mut current) => {
                let newer = current.as_ref().is_none_or(|c| c.seq < published.seq);
                if current.as_ref().is_none_or(|c| c.seq <= published.seq) {
                    *current = Some(Arc::new(published));
                }
                newer
            }
            Err(_) => false,
        };
        if newer {
            self.nudge_fetchers();
        }
    }

    /// Runs blocking work on the core, off the async threads.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HubCore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let core = self.core.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = core.lock().map_err(|_| {
                NodeError::Setup("an earlier edit crashed; restart the node".into())
            })?;
            work(&mut guard)
        })
        .await
        .map_err(|e| NodeError::Setup(format!("background work failed: {e}")))?
    }

    /// Runs an edit and serves its publication at once.
    pub async fn edit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HubCore) -> Result<(T, Published)> + Send + 'static,
    ) -> Result<(T, Published)> {
        let (out, published) = self.run(work).await?;
        self.set_current(published.clone());
        Ok((out, published))
    }

    /// Like [`HubHandle::edit`] for work that may decide not to publish.
    pub async fn edit_maybe<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HubCore) -> Result<(T, Option<Published>)> + Send + 'static,
    ) -> Result<(T, Option<Published>)> {
        let (out, published) = self.run(work).await?;
        if let Some(p) = &published {
            self.set_current(p.clone());
        }
        Ok((out, published))
    }

    /// One round of upkeep; returns the database version seen.
    pub(crate) async fn upkeep(&self, last_version: i64) -> Result<i64> {
        let (version, fresh) = self
            .run(move |core| {
                let version = core.data_version()?;
                if version != last_version {
                    core.reload_key_if_rotated()?;
                }
                let fresh = if core.needs_resign(Timestamp::now())? {
                    tracing::info!("listing is past half its lifetime; signing it again");
                    Some(core.republish()?)
                } else if version != last_version {
                    core.published()?
                } else {
                    None
                };
                Ok((version, fresh))
            })
            .await?;
        if let Some(p) = fresh {
            self.set_current(p);
        }
        Ok(version)
    }
}
