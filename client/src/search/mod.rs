//! Searching the services an aggregator holds: words (ranked by BM25),
//! categories, distance from a point (grid prefilter, exact great-circle
//! distance), and "open at" a moment in each hub's own time zone. Every
//! parameter is checked and capped here before anything runs; the search
//! itself is answered by the in-memory [`index`], and only the page's
//! services are read from SQLite.

pub mod hours;
pub mod hsds;
pub mod index;
pub mod oruk;
pub mod place;
pub mod text;

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use index::SearchIndex;

/// Longest text query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most words of a text query used.
pub const MAX_QUERY_WORDS: usize = 16;
/// Most categories in one query.
pub const MAX_TAXONOMY_TERMS: usize = 10;
/// Largest page.
pub const MAX_PER_PAGE: u32 = 100;
/// Deepest result reachable by paging (page × per_page).
pub const MAX_OFFSET: u32 = 10_000;
/// Widest radius, in kilometres.
pub const MAX_WITHIN_KM: f64 = 1000.0;
/// Radius used when `near` is given without `within_km`.
pub const DEFAULT_WITHIN_KM: f64 = 25.0;

/// Mean Earth radius used for distances, in kilometres.
pub(crate) const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Best text match first (needs `q`).
    Relevance,
    /// Nearest first (needs `near`).
    Distance,
    /// By service name.
    #[default]
    Name,
}

/// A checked search request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    /// Words to look for.
    pub q: Option<String>,
    /// Categories (any of them matches), compared without case.
    pub taxonomy: Vec<String>,
    /// A point (latitude, longitude) and a radius in km.
    pub near: Option<(f64, f64, f64)>,
    /// Only services open at this moment.
    pub open_at: Option<Timestamp>,
    /// Only this hub's services.
    pub hub: Option<String>,
    /// Result order.
    pub order: Order,
    /// 1-based page number.
    pub page: u32,
    /// Results per page.
    pub per_page: u32,
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::invalid(field, message)
}

impl SearchParams {
    /// Reads and checks the query-string parameters of `/v1/services`.
    pub fn from_query(query: &HashMap<String, String>) -> Result<SearchParams> {
        for key in query.keys() {
            if !matches!(
                key.as_str(),
                "q" | "taxonomy"
                    | "near"
                    | "within_km"
                    | "open_at"
                    | "hub"
                    | "order"
                    | "page"
                    | "per_page"
            ) {
                return Err(invalid(key, "is not a search parameter (q, taxonomy, near, within_km, open_at, hub, order, page, per_page)"));
            }
        }
        let get = |k: &str| query.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let q = match get("q") {
            Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
                return Err(invalid(
                    "q",
                    format!("is longer than {MAX_QUERY_CHARS} characters"),
                ))
            }
            other => other.map(str::to_owned),
        };
        let taxonomy: Vec<String> = get("taxonomy")
            .map(|t| {
                t.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if taxonomy.len() > MAX_TAXONOMY_TERMS {
            return Err(invalid(
                "taxonomy",
                format!("names more than {MAX_TAXONOMY_TERMS} categories"),
            ));
        }
        if taxonomy.iter().any(|t| t.chars().count() > 256) {
            return Err(invalid(
                "taxonomy",
                "a category is longer than 256 characters",
            ));
        }
        let near = match get("near") {
            None => {
                if get("within_km").is_some() {
                    return Err(invalid("within_km", "needs near=LAT,LON"));
                }
                None
            }
            Some(near) => {
                let (lat, lon) = parse_point(near)?;
                let within = match get("within_km") {
                    None => DEFAULT_WITHIN_KM,
                    Some(w) => {
                        let w: f64 = w.parse().map_err(|_| {
                            invalid("within_km", format!("{w:?} is not a number of kilometres"))
                        })?;
                        if !(w > 0.0 && w <= MAX_WITHIN_KM) {
                            return Err(invalid(
                                "within_km",
                                format!("must be more than 0 and at most {MAX_WITHIN_KM}"),
                            ));
                        }
                        w
                    }
                };
                Some((lat, lon, within))
            }
        };
        let open_at = match get("open_at") {
            None => None,
            Some("now") => Some(Timestamp::now()),
            Some(t) => Some(t.parse::<Timestamp>().map_err(|_| {
                invalid(
                    "open_at",
                    format!("{t:?} is not a time like 2026-11-23T10:00:00Z (or \"now\")"),
                )
            })?),
        };
        let hub = get("hub").map(str::to_owned);
        if let Some(h) = &hub {
            signpost_spec::KeyId::parse(h).map_err(|e| invalid("hub", e.to_string()))?;
        }
        let order = match get("order") {
            None if q.is_some() => Order::Relevance,
            None if near.is_some() => Order::Distance,
            None => Order::Name,
            Some("relevance") if q.is_some() => Order::Relevance,
            Some("relevance") => return Err(invalid("order", "relevance needs q")),
            Some("distance") if near.is_some() => Order::Distance,
            Some("distance") => return Err(invalid("order", "distance needs near=LAT,LON")),
            Some("name") => Order::Name,
            Some(o) => {
                return Err(invalid(
                    "order",
                    format!("{o:?} is not relevance, distance or name"),
                ))
            }
        };
        let page = number(get("page"), "page", 1, 1, MAX_OFFSET)?;
        let per_page = number(get("per_page"), "per_page", 20, 1, MAX_PER_PAGE)?;
        if (page - 1).saturating_mul(per_page) >= MAX_OFFSET {
            return Err(invalid(
                "page",
                format!("results beyond the first {MAX_OFFSET} are not served; narrow the search"),
            ));
        }
        Ok(SearchParams {
            q,
            taxonomy,
            near,
            open_at,
            hub,
            order,
            page,
            per_page,
        })
    }
}

fn number(value: Option<&str>, field: &str, default: u32, low: u32, high: u32) -> Result<u32> {
    let Some(v) = value else {
        return Ok(default);
    };
    let n: u32 = v
        .parse()
        .map_err(|_| invalid(field, format!("{v:?} is not a whole number")))?;
    if n < low || n > high {
        return Err(invalid(field, format!("must be between {low} and {high}")));
    }
    Ok(n)
}

/// Parses `LAT,LON` in decimal degrees.
pub fn parse_point(value: &str) -> Result<(f64, f64)> {
    let bad = || {
        invalid(
            "near",
            format!("{value:?} is not LAT,LON like 53.8175,-3.0357"),
        )
    };
    let (lat, lon) = value.split_once(',').ok_or_else(bad)?;
    let lat: f64 = lat.trim().parse().map_err(|_| bad())?;
    let lon: f64 = lon.trim().parse().map_err(|_| bad())?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(bad());
    }
    Ok((lat, lon))
}

