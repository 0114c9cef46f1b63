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
use signpost_client::store::aggregator as db;
use signpost_client::verify::TrustPolicy;
use signpost_spec::Limits;

use crate::config::{AggregatorSection, Config, DATABASE_FILE};
use crate::error::{NodeError, Result};

mod registration;

pub use registration::{RegisterError, Registered};

pub use signpost_client::directory::{hex, index_dir, outcome_name, Ingested};

/// Shortest time between two crawls brought forward by nudges for one
/// source, in seconds: a hub that saves ten edits in a row is crawled at
/// once and then once more, this long after, for the last of them, not ten
/// times.
pub const NUDGE_GAP_SECS: i64 = 5;
/// Most sources remembered as recently nudged.
const MAX_NUDGED: usize = 10_000;

/// The aggregator role inside a node.
pub struct Aggregator {
    /// Its settings, as validated at start.
    pub settings: AggregatorSection,
    directory: Directory,
    /// The guarded fetchers of listings and feed pages.
    pub(crate) fetchers: Fetchers,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// This aggregator's own address as hubs can reach it (for the
    /// `Signpost-Notify` header of its crawls), set once it listens.
    pub(crate) advertised: std::sync::OnceLock<String>,
    /// When each source's last nudged crawl is due (Unix seconds), to
    /// bring crawls forward at most once per [`NUDGE_GAP_SECS`].
    nudged: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    /// The upstream feeds being polled now, each by its own task (one
    /// poll at a time per upstream).
    pub(crate) polling: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The operator's areas for the coverage report
    /// (`aggregator.coverage_areas`), read once at start; None: a grid.
    pub areas: Option<Arc<crate::reports::Areas>>,
    report_turn: tokio::sync::Semaphore,
    reports: ReportCache,
}

/// Whole-region reports computed at once; more are answered "busy".
pub const MAX_REPORTS_RUNNING: usize = 1;
/// Longest a cached report is served, however unchanged the data.
pub const REPORT_MAX_AGE: Duration = Duration::from_secs(60);
/// Most reports (report and parameters) kept.
const REPORTS_KEPT: usize = 32;
/// Seconds a client is asked to wait when every report turn is taken.
pub const REPORT_RETRY_AFTER_SECS: u64 = 10;

/// Why a report was not given.
#[derive(Debug)]
pub enum ReportError {
    /// [`MAX_REPORTS_RUNNING`] reports are being computed: try again in
    /// [`REPORT_RETRY_AFTER_SECS`].
    Busy,
    /// The store failed.
    Failed(NodeError),
}

impl From<NodeError> for ReportError {
    fn from(e: NodeError) -> Self {
        ReportError::Failed(e)
    }
}

type CachedReport = (
    String,
    std::time::Instant,
    Arc<dyn std::any::Any + Send + Sync>,
);

/// Reports by key, each with the data version it was computed at.
#[derive(Default)]
struct ReportCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedReport>>,
}

