//! An aggregator's crawl from the command line: `crawl` (every source
//! once, now), `check-url` (would the crawler fetch this address?), and
//! `hub undelist|repin` (undo a delisting, accept a hub's new key).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use signpost_node::aggregator::Aggregator;
use signpost_node::config::{Config, LogFormat};
use signpost_node::crawl;

use super::setup_logs;

/// `crawl`'s flags.
#[derive(Args)]
pub struct CrawlArgs {
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Crawls every source once and prints each outcome.
pub fn crawl(args: CrawlArgs) -> Result<()> {
    let CrawlArgs { dir, json } = args;
    let config = Config::load(&dir)?;
    setup_logs(config.node.log_format, "warn");
    if !config.aggregator.enabled {
        bail!(
            "this node is not an aggregator: set enabled = true under [aggregator] in {}",
            dir.join(signpost_node::config::CONFIG_FILE).display()
        );
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let reports = runtime.block_on(async {
        let agg = std::sync::Arc::new(Aggregator::open(&dir, &config)?);
        crawl::crawl_all_now(&agg).await
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else if reports.is_empty() {
        println!("No sources yet. Add one with: signpost-node source add --dir {} https://hub.example.org", dir.display());
    } else {
        for r in &reports {
            println!(
                "{:<13} {}  {}",
                r.outcome,
                r.url,
                r.error.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// `check-url`'s flags.
#[derive(Args)]
pub struct CheckUrlArgs {
    /// The aggregator's folder, as given to init (its settings count).
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
    /// The hub's address, or the full address of its listing.
    url: String,
}

/// Loads the settings that count and checks the address.
pub fn check_url(args: CheckUrlArgs) -> Result<()> {
    let CheckUrlArgs { dir, url } = args;
    let config = Config::load(&dir)?;
    setup_logs(config.node.log_format, "warn");
    verdicts(&config, &url)
}

/// `check-url`: prints the verdict on each address of `url`, and fails
/// (exit 1) when the crawler would refuse it.
fn verdicts(config: &Config, url: &str) -> Result<()> {
    use signpost_client::fetch::ssrf::{self, Verdict};
    let policy = ssrf::AddressPolicy {
        allow_private: config.aggregator.allow_private_networks,
        allowed: config.aggregator.allow_addresses.clone(),
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let check = runtime
        .block_on(ssrf::check_addresses(url, &policy))
        .with_context(|| format!("the crawler would not fetch {url}"))?;
    println!("{}", check.url);
    if check.addresses.is_empty() {
        println!("  (the name has no addresses)");
    }
    for (ip, verdict) in &check.addresses {
        match verdict {
            Verdict::Global => println!("  {ip}  allowed: a global unicast address"),
            Verdict::AllowedBy(setting, refusal) => {
                println!("  {ip}  allowed by {setting} (otherwise refused: {refusal})")
            }
            Verdict::Refused(refusal) => println!("  {ip}  refused: {refusal}"),
        }
    }
    if !check.would_fetch() {
        bail!(
            "the crawler would not fetch {}: no allowed address (set aggregator.allow_addresses to let a named intranet hub through)",
            check.url
        );
    }
    println!("The crawler would fetch this address (checked without connecting).");
    Ok(())
}

/// `hub`'s commands: an aggregator's judgement of one hub, undone.
#[derive(Subcommand)]
pub enum HubAction {
    /// Take a hub off this aggregator's denylist: its next listing is
    /// judged like any other and its addresses are crawled again.
    Undelist {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The hub's id, `ed25519:...` (see `GET /v1/hubs`).
        hub_id: String,
    },
    /// Accept a hub's next listing under a key that does not chain from
    /// the one pinned (the hub lost its key, or a thief rotated it away).
    ///
    /// The next listing of the hub this aggregator sees is pinned, so crawl
    /// the hub's own address next (`signpost-node crawl`). Its seq must
    /// still be above the one held.
    Repin {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The hub's id, `ed25519:...`.
        hub_id: String,
        /// Why, recorded in the store with who asked
        /// (e.g. "lost key; confirmed by phone with the hub's manager").
        #[arg(long)]
        reason: String,
        /// Accept only this key (`ed25519:...`, as the hub's
        /// `signpost-node key export-public` prints it); without it any
        /// key of a chain that starts at the hub's id.
        #[arg(long)]
        key: Option<String>,
        /// Who is asking, recorded with the reason (default: your login name).
        #[arg(long, env = "USER", default_value = "operator")]
        operator: String,
    },
}

/// Takes a hub off the denylist, or records that its next key is to be
/// accepted.
pub fn hub(action: HubAction) -> Result<()> {
    setup_logs(LogFormat::Text, "warn");
    match action {
        HubAction::Undelist { dir, hub_id } => {
            let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
            let entry = signpost_node::recovery::undelist(&dir, &hub_id, &operator)?;
            println!(
                "Hub {} is off the denylist (delisted by {}: {}). Its next listing is judged \
                 like any other; a running node crawls its addresses within a second.",
                entry.hub_id, entry.operator, entry.reason
            );
        }
        HubAction::Repin {
            dir,
            hub_id,
            reason,
            key,
            operator,
        } => {
            let done =
                signpost_node::recovery::repin(&dir, &hub_id, key.as_deref(), &reason, &operator)?;
            println!(
                "Recorded. The next listing of {hub_id} {} will be accepted and its key pinned \
                 (until now: {}). Crawl the hub's own address next: signpost-node crawl --dir {}",
                key.map(|k| format!("signed by {k}"))
                    .unwrap_or_else(|| "under any key of its own chain".into()),
                done.old_key.as_deref().unwrap_or("not held yet"),
                dir.display()
            );
        }
    }
    Ok(())
}
