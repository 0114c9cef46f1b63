//! The admin page's forms for a service and for the hub's profile: what
//! each field is called and says, how a stored service fills them, and how
//! what was typed becomes the JSON the hub's own edit operations take (so
//! the protocol's validation runs exactly once, in one place), with every
//! message sent back to the field it is about.
//!
//! Editing keeps what the form does not show: a service's location
//! descriptions, phone types, schedule notes and taxonomy codes stay as
//! they were unless the field that shows them is changed.

use serde_json::{json, Map, Value};
use signpost_spec::{HubProfile, Limits, Service, SpecError};

use super::sessions::{self, When};
use crate::error::NodeError;
use crate::web::form::{Choice, Errors, Values};

/// One input of a form, ready for the template.
#[derive(Debug, Clone)]
pub struct FieldView {
    /// The input's name and id.
    pub name: String,
    pub label: String,
    pub hint: String,
    /// `text`, `textarea`, `email`, `url`, `tel`, `date`, `select`,
    /// `checkboxes`, `checkbox` or `hidden`.
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
    pub error: Option<String>,
    pub maxlength: usize,
    pub required: bool,
    /// `inputmode` for phones' keyboards ("decimal" for coordinates).
    pub inputmode: &'static str,
    pub autocomplete: &'static str,
}

/// A group of fields under one heading.
#[derive(Debug, Clone)]
pub struct Section {
    pub legend: String,
    pub hint: String,
    pub fields: Vec<FieldView>,
    /// The opening times' session rows (only in the service form's "When").
    pub when: Option<When>,
}

struct Builder<'a> {
    values: &'a Values,
    errors: &'a Errors,
    fields: Vec<FieldView>,
}

impl<'a> Builder<'a> {
    fn new(values: &'a Values, errors: &'a Errors) -> Self {
        Builder {
            values,
            errors,
            fields: Vec::new(),
        }
    }

    fn field(
        &mut self,
        kind: &'static str,
        name: &str,
        label: &str,
        hint: &str,
        max: usize,
    ) -> &mut FieldView {
        self.fields.push(FieldView {
            name: name.to_owned(),
            label: label.to_owned(),
            hint: hint.to_owned(),
            kind,
            value: self.values.get(name).to_owned(),
            options: Vec::new(),
            error: self.errors.get(name).cloned(),
            maxlength: max,
            required: false,
            inputmode: "",
            autocomplete: "off",
        });
        let last = self.fields.len() - 1;
        &mut self.fields[last]
    }

    fn choices(
        &mut self,
        kind: &'static str,
        name: &str,
        label: &str,
        hint: &str,
        options: &[(&str, &str)],
    ) {
        let current = self.values.all(name);
        let current: Vec<&str> = current.iter().map(|s| s.trim()).collect();
        let f = self.field(kind, name, label, hint, 0);
        f.options = options
            .iter()
            .map(|(v, l)| Choice::new(v, l, &current))
            .collect();
    }

    fn section(&mut self, legend: &str, hint: &str) -> Section {
        Section {
            legend: legend.to_owned(),
            hint: hint.to_owned(),
            fields: std::mem::take(&mut self.fields),
            when: None,
        }
    }
}

/// Service statuses: (value, words).
const STATUSES: &[(&str, &str)] = &[
    ("active", "Running"),
    ("temporarily closed", "Temporarily closed"),
    ("inactive", "Not running at the moment"),
    ("defunct", "Stopped for good"),
];
/// Access routes: (value, words).
const ACCESS: &[(&str, &str)] = &[
    (
        "walk-in",
        "Walk in: people can turn up during opening times",
    ),
    (
        "self-referral",
        "Self-referral: people contact the service themselves",
    ),
    (
        "professional-referral",
        "Professional referral: a GP, social prescriber or worker must refer them",
    ),
];

/// Location fields after the `locN_` prefix: (suffix, label, hint, kind).
const LOCATION_FIELDS: &[(&str, &str, &str, &str)] = &[
    (
        "name",
        "Name of the place",
        "For example: Main hall",
        "text",
    ),
    ("address_1", "Address line 1", "", "text"),
    ("address_2", "Address line 2", "", "text"),
    ("city", "Town or city", "", "text"),
    ("postal_code", "Postcode", "", "text"),
    (
        "latitude",
        "Latitude",
        "Decimal degrees, for example 53.8069. Puts the place on the map and in distance searches.",
        "text",
    ),
    ("longitude", "Longitude", "For example -3.0466", "text"),
    (
        "accessibility",
        "Access for disabled people",
        "For example: step-free entrance, hearing loop",
        "textarea",
    ),
];
/// Contact fields after the `contactN_` prefix.
const CONTACT_FIELDS: &[(&str, &str, &str)] = &[
    ("name", "Name", "text"),
    ("title", "Role", "text"),
    ("email", "Email", "email"),
    ("phone", "Phone", "tel"),
];

