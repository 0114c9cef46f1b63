//! Reports on the demo network's data (the seed reports' hubs): the
//! deliberate cross-hub duplicates are found and nothing else; the
//! deliberate gap (no employment support outside Blackpool in Lancashire) is
//! found; freshness and the weekly digest list every hub.

use reqwest::Method;
use serde_json::json;
use signpost_node::demo::DemoNetwork;
use signpost_tests::{client, logs};

#[tokio::test]
async fn duplicates_gaps_and_freshness_on_the_demo_network() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let network = DemoNetwork::start(dir.path(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let http = client();
    let get = |url: String| {
        let http = http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let lancashire = network.aggregators[0].2.url();
    let leeds = network.aggregators[1].2.url();

    // Exactly the deliberate duplicates, one per region.
    let dup = get(format!("{lancashire}/v1/reports/duplicates")).await;
    assert_eq!(dup["total"], 1, "{dup}");
    let pair = &dup["items"][0];
    for side in ["a", "b"] {
        assert!(
            pair[side]["name"]
                .as_str()
                .unwrap()
                .starts_with("Citizens Advice Lancashire West debt advice surgery"),
            "{pair}"
        );
    }
    assert_ne!(pair["a"]["hub_id"], pair["b"]["hub_id"]);
    assert!(
        pair["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "same phone number"),
        "{pair}"
    );
    let dup_leeds = get(format!("{leeds}/v1/reports/duplicates")).await;
    assert_eq!(dup_leeds["total"], 1, "{dup_leeds}");
    assert!(dup_leeds["items"][0]["a"]["name"]
        .as_str()
        .unwrap()
        .contains("Welfare Rights"));

    // A coordinator says the Lancashire pair is not a duplicate: remembered.
    let token = network.aggregators[0]
        .3
        .clone()
        .expect("new demo has a token");
    let reply = http
        .request(
            Method::POST,
            format!("{lancashire}/admin/v1/reports/not-duplicates"),
        )
        .bearer_auth(&token)
        .json(
            &json!({"a": {"hub_id": pair["a"]["hub_id"], "service_id": pair["a"]["service_id"]},
                      "b": {"hub_id": pair["b"]["hub_id"], "service_id": pair["b"]["service_id"]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 204);
    http.post(format!("{lancashire}/admin/v1/crawl"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(format!("{lancashire}/v1/reports/duplicates")).await["total"],
        0
    );

    // The gap: employment support only in Blackpool.
    let cov = get(format!(
        "{lancashire}/v1/reports/coverage?term=Employment&within_km=10&cell_km=5"
    ))
    .await;
    let employment = &cov["items"][0];
    assert_eq!(employment["term"], "Employment");
    assert_eq!(employment["hubs"], json!(["Revoelution"]));
    let gaps = employment["gaps"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["latitude"].as_f64().unwrap() > 54.0),
        "Lancaster/Morecambe is a gap: {gaps:?}"
    );
    assert!(
        gaps.iter().all(|g| signpost_node::search::distance_km(
            g["latitude"].as_f64().unwrap(),
            g["longitude"].as_f64().unwrap(),
            53.81,
            -3.05
        ) > 8.0),
        "no gap in Blackpool itself"
    );
    let week = employment["minutes_by_weekday"].as_array().unwrap();
    assert!(week.iter().any(|m| m.as_u64().unwrap() > 0));

    // Freshness and the weekly digest.
    let fresh = get(format!("{lancashire}/v1/reports/freshness")).await;
    let items = fresh["items"].as_array().unwrap();
    assert_eq!(items.len(), 9);
    assert!(items.iter().all(|h| h["staleness"] == "fresh"));
    let csv = http
        .get(format!("{lancashire}/v1/reports/freshness?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 10);
    assert!(csv.starts_with("hub_id,name,staleness,last_changed,services,unreviewed_services"));
    network.stop().await.unwrap();
}
