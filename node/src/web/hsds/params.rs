//! The query parameters of the Open Referral API and its paging, read and
//! capped before any SQL runs. Names and meanings are those of the vendored
//! ORUK 3.0 OpenAPI document (HSDS 3's for `/organizations`, which ORUK
//! does not define). Neither says what to do with a parameter it does not
//! name, so those are ignored; a named parameter with a bad value is a 400
//! in our `{"error": ...}` shape, as neither defines an error body.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use crate::web::ApiError;
use signpost_client::search::hsds::Filter;
use signpost_client::search::place::Postcode;
use signpost_client::search::{MAX_QUERY_CHARS, MAX_QUERY_WORDS, MAX_WITHIN_KM};

/// Page size when the client names none.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// Largest page served; a client asking for more gets this many (the
/// paging fields tell it how to go on).
pub const MAX_PER_PAGE: u32 = 100;
/// Deepest item reachable by paging, so a request cannot make SQLite skip
/// over an unbounded number of rows.
pub const MAX_OFFSET: u64 = 1_000_000;
/// Longest id accepted in a filter (UUIDs are 36 characters).
const MAX_ID_CHARS: usize = 100;

fn bad(name: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid",
        format!("{name}: {message}"),
    )
}

/// The query string's values that are not blank.
fn get<'a>(q: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Which page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// 1-based page number.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
}

impl Paging {
    /// Reads `page` and `per_page`.
    pub fn from_query(q: &HashMap<String, String>) -> Result<Paging, ApiError> {
        let whole = |name: &str, default: u32| -> Result<u32, ApiError> {
            match get(q, name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| bad(name, format!("{v:?} is not a whole number from 1 up"))),
            }
        };
        let page = whole("page", 1)?;
        let per_page = whole("per_page", DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE);
        if u64::from(page - 1) * u64::from(per_page) > MAX_OFFSET {
            return Err(bad(
                "page",
                format!("items beyond the first {MAX_OFFSET} are not served"),
            ));
        }
        Ok(Paging { page, per_page })
    }

    /// How many items to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    /// The last page number [`Paging::from_query`] serves at this page
    /// size: pages past it would start beyond [`MAX_OFFSET`] and answer 400.
    pub fn last_servable_page(&self) -> u64 {
        MAX_OFFSET / u64::from(self.per_page) + 1
    }

    /// The page object around `contents`. `total_pages` never counts a page
    /// that would answer 400, so a client (the ORUK validator fetches the
    /// last page) can always fetch page `total_pages`; `total_items` still
    /// says how many items match.
    pub fn page(&self, total: u64, contents: Vec<Value>) -> Page {
        let total_pages = total
            .div_ceil(u64::from(self.per_page))
            .min(self.last_servable_page());
        Page {
            total_items: total,
            total_pages,
            page_number: self.page,
            size: contents.len(),
            first_page: self.page == 1,
            last_page: u64::from(self.page) >= total_pages,
            empty: contents.is_empty(),
            contents,
        }
    }
}

/// A page of a list, with the paging fields of the ORUK `Page` schema.
#[derive(Debug, Serialize)]
pub struct Page {
    /// How many items the whole list has.
    pub total_items: u64,
    /// How many pages it takes at this page size.
    pub total_pages: u64,
    /// This page's number (from 1).
    pub page_number: u32,
    /// How many items are on this page.
    pub size: usize,
    /// True on page 1.
    pub first_page: bool,
    /// True on the last page (and past it).
    pub last_page: bool,
    /// True when this page has no items.
    pub empty: bool,
    /// The items.
    pub contents: Vec<Value>,
}

/// A `true`/`false` parameter.
pub fn flag(q: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match get(q, name).map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(bad(name, format!("{v:?} is not true or false"))),
    }
}

/// An id parameter (capped in length).
pub fn id(q: &HashMap<String, String>, name: &str) -> Result<Option<String>, ApiError> {
    match get(q, name) {
        Some(v) if v.chars().count() > MAX_ID_CHARS => Err(bad(
            name,
            format!("is longer than {MAX_ID_CHARS} characters"),
        )),
        other => Ok(other.map(|v| v.to_ascii_lowercase())),
    }
}

