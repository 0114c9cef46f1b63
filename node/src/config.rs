//! One declared configuration: `DIR/signpost.toml`, then `SIGNPOST_*`
//! environment overrides, validated once at start with messages a volunteer
//! running a hub can act on. Each setting is declared once, in
//! [`settings`]; its struct field, default, environment variable, checks,
//! commented line in `signpost.toml` and row in `docs/configuration.md`
//! all come from that declaration.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{NodeError, Result};

pub mod declare;
pub mod settings;

pub use settings::{AggregatorSection, HubSection, NodeSection, ServerSection, WebSection};

/// File name of the configuration inside a data directory.
pub const CONFIG_FILE: &str = "signpost.toml";
/// File name of the SQLite database inside a data directory.
pub const DATABASE_FILE: &str = "signpost.db";

/// The whole configuration of a node.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub node: NodeSection,
    #[serde(default)]
    pub hub: HubSection,
    #[serde(default)]
    pub aggregator: AggregatorSection,
    #[serde(default)]
    pub web: WebSection,
    #[serde(default)]
    pub server: ServerSection,
}

/// Every section as declared, in the order of `signpost.toml`.
pub fn sections() -> [declare::Section; 5] {
    [
        NodeSection::declared(),
        HubSection::declared(),
        AggregatorSection::declared(),
        WebSection::declared(),
        ServerSection::declared(),
    ]
}

/// Every declared setting, in the order of `signpost.toml`.
pub fn declared_settings() -> Vec<declare::Setting> {
    sections().into_iter().flat_map(|s| s.settings).collect()
}

/// The text of `docs/configuration.md`, made from the declarations so the
/// doc cannot go stale (a test compares it with the committed file).
pub fn settings_markdown() -> String {
    declare::markdown(&sections())
}

impl WebSection {
    /// The origin (`scheme://host[:port]`) tiles come from, for the pages'
    /// Content-Security-Policy; `{s}` subdomains become a `*.` wildcard.
    pub fn tile_origin(&self) -> Option<String> {
        if self.tile_url.is_empty() {
            return None;
        }
        let parsed = url::Url::parse(&self.tile_url.replace("{s}", "s")).ok()?;
        let host = parsed.host_str()?;
        let host = if self.tile_url.contains("{s}.") {
            host.strip_prefix("s.")
                .map(|rest| format!("*.{rest}"))
                .unwrap_or_else(|| host.to_owned())
        } else {
            host.to_owned()
        };
        Some(match parsed.port() {
            Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
            None => format!("{}://{host}", parsed.scheme()),
        })
    }
}

pub use signpost_client::verify::Trust;

impl AggregatorSection {
    /// The crawl age past which `/readyz` says unready, if any (see
    /// [`AggregatorSection::ready_max_crawl_age_secs`]).
    pub fn ready_crawl_age(&self) -> Option<u64> {
        self.ready_max_crawl_age_secs.or_else(|| {
            self.scheduled
                .then(|| self.recrawl_interval_secs.saturating_mul(3).max(600))
        })
    }
}

/// Who may add a hub with `POST /v1/register`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Anyone, within the caps: searchable at once.
    Open,
    /// Anyone, within the caps, but crawled only once an operator approves.
    #[default]
    Approval,
    /// Nobody: only the operator adds sources.
    Off,
}

impl Registration {
    /// The word the config file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Registration::Open => "open",
            Registration::Approval => "approval",
            Registration::Off => "off",
        }
    }
}

