//! `signpost-node demo`: a regional network on this computer, so people can
//! see Signpost working before running their own. The hubs are those of the
//! seed reports ([`seed_hubs`]); two aggregators gather them: one run by a
//! CVS for Lancashire, one for the Leeds ward hubs.
//!
//! Every node is a real `signpost-node` in its own folder, on its own
//! loopback port, signing its own listing; the aggregators crawl them over
//! HTTP exactly as they would crawl hubs on the internet (the demo only
//! turns on `allow_private_networks`, since everything is on 127.0.0.1).

pub mod seed_hubs;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use signpost_spec::{Coordination, Dimensions, Focus, Governance, Space};

use crate::config::{Config, CONFIG_FILE};
use crate::error::{NodeError, Result};
use crate::hub::HubCore;
use crate::import::{self, Format};
use crate::init::{init, InitOptions};
use crate::server::{self, RunningNode};
use seed_hubs::{SeedHub, SEED_HUBS};

/// The demo's aggregators: folder key, name, region of the hubs it crawls.
pub const AGGREGATORS: &[(&str, &str, &str)] = &[
    (
        "lancashire-cvs",
        "Lancashire community directory (CVS)",
        "lancashire",
    ),
    ("leeds-directory", "Leeds community hubs directory", "leeds"),
];

/// Seconds between crawls in the demo (short, so edits show up quickly).
const DEMO_RECRAWL_SECS: u64 = 30;

fn word<T: serde::de::DeserializeOwned>(what: &str, value: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| NodeError::Setup(format!("demo data: {value:?} is not a {what}")))
}

/// The four dimensions of a seed hub.
pub fn dimensions(seed: &SeedHub) -> Result<Dimensions> {
    Ok(Dimensions {
        space: seed
            .space
            .iter()
            .map(|s| word::<Space>("space", s))
            .collect::<Result<_>>()?,
        governance: word::<Governance>("governance", seed.governance)?,
        focus: word::<Focus>("focus", seed.focus)?,
        coordination: word::<Coordination>("coordination", seed.coordination)?,
    })
}

/// Creates a seed hub in `dir` (unless it is there already) with its
/// profile and services; returns its admin token if it was made now.
pub fn prepare_hub(dir: &Path, seed: &SeedHub, listen: SocketAddr) -> Result<Option<String>> {
    if dir.join(CONFIG_FILE).exists() {
        return Ok(None);
    }
    let outcome = init(&InitOptions {
        dir: dir.to_owned(),
        name: seed.name.into(),
        url: None,
        listen: Some(listen),
        dimensions: dimensions(seed)?,
        aggregator: false,
    })?;
    let config = Config::load(dir)?;
    let mut hub = HubCore::open(dir, &config)?;
    hub.update_profile(serde_json::json!({
        "description": seed.description,
        "area_served": seed.area_served,
        "address": {"address_1": seed.address_1, "city": seed.city,
                    "postal_code": seed.postal_code, "country": "GB"},
        "latitude": seed.latitude,
        "longitude": seed.longitude
    }))?;
    let file = import::Upload {
        format: Format::Csv,
        bytes: seed.services_csv.as_bytes(),
        sheet: None,
    };
    let plan = import::preview(&hub, file, import::Columns::Guessed, false)?.plan;
    import::apply(&mut hub, &plan, None)?;
    Ok(Some(outcome.admin_token))
}

