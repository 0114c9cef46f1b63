//! The aggregator's index for the Open Referral API (`/hsds/`): for every
//! stored service, the ids its ORUK form has (the service's own, its
//! `service_at_location`s, its organisation, its taxonomy terms and
//! taxonomies), so that lookups by those ids, filters on them and lists of
//! them are indexed queries rather than a pass over every service's JSON.
//!
//! The ids are derived by [`crate::hsds::map`] from the hub-scoped form of
//! each service ([`crate::hsds::map::scoped`]), so the rows of one service
//! depend on nothing but that service and its hub: they are written in the
//! same transaction as the service and vanish with it (`ON DELETE CASCADE`).

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use signpost_spec::{HubProfile, Service};

use crate::error::{NodeError, Result};
use crate::hsds::map;

/// Migration 4: the Open Referral index.
pub const MIGRATION: &str = "
CREATE TABLE agg_hsds (
    service_rowid INTEGER NOT NULL REFERENCES agg_services (rowid) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN
        ('service', 'service_at_location', 'organization', 'taxonomy', 'taxonomy_term')),
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    parent_id TEXT,
    postcode TEXT,
    latitude REAL,
    longitude REAL
);
CREATE INDEX agg_hsds_id ON agg_hsds (kind, id, service_rowid);
CREATE INDEX agg_hsds_service ON agg_hsds (service_rowid);
CREATE INDEX agg_hsds_postcode ON agg_hsds (postcode) WHERE postcode IS NOT NULL;
";

/// Bumped when the derivation of ids changes, so [`ensure_index`] rebuilds.
const INDEX_VERSION: &str = "1";
const META_KEY: &str = "hsds_index_version";

/// A UK postcode as typed, read for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Postcode {
    /// A whole postcode, written `FY1 6JH`.
    Full(String),
    /// Only its outward part (district), like `FY1`.
    District(String),
}

/// Reads a postcode in any spacing or case (`fy16jh`, `FY1 6JH`, `FY1`).
pub fn parse_postcode(text: &str) -> Option<Postcode> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    match compact.len() {
        2..=4 => Some(Postcode::District(compact)),
        5..=7 => {
            let (outward, inward) = compact.split_at(compact.len() - 3);
            Some(Postcode::Full(format!("{outward} {inward}")))
        }
        _ => None,
    }
}

fn full_postcode(text: Option<&str>) -> Option<String> {
    match parse_postcode(text?)? {
        Postcode::Full(p) => Some(p),
        Postcode::District(_) => None,
    }
}

/// Writes the index rows of one stored service. Runs inside the
/// transaction that stores the service.
/// `hub_id` is the id the service is stored under (it scopes the ids).
pub fn insert(
    tx: &Connection,
    service_rowid: i64,
    hub_id: &str,
    hub: &HubProfile,
    service: &Service,
) -> Result<()> {
    insert_rows(tx, service_rowid, hub_id, hub, service)
}

