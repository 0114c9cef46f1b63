//! The JSON Schemas in `spec/schema/` (draft 2020-12) against the code and
//! the committed test vectors in `spec/vectors/`.
//!
//! `listing.schema.json` describes the listing payload and
//! `envelope.schema.json` the DSSE envelope (with the rotation statement in
//! its `$defs`). The schemas are written by hand from `spec/src/`; these
//! tests keep them in step with the code:
//!
//! 1. both schemas are valid 2020-12 schemas, and every property has a title
//!    and a description;
//! 2. every valid vector's envelope, payload and rotation statements match;
//! 3. every `payload_schema` vector is refused by the listing schema, except
//!    an explicit list of rules the schema cannot express, and that list must
//!    be exactly the set the schema accepts (likewise for the envelope-level
//!    vectors and the envelope schema);
//! 4. a listing with every optional field filled in, signed by
//!    [`sign_listing`], matches, and the schemas name every field the code
//!    writes and no other;
//! 5. field by field, the schema agrees with [`validate_service`],
//!    [`validate_listing`] and [`parse_time`] on hundreds of values (every
//!    `HH:MM` among them), except for explicit lists of known differences,
//!    and accepts only timestamps the code reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use jsonschema::{Registry, Validator};
use serde_json::{json, Value};
use signpost_spec::*;

/// The package folder: cargo runs tests there (a path baked in at build
/// time would name whichever clone first built the binary).
const SPEC_DIR: &str = ".";
const LISTING_ID: &str = "https://signpost.example/schema/listing.schema.json";
const ENVELOPE_ID: &str = "https://signpost.example/schema/envelope.schema.json";
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// `payload_schema` vectors that the listing schema accepts because JSON
/// Schema cannot express the rule they break. Each is also listed in the
/// top-level `description` of `listing.schema.json`. The test fails if the
/// schema accepts any other `payload_schema` vector, or refuses one of
/// these (then the schema learnt the rule: remove it here).
const PAYLOAD_SCHEMA_CANNOT_EXPRESS: &[(&str, &str)] = &[
    // Uniqueness of one member across the items of an array: `uniqueItems`
    // compares whole items only.
    (
        "duplicate_service_id",
        "service ids unique within the listing",
    ),
    // The pattern checks the encoding (43 base64url characters); whether the
    // 32 bytes are a valid Ed25519 point of large order takes curve
    // arithmetic.
    ("hub_id_weak_key", "hub.id must not be a small-order key"),
    // A relation between two timestamps (expires_at - issued_at <= 90 days).
    (
        "lifetime_over_90_days",
        "expires_at at most 90 days after issued_at",
    ),
    // A reference from one array into another (schedule -> location);
    // the location_id itself is a well-formed UUID.
    (
        "schedule_location_not_in_service",
        "location_id names one of the service's locations",
    ),
    // Membership in the IANA time zone database, which changes over time.
    ("unknown_timezone", "hub.timezone is an IANA zone"),
];

/// Envelope-level vectors (`bad_envelope`, `bad_base64`, `signature_count`)
/// that the envelope schema accepts.
const ENVELOPE_CANNOT_EXPRESS: &[(&str, &str)] = &[
    // JSON Schema sees the parsed document, in which a key occurs once (here
    // the last `payload`, an empty string, which is valid base64).
    ("envelope_duplicate_field", "duplicate keys"),
];

/// The error codes that are about the envelope's own structure.
const ENVELOPE_CODES: &[&str] = &["bad_envelope", "bad_base64", "signature_count"];

// ---------------------------------------------------------------------------
// Loading and compiling the schemas

fn schema_path(name: &str) -> PathBuf {
    Path::new(SPEC_DIR)
        .join("schema")
        .join(format!("{name}.schema.json"))
}

fn load_schema(name: &str) -> Value {
    let path = schema_path(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Compiles `root` with both schema documents available by their `$id`, and
/// with `format` asserted (the schemas rely on uuid, date, date-time, uri
/// and email).
fn compile(listing: &Value, envelope: &Value, root: &Value) -> Validator {
    let registry = Registry::new()
        .add(LISTING_ID, listing)
        .and_then(|r| r.add(ENVELOPE_ID, envelope))
        .and_then(|r| r.prepare())
        .expect("registering the schemas");
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(root)
        .unwrap_or_else(|e| panic!("compiling {root}: {e}"))
}

/// A validator for one part of a schema, e.g. `listing.schema.json#/$defs/service`.
fn compile_ref(listing: &Value, envelope: &Value, uri: &str) -> Validator {
    compile(
        listing,
        envelope,
        &json!({ "$schema": DRAFT_2020_12, "$ref": uri }),
    )
}

struct Schemas {
    listing: Validator,
    envelope: Validator,
    listing_envelope: Validator,
    rotation_statement: Validator,
    service: Validator,
}

impl Schemas {
    fn compile(listing: &Value, envelope: &Value) -> Schemas {
        Schemas {
            listing: compile(listing, envelope, listing),
            envelope: compile(listing, envelope, envelope),
            listing_envelope: compile_ref(
                listing,
                envelope,
                &format!("{ENVELOPE_ID}#/$defs/listing_envelope"),
            ),
            rotation_statement: compile_ref(
                listing,
                envelope,
                &format!("{ENVELOPE_ID}#/$defs/rotation_statement"),
            ),
            service: compile_ref(listing, envelope, &format!("{LISTING_ID}#/$defs/service")),
        }
    }
}

/// The schemas as committed.
fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas::compile(&load_schema("listing"), &load_schema("envelope")))
}

