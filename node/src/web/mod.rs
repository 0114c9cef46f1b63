//! HTTP surface: the router, the public endpoints, and the JSON error shape
//! every endpoint uses.

pub mod admin;
pub mod api;
pub mod assets;
pub mod compress;
pub mod cors;
pub mod form;
pub mod health;
pub mod hsds;
pub mod html;
pub mod listing;
pub mod pages;
pub mod state;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::error::NodeError;
use crate::web::state::AppState;

/// Builds the whole application router.
pub fn router(state: Arc<AppState>) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/admin/v1", crate::web::admin::router(state.clone()));
    // The public read API, readable from any origin (see `cors`); unknown
    // paths under its prefixes answer their 404 through it too.
    let mut public = Router::new().route("/openapi.json", get(api::openapi));
    if state.hub.is_some() {
        public = public.route("/.well-known/signpost/listing", get(listing::serve_listing));
    }
    if state.aggregator.is_some() {
        public = public
            .merge(api::router())
            .route("/v1/{*rest}", any(not_found))
            .merge(crate::web::hsds::router());
    }
    app = app.merge(public.layer(cors::public_read()));
    let mut html = Router::new()
        .route("/assets/{*path}", get(assets::serve))
        .fallback(unknown_address)
        .merge(crate::web::admin::pages::router(state.clone()));
    html = if state.aggregator.is_some() {
        html.merge(pages::router())
    } else {
        html.merge(pages::hub_only_router())
    };
    app = app.merge(html.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        html::security_headers,
    )));
    app.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        record_latency,
    ))
    .with_state(state)
    .layer(compress::layer())
    .layer(axum::middleware::from_fn(compress::etag_per_coding))
    .layer(access_log())
    .layer(PropagateRequestIdLayer::x_request_id())
    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// How each request's span is made.
type MakeSpan = fn(&axum::http::Request<axum::body::Body>) -> tracing::Span;

/// The access log's layer type.
type AccessLog = tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    MakeSpan,
>;

/// The access log: one `info` line per answer (status, latency) in a span
/// carrying the request id (`X-Request-Id`, the client's if it sent one,
/// else a new UUID, echoed in the answer so a user's report can be matched
/// to the log), the method and the path. Query strings are left out: they
/// hold what people searched for.
fn access_log() -> AccessLog {
    fn span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
        let id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path())
    }
    tower_http::trace::TraceLayer::new_for_http()
        .make_span_with(span as MakeSpan)
        .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO))
}

async fn record_latency(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let response = next.run(request).await;
    state
        .metrics
        .request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// The metrics router, served only on `node.metrics_listen`.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(axum::extract::State(state): axum::extract::State<Arc<AppState>>) -> Response {
    let db = state.dir.join(crate::config::DATABASE_FILE);
    let mut bytes = 0;
    for suffix in ["", "-wal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        bytes += std::fs::metadata(&name).map(|m| m.len()).unwrap_or(0);
    }
    let gauges = match &state.aggregator {
        Some(agg) => agg
            .store_gauges()
            .await
            .map(|g| crate::metrics::StoreGauges { bytes, ..g })
            .ok(),
        None => Some(crate::metrics::StoreGauges {
            bytes,
            ..Default::default()
        }),
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(gauges.as_ref()),
    )
        .into_response()
}

/// The 404 of every unknown address outside the API: a page for a browser
/// (which asks for `text/html`), with the pages' security headers, and the
/// API's JSON for any other client.
async fn unknown_address(headers: axum::http::HeaderMap) -> Response {
    let browser = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if browser {
        html::page_not_found()
    } else {
        not_found().await.into_response()
    }
}

/// The JSON 404 of an unknown address.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "there is nothing at this address",
    )
}

/// An error as the API shows it: a status and `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (a busy answer).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with its status, stable code and human message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl From<crate::aggregator::ReportError> for ApiError {
    fn from(e: crate::aggregator::ReportError) -> Self {
        match e {
            crate::aggregator::ReportError::Busy => ApiError {
                retry_after: Some(crate::aggregator::REPORT_RETRY_AFTER_SECS),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "reports are being computed for other requests; try again shortly",
                )
            },
            crate::aggregator::ReportError::Failed(e) => e.into(),
        }
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        match &e {
            NodeError::Invalid { .. } | NodeError::Import { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            NodeError::Spec(spec) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, spec.code(), e.to_string())
            }
            NodeError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            _ => {
                tracing::error!(error = %e, "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the node could not do this; its log says why",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        let mut response = (self.status, body).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
