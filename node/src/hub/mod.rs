//! The hub role: keeps the hub's services and turns every change into a new
//! signed publication with a higher `seq`, in one database transaction.
//!
//! [`HubCore`] is synchronous and used both by the server (behind a mutex,
//! off the async threads) and by the CLI working on a data directory.

pub mod db;
pub mod draft;
pub mod fetch_log;

use std::path::Path;

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, Transaction};
use serde_json::Value;
use sha2::{Digest, Sha256};
use signpost_spec::{
    rotate, sign_listing, validate_service, verify_chain, Envelope, HubKey, HubProfile, KeyId,
    Limits, Listing, Service, PROTOCOL_VERSION,
};

use crate::config::{Config, DATABASE_FILE};
use crate::error::{NodeError, Result};
use signpost_client::store;

/// Meta key under which the hub's key-rotation statements are kept.
const ROTATIONS_KEY: &str = "hub_rotations";
/// The hub's key rotation statements, oldest first.
fn load_rotations(conn: &Connection) -> Result<Vec<Envelope>> {
    match store::get_meta(conn, ROTATIONS_KEY)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| NodeError::Setup(format!("stored key rotations are unreadable: {e}"))),
        None => Ok(Vec::new()),
    }
}

/// Where a new key waits while a rotation is being recorded.
fn pending_key_path(key_path: &Path) -> std::path::PathBuf {
    let mut name = key_path.as_os_str().to_owned();
    name.push(".new");
    std::path::PathBuf::from(name)
}

/// Keeps the old key as `KEY.retired-UNIXTIME` and puts the new one in place.
fn retire_and_promote(key_path: &Path, pending: &Path) -> Result<()> {
    let mut retired = key_path.as_os_str().to_owned();
    retired.push(format!(".retired-{}", Timestamp::now().as_second()));
    std::fs::rename(key_path, &retired).map_err(|e| NodeError::io("retiring", key_path, e))?;
    std::fs::rename(pending, key_path).map_err(|e| NodeError::io("installing", pending, e))?;
    Ok(())
}

/// Finishes a rotation that was recorded in the database but whose key
/// files were not yet moved (a crash in between).
fn finish_interrupted_rotation(conn: &Connection, key_path: &Path) -> Result<()> {
    let pending = pending_key_path(key_path);
    if !pending.exists() {
        return Ok(());
    }
    let rotations = load_rotations(conn)?;
    let new_key = crate::keyfile::load(&pending)?;
    let named = rotations.last().and_then(|r| {
        r.decode_payload(signpost_spec::ROTATION_PAYLOAD_TYPE, &Limits::default())
            .ok()
            .and_then(|p| serde_json::from_slice::<signpost_spec::RotationStatement>(&p).ok())
            .map(|s| s.next_key)
    });
    if named.as_deref() == Some(new_key.key_id().as_str()) {
        tracing::warn!("finishing a key rotation that was interrupted");
        retire_and_promote(key_path, &pending)
    } else {
        // The rotation never reached the database: the new key was never used.
        std::fs::remove_file(&pending).map_err(|e| NodeError::io("removing", &pending, e))
    }
}

/// `meta` key that is "true" while the hub has withdrawn from the network.
const WITHDRAWN_KEY: &str = "withdrawn";
/// Meta key: the highest seq this hub is known to have issued before its
/// database was replaced by a backup (see [`mark_restored`]).
const SEQ_FLOOR_KEY: &str = "hub_seq_floor";
/// Meta key: set by a restore, cleared by the publication that follows it.
const RESTORED_KEY: &str = "hub_restored";

