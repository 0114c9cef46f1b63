//! The service form as shown: its sections and fields, filled from a
//! stored service or from what was typed, with each message by its field.

use signpost_spec::{Limits, Service};

use super::sessions;
use super::{joined, Builder, Section};
use crate::web::form::{Errors, Values};

/// Service statuses: (value, words).
const STATUSES: &[(&str, &str)] = &[
    ("active", "Running"),
    ("temporarily closed", "Temporarily closed"),
    ("inactive", "Not running at the moment"),
    ("defunct", "Stopped for good"),
];
/// Access routes: (value, words).
pub(super) const ACCESS: &[(&str, &str)] = &[
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
pub(super) const CONTACT_FIELDS: &[(&str, &str, &str)] = &[
    ("name", "Name", "text"),
    ("title", "Role", "text"),
    ("email", "Email", "email"),
    ("phone", "Phone", "tel"),
];

/// The form's values for a stored service.
pub fn service_values(s: &Service) -> Values {
    let mut v = Values::default();
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    v.push("name", s.name.clone());
    v.push("description", text(&s.description));
    v.push("status", s.status.as_str().to_owned());
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
