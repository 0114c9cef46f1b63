//! Operator recovery against a real aggregator: delisting that outlives
//! the tombstone purge, undelisting, re-pinning a hub whose key chain
//! forked, and replacing the admin token of a running node. The commands
//! (`signpost-node admin reset-token`, `hub undelist`, `hub repin`) are thin
//! wrappers of `signpost_node::recovery`, called here on the live folder;
//! node/tests/cli.rs runs the binary itself.

use reqwest::{Method, StatusCode};
use signpost_client::store::{aggregator as db, denylist};
use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::listings::{key, listing, rotation, service, signed};
use signpost_tests::TestNode;

#[tokio::test]
async fn a_delisted_hub_stays_out_after_its_tombstone_is_purged_until_undelisted() {
    let first = key(61);
    let hub_id = first.key_id().to_string();
    let services = vec![service(1, "Food bank", 53.8, -3.0, "MO", "Food")];
    let fake = FakeHub::start(Script::Json(signed(
        &listing(&first, "Delisted hub", 1, services.clone()),
        &first,
    )))
    .await;
    let agg = TestNode::start_aggregator("Recovery CVS", |_| {}).await;
    agg.add_source(&fake.url()).await;
    assert_eq!(
        agg.crawl_source(&fake.listing_url()).await["outcome"],
        "accepted"
    );

    let reply = agg
        .admin(
            Method::POST,
            &format!("/hubs/{hub_id}/delist"),
            Some(serde_json::json!({"reason": "spam listings"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    // The hourly purge, with every tombstone old enough.
    let db_path = agg.dir.path().join("signpost.db");
    let conn = signpost_client::store::open(&db_path).expect("store");
    db::purge_tombstones(&conn, i64::MAX).expect("purge");
    assert!(db::held_hub(&conn, &hub_id).expect("held").is_none());
    let entry = denylist::denied(&conn, &hub_id)
        .expect("denylist")
        .expect("entry");
    assert_eq!(entry.reason, "spam listings");

    // A newer listing: refused, on a crawl asked for by the operator (the
    // schedule does not crawl the hub's sources at all) and on registering.
    fake.set(Script::Json(signed(
        &listing(&first, "Delisted hub", 2, services.clone()),
        &first,
    )));
    let report = agg.crawl_source(&fake.listing_url()).await;
    assert_eq!(report["error_code"], "delisted", "{report}");
    let reply = agg
        .post_json("/v1/register", serde_json::json!({"url": fake.url()}))
        .await;
    assert!(
        String::from_utf8_lossy(&reply.body).contains("delisted"),
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        agg.get(&format!("/v1/hubs/{hub_id}")).await.status,
        StatusCode::NOT_FOUND
    );

    let removed =
        signpost_node::recovery::undelist(agg.dir.path(), &hub_id, "tester").expect("undelist");
    assert_eq!(removed.operator, "admin API");
    assert!(signpost_node::recovery::undelist(agg.dir.path(), &hub_id, "tester").is_err());
    assert_eq!(
        agg.crawl_source(&fake.listing_url()).await["outcome"],
        "accepted"
    );
    assert_eq!(agg.get_json(&format!("/v1/hubs/{hub_id}")).await["seq"], 2);
}

#[tokio::test]
async fn a_repin_lets_in_the_next_listing_of_a_forked_chain_and_is_recorded() {
    let first = key(71);
    let second = key(72);
    let fork = key(73);
    let hub_id = first.key_id().to_string();
    let services = vec![service(1, "Food bank", 53.8, -3.0, "MO", "Food")];
    let mut rotated = listing(&first, "Forked hub", 1, services.clone());
    rotated.rotations = vec![rotation(&first, &first, &second)];
    let fake = FakeHub::start(Script::Json(signed(&rotated, &second))).await;
    let agg = TestNode::start_aggregator("Repin CVS", |_| {}).await;
    agg.add_source(&fake.url()).await;
    assert_eq!(
        agg.crawl_source(&fake.listing_url()).await["outcome"],
        "accepted"
    );

    // The second key is lost; the hub signs a new chain from its first key.
    let mut forked = listing(&first, "Forked hub", 2, services.clone());
    forked.rotations = vec![rotation(&first, &first, &fork)];
    fake.set(Script::Json(signed(&forked, &fork)));
    let report = agg.crawl_source(&fake.listing_url()).await;
    assert_eq!(report["error_code"], "unpinned_key", "{report}");

    let asked = signpost_node::recovery::repin(
        agg.dir.path(),
        &hub_id,
        None,
        "lost key; confirmed by phone",
        "tester",
    )
    .expect("repin");
    assert_eq!(
        asked.old_key.as_deref(),
        Some(second.key_id().to_string().as_str())
    );
    assert!(signpost_node::recovery::repin(agg.dir.path(), &hub_id, None, " ", "tester").is_err());
    assert_eq!(
        agg.crawl_source(&fake.listing_url()).await["outcome"],
        "accepted"
    );

    let conn = signpost_client::store::open(&agg.dir.path().join("signpost.db")).expect("store");
    let recorded = denylist::repins(&conn, &hub_id).expect("repins");
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let used = &recorded[0];
    assert_eq!(used.reason, "lost key; confirmed by phone");
    assert_eq!(used.operator, "tester");
    assert_eq!(
        used.new_key.as_deref(),
        Some(fork.key_id().to_string().as_str())
    );
    assert!(used.used_at.is_some_and(|t| t > 0));
    // Used once: the old chain is refused now.
    let mut old_chain = listing(&first, "Forked hub", 3, services);
    old_chain.rotations = vec![rotation(&first, &first, &second)];
    fake.set(Script::Json(signed(&old_chain, &second)));
    let report = agg.crawl_source(&fake.listing_url()).await;
    assert_eq!(report["error_code"], "unpinned_key", "{report}");
}

#[tokio::test]
async fn a_reset_token_works_at_once_and_the_old_one_stops() {
    let hub = TestNode::start("Token hub").await;
    assert_eq!(
        hub.admin(Method::GET, "/hub", None).await.status,
        StatusCode::OK
    );
    let new = signpost_node::recovery::reset_token(hub.dir.path(), "tester").expect("reset");
    // The node re-reads the hash at most once a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        hub.admin(Method::GET, "/hub", None).await.status,
        StatusCode::UNAUTHORIZED,
        "the old token"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        hub.admin_as(&new, Method::GET, "/hub", None).await.status,
        StatusCode::OK
    );
}
