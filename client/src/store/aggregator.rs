//! The aggregator role's tables: the sources it crawls with their health,
//! the hubs it holds (raw signed envelopes, pinned keys, feed positions,
//! states and provenance): the record. Everything derived from listings
//! (words, places, categories, hours, Open Referral ids) is in the search
//! index, which is built from these rows and never the other way.
//!
//! Every accepted listing is written atomically by [`store_listing`]
//! (inside the writer's batch transaction, in its own savepoint), so a
//! reader never sees half a hub.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::value::RawValue;
use signpost_spec::Listing;

use crate::error::{Error, Result};

/// Migration 2: the aggregator's schema.
pub const MIGRATION: &str = "
CREATE TABLE agg_sources (
    url TEXT PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('config', 'cli', 'register')),
    hub_id TEXT,
    added_at INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_attempt_at INTEGER,
    last_success_at INTEGER,
    last_outcome TEXT,
    last_error_code TEXT,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_crawl_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX agg_sources_due ON agg_sources (next_crawl_at);
CREATE TABLE agg_hubs (
    hub_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('active', 'withdrawn', 'delisted')),
    seq INTEGER NOT NULL,
    pinned_key TEXT NOT NULL,
    envelope BLOB,
    envelope_sha256 TEXT,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    profile_json TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_at INTEGER NOT NULL,
    source_url TEXT,
    change_number INTEGER NOT NULL UNIQUE,
    changed_at INTEGER NOT NULL
);
CREATE TABLE agg_services (
    rowid INTEGER PRIMARY KEY,
    hub_id TEXT NOT NULL REFERENCES agg_hubs (hub_id) ON DELETE CASCADE,
    service_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    organization TEXT NOT NULL,
    taxonomy TEXT NOT NULL,
    address TEXT NOT NULL,
    json TEXT NOT NULL,
    UNIQUE (hub_id, service_id)
);
CREATE VIRTUAL TABLE agg_services_fts USING fts5 (
    name, description, organization, taxonomy, address,
    content = 'agg_services', content_rowid = 'rowid',
    tokenize = 'porter unicode61 remove_diacritics 2',
    detail = column
);
INSERT INTO agg_services_fts (agg_services_fts, rank) VALUES ('automerge', 8);
CREATE TRIGGER agg_services_fts_insert AFTER INSERT ON agg_services BEGIN
    INSERT INTO agg_services_fts (rowid, name, description, organization, taxonomy, address)
    VALUES (new.rowid, new.name, new.description, new.organization, new.taxonomy, new.address);
END;
CREATE TRIGGER agg_services_fts_delete AFTER DELETE ON agg_services BEGIN
    INSERT INTO agg_services_fts (agg_services_fts, rowid, name, description, organization, taxonomy, address)
    VALUES ('delete', old.rowid, old.name, old.description, old.organization, old.taxonomy, old.address);
END;
CREATE TABLE agg_locations (
    id INTEGER PRIMARY KEY,
    service_rowid INTEGER NOT NULL REFERENCES agg_services (rowid) ON DELETE CASCADE,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL
);
CREATE INDEX agg_locations_service ON agg_locations (service_rowid);
CREATE VIRTUAL TABLE agg_locations_rtree USING rtree (id, min_lat, max_lat, min_lon, max_lon);
CREATE TRIGGER agg_locations_rtree_delete AFTER DELETE ON agg_locations BEGIN
    DELETE FROM agg_locations_rtree WHERE id = old.id;
END;
CREATE TABLE agg_taxonomy (
    service_rowid INTEGER NOT NULL REFERENCES agg_services (rowid) ON DELETE CASCADE,
    term TEXT NOT NULL COLLATE NOCASE
);
CREATE INDEX agg_taxonomy_term ON agg_taxonomy (term, service_rowid);
CREATE INDEX agg_taxonomy_service ON agg_taxonomy (service_rowid);
CREATE TABLE agg_schedules (
    service_rowid INTEGER NOT NULL REFERENCES agg_services (rowid) ON DELETE CASCADE,
    timezone TEXT NOT NULL,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    opens_min INTEGER NOT NULL,
    closes_min INTEGER NOT NULL,
    valid_from TEXT,
    valid_to TEXT
);
CREATE INDEX agg_schedules_service ON agg_schedules (service_rowid);
CREATE INDEX agg_schedules_time ON agg_schedules (timezone, weekday, opens_min);
";

/// Migration 3: following other aggregators, and provenance.
pub const MIGRATION_UPSTREAMS: &str = "
CREATE TABLE agg_upstreams (
    url TEXT PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('config', 'cli')),
    cursor INTEGER NOT NULL DEFAULT 0,
    last_poll_at INTEGER,
    last_success_at INTEGER,
    last_error_code TEXT,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    next_poll_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE agg_provenance (
    hub_id TEXT NOT NULL,
    source TEXT NOT NULL,
    seq INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (hub_id, source)
);
";

/// Migration 6: text, place and category search moved to the search
/// index, so the store no longer keeps FTS5,
/// R*Tree, category and text-column copies of every service (more than a
/// third of each write's cost).
pub const MIGRATION_INDEX_IN_MEMORY: &str = "
DROP TRIGGER agg_services_fts_insert;
DROP TRIGGER agg_services_fts_delete;
DROP TABLE agg_services_fts;
DROP TRIGGER agg_locations_rtree_delete;
DROP TABLE agg_locations_rtree;
DROP TABLE agg_locations;
DROP TABLE agg_taxonomy;
ALTER TABLE agg_services DROP COLUMN description;
ALTER TABLE agg_services DROP COLUMN organization;
ALTER TABLE agg_services DROP COLUMN taxonomy;
ALTER TABLE agg_services DROP COLUMN address;
";

