//! `demo`: a demonstration network on this computer.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use signpost_node::config::LogFormat;

use super::setup_logs;

/// `demo`'s flags.
#[derive(Args)]
pub struct DemoArgs {
    /// Address of the Lancashire directory; the Leeds one takes the next
    /// port and the hubs the ports from +10.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Keep the demo's files here instead of a temporary folder.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also show every node's log (migrations, publications, crawls);
    /// by default only the addresses and warnings are shown.
    #[arg(long)]
    verbose: bool,
}

/// Runs the seed reports' hubs and the Lancashire and Leeds directories
/// until Ctrl-C.
pub fn run(args: DemoArgs) -> Result<()> {
    let DemoArgs {
        listen,
        dir,
        verbose,
    } = args;
    setup_logs(LogFormat::Text, if verbose { "info" } else { "warn" });
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime
        .block_on(signpost_node::demo::run(listen, dir))
        .map_err(anyhow::Error::from)
}
