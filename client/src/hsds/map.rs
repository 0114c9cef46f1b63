//! Pure mapping from a hub's [`Service`] (and the [`HubProfile`] that
//! published it) to Open Referral objects that validate against both the
//! ORUK 3.0 and the HSDS 3.0 compiled schemas. Neither schema forbids extra
//! properties, so each object carries the union of the fields the two name:
//! ORUK's `fees` beside HSDS's `fees_description`, ORUK's `term` beside
//! HSDS's `code`, and so on. Where a schema requires a field our model does
//! not hold (an organisation's `description`, parts of an address), an
//! empty string stands in rather than an invented value.
//!
//! Our model gives ids to services, locations and (optionally)
//! organisations. Every other object gets a UUID v5 derived from what owns
//! it, so the same listing always maps to the same ids. The aggregator and
//! the client's export both use these functions, so there is one mapping.

use serde_json::{json, Map, Value};
use signpost_spec::{AccessRoute, Address, HubProfile, Location, Service, TaxonomyTerm};
use uuid::Uuid;

/// Namespace of every UUID v5 this module derives (fixed forever: changing
/// it would change every derived id).
const NAMESPACE: Uuid = Uuid::from_u128(0x8933_3f91_7a15_48f8_b40a_dd3e_b317_8592);

/// The vocabulary our access routes are published in, as HSDS attributes
/// (HSDS has no field for "walk in or be referred"; attributes are its way
/// to carry such facts). The importer reads them back into `access`.
pub const ACCESS_TAXONOMY: &str = "signpost-access";

/// A UUID v5 from a kind and its parts (joined with a separator that text
/// fields cannot usefully contain, so different parts never collide).
pub fn derived_id(kind: &str, parts: &[&str]) -> String {
    derived_uuid(kind, parts).hyphenated().to_string()
}

