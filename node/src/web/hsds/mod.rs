//! The Open Referral UK 3.0 API (the UK profile of HSDS 3) under `/hsds/`,
//! so that an ORUK client or validator pointed at `https://AGGREGATOR/hsds/`
//! reads the regional directory unchanged: `/`, `/services`,
//! `/services/{id}`, `/service_at_locations`, `/service_at_locations/{id}`,
//! `/taxonomies`, `/taxonomies/{id}`, `/taxonomy_terms`,
//! `/taxonomy_terms/{id}` as the vendored ORUK OpenAPI document defines
//! them, and `/organizations`, `/organizations/{id}` from HSDS 3.
//!
//! Ids are hub-scoped ([`map::scoped`]): hubs choose their own, and one
//! flat id space over many hubs must not let two of them collide. Every
//! response under `/hsds/`, errors and unknown paths included, carries
//! `Access-Control-Allow-Origin: *` (added by [`crate::web::router`] with
//! [`crate::web::cors`]), which UK
//! compliance asks of every Open Referral endpoint.

pub mod params;

use signpost_client::hsds::map;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Value};
use signpost_spec::{HubProfile, Service};

use crate::error::NodeError;
use crate::web::api::{aggregator, query_map};
use crate::web::state::AppState;
use crate::web::ApiError;
use params::Paging;
use signpost_client::search::hsds::{self as db, Row};
use signpost_client::search::oruk::Shared;

/// The `version` the ORUK validator reads at `/` to pick its 3.0 tests.
pub const VERSION: &str = "HSDS-UK-3.0";
/// Where the profile is described.
pub const PROFILE_URL: &str = "https://github.com/OpenReferralUK/uk-profile";
/// The ORUK 3.0 OpenAPI document this API follows.
pub const OPENAPI_URL: &str = "https://openreferraluk.org/specifications/3.0/openapi.json";
/// Most services nested in one organisation; an organisation listing more
/// (a hub runs up to 5,000) is cut here, and `/services?organization_id=`
/// pages through them all.
pub const MAX_NESTED_SERVICES: u32 = 200;
/// Most terms nested in one taxonomy.
pub const MAX_NESTED_TERMS: u32 = 1000;

/// The `/hsds/` routes.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/hsds", get(root))
        .route("/hsds/", get(root))
        .route("/hsds/services", get(services))
        .route("/hsds/services/{id}", get(service))
        .route("/hsds/service_at_locations", get(service_at_locations))
        .route("/hsds/service_at_locations/{id}", get(service_at_location))
        .route("/hsds/taxonomies", get(taxonomies))
        .route("/hsds/taxonomies/{id}", get(taxonomy))
        .route("/hsds/taxonomy_terms", get(taxonomy_terms))
        .route("/hsds/taxonomy_terms/{id}", get(taxonomy_term))
        .route("/hsds/organizations", get(organizations))
        .route("/hsds/organizations/{id}", get(organization))
        .route("/hsds/{*rest}", any(crate::web::not_found))
}

async fn root() -> Response {
    Json(json!({"version": VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL}))
        .into_response()
}

/// A stored row as the service (hub-scoped) and the profile of its hub.
fn decode(row: &Row) -> Result<(Service, HubProfile), ApiError> {
    let unreadable =
        |e: serde_json::Error| NodeError::Setup(format!("a stored row is unreadable: {e}"));
    let hub: HubProfile = serde_json::from_str(&row.profile_json).map_err(unreadable)?;
    let service: Service = serde_json::from_str(&row.service_json).map_err(unreadable)?;
    Ok((map::scoped(&service, &row.hub_id), hub))
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("this aggregator holds no {what} {id}"),
    )
}

fn page_response(paging: Paging, total: u64, contents: Vec<Value>) -> Response {
    Json(paging.page(total, contents)).into_response()
}

