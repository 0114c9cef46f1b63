//! One declared configuration: `DIR/signpost.toml`, then `SIGNPOST_*`
//! environment overrides, validated once at start with messages a volunteer
//! running a hub can act on.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{NodeError, Result};

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

/// Limits every listener (the node's and the metrics one) puts on the
/// connections it accepts, so slow or idle clients cannot use up the
/// process's open files or tasks. Every field is optional in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Connections served at once per listener (16 to 100000); more are
    /// answered 503 and closed at once. Keep it well below the process's
    /// open-file limit (`ulimit -n`, often 1024). Env: `SIGNPOST_MAX_CONNECTIONS`.
    pub max_connections: usize,
    /// Seconds a client has to send a request's head (its first line and
    /// headers) once it has opened a connection or started its next
    /// request (1 to 300).
    pub header_read_timeout_secs: u64,
    /// Seconds the node waits for the next piece of a request body, or for
    /// the client to take the next piece of a response (1 to 300).
    pub body_timeout_secs: u64,
    /// Seconds a request may take from its head to the start of the answer,
    /// body upload included; slower ones get 408 (1 to 3600).
    pub request_timeout_secs: u64,
    /// Seconds a kept-alive connection may sit idle between requests (1 to 3600).
    pub keep_alive_timeout_secs: u64,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` is
    /// believed for the client's address, e.g. `["127.0.0.1", "::1"]` behind
    /// a local Caddy or nginx; empty, the header is ignored.
    /// Env: `SIGNPOST_TRUSTED_PROXIES` (comma-separated).
    pub trusted_proxies: Vec<crate::forwarded::TrustedProxy>,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            max_connections: 512,
            header_read_timeout_secs: 10,
            body_timeout_secs: 10,
            request_timeout_secs: 60,
            keep_alive_timeout_secs: 60,
            trusted_proxies: Vec::new(),
        }
    }
}

impl ServerSection {
    fn validate(&self) -> Result<()> {
        in_range("server.max_connections", self.max_connections, 16, 100_000)?;
        in_range(
            "server.header_read_timeout_secs",
            self.header_read_timeout_secs,
            1,
            300,
        )?;
        in_range("server.body_timeout_secs", self.body_timeout_secs, 1, 300)?;
        in_range(
            "server.request_timeout_secs",
            self.request_timeout_secs,
            1,
            3600,
        )?;
        in_range(
            "server.keep_alive_timeout_secs",
            self.keep_alive_timeout_secs,
            1,
            3600,
        )
    }
}

/// Settings for the web pages: the directory's map and how typed places
/// are found. Every field is optional in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSection {
    /// Map tile address with `{z}`, `{x}`, `{y}` (and optionally `{s}`),
    /// or empty for no map (the list of results always works).
    /// Env: `SIGNPOST_TILE_URL`.
    pub tile_url: String,
    /// Credit shown on the map, as the tile server's terms ask (plain text).
    /// Env: `SIGNPOST_TILE_ATTRIBUTION`.
    pub tile_attribution: String,
    /// A postcodes.io-compatible service asked for places the directory
    /// does not already hold, e.g. `https://api.postcodes.io`; none by
    /// default, so no search leaves the server. Env: `SIGNPOST_GEOCODER_URL`.
    pub geocoder_url: Option<String>,
}

impl Default for WebSection {
    fn default() -> Self {
        WebSection {
            tile_url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png".to_owned(),
            tile_attribution: "\u{a9} OpenStreetMap contributors".to_owned(),
            geocoder_url: None,
        }
    }
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

