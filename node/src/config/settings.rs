//! Every setting of `signpost.toml`, each declared once: its section and
//! key, Rust type, default, doc, environment variable, an example value and
//! what it allows. The structs, defaults, environment overrides, checks,
//! the commented file `init` writes and `docs/configuration.md` all come
//! from here (see [`super::declare`]).
//!
//! Environment variables are `SIGNPOST_` and the key in capitals, with the
//! section in front when the key alone would be ambiguous (`enabled`,
//! `name`, `allow`, `request_timeout_secs`, `upstream`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::declare::settings_section;
use super::{LogFormat, Registration, Trust, UpstreamSection};
use crate::forwarded::TrustedProxy;

settings_section! {
    /// The process as a whole: where it listens, its public address, logs.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct NodeSection in node {
        /// Address and port to listen on; 0.0.0.0:8080 behind a reverse proxy
        /// on another host.
        listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080)),
            env "SIGNPOST_LISTEN", example "0.0.0.0:9000";
        /// The address people and aggregators reach this node at, e.g.
        /// `https://hub.example.org`.
        public_url: Option<String> = None,
            env "SIGNPOST_PUBLIC_URL", example "https://hub.example.org",
            check check_public_url;
        /// `text` for people, `json` for log collectors.
        log_format: LogFormat = LogFormat::Text,
            env "SIGNPOST_LOG_FORMAT", example "json";
        /// Serve Prometheus metrics at `/metrics` on this separate address
        /// (e.g. 127.0.0.1:9090); off when unset.
        metrics_listen: Option<SocketAddr> = None,
            env "SIGNPOST_METRICS_LISTEN", example "127.0.0.1:9090";
    }
}

settings_section! {
    /// The hub role: publishing this hub's signed listing at
    /// `/.well-known/signpost/listing`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct HubSection in hub {
        /// Publish this hub's signed listing.
        enabled: bool = true,
            env "SIGNPOST_HUB_ENABLED", example "false";
        /// The secret signing key file, relative to the data folder (keep it
        /// private, back it up).
        key_file: PathBuf = PathBuf::from("hub.key"),
            env "SIGNPOST_KEY_FILE", example "keys/hub.key",
            check check_key_file;
        /// How long each signed listing stays valid, in hours (2160 is 90
        /// days); it is re-signed when less than half is left.
        listing_lifetime_hours: u32 = 168,
            env "SIGNPOST_LISTING_LIFETIME_HOURS", example "24", range(1, 2160);
    }
}

