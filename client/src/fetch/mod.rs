//! One guarded HTTP fetch of a listing: the SSRF guard on every address and
//! redirect, connect and whole-response timeouts, a conditional GET, a JSON
//! content type, and a body cap enforced while the bytes arrive.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::redirect;
use reqwest::StatusCode;
use url::Url;

pub mod politeness;
pub mod ssrf;

pub use politeness::{backoff_secs, random_u32, Politeness, Turn};
use ssrf::GuardedResolver;

/// Where hubs serve their listing, relative to their base address.
pub const WELL_KNOWN_PATH: &str = "/.well-known/signpost/listing";

/// Longest address accepted as a source.
pub const MAX_SOURCE_URL: usize = 2048;

/// The listing URL for what an operator or a hub typed: a bare base
/// address (`https://hub.example.org`) gets the well-known path; anything
/// with a path is used as it is.
pub fn listing_url(input: &str) -> std::result::Result<Url, String> {
    let input = input.trim();
    if input.len() > MAX_SOURCE_URL {
        return Err(format!(
            "the address is longer than {MAX_SOURCE_URL} characters"
        ));
    }
    let mut url = Url::parse(input).map_err(|e| {
        format!("{input:?} is not a web address ({e}); write it like https://hub.example.org")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "{input:?} must be an http or https address with a host"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the address must not contain a user name or password".into());
    }
    url.set_fragment(None);
    if url.path() == "/" || url.path().is_empty() {
        url.set_path(WELL_KNOWN_PATH);
    }
    Ok(url)
}

/// Most redirects followed before a fetch is abandoned.
pub const MAX_REDIRECTS: usize = 3;

/// Settings of a [`Fetcher`].
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for the whole exchange, body included.
    pub total_timeout: Duration,
    /// Let the crawler reach loopback and private addresses.
    pub allow_private: bool,
    /// Private addresses reachable anyway (named intranet hubs).
    pub allowed_addresses: Vec<std::net::IpAddr>,
}

/// What the hub said last time, for a conditional GET.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    /// The `ETag` of the last body we accepted.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last body we accepted.
    pub last_modified: Option<String>,
}

/// Request header of an aggregator's crawl: the URL (its own
/// `/v1/notify`, naming the source crawled) where the hub may POST when
/// its listing changes, so the aggregator crawls it soon instead of at its
/// next scheduled crawl.
pub const NOTIFY_HEADER: &str = "signpost-notify";

/// The result of a successful fetch.
#[derive(Debug)]
pub enum Fetched {
    /// 304: the hub's listing is the one we have.
    NotModified,
    /// A new body, with the validators to send next time.
    Body {
        /// The raw bytes, at most `max_bytes` long.
        bytes: Vec<u8>,
        /// Validators for the next conditional GET.
        validators: Validators,
        /// An aggregator's feed page answered to `wait=`: the seconds it
        /// allowed ([`signpost_spec::feed::WAIT_HEADER`]); None from anything
        /// that does not support waiting.
        feed_wait: Option<u32>,
    },
}

/// Why a fetch failed: a stable code (shown in hub health and metrics) and
/// a message for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    /// One of `refused_address`, `too_many_redirects`, `connect_failed`,
    /// `timeout`, `http_status`, `not_found`, `too_large`, `not_json`,
    /// `read_failed`, `bad_url`.
    pub code: &'static str,
    /// What happened, naming the URL or limit involved.
    pub message: String,
}

impl FetchError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        FetchError {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// What a stranger who asked for a fetch (`POST /v1/register`) is told
/// for each [`FetchError::code`]: a fixed hint, with nothing learnt from
/// the network (no address, resolver answer, port state or status line).
pub fn public_message(code: &str) -> &'static str {
    match code {
        "refused_address" => {
            "this directory only fetches listings from public internet addresses"
        }
        "bad_url" => "the address cannot be fetched: use http:// or https:// and a host name",
        "too_many_redirects" => "the address redirected too many times or to an address this directory does not fetch",
        "connect_failed" | "timeout" | "read_failed" => {
            "the hub could not be reached or did not finish answering; check the address and that the hub is online"
        }
        "not_found" | "http_status" | "not_json" => {
            "the address did not answer with a listing; give the hub's base address or its listing's full address"
        }
        "too_large" => "the listing is larger than this directory accepts",
        _ => "the listing could not be fetched",
    }
}

/// The fetchers one directory uses: listings and feed pages, each with its
/// own body cap, and the politeness they share (a feed and the hubs it
/// names are often on the same host).
pub struct Fetchers {
    /// Fetches hubs' listings.
    pub listing: Fetcher,
    /// Fetches other aggregators' feed pages.
    pub feed: Fetcher,
    /// Fetches in flight, and one at a time per host.
    pub politeness: Politeness,
}

