//! `signpost-bench sync`: how fast a client replica syncs a large feed,
//! beside the raw Ed25519 verify rate of one core measured in the same run.

use std::time::Instant;

use anyhow::{Context, Result};
use signpost_client::{Replica, SyncLimits};
use signpost_node::aggregator::Aggregator;
use signpost_node::config::Config;
use signpost_node::server::{self, RunningNode};

use crate::fixtures::{baseline_verify_rate, bench_key, bench_listing, init_bench_node};

/// What the sync benchmark measured.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// Services per hub.
    pub services: usize,
    /// Mean signed listing size in bytes.
    pub mean_envelope_bytes: usize,
    /// One core's raw `verify_strict` rate over a typical listing.
    pub raw_verify_per_sec: f64,
    /// Seconds the sync took.
    pub secs: f64,
    /// What the sync said it did.
    pub sync: signpost_client::SyncReport,
}

impl SyncReport {
    /// The report as Markdown, with the command that produced it.
    pub fn markdown(&self, command: &str) -> String {
        let (raw, secs, services) = (self.raw_verify_per_sec, self.secs, self.services);
        let report = &self.sync;
        let listings_per_sec = report.accepted as f64 / secs;
        format!(
            "Command: `{command}`\n\n\
             | figure | value | ratio to baseline |\n\
             | --- | --- | --- |\n\
             | baseline: raw `verify_strict`, one core, {mean}-byte listing | {raw:.0} /s | 1 |\n\
             | client sync of {} services ({} listings, {} pages, verified and stored) | {:.0} services/s ({listings_per_sec:.0} listings/s, {secs:.1} s) | {:.3} |\n\
             \nRefused: {}; caught up: {}.",
            report.accepted as usize * services,
            report.accepted,
            report.pages,
            listings_per_sec * services as f64,
            listings_per_sec / raw,
            report.rejected,
            report.caught_up,
            mean = self.mean_envelope_bytes,
        )
    }
}

/// Loads an aggregator with `hubs` × `services` and times a fresh client
/// replica's sync of its whole feed.
pub async fn sync_bench(hubs: usize, services: usize) -> Result<SyncReport> {
    eprintln!("measuring the raw verify rate of one core...");
    let raw = tokio::task::spawn_blocking(move || baseline_verify_rate(services))
        .await
        .context("bench")??;
    eprintln!("loading an aggregator with {hubs} hubs x {services} services...");
    let (node, _dir, mean) = preloaded_aggregator(hubs, services).await?;
    let target = tempfile::tempdir().context("creating a temp dir")?;
    let replica = Replica::open(&target.path().join("replica.db"))?;
    eprintln!("syncing...");
    let started = Instant::now();
    let sync = replica
        .sync(&node.url(), SyncLimits::default(), |_| {})
        .await?;
    let secs = started.elapsed().as_secs_f64();
    node.stop().await?;
    Ok(SyncReport {
        services,
        mean_envelope_bytes: mean,
        raw_verify_per_sec: raw,
        secs,
        sync,
    })
}

/// A running aggregator preloaded with `hubs` bench listings of `services`
/// services each (ingested directly, not crawled), for feed and sync
/// benchmarks. Returns the node, its folder (keep it alive) and the mean
/// envelope size.
pub async fn preloaded_aggregator(
    hubs: usize,
    services: usize,
) -> Result<(RunningNode, tempfile::TempDir, usize)> {
    let dir = tempfile::tempdir().context("creating a temp dir")?;
    init_bench_node(
        dir.path().to_owned(),
        "Bench directory".into(),
        Some(([127, 0, 0, 1], 0).into()),
        true,
    )?;
    let mut config = Config::load(dir.path())?;
    config.aggregator.recrawl_interval_secs = 86_400;
    let agg = Aggregator::open(dir.path(), &config)?;
    let mut total = 0usize;
    for i in 0..hubs {
        let bytes = {
            let key = bench_key(i)?;
            tokio::task::spawn_blocking(move || bench_listing(i, services, &key))
                .await
                .context("bench")??
        };
        total += bytes.len();
        agg.ingest(bytes, None).await?;
        if (i + 1).is_multiple_of(1000) {
            eprintln!("  loaded {} of {hubs} hubs", i + 1);
        }
    }
    drop(agg);
    let node = server::start(dir.path(), config).await?;
    Ok((node, dir, total / hubs.max(1)))
}
