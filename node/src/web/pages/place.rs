//! Finding the place a person typed (a postcode, a postcode district, a
//! town, or `LAT,LON` from the browser's own location). First from what the
//! aggregator already holds: an exact postcode of a known location, else
//! the centre of the known locations in that postcode district or town.
//! Then, only if the operator configured one, a postcodes.io-compatible
//! geocoder. There are no built-in tables of places.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{NodeError, Result};
use signpost_client::directory::Directory;
use signpost_client::search::index::Place;
use signpost_client::search::parse_point;

/// Longest place text accepted.
pub const MAX_PLACE_CHARS: usize = 100;
/// Largest geocoder answer read.
const MAX_GEOCODER_BYTES: usize = 64 * 1024;

/// What a typed place looks like.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    /// Coordinates, `LAT,LON`.
    Point(f64, f64),
    /// A whole UK postcode, normalised (`FY37TN`).
    Postcode(String),
    /// A postcode district (`FY3`).
    District(String),
    /// Anything else: a town or city name.
    Town(String),
}

/// Where a typed place was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub lat: f64,
    pub lon: f64,
    /// How it was found, for the page ("the centre of FY3").
    pub how: String,
}

/// Sorts what was typed into one of the [`Typed`] kinds.
pub fn classify(text: &str) -> Typed {
    let text = text.trim();
    if let Ok((lat, lon)) = parse_point(text) {
        return Typed::Point(lat, lon);
    }
    let norm: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if is_district(&norm) {
        return Typed::District(norm);
    }
    if (5..=7).contains(&norm.len()) && norm.is_ascii() {
        let (outward, inward) = norm.split_at(norm.len() - 3);
        let b = inward.as_bytes();
        if is_district(outward)
            && b[0].is_ascii_digit()
            && b[1].is_ascii_alphabetic()
            && b[2].is_ascii_alphabetic()
        {
            return Typed::Postcode(norm);
        }
    }
    Typed::Town(text.to_owned())
}

/// A postcode's outward part: 2 to 4 letters and digits, starting with a
/// letter and holding a digit (`M1`, `FY3`, `SW1A`).
fn is_district(s: &str) -> bool {
    (2..=4).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_alphanumeric())
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().any(|c| c.is_ascii_digit())
}

fn centre(found: &[(f64, f64)]) -> Option<(f64, f64)> {
    if found.is_empty() {
        return None;
    }
    let n = found.len() as f64;
    let lat = found.iter().map(|p| p.0).sum::<f64>() / n;
    let lon = found.iter().map(|p| p.1).sum::<f64>() / n;
    Some((lat, lon))
}

/// Looks the place up in what the aggregator holds.
pub async fn from_store(directory: &Directory, typed: &Typed) -> Result<Option<Found>> {
    let found = |(lat, lon): (f64, f64), how: String| Some(Found { lat, lon, how });
    Ok(match typed {
        Typed::Point(lat, lon) => found((*lat, *lon), "the point you gave".into()),
        Typed::Postcode(pc) => {
            let pretty = format!("{} {}", &pc[..pc.len() - 3], &pc[pc.len() - 3..]);
            if let Some(p) = centre(
                &directory
                    .place_points(Place::Postcode(pretty.clone()))
                    .await?,
            ) {
                found(p, format!("postcode {pretty}"))
            } else {
                let district = &pc[..pc.len() - 3];
                centre(&directory.place_points(Place::District(district.to_owned())).await?).and_then(|p| {
                    found(
                        p,
                        format!("the middle of the {district} area (postcode {pretty} itself is not known here)"),
                    )
                })
            }
        }
        Typed::District(d) => centre(&directory.place_points(Place::District(d.clone())).await?)
            .and_then(|p| found(p, format!("the middle of the {d} area"))),
        Typed::Town(t) => centre(&directory.place_points(Place::Town(t.clone())).await?)
            .and_then(|p| found(p, format!("the middle of {t}"))),
    })
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
            Typed::Postcode(pc) => (
                format!("{base}/postcodes/{}", enc(pc)),
                format!("postcode {pc}"),
            ),
            Typed::District(d) => (
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
    fn typed_places_are_told_apart() {
        assert_eq!(classify(" fy3 7tn "), Typed::Postcode("FY37TN".into()));
        assert_eq!(classify("SW1A 1AA"), Typed::Postcode("SW1A1AA".into()));
        assert_eq!(classify("M1 1AE"), Typed::Postcode("M11AE".into()));
        assert_eq!(classify("fy3"), Typed::District("FY3".into()));
        assert_eq!(classify("53.8,-3.05"), Typed::Point(53.8, -3.05));
        assert_eq!(classify("Blackpool"), Typed::Town("Blackpool".into()));
        assert_eq!(classify("LS12"), Typed::District("LS12".into()));
        assert_eq!(centre(&[(1.0, 2.0), (3.0, 4.0)]), Some((2.0, 3.0)));
    }
}
