//! Areas an operator names for the coverage report, read from a GeoJSON
//! file of Polygon and MultiPolygon features (wards, parishes, estates).
//! Coordinators think in such areas, not in grid cells: "no employment
//! support in Skerton" is something a council team can act on.
//!
//! The file is parsed with serde_json into the small types of this module;
//! its size, the number of areas and the number of vertices are capped and
//! every refusal names the feature and what is wrong with it.
//!
//! # The distance rule
//!
//! The distance from an area to a service is **0 when the service is
//! inside the area** (ray casting; a service inside a hole is outside),
//! and otherwise the shortest great-circle distance from the service to
//! one of the area's *representative points*: an interior point, every
//! vertex of every ring (holes too, as their edges are edges of the area),
//! and points added along each edge so that consecutive points on a ring
//! are at most [`EDGE_STEP_KM`] apart. That distance is never shorter than
//! the true distance to the area's edge and at most `EDGE_STEP_KM / 2`
//! longer, so an area is reported as a gap only if it truly has no service
//! within the distance asked, give or take that half step.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::error::{NodeError, Result};
use signpost_client::search::distance_km;

use super::grid::PointIndex;

/// Largest areas file read, in bytes (a county's wards in full detail fit).
pub const MAX_AREAS_BYTES: u64 = 16 * 1024 * 1024;
/// Most areas (features) in one file.
pub const MAX_AREAS: usize = 5_000;
/// Most vertices over all areas together.
pub const MAX_VERTICES: usize = 500_000;
/// Longest area name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Greatest spacing of representative points along an edge, in km.
pub const EDGE_STEP_KM: f64 = 0.5;
/// Most representative points added along one edge.
const MAX_STEPS_PER_EDGE: usize = 2_000;

/// A position as GeoJSON writes it: longitude, then latitude.
pub type LonLat = (f64, f64);

/// One polygon: an outer ring and any holes, each closed (first position
/// repeated last).
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    /// The outer boundary.
    pub outer: Vec<LonLat>,
    /// Holes cut out of it.
    pub holes: Vec<Vec<LonLat>>,
}

/// A named area: one or more polygons (a MultiPolygon is one area).
#[derive(Debug, Clone)]
pub struct Area {
    /// The name given in the file.
    pub name: String,
    /// Its polygons.
    pub polygons: Vec<Polygon>,
    /// A point inside the area (latitude, longitude), used as its label
    /// and as one of its representative points.
    pub inside: (f64, f64),
    /// (south, west, north, east), for quick rejection.
    bbox: (f64, f64, f64, f64),
    /// Representative points (latitude, longitude); see the module docs.
    reps: Vec<(f64, f64)>,
}

/// The operator's areas, in the file's order.
#[derive(Debug, Clone)]
pub struct Areas {
    /// Where they were read from, as the operator wrote it (shown in the
    /// report so a reader knows which areas are meant).
    pub source: String,
    /// The areas.
    pub areas: Vec<Area>,
}

#[derive(Deserialize)]
struct FileIn {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    features: Vec<FeatureIn>,
}

#[derive(Deserialize)]
struct FeatureIn {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    geometry: Option<GeometryIn>,
}

#[derive(Deserialize)]
struct GeometryIn {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    coordinates: Option<Box<serde_json::value::RawValue>>,
}

type RingIn = Vec<Vec<f64>>;

fn bad(what: impl std::fmt::Display) -> NodeError {
    NodeError::Config(format!("aggregator.coverage_areas: {what}"))
}

