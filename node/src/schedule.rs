//! The aggregator's clock: every half second it starts the crawls that are
//! due, the upstream polls that are due, and once an hour the clean-ups
//! (old tombstones, registered sources that never worked). What each of
//! those does is in its own module ([`crate::crawl`], [`crate::follow`],
//! [`crate::aggregator`]); only when is decided here.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use signpost_client::store::aggregator::{self as db, Source};
use tokio::sync::watch;

use crate::aggregator::Aggregator;
use crate::crawl::crawl_many;
use crate::follow::start_due_polls;

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