fn insert_rows(
    conn: &Connection,
    rowid: i64,
    hub_id: &str,
    hub: &HubProfile,
    service: &Service,
) -> Result<()> {
    let s = map::scoped(service, hub_id);
    let mut stmt = conn.prepare_cached(
        "INSERT INTO agg_hsds (service_rowid, kind, id, position, label, parent_id, postcode,
             latitude, longitude)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    stmt.execute(params![
        rowid,
        "service",
        s.id,
        0,
        s.name,
        None::<String>,
        None::<String>,
        None::<f64>,
        None::<f64>
    ])?;
    for (i, l) in s.locations.iter().enumerate() {
        let postcode = full_postcode(l.address.as_ref().and_then(|a| a.postal_code.as_deref()));
        stmt.execute(params![
            rowid,
            "service_at_location",
            map::service_at_location_id(&s.id, &l.id),
            i as i64,
            l.name.as_deref().unwrap_or(""),
            s.id,
            postcode,
            l.latitude,
            l.longitude
        ])?;
    }
    let org = map::organization_ref(&s, hub_id, &hub.name);
    stmt.execute(params![
        rowid,
        "organization",
        org.id,
        0,
        org.name,
        None::<String>,
        None::<String>,
        None::<f64>,
        None::<f64>
    ])?;
    let mut taxonomies: Vec<String> = Vec::new();
    for t in map::all_terms(&s) {
        let taxonomy = t
            .taxonomy
            .as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty());
        let taxonomy_id = taxonomy.map(map::taxonomy_id);
        stmt.execute(params![
            rowid,
            "taxonomy_term",
            map::term_id(&t),
            0,
            t.name,
            taxonomy_id,
            None::<String>,
            None::<f64>,
            None::<f64>
        ])?;
        if let (Some(name), Some(id)) = (taxonomy, taxonomy_id) {
            if !taxonomies.contains(&id) {
                stmt.execute(params![
                    rowid,
                    "taxonomy",
                    id,
                    0,
                    name,
                    None::<String>,
                    None::<String>,
                    None::<f64>,
                    None::<f64>
                ])?;
                taxonomies.push(id);
            }
        }
    }
    Ok(())
}

/// Builds the index for services stored before it existed (or under an
/// older derivation); a no-op when it is up to date.
pub fn ensure_index(conn: &mut Connection) -> Result<()> {
    if crate::store::get_meta(conn, META_KEY)?.as_deref() == Some(INDEX_VERSION) {
        return Ok(());
    }
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM agg_hsds", [])?;
    let rows: Vec<(i64, String, String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT s.rowid, s.hub_id, h.profile_json, s.json FROM agg_services s
             JOIN agg_hubs h ON h.hub_id = s.hub_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let count = rows.len();
    let unreadable =
        |e: serde_json::Error| NodeError::Setup(format!("a stored row is unreadable: {e}"));
    for (rowid, hub_id, profile, json) in rows {
        let hub: HubProfile = serde_json::from_str(&profile).map_err(unreadable)?;
        let service: Service = serde_json::from_str(&json).map_err(unreadable)?;
        insert_rows(&tx, rowid, &hub_id, &hub, &service)?;
    }
    crate::store::set_meta(&tx, META_KEY, INDEX_VERSION)?;
    tx.commit()?;
    if count > 0 {
        tracing::info!(services = count, "built the Open Referral index");
    }
    Ok(())
}

/// Which services (or `service_at_location`s) a list asks for. Every value
/// reaches SQLite as a bound parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// The words to look for, as typed.
    pub text: Option<String>,
    /// The services matching `text`, best first, found by the search index
    /// before the query runs (see [`crate::aggregator::Aggregator::text_rowids`]).
    pub text_rowids: Option<Vec<i64>>,
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
    /// A question nothing we hold can answer yes to (ages: our model has
    /// none), so the answer is empty.
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
    /// The service (JSON of [`Service`]).
    pub service_json: String,
    /// Index of the location, for `service_at_location`s.
    pub position: usize,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        hub_id: r.get(0)?,
        profile_json: r.get(1)?,
        service_json: r.get(2)?,
        position: r.get::<_, i64>(3)? as usize,
    })
}