/// Every error, for assertion messages.
fn errors(validator: &Validator, instance: &Value) -> String {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every error without the offending values, for progress output.
fn masked_errors(validator: &Validator, instance: &Value) -> String {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {}", e.instance_path(), e.masked()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The instance locations (JSON pointers) of every error.
fn error_locations(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| e.instance_path().as_str().to_owned())
        .collect()
}

/// The code's error path (`services[2].schedules[0].byday`, or `$` for the
/// whole payload) as a JSON pointer (`/services/2/schedules/0/byday`).
fn pointer_of(path: &str) -> String {
    if path == "$" {
        return String::new();
    }
    path.replace('[', ".")
        .replace(']', "")
        .split('.')
        .map(|segment| format!("/{segment}"))
        .collect()
}

fn assert_valid(validator: &Validator, instance: &Value, what: &str) {
    assert!(
        validator.is_valid(instance),
        "{what} does not match the schema:\n{}",
        errors(validator, instance)
    );
}

// ---------------------------------------------------------------------------
// Reading the vectors, the way spec/tests/vectors.rs does

struct VectorFile {
    name: String,
    /// The verifier's clock for this vector.
    now: Timestamp,
    expected_error: Option<String>,
    /// The envelope bytes (`envelope`, or `envelope_base64` decoded).
    bytes: Vec<u8>,
}

fn read_vectors(dir: &str) -> Vec<VectorFile> {
    let path = Path::new(SPEC_DIR).join("vectors").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .map(|e| e.expect("reading the vectors directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("reading a vector");
            let doc: Value = serde_json::from_str(&text).expect("a vector file is JSON");
            let field = |name: &str| doc.get(name).and_then(Value::as_str);
            let bytes = match (field("envelope"), field("envelope_base64")) {
                (Some(text), None) => text.as_bytes().to_vec(),
                (None, Some(encoded)) => STANDARD.decode(encoded).expect("envelope_base64"),
                _ => panic!("{}: needs envelope or envelope_base64", path.display()),
            };
            VectorFile {
                now: field("now")
                    .expect("now")
                    .parse()
                    .expect("now is a timestamp"),
                name: path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .expect("file name")
                    .to_owned(),
                expected_error: field("expected_error").map(str::to_owned),
                bytes,
            }
        })
        .collect()
}

/// The payload inside envelope JSON, parsed; `Err` when it is not base64 of
/// JSON.
fn decoded_payload(envelope: &Value) -> Result<Value, String> {
    let encoded = envelope["payload"].as_str().ok_or("no payload string")?;
    let bytes = STANDARD.decode(encoded).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("payload is not JSON: {e}"))
}

/// Checks the decoded payload of every rotation envelope in a listing
/// payload against the rotation statement schema; returns how many.
fn check_rotation_statements(payload: &Value, what: &str) -> usize {
    let rotations = payload
        .get("rotations")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, rotation) in rotations.iter().enumerate() {
        let statement = decoded_payload(rotation).expect("a rotation statement is JSON");
        assert_valid(
            &schemas().rotation_statement,
            &statement,
            &format!("{what}: rotations[{i}] statement"),
        );
    }
    rotations.len()
}

// ---------------------------------------------------------------------------
// 1. The schemas themselves

/// Walks a schema document and calls `f` with the JSON pointer and the
/// schema of every declared property. Conditions (`if`/`then`/`else`) only
/// restate properties declared elsewhere, so they are not walked.
fn for_each_property(schema: &Value, pointer: &str, f: &mut impl FnMut(&str, &str, &Value)) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{pointer}/{key}");
                if matches!(key.as_str(), "if" | "then" | "else") {
                    continue;
                }
                if key == "properties" {
                    if let Some(props) = value.as_object() {
                        for (name, prop) in props {
                            f(&here, name, prop);
                            for_each_property(prop, &format!("{here}/{name}"), f);
                        }
                    }
                    continue;
                }
                for_each_property(value, &here, f);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                for_each_property(item, &format!("{pointer}/{i}"), f);
            }
        }
        _ => {}
    }
}

/// Calls `f` with every object schema that declares `properties`.
fn for_each_object_schema(schema: &Value, pointer: &str, f: &mut impl FnMut(&str, &Value)) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") {
                f(pointer, schema);
            }
            for (key, value) in map {
                if matches!(key.as_str(), "if" | "then" | "else") {
                    continue;
                }
                for_each_object_schema(value, &format!("{pointer}/{key}"), f);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                for_each_object_schema(item, &format!("{pointer}/{i}"), f);
            }
        }
        _ => {}
    }
}

#[test]
fn schemas_are_valid_2020_12_and_document_every_property() {
    for (name, id, open) in [
        ("listing", LISTING_ID, true),
        ("envelope", ENVELOPE_ID, false),
    ] {
        let schema = load_schema(name);
        if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
            panic!("{name}.schema.json is not a valid 2020-12 schema: {e}");
        }
        assert_eq!(schema["$schema"], DRAFT_2020_12, "{name}: $schema");
        assert_eq!(schema["$id"], id, "{name}: $id");
        for key in ["title", "description"] {
            assert!(
                schema[key].as_str().is_some_and(|t| !t.is_empty()),
                "{name}: no top-level {key}"
            );
        }

        let mut undocumented = Vec::new();
        let mut count = 0;
        for_each_property(&schema, "", &mut |at, property, s| {
            count += 1;
            for key in ["title", "description"] {
                if s[key].as_str().is_none_or(|t| t.trim().is_empty()) {
                    undocumented.push(format!("{at}/{property} has no {key}"));
                }
            }
        });
        assert!(
            undocumented.is_empty(),
            "{name}.schema.json:\n{}",
            undocumented.join("\n")
        );
        assert!(count > 0, "{name}: no properties found");

        // The payload ignores unknown fields everywhere; the envelope and the
        // rotation statement refuse them (serde's deny_unknown_fields).
        let mut wrong = Vec::new();
        for_each_object_schema(&schema, "", &mut |at, s| {
            let typed_envelope = at.ends_with("_envelope");
            let want = if typed_envelope { None } else { Some(open) };
            if s.get("additionalProperties").and_then(Value::as_bool) != want {
                wrong.push(format!(
                    "{at}: additionalProperties is {:?}, want {want:?}",
                    s.get("additionalProperties")
                ));
            }
        });
        assert!(
            wrong.is_empty(),
            "{name}.schema.json:\n{}",
            wrong.join("\n")
        );
        eprintln!("{name}.schema.json: valid 2020-12, {count} documented properties");
    }
    // Compiling resolves every $ref and every pattern.
    let _ = schemas();
}

// ---------------------------------------------------------------------------
// 2. Valid vectors

#[test]
fn every_valid_vector_matches_the_schemas() {
    let vectors = read_vectors("valid");
    assert!(vectors.len() >= 6, "only {} valid vectors", vectors.len());
    let mut rotations = 0;
    for v in &vectors {
        let what = format!("valid/{}", v.name);
        let envelope: Value = serde_json::from_slice(&v.bytes)
            .unwrap_or_else(|e| panic!("{what}: envelope is not JSON: {e}"));
        assert_valid(&schemas().envelope, &envelope, &format!("{what} envelope"));
        assert_valid(
            &schemas().listing_envelope,
            &envelope,
            &format!("{what} envelope (as a listing envelope)"),
        );
        let payload = decoded_payload(&envelope).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_valid(&schemas().listing, &payload, &format!("{what} payload"));
        rotations += check_rotation_statements(&payload, &what);
    }
    assert!(rotations > 0, "no valid vector has a rotation statement");
    eprintln!(
        "{} valid vectors match both schemas ({rotations} rotation statements)",
        vectors.len()
    );
}