/// [`derived_id`] as the UUID itself: the search index files ids as their
/// 16 bytes (a third of the text's, and the term dictionary's cost of an
/// id is its length).
pub fn derived_uuid(kind: &str, parts: &[&str]) -> Uuid {
    let mut name = String::from(kind);
    for p in parts {
        name.push('\u{1f}');
        name.push_str(p);
    }
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The organisation a hub is when it runs a service itself.
pub fn hub_organization_id(hub_id: &str) -> String {
    derived_id("hub-organization", &[hub_id])
}

/// A taxonomy's id, from its name (case ignored).
pub fn taxonomy_id(name: &str) -> String {
    derived_id("taxonomy", &[&name.trim().to_lowercase()])
}

/// A taxonomy term's id, from its vocabulary and name (case ignored), so
/// the same category published by many hubs is one term.
pub fn term_id(term: &TaxonomyTerm) -> String {
    derived_id(
        "taxonomy_term",
        &[
            &term.taxonomy.as_deref().unwrap_or("").trim().to_lowercase(),
            &term.name.trim().to_lowercase(),
        ],
    )
}

/// The `service_at_location` linking a service to one of its locations.
pub fn service_at_location_id(service_id: &str, location_id: &str) -> String {
    service_at_location_uuid(service_id, location_id)
        .hyphenated()
        .to_string()
}

/// [`service_at_location_id`] as the UUID itself.
pub fn service_at_location_uuid(service_id: &str, location_id: &str) -> Uuid {
    derived_uuid("service_at_location", &[service_id, location_id])
}

/// A service's id scoped to its hub (see [`scoped`]).
pub fn scoped_service_uuid(hub_id: &str, service_id: &str) -> Uuid {
    derived_uuid("service", &[hub_id, service_id])
}

/// A location's id scoped to its hub (see [`scoped`]).
pub fn scoped_location_id(hub_id: &str, location_id: &str) -> String {
    derived_id("location", &[hub_id, location_id])
}

/// An organisation's id scoped to its hub (see [`scoped`]): from its own
/// id, or from its name when it has none.
pub fn scoped_organization_id(hub_id: &str, org: &signpost_spec::Organization) -> String {
    match &org.id {
        Some(id) => derived_id("organization", &[hub_id, id]),
        None => derived_id("organization-name", &[hub_id, &org.name.to_lowercase()]),
    }
}

/// A copy of `service` whose ids (service, locations, organisation) are
/// scoped to the hub that published it. An aggregator serves one flat id
/// space over many hubs; hubs choose their own ids, and two hubs importing
/// the same council file share them. Scoping keeps every id unique and
/// stops one hub from publishing under another's ids.
pub fn scoped(service: &Service, hub_id: &str) -> Service {
    let mut s = service.clone();
    s.id = scoped_service_uuid(hub_id, &service.id)
        .hyphenated()
        .to_string();
    for l in &mut s.locations {
        l.id = scoped_location_id(hub_id, &l.id);
    }
    for sc in &mut s.schedules {
        if let Some(id) = &sc.location_id {
            sc.location_id = Some(scoped_location_id(hub_id, id));
        }
    }
    if let Some(org) = &mut s.organization {
        org.id = Some(scoped_organization_id(hub_id, org));
    }
    s
}

/// Who runs a service, as ORUK names it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationRef {
    /// The organisation's id (its own, or derived).
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The organisation of a service: its own when named, else the hub
/// (`hub_id`, called `hub_name`).
pub fn organization_ref(s: &Service, hub_id: &str, hub_name: &str) -> OrganizationRef {
    match &s.organization {
        Some(org) => OrganizationRef {
            id: org.id.clone().unwrap_or_else(|| {
                derived_id("organization-name", &[hub_id, &org.name.to_lowercase()])
            }),
            name: org.name.clone(),
        },
        None => OrganizationRef {
            id: hub_organization_id(hub_id),
            name: hub_name.to_owned(),
        },
    }
}

/// The organisation's one-to-one fields (`organization_list.json`).
pub fn organization(s: &Service, hub: &HubProfile) -> Value {
    let r = organization_ref(s, &hub.id, &hub.name);
    let mut o = Map::new();
    o.insert("id".into(), json!(r.id));
    o.insert("name".into(), json!(r.name));
    let (description, email, website) = match &s.organization {
        Some(org) => (&org.description, &org.email, &org.website),
        None => (&hub.description, &hub.email, &hub.url),
    };
    o.insert(
        "description".into(),
        json!(description.clone().unwrap_or_default()),
    );
    put(&mut o, "email", email);
    put(&mut o, "website", website);
    Value::Object(o)
}

/// A fully nested organisation (`organization.json`) with the given
/// services (full or one-to-one ones, as asked).
pub fn organization_full(s: &Service, hub: &HubProfile, services: Vec<Value>) -> Value {
    let mut o = organization(s, hub);
    if let Value::Object(m) = &mut o {
        if s.organization.is_none() {
            if let Some(phone) = &hub.phone {
                m.insert(
                    "phones".into(),
                    json!([{"id": derived_id("hub-phone", &[&hub.id]),
                            "organization_id": hub_organization_id(&hub.id),
                            "number": phone}]),
                );
            }
        }
        m.insert("services".into(), Value::Array(services));
    }
    o
}

fn put(o: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        o.insert(key.into(), json!(v));
    }
}

/// `HH:MM` or `HH:MM:SS` as `HH:MM:SS`, the form HSDS tables use.
fn full_time(t: &str) -> String {
    if t.len() == 5 {
        format!("{t}:00")
    } else {
        t.to_owned()
    }
}

/// A service's one-to-one fields and its organisation
/// (`service_list.json`).
pub fn service_list_item(s: &Service, hub: &HubProfile) -> Value {
    let org = organization(s, hub);
    let mut o = Map::new();
    o.insert("id".into(), json!(s.id));
    o.insert("organization_id".into(), org["id"].clone());
    o.insert("name".into(), json!(s.name));
    put(&mut o, "description", &s.description);
    put(&mut o, "url", &s.url);
    put(&mut o, "email", &s.email);
    o.insert("status".into(), json!(s.status));
    put(&mut o, "fees", &s.fees_description);
    put(&mut o, "fees_description", &s.fees_description);
    put(
        &mut o,
        "eligibility_description",
        &s.eligibility_description,
    );
    put(&mut o, "application_process", &s.application_process);
    for (key, age) in [
        ("minimum_age", s.minimum_age),
        ("maximum_age", s.maximum_age),
    ] {
        if let Some(age) = age {
            o.insert(key.into(), Value::from(age));
        }
    }
    put(&mut o, "assured_date", &s.assured_date);
    o.insert("organization".into(), org);
    Value::Object(o)
}

