//! Cross-origin reads of the public API: a council web page or a
//! social-prescribing tool in the browser may read `/v1/`, `/hsds/`, the
//! feed, `/openapi.json` and the hub's signed listing from any origin, as
//! UK Open Referral compliance and OpenActive's RPDE guidance ask of open
//! data. Only `GET` (and `HEAD`) is allowed, with no credentials, so a
//! foreign page can read what anyone can already read and change nothing.
//! `/admin` never gets these headers: its cookie-authenticated pages and
//! bearer-token API must stay same-origin.

use axum::http::Method;
use tower_http::cors::{Any, CorsLayer};

/// How long a browser may cache a preflight answer (a day).
const PREFLIGHT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// The CORS layer for the public read API: `Access-Control-Allow-Origin: *`
/// on every answer (errors and 404s included, when the router's unknown
/// paths under the prefix are routed through it), `GET` and `HEAD` only.
/// No `Vary: Origin`: the answer is the same for every origin, so caches
/// may share it.
pub fn public_read() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers(Any)
        .max_age(PREFLIGHT_MAX_AGE)
        .vary(Vec::new())
}
