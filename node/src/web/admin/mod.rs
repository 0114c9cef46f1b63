//! The admin JSON API under `/admin/v1/`, for the hub's own staff: edit the
//! profile and services, import files. Every change publishes a new listing.
//! Guarded by the bearer token printed at `init`.

pub mod aggregator;
pub mod pages;
pub mod token;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::hub::Published;
use crate::import::{self, Format, MAX_IMPORT_BYTES};
use crate::web::state::AppState;
use crate::web::ApiError;

/// The admin routes, behind the token check and a body cap.
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/hub", get(get_hub).put(update_hub).patch(update_hub))
        .route("/services", get(list_services).post(create_service))
        .route(
            "/services/{id}",
            get(get_service).put(replace_service).delete(delete_service),
        )
        .route("/import", post(import_file))
        .route("/publish", post(publish))
        .route("/withdraw", post(withdraw))
        .route("/key/rotate", post(rotate_key))
        .route("/rejoin", post(rejoin))
        .merge(aggregator::routes())
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
        .layer(middleware::from_fn_with_state(state, require_token))
}

async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(t) if state.admin_token.matches(t) => next.run(request).await,
        _ => {
            let mut r = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send the admin token printed by `signpost-node init` as `Authorization: Bearer TOKEN`",
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"signpost-admin\""),
            );
            r
        }
    }
}

fn hub(state: &AppState) -> Result<&Arc<crate::web::state::HubHandle>, ApiError> {
    state.hub.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "this node does not run the hub role",
        )
    })
}

fn parse_json(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not JSON: {e}"),
        )
    })
}

fn publication(p: &Published) -> Value {
    json!({"seq": p.seq, "issued_at": p.issued_at.to_string(), "expires_at": p.expires_at.to_string(), "etag": p.etag})
}

async fn get_hub(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let hub = hub(&state)?;
    let profile = hub.run(|core| core.profile()).await?;
    let listing = hub.current().map(|p| publication(&p));
    Ok(Json(json!({"profile": profile, "listing": listing})))
}

async fn update_hub(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let changes = parse_json(&body)?;
    let (profile, published) = hub(&state)?
        .edit(move |core| core.update_profile(changes))
        .await?;
    Ok(Json(
        json!({"profile": profile, "listing": publication(&published)}),
    ))
}

async fn list_services(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let services = hub(&state)?.run(|core| core.services()).await?;
    Ok(Json(json!({"services": services})))
}

async fn get_service(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let service = hub(&state)?.run(move |core| core.service(&id)).await?;
    Ok(Json(json!({"service": service})))
}

async fn create_service(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input = parse_json(&body)?;
    let (service, published) = hub(&state)?
        .edit(move |core| core.add_service(input))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"service": service, "listing": publication(&published)})),
    )
        .into_response())
}

async fn replace_service(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let input = parse_json(&body)?;
    let (service, published) = hub(&state)?
        .edit(move |core| core.replace_service(&id, input))
        .await?;
    Ok(Json(
        json!({"service": service, "listing": publication(&published)}),
    ))
}

async fn delete_service(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let published = hub(&state)?
        .edit(move |core| core.remove_service(&id).map(|p| ((), p)))
        .await?
        .1;
    Ok(Json(json!({"listing": publication(&published)})))
}

async fn publish(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let published = hub(&state)?
        .edit(|core| core.republish().map(|p| ((), p)))
        .await?
        .1;
    Ok(Json(json!({"listing": publication(&published)})))
}

/// Query of `POST /admin/v1/import`.
#[derive(Debug, Deserialize)]
struct ImportQuery {
    /// `csv`, `xlsx`, `ods` or `hsds`; otherwise taken from the Content-Type.
    format: Option<String>,
    /// A workbook's sheet (default: the first with a header row).
    sheet: Option<String>,
    /// Remove services that are not in the file.
    #[serde(default)]
    replace: bool,
    /// Only say what would change.
    #[serde(default)]
    dry_run: bool,
}

async fn import_file(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let format = match &query.format {
        Some(word) => Format::parse(word)?,
        None => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if content_type.starts_with("text/csv") {
                Format::Csv
            } else if content_type.contains("spreadsheetml")
                || content_type.contains("opendocument.spreadsheet")
                || content_type.contains("ms-excel")
            {
                Format::Workbook
            } else if content_type.contains("json") {
                Format::Hsds
            } else {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unknown_format",
                    "say ?format=csv, xlsx, ods or hsds, or send Content-Type text/csv, a spreadsheet type or application/json",
                ));
            }
        }
    };
    let hub = hub(&state)?;
    let (plan, published) = hub
        .edit_maybe(move |core| {
            let file = import::Upload {
                format,
                bytes: &body,
                sheet: query.sheet.as_deref(),
            };
            let plan = import::preview(core, file, import::Columns::Guessed, query.replace)?.plan;
            if query.dry_run {
                return Ok((plan, None));
            }
            let published = import::apply(core, &plan, None)?;
            Ok((plan, published))
        })
        .await?;
    Ok(Json(json!({
        "dry_run": query.dry_run,
        "added": plan.added.len(),
        "updated": plan.updated.len(),
        "unchanged": plan.unchanged.len(),
        "removed": plan.removed.len(),
        "plan": plan,
        "listing": published.as_ref().map(publication),
    })))
}

async fn withdraw(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let (_, published) = hub(&state)?.edit(|core| Ok(((), core.withdraw()?))).await?;
    tracing::warn!(seq = published.seq, "hub withdrawn from the network");
    Ok(Json(
        json!({"withdrawn": true, "listing": publication(&published)}),
    ))
}

async fn rejoin(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let (_, published) = hub(&state)?.edit(|core| Ok(((), core.rejoin()?))).await?;
    Ok(Json(
        json!({"withdrawn": false, "listing": publication(&published)}),
    ))
}

async fn rotate_key(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let (key, published) = hub(&state)?.edit(|core| core.rotate_key()).await?;
    Ok(Json(
        json!({"signing_key": key.to_string(), "listing": publication(&published)}),
    ))
}
