//! SQLite storage, the record: one database file per node (or app
//! replica), WAL mode, versioned migrations. One numbered list serves every
//! role, so a node's file and a replica's have the same schema (a replica's
//! hub-role and report tables stay empty).

/// Gives an enum of states its one word per variant: the word stored as
/// TEXT in SQLite (`ToSql`/`FromSql`), shown by the API (`Serialize`) and
/// printed (`Display`, padding honoured). One list of words per enum, so the
/// record, the JSON and the pages cannot spell a state differently.
macro_rules! stored_words {
    ($name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $name {
            /// The word stored and shown for this state.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// Reads a stored or received word; None for any other.
            pub fn parse(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        /// Compares with the word (for callers that still hold words, such
        /// as the bench's checks of crawl reports).
        impl PartialEq<&str> for $name {
            fn eq(&self, word: &&str) -> bool {
                self.as_str() == *word
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<$name> {
                let word = value.as_str()?;
                $name::parse(word).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("{word:?} is not a {}", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}

pub mod aggregator;
pub mod denylist;
pub mod directory;
pub mod feed;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;

/// Schema migrations, applied in order; the database's `user_version` is the
/// number applied so far. Never edit a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: hub role.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE hub_profile (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
     CREATE TABLE hub_services (
         id TEXT PRIMARY KEY,
         position INTEGER NOT NULL,
         json TEXT NOT NULL,
         updated_at TEXT NOT NULL
     );
     CREATE TABLE hub_publications (
         seq INTEGER PRIMARY KEY,
         issued_at TEXT NOT NULL,
         expires_at TEXT NOT NULL,
         etag TEXT NOT NULL,
         envelope BLOB NOT NULL
     );",
    // 2: aggregator role.
    aggregator::MIGRATION,
    // 3: following other aggregators; provenance.
    aggregator::MIGRATION_UPSTREAMS,
    // 4: the Open Referral (`/hsds/`) index.
    HSDS_MIGRATION,
    // 5: coverage and duplicate reports.
    REPORTS_MIGRATION,
    // 6: text and place search held in memory instead.
    aggregator::MIGRATION_INDEX_IN_MEMORY,
    // 7: the Open Referral ids and opening times in the search index.
    MIGRATION_DERIVED_TO_INDEX,
    // 8: delisting that outlives tombstones; operator re-pins.
    denylist::MIGRATION,
    // 9: the store keeps only the record; services live in the index.
    aggregator::MIGRATION_RECORD_ONLY,
    // 10: registrations by strangers (caps, approval, expiry).
    aggregator::MIGRATION_REGISTRATIONS,
    // 11: the hub's remembered import column choices, by layout.
    HUB_IMPORT_MAPPINGS_MIGRATION,
];

/// Migration 11: the column choices a hub's volunteer made on the admin
/// page's import preview, by the file's layout (its normalised header
/// names), so the next import of the same spreadsheet starts from them.
/// Read and written by the node's hub role, which keeps it small.
const HUB_IMPORT_MAPPINGS_MIGRATION: &str = "
CREATE TABLE hub_import_mappings (
    layout TEXT PRIMARY KEY,
    mapping TEXT NOT NULL,
    used INTEGER NOT NULL
);
";

/// Migration 5: coordinators' "not a duplicate" decisions (read and
/// Migration 4: the Open Referral index (dropped by migration 7).
const HSDS_MIGRATION: &str = "
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

/// Migration 7: everything derived from listings lives in the search
/// index; the store keeps the record.
const MIGRATION_DERIVED_TO_INDEX: &str = "
DROP TABLE agg_hsds;
DROP TABLE agg_schedules;
DELETE FROM meta WHERE key = 'hsds_index_version';
";

/// written by the node's reports).
const REPORTS_MIGRATION: &str = "
CREATE TABLE agg_not_duplicates (
    a_hub TEXT NOT NULL, a_service TEXT NOT NULL,
    b_hub TEXT NOT NULL, b_service TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    PRIMARY KEY (a_hub, a_service, b_hub, b_service)
);
";

/// The schema version this build writes (the number of migrations).
pub fn schema_version() -> usize {
    MIGRATIONS.len()
}

/// Opens (creating if needed) the database and brings its schema up to date.
pub fn open(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Up to 64 MiB of page cache (allocated only as used): a batch of
    // listings touches many index pages, and the default 2 MiB made the
    // writer spill them to the WAL mid-transaction (seen in the profile).
    conn.pragma_update(None, "cache_size", -65_536)?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Applies the migrations up to `version` (tests make stores of earlier
/// versions with it).
pub fn migrate_to(conn: &mut Connection, version: usize) -> Result<()> {
    let applied: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().take(version).skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied database migration");
    }
    Ok(())
}

/// Reads a value from the `meta` table.
pub fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// Writes a value to the `meta` table.
pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

/// A counter SQLite bumps whenever another connection commits, so a server
/// can notice edits made by the CLI without re-reading tables.
pub fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "data_version", |r| r.get(0))?)
}

/// Most idle read connections kept for reuse.
const MAX_IDLE_READERS: usize = 8;

/// Read-only connections for request handlers, so searches run beside the
/// single writer (WAL lets readers and one writer work at once).
pub struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    prepare: fn(&Connection) -> Result<()>,
}

impl ReadPool {
    /// A pool over the database at `path`; `prepare` runs once on each new
    /// connection (to register SQL functions).
    pub fn new(path: &Path, prepare: fn(&Connection) -> Result<()>) -> ReadPool {
        ReadPool {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            prepare,
        }
    }

    /// Runs `work` on a pooled read-only connection.
    pub fn with<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match reused {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | OpenFlags::SQLITE_OPEN_URI,
                )?;
                c.busy_timeout(std::time::Duration::from_secs(10))?;
                (self.prepare)(&c)?;
                c
            }
        };
        let out = work(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        out
    }
}
