//! Opening times to subscribe to: `GET /services/{hub_id}/{service_id}/
//! calendar.ics` (one service) and `GET /hubs/{hub_id}/calendar.ics` (the
//! hub's whole timetable), as iCalendar written by the replica library
//! ([`signpost_client::calendar`], which apps can use on their own
//! replicas too). Both are made from the hub's stored listing, so the
//! times, the hub's time zone and the signing time (`DTSTAMP`) are the ones
//! the hub signed; the body changes only when the listing does, and its
//! `ETag` with it, so calendar apps that poll get 304s in between.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use signpost_client::calendar::{self, Calendar};
use signpost_spec::Listing;

use super::*;
use crate::web::api::base_url;
use crate::web::listing::{etag_matches, CACHE_CONTROL};
use view::service_href;

/// Longest part of a file name taken from a name.
const MAX_FILE_NAME_CHARS: usize = 60;

/// `GET /services/{hub_id}/{service_id}/calendar.ics`.
pub(super) async fn service_calendar(
    State(state): State<Arc<AppState>>,
    Path((hub_id, service_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let listing = match active_listing(&state, &hub_id).await {
        Ok(l) => l,
        Err(page) => return page,
    };
    let Some(service) = listing.services.iter().find(|s| s.id == service_id) else {
        return not_found();
    };
    let name = format!("{} ({})", service.name, listing.hub.name);
    let file = file_name(&service.name, "opening-times");
    serve(
        &state,
        &headers,
        &listing,
        &name,
        std::slice::from_ref(service),
        &file,
    )
}

/// `GET /hubs/{hub_id}/calendar.ics`.
pub(super) async fn hub_calendar(
    State(state): State<Arc<AppState>>,
    Path(hub_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let listing = match active_listing(&state, &hub_id).await {
        Ok(l) => l,
        Err(page) => return page,
    };
    let name = format!("{}: timetable", listing.hub.name);
    let file = file_name(&listing.hub.name, "timetable");
    serve(&state, &headers, &listing, &name, &listing.services, &file)
}

/// The active hub's listing, or the page to send instead: 404 for an id
/// this directory does not hold (or holds as withdrawn or delisted), 500
/// for a failure inside the node.
async fn active_listing(state: &AppState, hub_id: &str) -> Result<Listing, Response> {
    let Some(agg) = state.aggregator.clone() else {
        return Err(not_found());
    };
    if signpost_spec::KeyId::parse(hub_id).is_err() {
        return Err(not_found());
    }
    match agg.active_listing(hub_id).await {
        Ok(Some(listing)) => Ok(listing),
        Ok(None) => Err(not_found()),
        Err(e) => Err(internal(&e)),
    }
}

/// Writes the calendar of `services` and answers with it, or with 304 when
/// the client's copy has the same `ETag`.
fn serve(
    state: &AppState,
    headers: &HeaderMap,
    listing: &Listing,
    name: &str,
    services: &[Service],
    file: &str,
) -> Response {
    let base = base_url(state, headers);
    let hub_id = listing.hub.id.as_str();
    let page_url = |s: &Service| Some(format!("{base}{}", service_href(hub_id, &s.id)));
    let text = match calendar::write(&Calendar {
        name,
        hub_id,
        timezone: &listing.hub.timezone,
        stamp: listing.issued_at,
        services,
        page_url: &page_url,
    }) {
        Ok(text) => text,
        Err(e) => return internal(&e),
    };
    let etag = crate::hub::etag_of(text.as_bytes());
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| etag_matches(v, &etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = text.into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(calendar::MEDIA_TYPE),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{file}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        r
    };
    let h = response.headers_mut();
    for (name, value) in [
        (header::ETAG, etag.as_str()),
        (header::CACHE_CONTROL, CACHE_CONTROL),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
    response
}

/// A file name that is safe in any header and on any disk: the name's
/// ASCII letters and digits, lowercased, words joined by hyphens, cut to
/// [`MAX_FILE_NAME_CHARS`], then `-{what}.ics`.
fn file_name(name: &str, what: &str) -> String {
    let mut stem = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if stem.len() >= MAX_FILE_NAME_CHARS {
                break;
            }
            stem.push(c.to_ascii_lowercase());
        } else if !stem.is_empty() && !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let stem = stem.trim_end_matches('-');
    if stem.is_empty() {
        format!("{what}.ics")
    } else {
        format!("{stem}-{what}.ics")
    }
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn file_names_are_plain_ascii_words() {
        for (name, what) in [
            ("Lunch club, with soup; \"and\" bread", "opening-times"),
            ("Café \u{1f372} / ../../etc", "timetable"),
            ("\u{1f372}", "timetable"),
            (&"long name ".repeat(20), "timetable"),
        ] {
            let f = file_name(name, what);
            assert!(f.ends_with(&format!("{what}.ics")), "{f}");
            assert!(
                f.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c)),
                "{f}"
            );
            assert!(
                !f.starts_with('-') && !f.contains("--") && !f.contains(".."),
                "{f}"
            );
            assert!(f.len() <= 60 + what.len() + 5, "{f}");
        }
    }
}