/// Builds the FROM and WHERE parts shared by the service and
/// `service_at_location` lists.
fn service_filters(f: &Filter, args: &mut Vec<SqlValue>) -> (String, Vec<String>, String) {
    let mut from = String::from("agg_services s JOIN agg_hubs h ON h.hub_id = s.hub_id");
    let mut filters = vec!["h.state = 'active'".to_owned()];
    let mut rank = String::from("0.0");
    if let Some(rowids) = &f.text_rowids {
        // The index's matches, best first, as a JSON array: its keys give
        // the order.
        from = "json_each(?) AS m JOIN agg_services s ON s.rowid = m.value \
                JOIN agg_hubs h ON h.hub_id = s.hub_id"
            .into();
        args.push(SqlValue::Text(
            serde_json::to_string(rowids).unwrap_or_else(|_| "[]".into()),
        ));
        rank = "m.key".into();
    }
    for (kind, id) in [
        ("taxonomy_term", &f.taxonomy_term_id),
        ("taxonomy", &f.taxonomy_id),
        ("organization", &f.organization_id),
    ] {
        if let Some(id) = id {
            filters.push(format!(
                "s.rowid IN (SELECT service_rowid FROM agg_hsds WHERE kind = '{kind}' AND id = ?)"
            ));
            args.push(SqlValue::Text(id.clone()));
        }
    }
    if f.weekday.is_some() || f.opens_from_min.is_some() || f.closes_by_min.is_some() {
        let mut parts = Vec::new();
        if let Some(d) = f.weekday {
            parts.push("weekday = ?");
            args.push(SqlValue::Integer(d.into()));
        }
        if let Some(m) = f.opens_from_min {
            parts.push("opens_min >= ?");
            args.push(SqlValue::Integer(m.into()));
        }
        if let Some(m) = f.closes_by_min {
            parts.push("closes_min <= ?");
            args.push(SqlValue::Integer(m.into()));
        }
        filters.push(format!(
            "s.rowid IN (SELECT service_rowid FROM agg_schedules WHERE {})",
            parts.join(" AND ")
        ));
    }
    if f.nothing {
        filters.push("0".into());
    }
    (from, filters, rank)
}

