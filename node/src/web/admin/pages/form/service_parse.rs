//! The service form as read: what was typed becomes the service JSON the
//! hub core's add and replace take, and the core's messages go back to the
//! fields they are about.

use serde_json::{json, Map, Value};
use signpost_spec::{Limits, Service, ServiceStatus, SpecError};

use super::service_view::{ACCESS, CONTACT_FIELDS};
use super::sessions;
use super::{coordinate, friendly, set_opt, split};
use crate::error::NodeError;
use crate::web::form::{Errors, Values};

/// Which form fieldset each location and contact of the built service came
/// from, so a message about `locations[1]` lands next to the right fields.
#[derive(Debug, Default)]
pub struct Origins {
    locations: Vec<usize>,
    contacts: Vec<usize>,
    schedules: sessions::Origins,
}

fn set_list(obj: &mut Map<String, Value>, key: &str, list: Vec<Value>) {
    if list.is_empty() {
        obj.remove(key);
    } else {
        obj.insert(key.to_owned(), Value::Array(list));
    }
}

fn age(v: &Values, name: &str, errors: &mut Errors) -> Option<u8> {
    let text = v.get(name);
    if text.is_empty() {
        return None;
    }
    match text.parse::<u8>() {
        Ok(years) if years <= signpost_spec::MAX_AGE => Some(years),
        _ => {
            errors.add(
                name,
                format!(
                    "\u{201c}{text}\u{201d} is not an age: write whole years from 0 to {}, like 16.",
                    signpost_spec::MAX_AGE
                ),
            );
            None
        }
    }
}