/// A fully nested service (`service.json`).
pub fn service_full(s: &Service, hub: &HubProfile) -> Value {
    let mut v = service_list_item(s, hub);
    let Value::Object(o) = &mut v else {
        return v;
    };
    let sid = s.id.as_str();
    let schedules: Vec<Value> = s
        .schedules
        .iter()
        .enumerate()
        .map(|(i, sc)| {
            let mut m = Map::new();
            m.insert(
                "id".into(),
                json!(derived_id("schedule", &[sid, &i.to_string()])),
            );
            m.insert("service_id".into(), json!(sid));
            if let Some(lid) = &sc.location_id {
                m.insert(
                    "service_at_location_id".into(),
                    json!(service_at_location_id(sid, lid)),
                );
                m.insert("location_id".into(), json!(lid));
            }
            put(&mut m, "valid_from", &sc.valid_from);
            put(&mut m, "valid_to", &sc.valid_to);
            m.insert("freq".into(), json!("WEEKLY"));
            m.insert("interval".into(), json!(1));
            m.insert("byday".into(), json!(sc.byday));
            put(&mut m, "description", &sc.description);
            m.insert("opens_at".into(), json!(full_time(&sc.opens_at)));
            m.insert("closes_at".into(), json!(full_time(&sc.closes_at)));
            Value::Object(m)
        })
        .collect();
    o.insert("schedules".into(), Value::Array(schedules));
    let areas: Vec<Value> = s
        .service_areas
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut m = Map::new();
            m.insert(
                "id".into(),
                json!(derived_id("service_area", &[sid, &i.to_string()])),
            );
            m.insert("service_id".into(), json!(sid));
            put(&mut m, "name", &a.name);
            put(&mut m, "description", &a.description);
            // ORUK's free-text area.
            put(
                &mut m,
                "service_area",
                &a.name.clone().or(a.description.clone()),
            );
            Value::Object(m)
        })
        .collect();
    o.insert("service_areas".into(), Value::Array(areas));
    let sals: Vec<Value> = (0..s.locations.len())
        .filter_map(|i| service_at_location_nested(s, i))
        .collect();
    o.insert("service_at_locations".into(), Value::Array(sals));
    let languages: Vec<Value> = s
        .languages
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut m = Map::new();
            m.insert(
                "id".into(),
                json!(derived_id("language", &[sid, &i.to_string()])),
            );
            m.insert("service_id".into(), json!(sid));
            put(&mut m, "name", &l.name);
            put(&mut m, "code", &l.code);
            put(&mut m, "note", &l.note);
            Value::Object(m)
        })
        .collect();
    o.insert("languages".into(), Value::Array(languages));
    let phones: Vec<Value> = s
        .phones
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut m = Map::new();
            m.insert(
                "id".into(),
                json!(derived_id("phone", &[sid, &i.to_string()])),
            );
            m.insert("service_id".into(), json!(sid));
            m.insert("number".into(), json!(p.number));
            put(&mut m, "type", &p.kind);
            put(&mut m, "description", &p.description);
            Value::Object(m)
        })
        .collect();
    o.insert("phones".into(), Value::Array(phones));
    let contacts: Vec<Value> = s
        .contacts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let cid = derived_id("contact", &[sid, &i.to_string()]);
            let mut m = Map::new();
            m.insert("id".into(), json!(cid));
            m.insert("service_id".into(), json!(sid));
            put(&mut m, "name", &c.name);
            put(&mut m, "title", &c.title);
            put(&mut m, "email", &c.email);
            if let Some(number) = &c.phone {
                m.insert(
                    "phones".into(),
                    json!([{"id": derived_id("contact-phone", &[&cid]),
                            "contact_id": cid, "number": number}]),
                );
            }
            Value::Object(m)
        })
        .collect();
    o.insert("contacts".into(), Value::Array(contacts));
    let attributes: Vec<Value> = all_terms(s)
        .iter()
        .map(|t| {
            let term = taxonomy_term(t);
            json!({
                "id": derived_id("attribute", &[sid, term["id"].as_str().unwrap_or_default()]),
                "link_id": sid,
                "link_entity": "service",
                "taxonomy_term_id": term["id"].clone(),
                "taxonomy_term": term,
            })
        })
        .collect();
    o.insert("attributes".into(), Value::Array(attributes));
    v
}