// ---------------------------------------------------------------------------
// 3. Invalid vectors

#[test]
fn payload_schema_vectors_are_refused_unless_the_schema_cannot_express_them() {
    let vectors: Vec<VectorFile> = read_vectors("invalid")
        .into_iter()
        .filter(|v| v.expected_error.as_deref() == Some("payload_schema"))
        .collect();
    assert!(vectors.len() >= 10, "only {} vectors", vectors.len());
    let mut accepted = BTreeSet::new();
    let mut refused = BTreeMap::new();
    for v in &vectors {
        let what = format!("invalid/{}", v.name);
        // These are correctly signed envelopes of a bad payload.
        let envelope: Value = serde_json::from_slice(&v.bytes)
            .unwrap_or_else(|e| panic!("{what}: envelope is not JSON: {e}"));
        assert_valid(&schemas().listing_envelope, &envelope, &what);
        match decoded_payload(&envelope) {
            // No JSON document at all: nothing for any schema to accept.
            Err(e) => {
                refused.insert(v.name.clone(), e);
            }
            Ok(payload) => {
                if schemas().listing.is_valid(&payload) {
                    accepted.insert(v.name.clone());
                    continue;
                }
                // The schema must refuse the field the code names (when the
                // code names one: typed parsing reports `$`).
                let options = VerifyOptions {
                    now: v.now,
                    limits: Limits::default(),
                };
                let path = match verify_listing(&v.bytes, &options) {
                    Err(SpecError::Schema { path, .. }) => path,
                    other => panic!("{what}: verify_listing gave {other:?}"),
                };
                let pointer = pointer_of(&path);
                let locations = error_locations(&schemas().listing, &payload);
                assert!(
                    locations
                        .iter()
                        .any(|l| *l == pointer || l.starts_with(&format!("{pointer}/"))),
                    "{what}: the code refuses {path} ({pointer}), the schema refuses elsewhere: {}",
                    errors(&schemas().listing, &payload)
                );
                refused.insert(
                    v.name.clone(),
                    format!(
                        "code at {path}; schema at {}",
                        masked_errors(&schemas().listing, &payload)
                    ),
                );
            }
        }
    }
    let cannot: BTreeSet<String> = PAYLOAD_SCHEMA_CANNOT_EXPRESS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    for (name, why) in &refused {
        eprintln!("refused {name}: {why}");
    }
    for (name, rule) in PAYLOAD_SCHEMA_CANNOT_EXPRESS {
        eprintln!("accepted {name}: the schema cannot express \"{rule}\"");
    }
    assert_eq!(
        accepted, cannot,
        "the payload_schema vectors the listing schema accepts differ from \
         PAYLOAD_SCHEMA_CANNOT_EXPRESS; refused: {refused:#?}"
    );
    eprintln!(
        "{} payload_schema vectors: {} refused by the schema, {} it cannot express",
        vectors.len(),
        refused.len(),
        accepted.len()
    );
}

#[test]
fn envelope_vectors_are_refused_unless_the_schema_cannot_express_them() {
    let vectors: Vec<VectorFile> = read_vectors("invalid")
        .into_iter()
        .filter(|v| {
            v.expected_error
                .as_deref()
                .is_some_and(|c| ENVELOPE_CODES.contains(&c))
        })
        .collect();
    assert!(!vectors.is_empty());
    let mut accepted = BTreeSet::new();
    let mut not_json = 0;
    for v in &vectors {
        // Bytes that are not a JSON document (or not UTF-8) are no instance.
        let Ok(envelope) = serde_json::from_slice::<Value>(&v.bytes) else {
            not_json += 1;
            continue;
        };
        if schemas().envelope.is_valid(&envelope) {
            accepted.insert(v.name.clone());
        }
    }
    let cannot: BTreeSet<String> = ENVELOPE_CANNOT_EXPRESS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        accepted, cannot,
        "the envelope-level vectors the envelope schema accepts differ from \
         ENVELOPE_CANNOT_EXPRESS"
    );
    eprintln!(
        "{} envelope-level vectors: {not_json} not JSON, {} refused by the envelope schema, \
         {} it cannot express",
        vectors.len(),
        vectors.len() - not_json - accepted.len(),
        accepted.len()
    );
}

// ---------------------------------------------------------------------------
// 4. A listing with every optional field, signed by the crate

const NOW: &str = "2026-03-02T12:00:00Z";
const LOCATION_ID: &str = "5a9e7c31-2d4f-4b8a-b6c1-3e2f1a0d9c74";

