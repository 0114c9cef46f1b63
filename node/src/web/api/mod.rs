//! The aggregator's public read API under `/v1/` (search, hubs, the stored
//! envelopes, the RPDE feed) and hub registration. Documented in
//! `openapi.json`, served at `/openapi.json`.

use std::collections::HashMap;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde_json::json;

use crate::aggregator::{Aggregator, Ingested, Registered};
use crate::feed::{self, FeedQuery};
use crate::forwarded::{allowance_key, ClientAddr};
use crate::web::state::AppState;
use crate::web::ApiError;
use signpost_client::directory::HeldService;
use signpost_client::search::SearchParams;
use signpost_client::store::aggregator::HeldEnvelope;

mod reports;

use reports::{report_coverage, report_coverage_map, report_duplicates, report_freshness};

/// The OpenAPI description of every public endpoint.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Longest query string accepted.
const MAX_QUERY_BYTES: usize = 4096;
/// Largest registration body.
const MAX_REGISTER_BYTES: usize = 4096;

/// The `/v1/` routes.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/services", get(services))
        .route("/v1/services/{hub_id}/{service_id}", get(service))
        .route("/v1/hubs", get(hubs))
        .route("/v1/hubs/{hub_id}", get(hub))
        .route("/v1/hubs/{hub_id}/listing", get(hub_listing))
        .route("/v1/feed", get(feed_page))
        .route("/v1/notify", post(notify))
        .route("/v1/reports/duplicates", get(report_duplicates))
        .route("/v1/reports/coverage", get(report_coverage))
        .route("/v1/reports/coverage/map", get(report_coverage_map))
        .route("/v1/reports/freshness", get(report_freshness))
        .route(
            "/v1/register",
            post(register).layer(DefaultBodyLimit::max(MAX_REGISTER_BYTES)),
        )
}

/// Serves the OpenAPI document (for every node, so tools can discover it).
pub async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

/// The aggregator role, or a 404 for nodes that do not run it.
pub fn aggregator(state: &AppState) -> Result<Arc<Aggregator>, ApiError> {
    state.aggregator.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_an_aggregator",
            "this node does not run the aggregator role",
        )
    })
}

/// Parses a query string into single-valued parameters, refusing repeats
/// and oversized input with a JSON error.
pub fn query_map(raw: Option<String>) -> Result<HashMap<String, String>, ApiError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_QUERY_BYTES {
        return Err(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "too_long",
            format!("the query is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        if map.insert(k.to_string(), v.to_string()).is_some() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!("{k}: given more than once"),
            ));
        }
    }
    Ok(map)
}

fn bad_request(e: crate::NodeError) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid", e.to_string())
}

async fn services(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let params = SearchParams::from_query(&query_map(raw)?).map_err(bad_request)?;
    let page = agg.search(params).await?;
    Ok(Json(page).into_response())
}

async fn service(
    State(state): State<Arc<AppState>>,
    Path((hub_id, service_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let found = agg.service(&hub_id, &service_id).await?;
    let Some(HeldService {
        hub_name,
        expires_at,
        json,
        ..
    }) = found
    else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no service {service_id} from hub {hub_id}"),
        ));
    };
    let service: Box<serde_json::value::RawValue> = serde_json::value::RawValue::from_string(json)
        .map_err(|e| crate::NodeError::Setup(format!("stored service: {e}")))?;
    Ok(Json(json!({
        "hub_id": hub_id,
        "hub_name": hub_name,
        "stale": expires_at <= Timestamp::now().as_second(),
        "service": service,
    }))
    .into_response())
}

fn paging(query: &HashMap<String, String>) -> Result<(u32, u32), ApiError> {
    let number = |name: &str, default: u32, max: u32| -> Result<u32, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid",
                        format!("{name}: must be a whole number from 1 to {max}"),
                    )
                }),
        }
    };
    Ok((number("page", 1, 10_000)?, number("per_page", 50, 200)?))
}

async fn hubs(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let query = query_map(raw)?;
    if let Some(k) = query
        .keys()
        .find(|k| !matches!(k.as_str(), "page" | "per_page"))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!("{k}: is not a parameter of /v1/hubs (page, per_page)"),
        ));
    }
    let (page, per_page) = paging(&query)?;
    let offset = (page - 1).saturating_mul(per_page);
    let (items, total) = agg.hubs(per_page, offset).await?;
    Ok(
        Json(json!({"items": items, "total": total, "page": page, "per_page": per_page}))
            .into_response(),
    )
}

async fn hub(
    State(state): State<Arc<AppState>>,
    Path(hub_id): Path<String>,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    match agg.hub(&hub_id).await? {
        Some(h) => Ok(Json(h).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("this aggregator holds no hub {hub_id}"),
        )),
    }
}

async fn hub_listing(
    State(state): State<Arc<AppState>>,
    Path(hub_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let Some(HeldEnvelope { bytes, seq, .. }) = agg.hub_envelope(&hub_id).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("this aggregator holds no listing of hub {hub_id}"),
        ));
    };
    let etag = crate::hub::etag_of(&bytes);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| crate::web::listing::etag_matches(v, &etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&seq.to_string()) {
        h.insert("signpost-seq", v);
    }
    Ok(response)
}

/// The absolute URL of this node's feed, from `node.public_url` or, failing
/// that, the request's Host header.
pub fn feed_url(state: &AppState, headers: &HeaderMap) -> String {
    format!("{}/v1/feed", base_url(state, headers))
}