/// The service's categories followed by its access routes as terms of
/// [`ACCESS_TAXONOMY`], each term once.
pub fn all_terms(s: &Service) -> Vec<TaxonomyTerm> {
    all_terms_with_ids(s).into_iter().map(|(_, t)| t).collect()
}

/// [`all_terms`] with each term's id (each id made once: they are hashes).
pub fn all_terms_with_ids(s: &Service) -> Vec<(String, TaxonomyTerm)> {
    let mut out: Vec<(String, TaxonomyTerm)> = Vec::new();
    let access = s.access.iter().map(|a| access_term(*a));
    for t in s.taxonomy_terms.iter().cloned().chain(access) {
        let id = term_id(&t);
        if !out.iter().any(|(o, _)| *o == id) {
            out.push((id, t));
        }
    }
    out
}

/// An access route as a taxonomy term.
pub fn access_term(route: AccessRoute) -> TaxonomyTerm {
    let (code, name) = match route {
        AccessRoute::WalkIn => ("walk-in", "Walk-in"),
        AccessRoute::SelfReferral => ("self-referral", "Self-referral"),
        AccessRoute::ProfessionalReferral => ("professional-referral", "Professional referral"),
    };
    TaxonomyTerm {
        code: Some(code.into()),
        name: name.into(),
        taxonomy: Some(ACCESS_TAXONOMY.into()),
    }
}

/// The access route a term of [`ACCESS_TAXONOMY`] stands for.
pub fn access_route(term: &TaxonomyTerm) -> Option<AccessRoute> {
    if !term
        .taxonomy
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(ACCESS_TAXONOMY))
    {
        return None;
    }
    let code = term.code.as_deref().unwrap_or(&term.name).to_lowercase();
    match code.replace(' ', "-").as_str() {
        "walk-in" => Some(AccessRoute::WalkIn),
        "self-referral" => Some(AccessRoute::SelfReferral),
        "professional-referral" => Some(AccessRoute::ProfessionalReferral),
        _ => None,
    }
}

/// A taxonomy term (`taxonomy_term.json`). Our terms have no description;
/// both schemas require one, so it is empty.
pub fn taxonomy_term(t: &TaxonomyTerm) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(term_id(t)));
    put(&mut m, "code", &t.code);
    m.insert("name".into(), json!(t.name));
    m.insert("term".into(), json!(t.name));
    m.insert("description".into(), json!(""));
    if let Some(tax) = &t.taxonomy {
        m.insert("taxonomy".into(), json!(tax));
        m.insert("taxonomy_id".into(), json!(taxonomy_id(tax)));
    }
    Value::Object(m)
}

/// A taxonomy (`taxonomy.json`): our taxonomies are only names.
pub fn taxonomy(name: &str) -> Value {
    json!({"id": taxonomy_id(name), "name": name, "description": ""})
}

fn address(location_id: &str, a: &Address) -> Value {
    let text = |v: &Option<String>| json!(v.clone().unwrap_or_default());
    let mut m = Map::new();
    m.insert("id".into(), json!(derived_id("address", &[location_id])));
    m.insert("location_id".into(), json!(location_id));
    m.insert("address_1".into(), text(&a.address_1));
    put(&mut m, "address_2", &a.address_2);
    m.insert("city".into(), text(&a.city));
    put(&mut m, "region", &a.region);
    m.insert("state_province".into(), text(&a.state_province));
    m.insert("postal_code".into(), text(&a.postal_code));
    m.insert("country".into(), text(&a.country));
    m.insert("address_type".into(), json!("physical"));
    Value::Object(m)
}

