//! The hub's details form: shown filled from the stored profile, read into
//! the changes `update_profile` takes, messages back by their field.

use serde_json::{json, Map, Value};
use signpost_spec::{HubProfile, Limits, SpecError};

use super::{coordinate, friendly, set_opt, Builder, Section};
use crate::error::NodeError;
use crate::web::form::{Errors, Values};

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
