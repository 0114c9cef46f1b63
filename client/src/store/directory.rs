//! Read-only questions the directory's web pages ask of the aggregator's
//! tables: which hubs' own addresses are at a place (for the search
//! module's places, which add the services' locations the index
//! holds), and how fresh each hub's listing is. (Which categories there
//! are, the search index knows.)

use std::collections::HashMap;

use rusqlite::{params, Connection};

use crate::error::Result;

/// Most categories offered in the directory's filter.
pub const MAX_CATEGORIES: u32 = 200;
/// Most hubs' own addresses read to place one typed place.
const MAX_HUB_POINTS: u32 = 10_000;

/// Where a hub's own address is asked to be (the store's side of a typed
/// place: the search module reads what people type).
#[derive(Debug, Clone, Copy)]
pub enum HubPlace<'a> {
    /// A whole postcode (`FY1 6JH`, any spacing).
    Postcode(&'a str),
    /// A postcode district (`FY1`).
    District(&'a str),
    /// A town or city name, any case.
    Town(&'a str),
}

/// The coordinates of the active hubs whose own address (their profile's)
/// is at `place`: a hub is a place people go to, so it places a postcode
/// or town as well as the services' locations do.
pub fn hub_points(conn: &Connection, place: HubPlace<'_>) -> Result<Vec<(f64, f64)>> {
    let mut found = Vec::new();
    // Postcodes are compared with spaces removed and in capitals.
    let norm = "REPLACE(UPPER(COALESCE(json_extract(profile_json, '$.address.postal_code'), '')), ' ', '')";
    let (test, value) = match place {
        HubPlace::Postcode(p) => (format!("{norm} = ?1"), p.replace(' ', "")),
        HubPlace::District(d) => (
            format!("length({norm}) > 3 AND substr({norm}, 1, length({norm}) - 3) = ?1"),
            d.to_owned(),
        ),
        HubPlace::Town(t) => (
            "json_extract(profile_json, '$.address.city') = ?1 COLLATE NOCASE".to_owned(),
            t.trim().to_owned(),
        ),
    };
    let sql = format!(
        "SELECT json_extract(profile_json, '$.latitude'), json_extract(profile_json, '$.longitude')
         FROM agg_hubs
         WHERE state = 'active' AND json_extract(profile_json, '$.latitude') IS NOT NULL AND {test}
         LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![value, MAX_HUB_POINTS], |r| {
        Ok((r.get::<_, f64>(0)?, r.get::<_, f64>(1)?))
    })?;
    for row in rows {
        found.push(row?);
    }
    Ok(found)
}

/// When each hub's held listing was signed, when it runs out, and when
/// this aggregator accepted it (seconds, seconds, milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub issued_at: i64,
    pub expires_at: i64,
    pub accepted_at_ms: i64,
}

/// The [`Freshness`] of the named active hubs.
pub fn freshness(conn: &Connection, hub_ids: &[String]) -> Result<HashMap<String, Freshness>> {
    let mut stmt = conn.prepare_cached(
        "SELECT issued_at, expires_at, accepted_at FROM agg_hubs WHERE hub_id = ?1",
    )?;
    let mut out = HashMap::new();
    for id in hub_ids {
        if out.contains_key(id) {
            continue;
        }
        let mut rows = stmt.query_map([id], |r| {
            Ok(Freshness {
                issued_at: r.get(0)?,
                expires_at: r.get(1)?,
                accepted_at_ms: r.get(2)?,
            })
        })?;
        if let Some(f) = rows.next() {
            out.insert(id.clone(), f?);
        }
    }
    Ok(out)
}
