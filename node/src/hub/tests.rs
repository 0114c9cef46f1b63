//! The hub core on a real folder: edits publish rising, verifiable listings.

use super::*;
use crate::init::{init, InitOptions};
use signpost_spec::{
    verify_listing, Coordination, Dimensions, Focus, Governance, Space, VerifyOptions,
};

/// A fresh hub in `dir`, for tests here and in the import steps.
pub(crate) fn new_hub(dir: &Path) -> HubCore {
    init(&InitOptions {
        dir: dir.to_owned(),
        name: "At The Grange".into(),
        url: None,
        listen: None,
        dimensions: Dimensions {
            space: vec![Space::Dedicated],
            governance: Governance::CommunityLed,
            focus: Focus::Generic,
            coordination: Coordination::FirstLevel,
        },
        aggregator: false,
    })
    .unwrap();
    HubCore::open(dir, &Config::load(dir).unwrap()).unwrap()
}

#[test]
fn listing_is_signed_again_once_half_its_life_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = new_hub(dir.path());
    let first = hub.published().unwrap().unwrap();
    let lifetime = first.expires_at.as_second() - first.issued_at.as_second();
    assert_eq!(lifetime, 168 * 3600);
    assert!(!hub.needs_resign(first.issued_at).unwrap());
    let later = first.issued_at + SignedDuration::from_secs(lifetime / 2 + 1);
    assert!(hub.needs_resign(later).unwrap());
    let again = hub.republish().unwrap();
    assert!(again.seq > first.seq);
    assert!(again.expires_at >= first.expires_at);
    let verified = verify_listing(&again.envelope, &VerifyOptions::now()).unwrap();
    assert_eq!(verified.listing.seq, again.seq);
}

#[test]
fn a_failed_edit_keeps_the_last_publication() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = new_hub(dir.path());
    let before = hub.published().unwrap().unwrap();
    let err = hub
        .update_profile(serde_json::json!({"name": ""}))
        .unwrap_err();
    assert!(err.to_string().contains("hub.name"), "{err}");
    assert_eq!(hub.published().unwrap().unwrap().seq, before.seq);
    assert_eq!(hub.profile().unwrap().name, "At The Grange");
}

#[test]
fn adding_refuses_a_second_service_with_the_same_id_or_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = new_hub(dir.path());
    let (first, _) = hub
        .add_service(serde_json::json!({"name": "Food pantry"}))
        .unwrap();
    let same_id = hub
        .add_service(serde_json::json!({"id": first.id, "name": "Warm space"}))
        .unwrap_err();
    assert!(
        matches!(&same_id, NodeError::Invalid { field, .. } if field == "id"),
        "{same_id}"
    );
    let mut typed = first.clone();
    typed.id = String::new();
    typed.name = "  FOOD Pantry ".into();
    let same_name = hub.add_new_service(typed).unwrap_err();
    assert!(
        matches!(&same_name, NodeError::Invalid { field, message }
            if field == "name" && message.contains(&first.id)),
        "{same_name}"
    );
    let (other, _) = hub
        .add_new_service(Service {
            id: String::new(),
            name: "Warm space".into(),
            ..first
        })
        .unwrap();
    assert!(!other.id.is_empty() && other.id != first.id);
    assert_eq!(hub.services().unwrap().len(), 2);
}