/// Creates an aggregator node in `dir` (unless it is there already) that
/// crawls `hub_urls`.
pub fn prepare_aggregator(
    dir: &Path,
    name: &str,
    listen: SocketAddr,
    hub_urls: &[String],
) -> Result<Option<String>> {
    if dir.join(CONFIG_FILE).exists() {
        return Ok(None);
    }
    let outcome = init(&InitOptions {
        dir: dir.to_owned(),
        name: name.into(),
        url: None,
        listen: Some(listen),
        dimensions: Dimensions {
            space: vec![Space::Virtual],
            governance: Governance::Partnership,
            focus: Focus::Generic,
            coordination: Coordination::SecondLevel,
        },
        aggregator: true,
    })?;
    let mut config = Config::load(dir)?;
    config.aggregator.name = name.into();
    config.aggregator.hubs = hub_urls.to_vec();
    config.aggregator.allow_private_networks = true;
    config.aggregator.recrawl_interval_secs = DEMO_RECRAWL_SECS;
    config.validate()?;
    let path = dir.join(CONFIG_FILE);
    std::fs::write(&path, config.to_commented_toml())
        .map_err(|e| NodeError::io("writing", &path, e))?;
    Ok(Some(outcome.admin_token))
}

/// The address of the `index`-th node: the first aggregator listens on
/// `base`, the others on the ports after it, hubs from `base + 10`.
/// Port 0 gives every node a free port of its own (for tests).
fn port_after(base: SocketAddr, offset: u16) -> Result<SocketAddr> {
    if base.port() == 0 {
        return Ok(base);
    }
    let port = base.port().checked_add(offset).ok_or_else(|| {
        NodeError::Config(format!(
            "--listen port {} leaves no room for the demo's other nodes",
            base.port()
        ))
    })?;
    Ok(SocketAddr::new(base.ip(), port))
}

/// A started demo network.
pub struct DemoNetwork {
    /// Hub nodes with their seed data.
    pub hubs: Vec<(&'static SeedHub, RunningNode, Option<String>)>,
    /// Aggregator nodes: (name, region, node, token).
    pub aggregators: Vec<(&'static str, &'static str, RunningNode, Option<String>)>,
}

impl DemoNetwork {
    /// Starts every hub and aggregator under `dir`, and has each aggregator
    /// crawl once so the directory is full when this returns.
    pub async fn start(dir: &Path, listen: SocketAddr) -> Result<DemoNetwork> {
        let mut hubs = Vec::new();
        for (i, seed) in SEED_HUBS.iter().enumerate() {
            let addr = port_after(listen, 10 + i as u16)?;
            let hub_dir = dir.join(seed.key);
            let token = {
                let d = hub_dir.clone();
                tokio::task::spawn_blocking(move || prepare_hub(&d, seed, addr))
                    .await
                    .map_err(|e| NodeError::Setup(format!("demo set-up failed: {e}")))??
            };
            let mut config = Config::load(&hub_dir)?;
            config.node.listen = addr;
            hubs.push((seed, server::start(&hub_dir, config).await?, token));
        }
        let mut aggregators = Vec::new();
        for (i, (key, name, region)) in AGGREGATORS.iter().enumerate() {
            let addr = port_after(listen, i as u16)?;
            let urls: Vec<String> = hubs
                .iter()
                .filter(|(seed, ..)| seed.region == *region)
                .map(|(_, node, _)| node.url())
                .collect();
            let agg_dir = dir.join(key);
            let token = {
                let (d, n) = (agg_dir.clone(), *name);
                tokio::task::spawn_blocking(move || prepare_aggregator(&d, n, addr, &urls))
                    .await
                    .map_err(|e| NodeError::Setup(format!("demo set-up failed: {e}")))??
            };
            let mut config = Config::load(&agg_dir)?;
            config.node.listen = addr;
            let node = server::start(&agg_dir, config).await?;
            // Crawl now, so the directory is full when the URLs are shown.
            if let Some(agg) = &node.aggregator {
                for report in crate::crawl::crawl_all_now(agg).await? {
                    if let Some(error) = &report.error {
                        tracing::warn!(url = %report.url, %error, "demo crawl failed");
                    }
                }
            }
            aggregators.push((*name, *region, node, token));
        }
        Ok(DemoNetwork { hubs, aggregators })
    }

