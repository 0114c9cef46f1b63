//! Keep a verified local copy of a Signpost directory and search it: the
//! program that `docs/guide-apps.md` shows (section 3).
//!
//! `cargo run -p signpost-client --example follow_and_search -- https://directory.example.org`

use std::collections::HashMap;
use std::path::Path;

use signpost_client::search::SearchParams;
use signpost_client::{Replica, SyncLimits};

async fn food_near_revoe(directory: &str) -> Result<(), Box<dyn std::error::Error>> {
    let replica = Replica::open(Path::new("directory.db"))?;
    let report = replica
        .sync(directory, SyncLimits::default(), |_progress| {})
        .await?;
    println!(
        "{} listings accepted, {} refused",
        report.accepted, report.rejected
    );
    let query = HashMap::from([
        ("q".to_string(), "food".to_string()),
        ("near".to_string(), "53.8069,-3.0466".to_string()),
    ]);
    let page = replica.search(SearchParams::from_query(&query)?).await?;
    for hit in page.items {
        println!("{} ({}) {}", hit.hub_name, hit.hub_id, hit.service.get());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let directory = std::env::args()
        .nth(1)
        .ok_or("give the directory's address, e.g. https://directory.example.org")?;
    food_near_revoe(&directory).await
}
