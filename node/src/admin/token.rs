//! The admin bearer token: random, shown once, stored only as a SHA-256
//! hash, compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{NodeError, Result};
use crate::keyfile::random_bytes;
use signpost_client::store;

const META_KEY: &str = "admin_token_sha256";
const PREFIX: &str = "spt_";

/// The stored hash of the admin token.
#[derive(Clone)]
pub struct AdminToken {
    hash: [u8; 32],
}

impl AdminToken {
    /// Makes a new token, stores its hash, and returns the token text (the
    /// only time it exists in clear).
    pub fn create(conn: &Connection) -> Result<String> {
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?));
        let hash: String = Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        store::set_meta(conn, META_KEY, &hash)?;
        Ok(token)
    }

    /// Loads the stored hash.
    pub fn load(conn: &Connection) -> Result<AdminToken> {
        let hex = store::get_meta(conn, META_KEY)?
            .ok_or_else(|| NodeError::Setup("no admin token is set; run init".into()))?;
        let mut hash = [0u8; 32];
        if hex.len() != 64 {
            return Err(NodeError::Setup(
                "the stored admin token hash is malformed".into(),
            ));
        }
        for (i, byte) in hash.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| NodeError::Setup("the stored admin token hash is malformed".into()))?;
        }
        Ok(AdminToken { hash })
    }

    /// Constant-time check of a presented token.
    pub fn matches(&self, presented: &str) -> bool {
        let digest = Sha256::digest(presented.as_bytes());
        digest.as_slice().ct_eq(&self.hash).into()
    }
}
