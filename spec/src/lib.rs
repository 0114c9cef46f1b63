//! # signpost-spec: the Signpost protocol
//!
//! A community hub publishes one **listing**: its profile and its services,
//! as HSDS 3.0 shaped JSON, inside a DSSE envelope signed with the hub's
//! Ed25519 key. Aggregators and apps check every listing back to the hub
//! that signed it with [`verify_listing`]; hubs make them with
//! [`sign_listing`]. `SPEC.md` beside this crate is the normative text.
//!
//! ```
//! use signpost_spec::*;
//!
//! let key = HubKey::from_seed(&[42; 32]).unwrap();
//! let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
//! let listing = Listing {
//!     signpost: PROTOCOL_VERSION.into(),
//!     hub: HubProfile {
//!         id: key.key_id().to_string(),
//!         name: "At The Grange".into(),
//!         description: None, url: None, email: None, phone: None,
//!         area_served: Some("Grange Park, Blackpool".into()),
//!         address: None, latitude: None, longitude: None,
//!         timezone: default_timezone(),
//!         dimensions: Dimensions {
//!             space: vec![Space::Dedicated],
//!             governance: Governance::CommunityLed,
//!             focus: Focus::Generic,
//!             coordination: Coordination::FirstLevel,
//!         },
//!     },
//!     seq: 1,
//!     issued_at: now,
//!     expires_at: now + jiff::SignedDuration::from_hours(24 * 7),
//!     withdrawn: false,
//!     rotations: vec![],
//!     services: vec![],
//! };
//! let bytes = sign_listing(&listing, &key, &Limits::default()).unwrap();
//! let options = VerifyOptions { now, limits: Limits::default() };
//! let verified = verify_listing(&bytes, &options).unwrap();
//! assert_eq!(verified.hub_id, *key.key_id());
//! ```

mod envelope;
mod error;
pub mod feed;
mod keys;
mod limits;
mod listing;
mod once;
mod rotation;
mod shape;
mod validate;
mod verify;

pub use envelope::{pae, Envelope, EnvelopeSignature, LISTING_PAYLOAD_TYPE, ROTATION_PAYLOAD_TYPE};
pub use error::SpecError;
pub use keys::{HubKey, KeyId, KEY_ID_PREFIX};
pub use limits::{check_depth, Limits};
pub use listing::*;
pub use rotation::{rotate, verify_chain, RotationStatement};
pub use validate::{
    parse_byday, parse_time, validate_listing, validate_service, DAY_CODES, MAX_AGE, MAX_SEQ,
};
pub use verify::{
    read_verified_listing, sign_listing, verify_listing, VerifiedListing, VerifyOptions,
};
