//! Admin actions of the aggregator role: crawl now, manage sources, delist
//! a hub. Behind the same bearer token as the hub's admin API.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::aggregator::Aggregator;
use crate::crawl;
use crate::web::api::{aggregator, query_map};
use crate::web::state::AppState;
use crate::web::ApiError;
use signpost_client::store::aggregator::{HubState, Origin};

/// The aggregator's admin routes (mounted under `/admin/v1`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/crawl", post(crawl_now))
        .route(
            "/sources",
            get(list_sources).post(add_source).delete(remove_source),
        )
        .route("/registrations", get(pending_registrations))
        .route("/registrations/approve", post(approve_registration))
        .route("/registrations/reject", post(reject_registration))
        .route("/hubs/{hub_id}/delist", post(delist))
        .route("/upstreams", get(list_upstreams).post(add_upstream))
        .route("/reports/not-duplicates", post(not_duplicate))
}

/// The `url` of a JSON body like `{"url": "https://hub.example.org"}`.
fn url_in(body: &[u8]) -> Result<String, ApiError> {
    let input: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not JSON: {e}"),
        )
    })?;
    input
        .get("url")
        .and_then(|u| u.as_str())
        .map(str::to_owned)
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "invalid", "url: required"))
}

async fn crawl_now(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let reports = crawl::crawl_all_now(&agg).await?;
    let polled = crate::follow::poll_due(&agg, true).await?;
    // "Now" includes being searchable when the answer comes.
    agg.make_searchable().await?;
    Ok(Json(json!({"crawled": reports, "polled": polled})).into_response())
}

async fn list_sources(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let sources = agg.sources().await?;
    Ok(Json(json!({"sources": sources})).into_response())
}

async fn add_source(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let raw = url_in(&body)?;
    let url = signpost_client::fetch::listing_url(&raw)
        .map_err(|m| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("url: {m}"),
            )
        })?
        .to_string();
    let added = agg.add_source(&url, Origin::Cli).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"url": url, "added": added}))).into_response())
}

async fn remove_source(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let query = query_map(raw)?;
    let url = query
        .get("url")
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "invalid", "url: required"))?;
    if agg.remove_source(&url).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no source {url}"),
        ))
    }
}

/// Registrations waiting for approval (`aggregator.registration = "approval"`).
async fn pending_registrations(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let pending = agg.pending_registrations().await?;
    Ok(Json(json!({"pending": pending})).into_response())
}

/// Approves (or, `approve` false, rejects) the pending registration of
/// `raw`, an address as typed or as listed (made the listing URL it was
/// registered at), and logs who decided (`by`). The one decision behind the
/// JSON API and the admin page, so both match an address the same way (as
/// `source approve`/`reject` do on the data folder). Gives the address as matched and
/// whether a registration of it waited.
pub async fn decide(
    agg: &Aggregator,
    raw: &str,
    approve: bool,
    by: &'static str,
) -> crate::error::Result<(String, bool)> {
    let url = signpost_client::fetch::listing_url(raw)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| raw.to_owned());
    let done = agg.decide_registration(&url, approve).await?;
    if done {
        tracing::info!(url = %url, approved = approve, by, "registration decided");
    }
    Ok((url, done))
}

/// Approves (or, `approve` false, rejects) the pending registration of
/// the body's `url`, as `source approve` and `source reject` do.
async fn decide_registration(
    state: Arc<AppState>,
    body: &[u8],
    approve: bool,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let raw = url_in(body)?;
    let (url, done) = decide(&agg, &raw, approve, "the admin API").await?;
    if !done {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no registration of {url} waits for approval"),
        ));
    }
    Ok(Json(json!({"url": url, "approved": approve})).into_response())
}

async fn approve_registration(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    decide_registration(state, &body, true).await
}

async fn reject_registration(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    decide_registration(state, &body, false).await
}

/// Delists a hub for good: on the denylist first (so a crash half-way still
/// leaves it refused), then its services removed. An optional JSON body
/// `{"reason": "..."}` is recorded; `signpost-node hub undelist` undoes it.
async fn delist(
    State(state): State<Arc<AppState>>,
    Path(hub_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let reason = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
        .map(|r| r.chars().take(1000).collect::<String>())
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "delisted through the admin API".to_owned());
    let known = agg.deny_held(&hub_id, &reason, "admin API").await?;
    let done = known && agg.delist(&hub_id).await?;
    if done {
        tracing::warn!(hub_id = %hub_id, "hub delisted by the operator");
        Ok(Json(json!({"hub_id": hub_id, "state": HubState::Delisted})).into_response())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no hub {hub_id}"),
        ))
    }
}

async fn list_upstreams(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let upstreams = agg.upstreams().await?;
    Ok(Json(json!({"upstreams": upstreams})).into_response())
}

async fn add_upstream(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let raw = url_in(&body)?;
    let url = signpost_client::follow::feed_url(&raw)
        .map_err(|m| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("url: {m}"),
            )
        })?
        .to_string();
    let added = agg.add_upstream(&url).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"url": url, "added": added}))).into_response())
}

async fn not_duplicate(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let input: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not JSON: {e}"),
        )
    })?;
    let side = |k: &str| -> Result<(String, String), ApiError> {
        let v = &input[k];
        match (v["hub_id"].as_str(), v["service_id"].as_str()) {
            (Some(h), Some(s)) if h.len() <= 256 && s.len() <= 256 => {
                Ok((h.to_owned(), s.to_owned()))
            }
            _ => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!("{k}: give {{\"hub_id\": ..., \"service_id\": ...}}"),
            )),
        }
    };
    let (a, b) = (side("a")?, side("b")?);
    agg.not_duplicates(a, b).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
