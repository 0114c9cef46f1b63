//! `profile show|set`: the hub's name, description and contact details.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Subcommand;
use serde_json::json;
use signpost_node::config::LogFormat;

use super::{open_hub, setup_logs};

/// `profile`'s commands.
#[derive(Subcommand)]
pub enum ProfileAction {
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

/// Prints the profile, or changes the fields given and publishes.
pub fn run(action: ProfileAction) -> Result<()> {
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