    /// Stops every node.
    pub async fn stop(self) -> Result<()> {
        for (_, node, _) in self.hubs {
            node.stop().await?;
        }
        for (_, _, node, _) in self.aggregators {
            node.stop().await?;
        }
        Ok(())
    }
}

/// Runs the demo until Ctrl-C.
pub async fn run(listen: SocketAddr, dir: Option<PathBuf>) -> Result<()> {
    let temp;
    let dir = match dir {
        Some(d) => d,
        None => {
            temp = tempfile::Builder::new()
                .prefix("signpost-demo-")
                .tempdir()
                .map_err(|e| {
                    NodeError::io("creating a temporary folder in", std::env::temp_dir(), e)
                })?;
            temp.path().to_owned()
        }
    };
    let network = DemoNetwork::start(&dir, listen).await?;
    println!();
    println!(
        "Signpost demo network is running ({} hubs, {} aggregators). Files: {}",
        network.hubs.len(),
        network.aggregators.len(),
        dir.display()
    );
    for (name, region, node, _) in &network.aggregators {
        println!();
        println!("{name} ({region} hubs): {}", node.url());
        println!("  open {}/ in a browser to search it", node.url());
    }
    if let Some((_, _, lancs, _)) = network.aggregators.first() {
        let u = lancs.url();
        println!();
        println!("Try, on the Lancashire directory:");
        println!("  curl -s '{u}/v1/services?q=food'                           # text search");
        println!("  curl -s '{u}/v1/services?taxonomy=Employment'              # by category");
        println!("  curl -s '{u}/v1/services?near=54.0697,-2.8625&within_km=5' # near Morecambe");
        println!("  curl -s '{u}/v1/services?open_at=now'                      # open now");
        println!("  curl -s '{u}/v1/hubs'                                      # hubs, dimensions, health");
        println!("  curl -s '{u}/v1/feed'                                      # RPDE change feed");
        println!(
            "  curl -s '{u}/openapi.json'                                 # the API described"
        );
    }
    println!();
    println!("Hubs (each serves its signed listing at /.well-known/signpost/listing):");
    for (seed, node, token) in &network.hubs {
        println!("  {:<48} {}", seed.name, node.url());
        if let (Some(token), true) = (token, seed.key == "grange") {
            println!(
                "      edit it at {}/admin (sign in with {token}), or:",
                node.url()
            );
            println!(
                "      curl -s -H 'Authorization: Bearer {token}' {}/admin/v1/services",
                node.url()
            );
        }
    }
    println!();
    println!("Aggregators recrawl every {DEMO_RECRAWL_SECS} s. Press Ctrl-C to stop.");
    server::shutdown_signal().await;
    println!("Stopping...");
    network.stop().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_spec::Limits;

    #[test]
    fn every_seed_hub_imports_and_the_deliberate_features_are_there() {
        let mut names = Vec::new();
        for seed in SEED_HUBS {
            dimensions(seed).unwrap();
            let services = import::parse(
                Format::Csv,
                seed.services_csv.as_bytes(),
                None,
                &Limits::default(),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", seed.key))
            .services;
            assert!(services.len() >= 4, "{}", seed.key);
            for s in services {
                names.push((seed.region, seed.key, s));
            }
        }
        for (key, _, region) in AGGREGATORS {
            assert!(SEED_HUBS.iter().filter(|s| s.region == *region).count() >= 3);
            assert!(
                SEED_HUBS.iter().all(|s| s.key != *key),
                "folder names differ"
            );
        }
        let employment_outside_blackpool = names.iter().any(|(region, _, s)| {
            *region == "lancashire"
                && s.taxonomy_terms.iter().any(|t| t.name == "Employment")
                && s.locations.iter().any(|l| {
                    l.address.as_ref().and_then(|a| a.city.as_deref()) != Some("Blackpool")
                })
        });
        assert!(!employment_outside_blackpool, "the deliberate gap");
        let debt = names
            .iter()
            .filter(|(_, _, s)| {
                s.name
                    .starts_with("Citizens Advice Lancashire West debt advice surgery")
            })
            .count();
        assert_eq!(debt, 2, "the deliberate duplicate");
    }
}
