//! The hub role's tables: the profile, the services being edited, and the
//! signed publications.

use rusqlite::{params, Connection, OptionalExtension};
use signpost_client::import::csv::Mapping;
use signpost_spec::{HubProfile, Service};

use crate::error::{NodeError, Result};

/// How many past publications are kept (for audit and backups).
const KEEP_PUBLICATIONS: i64 = 20;

/// Most import column choices remembered; the least recently used go.
pub const KEEP_IMPORT_MAPPINGS: i64 = 50;
/// Longest layout key remembered (a header row longer than this is not).
pub const MAX_LAYOUT_BYTES: usize = 8 * 1024;

/// One signed listing as stored.
#[derive(Debug, Clone)]
pub struct PublicationRow {
    pub seq: u64,
    pub issued_at: String,
    pub expires_at: String,
    pub etag: String,
    pub envelope: Vec<u8>,
}

fn corrupt(what: &str, e: serde_json::Error) -> NodeError {
    NodeError::Setup(format!("stored {what} is unreadable: {e}"))
}

/// The hub's profile, if `init` has run.
pub fn load_profile(conn: &Connection) -> Result<Option<HubProfile>> {
    let json: Option<String> = conn
        .query_row("SELECT json FROM hub_profile WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt("hub profile", e)))
        .transpose()
}

/// Replaces the hub's profile.
pub fn save_profile(conn: &Connection, profile: &HubProfile) -> Result<()> {
    let json = serde_json::to_string(profile).map_err(|e| corrupt("hub profile", e))?;
    conn.execute(
        "INSERT INTO hub_profile (id, json) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET json = excluded.json",
        [json],
    )?;
    Ok(())
}

/// All services in the order they were first added.
pub fn list_services(conn: &Connection) -> Result<Vec<Service>> {
    let mut stmt = conn.prepare("SELECT json FROM hub_services ORDER BY position, id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row?).map_err(|e| corrupt("service", e))?);
    }
    Ok(out)
}

/// One service by id.
pub fn get_service(conn: &Connection, id: &str) -> Result<Option<Service>> {
    let json: Option<String> = conn
        .query_row("SELECT json FROM hub_services WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt("service", e)))
        .transpose()
}

/// Inserts or replaces a service, keeping its place in the list.
pub fn upsert_service(conn: &Connection, service: &Service) -> Result<()> {
    let json = serde_json::to_string(service).map_err(|e| corrupt("service", e))?;
    let now = jiff::Timestamp::now().to_string();
    conn.execute(
        "INSERT INTO hub_services (id, position, json, updated_at)
         VALUES (?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM hub_services), ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at",
        params![service.id, json, now],
    )?;
    Ok(())
}

/// Removes a service; false if there was none with that id.
pub fn delete_service(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM hub_services WHERE id = ?1", [id])? > 0)
}

/// The newest publication, if any.
pub fn latest_publication(conn: &Connection) -> Result<Option<PublicationRow>> {
    Ok(conn
        .query_row(
            "SELECT seq, issued_at, expires_at, etag, envelope FROM hub_publications
             ORDER BY seq DESC LIMIT 1",
            [],
            |r| {
                Ok(PublicationRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    issued_at: r.get(1)?,
                    expires_at: r.get(2)?,
                    etag: r.get(3)?,
                    envelope: r.get(4)?,
                })
            },
        )
        .optional()?)
}

/// Stores a new publication and prunes old ones.
pub fn insert_publication(conn: &Connection, row: &PublicationRow) -> Result<()> {
    let seq = i64::try_from(row.seq)
        .map_err(|_| NodeError::invalid("seq", "does not fit the database"))?;
    conn.execute(
        "INSERT INTO hub_publications (seq, issued_at, expires_at, etag, envelope)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![seq, row.issued_at, row.expires_at, row.etag, row.envelope],
    )?;
    conn.execute(
        "DELETE FROM hub_publications WHERE seq NOT IN
         (SELECT seq FROM hub_publications ORDER BY seq DESC LIMIT ?1)",
        [KEEP_PUBLICATIONS],
    )?;
    Ok(())
}

/// The column choices last confirmed for a file of this layout, if any (a
/// stored choice that no longer reads, or names a column this build does
/// not know, is passed over).
pub fn import_mapping(conn: &Connection, layout: &str) -> Result<Option<Mapping>> {
    if layout.len() > MAX_LAYOUT_BYTES {
        return Ok(None);
    }
    let json: Option<String> = conn
        .query_row(
            "SELECT mapping FROM hub_import_mappings WHERE layout = ?1",
            [layout],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json
        .and_then(|j| serde_json::from_str::<Mapping>(&j).ok())
        .filter(|m| m.layout() == layout && m.check().is_ok()))
}

/// Remembers the column choices confirmed for a layout, keeping at most
/// [`KEEP_IMPORT_MAPPINGS`]; a layout too long to key is not remembered.
pub fn remember_import_mapping(conn: &Connection, mapping: &Mapping) -> Result<()> {
    let layout = mapping.layout();
    if layout.len() > MAX_LAYOUT_BYTES || mapping.check().is_err() {
        return Ok(());
    }
    let json = serde_json::to_string(mapping).map_err(|e| corrupt("import mapping", e))?;
    // `used` counts up (clocks can step back): the highest is the newest.
    conn.execute(
        "INSERT INTO hub_import_mappings (layout, mapping, used)
         VALUES (?1, ?2, (SELECT COALESCE(MAX(used), 0) + 1 FROM hub_import_mappings))
         ON CONFLICT (layout) DO UPDATE SET mapping = excluded.mapping, used = excluded.used",
        params![layout, json],
    )?;
    conn.execute(
        "DELETE FROM hub_import_mappings WHERE layout NOT IN
         (SELECT layout FROM hub_import_mappings ORDER BY used DESC LIMIT ?1)",
        [KEEP_IMPORT_MAPPINGS],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_choices_are_remembered_by_layout_and_capped() {
        let mut conn = Connection::open_in_memory().unwrap();
        signpost_client::store::migrate_to(&mut conn, signpost_client::store::schema_version())
            .unwrap();
        let m = Mapping(vec![
            ("Service".into(), Some("name".into())),
            ("Tel no".into(), Some("phone".into())),
            ("Notes".into(), None),
        ]);
        assert_eq!(import_mapping(&conn, &m.layout()).unwrap(), None);
        remember_import_mapping(&conn, &m).unwrap();
        assert_eq!(
            import_mapping(&conn, "service|telno|notes").unwrap(),
            Some(m)
        );
        for i in 0..KEEP_IMPORT_MAPPINGS + 5 {
            let m = Mapping(vec![(format!("Name {i}"), Some("name".into()))]);
            remember_import_mapping(&conn, &m).unwrap();
        }
        assert_eq!(
            import_mapping(&conn, "name54").unwrap().map(|m| m.0.len()),
            Some(1),
            "the newest is kept"
        );
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM hub_import_mappings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, KEEP_IMPORT_MAPPINGS);
        let bad = Mapping(vec![("X".into(), Some("colour".into()))]);
        remember_import_mapping(&conn, &bad).unwrap();
        assert_eq!(import_mapping(&conn, "x").unwrap(), None);
    }
}
