//! A verified directory: the record (SQLite) and its search index
//! (tantivy), kept in step, with the one path by which any listing gets in
//! ([`Directory::ingest`]: verify first, parse once, judge against what is
//! held, store, index). An aggregator and an app's replica are both one of
//! these; the aggregator adds crawling and serving around it.

use std::path::Path;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};
use signpost_spec::{verify_listing, Limits, VerifyOptions};

use crate::error::{Error, Result};
use crate::search;
use crate::search::index::{prepare, service_key, Entry, Prepared, SearchIndex};
use crate::store::aggregator::{self as db, CrawlOutcome};
use crate::store::{self, ReadPool};
use crate::verify::TrustPolicy;

mod indexer;
mod queries;
mod writer;

/// Called with what became of every listing offered (an operator's
/// counters of refusals, for instance).
pub type OnIngest = dyn Fn(&Ingested) + Send + Sync;

/// What a directory accepts, and who hears of it.
#[derive(Clone)]
pub struct DirectorySettings {
    /// Caps on the listings read (the largest envelope above all).
    pub limits: Limits,
    /// Who may be accepted on first contact.
    pub policy: TrustPolicy,
    /// Told of every outcome, after it is final.
    pub on_ingest: Option<Arc<OnIngest>>,
}

/// The record and the index of one directory, and the writer that keeps
/// them in step.
pub struct Directory {
    writer: Arc<Mutex<Connection>>,
    readers: Arc<ReadPool>,
    limits: Limits,
    writer_queue: writer::Writer,
    index: Arc<SearchIndex>,
    /// The one thread that writes the index.
    indexer: indexer::Indexer,
    on_ingest: Option<Arc<OnIngest>>,
    /// Ticks after every write to the store (a batch of listings stored,
    /// or any other write): what a long-polled feed page waits on.
    changed: Arc<tokio::sync::watch::Sender<u64>>,
}

/// A service as its hub published it, with what a reader shows beside it.
#[derive(Debug, Clone)]
pub struct HeldService {
    /// The hub that published it.
    pub hub_id: String,
    /// That hub's name.
    pub hub_name: String,
    /// When that hub's listing runs out (Unix seconds).
    pub expires_at: i64,
    /// The service (JSON of [`signpost_spec::Service`]).
    pub json: String,
}

/// What became of one listing offered to the aggregator.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Ingested {
    /// Stored, with its new feed position.
    Accepted {
        /// The hub.
        hub_id: String,
        /// The listing's seq.
        seq: u64,
        /// The feed's change number for it.
        change_number: i64,
        /// True when it was a signed withdrawal.
        withdrawn: bool,
    },
    /// The very listing already held.
    Unchanged {
        /// The hub.
        hub_id: String,
        /// The listing's seq.
        seq: u64,
    },
    /// Refused; what was held stays.
    Rejected {
        /// The hub, when the listing got far enough to name it.
        hub_id: Option<String>,
        /// Stable reason code (a spec error code or an acceptance rule).
        code: String,
        /// What is wrong.
        message: String,
    },
}

impl Directory {
    /// Opens (creating if needed) the directory of the database at `path`
    /// and its index beside it, bringing the index up to the store first.
    pub fn open(path: &Path, settings: DirectorySettings) -> Result<Directory> {
        let conn = store::open(path)?;
        search::register_functions(&conn)?;
        Directory::open_on(path, conn, settings)
    }

    /// Opens the directory on a connection already opened (and set up) by
    /// the caller, which may have written to it first.
    pub fn open_on(
        path: &Path,
        conn: Connection,
        settings: DirectorySettings,
    ) -> Result<Directory> {
        let DirectorySettings {
            limits,
            policy,
            on_ingest,
        } = settings;
        let index = Arc::new(SearchIndex::open(&index_dir(path))?);
        catch_up(&conn, &index, &limits)?;
        let writer = Arc::new(Mutex::new(conn));
        let indexer =
            indexer::Indexer::start(index.clone(), Arc::downgrade(&writer), limits.clone())?;
        let changed = Arc::new(tokio::sync::watch::Sender::new(0u64));
        let tell = changed.clone();
        let keep_in_step = indexer.clone();
        let writer_queue = writer::Writer::start(
            writer.clone(),
            policy,
            Arc::new(move |stored: Vec<writer::Stored>| {
                for s in stored {
                    // Err only when the index thread has stopped (the node
                    // is going down); the index catches up at the next start.
                    if let Err(e) = keep_in_step.file(
                        s.hub_id,
                        s.timezone,
                        s.hub_key,
                        s.change_number,
                        s.prepared,
                    ) {
                        tracing::error!(error = %e, "a stored listing could not be handed to the search index");
                    }
                }
                tell.send_modify(|n| *n = n.wrapping_add(1));
            }),
        )?;
        Ok(Directory {
            writer_queue,
            index,
            indexer,
            readers: Arc::new(ReadPool::new(path, search::register_functions)),
            writer,
            limits,
            on_ingest,
            changed,
        })
    }