settings_section! {
    /// The aggregator role: crawling hubs (and following other aggregators)
    /// into a searchable directory, for a CVS or council team.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct AggregatorSection in aggregator {
        /// Run the aggregator.
        enabled: bool = false,
            env "SIGNPOST_AGGREGATOR_ENABLED", example "true";
        /// The directory's name, shown to people ("Lancashire community
        /// directory").
        name: String = "Signpost directory".to_owned(),
            env "SIGNPOST_AGGREGATOR_NAME", example "Lancashire community directory";
        /// Hub addresses to crawl (the hub's base URL or its listing URL);
        /// more can be added with `signpost-node source add`.
        hubs: Vec<String> = Vec::new(),
            env "SIGNPOST_HUBS", example "https://grange.example.org, https://revoe.example.org";
        /// `open`: trust each hub's key on first contact; `allowlist`: only
        /// the hub ids in `allow`.
        trust: Trust = Trust::Open,
            env "SIGNPOST_TRUST", example "allowlist";
        /// Hub ids accepted when `trust = "allowlist"`.
        allow: Vec<String> = Vec::new(),
            env "SIGNPOST_AGGREGATOR_ALLOW",
            example "ed25519:gTl3Dqh9F19Wo1Rmw0x-zMuNipG07jeiXfYPW4_Js5Q";
        /// Crawl hubs and poll upstreams on a schedule (the normal case).
        /// Off, crawls happen only when asked (`signpost-node crawl`, the
        /// admin API), e.g. from cron or in tests.
        scheduled: bool = true,
            env "SIGNPOST_SCHEDULED", example "false";
        /// Seconds between crawls of each hub.
        recrawl_interval_secs: u64 = 900,
            env "SIGNPOST_RECRAWL_INTERVAL_SECS", example "3600", range(1, 604_800);
        /// `/readyz` answers 503 when no crawl has finished for this many
        /// seconds, so an orchestrator notices a crawler that has stopped.
        /// Unset: three recrawl intervals (at least 10 minutes) when crawls
        /// are scheduled, no bound when they are not (crawls then come from
        /// cron, at a pace the node does not know).
        ready_max_crawl_age_secs: Option<u64> = None,
            env "SIGNPOST_READY_MAX_CRAWL_AGE_SECS", example "7200", range(1, 604_800);
        /// Most crawls running at once.
        max_concurrent_crawls: usize = 32,
            env "SIGNPOST_MAX_CONCURRENT_CRAWLS", example "8", range(1, 1024);
        /// Largest listing accepted, in bytes.
        max_listing_bytes: usize = 4 * 1024 * 1024,
            env "SIGNPOST_MAX_LISTING_BYTES", example "1048576",
            range(1024, 64 * 1024 * 1024);
        /// Seconds to wait for a connection to a hub.
        connect_timeout_secs: u64 = 5,
            env "SIGNPOST_CONNECT_TIMEOUT_SECS", example "10", range(1, 60);
        /// Seconds a whole response from a hub may take.
        request_timeout_secs: u64 = 20,
            env "SIGNPOST_AGGREGATOR_REQUEST_TIMEOUT_SECS", example "30", range(1, 300);
        /// Allow crawling loopback and private addresses. Only for tests and
        /// local demos: on a server it lets anyone who can register a hub
        /// make the aggregator probe your internal network.
        allow_private_networks: bool = false,
            env "SIGNPOST_ALLOW_PRIVATE_NETWORKS", example "true";
        /// Private addresses the crawler may reach anyway, e.g. a hub on the
        /// council's intranet at 10.1.2.3 (exact addresses, not ranges; every
        /// other private address stays refused, after redirects too).
        allow_addresses: Vec<IpAddr> = Vec::new(),
            env "SIGNPOST_ALLOW_ADDRESSES", example "10.1.2.3";
        /// Days a removed hub stays in the feed as a tombstone; at least the
        /// longest listing lifetime (90 days), so replays of an old, still
        /// valid listing stay refused.
        tombstone_retention_days: u64 = 90,
            env "SIGNPOST_TOMBSTONE_RETENTION_DAYS", example "365", range(90, 3650);
        /// Licence of the directory's data, linked from every feed page.
        license_url: String = "https://creativecommons.org/licenses/by/4.0/".to_owned(),
            env "SIGNPOST_LICENSE_URL",
            example "https://opendatacommons.org/licenses/odbl/1-0/";
        /// Registrations (`POST /v1/register`) accepted per client address
        /// per hour; 0 turns registration off.
        register_per_hour: u32 = 10,
            env "SIGNPOST_REGISTER_PER_HOUR", example "2";
        /// Who may add a hub with `POST /v1/register`: `approval` (checked,
        /// then held until an operator runs `signpost-node source approve`),
        /// `open` (crawled and searchable at once) or `off`.
        registration: Registration = Registration::Approval,
            env "SIGNPOST_REGISTRATION", example "open";
        /// Most registered sources held, pending ones included.
        max_registered_sources: usize = 1000,
            env "SIGNPOST_MAX_REGISTERED_SOURCES", example "50", range(1, 1_000_000);
        /// Most registered sources from one client address, an IPv6 /64
        /// counting as one.
        max_registrations_per_client: usize = 20,
            env "SIGNPOST_MAX_REGISTRATIONS_PER_CLIENT", example "5", range(1, 100_000);
        /// Most registered sources at one host name.
        max_registrations_per_host: usize = 20,
            env "SIGNPOST_MAX_REGISTRATIONS_PER_HOST", example "5", range(1, 100_000);
        /// Most services a registered source's listing may hold (hubs the
        /// operator adds have only the protocol's limit).
        max_registered_services: usize = 1000,
            env "SIGNPOST_MAX_REGISTERED_SERVICES", example "200",
            range(1, signpost_spec::Limits::default().max_services);
        /// Largest listing a registered source may serve, in bytes
        /// (`max_listing_bytes` still applies when it is lower).
        max_registered_listing_bytes: usize = 1024 * 1024,
            env "SIGNPOST_MAX_REGISTERED_LISTING_BYTES", example "262144",
            range(1024, 64 * 1024 * 1024);
        /// Days a registered source may go without a good listing (or a
        /// registration wait for approval) before it is dropped.
        registration_expiry_days: u64 = 30,
            env "SIGNPOST_REGISTRATION_EXPIRY_DAYS", example "7", range(1, 3650);
        /// Other aggregators whose feeds this one follows: each the
        /// aggregator's base address (its feed is at `/v1/feed`) or the
        /// feed's full address.
        upstream: Vec<UpstreamSection> = Vec::new(),
            env "SIGNPOST_AGGREGATOR_UPSTREAM", example "https://directory.example.org";
        /// Seconds between polls of an upstream feed that is up to date.
        upstream_poll_secs: u64 = 60,
            env "SIGNPOST_UPSTREAM_POLL_SECS", example "300", range(1, 86_400);
        /// Largest feed page accepted from an upstream, in bytes.
        max_feed_page_bytes: usize = 16 * 1024 * 1024,
            env "SIGNPOST_MAX_FEED_PAGE_BYTES", example "33554432",
            range(64 * 1024, 256 * 1024 * 1024);
        /// Most bytes of listings in one page of this node's own feed
        /// (`/v1/feed`), whatever `limit` asks (a page holds at least one
        /// item). Keep it below the followers' `max_feed_page_bytes`.
        served_feed_page_bytes: usize = 8 * 1024 * 1024,
            env "SIGNPOST_SERVED_FEED_PAGE_BYTES", example "4194304",
            range(1024 * 1024, 256 * 1024 * 1024);
        /// A GeoJSON file of the areas (wards, parishes) the coverage report
        /// names as gaps: a FeatureCollection of Polygon or MultiPolygon
        /// features, path relative to the data folder, read and checked at
        /// start. Unset, the report divides the region into a grid.
        coverage_areas: Option<PathBuf> = None,
            env "SIGNPOST_COVERAGE_AREAS", example "wards.geojson",
            check check_coverage_areas;
        /// The feature property that holds each area's name (ONS ward
        /// boundaries use e.g. `WD23NM`).
        coverage_area_name: String = "name".to_owned(),
            env "SIGNPOST_COVERAGE_AREA_NAME", example "WD23NM",
            check check_coverage_area_name;
    }
}

