//! `signpost-node demo`: a hub with realistic services, on this computer,
//! so people can see what Signpost publishes before running their own.
//!
//! The hub is At The Grange, the Blackpool community hub described in the
//! Lancashire community hubs report (`shared/seeds/`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use signpost_spec::{Coordination, Dimensions, Focus, Governance, Space};

use crate::config::{Config, CONFIG_FILE};
use crate::error::{NodeError, Result};
use crate::hub::HubCore;
use crate::import::{self, Format};
use crate::init::{init, InitOptions};
use crate::server;

/// The demo hub's services, as a hub would keep them in a spreadsheet.
pub const GRANGE_SERVICES_CSV: &str = "\
name,description,organization,phone,eligibility,fees,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy
Community café,\"Hot meals at a discount, a warm room and a chat. Everyone welcome.\",,01253 000101,Anyone,£2.50 a meal,walk-in,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,\"MO,TU,WE,TH,FR 09:00-14:00\",Food; Social
Food pantry,\"Weekly shop of fresh and store-cupboard food for members, for a small fee.\",,01253 000102,People living on or near the Grange Park estate,£5 a week,walk-in; self-referral,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,\"TU,TH 10:00-13:00\",Food; Cost of living
Laundry,\"Washing machines and dryers for people without their own.\",,,Anyone,£1 a load,walk-in,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,\"MO,WE,FR 10:00-15:00\",Cost of living
Library,\"Borrow books, use a computer and get help getting online.\",Blackpool Libraries,,Anyone,Free,walk-in,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,\"MO,WE 10:00-17:00; SA 10:00-13:00\",Digital inclusion; Learning
Neighbourhood policing drop-in,\"Talk to your local neighbourhood policing team in confidence.\",Lancashire Constabulary,101,Anyone,Free,walk-in,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,\"TH 14:00-16:00\",Community safety
Theatre and room hire,\"Hire the theatre space or a meeting room for community groups and events.\",,01253 000103,Community groups,Ask for prices,self-referral,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,\"MO,TU,WE,TH,FR 09:00-17:00\",Venues
";

/// Creates the demo hub in `dir` (unless it is there already) and loads its
/// services; returns the admin token if a new hub was made.
pub fn prepare(dir: &Path, listen: SocketAddr) -> Result<Option<String>> {
    if dir.join(CONFIG_FILE).exists() {
        return Ok(None);
    }
    let outcome = init(&InitOptions {
        dir: dir.to_owned(),
        name: "At The Grange".into(),
        url: None,
        listen: Some(listen),
        dimensions: Dimensions {
            space: vec![Space::Dedicated],
            governance: Governance::CommunityLed,
            focus: Focus::Generic,
            coordination: Coordination::FirstLevel,
        },
        aggregator: false,
    })?;
    let config = Config::load(dir)?;
    let mut hub = HubCore::open(dir, &config)?;
    hub.update_profile(serde_json::json!({
        "description": "A community hub in the former social centre of the Grange Park estate, run by Groundwork with the local council.",
        "area_served": "Grange Park estate, Blackpool",
        "address": {"address_1": "Dinmore Avenue", "city": "Blackpool", "postal_code": "FY3 7RW", "country": "GB"},
        "latitude": 53.8240,
        "longitude": -3.0146
    }))?;
    let incoming = import::parse(Format::Csv, GRANGE_SERVICES_CSV.as_bytes(), hub.limits())?;
    let plan = import::plan(&hub.services()?, incoming, false, hub.limits())?;
    hub.apply_import(&plan)?;
    Ok(Some(outcome.admin_token))
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
    let dir_clone = dir.clone();
    let token = tokio::task::spawn_blocking(move || prepare(&dir_clone, listen))
        .await
        .map_err(|e| NodeError::Setup(format!("demo set-up failed: {e}")))??;
    let mut config = Config::load(&dir)?;
    config.node.listen = listen;
    let node = server::start(&dir, config).await?;
    let url = node.url();
    println!();
    println!("Signpost demo: the hub \"At The Grange\" is running at {url}");
    println!("Files: {}", dir.display());
    println!();
    println!("Try:");
    println!("  curl -s {url}/.well-known/signpost/listing          # the signed listing");
    println!("  curl -s {url}/healthz");
    if let Some(token) = &token {
        println!("  curl -s -H 'Authorization: Bearer {token}' {url}/admin/v1/services");
    }
    println!();
    println!("Press Ctrl-C to stop.");
    server::shutdown_signal().await;
    println!("Stopping...");
    node.stop().await
}
