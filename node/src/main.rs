//! `signpost-node`: run a Signpost hub (and, later, an aggregator).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::json;
use signpost_client::store::aggregator as sources;
use signpost_node::aggregator::Aggregator;
use signpost_node::cli_service::ServiceFields;
use signpost_node::config::{Config, LogFormat};
use signpost_node::crawl;
use signpost_node::hub::HubCore;
use signpost_node::import::{self, Format};
use signpost_node::init::{init, InitOptions};
use signpost_node::server;
use signpost_spec::{Coordination, Dimensions, Focus, Governance, Space};

/// Signpost node: publish your community hub's services as a signed listing
/// that coordinators (CVS, council teams) and apps can trust.
///
/// Start with `signpost-node init --dir ./my-hub --name "Your Hub"`, then
/// `signpost-node serve --dir ./my-hub`.
#[derive(Parser)]
#[command(name = "signpost-node", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set up a new hub: settings, secret key, database and admin token.
    Init {
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
    },
    /// Run the node: serve the signed listing and the admin API.
    Serve {
        /// The hub's folder, as given to init.
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
    },
    /// Add, list or remove services without the web page.
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// Import services from a spreadsheet (CSV, Excel .xlsx or LibreOffice
    /// .ods) or an Open Referral (HSDS/ORUK) JSON file.
    ///
    /// Columns are recognised by their usual names (Postcode, Telephone,
    /// Opening times...); columns Signpost does not know are left out and
    /// listed. Services are matched to existing ones by id, else by name;
    /// nothing is imported if any row is wrong.
    Import {
        /// The file to import (.csv, .xlsx, .ods or .json).
        file: PathBuf,
        /// The hub's folder.
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// csv, xlsx, ods or hsds (default: from the file's extension).
        #[arg(long)]
        format: Option<String>,
        /// Which sheet of a workbook to read (default: the first with a
        /// header row naming a "name" column).
        #[arg(long)]
        sheet: Option<String>,
        /// Also remove services that are not in the file.
        #[arg(long)]
        replace: bool,
        /// Only show what would change.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show or change the hub's profile (name, description, contact details).
    Profile {
        #[command(subcommand)]
        action: ProfileAction,
    },
    /// Manage the hubs an aggregator crawls.
    Source {
        #[command(subcommand)]
        action: SourceAction,
    },
    /// Recover admin access to a node whose admin token is lost.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Undo an aggregator's delisting of a hub, or re-pin a hub's key.
    Hub {
        #[command(subcommand)]
        action: HubAction,
    },
    /// Crawl every source once now and print what happened (aggregators).
    Crawl {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Build the directory's search index again from the database (stop the
    /// node first). Not needed in normal use: a node rebuilds a missing,
    /// damaged or outdated index by itself when it starts.
    Reindex {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
    },
    /// Copy the database to a file while the node keeps running.
    Backup {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The backup file to write (must not exist yet).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup back (stop the node first). The current database is
    /// kept beside it.
    Restore {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The backup file made by `backup`.
        #[arg(long)]
        from: PathBuf,
    },
    /// The hub's signing key: rotate it, or show the public keys.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Ask a running node whether it is ready (for container health checks
    /// and systemd): exits 0 when the address answers 200 within 5 seconds.
    /// `/readyz` (the default) checks the database, the search index and
    /// crawl age; `/healthz` only that the process answers.
    Healthcheck {
        /// The node's readiness (or health) address.
        #[arg(long, default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
        /// Keep asking, once a second, for up to this many seconds (for a
        /// start-up check: systemd's `ExecStartPost`).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Check the settings file and environment, and say what is wrong.
    CheckConfig {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
    },
    /// Say whether this aggregator's crawler would fetch a web address, and
    /// if not, why not. Nothing is fetched or connected to.
    ///
    /// The address is read as the crawler reads it (http or https, a host,
    /// no user name or password; a bare address like https://hub.example.org
    /// gets /.well-known/signpost/listing added). A host name is looked up
    /// with this computer's resolver; every address found is shown as
    /// allowed or refused, with the entry of the IANA special-purpose
    /// address registries that refuses it (private, loopback, documentation
    /// ranges and the like). The node's settings count:
    /// aggregator.allow_private_networks and aggregator.allow_addresses in
    /// the settings file, and SIGNPOST_ALLOW_PRIVATE_NETWORKS.
    ///
    /// Exits 0 when the crawler would fetch the address, 1 when it would
    /// refuse it. Redirects are checked the same way when they happen, so a
    /// hub that redirects to a refused address still fails at crawl time.
    ///
    /// Example: signpost-node check-url --dir ./cvs https://hub.example.org
    CheckUrl {
        /// The aggregator's folder, as given to init (its settings count).
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The hub's address, or the full address of its listing.
        url: String,
    },
    /// Leave the network: publish a signed final listing with no services,
    /// which aggregators turn into a tombstone. `--undo` comes back.
    Withdraw {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// Confirm: aggregators will remove your services.
        #[arg(long)]
        yes: bool,
        /// Publish the services again instead.
        #[arg(long)]
        undo: bool,
    },
    /// Measure performance on this machine (loopback only), as ratios to the
    /// raw signature-verify rate of one core measured in the same run.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
    /// Start a demonstration network on this computer: the community hubs of
    /// the seed reports, and aggregators for Lancashire and Leeds.
    Demo {
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
    },
}

#[derive(Subcommand)]
enum ServiceAction {
    /// Add a service; it is published straight away.
    Add {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        #[command(flatten)]
        fields: Box<ServiceFields>,
    },
    /// List the hub's services.
    List {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a service by its id (see `service list`).
    Remove {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The service's id.
        id: String,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Make a new signing key, signed over by the current one, and publish
    /// with it. Aggregators that know your hub follow the change.
    Rotate {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
    },
    /// Print the hub id and the public keys (safe to share).
    ExportPublic {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
    },
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
    /// Serve one file with a plain static file server (the baseline of
    /// `bench serve`, run in its own process like the node).
    #[command(hide = true)]
    StaticFile {
        /// The file.
        file: PathBuf,
        /// Address and port.
        #[arg(long)]
        listen: SocketAddr,
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
        keep: Option<std::path::PathBuf>,
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
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make a new admin token and print it; the old one stops working at
    /// once (in a running node too, within a second). Signed-in admin
    /// pages stay signed in until they sign out or the node restarts.
    ResetToken {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum HubAction {
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

#[derive(Subcommand)]
enum SourceAction {
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

#[derive(Subcommand)]
enum ProfileAction {
    /// Print the hub's profile as JSON.
    Show {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
    },
    /// Change profile fields; leave a flag out to keep the current value.
    Set {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// The hub's own web site.
        #[arg(long)]
        url: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// The area served, in words.
        #[arg(long)]
        area: Option<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn setup_logs(format: LogFormat, default: &str) {
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

fn parse_word<T: serde::de::DeserializeOwned>(what: &str, word: &str, choices: &str) -> Result<T> {
    serde_json::from_value(json!(word))
        .with_context(|| format!("--{what} {word:?}: choose one of {choices}"))
}

fn open_hub(dir: &Path) -> Result<HubCore> {
    let config = Config::load(dir)?;
    Ok(HubCore::open(dir, &config)?)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init {
            dir,
            name,
            url,
            listen,
            space,
            governance,
            focus,
            coordination,
            aggregator,
        } => {
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
        Command::Serve { dir } => {
            let config = Config::load(&dir)?;
            setup_logs(config.node.log_format, "info");
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(async {
                let node = server::start(&dir, config).await?;
                eprintln!("Serving on {} (listing at {}/.well-known/signpost/listing). Press Ctrl-C to stop.", node.url(), node.url());
                server::shutdown_signal().await;
                eprintln!("Stopping...");
                node.stop().await?;
                Ok(())
            })
        }
        Command::Service { action } => {
            setup_logs(LogFormat::Text, "warn");
            match action {
                ServiceAction::Add { dir, fields } => {
                    let mut hub = open_hub(&dir)?;
                    let (service, published) = hub.add_new_service(fields.to_service()?)?;
                    println!(
                        "Added service {}; published listing seq {}.",
                        service.id, published.seq
                    );
                    Ok(())
                }
                ServiceAction::List { dir, json } => {
                    let hub = open_hub(&dir)?;
                    let services = hub.services()?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&services)?);
                    } else if services.is_empty() {
                        println!("No services yet. Add one with: signpost-node service add --dir {} --name \"...\"", dir.display());
                    } else {
                        println!("{:<36}  NAME", "ID");
                        for s in services {
                            println!("{:<36}  {}", s.id, s.name);
                        }
                    }
                    Ok(())
                }
                ServiceAction::Remove { dir, id } => {
                    let mut hub = open_hub(&dir)?;
                    let published = hub.remove_service(&id)?;
                    println!(
                        "Removed service {id}; published listing seq {}.",
                        published.seq
                    );
                    Ok(())
                }
            }
        }
        Command::Import {
            file,
            dir,
            format,
            sheet,
            replace,
            dry_run,
        } => {
            setup_logs(LogFormat::Text, "warn");
            let format = match format {
                Some(word) => Format::parse(&word)?,
                None => Format::from_file_name(&file.to_string_lossy()).with_context(|| {
                    format!("cannot tell the format of {} from its name; add --format csv, xlsx, ods or hsds", file.display())
                })?,
            };
            let size = std::fs::metadata(&file)
                .with_context(|| format!("reading {}", file.display()))?
                .len();
            if size > import::MAX_IMPORT_BYTES as u64 {
                bail!(
                    "{} is {size} bytes, more than the import limit of {} bytes",
                    file.display(),
                    import::MAX_IMPORT_BYTES
                );
            }
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let mut hub = open_hub(&dir)?;
            let file = import::Upload {
                format,
                bytes: &bytes,
                sheet: sheet.as_deref(),
            };
            let plan = import::preview(&hub, file, import::Columns::Guessed, replace)?.plan;
            for note in &plan.notes {
                println!(
                    "  note    line {}, {}: {}",
                    note.line, note.column, note.message
                );
            }
            for s in &plan.added {
                println!("  add     {}", s.name);
            }
            for u in &plan.updated {
                println!("  update  {}", u.after.name);
            }
            for id in &plan.removed {
                println!("  remove  {id}");
            }
            println!(
                "{} to add, {} to update, {} unchanged, {} to remove.",
                plan.added.len(),
                plan.updated.len(),
                plan.unchanged.len(),
                plan.removed.len()
            );
            if dry_run {
                println!("Dry run: nothing was changed.");
            } else {
                match import::apply(&mut hub, &plan, None)? {
                    Some(published) => {
                        println!("Imported; published listing seq {}.", published.seq)
                    }
                    None => println!("Nothing to change."),
                }
            }
            Ok(())
        }
        Command::Profile { action } => {
            setup_logs(LogFormat::Text, "warn");
            match action {
                ProfileAction::Show { dir } => {
                    let hub = open_hub(&dir)?;
                    println!("{}", serde_json::to_string_pretty(&hub.profile()?)?);
                    Ok(())
                }
                ProfileAction::Set {
                    dir,
                    name,
                    description,
                    url,
                    email,
                    phone,
                    area,
                } => {
                    let mut hub = open_hub(&dir)?;
                    let mut changes = serde_json::Map::new();
                    for (key, value) in [
                        ("name", name),
                        ("description", description),
                        ("url", url),
                        ("email", email),
                        ("phone", phone),
                        ("area_served", area),
                    ] {
                        if let Some(v) = value {
                            changes.insert(key.into(), json!(v));
                        }
                    }
                    if changes.is_empty() {
                        bail!("say what to change, e.g. --description \"...\" (see --help)");
                    }
                    let (_, published) = hub.update_profile(serde_json::Value::Object(changes))?;
                    println!("Profile updated; published listing seq {}.", published.seq);
                    Ok(())
                }
            }
        }
        Command::Admin {
            action: AdminAction::ResetToken { dir },
        } => {
            setup_logs(LogFormat::Text, "warn");
            let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
            let token = signpost_node::recovery::reset_token(&dir, &operator)?;
            println!("New admin token (shown once; store it somewhere safe):\n\n    {token}\n");
            println!("The old token no longer works.");
            Ok(())
        }
        Command::Hub { action } => {
            setup_logs(LogFormat::Text, "warn");
            run_hub(action)
        }
        Command::Source { action } => {
            setup_logs(LogFormat::Text, "warn");
            run_source(action)
        }
        Command::Crawl { dir, json } => {
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
        Command::Backup { dir, to } => {
            setup_logs(LogFormat::Text, "warn");
            let size = signpost_node::ops::backup(&dir, &to)?;
            println!(
                "Wrote {} ({size} bytes). Keep it with a copy of {}.",
                to.display(),
                dir.join("hub.key").display()
            );
            Ok(())
        }
        Command::Reindex { dir } => {
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
        Command::Restore { dir, from } => {
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
        Command::Key { action } => {
            setup_logs(LogFormat::Text, "warn");
            match action {
                KeyAction::Rotate { dir } => {
                    let mut hub = open_hub(&dir)?;
                    let (key, published) = hub.rotate_key()?;
                    println!("New signing key {key}; published listing seq {} with the rotation statement.", published.seq);
                    println!("The old key file is kept beside the new one (hub.key.retired-*): store it offline or delete it.");
                }
                KeyAction::ExportPublic { dir } => {
                    let hub = open_hub(&dir)?;
                    let chain = hub.key_chain()?;
                    println!(
                        "hub id:       {}",
                        chain.first().map(ToString::to_string).unwrap_or_default()
                    );
                    println!(
                        "signing key:  {}",
                        chain.last().map(ToString::to_string).unwrap_or_default()
                    );
                    if chain.len() > 1 {
                        println!(
                            "key chain:    {}",
                            chain
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(" -> ")
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Healthcheck { url, wait } => {
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
        Command::CheckConfig { dir } => {
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
                if a.registration == signpost_node::config::Registration::Off
                    || a.register_per_hour == 0
                {
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
                    println!(
                        "  WARNING: allow_private_networks is on; only use it for local testing."
                    );
                }
            }
            Ok(())
        }
        Command::CheckUrl { dir, url } => {
            let config = Config::load(&dir)?;
            setup_logs(config.node.log_format, "warn");
            check_url(&config, &url)
        }
        Command::Withdraw { dir, yes, undo } => {
            setup_logs(LogFormat::Text, "warn");
            let mut hub = open_hub(&dir)?;
            if undo {
                let p = hub.rejoin()?;
                println!(
                    "Back in the network: published listing seq {} with your services.",
                    p.seq
                );
            } else if !yes {
                bail!(
                    "this tells every aggregator to remove your hub; run again with --yes to do it"
                );
            } else {
                let p = hub.withdraw()?;
                println!("Withdrawn: published final listing seq {}. Aggregators will remove your services at their next crawl.", p.seq);
            }
            Ok(())
        }
        Command::Bench { what } => {
            setup_logs(LogFormat::Text, "error");
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            match what {
                BenchWhat::Crawl {
                    hubs,
                    services,
                    concurrency,
                } => {
                    let options = signpost_node::bench::CrawlBenchOptions {
                        hubs,
                        services,
                        concurrency,
                    };
                    let report = runtime.block_on(signpost_node::bench::crawl_bench(options))?;
                    let command = format!(
                        "cargo run --release -p signpost-node -- bench crawl --hubs {hubs} --services {services} --concurrency {concurrency}"
                    );
                    println!("{}", report.markdown(&command));
                }
                BenchWhat::Serve { services } => {
                    let report = runtime.block_on(signpost_node::bench::serve_bench(services))?;
                    let command = format!(
                        "cargo run --release -p signpost-node -- bench serve --services {services}"
                    );
                    println!("{}", report.markdown(&command));
                }
                BenchWhat::StaticFile { file, listen } => {
                    runtime.block_on(signpost_node::bench::serve::static_file(&file, listen))?;
                }
                BenchWhat::Search {
                    hubs,
                    services,
                    keep,
                } => {
                    let report = runtime.block_on(signpost_node::bench::search_bench(
                        hubs,
                        services,
                        keep.as_deref(),
                    ))?;
                    let command = format!(
                        "cargo run --release -p signpost-node -- bench search --hubs {hubs} --services {services}"
                    );
                    println!("{}", report.markdown(&command));
                }
                BenchWhat::Reports { hubs, services } => {
                    let report = runtime
                        .block_on(signpost_node::bench::reports::reports_bench(hubs, services))?;
                    let command = format!(
                        "cargo run --release -p signpost-node -- bench reports --hubs {hubs} --services {services}"
                    );
                    println!("{}", report.markdown(&command));
                }
                BenchWhat::Converge { rounds, interval } => {
                    let report =
                        runtime.block_on(signpost_node::bench::converge_bench(rounds, interval))?;
                    let command = format!(
                        "cargo run --release -p signpost-node -- bench converge --rounds {rounds} --interval {interval}"
                    );
                    println!("{}", report.markdown(&command));
                }
            }
            Ok(())
        }
        Command::Demo {
            listen,
            dir,
            verbose,
        } => {
            setup_logs(LogFormat::Text, if verbose { "info" } else { "warn" });
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime
                .block_on(signpost_node::demo::run(listen, dir))
                .map_err(anyhow::Error::from)
        }
    }
}

/// `check-url`: prints the verdict on each address of `url`, and fails
/// (exit 1) when the crawler would refuse it.
fn check_url(config: &Config, url: &str) -> Result<()> {
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

fn run_hub(action: HubAction) -> Result<()> {
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

/// A source's address as the store holds it (a hub's base address becomes
/// its listing's); text that is no address is kept as typed.
fn canonical_source(url: &str) -> String {
    signpost_client::fetch::listing_url(url)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| url.to_owned())
}

fn run_source(action: SourceAction) -> Result<()> {
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
