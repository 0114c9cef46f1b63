//! The aggregator role: what a CVS or council team runs to turn many hubs'
//! signed listings into one regional directory. This module holds the
//! role's state (its database connections, HTTP fetcher and trust policy)
//! and the one path by which any listing gets in: [`Aggregator::ingest`].
//! Crawling, verification rules, storage, search and the feed live in
//! their own modules.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};
use signpost_spec::{verify_listing, Limits, VerifyOptions};

use crate::config::{AggregatorSection, Config, DATABASE_FILE};
use crate::crawl::fetch::{FetchSettings, Fetched, Fetcher};
use crate::crawl::{self, Politeness};
use crate::error::{NodeError, Result};
use crate::store::aggregator::{self as db, AcceptedListing, CrawlRecord, Origin};
use crate::store::{self, ReadPool};
use crate::verify::{judge, Judgement, TrustPolicy};

/// The aggregator role inside a node.
pub struct Aggregator {
    /// Its settings, as validated at start.
    pub settings: AggregatorSection,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<ReadPool>,
    pub(crate) fetcher: Fetcher,
    pub(crate) feed_fetcher: Fetcher,
    pub(crate) politeness: Politeness,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// True while the upstream feeds are being polled (one poll at a time).
    pub(crate) polling: std::sync::atomic::AtomicBool,
    /// The operator's areas for the coverage report
    /// (`aggregator.coverage_areas`), read once at start; None: a grid.
    pub areas: Option<Arc<crate::reports::Areas>>,
    policy: TrustPolicy,
    limits: Limits,
}

/// What became of one listing offered to the aggregator.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Ingested {
    /// Stored, with its new feed position.
    Accepted {
        /// The hub.
        hub_id: String,
        /// The listing's seq.
        seq: u64,
        /// The feed's change number for it.
        change_number: i64,
        /// True when it was a signed withdrawal.
        withdrawn: bool,
    },
    /// The very listing already held.
    Unchanged {
        /// The hub.
        hub_id: String,
        /// The listing's seq.
        seq: u64,
    },
    /// Refused; what was held stays.
    Rejected {
        /// The hub, when the listing got far enough to name it.
        hub_id: Option<String>,
        /// Stable reason code (a spec error code or an acceptance rule).
        code: String,
        /// What is wrong.
        message: String,
    },
}

impl Aggregator {
    /// Opens the role: database, sources from the config file, HTTP client.
    /// A mistake in the areas file stops the start, naming the feature.
    pub fn open(dir: &Path, config: &Config) -> Result<Aggregator> {
        let areas = match &config.aggregator.coverage_areas {
            Some(file) => {
                let mut areas = crate::reports::Areas::load(
                    &dir.join(file),
                    &config.aggregator.coverage_area_name,
                )?;
                areas.source = file.display().to_string();
                tracing::info!(
                    file = %file.display(),
                    areas = areas.areas.len(),
                    "coverage report areas loaded"
                );
                Some(Arc::new(areas))
            }
            None => None,
        };
        let mut agg = Aggregator::open_db(&dir.join(DATABASE_FILE), &config.aggregator)?;
        agg.areas = areas;
        Ok(agg)
    }

