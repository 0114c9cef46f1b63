//! Crawling hubs: a schedule that revisits each source at the configured
//! interval, a global limit on crawls in flight, one request at a time per
//! host, and exponential backoff with jitter for hubs that keep failing.
//! Each crawl is one guarded fetch ([`fetch`]) followed by
//! [`Aggregator::ingest`], and ends with the source's health recorded and a
//! log line naming the hub and address.

pub mod fetch;
pub mod ssrf;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::{watch, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::aggregator::{outcome_name, Aggregator, Ingested};
use crate::error::Result;
use crate::store::aggregator::{self as db, CrawlRecord, Source};
use fetch::{Fetched, Validators};

/// Where hubs serve their listing, relative to their base address.
pub const WELL_KNOWN_PATH: &str = "/.well-known/signpost/listing";

/// Longest address accepted as a source.
pub const MAX_SOURCE_URL: usize = 2048;

/// The listing URL for what an operator or a hub typed: a bare base
/// address (`https://hub.example.org`) gets the well-known path; anything
/// with a path is used as it is.
pub fn listing_url(input: &str) -> std::result::Result<Url, String> {
    let input = input.trim();
    if input.len() > MAX_SOURCE_URL {
        return Err(format!(
            "the address is longer than {MAX_SOURCE_URL} characters"
        ));
    }
    let mut url = Url::parse(input).map_err(|e| {
        format!("{input:?} is not a web address ({e}); write it like https://hub.example.org")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "{input:?} must be an http or https address with a host"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the address must not contain a user name or password".into());
    }
    url.set_fragment(None);
    if url.path() == "/" || url.path().is_empty() {
        url.set_path(WELL_KNOWN_PATH);
    }
    Ok(url)
}

/// The limits that keep crawling polite: a global cap on crawls in flight
/// and one request at a time per host.
pub struct Politeness {
    slots: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    in_flight: Mutex<HashSet<String>>,
}

/// Permission to send one request: a global slot and the host's turn.
pub struct Turn {
    _slot: Option<OwnedSemaphorePermit>,
    _host: OwnedMutexGuard<()>,
}

impl Politeness {
    /// Allows `max_concurrent` crawls at once.
    pub fn new(max_concurrent: usize) -> Politeness {
        Politeness {
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
            hosts: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashSet::new()),
        }
    }

    /// Waits for a global slot and for the host of `url` to be free.
    pub async fn turn(&self, url: &Url) -> Turn {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let host = {
            let mut hosts = match self.hosts.lock() {
                Ok(h) => h,
                Err(poisoned) => poisoned.into_inner(),
            };
            // Forget hosts nobody is waiting on, so the map stays small.
            if hosts.len() > 4096 {
                hosts.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            hosts.entry(key).or_default().clone()
        };
        let slot = self.slots.clone().acquire_owned().await.ok();
        let host = host.lock_owned().await;
        Turn {
            _slot: slot,
            _host: host,
        }
    }

    fn start(&self, url: &str) -> bool {
        self.in_flight
            .lock()
            .map(|mut set| set.insert(url.to_owned()))
            .unwrap_or(false)
    }

    fn finish(&self, url: &str) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.remove(url);
        }
    }
}

/// Seconds to wait before the next try of a source that has failed
/// `failures` times in a row: doubling from a base of at most a minute, up
/// to a day, and never less than half of that (jitter, so hubs that failed
/// together do not all come back together).
pub fn backoff_secs(recrawl_interval: u64, failures: u32, random: u32) -> u64 {
    let base = recrawl_interval.clamp(1, 60);
    let exp = failures.saturating_sub(1).min(20);
    let delay = base.saturating_mul(1u64 << exp).min(86_400);
    let half = delay.div_ceil(2);
    half + (u64::from(random) % (delay - half + 1))
}