/// Migration 9: SQLite keeps only the record. A hub's services are read
/// from its envelope (the bytes it signed) into the search index, which is
/// where every reader finds them; the store keeps their number for
/// `/v1/hubs`. One row per listing is what makes a write cheap.
pub const MIGRATION_RECORD_ONLY: &str = "
ALTER TABLE agg_hubs ADD COLUMN services INTEGER NOT NULL DEFAULT 0;
UPDATE agg_hubs SET services = (SELECT COUNT(*) FROM agg_services s WHERE s.hub_id = agg_hubs.hub_id);
DROP TABLE agg_services;
";

/// Where a source came from (kept so an operator can tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `aggregator.hubs` in the config file.
    Config,
    /// `signpost-node source add`.
    Cli,
    /// `POST /v1/register`.
    Register,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Config => "config",
            Origin::Cli => "cli",
            Origin::Register => "register",
        }
    }
}

/// A held hub's state in the record: a typed value, stored as the same
/// TEXT the table's CHECK allows (`active`, `withdrawn`, `delisted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HubState {
    /// Its listing is current and its services are searchable.
    Active,
    /// The hub signed a withdrawal: a tombstone.
    Withdrawn,
    /// The operator delisted it: a tombstone, and its listings are refused.
    Delisted,
}

stored_words!(HubState {
    Active => "active",
    Withdrawn => "withdrawn",
    Delisted => "delisted",
});

/// How the last crawl of a source ended: a typed value, stored in
/// `agg_sources.last_outcome` and shown by the API as the same words as
/// before (the failure's own code is kept beside it, in `last_error_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrawlOutcome {
    /// A new listing was stored.
    Accepted,
    /// The very listing already held.
    Unchanged,
    /// The hub answered 304 to a conditional request.
    NotModified,
    /// The listing was refused.
    Rejected,
    /// The fetch failed (the code says why).
    Failed,
}

stored_words!(CrawlOutcome {
    Accepted => "accepted",
    Unchanged => "unchanged",
    NotModified => "not_modified",
    Rejected => "rejected",
    Failed => "failed",
});

/// One crawled address with its health.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// The listing URL.
    pub url: String,
    /// `config`, `cli` or `register`.
    pub origin: String,
    /// The hub this address serves, once learnt.
    pub hub_id: Option<String>,
    /// Validators for the next conditional GET.
    pub etag: Option<String>,
    /// Validators for the next conditional GET.
    pub last_modified: Option<String>,
    /// Unix seconds of the last attempt.
    pub last_attempt_at: Option<i64>,
    /// Unix seconds of the last fetch that gave a good (or unchanged) listing.
    pub last_success_at: Option<i64>,
    /// How the last crawl ended (None before the first).
    pub last_outcome: Option<CrawlOutcome>,
    /// The stable code of the last failure.
    pub last_error_code: Option<String>,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub failures: u32,
    /// Unix seconds of the next planned crawl.
    pub next_crawl_at: i64,
}

const SOURCE_COLUMNS: &str = "url, origin, hub_id, etag, last_modified, last_attempt_at, \
     last_success_at, last_outcome, last_error_code, last_error, failures, next_crawl_at";

fn source_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Source> {
    Ok(Source {
        url: r.get(0)?,
        origin: r.get(1)?,
        hub_id: r.get(2)?,
        etag: r.get(3)?,
        last_modified: r.get(4)?,
        last_attempt_at: r.get(5)?,
        last_success_at: r.get(6)?,
        last_outcome: r.get(7)?,
        last_error_code: r.get(8)?,
        last_error: r.get(9)?,
        failures: r.get(10)?,
        next_crawl_at: r.get(11)?,
    })
}

/// Adds a source (no-op if the URL is known); returns whether it was new.
pub fn add_source(conn: &Connection, url: &str, origin: Origin, now: i64) -> Result<bool> {
    let changed = conn.execute(
        "INSERT INTO agg_sources (url, origin, added_at, next_crawl_at) VALUES (?1, ?2, ?3, 0)
         ON CONFLICT (url) DO NOTHING",
        params![url, origin.as_str(), now],
    )?;
    Ok(changed == 1)
}

/// Makes the sources from the config file exactly `urls`: adds new ones and
/// drops those no longer listed (sources added by other means stay).
pub fn sync_config_sources(conn: &mut Connection, urls: &[String], now: i64) -> Result<()> {
    let tx = conn.transaction()?;
    let existing: Vec<String> = {
        let mut stmt = tx.prepare("SELECT url FROM agg_sources WHERE origin = 'config'")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for url in existing.iter().filter(|u| !urls.contains(u)) {
        tx.execute("DELETE FROM agg_sources WHERE url = ?1", [url])?;
    }
    for url in urls {
        add_source(&tx, url, Origin::Config, now)?;
    }
    tx.commit()?;
    Ok(())
}

/// Removes a source; the hubs it brought stay until they expire or are
/// delisted. Returns whether it existed.
pub fn remove_source(conn: &Connection, url: &str) -> Result<bool> {
    conn.execute("DELETE FROM agg_registrations WHERE url = ?1", [url])?;
    Ok(conn.execute("DELETE FROM agg_sources WHERE url = ?1", [url])? == 1)
}

/// Every source, in URL order.
pub fn list_sources(conn: &Connection) -> Result<Vec<Source>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SOURCE_COLUMNS} FROM agg_sources ORDER BY url"
    ))?;
    let rows = stmt.query_map([], source_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One source by URL.
pub fn get_source(conn: &Connection, url: &str) -> Result<Option<Source>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SOURCE_COLUMNS} FROM agg_sources WHERE url = ?1"
        ))?
        .query_row([url], source_from_row)
        .optional()?)
}

/// Sources whose next crawl is due at `now`, soonest first; the sources of
/// hubs on the operator's denylist are never due.
pub fn due_sources(conn: &Connection, now: i64, limit: usize) -> Result<Vec<Source>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SOURCE_COLUMNS} FROM agg_sources WHERE next_crawl_at <= ?1
             AND (hub_id IS NULL OR hub_id NOT IN (SELECT hub_id FROM agg_denylist))
         ORDER BY next_crawl_at, url LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![now, limit as i64], source_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Seconds until the next source is due (None when there are none).
