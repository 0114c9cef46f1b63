//! The hub role end to end: a real node on a loopback port, edited through
//! the admin API, its listing fetched over HTTP and verified.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use signpost_node::config::Config;
use signpost_node::hub::HubCore;
use signpost_tests::TestNode;

const PANTRY: &str = "name,description,latitude,longitude,opening_hours,taxonomy,access\n\
    Food pantry,Weekly low-cost shop,53.8240,-3.0146,\"TU,TH 10:00-13:00\",Food,walk-in\n\
    Job Club,Help with CVs and benefits,53.8069,-3.0466,\"MO,WE 10:00-12:00\",Employment,walk-in\n";

#[tokio::test]
async fn admin_edits_publish_new_signed_listings_with_rising_seq() {
    let hub = TestNode::start("At The Grange").await;
    let first = hub.verified_listing().await;
    assert_eq!(first.hub_id.as_str(), hub.hub_id);
    assert_eq!(first.listing.hub.name, "At The Grange");
    assert!(first.listing.services.is_empty());

    let created = hub
        .admin(
            Method::POST,
            "/services",
            Some(json!({
                "name": "Community café",
                "description": "Hot meals at a discount",
                "locations": [{"name": "Main hall", "latitude": 53.824, "longitude": -3.0146}],
                "schedules": [{"byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "14:00"}],
                "taxonomy_terms": [{"name": "Food"}],
                "access": ["walk-in"]
            })),
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let id = created.json()["service"]["id"].as_str().unwrap().to_owned();

    let second = hub.verified_listing().await;
    assert!(second.listing.seq > first.listing.seq);
    assert_eq!(second.listing.services.len(), 1);
    assert_eq!(second.listing.services[0].id, id);
    assert_eq!(
        second.listing.services[0].locations[0].latitude,
        Some(53.824)
    );

    let mut service = created.json()["service"].clone();
    service["name"] = json!("Community café and warm space");
    let updated = hub
        .admin(Method::PUT, &format!("/services/{id}"), Some(service))
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    let third = hub.verified_listing().await;
    assert!(third.listing.seq > second.listing.seq);
    assert_eq!(
        third.listing.services[0].name,
        "Community café and warm space"
    );

    let profile = hub
        .admin(
            Method::PUT,
            "/hub",
            Some(json!({"description": "A hub on the Grange Park estate"})),
        )
        .await;
    assert_eq!(profile.status, StatusCode::OK);
    let fourth = hub.verified_listing().await;
    assert!(fourth.listing.seq > third.listing.seq);
    assert_eq!(
        fourth.listing.hub.description.as_deref(),
        Some("A hub on the Grange Park estate")
    );
    let id_change = hub
        .admin(Method::PUT, "/hub", Some(json!({"id": "ed25519:AAAA"})))
        .await;
    assert_eq!(id_change.status, StatusCode::UNPROCESSABLE_ENTITY);

    let deleted = hub
        .admin(Method::DELETE, &format!("/services/{id}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let fifth = hub.verified_listing().await;
    assert!(fifth.listing.seq > fourth.listing.seq);
    assert!(fifth.listing.services.is_empty());
    let again = hub
        .admin(Method::DELETE, &format!("/services/{id}"), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    hub.node.stop().await.unwrap();
}

#[tokio::test]
async fn listing_is_served_with_validators_and_304() {
    let hub = TestNode::start("Revoelution").await;
    let reply = hub.get_listing(&[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        reply.header("cache-control").as_deref(),
        Some("public, max-age=300")
    );
    let etag = reply.header("etag").expect("etag");
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong etag: {etag}"
    );
    let last_modified = reply.header("last-modified").expect("last-modified");

    let cached = hub.get_listing(&[("if-none-match", &etag)]).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
    assert_eq!(cached.header("etag").as_deref(), Some(etag.as_str()));
    let listed = hub
        .get_listing(&[("if-none-match", &format!("\"nope\", {etag}"))])
        .await;
    assert_eq!(listed.status, StatusCode::NOT_MODIFIED);
    let since = hub
        .get_listing(&[("if-modified-since", &last_modified)])
        .await;
    assert_eq!(since.status, StatusCode::NOT_MODIFIED);
    let other = hub
        .get_listing(&[("if-none-match", "\"something-else\"")])
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.body, reply.body, "same bytes every time");

    // An edit changes the tag, so the old one no longer matches.
    let added = hub
        .admin(Method::POST, "/services", Some(json!({"name": "Job Club"})))
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let fresh = hub.get_listing(&[("if-none-match", &etag)]).await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert_ne!(fresh.header("etag").unwrap(), etag);
    hub.node.stop().await.unwrap();
}

#[tokio::test]
async fn wrong_token_gets_401_and_changes_nothing() {
    let hub = TestNode::start("Greenhill Community Hub").await;
    let before = hub.get_listing(&[]).await;
    for token in ["", "spt_wrong", &format!("{}x", hub.token)] {
        let reply = hub
            .admin_as(
                token,
                Method::POST,
                "/services",
                Some(json!({"name": "Sneaky"})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "token {token:?}");
        assert!(reply.header("www-authenticate").is_some());
    }
    let no_header = hub
        .http
        .get(format!("{}/admin/v1/services", hub.node.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(no_header.status(), StatusCode::UNAUTHORIZED);
    let after = hub.get_listing(&[]).await;
    assert_eq!(before.body, after.body);
    let services = hub.admin(Method::GET, "/services", None).await.json();
    assert_eq!(services["services"].as_array().unwrap().len(), 0);
    hub.node.stop().await.unwrap();
}

#[tokio::test]
async fn malformed_input_is_refused_whole_and_changes_nothing() {
    let hub = TestNode::start("The Bay").await;
    let ok = hub
        .admin_raw("/import?format=csv", "text/csv", PANTRY.as_bytes().to_vec())
        .await;
    assert_eq!(
        ok.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&ok.body)
    );
    assert_eq!(ok.json()["added"], 2);
    let before = hub.get_listing(&[]).await;
    let seq_before = hub.verified_listing().await.listing.seq;

    // Second row is bad: the first (valid) row must not be imported either.
    let bad_csv = "name,latitude,longitude\nNature walk,54.07,-2.86\nBeach clean,91,-2.9\n";
    let reply = hub
        .admin_raw(
            "/import?format=csv",
            "text/csv",
            bad_csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("latitude"), "{message}");

    let bad_hsds = br#"{"contents": [{"name": "Wellbeing walk"}, {"description": "no name"}]}"#;
    let reply = hub
        .admin_raw("/import?format=hsds", "application/json", bad_hsds.to_vec())
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

    let not_json = hub
        .admin_raw("/services", "application/json", b"{name: ".to_vec())
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    let bad_field = hub
        .admin(Method::POST, "/services", Some(json!({"name": "X", "schedules": [{"byday": "XX", "opens_at": "09:00", "closes_at": "10:00"}]})))
        .await;
    assert_eq!(bad_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_field.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("byday"));
    let too_big = hub
        .admin_raw(
            "/import?format=csv",
            "text/csv",
            vec![b'a'; 5 * 1024 * 1024],
        )
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);

    let after = hub.get_listing(&[]).await;
    assert_eq!(before.body, after.body, "nothing was published");
    assert_eq!(hub.verified_listing().await.listing.seq, seq_before);
    let services = hub.admin(Method::GET, "/services", None).await.json();
    assert_eq!(services["services"].as_array().unwrap().len(), 2);

    // A dry run reports but does not publish; re-importing the same file changes nothing.
    let dry = hub
        .admin_raw(
            "/import?format=csv&dry_run=true",
            "text/csv",
            "name\nNature walk\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(dry.json()["added"], 1);
    let same = hub
        .admin_raw("/import?format=csv", "text/csv", PANTRY.as_bytes().to_vec())
        .await;
    assert_eq!(same.json()["unchanged"], 2);
    assert_eq!(hub.get_listing(&[]).await.body, before.body);
    hub.node.stop().await.unwrap();
}

#[tokio::test]
async fn edits_made_from_the_command_line_are_served_without_restart() {
    let hub = TestNode::start("Lancaster Community Hub").await;
    let seq = hub.verified_listing().await.listing.seq;
    let dir = hub.dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let config = Config::load(&dir).unwrap();
        let mut core = HubCore::open(&dir, &config).unwrap();
        core.add_service(json!({"name": "Pop-up signposting, St Nicholas Arcades"}))
            .unwrap();
    })
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let listing = hub.verified_listing().await.listing;
        if listing.seq > seq {
            assert_eq!(listing.services.len(), 1);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server never noticed the CLI edit"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    hub.node.stop().await.unwrap();
}