settings_section! {
    /// The web pages: the directory's map, how typed places are found, and
    /// which partner sites may embed a slice of it.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct WebSection in web {
        /// Map tile address with `{z}`, `{x}`, `{y}` (and optionally `{s}`),
        /// or empty for no map (the list of results always works).
        tile_url: String = "https://tile.openstreetmap.org/{z}/{x}/{y}.png".to_owned(),
            env "SIGNPOST_TILE_URL", example "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
            check check_tile_url;
        /// Credit shown on the map, as the tile server's terms ask (plain
        /// text, at most 256 characters).
        tile_attribution: String = "\u{a9} OpenStreetMap contributors".to_owned(),
            env "SIGNPOST_TILE_ATTRIBUTION", example "Tiles \u{a9} Example Maps",
            check check_tile_attribution;
        /// A postcodes.io-compatible service asked for places the directory
        /// does not already hold, e.g. `https://api.postcodes.io`; none by
        /// default, so no search leaves the server.
        geocoder_url: Option<String> = None,
            env "SIGNPOST_GEOCODER_URL", example "https://api.postcodes.io",
            check check_geocoder_url;
        /// Sites allowed to show the directory's embed (`/embed`) in an
        /// iframe, each an origin like `https://council.example.org` (no
        /// path); every other site, and every other page, is refused framing.
        embed_origins: Vec<String> = Vec::new(),
            env "SIGNPOST_EMBED_ORIGINS",
            example "https://council.example.org, http://partner.example.org:8080",
            check check_embed_origins;
        /// How people reach whoever runs this node to report a problem (an
        /// accessibility barrier, a wrong detail): an email address or a
        /// web page, shown on the accessibility statement (`/accessibility`).
        contact: Option<String> = None,
            env "SIGNPOST_CONTACT", example "directory@cvs.example.org",
            check check_contact;
    }
}

