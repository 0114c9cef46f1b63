//! Files the pages load, shipped inside the binary: the site's stylesheet
//! and script, and Leaflet (BSD-2-Clause, its licence served beside it) for
//! the map, so a directory works with no outside host but the map tiles.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Every asset: address under `/assets/`, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "site.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/site.css"),
    ),
    (
        "embed.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/embed.css"),
    ),
    (
        "print.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/print.css"),
    ),
    (
        "print.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/print.js"),
    ),
    (
        "admin.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/admin.js"),
    ),
    (
        "directory.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/directory.js"),
    ),
    (
        "map.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/map.js"),
    ),
    (
        "reports.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/reports.js"),
    ),
    (
        "leaflet/leaflet.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/leaflet/leaflet.js"),
    ),
    (
        "leaflet/leaflet.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/leaflet/leaflet.css"),
    ),
    (
        "leaflet/LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/leaflet/LICENSE"),
    ),
    (
        "leaflet/images/layers.png",
        "image/png",
        include_bytes!("../../assets/leaflet/images/layers.png"),
    ),
    (
        "leaflet/images/layers-2x.png",
        "image/png",
        include_bytes!("../../assets/leaflet/images/layers-2x.png"),
    ),
    (
        "leaflet/images/marker-icon.png",
        "image/png",
        include_bytes!("../../assets/leaflet/images/marker-icon.png"),
    ),
    (
        "leaflet/images/marker-icon-2x.png",
        "image/png",
        include_bytes!("../../assets/leaflet/images/marker-icon-2x.png"),
    ),
    (
        "leaflet/images/marker-shadow.png",
        "image/png",
        include_bytes!("../../assets/leaflet/images/marker-shadow.png"),
    ),
];

/// A short digest of all assets, used as `?v=` in their addresses.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash = Sha256::new();
        for (name, _, bytes) in ASSETS {
            hash.update(name.as_bytes());
            hash.update(bytes);
        }
        hash.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// `GET /assets/{*path}`: an embedded file, cacheable for a year (its
/// address changes with its content through `?v=`).
pub async fn serve(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == path) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaflet_and_its_licence_are_shipped() {
        assert!(ASSETS
            .iter()
            .any(|(n, _, b)| *n == "leaflet/leaflet.js" && b.len() > 100_000));
        let licence = ASSETS
            .iter()
            .find(|(n, _, _)| *n == "leaflet/LICENSE")
            .unwrap();
        assert!(String::from_utf8_lossy(licence.2).contains("BSD 2-Clause"));
        assert_eq!(version().len(), 12);
    }
}
