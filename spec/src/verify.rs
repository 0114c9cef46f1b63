//! The two trust boundaries of the protocol: [`sign_listing`] for hubs and
//! [`verify_listing`] for everyone who receives a listing. Every rule of the
//! protocol is enforced here, in the order `SPEC.md` gives, so that all
//! implementations agree on which error a bad listing produces.

use jiff::Timestamp;

use crate::envelope::{Envelope, LISTING_PAYLOAD_TYPE};
use crate::keys::{HubKey, KeyId};
use crate::limits::{check_depth, Limits};
use crate::listing::{Listing, PROTOCOL_VERSION};
use crate::rotation::verify_chain;
use crate::shape;
use crate::validate::validate_listing;
use crate::SpecError;

/// What a verifier needs besides the bytes.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The verifier's clock, for expiry.
    pub now: Timestamp,
    /// Caps on the input.
    pub limits: Limits,
}

impl VerifyOptions {
    /// Default limits at the current time.
    pub fn now() -> Self {
        VerifyOptions {
            now: Timestamp::now(),
            limits: Limits::default(),
        }
    }
}

/// A listing whose signature, key chain, content and validity period have all
/// been checked.
#[derive(Debug, Clone)]
pub struct VerifiedListing {
    /// The hub's identity (its first key).
    pub hub_id: KeyId,
    /// Every key from the first to the signing key, in order.
    pub key_chain: Vec<KeyId>,
    /// The parsed payload.
    pub listing: Listing,
    /// The exact payload bytes that were signed.
    pub payload: Vec<u8>,
}

impl VerifiedListing {
    /// The key that signed this listing (the last in the chain).
    pub fn signing_key(&self) -> &KeyId {
        // The chain always holds at least the hub's first key.
        &self.key_chain[self.key_chain.len() - 1]
    }

    /// True when `pinned` is in this listing's chain, i.e. the listing may
    /// replace one signed by `pinned` without an operator re-pin.
    pub fn chain_contains(&self, pinned: &KeyId) -> bool {
        self.key_chain.contains(pinned)
    }
}

/// Verifies envelope bytes as a hub listing.
///
/// Order: size, envelope depth and shape, payload type, signature count,
/// payload base64, payload depth, shape and protocol version, payload
/// parse, hub id, key chain, signature, content, then validity period.
pub fn verify_listing(bytes: &[u8], options: &VerifyOptions) -> Result<VerifiedListing, SpecError> {
    let limits = &options.limits;
    let envelope = Envelope::from_bytes(bytes, limits)?;
    let payload = envelope.decode_payload(LISTING_PAYLOAD_TYPE, limits)?;
    check_depth(&payload, limits.max_depth, "payload")?;
    let found = shape::check(&payload, &shape::LISTING).map_err(|e| SpecError::schema("$", e))?;
    if let Some(version) = found.version.filter(|v| v != PROTOCOL_VERSION) {
        return Err(SpecError::UnsupportedVersion {
            found: crate::keys::truncate_for_message(&version),
            supported: PROTOCOL_VERSION,
        });
    }
    let listing: Listing =
        serde_json::from_slice(&payload).map_err(|e| SpecError::schema("$", e.to_string()))?;
    let hub_id =
        KeyId::parse(&listing.hub.id).map_err(|e| SpecError::schema("hub.id", e.to_string()))?;
    let key_chain = verify_chain(&hub_id, &listing.rotations, limits)?;
    let signing_key = &key_chain[key_chain.len() - 1];
    envelope.check_signature(&payload, signing_key)?;
    validate_listing(&listing, limits)?;
    check_validity_period(&listing, options)?;
    Ok(VerifiedListing {
        hub_id,
        key_chain,
        listing,
        payload,
    })
}

fn check_validity_period(listing: &Listing, options: &VerifyOptions) -> Result<(), SpecError> {
    if listing.expires_at <= options.now {
        return Err(SpecError::Expired {
            expires_at: listing.expires_at.to_string(),
        });
    }
    if listing.issued_at.as_second() > options.now.as_second() + options.limits.max_clock_skew_secs
    {
        return Err(SpecError::NotYetValid {
            issued_at: listing.issued_at.to_string(),
        });
    }
    Ok(())
}

/// Validates and signs a listing, returning the envelope bytes to publish.
///
/// Refuses to sign anything a verifier would refuse (except for time: a hub
/// may prepare a listing ahead), so a hub can never publish a bad listing.
pub fn sign_listing(
    listing: &Listing,
    key: &HubKey,
    limits: &Limits,
) -> Result<Vec<u8>, SpecError> {
    let hub_id =
        KeyId::parse(&listing.hub.id).map_err(|e| SpecError::schema("hub.id", e.to_string()))?;
    let chain = verify_chain(&hub_id, &listing.rotations, limits)?;
    let current = &chain[chain.len() - 1];
    if current != key.key_id() {
        return Err(SpecError::UnknownKey {
            expected: current.to_string(),
        });
    }
    validate_listing(listing, limits)?;
    let payload = serde_json::to_vec(listing).map_err(|e| SpecError::schema("$", e.to_string()))?;
    check_depth(&payload, limits.max_depth, "payload")?;
    let bytes = Envelope::sign(LISTING_PAYLOAD_TYPE, &payload, key).to_bytes();
    if bytes.len() > limits.max_envelope_bytes {
        return Err(SpecError::TooLarge {
            size: bytes.len(),
            max: limits.max_envelope_bytes,
        });
    }
    Ok(bytes)
}
