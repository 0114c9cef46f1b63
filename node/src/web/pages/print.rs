//! Printable lists of services, laid out for A4 paper: a search's results
//! (`/print?` with the directory's query) and a whole hub's services
//! (`/hubs/{hub_id}/print`). Hubs hand these out to people who have no
//! phone, or pin them to a notice board, so each service is shown in large
//! type with the words its own page uses (opening times, how to get help,
//! phones, where), and a QR code of its page for those who have a phone and
//! want the latest details.
//!
//! The search is the directory's own (`find()`, `read_form`): a leaflet
//! lists what the page listed, only more of it at once. The QR codes are
//! drawn here, server-side, as inline SVG: no outside service learns what
//! is printed, the page works without scripts, and vector codes print
//! crisp at any size. Print styles live in `assets/print.css`.

use super::*;
use axum::http::HeaderMap;
use qrcode::render::svg;
use qrcode::QrCode;

use crate::web::api::base_url;
use hubs::hub_listing;

/// Most services on a search's leaflet (about a dozen A4 pages); past
/// that, the leaflet points to the search online.
pub const PRINT_SERVICES: u32 = 50;
/// About how many characters of a description a leaflet prints.
const PRINT_SUMMARY: usize = 130;

/// One service on a leaflet.
pub struct PrintItem {
    /// The service in the words its page uses.
    pub s: ServiceView,
    /// Its description cut shorter than in lists on screen, so that three
    /// services fit an A4 page in large type.
    pub summary: String,
    /// Its page's absolute address, printed beside the code so people can
    /// type it.
    pub url: String,
    /// The QR code of `url` as an inline `<svg>` element; empty if the
    /// address could not be encoded.
    pub qr: String,
}

/// `GET /print` and `GET /hubs/{hub_id}/print`.
#[derive(Template)]
#[template(path = "print.html")]
pub struct PrintPage {
    pub title: String,
    pub site: String,
    pub v: &'static str,
    /// What the list is: "Services near FY1, category Employment".
    pub heading: String,
    /// How many services: "12 services".
    pub count: String,
    /// The hubs that publish what is listed, in words.
    pub hubs: String,
    /// Today's date, in words (UTC).
    pub printed: String,
    /// The directory's own words for what to fix in the search.
    pub errors: Errors,
    /// Where to go back to on screen: the search or the hub's page.
    pub back: String,
    pub items: Vec<PrintItem>,
    /// How many matching services are not on the leaflet.
    pub more: u64,
    /// Where to find all of them online (an absolute address).
    pub online: String,
}

/// `GET /print?<the directory's query>`: the search's first
/// [`PRINT_SERVICES`] services. The page number is ignored: a leaflet
/// starts at the first result.
pub(super) async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(agg) = state.aggregator.clone() else {
        return not_found();
    };
    let mut form = match read_form(raw) {
        Ok(form) => form,
        Err(page) => return page.into_response(),
    };
    form.page.clear();
    let found = match find(&state, &agg, &form, PRINT_SERVICES).await {
        Ok(found) => found,
        Err(page) => return page.into_response(),
    };
    let base = base_url(&state, &headers);
    let mut page = leaflet(
        &agg,
        &base,
        searched(&form),
        found.results,
        found.total,
        format!("/?{}", form.query()),
    );
    page.errors = found.errors;
    render(found.status, &page)
}

/// `GET /hubs/{hub_id}/print`: a hub's services, as many as its page shows.
pub(super) async fn hub(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(hub_id): Path<String>,
) -> Response {
    let hub = match hub_listing(&state, &hub_id).await {
        Ok(found) => found,
        Err(page) => return page.into_response(),
    };
    let base = base_url(&state, &headers);
    let page = leaflet(
        &hub.agg,
        &base,
        format!("Services from {}", hub.summary.name),
        hub.services,
        hub.total,
        hub_href(&hub_id),
    );
    render(StatusCode::OK, &page)
}

