//! What every benchmark builds: deterministic hub keys, realistic signed
//! listings, node folders, and the baseline of every report (the raw
//! Ed25519 `verify_strict` rate of one core, measured in the same run).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use signpost_spec::{
    pae, sign_listing, HubKey, HubProfile, Limits, Listing, Service, LISTING_PAYLOAD_TYPE,
};

/// Services the store says its active hubs hold.
pub const SERVICES_HELD: &str =
    "SELECT COALESCE(SUM(services), 0) FROM agg_hubs WHERE state = 'active'";

const WORDS: &[&str] = &[
    "food",
    "pantry",
    "advice",
    "debt",
    "benefits",
    "youth",
    "club",
    "wellbeing",
    "walk",
    "job",
    "digital",
    "café",
    "warm",
    "space",
    "parents",
    "toddlers",
    "befriending",
    "housing",
    "library",
    "laundry",
    "art",
    "garden",
    "men's",
    "shed",
    "choir",
    "yoga",
    "English",
];
const CATEGORIES: &[&str] = &[
    "Food",
    "Cost of living",
    "Advice",
    "Employment",
    "Youth",
    "Wellbeing",
    "Mental health",
    "Digital inclusion",
    "Learning",
    "Social",
    "Older people",
    "Families",
];
const DAYS: &[&str] = &[
    "MO",
    "TU",
    "WE",
    "TH",
    "FR",
    "SA",
    "SU",
    "MO,WE",
    "TU,TH",
    "MO,TU,WE,TH,FR",
];

/// A deterministic hub key for bench hub `i`.
pub fn bench_key(i: usize) -> Result<HubKey> {
    let seed: [u8; 32] = Sha256::digest(format!("signpost bench hub {i}")).into();
    Ok(HubKey::from_seed(&seed)?)
}

/// A realistic listing for bench hub `i` with `services` services, signed.
pub fn bench_listing(i: usize, services: usize, key: &HubKey) -> Result<Vec<u8>> {
    sign_bench_listing(&bench_listing_unsigned(i, services, key)?, key)
}

/// Signs a bench listing (after a benchmark has changed what it needs).
pub fn sign_bench_listing(listing: &Listing, key: &HubKey) -> Result<Vec<u8>> {
    Ok(sign_listing(listing, key, &Limits::default())?)
}

/// The listing [`bench_listing`] signs: hub `i`'s profile and `services`
/// services, spread over Lancashire and South Cumbria.
pub fn bench_listing_unsigned(i: usize, services: usize, key: &HubKey) -> Result<Listing> {
    let now = Timestamp::now();
    // Spread hubs over Lancashire and South Cumbria.
    let lat = 53.70 + (i % 97) as f64 * 0.006;
    let lon = -3.05 + (i % 89) as f64 * 0.006;
    let hub: HubProfile = serde_json::from_value(serde_json::json!({
        "id": key.key_id().to_string(),
        "name": format!("Community hub {i}"),
        "description": "A bench hub with a realistic spread of services.",
        "area_served": format!("Ward {}", i % 300),
        "latitude": lat, "longitude": lon,
        "dimensions": {"space": ["dedicated"], "governance": "community-led",
                       "focus": "generic", "coordination": "first-level"}
    }))
    .context("bench profile")?;
    let mut list = Vec::with_capacity(services);
    for s in 0..services {
        let n = i * 7919 + s * 104_729;
        let name = format!(
            "{} {} {}",
            WORDS[n % WORDS.len()],
            WORDS[(n / 7) % WORDS.len()],
            s
        );
        let service: Service = serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::from_u128(((i as u128) << 32) | s as u128).to_string(),
            "name": name,
            "description": format!("{name}: a session run by volunteers for anyone in the area who needs it. Drop in or call first; we can help with forms, food and a friendly chat."),
            "organization": {"name": format!("Community hub {i}")},
            "eligibility_description": "Anyone",
            "access": ["walk-in"],
            "phones": [{"number": format!("01632 960{:03}", n % 1000)}],
            "locations": [{"id": uuid::Uuid::from_u128(((i as u128) << 64) | s as u128).to_string(),
                           "name": "Main hall",
                           "address": {"address_1": format!("{} High Street", s + 1), "city": "Lancaster", "postal_code": "LA1 1AA", "country": "GB"},
                           "latitude": lat + (s as f64) * 0.0001, "longitude": lon}],
            "schedules": [{"byday": DAYS[n % DAYS.len()], "opens_at": "10:00", "closes_at": "13:00"}],
            "taxonomy_terms": [{"name": CATEGORIES[n % CATEGORIES.len()]}]
        }))
        .context("bench service")?;
        list.push(service);
    }
    let listing = Listing {
        signpost: "1".into(),
        hub,
        seq: 1,
        issued_at: now - SignedDuration::from_secs(5),
        expires_at: now + SignedDuration::from_hours(24 * 7),
        withdrawn: false,
        rotations: vec![],
        services: list,
    };
    Ok(listing)
}

/// One core's `verify_strict` rate over `message`, measured for about `for_`.
pub fn raw_verify_rate(message: &[u8], for_: Duration) -> Result<f64> {
    let key = bench_key(usize::MAX)?;
    let signature = key.sign_raw(message);
    let id = key.key_id().clone();
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < for_ {
        for _ in 0..64 {
            id.verify(message, &signature)?;
        }
        count += 64;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// The raw verify rate over a typical bench listing's signed bytes.
pub fn baseline_verify_rate(services: usize) -> Result<f64> {
    let key = bench_key(0)?;
    let bytes = bench_listing(0, services, &key)?;
    let payload = signpost_spec::Envelope::from_bytes(&bytes, &Limits::default())?
        .decode_payload(LISTING_PAYLOAD_TYPE, &Limits::default())?;
    raw_verify_rate(&pae(LISTING_PAYLOAD_TYPE, &payload), Duration::from_secs(2))
}

/// Sets up a node folder for a benchmark: a first-level community hub, or
/// (with `aggregator`) a second-level directory that is also a hub.
pub fn init_bench_node(
    dir: std::path::PathBuf,
    name: String,
    listen: Option<std::net::SocketAddr>,
    aggregator: bool,
) -> Result<signpost_node::init::InitOutcome> {
    use signpost_spec::{Coordination, Dimensions, Focus, Governance, Space};
    let dimensions = if aggregator {
        Dimensions {
            space: vec![Space::Virtual],
            governance: Governance::Partnership,
            focus: Focus::Generic,
            coordination: Coordination::SecondLevel,
        }
    } else {
        Dimensions {
            space: vec![Space::Dedicated],
            governance: Governance::CommunityLed,
            focus: Focus::Generic,
            coordination: Coordination::FirstLevel,
        }
    };
    Ok(signpost_node::init::init(
        &signpost_node::init::InitOptions {
            dir,
            name,
            url: None,
            listen,
            dimensions,
            aggregator,
        },
    )?)
}
