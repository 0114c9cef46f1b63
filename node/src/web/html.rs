//! What every HTML page shares: rendering a template into a response, the
//! security headers (a Content-Security-Policy without inline scripts, no
//! framing but the embed's by the operator's listed sites, no sniffing),
//! and error pages in words people can act on.
//!
//! Templates are askama's: compiled with the binary and escaping every
//! value for HTML unless a template says otherwise (none do).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::WebSection;
use crate::web::state::AppState;

/// Settings the pages need, prepared once at start.
#[derive(Debug, Clone)]
pub struct PageSettings {
    /// The map's tiles and credit, and the optional geocoder.
    pub web: WebSection,
    /// The Content-Security-Policy sent with every page but the embed
    /// (`frame-ancestors 'none'`).
    pub csp: HeaderValue,
    /// The embed's policy: the same, but framing allowed to the origins of
    /// `web.embed_origins` (`'none'` when it lists none). Built once here.
    pub embed_csp: HeaderValue,
    /// True when `node.public_url` is https: cookies then get `Secure`.
    pub https: bool,
    /// The geocoder, with its one client and cache, when `web.geocoder_url`
    /// is set.
    pub geocoder: Option<std::sync::Arc<crate::web::pages::place::Geocoder>>,
}

impl PageSettings {
    /// Prepares the pages' settings from the validated configuration.
    pub fn new(web: &WebSection, public_url: Option<&str>) -> PageSettings {
        let tiles = web
            .tile_origin()
            .map(|origin| format!(" {origin}"))
            .unwrap_or_default();
        let ancestors = if web.embed_origins.is_empty() {
            "'none'".to_owned()
        } else {
            web.embed_origins.join(" ")
        };
        PageSettings {
            web: web.clone(),
            // The tile origin was validated to hold no quotes, spaces or
            // semicolons; should it still not fit a header, fall back to
            // a policy without tiles rather than none at all.
            csp: header_or(&policy(&tiles, "'none'"), &policy("", "'none'")),
            // The embed origins were validated likewise (`http(s)://host
            // [:port]`, nothing else); should they not fit, the embed is
            // refused framing everywhere rather than allowed anywhere.
            embed_csp: header_or(&policy(&tiles, &ancestors), &policy("", "'none'")),
            https: public_url.is_some_and(|u| u.starts_with("https://")),
            geocoder: web.geocoder_url.as_deref().and_then(|url| {
                crate::web::pages::place::Geocoder::new(url)
                    .map(std::sync::Arc::new)
                    .map_err(|e| tracing::warn!(error = %e, "the geocoder is off"))
                    .ok()
            }),
        }
    }
}

/// The pages' Content-Security-Policy: scripts and styles from this node
/// only, images also from the map's tile origin (` https://...` or ""), and
/// framing only by `ancestors` (`'none'`, or the embed's listed origins).
fn policy(tiles: &str, ancestors: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; \
         connect-src 'self'; form-action 'self'; frame-ancestors {ancestors}; base-uri 'none'"
    )
}

/// `text` as a header value, or `fallback` when it cannot be one (logged).
fn header_or(text: &str, fallback: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|e| {
        tracing::error!(error = %e, policy = text, "a Content-Security-Policy is not a valid header; using a stricter one");
        HeaderValue::from_str(fallback).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"))
    })
}

/// Marks a response as the embed (`/embed`), which the origins of
/// `web.embed_origins` may show in an iframe: [`security_headers`] then
/// sends the embed's policy instead of refusing all framing. Only the embed's
/// handler sets it, so no other page can be framed.
#[derive(Debug, Clone, Copy)]
pub struct Embeddable;

/// Adds the pages' security headers to every response of the routes it
/// wraps.
pub async fn security_headers(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    // With no origins listed, the embed is refused framing like any page.
    let embed = response.extensions().get::<Embeddable>().is_some()
        && !state.pages.web.embed_origins.is_empty();
    let h = response.headers_mut();
    let csp = if embed {
        &state.pages.embed_csp
    } else {
        &state.pages.csp
    };
    h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    // X-Frame-Options can say only DENY or SAMEORIGIN (its ALLOW-FROM
    // named one origin and browsers no longer read it), so it cannot
    // express the embed's list: the embed relies on the CSP's
    // `frame-ancestors` alone, which every current browser obeys.
    if !embed {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// Renders a template as an HTML response with `status`.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )],
                "This page could not be shown; the node's log says why.",
            )
                .into_response()
        }
    }
}

/// A page that only says what went wrong and where to go next.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// The page title and heading.
    pub title: String,
    /// What happened, in words.
    pub message: String,
    /// Where to go next: (address, words).
    pub back: (String, String),
}

/// An error page with `status`.
pub fn message(status: StatusCode, title: &str, text: &str, back: (&str, &str)) -> Response {
    render(
        status,
        &MessagePage {
            title: title.to_owned(),
            message: text.to_owned(),
            back: (back.0.to_owned(), back.1.to_owned()),
        },
    )
}

/// The page for an address with nothing at it.
pub fn page_not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. The hub or service may have left the directory.",
        ("/", "Go to the start page"),
    )
}

/// The page for a failure inside the node (details go to the log only).
pub fn internal(e: &crate::NodeError) -> Response {
    tracing::error!(error = %e, "page failed");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "This page could not be made just now. Please try again; if it keeps happening, the node's log says why.",
        ("/", "Back to the start"),
    )
}

/// The version stamp added to asset addresses so browsers may cache them
/// for a year yet fetch new ones after an upgrade.
pub fn asset_version() -> &'static str {
    crate::web::assets::version()
}

/// A page shown instead of the one asked for (sign in first, not found,
/// refused), boxed so results carrying it stay small.
pub struct Detour(Box<Response>);

impl From<Response> for Detour {
    fn from(r: Response) -> Self {
        Detour(Box::new(r))
    }
}

/// A failure inside the node: the "something went wrong" page (logged).
impl From<crate::NodeError> for Detour {
    fn from(e: crate::NodeError) -> Self {
        internal(&e).into()
    }
}

impl Detour {
    /// The status of the page it stands for.
    pub fn status(&self) -> StatusCode {
        self.0.status()
    }
}

impl IntoResponse for Detour {
    fn into_response(self) -> Response {
        *self.0
    }
}
