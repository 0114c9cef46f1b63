//! Crawling hubs: a schedule that revisits each source at the configured
//! interval, a global limit on crawls in flight, one request at a time per
//! host, and exponential backoff with jitter for hubs that keep failing.
//! Each crawl is one guarded fetch ([`fetch`]) followed by
//! [`Aggregator::ingest`], and ends with the source's health recorded and a
//! log line naming the hub and address.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::watch;

use crate::aggregator::{Aggregator, Ingested};
use crate::error::Result;
use signpost_client::fetch::{self, backoff_secs, random_u32, Fetched, Validators};
use signpost_client::follow;
use signpost_client::store::aggregator::{self as db, CrawlOutcome, CrawlRecord, Source};
use url::Url;

/// How one crawl ended.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlReport {
    /// The listing URL.
    pub url: String,
    /// How it ended.
    pub outcome: CrawlOutcome,
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
            let _turn = agg.fetchers.politeness.turn(&url).await;
            let notify = agg.notify_url(&source.url);
            agg.fetchers
                .listing
                .fetch_notifying(&url, &validators, notify.as_deref())
                .await
        }
        Err(e) => Err(fetch::FetchError {
            code: "bad_url",
            message: format!("{}: {e}", source.url),
        }),
    };
    let mut report = CrawlReport {
        url: source.url.clone(),
        outcome: CrawlOutcome::Failed,
        hub_id: source.hub_id.clone(),
        error_code: None,
        error: None,
    };
    let mut new_validators = None;
    // A registered source stays within the registration caps at every
    // crawl, not only the first (what it serves may grow).
    let registered_too_big = match &fetched {
        Ok(Fetched::Body { bytes, .. }) if source.origin == "register" => {
            agg.registered_listing_fits(bytes).err()
        }
        _ => None,
    };
    match fetched {
        Ok(Fetched::NotModified) => report.outcome = CrawlOutcome::NotModified,
        Ok(Fetched::Body { .. }) if registered_too_big.is_some() => {
            if let Some((code, message)) = registered_too_big {
                report.outcome = CrawlOutcome::Rejected;
                report.error_code = Some(code.to_owned());
                report.error = Some(message);
            }
        }
        Ok(Fetched::Body {
            bytes, validators, ..
        }) => {
            let ingested = agg.ingest(bytes, Some(source.url.clone())).await?;
            report.outcome = CrawlOutcome::from(&ingested);
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
    agg.metrics.crawl(report.outcome.as_str(), clock.elapsed());
    let scheduled = started
        + if failed {
            backoff_secs(interval, source.failures.saturating_add(1), random_u32()) as i64
        } else {
            interval as i64
        };
    // A nudge that came while this crawl ran (an edit it may have missed)
    // keeps its earlier crawl.
    let next = match agg.nudged_after(&source.url, started) {
        Some(due) if !failed => due.min(scheduled),
        _ => scheduled,
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
        tracing::warn!(hub_id = hub, url = %report.url, outcome = %report.outcome,
            code = report.error_code.as_deref().unwrap_or(""),
            error = report.error.as_deref().unwrap_or(""), "crawl failed");
    } else {
        tracing::info!(hub_id = hub, url = %report.url, outcome = %report.outcome, "crawled");
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
            agg.fetchers.politeness.finish(&source.url);
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
    let reports = crawl_many(agg, sources).await;
    // "Now" includes being searchable when the answer comes.
    agg.make_searchable().await?;
    Ok(reports)
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
                    .filter(|s| agg.fetchers.politeness.start(&s.url))
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
        if scheduled {
            if let Err(e) = start_due_polls(&agg).await {
                tracing::warn!(error = %e, "could not poll upstream aggregators");
            }
        }
        if now - last_purge >= 3600 {
            last_purge = now;
            match agg.purge_tombstones().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "purged old tombstones"),
                Err(e) => tracing::warn!(error = %e, "could not purge tombstones"),
            }
            match agg.expire_registrations(now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "dropped registered hubs that kept failing"),
                Err(e) => tracing::warn!(error = %e, "could not expire registrations"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(SCHEDULE_TICK) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Longest a scheduled poll asks an upstream to hold its request at the
/// end of the feed (`wait=`), within the fetch timeout.
const FOLLOW_WAIT_SECS: u32 = 25;

/// Starts a task for each due upstream not already being polled: each
/// upstream is followed on its own, so a request held at the end of one
/// upstream's feed (`wait=`) never delays another's.
async fn start_due_polls(agg: &Arc<Aggregator>) -> Result<()> {
    let now = Timestamp::now().as_second();
    let due = agg.read(move |c| db::due_upstreams(c, now)).await?;
    // A held request must end before the fetch's own timeout.
    let wait = crate::feed::wait_within(FOLLOW_WAIT_SECS, agg.settings.request_timeout_secs);
    for upstream in due {
        let fresh = agg
            .polling
            .lock()
            .is_ok_and(|mut p| p.insert(upstream.url.clone()));
        if !fresh {
            continue;
        }
        let agg = agg.clone();
        tokio::spawn(async move {
            let url = upstream.url.clone();
            if let Err(e) = poll_one(&agg, upstream, wait).await {
                tracing::warn!(upstream = %url, error = %e, "could not poll an upstream aggregator");
            }
            if let Ok(mut polling) = agg.polling.lock() {
                polling.remove(&url);
            }
        });
    }
    Ok(())
}

/// Polls every upstream now (or every due one), one after the other,
/// without waiting at the end of any feed, recording each poll's outcome.
pub async fn poll_due(agg: &Aggregator, force: bool) -> Result<Vec<follow::PollReport>> {
    let now = Timestamp::now().as_second();
    let due = agg
        .read(move |c| {
            if force {
                db::list_upstreams(c)
            } else {
                db::due_upstreams(c, now)
            }
        })
        .await?;
    let mut reports = Vec::new();
    for upstream in due {
        reports.push(poll_one(agg, upstream, 0).await?);
    }
    Ok(reports)
}

/// Polls one upstream (holding the last request up to `wait` seconds when
/// the upstream supports it) and records the outcome and the next poll:
/// at once after a held request (the wait was the interval), after
/// `upstream_poll_secs` once caught up, later after a failure.
async fn poll_one(
    agg: &Aggregator,
    upstream: db::Upstream,
    wait: u32,
) -> Result<follow::PollReport> {
    let report = follow::poll(
        agg.directory(),
        &agg.fetchers,
        &upstream,
        follow::Deletions::SignedOnly,
        follow::PollLimits {
            wait_secs: wait,
            ..follow::PollLimits::default()
        },
        |_| {},
    )
    .await?;
    let now = Timestamp::now().as_second();
    {
        let interval = agg.settings.upstream_poll_secs;
        let next = if report.error.is_some() {
            now + backoff_secs(interval, upstream.failures + 1, random_u32()) as i64
        } else if report.caught_up && !report.waited {
            now + interval as i64
        } else {
            now
        };
        let (url, error) = (report.url.clone(), report.error.clone());
        agg.write(move |c| {
            db::record_poll(
                c,
                &url,
                now,
                error.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
                next,
            )
        })
        .await?;
        match &report.error {
            Some((code, message)) => {
                tracing::warn!(upstream = %report.url, %code, %message, "upstream poll failed")
            }
            None if report.counts.accepted + report.counts.rejected > 0 => {
                tracing::info!(upstream = %report.url, accepted = report.counts.accepted,
                    rejected = report.counts.rejected, "polled upstream")
            }
            None => tracing::debug!(upstream = %report.url, "polled upstream: nothing new"),
        }
    }
    Ok(report)
}