/// A random number for jitter (0 if the system cannot give one).
pub fn random_u32() -> u32 {
    crate::keyfile::random_bytes::<4>()
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

/// How one crawl ended.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlReport {
    /// The listing URL.
    pub url: String,
    /// `accepted`, `unchanged`, `not_modified`, `rejected` or `failed`.
    pub outcome: &'static str,
    /// The hub, when known.
    pub hub_id: Option<String>,
    /// The stable code of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// A failure in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Crawls one source now and records the outcome in its health.
pub async fn crawl_source(agg: &Aggregator, source: &Source) -> Result<CrawlReport> {
    let started = Timestamp::now().as_second();
    let clock = std::time::Instant::now();
    let interval = agg.settings.recrawl_interval_secs;
    let validators = Validators {
        etag: source.etag.clone(),
        last_modified: source.last_modified.clone(),
    };
    let fetched = match Url::parse(&source.url) {
        Ok(url) => {
            let _turn = agg.politeness.turn(&url).await;
            agg.fetcher.fetch(&url, &validators).await
        }
        Err(e) => Err(fetch::FetchError {
            code: "bad_url",
            message: format!("{}: {e}", source.url),
        }),
    };
    let mut report = CrawlReport {
        url: source.url.clone(),
        outcome: "failed",
        hub_id: source.hub_id.clone(),
        error_code: None,
        error: None,
    };
    let mut new_validators = None;
    match fetched {
        Ok(Fetched::NotModified) => report.outcome = "not_modified",
        Ok(Fetched::Body { bytes, validators }) => {
            let ingested = agg.ingest(bytes, Some(source.url.clone())).await?;
            report.outcome = outcome_name(&ingested);
            match ingested {
                Ingested::Accepted { hub_id, .. } | Ingested::Unchanged { hub_id, .. } => {
                    report.hub_id = Some(hub_id);
                    new_validators = Some(validators);
                }
                Ingested::Rejected {
                    hub_id,
                    code,
                    message,
                } => {
                    report.hub_id = hub_id.or(report.hub_id);
                    report.error_code = Some(code);
                    report.error = Some(message);
                }
            }
        }
        Err(e) => {
            report.error_code = Some(e.code.to_owned());
            report.error = Some(e.message);
        }
    }
    let failed = report.error_code.is_some();
    agg.metrics.crawl(report.outcome, clock.elapsed());
    let next = started
        + if failed {
            backoff_secs(interval, source.failures.saturating_add(1), random_u32()) as i64
        } else {
            interval as i64
        };
    let record_url = report.url.clone();
    let record_report = report.clone();
    agg.write(move |conn| {
        db::record_crawl(
            conn,
            &CrawlRecord {
                url: &record_url,
                at: started,
                outcome: record_report.outcome,
                error: record_report
                    .error_code
                    .as_deref()
                    .zip(record_report.error.as_deref()),
                next_crawl_at: next,
                hub_id: if record_report.error_code.is_some() {
                    None
                } else {
                    record_report.hub_id.as_deref()
                },
                validators: new_validators
                    .as_ref()
                    .map(|v| (v.etag.as_deref(), v.last_modified.as_deref())),
            },
        )
    })
    .await?;
    let hub = report.hub_id.as_deref().unwrap_or("-");
    if failed {
        tracing::warn!(hub_id = hub, url = %report.url, outcome = report.outcome,
            code = report.error_code.as_deref().unwrap_or(""),
            error = report.error.as_deref().unwrap_or(""), "crawl failed");
    } else {
        tracing::info!(hub_id = hub, url = %report.url, outcome = report.outcome, "crawled");
    }
    Ok(report)
}

/// Crawls the given sources concurrently (within the politeness limits)
/// and waits for all of them.
pub async fn crawl_many(agg: &Arc<Aggregator>, sources: Vec<Source>) -> Vec<CrawlReport> {
    let mut tasks = tokio::task::JoinSet::new();
    for source in sources {
        let agg = agg.clone();
        tasks.spawn(async move {
            let report = crawl_source(&agg, &source).await;
            agg.politeness.finish(&source.url);
            report
        });
    }
    let mut reports = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(report)) => reports.push(report),
            Ok(Err(e)) => tracing::error!(error = %e, "could not record a crawl"),
            Err(e) => tracing::error!(error = %e, "a crawl task failed"),
        }
    }
    reports.sort_by(|a, b| a.url.cmp(&b.url));
    reports
}

/// Crawls every source now (an operator's or a test's "crawl now").
pub async fn crawl_all_now(agg: &Arc<Aggregator>) -> Result<Vec<CrawlReport>> {
    let sources = agg.read(db::list_sources).await?;
    Ok(crawl_many(agg, sources).await)
}

/// How often the schedule looks for due sources.
const SCHEDULE_TICK: Duration = Duration::from_millis(500);
/// Most sources started per tick.
const MAX_STARTS_PER_TICK: usize = 1000;

/// Runs the crawl schedule until `stop` turns true.
pub async fn run_schedule(agg: Arc<Aggregator>, mut stop: watch::Receiver<bool>) {
    let mut last_purge = Timestamp::now().as_second();
    loop {
        let now = Timestamp::now().as_second();
        let scheduled = agg.settings.scheduled;
        match agg
            .read(move |c| {
                if scheduled {
                    db::due_sources(c, now, MAX_STARTS_PER_TICK)
                } else {
                    Ok(Vec::new())
                }
            })
            .await
        {
            Ok(due) => {
                let fresh: Vec<Source> = due
                    .into_iter()
                    .filter(|s| agg.politeness.start(&s.url))
                    .collect();
                if !fresh.is_empty() {
                    let agg = agg.clone();
                    tokio::spawn(async move {
                        crawl_many(&agg, fresh).await;
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read the crawl schedule"),
        }
        if scheduled && !agg.polling.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let agg = agg.clone();
            tokio::spawn(async move {
                if let Err(e) = crate::follow::poll_due(&agg, false).await {
                    tracing::warn!(error = %e, "could not poll upstream aggregators");
                }
                agg.polling
                    .store(false, std::sync::atomic::Ordering::SeqCst);
            });
        }
        if now - last_purge >= 3600 {
            last_purge = now;
            match agg.purge_tombstones().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "purged old tombstones"),
                Err(e) => tracing::warn!(error = %e, "could not purge tombstones"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(SCHEDULE_TICK) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_addresses_get_the_well_known_path() {
        assert_eq!(
            listing_url("https://hub.example.org").unwrap().as_str(),
            "https://hub.example.org/.well-known/signpost/listing"
        );
        assert_eq!(
            listing_url(" http://127.0.0.1:8080/ ").unwrap().as_str(),
            "http://127.0.0.1:8080/.well-known/signpost/listing"
        );
        assert_eq!(
            listing_url("https://x.org/custom/listing.json#frag")
                .unwrap()
                .as_str(),
            "https://x.org/custom/listing.json"
        );
        assert!(listing_url("ftp://x.org").is_err());
        assert!(listing_url("not a url").is_err());
        assert!(listing_url("https://a:b@x.org/").is_err());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for failures in 1..40 {
            let full = 60u64
                .saturating_mul(1 << (failures - 1).min(20))
                .min(86_400);
            for random in [0, 7, u32::MAX] {
                let d = backoff_secs(900, failures, random);
                assert!(
                    d >= full.div_ceil(2) && d <= full,
                    "{failures}: {d} vs {full}"
                );
            }
        }
        assert_eq!(backoff_secs(1, 1, 0), 1);
        assert!(backoff_secs(1, 3, u32::MAX) <= 4);
    }
}