/// One upstream aggregator to follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSection {
    /// The aggregator's base address (its feed is at `/v1/feed`), or the
    /// feed's full address.
    pub url: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Config {
    /// Reads `DIR/signpost.toml`, applies the environment, and validates.
    pub fn load(dir: &Path) -> Result<Config> {
        Config::load_with(dir, |name| std::env::var(name).ok())
    }

    /// [`Config::load`] with the environment read through `get`, so tests
    /// need not touch the process environment.
    pub fn load_with(dir: &Path, get: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                NodeError::Setup(format!(
                    "{} does not exist: run `signpost-node init --dir {}` first",
                    path.display(),
                    dir.display()
                ))
            } else {
                NodeError::io("reading", &path, e)
            }
        })?;
        let mut config = Config::parse(&text)
            .map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?;
        config.apply_env(&get)?;
        config.validate().map_err(|e| match e {
            NodeError::Config(message) => NodeError::Config(name_the_variables(message, &get)),
            other => other,
        })?;
        Ok(config)
    }

    /// Parses TOML text without environment or validation.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies the `SIGNPOST_*` override of every declared setting, read
    /// through `get` so tests need not touch the process environment; each
    /// value is checked on its own at once, and an error names the variable.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        for setting in declared_settings() {
            let Some(text) = get(setting.env) else {
                continue;
            };
            let named = |e: String| NodeError::Config(format!("{}={text:?}: {e}", setting.env));
            (setting.set_env)(self, &text).map_err(|e| named(format!("{} {e}", setting.name())))?;
            (setting.check)(self).map_err(named)?;
        }
        Ok(())
    }

    /// Checks every value, so a mistake stops the node at start, not later:
    /// each setting on its own (as declared), then the ones that depend on
    /// each other or on the protocol's rules.
    pub fn validate(&self) -> Result<()> {
        self.node.validate()?;
        self.hub.validate()?;
        self.aggregator.validate()?;
        let a = &self.aggregator;
        for u in &a.upstream {
            signpost_client::follow::feed_url(&u.url).map_err(|e| {
                NodeError::Config(format!("aggregator.upstream url {:?}: {e}", u.url))
            })?;
        }
        for url in &a.hubs {
            signpost_client::fetch::listing_url(url)
                .map_err(|e| NodeError::Config(format!("aggregator.hubs entry {url:?}: {e}")))?;
        }
        if a.trust == Trust::Allowlist && a.allow.is_empty() {
            return Err(NodeError::Config(
                "aggregator.trust is \"allowlist\" but aggregator.allow lists no hub ids".into(),
            ));
        }
        for id in &a.allow {
            signpost_spec::KeyId::parse(id)
                .map_err(|e| NodeError::Config(format!("aggregator.allow entry: {e}")))?;
        }
        self.server.validate()?;
        self.web.validate()
    }

    /// Renders the file written by `init`, with comments for the reader:
    /// every declared setting, its doc and its environment variable.
    pub fn to_commented_toml(&self) -> String {
        declare::commented_toml(self, &sections())
    }

    /// The key file's full path.
    pub fn key_path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.hub.key_file)
    }
}

/// Adds to a validation message the variables that set the settings it
/// names, so a value from the environment is traced to where it came from.
fn name_the_variables(message: String, get: impl Fn(&str) -> Option<String>) -> String {
    let from: Vec<&str> = declared_settings()
        .iter()
        .filter(|s| mentions(&message, &s.name()) && get(s.env).is_some())
        .map(|s| s.env)
        .collect();
    if from.is_empty() {
        message
    } else {
        format!("{message} (set by {})", from.join(", "))
    }
}