pub fn next_due(conn: &Connection) -> Result<Option<i64>> {
    Ok(
        conn.query_row("SELECT MIN(next_crawl_at) FROM agg_sources", [], |r| {
            r.get(0)
        })?,
    )
}

/// Makes a known, healthy source due by `due` (a hub's nudge: its
/// listing changed); false when the address is unknown, failing (it keeps
/// its back-off) or due by then already.
pub fn nudge_source(conn: &Connection, url: &str, due: i64) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE agg_sources SET next_crawl_at = ?2
         WHERE url = ?1 AND failures = 0 AND next_crawl_at > ?2",
        params![url, due],
    )?;
    Ok(changed > 0)
}

/// Makes every source due now (an operator's "crawl now").
pub fn make_all_due(conn: &Connection) -> Result<()> {
    conn.execute("UPDATE agg_sources SET next_crawl_at = 0", [])?;
    Ok(())
}

/// How a crawl of one source ended, for its health record.
#[derive(Debug, Clone)]
pub struct CrawlRecord<'a> {
    /// The listing URL.
    pub url: &'a str,
    /// Unix seconds when the crawl started.
    pub at: i64,
    /// How it ended.
    pub outcome: CrawlOutcome,
    /// The failure's code and message, when it failed.
    pub error: Option<(&'a str, &'a str)>,
    /// Unix seconds of the next crawl.
    pub next_crawl_at: i64,
    /// The hub this source serves, when a listing was read.
    pub hub_id: Option<&'a str>,
    /// New validators, when a body was accepted.
    pub validators: Option<(Option<&'a str>, Option<&'a str>)>,
}

/// Writes a crawl's outcome into the source's health.
pub fn record_crawl(conn: &Connection, record: &CrawlRecord<'_>) -> Result<()> {
    let (code, message) = record.error.unzip();
    if code.is_some() {
        conn.execute(
            "UPDATE agg_sources SET last_attempt_at = ?2, last_outcome = ?3,
                 last_error_code = ?4, last_error = ?5, failures = failures + 1,
                 next_crawl_at = ?6, hub_id = COALESCE(hub_id, ?7)
             WHERE url = ?1",
            params![
                record.url,
                record.at,
                record.outcome,
                code,
                message,
                record.next_crawl_at,
                record.hub_id
            ],
        )?;
    } else {
        conn.execute(
            "UPDATE agg_sources SET last_attempt_at = ?2, last_success_at = ?2,
                 last_outcome = ?3, last_error_code = NULL, last_error = NULL, failures = 0,
                 next_crawl_at = ?4, hub_id = COALESCE(?5, hub_id)
             WHERE url = ?1",
            params![
                record.url,
                record.at,
                record.outcome,
                record.next_crawl_at,
                record.hub_id
            ],
        )?;
        if let Some((etag, modified)) = record.validators {
            conn.execute(
                "UPDATE agg_sources SET etag = ?2, last_modified = ?3 WHERE url = ?1",
                params![record.url, etag, modified],
            )?;
        }
    }
    Ok(())
}

/// What the aggregator holds of a hub, for judging a new listing.
#[derive(Debug, Clone)]
pub struct HeldHub {
    /// Active, withdrawn or delisted.
    pub state: HubState,
    /// The held listing's seq.
    pub seq: u64,
    /// The key the hub's listings must chain from.
    pub pinned_key: String,
    /// SHA-256 (hex) of the held envelope bytes.
    pub envelope_sha256: Option<String>,
}

/// The held state of one hub, if any.
pub fn held_hub(conn: &Connection, hub_id: &str) -> Result<Option<HeldHub>> {
    Ok(conn
        .prepare_cached(
            "SELECT state, seq, pinned_key, envelope_sha256 FROM agg_hubs WHERE hub_id = ?1",
        )?
        .query_row([hub_id], |r| {
            Ok(HeldHub {
                state: r.get(0)?,
                seq: r.get::<_, i64>(1)? as u64,
                pinned_key: r.get(2)?,
                envelope_sha256: r.get(3)?,
            })
        })
        .optional()?)
}

