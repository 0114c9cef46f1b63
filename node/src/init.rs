//! `signpost-node init`: everything a new hub needs, in one step.

use std::path::{Path, PathBuf};

use signpost_spec::{default_timezone, Dimensions, HubProfile};

use crate::config::{Config, CONFIG_FILE, DATABASE_FILE};
use crate::error::{NodeError, Result};
use crate::hub::HubCore;
use crate::keyfile;
use crate::web::admin::token::AdminToken;
use signpost_client::store;

/// What the new hub is called and where it lives.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub dir: PathBuf,
    pub name: String,
    /// The address the node will be reached at (also the hub's web address
    /// until edited).
    pub url: Option<String>,
    pub listen: Option<std::net::SocketAddr>,
    pub dimensions: Dimensions,
    /// Also enable the aggregator role.
    pub aggregator: bool,
}

/// What `init` made; the token is shown to the user once and never stored.
#[derive(Debug, Clone)]
pub struct InitOutcome {
    pub hub_id: String,
    pub admin_token: String,
    pub config_path: PathBuf,
    pub key_path: PathBuf,
    pub seq: u64,
}

/// Creates the configuration, key, database, admin token and first listing.
/// Refuses to touch a directory that already holds a node.
pub fn init(options: &InitOptions) -> Result<InitOutcome> {
    let dir = &options.dir;
    std::fs::create_dir_all(dir).map_err(|e| NodeError::io("creating", dir, e))?;
    let mut config = Config::default();
    config.node.public_url = options.url.clone();
    if let Some(listen) = options.listen {
        config.node.listen = listen;
    }
    config.aggregator.enabled = options.aggregator;
    config.validate()?;
    let config_path = dir.join(CONFIG_FILE);
    let key_path = config.key_path(dir);
    let db_path = dir.join(DATABASE_FILE);
    for existing in [&config_path, &key_path, &db_path] {
        if existing.exists() {
            return Err(NodeError::Setup(format!(
                "{} already exists: this directory already holds a node, and init never overwrites one",
                existing.display()
            )));
        }
    }
    let result = create(options, &config, &config_path, &key_path, &db_path);
    if result.is_err() {
        for path in [&config_path, &key_path, &db_path] {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

fn create(
    options: &InitOptions,
    config: &Config,
    config_path: &Path,
    key_path: &Path,
    db_path: &Path,
) -> Result<InitOutcome> {
    let key = keyfile::create(key_path)?;
    let hub_id = key.key_id().to_string();
    let conn = store::open(db_path)?;
    let admin_token = AdminToken::create(&conn)?;
    let profile = HubProfile {
        id: hub_id.clone(),
        name: options.name.trim().to_owned(),
        description: None,
        url: options.url.clone(),
        email: None,
        phone: None,
        area_served: None,
        address: None,
        latitude: None,
        longitude: None,
        timezone: default_timezone(),
        dimensions: options.dimensions.clone(),
    };
    let published = HubCore::create(conn, key, config, &profile)?;
    std::fs::write(config_path, config.to_commented_toml())
        .map_err(|e| NodeError::io("writing", config_path, e))?;
    Ok(InitOutcome {
        hub_id,
        admin_token,
        config_path: config_path.to_owned(),
        key_path: key_path.to_owned(),
        seq: published.seq,
    })
}
