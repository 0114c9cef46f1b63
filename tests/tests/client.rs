//! The client library against a real aggregator over HTTP: an interrupted
//! sync that resumes to exactly the aggregator's data, and an aggregator
//! caught altering a listing.

use std::collections::BTreeMap;

use serde_json::json;
use signpost_client::search::SearchParams;
use signpost_client::{Replica, SyncLimits};
use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::listings::{key, listing, service, signed, tampered};
use signpost_tests::TestNode;

fn params(pairs: &[(&str, &str)]) -> SearchParams {
    SearchParams::from_query(
        &pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
    .unwrap()
}

/// `(hub_id -> (seq, envelope bytes))` the aggregator serves.
async fn served(agg: &TestNode) -> BTreeMap<String, (u64, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for item in agg.follow_feed(100).await {
        if let Some(data) = item.data {
            out.insert(item.id, (data.seq, data.envelope.get().as_bytes().to_vec()));
        }
    }
    out
}

#[tokio::test]
async fn an_interrupted_sync_resumes_and_ends_with_exactly_the_aggregators_data() {
    let mut fakes = Vec::new();
    for i in 0..10u8 {
        let k = key(40 + i);
        let bytes = signed(
            &listing(
                &k,
                &format!("Hub {i}"),
                3,
                vec![service(
                    100 + i as u128,
                    &format!("Pantry {i}"),
                    54.0,
                    -2.8,
                    "MO",
                    "Food",
                )],
            ),
            &k,
        );
        fakes.push((k, FakeHub::start(Script::Json(bytes)).await));
    }
    let agg = TestNode::start_aggregator("Directory", |_| {}).await;
    for (_, fake) in &fakes {
        agg.add_source(&fake.url()).await;
    }
    agg.crawl().await;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("replica.db");
    let small = |max_pages| SyncLimits {
        page_size: 3,
        max_pages,
    };
    // Interrupted after two pages of three.
    let first = Replica::open(&db)
        .unwrap()
        .sync(&agg.node.url(), small(Some(2)), |_| {})
        .await
        .unwrap();
    assert_eq!(
        (first.pages, first.accepted, first.caught_up),
        (2, 6, false)
    );

    // Meanwhile a hub changes and one withdraws.
    let (k0, f0) = &fakes[0];
    f0.set(Script::Json(signed(
        &listing(
            k0,
            "Hub 0",
            4,
            vec![service(200, "Warm space", 54.0, -2.8, "TU", "Social")],
        ),
        k0,
    )));
    let (k9, f9) = &fakes[9];
    let mut gone = listing(k9, "Hub 9", 5, vec![]);
    gone.withdrawn = true;
    f9.set(Script::Json(signed(&gone, k9)));
    agg.crawl().await;

    // A fresh process (the replica reopened) resumes from the saved cursor.
    let replica = Replica::open(&db).unwrap();
    let rest = replica
        .sync(&agg.node.url(), small(None), |_| {})
        .await
        .unwrap();
    assert!(rest.caught_up);
    assert_eq!(rest.rejected, 0, "{:?}", rest.refused);
    let mine: BTreeMap<String, (u64, Vec<u8>)> = replica
        .listings()
        .await
        .unwrap()
        .into_iter()
        .map(|(id, seq, bytes)| (id, (seq, bytes)))
        .collect();
    assert_eq!(
        mine,
        served(&agg).await,
        "exactly the aggregator's listings, byte for byte"
    );
    assert_eq!(mine.len(), 9);
    let hubs = replica.hubs().await.unwrap();
    assert_eq!(hubs.iter().filter(|h| h.state == "withdrawn").count(), 1);
    // Offline search over the replica.
    let found = replica.search(params(&[("q", "warm")])).await.unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(
        replica
            .search(params(&[("taxonomy", "Food")]))
            .await
            .unwrap()
            .total,
        8
    );
    // Nothing more to do: a second sync changes nothing.
    let again = replica
        .sync(&agg.node.url(), small(None), |_| {})
        .await
        .unwrap();
    assert_eq!(
        (again.accepted, again.rejected, again.caught_up),
        (0, 0, true)
    );
    // One replica follows one aggregator.
    let other = replica
        .sync("http://127.0.0.1:9", small(None), |_| {})
        .await;
    assert!(other.is_err());
}

#[tokio::test]
async fn the_client_catches_an_aggregator_that_altered_a_listing() {
    let honest = key(60);
    let other = key(61);
    let v1 = signed(
        &listing(
            &honest,
            "Honest hub",
            1,
            vec![service(1, "Debt advice", 54.0, -2.8, "WE", "Advice")],
        ),
        &honest,
    );
    let fine = signed(
        &listing(
            &other,
            "Other hub",
            1,
            vec![service(2, "Youth club", 54.0, -2.8, "TU", "Youth")],
        ),
        &other,
    );
    let altered = tampered(&v1, "Debt advice", "Payday loans");
    let item = |id: String, m: i64, bytes: &[u8]| {
        json!({"state": "updated", "kind": "SignpostListing", "id": id, "modified": m,
               "data": {"hub_id": id, "seq": 1, "envelope": serde_json::from_slice::<serde_json::Value>(bytes).unwrap()}})
    };
    let page = json!({"items": [item(honest.key_id().to_string(), 1, &altered), item(other.key_id().to_string(), 2, &fine)],
                      "next": "x", "license": "https://x"});
    let empty = json!({"items": [], "next": "x", "license": "https://x"});
    let dishonest = FakeHub::start(Script::Routes(vec![
        (
            "/v1/feed?afterChangeNumber=0&".into(),
            Script::Json(serde_json::to_vec(&page).unwrap()),
        ),
        (
            "/v1/feed?".into(),
            Script::Json(serde_json::to_vec(&empty).unwrap()),
        ),
    ]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let replica = Replica::open(&dir.path().join("r.db")).unwrap();
    let report = replica
        .sync(&dishonest.url(), SyncLimits::default(), |_| {})
        .await
        .unwrap();
    assert_eq!((report.accepted, report.rejected), (1, 1));
    assert_eq!(report.refused[0].hub_id, honest.key_id().to_string());
    assert_eq!(report.refused[0].code, "bad_signature");
    assert_eq!(
        replica
            .search(params(&[("q", "payday")]))
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        replica
            .search(params(&[("q", "youth")]))
            .await
            .unwrap()
            .total,
        1
    );
}