    /// A receiver that sees a change after every write to the store, so a
    /// reader of the feed can wait for its next item instead of polling.
    /// Subscribe before reading, then wait on `changed()`: a write between
    /// the two is not missed.
    pub fn watch_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Runs blocking work with the single writing connection.
    ///
    /// Readers use the typed methods of the query layer (`queries.rs`)
    /// instead. This stays public for the node's crawl scheduler (due
    /// sources, crawl health, upstream polls) and its registration and
    /// reports, which own their SQL and are outside the query layer.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let writer = self.writer.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut conn = writer
                .lock()
                .map_err(|_| Error::Setup("a database write crashed; restart the node".into()))?;
            work(&mut conn)
        })
        .await
        .map_err(|e| Error::Setup(format!("background work failed: {e}")))?;
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        done
    }

    /// Runs blocking work with a pooled read-only connection.
    ///
    /// Handlers use the typed methods of the query layer (`queries.rs`) and
    /// never see a connection. This stays public for the node's crawl
    /// scheduler and its whole-region reports (`Aggregator::report`), which
    /// read the store with their own SQL.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || readers.with(work))
            .await
            .map_err(|e| Error::Setup(format!("background work failed: {e}")))?
    }

    /// Verifies a listing and, if the rules allow, stores it (atomically,
    /// by the group-commit writer). `source_url` is where it came from (for
    /// provenance and the address-to-hub binding). Verification runs on the
    /// blocking pool, so concurrent ingests verify on every core.
    pub async fn ingest(&self, bytes: Vec<u8>, source_url: Option<String>) -> Result<Ingested> {
        self.ingest_expecting(bytes, source_url, None).await
    }

    /// [`Self::ingest`] for bytes that must be `hub_id`'s listing (a feed
    /// item names its hub): another hub's good listing is refused
    /// (`bad_feed`) after its signature is checked and before anything of
    /// it is stored.
    pub async fn ingest_expecting(
        &self,
        bytes: Vec<u8>,
        source_url: Option<String>,
        hub_id: Option<String>,
    ) -> Result<Ingested> {
        let limits = self.limits.clone();
        let verified = tokio::task::spawn_blocking(move || {
            let now = Timestamp::now();
            let checked = verify_listing(&bytes, &VerifyOptions { now, limits }).map(|v| {
                // Read for the search index here, on every core, not in
                // the single store writer.
                let (hub_id, hub_name) = (v.hub_id.as_str(), v.listing.hub.name.as_str());
                let prepared = v
                    .listing
                    .services
                    .iter()
                    .map(|s| prepare(s, hub_id, hub_name))
                    .collect();
                (v, prepared)
            });
            let sha = hex(&Sha256::digest(&bytes));
            (checked, bytes, sha, now)
        })
        .await
        .map_err(|e| Error::Setup(format!("background work failed: {e}")))?;
        let outcome = match verified {
            (Err(e), ..) => Ingested::Rejected {
                hub_id: None,
                code: e.code().to_owned(),
                message: e.to_string(),
            },
            (Ok((verified, _)), ..)
                if hub_id
                    .as_deref()
                    .is_some_and(|expected| expected != verified.hub_id.as_str()) =>
            {
                Ingested::Rejected {
                    message: format!(
                        "the envelope is hub {}'s, not {}",
                        verified.hub_id.as_str(),
                        hub_id.as_deref().unwrap_or_default()
                    ),
                    hub_id,
                    code: "bad_feed".to_owned(),
                }
            }
            (Ok((verified, prepared)), bytes, sha, now) => {
                self.writer_queue
                    .submit(writer::Verified {
                        verified,
                        prepared,
                        bytes,
                        sha,
                        source_url,
                        now,
                    })
                    .await?
            }
        };
        if let Some(observe) = &self.on_ingest {
            observe(&outcome);
        }
        Ok(outcome)
    }

    /// Categories with their number of services, the commonest first.
    pub fn categories(&self, limit: usize) -> Result<Vec<(String, u64)>> {
        self.index.categories(limit)
    }

    /// The search index (the node's one query engine), for readers that
    /// pair it with the store's rows.
    pub fn index(&self) -> Arc<SearchIndex> {
        self.index.clone()
    }

    /// Services searchable now.
    pub fn searchable(&self) -> usize {
        self.index.len()
    }

    /// Makes everything stored so far searchable now (rather than within
    /// [`crate::search::index::COMMIT_EVERY`]): for "crawl now" and tools that read right after
    /// writing.
    pub async fn make_searchable(&self) -> Result<()> {
        let indexer = self.indexer.clone();
        tokio::task::spawn_blocking(move || indexer.commit())
            .await
            .map_err(|e| Error::Setup(format!("background work failed: {e}")))?
    }

    /// Delists a hub (its services go, a tombstone stays); false if the hub
    /// is unknown.
    pub async fn delist(&self, hub_id: &str) -> Result<bool> {
        let id = hub_id.to_owned();
        let indexer = self.indexer.clone();
        let delisted = self
            .write(move |c| {
                let tx = c.transaction()?;
                let change = db::delist(&tx, &id, Timestamp::now().as_millisecond())?;
                tx.commit()?;
                if let Some(change) = change {
                    // Sent while the store is held, so after every earlier
                    // change of the hub.
                    indexer.file(id, String::new(), 0, change, Vec::new())?;
                }
                Ok(change.is_some())
            })
            .await?;
        if delisted {
            self.make_searchable().await?;
        }
        Ok(delisted)
    }

    /// Removes tombstones older than `cutoff_ms` (Unix milliseconds).
    pub async fn purge_tombstones(&self, cutoff_ms: i64) -> Result<usize> {
        self.write(move |conn| db::purge_tombstones(conn, cutoff_ms))
            .await
    }
}

