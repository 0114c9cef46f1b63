//! Benchmark: how fast a client replica syncs a large feed, beside the raw
//! Ed25519 verify rate of one core measured in the same run.
//!
//! `cargo run --release -p signpost-client --example bench_sync -- [HUBS] [SERVICES]`
//! (defaults 5000 × 20 = 100,000 services). Loopback only.

use std::time::Instant;

use signpost_client::{Replica, SyncLimits};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let hubs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5000);
    let services: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20);
    eprintln!("measuring the raw verify rate of one core...");
    let raw =
        tokio::task::spawn_blocking(move || signpost_node::bench::baseline_verify_rate(services))
            .await??;
    eprintln!("loading an aggregator with {hubs} hubs x {services} services...");
    let (node, _dir, mean) = signpost_node::bench::preloaded_aggregator(hubs, services).await?;
    let target = tempfile::tempdir()?;
    let replica = Replica::open(&target.path().join("replica.db"))?;
    eprintln!("syncing...");
    let started = Instant::now();
    let report = replica
        .sync(&node.url(), SyncLimits::default(), |_| {})
        .await?;
    let secs = started.elapsed().as_secs_f64();
    node.stop().await?;
    let listings_per_sec = report.accepted as f64 / secs;
    println!("Command: `cargo run --release -p signpost-client --example bench_sync -- {hubs} {services}`\n");
    println!("| figure | value | ratio to baseline |");
    println!("| --- | --- | --- |");
    println!("| baseline: raw `verify_strict`, one core, {mean}-byte listing | {raw:.0} /s | 1 |");
    println!(
        "| client sync of {} services ({} listings, {} pages, verified and stored) | {:.0} services/s ({listings_per_sec:.0} listings/s, {secs:.1} s) | {:.3} |",
        report.accepted as usize * services,
        report.accepted,
        report.pages,
        listings_per_sec * services as f64,
        listings_per_sec / raw
    );
    println!(
        "\nRefused: {}; caught up: {}.",
        report.rejected, report.caught_up
    );
    Ok(())
}
