//! Listings signed in tests with known keys, for hubs that are scripted
//! rather than run (see [`crate::fake_hub`]).

use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use signpost_spec::{
    rotate, sign_listing, Envelope, HubKey, HubProfile, Limits, Listing, Location, Schedule,
    Service, TaxonomyTerm,
};

/// A key made from a fixed seed, so tests are repeatable.
pub fn key(seed: u8) -> HubKey {
    HubKey::from_seed(&[seed; 32]).expect("key")
}

/// A service with a place, weekly hours and one category.
pub fn service(id: u128, name: &str, lat: f64, lon: f64, byday: &str, category: &str) -> Service {
    let mut s: Service = serde_json::from_value(serde_json::json!({
        "id": uuid::Uuid::from_u128(id).to_string(),
        "name": name,
    }))
    .expect("service");
    s.description = Some(format!("{name}, for anyone who needs it"));
    s.locations = vec![Location {
        id: uuid::Uuid::from_u128(id + 1_000_000).to_string(),
        name: Some(format!("{name} venue")),
        description: None,
        address: None,
        latitude: Some(lat),
        longitude: Some(lon),
        accessibility: None,
    }];
    s.schedules = vec![Schedule::weekly(byday, "10:00", "13:00")];
    s.taxonomy_terms = vec![TaxonomyTerm {
        code: None,
        name: category.into(),
        taxonomy: None,
    }];
    s
}

/// An unsigned listing for the hub whose first key is `first`.
pub fn listing(first: &HubKey, name: &str, seq: u64, services: Vec<Service>) -> Listing {
    let now = Timestamp::now();
    let hub: HubProfile = serde_json::from_value(serde_json::json!({
        "id": first.key_id().to_string(),
        "name": name,
        "dimensions": {"space": ["pop-up"], "governance": "community-led",
                       "focus": "generic", "coordination": "first-level"}
    }))
    .expect("profile");
    Listing {
        signpost: "1".into(),
        hub,
        seq,
        issued_at: now - SignedDuration::from_secs(1),
        expires_at: now + SignedDuration::from_hours(24 * 7),
        withdrawn: false,
        rotations: vec![],
        services,
    }
}

/// Signs a listing with `key` (the last key of its rotation chain).
pub fn signed(listing: &Listing, key: &HubKey) -> Vec<u8> {
    sign_listing(listing, key, &Limits::default()).expect("sign")
}

/// A rotation statement from `from` to `to`, for a hub whose first key is `first`.
pub fn rotation(first: &HubKey, from: &HubKey, to: &HubKey) -> Envelope {
    rotate(first.key_id(), from, to.key_id(), Timestamp::now())
}

/// Rewrites the signed payload without re-signing (what a tamperer does).
pub fn tampered(envelope: &[u8], from: &str, to: &str) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(envelope).expect("envelope");
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(value["payload"].as_str().expect("payload"))
        .expect("base64");
    let text = String::from_utf8(payload).expect("utf-8").replace(from, to);
    value["payload"] = serde_json::Value::String(b64.encode(text));
    serde_json::to_vec(&value).expect("json")
}

/// `count` weekday food banks of hub `hub`, a little apart on the map (the
/// services of the load and slow-client tests' fake hubs).
pub fn food_banks(hub: u8, count: u128) -> Vec<Service> {
    (0..count)
        .map(|s| {
            service(
                u128::from(hub) * 100 + s,
                &format!("Food bank {hub} {s}"),
                54.0 + f64::from(hub) * 0.01,
                -2.8,
                "MO,TU,WE,TH,FR",
                "Food",
            )
        })
        .collect()
}