/// Services read from the store per unit of work when the index is filled.
const BUILD_BATCH: usize = 2_000;

/// Where the search index of the database at `db` lives: beside it
/// (`signpost.db` has `signpost.index/`).
pub fn index_dir(db: &Path) -> std::path::PathBuf {
    db.with_extension("index")
}

/// A hub's services, prepared, as index entries keyed from its row.
fn entries(hub_key: i64, prepared: &[Prepared]) -> Vec<Entry<'_>> {
    prepared
        .iter()
        .enumerate()
        .map(|(position, prepared)| Entry {
            key: service_key(hub_key, position as u32),
            position: position as u32,
            prepared,
        })
        .collect()
}

/// One changed hub as the store holds it, to be filed again.
struct StoredHub {
    hub_id: String,
    hub_key: i64,
    change: i64,
    /// The envelope it signed, when it is active.
    envelope: Option<Vec<u8>>,
}

/// Reads and files a batch of stored hubs: each envelope is read again
/// (it was verified on its way in) and its services prepared.
fn index_hubs(index: &SearchIndex, limits: &Limits, batch: Vec<StoredHub>) -> Result<()> {
    for hub in batch {
        let Some(envelope) = &hub.envelope else {
            index.replace_hub(&hub.hub_id, "", &[], hub.change)?;
            continue;
        };
        let listing = signpost_spec::read_verified_listing(envelope, limits).map_err(|e| {
            Error::Setup(format!(
                "the stored listing of {} is unreadable: {e}",
                hub.hub_id
            ))
        })?;
        let prepared: Vec<Prepared> = listing
            .services
            .iter()
            .map(|s| prepare(s, &hub.hub_id, &listing.hub.name))
            .collect();
        index.replace_hub(
            &hub.hub_id,
            &listing.hub.timezone,
            &entries(hub.hub_key, &prepared),
            hub.change,
        )?;
    }
    Ok(())
}

