//! `signpost-bench`: Signpost's benchmarks, kept out of the node's binary
//! and library. Every figure is printed beside a baseline measured in the
//! same run on the same machine (mostly the raw Ed25519 `verify_strict`
//! rate of one core), so figures from different machines compare as
//! ratios. Loopback only: nothing leaves this computer.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

mod converge;
mod crawl;
mod fixtures;
mod load;
mod reports;
mod search;
mod serve;
mod sync;

/// Measure Signpost's performance on this machine (loopback only), as
/// ratios to the raw signature-verify rate of one core measured in the
/// same run.
///
/// Build it optimised first: `cargo run --release -p signpost-bench --
/// crawl`. Each command prints a Markdown report, with the command that
/// made it, ready to paste into docs/benchmarks.md.
#[derive(Parser)]
#[command(name = "signpost-bench", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    what: BenchWhat,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Serve N hubs on loopback and crawl them all into a fresh store.
    Crawl {
        /// Hubs to serve and crawl.
        #[arg(long, default_value_t = 1000)]
        hubs: usize,
        /// Services per hub.
        #[arg(long, default_value_t = 20)]
        services: usize,
        /// Crawls in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// The hub listing endpoint against a static file server, and an idle
    /// hub's memory.
    Serve {
        /// Services in the hub's listing.
        #[arg(long, default_value_t = 20)]
        services: usize,
    },
    /// Search latency and memory with a large directory (default 1,000,000
    /// services: 50,000 hubs of 20).
    Search {
        #[arg(long, default_value_t = 50_000)]
        hubs: usize,
        #[arg(long, default_value_t = 20)]
        services: usize,
        /// Keep the loaded directory in this folder, and reuse it when it is
        /// already there (loading a million services takes minutes).
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// Time an edit's trip around three aggregators that follow each other.
    Converge {
        /// How many edits to time.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// The aggregators' recrawl and upstream-poll interval, in seconds
        /// (900, a quarter of an hour, shows what nudges and waiting on
        /// feeds do; 1 shows polling alone).
        #[arg(long, default_value_t = 900)]
        interval: u64,
    },
    /// Time the coordinator reports on demand over a region of N hubs,
    /// beside a plain full scan of the same store.
    Reports {
        /// Hubs to store.
        #[arg(long, default_value_t = 5000)]
        hubs: usize,
        /// Services per hub.
        #[arg(long, default_value_t = 20)]
        services: usize,
    },
    /// Time a client replica's sync of a large aggregator feed (HUBS hubs
    /// of SERVICES services, loaded directly into the aggregator first).
    Sync {
        /// Hubs in the feed.
        #[arg(default_value_t = 5000)]
        hubs: usize,
        /// Services per hub.
        #[arg(default_value_t = 20)]
        services: usize,
    },
    /// Serve one file with a plain static file server (the baseline of
    /// `serve`, run in its own process like the node).
    #[command(hide = true)]
    StaticFile {
        /// The file.
        file: PathBuf,
        /// Address and port.
        #[arg(long)]
        listen: SocketAddr,
    },
    /// Run a node on a folder, as `signpost-node serve` does (the node
    /// process that `serve` and `search` measure from outside).
    #[command(hide = true)]
    NodeServe {
        /// The node's folder.
        #[arg(long)]
        dir: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli.what) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, errors only unless `SIGNPOST_LOG` says otherwise, so
/// the report on stdout stays clean.
fn setup_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGNPOST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The command line that reproduces a report, printed at its top.
fn command(args: &str) -> String {
    format!("cargo run --release -p signpost-bench -- {args}")
}

fn run(what: BenchWhat) -> Result<()> {
    setup_logs();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match what {
        BenchWhat::Crawl {
            hubs,
            services,
            concurrency,
        } => {
            let options = crawl::CrawlBenchOptions {
                hubs,
                services,
                concurrency,
            };
            let report = runtime.block_on(crawl::crawl_bench(options))?;
            let command = command(&format!(
                "crawl --hubs {hubs} --services {services} --concurrency {concurrency}"
            ));
            println!("{}", report.markdown(&command));
        }
        BenchWhat::Serve { services } => {
            let report = runtime.block_on(serve::serve_bench(services))?;
            let command = command(&format!("serve --services {services}"));
            println!("{}", report.markdown(&command));
        }
        BenchWhat::Search {
            hubs,
            services,
            keep,
        } => {
            let report = runtime.block_on(search::search_bench(hubs, services, keep.as_deref()))?;
            let command = command(&format!("search --hubs {hubs} --services {services}"));
            println!("{}", report.markdown(&command));
        }
        BenchWhat::Reports { hubs, services } => {
            let report = runtime.block_on(reports::reports_bench(hubs, services))?;
            let command = command(&format!("reports --hubs {hubs} --services {services}"));
            println!("{}", report.markdown(&command));
        }
        BenchWhat::Converge { rounds, interval } => {
            let report = runtime.block_on(converge::converge_bench(rounds, interval))?;
            let command = command(&format!("converge --rounds {rounds} --interval {interval}"));
            println!("{}", report.markdown(&command));
        }
        BenchWhat::Sync { hubs, services } => {
            let report = runtime.block_on(sync::sync_bench(hubs, services))?;
            let command = command(&format!("sync {hubs} {services}"));
            println!("{}", report.markdown(&command));
        }
        BenchWhat::StaticFile { file, listen } => {
            runtime.block_on(load::static_file(&file, listen))?;
        }
        BenchWhat::NodeServe { dir } => {
            let config = signpost_node::config::Config::load(&dir)?;
            runtime.block_on(async {
                let node = signpost_node::server::start(&dir, config).await?;
                signpost_node::server::shutdown_signal().await;
                node.stop().await?;
                anyhow::Ok(())
            })?;
        }
    }
    Ok(())
}