fn joined(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join("; ")
}

fn split(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form's values for a stored service.
pub fn service_values(s: &Service) -> Values {
    let mut v = Values::default();
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    v.push("name", s.name.clone());
    v.push("description", text(&s.description));
    v.push(
        "status",
        serde_json::to_value(s.status)
            .ok()
            .and_then(|x| x.as_str().map(str::to_owned))
            .unwrap_or_default(),
    );
    v.push(
        "organization",
        s.organization
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
    );
    for a in &s.access {
        if let Some(word) = serde_json::to_value(a)
            .ok()
            .and_then(|x| x.as_str().map(str::to_owned))
        {
            v.push("access", word);
        }
    }
    v.push("application_process", text(&s.application_process));
    v.push("eligibility", text(&s.eligibility_description));
    v.push(
        "minimum_age",
        s.minimum_age.map(|a| a.to_string()).unwrap_or_default(),
    );
    v.push(
        "maximum_age",
        s.maximum_age.map(|a| a.to_string()).unwrap_or_default(),
    );
    v.push("fees", text(&s.fees_description));
    sessions::push_values(&mut v, &s.schedules);
    v.push("phones", joined(s.phones.iter().map(|p| p.number.clone())));
    v.push("email", text(&s.email));
    v.push("url", text(&s.url));
    v.push(
        "taxonomy",
        joined(s.taxonomy_terms.iter().map(|t| t.name.clone())),
    );
    v.push(
        "languages",
        joined(
            s.languages
                .iter()
                .filter_map(|l| l.code.clone().or_else(|| l.name.clone())),
        ),
    );
    v.push("assured_date", text(&s.assured_date));
    for (i, l) in s.locations.iter().enumerate() {
        let a = l.address.clone().unwrap_or_default();
        let p = |f: &str| format!("loc{i}_{f}");
        v.push(p("id"), l.id.clone());
        v.push(p("name"), text(&l.name));
        v.push(p("address_1"), text(&a.address_1));
        v.push(p("address_2"), text(&a.address_2));
        v.push(p("city"), text(&a.city));
        v.push(p("postal_code"), text(&a.postal_code));
        v.push(
            p("latitude"),
            l.latitude.map(|x| x.to_string()).unwrap_or_default(),
        );
        v.push(
            p("longitude"),
            l.longitude.map(|x| x.to_string()).unwrap_or_default(),
        );
        v.push(p("accessibility"), text(&l.accessibility));
    }
    for (i, c) in s.contacts.iter().enumerate() {
        let p = |f: &str| format!("contact{i}_{f}");
        v.push(p("name"), text(&c.name));
        v.push(p("title"), text(&c.title));
        v.push(p("email"), text(&c.email));
        v.push(p("phone"), text(&c.phone));
    }
    v
}

/// How many location and contact fieldsets a form shows: those filled in
/// and one empty one to add another, within the list limit.
fn group_count(values: &Values, prefix: &str, limits: &Limits) -> usize {
    let last = (0..limits.max_list_items)
        .filter(|i| values_with_prefix(values, &format!("{prefix}{i}_")))
        .max();
    last.map_or(1, |i| i + 2).min(limits.max_list_items)
}

fn values_with_prefix(values: &Values, prefix: &str) -> bool {
    [
        "id",
        "name",
        "address_1",
        "address_2",
        "city",
        "postal_code",
        "latitude",
        "longitude",
        "accessibility",
        "title",
        "email",
        "phone",
    ]
    .iter()
    .any(|f| !values.get(&format!("{prefix}{f}")).is_empty())
}

/// The service form's sections, filled with `values` and `errors`;
/// `existing` (when editing) gives the opening times kept as they are.
pub fn service_sections(
    values: &Values,
    errors: &Errors,
    limits: &Limits,
    existing: Option<&Service>,
) -> Vec<Section> {
    let (short, long, url) = (limits.max_short_text, limits.max_long_text, limits.max_url);
    let mut b = Builder::new(values, errors);
    let mut out = Vec::new();
    b.field(
        "text",
        "name",
        "Name of the service",
        "For example: Community food pantry",
        short,
    )
    .required = true;
    b.field(
        "textarea",
        "description",
        "What it offers",
        "In plain words, for the people who might use it.",
        long,
    );
    b.choices("select", "status", "Is it running?", "", STATUSES);
    b.field(
        "text",
        "organization",
        "Run by",
        "Leave empty if your hub runs it.",
        short,
    );
    out.push(b.section("About the service", ""));
    b.choices(
        "checkboxes",
        "access",
        "How people get it",
        "Tick all that apply.",
        ACCESS,
    );
    b.field(
        "textarea",
        "application_process",
        "What people should do",
        "For example: Just turn up, or ring to book a place.",
        long,
    );
    b.field(
        "textarea",
        "eligibility",
        "Who it is for",
        "For example: Anyone living in Revoe.",
        long,
    );
    for (name, label, hint) in [
        (
            "minimum_age",
            "Youngest age",
            "In whole years, for example 16. Leave empty if there is no lower age.",
        ),
        (
            "maximum_age",
            "Oldest age",
            "In whole years, for example 25. Leave empty if there is no upper age.",
        ),
    ] {
        b.field("text", name, label, hint, 3).inputmode = "numeric";
    }
    b.field(
        "text",
        "fees",
        "What it costs",
        "For example: Free, or \u{a3}3 a meal.",
        long,
    );
    out.push(b.section("How to get help", ""));
    let mut when = b.section(
        "When",
        "Each session is the days it runs and its opening and closing times. \
         Leave a session empty to remove it.",
    );
    when.when = Some(sessions::view(values, errors, existing));
    out.push(when);
    b.field(
        "tel",
        "phones",
        "Phone numbers",
        "Separate several with ;",
        short,
    )
    .autocomplete = "off";
    b.field("email", "email", "Email", "", short);
    b.field("url", "url", "Web page", "Starting https://", url);
    out.push(b.section("Contact", ""));
    b.field(
        "text",
        "taxonomy",
        "Categories",
        "Separate with ; for example: Food; Advice",
        2000,
    );
    b.field(
        "text",
        "languages",
        "Languages",
        "Codes separated with ; for example: en; ro",
        500,
    );
    b.field(
        "date",
        "assured_date",
        "Last checked",
        "When someone last checked these details were right.",
        10,
    );
    out.push(b.section("Categories", ""));
    for i in 0..group_count(values, "loc", limits) {
        let p = |f: &str| format!("loc{i}_{f}");
        let existing = !values.get(&p("id")).is_empty();
        b.field("hidden", &p("id"), "", "", 64);
        for (suffix, label, hint, kind) in LOCATION_FIELDS {
            let max = if *kind == "textarea" { long } else { short };
            let f = b.field(kind, &p(suffix), label, hint, max);
            if matches!(*suffix, "latitude" | "longitude") {
                f.inputmode = "decimal";
            }
            if *suffix == "postal_code" {
                f.autocomplete = "postal-code";
            }
        }
        if existing {
            b.choices(
                "checkbox",
                &p("remove"),
                "Remove this place",
                "",
                &[("1", "Remove this place")],
            );
        }
        let legend = if existing {
            format!("Place {}", i + 1)
        } else {
            "Add a place".to_owned()
        };
        out.push(b.section(&legend, "Where the service happens."));
    }
    for i in 0..group_count(values, "contact", limits) {
        let p = |f: &str| format!("contact{i}_{f}");
        let filled = values_with_prefix(values, &format!("contact{i}_"));
        for (suffix, label, kind) in CONTACT_FIELDS {
            b.field(kind, &p(suffix), label, "", short);
        }
        let legend = if filled {
            format!("Contact person {}", i + 1)
        } else {
            "Add a contact person".to_owned()
        };
        out.push(b.section(&legend, "Leave every field empty to remove a contact."));
    }
    out
}

/// Which form fieldset each location and contact of the built service came
/// from, so a message about `locations[1]` lands next to the right fields.
#[derive(Debug, Default)]
pub struct Origins {
    locations: Vec<usize>,
    contacts: Vec<usize>,
    schedules: sessions::Origins,
}

fn set_opt(obj: &mut Map<String, Value>, key: &str, value: &str) {
    if value.is_empty() {
        obj.remove(key);
    } else {
        obj.insert(key.to_owned(), Value::String(value.to_owned()));
    }
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

fn coordinate(v: &Values, name: &str, errors: &mut Errors) -> Option<f64> {
    let text = v.get(name);
    if text.is_empty() {
        return None;
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => {
            errors.add(
                name,
                format!("\u{201c}{text}\u{201d} is not a number like 53.8069."),
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
        obj.insert("status".into(), json!("active"));
    } else if STATUSES.iter().any(|(s, _)| *s == status) {
        obj.insert("status".into(), json!(status));
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

fn friendly(reason: &str) -> String {
    let mut c = reason.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str() + ".",
        None => String::new(),
    }
}

const GOVERNANCE: &[(&str, &str)] = &[
    (
        "community-led",
        "Community-led (voluntary, community or faith group)",
    ),
    ("statutory-led", "Statutory-led (council or NHS)"),
    ("partnership", "A partnership"),
];
const FOCUS: &[(&str, &str)] = &[
    ("generic", "Generic: many kinds of help in one place"),
    ("specialised", "Specialised: one area of need"),
];
const COORDINATION: &[(&str, &str)] = &[
    ("first-level", "First level: runs services for people"),
    ("second-level", "Second level: coordinates other hubs"),
];
const SPACE: &[(&str, &str)] = &[
    ("dedicated", "A place of its own"),
    ("pop-up", "Pop-up places"),
    ("virtual", "Online (virtual)"),
];
/// Profile fields that are plain text: (name, label, hint, kind, long).
const PROFILE_TEXT: &[(&str, &str, &str, &str, bool)] = &[
    (
        "name",
        "Hub name",
        "The name people know the hub by.",
        "text",
        false,
    ),
    ("description", "About the hub", "", "textarea", true),
    (
        "area_served",
        "Area served",
        "For example: Grange Park estate, Blackpool",
        "text",
        false,
    ),
    ("url", "Web site", "Starting https://", "url", false),
    ("email", "Email", "", "email", false),
    ("phone", "Phone", "", "tel", false),
];
const PROFILE_ADDRESS: &[&str] = &["address_1", "address_2", "city", "postal_code"];

fn word<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_value(x)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The profile form's values for the stored profile.
pub fn profile_values(p: &HubProfile) -> Values {
    let mut v = Values::default();
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    v.push("name", p.name.clone());
    v.push("description", text(&p.description));
    v.push("area_served", text(&p.area_served));
    v.push("url", text(&p.url));
    v.push("email", text(&p.email));
    v.push("phone", text(&p.phone));
    let a = p.address.clone().unwrap_or_default();
    v.push("address_1", text(&a.address_1));
    v.push("address_2", text(&a.address_2));
    v.push("city", text(&a.city));
    v.push("postal_code", text(&a.postal_code));
    v.push(
        "latitude",
        p.latitude.map(|x| x.to_string()).unwrap_or_default(),
    );
    v.push(
        "longitude",
        p.longitude.map(|x| x.to_string()).unwrap_or_default(),
    );
    v.push("timezone", p.timezone.clone());
    for s in &p.dimensions.space {
        v.push("space", word(s));
    }
    v.push("governance", word(&p.dimensions.governance));
    v.push("focus", word(&p.dimensions.focus));
    v.push("coordination", word(&p.dimensions.coordination));
    v
}

/// The profile form's sections.
pub fn profile_sections(values: &Values, errors: &Errors, limits: &Limits) -> Vec<Section> {
    let mut b = Builder::new(values, errors);
    let mut out = Vec::new();
    for (name, label, hint, kind, long) in PROFILE_TEXT {
        let max = match (*long, *kind) {
            (true, _) => limits.max_long_text,
            (_, "url") => limits.max_url,
            _ => limits.max_short_text,
        };
        b.field(kind, name, label, hint, max).required = *name == "name";
    }
    out.push(b.section("About the hub", ""));
    for (name, label) in [
        ("address_1", "Address line 1"),
        ("address_2", "Address line 2"),
        ("city", "Town or city"),
        ("postal_code", "Postcode"),
    ] {
        b.field("text", name, label, "", limits.max_short_text);
    }
    b.field("text", "latitude", "Latitude", "For example 53.8069", 40)
        .inputmode = "decimal";
    b.field("text", "longitude", "Longitude", "For example -3.0466", 40)
        .inputmode = "decimal";
    b.field(
        "text",
        "timezone",
        "Time zone",
        "Opening times are in this zone, usually Europe/London.",
        limits.max_short_text,
    );
    out.push(b.section("Where", "Leave empty if the hub has no place of its own."));
    b.choices(
        "checkboxes",
        "space",
        "Where the hub happens",
        "Tick all that apply.",
        SPACE,
    );
    b.choices("select", "governance", "Who leads it", "", GOVERNANCE);
    b.choices("select", "focus", "Focus", "", FOCUS);
    b.choices("select", "coordination", "Role", "", COORDINATION);
    out.push(b.section(
        "What kind of hub",
        "The four dimensions of a community hub.",
    ));
    out
}

fn null_or(text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        Value::String(text.to_owned())
    }
}

/// The profile changes (for `update_profile`) from the form.
pub fn profile_changes(v: &Values, current: &HubProfile) -> Result<Value, Errors> {
    let mut errors = Errors::default();
    let mut changes = Map::new();
    changes.insert("name".into(), Value::String(v.get("name").to_owned()));
    for (name, _, _, _, _) in PROFILE_TEXT.iter().skip(1) {
        changes.insert((*name).into(), null_or(v.get(name)));
    }
    let mut address = match current.address.as_ref().map(serde_json::to_value) {
        Some(Ok(Value::Object(m))) => m,
        _ => Map::new(),
    };
    for f in PROFILE_ADDRESS {
        set_opt(&mut address, f, v.get(f));
    }
    let has_lines = PROFILE_ADDRESS.iter().any(|f| address.contains_key(*f));
    changes.insert(
        "address".into(),
        if has_lines {
            Value::Object(address)
        } else {
            Value::Null
        },
    );
    for f in ["latitude", "longitude"] {
        changes.insert(
            f.into(),
            coordinate(v, f, &mut errors)
                .map(|x| json!(x))
                .unwrap_or(Value::Null),
        );
    }
    let tz = v.get("timezone");
    changes.insert(
        "timezone".into(),
        Value::String(if tz.is_empty() {
            "Europe/London".into()
        } else {
            tz.to_owned()
        }),
    );
    let mut pick = |name: &str, options: &[(&str, &str)]| -> Value {
        let chosen = v.get(name);
        if options.iter().any(|(o, _)| *o == chosen) {
            json!(chosen)
        } else {
            errors.add(name, "Choose one of the options.");
            Value::Null
        }
    };
    let governance = pick("governance", GOVERNANCE);
    let focus = pick("focus", FOCUS);
    let coordination = pick("coordination", COORDINATION);
    let space: Vec<&str> = v.all("space");
    if space.is_empty() {
        errors.add("space", "Tick at least one.");
    } else if space.iter().any(|s| !SPACE.iter().any(|(o, _)| o == s)) {
        errors.add("space", "Choose from the options shown.");
    }
    changes.insert(
        "dimensions".into(),
        json!({"space": space, "governance": governance, "focus": focus, "coordination": coordination}),
    );
    if errors.is_empty() {
        Ok(Value::Object(changes))
    } else {
        Err(errors)
    }
}

/// Puts a failed profile edit's message next to its field.
pub fn profile_error(e: &NodeError) -> Option<Errors> {
    let mut errors = Errors::default();
    let (path, reason) = match e {
        NodeError::Spec(SpecError::Schema { path, reason }) => (path.as_str(), reason.as_str()),
        NodeError::Invalid { field, message } => (field.as_str(), message.as_str()),
        NodeError::Spec(other) => {
            errors.add("", other.to_string());
            return Some(errors);
        }
        _ => return None,
    };
    let rest = path.strip_prefix("hub.").unwrap_or(path);
    let leaf = rest.rsplit('.').next().unwrap_or("");
    let field = match leaf {
        "name" | "description" | "area_served" | "url" | "email" | "phone" | "address_1"
        | "address_2" | "city" | "postal_code" | "latitude" | "longitude" | "timezone"
        | "space" | "governance" | "focus" | "coordination" => leaf,
        _ => "",
    };
    errors.add(field, friendly(reason));
    Some(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::draft::service_from_json;

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
