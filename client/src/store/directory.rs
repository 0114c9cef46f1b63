//! Read-only questions the directory's web pages ask of the aggregator's
//! tables: where a typed place is (from the locations already held), and
//! how fresh each hub's listing is. (Which categories there are, the
//! search index knows: [`crate::search::index::SearchIndex::categories`].)

use std::collections::HashMap;

use rusqlite::{params, Connection};

use crate::error::Result;

/// Most categories offered in the directory's filter.
pub const MAX_CATEGORIES: u32 = 200;
/// Most points read to place one typed place.
const MAX_POINTS: u32 = 10_000;

/// How a typed place is matched against the addresses held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKey {
    /// A whole postcode, given without spaces in capitals (`FY37TN`).
    Postcode,
    /// A postcode district, the part before the space (`FY3`).
    District,
    /// A town or city name, any case.
    Town,
}

/// The coordinates of every held location (of services and of hubs
/// themselves) whose address matches `value` by `key`.
pub fn points(conn: &Connection, key: PlaceKey, value: &str) -> Result<Vec<(f64, f64)>> {
    // Postcodes are compared with spaces removed and in capitals.
    let test = |address: &str| {
        let norm = format!(
            "REPLACE(UPPER(COALESCE(json_extract({address}, '$.postal_code'), '')), ' ', '')"
        );
        match key {
            PlaceKey::Postcode => format!("{norm} = ?1"),
            PlaceKey::District => {
                format!("length({norm}) > 3 AND substr({norm}, 1, length({norm}) - 3) = ?1")
            }
            PlaceKey::Town => format!("json_extract({address}, '$.city') = ?1 COLLATE NOCASE"),
        }
    };
    let services = test("json_extract(l.value, '$.address')");
    let hubs = test("json_extract(h.profile_json, '$.address')");
    let sql = format!(
        "SELECT json_extract(l.value, '$.latitude'), json_extract(l.value, '$.longitude')
         FROM agg_services s JOIN agg_hubs h ON h.hub_id = s.hub_id AND h.state = 'active',
              json_each(s.json, '$.locations') l
         WHERE json_extract(l.value, '$.latitude') IS NOT NULL AND {services}
         UNION ALL
         SELECT json_extract(h.profile_json, '$.latitude'), json_extract(h.profile_json, '$.longitude')
         FROM agg_hubs h
         WHERE h.state = 'active' AND json_extract(h.profile_json, '$.latitude') IS NOT NULL
               AND {hubs}
         LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![value, MAX_POINTS], |r| {
        Ok((r.get::<_, f64>(0)?, r.get::<_, f64>(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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