fn ts(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

fn key(n: u8) -> HubKey {
    HubKey::from_seed(&[n; 32]).expect("fixed seed gives a valid key")
}

fn full_address() -> Address {
    Address {
        address_1: Some("At The Grange, Dinmore Avenue".into()),
        address_2: Some("Grange Park".into()),
        city: Some("Blackpool".into()),
        region: Some("Lancashire".into()),
        state_province: Some("England".into()),
        postal_code: Some("FY3 7RW".into()),
        country: Some("GB".into()),
    }
}

/// A service with every field filled in.
fn full_service() -> Service {
    Service {
        id: "3f6c2a1e-8b4d-4c7a-9e2f-1a5b6c7d8e90".into(),
        name: "Community café".into(),
        description: Some("Hot drinks and a cooked lunch.\nNobody is turned away.".into()),
        status: ServiceStatus::TemporarilyClosed,
        organization: Some(Organization {
            id: Some("e4a1b2c3-d4e5-4f60-8a7b-9c0d1e2f3a45".into()),
            name: "At The Grange volunteers".into(),
            description: Some("Volunteers from the estate".into()),
            website: Some("https://atthegrange.example.org/volunteers".into()),
            email: Some("volunteers@atthegrange.example.org".into()),
        }),
        url: Some("https://atthegrange.example.org/cafe".into()),
        email: Some("cafe@atthegrange.example.org".into()),
        eligibility_description: Some("Everyone welcome".into()),
        minimum_age: Some(16),
        maximum_age: Some(120),
        fees_description: Some("Pay what you can".into()),
        application_process: Some("Drop in".into()),
        access: vec![
            AccessRoute::WalkIn,
            AccessRoute::SelfReferral,
            AccessRoute::ProfessionalReferral,
        ],
        assured_date: Some("2026-02-27".into()),
        languages: vec![Language {
            name: Some("English".into()),
            code: Some("en".into()),
            note: Some("Some volunteers speak Polish".into()),
        }],
        service_areas: vec![ServiceArea {
            name: Some("Blackpool".into()),
            description: Some("Anyone in Blackpool".into()),
        }],
        locations: vec![Location {
            id: LOCATION_ID.into(),
            name: Some("At The Grange".into()),
            description: Some("The old library building".into()),
            address: Some(full_address()),
            latitude: Some(53.8269),
            longitude: Some(-3.0125),
            accessibility: Some("Step-free entrance, hearing loop".into()),
        }],
        phones: vec![Phone {
            number: "01632 960124".into(),
            kind: Some("voice".into()),
            description: Some("Café counter".into()),
        }],
        contacts: vec![Contact {
            name: Some("Jo Whitworth".into()),
            title: Some("Café coordinator".into()),
            email: Some("jo@atthegrange.example.org".into()),
            phone: Some("01632 960125".into()),
        }],
        schedules: vec![Schedule {
            byday: "MO,TU,WE,TH,FR".into(),
            opens_at: "09:00".into(),
            closes_at: "14:30:00".into(),
            valid_from: Some("2026-01-05".into()),
            valid_to: Some("2026-12-18".into()),
            description: Some("Lunch served 12:00 to 13:30".into()),
            location_id: Some(LOCATION_ID.into()),
        }],
        taxonomy_terms: vec![TaxonomyTerm {
            code: Some("community-cafe".into()),
            name: "Community café".into(),
            taxonomy: Some("signpost".into()),
        }],
    }
}

/// A listing by a hub that rotated from key 11 to key 12, with every
/// optional field filled in; returns it with the key that signs it.
fn full_listing() -> (Listing, HubKey) {
    let (first, second) = (key(11), key(12));
    let hub = HubProfile {
        id: first.key_id().to_string(),
        name: "At The Grange".into(),
        description: Some("Community hub on the Grange Park estate.".into()),
        url: Some("https://atthegrange.example.org/".into()),
        email: Some("hello@atthegrange.example.org".into()),
        phone: Some("01632 960123".into()),
        area_served: Some("Grange Park estate, Blackpool".into()),
        address: Some(full_address()),
        latitude: Some(53.8269),
        longitude: Some(-3.0125),
        timezone: "Europe/London".into(),
        dimensions: Dimensions {
            space: vec![Space::Dedicated, Space::PopUp, Space::Virtual],
            governance: Governance::Partnership,
            focus: Focus::Specialised,
            coordination: Coordination::SecondLevel,
        },
    };
    let rotation = rotate(
        first.key_id(),
        &first,
        second.key_id(),
        ts("2026-01-15T10:00:00Z"),
    );
    let issued_at = ts("2026-03-02T09:00:00Z");
    let listing = Listing {
        signpost: PROTOCOL_VERSION.into(),
        hub,
        seq: 7,
        issued_at,
        expires_at: issued_at + SignedDuration::from_hours(24 * 28),
        withdrawn: false,
        rotations: vec![rotation],
        services: vec![full_service()],
    };
    (listing, second)
}

/// Signs with the crate's own path, verifies, and returns the envelope,
/// the payload and the decoded rotation statements as JSON.
fn signed_documents(listing: &Listing, key: &HubKey) -> Vec<(String, Value)> {
    let bytes = sign_listing(listing, key, &Limits::default()).expect("sign_listing");
    let options = VerifyOptions {
        now: ts(NOW),
        limits: Limits::default(),
    };
    verify_listing(&bytes, &options).expect("the signed listing verifies");
    let envelope: Value = serde_json::from_slice(&bytes).expect("envelope JSON");
    let payload = decoded_payload(&envelope).expect("payload JSON");
    let mut out = vec![("envelope".to_owned(), envelope)];
    for (i, rotation) in payload["rotations"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        out.push((format!("rotations[{i}] envelope"), rotation.clone()));
        out.push((
            format!("rotations[{i}] statement"),
            decoded_payload(rotation).expect("statement JSON"),
        ));
    }
    out.push(("payload".to_owned(), payload));
    out
}

/// Every object key in a document.
fn keys_of(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                keys_of(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys_of(v, out)),
        _ => {}
    }
}

/// The schemas with `additionalProperties: false` on every object, so that a
/// document only matches when the schema names every field in it.
fn closed(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), closed(v))).collect();
            if out.get("additionalProperties") == Some(&Value::Bool(true)) {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(closed).collect()),
        other => other.clone(),
    }
}

#[test]
fn a_full_listing_signed_by_the_crate_matches_and_the_schemas_name_every_field() {
    let (full, signer) = full_listing();
    let mut withdrawn = full_listing().0;
    withdrawn.withdrawn = true;
    withdrawn.services.clear();
    let mut documents = signed_documents(&full, &signer);
    documents.extend(signed_documents(&withdrawn, &signer));

    let (listing, envelope) = (load_schema("listing"), load_schema("envelope"));
    let strict = Schemas::compile(&closed(&listing), &closed(&envelope));
    let mut written = BTreeSet::new();
    for (what, doc) in &documents {
        for (schemas, how) in [(schemas(), "as committed"), (&strict, "closed")] {
            let validator = match what.as_str() {
                "envelope" => &schemas.listing_envelope,
                "payload" => &schemas.listing,
                w if w.ends_with("statement") => &schemas.rotation_statement,
                _ => &schemas.envelope,
            };
            assert_valid(validator, doc, &format!("full listing {what} ({how})"));
        }
        keys_of(doc, &mut written);
    }

    // And the schemas name no field the code does not write.
    let mut declared = BTreeSet::new();
    for schema in [&listing, &envelope] {
        for_each_property(schema, "", &mut |_, name, _| {
            declared.insert(name.to_owned());
        });
    }
    let unwritten: Vec<_> = declared.difference(&written).collect();
    assert!(
        unwritten.is_empty(),
        "the schemas declare fields the full listing does not have: {unwritten:?}"
    );
    eprintln!(
        "full listing: {} documents match, {} field names written and declared",
        documents.len(),
        written.len()
    );
}

// ---------------------------------------------------------------------------
// 5. Field by field: the service schema against validate_service

