//! `serve` (run the node) and `healthcheck` (ask a running node whether it
//! is ready, for containers and systemd).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use signpost_node::config::Config;
use signpost_node::server;

use super::setup_logs;

/// `serve`'s flags.
#[derive(Args)]
pub struct ServeArgs {
    /// The hub's folder, as given to init.
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
}

/// Runs the node until Ctrl-C (or SIGTERM), then stops it cleanly.
pub fn run(args: ServeArgs) -> Result<()> {
    let ServeArgs { dir } = args;
    let config = Config::load(&dir)?;
    setup_logs(config.node.log_format, "info");
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let node = server::start(&dir, config).await?;
        eprintln!(
            "Serving on {} (listing at {}/.well-known/signpost/listing). Press Ctrl-C to stop.",
            node.url(),
            node.url()
        );
        server::shutdown_signal().await;
        eprintln!("Stopping...");
        node.stop().await?;
        Ok(())
    })
}

/// `healthcheck`'s flags.
#[derive(Args)]
pub struct HealthcheckArgs {
    /// The node's readiness (or health) address.
    #[arg(long, default_value = "http://127.0.0.1:8080/readyz")]
    url: String,
    /// Keep asking, once a second, for up to this many seconds (for a
    /// start-up check: systemd's `ExecStartPost`).
    #[arg(long, default_value_t = 0)]
    wait: u64,
}

/// Exits 0 once `url` answers 200, or fails with the last answer after
/// `wait` seconds.
pub fn healthcheck(args: HealthcheckArgs) -> Result<()> {
    let HealthcheckArgs { url, wait } = args;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .no_proxy()
            .build()?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
        loop {
            let answer = match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(anyhow::anyhow!(
                    "{url} answered {}: {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                )),
                Err(e) => Err(anyhow::anyhow!("{url}: {e}")),
            };
            match answer {
                Ok(()) => break,
                Err(e) if std::time::Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
            }
        }
        println!("ok");
        Ok(())
    })
}