fn limit_args(args: &mut Vec<SqlValue>, limit: u32, offset: u64) {
    args.push(SqlValue::Integer(limit.into()));
    args.push(SqlValue::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
}

/// A page of services and the total.
pub fn services(conn: &Connection, f: &Filter, limit: u32, offset: u64) -> Result<(Vec<Row>, u64)> {
    let mut args = Vec::new();
    let (from, filters, rank) = service_filters(f, &mut args);
    let where_clause = filters.join(" AND ");
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM {from} WHERE {where_clause}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    limit_args(&mut args, limit, offset);
    let sql = format!(
        "SELECT s.hub_id, h.profile_json, s.json, 0, {rank} AS rank FROM {from}
         WHERE {where_clause}
         ORDER BY rank, s.name COLLATE NOCASE, s.hub_id, s.position LIMIT ? OFFSET ?"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total as u64))
}

/// The centroid of the locations we hold at a postcode (else in its
/// district), the way people's typed places are resolved: from what the
/// aggregator already knows.
fn centroid(conn: &Connection, postcode: &Postcode) -> Result<Option<(f64, f64)>> {
    let (clause, value) = match postcode {
        Postcode::Full(p) => ("postcode = ?1", p.clone()),
        Postcode::District(d) => ("postcode LIKE ?1", format!("{d} %")),
    };
    let exact: Option<(Option<f64>, Option<f64>)> = conn
        .query_row(
            &format!(
                "SELECT AVG(latitude), AVG(longitude) FROM agg_hsds
                 WHERE kind = 'service_at_location' AND latitude IS NOT NULL AND {clause}"
            ),
            [&value],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((Some(lat), Some(lon))) = exact {
        return Ok(Some((lat, lon)));
    }
    if let Postcode::Full(p) = postcode {
        if let Some((outward, _)) = p.split_once(' ') {
            return centroid(conn, &Postcode::District(outward.to_owned()));
        }
    }
    Ok(None)
}

/// A page of `service_at_location`s and the total.
pub fn service_at_locations(
    conn: &Connection,
    f: &Filter,
    limit: u32,
    offset: u64,
) -> Result<(Vec<Row>, u64)> {
    let mut args = Vec::new();
    let (from, mut filters, rank) = service_filters(f, &mut args);
    let from = format!("{from} JOIN agg_hsds r ON r.service_rowid = s.rowid");
    filters.push("r.kind = 'service_at_location'".into());
    match (&f.postcode, f.within_km) {
        (Some(postcode), Some(km)) => {
            let Some((lat, lon)) = centroid(conn, postcode)? else {
                return Ok((Vec::new(), 0));
            };
            filters.push(
                "r.latitude IS NOT NULL AND distance_km(r.latitude, r.longitude, ?, ?) <= ?".into(),
            );
            args.extend([SqlValue::Real(lat), SqlValue::Real(lon), SqlValue::Real(km)]);
        }
        (Some(Postcode::Full(p)), None) => {
            filters.push("r.postcode = ?".into());
            args.push(SqlValue::Text(p.clone()));
        }
        (Some(Postcode::District(d)), None) => {
            filters.push("r.postcode LIKE ?".into());
            args.push(SqlValue::Text(format!("{d} %")));
        }
        (None, _) => {}
    }
    let where_clause = filters.join(" AND ");
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM {from} WHERE {where_clause}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    limit_args(&mut args, limit, offset);
    let sql = format!(
        "SELECT s.hub_id, h.profile_json, s.json, r.position, {rank} AS rank FROM {from}
         WHERE {where_clause}
         ORDER BY rank, s.name COLLATE NOCASE, s.hub_id, s.position, r.position
         LIMIT ? OFFSET ?"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total as u64))
}

/// The service (or `service_at_location`, organisation, term, taxonomy)
/// with this id: for kinds many services share, the first service that has
/// it stands for it.
pub fn by_id(conn: &Connection, kind: &str, id: &str) -> Result<Option<Row>> {
    Ok(conn
        .query_row(
            "SELECT s.hub_id, h.profile_json, s.json, r.position FROM agg_hsds r
             JOIN agg_services s ON s.rowid = r.service_rowid
             JOIN agg_hubs h ON h.hub_id = s.hub_id
             WHERE r.kind = ?1 AND r.id = ?2 AND h.state = 'active'
             ORDER BY r.service_rowid LIMIT 1",
            [kind, id],
            row,
        )
        .optional()?)
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
    conn: &Connection,
    kind: &str,
    parent_id: Option<&str>,
    search: Option<&str>,
    limit: u32,
    offset: u64,
) -> Result<(Vec<Distinct>, u64)> {
    let pattern = search.map(|s| {
        let escaped = s
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let filter = "r.kind = ?1 AND h.state = 'active' AND (?2 IS NULL OR r.parent_id = ?2)
                  AND (?3 IS NULL OR r.label LIKE ?3 ESCAPE '\\')";
    let from = "agg_hsds r JOIN agg_services s ON s.rowid = r.service_rowid
                JOIN agg_hubs h ON h.hub_id = s.hub_id";
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(DISTINCT r.id) FROM {from} WHERE {filter}"),
        params![kind, parent_id, pattern],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT r.id, MIN(r.label COLLATE NOCASE) AS label, MIN(r.service_rowid) FROM {from}
         WHERE {filter} GROUP BY r.id ORDER BY label COLLATE NOCASE, r.id LIMIT ?4 OFFSET ?5"
    ))?;
    let picks = stmt
        .query_map(
            params![
                kind,
                parent_id,
                pattern,
                limit,
                i64::try_from(offset).unwrap_or(i64::MAX)
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut service_stmt = conn.prepare_cached(
        "SELECT s.hub_id, h.profile_json, s.json, 0 FROM agg_services s
         JOIN agg_hubs h ON h.hub_id = s.hub_id WHERE s.rowid = ?1",
    )?;
    let mut out = Vec::with_capacity(picks.len());
    for (id, label, rowid) in picks {
        if let Some(row) = service_stmt.query_row([rowid], row).optional()? {
            out.push(Distinct { id, label, row });
        }
    }
    Ok((out, total as u64))
}

/// The services of one organisation, by name, at most `limit`.
pub fn organization_services(conn: &Connection, id: &str, limit: u32) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.hub_id, h.profile_json, s.json, 0 FROM agg_hsds r
         JOIN agg_services s ON s.rowid = r.service_rowid
         JOIN agg_hubs h ON h.hub_id = s.hub_id
         WHERE r.kind = 'organization' AND r.id = ?1 AND h.state = 'active'
         ORDER BY s.name COLLATE NOCASE, s.hub_id, s.position LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![id, limit], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::store::aggregator::{store_listing, AcceptedListing};
    use signpost_spec::Listing;

    fn stored(dir: &std::path::Path) -> Connection {
        let mut conn = crate::store::open(&dir.join("agg.db")).unwrap();
        let listing: Listing = serde_json::from_value(serde_json::json!({
            "signpost": "1", "seq": 1,
            "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-08T00:00:00Z",
            "hub": {"id": "ed25519:hub", "name": "Revoelution",
                    "dimensions": {"space": ["dedicated"], "governance": "community-led",
                                   "focus": "generic", "coordination": "first-level"}},
            "services": [{"id": "ac148810-d857-441c-9679-408f346de14b", "name": "Job Club",
                "access": ["walk-in"],
                "locations": [{"id": "3a19ff88-4620-4d17-9830-ac1d859eb5d5", "latitude": 53.8,
                               "longitude": -3.0, "address": {"postal_code": "fy16jh"}}],
                "taxonomy_terms": [{"name": "Employment", "taxonomy": "signpost"}]}]
        }))
        .unwrap();
        let tx = conn.transaction().unwrap();
        let _ = store_listing(
            &tx,
            &AcceptedListing {
                hub_id: "ed25519:hub",
                signing_key: "ed25519:hub",
                envelope: b"{}",
                envelope_sha256: "",
                listing: &listing,
                source_url: None,
                now_ms: 0,
            },
        )
        .unwrap();
        tx.commit().unwrap();
        conn
    }

    fn counts(conn: &Connection) -> Vec<(String, i64)> {
        let mut stmt = conn
            .prepare("SELECT kind, COUNT(*) FROM agg_hsds GROUP BY kind ORDER BY kind")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    #[test]
    fn storing_a_service_indexes_it_and_an_old_database_is_indexed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = stored(dir.path());
        let expected: Vec<(String, i64)> = [
            ("organization", 1),
            ("service", 1),
            ("service_at_location", 1),
            ("taxonomy", 2),
            ("taxonomy_term", 2),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_owned(), n))
        .collect();
        assert_eq!(counts(&conn), expected);
        let postcode: Option<String> = conn
            .query_row(
                "SELECT postcode FROM agg_hsds WHERE kind = 'service_at_location'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(postcode.as_deref(), Some("FY1 6JH"));
        // A database whose services were stored before the index existed.
        conn.execute("DELETE FROM agg_hsds", []).unwrap();
        conn.execute("DELETE FROM meta WHERE key = ?1", [META_KEY])
            .unwrap();
        ensure_index(&mut conn).unwrap();
        assert_eq!(counts(&conn), expected);
        ensure_index(&mut conn).unwrap();
        assert_eq!(counts(&conn), expected, "building again changes nothing");
        conn.execute("DELETE FROM agg_services", []).unwrap();
        assert!(counts(&conn).is_empty(), "rows go with their service");
    }

    #[test]
    fn postcodes_are_read_in_any_spacing() {
        assert_eq!(
            parse_postcode("fy16jh"),
            Some(Postcode::Full("FY1 6JH".into()))
        );
        assert_eq!(
            parse_postcode(" FY1  6JH "),
            Some(Postcode::Full("FY1 6JH".into()))
        );
        assert_eq!(
            parse_postcode("la1"),
            Some(Postcode::District("LA1".into()))
        );
        assert_eq!(parse_postcode("LA1 1AA'; --"), None);
        assert_eq!(parse_postcode("x"), None);
    }
}
