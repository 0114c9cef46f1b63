//! The coordinator reports as JSON (and CSV) under `/v1/reports/`:
//! duplicates, coverage (with its map layer) and freshness, each answered
//! from the aggregator's cache per data version ([`Aggregator::report`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use serde_json::json;

use super::{aggregator, query_map};
use crate::aggregator::Aggregator;
use crate::web::state::AppState;
use crate::web::ApiError;

pub(super) async fn report_duplicates(
    State(state): State<Arc<AppState>>,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let pairs = agg
        .report("duplicates".into(), crate::reports::duplicates)
        .await?;
    Ok(Json(json!({"items": &*pairs, "total": pairs.len()})).into_response())
}

fn number_param(
    query: &HashMap<String, String>,
    name: &str,
    default: f64,
    max: f64,
) -> Result<f64, ApiError> {
    match query.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|n| *n > 0.0 && *n <= max)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    format!("{name}: must be a number above 0 and at most {max}"),
                )
            }),
    }
}

/// The coverage report's parameters: `within_km`, `cell_km` (grid only)
/// and an optional `term`.
struct CoverageQuery {
    within_km: f64,
    cell_km: f64,
    term: Option<String>,
}

impl CoverageQuery {
    fn read(query: &HashMap<String, String>) -> Result<CoverageQuery, ApiError> {
        if let Some(k) = query
            .keys()
            .find(|k| !matches!(k.as_str(), "within_km" | "cell_km" | "term"))
        {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!(
                    "{k}: is not a parameter of the coverage report (within_km, cell_km, term)"
                ),
            ));
        }
        let term = query.get("term").cloned();
        if term.as_ref().is_some_and(|t| t.chars().count() > 256) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                "term: at most 256 characters",
            ));
        }
        Ok(CoverageQuery {
            within_km: number_param(query, "within_km", 5.0, 100.0)?,
            cell_km: number_param(query, "cell_km", 5.0, 100.0)?,
            term,
        })
    }
}

/// Runs the coverage report over the operator's areas, or a grid of
/// `cell_km` cells when there are none; keeps only `term` if given.
pub async fn coverage_report(
    agg: &Aggregator,
    within_km: f64,
    cell_km: f64,
    term: Option<String>,
) -> Result<crate::reports::CoverageReport, ApiError> {
    let areas = agg.areas.clone();
    let mut report = agg
        .report(
            format!("coverage {within_km} {cell_km}"),
            move |c, index| {
                let division = match &areas {
                    Some(a) => crate::reports::Division::Areas(a),
                    None => crate::reports::Division::Grid { cell_km },
                };
                crate::reports::coverage_report(c, index, within_km, division)
            },
        )
        .await
        .map(Arc::unwrap_or_clone)?;
    if let Some(t) = term {
        let keep: Vec<bool> = report
            .items
            .iter()
            .map(|c| c.term.eq_ignore_ascii_case(&t))
            .collect();
        let mut k = keep.iter();
        report.items.retain(|_| k.next().copied().unwrap_or(false));
        let mut k = keep.iter();
        report
            .offered
            .retain(|_| k.next().copied().unwrap_or(false));
    }
    Ok(report)
}

/// How the region was divided, as the coverage report's JSON says it.
fn division_json(agg: &Aggregator, cell_km: f64) -> serde_json::Value {
    match &agg.areas {
        Some(a) => json!({"kind": "areas", "source": a.source, "areas": a.areas.len()}),
        None => json!({"kind": "grid", "cell_km": cell_km}),
    }
}

pub(super) async fn report_coverage(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let q = CoverageQuery::read(&query_map(raw)?)?;
    let report = coverage_report(&agg, q.within_km, q.cell_km, q.term).await?;
    Ok(Json(json!({
        "within_km": q.within_km,
        "cell_km": q.cell_km,
        "division": division_json(&agg, q.cell_km),
        "items": report.items,
    }))
    .into_response())
}

/// `GET /v1/reports/coverage/map?term=`: one category's gaps (cells or
/// areas, as polygons) and where it is offered (points), as a GeoJSON
/// FeatureCollection for the coordinator page's map.
pub(super) async fn report_coverage_map(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let q = CoverageQuery::read(&query_map(raw)?)?;
    let Some(term) = q.term.clone() else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "term: required, the category to map",
        ));
    };
    let report = coverage_report(&agg, q.within_km, q.cell_km, Some(term)).await?;
    let areas = agg.areas.clone();
    let features = crate::reports::map_features(&report, areas.as_deref());
    Ok(Json(json!({
        "type": "FeatureCollection",
        "within_km": q.within_km,
        "division": division_json(&agg, q.cell_km),
        "features": features,
    }))
    .into_response())
}

pub(super) async fn report_freshness(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let agg = aggregator(&state)?;
    let query = query_map(raw)?;
    let days = number_param(&query, "review_days", 365.0, 3650.0)? as i64;
    let rows = agg
        .report(format!("freshness {days}"), move |c, index| {
            crate::reports::freshness(c, index, Timestamp::now().as_second(), days)
        })
        .await?;
    if query.get("format").map(String::as_str) == Some("csv") {
        let bytes = crate::reports::freshness_csv(&rows)?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response());
    }
    Ok(Json(json!({"review_days": days, "items": &*rows})).into_response())
}
