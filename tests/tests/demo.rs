//! The demo network as the README's first command starts it: every seed hub
//! a real node, both aggregators holding their region after the first crawl.

use signpost_node::demo::{seed_hubs::SEED_HUBS, DemoNetwork, AGGREGATORS};
use signpost_tests::logs;

#[tokio::test]
async fn the_demo_network_starts_and_each_directory_holds_its_region() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let network = DemoNetwork::start(dir.path(), ([127, 0, 0, 1], 0).into())
        .await
        .expect("demo starts");
    assert_eq!(network.hubs.len(), SEED_HUBS.len());
    assert_eq!(network.aggregators.len(), AGGREGATORS.len());
    for (name, region, node, _) in &network.aggregators {
        let hubs: serde_json::Value =
            signpost_tests::fetch_json(&format!("{}/v1/hubs?per_page=200", node.url())).await;
        assert!(hubs["total"].is_u64(), "{name}: {hubs}");
        let expected = SEED_HUBS.iter().filter(|s| s.region == *region).count();
        assert_eq!(hubs["total"], expected, "{name}");
        for hub in hubs["items"].as_array().unwrap() {
            assert_eq!(hub["staleness"], "fresh", "{name}: {hub}");
            assert!(hub["services"].as_u64().unwrap() >= 4);
        }
    }
    // The example queries the demo prints give answers.
    let lancashire = network.aggregators[0].2.url();
    for query in [
        "q=food",
        "taxonomy=Employment",
        "near=54.0697,-2.8625&within_km=5",
        "open_at=2026-11-24T11:00:00Z",
    ] {
        let page: serde_json::Value =
            signpost_tests::fetch_json(&format!("{lancashire}/v1/services?{query}")).await;
        assert!(page["total"].as_u64().unwrap() > 0, "{query}: {page}");
    }
    network.stop().await.unwrap();
}