    fn validate(&self) -> Result<()> {
        if !self.tile_url.is_empty() {
            let ok = ["{z}", "{x}", "{y}"]
                .iter()
                .all(|p| self.tile_url.contains(p))
                && self.tile_url.len() <= 2048
                && (self.tile_url.starts_with("https://") || self.tile_url.starts_with("http://"))
                && !self.tile_url.contains(['"', '\'', ' ', ';', '<', '>'])
                && self.tile_origin().is_some();
            if !ok {
                return Err(NodeError::Config(format!(
                    "web.tile_url {:?} must be an http(s) address with {{z}}, {{x}} and {{y}}, \
                     like https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png (or \"\" for no map)",
                    self.tile_url
                )));
            }
        }
        if self.tile_attribution.chars().count() > 256 {
            return Err(NodeError::Config(
                "web.tile_attribution is longer than 256 characters".into(),
            ));
        }
        if let Some(url) = &self.geocoder_url {
            let parsed = url::Url::parse(url).map_err(|e| {
                NodeError::Config(format!(
                    "web.geocoder_url {url:?} is not a URL ({e}); write it like https://api.postcodes.io"
                ))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(NodeError::Config(format!(
                    "web.geocoder_url {url:?} must be an http or https address with a host name"
                )));
            }
        }
        Ok(())
    }
}

pub use signpost_client::verify::Trust;

/// Settings for the aggregator role (crawling hubs into a directory).
/// Every field is optional in the file; missing ones take the defaults of
/// [`AggregatorSection::default`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AggregatorSection {
    /// Run the aggregator. Env: `SIGNPOST_AGGREGATOR_ENABLED`.
    pub enabled: bool,
    /// The directory's name, shown to people ("Lancashire community directory").
    pub name: String,
    /// Hub addresses to crawl (the hub's base URL or its listing URL).
    pub hubs: Vec<String>,
    /// `open` (trust on first use) or `allowlist`.
    pub trust: Trust,
    /// Hub ids accepted when `trust = "allowlist"`.
    pub allow: Vec<String>,
    /// Crawl hubs and poll upstreams on a schedule (the normal case). Off,
    /// crawls happen only when asked (`signpost-node crawl`, the admin API),
    /// e.g. from cron or in tests.
    pub scheduled: bool,
    /// Seconds between crawls of each hub (1 to 604800).
    pub recrawl_interval_secs: u64,
    /// `/readyz` answers 503 when no crawl has finished for this many
    /// seconds (1 to 604800), so an orchestrator notices a crawler that has
    /// stopped. Unset: three recrawl intervals (at least 10 minutes) when
    /// crawls are scheduled, no bound when they are not (crawls then come
    /// from cron, at a pace the node does not know).
    pub ready_max_crawl_age_secs: Option<u64>,
    /// Most crawls running at once (1 to 1024).
    pub max_concurrent_crawls: usize,
    /// Largest listing accepted, in bytes (1 KiB to 64 MiB).
    pub max_listing_bytes: usize,
    /// Seconds to wait for a connection (1 to 60).
    pub connect_timeout_secs: u64,
    /// Seconds a whole response may take (1 to 300).
    pub request_timeout_secs: u64,
    /// Allow crawling loopback and private addresses. Only for tests and
    /// local demos: on a server it lets anyone who can register a hub make
    /// the aggregator probe your internal network.
    /// Env: `SIGNPOST_ALLOW_PRIVATE_NETWORKS`.
    pub allow_private_networks: bool,
    /// Private addresses the crawler may reach anyway, e.g. a hub on the
    /// council's intranet at 10.1.2.3 (exact addresses, not ranges; every
    /// other private address stays refused, after redirects too).
    pub allow_addresses: Vec<std::net::IpAddr>,
    /// Days a removed hub stays in the feed as a tombstone (90 to 3650; at
    /// least the longest listing lifetime, so replays stay refused).
    pub tombstone_retention_days: u64,
    /// Licence of the directory's data, linked from every feed page.
    pub license_url: String,
    /// Registrations accepted per client address per hour (0 turns
    /// `POST /v1/register` off).
    pub register_per_hour: u32,
    /// Who may add a hub with `POST /v1/register`: `approval` (checked,
    /// then held until an operator runs `signpost-node source approve`),
    /// `open` (crawled and searchable at once) or `off`.
    /// Env: `SIGNPOST_REGISTRATION`.
    pub registration: Registration,
    /// Most registered sources held, pending ones included (1 to 1000000).
    pub max_registered_sources: usize,
    /// Most registered sources from one client address, an IPv6 /64
    /// counting as one (1 to 100000).
    pub max_registrations_per_client: usize,
    /// Most registered sources at one host name (1 to 100000).
    pub max_registrations_per_host: usize,
    /// Most services a registered source's listing may hold (1 to 5000;
    /// hubs the operator adds have only the protocol's 5,000).
    pub max_registered_services: usize,
    /// Largest listing a registered source may serve, in bytes (1 KiB to
    /// 64 MiB; `max_listing_bytes` still applies when it is lower).
    pub max_registered_listing_bytes: usize,
    /// Days a registered source may go without a good listing (or a
    /// registration wait for approval) before it is dropped (1 to 3650).
    pub registration_expiry_days: u64,
    /// Other aggregators whose feeds this one follows
    /// (`[[aggregator.upstream]]` tables, each with a `url`).
    pub upstream: Vec<UpstreamSection>,
    /// Seconds between polls of an upstream feed that is up to date (1 to 86400).
    pub upstream_poll_secs: u64,
    /// Largest feed page accepted from an upstream, in bytes (64 KiB to 256 MiB).
    pub max_feed_page_bytes: usize,
    /// Most bytes of listings in one page of this node's own feed
    /// (`/v1/feed`), whatever `limit` asks (1 MiB to 256 MiB; a page holds
    /// at least one item). Keep it below the followers' `max_feed_page_bytes`
    /// (16 MiB by default).
    pub served_feed_page_bytes: usize,
    /// A GeoJSON file of the areas (wards, parishes) the coverage report
    /// names as gaps: a FeatureCollection of Polygon or MultiPolygon
    /// features, path relative to the data directory. Unset, the report
    /// divides the region into a grid. Read and checked at start.
    /// Env: `SIGNPOST_COVERAGE_AREAS` (empty for none).
    pub coverage_areas: Option<PathBuf>,
    /// The feature property that holds each area's name (`name` by
    /// default; ONS ward boundaries use e.g. `WD23NM`).
    pub coverage_area_name: String,
}

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