/// This node's absolute base URL (no trailing slash): `node.public_url`,
/// or failing that `http://` and the request's Host header (checked to be
/// a plain host name, so it cannot inject markup or a path).
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .filter(|h| {
                    h.len() <= 255
                        && h.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
                })
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// A page of the feed. With `wait=SECONDS`, a request whose page would be
/// empty (a follower at the end) is held until a new item is stored or the
/// wait ends, so an edit reaches followers in well under a second instead
/// of at their next poll; within [`feed::MAX_WAITING`] in total and
/// [`feed::MAX_WAITING_PER_CLIENT`] per client, past which it is answered
/// at once. The wait granted (`signpost-feed-wait`) is at most
/// [`AppState::feed_max_wait_secs`], so it ends before the node's request
/// timeout.
async fn feed_page(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let query = FeedQuery::from_query(&query_map(raw)?).map_err(bad_request)?;
    let url = feed_url(&state, &headers);
    let license = agg.settings.license_url.clone();
    let limit = query.limit;
    let max_bytes = agg.settings.served_feed_page_bytes;
    let read = || agg.feed_page(query.cursor.clone(), limit, max_bytes);
    let mut items = read().await?;
    let mut waited = None;
    // Granted within the node's request timeout: a longer wait would end
    // in its 408 instead of the page.
    let wait = query.wait.min(state.feed_max_wait_secs);
    if items.is_empty() && query.wait > 0 {
        let turn = if wait > 0 {
            state.feed_waiters.enter(allowance_key(client))
        } else {
            None
        };
        waited = Some(if turn.is_some() { wait } else { 0 });
        if turn.is_some() {
            // Subscribe, then read again: an item stored in between is
            // seen by the read, one stored later wakes the wait.
            let mut changes = agg.directory().watch_changes();
            let mut stopping = state.stopping.clone();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(wait.into());
            loop {
                changes.borrow_and_update();
                items = read().await?;
                if !items.is_empty() || *stopping.borrow_and_update() {
                    break;
                }
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { break },
                    _ = stopping.changed() => break,
                    _ = tokio::time::sleep_until(deadline) => break,
                }
            }
        }
        drop(turn);
    }
    let page = feed::page(items, &query, &url, &license);
    // A waited-for last page is each follower's own: no cache may keep it.
    let cache = match waited {
        Some(_) if page.items.len() < limit as usize => "no-store",
        _ => feed::cache_control(page.items.len(), limit),
    };
    let mut response = Json(page).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Some(seconds) = waited {
        h.insert(feed::WAIT_HEADER, HeaderValue::from(seconds));
    }
    Ok(response)
}

/// Nudges (`POST /v1/notify`) acted on per client address per hour: a
/// hub that edits all day sends a few hundred at most.
pub const NUDGES_PER_HOUR: u32 = 600;

/// A hub's nudge: "my listing at `source` changed". A hint only: a known,
/// healthy source is crawled soon (the same fetch, verification and
/// politeness as any crawl, one at a time per source), anything else is
/// ignored. The answer is the same either way (202), so it tells a
/// stranger nothing about which sources are known.
async fn notify(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let query = query_map(raw)?;
    if let Some(key) = query.keys().find(|k| k.as_str() != "source") {
        return Err(bad_request(crate::error::NodeError::invalid(
            key,
            "is not a notify parameter (source)",
        )));
    }
    let Some(source) = query
        .get("source")
        .filter(|s| !s.is_empty() && s.len() <= 2048)
    else {
        return Err(bad_request(crate::error::NodeError::invalid(
            "source",
            "must be the listing address this aggregator crawls (at most 2048 characters)",
        )));
    };
    if !state.nudge_limiter.allow(client) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("at most {NUDGES_PER_HOUR} nudges an hour from one address; try again later"),
        ));
    }
    if agg.nudge(source).await? {
        tracing::debug!(%source, "a hub's nudge brought its crawl forward");
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "noted" }))).into_response())
}

async fn register(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    if !state.register_limiter.allow(client) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "at most {} registrations an hour from one address; try again later",
                agg.settings.register_per_hour
            ),
        ));
    }
    let input: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!("send JSON like {{\"url\": \"https://hub.example.org\"}} ({e})"),
        )
    })?;
    let Some(url) = input.get("url").and_then(|u| u.as_str()) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "url: required, the hub's address like https://hub.example.org",
        ));
    };
    match agg.register(url, client).await {
        Ok(Registered::Stored(outcome)) => {
            let status = match outcome {
                Ingested::Accepted { .. } => StatusCode::CREATED,
                _ => StatusCode::OK,
            };
            Ok((status, Json(outcome)).into_response())
        }
        Ok(Registered::Pending { hub_id }) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({
                "outcome": "pending",
                "hub_id": hub_id,
                "message": "the listing checked out; it will be crawled once this directory's operator approves it",
            })),
        )
            .into_response()),
        Err(e) => {
            let status = match e.code.as_str() {
                "internal" => StatusCode::INTERNAL_SERVER_ERROR,
                "registration_off" | "registration_full" | "too_many_registrations"
                | "host_full" => StatusCode::FORBIDDEN,
                "busy" => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok((
                status,
                Json(json!({"error": {"code": e.code, "message": e.message}})),
            )
                .into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_document_is_json_and_names_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/v1/services",
            "/v1/services/{hub_id}/{service_id}",
            "/v1/hubs",
            "/v1/hubs/{hub_id}",
            "/v1/hubs/{hub_id}/listing",
            "/v1/feed",
            "/v1/register",
            "/v1/reports/duplicates",
            "/v1/reports/coverage",
            "/v1/reports/coverage/map",
            "/v1/reports/freshness",
            "/healthz",
            "/.well-known/signpost/listing",
        ] {
            assert!(paths.contains_key(p), "{p} missing from openapi.json");
        }
    }
}
