//! The database's upkeep: `backup`, `restore` and `reindex`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use signpost_node::config::{Config, LogFormat};

use super::{open_hub, setup_logs};

/// `backup`'s flags.
#[derive(Args)]
pub struct BackupArgs {
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
    /// The backup file to write (must not exist yet).
    #[arg(long)]
    to: PathBuf,
}

/// Copies the database while the node runs.
pub fn backup(args: BackupArgs) -> Result<()> {
    let BackupArgs { dir, to } = args;
    setup_logs(LogFormat::Text, "warn");
    let size = signpost_node::ops::backup(&dir, &to)?;
    println!(
        "Wrote {} ({size} bytes). Keep it with a copy of {}.",
        to.display(),
        dir.join("hub.key").display()
    );
    Ok(())
}

/// `restore`'s flags.
#[derive(Args)]
pub struct RestoreArgs {
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
    /// The backup file made by `backup`.
    #[arg(long)]
    from: PathBuf,
}

/// Puts a backup back, keeps the current database beside it, and
/// publishes the restored listing anew.
pub fn restore(args: RestoreArgs) -> Result<()> {
    let RestoreArgs { dir, from } = args;
    setup_logs(LogFormat::Text, "warn");
    let kept = signpost_node::ops::restore(&dir, &from)?;
    println!(
        "Restored {} into {}; the previous database is kept as {}.",
        from.display(),
        dir.display(),
        kept.display()
    );
    // Publish the restored listing now, above every seq issued
    // before, so aggregators take it at their next crawl.
    if Config::load(&dir)?.hub.enabled {
        match open_hub(&dir).and_then(|hub| Ok(hub.published()?)) {
            Ok(Some(p)) => println!("Published the restored listing anew (seq {}).", p.seq),
            Ok(None) => {}
            Err(e) => println!(
                "The hub will publish the restored listing when the node starts \
                 (it could not now: {e})."
            ),
        }
    }
    Ok(())
}

/// `reindex`'s flags.
#[derive(Args)]
pub struct ReindexArgs {
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
}

/// Builds an aggregator's search index again from its database.
pub fn reindex(args: ReindexArgs) -> Result<()> {
    let ReindexArgs { dir } = args;
    let config = Config::load(&dir)?;
    setup_logs(config.node.log_format, "info");
    if !config.aggregator.enabled {
        bail!(
            "this node is not an aggregator, so it has no search index: set enabled = true under [aggregator] in {}",
            dir.join(signpost_node::config::CONFIG_FILE).display()
        );
    }
    let started = std::time::Instant::now();
    let searchable = signpost_node::ops::reindex(&dir, &config)?;
    println!(
        "Search index rebuilt from the database: {searchable} services in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
