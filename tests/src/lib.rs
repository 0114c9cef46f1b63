//! Harness for Signpost's multi-node integration tests: real nodes in
//! temporary directories, on loopback ports, talked to over real HTTP.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use signpost_node::config::Config;
use signpost_node::init::{init, InitOptions};
use signpost_node::server::{self, RunningNode};
use signpost_spec::{
    verify_listing, Coordination, Dimensions, Focus, Governance, Space, VerifiedListing,
    VerifyOptions,
};
use tempfile::TempDir;

/// A hub node started for one test; its files vanish with it.
pub struct TestHub {
    pub dir: TempDir,
    pub node: RunningNode,
    pub token: String,
    pub hub_id: String,
    pub http: reqwest::Client,
}

/// A response read whole: status, headers and body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body text if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// The dimensions of a typical first-level community hub.
pub fn community_hub() -> Dimensions {
    Dimensions {
        space: vec![Space::Dedicated],
        governance: Governance::CommunityLed,
        focus: Focus::Generic,
        coordination: Coordination::FirstLevel,
    }
}

impl TestHub {
    /// Initialises a hub called `name` and serves it on a free loopback port.
    pub async fn start(name: &str) -> TestHub {
        let dir = tempfile::tempdir().expect("temp dir");
        let outcome = init(&InitOptions {
            dir: dir.path().to_owned(),
            name: name.to_owned(),
            url: None,
            listen: Some(([127, 0, 0, 1], 0).into()),
            dimensions: community_hub(),
        })
        .expect("init");
        let node = start_node(dir.path()).await;
        TestHub {
            dir,
            node,
            token: outcome.admin_token,
            hub_id: outcome.hub_id,
            http: client(),
        }
    }

    /// The listing's URL.
    pub fn listing_url(&self) -> String {
        format!("{}/.well-known/signpost/listing", self.node.url())
    }

    /// GETs the listing, optionally with extra headers.
    pub async fn get_listing(&self, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.http.get(self.listing_url());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send().await.expect("GET listing")).await
    }

    /// Fetches and verifies the listing with the spec crate.
    pub async fn verified_listing(&self) -> VerifiedListing {
        let reply = self.get_listing(&[]).await;
        assert_eq!(reply.status, StatusCode::OK);
        verify_listing(&reply.body, &VerifyOptions::now()).expect("listing verifies")
    }

    /// Calls the admin API with the right token.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.admin_as(&self.token, method, path, body).await
    }

    /// Calls the admin API with any token.
    pub async fn admin_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}/admin/v1{path}", self.node.url()))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await.expect("admin request")).await
    }

    /// Posts raw bytes to the admin API.
    pub async fn admin_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let req = self
            .http
            .post(format!("{}/admin/v1{path}", self.node.url()))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body);
        read(req.send().await.expect("admin request")).await
    }
}

/// Starts a node on the data directory with a free loopback port.
pub async fn start_node(dir: &Path) -> RunningNode {
    let mut config = Config::load(dir).expect("config");
    config.node.listen = ([127, 0, 0, 1], 0).into();
    server::start(dir, config).await.expect("node starts")
}

/// An HTTP client with bounded time, for loopback only.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .no_proxy()
        .build()
        .expect("http client")
}

async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    Reply {
        status,
        headers,
        body,
    }
}
