//! The page around one admin form (the hub's details, a service): its
//! heading, where it is sent, and its sections of fields.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::access::hub_name;
use super::form::Section;
use super::session::Current;
use crate::web::form::Errors;
use crate::web::html::{asset_version, render};
use crate::web::state::HubHandle;

/// A page with one form (the profile, a service).
#[derive(Template)]
#[template(path = "admin/form.html")]
pub struct FormPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    pub csrf: String,
    pub heading: String,
    pub action: String,
    pub form_id: &'static str,
    pub submit: &'static str,
    pub sections: Vec<Section>,
    pub errors: Errors,
}

/// What tells one form page from another.
pub struct FormSpec {
    pub heading: String,
    pub action: String,
    pub form_id: &'static str,
    pub submit: &'static str,
}

/// Renders a form page for the signed-in `session`.
pub async fn form_page(
    hub: &HubHandle,
    session: &Current,
    spec: FormSpec,
    sections: Vec<Section>,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let site = hub_name(hub).await;
    render(
        status,
        &FormPage {
            title: format!("{}: {site}", spec.heading),
            site,
            v: asset_version(),
            csrf: session.csrf.clone(),
            heading: spec.heading,
            action: spec.action,
            form_id: spec.form_id,
            submit: spec.submit,
            sections,
            errors,
        },
    )
}