settings_section! {
    /// Limits every listener (the node's and the metrics one) puts on the
    /// connections it accepts, so slow or idle clients cannot use up the
    /// process's open files or tasks.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ServerSection in server {
        /// Connections served at once per listener; more are answered 503
        /// and closed at once. Keep it well below the process's open-file
        /// limit (`ulimit -n`, often 1024).
        max_connections: usize = 512,
            env "SIGNPOST_MAX_CONNECTIONS", example "2000", range(16, 100_000);
        /// Seconds a client has to send a request's head (its first line
        /// and headers) once it has opened a connection or started its next
        /// request.
        header_read_timeout_secs: u64 = 10,
            env "SIGNPOST_HEADER_READ_TIMEOUT_SECS", example "5", range(1, 300);
        /// Seconds the node waits for the next piece of a request body, or
        /// for the client to take the next piece of a response.
        body_timeout_secs: u64 = 10,
            env "SIGNPOST_BODY_TIMEOUT_SECS", example "30", range(1, 300);
        /// Seconds a request may take from its head to the start of the
        /// answer, body upload included; slower ones get 408.
        request_timeout_secs: u64 = 60,
            env "SIGNPOST_SERVER_REQUEST_TIMEOUT_SECS", example "120", range(1, 3600);
        /// Seconds a kept-alive connection may sit idle between requests.
        keep_alive_timeout_secs: u64 = 60,
            env "SIGNPOST_KEEP_ALIVE_TIMEOUT_SECS", example "15", range(1, 3600);
        /// Reverse proxies (addresses or networks) whose `X-Forwarded-For`
        /// is believed for the client's address, e.g. `["127.0.0.1", "::1"]`
        /// behind a local Caddy or nginx; empty, the header is ignored.
        trusted_proxies: Vec<TrustedProxy> = Vec::new(),
            env "SIGNPOST_TRUSTED_PROXIES", example "127.0.0.1, 172.28.0.0/24";
    }
}

/// An http or https address with a host name; `example` shows the form.
fn web_address(url: &str, example: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| format!("{url:?} is not a URL ({e}); write it like {example}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(format!(
            "{url:?} must be an http or https address with a host name"
        ));
    }
    Ok(())
}

fn check_public_url(url: &Option<String>) -> Result<(), String> {
    url.as_deref()
        .map_or(Ok(()), |u| web_address(u, "https://hub.example.org"))
}

/// An email address (something@somewhere, no spaces or markup) or an
/// http(s) web page.
fn check_contact(contact: &Option<String>) -> Result<(), String> {
    let Some(c) = contact.as_deref() else {
        return Ok(());
    };
    if c.contains("://") {
        return web_address(c, "https://cvs.example.org/contact");
    }
    let plain = c.len() <= 254
        && !c
            .chars()
            .any(|ch| ch.is_whitespace() || "<>\"'`()[]\\,;:".contains(ch));
    match c.split_once('@') {
        Some((user, domain)) if plain && !user.is_empty() && domain.contains('.') && !domain.contains('@') => Ok(()),
        _ => Err(format!(
            "{c:?} is neither an email address like directory@cvs.example.org nor a web address like https://cvs.example.org/contact"
        )),
    }
}

fn check_geocoder_url(url: &Option<String>) -> Result<(), String> {
    url.as_deref()
        .map_or(Ok(()), |u| web_address(u, "https://api.postcodes.io"))
}

// The declared checks take the setting's own type (`&String`, `&PathBuf`).
#[allow(clippy::ptr_arg)]
fn check_key_file(path: &PathBuf) -> Result<(), String> {
    if path.as_os_str().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(())
}

fn check_coverage_areas(path: &Option<PathBuf>) -> Result<(), String> {
    if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
        return Err("is empty; give a GeoJSON file's path or remove the setting".into());
    }
    Ok(())
}

