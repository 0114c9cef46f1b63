//! The two trust boundaries of the protocol: [`sign_listing`] for hubs and
//! [`verify_listing`] for everyone who receives a listing. Every rule of the
//! protocol is enforced here, in the order `SPEC.md` gives, so that all
//! implementations agree on which error a bad listing produces.

use jiff::Timestamp;

use crate::envelope::{pae, Envelope, LISTING_PAYLOAD_TYPE};
use crate::keys::{HubKey, KeyId};
use crate::limits::{check_depth, Limits};
use crate::listing::{Listing, PROTOCOL_VERSION};
use crate::rotation::verify_chain;
use crate::shape;
use crate::validate::{check_listing, validate_listing};
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
/// Order (`SPEC.md` 8.2): size, envelope depth and shape, payload type,
/// signature count, payload base64, payload depth, then a signature check by
/// the key the envelope names (before any parsing of the payload, so junk
/// costs one signature check), payload shape, version and typed parse in
/// one pass, hub id, key chain, that the chain's last key is the one that
/// signed, content, then validity period.
pub fn verify_listing(bytes: &[u8], options: &VerifyOptions) -> Result<VerifiedListing, SpecError> {
    let limits = &options.limits;
    let envelope = Envelope::from_bytes(bytes, limits)?;
    let payload = envelope.decode_payload(LISTING_PAYLOAD_TYPE, limits)?;
    check_depth(&payload, limits.max_depth, "payload")?;
    let message = pae(LISTING_PAYLOAD_TYPE, &payload);
    let verified = envelope.first_verified_signature(&message)?;
    let listing = parse_payload(&payload)?;
    // The hub's own key usually signed: its id then needs no second parse.
    let hub_id = if listing.hub.id == verified.key.as_str() {
        verified.key.clone()
    } else {
        KeyId::parse(&listing.hub.id).map_err(|e| SpecError::schema("hub.id", e.to_string()))?
    };
    let key_chain = verify_chain(&hub_id, &listing.rotations, limits)?;
    let signing_key = &key_chain[key_chain.len() - 1];
    let deciding = envelope.deciding_signature(signing_key)?;
    verified.confirm(&envelope, deciding, &message, signing_key)?;
    check_listing(&listing, limits, true)?;
    check_validity_period(&listing, options)?;
    Ok(VerifiedListing {
        hub_id,
        key_chain,
        listing,
        payload,
    })
}

/// Reads again a listing verified on its way in (an aggregator's stored
/// envelope bytes), without checking its signature a second time: for
/// rebuilding what is derived from the record (the search index). Never
/// use it on bytes that did not pass [`verify_listing`].
pub fn read_verified_listing(bytes: &[u8], limits: &Limits) -> Result<Listing, SpecError> {
    let envelope = Envelope::from_bytes(bytes, limits)?;
    let payload = envelope.decode_payload(LISTING_PAYLOAD_TYPE, limits)?;
    parse_payload(&payload)
}

/// Payload shape, version and typed parse (`SPEC.md` 8.2, steps 10 to 12).
///
/// A good payload is parsed once; a refused one is parsed again by the
/// shape walk and the plain typed parse, so that the error (code, path and
/// words) is the one those steps give, in their order.
fn parse_payload(payload: &[u8]) -> Result<Listing, SpecError> {
    match crate::once::parse::<Listing>(payload) {
        Ok(listing) if listing.signpost == PROTOCOL_VERSION => Ok(listing),
        Ok(listing) => Err(unsupported(&listing.signpost)),
        Err(_) => {
            let found =
                shape::check(payload, &shape::LISTING).map_err(|e| SpecError::schema("$", e))?;
            if let Some(version) = found.version.filter(|v| v != PROTOCOL_VERSION) {
                return Err(unsupported(&version));
            }
            serde_json::from_slice(payload).map_err(|e| SpecError::schema("$", e.to_string()))
        }
    }
}