impl Default for AggregatorSection {
    fn default() -> Self {
        AggregatorSection {
            enabled: false,
            name: "Signpost directory".to_owned(),
            hubs: Vec::new(),
            trust: Trust::Open,
            allow: Vec::new(),
            scheduled: true,
            recrawl_interval_secs: 900,
            ready_max_crawl_age_secs: None,
            max_concurrent_crawls: 32,
            max_listing_bytes: 4 * 1024 * 1024,
            connect_timeout_secs: 5,
            request_timeout_secs: 20,
            allow_private_networks: false,
            allow_addresses: Vec::new(),
            tombstone_retention_days: 90,
            license_url: "https://creativecommons.org/licenses/by/4.0/".to_owned(),
            register_per_hour: 10,
            registration: Registration::Approval,
            max_registered_sources: 1000,
            max_registrations_per_client: 20,
            max_registrations_per_host: 20,
            max_registered_services: 1000,
            max_registered_listing_bytes: 1024 * 1024,
            registration_expiry_days: 30,
            upstream: Vec::new(),
            upstream_poll_secs: 60,
            max_feed_page_bytes: 16 * 1024 * 1024,
            served_feed_page_bytes: 8 * 1024 * 1024,
            coverage_areas: None,
            coverage_area_name: "name".to_owned(),
        }
    }
}