/// Whether `message` names the setting `name` (not just one that starts
/// the same, as `aggregator.allow` starts `aggregator.allow_addresses`).
fn mentions(message: &str, name: &str) -> bool {
    message.match_indices(name).any(|(at, _)| {
        !message[at + name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod declared_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_config_parses_back_and_env_overrides_win() {
        let mut c = Config::default();
        c.node.public_url = Some("https://grange.example.org".into());
        let text = c.to_commented_toml();
        let mut back = Config::parse(&text).unwrap();
        back.validate().unwrap();
        assert_eq!(
            back.node.public_url.as_deref(),
            Some("https://grange.example.org")
        );
        back.apply_env(|k| (k == "SIGNPOST_LISTEN").then(|| "0.0.0.0:9000".to_string()))
            .unwrap();
        assert_eq!(back.node.listen.port(), 9000);
    }

    #[test]
    fn aggregator_section_parses_validates_and_round_trips() {
        let text = "[aggregator]\nenabled = true\nhubs = [\"https://grange.example.org\"]\n\
                    trust = \"allowlist\"\nallow = [\"ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]\n";
        let c = Config::parse(text).unwrap();
        assert!(c.aggregator.enabled);
        assert_eq!(c.aggregator.trust, Trust::Allowlist);
        assert_eq!(
            c.aggregator.max_listing_bytes,
            4 * 1024 * 1024,
            "defaults fill the rest"
        );
        let back = Config::parse(&c.to_commented_toml()).unwrap();
        assert_eq!(back.aggregator.hubs, c.aggregator.hubs);
        let mut bad = c.clone();
        bad.aggregator.hubs = vec!["ftp://x.org".into()];
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("aggregator.hubs"));
        let mut bad = c.clone();
        bad.aggregator.allow.clear();
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("allowlist"));
        let mut bad = c;
        bad.aggregator.recrawl_interval_secs = 0;
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("recrawl_interval_secs"));
        assert_eq!(back.aggregator.registration, Registration::Approval);
        let mut bad = back.clone();
        bad.aggregator.max_registered_listing_bytes = 100;
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_registered_listing_bytes"));
        let mut bad = back.clone();
        bad.aggregator.max_registered_services = 5001;
        assert!(bad.validate().is_err());
        let mut open = back.clone();
        open.apply_env(|k| (k == "SIGNPOST_REGISTRATION").then(|| "open".into()))
            .unwrap();
        assert_eq!(open.aggregator.registration, Registration::Open);
        assert!(open
            .apply_env(|k| (k == "SIGNPOST_REGISTRATION").then(|| "maybe".into()))
            .is_err());
        let mut env = Config::default();
        env.apply_env(|k| (k == "SIGNPOST_ALLOW_PRIVATE_NETWORKS").then(|| "true".into()))
            .unwrap();
        assert!(env.aggregator.allow_private_networks);
        assert!(Config::parse("[aggregator]\ntrust = \"maybe\"\n").is_err());
    }

    #[test]
    fn web_section_validates_and_gives_the_tile_origin() {
        let c = Config::default();
        assert_eq!(
            c.web.tile_origin().as_deref(),
            Some("https://tile.openstreetmap.org")
        );
        let back = Config::parse(&c.to_commented_toml()).unwrap();
        assert_eq!(back.web, c.web);
        assert_eq!(back.server, c.server);
        let mut w = WebSection {
            tile_url: "https://{s}.tiles.example.org:8443/{z}/{x}/{y}.png".into(),
            ..WebSection::default()
        };
        w.validate().unwrap();
        assert_eq!(
            w.tile_origin().as_deref(),
            Some("https://*.tiles.example.org:8443")
        );
        w.tile_url = "https://tiles.example.org/map.png".into();
        assert!(w
            .validate()
            .unwrap_err()
            .to_string()
            .contains("web.tile_url"));
        w.tile_url = "javascript:alert(1)//{z}{x}{y}".into();
        assert!(w.validate().is_err());
        w.tile_url = String::new();
        w.validate().unwrap();
        assert_eq!(w.tile_origin(), None);
        w.geocoder_url = Some("ftp://geo".into());
        assert!(w.validate().is_err());
        let mut env = Config::default();
        env.apply_env(|k| {
            (k == "SIGNPOST_GEOCODER_URL").then(|| "https://api.postcodes.io".into())
        })
        .unwrap();
        env.validate().unwrap();
        assert_eq!(
            env.web.geocoder_url.as_deref(),
            Some("https://api.postcodes.io")
        );
    }

    #[test]
    fn coverage_areas_setting_round_trips_and_is_checked() {
        let text =
            "[aggregator]\ncoverage_areas = \"wards.geojson\"\ncoverage_area_name = \"WD23NM\"\n";
        let c = Config::parse(text).unwrap();
        c.validate().unwrap();
        assert_eq!(
            c.aggregator.coverage_areas.as_deref(),
            Some(Path::new("wards.geojson"))
        );
        let back = Config::parse(&c.to_commented_toml()).unwrap();
        assert_eq!(back.aggregator.coverage_areas, c.aggregator.coverage_areas);
        assert_eq!(back.aggregator.coverage_area_name, "WD23NM");
        let defaults = Config::parse(&Config::default().to_commented_toml()).unwrap();
        assert_eq!(
            defaults.aggregator.coverage_areas, None,
            "a grid by default"
        );
        let mut bad = c.clone();
        bad.aggregator.coverage_area_name = String::new();
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("coverage_area_name"));
        let mut env = c;
        env.apply_env(|k| (k == "SIGNPOST_COVERAGE_AREAS").then(String::new))
            .unwrap();
        assert_eq!(env.aggregator.coverage_areas, None, "empty turns it off");
    }

    #[test]
    fn bad_values_are_named() {
        let err = Config::parse("[hub]\nlisting_lifetime_hour = 3\n").unwrap_err();
        assert!(err.contains("listing_lifetime_hour"), "{err}");
        let mut c = Config::default();
        c.hub.listing_lifetime_hours = 0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("between 1 and 2160"));
        let mut c = Config::default();
        c.server.header_read_timeout_secs = 0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("server.header_read_timeout_secs"));
        let mut c = Config::default();
        c.apply_env(|k| (k == "SIGNPOST_MAX_CONNECTIONS").then(|| "2000".into()))
            .unwrap();
        assert_eq!(c.server.max_connections, 2000);
        c.apply_env(|k| {
            (k == "SIGNPOST_TRUSTED_PROXIES").then(|| "127.0.0.1, 172.28.0.0/24".into())
        })
        .unwrap();
        let back = Config::parse(&c.to_commented_toml()).unwrap();
        assert_eq!(back.server.trusted_proxies, c.server.trusted_proxies);
        assert_eq!(back.server.trusted_proxies.len(), 2);
        assert!(
            Config::parse("[server]\ntrusted_proxies = [\"localhost\"]\n")
                .unwrap_err()
                .contains("127.0.0.1")
        );
        let mut c = Config::default();
        let e = c.apply_env(|_| Some("nonsense".into())).unwrap_err();
        assert!(e.to_string().contains("SIGNPOST_LISTEN"));
    }

    #[test]
    fn the_contact_is_an_email_address_or_a_web_page() {
        for good in [
            "directory@cvs.example.org",
            "https://cvs.example.org/contact",
        ] {
            let mut c = Config::default();
            c.web.contact = Some(good.into());
            c.validate().unwrap();
        }
        for bad in [
            "directory",
            "a@b",
            "a b@cvs.example.org",
            "<script>@x.org",
            "ftp://cvs.example.org",
        ] {
            let mut c = Config::default();
            c.web.contact = Some(bad.into());
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("web.contact"), "{bad}: {e}");
        }
    }

    #[test]
    fn embed_origins_must_be_bare_origins_and_few() {
        let mut c = Config::default();
        assert!(
            c.web.embed_origins.is_empty(),
            "no site may frame by default"
        );
        c.web.embed_origins = vec![
            "https://council.example.org".into(),
            "http://127.0.0.1:8080".into(),
            "https://xn--bcher-kva.example".into(),
        ];
        c.validate().unwrap();
        let back = Config::parse(&c.to_commented_toml()).unwrap();
        assert_eq!(back.web.embed_origins, c.web.embed_origins);
        for (bad, says) in [
            ("council.example.org", "is not an origin"),
            ("ftp://council.example.org", "http:// or https://"),
            ("https://council.example.org/", "no trailing /"),
            ("https://council.example.org/embed", "has a path"),
            ("https://council.example.org?x=1", "has a path, query"),
            (
                "https://user:pw@council.example.org",
                "user name or password",
            ),
            ("https://*.example.org", "no wildcards"),
            ("https://a.org 'unsafe-inline'", "contains ' '"),
            ("https://a.org;script-src", "contains ';'"),
            ("https://a.org,https://b.org", "contains ','"),
            ("https://a.org\"", "contains '\"'"),
            ("https://[::1]:8080", "IPv6"),
            ("https://a.org:99999", "port"),
            ("https://a_b.org", "no valid host name"),
            ("https://", "no valid host name"),
        ] {
            let mut c = Config::default();
            c.web.embed_origins = vec![bad.to_owned()];
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("web.embed_origins"), "{bad}: {e}");
            assert!(e.contains(says), "{bad}: {e}");
        }
        let mut many = Config::default();
        many.web.embed_origins = (0..=settings::MAX_EMBED_ORIGINS)
            .map(|i| format!("https://site{i}.example.org"))
            .collect();
        let e = many.validate().unwrap_err().to_string();
        assert!(
            e.contains(&format!("at most {}", settings::MAX_EMBED_ORIGINS)),
            "{e}"
        );
        many.web.embed_origins.pop();
        many.validate().unwrap();
        // The environment's comma-separated list is checked the same way,
        // and the error names the variable.
        let mut env = Config::default();
        env.apply_env(|k| {
            (k == "SIGNPOST_EMBED_ORIGINS")
                .then(|| "https://council.example.org, http://localhost:3000".into())
        })
        .unwrap();
        assert_eq!(env.web.embed_origins.len(), 2);
        let e = Config::default()
            .apply_env(|k| {
                (k == "SIGNPOST_EMBED_ORIGINS").then(|| "https://council.example.org/page".into())
            })
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("SIGNPOST_EMBED_ORIGINS") && e.contains("has a path"),
            "{e}"
        );
    }
}
