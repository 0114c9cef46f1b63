//! `signpost verify`: checks one listing (a file, or fetched from a hub or
//! an aggregator) and says who signed it, through which keys, what it
//! holds, and exactly what is wrong if it fails.

use std::time::Duration;

use crate::fetch::{FetchSettings, Fetched, Fetcher};
use jiff::Timestamp;
use serde::Serialize;
use signpost_spec::{
    verify_listing, Envelope, Limits, Listing, VerifyOptions, LISTING_PAYLOAD_TYPE,
};

use crate::{Error, Result};

/// What a listing is and whether it verifies.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// True when the signature, key chain, content and validity all check out.
    pub valid: bool,
    /// The hub's id (its first key); when invalid, what the listing claims.
    pub hub_id: Option<String>,
    /// The hub's name (claimed, when invalid).
    pub hub_name: Option<String>,
    /// Every key from the hub's first to the one that signed (valid only).
    pub key_chain: Vec<String>,
    /// The listing's seq (claimed, when invalid).
    pub seq: Option<u64>,
    /// When it was signed.
    pub issued_at: Option<String>,
    /// When it runs out.
    pub expires_at: Option<String>,
    /// A signed withdrawal from the network.
    pub withdrawn: bool,
    /// How many services it lists.
    pub services: usize,
    /// Size of the envelope in bytes.
    pub bytes: usize,
    /// The failure's stable code (a spec error code), when invalid.
    pub error_code: Option<String>,
    /// The failure in words, when invalid.
    pub error: Option<String>,
}

/// Verifies envelope bytes now, with the protocol's default limits.
pub fn inspect(bytes: &[u8]) -> Inspection {
    let options = VerifyOptions {
        now: Timestamp::now(),
        limits: Limits::default(),
    };
    match verify_listing(bytes, &options) {
        Ok(v) => Inspection {
            valid: true,
            hub_id: Some(v.hub_id.to_string()),
            hub_name: Some(v.listing.hub.name.clone()),
            key_chain: v.key_chain.iter().map(ToString::to_string).collect(),
            seq: Some(v.listing.seq),
            issued_at: Some(v.listing.issued_at.to_string()),
            expires_at: Some(v.listing.expires_at.to_string()),
            withdrawn: v.listing.withdrawn,
            services: v.listing.services.len(),
            bytes: bytes.len(),
            error_code: None,
            error: None,
        },
        Err(e) => {
            // Show what it claims, clearly marked as unverified by `valid`.
            let claimed: Option<Listing> = Envelope::from_bytes(bytes, &Limits::default())
                .ok()
                .and_then(|env| {
                    env.decode_payload(LISTING_PAYLOAD_TYPE, &Limits::default())
                        .ok()
                })
                .and_then(|payload| serde_json::from_slice(&payload).ok());
            Inspection {
                valid: false,
                hub_id: claimed.as_ref().map(|l| l.hub.id.clone()),
                hub_name: claimed.as_ref().map(|l| l.hub.name.clone()),
                key_chain: Vec::new(),
                seq: claimed.as_ref().map(|l| l.seq),
                issued_at: claimed.as_ref().map(|l| l.issued_at.to_string()),
                expires_at: claimed.as_ref().map(|l| l.expires_at.to_string()),
                withdrawn: claimed.as_ref().is_some_and(|l| l.withdrawn),
                services: claimed.as_ref().map_or(0, |l| l.services.len()),
                bytes: bytes.len(),
                error_code: Some(e.code().to_owned()),
                error: Some(e.to_string()),
            }
        }
    }
}

/// Reads a listing from a file path, or fetches it from an `http(s)://`
/// address (a hub's base address gets the well-known listing path).
pub async fn load(source: &str) -> Result<Vec<u8>> {
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        let path = std::path::PathBuf::from(source);
        let size = std::fs::metadata(&path)
            .map_err(|e| Error::io("reading", &path, e))?
            .len();
        if size > Limits::default().max_envelope_bytes as u64 {
            return Err(Error::BadAddress(format!(
                "{source} is {size} bytes, larger than any valid listing"
            )));
        }
        return std::fs::read(&path).map_err(|e| Error::io("reading", path, e));
    }
    let url = crate::fetch::listing_url(source).map_err(Error::BadAddress)?;
    let fetcher = Fetcher::new(FetchSettings {
        max_bytes: Limits::default().max_envelope_bytes,
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(20),
        allow_private: true,
        allowed_addresses: Vec::new(),
    })
    .map_err(|e| Error::Feed {
        code: e.code.into(),
        message: e.message,
    })?;
    match fetcher.fetch(&url, &Default::default()).await {
        Ok(Fetched::Body { bytes, .. }) => Ok(bytes),
        Ok(Fetched::NotModified) => Err(Error::Feed {
            code: "http_status".into(),
            message: format!("{url} answered 304"),
        }),
        Err(e) => Err(Error::Feed {
            code: e.code.into(),
            message: e.message,
        }),
    }
}