/// Great-circle distance in kilometres (haversine).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// Adds the SQL functions search uses to a connection.
pub fn register_functions(conn: &Connection) -> Result<()> {
    conn.create_scalar_function(
        "distance_km",
        4,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(distance_km(
                ctx.get(0)?,
                ctx.get(1)?,
                ctx.get(2)?,
                ctx.get(3)?,
            ))
        },
    )?;
    Ok(())
}

/// One result.
#[derive(Debug, Serialize)]
pub struct Hit {
    /// The hub that published the service.
    pub hub_id: String,
    /// That hub's name.
    pub hub_name: String,
    /// True when the hub's listing has expired (its data may be out of date).
    pub stale: bool,
    /// Distance in km from `near`, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// The service exactly as the hub published it.
    pub service: Box<RawValue>,
}

/// One page of results.
#[derive(Debug, Serialize)]
pub struct Page {
    /// The results on this page.
    pub items: Vec<Hit>,
    /// How many results there are in all, counted up to 10,001 (more means
    /// "more than can be paged through").
    pub total: u64,
    /// This page's number.
    pub page: u32,
    /// Results per page.
    pub per_page: u32,
    /// The order used.
    pub order: Order,
}

/// Reads the services of a page the index found (as the index stores
/// them), with their hubs' names and freshness (from the store). A service
/// removed since the index answered is skipped.
pub fn read_page(
    conn: &Connection,
    index: &SearchIndex,
    params: &SearchParams,
    found: index::Found,
    now: Timestamp,
) -> Result<Page> {
    let keys: Vec<i64> = found.page.iter().map(|(key, _)| *key).collect();
    let mut stored = index.stored(&keys)?;
    let mut items = Vec::with_capacity(found.page.len());
    // A page often holds several services of one hub: ask the store once.
    let mut hubs: HashMap<String, Option<(String, i64)>> = HashMap::new();
    for (key, distance) in found.page {
        let Some(index::StoredService { hub_id, json }) = stored.remove(&key) else {
            continue;
        };
        if !hubs.contains_key(&hub_id) {
            let held = crate::store::aggregator::active_hub(conn, &hub_id)?;
            hubs.insert(hub_id.clone(), held);
        }
        let Some(Some((hub_name, expires_at))) = hubs.get(&hub_id).cloned() else {
            continue;
        };
        let service = RawValue::from_string(json)
            .map_err(|e| Error::Setup(format!("a stored service is unreadable: {e}")))?;
        items.push(Hit {
            hub_id,
            hub_name,
            stale: expires_at <= now.as_second(),
            distance_km: distance.map(|d| (d * 1000.0).round() / 1000.0),
            service,
        });
    }
    Ok(Page {
        items,
        total: found.total,
        page: params.page,
        per_page: params.per_page,
        order: params.order,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Result<SearchParams> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SearchParams::from_query(&map)
    }

    #[test]
    fn distances_are_right() {
        // Blackpool Tower to Lancaster Castle is about 31.6 km.
        let d = distance_km(53.8159, -3.0553, 54.0499, -2.8055);
        assert!((d - 31.0).abs() < 1.5, "{d}");
    }

    #[test]
    fn parameters_are_checked() {
        let p = params(&[("q", "food"), ("near", "53.8,-3.0")]).unwrap();
        assert_eq!(p.order, Order::Relevance);
        assert_eq!(p.near, Some((53.8, -3.0, DEFAULT_WITHIN_KM)));
        assert!(params(&[("near", "91,0")]).is_err());
        assert!(params(&[("within_km", "5")]).is_err());
        assert!(params(&[("near", "53,-3"), ("within_km", "-1")]).is_err());
        assert!(params(&[("per_page", "1000")]).is_err());
        assert!(params(&[("page", "999"), ("per_page", "100")]).is_err());
        assert!(params(&[("open_at", "tomorrow")]).is_err());
        assert!(params(&[("hub", "somebody")]).is_err());
        assert!(params(&[("order", "distance")]).is_err());
        assert!(params(&[("colour", "red")]).is_err());
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        assert!(params(&[("q", long.as_str())]).is_err());
    }
}
