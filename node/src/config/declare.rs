//! The machinery behind the one declaration of each setting
//! ([`super::settings`]): the [`settings_section!`] macro that turns a
//! section's declarations into its typed struct, its defaults, its checks
//! and its [`Setting`] descriptors, and the renderers that read those
//! descriptors (environment overrides, the commented `signpost.toml`, the
//! markdown table in `docs/configuration.md`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::{Config, LogFormat, Registration, Trust, UpstreamSection};
use crate::forwarded::TrustedProxy;

/// One declared setting, type-erased so every setting can be walked in
/// one loop: the environment, the file, the docs and the tests all read
/// this list, so none of them can miss a setting.
pub struct Setting {
    /// Section of `signpost.toml` (`aggregator`).
    pub section: &'static str,
    /// Key inside the section (`recrawl_interval_secs`).
    pub key: &'static str,
    /// Environment variable that overrides the file.
    pub env: &'static str,
    /// What the setting does, as written above its declaration.
    pub doc: &'static str,
    /// A valid value other than the default, as the environment writes it
    /// (also the commented-out line of an unset optional setting).
    pub example: &'static str,
    /// Inclusive bounds of a number (or of an optional number when set).
    pub range: Option<(u64, u64)>,
    /// Parses environment text into the config (without checking it).
    pub(crate) set_env: fn(&mut Config, &str) -> Result<(), String>,
    /// Checks the setting's current value on its own.
    pub(crate) check: fn(&Config) -> Result<(), String>,
    /// The current value as TOML, None when unset.
    pub(crate) value: fn(&Config) -> Option<toml::Value>,
    /// The example as TOML.
    pub(crate) example_value: fn() -> Option<toml::Value>,
    /// What the environment variable accepts, in words.
    pub(crate) form: fn() -> String,
    /// A text the environment variable refuses, for tests that walk the
    /// declared list.
    pub refused: &'static str,
    /// Whether the setting may be left unset.
    pub(crate) optional: bool,
}

impl Setting {
    /// `section.key`, the name messages use.
    pub fn name(&self) -> String {
        format!("{}.{}", self.section, self.key)
    }

    /// The doc comment on one line.
    pub fn doc_line(&self) -> String {
        self.doc.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The declared range in words (`1 KiB to 64 MiB` for sizes).
    pub fn range_text(&self) -> Option<String> {
        let (lo, hi) = self.range?;
        Some(if self.key.ends_with("_bytes") {
            format!("{} to {}", bytes(lo), bytes(hi))
        } else {
            format!("{lo} to {hi}")
        })
    }

    /// What is allowed, in words: the form and the range.
    pub fn allowed(&self) -> String {
        let mut allowed = (self.form)();
        if let Some(range) = self.range_text() {
            allowed.push_str(", ");
            allowed.push_str(&range);
        }
        if self.optional {
            allowed.push_str("; or unset");
        }
        allowed
    }
}

/// A section of `signpost.toml` with its declared settings.
pub struct Section {
    /// The section's name in the file (`server`).
    pub name: &'static str,
    /// Why the section is there, from its struct's doc comment.
    pub doc: &'static str,
    /// Its settings, in file order.
    pub settings: Vec<Setting>,
}

/// What a setting's Rust type must offer so it can be declared: reading
/// it from an environment variable, writing it as TOML, and describing it.
pub trait SettingValue: Sized {
    /// Reads the value from an environment variable's text; the error
    /// continues a sentence that starts with the setting's name.
    fn from_env(text: &str) -> Result<Self, String>;
    /// The value as TOML, None when unset.
    fn to_toml(&self) -> Option<toml::Value>;
    /// What the environment accepts, in words, for the docs.
    fn form() -> String;
    /// The number a declared range bounds, if any.
    fn number(&self) -> Option<u64> {
        None
    }
    /// Checks every value of the type must pass (text has no control
    /// characters); the error continues the setting's name.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
    /// A text [`SettingValue::from_env`] or [`SettingValue::check`] refuses.
    const REFUSED: &'static str;
    /// Whether the type may be unset (an `Option`).
    const OPTIONAL: bool = false;
}

/// A whole number as TOML (which holds up to `i64::MAX`).
fn integer(n: impl TryInto<i64>) -> Option<toml::Value> {
    n.try_into().ok().map(toml::Value::Integer)
}

macro_rules! whole_numbers {
    ($($t:ty),*) => {$(
        impl SettingValue for $t {
            fn from_env(text: &str) -> Result<Self, String> {
                text.trim()
                    .parse()
                    .map_err(|_| format!("{text:?} is not a whole number"))
            }
            fn to_toml(&self) -> Option<toml::Value> {
                integer(*self)
            }
            fn form() -> String {
                "whole number".into()
            }
            fn number(&self) -> Option<u64> {
                Some(bound(*self))
            }
            const REFUSED: &'static str = "many";
        }
    )*};
}
whole_numbers!(u32, u64, usize);

impl SettingValue for bool {
    fn from_env(text: &str) -> Result<Self, String> {
        match text.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(format!("{text:?} is not true or false (or 1 or 0)")),
        }
    }
    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::Boolean(*self))
    }
    fn form() -> String {
        "`true` or `false`".into()
    }
    const REFUSED: &'static str = "maybe";
}

