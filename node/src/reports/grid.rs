//! Square grid cells over a region, and points bucketed in them: how the
//! reports ask "is any service within d km" and "which services are near
//! each other" without comparing every pair.

use signpost_client::search::distance_km;

/// Square cells of about `cell_km` over a region, in a plane where
/// distances are never longer than on the globe (degrees of longitude are
/// measured a degree poleward of the region's most poleward point), so two
/// points within d km on the globe are never more than one cell apart per
/// d km of cell.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    cell_km: f64,
    /// km per degree of longitude used by the plane.
    km_per_lon: f64,
}

/// A little under a degree of latitude on the sphere `distance_km` uses.
const KM_PER_LAT: f64 = 111.19;

impl Grid {
    /// A grid for (latitude, longitude) points like `points`.
    pub fn new(points: &[(f64, f64)], cell_km: f64) -> Grid {
        let poleward = points.iter().map(|p| p.0.abs()).fold(0.0, f64::max) + 1.0;
        Grid {
            cell_km: cell_km.max(0.05),
            km_per_lon: KM_PER_LAT * poleward.min(89.0).to_radians().cos(),
        }
    }

    /// The cell of a point.
    pub fn key(&self, lat: f64, lon: f64) -> (i64, i64) {
        (
            (lat * KM_PER_LAT / self.cell_km).floor() as i64,
            (lon * self.km_per_lon / self.cell_km).floor() as i64,
        )
    }

    /// True when the points may be within `km` of each other: their
    /// distance in the plane (never longer than on the globe) is.
    pub fn within(&self, p: (f64, f64), q: (f64, f64), km: f64) -> bool {
        let dy = (p.0 - q.0) * KM_PER_LAT;
        let dx = (p.1 - q.1) * self.km_per_lon;
        dx * dx + dy * dy <= km * km
    }
}

/// Points of one kind (the services of a category) bucketed into a grid
/// of square cells, so "is any within d km" and "how far is the nearest"
/// look at a few cells instead of every point.
pub struct PointIndex {
    grid: Grid,
    cells: std::collections::HashMap<(i64, i64), Vec<(f64, f64)>>,
    /// Cell coordinates' extent, to stop searching past the last point.
    extent: (i64, i64, i64, i64),
    /// Every point, for a plain scan when rings would cost more.
    all: Vec<(f64, f64)>,
}

impl PointIndex {
    /// Indexes (latitude, longitude) points with cells of about `cell_km`.
    pub fn new(points: &[(f64, f64)], cell_km: f64) -> PointIndex {
        let mut index = PointIndex {
            grid: Grid::new(points, cell_km),
            cells: Default::default(),
            extent: (i64::MAX, i64::MAX, i64::MIN, i64::MIN),
            all: points.to_vec(),
        };
        for &(lat, lon) in points {
            let key = index.grid.key(lat, lon);
            index.extent = (
                index.extent.0.min(key.0),
                index.extent.1.min(key.1),
                index.extent.2.max(key.0),
                index.extent.3.max(key.1),
            );
            index.cells.entry(key).or_default().push((lat, lon));
        }
        index
    }

    /// The great-circle distance to the nearest point, if it is at most
    /// `limit` km (pass `f64::INFINITY` for no limit); None past it or
    /// when there are no points.
    pub fn nearest(&self, lat: f64, lon: f64, limit: f64) -> Option<f64> {
        if self.cells.is_empty() {
            return None;
        }
        let (r, c) = self.grid.key(lat, lon);
        // Rings of cells around the query's cell: everything outside ring
        // k is at least k cells away in the projection; the 0.9 allows for
        // the projection's error over a region.
        let reach = [
            (r - self.extent.0).abs(),
            (self.extent.2 - r).abs(),
            (c - self.extent.1).abs(),
            (self.extent.3 - c).abs(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        let mut best = f64::INFINITY;
        for k in 0..=reach {
            let floor = (k as f64 - 1.0).max(0.0) * self.grid.cell_km * 0.9;
            if best <= floor || floor > limit {
                break;
            }
            if (2 * k + 1) * (2 * k + 1) > 2 * self.all.len() as i64 + 9 {
                // Far from the points: a scan is cheaper than more rings.
                best = self
                    .all
                    .iter()
                    .map(|&(plat, plon)| distance_km(lat, lon, plat, plon))
                    .fold(best, f64::min);
                break;
            }
            let mut visit = |key: (i64, i64)| {
                if let Some(points) = self.cells.get(&key) {
                    for &(plat, plon) in points {
                        best = best.min(distance_km(lat, lon, plat, plon));
                    }
                }
            };
            if k == 0 {
                visit((r, c));
                continue;
            }
            for d in -k..=k {
                visit((r - k, c + d));
                visit((r + k, c + d));
            }
            for d in (-k + 1)..k {
                visit((r + d, c - k));
                visit((r + d, c + k));
            }
        }
        (best <= limit).then_some(best)
    }

    /// Every point within `radius` km of (lat, lon), or more: whatever lies
    /// in the cells the circle touches (all points, when that is cheaper).
    pub fn around(&self, lat: f64, lon: f64, radius: f64) -> Vec<(f64, f64)> {
        let (r0, c0) = self.grid.key(lat, lon);
        let reach = (radius / self.grid.cell_km).ceil() as i64 + 1;
        if (2 * reach + 1) * (2 * reach + 1) > self.all.len() as i64 + 9 {
            return self.all.clone();
        }
        let mut out = Vec::new();
        for r in (r0 - reach)..=(r0 + reach) {
            for c in (c0 - reach)..=(c0 + reach) {
                if let Some(points) = self.cells.get(&(r, c)) {
                    out.extend_from_slice(points);
                }
            }
        }
        out
    }
}