/// Settings for the process as a whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// Address and port to listen on. Env: `SIGNPOST_LISTEN`.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The address people and aggregators reach this node at, e.g.
    /// `https://hub.example.org`. Env: `SIGNPOST_PUBLIC_URL`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// `text` for people, `json` for log collectors. Env: `SIGNPOST_LOG_FORMAT`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Serve Prometheus metrics at `/metrics` on this separate address
    /// (e.g. 127.0.0.1:9090); off when unset. Env: `SIGNPOST_METRICS_LISTEN`.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Settings for the hub role (publishing this hub's listing).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSection {
    /// Serve this hub's listing. Env: `SIGNPOST_HUB_ENABLED`.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The secret key file, relative to the data directory.
    #[serde(default = "default_key_file")]
    pub key_file: PathBuf,
    /// How long each signed listing stays valid, in hours (1 to 2160).
    /// It is re-signed when less than half is left.
    /// Env: `SIGNPOST_LISTING_LIFETIME_HOURS`.
    #[serde(default = "default_lifetime_hours")]
    pub listing_lifetime_hours: u32,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_true() -> bool {
    true
}
fn default_key_file() -> PathBuf {
    PathBuf::from("hub.key")
}
fn default_lifetime_hours() -> u32 {
    168
}

impl Default for NodeSection {
    fn default() -> Self {
        NodeSection {
            listen: default_listen(),
            public_url: None,
            log_format: LogFormat::Text,
            metrics_listen: None,
        }
    }
}

impl Default for HubSection {
    fn default() -> Self {
        HubSection {
            enabled: true,
            key_file: default_key_file(),
            listing_lifetime_hours: default_lifetime_hours(),
        }
    }
}