/// Takes the next feed position (a counter that never goes back, even when
/// old tombstones are purged).
/// The feed's last change number (0 before the first).
pub fn last_change_number(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'feed_change_number'")?
        .query_row([], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn next_change_number(tx: &Connection) -> Result<i64> {
    let next = last_change_number(tx)? + 1;
    crate::store::set_meta(tx, "feed_change_number", &next.to_string())?;
    Ok(next)
}

/// A listing that passed verification and the acceptance rules.
pub struct AcceptedListing<'a> {
    /// The hub's id (its first key).
    pub hub_id: &'a str,
    /// The key to pin from now on (the signing key).
    pub signing_key: &'a str,
    /// The exact envelope bytes, re-served as they came.
    pub envelope: &'a [u8],
    /// SHA-256 (hex) of `envelope`.
    pub envelope_sha256: &'a str,
    /// The decoded payload.
    pub listing: &'a Listing,
    /// Where it came from.
    pub source_url: Option<&'a str>,
    /// Unix milliseconds now.
    pub now_ms: i64,
}

/// What [`store_listing`] wrote.
#[derive(Debug, Clone)]
pub struct StoredListing {
    /// The hub's new feed position.
    pub change_number: i64,
    /// The hub's row number in the store, stable while the store holds
    /// the hub: the search index keys its services by it.
    pub hub_key: i64,
}

/// Replaces everything held for the hub with this listing, and gives it a
/// new feed position. A withdrawn listing leaves a tombstone with no
/// services. Must run inside the caller's transaction (or savepoint).
pub fn store_listing(tx: &Connection, accepted: &AcceptedListing<'_>) -> Result<StoredListing> {
    let listing = accepted.listing;
    let change = next_change_number(tx)?;
    let profile_json = serde_json::to_string(&listing.hub)
        .map_err(|e| Error::Setup(format!("hub profile could not be stored: {e}")))?;
    let (state, services) = if listing.withdrawn {
        (HubState::Withdrawn, 0)
    } else {
        (HubState::Active, listing.services.len() as i64)
    };
    let hub_key = tx
        .prepare_cached(
            "INSERT INTO agg_hubs (hub_id, state, seq, pinned_key, envelope, envelope_sha256, name,
                 timezone, profile_json, issued_at, expires_at, accepted_at, source_url,
                 change_number, changed_at, services)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?12, ?15)
             ON CONFLICT (hub_id) DO UPDATE SET state = excluded.state, seq = excluded.seq,
                 pinned_key = excluded.pinned_key, envelope = excluded.envelope,
                 envelope_sha256 = excluded.envelope_sha256, name = excluded.name,
                 timezone = excluded.timezone, profile_json = excluded.profile_json,
                 issued_at = excluded.issued_at, expires_at = excluded.expires_at,
                 accepted_at = excluded.accepted_at, source_url = excluded.source_url,
                 change_number = excluded.change_number, changed_at = excluded.changed_at,
                 services = excluded.services
             RETURNING rowid",
        )?
        .query_row(
            params![
                accepted.hub_id,
                state,
                listing.seq as i64,
                accepted.signing_key,
                accepted.envelope,
                accepted.envelope_sha256,
                listing.hub.name,
                listing.hub.timezone,
                profile_json,
                listing.issued_at.as_second(),
                listing.expires_at.as_second(),
                accepted.now_ms,
                accepted.source_url,
                change,
                services,
            ],
            |r| r.get(0),
        )?;
    Ok(StoredListing {
        change_number: change,
        hub_key,
    })
}

