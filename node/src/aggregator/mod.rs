//! The aggregator role: what a CVS or council team runs to turn many hubs'
//! signed listings into one regional directory. The directory itself (the
//! verified record, its index and the one way in,
//! [`Directory::ingest`]) is the replica library's
//! ([`signpost_client::directory`]); this adds what a public server needs
//! around it: its settings, the guarded fetchers and their politeness,
//! registration, counters for `/metrics` and the coverage areas.

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::Connection;
use signpost_client::directory::{Directory, DirectorySettings};
use signpost_client::fetch::{self, listing_url, FetchSettings, Fetched, Fetchers};
use signpost_client::search::index::SearchIndex;
use signpost_client::store::aggregator::{self as db, CrawlOutcome, CrawlRecord, Origin};
use signpost_client::verify::TrustPolicy;
use signpost_spec::Limits;

use crate::config::{AggregatorSection, Config, DATABASE_FILE};
use crate::error::{NodeError, Result};

pub use signpost_client::directory::{hex, index_dir, outcome_name, Ingested};

/// The aggregator role inside a node.
pub struct Aggregator {
    /// Its settings, as validated at start.
    pub settings: AggregatorSection,
    directory: Directory,
    /// The guarded fetchers of listings and feed pages.
    pub(crate) fetchers: Fetchers,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// True while the upstream feeds are being polled (one poll at a time).
    pub(crate) polling: std::sync::atomic::AtomicBool,
    /// The operator's areas for the coverage report
    /// (`aggregator.coverage_areas`), read once at start; None: a grid.
    pub areas: Option<Arc<crate::reports::Areas>>,
    report_turn: tokio::sync::Semaphore,
}

/// Everything a directory does (ingest, search, read, write) an
/// aggregator does.
impl Deref for Aggregator {
    type Target = Directory;
    fn deref(&self) -> &Directory {
        &self.directory
    }
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

    /// Opens the role on any database file.
    pub fn open_db(path: &Path, settings: &AggregatorSection) -> Result<Aggregator> {
        let settings = settings.clone();
        let mut conn = signpost_client::store::open(path)?;
        signpost_client::search::register_functions(&conn)?;
        let urls = settings
            .hubs
            .iter()
            .map(|hub| listing_url(hub).map(String::from))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(NodeError::Config)?;
        db::sync_config_sources(&mut conn, &urls, Timestamp::now().as_second())?;
        let feeds = settings
            .upstream
            .iter()
            .map(|u| signpost_client::follow::feed_url(&u.url).map(String::from))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(NodeError::Config)?;
        db::sync_config_upstreams(&mut conn, &feeds)?;
        let fetchers = Fetchers::new(
            FetchSettings {
                max_bytes: settings.max_listing_bytes,
                connect_timeout: Duration::from_secs(settings.connect_timeout_secs),
                total_timeout: Duration::from_secs(settings.request_timeout_secs),
                allow_private: settings.allow_private_networks,
                allowed_addresses: settings.allow_addresses.clone(),
            },
            settings.max_feed_page_bytes,
            settings.max_concurrent_crawls,
        )?;
        let metrics: Arc<crate::metrics::Metrics> = Arc::default();
        let counted = metrics.clone();
        let directory = Directory::open_on(
            path,
            conn,
            DirectorySettings {
                limits: Limits {
                    max_envelope_bytes: settings.max_listing_bytes,
                    ..Limits::default()
                },
                policy: TrustPolicy::new(settings.trust, settings.allow.iter().cloned()),
                on_ingest: Some(Arc::new(move |outcome: &Ingested| {
                    if let Ingested::Rejected { code, .. } = outcome {
                        counted.refusal(code);
                    }
                })),
            },
        )?;
        Ok(Aggregator {
            directory,
            report_turn: tokio::sync::Semaphore::new(1),
            fetchers,
            polling: std::sync::atomic::AtomicBool::new(false),
            areas: None,
            metrics,
            settings,
        })
    }

    /// The directory this role serves.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Runs a whole-region report with a pooled read-only connection, one
    /// report at a time: each takes seconds over a large region, and the
    /// report pages are public, so a burst of them must queue rather than
    /// take every core from crawling and search.
    pub async fn report<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection, &SearchIndex) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _turn = self
            .report_turn
            .acquire()
            .await
            .map_err(|_| NodeError::Setup("the report queue has closed".into()))?;
        let index = self.index();
        self.read(move |c| work(c, &index)).await
    }

    /// Handles `POST /v1/register`: fetches the address, verifies and
    /// stores the listing, and only then remembers the address as a source.
    ///
    /// The caller is anonymous, so what it is told is chosen with care:
    /// - a fetch failure gives the stable code and a fixed hint
    ///   ([`fetch::public_message`]), never the fetch error's text, which
    ///   would say whether a name resolves, to what kind of address, and
    ///   how a port answered (a free network scanner); the detail is
    ///   logged at info;
    /// - a `bad_url` message only repeats the caller's own text;
    /// - a rejection of the listing (bad signature, replay, hub mismatch…)
    ///   keeps its message: it describes the listing served at the address
    ///   the caller gave, which the guard let us fetch (a public address or
    ///   one the operator allowed), and a hub needs it to fix its listing;
    /// - an internal error says only that, and is logged at warn.
    pub async fn register(&self, raw_url: &str) -> std::result::Result<Ingested, RegisterError> {
        let url = listing_url(raw_url).map_err(|m| RegisterError::new("bad_url", m))?;
        let started = Timestamp::now().as_second();
        let fetched = {
            let _turn = self.fetchers.politeness.turn(&url).await;
            self.fetchers
                .listing
                .fetch(&url, &Default::default())
                .await
                .map_err(|e| {
                    tracing::info!(url = %url, code = e.code, error = %e.message, "registration fetch failed");
                    RegisterError::new(e.code, fetch::public_message(e.code))
                })?
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
            .map_err(|e| RegisterError::internal(&url, &e))?;
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
        let outcome_name = CrawlOutcome::from(&outcome);
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
        .map_err(|e| RegisterError::internal(&url, &e))?;
        tracing::info!(url = %url, outcome = %outcome_name, "hub registered");
        Ok(outcome)
    }

    /// Removes tombstones past the retention period.
    pub async fn purge_tombstones(&self) -> Result<usize> {
        let keep_ms = self.settings.tombstone_retention_days as i64 * 86_400_000;
        self.directory
            .purge_tombstones(Timestamp::now().as_millisecond() - keep_ms)
            .await
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

    /// A failure of our own: logged in full, told only as "internal".
    fn internal(url: &url::Url, error: &NodeError) -> Self {
        tracing::warn!(url = %url, error = %error, "registration failed inside the node");
        RegisterError::new(
            "internal",
            "the directory could not store the listing; its operator can see why in the log",
        )
    }
}