/// Brings the index up to the store's last change: every hub changed since
/// the change the index last committed is filed again from the envelope it
/// signed (all of them when the index is new), hubs the store no longer
/// holds as active are removed, and the result is committed. One thread
/// reads the record, every core parses and files (most of the cost). Runs
/// at start, with the store's writing connection, before anything else
/// writes.
pub(crate) fn catch_up(conn: &Connection, index: &SearchIndex, limits: &Limits) -> Result<()> {
    let started = std::time::Instant::now();
    let mut since = index.committed_change();
    let last = db::last_change_number(conn)?;
    if last < since {
        tracing::warn!(
            index_change = since,
            store_change = last,
            "the search index is ahead of the store (was the store restored from a backup?): rebuilding it"
        );
        index.clear()?;
        since = 0;
    } else if last == since && since > 0 {
        return Ok(());
    }
    let active: std::collections::HashSet<String> = {
        let mut stmt = conn.prepare("SELECT hub_id FROM agg_hubs WHERE state = 'active'")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for hub in index.hubs()? {
        if !active.contains(&hub) {
            index.replace_hub(&hub, "", &[], last)?;
        }
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (batches, work) = std::sync::mpsc::sync_channel::<Vec<StoredHub>>(workers * 2);
    let work = Mutex::new(work);
    let mut hubs = 0usize;
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            handles.push(scope.spawn(|| -> Result<()> {
                // After a failure, keep taking batches (so the reader never
                // waits on a full queue) but do nothing with them.
                let mut failed = None;
                loop {
                    let batch = match work.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok(batch) = batch else {
                        break;
                    };
                    if failed.is_none() {
                        failed = index_hubs(index, limits, batch).err();
                    }
                }
                failed.map_or(Ok(()), Err)
            }));
        }
        // Hubs changed since, whatever their state now: each is replaced
        // (by nothing when it is no longer active).
        let read = (|| -> Result<()> {
            let mut stmt = conn.prepare(
                "SELECT hub_id, rowid, change_number, CASE WHEN state = 'active' THEN envelope END,
                        services
                 FROM agg_hubs WHERE change_number > ?1 ORDER BY change_number",
            )?;
            let mut rows = stmt.query([since])?;
            let mut batch: Vec<StoredHub> = Vec::new();
            let mut in_batch = 0usize;
            while let Some(r) = rows.next()? {
                let hub = StoredHub {
                    hub_id: r.get(0)?,
                    hub_key: r.get(1)?,
                    change: r.get(2)?,
                    envelope: r.get(3)?,
                };
                in_batch += r.get::<_, i64>(4)? as usize + 1;
                hubs += 1;
                batch.push(hub);
                if in_batch >= BUILD_BATCH {
                    if batches.send(std::mem::take(&mut batch)).is_err() {
                        break;
                    }
                    in_batch = 0;
                }
            }
            if !batch.is_empty() {
                let _ = batches.send(batch);
            }
            Ok(())
        })();
        drop(batches);
        for handle in handles {
            handle
                .join()
                .map_err(|_| Error::Setup("filling the search index crashed".into()))??;
        }
        read
    })?;
    // The change reached, also when nothing was left to file.
    index.reached(last);
    index.commit_if_dirty()?;
    tracing::info!(
        from_change = since,
        to_change = last,
        hubs,
        searchable = index.len(),
        secs = started.elapsed().as_secs_f64(),
        "search index brought up to date from the store"
    );
    Ok(())
}

/// The short name of an outcome, as health and logs show it.
pub fn outcome_name(outcome: &Ingested) -> &'static str {
    CrawlOutcome::from(outcome).as_str()
}

