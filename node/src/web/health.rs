//! `/healthz` and `/readyz`, kept apart because orchestrators act on them
//! differently: a failing liveness probe restarts the process, a failing
//! readiness probe only takes it out of the load balancer. Restarting a
//! node whose database was deleted, or whose crawler is stuck, would hide
//! the fault, so those make it unready, never dead.
//!
//! - `/healthz`: the process answers HTTP (and says its roles, version and
//!   current listing). Always 200 while the process runs.
//! - `/readyz`: 200 when the node can do its work, else 503 with every
//!   failing check named: the database file is present and answers a query,
//!   the search index is on disk and open (aggregators), and a crawl has
//!   finished within `aggregator.ready_max_crawl_age_secs` (when the
//!   aggregator has sources to crawl).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::web::state::AppState;

/// `GET /healthz`: liveness.
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let hub = state.hub.as_ref().and_then(|h| h.current()).map(|p| {
        json!({"seq": p.seq, "issued_at": p.issued_at.to_string(), "expires_at": p.expires_at.to_string()})
    });
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"), "roles": roles(&state), "listing": hub}))
        .into_response()
}

fn roles(state: &AppState) -> Vec<&'static str> {
    [
        state.hub.as_ref().map(|_| "hub"),
        state.aggregator.as_ref().map(|_| "aggregator"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// One readiness check's result.
fn check(name: &str, failure: Option<String>) -> (String, Value) {
    let value = match failure {
        None => json!({"ok": true}),
        Some(why) => json!({"ok": false, "error": why}),
    };
    (name.to_owned(), value)
}

/// `GET /readyz`: readiness, `{"status": "ready"|"unready", "checks": {...}}`.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let mut checks = serde_json::Map::new();
    let db = state.dir.join(crate::config::DATABASE_FILE);
    let database = if !db.is_file() {
        Some(format!("{} is missing", db.display()))
    } else {
        let answered = match (&state.aggregator, &state.hub) {
            (Some(agg), _) => agg.ping().await,
            (None, Some(hub)) => hub.run(|core| core.data_version()).await.map(drop),
            (None, None) => Ok(()),
        };
        answered
            .err()
            .map(|e| format!("the database does not answer: {e}"))
    };
    checks.extend([check("database", database)]);
    if let Some(agg) = &state.aggregator {
        let index_dir = crate::aggregator::index_dir(&db);
        let index = (!index_dir.join("meta.json").is_file())
            .then(|| format!("the search index at {} is missing", index_dir.display()));
        checks.extend([check("index", index)]);
        if let Some(bound) = agg.settings.ready_crawl_age() {
            let has_sources = agg.has_sources().await.unwrap_or(true);
            let age = state.metrics.crawl_age_secs();
            let stale = (has_sources && age > bound as i64)
                .then(|| format!("no crawl has finished for {age} s (the bound is {bound} s)"));
            checks.extend([check("crawl", stale)]);
        }
    }
    let ready = checks.values().all(|c| c["ok"] == true);
    let status = if ready {
        StatusCode::OK
    } else {
        let failing = Value::Object(checks.clone()).to_string();
        tracing::warn!(checks = %failing, "not ready");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "unready" },
            "roles": roles(&state),
            "checks": checks,
        })),
    )
        .into_response()
}