/// The code's verdict on one service written as JSON: typed parsing, then
/// [`validate_service`].
fn code_accepts(service: &Value) -> Result<(), String> {
    let parsed: Service = serde_json::from_value(service.clone()).map_err(|e| e.to_string())?;
    validate_service(&parsed, &Limits::default()).map_err(|e| e.to_string())
}

/// Removes `key` from the object `value`.
fn remove_key(value: &mut Value, key: &str) {
    if let Some(object) = value.as_object_mut() {
        object.remove(key);
    }
}

/// Appends a copy of the first item to the array `value`.
fn repeat_first(value: &mut Value) {
    if let Some(items) = value.as_array_mut() {
        let first = items[0].clone();
        items.push(first);
    }
}

/// A valid service with one location and one schedule, to vary.
fn base_service() -> Value {
    json!({
        "id": "7b1e9d24-5c3a-4f86-a2d1-0e4f5a6b7c81",
        "name": "Food pantry",
        "locations": [{"id": LOCATION_ID, "latitude": 53.8, "longitude": -3.0}],
        "schedules": [{"byday": "TU", "opens_at": "10:00", "closes_at": "12:00",
                       "location_id": LOCATION_ID}]
    })
}

/// Where the schema and the code are known to disagree on a service. Every
/// one is listed in the schemas' descriptions.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    // Not expressible (see PAYLOAD_SCHEMA_CANNOT_EXPRESS): the code refuses,
    // the schema accepts.
    ("byday MO,MO", "a day named twice"),
    ("byday MO, TU ,MO", "a day named twice"),
    ("closes_at equals opens_at", "relation between two fields"),
    ("valid_to before valid_from", "relation between two fields"),
    (
        "duplicate location id",
        "uniqueness of a member across items",
    ),
    ("location_id of no location", "reference into another array"),
    // The formats are stricter than the code: the code accepts, the schema
    // refuses. RFC 5321 has no empty dot-atom part, `format: email` is
    // ASCII only (`idn-email` would allow more) and limits the local part
    // to 64 characters; WHATWG URL parsing, which the code uses, encodes a
    // space in the path where RFC 3986 (`format: uri`) refuses it.
    ("email a..b@example.org", "RFC 5321: empty dot-atom part"),
    (
        "organization.email a..b@example.org",
        "RFC 5321: empty dot-atom part",
    ),
    (
        "contacts[0].email a..b@example.org",
        "RFC 5321: empty dot-atom part",
    ),
    ("email ü@example.org", "format email is ASCII"),
    ("organization.email ü@example.org", "format email is ASCII"),
    ("contacts[0].email ü@example.org", "format email is ASCII"),
    (
        "email of 256 characters",
        "RFC 5321: local part of 244 characters",
    ),
    ("url https://example.org/a b", "RFC 3986: space in the path"),
    (
        "organization.website url https://example.org/a b",
        "RFC 3986: space in the path",
    ),
];

