//! `signpost-node`: run a Signpost hub, an aggregator (a searchable
//! directory gathered from many hubs), or both, and look after them from
//! the command line.
//!
//! This file only parses the command line and hands each command to its
//! file under `cli/`, where its flags and what it does live together.

use clap::{Parser, Subcommand};

mod cli;

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
    Init(cli::init::InitArgs),
    /// Run the node: serve the signed listing and the admin API.
    Serve(cli::serve::ServeArgs),
    /// Add, list or remove services without the web page.
    Service {
        #[command(subcommand)]
        action: cli::service::ServiceAction,
    },
    /// Import services from a spreadsheet (CSV, Excel .xlsx or LibreOffice
    /// .ods) or an Open Referral (HSDS/ORUK) JSON file.
    ///
    /// Columns are recognised by their usual names (Postcode, Telephone,
    /// Opening times...); columns Signpost does not know are left out and
    /// listed. Services are matched to existing ones by id, else by name;
    /// nothing is imported if any row is wrong.
    Import(cli::service::ImportArgs),
    /// Show or change the hub's profile (name, description, contact details).
    Profile {
        #[command(subcommand)]
        action: cli::profile::ProfileAction,
    },
    /// Manage the hubs an aggregator crawls.
    Source {
        #[command(subcommand)]
        action: cli::sources::SourceAction,
    },
    /// Recover admin access to a node whose admin token is lost.
    Admin {
        #[command(subcommand)]
        action: cli::admin::AdminAction,
    },
    /// Undo an aggregator's delisting of a hub, or re-pin a hub's key.
    Hub {
        #[command(subcommand)]
        action: cli::aggregator::HubAction,
    },
    /// Crawl every source once now and print what happened (aggregators).
    Crawl(cli::aggregator::CrawlArgs),
    /// Build the directory's search index again from the database (stop the
    /// node first). Not needed in normal use: a node rebuilds a missing,
    /// damaged or outdated index by itself when it starts.
    Reindex(cli::ops::ReindexArgs),
    /// Copy the database to a file while the node keeps running.
    Backup(cli::ops::BackupArgs),
    /// Put a backup back (stop the node first). The current database is
    /// kept beside it.
    Restore(cli::ops::RestoreArgs),
    /// The hub's signing key: rotate it, or show the public keys.
    Key {
        #[command(subcommand)]
        action: cli::admin::KeyAction,
    },
    /// Ask a running node whether it is ready (for container health checks
    /// and systemd): exits 0 when the address answers 200 within 5 seconds.
    /// `/readyz` (the default) checks the database, the search index and
    /// crawl age; `/healthz` only that the process answers.
    Healthcheck(cli::serve::HealthcheckArgs),
    /// Check the settings file and environment, and say what is wrong.
    CheckConfig(cli::init::CheckConfigArgs),
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
    CheckUrl(cli::aggregator::CheckUrlArgs),
    /// Leave the network: publish a signed final listing with no services,
    /// which aggregators turn into a tombstone. `--undo` comes back.
    Withdraw(cli::admin::WithdrawArgs),
    /// Start a demonstration network on this computer: the community hubs of
    /// the seed reports, and aggregators for Lancashire and Leeds.
    Demo(cli::demo::DemoArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Hands a command to the file that runs it.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Init(args) => cli::init::run(args),
        Command::Serve(args) => cli::serve::run(args),
        Command::Service { action } => cli::service::run(action),
        Command::Import(args) => cli::service::import(args),
        Command::Profile { action } => cli::profile::run(action),
        Command::Source { action } => cli::sources::run(action),
        Command::Admin { action } => cli::admin::run(action),
        Command::Hub { action } => cli::aggregator::hub(action),
        Command::Crawl(args) => cli::aggregator::crawl(args),
        Command::Reindex(args) => cli::ops::reindex(args),
        Command::Backup(args) => cli::ops::backup(args),
        Command::Restore(args) => cli::ops::restore(args),
        Command::Key { action } => cli::admin::key(action),
        Command::Healthcheck(args) => cli::serve::healthcheck(args),
        Command::CheckConfig(args) => cli::init::check_config(args),
        Command::CheckUrl(args) => cli::aggregator::check_url(args),
        Command::Withdraw(args) => cli::admin::withdraw(args),
        Command::Demo(args) => cli::demo::run(args),
    }
}