/// Text: anything but control characters, which no name, address or path
/// here needs and which would garble logs and pages.
fn plain_text(text: &str) -> Result<(), String> {
    if text.chars().any(char::is_control) {
        return Err(format!(
            "{text:?} contains a control character (a line break, tab or the like)"
        ));
    }
    Ok(())
}

impl SettingValue for String {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.clone()))
    }
    fn form() -> String {
        "text".into()
    }
    fn check(&self) -> Result<(), String> {
        plain_text(self)
    }
    const REFUSED: &'static str = "line\nbreak";
}

impl SettingValue for PathBuf {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(PathBuf::from(text))
    }
    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.to_string_lossy().into_owned()))
    }
    fn form() -> String {
        "path, relative to the data folder".into()
    }
    fn check(&self) -> Result<(), String> {
        plain_text(&self.to_string_lossy())
    }
    const REFUSED: &'static str = "line\nbreak";
}

impl SettingValue for UpstreamSection {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(UpstreamSection {
            url: text.trim().to_owned(),
        })
    }
    fn to_toml(&self) -> Option<toml::Value> {
        let mut table = toml::Table::new();
        table.insert("url".into(), toml::Value::String(self.url.clone()));
        Some(toml::Value::Table(table))
    }
    fn form() -> String {
        "feed address, written `{ url = \"...\" }` in the file".into()
    }
    fn check(&self) -> Result<(), String> {
        plain_text(&self.url)
    }
    const REFUSED: &'static str = "line\nbreak";
}

/// Types written as their `Display` and read with `FromStr`.
macro_rules! from_str_values {
    ($($t:ty => $form:literal, $expected:literal, $refused:literal;)*) => {$(
        impl SettingValue for $t {
            fn from_env(text: &str) -> Result<Self, String> {
                text.trim().parse().map_err(|_| format!("{text:?} is not {}", $expected))
            }
            fn to_toml(&self) -> Option<toml::Value> {
                Some(toml::Value::String(self.to_string()))
            }
            fn form() -> String {
                $form.into()
            }
            const REFUSED: &'static str = $refused;
        }
    )*};
}
from_str_values! {
    SocketAddr => "address and port (`127.0.0.1:8080`)",
        "an address and port like 127.0.0.1:8080", "nonsense";
    IpAddr => "IP address (`10.1.2.3`)", "an IP address like 10.1.2.3", "10.1.2";
    TrustedProxy => "IP address or network (`127.0.0.1`, `::1`, `172.28.0.0/24`)",
        "an IP address or network like 127.0.0.1, ::1 or 172.28.0.0/24", "localhost";
}

/// Enums written as one of a few words.
macro_rules! word_values {
    ($($t:ty { $($variant:path => $word:literal),* })*) => {$(
        impl SettingValue for $t {
            fn from_env(text: &str) -> Result<Self, String> {
                match text.trim() {
                    $($word => Ok($variant),)*
                    _ => Err(format!("{text:?} is not one of {}", Self::form())),
                }
            }
            fn to_toml(&self) -> Option<toml::Value> {
                let word = match self { $($variant => $word,)* };
                Some(toml::Value::String(word.into()))
            }
            fn form() -> String {
                [$(concat!("`", $word, "`")),*].join(", ")
            }
            const REFUSED: &'static str = "maybe";
        }
    )*};
}
word_values! {
    LogFormat { LogFormat::Text => "text", LogFormat::Json => "json" }
    Trust { Trust::Open => "open", Trust::Allowlist => "allowlist" }
    Registration {
        Registration::Approval => "approval",
        Registration::Open => "open",
        Registration::Off => "off"
    }
}

/// Optional settings: an empty environment variable unsets them.
impl<T: SettingValue> SettingValue for Option<T> {
    fn from_env(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        T::from_env(text).map(Some)
    }
    fn to_toml(&self) -> Option<toml::Value> {
        self.as_ref().and_then(T::to_toml)
    }
    fn form() -> String {
        T::form()
    }
    fn number(&self) -> Option<u64> {
        self.as_ref().and_then(T::number)
    }
    fn check(&self) -> Result<(), String> {
        self.as_ref().map_or(Ok(()), T::check)
    }
    const REFUSED: &'static str = T::REFUSED;
    const OPTIONAL: bool = true;
}

