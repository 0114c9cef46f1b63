//! Open Referral HSDS 3 / ORUK JSON import. Accepts a service, a list of
//! services (a JSON array or an API page with `contents`), a
//! `service_at_location`, or an organization with its `services`; other
//! Open Referral objects (organisations without services, taxonomies,
//! terms) hold no services and are passed over.
//!
//! It reads everything our [`Service`] can hold, including what
//! [`crate::hsds::map`] writes, so an export imports back as it was:
//! `fees` or `fees_description`; ORUK's `service_area` text; terms from
//! `attributes` (those of [`crate::hsds::map::ACCESS_TAXONOMY`] become
//! `access`); schedules tied to a location by `location_id`,
//! `service_at_location_id` or by sitting in a `service_at_location`, with
//! `dtstart`/`until` as `valid_from`/`valid_to` when those are absent. A
//! schedule that is not weekly (`freq` other than `WEEKLY`, or an
//! `interval` above 1) cannot be held and is left out; so are the parts of
//! a weekly one our model has no place for (`bymonthday` and the like).

use serde_json::{Map, Value};
use signpost_spec::{
    check_depth, Address, Contact, Language, Limits, Location, Organization, Phone, Schedule,
    Service, ServiceArea, ServiceStatus, TaxonomyTerm,
};

use crate::error::{Error, Result};
use crate::hsds::map;

/// HSDS documents nest deeper than listings (`attributes[].taxonomy_term`).
const MAX_IMPORT_DEPTH: usize = 64;

fn err(location: String, message: impl Into<String>) -> Error {
    Error::Import {
        location,
        message: message.into(),
    }
}

/// Parses HSDS JSON bytes into services (ids empty where not UUIDs).
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Vec<Service>> {
    check_depth(bytes, MAX_IMPORT_DEPTH.max(limits.max_depth), "import")
        .map_err(|e| err("file".into(), e.to_string()))?;
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| err("file".into(), format!("is not JSON: {e}")))?;
    let mut out = Vec::new();
    collect(&value, "$", None, &mut out)?;
    if out.is_empty() {
        return Err(err("file".into(), "holds no services"));
    }
    Ok(out)
}

fn collect(
    value: &Value,
    path: &str,
    org: Option<&Organization>,
    out: &mut Vec<Service>,
) -> Result<()> {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(item, &format!("{path}[{i}]"), org, out)?;
            }
            Ok(())
        }
        Value::Object(obj) => {
            if let Some(contents) = obj.get("contents") {
                return collect(contents, &format!("{path}.contents"), org, out);
            }
            if let (Some(Value::Object(service)), Some(location)) =
                (obj.get("service"), obj.get("location"))
            {
                let mut s = service_from(service, &format!("{path}.service"), org)?;
                if let Value::Object(l) = location {
                    s.locations.push(location_from(l));
                }
                out.push(s);
                return Ok(());
            }
            if !obj.contains_key("status") && is_not_a_service(obj) {
                return Ok(());
            }
            if let Some(Value::Array(services)) = obj.get("services") {
                let organization = organization_from(obj);
                return collect(
                    &Value::Array(services.clone()),
                    &format!("{path}.services"),
                    organization.as_ref(),
                    out,
                );
            }
            out.push(service_from(obj, path, org)?);
            Ok(())
        }
        _ => Err(err(
            path.to_owned(),
            "must be an object or a list of objects",
        )),
    }
}

/// Fields only organisations, taxonomies and taxonomy terms have. A
/// service always has `status` in HSDS 3; an object without it that has
/// one of these is not a service.
const NOT_SERVICE_FIELDS: &[&str] = &[
    "website",
    "logo",
    "parent_organization_id",
    "organization_identifiers",
    "legal_status",
    "tax_status",
    "tax_id",
    "year_incorporated",
    "term",
    "term_uri",
    "parent_id",
    "taxonomy_detail",
    "taxonomy_terms",
    "version",
];

fn is_not_a_service(obj: &Map<String, Value>) -> bool {
    !obj.contains_key("services") && NOT_SERVICE_FIELDS.iter().any(|k| obj.contains_key(*k))
}

