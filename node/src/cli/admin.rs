//! Looking after a hub's access and identity: `admin reset-token`, `key
//! rotate|export-public`, and `withdraw` (leave the network, or come back).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use signpost_node::config::LogFormat;

use super::{open_hub, setup_logs};

/// `admin`'s commands: getting back into a node.
#[derive(Subcommand)]
pub enum AdminAction {
    /// Make a new admin token and print it; the old one stops working at
    /// once (in a running node too, within a second). Signed-in admin
    /// pages stay signed in until they sign out or the node restarts.
    ResetToken {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
    },
}

/// Makes a new admin token and prints it once.
pub fn run(action: AdminAction) -> Result<()> {
    match action {
        AdminAction::ResetToken { dir } => {
            setup_logs(LogFormat::Text, "warn");
            let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
            let token = signpost_node::recovery::reset_token(&dir, &operator)?;
            println!("New admin token (shown once; store it somewhere safe):\n\n    {token}\n");
            println!("The old token no longer works.");
            Ok(())
        }
    }
}

/// `key`'s commands: the hub's signing key.
#[derive(Subcommand)]
pub enum KeyAction {
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

/// Rotates the signing key, or prints the public keys.
pub fn key(action: KeyAction) -> Result<()> {
    setup_logs(LogFormat::Text, "warn");
    match action {
        KeyAction::Rotate { dir } => {
            let mut hub = open_hub(&dir)?;
            let (key, published) = hub.rotate_key()?;
            println!(
                "New signing key {key}; published listing seq {} with the rotation statement.",
                published.seq
            );
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

/// `withdraw`'s flags.
#[derive(Args)]
pub struct WithdrawArgs {
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
    /// Confirm: aggregators will remove your services.
    #[arg(long)]
    yes: bool,
    /// Publish the services again instead.
    #[arg(long)]
    undo: bool,
}

/// Publishes a final listing with no services (or, with `--undo`, the
/// services again).
pub fn withdraw(args: WithdrawArgs) -> Result<()> {
    let WithdrawArgs { dir, yes, undo } = args;
    setup_logs(LogFormat::Text, "warn");
    let mut hub = open_hub(&dir)?;
    if undo {
        let p = hub.rejoin()?;
        println!(
            "Back in the network: published listing seq {} with your services.",
            p.seq
        );
    } else if !yes {
        bail!("this tells every aggregator to remove your hub; run again with --yes to do it");
    } else {
        let p = hub.withdraw()?;
        println!("Withdrawn: published final listing seq {}. Aggregators will remove your services at their next crawl.", p.seq);
    }
    Ok(())
}