/// The page for `services` (of `total` found), each with its address under
/// `base` and its QR code; `back` is the list's own page on the site.
fn leaflet(
    agg: &Aggregator,
    base: &str,
    heading: String,
    services: Vec<ServiceView>,
    total: u64,
    back: String,
) -> PrintPage {
    let hubs = published_by(&services);
    let items: Vec<PrintItem> = services
        .into_iter()
        .map(|s| {
            let url = format!("{base}{}", s.href);
            let qr = qr_svg(&url, &format!("QR code: link to {}\u{2019}s page", s.name));
            let summary = view::summary(&s.description, PRINT_SUMMARY);
            PrintItem {
                s,
                summary,
                url,
                qr,
            }
        })
        .collect();
    let shown = items.len() as u64;
    PrintPage {
        title: format!("{heading}: {}", site(agg)),
        site: site(agg),
        v: asset_version(),
        count: count_words(total, shown),
        heading,
        hubs,
        printed: Timestamp::now().strftime("%-d %B %Y").to_string(),
        errors: Errors::default(),
        online: format!("{base}{back}"),
        back,
        items,
        more: total.saturating_sub(shown),
    }
}

/// What was searched, as a heading: "Services for “food” near FY1
/// (within 5 km), category Employment, open when printed".
fn searched(form: &SearchForm) -> String {
    let mut text = "Services".to_owned();
    if !form.q.is_empty() {
        text.push_str(&format!(" for \u{201c}{}\u{201d}", form.q));
    }
    if !form.near.is_empty() {
        text.push_str(&format!(
            " near {} (within {} km)",
            form.near,
            form.within()
        ));
    }
    if !form.category.is_empty() {
        text.push_str(&format!(", category {}", form.category));
    }
    if form.open_now {
        text.push_str(", open when printed");
    }
    if text == "Services" {
        "All services".to_owned()
    } else {
        text
    }
}

/// "No services", "1 service", "12 services", "60 services; the first 50
/// are listed here".
fn count_words(total: u64, shown: u64) -> String {
    match total {
        0 => "No services found".to_owned(),
        1 => "1 service".to_owned(),
        n if n <= shown => format!("{n} services"),
        n => format!("{n} services; the first {shown} are listed here"),
    }
}

/// The hubs that publish `services`, each named once in the order met:
/// "Published by A, B and C."; empty for none.
fn published_by(services: &[ServiceView]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for s in services {
        if !names.contains(&s.hub_name.as_str()) {
            names.push(&s.hub_name);
        }
    }
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => format!("Published by {last}."),
        Some((last, rest)) => format!("Published by {} and {last}.", rest.join(", ")),
    }
}

/// `url` as a QR code: an inline `<svg>` (black modules on white, with the
/// standard quiet zone) named for screen readers by `label`. Its markup is
/// the qrcode crate's, fixed but for `label`, which is escaped here as the
/// templates escape text; the template inserts it as it is. Empty (and
/// logged) when `url` is too long for a QR code, which the path caps make
/// all but impossible.
fn qr_svg(url: &str, label: &str) -> String {
    let code = match QrCode::new(url.as_bytes()) {
        Ok(code) => code,
        Err(e) => {
            tracing::warn!(url, error = %e, "no QR code for a leaflet");
            return String::new();
        }
    };
    let image = code
        .render::<svg::Color>()
        .module_dimensions(1, 1)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    // Inline in HTML the XML declaration has no place.
    let image = image
        .split_once("?>")
        .map_or(image.as_str(), |(_, svg)| svg);
    let Some(rest) = image.strip_prefix("<svg ") else {
        tracing::warn!("the QR code's SVG has an unexpected shape");
        return String::new();
    };
    let label = askama::filters::escape(label, askama::filters::Html)
        .map(|l| l.to_string())
        .unwrap_or_default();
    format!(r#"<svg class="qr" role="img" aria-label="{label}" {rest}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_code_is_an_inline_svg_named_in_escaped_words() {
        let svg = qr_svg(
            "https://example.org/services/a/b",
            "QR code: link to \"><script>x</script>",
        );
        assert!(svg.starts_with(r#"<svg class="qr" role="img" aria-label="QR code: link to &#34;&#62;&#60;script&#62;x&#60;/script&#62;" "#), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
        assert!(!svg.contains("<?xml"));
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn the_heading_says_what_was_searched() {
        let form = SearchForm {
            near: "FY1".into(),
            category: "Employment".into(),
            ..SearchForm::default()
        };
        assert_eq!(
            searched(&form),
            "Services near FY1 (within 5 km), category Employment"
        );
        assert_eq!(searched(&SearchForm::default()), "All services");
        assert_eq!(
            count_words(60, 50),
            "60 services; the first 50 are listed here"
        );
    }
}
