//! Running a node: shared state, the HTTP listener, background upkeep
//! (re-signing before expiry, noticing edits made by the CLI), and a clean
//! stop on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::aggregator::Aggregator;
use crate::config::Config;
use crate::error::{NodeError, Result};
use crate::hub::HubCore;
use crate::rate_limit::RateLimiter;
use crate::web::admin::token::AdminToken;
use crate::web::state::{AppState, HubHandle};

/// How often the node checks for CLI edits and for listings to re-sign.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(1);

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
        tokio::spawn(crate::schedule::run_schedule(agg, stop.subscribe()));
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
