//! `GET /.well-known/signpost/listing`: the hub's signed listing, served
//! from bytes prepared at publication (compressed ones too, see
//! [`crate::web::compress`]), with HTTP caching validators.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::web::state::AppState;
use crate::web::ApiError;

/// The listing's media type.
const CONTENT_TYPE: &str = "application/json";

/// How long caches may reuse the listing without asking again.
pub const CACHE_CONTROL: &str = "public, max-age=300";

/// Serves the current envelope, or 304 when the client's copy is current.
/// Fetches by aggregators are noted for the admin page.
pub async fn serve_listing(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let headers = request.headers();
    let Some(published) = state.hub.as_ref().and_then(|h| h.current()) else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_published",
            "this hub has not published a listing yet",
        )
        .into_response();
    };
    // Whether it gets the listing or a 304, the fetcher now holds this one.
    if let (Some(hub), Some(ConnectInfo(peer))) = (
        state.hub.as_ref(),
        request.extensions().get::<ConnectInfo<SocketAddr>>(),
    ) {
        if let Some(agent) = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            let notify = headers
                .get(signpost_client::fetch::NOTIFY_HEADER)
                .and_then(|v| v.to_str().ok());
            hub.fetches.record(
                peer.ip(),
                agent,
                notify,
                published.seq,
                jiff::Timestamp::now(),
            );
        }
    }
    let not_modified = match headers.get(header::IF_NONE_MATCH) {
        Some(value) => etag_matches(value, &published.etag),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|since| since.duration_since(std::time::UNIX_EPOCH).ok())
            .is_some_and(|since| published.issued_at.as_second() <= since.as_secs() as i64),
    };
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let coding = crate::web::compress::negotiate(headers);
        let compressed = match (coding, state.hub.as_ref()) {
            (Some(c), Some(hub)) => hub
                .precompressed
                .get(&published.etag, &published.envelope, c, CONTENT_TYPE)
                .await
                .map(|bytes| (c, bytes)),
            _ => None,
        };
        let mut r = match &compressed {
            Some((_, bytes)) => bytes.clone().into_response(),
            None => published.envelope.clone().into_response(),
        };
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some((c, _)) = compressed {
            h.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(c.token()),
            );
        }
        r
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let h = response.headers_mut();
    for (name, value) in [
        (header::ETAG, published.etag.as_str()),
        (header::LAST_MODIFIED, published.last_modified.as_str()),
        (header::CACHE_CONTROL, CACHE_CONTROL),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `If-None-Match` uses the weak comparison (RFC 9110 13.1.2): `*`, or any
/// listed tag equal to ours once a `W/` prefix is ignored.
pub fn etag_matches(header: &HeaderValue, etag: &str) -> bool {
    let Ok(text) = header.to_str() else {
        return false;
    };
    text.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        let tag = "\"abc\"";
        for (h, expected) in [
            ("\"abc\"", true),
            ("W/\"abc\"", true),
            ("\"x\", \"abc\"", true),
            ("*", true),
            ("\"abcd\"", false),
            ("abc", false),
        ] {
            assert_eq!(
                etag_matches(&HeaderValue::from_static(h), tag),
                expected,
                "{h}"
            );
        }
    }
}