async fn services(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let q = query_map(raw)?;
    params::format_json(&q)?;
    let paging = Paging::from_query(&q)?;
    let filter = params::filter(&q, false)?;
    let (rows, total) = agg
        .hsds_list(
            db::ListOf::Services,
            filter,
            paging.per_page,
            paging.offset(),
        )
        .await?;
    let contents = rows
        .iter()
        .map(|r| decode(r).map(|(s, hub)| map::service_list_item(&s, &hub)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page_response(paging, total, contents))
}

/// Finds the row of one id of `kind`.
async fn lookup(state: &AppState, kind: &'static str, id: &str) -> Result<Option<Row>, ApiError> {
    let agg = aggregator(state)?;
    let id = id.to_ascii_lowercase();
    if id.len() > 100 {
        return Ok(None);
    }
    Ok(agg.hsds_by_id(kind, &id).await?)
}

async fn service(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = lookup(&state, "service", &id)
        .await?
        .ok_or_else(|| not_found("service", &id))?;
    let (s, hub) = decode(&row)?;
    Ok(Json(map::service_full(&s, &hub)).into_response())
}

async fn service_at_locations(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let q = query_map(raw)?;
    params::format_json(&q)?;
    let paging = Paging::from_query(&q)?;
    let filter = params::filter(&q, true)?;
    let (rows, total) = agg
        .hsds_list(
            db::ListOf::Locations,
            filter,
            paging.per_page,
            paging.offset(),
        )
        .await?;
    let mut contents = Vec::with_capacity(rows.len());
    for r in &rows {
        let (s, hub) = decode(r)?;
        contents.extend(map::service_at_location_list_item(&s, &hub, r.position));
    }
    Ok(page_response(paging, total, contents))
}

async fn service_at_location(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = lookup(&state, "service_at_location", &id)
        .await?
        .ok_or_else(|| not_found("service_at_location", &id))?;
    let (s, hub) = decode(&row)?;
    let sal = map::service_at_one_location(&s, &hub, row.position)
        .ok_or_else(|| not_found("service_at_location", &id))?;
    Ok(Json(sal).into_response())
}

async fn taxonomies(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let q = query_map(raw)?;
    params::format_json(&q)?;
    let paging = Paging::from_query(&q)?;
    let search = params::search_text(&q)?;
    let (items, total) = agg
        .hsds_distinct(
            Shared::Taxonomy,
            None,
            search,
            paging.per_page,
            paging.offset(),
        )
        .await?;
    let contents = items.iter().map(|d| map::taxonomy(&d.label)).collect();
    Ok(page_response(paging, total, contents))
}

/// The term with id `id` among a service's terms.
fn find_term(s: &Service, id: &str) -> Option<signpost_spec::TaxonomyTerm> {
    map::all_terms(s)
        .into_iter()
        .find(|t| map::term_id(t) == id)
}

/// Terms as `taxonomy_term` objects.
fn terms_of(items: &[db::Distinct]) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(items.len());
    for d in items {
        let (s, _) = decode(&d.row)?;
        out.extend(find_term(&s, &d.id).map(|t| map::taxonomy_term(&t)));
    }
    Ok(out)
}

async fn taxonomy(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = lookup(&state, "taxonomy", &id)
        .await?
        .ok_or_else(|| not_found("taxonomy", &id))?;
    let id = id.to_ascii_lowercase();
    let (s, _) = decode(&row)?;
    let name = map::all_terms(&s)
        .into_iter()
        .filter_map(|t| t.taxonomy)
        .find(|name| map::taxonomy_id(name) == id)
        .ok_or_else(|| not_found("taxonomy", &id))?;
    let agg = aggregator(&state)?;
    let (terms, _) = agg
        .hsds_distinct(
            Shared::TaxonomyTerm,
            Some(id.clone()),
            None,
            MAX_NESTED_TERMS,
            0,
        )
        .await?;
    let mut value = map::taxonomy(name.trim());
    value["taxonomy_terms"] = Value::Array(terms_of(&terms)?);
    Ok(Json(value).into_response())
}

async fn taxonomy_terms(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let q = query_map(raw)?;
    params::format_json(&q)?;
    let paging = Paging::from_query(&q)?;
    let search = params::search_text(&q)?;
    let taxonomy = params::id(&q, "taxonomy_id")?;
    let (items, total) = agg
        .hsds_distinct(
            Shared::TaxonomyTerm,
            taxonomy,
            search,
            paging.per_page,
            paging.offset(),
        )
        .await?;
    Ok(page_response(paging, total, terms_of(&items)?))
}

async fn taxonomy_term(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = lookup(&state, "taxonomy_term", &id)
        .await?
        .ok_or_else(|| not_found("taxonomy term", &id))?;
    let (s, _) = decode(&row)?;
    let term =
        find_term(&s, &id.to_ascii_lowercase()).ok_or_else(|| not_found("taxonomy term", &id))?;
    Ok(Json(map::taxonomy_term(&term)).into_response())
}

/// An organisation with its services nested: one-to-one service fields,
/// or fully nested ones with `full_service`.
async fn organization_with_services(
    state: &AppState,
    id: &str,
    row: &Row,
    full_service: bool,
) -> Result<Value, ApiError> {
    let agg = aggregator(state)?;
    let (s, hub) = decode(row)?;
    let rows = agg.organization_services(id, MAX_NESTED_SERVICES).await?;
    let mut services = Vec::with_capacity(rows.len());
    for r in &rows {
        let (svc, h) = decode(r)?;
        services.push(if full_service {
            map::service_full(&svc, &h)
        } else {
            map::service_list_item(&svc, &h)
        });
    }
    Ok(map::organization_full(&s, &hub, services))
}

async fn organizations(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let q: HashMap<String, String> = query_map(raw)?;
    params::format_json(&q)?;
    let paging = Paging::from_query(&q)?;
    let search = params::search_text(&q)?;
    let full_service = params::flag(&q, "full_service")?;
    let full = params::flag(&q, "full")? || full_service;
    let (items, total) = agg
        .hsds_distinct(
            Shared::Organization,
            None,
            search,
            paging.per_page,
            paging.offset(),
        )
        .await?;
    let mut contents = Vec::with_capacity(items.len());
    for d in &items {
        contents.push(if full {
            organization_with_services(&state, &d.id, &d.row, full_service).await?
        } else {
            let (s, hub) = decode(&d.row)?;
            map::organization(&s, &hub)
        });
    }
    Ok(page_response(paging, total, contents))
}

async fn organization(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = query_map(raw)?;
    let full_service = params::flag(&q, "full_service")?;
    let row = lookup(&state, "organization", &id)
        .await?
        .ok_or_else(|| not_found("organization", &id))?;
    let org =
        organization_with_services(&state, &id.to_ascii_lowercase(), &row, full_service).await?;
    Ok(Json(org).into_response())
}
