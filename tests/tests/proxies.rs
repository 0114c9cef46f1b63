//! Behind a reverse proxy: the node believes `X-Forwarded-For` only from
//! the proxies in `server.trusted_proxies`, so each client behind the proxy
//! has its own registration allowance and nobody can pick theirs.

use serde_json::json;
use signpost_tests::TestNode;

/// Registers an address nobody serves (loopback port 1, refused at once)
/// as `client` says it is, through a proxy on 127.0.0.1; gives the status.
async fn register_as(agg: &TestNode, forwarded_for: &str) -> u16 {
    agg.http
        .post(format!("{}/v1/register", agg.node.url()))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"url": "http://127.0.0.1:1"}))
        .send()
        .await
        .expect("register")
        .status()
        .as_u16()
}

#[tokio::test]
async fn each_client_behind_a_trusted_proxy_has_its_own_registration_allowance() {
    let agg = TestNode::start_aggregator("Proxied CVS", |c| {
        c.aggregator.register_per_hour = 1;
        c.server.trusted_proxies = vec!["127.0.0.1".parse().expect("address")];
    })
    .await;
    assert_ne!(register_as(&agg, "203.0.113.1").await, 429);
    assert_eq!(register_as(&agg, "203.0.113.1").await, 429);
    assert_ne!(
        register_as(&agg, "203.0.113.2").await,
        429,
        "another client behind the same proxy"
    );
    assert_eq!(
        register_as(&agg, "198.51.100.9, 203.0.113.2").await,
        429,
        "what a client writes before the proxy's entry is ignored"
    );
}

#[tokio::test]
async fn the_header_is_ignored_from_a_peer_that_is_not_a_trusted_proxy() {
    let agg = TestNode::start_aggregator("Direct CVS", |c| {
        c.aggregator.register_per_hour = 1;
    })
    .await;
    assert_ne!(register_as(&agg, "203.0.113.1").await, 429);
    assert_eq!(
        register_as(&agg, "203.0.113.2").await,
        429,
        "a client cannot get a fresh allowance by writing the header"
    );
}