/// A crawl that read a listing ended as the directory judged it.
impl From<&Ingested> for CrawlOutcome {
    fn from(outcome: &Ingested) -> CrawlOutcome {
        match outcome {
            Ingested::Accepted { .. } => CrawlOutcome::Accepted,
            Ingested::Unchanged { .. } => CrawlOutcome::Unchanged,
            Ingested::Rejected { .. } => CrawlOutcome::Rejected,
        }
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::hsds::ListOf;
    use signpost_spec::Listing;

    #[test]
    fn a_store_of_the_previous_schema_migrates_and_is_indexed_on_first_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("signpost.db");
        {
            // A store as the previous release left it: schema 6, with its
            // Open Referral and opening-time tables, and no search index.
            let mut conn = rusqlite::Connection::open(&path).expect("open");
            crate::store::migrate_to(&mut conn, 6).expect("schema 6");
            let key = signpost_spec::HubKey::from_seed(&[7; 32]).expect("key");
            let hub_id = key.key_id().as_str().to_owned();
            let listing: Listing = serde_json::from_value(serde_json::json!({
                "signpost": "1", "seq": 1,
                "issued_at": "2098-12-01T00:00:00Z", "expires_at": "2099-01-08T00:00:00Z",
                "hub": {"id": hub_id, "name": "Revoelution", "timezone": "Europe/London",
                        "dimensions": {"space": ["dedicated"], "governance": "community-led",
                                       "focus": "generic", "coordination": "first-level"}},
                "services": [{"id": "ac148810-d857-441c-9679-408f346de14b", "name": "Job Club",
                    "access": ["walk-in"],
                    "locations": [{"id": "3a19ff88-4620-4d17-9830-ac1d859eb5d5", "latitude": 53.8,
                                   "longitude": -3.0, "address": {"postal_code": "fy16jh"}}],
                    "schedules": [{"byday": "TU", "opens_at": "10:00", "closes_at": "12:00"}],
                    "taxonomy_terms": [{"name": "Employment", "taxonomy": "signpost"}]}]
            }))
            .expect("listing");
            let envelope =
                signpost_spec::sign_listing(&listing, &key, &Limits::default()).expect("sign");
            // The hub and its service as schema 6 kept them (a row per
            // service beside the envelope).
            conn.execute(
                "INSERT INTO agg_hubs (hub_id, state, seq, pinned_key, envelope, envelope_sha256,
                     name, timezone, profile_json, issued_at, expires_at, accepted_at,
                     change_number, changed_at)
                 VALUES (?1, 'active', 1, ?1, ?2, '', 'Revoelution', 'Europe/London', '{}',
                     0, 4070908800, 0, 1, 0)",
                rusqlite::params![hub_id, envelope],
            )
            .expect("hub row");
            conn.execute(
                "INSERT INTO agg_services (hub_id, service_id, position, name, json)
                 VALUES (?1, 'ac148810-d857-441c-9679-408f346de14b', 0, 'Job Club', '{}')",
                [&hub_id],
            )
            .expect("service row");
            crate::store::set_meta(&conn, "feed_change_number", "1").expect("change number");
            let tables: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('agg_hsds', 'agg_schedules')",
                    [],
                    |r| r.get(0),
                )
                .expect("tables");
            assert_eq!(tables, 2);
        }
        assert!(!index_dir(&path).exists());
        let agg = Directory::open(
            &path,
            DirectorySettings {
                limits: Limits::default(),
                policy: TrustPolicy::new(crate::verify::Trust::Open, []),
                on_ingest: None,
            },
        )
        .expect("first start");
        assert_eq!(agg.searchable(), 1, "indexed from the store on first start");
        let conn = crate::store::open(&path).expect("reopen");
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(version, crate::store::schema_version());
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('agg_hsds', 'agg_schedules', 'agg_services')",
                [],
                |r| r.get(0),
            )
            .expect("tables");
        assert_eq!(tables, 0, "the derived tables are gone, services' rows too");
        let held: i64 = conn
            .query_row("SELECT services FROM agg_hubs", [], |r| r.get(0))
            .expect("count");
        assert_eq!(held, 1, "the store keeps how many services the hub holds");
        let index = agg.index();
        let filter = crate::search::hsds::Filter {
            postcode: crate::search::place::Postcode::parse("FY1 6JH"),
            weekday: Some(1),
            ..Default::default()
        };
        let (rows, total) =
            crate::search::hsds::list(&index, &conn, ListOf::Locations, &filter, 10, 0)
                .expect("list");
        assert_eq!((rows.len(), total), (1, 1));
        let near = crate::search::SearchParams::from_query(
            &[("q", "job"), ("near", "53.8,-3.0")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
        .expect("params");
        assert_eq!(index.search(&near).expect("search").total, 1);
    }
}
