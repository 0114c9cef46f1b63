//! Running a node: shared state, the HTTP listener, background upkeep
//! (re-signing before expiry, noticing edits made by the CLI), and a clean
//! stop on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::token::AdminToken;
use crate::aggregator::Aggregator;
use crate::config::Config;
use crate::error::{NodeError, Result};
use crate::hub::{HubCore, Published};
use crate::web::api::RateLimiter;

/// How often the node checks for CLI edits and for listings to re-sign.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(1);

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
    pub admin_sessions: crate::admin::web::session::Sessions,
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
    fn new(core: HubCore, config: &Config) -> Result<HubHandle> {
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
    async fn upkeep(&self, last_version: i64) -> Result<i64> {
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

/// A node serving in the background (used by `serve`, `demo` and tests).
pub struct RunningNode {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// The data directory.
    pub dir: PathBuf,
    /// The aggregator role, when enabled (to crawl now, say).
    pub aggregator: Option<Arc<Aggregator>>,
    /// Where `/metrics` is served, when enabled.
    pub metrics_addr: Option<SocketAddr>,
    _lock: crate::ops::FolderLock,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<()>>,
}

impl RunningNode {
    /// `http://ADDR` of this node.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, finishes in-flight ones, and waits.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| NodeError::Setup(format!("server task failed: {e}")))?
    }
}

/// Opens the data directory and starts serving on `config.node.listen`.
pub async fn start(dir: &Path, config: Config) -> Result<RunningNode> {
    let lock = crate::ops::FolderLock::take(dir)?;
    let dir_owned = dir.to_owned();
    let cfg = config.clone();
    let (hub, aggregator, admin_token) = tokio::task::spawn_blocking(move || -> Result<_> {
        let core = HubCore::open(&dir_owned, &cfg)?;
        let token = AdminToken::load(core.connection())?;
        let hub = if cfg.hub.enabled {
            Some(Arc::new(HubHandle::new(core, &cfg)?))
        } else {
            None
        };
        let aggregator = if cfg.aggregator.enabled {
            Some(Arc::new(Aggregator::open(&dir_owned, &cfg)?))
        } else {
            None
        };
        Ok((hub, aggregator, token))
    })
    .await
    .map_err(|e| NodeError::Setup(format!("start-up failed: {e}")))??;
    let (stop, stopped) = watch::channel(false);
    let stop_for_metrics = stop.clone();
    let state = Arc::new(AppState {
        hub,
        aggregator: aggregator.clone(),
        admin_token,
        public_url: config.node.public_url.clone(),
        register_limiter: RateLimiter::new(config.aggregator.register_per_hour),
        feed_waiters: Default::default(),
        feed_max_wait_secs: crate::feed::wait_within(
            crate::feed::MAX_WAIT_SECS,
            config.server.request_timeout_secs,
        ),
        nudge_limiter: RateLimiter::new(crate::web::api::NUDGES_PER_HOUR),
        stopping: stop.subscribe(),
        pages: crate::web::html::PageSettings::new(&config.web, config.node.public_url.as_deref()),
        admin_sessions: Default::default(),
        metrics: aggregator
            .as_ref()
            .map(|a| a.metrics.clone())
            .unwrap_or_default(),
        dir: dir.to_owned(),
    });
    let mut metrics_bound = None;
    if let Some(metrics_addr) = config.node.metrics_listen {
        let listener = crate::listen::bind(metrics_addr).map_err(|e| {
            NodeError::Config(format!(
                "cannot listen for metrics on {metrics_addr}: {e} (set node.metrics_listen)"
            ))
        })?;
        metrics_bound = listener.local_addr().ok();
        let app = crate::web::metrics_router(state.clone());
        let stopped = stop_for_metrics.subscribe();
        let limits = config.server.clone();
        tokio::spawn(async move { crate::listen::serve(listener, app, &limits, stopped).await });
        tracing::info!(%metrics_addr, "metrics listening");
    }
    let listener = crate::listen::bind(config.node.listen).map_err(|e| {
        NodeError::Config(format!(
            "cannot listen on {}: {e} (is another program using that port? set node.listen)",
            config.node.listen
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| NodeError::io("reading the bound address of", dir, e))?;
    // Where hubs may nudge this aggregator: its public address, or (for
    // local demos and tests, which may reach private addresses) the one
    // it listens on; otherwise nowhere, and hubs wait for the schedule.
    if let Some(agg) = &aggregator {
        let advertised = match &config.node.public_url {
            Some(url) => Some(url.trim_end_matches('/').to_owned()),
            None if config.aggregator.allow_private_networks => Some(format!("http://{addr}")),
            None => None,
        };
        if let Some(url) = advertised {
            let _ = agg.advertised.set(url);
        }
    }
    let app = crate::web::router(state.clone());
    let mut upkeep_stop = stop.subscribe();
    let upkeep_state = state.clone();
    tokio::spawn(async move {
        let Some(hub) = upkeep_state.hub.clone() else {
            return;
        };
        let mut version = hub.run(|core| core.data_version()).await.unwrap_or(0);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(UPKEEP_INTERVAL) => {}
                _ = upkeep_stop.changed() => return,
            }
            match hub.upkeep(version).await {
                Ok(v) => version = v,
                Err(e) => tracing::warn!(error = %e, "hub upkeep failed; will try again"),
            }
        }
    });
    if let Some(agg) = aggregator.clone() {
        tokio::spawn(crate::crawl::run_schedule(agg, stop.subscribe()));
    }
    let limits = config.server.clone();
    let task = tokio::spawn(async move {
        crate::listen::serve(listener, app, &limits, stopped).await;
        Ok(())
    });
    tracing::info!(%addr, "signpost node listening");
    Ok(RunningNode {
        addr,
        dir: dir.to_owned(),
        aggregator,
        metrics_addr: metrics_bound,
        _lock: lock,
        stop,
        task,
    })
}

/// Resolves when the process is asked to stop (Ctrl-C, or SIGTERM on Unix).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
