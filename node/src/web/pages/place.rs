//! Finding the place a person typed in the directory's "near" box: the
//! library reads what was typed and finds its centre from what the
//! aggregator holds ([`signpost_client::search::place`], the same reader
//! and finder as the Open Referral `postcode` filter); this module words
//! the answer for the page and, only if the operator configured one, asks
//! a postcodes.io-compatible geocoder about places nothing held is at.
//! There are no built-in tables of places.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{NodeError, Result};
use signpost_client::directory::Directory;
use signpost_client::search::place::{Centre, FoundBy, Postcode, Typed};

/// Longest place text accepted.
pub const MAX_PLACE_CHARS: usize = 100;
/// Largest geocoder answer read.
const MAX_GEOCODER_BYTES: usize = 64 * 1024;

/// Where a typed place was found, as the page says it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Latitude, degrees: the search's `near`.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// How it was found, for the page ("the middle of the FY3 area").
    pub how: String,
}

/// Looks the place up in what the aggregator holds, worded for the page.
pub async fn from_store(directory: &Directory, typed: &Typed) -> Result<Option<Found>> {
    Ok(directory.place_centre(typed.clone()).await?.map(worded))
}

/// Says how a centre was found, in the page's words.
fn worded(centre: Centre) -> Found {
    let how = match centre.by {
        FoundBy::Point => "the point you gave".to_owned(),
        FoundBy::Postcode(p) => format!("postcode {p}"),
        FoundBy::District {
            district,
            instead_of: None,
        } => format!("the middle of the {district} area"),
        FoundBy::District {
            district,
            instead_of: Some(p),
        } => format!("the middle of the {district} area (postcode {p} itself is not known here)"),
        FoundBy::Town(t) => format!("the middle of {t}"),
    };
    Found {
        lat: centre.lat,
        lon: centre.lon,
        how,
    }
}

/// How long a geocoder's answer is kept: a place found (places do not
/// move), a place it does not know, and a failure (so an outage is not
/// asked about on every search, nor remembered for long).
const KEEP_FOUND: Duration = Duration::from_secs(24 * 3600);
const KEEP_UNKNOWN: Duration = Duration::from_secs(3600);
const KEEP_FAILED: Duration = Duration::from_secs(60);
/// Most answers kept.
const GEOCODER_CACHE_ENTRIES: usize = 10_000;

/// A postcodes.io-compatible geocoder (`web.geocoder_url`), asked through
/// one HTTP client made at start, with its answers cached, misses too:
/// every search for a place the directory does not hold used to build a
/// new client and ask again, so a stranger repeating one search made the
/// node ask the geocoder (a third party) as often.
#[derive(Debug)]
pub struct Geocoder {
    base: String,
    client: reqwest::Client,
    cache: Mutex<HashMap<String, (Option<Found>, Instant)>>,
}

impl Geocoder {
    /// The geocoder at `base` (the operator's setting, not a stranger's:
    /// it may be a local service, so the crawler's guard does not apply).
    pub fn new(base: &str) -> Result<Geocoder> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "signpost-node/",
                env!("CARGO_PKG_VERSION"),
                " (directory)"
            ))
            .build()
            .map_err(|e| NodeError::Setup(format!("the geocoder's HTTP client: {e}")))?;
        Ok(Geocoder {
            base: base.trim_end_matches('/').to_owned(),
            client,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Asks the geocoder (`/postcodes/{pc}`, `/outcodes/{district}`,
    /// `/places?q=`), or answers from the cache; any failure is "not found".
    pub async fn find(&self, typed: &Typed) -> Option<Found> {
        let base = &self.base;
        let enc = |s: &str| super::view::path_part(s);
        let (url, how) = match typed {
            Typed::Point(..) => return None,
            Typed::Postcode(pc @ Postcode::Full(_)) => (
                format!("{base}/postcodes/{}", enc(&pc.compact())),
                format!("postcode {pc}"),
            ),
            Typed::Postcode(Postcode::District(d)) => (
                format!("{base}/outcodes/{}", enc(d)),
                format!("the {d} area"),
            ),
            Typed::Town(t) => (
                format!(
                    "{base}/places?limit=1&q={}",
                    url::form_urlencoded::byte_serialize(t.to_lowercase().as_bytes())
                        .collect::<String>()
                ),
                t.clone(),
            ),
        };
        if let Some(known) = self.cached(&url) {
            return known;
        }
        let (found, keep) = match self.ask(&url).await {
            Ok(Some((lat, lon))) => (
                Some(Found {
                    lat,
                    lon,
                    how: format!("{how} (from the geocoder)"),
                }),
                KEEP_FOUND,
            ),
            Ok(None) => (None, KEEP_UNKNOWN),
            Err(()) => (None, KEEP_FAILED),
        };
        self.remember(url, found.clone(), keep);
        found
    }

    fn cached(&self, url: &str) -> Option<Option<Found>> {
        let cache = self.cache.lock().ok()?;
        let (found, until) = cache.get(url)?;
        (*until > Instant::now()).then(|| found.clone())
    }

    fn remember(&self, url: String, found: Option<Found>, keep: Duration) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        let now = Instant::now();
        if cache.len() >= GEOCODER_CACHE_ENTRIES {
            cache.retain(|_, (_, until)| *until > now);
        }
        if cache.len() >= GEOCODER_CACHE_ENTRIES {
            // Full of live answers: drop those that end soonest.
            let mut ends: Vec<Instant> = cache.values().map(|(_, until)| *until).collect();
            ends.sort_unstable();
            let cut = ends[ends.len() / 4];
            cache.retain(|_, (_, until)| *until > cut);
        }
        cache.insert(url, (found, now + keep));
    }

    /// One request: the coordinates, None when the geocoder does not know
    /// the place, `Err` when it could not be asked or answered badly.
    async fn ask(&self, url: &str) -> std::result::Result<Option<(f64, f64)>, ()> {
        let mut response = self.client.get(url).send().await.map_err(|_| ())?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| ())? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_GEOCODER_BYTES {
                return Err(());
            }
        }
        let answer: Value = serde_json::from_slice(&body).map_err(|_| ())?;
        let result = match &answer["result"] {
            Value::Array(list) => match list.first() {
                Some(first) => first.clone(),
                None => return Ok(None),
            },
            other => other.clone(),
        };
        let (Some(lat), Some(lon)) = (result["latitude"].as_f64(), result["longitude"].as_f64())
        else {
            return Ok(None);
        };
        Ok(
            ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
                .then_some((lat, lon)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centres_are_worded_for_the_page() {
        let how = |by| {
            worded(Centre {
                lat: 1.0,
                lon: 2.0,
                by,
            })
            .how
        };
        assert_eq!(how(FoundBy::Postcode("FY3 7TN".into())), "postcode FY3 7TN");
        assert_eq!(
            how(FoundBy::District {
                district: "FY3".into(),
                instead_of: Some("FY3 9ZZ".into())
            }),
            "the middle of the FY3 area (postcode FY3 9ZZ itself is not known here)"
        );
        assert_eq!(
            how(FoundBy::Town("Morecambe".into())),
            "the middle of Morecambe"
        );
    }
}
