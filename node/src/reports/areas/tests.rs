//! The areas file's reader and the distance rule, on small shapes.

use super::*;

fn square(w: f64, s: f64, e: f64, n: f64) -> Vec<Vec<f64>> {
    vec![vec![w, s], vec![e, s], vec![e, n], vec![w, n], vec![w, s]]
}

fn collection(features: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"type": "FeatureCollection", "features": features}))
        .unwrap()
}

#[test]
fn polygons_with_holes_and_multipolygons_parse_and_contain() {
    let text = collection(serde_json::json!([
        {"type": "Feature", "properties": {"name": "Doughnut"},
         "geometry": {"type": "Polygon", "coordinates": [square(-3.0, 53.0, -2.0, 54.0), square(-2.6, 53.4, -2.4, 53.6)]}},
        {"type": "Feature", "properties": {"name": "Islands"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[square(0.0, 50.0, 0.1, 50.1)], [square(1.0, 50.0, 1.1, 50.1)]]}}
    ]));
    let areas = Areas::parse(&text, "test.geojson", "name").unwrap();
    let [doughnut, islands] = &areas.areas[..] else {
        panic!("two areas")
    };
    assert!(doughnut.contains(53.2, -2.8));
    assert!(!doughnut.contains(53.5, -2.5), "in the hole");
    assert!(!doughnut.contains(54.5, -2.5), "outside");
    // The centroid of a doughnut is in its hole: the label point is not.
    assert!(doughnut.contains(doughnut.inside.0, doughnut.inside.1));
    assert!(islands.contains(50.05, 1.05) && islands.contains(50.05, 0.05));
    assert!(!islands.contains(50.05, 0.5));
    // Representative points are at most EDGE_STEP_KM apart along edges.
    let reps = doughnut.representative_points();
    assert!(reps.len() > 4 * 60, "{}", reps.len());
}

#[test]
fn bad_files_are_refused_with_the_feature_named() {
    let err = |v: serde_json::Value| {
        Areas::parse(&collection(v), "wards.geojson", "name")
            .unwrap_err()
            .to_string()
    };
    let e = err(serde_json::json!([{"type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [square(0.0, 0.0, 1.0, 1.0)]}}]));
    assert!(e.contains("feature 1") && e.contains("\"name\""), "{e}");
    let e = err(
        serde_json::json!([{"type": "Feature", "properties": {"name": "Pt"},
        "geometry": {"type": "Point", "coordinates": [0.0, 0.0]}}]),
    );
    assert!(e.contains("(Pt)") && e.contains("Point"), "{e}");
    let e = err(
        serde_json::json!([{"type": "Feature", "properties": {"name": "Flipped"},
        "geometry": {"type": "Polygon", "coordinates": [square(53.0, -3.0, 54.0, 200.0)]}}]),
    );
    assert!(e.contains("longitude first"), "{e}");
    let e = err(
        serde_json::json!([{"type": "Feature", "properties": {"name": "Line"},
        "geometry": {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 1.0]]]}}]),
    );
    assert!(e.contains("three distinct corners"), "{e}");
    let e = Areas::parse(b"{\"type\": \"Feature\"}", "x.json", "name")
        .unwrap_err()
        .to_string();
    assert!(e.contains("FeatureCollection"), "{e}");
    let e = Areas::parse(b"not json", "x.json", "name")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not GeoJSON"), "{e}");
    let many: Vec<serde_json::Value> = (0..MAX_AREAS + 1)
        .map(|i| {
            serde_json::json!({"type": "Feature", "properties": {"name": i},
            "geometry": {"type": "Polygon", "coordinates": [square(0.0, 0.0, 1.0, 1.0)]}})
        })
        .collect();
    assert!(err(serde_json::Value::Array(many)).contains("at most"));
    let ring: Vec<Vec<f64>> = (0..MAX_VERTICES + 10)
        .map(|i| {
            let t = i as f64 / (MAX_VERTICES + 10) as f64 * std::f64::consts::TAU;
            vec![t.cos(), t.sin()]
        })
        .collect();
    let e = err(
        serde_json::json!([{"type": "Feature", "properties": {"name": "Big"},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}]),
    );
    assert!(e.contains("vertices"), "{e}");
}

#[test]
fn a_file_over_the_cap_is_refused_while_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.geojson");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(MAX_AREAS_BYTES + 10).unwrap();
    let e = Areas::load(&path, "name").unwrap_err().to_string();
    assert!(e.contains("larger than"), "{e}");
    let e = Areas::load(&dir.path().join("missing.geojson"), "name")
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
}

#[test]
fn the_index_finds_the_nearest_point_like_a_scan() {
    let points: Vec<(f64, f64)> = (0..400)
        .map(|i| {
            let x = (i * 7919 % 1000) as f64 / 1000.0;
            let y = (i * 104_729 % 997) as f64 / 997.0;
            (53.5 + y * 0.8, -3.2 + x * 1.2)
        })
        .collect();
    for cell in [0.5, 2.0, 10.0] {
        let index = PointIndex::new(&points, cell);
        for q in [(53.9, -2.6), (55.0, -1.0), (53.51, -3.19), (50.0, 0.0)] {
            let scan = points
                .iter()
                .map(|p| distance_km(q.0, q.1, p.0, p.1))
                .fold(f64::INFINITY, f64::min);
            let found = index.nearest(q.0, q.1, f64::INFINITY).unwrap();
            assert!(
                (found - scan).abs() < 1e-9,
                "{cell} {q:?}: {found} vs {scan}"
            );
            assert_eq!(index.nearest(q.0, q.1, scan - 0.01), None);
        }
    }
    assert_eq!(PointIndex::new(&[], 1.0).nearest(0.0, 0.0, 10.0), None);
    // An area's nearest point, against a scan of every pair.
    let text = collection(
        serde_json::json!([{"type": "Feature", "properties": {"name": "Box"},
        "geometry": {"type": "Polygon", "coordinates": [square(-2.0, 54.5, -1.8, 54.6)]}}]),
    );
    let areas = Areas::parse(&text, "t", "name").unwrap();
    let area = &areas.areas[0];
    for cell in [0.5, 2.0, 10.0] {
        let index = PointIndex::new(&points, cell);
        let scan = points
            .iter()
            .flat_map(|q| {
                area.representative_points()
                    .iter()
                    .map(move |p| distance_km(p.0, p.1, q.0, q.1))
            })
            .fold(f64::INFINITY, f64::min);
        let found = area.nearest(&index).unwrap();
        assert!((found - scan).abs() < 1e-9, "{cell}: {found} vs {scan}");
    }
}