/// Lists: comma-separated in the environment (empty for none).
impl<T: SettingValue> SettingValue for Vec<T> {
    fn from_env(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| T::from_env(item).map_err(|e| format!("entry {e}")))
            .collect()
    }
    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::Array(
            self.iter().filter_map(T::to_toml).collect(),
        ))
    }
    fn form() -> String {
        format!(
            "list, each: {}; comma-separated in the environment",
            T::form()
        )
    }
    fn check(&self) -> Result<(), String> {
        self.iter()
            .try_for_each(|item| item.check().map_err(|e| format!("entry {e}")))
    }
    const REFUSED: &'static str = T::REFUSED;
}

/// A declared check of one setting's value; the error continues the
/// setting's name.
pub(crate) type Check<T> = fn(&T) -> Result<(), String>;

/// Checks one value: its type's own check, its declared range, then its
/// declared check; errors start with the setting's `section.key`.
pub(crate) fn check_value<T: SettingValue>(
    name: &str,
    value: &T,
    range: Option<(u64, u64)>,
    check: Option<Check<T>>,
) -> Result<(), String> {
    value.check().map_err(|e| format!("{name} {e}"))?;
    if let (Some((low, high)), Some(n)) = (range, value.number()) {
        if n < low || n > high {
            return Err(format!(
                "{name} is {n}; it must be between {low} and {high}"
            ));
        }
    }
    match check {
        Some(check) => check(value).map_err(|e| format!("{name} {e}")),
        None => Ok(()),
    }
}

/// A range bound as the `u64` ranges are kept in.
pub(crate) fn bound(n: impl TryInto<u64>) -> u64 {
    n.try_into().unwrap_or(u64::MAX)
}

/// `Some(...)` when given something, `None` when not: the optional parts
/// of a declaration.
macro_rules! opt {
    () => {
        None
    };
    ($($t:tt)+) => {
        Some($($t)+)
    };
}
pub(crate) use opt;

/// Declares one section of `signpost.toml`: each setting once, with its
/// doc, type, default, environment variable, an example value and,
/// optionally, `range(low, high)` and `check function`. Generates the
/// section's struct (the typed fields the rest of the node reads), its
/// `Default`, its `validate` and its [`Section`] of descriptors.
macro_rules! settings_section {
    (
        $(#[doc = $sdoc:literal])*
        #[derive($($derive:path),*)]
        pub struct $name:ident in $sec:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident: $ty:ty = $default:expr,
                    env $env:literal, example $example:literal
                    $(, range($lo:expr, $hi:expr))?
                    $(, check $check:path)?;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive($($derive),*)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[doc = concat!("\n\nEnvironment: `", $env, "`.")]
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default,)* }
            }
        }

        impl $name {
            /// Checks each setting of the section on its own (form, range,
            /// declared check); `Config::validate` adds the checks that
            /// look at several settings.
            pub(crate) fn validate(&self) -> $crate::error::Result<()> {
                $(
                    $crate::config::declare::check_value(
                        concat!(stringify!($sec), ".", stringify!($field)),
                        &self.$field,
                        $crate::config::declare::opt!($((
                            $crate::config::declare::bound($lo),
                            $crate::config::declare::bound($hi)
                        ))?),
                        $crate::config::declare::opt!($($check)?),
                    )
                    .map_err($crate::error::NodeError::Config)?;
                )*
                Ok(())
            }

            /// The section as declared: its name, doc and settings.
            pub fn declared() -> $crate::config::declare::Section {
                use $crate::config::declare::{Setting, SettingValue};
                $crate::config::declare::Section {
                    name: stringify!($sec),
                    doc: concat!($($sdoc, "\n"),*),
                    settings: vec![$(Setting {
                        section: stringify!($sec),
                        key: stringify!($field),
                        env: $env,
                        doc: concat!($($doc, "\n"),*),
                        example: $example,
                        range: $crate::config::declare::opt!($((
                            $crate::config::declare::bound($lo),
                            $crate::config::declare::bound($hi)
                        ))?),
                        set_env: |c: &mut $crate::config::Config, text: &str| {
                            c.$sec.$field = <$ty as SettingValue>::from_env(text)?;
                            Ok(())
                        },
                        check: |c: &$crate::config::Config| {
                            $crate::config::declare::check_value(
                                concat!(stringify!($sec), ".", stringify!($field)),
                                &c.$sec.$field,
                                $crate::config::declare::opt!($((
                                    $crate::config::declare::bound($lo),
                                    $crate::config::declare::bound($hi)
                                ))?),
                                $crate::config::declare::opt!($($check)?),
                            )
                        },
                        value: |c: &$crate::config::Config| c.$sec.$field.to_toml(),
                        example_value: || {
                            <$ty as SettingValue>::from_env($example)
                                .ok()
                                .and_then(|v| v.to_toml())
                        },
                        form: <$ty as SettingValue>::form,
                        refused: <$ty as SettingValue>::REFUSED,
                        optional: <$ty as SettingValue>::OPTIONAL,
                    },)*],
                }
            }
        }
    };
}
pub(crate) use settings_section;

