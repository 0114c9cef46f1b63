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
        gaps.iter().all(|g| signpost_client::search::distance_km(
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

/// A closed lon/lat box as a GeoJSON ring.
fn square(west: f64, south: f64, east: f64, north: f64) -> serde_json::Value {
    json!([
        [west, south],
        [east, south],
        [east, north],
        [west, north],
        [west, south]
    ])
}

/// The operator's areas: Blackpool (holds the only employment service),
/// south Wyre (no service inside, but its southern edge is 6 km from
/// Blackpool's Job Club, though its middle is 12 km away), and Lancaster
/// with Morecambe (the deliberate gap: 25 km from any).
fn demo_areas() -> serde_json::Value {
    json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ward": "Blackpool"},
         "geometry": {"type": "Polygon", "coordinates": [square(-3.07, 53.78, -3.00, 53.85)]}},
        {"type": "Feature", "properties": {"ward": "Wyre (south)"},
         "geometry": {"type": "Polygon", "coordinates": [square(-3.05, 53.86, -2.95, 53.98)]}},
        {"type": "Feature", "properties": {"ward": "Lancaster and Morecambe"},
         "geometry": {"type": "MultiPolygon", "coordinates": [
             [square(-2.83, 54.02, -2.76, 54.07)],
             [square(-2.92, 54.05, -2.84, 54.10)]]}}
    ]})
}

#[tokio::test]
async fn coverage_names_the_operators_areas_that_are_gaps() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let network = DemoNetwork::start(dir.path(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let areas_file = files.path().join("wards.geojson");
    std::fs::write(&areas_file, demo_areas().to_string()).unwrap();
    let agg = signpost_tests::TestNode::start_aggregator("Lancashire wards", |c| {
        c.aggregator.coverage_areas = Some(areas_file.clone());
        c.aggregator.coverage_area_name = "ward".into();
    })
    .await;
    for (seed, node, _) in &network.hubs {
        if seed.region == "lancashire" {
            agg.add_source(&node.url()).await;
        }
    }
    agg.crawl().await;

    let cov = agg
        .get_json("/v1/reports/coverage?term=Employment&within_km=10")
        .await;
    assert_eq!(cov["division"]["kind"], "areas", "{cov}");
    assert_eq!(cov["division"]["areas"], 3);
    let employment = &cov["items"][0];
    assert_eq!(employment["term"], "Employment");
    let gaps = employment["gaps"].as_array().unwrap();
    let names: Vec<&str> = gaps.iter().map(|g| g["area"].as_str().unwrap()).collect();
    assert_eq!(names, ["Lancaster and Morecambe"], "{gaps:?}");
    let gap = &gaps[0];
    let nearest = gap["nearest_km"].as_f64().unwrap();
    assert!((20.0..30.0).contains(&nearest), "{gap}");
    assert!(
        gap["services_here"].as_u64().unwrap() > 0,
        "people are served there: {gap}"
    );
    // The label point is inside the area (the larger polygon).
    let (lat, lon) = (
        gap["latitude"].as_f64().unwrap(),
        gap["longitude"].as_f64().unwrap(),
    );
    assert!(
        (54.02..54.10).contains(&lat) && (-2.92..-2.76).contains(&lon),
        "{gap}"
    );

    // With a shorter distance, south Wyre (6 km from the Job Club at its
    // edge) becomes a gap too; Blackpool, which holds it, never does.
    let near = agg
        .get_json("/v1/reports/coverage?term=Employment&within_km=5")
        .await;
    let names: Vec<&str> = near["items"][0]["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["area"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Wyre (south)", "Lancaster and Morecambe"]);

    // The map layer: the gap's outline and where employment is offered.
    let map = agg
        .get_json("/v1/reports/coverage/map?term=Employment&within_km=10")
        .await;
    assert_eq!(map["type"], "FeatureCollection");
    let features = map["features"].as_array().unwrap();
    let gap_shapes: Vec<&serde_json::Value> = features
        .iter()
        .filter(|f| f["properties"]["layer"] == "gap")
        .collect();
    assert_eq!(gap_shapes.len(), 1, "{map}");
    assert_eq!(
        gap_shapes[0]["properties"]["name"],
        "Lancaster and Morecambe"
    );
    assert_eq!(gap_shapes[0]["geometry"]["type"], "MultiPolygon");
    assert_eq!(
        gap_shapes[0]["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let offered: Vec<&serde_json::Value> = features
        .iter()
        .filter(|f| f["properties"]["layer"] == "offered")
        .collect();
    assert_eq!(offered.len(), 1, "only Blackpool's Job Club: {offered:?}");
    assert_eq!(offered[0]["properties"]["hub"], "Revoelution");
    assert_eq!(
        agg.get("/v1/reports/coverage/map").await.status,
        400,
        "term is required"
    );

    // The demo's own aggregator has no areas: a grid, as before.
    let grid = network.aggregators[0].2.url();
    let cov: serde_json::Value =
        signpost_tests::fetch_json(&format!("{grid}/v1/reports/coverage?term=Employment")).await;
    assert_eq!(cov["division"], json!({"kind": "grid", "cell_km": 5.0}));
    assert!(cov["items"][0]["gaps"][0].get("area").is_none());
    network.stop().await.unwrap();
}

#[test]
fn a_bad_areas_file_stops_the_start_and_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let mut areas = demo_areas();
    areas["features"][1]["geometry"] =
        json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]});
    std::fs::write(dir.path().join("wards.geojson"), areas.to_string()).unwrap();
    let mut config = signpost_node::config::Config::default();
    config.aggregator.enabled = true;
    config.aggregator.coverage_areas = Some("wards.geojson".into());
    config.aggregator.coverage_area_name = "ward".into();
    config.validate().unwrap();
    let e = signpost_node::aggregator::Aggregator::open(dir.path(), &config)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("aggregator.coverage_areas")
            && e.contains("feature 2 (Wyre (south))")
            && e.contains("LineString"),
        "{e}"
    );
}