/// The `search` parameter, capped; `Ok(None)` when absent.
pub fn search_text(q: &HashMap<String, String>) -> Result<Option<String>, ApiError> {
    match get(q, "search") {
        Some(v) if v.chars().count() > MAX_QUERY_CHARS => Err(bad(
            "search",
            format!("is longer than {MAX_QUERY_CHARS} characters"),
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

/// `format`: only `json` is served. ORUK and HSDS also name `ndjson`
/// (every result, unpaged, as one stream); a directory of a million
/// services cannot promise that in one answer, so it is refused with a 400
/// that says how to page instead, never silently answered as JSON.
pub fn format_json(q: &HashMap<String, String>) -> Result<(), ApiError> {
    match get(q, "format") {
        None => Ok(()),
        Some(f) if f.eq_ignore_ascii_case("json") => Ok(()),
        Some(f) => Err(bad(
            "format",
            format!(
                "{f:?} is not served; only json is, in pages of up to {MAX_PER_PAGE} \
                 (use page and per_page)"
            ),
        )),
    }
}

fn minutes(name: &str, value: &str) -> Result<u16, ApiError> {
    let t = signpost_spec::parse_time(value).map_err(|reason| bad(name, reason))?;
    Ok(t.hour() as u16 * 60 + t.minute() as u16)
}

fn weekday(value: &str) -> Result<u8, ApiError> {
    const DAYS: [(&str, &str); 7] = [
        ("MO", "MONDAY"),
        ("TU", "TUESDAY"),
        ("WE", "WEDNESDAY"),
        ("TH", "THURSDAY"),
        ("FR", "FRIDAY"),
        ("SA", "SATURDAY"),
        ("SU", "SUNDAY"),
    ];
    let upper = value.to_ascii_uppercase();
    DAYS.iter()
        .position(|(code, name)| upper == *code || upper == *name)
        .map(|i| i as u8)
        .ok_or_else(|| bad("day", format!("{value:?} is not a day like MO or Monday")))
}

fn age(q: &HashMap<String, String>, name: &str) -> Result<Option<f64>, ApiError> {
    get(q, name)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && (0.0..=200.0).contains(n))
                .ok_or_else(|| bad(name, format!("{v:?} is not an age in years")))
        })
        .transpose()
}

/// The filters of `/services` and `/service_at_locations`: `search`,
/// `taxonomy_term_id`, `taxonomy_id`, `organization_id` (HSDS),
/// `minimum_age`, `maximum_age`, `start_time`, `end_time`, `day`, and with
/// `locations`, `postcode` and `proximity` (metres).
///
/// Ages keep ORUK's meaning: `minimum_age=X` finds services whose own
/// minimum age is at least X, `maximum_age=Y` those whose maximum age is at
/// most Y; a service that names no such age matches neither.
pub fn filter(q: &HashMap<String, String>, locations: bool) -> Result<Filter, ApiError> {
    let mut f = Filter::default();
    if let Some(text) = search_text(q)? {
        if signpost_client::search::text::query_terms(&text, MAX_QUERY_WORDS).is_empty() {
            f.nothing = true;
        } else {
            f.text = Some(text);
        }
    }
    f.taxonomy_term_id = id(q, "taxonomy_term_id")?;
    f.taxonomy_id = id(q, "taxonomy_id")?;
    f.organization_id = id(q, "organization_id")?;
    // Ages are held in whole years: "at least 12.5" is "at least 13".
    f.minimum_age_at_least = age(q, "minimum_age")?.map(|a| a.ceil() as u64);
    f.maximum_age_at_most = age(q, "maximum_age")?.map(|a| a.floor() as u64);
    f.opens_from_min = get(q, "start_time")
        .map(|v| minutes("start_time", v))
        .transpose()?;
    f.closes_by_min = get(q, "end_time")
        .map(|v| minutes("end_time", v))
        .transpose()?;
    f.weekday = get(q, "day").map(weekday).transpose()?;
    if locations {
        f.postcode = get(q, "postcode")
            .map(|p| {
                Postcode::parse(p).ok_or_else(|| {
                    bad(
                        "postcode",
                        format!("{p:?} is not a postcode like FY1 6JH or FY1"),
                    )
                })
            })
            .transpose()?;
        f.within_km = get(q, "proximity")
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|m| *m > 0.0 && *m <= MAX_WITHIN_KM * 1000.0)
                    .map(|m| m / 1000.0)
                    .ok_or_else(|| {
                        bad(
                            "proximity",
                            format!(
                                "must be metres, more than 0 and at most {}",
                                MAX_WITHIN_KM * 1000.0
                            ),
                        )
                    })
            })
            .transpose()?;
        if f.within_km.is_some() && f.postcode.is_none() {
            return Err(bad(
                "proximity",
                "needs postcode (the distance is from its centroid)",
            ));
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn paging_is_capped_and_described() {
        let p = Paging::from_query(&q(&[("per_page", "1000"), ("page", "2")])).unwrap();
        assert_eq!((p.page, p.per_page, p.offset()), (2, MAX_PER_PAGE, 100));
        assert!(Paging::from_query(&q(&[("page", "0")])).is_err());
        assert!(Paging::from_query(&q(&[("page", "x")])).is_err());
        assert!(Paging::from_query(&q(&[("page", "4000000")])).is_err());
        let page = Paging {
            page: 3,
            per_page: 2,
        }
        .page(5, vec![Value::Null]);
        assert_eq!(page.total_pages, 3);
        assert!(page.last_page && !page.first_page && !page.empty);
        assert_eq!(page.size, 1);
        // The last page counted is the last page served, at any size.
        for per_page in [1, 3, 7, DEFAULT_PER_PAGE, MAX_PER_PAGE] {
            let p = Paging { page: 1, per_page }.page(u64::MAX / 2, vec![]);
            let size = per_page.to_string();
            let last = p.total_pages.to_string();
            let at_last = q(&[("page", last.as_str()), ("per_page", size.as_str())]);
            assert!(Paging::from_query(&at_last).is_ok(), "per_page {per_page}");
            let next = (p.total_pages + 1).to_string();
            let past = q(&[("page", next.as_str()), ("per_page", size.as_str())]);
            assert!(Paging::from_query(&past).is_err(), "per_page {per_page}");
        }
        let none = Paging {
            page: 1,
            per_page: 2,
        }
        .page(0, vec![]);
        assert!(none.first_page && none.last_page && none.empty);
    }

    #[test]
    fn filters_are_checked() {
        let f = filter(
            &q(&[
                ("day", "monday"),
                ("start_time", "09:00"),
                ("end_time", "17:30:00"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(
            (f.weekday, f.opens_from_min, f.closes_by_min),
            (Some(0), Some(540), Some(1050))
        );
        let ages = filter(&q(&[("minimum_age", "12.5"), ("maximum_age", "25")]), false).unwrap();
        assert_eq!(
            (ages.minimum_age_at_least, ages.maximum_age_at_most),
            (Some(13), Some(25))
        );
        assert!(filter(&q(&[("minimum_age", "old")]), false).is_err());
        assert!(filter(&q(&[("day", "someday")]), false).is_err());
        assert!(filter(&q(&[("proximity", "500")]), true).is_err());
        let f = filter(&q(&[("postcode", "fy16jh"), ("proximity", "1500")]), true).unwrap();
        assert_eq!(f.within_km, Some(1.5));
        assert!(filter(&q(&[("postcode", "??")]), true).is_err());
        assert!(filter(&q(&[("search", "--")]), false).unwrap().nothing);
        assert!(
            filter(&q(&[("colour", "red")]), false).is_ok(),
            "unknown names are ignored"
        );
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        assert!(filter(&q(&[("search", long.as_str())]), false).is_err());
        assert!(flag(&q(&[("full", "yes")]), "full").is_err());
        assert!(format_json(&q(&[("format", "ndjson")])).is_err());
    }
}
