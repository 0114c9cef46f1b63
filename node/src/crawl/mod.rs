//! Crawling hubs: one guarded fetch ([`Aggregator::fetch_listing`], within
//! the politeness limits: one request at a time per host, a global limit
//! on crawls in flight) followed by [`Aggregator::ingest`], ending with the
//! source's health recorded (the next crawl at the configured interval, or
//! exponential backoff with jitter for a hub that keeps failing) and a log
//! line naming the hub and address. When crawls start is
//! [`crate::schedule`]'s.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::aggregator::{Aggregator, Ingested};
use crate::error::Result;
use signpost_client::fetch::{self, backoff_secs, random_u32, Fetched, Validators};
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
            agg.fetch_listing(&url, &validators, Some(&source.url))
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
