//! `signpost-bench serve`: the hub's listing endpoint against a static
//! file server (tower-http's `ServeFile`, the same bytes from disk), each
//! in its own process, and the resident memory of an idle hub node.

use std::time::Duration;

use anyhow::{Context, Result};
use signpost_node::config::Config;

use crate::fixtures::init_bench_node;
use crate::load;

/// What the serving benchmark measured.
#[derive(Debug, Clone)]
pub struct ServeReport {
    /// The hub listing endpoint.
    pub listing: load::LoadFigures,
    /// The static file server baseline, same bytes.
    pub static_file: load::LoadFigures,
    /// Resident memory of an idle hub node, bytes.
    pub idle_hub_rss: u64,
    /// Size of the listing served.
    pub listing_bytes: usize,
}

impl ServeReport {
    /// The report as Markdown.
    pub fn markdown(&self, command: &str) -> String {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        format!(
            "Command: `{command}`\n\n\
             | figure | value | ratio to baseline | target |\n\
             | --- | --- | --- | --- |\n\
             | baseline: static file server (tower-http ServeFile), same {b}-byte listing, 32 clients | {s:.0} req/s (p50 {sp50:?}, p99 {sp99:?}) | 1 | |\n\
             | hub listing endpoint (`signpost-node serve`, own process), 32 clients | {l:.0} req/s (p50 {lp50:?}, p99 {lp99:?}) | {r:.2} | at least 0.5 |\n\
             | resident memory of an idle hub node | {rss:.1} MiB | | under 20 MiB |\n",
            b = self.listing_bytes,
            s = self.static_file.per_sec,
            sp50 = self.static_file.p50,
            sp99 = self.static_file.p99,
            l = self.listing.per_sec,
            lp50 = self.listing.p50,
            lp99 = self.listing.p99,
            r = self.listing.per_sec / self.static_file.per_sec,
            rss = mib(self.idle_hub_rss),
        )
    }
}

/// Hub listing throughput against a static file server, and idle memory.
pub async fn serve_bench(services: usize) -> Result<ServeReport> {
    let dir = tempfile::tempdir().context("creating a temp dir")?;
    init_bench_node(dir.path().to_owned(), "Bench hub".into(), None, false)?;
    {
        let config = Config::load(dir.path())?;
        let mut hub = signpost_node::hub::HubCore::open(dir.path(), &config)?;
        for s in 0..services {
            hub.add_service(serde_json::json!({
                "name": format!("Service {s}"),
                "description": "A session run by volunteers for anyone in the area who needs it.",
                "locations": [{"latitude": 54.0, "longitude": -2.8}],
                "schedules": [{"byday": "MO,WE", "opens_at": "10:00", "closes_at": "12:00"}],
                "taxonomy_terms": [{"name": "Food"}]
            }))?;
        }
    }
    let node = load::ServeProcess::start(dir.path()).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_hub_rss = node.rss_bytes();
    let listing_url = format!("{}{}", node.url, signpost_client::fetch::WELL_KNOWN_PATH);
    let bytes = reqwest::get(&listing_url)
        .await
        .and_then(|r| r.error_for_status())
        .context("bench fetch")?
        .bytes()
        .await
        .context("bench fetch")?;
    let file = dir.path().join("static-listing.json");
    std::fs::write(&file, &bytes).with_context(|| format!("writing {}", file.display()))?;
    let baseline =
        load::ServeProcess::spawn(&["static-file".into(), file.as_os_str().to_owned()], true)
            .await?;
    let run = Duration::from_secs(5);
    let static_file = load::load(&[format!("{}/listing", baseline.url)], 32, run).await?;
    let listing = load::load(&[listing_url], 32, run).await?;
    drop(baseline);
    Ok(ServeReport {
        listing,
        static_file,
        idle_hub_rss,
        listing_bytes: bytes.len(),
    })
}
