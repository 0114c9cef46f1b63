//! `GET /embed`: a slice of the directory (a category near a place, say
//! "Employment near FY1") for a council's or partner's site to show in an
//! iframe. It is its own small page (no site header, navigation or footer
//! of the directory's, its own stylesheet), found by the directory's one
//! search ([`super::find`]) so an embed lists exactly what the directory
//! would. Each result links to its full page on the directory in a new
//! tab. Only the origins of `web.embed_origins` may frame it: its responses
//! carry [`Embeddable`], and [`crate::web::html::security_headers`] sends
//! the embed's `frame-ancestors` for them; every other page still refuses
//! framing. Bad input is said inside the embed, small, with a 400, not with
//! the directory's full error page, which would look broken in a frame.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::view::ServiceView;
use super::{capitalise, find, query_values, site, SearchForm};
use crate::web::html::{asset_version, render, Embeddable};
use crate::web::state::AppState;

/// Results an embed shows when its address gives no `limit`.
pub const DEFAULT_LIMIT: u32 = 10;
/// Most results an embed shows: it is a slice, with a link to the rest.
pub const MAX_LIMIT: u32 = 25;

/// The embed's page.
#[derive(Template)]
#[template(path = "embed.html")]
pub struct EmbedPage {
    /// The page's title: the slice and the directory's name.
    pub title: String,
    /// The directory's name.
    pub site: String,
    /// The assets' version stamp.
    pub v: &'static str,
    /// What the slice is: "Employment near FY1".
    pub heading: String,
    /// How many services match ("3 services").
    pub count: String,
    /// Which place distances are from, in words.
    pub notice: String,
    /// What is wrong with the embed's address; no results are shown while
    /// any stand.
    pub problems: Vec<String>,
    /// The services.
    pub results: Vec<ServiceView>,
    /// The same search on the directory's own page.
    pub all_href: String,
}

/// `GET /embed?taxonomy=..&near=..[&q=..&within_km=..&open_now=1&limit=..]`.
pub async fn embed(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let mut response = slice(&state, raw).await;
    // Error answers too: they are shown inside the partner's frame.
    response.extensions_mut().insert(Embeddable);
    response
}

async fn slice(state: &AppState, raw: Option<String>) -> Response {
    let Some(agg) = state.aggregator.clone() else {
        return problem(
            StatusCode::NOT_FOUND,
            "Signpost",
            "This node has no directory to show.",
        );
    };
    let site = site(&agg);
    let Some(values) = query_values(raw) else {
        return problem(
            StatusCode::URI_TOO_LONG,
            &site,
            "The embed's address is too long; ask for fewer words.",
        );
    };
    let limit = match read_limit(values.get("limit")) {
        Ok(limit) => limit,
        Err(why) => return problem(StatusCode::BAD_REQUEST, &site, &why),
    };
    let mut form = SearchForm::read(&values);
    // An embed names its category `taxonomy` (as Open Referral does) and
    // has no pages: its last link leads to the rest on the directory.
    form.category = values.get("taxonomy").to_owned();
    form.page = String::new();
    let found = match find(state, &agg, &form, limit).await {
        Ok(found) => found,
        // `find` has logged why; its page is the directory's, so say it
        // small instead.
        Err(page) => {
            return problem(
                page.status(),
                &site,
                "This list could not be made just now. Please try again later.",
            )
        }
    };
    let heading = slice_name(&form);
    let query = form.query();
    render(
        found.status,
        &EmbedPage {
            title: format!("{heading}: {site}"),
            heading,
            count: found.heading,
            notice: found.notice,
            problems: found.errors.all().into_iter().map(problem_words).collect(),
            results: found.results,
            all_href: if query.is_empty() {
                "/".to_owned()
            } else {
                format!("/?{query}")
            },
            site,
            v: asset_version(),
        },
    )
}

/// The `limit` asked for, [`DEFAULT_LIMIT`] when none, or why it is refused.
fn read_limit(text: &str) -> Result<u32, String> {
    if text.is_empty() {
        return Ok(DEFAULT_LIMIT);
    }
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!(
            "The limit must be a whole number from 1 to {MAX_LIMIT}."
        )),
    }
}

/// What the slice is, in words: "Employment near FY1", "Services near
/// Blackpool", "\u{201c}food\u{201d}".
fn slice_name(form: &SearchForm) -> String {
    let what = if !form.category.is_empty() {
        capitalise(&form.category)
    } else if !form.q.is_empty() {
        format!("\u{201c}{}\u{201d}", form.q)
    } else {
        "Services".to_owned()
    };
    if form.near.is_empty() {
        what
    } else {
        format!("{what} near {}", form.near)
    }
}

/// A search form's message for one field, as said to whoever wrote the
/// embed's address: the parameter it is about first (the form's
/// `category` is the embed's `taxonomy`).
fn problem_words((field, message): (String, String)) -> String {
    match field.as_str() {
        "" => message,
        "category" => format!("taxonomy: {message}"),
        _ => format!("{field}: {message}"),
    }
}

/// The embed saying only what is wrong, with `status`.
fn problem(status: StatusCode, site: &str, why: &str) -> Response {
    render(
        status,
        &EmbedPage {
            title: format!("This list cannot be shown: {site}"),
            site: site.to_owned(),
            v: asset_version(),
            heading: "This list cannot be shown".to_owned(),
            count: String::new(),
            notice: String::new(),
            problems: vec![why.to_owned()],
            results: Vec::new(),
            all_href: "/".to_owned(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_capped_with_a_reason() {
        assert_eq!(read_limit(""), Ok(DEFAULT_LIMIT));
        assert_eq!(read_limit("25"), Ok(25));
        for bad in ["0", "26", "-1", "ten", "99999999999999999999"] {
            let why = read_limit(bad).unwrap_err();
            assert!(why.contains("from 1 to 25"), "{bad}: {why}");
        }
    }

    #[test]
    fn the_slice_is_named_from_what_was_asked() {
        let mut form = SearchForm {
            category: "employment".into(),
            near: "FY1".into(),
            ..SearchForm::default()
        };
        assert_eq!(slice_name(&form), "Employment near FY1");
        form.category.clear();
        assert_eq!(slice_name(&form), "Services near FY1");
        form.q = "food".into();
        form.near.clear();
        assert_eq!(slice_name(&form), "\u{201c}food\u{201d}");
    }
}
