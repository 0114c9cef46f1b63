//! The admin page's forms for a service and for the hub's profile: what
//! each field is called and says, how a stored service fills them, and how
//! what was typed becomes the JSON the hub's own edit operations take (so
//! the protocol's validation runs exactly once, in one place), with every
//! message sent back to the field it is about. Rendering
//! ([`service_view`], [`profile`]) and reading ([`service_parse`],
//! [`profile`]) are separate modules; this one holds the fields they share.
//!
//! Editing keeps what the form does not show: a service's location
//! descriptions, phone types, schedule notes and taxonomy codes stay as
//! they were unless the field that shows them is changed.

pub mod profile;
pub mod service_parse;
pub mod service_view;
pub mod sessions;

use serde_json::{Map, Value};

use sessions::When;

use crate::web::form::{Choice, Errors, Values};

pub use profile::{profile_changes, profile_error, profile_sections, profile_values};
pub use service_parse::{service_error, service_json, Origins};
pub use service_view::{service_sections, service_values};

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

/// A list as one field shows it: `a; b; c`.
fn joined(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join("; ")
}

/// A field's `a; b; c` as the list it stands for.
fn split(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Sets an optional JSON text field, or removes it when left empty.
fn set_opt(obj: &mut Map<String, Value>, key: &str, value: &str) {
    if value.is_empty() {
        obj.remove(key);
    } else {
        obj.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

/// A latitude or longitude field, with a message by it if it is not a
/// number.
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

/// A core message as a sentence for the form.
fn friendly(reason: &str) -> String {
    let mut c = reason.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str() + ".",
        None => String::new(),
    }
}
