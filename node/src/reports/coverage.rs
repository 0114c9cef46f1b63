//! Coverage: where and when each category is offered, and the places
//! (grid cells or the operator's areas) where it is missing.

use super::*;

/// Where and when one category is offered, and where it is missing.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// The category.
    pub term: String,
    /// How many services offer it.
    pub services: usize,
    /// Which hubs publish them.
    pub hubs: Vec<String>,
    /// Opening minutes per weekday, Monday first, summed over services.
    pub minutes_by_weekday: [u32; 7],
    /// Grid cells (or the operator's areas) with none within `within_km`.
    pub gaps: Vec<Gap>,
}

/// An area with no service of a category within the distance asked.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    /// The cell's centre, or a point inside the named area.
    pub latitude: f64,
    /// The cell's centre, or a point inside the named area.
    pub longitude: f64,
    /// Distance to the nearest service of the category, km (None: none at all).
    pub nearest_km: Option<f64>,
    /// Services of any category in this cell or area (where people are
    /// served at all).
    pub services_here: usize,
    /// The area's name, when the operator gave areas (absent for a grid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// Which of [`CoverageReport::regions`] this is.
    #[serde(skip)]
    pub region: usize,
}

/// How the aggregator's region is divided to find gaps.
#[derive(Debug, Clone, Copy)]
pub enum Division<'a> {
    /// Square cells of `cell_km` over the region's services; only cells
    /// holding some service count (where the region has people), and a
    /// cell's distance to a service is from its centre.
    Grid {
        /// The cells' side, km.
        cell_km: f64,
    },
    /// The operator's areas (`aggregator.coverage_areas`), each counted
    /// whether or not it holds services; distances follow the rule in
    /// [`areas`].
    Areas(&'a Areas),
}

/// The shape of one part of the division, for drawing it on a map.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A grid cell: south, west, north, east.
    Cell([f64; 4]),
    /// The `n`th of the operator's areas.
    Area(usize),
}

/// One part of the division: a grid cell holding services, or an area.
#[derive(Debug, Clone)]
pub struct Region {
    /// Its label point (latitude, longitude).
    pub point: (f64, f64),
    /// Its name, for areas.
    pub name: Option<String>,
    /// Services (grid: service locations) in it, of any category.
    pub services_here: usize,
    /// Its outline.
    pub shape: Shape,
}

/// The coverage report with what a map of it needs.
#[derive(Debug, Clone)]
pub struct CoverageReport {
    /// Per category, alphabetical.
    pub items: Vec<Coverage>,
    /// The parts the region was divided into (gaps point into these).
    pub regions: Vec<Region>,
    /// Per category (same order as `items`): where it is offered, as
    /// (latitude, longitude, service name, hub name).
    pub offered: Vec<Vec<(f64, f64, String, String)>>,
}

/// Coverage by category; a part of the division with no service of a
/// category within `within_km` is a gap. See [`coverage_report`] for the
/// shapes too.
pub fn coverage(
    conn: &Connection,
    index: &SearchIndex,
    within_km: f64,
    division: Division,
) -> Result<Vec<Coverage>> {
    Ok(coverage_report(conn, index, within_km, division)?.items)
}

/// Divides the region (once, for every category): the parts, and for
/// areas the services inside each (by index into `rows`, in order; empty
/// lists for a grid, whose distances are from cell centres).
fn regions(rows: &[Row], division: Division) -> (Vec<Region>, Vec<Vec<usize>>) {
    match division {
        Division::Grid { cell_km } => {
            let dlat = cell_km / 111.0;
            let mut cells: BTreeMap<(i64, i64), Region> = BTreeMap::new();
            for (lat, lon) in rows.iter().flat_map(|r| points_of(&r.service)) {
                // Cells are as wide as tall at their band's middle latitude,
                // whichever point of the band comes first.
                let band = (lat / dlat).floor() as i64;
                let middle = (band as f64 + 0.5) * dlat;
                let dlon = cell_km / (111.0 * middle.to_radians().cos().max(0.1));
                let key = (band, (lon / dlon).floor() as i64);
                let cell = cells.entry(key).or_insert_with(|| Region {
                    point: ((key.0 as f64 + 0.5) * dlat, (key.1 as f64 + 0.5) * dlon),
                    name: None,
                    services_here: 0,
                    shape: Shape::Cell([
                        key.0 as f64 * dlat,
                        key.1 as f64 * dlon,
                        (key.0 + 1) as f64 * dlat,
                        (key.1 + 1) as f64 * dlon,
                    ]),
                });
                cell.services_here += 1;
            }
            let regions: Vec<Region> = cells.into_values().collect();
            let reps = regions.iter().map(|_| Vec::new()).collect();
            (regions, reps)
        }
        Division::Areas(areas) => {
            // Which services lie inside each area (distance 0), in order.
            let inside: Vec<Vec<usize>> = areas
                .areas
                .iter()
                .map(|a| {
                    rows.iter()
                        .enumerate()
                        .filter(|(_, r)| points_of(&r.service).any(|(la, lo)| a.contains(la, lo)))
                        .map(|(i, _)| i)
                        .collect()
                })
                .collect();
            let regions = areas
                .areas
                .iter()
                .zip(&inside)
                .enumerate()
                .map(|(n, (a, here))| Region {
                    point: a.inside,
                    name: Some(a.name.clone()),
                    services_here: here.len(),
                    shape: Shape::Area(n),
                })
                .collect();
            (regions, inside)
        }
    }
}

