//! The Open Referral API's reads: its filters (a postcode is read, and
//! its centre found, by [`crate::search::place`]) and the rows of a page.
//! Which services a list holds is answered by the search index
//! ([`crate::search::oruk`], the one query engine of the node); this
//! module reads the page's services from the record.
//!
//! Until migration 7 the ids of every service's ORUK form were written to
//! `agg_hsds` rows beside it (five rows and three indexes per service,
//! most of the store's time); they now live in the index.

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;
use crate::search::index::SearchIndex;
pub use crate::search::oruk::ListOf;
use crate::search::oruk::Shared;
use crate::search::place::{self, Postcode, Typed};

/// Which services (or `service_at_location`s) a list asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// The words to look for, as typed.
    pub text: Option<String>,
    /// Services with this taxonomy term.
    pub taxonomy_term_id: Option<String>,
    /// Services with any term of this taxonomy.
    pub taxonomy_id: Option<String>,
    /// Services run by this organisation.
    pub organization_id: Option<String>,
    /// Services open on this weekday (0 = Monday).
    pub weekday: Option<u8>,
    /// Services with opening times starting at or after this minute.
    pub opens_from_min: Option<u16>,
    /// Services with opening times ending at or before this minute.
    pub closes_by_min: Option<u16>,
    /// Services whose `minimum_age` is at least this (ORUK's
    /// `minimum_age`); a service that names no minimum age does not match.
    pub minimum_age_at_least: Option<u64>,
    /// Services whose `maximum_age` is at most this (ORUK's
    /// `maximum_age`); a service that names no maximum age does not match.
    pub maximum_age_at_most: Option<u64>,
    /// A question nothing we hold can answer yes to (words that are all
    /// stop words), so the answer is empty.
    pub nothing: bool,
    /// `service_at_location`s with this postcode (lists of those only).
    pub postcode: Option<Postcode>,
    /// `service_at_location`s within this many km of the postcode's
    /// centroid (lists of those only).
    pub within_km: Option<f64>,
}

/// One row of a list: the service's hub, that hub's stored profile, the
/// service as published, and (for `service_at_location`s) which location.
#[derive(Debug, Clone)]
pub struct Row {
    /// The publishing hub.
    pub hub_id: String,
    /// Its profile (JSON of [`signpost_spec::HubProfile`]).
    pub profile_json: String,
    /// The service (JSON of [`signpost_spec::Service`]).
    pub service_json: String,
    /// Index of the location, for `service_at_location`s.
    pub position: usize,
}

/// Reads the rows the index chose, in its order (the services from the
/// index, their hubs' profiles from the store); a service removed since
/// the index answered is skipped.
fn rows(index: &SearchIndex, conn: &Connection, picks: &[(i64, usize)]) -> Result<Vec<Row>> {
    let keys: Vec<i64> = picks.iter().map(|(key, _)| *key).collect();
    let stored = index.stored(&keys)?;
    let mut profile = conn.prepare_cached(
        "SELECT profile_json FROM agg_hubs WHERE hub_id = ?1 AND state = 'active'",
    )?;
    let mut out = Vec::with_capacity(picks.len());
    let mut profiles: std::collections::HashMap<String, Option<String>> =
        std::collections::HashMap::new();
    for &(key, position) in picks {
        let Some(service) = stored.get(&key) else {
            continue;
        };
        // A page often holds several services of one hub: ask the store once.
        if !profiles.contains_key(&service.hub_id) {
            let held: Option<String> = profile
                .query_row([&service.hub_id], |r| r.get(0))
                .optional()?;
            profiles.insert(service.hub_id.clone(), held);
        }
        if let Some(Some(profile_json)) = profiles.get(&service.hub_id).cloned() {
            out.push(Row {
                hub_id: service.hub_id.clone(),
                profile_json,
                service_json: service.json.clone(),
                position,
            });
        }
    }
    Ok(out)
}

/// A page of services (or of `service_at_location`s) and the total. A
/// `proximity` is measured from the postcode's centre as
/// [`place::centre`] finds it, the same centre a directory page's
/// `near=POSTCODE` uses.
pub fn list(
    index: &SearchIndex,
    conn: &Connection,
    of: ListOf,
    f: &Filter,
    limit: u32,
    offset: u64,
) -> Result<(Vec<Row>, u64)> {
    let centre = match (&f.postcode, f.within_km) {
        (Some(postcode), Some(_)) => {
            place::centre(conn, index, &Typed::Postcode(postcode.clone()))?.map(|c| (c.lat, c.lon))
        }
        _ => None,
    };
    let (picks, total) = index.list(of, f, centre, limit, offset)?;
    Ok((rows(index, conn, &picks)?, total))
}

/// The service (or `service_at_location`, organisation, term, taxonomy)
/// with this id: for kinds many services share, the first service that has
/// it stands for it.
pub fn by_id(index: &SearchIndex, conn: &Connection, kind: &str, id: &str) -> Result<Option<Row>> {
    let Some(pick) = index.first_with(kind, id)? else {
        return Ok(None);
    };
    Ok(rows(index, conn, &[pick])?.into_iter().next())
}

/// One of the distinct ids [`distinct`] lists.
#[derive(Debug, Clone)]
pub struct Distinct {
    /// The id.
    pub id: String,
    /// Its name (the first by case-blind order, when names differ in case).
    pub label: String,
    /// The service that stands for it.
    pub row: Row,
}

/// Distinct ids of a kind many services share (organisations, terms,
/// taxonomies), by label, each with the service that stands for it; and
/// how many there are. `parent_id` narrows terms to one taxonomy; `search`
/// matches labels (case ignored).
pub fn distinct(
    index: &SearchIndex,
    conn: &Connection,
    kind: Shared,
    parent_id: Option<&str>,
    search: Option<&str>,
    limit: u32,
    offset: u64,
) -> Result<(Vec<Distinct>, u64)> {
    let (entries, total) = index.distinct(kind, parent_id, search, limit, offset)?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        if let Some(row) = rows(index, conn, &[(e.key, 0)])?.into_iter().next() {
            out.push(Distinct {
                id: e.id,
                label: e.label,
                row,
            });
        }
    }
    Ok((out, total))
}

/// The services of one organisation, by name, at most `limit`.
pub fn organization_services(
    index: &SearchIndex,
    conn: &Connection,
    id: &str,
    limit: u32,
) -> Result<Vec<Row>> {
    let picks: Vec<(i64, usize)> = index
        .organization_services(id, limit)?
        .into_iter()
        .map(|r| (r, 0))
        .collect();
    rows(index, conn, &picks)
}
