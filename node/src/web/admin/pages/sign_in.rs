//! Signing in with the admin token and signing out: the sign-in page, the
//! session cookie set and forgotten, and where signing in leads.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;

use super::access::{
    check_post, cross_site, current, over_https, see_other, session_cookie, site_name, Detour,
};
use super::{registrations, session};
use crate::web::form::{Errors, Values};
use crate::web::html::{asset_version, render};
use crate::web::state::AppState;

/// The sign-in page.
#[derive(Template)]
#[template(path = "admin/sign_in.html")]
pub struct SignInPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub csrf: String,
    pub errors: Errors,
    /// Where signing in leads: one of [`AFTER_SIGN_IN`].
    pub next: &'static str,
}

/// The pages signing in may lead to (anything else leads to `/admin`, so
/// the form cannot be made to redirect elsewhere).
pub const AFTER_SIGN_IN: &[&str] = &["/admin", "/admin/reports", registrations::PATH];

/// Where signing in leads when asked to lead to `next`: `next` if it is
/// one of [`AFTER_SIGN_IN`], else the admin page.
fn after_sign_in(next: &str) -> &'static str {
    AFTER_SIGN_IN
        .iter()
        .find(|p| **p == next)
        .copied()
        .unwrap_or(AFTER_SIGN_IN[0])
}

/// The sign-in page for `site`, leading to `next` once signed in.
pub fn sign_in_page(site: String, status: StatusCode, errors: Errors, next: &str) -> Response {
    render(
        status,
        &SignInPage {
            title: format!("Sign in: {site}"),
            site,
            v: asset_version(),
            csrf: String::new(),
            errors,
            next: after_sign_in(next),
        },
    )
}

/// `POST /admin/sign-in`: the admin token starts a session.
pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Detour> {
    let site = site_name(&state).await?;
    let values = Values::parse(&body);
    let token = values.get("token");
    let next = after_sign_in(values.get("next"));
    if cross_site(&headers)
        || token.is_empty()
        || token.len() > 200
        || !state.admin_token.matches(token)
    {
        let mut errors = Errors::default();
        errors.add(
            "token",
            if state.hub.is_some() {
                "That is not this hub's admin token. Copy it again, without spaces."
            } else {
                "That is not this directory's admin token. Copy it again, without spaces."
            },
        );
        return Ok(sign_in_page(site, StatusCode::UNAUTHORIZED, errors, next));
    }
    let session = state.admin_sessions.create()?;
    let mut response = see_other(next);
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(
            &session.id,
            session::LIFETIME.as_secs(),
            over_https(&state, &headers),
        ),
    );
    Ok(response)
}

/// `POST /admin/sign-out`: ends the session and forgets the cookie.
pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Detour> {
    let values = Values::parse(&body);
    // Already signed out (the session ended): just forget the cookie.
    if current(&state, &headers).is_some() {
        let session = check_post(&state, &headers, values.get("csrf"))?;
        state.admin_sessions.remove(&session.id);
    }
    let mut response = see_other("/admin");
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, over_https(&state, &headers)),
    );
    Ok(response)
}
