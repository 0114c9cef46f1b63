//! `signpost-bench search`: search latency and memory with a large
//! directory, over HTTP from a node in its own process, beside one-row
//! lookups by primary key.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::StreamExt;
use signpost_node::aggregator::Aggregator;
use signpost_node::config::Config;

use crate::fixtures::{bench_key, bench_listing, init_bench_node, SERVICES_HELD};
use crate::load;

/// What the search benchmark measured.
#[derive(Debug, Clone)]
pub struct SearchReport {
    /// Services stored.
    pub services: u64,
    /// Seconds taken to load them (direct ingest, verify and store).
    pub load_secs: f64,
    /// True when an earlier run's directory was reused (`--keep`).
    pub reused: bool,
    /// Seconds from starting `signpost-node serve` on the loaded store to
    /// its first answer (the search index is built from the store first).
    pub startup_secs: f64,
    /// Baseline: one-row primary-key lookups over HTTP (`/v1/hubs/{id}`).
    pub baseline: load::LoadFigures,
    /// Per query kind: (name, figures).
    pub queries: Vec<(String, load::LoadFigures)>,
    /// Resident memory of the aggregator process after the queries.
    pub rss: u64,
}

impl SearchReport {
    /// The report as Markdown.
    pub fn markdown(&self, command: &str) -> String {
        let mut out = format!(
            "Command: `{command}`\n\n\
             {} services {} (verified and stored through the ingest path, 32 at a time); \
             the node then started on them in {:.1} s (its search index opened from its folder, or built from the store when missing).\n\n\
             | figure (4 clients, 5 s each, over HTTP) | p50 | p99 | ratio of p99 to baseline p99 | target |\n\
             | --- | --- | --- | --- | --- |\n\
             | baseline: one hub by id (`/v1/hubs/ID`) | {:?} | {:?} | 1 | |\n",
            self.services,
            if self.reused {
                "loaded by an earlier run (`--keep`)".to_owned()
            } else {
                format!("loaded in {:.0} s", self.load_secs)
            },
            self.startup_secs,
            self.baseline.p50,
            self.baseline.p99
        );
        for (name, f) in &self.queries {
            out.push_str(&format!(
                "| {name} | {:?} | {:?} | {:.1} | p99 under 20 ms |\n",
                f.p50,
                f.p99,
                f.p99.as_secs_f64() / self.baseline.p99.as_secs_f64().max(1e-9)
            ));
        }
        out.push_str(&format!(
            "\nResident memory of the aggregator process holding them: {:.0} MiB.\n",
            self.rss as f64 / (1024.0 * 1024.0)
        ));
        out
    }
}

/// Loads `hubs` × `services` into a fresh aggregator, serves it from a
/// `signpost-node serve` process and measures search latency and memory.
pub async fn search_bench(
    hubs: usize,
    services: usize,
    keep: Option<&std::path::Path>,
) -> Result<SearchReport> {
    let temp = tempfile::tempdir().context("creating a temp dir")?;
    let dir = keep.unwrap_or(temp.path()).to_owned();
    let loaded = dir.join(signpost_node::config::DATABASE_FILE).exists();
    if !loaded {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        init_bench_node(dir.clone(), "Bench directory".into(), None, true)?;
    }
    let mut config = Config::load(&dir)?;
    config.aggregator.scheduled = false;
    std::fs::write(
        dir.join(signpost_node::config::CONFIG_FILE),
        config.to_commented_toml(),
    )
    .with_context(|| format!("writing the settings in {}", dir.display()))?;
    let started = Instant::now();
    let first_id = bench_key(0)?.key_id().to_string();
    if loaded {
        eprintln!(
            "  reusing the directory already loaded in {}",
            dir.display()
        );
    } else {
        let agg = Arc::new(Aggregator::open(&dir, &config)?);
        // Sign on one core while the other stores.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
        let signer = tokio::task::spawn_blocking(move || -> Result<()> {
            for i in 0..hubs {
                let bytes = bench_listing(i, services, &bench_key(i)?)?;
                if tx.blocking_send(bytes).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let mut n = 0usize;
        let mut ingests = futures_util::stream::poll_fn(|cx| rx.poll_recv(cx))
            .map(|bytes| agg.ingest(bytes, None))
            .buffer_unordered(32);
        while let Some(outcome) = ingests.next().await {
            outcome?;
            n += 1;
            if n.is_multiple_of(5000) {
                eprintln!(
                    "  loaded {n} of {hubs} listings ({:.0} s)",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        signer.await.context("bench signer")??;
    }
    let load_secs = started.elapsed().as_secs_f64();
    eprintln!("  starting the node (it opens its search index, or builds it from the store when missing)...");
    let starting = Instant::now();
    let node = load::ServeProcess::start(&dir).await?;
    let startup_secs = starting.elapsed().as_secs_f64();
    let base = node.url.clone();
    let run = Duration::from_secs(5);
    let baseline = load::load(&[format!("{base}/v1/hubs/{first_id}")], 4, run).await?;
    let mut queries = Vec::new();
    for (name, urls) in [
        (
            "text: one word (`q=befriending`)",
            vec![format!("{base}/v1/services?q=befriending")],
        ),
        (
            "text: two words (`q=food pantry`)",
            vec![format!("{base}/v1/services?q=food%20pantry")],
        ),
        (
            "taxonomy + distance (`taxonomy=Food&near=…&within_km=2`)",
            vec![format!(
                "{base}/v1/services?taxonomy=Food&near=53.9,-2.9&within_km=2"
            )],
        ),
        (
            "open at a time (`open_at=…`, Tuesday 11:00)",
            vec![format!("{base}/v1/services?open_at=2026-11-24T11:00:00Z")],
        ),
    ] {
        eprintln!("  querying: {name}");
        queries.push((name.to_owned(), load::load(&urls, 4, run).await?));
    }
    let rss = node.rss_bytes();
    let total = {
        let conn = signpost_client::store::open(&dir.join(signpost_node::config::DATABASE_FILE))?;
        conn.query_row(SERVICES_HELD, [], |r| r.get::<_, i64>(0))? as u64
    };
    Ok(SearchReport {
        services: total,
        load_secs,
        reused: loaded,
        startup_secs,
        baseline,
        queries,
        rss,
    })
}