/// An address as one line of text, for the text index.
pub fn address_text(a: &signpost_spec::Address) -> String {
    [
        a.address_1.as_deref().unwrap_or(""),
        a.address_2.as_deref().unwrap_or(""),
        a.city.as_deref().unwrap_or(""),
        a.region.as_deref().unwrap_or(""),
        a.postal_code.as_deref().unwrap_or(""),
    ]
    .iter()
    .filter(|p| !p.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(", ")
}

/// Marks a hub delisted by the operator: its services go, a tombstone stays
/// in the feed, and its listings are refused until it is relisted. Gives
/// the tombstone's change number; None when the hub is unknown.
pub fn delist(tx: &Connection, hub_id: &str, now_ms: i64) -> Result<Option<i64>> {
    if held_hub(tx, hub_id)?.is_none() {
        return Ok(None);
    }
    let change = next_change_number(tx)?;
    tx.execute(
        "UPDATE agg_hubs SET state = 'delisted', envelope = NULL, envelope_sha256 = NULL, services = 0,
             change_number = ?2, changed_at = ?3 WHERE hub_id = ?1",
        params![hub_id, change, now_ms],
    )?;
    Ok(Some(change))
}

/// Forgets tombstones older than the retention, so the feed does not grow
/// without bound. Returns how many were removed.
pub fn purge_tombstones(conn: &Connection, older_than_ms: i64) -> Result<usize> {
    conn.execute(
        "DELETE FROM agg_provenance WHERE hub_id IN
             (SELECT hub_id FROM agg_hubs WHERE state <> 'active' AND changed_at < ?1)",
        [older_than_ms],
    )?;
    Ok(conn.execute(
        "DELETE FROM agg_hubs WHERE state <> 'active' AND changed_at < ?1",
        [older_than_ms],
    )?)
}

/// A hub's stored envelope, as `/v1/hubs/{id}/listing` re-serves it.
#[derive(Debug, Clone)]
pub struct HeldEnvelope {
    /// The envelope, byte for byte as the hub signed it.
    pub bytes: Vec<u8>,
    /// Its listing's seq.
    pub seq: u64,
    /// The hub's state (a withdrawal keeps its signed envelope).
    pub state: HubState,
}

/// The stored envelope of a hub, byte for byte, with its seq.
pub fn hub_envelope(conn: &Connection, hub_id: &str) -> Result<Option<HeldEnvelope>> {
    Ok(conn
        .query_row(
            "SELECT envelope, seq, state FROM agg_hubs WHERE hub_id = ?1 AND envelope IS NOT NULL",
            [hub_id],
            |r| {
                Ok(HeldEnvelope {
                    bytes: r.get(0)?,
                    seq: r.get::<_, i64>(1)? as u64,
                    state: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// How current a held hub's listing is, as people and reports see it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Staleness {
    /// The listing ran out: the hub stopped re-signing (listed first in
    /// reports: the most in need of a call).
    Expired,
    /// Every address of the hub is failing.
    Unreachable,
    /// Current.
    Fresh,
    /// Withdrawn or delisted: a tombstone.
    Gone,
}

impl Staleness {
    /// The word the API and CSV files use.
    pub fn as_str(self) -> &'static str {
        match self {
            Staleness::Expired => "expired",
            Staleness::Unreachable => "unreachable",
            Staleness::Fresh => "fresh",
            Staleness::Gone => "gone",
        }
    }
}

/// A hub as `/v1/hubs` shows it: profile, state, freshness and the health
/// of every address it is crawled from.
#[derive(Debug, Serialize)]
pub struct HubSummary {
    /// The hub's id.
    pub hub_id: String,
    /// Its name.
    pub name: String,
    /// Active, withdrawn or delisted.
    pub state: HubState,
    /// The held listing's seq.
    pub seq: u64,
    /// How current the held listing is.
    pub staleness: Staleness,
    /// When the held listing was signed (RFC 3339).
    pub issued_at: String,
    /// When it runs out (RFC 3339).
    pub expires_at: String,
    /// When this aggregator accepted it (RFC 3339).
    pub accepted_at: String,
    /// The address it was accepted from.
    pub accepted_from: Option<String>,
    /// How many services it lists.
    pub services: u64,
    /// The hub section of the listing (with its four dimensions).
    pub profile: Box<RawValue>,
    /// Crawl health of each address serving this hub.
    pub sources: Vec<Source>,
    /// Every path (hub address or upstream aggregator) its listings arrived
    /// by, with the seq each delivered.
    pub provenance: Vec<Provenance>,
}

fn rfc3339_secs(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn rfc3339_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Hubs, by name, with paging; `hub_id` picks one.
pub fn list_hubs(
    conn: &Connection,
    hub_id: Option<&str>,
    limit: u32,
    offset: u32,
    now_secs: i64,
) -> Result<(Vec<HubSummary>, u64)> {
    // Two statements rather than `?1 IS NULL OR hub_id = ?1`, which SQLite
    // cannot answer from the primary key (it scanned every hub).
    let total: i64 = match hub_id {
        Some(id) => conn
            .prepare_cached("SELECT COUNT(*) FROM agg_hubs WHERE hub_id = ?1")?
            .query_row([id], |r| r.get(0))?,
        None => conn
            .prepare_cached("SELECT COUNT(*) FROM agg_hubs")?
            .query_row([], |r| r.get(0))?,
    };
    // One hub by its primary key, or all of them.
    let which = if hub_id.is_some() {
        "h.hub_id = ?1"
    } else {
        "?1 IS NULL"
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT h.hub_id, h.name, h.state, h.seq, h.issued_at, h.expires_at, h.accepted_at,
                h.source_url, h.profile_json,
                h.services
         FROM agg_hubs h WHERE {which}
         ORDER BY h.name COLLATE NOCASE, h.hub_id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![hub_id, limit, offset], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, HubState>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, i64>(9)?,
        ))
    })?;
    let mut sources_stmt = conn.prepare_cached(&format!(
        "SELECT {SOURCE_COLUMNS} FROM agg_sources WHERE hub_id = ?1 ORDER BY url"
    ))?;
    let mut hubs = Vec::new();
    for row in rows {
        let (id, name, state, seq, issued, expires, accepted, from, profile, services) = row?;
        let sources: Vec<Source> = sources_stmt
            .query_map([&id], source_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        let staleness = if state != HubState::Active {
            Staleness::Gone
        } else if expires <= now_secs {
            Staleness::Expired
        } else if !sources.is_empty() && sources.iter().all(|s| s.failures > 0) {
            Staleness::Unreachable
        } else {
            Staleness::Fresh
        };
        hubs.push(HubSummary {
            provenance: provenance(conn, &id)?,
            hub_id: id,
            name,
            state,
            seq: seq as u64,
            staleness,
            issued_at: rfc3339_secs(issued),
            expires_at: rfc3339_secs(expires),
            accepted_at: rfc3339_ms(accepted),
            accepted_from: from,
            services: services as u64,
            profile: RawValue::from_string(profile)
                .map_err(|e| Error::Setup(format!("stored hub profile is unreadable: {e}")))?,
            sources,
        });
    }
    Ok((hubs, total as u64))
}

/// An active hub's name and expiry (Unix seconds): what a page shows
/// beside one of its services (which the search index holds).
pub fn active_hub(conn: &Connection, hub_id: &str) -> Result<Option<(String, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT name, expires_at FROM agg_hubs WHERE hub_id = ?1 AND state = 'active'",
        )?
        .query_row([hub_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Records that `source` delivered `seq` of a hub (kept per hub and source,
/// so `/v1/hubs` can show every path a hub's listings arrive by).
pub fn record_provenance(
    conn: &Connection,
    hub_id: &str,
    source: &str,
    seq: u64,
    now_ms: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO agg_provenance (hub_id, source, seq, received_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (hub_id, source) DO UPDATE SET seq = excluded.seq,
             received_at = CASE WHEN agg_provenance.seq = excluded.seq
                                THEN agg_provenance.received_at ELSE excluded.received_at END",
    )?
    .execute(params![hub_id, source, seq as i64, now_ms])?;
    Ok(())
}

/// One path by which a hub's listings arrived.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// A hub's listing URL, or an upstream aggregator's feed URL.
    pub source: String,
    /// The highest seq it delivered.
    pub seq: u64,
    /// When it first delivered that seq (RFC 3339).
    pub received_at: String,
}

/// Every path by which a hub's listings arrived, most recent first.
pub fn provenance(conn: &Connection, hub_id: &str) -> Result<Vec<Provenance>> {
    let mut stmt = conn.prepare_cached(
        "SELECT source, seq, received_at FROM agg_provenance WHERE hub_id = ?1
         ORDER BY received_at DESC, source",
    )?;
    let rows = stmt.query_map([hub_id], |r| {
        Ok(Provenance {
            source: r.get(0)?,
            seq: r.get::<_, i64>(1)? as u64,
            received_at: rfc3339_ms(r.get(2)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An upstream aggregator being followed, with its cursor and health.
#[derive(Debug, Clone, Serialize)]
pub struct Upstream {
    /// Its feed URL.
    pub url: String,
    /// `config` or `cli`.
    pub origin: String,
    /// The last change number read.
    pub cursor: i64,
    /// Unix seconds of the last poll.
    pub last_poll_at: Option<i64>,
    /// Unix seconds of the last poll that read to the end without error.
    pub last_success_at: Option<i64>,
    /// The stable code of the last failure.
    pub last_error_code: Option<String>,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// Failed polls in a row.
    pub failures: u32,
    /// Listings accepted from it, in all.
    pub accepted: u64,
    /// Listings it delivered that were already held.
    pub unchanged: u64,
    /// Items it delivered that were refused (bad envelopes, replays, junk).
    pub rejected: u64,
    /// Unix seconds of the next poll.
    pub next_poll_at: i64,
}

const UPSTREAM_COLUMNS: &str = "url, origin, cursor, last_poll_at, last_success_at, \
     last_error_code, last_error, failures, accepted, unchanged, rejected, next_poll_at";

fn upstream_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Upstream> {
    Ok(Upstream {
        url: r.get(0)?,
        origin: r.get(1)?,
        cursor: r.get(2)?,
        last_poll_at: r.get(3)?,
        last_success_at: r.get(4)?,
        last_error_code: r.get(5)?,
        last_error: r.get(6)?,
        failures: r.get(7)?,
        accepted: r.get::<_, i64>(8)? as u64,
        unchanged: r.get::<_, i64>(9)? as u64,
        rejected: r.get::<_, i64>(10)? as u64,
        next_poll_at: r.get(11)?,
    })
}

/// Makes the upstreams from the config file exactly `urls` (feed URLs);
/// upstreams added otherwise stay; cursors of kept ones are untouched.
pub fn sync_config_upstreams(conn: &mut Connection, urls: &[String]) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        &format!(
            "DELETE FROM agg_upstreams WHERE origin = 'config' AND url NOT IN ({})",
            vec!["?"; urls.len().max(1)].join(", ")
        ),
        rusqlite::params_from_iter(
            urls.iter()
                .map(String::as_str)
                .chain(urls.is_empty().then_some("")),
        ),
    )?;
    for url in urls {
        add_upstream(&tx, url, "config")?;
    }
    tx.commit()?;
    Ok(())
}

/// Adds an upstream (no-op if known); returns whether it was new.
pub fn add_upstream(conn: &Connection, url: &str, origin: &str) -> Result<bool> {
    Ok(conn.execute(
        "INSERT INTO agg_upstreams (url, origin) VALUES (?1, ?2) ON CONFLICT (url) DO NOTHING",
        params![url, origin],
    )? == 1)
}

/// Every upstream, in URL order.
pub fn list_upstreams(conn: &Connection) -> Result<Vec<Upstream>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {UPSTREAM_COLUMNS} FROM agg_upstreams ORDER BY url"
    ))?;
    let rows = stmt.query_map([], upstream_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One upstream by feed URL.
pub fn get_upstream(conn: &Connection, url: &str) -> Result<Option<Upstream>> {
    Ok(conn
        .query_row(
            &format!("SELECT {UPSTREAM_COLUMNS} FROM agg_upstreams WHERE url = ?1"),
            [url],
            upstream_from_row,
        )
        .optional()?)
}

/// Upstreams due for a poll.
pub fn due_upstreams(conn: &Connection, now: i64) -> Result<Vec<Upstream>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {UPSTREAM_COLUMNS} FROM agg_upstreams WHERE next_poll_at <= ?1 ORDER BY url"
    ))?;
    let rows = stmt.query_map([now], upstream_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Counts read from one feed page.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PageCounts {
    /// Listings accepted.
    pub accepted: u64,
    /// Listings already held.
    pub unchanged: u64,
    /// Items refused.
    pub rejected: u64,
}

/// Moves an upstream's cursor past a page and adds its counts.
pub fn advance_upstream(
    conn: &Connection,
    url: &str,
    cursor: i64,
    counts: PageCounts,
) -> Result<()> {
    conn.execute(
        "UPDATE agg_upstreams SET cursor = MAX(cursor, ?2), accepted = accepted + ?3,
             unchanged = unchanged + ?4, rejected = rejected + ?5 WHERE url = ?1",
        params![
            url,
            cursor,
            counts.accepted as i64,
            counts.unchanged as i64,
            counts.rejected as i64
        ],
    )?;
    Ok(())
}

/// Records how a poll ended.
pub fn record_poll(
    conn: &Connection,
    url: &str,
    at: i64,
    error: Option<(&str, &str)>,
    next_poll_at: i64,
) -> Result<()> {
    match error {
        Some((code, message)) => conn.execute(
            "UPDATE agg_upstreams SET last_poll_at = ?2, last_error_code = ?3, last_error = ?4,
                 failures = failures + 1, next_poll_at = ?5 WHERE url = ?1",
            params![url, at, code, message, next_poll_at],
        )?,
        None => conn.execute(
            "UPDATE agg_upstreams SET last_poll_at = ?2, last_success_at = ?2,
                 last_error_code = NULL, last_error = NULL, failures = 0, next_poll_at = ?3
             WHERE url = ?1",
            params![url, at, next_poll_at],
        )?,
    };
    Ok(())
}

/// Every active listing: (hub id, seq, the signed envelope's bytes).
pub fn active_listings(conn: &Connection) -> Result<Vec<(String, u64, Vec<u8>)>> {
    let mut stmt = conn.prepare(
        "SELECT hub_id, seq, envelope FROM agg_hubs
         WHERE state = 'active' AND envelope IS NOT NULL ORDER BY hub_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Values read from the store at scrape time (for an operator's metrics).
#[derive(Debug, Default)]
pub struct StoreGauges {
    /// Database file size in bytes (with its WAL).
    pub bytes: u64,
    /// Hubs held, by state.
    pub hubs: std::collections::BTreeMap<String, u64>,
    /// Services searchable.
    pub services: u64,
    /// Per upstream feed: seconds since its last successful poll (feed lag).
    pub upstream_lag_secs: std::collections::BTreeMap<String, i64>,
}

/// Counts for `/metrics`: hubs by state, services, and upstream feed lag.
pub fn store_gauges(conn: &Connection, now_secs: i64) -> Result<StoreGauges> {
    let mut gauges = StoreGauges::default();
    let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM agg_hubs GROUP BY state")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (state, n) = row?;
        gauges.hubs.insert(state, n as u64);
    }
    gauges.services =
        conn.query_row("SELECT COALESCE(SUM(services), 0) FROM agg_hubs", [], |r| {
            r.get::<_, i64>(0)
        })? as u64;
    for u in list_upstreams(conn)? {
        gauges
            .upstream_lag_secs
            .insert(u.url, now_secs - u.last_success_at.unwrap_or(0));
    }
    Ok(gauges)
}

// ---------------------------------------------------------------------
// Registrations by strangers (`POST /v1/register`): who asked for which
// source, so the node can cap them per registrant, per host and in all,
// hold them for an operator's approval, and let them expire. Kept apart
// from the sources' own SQL above: a registration row sits beside its
// source (`state = 'active'`) or stands alone (`checking`, `pending`).
// ---------------------------------------------------------------------

/// Migration 9: registrations, for their caps, approval and expiry.
pub const MIGRATION_REGISTRATIONS: &str = "
CREATE TABLE agg_registrations (
    url TEXT PRIMARY KEY,
    registrant TEXT NOT NULL,
    host TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('checking', 'pending', 'active')),
    hub_id TEXT,
    requested_at INTEGER NOT NULL
);
CREATE INDEX agg_registrations_registrant ON agg_registrations (registrant);
CREATE INDEX agg_registrations_host ON agg_registrations (host);
INSERT INTO agg_registrations (url, registrant, host, state, hub_id, requested_at)
    SELECT url, '', '', 'active', hub_id, added_at FROM agg_sources WHERE origin = 'register';
";

/// How many registrations the node holds at most (pending ones count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationCaps {
    /// In all.
    pub total: usize,
    /// From one registrant (an IPv4 address or an IPv6 /64).
    pub per_registrant: usize,
    /// At one host name.
    pub per_host: usize,
}

/// Who asks to register which address.
#[derive(Debug, Clone)]
pub struct RegistrationRequest<'a> {
    /// The listing URL.
    pub url: &'a str,
    /// The registrant's allowance key (an address, or a /64 for IPv6).
    pub registrant: &'a str,
    /// The URL's host name, lower case, without the port.
    pub host: &'a str,
    /// Unix seconds.
    pub now: i64,
}

/// What [`reserve_registration`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// A new registration, held as `checking` until it is settled.
    Reserved,
    /// The address is already a source: no new one, no cap applies.
    Known,
    /// The address already waits for approval (of this hub, when known).
    Pending(Option<String>),
    /// Another registration of the address is being checked right now.
    Busy,
    /// A cap is reached: `registration_full`, `too_many_registrations`
    /// or `host_full`.
    Full(&'static str),
}

/// Checks the caps and, within them, reserves a place for the address
/// (state `checking`) in one transaction, so registrations racing each
/// other cannot pass a cap together.
pub fn reserve_registration(
    conn: &mut Connection,
    request: &RegistrationRequest<'_>,
    caps: RegistrationCaps,
) -> Result<Reservation> {
    let tx = conn.transaction()?;
    if tx
        .prepare_cached("SELECT 1 FROM agg_sources WHERE url = ?1")?
        .exists([request.url])?
    {
        return Ok(Reservation::Known);
    }
    let held: Option<(String, Option<String>)> = tx
        .prepare_cached("SELECT state, hub_id FROM agg_registrations WHERE url = ?1")?
        .query_row([request.url], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match held {
        Some((state, hub_id)) if state == "pending" => return Ok(Reservation::Pending(hub_id)),
        Some((state, _)) if state == "checking" => return Ok(Reservation::Busy),
        // An `active` row whose source has gone is taken anew below.
        _ => {}
    }
    let count = |sql: &str, value: Option<&str>| -> Result<usize> {
        let mut stmt = tx.prepare_cached(sql)?;
        let n: i64 = match value {
            Some(v) => stmt.query_row([v], |r| r.get(0))?,
            None => stmt.query_row([], |r| r.get(0))?,
        };
        Ok(n as usize)
    };
    let full = if count("SELECT COUNT(*) FROM agg_registrations", None)? >= caps.total {
        Some("registration_full")
    } else if count(
        "SELECT COUNT(*) FROM agg_registrations WHERE registrant = ?1",
        Some(request.registrant),
    )? >= caps.per_registrant
    {
        Some("too_many_registrations")
    } else if count(
        "SELECT COUNT(*) FROM agg_registrations WHERE host = ?1",
        Some(request.host),
    )? >= caps.per_host
    {
        Some("host_full")
    } else {
        None
    };
    if let Some(code) = full {
        return Ok(Reservation::Full(code));
    }
    tx.execute(
        "INSERT INTO agg_registrations (url, registrant, host, state, requested_at)
         VALUES (?1, ?2, ?3, 'checking', ?4)
         ON CONFLICT (url) DO UPDATE SET registrant = excluded.registrant,
             host = excluded.host, state = 'checking', requested_at = excluded.requested_at",
        params![request.url, request.registrant, request.host, request.now],
    )?;
    tx.commit()?;
    Ok(Reservation::Reserved)
}

/// Gives up a reservation whose registration failed.
pub fn release_registration(conn: &Connection, url: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM agg_registrations WHERE url = ?1 AND state = 'checking'",
        [url],
    )?;
    Ok(())
}

/// Settles a reservation: `pending` waits for an operator; `active` means
/// the caller has added the source.
pub fn settle_registration(
    conn: &Connection,
    url: &str,
    pending: bool,
    hub_id: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE agg_registrations SET state = ?2, hub_id = ?3 WHERE url = ?1",
        params![url, if pending { "pending" } else { "active" }, hub_id],
    )?;
    Ok(())
}

/// A registration waiting for the operator's approval.
#[derive(Debug, Clone, Serialize)]
pub struct PendingRegistration {
    /// The listing URL.
    pub url: String,
    /// The hub its listing named when it was checked.
    pub hub_id: Option<String>,
    /// Who asked (an address, or an IPv6 /64).
    pub registrant: String,
    /// Unix seconds.
    pub requested_at: i64,
}

/// Registrations waiting for approval, oldest first.
pub fn pending_registrations(conn: &Connection) -> Result<Vec<PendingRegistration>> {
    let mut stmt = conn.prepare(
        "SELECT url, hub_id, registrant, requested_at FROM agg_registrations
         WHERE state = 'pending' ORDER BY requested_at, url",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PendingRegistration {
            url: r.get(0)?,
            hub_id: r.get(1)?,
            registrant: r.get(2)?,
            requested_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A registered source: an address that came in through `POST
/// /v1/register` and was taken on (at once, or by the operator), with what
/// its hub holds here, so the operator can see which strangers hold how
/// much beside the caps on how many addresses each may register.
#[derive(Debug, Clone, Serialize)]
pub struct RegisteredSource {
    /// The listing URL.
    pub url: String,
    /// The hub it serves, once known (from its check or a crawl).
    pub hub_id: Option<String>,
    /// Who asked (an address, or an IPv6 /64); empty for registrations
    /// made before the node recorded it.
    pub registrant: String,
    /// When it asked, Unix seconds.
    pub requested_at: i64,
    /// Services its hub's held listing lists: none until a listing is
    /// held, nor once the hub withdrew or was delisted.
    pub services: u64,
    /// Bytes of the signed listing held for its hub (0 when none is).
    pub listing_bytes: u64,
}

/// Every registered source with what its hub holds, by registrant then
/// address. As many as `aggregator.max_registrations` at most (they count
/// against it), each read with two primary-key lookups.
pub fn registered_sources(conn: &Connection) -> Result<Vec<RegisteredSource>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.url, COALESCE(s.hub_id, r.hub_id), r.registrant, r.requested_at,
                COALESCE(h.services, 0), COALESCE(LENGTH(h.envelope), 0)
         FROM agg_registrations r
         JOIN agg_sources s ON s.url = r.url
         LEFT JOIN agg_hubs h ON h.hub_id = COALESCE(s.hub_id, r.hub_id)
         WHERE r.state = 'active'
         ORDER BY r.registrant, r.url",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RegisteredSource {
            url: r.get(0)?,
            hub_id: r.get(1)?,
            registrant: r.get(2)?,
            requested_at: r.get(3)?,
            services: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
            listing_bytes: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Approves a pending registration: its address becomes a source, due
/// for a crawl at once. False when no such registration waits.
pub fn approve_registration(conn: &mut Connection, url: &str, now: i64) -> Result<bool> {
    let tx = conn.transaction()?;
    if tx.execute(
        "UPDATE agg_registrations SET state = 'active' WHERE url = ?1 AND state = 'pending'",
        [url],
    )? == 0
    {
        return Ok(false);
    }
    add_source(&tx, url, Origin::Register, now)?;
    tx.commit()?;
    Ok(true)
}

/// Refuses a pending registration (the address may register again).
pub fn reject_registration(conn: &Connection, url: &str) -> Result<bool> {
    Ok(conn.execute(
        "DELETE FROM agg_registrations WHERE url = ?1 AND state = 'pending'",
        [url],
    )? == 1)
}

/// Registered sources that have not given a good listing since `cutoff`
/// (nor ever, counting from when they were added), pending registrations
/// asked before it, and checks left by a crash an hour ago: all removed,
/// so strangers' addresses do not hold their places for ever. The hubs
/// they brought stay until they expire. Gives how many were removed.
pub fn expire_registrations(conn: &mut Connection, cutoff: i64, now: i64) -> Result<usize> {
    let tx = conn.transaction()?;
    let sources = tx.execute(
        "DELETE FROM agg_sources WHERE origin = 'register'
             AND COALESCE(last_success_at, added_at) < ?1",
        [cutoff],
    )?;
    let registrations = tx.execute(
        "DELETE FROM agg_registrations WHERE
             (state = 'active' AND url NOT IN (SELECT url FROM agg_sources))
             OR (state = 'pending' AND requested_at < ?1)
             OR (state = 'checking' AND requested_at < ?2)",
        params![cutoff, now - 3600],
    )?;
    tx.commit()?;
    Ok(sources.max(registrations))
}

/// Records a coordinator's decision that two services are not duplicates
/// (the pair in a fixed order, so either way round is the same decision),
/// so the duplicates report stops naming them.
pub fn not_duplicates(conn: &Connection, a: (&str, &str), b: (&str, &str), now: i64) -> Result<()> {
    let (p, q) = if a <= b { (a, b) } else { (b, a) };
    conn.execute(
        "INSERT INTO agg_not_duplicates (a_hub, a_service, b_hub, b_service, decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        params![p.0, p.1, q.0, q.1, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_keep_their_words_in_the_store_and_the_json() {
        let conn = Connection::open_in_memory().expect("db");
        for (state, word) in [
            (HubState::Active, "active"),
            (HubState::Withdrawn, "withdrawn"),
            (HubState::Delisted, "delisted"),
        ] {
            let stored: String = conn
                .query_row("SELECT ?1", [state], |r| r.get(0))
                .expect("to text");
            assert_eq!(stored, word);
            let read: HubState = conn
                .query_row("SELECT ?1", [word], |r| r.get(0))
                .expect("from text");
            assert_eq!(read, state);
            assert_eq!(serde_json::to_value(state).expect("json"), word);
        }
        let outcome = CrawlOutcome::NotModified;
        assert_eq!(serde_json::to_value(outcome).expect("json"), "not_modified");
        assert_eq!(format!("{outcome:<13}|"), "not_modified |");
        let unknown = conn.query_row("SELECT 'gone'", [], |r| r.get::<_, HubState>(0));
        assert!(
            unknown.is_err(),
            "a word not of the enum is an error, not a guess"
        );
    }
}