fn service_cases() -> Vec<(String, Value)> {
    let mut cases: Vec<(String, Value)> = Vec::new();
    let mut case = |label: String, edit: &dyn Fn(&mut Value)| {
        let mut service = base_service();
        edit(&mut service);
        cases.push((label, service));
    };

    case("base".into(), &|_| {});

    // Short and free text, on the name and the description.
    let texts: Vec<String> = vec![
        "".into(),
        " ".into(),
        "\t\n".into(),
        "\u{a0}".into(),
        "\u{3000}".into(),
        "\u{feff}".into(),
        "a".into(),
        " a ".into(),
        "a\nb\tc\rd".into(),
        "a\u{7}".into(),
        "a\u{0}".into(),
        "a\u{b}".into(),
        "a\u{1f}".into(),
        "a\u{7f}".into(),
        "a\u{85}".into(),
        "a\u{9f}".into(),
        "a\u{a0}".into(),
        "Hwb Cymunedol Tŷ Ni 🏴󠁧󠁢󠁷󠁬󠁳󠁿".into(),
        "x".repeat(256),
        "x".repeat(257),
        "é".repeat(256),
        "é".repeat(257),
        "🧺".repeat(256),
        "🧺".repeat(257),
        "x".repeat(10_000),
        "x".repeat(10_001),
    ];
    for text in &texts {
        let short = format!("name {text:?}");
        let long = format!("description {text:?}");
        case(short, &|s| s["name"] = json!(text));
        case(long, &|s| s["description"] = json!(text));
    }
    case("description null".into(), &|s| {
        s["description"] = Value::Null
    });
    case("name null".into(), &|s| s["name"] = Value::Null);
    case("name missing".into(), &|s| {
        remove_key(s, "name");
    });
    case("name a number".into(), &|s| s["name"] = json!(1));

    // Ids.
    for id in [
        "7b1e9d24-5c3a-4f86-a2d1-0e4f5a6b7c81",
        "7B1E9D24-5C3A-4F86-A2D1-0E4F5A6B7C81",
        "7b1e9d24-5c3a-4f86-a2d1-0e4f5a6b7C81",
        "7b1e9d245c3a4f86a2d10e4f5a6b7c81",
        "{7b1e9d24-5c3a-4f86-a2d1-0e4f5a6b7c81}",
        "urn:uuid:7b1e9d24-5c3a-4f86-a2d1-0e4f5a6b7c81",
        "7b1e9d24-5c3a-4f86-a2d1-0e4f5a6b7c8",
        "7b1e9d24-5c3a-4f86-a2d1-0e4f5a6b7c8g",
        "00000000-0000-0000-0000-000000000000",
    ] {
        case(format!("id {id}"), &|s| s["id"] = json!(id));
        case(format!("organization.id {id}"), &|s| {
            s["organization"] = json!({"name": "Org", "id": id})
        });
    }

    // Status and access.
    for status in [
        "active",
        "inactive",
        "defunct",
        "temporarily closed",
        "closed",
        "Active",
    ] {
        case(format!("status {status}"), &|s| s["status"] = json!(status));
    }
    case("status null".into(), &|s| s["status"] = Value::Null);
    for access in [
        json!([]),
        json!(["walk-in", "self-referral", "professional-referral"]),
        json!(["walk-in", "walk-in"]),
        json!(["drive-in"]),
        json!("walk-in"),
        Value::Null,
    ] {
        case(format!("access {access}"), &|s| {
            s["access"] = access.clone()
        });
    }

    // Emails, as service, organisation and contact email.
    for email in [
        "cafe@atthegrange.example.org",
        "a@b.c",
        "a@b",
        "a@.b",
        "a@b.",
        "@b.c",
        "a b@c.d",
        "a@b@c.d",
        "a@b .c",
        "a..b@example.org",
        "ü@example.org",
        "",
        " ",
    ] {
        case(format!("email {email}"), &|s| s["email"] = json!(email));
        case(format!("organization.email {email}"), &|s| {
            s["organization"] = json!({"name": "Org", "email": email})
        });
        case(format!("contacts[0].email {email}"), &|s| {
            s["contacts"] = json!([{"email": email}])
        });
    }
    let long_email = format!("{}@example.org", "a".repeat(244));
    case("email of 257 characters".into(), &|s| {
        s["email"] = json!(format!("a{long_email}"))
    });
    case("email of 256 characters".into(), &|s| {
        s["email"] = json!(long_email)
    });

    // URLs.
    let long_url = format!("https://example.org/{}", "a".repeat(2_028));
    for url in [
        "https://example.org/",
        "http://example.org",
        "HTTPS://EXAMPLE.ORG/",
        "https://example.org/a?b=c#d",
        "https://example.org:8443/",
        "ftp://example.org/",
        "mailto:cafe@example.org",
        "example.org",
        "//example.org",
        "https://exa mple.org/",
        "https://example.org/a b",
        "https:example.org",
        "",
        " ",
        &long_url,
        &format!("{long_url}a"),
    ] {
        let label = if url.len() > 100 {
            format!("url of {} characters", url.len())
        } else {
            format!("url {url}")
        };
        case(label.clone(), &|s| s["url"] = json!(url));
        case(format!("organization.website {label}"), &|s| {
            s["organization"] = json!({"name": "Org", "website": url})
        });
    }

    // Dates.
    for date in [
        "2026-02-27",
        "2024-02-29",
        "2026-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-01-32",
        "2026-1-01",
        "20260101",
        "2026-01-01T00:00:00Z",
        "0000-01-01",
        "9999-12-31",
        " 2026-01-01",
        "",
    ] {
        case(format!("assured_date {date}"), &|s| {
            s["assured_date"] = json!(date)
        });
        case(format!("valid_from {date}"), &|s| {
            s["schedules"][0]["valid_from"] = json!(date)
        });
    }
    case("valid_to before valid_from".into(), &|s| {
        s["schedules"][0]["valid_from"] = json!("2026-02-01");
        s["schedules"][0]["valid_to"] = json!("2026-01-31");
    });
    case("valid_to equals valid_from".into(), &|s| {
        s["schedules"][0]["valid_from"] = json!("2026-02-01");
        s["schedules"][0]["valid_to"] = json!("2026-02-01");
    });

    // byday.
    for byday in [
        "MO",
        "MO,TU,WE,TH,FR,SA,SU",
        "SU,MO",
        "MO, WE",
        " MO ",
        "MO ,\tWE",
        "MO\u{3000},TU",
        "MO\u{feff}",
        "MO\u{85}",
        "MO,,WE",
        ",MO",
        "MO,",
        "",
        " ",
        "MON",
        "mo",
        "MO WE",
        "MO;WE",
        "MO,MO",
        "MO, TU ,MO",
    ] {
        case(format!("byday {byday}"), &|s| {
            s["schedules"][0]["byday"] = json!(byday)
        });
    }
    case("closes_at equals opens_at".into(), &|s| {
        s["schedules"][0]["closes_at"] = json!("10:00")
    });
    case("closes_at before opens_at".into(), &|s| {
        s["schedules"][0]["closes_at"] = json!("02:00")
    });
    case("closes_at 10:00:00, opens_at 10:00".into(), &|s| {
        s["schedules"][0]["closes_at"] = json!("10:00:00")
    });

    // Locations, coordinates and addresses.
    for (lat, lon) in [
        (json!(90), json!(180)),
        (json!(-90.0), json!(-180.0)),
        (json!(90.000001), json!(0)),
        (json!(-90.5), json!(0)),
        (json!(0), json!(180.1)),
        (json!(0), json!(-181)),
        (json!(1), Value::Null),
        (Value::Null, json!(1)),
        (Value::Null, Value::Null),
        (json!("53.8"), json!("-3.0")),
    ] {
        case(format!("coordinates {lat}, {lon}"), &|s| {
            s["locations"][0]["latitude"] = lat.clone();
            s["locations"][0]["longitude"] = lon.clone();
        });
    }
    case("latitude only".into(), &|s| {
        remove_key(&mut s["locations"][0], "longitude");
    });
    case("longitude only".into(), &|s| {
        remove_key(&mut s["locations"][0], "latitude");
    });
    for country in ["GB", "gb", "G", "GBR", "Gb", "É1", ""] {
        case(format!("country {country:?}"), &|s| {
            s["locations"][0]["address"] = json!({"country": country})
        });
    }
    case("address null".into(), &|s| {
        s["locations"][0]["address"] = Value::Null
    });
    case("address city blank".into(), &|s| {
        s["locations"][0]["address"] = json!({"city": " "})
    });
    case("location without id".into(), &|s| {
        remove_key(&mut s["locations"][0], "id");
    });
    case("duplicate location id".into(), &|s| {
        repeat_first(&mut s["locations"]);
    });
    case("location_id of no location".into(), &|s| {
        s["schedules"][0]["location_id"] = json!("7b1e9d24-5c3a-4f86-a2d1-0e4f5a6b7c81")
    });
    case("location_id not a uuid".into(), &|s| {
        s["schedules"][0]["location_id"] = json!("the hall")
    });

    // Required members of the other lists, and list lengths.
    case("phone without number".into(), &|s| {
        s["phones"] = json!([{"type": "voice"}])
    });
    case("taxonomy term without name".into(), &|s| {
        s["taxonomy_terms"] = json!([{"code": "x"}])
    });
    case("organization without name".into(), &|s| {
        s["organization"] = json!({"website": "https://example.org/"})
    });
    case("organization null".into(), &|s| {
        s["organization"] = Value::Null
    });
    case("schedule without byday".into(), &|s| {
        remove_key(&mut s["schedules"][0], "byday");
    });
    case("unknown fields".into(), &|s| {
        s["x_extra"] = json!({"a": [1, 2]});
        s["schedules"][0]["x_note"] = json!("ignored");
    });
    for (list, item) in [
        ("languages", json!({"code": "en"})),
        ("service_areas", json!({"name": "Blackpool"})),
        ("phones", json!({"number": "01632 960000"})),
        ("contacts", json!({"name": "Jo"})),
        (
            "schedules",
            json!({"byday": "MO", "opens_at": "09:00", "closes_at": "10:00"}),
        ),
        ("taxonomy_terms", json!({"name": "Food"})),
    ] {
        for n in [100, 101] {
            case(format!("{n} {list}"), &|s| {
                s[list] = Value::Array(vec![item.clone(); n])
            });
        }
        case(format!("{list} null"), &|s| s[list] = Value::Null);
    }
    for n in [100, 101] {
        case(format!("{n} locations"), &|s| {
            let locations: Vec<Value> = (0..n)
                .map(|i| json!({"id": format!("00000000-0000-4000-8000-{i:012}")}))
                .collect();
            s["locations"] = Value::Array(locations);
            s["schedules"][0]["location_id"] = json!("00000000-0000-4000-8000-000000000000");
        });
    }
    cases
}