    /// Opens the role on any database file (an app's replica is one).
    pub fn open_db(path: &Path, settings: &AggregatorSection) -> Result<Aggregator> {
        let settings = settings.clone();
        let path = path.to_owned();
        let mut conn = store::open(&path)?;
        crate::search::register_functions(&conn)?;
        store::hsds::ensure_index(&mut conn)?;
        let urls = settings
            .hubs
            .iter()
            .map(|hub| crawl::listing_url(hub).map(String::from))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(NodeError::Config)?;
        db::sync_config_sources(&mut conn, &urls, Timestamp::now().as_second())?;
        let feeds = settings
            .upstream
            .iter()
            .map(|u| crate::follow::feed_url(&u.url).map(String::from))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(NodeError::Config)?;
        db::sync_config_upstreams(&mut conn, &feeds)?;
        let fetch_settings = |max_bytes| FetchSettings {
            max_bytes,
            connect_timeout: Duration::from_secs(settings.connect_timeout_secs),
            total_timeout: Duration::from_secs(settings.request_timeout_secs),
            allow_private: settings.allow_private_networks,
            allowed_addresses: settings.allow_addresses.clone(),
        };
        let fetcher = Fetcher::new(fetch_settings(settings.max_listing_bytes))
            .map_err(|e| NodeError::Setup(e.to_string()))?;
        let feed_fetcher = Fetcher::new(fetch_settings(settings.max_feed_page_bytes))
            .map_err(|e| NodeError::Setup(e.to_string()))?;
        let limits = Limits {
            max_envelope_bytes: settings.max_listing_bytes,
            ..Limits::default()
        };
        Ok(Aggregator {
            policy: TrustPolicy::from_settings(&settings),
            politeness: Politeness::new(settings.max_concurrent_crawls),
            readers: Arc::new(ReadPool::new(&path, crate::search::register_functions)),
            writer: Arc::new(Mutex::new(conn)),
            fetcher,
            feed_fetcher,
            polling: std::sync::atomic::AtomicBool::new(false),
            areas: None,
            metrics: Arc::default(),
            settings,
            limits,
        })
    }

