//! Following upstream aggregators on the node's schedule or an operator's
//! "poll now": each upstream polled on its own, its outcome and next poll
//! recorded. Reading a feed is the replica library's
//! ([`signpost_client::follow`]).

use std::sync::Arc;

use jiff::Timestamp;
use signpost_client::fetch::{backoff_secs, random_u32};
use signpost_client::follow;
use signpost_client::store::aggregator as db;

use crate::aggregator::Aggregator;
use crate::error::Result;

/// Longest a scheduled poll asks an upstream to hold its request at the
/// end of the feed (`wait=`), within the fetch timeout.
const FOLLOW_WAIT_SECS: u32 = 25;

/// Starts a task for each due upstream not already being polled: each
/// upstream is followed on its own, so a request held at the end of one
/// upstream's feed (`wait=`) never delays another's.
pub(crate) async fn start_due_polls(agg: &Arc<Aggregator>) -> Result<()> {
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