/// A location's one-to-one fields (as in `service_at_location_list.json`).
fn location_list_item(l: &Location) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(l.id));
    m.insert("location_type".into(), json!("physical"));
    put(&mut m, "name", &l.name);
    put(&mut m, "description", &l.description);
    if let (Some(lat), Some(lon)) = (l.latitude, l.longitude) {
        m.insert("latitude".into(), json!(lat));
        m.insert("longitude".into(), json!(lon));
    }
    m
}

/// A fully nested location with its address and accessibility.
fn location_full(l: &Location) -> Value {
    let mut m = location_list_item(l);
    let addresses: Vec<Value> = l
        .address
        .iter()
        .filter(|a| **a != Address::default())
        .map(|a| address(&l.id, a))
        .collect();
    m.insert("addresses".into(), Value::Array(addresses));
    let accessibility: Vec<Value> = l
        .accessibility
        .iter()
        .map(|text| {
            json!({"id": derived_id("accessibility", &[&l.id]), "location_id": l.id,
                   "description": text, "accessibility": text})
        })
        .collect();
    m.insert("accessibility".into(), Value::Array(accessibility));
    Value::Object(m)
}

/// The `service_at_location` inside a fully nested service.
fn service_at_location_nested(s: &Service, index: usize) -> Option<Value> {
    let l = s.locations.get(index)?;
    Some(json!({
        "id": service_at_location_id(&s.id, &l.id),
        "service_id": s.id,
        "location_id": l.id,
        "location": location_full(l),
    }))
}

/// The schedules of a service that are for one location, as a
/// `service_at_location` carries them in HSDS.
fn location_schedules(full_service: &Value, location_id: &str) -> Value {
    let list = full_service["schedules"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|sc| sc["location_id"] == location_id)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Value::Array(list)
}

/// One-to-one fields of the `index`th location of a service, with the
/// service's one-to-one fields (`service_at_location_list.json`).
pub fn service_at_location_list_item(s: &Service, hub: &HubProfile, index: usize) -> Option<Value> {
    let l = s.locations.get(index)?;
    Some(json!({
        "id": service_at_location_id(&s.id, &l.id),
        "service_id": s.id,
        "location_id": l.id,
        "location": Value::Object(location_list_item(l)),
        "service": service_list_item(s, hub),
    }))
}

/// A fully nested `service_at_location` (`service_at_location.json`): the
/// location in full and the service in full.
pub fn service_at_location_full(s: &Service, hub: &HubProfile, index: usize) -> Option<Value> {
    let l = s.locations.get(index)?;
    let service = service_full(s, hub);
    Some(json!({
        "id": service_at_location_id(&s.id, &l.id),
        "service_id": s.id,
        "location_id": l.id,
        "schedules": location_schedules(&service, &l.id),
        "location": location_full(l),
        "service": service,
    }))
}