/// An age in years (HSDS 3 gives a number; some exports a numeric
/// string). Fractions are cut to whole years; absent or empty is None.
fn age(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<u8>> {
    let years = match obj.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    let max = f64::from(signpost_spec::MAX_AGE);
    match years {
        Some(y) if (0.0..=max).contains(&y) => Ok(Some(y.trunc() as u8)),
        _ => Err(err(
            format!("{path}.{key}"),
            format!(
                "must be an age in years from 0 to {}",
                signpost_spec::MAX_AGE
            ),
        )),
    }
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn objects<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a Map<String, Value>> {
    obj.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

fn uuid_or_empty(obj: &Map<String, Value>) -> String {
    text(obj, "id")
        .and_then(|id| uuid::Uuid::try_parse(&id).ok())
        .map(|u| u.hyphenated().to_string())
        .unwrap_or_default()
}

fn organization_from(obj: &Map<String, Value>) -> Option<Organization> {
    Some(Organization {
        id: Some(uuid_or_empty(obj)).filter(|s| !s.is_empty()),
        name: text(obj, "name")?,
        description: text(obj, "description"),
        website: text(obj, "website").or_else(|| text(obj, "url")),
        email: text(obj, "email"),
    })
}

fn service_from(
    obj: &Map<String, Value>,
    path: &str,
    org: Option<&Organization>,
) -> Result<Service> {
    let name =
        text(obj, "name").ok_or_else(|| err(format!("{path}.name"), "a service needs a name"))?;
    let status = match text(obj, "status").map(|s| s.to_lowercase()) {
        None => ServiceStatus::Active,
        Some(word) => word.parse::<ServiceStatus>().map_err(|e| {
            err(
                format!("{path}.status"),
                format!("{:?} is not an HSDS status", e.0),
            )
        })?,
    };
    // Locations with the service_at_location ids that link them, and the
    // schedules those links carry.
    let mut locations: Vec<Location> = Vec::new();
    let mut links: Vec<(String, String)> = Vec::new();
    let mut schedules: Vec<Schedule> = Vec::new();
    for sal in objects(obj, "service_at_locations") {
        let Some(l) = sal.get("location").and_then(Value::as_object) else {
            continue;
        };
        let location = location_from(l);
        if let Some(sal_id) = text(sal, "id") {
            links.push((sal_id.to_lowercase(), location.id.clone()));
        }
        let here = Some(location.id.clone()).filter(|id| !id.is_empty());
        schedules.extend(objects(sal, "schedules").filter_map(|s| schedule_from(s, here.clone())));
        locations.push(location);
    }
    locations.extend(objects(obj, "locations").map(location_from));
    let located = |s: &Map<String, Value>| -> Option<String> {
        let id = text(s, "location_id")
            .map(|l| l.to_lowercase())
            .or_else(|| {
                let sal = text(s, "service_at_location_id")?.to_lowercase();
                links
                    .iter()
                    .find(|(k, _)| *k == sal)
                    .map(|(_, l)| l.clone())
            })?;
        locations
            .iter()
            .any(|l| !l.id.is_empty() && l.id == id)
            .then_some(id)
    };
    let service_schedules: Vec<Schedule> = objects(obj, "schedules")
        .filter_map(|s| schedule_from(s, located(s)))
        .collect();
    schedules.splice(0..0, service_schedules);
    let mut taxonomy_terms: Vec<TaxonomyTerm> = Vec::new();
    let mut access = Vec::new();
    let terms = objects(obj, "attributes")
        .filter_map(|a| a.get("taxonomy_term").and_then(Value::as_object))
        .chain(objects(obj, "taxonomy_terms"))
        .filter_map(|t| {
            Some(TaxonomyTerm {
                code: text(t, "code"),
                name: text(t, "name").or_else(|| text(t, "term"))?,
                taxonomy: text(t, "taxonomy"),
            })
        });
    for term in terms {
        if let Some(route) = map::access_route(&term) {
            if !access.contains(&route) {
                access.push(route);
            }
        } else if !taxonomy_terms.contains(&term) {
            taxonomy_terms.push(term);
        }
    }
    Ok(Service {
        id: uuid_or_empty(obj),
        name,
        description: text(obj, "description"),
        status,
        organization: obj
            .get("organization")
            .and_then(Value::as_object)
            .and_then(organization_from)
            .or_else(|| org.cloned()),
        url: text(obj, "url"),
        email: text(obj, "email"),
        eligibility_description: text(obj, "eligibility_description"),
        minimum_age: age(obj, "minimum_age", path)?,
        maximum_age: age(obj, "maximum_age", path)?,
        fees_description: text(obj, "fees_description").or_else(|| text(obj, "fees")),
        application_process: text(obj, "application_process"),
        access,
        assured_date: text(obj, "assured_date").map(|d| d.chars().take(10).collect()),
        languages: objects(obj, "languages")
            .map(|l| Language {
                name: text(l, "name"),
                code: text(l, "code"),
                note: text(l, "note"),
            })
            .filter(|l| l.name.is_some() || l.code.is_some())
            .collect(),
        service_areas: objects(obj, "service_areas")
            .map(|a| {
                let name = text(a, "name");
                // ORUK's free-text `service_area` is a description unless it
                // repeats the name.
                let description = text(a, "description")
                    .or_else(|| text(a, "service_area").filter(|t| Some(t) != name.as_ref()));
                ServiceArea { name, description }
            })
            .filter(|a| a.name.is_some() || a.description.is_some())
            .collect(),
        locations,
        phones: objects(obj, "phones")
            .filter_map(|p| {
                Some(Phone {
                    number: text(p, "number")?,
                    kind: text(p, "type"),
                    description: text(p, "description"),
                })
            })
            .collect(),
        contacts: objects(obj, "contacts")
            .map(|c| Contact {
                name: text(c, "name"),
                title: text(c, "title"),
                email: text(c, "email"),
                phone: objects(c, "phones").find_map(|p| text(p, "number")),
            })
            .collect(),
        schedules,
        taxonomy_terms,
    })
}

/// A weekly schedule, or `None` for one our model cannot hold.
fn schedule_from(s: &Map<String, Value>, location_id: Option<String>) -> Option<Schedule> {
    if let Some(freq) = text(s, "freq") {
        if !freq.eq_ignore_ascii_case("WEEKLY") {
            return None;
        }
    }
    if s.get("interval")
        .and_then(Value::as_f64)
        .is_some_and(|i| i > 1.0)
    {
        return None;
    }
    let date = |key: &str| text(s, key).map(|d| d.chars().take(10).collect::<String>());
    Some(Schedule {
        byday: text(s, "byday")?,
        opens_at: text(s, "opens_at")?,
        closes_at: text(s, "closes_at")?,
        valid_from: date("valid_from").or_else(|| date("dtstart")),
        valid_to: date("valid_to").or_else(|| date("until")),
        description: text(s, "description"),
        location_id,
    })
}

fn location_from(obj: &Map<String, Value>) -> Location {
    let addresses: Vec<&Map<String, Value>> = objects(obj, "addresses").collect();
    let address = addresses
        .iter()
        .find(|a| text(a, "address_type").as_deref() == Some("physical"))
        .or_else(|| addresses.first())
        .copied()
        .or_else(|| obj.get("address").and_then(Value::as_object))
        .map(|a| Address {
            address_1: text(a, "address_1"),
            address_2: text(a, "address_2"),
            city: text(a, "city"),
            region: text(a, "region"),
            state_province: text(a, "state_province"),
            postal_code: text(a, "postal_code"),
            country: text(a, "country"),
        });
    let accessibility = match obj.get("accessibility") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(Value::as_object)
                .filter_map(|a| text(a, "description").or_else(|| text(a, "accessibility")))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        _ => None,
    };
    Location {
        id: uuid_or_empty(obj),
        name: text(obj, "name"),
        description: text(obj, "description"),
        address,
        latitude: obj.get("latitude").and_then(Value::as_f64),
        longitude: obj.get("longitude").and_then(Value::as_f64),
        accessibility,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_hsds_page_of_services() {
        let json = br#"{"total_items":1,"contents":[{"id":"AC148810-D857-441C-9679-408F346DE14B",
            "name":"Job Club","status":"active","fees":"Free",
            "schedules":[{"byday":"TU,TH","opens_at":"10:00:00","closes_at":"12:00:00"}],
            "service_at_locations":[{"location":{"name":"Revoe Community Centre","latitude":53.8069,"longitude":-3.0466,
              "addresses":[{"address_1":"Revoe","city":"Blackpool","address_type":"physical","postal_code":"FY1 6JH","country":"GB"}]}}],
            "attributes":[{"taxonomy_term":{"name":"Employment","code":"employment"}}]}]}"#;
        let services = parse(json, &Limits::default()).unwrap();
        assert_eq!(services.len(), 1);
        let s = &services[0];
        assert_eq!(s.id, "ac148810-d857-441c-9679-408f346de14b");
        assert_eq!(s.fees_description.as_deref(), Some("Free"));
        assert_eq!(
            s.locations[0].address.as_ref().unwrap().city.as_deref(),
            Some("Blackpool")
        );
        assert_eq!(s.taxonomy_terms[0].name, "Employment");
    }

    #[test]
    fn reads_access_routes_located_schedules_and_passes_over_other_objects() {
        let json = br#"[{"id":"ac148810-d857-441c-9679-408f346de14b","name":"Job Club","status":"active",
            "service_at_locations":[{"id":"e94c9f38-1e8f-4564-91d4-d53501ab1765",
              "location":{"id":"3a19ff88-4620-4d17-9830-ac1d859eb5d5","name":"Centre"},
              "schedules":[{"byday":"MO","opens_at":"09:00","closes_at":"10:00"}]}],
            "schedules":[
              {"byday":"TU","opens_at":"10:00","closes_at":"12:00",
               "service_at_location_id":"e94c9f38-1e8f-4564-91d4-d53501ab1765"},
              {"byday":"WE","opens_at":"10:00","closes_at":"12:00","freq":"MONTHLY"},
              {"byday":"TH","opens_at":"10:00","closes_at":"12:00","interval":2},
              {"byday":"FR","opens_at":"10:00","closes_at":"12:00","dtstart":"2026-01-05",
               "location_id":"00000000-0000-4000-8000-000000000000"}],
            "service_areas":[{"name":"Blackpool","service_area":"Revoe and the centre"}],
            "attributes":[{"taxonomy_term":{"name":"Walk-in","code":"walk-in","taxonomy":"signpost-access"}},
                          {"taxonomy_term":{"term":"Employment","taxonomy":"esd"}}]},
            {"id":"d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610","name":"Example Org","website":"http://example.com"},
            {"id":"3f7b145d-84af-42d7-8fae-eaca714b02b2","name":"name","term":"name","taxonomy":"x"}]"#;
        let services = parse(json, &Limits::default()).unwrap();
        assert_eq!(
            services.len(),
            1,
            "the organisation and term are not services"
        );
        let s = &services[0];
        assert_eq!(s.access, [signpost_spec::AccessRoute::WalkIn]);
        assert_eq!(s.taxonomy_terms.len(), 1);
        assert_eq!(s.taxonomy_terms[0].name, "Employment");
        let days: Vec<(&str, Option<&str>)> = s
            .schedules
            .iter()
            .map(|sc| (sc.byday.as_str(), sc.location_id.as_deref()))
            .collect();
        let centre = Some("3a19ff88-4620-4d17-9830-ac1d859eb5d5");
        assert_eq!(days, [("TU", centre), ("FR", None), ("MO", centre)]);
        assert_eq!(s.schedules[1].valid_from.as_deref(), Some("2026-01-05"));
        assert_eq!(
            s.service_areas[0].description.as_deref(),
            Some("Revoe and the centre")
        );
    }

    #[test]
    fn refuses_what_is_not_services() {
        assert!(parse(b"[1,2]", &Limits::default()).is_err());
        assert!(parse(b"not json", &Limits::default()).is_err());
        assert!(parse(b"[]", &Limits::default()).is_err());
    }
}