impl Areas {
    /// Reads and checks the areas file at `path`, taking each area's name
    /// from the feature property `name_property`.
    pub fn load(path: &Path, name_property: &str) -> Result<Areas> {
        let file = std::fs::File::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                bad(format!(
                    "{} does not exist; give the path of a GeoJSON file of your areas \
                     (relative to the data directory), or remove the setting to use a grid",
                    path.display()
                ))
            } else {
                NodeError::io("reading", path, e)
            }
        })?;
        // The cap is enforced while reading, not trusted from metadata.
        let mut bytes = Vec::new();
        file.take(MAX_AREAS_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| NodeError::io("reading", path, e))?;
        if bytes.len() as u64 > MAX_AREAS_BYTES {
            return Err(bad(format!(
                "{} is larger than {} MiB; simplify the shapes (for example with \
                 mapshaper's -simplify) or split the region",
                path.display(),
                MAX_AREAS_BYTES / (1024 * 1024)
            )));
        }
        Areas::parse(&bytes, &path.display().to_string(), name_property)
    }

    /// Parses GeoJSON text; `source` names it in errors and in the report.
    pub fn parse(bytes: &[u8], source: &str, name_property: &str) -> Result<Areas> {
        let file: FileIn = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("{source} is not GeoJSON ({e})")))?;
        if file.kind != "FeatureCollection" {
            return Err(bad(format!(
                "{source} is a GeoJSON {:?}; it must be a FeatureCollection of \
                 Polygon or MultiPolygon features",
                file.kind
            )));
        }
        if file.features.is_empty() {
            return Err(bad(format!("{source} has no features")));
        }
        if file.features.len() > MAX_AREAS {
            return Err(bad(format!(
                "{source} has {} features; at most {MAX_AREAS} areas are allowed",
                file.features.len()
            )));
        }
        let mut vertices = 0usize;
        let mut areas = Vec::with_capacity(file.features.len());
        for (i, f) in file.features.into_iter().enumerate() {
            let at = format!("{source}, feature {}", i + 1);
            if f.kind != "Feature" {
                return Err(bad(format!("{at}: \"type\" must be \"Feature\"")));
            }
            let name = f
                .properties
                .as_ref()
                .and_then(|p| p.get(name_property))
                .and_then(|v| match v {
                    serde_json::Value::String(s) => Some(s.trim().to_owned()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    bad(format!(
                        "{at} has no {name_property:?} property to name it \
                         (set aggregator.coverage_area_name to the property that holds the names)"
                    ))
                })?;
            if name.chars().count() > MAX_NAME_CHARS {
                return Err(bad(format!(
                    "{at}: the name is longer than {MAX_NAME_CHARS} characters"
                )));
            }
            let at = format!("{at} ({name})");
            let geometry = f
                .geometry
                .ok_or_else(|| bad(format!("{at} has no geometry")))?;
            let raw = geometry
                .coordinates
                .ok_or_else(|| bad(format!("{at} has no coordinates")))?;
            let rings_of = |v: Vec<RingIn>| -> Result<Polygon> {
                let mut rings = Vec::with_capacity(v.len());
                for (r, ring) in v.into_iter().enumerate() {
                    rings.push(ring_of(ring, &format!("{at}, ring {}", r + 1))?);
                }
                let mut rings = rings.into_iter();
                let outer = rings
                    .next()
                    .ok_or_else(|| bad(format!("{at}: a polygon has no rings")))?;
                Ok(Polygon {
                    outer,
                    holes: rings.collect(),
                })
            };
            let polygons = match geometry.kind.as_str() {
                "Polygon" => {
                    let v: Vec<RingIn> = serde_json::from_str(raw.get())
                        .map_err(|e| bad(format!("{at}: Polygon coordinates: {e}")))?;
                    vec![rings_of(v)?]
                }
                "MultiPolygon" => {
                    let v: Vec<Vec<RingIn>> = serde_json::from_str(raw.get())
                        .map_err(|e| bad(format!("{at}: MultiPolygon coordinates: {e}")))?;
                    if v.is_empty() {
                        return Err(bad(format!("{at}: the MultiPolygon is empty")));
                    }
                    v.into_iter().map(rings_of).collect::<Result<_>>()?
                }
                other => {
                    return Err(bad(format!(
                        "{at} is a {other:?}; only Polygon and MultiPolygon areas are allowed"
                    )))
                }
            };
            vertices += polygons
                .iter()
                .map(|p| p.outer.len() + p.holes.iter().map(Vec::len).sum::<usize>())
                .sum::<usize>();
            if vertices > MAX_VERTICES {
                return Err(bad(format!(
                    "{source} has more than {MAX_VERTICES} vertices; simplify the shapes \
                     (for example with mapshaper's -simplify)"
                )));
            }
            areas.push(Area::new(name, polygons));
        }
        Ok(Areas {
            source: source.to_owned(),
            areas,
        })
    }
}

/// Checks one ring's positions and closes it if the file did not.
fn ring_of(positions: RingIn, at: &str) -> Result<Vec<LonLat>> {
    let mut ring = Vec::with_capacity(positions.len() + 1);
    for (k, p) in positions.iter().enumerate() {
        let (lon, lat) = match p.as_slice() {
            [lon, lat] | [lon, lat, _] => (*lon, *lat),
            _ => {
                return Err(bad(format!(
                    "{at}, position {}: give [longitude, latitude]",
                    k + 1
                )))
            }
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(bad(format!(
                "{at}, position {}: [{lon}, {lat}] is not a longitude and latitude \
                 (the file must use WGS 84 degrees, longitude first)",
                k + 1
            )));
        }
        ring.push((lon, lat));
    }
    if ring.first() != ring.last() {
        if let Some(first) = ring.first().copied() {
            ring.push(first);
        }
    }
    if ring.len() < 4 {
        return Err(bad(format!(
            "{at}: a ring needs at least three distinct corners"
        )));
    }
    Ok(ring)
}

/// True when (lon, lat) is inside the closed ring (ray casting; a point
/// exactly on an edge may fall either way).
fn in_ring(ring: &[LonLat], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (w[0], w[1]);
        if (y1 > lat) != (y2 > lat) {
            let x = x1 + (lat - y1) / (y2 - y1) * (x2 - x1);
            if lon < x {
                inside = !inside;
            }
        }
    }
    inside
}

impl Polygon {
    /// True when (lat, lon) is inside the outer ring and in no hole.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        in_ring(&self.outer, lon, lat) && !self.holes.iter().any(|h| in_ring(h, lon, lat))
    }
}

