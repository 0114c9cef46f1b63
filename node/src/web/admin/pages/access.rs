//! Who may see an admin page or send its forms: the session cookie, the
//! same-site and CSRF checks, and the role a page acts on (the hub, or the
//! directory), as axum extractors. A handler names what it needs and
//! returns `Result<_, Detour>`; when the need is not met, the extractor has
//! already chosen the page to show instead (sign in, none here, refused).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use signpost_spec::Limits;

use super::session::{csrf_matches, Current};
use super::sign_in::sign_in_page;
use super::COOKIE;
use crate::aggregator::Aggregator;
use crate::web::form::{Errors, Values};
use crate::web::html::message;
pub use crate::web::html::Detour;
use crate::web::state::{AppState, HubHandle};

/// The session cookie's value, if the request carries a plausible one.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() <= 100)
}

/// The live session the request's cookie names, if any.
pub fn current(state: &AppState, headers: &HeaderMap) -> Option<Current> {
    cookie_value(headers).and_then(|id| state.admin_sessions.get(&id))
}

/// True when the browser reached the node over https (directly or through
/// a proxy that says so), so the cookie may be marked Secure.
pub fn over_https(state: &AppState, headers: &HeaderMap) -> bool {
    state.pages.https
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The session cookie with its flags (HttpOnly, SameSite=Strict, limited
/// to `/admin`, Secure over https); `max_age` 0 forgets it.
pub fn session_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let text = format!(
        "{COOKIE}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A redirect after a form (Post/Redirect/Get).
pub fn see_other(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// The role an admin page acts on, found in the node's state, or the page
/// saying this node does not run it.
pub trait Role: Sized {
    fn find(state: &AppState) -> Result<Self, Detour>;
}

impl Role for Arc<HubHandle> {
    fn find(state: &AppState) -> Result<Self, Detour> {
        state.hub.clone().ok_or_else(|| {
            message(
                StatusCode::NOT_FOUND,
                "No hub here",
                "This node does not run the hub role, so there is nothing to edit.",
                ("/", "Back to the start"),
            )
            .into()
        })
    }
}

impl Role for Arc<Aggregator> {
    fn find(state: &AppState) -> Result<Self, Detour> {
        state.aggregator.clone().ok_or_else(|| {
            message(
                StatusCode::NOT_FOUND,
                "No directory here",
                "This node does not run the aggregator role, so it has no coordinator reports or registrations.",
                ("/admin", "Back to the admin page"),
            )
            .into()
        })
    }
}

/// The hub, or the page saying this node has none.
pub fn hub_of(state: &AppState) -> Result<Arc<HubHandle>, Detour> {
    Role::find(state)
}

/// The hub and the signed-in session of a hub page view; signed out, a
/// redirect to the admin page (which offers signing in).
pub struct HubPage {
    pub hub: Arc<HubHandle>,
    pub session: Current,
}

impl FromRequestParts<Arc<AppState>> for HubPage {
    type Rejection = Detour;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Detour> {
        let hub = hub_of(state)?;
        let session = current(state, &parts.headers).ok_or_else(|| see_other("/admin"))?;
        Ok(HubPage { hub, session })
    }
}

/// The directory and session of a coordinator's page view; signed out,
/// the sign-in page leading back to the page asked for.
pub struct DirectoryPage {
    pub agg: Arc<Aggregator>,
    pub session: Current,
}

impl FromRequestParts<Arc<AppState>> for DirectoryPage {
    type Rejection = Detour;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Detour> {
        let agg = Arc::<Aggregator>::find(state)?;
        match current(state, &parts.headers) {
            Some(session) => Ok(DirectoryPage { agg, session }),
            None => {
                let site = site_name(state).await?;
                let next = parts.uri.path();
                Err(sign_in_page(site, StatusCode::OK, Errors::default(), next).into())
            }
        }
    }
}

/// A form POST to a page acting on role `R` (the hub, or the directory):
/// the role, the form's values and the checked session (same site, signed
/// in, the session's CSRF token). One check for every form.
pub struct Posted<R>(pub R, pub Values, pub Current);

/// A form POST to the hub's pages.
pub type HubForm = Posted<Arc<HubHandle>>;
/// A coordinator's form POST (reports, registrations).
pub type DirectoryForm = Posted<Arc<Aggregator>>;

impl<R: Role> FromRequest<Arc<AppState>> for Posted<R> {
    type Rejection = Detour;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Detour> {
        let headers = req.headers().clone();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let role = R::find(state)?;
        let values = Values::parse(&bytes);
        let session = check_post(state, &headers, values.get("csrf"))?;
        Ok(Posted(role, values, session))
    }
}

/// The hub and the session of an upload, checked from the headers alone
/// (same site, signed in) so a stranger's upload is refused before its
/// body is read; the CSRF token, in the body, is checked after.
pub struct HubUpload {
    pub hub: Arc<HubHandle>,
}

impl FromRequestParts<Arc<AppState>> for HubUpload {
    type Rejection = Detour;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Detour> {
        let hub = hub_of(state)?;
        check_sender(state, &parts.headers)?;
        Ok(HubUpload { hub })
    }
}

/// Checks a form sent by POST: same site, a live session, and that
/// session's CSRF token.
pub fn check_post(state: &AppState, headers: &HeaderMap, csrf: &str) -> Result<Current, Detour> {
    let session = check_sender(state, headers)?;
    if !csrf_matches(&session, csrf) {
        return Err(refused(
            "The form has expired or did not come from this page. Go back, reload the page and try again.",
        )
        .into());
    }
    Ok(session)
}

fn refused(text: &str) -> Response {
    message(
        StatusCode::FORBIDDEN,
        "This form was not accepted",
        text,
        ("/admin", "Back to the admin page"),
    )
}

/// True when the browser says the request came from another web site.
pub fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
}

/// The part of [`check_post`] that needs only the headers (same site, a
/// live session), so an upload can be refused before its body is read.
fn check_sender(state: &AppState, headers: &HeaderMap) -> Result<Current, Detour> {
    if cross_site(headers) {
        return Err(refused("It was sent from another web site.").into());
    }
    current(state, headers).ok_or_else(|| {
        refused("You are not signed in, or your session has ended. Sign in and try again.").into()
    })
}

/// The limits the hub signs under (form fields show them).
pub async fn limits(hub: &HubHandle) -> Result<Limits, Detour> {
    Ok(hub.run(|core| Ok(core.limits().clone())).await?)
}

/// The hub's name for page titles ("Your hub" if it cannot be read).
pub async fn hub_name(hub: &HubHandle) -> String {
    hub.run(|core| core.profile().map(|p| p.name))
        .await
        .unwrap_or_else(|_| "Your hub".to_owned())
}

/// The name the sign-in page shows: the hub's, or for a node that only
/// runs a directory, the directory's.
pub async fn site_name(state: &AppState) -> Result<String, Detour> {
    if let (None, Some(agg)) = (&state.hub, &state.aggregator) {
        return Ok(agg.settings.name.clone());
    }
    let hub = hub_of(state)?;
    Ok(hub_name(&hub).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_flags_are_set() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; signpost_admin=xyz; b=2"),
        );
        assert_eq!(cookie_value(&h).as_deref(), Some("xyz"));
        let c = session_cookie("xyz", 60, true);
        let text = c.to_str().unwrap();
        for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/admin"] {
            assert!(text.contains(flag), "{text}");
        }
        assert!(!session_cookie("xyz", 60, false)
            .to_str()
            .unwrap()
            .contains("Secure"));
    }
}