#[test]
fn the_service_schema_agrees_with_validate_service() {
    let known: BTreeMap<&str, &str> = KNOWN_DIFFERENCES.iter().copied().collect();
    let mut differences = BTreeMap::new();
    let cases = service_cases();
    let labels: BTreeSet<&str> = cases.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels.len(), cases.len(), "two cases share a label");
    for (label, service) in &cases {
        let code = code_accepts(service);
        let schema = schemas().service.is_valid(service);
        if code.is_ok() != schema {
            let why = match &code {
                Ok(()) => format!(
                    "code accepts, schema refuses: {}",
                    errors(&schemas().service, service)
                ),
                Err(e) => format!("code refuses ({e}), schema accepts"),
            };
            differences.insert(label.clone(), why);
        }
    }
    let found: BTreeSet<&str> = differences.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = known.keys().copied().collect();
    assert_eq!(
        found, expected,
        "the schema and validate_service disagree on other cases than KNOWN_DIFFERENCES: \
         {differences:#?}"
    );
    assert!(code_accepts(&base_service()).is_ok());
    eprintln!(
        "{} service cases: schema and code agree on all but the {} known differences",
        cases.len(),
        known.len()
    );
}

/// Every `HH:MM` and a sweep of `HH:MM:SS`, and some malformed times, as
/// opens_at: the time pattern accepts exactly what `parse_time` accepts.
#[test]
fn the_time_pattern_agrees_with_parse_time() {
    let mut values: Vec<String> = Vec::new();
    for h in 0..100 {
        for m in 0..100 {
            values.push(format!("{h:02}:{m:02}"));
        }
    }
    for h in [0, 9, 23, 24, 99] {
        for m in [0, 59, 60] {
            for s in 0..100 {
                values.push(format!("{h:02}:{m:02}:{s:02}"));
            }
        }
    }
    for odd in [
        "9:30",
        "09:3",
        "0930",
        "09.30",
        "09:30 ",
        " 09:30",
        "09:30:0",
        "09:30:00.5",
        "T09:30",
        "09:30Z",
        "09:30+01:00",
        "０９:３０",
        "",
        "24:00",
        "-1:00",
        "09:30:00:00",
    ] {
        values.push(odd.to_owned());
    }
    let mut disagree = Vec::new();
    for value in &values {
        let mut service = base_service();
        service["schedules"][0]["opens_at"] = json!(value);
        // closes_at must differ from opens_at; pick one that always does.
        service["schedules"][0]["closes_at"] =
            json!(if value == "12:00" { "13:00" } else { "12:00" });
        let code = parse_time(value).is_ok();
        assert_eq!(code, code_accepts(&service).is_ok(), "{value:?}");
        if code != schemas().service.is_valid(&service) {
            disagree.push(format!("{value:?}: parse_time says {code}"));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
    eprintln!("{} times: the pattern agrees with parse_time", values.len());
}

/// The timestamp definition accepts only what the code reads as a
/// [`Timestamp`] (the code also reads spellings RFC 3339 does not have).
#[test]
fn the_timestamp_schema_accepts_only_what_the_code_reads() {
    let (listing, envelope) = (load_schema("listing"), load_schema("envelope"));
    let schema = compile_ref(
        &listing,
        &envelope,
        &format!("{LISTING_ID}#/$defs/timestamp"),
    );
    let reads = |value: &str| serde_json::from_value::<Timestamp>(json!(value)).is_ok();
    let both = [
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:00:00.5Z",
        "2026-03-02T09:00:00.123456789Z",
        "2026-03-02T09:00:00+01:00",
        "2026-03-02T09:00:00-05:30",
        "2026-03-02t09:00:00z",
        "2024-02-29T23:59:59Z",
    ];
    let code_only = [
        "2026-03-02T09:00Z",
        "2026-03-02 09:00:00Z",
        "2026-03-02T09:00:00+01:00[Europe/London]",
        "20260302T090000Z",
        "2026-03-02T09:00:00+0100",
    ];
    let neither = [
        "2026-03-02T09:00:00",
        "2026-03-02",
        "2026-02-29T09:00:00Z",
        "2026-03-02T24:00:00Z",
        "2026-03-02T09:00:00 Z",
        "1772442000",
        "",
    ];
    for value in both {
        assert!(reads(value), "code refuses {value:?}");
        assert!(schema.is_valid(&json!(value)), "schema refuses {value:?}");
    }
    for value in code_only {
        assert!(reads(value), "code refuses {value:?}");
        assert!(!schema.is_valid(&json!(value)), "schema accepts {value:?}");
    }
    for value in neither {
        assert!(!reads(value), "code reads {value:?}");
        assert!(!schema.is_valid(&json!(value)), "schema accepts {value:?}");
    }
}

/// The code's verdict on a listing payload written as JSON: typed parsing,
/// then [`validate_listing`].
fn code_accepts_listing(payload: &Value) -> Result<(), String> {
    let parsed: Listing = serde_json::from_value(payload.clone()).map_err(|e| e.to_string())?;
    validate_listing(&parsed, &Limits::default()).map_err(|e| e.to_string())
}

/// Where the listing schema and the code are known to disagree, beyond the
/// service: all are rules the schema cannot express (its description lists
/// them), so the code refuses and the schema accepts.
const KNOWN_LISTING_DIFFERENCES: &[(&str, &str)] = &[
    (
        "seq 1.0",
        "JSON Schema counts 1.0 as an integer; serde's u64 does not",
    ),
    (
        "seq 1e0",
        "JSON Schema counts 1e0 as an integer; serde's u64 does not",
    ),
    (
        "timezone Europe/Blackpool",
        "membership in the IANA database",
    ),
    ("hub.id weak key", "small-order Ed25519 point"),
    ("expires_at equals issued_at", "relation between two fields"),
    (
        "lifetime of 90 days and 1 second",
        "relation between two fields",
    ),
    (
        "duplicate service id",
        "uniqueness of a member across items",
    ),
];

#[test]
fn the_listing_schema_agrees_with_validate_listing() {
    let hub = key(2);
    let id = hub.key_id().to_string();
    let mut base_listing = full_listing().0;
    base_listing.hub.id = id.clone();
    base_listing.rotations.clear();
    let base = serde_json::to_value(&base_listing).expect("listing JSON");
    assert!(code_accepts_listing(&base).is_ok());

    // A key id whose last character has a non-zero unused bit: the same
    // 32 bytes to a lenient decoder, refused by a strict one.
    let last = id.chars().last().expect("non-empty id");
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).expect("base64url character");
    let sloppy = format!("{}{}", &id[..id.len() - 1], &alphabet[index + 1..index + 2]);
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = format!(
        "ed25519:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(identity)
    );

    type Edit = Box<dyn Fn(&mut Value)>;
    let set = |pointer: &'static str, value: Value| -> Edit {
        Box::new(move |l: &mut Value| {
            *l.pointer_mut(pointer).expect(pointer) = value.clone();
        })
    };
    let remove = |parent: &'static str, key: &'static str| -> Edit {
        Box::new(move |l: &mut Value| {
            l.pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .expect(parent)
                .remove(key);
        })
    };
    let cases: Vec<(&str, Edit)> = vec![
        ("base", Box::new(|_| {})),
        ("signpost 2", set("/signpost", json!("2"))),
        ("signpost 1 as a number", set("/signpost", json!(1))),
        ("seq 1.0", set("/seq", json!(1.0))),
        (
            "seq 1e0",
            Box::new(|l| l["seq"] = serde_json::from_str("1e0").expect("1e0")),
        ),
        ("seq -1", set("/seq", json!(-1))),
        ("seq as a string", set("/seq", json!("1"))),
        ("seq missing", remove("", "seq")),
        ("services missing", remove("", "services")),
        ("services null", set("/services", Value::Null)),
        ("rotations empty", Box::new(|l| l["rotations"] = json!([]))),
        ("rotations null", Box::new(|l| l["rotations"] = Value::Null)),
        (
            "withdrawn with no services",
            Box::new(|l| {
                l["withdrawn"] = json!(true);
                l["services"] = json!([]);
            }),
        ),
        (
            "withdrawn with services",
            Box::new(|l| l["withdrawn"] = json!(true)),
        ),
        (
            "withdrawn false",
            Box::new(|l| l["withdrawn"] = json!(false)),
        ),
        ("withdrawn null", Box::new(|l| l["withdrawn"] = Value::Null)),
        (
            "withdrawn as a string",
            Box::new(|l| l["withdrawn"] = json!("yes")),
        ),
        ("timezone missing", remove("/hub", "timezone")),
        ("timezone null", set("/hub/timezone", Value::Null)),
        ("timezone UTC", set("/hub/timezone", json!("UTC"))),
        (
            "timezone Europe/Blackpool",
            set("/hub/timezone", json!("Europe/Blackpool")),
        ),
        ("timezone blank", set("/hub/timezone", json!(" "))),
        ("space empty", set("/hub/dimensions/space", json!([]))),
        (
            "space repeated",
            set("/hub/dimensions/space", json!(["pop-up", "pop-up"])),
        ),
        (
            "space unknown",
            set("/hub/dimensions/space", json!(["online"])),
        ),
        (
            "space a string",
            set("/hub/dimensions/space", json!("virtual")),
        ),
        (
            "focus unknown",
            set("/hub/dimensions/focus", json!("broad")),
        ),
        (
            "coordination unknown",
            set("/hub/dimensions/coordination", json!("third-level")),
        ),
        ("dimensions missing", remove("/hub", "dimensions")),
        (
            "hub.id non-canonical last character",
            set("/hub/id", json!(sloppy)),
        ),
        ("hub.id weak key", set("/hub/id", json!(weak))),
        (
            "hub.id without prefix",
            set("/hub/id", json!(id["ed25519:".len()..])),
        ),
        (
            "hub.id with a capital prefix",
            set("/hub/id", json!(id.replace("ed25519", "Ed25519"))),
        ),
        (
            "hub.id one character short",
            set("/hub/id", json!(&id[..id.len() - 1])),
        ),
        ("hub latitude only", remove("/hub", "longitude")),
        ("hub latitude null", set("/hub/latitude", Value::Null)),
        ("hub.url ftp", set("/hub/url", json!("ftp://example.org/"))),
        (
            "hub.address.country gb",
            set("/hub/address/country", json!("gb")),
        ),
        ("hub.name blank", set("/hub/name", json!("\t"))),
        (
            "expires_at equals issued_at",
            set("/expires_at", json!("2026-03-02T09:00:00Z")),
        ),
        (
            "lifetime of 90 days",
            set("/expires_at", json!("2026-05-31T09:00:00Z")),
        ),
        (
            "lifetime of 90 days and 1 second",
            set("/expires_at", json!("2026-05-31T09:00:01Z")),
        ),
        (
            "issued_at without offset",
            set("/issued_at", json!("2026-03-02T09:00:00")),
        ),
        (
            "duplicate service id",
            Box::new(|l| {
                repeat_first(&mut l["services"]);
            }),
        ),
    ];
    let known: BTreeSet<&str> = KNOWN_LISTING_DIFFERENCES.iter().map(|(l, _)| *l).collect();
    let mut differences = BTreeMap::new();
    for (label, edit) in &cases {
        let mut payload = base.clone();
        edit(&mut payload);
        let code = code_accepts_listing(&payload);
        let schema = schemas().listing.is_valid(&payload);
        if code.is_ok() != schema {
            let why = match &code {
                Ok(()) => format!(
                    "code accepts, schema refuses: {}",
                    errors(&schemas().listing, &payload)
                ),
                Err(e) => format!("code refuses ({e}), schema accepts"),
            };
            differences.insert(*label, why);
        }
    }
    let found: BTreeSet<&str> = differences.keys().copied().collect();
    assert_eq!(
        found, known,
        "the listing schema and validate_listing disagree on other cases than \
         KNOWN_LISTING_DIFFERENCES: {differences:#?}"
    );
    eprintln!(
        "{} listing cases: schema and code agree on all but the {} known differences",
        cases.len(),
        known.len()
    );
}