/// The coverage report and the shapes its gaps refer to.
pub fn coverage_report(
    conn: &Connection,
    index: &SearchIndex,
    within_km: f64,
    division: Division,
) -> Result<CoverageReport> {
    Ok(Snapshot::load(conn, index)?.coverage(within_km, division))
}

pub(super) fn coverage_of(rows: &[Row], within_km: f64, division: Division) -> CoverageReport {
    let mut terms: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        for t in &r.service.taxonomy_terms {
            let list = terms.entry(t.name.as_str()).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    let (regions, inside) = regions(rows, division);
    let mut items = Vec::new();
    let mut offered = Vec::new();
    for (term, services) in terms {
        let mut minutes = [0u32; 7];
        for &i in &services {
            for span in signpost_client::search::hours::weekly_spans(&rows[i].service.schedules) {
                minutes[span.weekday as usize] +=
                    u32::from(span.closes_min.saturating_sub(span.opens_min));
            }
        }
        let term_points: Vec<(f64, f64)> = services
            .iter()
            .flat_map(|&i| points_of(&rows[i].service))
            .collect();
        let index = PointIndex::new(&term_points, within_km);
        let mut gaps = Vec::new();
        for (n, region) in regions.iter().enumerate() {
            let nearest = match division {
                Division::Grid { .. } => index
                    .nearest(region.point.0, region.point.1, f64::INFINITY)
                    .unwrap_or(f64::INFINITY),
                Division::Areas(areas) => {
                    let has_one_inside =
                        inside[n].iter().any(|i| services.binary_search(i).is_ok());
                    if has_one_inside {
                        0.0
                    } else {
                        areas.areas[n].nearest(&index).unwrap_or(f64::INFINITY)
                    }
                }
            };
            if nearest > within_km {
                gaps.push(Gap {
                    latitude: (region.point.0 * 1e4).round() / 1e4,
                    longitude: (region.point.1 * 1e4).round() / 1e4,
                    nearest_km: nearest.is_finite().then(|| (nearest * 10.0).round() / 10.0),
                    services_here: region.services_here,
                    area: region.name.clone(),
                    region: n,
                });
            }
        }
        let mut hubs: Vec<String> = services.iter().map(|&i| rows[i].hub_name.clone()).collect();
        hubs.sort();
        hubs.dedup();
        offered.push(
            services
                .iter()
                .flat_map(|&i| {
                    let r = &rows[i];
                    points_of(&r.service)
                        .map(|(la, lo)| (la, lo, r.service.name.clone(), r.hub_name.clone()))
                })
                .collect(),
        );
        items.push(Coverage {
            term: term.to_owned(),
            services: services.len(),
            hubs,
            minutes_by_weekday: minutes,
            gaps,
        });
    }
    CoverageReport {
        items,
        regions,
        offered,
    }
}

/// A coverage report as GeoJSON features for a map: each gap's outline
/// (a grid cell, or the operator's area) with `layer: "gap"`, and each
/// place a category is offered with `layer: "offered"`. Coordinates are
/// GeoJSON's longitude, latitude.
pub fn map_features(report: &CoverageReport, areas: Option<&Areas>) -> Vec<serde_json::Value> {
    let ring = |r: &[areas::LonLat]| -> Vec<[f64; 2]> { r.iter().map(|p| [p.0, p.1]).collect() };
    let mut out = Vec::new();
    for (item, offered) in report.items.iter().zip(&report.offered) {
        for gap in &item.gaps {
            let Some(region) = report.regions.get(gap.region) else {
                continue;
            };
            let geometry = match &region.shape {
                Shape::Cell([s, w, n, e]) => serde_json::json!({"type": "Polygon",
                    "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}),
                Shape::Area(k) => {
                    let Some(area) = areas.and_then(|a| a.areas.get(*k)) else {
                        continue;
                    };
                    let polygons: Vec<Vec<Vec<[f64; 2]>>> = area
                        .polygons
                        .iter()
                        .map(|p| {
                            std::iter::once(ring(&p.outer))
                                .chain(p.holes.iter().map(|h| ring(h)))
                                .collect()
                        })
                        .collect();
                    serde_json::json!({"type": "MultiPolygon", "coordinates": polygons})
                }
            };
            out.push(serde_json::json!({"type": "Feature", "geometry": geometry,
                "properties": {"layer": "gap", "term": item.term, "name": gap.area,
                    "nearest_km": gap.nearest_km, "services_here": gap.services_here}}));
        }
        for (lat, lon, service, hub) in offered {
            out.push(serde_json::json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"layer": "offered", "term": item.term, "service": service, "hub": hub}}));
        }
    }
    out
}