/// The highest seq the hub in this database has issued or is known to have
/// issued (0 for none): its publications, and the floor a restore left.
pub fn highest_seq(conn: &Connection) -> Result<u64> {
    let published = db::latest_publication(conn)?.map_or(0, |p| p.seq);
    let floor = store::get_meta(conn, SEQ_FLOOR_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(published.max(floor))
}

/// Marks a database just restored from a backup: its next seq goes above
/// `issued_before` (the highest seq of the database it replaced, which
/// aggregators may hold), and the hub publishes anew when next opened, so
/// aggregators take the restored listing at their next crawl instead of
/// refusing the backup's old publication as a replay.
pub fn mark_restored(conn: &Connection, issued_before: u64) -> Result<()> {
    let floor = highest_seq(conn)?.max(issued_before);
    store::set_meta(conn, SEQ_FLOOR_KEY, &floor.to_string())?;
    store::set_meta(
        conn,
        RESTORED_KEY,
        &Timestamp::now().as_second().to_string(),
    )
}

/// A publication ready to serve: the signed bytes and their HTTP validators,
/// computed once when it is made.
#[derive(Debug, Clone)]
pub struct Published {
    pub seq: u64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// Strong entity tag, quotes included.
    pub etag: String,
    /// `issued_at` as an HTTP-date.
    pub last_modified: String,
    /// The envelope bytes, shared by every response.
    pub envelope: Bytes,
}

impl Published {
    fn from_row(row: db::PublicationRow) -> Result<Published> {
        let parse = |s: &str| {
            s.parse::<Timestamp>()
                .map_err(|e| NodeError::Setup(format!("stored publication time {s:?}: {e}")))
        };
        let issued_at = parse(&row.issued_at)?;
        Ok(Published {
            seq: row.seq,
            expires_at: parse(&row.expires_at)?,
            last_modified: http_date(issued_at),
            issued_at,
            etag: row.etag,
            envelope: Bytes::from(row.envelope),
        })
    }
}

/// Formats a time as an HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(t: Timestamp) -> String {
    let secs = u64::try_from(t.as_second()).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// The strong entity tag of a body: a quoted SHA-256 prefix.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The hub's state and signing key.
pub struct HubCore {
    conn: Connection,
    key: HubKey,
    /// Where the key lives (None for cores made by `create`, which never rotate).
    key_path: Option<std::path::PathBuf>,
    lifetime: SignedDuration,
    limits: Limits,
}

impl HubCore {
    /// Opens the hub of a data directory set up by `init`.
    pub fn open(dir: &Path, config: &Config) -> Result<HubCore> {
        let conn = store::open(&dir.join(DATABASE_FILE))?;
        let key_path = config.key_path(dir);
        finish_interrupted_rotation(&conn, &key_path)?;
        let key = crate::keyfile::load(&key_path)?;
        let mut core = HubCore {
            conn,
            key,
            key_path: Some(key_path),
            lifetime: SignedDuration::from_hours(i64::from(config.hub.listing_lifetime_hours)),
            limits: Limits::default(),
        };
        let profile = core.profile()?;
        let hub_id = KeyId::parse(&profile.id)?;
        let chain = verify_chain(&hub_id, &core.rotations()?, &core.limits)?;
        if chain.last() != Some(core.key.key_id()) {
            return Err(NodeError::Setup(format!(
                "the key file holds {} but hub {} is currently signed by {}",
                core.key.key_id(),
                profile.id,
                chain.last().map(|k| k.to_string()).unwrap_or_default()
            )));
        }
        if store::get_meta(&core.conn, RESTORED_KEY)?.is_some() {
            let (_, published) = core.edit(|tx| {
                tx.execute("DELETE FROM meta WHERE key = ?1", [RESTORED_KEY])?;
                Ok(())
            })?;
            tracing::info!(
                seq = published.seq,
                "restored from a backup: published anew above every seq issued before"
            );
        }
        Ok(core)
    }

    /// Creates the hub's first profile and publication (used by `init`).
    pub fn create(
        conn: Connection,
        key: HubKey,
        config: &Config,
        profile: &HubProfile,
    ) -> Result<Published> {
        db::save_profile(&conn, profile)?;
        let mut core = HubCore {
            conn,
            key,
            key_path: None,
            lifetime: SignedDuration::from_hours(i64::from(config.hub.listing_lifetime_hours)),
            limits: Limits::default(),
        };
        core.republish()
    }

    fn rotations(&self) -> Result<Vec<Envelope>> {
        load_rotations(&self.conn)
    }

    /// The database connection, for read-only queries by other modules.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The current profile.
    pub fn profile(&self) -> Result<HubProfile> {
        db::load_profile(&self.conn)?.ok_or_else(|| {
            NodeError::Setup("this data directory has no hub profile; run init".into())
        })
    }

    /// The services as they are being edited.
    pub fn services(&self) -> Result<Vec<Service>> {
        db::list_services(&self.conn)
    }

    /// One service.
    pub fn service(&self, id: &str) -> Result<Service> {
        db::get_service(&self.conn, id)?.ok_or_else(|| NodeError::NotFound(format!("service {id}")))
    }

    /// The newest publication.
    pub fn published(&self) -> Result<Option<Published>> {
        db::latest_publication(&self.conn)?
            .map(Published::from_row)
            .transpose()
    }

    /// SQLite's change counter (see [`store::data_version`]).
    pub fn data_version(&self) -> Result<i64> {
        store::data_version(&self.conn)
    }

    /// True when less than half of the current listing's lifetime is left.
    pub fn needs_resign(&self, now: Timestamp) -> Result<bool> {
        Ok(match self.published()? {
            Some(p) => {
                let left = p.expires_at.as_second() - now.as_second();
                left < (p.expires_at.as_second() - p.issued_at.as_second()) / 2
            }
            None => true,
        })
    }

    /// Replaces the signing key: a new key is made, the current key signs a
    /// rotation statement naming it, and the listing is published signed by
    /// the new key with the statement in its chain, so aggregators that
    /// pinned the old key follow to the new one. The old key file is kept
    /// beside the new one as `KEY.retired-UNIXTIME` (delete it once every
    /// aggregator has crawled the new listing, or keep it offline).
    pub fn rotate_key(&mut self) -> Result<(KeyId, Published)> {
        let key_path = self
            .key_path
            .clone()
            .ok_or_else(|| NodeError::Setup("this hub has no key file to rotate".into()))?;
        let pending = pending_key_path(&key_path);
        if pending.exists() {
            std::fs::remove_file(&pending).map_err(|e| NodeError::io("removing", &pending, e))?;
        }
        let next = crate::keyfile::create(&pending)?;
        let hub_id = KeyId::parse(&self.profile()?.id)?;
        let statement = rotate(&hub_id, &self.key, next.key_id(), Timestamp::now());
        let mut rotations = self.rotations()?;
        rotations.push(statement);
        verify_chain(&hub_id, &rotations, &self.limits)?;
        let json = serde_json::to_string(&rotations)
            .map_err(|e| NodeError::Setup(format!("rotation statements: {e}")))?;
        let previous = std::mem::replace(&mut self.key, next);
        let published = match self.edit(|tx| store::set_meta(tx, ROTATIONS_KEY, &json)) {
            Ok(((), p)) => p,
            Err(e) => {
                self.key = previous;
                let _ = std::fs::remove_file(&pending);
                return Err(e);
            }
        };
        // The database now names the new key; move the files to match. If
        // this is interrupted, `open` finishes it.
        retire_and_promote(&key_path, &pending)?;
        tracing::warn!(key = %self.key.key_id(), "signing key rotated");
        Ok((self.key.key_id().clone(), published))
    }

    /// The hub's first key id and every key since, in order.
    pub fn key_chain(&self) -> Result<Vec<KeyId>> {
        let hub_id = KeyId::parse(&self.profile()?.id)?;
        Ok(verify_chain(&hub_id, &self.rotations()?, &self.limits)?)
    }

    /// Reloads the key file if another process (the CLI) rotated the key
    /// while this one was running.
    pub fn reload_key_if_rotated(&mut self) -> Result<bool> {
        let Some(path) = self.key_path.clone() else {
            return Ok(false);
        };
        let chain = self.key_chain()?;
        if chain.last() == Some(self.key.key_id()) {
            return Ok(false);
        }
        finish_interrupted_rotation(&self.conn, &path)?;
        let key = crate::keyfile::load(&path)?;
        if chain.last() != Some(key.key_id()) {
            return Err(NodeError::Setup(format!(
                "the key file holds {} but the listing must now be signed by {}",
                key.key_id(),
                chain.last().map(ToString::to_string).unwrap_or_default()
            )));
        }
        self.key = key;
        tracing::info!(key = %self.key.key_id(), "reloaded the rotated signing key");
        Ok(true)
    }

    /// Leaves the network: publishes a signed final listing with
    /// `withdrawn: true` and no services, which aggregators turn into a
    /// tombstone that travels on to other aggregators. The services are
    /// kept here, so [`HubCore::rejoin`] can publish them again.
    pub fn withdraw(&mut self) -> Result<Published> {
        Ok(self
            .edit(|tx| store::set_meta(tx, WITHDRAWN_KEY, "true"))?
            .1)
    }

    /// Comes back after [`HubCore::withdraw`], with a higher `seq`.
    pub fn rejoin(&mut self) -> Result<Published> {
        Ok(self
            .edit(|tx| store::set_meta(tx, WITHDRAWN_KEY, "false"))?
            .1)
    }

    /// Signs the unchanged services again with a new `seq` and validity.
    pub fn republish(&mut self) -> Result<Published> {
        Ok(self.edit(|_| Ok(()))?.1)
    }

    /// Runs `change` and publishes the result in one transaction: if the
    /// change or the resulting listing is invalid, nothing is kept.
    pub fn edit<T>(
        &mut self,
        change: impl FnOnce(&Transaction) -> Result<T>,
    ) -> Result<(T, Published)> {
        let tx = self.conn.transaction()?;
        let out = change(&tx)?;
        // Read after the change: a key rotation adds its statement in it.
        let rotations = load_rotations(&tx)?;
        let profile = db::load_profile(&tx)?.ok_or_else(|| {
            NodeError::Setup("this data directory has no hub profile; run init".into())
        })?;
        let withdrawn = store::get_meta(&tx, WITHDRAWN_KEY)?.as_deref() == Some("true");
        let services = if withdrawn {
            Vec::new()
        } else {
            db::list_services(&tx)?
        };
        let previous = highest_seq(&tx)?;
        let now = Timestamp::from_second(Timestamp::now().as_second())
            .map_err(|e| NodeError::Setup(format!("clock: {e}")))?;
        // Time-based floor: a hub restored from an old backup still moves forward.
        let seq = (previous + 1).max(u64::try_from(now.as_second()).unwrap_or(0));
        let expires_at = now
            .checked_add(self.lifetime)
            .map_err(|e| NodeError::Setup(format!("clock: {e}")))?;
        let listing = Listing {
            signpost: PROTOCOL_VERSION.to_owned(),
            hub: profile,
            seq,
            issued_at: now,
            expires_at,
            withdrawn,
            rotations,
            services,
        };
        let envelope = sign_listing(&listing, &self.key, &self.limits)?;
        let row = db::PublicationRow {
            seq,
            issued_at: now.to_string(),
            expires_at: expires_at.to_string(),
            etag: etag_of(&envelope),
            envelope,
        };
        db::insert_publication(&tx, &row)?;
        tx.commit()?;
        tracing::info!(seq, "published a new signed listing");
        Ok((out, Published::from_row(row)?))
    }

    /// Adds a service from admin JSON (ids are filled in when missing),
    /// under [`HubCore::add_new_service`]'s rule.
    pub fn add_service(&mut self, input: Value) -> Result<(Service, Published)> {
        let service = draft::service_from_json(input, None, &self.limits)?;
        self.insert_new(service)
    }

    /// Adds a service built elsewhere (the CLI's flags), filling in empty
    /// ids. The one rule for adding, shared by the CLI, the JSON API and
    /// the admin form: a service whose id, or whose name (case and outer
    /// spaces ignored), the hub already has is refused, so a second "add"
    /// never quietly duplicates one.
    pub fn add_new_service(&mut self, mut service: Service) -> Result<(Service, Published)> {
        draft::fill_missing_ids(&mut service);
        validate_service(&service, &self.limits)?;
        self.insert_new(service)
    }

    fn insert_new(&mut self, service: Service) -> Result<(Service, Published)> {
        self.edit(|tx| {
            if db::get_service(tx, &service.id)?.is_some() {
                return Err(NodeError::invalid(
                    "id",
                    format!(
                        "a service with id {} already exists; update it instead",
                        service.id
                    ),
                ));
            }
            let name = draft::name_key(&service.name);
            if let Some(same) = db::list_services(tx)?
                .into_iter()
                .find(|s| draft::name_key(&s.name) == name)
            {
                return Err(NodeError::invalid(
                    "name",
                    format!(
                        "a service called {:?} already exists (id {}); edit that one, or give this one another name",
                        same.name, same.id
                    ),
                ));
            }
            db::upsert_service(tx, &service)?;
            Ok(service)
        })
    }

    /// Replaces a service from admin JSON.
    pub fn replace_service(&mut self, id: &str, input: Value) -> Result<(Service, Published)> {
        let service = draft::service_from_json(input, Some(id), &self.limits)?;
        self.edit(|tx| {
            if db::get_service(tx, id)?.is_none() {
                return Err(NodeError::NotFound(format!("service {id}")));
            }
            db::upsert_service(tx, &service)?;
            Ok(service)
        })
    }

    /// Removes a service.
    pub fn remove_service(&mut self, id: &str) -> Result<Published> {
        Ok(self
            .edit(|tx| {
                if db::delete_service(tx, id)? {
                    Ok(())
                } else {
                    Err(NodeError::NotFound(format!("service {id}")))
                }
            })?
            .1)
    }

    /// Changes profile fields: keys present in `changes` replace the current
    /// values, `null` clears an optional one; the id cannot change.
    pub fn update_profile(&mut self, changes: Value) -> Result<(HubProfile, Published)> {
        let current = self.profile()?;
        let profile = draft::merge_profile(&current, changes)?;
        self.edit(|tx| {
            db::save_profile(tx, &profile)?;
            Ok(profile)
        })
    }

    /// Saves `upserts` (new or changed services) and deletes `removed`
    /// (service ids) in one publication: how a whole import lands at once.
    pub fn apply_changes<'a>(
        &mut self,
        upserts: impl IntoIterator<Item = &'a Service>,
        removed: &[String],
    ) -> Result<Published> {
        Ok(self
            .edit(|tx| {
                for service in upserts {
                    db::upsert_service(tx, service)?;
                }
                for id in removed {
                    db::delete_service(tx, id)?;
                }
                Ok(())
            })?
            .1)
    }

    /// The limits this hub signs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

#[cfg(test)]
pub(crate) mod tests;
