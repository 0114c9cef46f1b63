//! `GET /accessibility`: the accessibility statement. Councils that run or
//! embed a directory must publish one for each site (the Public Sector
//! Bodies Accessibility Regulations 2018); this one says what the pages do
//! for people, what is known not to work well, how to report a problem
//! (`web.contact`), and how the pages are checked. It claims only what the
//! project's own tests check on every change.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::web::admin::pages::access::site_name;
use crate::web::html::{asset_version, render};
use crate::web::state::AppState;

/// How to reach the people who run this node, as a link.
pub struct Contact {
    /// `mailto:` or the web page.
    pub href: String,
    /// What the link says.
    pub text: String,
}

/// `GET /accessibility`.
#[derive(Template)]
#[template(path = "accessibility.html")]
pub struct StatementPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    /// True on a directory (the public pages); false on a hub's own node,
    /// which has only its admin pages.
    pub directory: bool,
    pub contact: Option<Contact>,
    /// Signpost's version, whose tests the statement describes.
    pub version: &'static str,
}

/// The contact setting as a link: an email address becomes `mailto:`.
fn contact(setting: Option<&str>) -> Option<Contact> {
    setting.map(|c| Contact {
        href: if c.contains("://") {
            c.to_owned()
        } else {
            format!("mailto:{c}")
        },
        text: c.to_owned(),
    })
}

/// Serves the statement, on a directory and on a hub's node alike.
pub async fn statement(State(state): State<Arc<AppState>>) -> Response {
    let site = site_name(&state)
        .await
        .unwrap_or_else(|_| "Signpost".to_owned());
    render(
        StatusCode::OK,
        &StatementPage {
            title: format!("Accessibility statement: {site}"),
            site,
            v: asset_version(),
            directory: state.aggregator.is_some(),
            contact: contact(state.pages.web.contact.as_deref()),
            version: env!("CARGO_PKG_VERSION"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_address_becomes_a_mailto_link_and_a_page_stays_a_page() {
        let mail = contact(Some("directory@cvs.example.org")).unwrap();
        assert_eq!(mail.href, "mailto:directory@cvs.example.org");
        assert_eq!(mail.text, "directory@cvs.example.org");
        let page = contact(Some("https://cvs.example.org/contact")).unwrap();
        assert_eq!(page.href, "https://cvs.example.org/contact");
        assert!(contact(None).is_none());
    }
}
