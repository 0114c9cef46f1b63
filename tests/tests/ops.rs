//! Operations: a backup taken during a busy crawl restores to a complete,
//! verifying store; a key rotation keeps the hub's identity at an
//! aggregator that pinned the old key; one process per folder.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use signpost_node::config::{Config, CONFIG_FILE};
use signpost_node::hub::HubCore;
use signpost_node::ops;
use signpost_spec::{verify_listing, VerifyOptions};
use signpost_tests::fake_hub::hubs_serving;
use signpost_tests::listings::service;
use signpost_tests::{start_node, TestNode};

#[tokio::test]
async fn a_backup_taken_during_a_crawl_restores_to_a_complete_verifying_store() {
    let fakes = hubs_serving(120, 0, |i| {
        (0..20u128)
            .map(|s| {
                service(
                    u128::from(i) * 100 + s,
                    &format!("Service {i}-{s}"),
                    54.0,
                    -2.8,
                    "MO",
                    "Food",
                )
            })
            .collect()
    })
    .await;
    let agg =
        TestNode::start_aggregator("Busy CVS", |c| c.aggregator.max_concurrent_crawls = 4).await;
    for f in &fakes {
        agg.add_source(&f.url()).await;
    }
    let crawl = {
        let (http, url, token) = (agg.http.clone(), agg.node.url(), agg.token.clone());
        tokio::spawn(async move {
            http.post(format!("{url}/admin/v1/crawl"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    // Take the backup while the crawl is writing.
    let mut held_at_backup = 0;
    for _ in 0..200 {
        held_at_backup = agg.get_json("/v1/hubs?per_page=1").await["total"]
            .as_u64()
            .unwrap();
        if held_at_backup >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let backup = agg.dir.path().join("backup.db");
    let (dir, file) = (agg.dir.path().to_owned(), backup.clone());
    tokio::task::spawn_blocking(move || ops::backup(&dir, &file))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(crawl.await.unwrap(), StatusCode::OK);
    let after = agg.get_json("/v1/hubs?per_page=1").await["total"]
        .as_u64()
        .unwrap();
    assert_eq!(after, 120);

    // Restore into a copy of the folder (config and key) and serve it.
    let restored = tempfile::tempdir().unwrap();
    for name in [CONFIG_FILE, "hub.key"] {
        std::fs::copy(agg.dir.path().join(name), restored.path().join(name)).unwrap();
    }
    ops::restore(restored.path(), &backup).unwrap();
    let node = start_node(restored.path()).await;
    let http = signpost_tests::client();
    let hubs: serde_json::Value =
        signpost_tests::fetch_json(&format!("{}/v1/hubs?per_page=200", node.url())).await;
    let count = hubs["total"].as_u64().unwrap();
    assert!(count >= held_at_backup.min(10) && count <= 120, "{count}");
    // Every stored listing is whole: its envelope verifies and every one of
    // its services is searchable.
    for hub in hubs["items"].as_array().unwrap() {
        let id = hub["hub_id"].as_str().unwrap();
        let bytes = http
            .get(format!("{}/v1/hubs/{id}/listing", node.url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let v = verify_listing(&bytes, &VerifyOptions::now()).expect("restored listing verifies");
        assert_eq!(hub["services"], v.listing.services.len());
    }
    let total: serde_json::Value =
        signpost_tests::fetch_json(&format!("{}/v1/services?per_page=1", node.url())).await;
    assert_eq!(total["total"].as_u64().unwrap(), count * 20);
    node.stop().await.unwrap();
}

#[tokio::test]
async fn key_rotation_keeps_the_hub_at_an_aggregator_that_pinned_the_old_key() {
    let hub = TestNode::start("Rotating hub").await;
    let agg = TestNode::start_aggregator("CVS", |_| {}).await;
    agg.add_source(&hub.node.url()).await;
    assert_eq!(agg.crawl().await[0]["outcome"], "accepted");
    let first_key = hub.verified_listing().await.signing_key().clone();

    // Rotated from the command line while the node is serving.
    let config = Config::load(hub.dir.path()).unwrap();
    let (new_key, _) = HubCore::open(hub.dir.path(), &config)
        .unwrap()
        .rotate_key()
        .unwrap();
    assert_ne!(new_key, first_key);
    let mut served = hub.verified_listing().await;
    for _ in 0..50 {
        if served.signing_key() == &new_key {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        served = hub.verified_listing().await;
    }
    assert_eq!(
        served.signing_key(),
        &new_key,
        "the running node picked up the new key"
    );
    assert_eq!(served.hub_id.as_str(), hub.hub_id, "same identity");
    assert_eq!(served.key_chain.len(), 2);
    assert_eq!(agg.crawl().await[0]["outcome"], "accepted");

    // The running node signs edits with the new key, and rotates again
    // through the admin API.
    let reply = hub
        .admin(
            Method::POST,
            "/services",
            Some(json!({"name": "After rotation"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let reply = hub.admin(Method::POST, "/key/rotate", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let third = hub.verified_listing().await;
    assert_eq!(third.key_chain.len(), 3);
    assert_eq!(agg.crawl().await[0]["outcome"], "accepted");
    let held = agg.get_json(&format!("/v1/hubs/{}", hub.hub_id)).await;
    assert_eq!(held["seq"], third.listing.seq);
    assert_eq!(agg.get_json("/v1/services?q=rotation").await["total"], 1);
    // The retired key files are kept, readable by the owner only.
    let retired: Vec<_> = std::fs::read_dir(hub.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("hub.key.retired-")
        })
        .collect();
    assert_eq!(retired.len(), 2);
}

#[tokio::test]
async fn one_process_per_folder() {
    let hub = TestNode::start("Busy hub").await;
    let config = Config::load(hub.dir.path()).unwrap();
    let second = signpost_node::server::start(hub.dir.path(), config).await;
    let message = second
        .err()
        .expect("a second server is refused")
        .to_string();
    assert!(message.contains("another signpost-node"), "{message}");
    let backup = hub.dir.path().join("b.db");
    ops::backup(hub.dir.path(), &backup).unwrap();
    let err = ops::restore(hub.dir.path(), &backup)
        .unwrap_err()
        .to_string();
    assert!(err.contains("stop it first"), "{err}");
    assert!(
        ops::backup(hub.dir.path(), &backup).is_err(),
        "never overwrites"
    );
}

/// Adds a service called `name` through the hub's admin API.
async fn add_named_service(hub: &TestNode, name: &str) {
    let created = hub
        .admin(
            Method::POST,
            "/services",
            Some(json!({
                "name": name,
                "locations": [{"name": "Hall", "latitude": 53.8, "longitude": -3.0}],
                "taxonomy_terms": [{"name": "Food"}]
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_hub_restored_from_an_older_backup_is_accepted_at_the_next_crawl() {
    let hub = TestNode::start("Restored hub").await;
    let agg = TestNode::start_aggregator("Restore CVS", |_| {}).await;
    add_named_service(&hub, "Backed-up pantry").await;
    agg.add_source(&hub.node.url()).await;
    assert_eq!(agg.crawl().await[0]["outcome"], "accepted");

    let backup = tempfile::tempdir().unwrap();
    let backup_file = backup.path().join("hub.db");
    ops::backup(hub.dir.path(), &backup_file).unwrap();
    add_named_service(&hub, "Lost laundrette").await;
    assert_eq!(agg.crawl().await[0]["outcome"], "accepted");
    let before = agg.get_json(&format!("/v1/hubs/{}", hub.hub_id)).await;
    assert_eq!(before["services"], 2);

    // Stop, restore, serve again at the same address (all within a second
    // or so: the clock alone would not lift the seq above the one held).
    let TestNode { dir, node, .. } = hub;
    let addr = node.addr;
    node.stop().await.unwrap();
    ops::restore(dir.path(), &backup_file).unwrap();
    let mut config = Config::load(dir.path()).unwrap();
    config.node.listen = addr;
    let node = signpost_node::server::start(dir.path(), config)
        .await
        .expect("restarts on the same port");

    let report = agg.crawl().await;
    assert_eq!(report[0]["outcome"], "accepted", "{report:?}");
    let after = agg
        .get_json(&format!("/v1/hubs/{}", before["hub_id"].as_str().unwrap()))
        .await;
    assert_eq!(after["services"], 1, "{after}");
    assert!(after["seq"].as_u64() > before["seq"].as_u64(), "{after}");
    assert_eq!(agg.get_json("/v1/services?q=pantry").await["total"], 1);
    assert_eq!(agg.get_json("/v1/services?q=laundrette").await["total"], 0);
    node.stop().await.unwrap();
}