impl ReportCache {
    fn get<T: Send + Sync + 'static>(&self, key: &str, version: &str) -> Option<Arc<T>> {
        let entries = self.entries.lock().ok()?;
        let (at, when, value) = entries.get(key)?;
        (at == version && when.elapsed() < REPORT_MAX_AGE)
            .then(|| value.clone().downcast::<T>().ok())
            .flatten()
    }

    fn put<T: Send + Sync + 'static>(&self, key: String, version: String, value: Arc<T>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= REPORTS_KEPT && !entries.contains_key(&key) {
            let oldest = entries
                .iter()
                .min_by_key(|(_, (_, when, _))| *when)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                entries.remove(&k);
            }
        }
        entries.insert(key, (version, std::time::Instant::now(), value));
    }
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
            report_turn: tokio::sync::Semaphore::new(MAX_REPORTS_RUNNING),
            reports: ReportCache::default(),
            fetchers,
            polling: Default::default(),
            advertised: Default::default(),
            nudged: Default::default(),
            areas: None,
            metrics,
            settings,
        })
    }

    /// The `Signpost-Notify` URL to send when crawling `source`: this
    /// aggregator's `/v1/notify` naming the source, when it knows an
    /// address hubs can reach.
    pub fn notify_url(&self, source: &str) -> Option<String> {
        let base = self.advertised.get()?;
        let source: String = url::form_urlencoded::byte_serialize(source.as_bytes()).collect();
        Some(format!("{base}/v1/notify?source={source}"))
    }

    /// Takes the host's politeness turn and fetches a hub's listing: the
    /// one way a crawl and a registration reach a hub. With `notify_for`
    /// (a source's address as stored), the request carries this
    /// aggregator's nudge address for that source.
    pub async fn fetch_listing(
        &self,
        url: &url::Url,
        validators: &fetch::Validators,
        notify_for: Option<&str>,
    ) -> std::result::Result<Fetched, fetch::FetchError> {
        let _turn = self.fetchers.politeness.turn(url).await;
        let notify = notify_for.and_then(|source| self.notify_url(source));
        self.fetchers
            .listing
            .fetch_notifying(url, validators, notify.as_deref())
            .await
    }

    /// Acts on a hub's nudge: a known, healthy source becomes due now, or
    /// [`NUDGE_GAP_SECS`] after the crawl the last nudge brought forward
    /// (so the last of a burst of edits is still fetched soon); anything
    /// else is ignored (registration stays the way in). True when a crawl
    /// was brought forward.
    pub async fn nudge(&self, source: &str) -> Result<bool> {
        let due = {
            let Ok(mut nudged) = self.nudged.lock() else {
                return Ok(false);
            };
            let now = jiff::Timestamp::now().as_second();
            if nudged.len() >= MAX_NUDGED {
                nudged.retain(|_, due| *due + NUDGE_GAP_SECS > now);
            }
            if nudged.len() >= MAX_NUDGED {
                return Ok(false);
            }
            let due = nudged
                .get(source)
                .map_or(now, |last| (*last + NUDGE_GAP_SECS).max(now));
            nudged.insert(source.to_owned(), due);
            due
        };
        self.directory.nudge_source(source, due).await
    }

    /// When a crawl brought forward by a nudge after `started` (Unix
    /// seconds) is due, if one is: a crawl that began before that nudge
    /// must not push it back to the schedule.
    pub fn nudged_after(&self, source: &str, started: i64) -> Option<i64> {
        self.nudged
            .lock()
            .ok()?
            .get(source)
            .copied()
            .filter(|due| *due > started)
    }

    /// The directory this role serves.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Runs a whole-region report with a pooled read-only connection, or
    /// gives the copy computed for the same `key` (the report and its
    /// parameters) while the data it reads has not changed
    /// ([`crate::reports::data_version`]) and for at most
    /// [`REPORT_MAX_AGE`] (time alone changes freshness). Each takes
    /// seconds over a large region and the report pages are public, so
    /// [`MAX_REPORTS_RUNNING`] run at once and a request that would start
    /// another is answered [`ReportError::Busy`] (503) at once, rather than
    /// queueing without bound and taking every core from crawling and
    /// search.
    pub async fn report<T: Send + Sync + 'static>(
        &self,
        key: String,
        work: impl FnOnce(&Connection, &SearchIndex) -> Result<T> + Send + 'static,
    ) -> std::result::Result<Arc<T>, ReportError> {
        // The store's version, and how far the index (which reports read)
        // has caught up with it: a report made while the index lags is not
        // kept for the version it has not yet seen.
        let version = format!(
            "{}-{}",
            self.read(crate::reports::data_version).await?,
            self.index().committed_change()
        );
        if let Some(hit) = self.reports.get::<T>(&key, &version) {
            return Ok(hit);
        }
        let Ok(_turn) = self.report_turn.try_acquire() else {
            return Err(ReportError::Busy);
        };
        // Another request may have filled it while this one waited.
        if let Some(hit) = self.reports.get::<T>(&key, &version) {
            return Ok(hit);
        }
        let index = self.index();
        let computed = Arc::new(self.read(move |c| work(c, &index)).await?);
        self.reports.put(key, version, computed.clone());
        Ok(computed)
    }

    /// How long a registration may wait for approval (and a registered
    /// source go without a good listing) before [`Self::expire_registrations`]
    /// drops it, in seconds: one figure, so the admin page's "expires" date
    /// and the expiry itself cannot disagree.
    pub fn registration_lifetime_secs(&self) -> i64 {
        self.settings.registration_expiry_days as i64 * 86_400
    }

    /// Drops registered sources without a good listing for
    /// `registration_expiry_days`, and registrations left waiting as long
    /// (as of `now`, Unix seconds).
    pub async fn expire_registrations(&self, now: i64) -> Result<usize> {
        let cutoff = now - self.registration_lifetime_secs();
        self.write(move |conn| db::expire_registrations(conn, cutoff, now))
            .await
    }

    /// Removes tombstones past the retention period.
    pub async fn purge_tombstones(&self) -> Result<usize> {
        let keep_ms = self.settings.tombstone_retention_days as i64 * 86_400_000;
        self.directory
            .purge_tombstones(Timestamp::now().as_millisecond() - keep_ms)
            .await
    }
}