fn unsupported(version: &str) -> SpecError {
    SpecError::UnsupportedVersion {
        found: crate::keys::truncate_for_message(version),
        supported: PROTOCOL_VERSION,
    }
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

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use jiff::SignedDuration;

    use super::*;
    use crate::envelope::EnvelopeSignature;
    use crate::listing::{Coordination, Dimensions, Focus, Governance, HubProfile, Space};

    fn now() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    fn options() -> VerifyOptions {
        VerifyOptions {
            now: now(),
            limits: Limits::default(),
        }
    }

    fn listing(key: &HubKey) -> Listing {
        Listing {
            signpost: PROTOCOL_VERSION.into(),
            hub: HubProfile {
                id: key.key_id().to_string(),
                name: "At The Grange".into(),
                description: None,
                url: None,
                email: None,
                phone: None,
                area_served: None,
                address: None,
                latitude: None,
                longitude: None,
                timezone: crate::listing::default_timezone(),
                dimensions: Dimensions {
                    space: vec![Space::Dedicated],
                    governance: Governance::CommunityLed,
                    focus: Focus::Generic,
                    coordination: Coordination::FirstLevel,
                },
            },
            seq: 1,
            issued_at: now(),
            expires_at: now() + SignedDuration::from_hours(24),
            withdrawn: false,
            rotations: vec![],
            services: vec![],
        }
    }

    fn key(seed: u8) -> HubKey {
        HubKey::from_seed(&[seed; 32]).unwrap()
    }

    /// A signature object by `key` over `payload` that does not verify.
    fn forged(key: &HubKey, payload: &[u8]) -> EnvelopeSignature {
        let mut message = pae(LISTING_PAYLOAD_TYPE, payload);
        message.push(b'!');
        EnvelopeSignature {
            keyid: key.key_id().to_string(),
            sig: STANDARD.encode(key.sign_raw(&message)),
        }
    }

    fn code(envelope: &Envelope) -> &'static str {
        match verify_listing(&envelope.to_bytes(), &options()) {
            Ok(_) => "accepted",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn junk_with_a_bad_signature_is_refused_before_it_is_parsed() {
        let hub = key(1);
        for payload in [&b"not json at all"[..], br#"{"signpost":"2"}"#, br#"[1,2]"#] {
            let mut envelope = Envelope::sign(LISTING_PAYLOAD_TYPE, payload, &hub);
            envelope.signatures = vec![forged(&hub, payload)];
            assert_eq!(code(&envelope), "bad_signature");
            // Correctly signed, the same payload is judged on its content.
            let signed = Envelope::sign(LISTING_PAYLOAD_TYPE, payload, &hub);
            assert_ne!(code(&signed), "bad_signature");
        }
    }

    #[test]
    fn a_wrongly_typed_payload_signed_by_a_stranger_is_a_schema_error() {
        let (hub, stranger) = (key(1), key(2));
        let mut value = serde_json::to_value(listing(&hub)).unwrap();
        value["seq"] = serde_json::json!("one");
        let payload = serde_json::to_vec(&value).unwrap();
        let envelope = Envelope::sign(LISTING_PAYLOAD_TYPE, &payload, &stranger);
        assert_eq!(code(&envelope), "payload_schema");
        let good = serde_json::to_vec(&listing(&hub)).unwrap();
        let envelope = Envelope::sign(LISTING_PAYLOAD_TYPE, &good, &stranger);
        assert_eq!(code(&envelope), "unknown_key");
    }

    #[test]
    fn other_signatures_neither_refuse_nor_accept() {
        let (hub, cosigner) = (key(1), key(2));
        let payload = serde_json::to_vec(&listing(&hub)).unwrap();
        let good = Envelope::sign(LISTING_PAYLOAD_TYPE, &payload, &hub).signatures[0].clone();
        let cosigned =
            Envelope::sign(LISTING_PAYLOAD_TYPE, &payload, &cosigner).signatures[0].clone();
        let malformed = EnvelopeSignature {
            keyid: "ed25519:not-a-key".into(),
            sig: "!".into(),
        };
        let with = |signatures: Vec<EnvelopeSignature>| {
            let mut envelope = Envelope::sign(LISTING_PAYLOAD_TYPE, &payload, &hub);
            envelope.signatures = signatures;
            code(&envelope)
        };
        // The hub's good signature decides, wherever it is.
        assert_eq!(
            with(vec![forged(&cosigner, &payload), good.clone()]),
            "accepted"
        );
        assert_eq!(with(vec![malformed.clone(), good.clone()]), "accepted");
        assert_eq!(with(vec![cosigned.clone(), good.clone()]), "accepted");
        assert_eq!(
            with(vec![good.clone(), forged(&cosigner, &payload)]),
            "accepted"
        );
        // A good co-signature does not make up for the hub's bad one, nor
        // for its absence; and the first signature by the hub decides.
        assert_eq!(
            with(vec![cosigned.clone(), forged(&hub, &payload)]),
            "bad_signature"
        );
        assert_eq!(
            with(vec![forged(&hub, &payload), cosigned.clone()]),
            "bad_signature"
        );
        assert_eq!(with(vec![cosigned]), "unknown_key");
        assert_eq!(with(vec![forged(&hub, &payload), good]), "bad_signature");
        // No keyid is a key id: nothing can have signed.
        assert_eq!(with(vec![malformed]), "unknown_key");
    }
}