impl Fetchers {
    /// Fetchers of `listing` settings, feed pages of up to
    /// `max_feed_page_bytes`, at most `max_concurrent` fetches at once.
    pub fn new(
        listing: FetchSettings,
        max_feed_page_bytes: usize,
        max_concurrent: usize,
    ) -> crate::error::Result<Fetchers> {
        let feed = FetchSettings {
            max_bytes: max_feed_page_bytes,
            ..listing.clone()
        };
        let setup = |e: FetchError| crate::error::Error::Setup(e.to_string());
        Ok(Fetchers {
            listing: Fetcher::new(listing).map_err(setup)?,
            feed: Fetcher::new(feed).map_err(setup)?,
            politeness: Politeness::new(max_concurrent),
        })
    }
}

/// A reusable HTTP client that applies every crawl rule.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    settings: Arc<FetchSettings>,
    addresses: Arc<ssrf::AddressPolicy>,
}

impl Fetcher {
    /// Builds the client; fails only if TLS cannot be set up.
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        let addresses = Arc::new(ssrf::AddressPolicy {
            allow_private: settings.allow_private,
            allowed: settings.allowed_addresses.clone(),
        });
        let for_redirects = addresses.clone();
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match ssrf::check_url(attempt.url(), &for_redirects) {
                Ok(()) => attempt.follow(),
                Err(reason) => {
                    let target = attempt.url().to_string();
                    attempt.error(format!("redirect to {target}: {reason}"))
                }
            }
        });
        let mut defaults = HeaderMap::new();
        defaults.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.signpost.listing+json, application/json"),
        );
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "signpost-node/",
                env!("CARGO_PKG_VERSION"),
                " (aggregator)"
            ))
            .default_headers(defaults)
            .dns_resolver(Arc::new(GuardedResolver {
                policy: addresses.clone(),
            }))
            .redirect(policy)
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.total_timeout)
            .no_proxy()
            .pool_max_idle_per_host(2)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| FetchError::new("connect_failed", format!("HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            settings: Arc::new(settings),
            addresses,
        })
    }

    /// The largest body this fetcher accepts.
    pub fn max_bytes(&self) -> usize {
        self.settings.max_bytes
    }

    /// Fetches `url`, conditionally when `validators` are given.
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        self.fetch_notifying(url, validators, None).await
    }

    /// Like [`Self::fetch`], telling a hub where to nudge this aggregator
    /// when its listing changes ([`NOTIFY_HEADER`]).
    pub async fn fetch_notifying(
        &self,
        url: &Url,
        validators: &Validators,
        notify: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        ssrf::check_url(url, &self.addresses)
            .map_err(|m| FetchError::new(classify_refusal(&m), m))?;
        // reqwest's own timeout covers the body too; this outer bound also
        // covers anything reqwest does not (a resolver that never answers).
        let budget = self.settings.total_timeout + Duration::from_millis(250);
        match tokio::time::timeout(budget, self.fetch_inner(url, validators, notify)).await {
            Ok(result) => result,
            Err(_) => Err(timeout_error(url, budget)),
        }
    }

    /// POSTs an empty nudge to `url` (a hub telling an aggregator that its
    /// listing changed), through the same address guard, and gives the
    /// status. Best effort: the body of the answer is not read.
    pub async fn nudge(&self, url: &Url) -> Result<reqwest::StatusCode, FetchError> {
        ssrf::check_url(url, &self.addresses)
            .map_err(|m| FetchError::new(classify_refusal(&m), m))?;
        let budget = self.settings.total_timeout + Duration::from_millis(250);
        match tokio::time::timeout(budget, self.client.post(url.clone()).send()).await {
            Ok(Ok(response)) => Ok(response.status()),
            Ok(Err(e)) => Err(from_reqwest(url, &e)),
            Err(_) => Err(timeout_error(url, budget)),
        }
    }

    async fn fetch_inner(
        &self,
        url: &Url,
        validators: &Validators,
        notify: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let mut request = self.client.get(url.clone());
        if let Some(notify) = notify {
            request = request.header(NOTIFY_HEADER, notify);
        }
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
        let mut response = request.send().await.map_err(|e| from_reqwest(url, &e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Err(FetchError::new(
                "not_found",
                format!("{url} answered {status}: no listing there"),
            ));
        }
        if !status.is_success() {
            return Err(FetchError::new(
                "http_status",
                format!("{url} answered {status}"),
            ));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !is_json_media_type(&content_type) {
            return Err(FetchError::new(
                "not_json",
                format!(
                    "{url} sent {:?}, not JSON; is this the hub's listing address?",
                    if content_type.is_empty() {
                        "no content type"
                    } else {
                        &content_type
                    }
                ),
            ));
        }
        let max = self.settings.max_bytes;
        if let Some(length) = response.content_length() {
            if length > max as u64 {
                return Err(too_large(url, max));
            }
        }
        let header_text = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let next = Validators {
            etag: header_text(header::ETAG),
            last_modified: header_text(header::LAST_MODIFIED),
        };
        let feed_wait = response
            .headers()
            .get(signpost_spec::feed::WAIT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        let mut bytes = Vec::with_capacity(
            response
                .content_length()
                .map_or(16 * 1024, |l| l as usize)
                .min(max),
        );
        while let Some(chunk) = response.chunk().await.map_err(|e| from_reqwest(url, &e))? {
            if bytes.len() + chunk.len() > max {
                return Err(too_large(url, max));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body {
            bytes,
            validators: next,
            feed_wait,
        })
    }
}

/// `application/json` or any `application/…+json`, parameters ignored.
fn is_json_media_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn too_large(url: &Url, max: usize) -> FetchError {
    FetchError::new(
        "too_large",
        format!("{url} sent more than {max} bytes (aggregator.max_listing_bytes)"),
    )
}

fn timeout_error(url: &Url, limit: Duration) -> FetchError {
    FetchError::new(
        "timeout",
        format!(
            "{url} did not finish answering within {} s",
            limit.as_secs_f32().round()
        ),
    )
}

fn classify_refusal(message: &str) -> &'static str {
    if message.contains(ssrf::REFUSED_MARKER) {
        "refused_address"
    } else {
        "bad_url"
    }
}

/// Turns reqwest's error into our codes, looking through its cause chain
/// for the guard's refusal and the redirect limit.
fn from_reqwest(url: &Url, error: &reqwest::Error) -> FetchError {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        if !chain.is_empty() {
            chain.push_str(": ");
        }
        chain.push_str(&e.to_string());
        source = e.source();
    }
    let code = if chain.contains(ssrf::REFUSED_MARKER) {
        "refused_address"
    } else if chain.contains("redirects") {
        "too_many_redirects"
    } else if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect_failed"
    } else if error.is_redirect() {
        "too_many_redirects"
    } else {
        "read_failed"
    };
    FetchError::new(code, format!("{url}: {chain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hub's nudge goes where a stranger's header says: the guard
    /// decides before any packet is sent (literal private and loopback
    /// addresses are refused without a connection being tried).
    #[tokio::test]
    async fn a_nudge_to_a_private_address_is_refused_before_sending() {
        let fetcher = Fetcher::new(FetchSettings {
            max_bytes: 1024,
            connect_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_secs(1),
            allow_private: false,
            allowed_addresses: Vec::new(),
        })
        .expect("a client");
        for url in [
            "http://10.0.0.1/v1/notify?source=x",
            "http://127.0.0.1:9/v1/notify?source=x",
            "http://[::1]:9/v1/notify",
        ] {
            let url = Url::parse(url).expect("a URL");
            let refused = fetcher.nudge(&url).await.expect_err("refused");
            assert_eq!(
                refused.code, "refused_address",
                "{url}: {}",
                refused.message
            );
        }
    }

    #[test]
    fn base_addresses_get_the_well_known_path() {
        assert_eq!(
            listing_url("https://hub.example.org").unwrap().as_str(),
            "https://hub.example.org/.well-known/signpost/listing"
        );
        assert_eq!(
            listing_url(" http://127.0.0.1:8080/ ").unwrap().as_str(),
            "http://127.0.0.1:8080/.well-known/signpost/listing"
        );
        assert_eq!(
            listing_url("https://x.org/custom/listing.json#frag")
                .unwrap()
                .as_str(),
            "https://x.org/custom/listing.json"
        );
        assert!(listing_url("ftp://x.org").is_err());
        assert!(listing_url("not a url").is_err());
        assert!(listing_url("https://a:b@x.org/").is_err());
    }

    #[test]
    fn public_messages_carry_nothing_from_the_network() {
        for code in [
            "refused_address",
            "too_many_redirects",
            "connect_failed",
            "timeout",
            "http_status",
            "not_found",
            "too_large",
            "not_json",
            "read_failed",
            "bad_url",
            "anything else",
        ] {
            let message = public_message(code);
            assert!(!message.is_empty() && !message.contains('{'), "{code}");
        }
    }

    #[test]
    fn json_media_types() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("application/json; charset=utf-8"));
        assert!(is_json_media_type("application/vnd.signpost.listing+json"));
        assert!(!is_json_media_type("text/html; charset=utf-8"));
        assert!(!is_json_media_type(""));
        assert!(!is_json_media_type("text/json+html"));
    }
}
