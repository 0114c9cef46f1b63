//! `init` (set up a new hub's folder) and `check-config` (say what the
//! settings file holds, or what is wrong with it).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use signpost_node::config::{Config, LogFormat};
use signpost_node::init::{init, InitOptions};
use signpost_spec::{Coordination, Dimensions, Focus, Governance, Space};

use super::setup_logs;

/// `init`'s flags: where the hub lives, its name, and how it describes itself.
#[derive(Args)]
pub struct InitArgs {
    /// Folder to keep the hub's files in (created if missing).
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
    /// Your hub's name, e.g. "At The Grange".
    #[arg(long)]
    name: String,
    /// The web address this node will be reached at, e.g. https://hub.example.org
    #[arg(long)]
    url: Option<String>,
    /// Address and port to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Kind of space: dedicated, pop-up or virtual (repeat for several).
    #[arg(long = "space", default_value = "dedicated")]
    space: Vec<String>,
    /// Who leads the hub: community-led, statutory-led or partnership.
    #[arg(long, default_value = "community-led")]
    governance: String,
    /// generic (many services) or specialised (one area of need).
    #[arg(long, default_value = "generic")]
    focus: String,
    /// first-level (delivers services) or second-level (coordinates hubs).
    #[arg(long, default_value = "first-level")]
    coordination: String,
    /// Also run an aggregator: gather other hubs' listings into a
    /// searchable directory (for a CVS or council team).
    #[arg(long)]
    aggregator: bool,
}

/// Makes the hub's folder and prints its id and the admin token (shown only
/// this once).
pub fn run(args: InitArgs) -> Result<()> {
    let InitArgs {
        dir,
        name,
        url,
        listen,
        space,
        governance,
        focus,
        coordination,
        aggregator,
    } = args;
    setup_logs(LogFormat::Text, "warn");
    let dimensions = Dimensions {
        space: space
            .iter()
            .map(|s| parse_word::<Space>("space", s, "dedicated, pop-up, virtual"))
            .collect::<Result<_>>()?,
        governance: parse_word::<Governance>(
            "governance",
            &governance,
            "community-led, statutory-led, partnership",
        )?,
        focus: parse_word::<Focus>("focus", &focus, "generic, specialised")?,
        coordination: parse_word::<Coordination>(
            "coordination",
            &coordination,
            "first-level, second-level",
        )?,
    };
    let outcome = init(&InitOptions {
        dir: dir.clone(),
        name,
        url,
        listen,
        dimensions,
        aggregator,
    })?;
    println!("Your hub is set up in {}.", dir.display());
    println!();
    println!("  hub id:      {}", outcome.hub_id);
    println!("  settings:    {}", outcome.config_path.display());
    println!(
        "  secret key:  {} (back this file up and keep it private)",
        outcome.key_path.display()
    );
    println!();
    println!("Admin token (shown only this once; store it in a password manager):");
    println!();
    println!("  {}", outcome.admin_token);
    println!();
    println!("Next: signpost-node serve --dir {}", dir.display());
    Ok(())
}

/// Reads one of the dimension words (`--space`, `--governance`...) the way
/// the settings file spells it, naming the choices when it is not one.
fn parse_word<T: serde::de::DeserializeOwned>(what: &str, word: &str, choices: &str) -> Result<T> {
    serde_json::from_value(json!(word))
        .with_context(|| format!("--{what} {word:?}: choose one of {choices}"))
}

/// `check-config`'s flags.
#[derive(Args)]
pub struct CheckConfigArgs {
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
}

/// Loads the settings as the node would, and prints what they amount to
/// (or fails with what is wrong).
pub fn check_config(args: CheckConfigArgs) -> Result<()> {
    let CheckConfigArgs { dir } = args;
    let config = Config::load(&dir)?;
    println!(
        "{} is valid.",
        dir.join(signpost_node::config::CONFIG_FILE).display()
    );
    println!("  listen:      {}", config.node.listen);
    println!(
        "  public url:  {}",
        config.node.public_url.as_deref().unwrap_or("(not set)")
    );
    let limits = &config.server;
    println!(
        "  connections: at most {} at once per listener; timeouts: headers {} s, \
         body {} s, request {} s, keep-alive {} s",
        limits.max_connections,
        limits.header_read_timeout_secs,
        limits.body_timeout_secs,
        limits.request_timeout_secs,
        limits.keep_alive_timeout_secs
    );
    println!(
        "  hub:         {}",
        if config.hub.enabled { "on" } else { "off" }
    );
    println!(
        "  aggregator:  {}",
        if config.aggregator.enabled {
            "on"
        } else {
            "off"
        }
    );
    if config.aggregator.enabled {
        println!(
            "  hubs in file: {}, upstreams: {}, trust: {:?}",
            config.aggregator.hubs.len(),
            config.aggregator.upstream.len(),
            config.aggregator.trust
        );
        let a = &config.aggregator;
        if a.registration == signpost_node::config::Registration::Off || a.register_per_hour == 0 {
            println!("  registration: off");
        } else {
            println!(
                "  registration: {} ({} an hour per client; at most {} registered, \
                 {} per client, {} per host; each listing at most {} services and \
                 {} bytes; dropped after {} days without a good listing)",
                a.registration.as_str(),
                a.register_per_hour,
                a.max_registered_sources,
                a.max_registrations_per_client,
                a.max_registrations_per_host,
                a.max_registered_services,
                a.max_registered_listing_bytes,
                a.registration_expiry_days
            );
        }
        if a.registration == signpost_node::config::Registration::Open
            && a.trust == signpost_node::config::Trust::Open
        {
            println!(
                "  note: registration and trust are both open: any stranger's listing \
                 is searchable at once (within the caps)."
            );
        }
        if config.aggregator.allow_private_networks {
            println!("  WARNING: allow_private_networks is on; only use it for local testing.");
        }
    }
    Ok(())
}