#[allow(clippy::ptr_arg)]
fn check_coverage_area_name(name: &String) -> Result<(), String> {
    if name.is_empty() || name.len() > 100 {
        return Err(format!(
            "{name:?} must be a GeoJSON property name of 1 to 100 characters, like \"name\""
        ));
    }
    Ok(())
}

#[allow(clippy::ptr_arg)]
fn check_tile_url(tile_url: &String) -> Result<(), String> {
    if tile_url.is_empty() {
        return Ok(());
    }
    let web = super::WebSection {
        tile_url: tile_url.clone(),
        ..super::WebSection::default()
    };
    let ok = ["{z}", "{x}", "{y}"].iter().all(|p| tile_url.contains(p))
        && tile_url.len() <= 2048
        && (tile_url.starts_with("https://") || tile_url.starts_with("http://"))
        && !tile_url.contains(['"', '\'', ' ', ';', '<', '>'])
        && web.tile_origin().is_some();
    if !ok {
        return Err(format!(
            "{tile_url:?} must be an http(s) address with {{z}}, {{x}} and {{y}}, \
             like https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png (or \"\" for no map)"
        ));
    }
    Ok(())
}

#[allow(clippy::ptr_arg)]
fn check_tile_attribution(text: &String) -> Result<(), String> {
    if text.chars().count() > 256 {
        return Err("is longer than 256 characters".into());
    }
    Ok(())
}

/// Most origins `web.embed_origins` may list: each goes into every embed's
/// `Content-Security-Policy` header, which must stay small.
pub const MAX_EMBED_ORIGINS: usize = 50;

/// Checks the origins allowed to frame `/embed`: each written exactly as
/// it goes into the CSP's `frame-ancestors` (`http(s)://host[:port]`), so
/// nothing in it can widen the policy or add a directive.
#[allow(clippy::ptr_arg)]
fn check_embed_origins(origins: &Vec<String>) -> Result<(), String> {
    if origins.len() > MAX_EMBED_ORIGINS {
        return Err(format!(
            "lists {} origins; at most {MAX_EMBED_ORIGINS} may be listed",
            origins.len()
        ));
    }
    origins.iter().try_for_each(|o| embed_origin(o))
}

/// One origin of `web.embed_origins`, or why it is not one.
fn embed_origin(origin: &str) -> Result<(), String> {
    const FORM: &str = "an origin like https://council.example.org or http://127.0.0.1:8080";
    if origin.len() > 300 {
        return Err(format!(
            "entry of {} characters is too long for {FORM}",
            origin.len()
        ));
    }
    if let Some(c) = origin
        .chars()
        .find(|c| matches!(c, '\'' | '"' | ';' | ',' | '*') || c.is_whitespace())
    {
        return Err(format!(
            "entry {origin:?} contains {c:?}; write {FORM} (no wildcards, quotes, \
             separators or spaces)"
        ));
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err(format!("entry {origin:?} is not {FORM}"));
    };
    if !matches!(scheme, "http" | "https") {
        return Err(format!(
            "entry {origin:?} must start with http:// or https://"
        ));
    }
    if rest.contains('@') {
        return Err(format!(
            "entry {origin:?} holds a user name or password; write {FORM}"
        ));
    }
    if rest.contains(['/', '?', '#']) {
        return Err(format!(
            "entry {origin:?} has a path, query or fragment; an origin is only the \
             scheme, host and port, like {FORM} (no trailing /)"
        ));
    }
    if rest.starts_with('[') {
        return Err(format!(
            "entry {origin:?}: a Content-Security-Policy cannot name an IPv6 address; \
             use a host name"
        ));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !host_ok {
        return Err(format!(
            "entry {origin:?} has no valid host name (letters, digits, - and dots; \
             an international name in its xn-- form); write {FORM}"
        ));
    }
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |n| n == 0)) {
        return Err(format!(
            "entry {origin:?} has a port that is not a number from 1 to 65535"
        ));
    }
    url::Url::parse(origin)
        .map(|_| ())
        .map_err(|e| format!("entry {origin:?} is not {FORM} ({e})"))
}