/// Signed area and centroid of a ring in the plane of its coordinates.
fn ring_centroid(ring: &[LonLat]) -> (f64, f64, f64) {
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for w in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (w[0], w[1]);
        let cross = x1 * y2 - x2 * y1;
        a += cross;
        cx += (x1 + x2) * cross;
        cy += (y1 + y2) * cross;
    }
    a /= 2.0;
    if a.abs() < 1e-15 {
        let n = ring.len().max(1) as f64;
        let (sx, sy) = ring
            .iter()
            .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
        return (0.0, sx / n, sy / n);
    }
    (a, cx / (6.0 * a), cy / (6.0 * a))
}

impl Area {
    fn new(name: String, polygons: Vec<Polygon>) -> Area {
        let rings = || {
            polygons
                .iter()
                .flat_map(|p| std::iter::once(&p.outer).chain(p.holes.iter()))
        };
        let mut bbox = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for (lon, lat) in rings().flatten() {
            bbox = (
                bbox.0.min(*lat),
                bbox.1.min(*lon),
                bbox.2.max(*lat),
                bbox.3.max(*lon),
            );
        }
        let mut area = Area {
            name,
            inside: (0.0, 0.0),
            bbox,
            reps: Vec::new(),
            polygons: Vec::new(),
        };
        area.polygons = polygons;
        area.inside = area.interior_point();
        let mut reps = vec![area.inside];
        for ring in area
            .polygons
            .iter()
            .flat_map(|p| std::iter::once(&p.outer).chain(p.holes.iter()))
        {
            for w in ring.windows(2) {
                let ((x1, y1), (x2, y2)) = (w[0], w[1]);
                reps.push((y1, x1));
                let steps = (distance_km(y1, x1, y2, x2) / EDGE_STEP_KM).ceil() as usize;
                for k in 1..steps.min(MAX_STEPS_PER_EDGE) {
                    let t = k as f64 / steps as f64;
                    reps.push((y1 + (y2 - y1) * t, x1 + (x2 - x1) * t));
                }
            }
        }
        area.reps = reps;
        area
    }

    /// True when (lat, lon) is inside one of the area's polygons.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        lat >= self.bbox.0
            && lat <= self.bbox.2
            && lon >= self.bbox.1
            && lon <= self.bbox.3
            && self.polygons.iter().any(|p| p.contains(lat, lon))
    }

    /// The representative points (latitude, longitude) of the distance rule.
    pub fn representative_points(&self) -> &[(f64, f64)] {
        &self.reps
    }

    /// A point inside the area: the centroid of its largest polygon when
    /// that lies inside (the usual case), else the middle of the widest
    /// inside stretch of the horizontal line through that centroid (for
    /// crescents and rings, whose centroid lies outside).
    fn interior_point(&self) -> (f64, f64) {
        let largest = self
            .polygons
            .iter()
            .map(|p| {
                let (a, x, y) = ring_centroid(&p.outer);
                (a.abs(), x, y, p)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let Some((_, cx, cy, polygon)) = largest else {
            return (0.0, 0.0);
        };
        if polygon.contains(cy, cx) {
            return (cy, cx);
        }
        let mut crossings: Vec<f64> = std::iter::once(&polygon.outer)
            .chain(polygon.holes.iter())
            .flat_map(|ring| ring.windows(2))
            .filter(|w| (w[0].1 > cy) != (w[1].1 > cy))
            .map(|w| {
                let ((x1, y1), (x2, y2)) = (w[0], w[1]);
                x1 + (cy - y1) / (y2 - y1) * (x2 - x1)
            })
            .collect();
        crossings.sort_by(f64::total_cmp);
        let widest = crossings
            .chunks_exact(2)
            .max_by(|a, b| (a[1] - a[0]).total_cmp(&(b[1] - b[0])));
        match widest {
            Some(span) => (cy, (span[0] + span[1]) / 2.0),
            None => polygon
                .outer
                .first()
                .map(|(x, y)| (*y, *x))
                .unwrap_or((cy, cx)),
        }
    }
}

impl Area {
    /// The shortest distance from the area (by its representative points)
    /// to any point of `index`: the point nearest the area's inside point
    /// bounds it, and only points that could beat that bound, those within
    /// it plus the area's reach of the inside point, are compared.
    pub fn nearest(&self, index: &PointIndex) -> Option<f64> {
        let (lat, lon) = self.inside;
        let first = index.nearest(lat, lon, f64::INFINITY)?;
        let reach = self
            .reps
            .iter()
            .map(|p| distance_km(lat, lon, p.0, p.1))
            .fold(0.0, f64::max);
        let mut best = first;
        for q in index.around(lat, lon, first + reach) {
            // No representative point is nearer q than this (triangle
            // inequality through the inside point): most are skipped.
            if distance_km(lat, lon, q.0, q.1) - reach >= best {
                continue;
            }
            for p in &self.reps {
                best = best.min(distance_km(p.0, p.1, q.0, q.1));
            }
        }
        Some(best)
    }
}

#[cfg(test)]
mod tests;