/// What `GET /service_at_locations/{id}` answers: the ORUK and HSDS
/// OpenAPI documents both name `compiled/service.json` (not
/// `service_at_location.json`, the shape of [`service_at_location_full`]),
/// so this is the fully nested service seen at one place: its
/// `service_at_locations` only the one asked for, its schedules those of
/// that place and those of no place.
pub fn service_at_one_location(s: &Service, hub: &HubProfile, index: usize) -> Option<Value> {
    let l = s.locations.get(index)?;
    let mut service = service_full(s, hub);
    let sal_id = service_at_location_id(&s.id, &l.id);
    if let Some(sals) = service["service_at_locations"].as_array_mut() {
        sals.retain(|sal| sal["id"] == sal_id.as_str());
    }
    if let Some(schedules) = service["schedules"].as_array_mut() {
        schedules.retain(|sc| {
            sc.get("location_id")
                .is_none_or(|lid| *lid == l.id.as_str())
        });
    }
    Some(service)
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_spec::{Organization, Schedule};

    fn hub() -> HubProfile {
        serde_json::from_value(json!({
            "id": "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "name": "Revoelution", "description": "A community hub in Revoe",
            "url": "https://revoelution.example.org", "phone": "01253 000000",
            "dimensions": {"space": ["dedicated"], "governance": "community-led",
                           "focus": "generic", "coordination": "first-level"}
        }))
        .unwrap()
    }

    fn service() -> Service {
        serde_json::from_value(json!({
            "id": "ac148810-d857-441c-9679-408f346de14b", "name": "Job Club",
            "fees_description": "Free", "access": ["walk-in"],
            "locations": [{"id": "3a19ff88-4620-4d17-9830-ac1d859eb5d5", "name": "Revoe Centre",
                           "address": {"address_1": "Revoe", "city": "Blackpool", "postal_code": "FY1 6JH"},
                           "latitude": 53.8, "longitude": -3.04, "accessibility": "Step-free"}],
            "schedules": [{"byday": "TU,TH", "opens_at": "10:00", "closes_at": "12:00",
                           "location_id": "3a19ff88-4620-4d17-9830-ac1d859eb5d5"}],
            "taxonomy_terms": [{"name": "Employment", "code": "employment", "taxonomy": "signpost"}]
        }))
        .unwrap()
    }

    #[test]
    fn derived_ids_are_stable_uuids() {
        let a = derived_id("x", &["a", "b"]);
        assert_eq!(a, derived_id("x", &["a", "b"]));
        assert_ne!(a, derived_id("x", &["ab"]));
        assert_eq!(Uuid::parse_str(&a).unwrap().get_version_num(), 5);
    }

    #[test]
    fn a_service_without_an_organization_is_run_by_its_hub() {
        let v = service_full(&service(), &hub());
        assert_eq!(v["organization"]["name"], "Revoelution");
        assert_eq!(v["organization_id"], hub_organization_id(&hub().id));
        assert_eq!(v["organization"]["description"], "A community hub in Revoe");
        let mut s = service();
        s.organization = Some(Organization {
            id: None,
            name: "Citizens Advice".into(),
            description: None,
            website: None,
            email: None,
        });
        let v = service_full(&s, &hub());
        assert_eq!(v["organization"]["name"], "Citizens Advice");
        assert_eq!(v["organization"]["description"], "");
    }

    #[test]
    fn every_part_of_a_service_is_mapped() {
        let v = service_full(&service(), &hub());
        assert_eq!(v["fees"], "Free");
        assert_eq!(v["fees_description"], "Free");
        let sal = &v["service_at_locations"][0];
        assert_eq!(sal["location"]["addresses"][0]["postal_code"], "FY1 6JH");
        assert_eq!(sal["location"]["addresses"][0]["state_province"], "");
        assert_eq!(
            sal["location"]["accessibility"][0]["description"],
            "Step-free"
        );
        let sched = &v["schedules"][0];
        assert_eq!(sched["opens_at"], "10:00:00");
        assert_eq!(sched["service_at_location_id"], sal["id"]);
        let names: Vec<&str> = v["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["taxonomy_term"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Employment", "Walk-in"]);
        assert_eq!(
            access_route(&access_term(AccessRoute::WalkIn)),
            Some(AccessRoute::WalkIn)
        );
    }

    #[test]
    fn scoping_changes_every_own_id_consistently() {
        let mut s = service();
        s.schedules.push(Schedule::weekly("MO", "09:00", "10:00"));
        let a = scoped(&s, "ed25519:one");
        let b = scoped(&s, "ed25519:two");
        assert_ne!(a.id, b.id);
        assert_ne!(a.id, s.id);
        assert_eq!(
            a.schedules[0].location_id.as_ref(),
            Some(&a.locations[0].id)
        );
        assert_eq!(a.schedules[1].location_id, None);
        let sal = service_at_location_full(&a, &hub(), 0).unwrap();
        assert_eq!(sal["schedules"].as_array().unwrap().len(), 1);
        assert!(service_at_location_full(&a, &hub(), 1).is_none());
    }
}
