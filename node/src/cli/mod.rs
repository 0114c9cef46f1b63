//! The `signpost-node` commands, one file per group: each file holds its
//! commands' flags (clap) and the code that runs them and prints the
//! result. What they do is in the node library; these files only read the
//! command line, call it, and say what happened.

use std::path::Path;

use anyhow::Result;
use signpost_node::config::{Config, LogFormat};
use signpost_node::hub::HubCore;

pub mod admin;
pub mod aggregator;
pub mod demo;
pub mod init;
pub mod ops;
pub mod profile;
pub mod serve;
pub mod service;
pub mod sources;

/// Logs to stderr (stdout is for the command's answer), at `default`
/// unless `SIGNPOST_LOG` says otherwise.
pub fn setup_logs(format: LogFormat, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGNPOST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Opens the hub in `dir` with its own settings.
pub fn open_hub(dir: &Path) -> Result<HubCore> {
    let config = Config::load(dir)?;
    Ok(HubCore::open(dir, &config)?)
}
