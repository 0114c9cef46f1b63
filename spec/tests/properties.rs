//! Properties of the protocol code over generated input: decoding and
//! verification never panic, whatever the bytes; what is signed verifies,
//! and any change to the signed bytes is caught.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use signpost_spec::{
    sign_listing, verify_listing, Envelope, HubKey, HubProfile, Limits, Listing, Location,
    Schedule, Service, TaxonomyTerm, VerifyOptions,
};

fn options() -> VerifyOptions {
    VerifyOptions {
        now: Timestamp::now(),
        limits: Limits::default(),
    }
}

/// JSON values of bounded size and depth, biased towards envelope shapes.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        "[ -~]{0,20}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from(
            "application/vnd.signpost.listing+json"
        )),
        Just(serde_json::Value::from(
            "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        )),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("payloadType".to_owned()),
                    Just("payload".to_owned()),
                    Just("signatures".to_owned()),
                    Just("keyid".to_owned()),
                    Just("sig".to_owned()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn service(n: u128, name: String, lat: f64, lon: f64, day: usize, hour: u8) -> Service {
    let mut s: Service = serde_json::from_value(serde_json::json!({
        "id": uuid::Uuid::from_u128(n).to_string(), "name": name,
    }))
    .expect("service");
    s.locations = vec![Location {
        id: uuid::Uuid::from_u128(n + (1 << 100)).to_string(),
        name: None,
        description: None,
        address: None,
        latitude: Some(lat),
        longitude: Some(lon),
        accessibility: None,
    }];
    s.schedules = vec![Schedule {
        byday: ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day].into(),
        opens_at: format!("{hour:02}:00"),
        closes_at: format!("{:02}:30", (hour + 1) % 24),
        valid_from: None,
        valid_to: None,
        description: None,
        location_id: None,
    }];
    s.taxonomy_terms = vec![TaxonomyTerm {
        code: None,
        name: "Food".into(),
        taxonomy: None,
    }];
    s
}

fn valid_listing() -> impl Strategy<Value = (Listing, HubKey)> {
    (
        any::<[u8; 32]>(),
        "[A-Za-z][A-Za-z ,'-]{0,60}",
        1u64..(1 << 53),
        prop::collection::vec(
            (
                "[A-Za-z0-9é][A-Za-z0-9 é&'-]{0,80}",
                -90.0f64..90.0,
                -180.0f64..180.0,
                0usize..7,
                0u8..23,
            ),
            0..8,
        ),
    )
        .prop_map(|(seed, name, seq, services)| {
            let key = HubKey::from_seed(&seed).expect("key");
            let now = Timestamp::now();
            let hub: HubProfile = serde_json::from_value(serde_json::json!({
                "id": key.key_id().to_string(), "name": name,
                "dimensions": {"space": ["dedicated"], "governance": "community-led",
                               "focus": "generic", "coordination": "first-level"}
            }))
            .expect("profile");
            let services = services
                .into_iter()
                .enumerate()
                .map(|(i, (n, lat, lon, day, hour))| service(i as u128 + 1, n, lat, lon, day, hour))
                .collect();
            let listing = Listing {
                signpost: "1".into(),
                hub,
                seq,
                issued_at: now - SignedDuration::from_secs(1),
                expires_at: now + SignedDuration::from_hours(24),
                withdrawn: false,
                rotations: vec![],
                services,
            };
            (listing, key)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Envelope::from_bytes(&bytes, &Limits::default());
        let _ = verify_listing(&bytes, &options());
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let bytes = serde_json::to_vec(&value).expect("json");
        let _ = verify_listing(&bytes, &options());
        // And as a signed payload: the signature is good, the content is anything.
        let key = HubKey::from_seed(&[9; 32]).expect("key");
        let envelope = Envelope::sign(signpost_spec::LISTING_PAYLOAD_TYPE, &bytes, &key).to_bytes();
        let _ = verify_listing(&envelope, &options());
    }

    #[test]
    fn what_is_signed_verifies_and_any_flipped_byte_is_caught(
        (listing, key) in valid_listing(),
        flip in any::<prop::sample::Index>(),
    ) {
        let bytes = sign_listing(&listing, &key, &Limits::default()).expect("sign");
        let verified = verify_listing(&bytes, &options()).expect("verify");
        prop_assert_eq!(&verified.listing, &listing);
        prop_assert_eq!(verified.hub_id.as_str(), key.key_id().as_str());
        // Flip one bit of the payload's base64 text: refused, never accepted.
        let mut envelope: serde_json::Value = serde_json::from_slice(&bytes).expect("envelope");
        let payload = envelope["payload"].as_str().expect("payload").to_owned();
        let i = flip.index(payload.len());
        let mut chars: Vec<char> = payload.chars().collect();
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        envelope["payload"] = serde_json::Value::String(chars.into_iter().collect());
        let altered = serde_json::to_vec(&envelope).expect("json");
        if altered != bytes {
            prop_assert!(verify_listing(&altered, &options()).is_err());
        }
    }
}
