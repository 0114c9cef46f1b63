//! `source ...`: the hubs an aggregator crawls, and the registrations that
//! wait for approval.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Subcommand;
use signpost_client::store::aggregator as sources;
use signpost_node::config::{Config, LogFormat};

use super::setup_logs;

/// `source`'s commands: what an aggregator crawls.
#[derive(Subcommand)]
pub enum SourceAction {
    /// Add a hub to crawl, by its address (e.g. https://hub.example.org).
    ///
    /// A running node picks it up within a second.
    Add {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The hub's address, or the full address of its listing.
        url: String,
    },
    /// List the hubs being crawled, with their health.
    List {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Stop crawling an address (its hub's data stays until it expires).
    Remove {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The address as `source list` shows it.
        url: String,
    },
    /// List hubs that registered themselves and wait for your approval
    /// (`registration = "approval"`), with the hub id their listing named.
    ListPending {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Approve a pending registration: the address becomes a source and a
    /// running node crawls it within a second.
    Approve {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The address as `source list-pending` shows it.
        url: String,
    },
    /// Refuse a pending registration (the hub may register again later).
    Reject {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The address as `source list-pending` shows it.
        url: String,
    },
}

/// Opens an aggregator's store; a node that is no aggregator has none.
fn open_sources(dir: &Path) -> Result<rusqlite::Connection> {
    let config = Config::load(dir)?;
    if !config.aggregator.enabled {
        bail!(
            "this node is not an aggregator: set enabled = true under [aggregator] in {}",
            dir.join(signpost_node::config::CONFIG_FILE).display()
        );
    }
    Ok(signpost_client::store::open(
        &dir.join(signpost_node::config::DATABASE_FILE),
    )?)
}

/// A source's address as the store holds it (a hub's base address becomes
/// its listing's); text that is no address is kept as typed.
fn canonical_source(url: &str) -> String {
    signpost_client::fetch::listing_url(url)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| url.to_owned())
}

/// Adds, lists, removes, approves or refuses a source.
pub fn run(action: SourceAction) -> Result<()> {
    setup_logs(LogFormat::Text, "warn");
    match action {
        SourceAction::Add { dir, url } => {
            let conn = open_sources(&dir)?;
            let url = signpost_client::fetch::listing_url(&url).map_err(|m| anyhow::anyhow!(m))?;
            let now = jiff::Timestamp::now().as_second();
            if sources::add_source(&conn, url.as_str(), sources::Origin::Cli, now)? {
                println!("Added {url}; it will be crawled within a second by a running node.");
            } else {
                println!("{url} is already a source.");
            }
        }
        SourceAction::List { dir, json } => {
            let conn = open_sources(&dir)?;
            let list = sources::list_sources(&conn)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("No sources yet. Add one with: signpost-node source add --dir {} https://hub.example.org", dir.display());
            } else {
                println!("{:<13} {:>8}  URL", "LAST", "FAILURES");
                for s in list {
                    println!(
                        "{:<13} {:>8}  {}{}",
                        s.last_outcome.map_or("never", |o| o.as_str()),
                        s.failures,
                        s.url,
                        s.last_error
                            .map(|e| format!("\n{:>23}{e}", ""))
                            .unwrap_or_default()
                    );
                }
            }
        }
        SourceAction::Remove { dir, url } => {
            let conn = open_sources(&dir)?;
            let canonical = canonical_source(&url);
            if sources::remove_source(&conn, &canonical)? || sources::remove_source(&conn, &url)? {
                println!("Removed {canonical}.");
            } else {
                bail!("{url} is not a source (see `signpost-node source list`)");
            }
        }
        SourceAction::ListPending { dir, json } => {
            let conn = open_sources(&dir)?;
            let pending = sources::pending_registrations(&conn)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&pending)?);
            } else if pending.is_empty() {
                println!("No registrations wait for approval.");
            } else {
                println!("{:<20} {:<24} URL / HUB", "ASKED", "FROM");
                for p in pending {
                    let asked = jiff::Timestamp::from_second(p.requested_at)
                        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default();
                    println!(
                        "{asked:<20} {:<24} {}\n{:>46}{}",
                        p.registrant,
                        p.url,
                        "",
                        p.hub_id.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        SourceAction::Approve { dir, url } => {
            let mut conn = open_sources(&dir)?;
            let now = jiff::Timestamp::now().as_second();
            let url = canonical_source(&url);
            if !sources::approve_registration(&mut conn, &url, now)? {
                bail!("no registration of {url} waits (see `signpost-node source list-pending`)");
            }
            println!("Approved {url}; a running node crawls it within a second.");
        }
        SourceAction::Reject { dir, url } => {
            let conn = open_sources(&dir)?;
            let url = canonical_source(&url);
            if !sources::reject_registration(&conn, &url)? {
                bail!("no registration of {url} waits (see `signpost-node source list-pending`)");
            }
            println!("Refused {url}.");
        }
    }
    Ok(())
}