/// Builds the service JSON from the form, over `existing` when editing.
/// Mistakes the form itself can see (a number that is not one, opening
/// times that do not parse) come back as messages by field.
pub fn service_json(
    v: &Values,
    existing: Option<&Service>,
    limits: &Limits,
) -> Result<(Value, Origins), Errors> {
    let mut errors = Errors::default();
    let mut origins = Origins::default();
    let mut obj = match existing.map(serde_json::to_value) {
        Some(Ok(Value::Object(m))) => m,
        _ => Map::new(),
    };
    obj.insert("name".into(), Value::String(v.get("name").to_owned()));
    set_opt(&mut obj, "description", v.get("description"));
    set_opt(
        &mut obj,
        "application_process",
        v.get("application_process"),
    );
    set_opt(&mut obj, "eligibility_description", v.get("eligibility"));
    for key in ["minimum_age", "maximum_age"] {
        match age(v, key, &mut errors) {
            Some(years) => {
                obj.insert(key.into(), json!(years));
            }
            None => {
                obj.remove(key);
            }
        }
    }
    set_opt(&mut obj, "fees_description", v.get("fees"));
    set_opt(&mut obj, "email", v.get("email"));
    set_opt(&mut obj, "url", v.get("url"));
    set_opt(&mut obj, "assured_date", v.get("assured_date"));
    let status = v.get("status");
    if status.is_empty() {
        obj.insert("status".into(), json!(ServiceStatus::Active.as_str()));
    } else if let Ok(s) = status.parse::<ServiceStatus>() {
        obj.insert("status".into(), json!(s.as_str()));
    } else {
        errors.add("status", "Choose one of the options.");
    }
    let org = v.get("organization");
    let same_org = existing
        .and_then(|s| s.organization.as_ref())
        .is_some_and(|o| o.name == org);
    if org.is_empty() {
        obj.remove("organization");
    } else if !same_org {
        obj.insert("organization".into(), json!({ "name": org }));
    }
    let mut access = Vec::new();
    for a in v.all("access") {
        if ACCESS.iter().any(|(x, _)| *x == a) {
            if !access.contains(&json!(a)) {
                access.push(json!(a));
            }
        } else {
            errors.add("access", "Choose from the options shown.");
        }
    }
    set_list(&mut obj, "access", access);
    let (schedules, from_rows) =
        sessions::read(v, existing.map(|s| s.schedules.as_slice()), &mut errors);
    origins.schedules = from_rows;
    set_list(
        &mut obj,
        "schedules",
        schedules
            .iter()
            .filter_map(|s| serde_json::to_value(s).ok())
            .collect(),
    );
    let phones = split(v.get("phones"))
        .into_iter()
        .map(|n| {
            existing
                .and_then(|s| s.phones.iter().find(|p| p.number == n))
                .and_then(|p| serde_json::to_value(p).ok())
                .unwrap_or_else(|| json!({ "number": n }))
        })
        .collect();
    set_list(&mut obj, "phones", phones);
    let terms = split(v.get("taxonomy"))
        .into_iter()
        .map(|n| {
            existing
                .and_then(|s| {
                    s.taxonomy_terms
                        .iter()
                        .find(|t| t.name.eq_ignore_ascii_case(&n))
                })
                .and_then(|t| serde_json::to_value(t).ok())
                .unwrap_or_else(|| json!({ "name": n }))
        })
        .collect();
    set_list(&mut obj, "taxonomy_terms", terms);
    let languages = split(v.get("languages"))
        .into_iter()
        .map(|x| {
            existing
                .and_then(|s| {
                    s.languages
                        .iter()
                        .find(|l| l.code.as_deref() == Some(&x) || l.name.as_deref() == Some(&x))
                })
                .and_then(|l| serde_json::to_value(l).ok())
                .unwrap_or_else(|| {
                    if (2..=3).contains(&x.len()) && x.chars().all(|c| c.is_ascii_lowercase()) {
                        json!({ "code": x })
                    } else {
                        json!({ "name": x })
                    }
                })
        })
        .collect();
    set_list(&mut obj, "languages", languages);
    let mut locations = Vec::new();
    for i in 0..limits.max_list_items {
        let p = |f: &str| format!("loc{i}_{f}");
        if v.has(&p("remove")) {
            continue;
        }
        let before = existing.and_then(|s| s.locations.iter().find(|l| l.id == v.get(&p("id"))));
        let mut loc = match before.map(serde_json::to_value) {
            Some(Ok(Value::Object(m))) => m,
            _ => Map::new(),
        };
        set_opt(&mut loc, "name", v.get(&p("name")));
        set_opt(&mut loc, "accessibility", v.get(&p("accessibility")));
        let mut address = match loc.remove("address") {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for f in ["address_1", "address_2", "city", "postal_code"] {
            set_opt(&mut address, f, v.get(&p(f)));
        }
        let has_lines = ["address_1", "address_2", "city", "postal_code"]
            .iter()
            .any(|f| address.contains_key(*f));
        if has_lines {
            if !address.contains_key("country") && before.is_none() {
                address.insert("country".into(), json!("GB"));
            }
            loc.insert("address".into(), Value::Object(address));
        }
        for (f, key) in [("latitude", "latitude"), ("longitude", "longitude")] {
            match coordinate(v, &p(f), &mut errors) {
                Some(x) => {
                    loc.insert(key.into(), json!(x));
                }
                None => {
                    loc.remove(key);
                }
            }
        }
        let visible = ["name", "accessibility", "address", "latitude", "longitude"];
        if !visible.iter().any(|k| loc.contains_key(*k)) {
            continue;
        }
        origins.locations.push(i);
        locations.push(Value::Object(loc));
    }
    set_list(&mut obj, "locations", locations);
    let mut contacts = Vec::new();
    for i in 0..limits.max_list_items {
        let mut c = Map::new();
        for (suffix, _, _) in CONTACT_FIELDS {
            set_opt(&mut c, suffix, v.get(&format!("contact{i}_{suffix}")));
        }
        if !c.is_empty() {
            origins.contacts.push(i);
            contacts.push(Value::Object(c));
        }
    }
    set_list(&mut obj, "contacts", contacts);
    if errors.is_empty() {
        Ok((Value::Object(obj), origins))
    } else {
        Err(errors)
    }
}

/// The form field a protocol path like `service.locations[1].latitude`
/// is about.
fn service_field(path: &str, origins: &Origins) -> String {
    let rest = path.strip_prefix("service.").unwrap_or(path);
    let indexed = |list: &str, map: &[usize]| -> Option<(usize, String)> {
        let after = rest.strip_prefix(list)?.strip_prefix('[')?;
        let (n, tail) = after.split_once(']')?;
        let n: usize = n.parse().ok()?;
        let tail = tail.trim_start_matches('.');
        Some((map.get(n).copied().unwrap_or(n), tail.to_owned()))
    };
    if let Some((i, tail)) = indexed("locations", &origins.locations) {
        let leaf = tail.rsplit('.').next().unwrap_or("");
        let f = match leaf {
            "address_1" | "address_2" | "city" | "postal_code" | "latitude" | "longitude"
            | "accessibility" | "name" => leaf,
            _ => "name",
        };
        return format!("loc{i}_{f}");
    }
    if let Some(after) = rest
        .strip_prefix("schedules[")
        .and_then(|a| a.split_once(']'))
    {
        let n = after.0.parse::<usize>().unwrap_or(usize::MAX);
        let leaf = after.1.trim_start_matches('.');
        return sessions::error_field(n, leaf, &origins.schedules);
    }
    if let Some((i, tail)) = indexed("contacts", &origins.contacts) {
        let f = match tail.as_str() {
            "title" | "email" | "phone" => tail.as_str(),
            _ => "name",
        };
        return format!("contact{i}_{f}");
    }
    let head = rest.split(['.', '[']).next().unwrap_or("");
    match head {
        "name"
        | "description"
        | "status"
        | "url"
        | "email"
        | "application_process"
        | "assured_date"
        | "access"
        | "organization"
        | "languages"
        | "minimum_age"
        | "maximum_age" => head.to_owned(),
        "eligibility_description" => "eligibility".into(),
        "fees_description" => "fees".into(),
        "phones" => "phones".into(),
        "taxonomy_terms" => "taxonomy".into(),
        _ => String::new(),
    }
}

/// Puts a failed edit's message next to its field ("" for the form).
pub fn service_error(e: &NodeError, origins: &Origins) -> Option<Errors> {
    let mut errors = Errors::default();
    match e {
        NodeError::Spec(SpecError::Schema { path, reason }) => {
            errors.add(service_field(path, origins), friendly(reason));
        }
        NodeError::Invalid { field, message } => {
            errors.add(
                service_field(&format!("service.{field}"), origins),
                friendly(message),
            );
        }
        NodeError::Spec(other) => errors.add("", other.to_string()),
        _ => return None,
    }
    Some(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::draft::service_from_json;
    use crate::web::admin::pages::form::service_values;

    fn form(pairs: &[(&str, &str)]) -> Values {
        Values::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn a_form_becomes_a_valid_service_and_back() {
        let limits = Limits::default();
        let v = form(&[
            ("name", "Food pantry"),
            ("access", "walk-in"),
            ("sess0_days", "TU"),
            ("sess0_days", "TH"),
            ("sess0_opens", "10:00"),
            ("sess0_closes", "13:00"),
            ("phones", "01253 000000; 07700 900000"),
            ("taxonomy", "Food; Advice"),
            ("loc0_name", "Main hall"),
            ("loc0_postal_code", "FY3 7TN"),
            ("loc0_latitude", "53.8"),
            ("loc0_longitude", "-3.0"),
            ("contact0_name", "Sam"),
            ("minimum_age", "16"),
            ("maximum_age", " "),
        ]);
        let (json, _) = service_json(&v, None, &limits).unwrap();
        let s = service_from_json(json, None, &limits).unwrap();
        assert_eq!((s.minimum_age, s.maximum_age), (Some(16), None));
        assert_eq!(s.schedules.len(), 1);
        assert_eq!(s.phones.len(), 2);
        assert_eq!(
            s.locations[0].address.as_ref().unwrap().country.as_deref(),
            Some("GB")
        );
        assert_eq!(s.contacts[0].name.as_deref(), Some("Sam"));
        // Shown again and sent back unchanged, it is the same service.
        let again = service_values(&s);
        let (json, _) = service_json(&again, Some(&s), &limits).unwrap();
        assert_eq!(service_from_json(json, Some(&s.id), &limits).unwrap(), s);
    }

    #[test]
    fn mistakes_land_next_to_their_field() {
        let limits = Limits::default();
        let v = form(&[
            ("name", "X"),
            ("sess1_opens", "10:00"),
            ("sess1_closes", "09:00"),
            ("loc2_latitude", "north"),
        ]);
        let errors = service_json(&v, None, &limits).unwrap_err();
        assert!(errors.get("sess1_closes").is_some());
        assert!(errors.get("sess1_days").is_some());
        assert!(errors.get("loc2_latitude").is_some());
        let v = form(&[("name", "X"), ("minimum_age", "teen")]);
        let errors = service_json(&v, None, &limits).unwrap_err();
        assert!(errors.get("minimum_age").is_some(), "{errors:?}");
        let v = form(&[("name", "X"), ("minimum_age", "18"), ("maximum_age", "11")]);
        let (json, origins) = service_json(&v, None, &limits).unwrap();
        let e = service_from_json(json, None, &limits).unwrap_err();
        let errors = service_error(&e, &origins).unwrap();
        assert!(errors.get("maximum_age").is_some(), "{errors:?}");
        let v = form(&[
            ("name", "X"),
            ("loc3_latitude", "95"),
            ("loc3_longitude", "1"),
        ]);
        let (json, origins) = service_json(&v, None, &limits).unwrap();
        let e = service_from_json(json, None, &limits).unwrap_err();
        let errors = service_error(&e, &origins).unwrap();
        assert!(errors.get("loc3_latitude").is_some(), "{errors:?}");
        let v = form(&[("name", ""), ("email", "nope")]);
        let (json, origins) = service_json(&v, None, &limits).unwrap();
        let e = service_from_json(json, None, &limits).unwrap_err();
        assert!(service_error(&e, &origins).unwrap().get("name").is_some());
    }
}