    /// Runs blocking work with the single writing connection.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().map_err(|_| {
                NodeError::Setup("a database write crashed; restart the node".into())
            })?;
            work(&mut conn)
        })
        .await
        .map_err(|e| NodeError::Setup(format!("background work failed: {e}")))?
    }

    /// Runs blocking work with a pooled read-only connection.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || readers.with(work))
            .await
            .map_err(|e| NodeError::Setup(format!("background work failed: {e}")))?
    }

    /// Verifies a listing and, if the rules allow, stores it in one
    /// transaction. `source_url` is where it came from (for provenance and
    /// the address-to-hub binding).
    pub async fn ingest(&self, bytes: Vec<u8>, source_url: Option<String>) -> Result<Ingested> {
        let limits = self.limits.clone();
        let policy = self.policy.clone();
        let writer = self.writer.clone();
        let outcome = tokio::task::spawn_blocking(move || -> Result<Ingested> {
            let now = Timestamp::now();
            let verified = match verify_listing(&bytes, &VerifyOptions { now, limits }) {
                Ok(v) => v,
                Err(e) => {
                    return Ok(Ingested::Rejected {
                        hub_id: None,
                        code: e.code().to_owned(),
                        message: e.to_string(),
                    })
                }
            };
            let sha = hex(&Sha256::digest(&bytes));
            let hub_id = verified.hub_id.to_string();
            let mut conn = writer.lock().map_err(|_| {
                NodeError::Setup("a database write crashed; restart the node".into())
            })?;
            let tx = conn.transaction()?;
            let held = db::held_hub(&tx, &hub_id)?;
            let source_hub = match &source_url {
                Some(url) => db::get_source(&tx, url)?.and_then(|s| s.hub_id),
                None => None,
            };
            let seq = verified.listing.seq;
            let now_ms = now.as_millisecond();
            match judge(
                &verified,
                &sha,
                held.as_ref(),
                source_hub.as_deref(),
                &policy,
            ) {
                Judgement::Unchanged => {
                    if let Some(source) = &source_url {
                        db::record_provenance(&tx, &hub_id, source, seq, now_ms)?;
                        tx.commit()?;
                    }
                    Ok(Ingested::Unchanged { hub_id, seq })
                }
                Judgement::Reject { code, message } => Ok(Ingested::Rejected {
                    hub_id: Some(hub_id),
                    code: code.to_owned(),
                    message,
                }),
                Judgement::Accept => {
                    let change_number = db::store_listing(
                        &tx,
                        &AcceptedListing {
                            hub_id: &hub_id,
                            signing_key: verified.signing_key().as_str(),
                            envelope: &bytes,
                            envelope_sha256: &sha,
                            listing: &verified.listing,
                            source_url: source_url.as_deref(),
                            now_ms,
                        },
                    )?;
                    if let Some(source) = &source_url {
                        db::record_provenance(&tx, &hub_id, source, seq, now_ms)?;
                    }
                    tx.commit()?;
                    Ok(Ingested::Accepted {
                        hub_id,
                        seq,
                        change_number,
                        withdrawn: verified.listing.withdrawn,
                    })
                }
            }
        })
        .await
        .map_err(|e| NodeError::Setup(format!("background work failed: {e}")))??;
        if let Ingested::Rejected { code, .. } = &outcome {
            self.metrics.refusal(code);
        }
        Ok(outcome)
    }

    /// Handles `POST /v1/register`: fetches the address, verifies and
    /// stores the listing, and only then remembers the address as a source.
    pub async fn register(&self, raw_url: &str) -> std::result::Result<Ingested, RegisterError> {
        let url = crawl::listing_url(raw_url).map_err(|m| RegisterError::new("bad_url", m))?;
        let started = Timestamp::now().as_second();
        let fetched = {
            let _turn = self.politeness.turn(&url).await;
            self.fetcher
                .fetch(&url, &Default::default())
                .await
                .map_err(|e| RegisterError::new(e.code, e.message))?
        };
        let Fetched::Body { bytes, validators } = fetched else {
            return Err(RegisterError::new(
                "http_status",
                "the hub answered 304 to a request that was not conditional",
            ));
        };
        let outcome = self
            .ingest(bytes, Some(url.to_string()))
            .await
            .map_err(|e| RegisterError::new("internal", e.to_string()))?;
        let hub_id = match &outcome {
            Ingested::Accepted { hub_id, .. } | Ingested::Unchanged { hub_id, .. } => {
                hub_id.clone()
            }
            Ingested::Rejected { code, message, .. } => {
                return Err(RegisterError::new(code.clone(), message.clone()))
            }
        };
        let next = started + self.settings.recrawl_interval_secs as i64;
        let url_text = url.to_string();
        let outcome_name = outcome_name(&outcome);
        self.write(move |conn| {
            db::add_source(conn, &url_text, Origin::Register, started)?;
            db::record_crawl(
                conn,
                &CrawlRecord {
                    url: &url_text,
                    at: started,
                    outcome: outcome_name,
                    error: None,
                    next_crawl_at: next,
                    hub_id: Some(&hub_id),
                    validators: Some((
                        validators.etag.as_deref(),
                        validators.last_modified.as_deref(),
                    )),
                },
            )
        })
        .await
        .map_err(|e| RegisterError::new("internal", e.to_string()))?;
        tracing::info!(url = %url, outcome = outcome_name, "hub registered");
        Ok(outcome)
    }

    /// Removes tombstones past the retention period.
    pub async fn purge_tombstones(&self) -> Result<usize> {
        let keep_ms = self.settings.tombstone_retention_days as i64 * 86_400_000;
        let cutoff = Timestamp::now().as_millisecond() - keep_ms;
        self.write(move |conn| db::purge_tombstones(conn, cutoff))
            .await
    }
}

/// The short name of an outcome, as health and logs show it.
pub fn outcome_name(outcome: &Ingested) -> &'static str {
    match outcome {
        Ingested::Accepted { .. } => "accepted",
        Ingested::Unchanged { .. } => "unchanged",
        Ingested::Rejected { .. } => "rejected",
    }
}

/// Why a registration failed: a stable code and a message for the person
/// registering their hub.
#[derive(Debug, Clone)]
pub struct RegisterError {
    /// Stable code (a fetch, spec or acceptance code).
    pub code: String,
    /// What to fix.
    pub message: String,
}

impl RegisterError {
    fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        RegisterError {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