impl Config {
    /// Reads `DIR/signpost.toml`, applies the environment, and validates.
    pub fn load(dir: &Path) -> Result<Config> {
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
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text without environment or validation.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies `SIGNPOST_*` overrides, read through `get` so tests need not
    /// touch the process environment.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(v) = get("SIGNPOST_LISTEN") {
            self.node.listen = v.parse().map_err(|_| {
                NodeError::Config(format!(
                    "SIGNPOST_LISTEN={v:?} is not an address and port like 127.0.0.1:8080"
                ))
            })?;
        }
        if let Some(v) = get("SIGNPOST_METRICS_LISTEN") {
            self.node.metrics_listen = Some(v.parse().map_err(|_| {
                NodeError::Config(format!(
                    "SIGNPOST_METRICS_LISTEN={v:?} is not an address and port like 127.0.0.1:9090"
                ))
            })?);
        }
        if let Some(v) = get("SIGNPOST_PUBLIC_URL") {
            self.node.public_url = Some(v);
        }
        if let Some(v) = get("SIGNPOST_LOG_FORMAT") {
            self.node.log_format = match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(NodeError::Config(format!(
                        "SIGNPOST_LOG_FORMAT={v:?} must be \"text\" or \"json\""
                    )))
                }
            };
        }
        if let Some(v) = get("SIGNPOST_HUB_ENABLED") {
            self.hub.enabled = parse_bool("SIGNPOST_HUB_ENABLED", &v)?;
        }
        if let Some(v) = get("SIGNPOST_AGGREGATOR_ENABLED") {
            self.aggregator.enabled = parse_bool("SIGNPOST_AGGREGATOR_ENABLED", &v)?;
        }
        if let Some(v) = get("SIGNPOST_ALLOW_PRIVATE_NETWORKS") {
            self.aggregator.allow_private_networks =
                parse_bool("SIGNPOST_ALLOW_PRIVATE_NETWORKS", &v)?;
        }
        if let Some(v) = get("SIGNPOST_LISTING_LIFETIME_HOURS") {
            self.hub.listing_lifetime_hours = v.parse().map_err(|_| {
                NodeError::Config(format!(
                    "SIGNPOST_LISTING_LIFETIME_HOURS={v:?} is not a whole number of hours"
                ))
            })?;
        }
        if let Some(v) = get("SIGNPOST_REGISTRATION") {
            self.aggregator.registration = match v.as_str() {
                "open" => Registration::Open,
                "approval" => Registration::Approval,
                "off" => Registration::Off,
                _ => {
                    return Err(NodeError::Config(format!(
                        "SIGNPOST_REGISTRATION={v:?} must be \"approval\", \"open\" or \"off\""
                    )))
                }
            };
        }
        if let Some(v) = get("SIGNPOST_TILE_URL") {
            self.web.tile_url = v;
        }
        if let Some(v) = get("SIGNPOST_TILE_ATTRIBUTION") {
            self.web.tile_attribution = v;
        }
        if let Some(v) = get("SIGNPOST_COVERAGE_AREAS") {
            self.aggregator.coverage_areas = (!v.is_empty()).then(|| PathBuf::from(v));
        }
        if let Some(v) = get("SIGNPOST_GEOCODER_URL") {
            self.web.geocoder_url = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = get("SIGNPOST_TRUSTED_PROXIES") {
            self.server.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse()
                        .map_err(|e| NodeError::Config(format!("SIGNPOST_TRUSTED_PROXIES: {e}")))
                })
                .collect::<Result<_>>()?;
        }
        if let Some(v) = get("SIGNPOST_MAX_CONNECTIONS") {
            self.server.max_connections = v.parse().map_err(|_| {
                NodeError::Config(format!(
                    "SIGNPOST_MAX_CONNECTIONS={v:?} is not a whole number of connections"
                ))
            })?;
        }
        Ok(())
    }

    /// Checks every value, so a mistake stops the node at start, not later.
    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.node.public_url {
            let parsed = url::Url::parse(url).map_err(|e| {
                NodeError::Config(format!(
                    "node.public_url {url:?} is not a URL ({e}); write it like https://hub.example.org"
                ))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(NodeError::Config(format!(
                    "node.public_url {url:?} must be an http or https address with a host name"
                )));
            }
        }
        let hours = self.hub.listing_lifetime_hours;
        if !(1..=2160).contains(&hours) {
            return Err(NodeError::Config(format!(
                "hub.listing_lifetime_hours is {hours}; it must be between 1 and 2160 (90 days)"
            )));
        }
        let a = &self.aggregator;
        in_range(
            "aggregator.recrawl_interval_secs",
            a.recrawl_interval_secs,
            1,
            604_800,
        )?;
        if let Some(age) = a.ready_max_crawl_age_secs {
            in_range("aggregator.ready_max_crawl_age_secs", age, 1, 604_800)?;
        }
        in_range(
            "aggregator.max_concurrent_crawls",
            a.max_concurrent_crawls,
            1,
            1024,
        )?;
        in_range(
            "aggregator.max_listing_bytes",
            a.max_listing_bytes,
            1024,
            64 * 1024 * 1024,
        )?;
        in_range(
            "aggregator.connect_timeout_secs",
            a.connect_timeout_secs,
            1,
            60,
        )?;
        in_range(
            "aggregator.request_timeout_secs",
            a.request_timeout_secs,
            1,
            300,
        )?;
        in_range(
            "aggregator.tombstone_retention_days",
            a.tombstone_retention_days,
            // Shorter than the longest listing lifetime (90 days), a purged
            // tombstone would let an old, still-valid listing back in.
            90,
            3650,
        )?;
        in_range(
            "aggregator.upstream_poll_secs",
            a.upstream_poll_secs,
            1,
            86_400,
        )?;
        in_range(
            "aggregator.max_feed_page_bytes",
            a.max_feed_page_bytes,
            64 * 1024,
            256 * 1024 * 1024,
        )?;
        in_range(
            "aggregator.served_feed_page_bytes",
            a.served_feed_page_bytes,
            1024 * 1024,
            256 * 1024 * 1024,
        )?;
        in_range(
            "aggregator.max_registered_sources",
            a.max_registered_sources,
            1,
            1_000_000,
        )?;
        in_range(
            "aggregator.max_registrations_per_client",
            a.max_registrations_per_client,
            1,
            100_000,
        )?;
        in_range(
            "aggregator.max_registrations_per_host",
            a.max_registrations_per_host,
            1,
            100_000,
        )?;
        in_range(
            "aggregator.max_registered_services",
            a.max_registered_services,
            1,
            signpost_spec::Limits::default().max_services,
        )?;
        in_range(
            "aggregator.max_registered_listing_bytes",
            a.max_registered_listing_bytes,
            1024,
            64 * 1024 * 1024,
        )?;
        in_range(
            "aggregator.registration_expiry_days",
            a.registration_expiry_days,
            1,
            3650,
        )?;
        for u in &a.upstream {
            signpost_client::follow::feed_url(&u.url).map_err(|e| {
                NodeError::Config(format!("aggregator.upstream url {:?}: {e}", u.url))
            })?;
        }
        for url in &a.hubs {
            signpost_client::fetch::listing_url(url)
                .map_err(|e| NodeError::Config(format!("aggregator.hubs entry {url:?}: {e}")))?;
        }
        if a.coverage_areas
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(NodeError::Config(
                "aggregator.coverage_areas is empty; give a GeoJSON file's path or remove the setting"
                    .into(),
            ));
        }
        let name = &a.coverage_area_name;
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(NodeError::Config(format!(
                "aggregator.coverage_area_name {name:?} must be a GeoJSON property name \
                 of 1 to 100 characters, like \"name\""
            )));
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
        if self.hub.key_file.as_os_str().is_empty() {
            return Err(NodeError::Config("hub.key_file must not be empty".into()));
        }
        self.server.validate()?;
        self.web.validate()
    }

    /// Renders the file written by `init`, with comments for the reader.
    pub fn to_commented_toml(&self) -> String {
        let public_url = match &self.node.public_url {
            Some(u) => format!("public_url = {}", toml_string(u)),
            None => "# public_url = \"https://hub.example.org\"".to_owned(),
        };
        format!(
            "# Signpost node configuration. Every setting can also be given in the\n\
             # environment (SIGNPOST_LISTEN, SIGNPOST_PUBLIC_URL, ...), which wins.\n\n\
             [node]\n\
             # Address and port to listen on. Use 0.0.0.0:8080 behind a reverse proxy on another host.\n\
             listen = \"{listen}\"\n\
             # The address aggregators and people reach this node at.\n\
             {public_url}\n\
             # \"text\" or \"json\"\n\
             log_format = \"{log}\"\n\n\
             [hub]\n\
             # Publish this hub's signed listing at /.well-known/signpost/listing.\n\
             enabled = {enabled}\n\
             # Secret signing key (keep it private, back it up).\n\
             key_file = {key}\n\
             # How long each signed listing is valid; it is re-signed when half has passed.\n\
             listing_lifetime_hours = {hours}\n",
            listen = self.node.listen,
            log = match self.node.log_format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            },
            enabled = self.hub.enabled,
            key = toml_string(&self.hub.key_file.to_string_lossy()),
            hours = self.hub.listing_lifetime_hours,
        ) + &self.aggregator_toml()
            + &self.web_toml()
            + &self.server_toml()
    }

    fn server_toml(&self) -> String {
        let s = &self.server;
        format!(
            "\n[server]\n\
             # Connections served at once (more get 503); keep well below `ulimit -n`.\n\
             max_connections = {max}\n\
             # Seconds a client has to send a request's headers.\n\
             header_read_timeout_secs = {header}\n\
             # Seconds without a byte of a request body, or of a response taken by the client.\n\
             body_timeout_secs = {body}\n\
             # Seconds a request may take before the answer starts (uploads included).\n\
             request_timeout_secs = {request}\n\
             # Seconds an idle kept-alive connection stays open.\n\
             keep_alive_timeout_secs = {keep}\n\
             # Proxies whose X-Forwarded-For names the client, e.g. [\"127.0.0.1\", \"::1\"].\n\
             trusted_proxies = [{proxies}]\n",
            max = s.max_connections,
            header = s.header_read_timeout_secs,
            body = s.body_timeout_secs,
            request = s.request_timeout_secs,
            keep = s.keep_alive_timeout_secs,
            proxies = s
                .trusted_proxies
                .iter()
                .map(|p| toml_string(&p.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    fn web_toml(&self) -> String {
        let w = &self.web;
        let geocoder = match &w.geocoder_url {
            Some(u) => format!("geocoder_url = {}", toml_string(u)),
            None => "# geocoder_url = \"https://api.postcodes.io\"".to_owned(),
        };
        format!(
            "\n[web]\n\
             # Map tiles for the directory page (\"\" for no map; the list always works).\n\
             tile_url = {tile}\n\
             tile_attribution = {credit}\n\
             # A postcodes.io-compatible service for places the directory does not hold yet.\n\
             {geocoder}\n",
            tile = toml_string(&w.tile_url),
            credit = toml_string(&w.tile_attribution),
        )
    }

    fn aggregator_toml(&self) -> String {
        let a = &self.aggregator;
        let hubs: Vec<String> = a.hubs.iter().map(|h| toml_string(h)).collect();
        format!(
            "\n[aggregator]\n\
             # Gather other hubs' listings into a searchable directory (for a CVS or council team).\n\
             enabled = {enabled}\n\
             name = {name}\n\
             # Hub addresses to crawl; more can be added with `signpost-node source add`.\n\
             hubs = [{hubs}]\n\
             # \"open\": trust each hub's key on first contact; \"allowlist\": only the hub ids in `allow`.\n\
             trust = \"{trust}\"\n\
             allow = []\n\
             recrawl_interval_secs = {interval}\n\
             # Hubs adding themselves (POST /v1/register): \"approval\" (you approve each with\n\
             # `signpost-node source approve`), \"open\" (searchable at once) or \"off\".\n\
             registration = \"{registration}\"\n\
             # Caps on registered hubs: in all, per client address, per host name, and per listing.\n\
             max_registered_sources = {max_registered}\n\
             max_registrations_per_client = {per_client}\n\
             max_registrations_per_host = {per_host}\n\
             max_registered_services = {reg_services}\n\
             max_registered_listing_bytes = {reg_bytes}\n\
             # Days a registered hub may fail (or wait for approval) before it is dropped.\n\
             registration_expiry_days = {reg_days}\n\
             # Only for local testing: lets the crawler reach 127.0.0.1 and private networks.\n\
             allow_private_networks = {private}\n\
             # Areas (wards) for the coverage report's gaps: a GeoJSON file of Polygon features\n\
             # with a name property; without it the report uses a grid.\n\
             {areas}\n\
             coverage_area_name = {area_name}\n\
             # Other aggregators to follow, one table each:\n\
             # [[aggregator.upstream]]\n\
             # url = \"https://directory.example.org\"\n{upstreams}",
            enabled = a.enabled,
            name = toml_string(&a.name),
            hubs = hubs.join(", "),
            trust = match a.trust {
                Trust::Open => "open",
                Trust::Allowlist => "allowlist",
            },
            interval = a.recrawl_interval_secs,
            registration = a.registration.as_str(),
            max_registered = a.max_registered_sources,
            per_client = a.max_registrations_per_client,
            per_host = a.max_registrations_per_host,
            reg_services = a.max_registered_services,
            reg_bytes = a.max_registered_listing_bytes,
            reg_days = a.registration_expiry_days,
            private = a.allow_private_networks,
            areas = match &a.coverage_areas {
                Some(p) => format!("coverage_areas = {}", toml_string(&p.to_string_lossy())),
                None => "# coverage_areas = \"wards.geojson\"".to_owned(),
            },
            area_name = toml_string(&a.coverage_area_name),
            upstreams = a
                .upstream
                .iter()
                .map(|u| format!("\n[[aggregator.upstream]]\nurl = {}\n", toml_string(&u.url)))
                .collect::<String>(),
        )
    }

    /// The key file's full path.
    pub fn key_path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.hub.key_file)
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(NodeError::Config(format!(
            "{name}={value:?} must be true or false"
        ))),
    }
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    name: &str,
    value: T,
    low: T,
    high: T,
) -> Result<()> {
    if value < low || value > high {
        return Err(NodeError::Config(format!(
            "{name} is {value}; it must be between {low} and {high}"
        )));
    }
    Ok(())
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

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
}
