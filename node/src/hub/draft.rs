//! Turning what an admin typed (JSON from the API, CLI flags) into valid
//! protocol objects, with missing ids filled in and errors naming the field.

use serde_json::{Map, Value};
use signpost_spec::{validate_service, HubProfile, Limits, Service};

use crate::error::{NodeError, Result};

/// A fresh random UUID in the protocol's canonical form.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// Gives a service, and each of its locations, a fresh id where it has
/// none (a service read from a file or typed on the command line).
pub fn fill_missing_ids(service: &mut Service) {
    if service.id.is_empty() {
        service.id = new_id();
    }
    for location in service.locations.iter_mut().filter(|l| l.id.is_empty()) {
        location.id = new_id();
    }
}

/// A service name as two services are compared by it: case and outer
/// spaces ignored (adding refuses a second one; an import matches by it).
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Parses and validates a service. `path_id` is the id from the URL of an
/// update: the body may omit it but must not contradict it.
pub fn service_from_json(
    mut input: Value,
    path_id: Option<&str>,
    limits: &Limits,
) -> Result<Service> {
    let object = input
        .as_object_mut()
        .ok_or_else(|| NodeError::invalid("service", "must be a JSON object"))?;
    match (object.get("id"), path_id) {
        (Some(Value::String(given)), Some(id)) if given != id => {
            return Err(NodeError::invalid(
                "id",
                format!("the body says {given} but the address says {id}"),
            ))
        }
        (Some(_), _) => {}
        (None, Some(id)) => {
            object.insert("id".into(), Value::String(id.to_owned()));
        }
        (None, None) => {
            object.insert("id".into(), Value::String(new_id()));
        }
    }
    if let Some(Value::Array(locations)) = object.get_mut("locations") {
        for location in locations.iter_mut().filter_map(Value::as_object_mut) {
            location
                .entry("id")
                .or_insert_with(|| Value::String(new_id()));
        }
    }
    let service: Service =
        serde_json::from_value(input).map_err(|e| NodeError::invalid("service", e.to_string()))?;
    validate_service(&service, limits)?;
    Ok(service)
}

/// Applies profile changes: present keys replace, `null` clears.
pub fn merge_profile(current: &HubProfile, changes: Value) -> Result<HubProfile> {
    let Value::Object(changes) = changes else {
        return Err(NodeError::invalid("hub", "must be a JSON object"));
    };
    let mut merged: Map<String, Value> = match serde_json::to_value(current) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(NodeError::Setup(
                "the stored profile is not an object".into(),
            ))
        }
    };
    for (key, value) in changes {
        if key == "id" {
            if value.as_str() != Some(current.id.as_str()) {
                return Err(NodeError::invalid(
                    "id",
                    "the hub id is its key and cannot be changed",
                ));
            }
            continue;
        }
        if value.is_null() {
            merged.remove(&key);
        } else {
            merged.insert(key, value);
        }
    }
    serde_json::from_value(Value::Object(merged))
        .map_err(|e| NodeError::invalid("hub", e.to_string()))
}
