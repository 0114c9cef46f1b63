//! The admin bearer token: random, shown once, stored only as a SHA-256
//! hash, compared in constant time. A running node re-reads the hash at
//! most once a second when a token is presented, so
//! `signpost-node admin reset-token` takes effect without a restart.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{NodeError, Result};
use crate::keyfile::random_bytes;
use signpost_client::store;

const META_KEY: &str = "admin_token_sha256";
const PREFIX: &str = "spt_";

/// How often a running node may re-read the stored hash.
const REREAD_EVERY: Duration = Duration::from_secs(1);

/// The stored hash of the admin token (shared by clones).
#[derive(Clone)]
pub struct AdminToken {
    inner: Arc<Inner>,
}

struct Inner {
    hash: RwLock<[u8; 32]>,
    /// The database to re-read the hash from (None: never re-read).
    db: Option<PathBuf>,
    read_at: Mutex<Instant>,
}

impl AdminToken {
    /// Makes a new token, stores its hash (replacing any earlier one), and
    /// returns the token text (the only time it exists in clear).
    pub fn create(conn: &Connection) -> Result<String> {
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?));
        let hash: String = Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        store::set_meta(conn, META_KEY, &hash)?;
        Ok(token)
    }

    /// Loads the stored hash, remembering the database to re-read it from.
    pub fn load(conn: &Connection) -> Result<AdminToken> {
        let hash = stored_hash(conn)?;
        let db = conn.path().filter(|p| !p.is_empty()).map(PathBuf::from);
        Ok(AdminToken {
            inner: Arc::new(Inner {
                hash: RwLock::new(hash),
                db,
                read_at: Mutex::new(Instant::now()),
            }),
        })
    }

    /// Constant-time check of a presented token against the stored hash
    /// (re-read first if the last read is older than a second).
    pub fn matches(&self, presented: &str) -> bool {
        self.reread_if_due();
        let digest = Sha256::digest(presented.as_bytes());
        let Ok(hash) = self.inner.hash.read() else {
            return false;
        };
        digest.as_slice().ct_eq(&*hash).into()
    }

    fn reread_if_due(&self) {
        let Some(db) = &self.inner.db else {
            return;
        };
        let Ok(mut read_at) = self.inner.read_at.try_lock() else {
            return;
        };
        if read_at.elapsed() < REREAD_EVERY {
            return;
        }
        *read_at = Instant::now();
        let fresh = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(NodeError::from)
            .and_then(|c| stored_hash(&c));
        match fresh {
            Ok(h) => {
                if let Ok(mut hash) = self.inner.hash.write() {
                    *hash = h;
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not re-read the admin token's hash"),
        }
    }
}

/// The stored hash, parsed.
fn stored_hash(conn: &Connection) -> Result<[u8; 32]> {
    let hex = store::get_meta(conn, META_KEY)?
        .ok_or_else(|| NodeError::Setup("no admin token is set; run init".into()))?;
    let malformed = || NodeError::Setup("the stored admin token hash is malformed".into());
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(malformed());
    }
    let mut hash = [0u8; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| malformed())?;
    }
    Ok(hash)
}