/// A TOML value on one line (arrays and tables inline).
pub(crate) fn inline(value: &toml::Value) -> String {
    value.to_string()
}

/// `n` bytes in words: `4 MiB` when a whole number of KiB or MiB.
fn bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    match n {
        0 => "0".into(),
        n if n % (KIB * KIB) == 0 => format!("{} MiB", n / (KIB * KIB)),
        n if n % KIB == 0 => format!("{} KiB", n / KIB),
        n => n.to_string(),
    }
}

/// Lines of at most `width` characters, each starting with `prefix`.
fn wrap(text: &str, prefix: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(prefix);
    for word in text.split_whitespace() {
        if line.len() > prefix.len() && line.len() + 1 + word.len() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(prefix);
        }
        if line.len() > prefix.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// `signpost.toml` with the values of `config`: every declared setting
/// with its doc and variable above it; unset optional ones and empty
/// lists as a commented-out example.
pub(crate) fn commented_toml(config: &Config, sections: &[Section]) -> String {
    let mut out = String::from(
        "# Signpost node configuration. Every setting can also be given in the\n\
         # environment (the variable named above it), which wins over this file.\n\
         # docs/configuration.md describes them all.\n",
    );
    for section in sections {
        out.push_str(&format!("\n[{}]\n", section.name));
        for (n, s) in section.settings.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(&wrap(&s.doc_line(), "# ", 78));
            let mut about = format!("# Environment: {}", s.env);
            if let Some(range) = s.range_text() {
                about.push_str(&format!("; {range}"));
            }
            out.push_str(&about);
            out.push_str(".\n");
            // Unset and empty-list settings are shown as a commented-out
            // example, so adding a line of one's own never repeats a key.
            let value = (s.value)(config).filter(|v| v.as_array().is_none_or(|a| !a.is_empty()));
            match (value, (s.example_value)()) {
                (Some(value), _) => out.push_str(&format!("{} = {}\n", s.key, inline(&value))),
                (None, Some(example)) => {
                    out.push_str(&format!("# {} = {}\n", s.key, inline(&example)))
                }
                (None, None) => out.push_str(&format!("# {} =\n", s.key)),
            }
        }
    }
    out
}

/// `docs/configuration.md`: every setting with its default, what it
/// accepts, its environment variable and what it does.
pub(crate) fn markdown(sections: &[Section]) -> String {
    let defaults = Config::default();
    let mut out = String::from(
        "# Configuration\n\n\
         <!-- Generated from node/src/config/settings.rs by \
         signpost_node::config::settings_markdown(); a test fails when this file differs. \
         To rewrite it: SIGNPOST_BLESS=1 cargo test -p signpost-node --lib config -->\n\n\
         A node reads `signpost.toml` in its data folder when it starts \
         (`signpost-node init` writes it, with a comment above each setting). \
         Every setting has a default, and every setting can be overridden by \
         its environment variable, which wins over the file: lists are \
         comma-separated there, an empty value unsets an optional setting, \
         and `true`/`false` may be written `1`/`0`. An unknown setting or a \
         value out of range stops the node at start with a message naming the \
         setting (and the variable, when one set it); \
         `signpost-node check-config` says the same without starting.\n",
    );
    for section in sections {
        out.push_str(&format!("\n## `[{}]`\n\n", section.name));
        let doc = section.doc.split_whitespace().collect::<Vec<_>>().join(" ");
        if !doc.is_empty() {
            out.push_str(&doc);
            out.push_str("\n\n");
        }
        out.push_str("| setting | default | allowed | environment | what it does |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for s in &section.settings {
            let default = match (s.value)(&defaults) {
                Some(v) if s.key.ends_with("_bytes") => match v.as_integer() {
                    Some(n) => format!("`{n}` ({})", bytes(bound(n))),
                    None => format!("`{}`", inline(&v)),
                },
                Some(v) => format!("`{}`", inline(&v)),
                None => "unset".into(),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | `{}` | {} |\n",
                s.key,
                cell(&default),
                cell(&s.allowed()),
                s.env,
                cell(&s.doc_line()),
            ));
        }
    }
    out
}

/// Text safe inside a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}
