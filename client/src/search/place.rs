//! Where a typed place is: the one reader of what people type for a place
//! (a point, a whole UK postcode, a postcode district or a town) and the
//! one finder of its centre from what the directory holds.
//!
//! Everything that reads a postcode reads it here: the directory pages'
//! "near" box, the Open Referral `postcode` and `proximity` filter, and the
//! index when it files a location's postcode. So a postcode one of them
//! accepts, the others file and find the same way, and a page and the API
//! asked about one postcode answer from the same centre (there used to be
//! two readers, a strict one for the pages and a loose one for the API and
//! the index, and two centre finders, one of which left hubs out).
//!
//! It lives in `search` because finding a place is a question asked of the
//! index (locations are filed there by postcode, district and town), with
//! the store's rows beside it for hubs' own addresses, the same pairing a
//! search page makes. There are no built-in tables of places: a place is
//! known when something held is there; a geocoder, if any, is the node's.

use std::fmt;

use rusqlite::Connection;

use super::index::{Place, SearchIndex};
use super::parse_point;
use crate::error::Result;
use crate::store::directory::{hub_points, HubPlace};

/// A UK postcode as typed, read for matching: kept in one normalised
/// spelling so that the index, the API and the pages compare like with
/// like whatever spacing or case was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Postcode {
    /// A whole postcode, written `FY1 6JH` (outward part, one space,
    /// inward part, capitals), as the index files it.
    Full(String),
    /// Only its outward part (the district), like `FY1` or `SW1A`.
    District(String),
}

impl Postcode {
    /// Reads a postcode in any spacing or case (`fy16jh`, ` FY1  6JH `,
    /// `fy1`); None when it is not shaped like a UK postcode or district,
    /// so a town name, a typo or hostile text is never taken for one.
    pub fn parse(text: &str) -> Option<Postcode> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        // Only ASCII from here, so the byte offsets below are characters.
        if !compact.is_ascii() {
            return None;
        }
        if is_district(&compact) {
            return Some(Postcode::District(compact));
        }
        if !(5..=7).contains(&compact.len()) {
            return None;
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        match inward.as_bytes() {
            [digit, a, b]
                if is_district(outward)
                    && digit.is_ascii_digit()
                    && a.is_ascii_alphabetic()
                    && b.is_ascii_alphabetic() =>
            {
                Some(Postcode::Full(format!("{outward} {inward}")))
            }
            _ => None,
        }
    }

    /// The district (outward part): where a whole postcode nothing held
    /// is at falls back to.
    pub fn district(&self) -> &str {
        match self {
            Postcode::Full(p) => p.split_once(' ').map_or(p.as_str(), |(outward, _)| outward),
            Postcode::District(d) => d,
        }
    }

    /// Without its space (`FY16JH`, `FY1`): the form geocoders are asked
    /// for and hubs' addresses are compared in.
    pub fn compact(&self) -> String {
        match self {
            Postcode::Full(p) => p.replace(' ', ""),
            Postcode::District(d) => d.clone(),
        }
    }

    /// The place the index and the store look this postcode up as.
    fn place(&self) -> Place {
        match self {
            Postcode::Full(p) => Place::Postcode(p.clone()),
            Postcode::District(d) => Place::District(d.clone()),
        }
    }
}

impl fmt::Display for Postcode {
    /// The normalised spelling (`FY1 6JH`, `FY1`), for people to read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Postcode::Full(p) | Postcode::District(p) => f.write_str(p),
        }
    }
}

/// A postcode's outward part: 2 to 4 letters and digits, starting with a
/// letter and holding a digit (`M1`, `FY3`, `SW1A`), so a short word is
/// not taken for one.
fn is_district(s: &str) -> bool {
    (2..=4).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_alphanumeric())
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().any(|c| c.is_ascii_digit())
}

/// What someone typed for a place, sorted by what it looks like, so each
/// kind is looked up the way it can be found.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    /// Coordinates, `LAT,LON` (the browser's own location).
    Point(f64, f64),
    /// A whole postcode or a district.
    Postcode(Postcode),
    /// Anything else: a town or city name, trimmed.
    Town(String),
}

impl Typed {
    /// Sorts what was typed: a point, else a postcode or district, else a
    /// town.
    pub fn read(text: &str) -> Typed {
        let text = text.trim();
        if let Ok((lat, lon)) = parse_point(text) {
            return Typed::Point(lat, lon);
        }
        match Postcode::parse(text) {
            Some(postcode) => Typed::Postcode(postcode),
            None => Typed::Town(text.to_owned()),
        }
    }
}

/// How a centre was found, so a page can say what it measured from.
#[derive(Debug, Clone, PartialEq)]
pub enum FoundBy {
    /// The point given.
    Point,
    /// Places held at the whole postcode (`FY1 6JH`).
    Postcode(String),
    /// Places held in the district; `instead_of` is the whole postcode
    /// asked for when nothing held is at it.
    District {
        /// The district (`FY1`).
        district: String,
        /// The whole postcode asked for, when the district stood in for it.
        instead_of: Option<String>,
    },
    /// Places held in the town (as typed).
    Town(String),
}

/// The centre of a typed place: the mean of the held places there.
#[derive(Debug, Clone, PartialEq)]
pub struct Centre {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// How it was found.
    pub by: FoundBy,
}

/// Finds where a typed place is from what the directory holds: a point is
/// itself; a whole postcode is the middle of the places held at it, else
/// of those in its district; a district or a town the middle of the places
/// held in it. "Places held" are services' locations (from the index) and
/// hubs' own addresses (from the store). None when nothing held is there.
pub fn centre(conn: &Connection, index: &SearchIndex, typed: &Typed) -> Result<Option<Centre>> {
    let at = |(lat, lon): (f64, f64), by: FoundBy| Centre { lat, lon, by };
    Ok(match typed {
        Typed::Point(lat, lon) => Some(at((*lat, *lon), FoundBy::Point)),
        Typed::Postcode(postcode) => {
            if let Some(p) = mean(&points(conn, index, &postcode.place())?) {
                Some(at(
                    p,
                    match postcode {
                        Postcode::Full(p) => FoundBy::Postcode(p.clone()),
                        Postcode::District(d) => FoundBy::District {
                            district: d.clone(),
                            instead_of: None,
                        },
                    },
                ))
            } else if let Postcode::Full(whole) = postcode {
                let district = postcode.district().to_owned();
                mean(&points(conn, index, &Place::District(district.clone()))?).map(|p| {
                    at(
                        p,
                        FoundBy::District {
                            district,
                            instead_of: Some(whole.clone()),
                        },
                    )
                })
            } else {
                None
            }
        }
        Typed::Town(town) if town.trim().is_empty() => None,
        Typed::Town(town) => mean(&points(conn, index, &Place::Town(town.clone()))?)
            .map(|p| at(p, FoundBy::Town(town.clone()))),
    })
}

/// The coordinates of every held place at `place`: services' locations
/// from the index, hubs' own addresses from the store.
fn points(conn: &Connection, index: &SearchIndex, place: &Place) -> Result<Vec<(f64, f64)>> {
    let mut found = index.place_points(place)?;
    let at = match place {
        Place::Postcode(p) => HubPlace::Postcode(p),
        Place::District(d) => HubPlace::District(d),
        Place::Town(t) => HubPlace::Town(t),
    };
    found.extend(hub_points(conn, at)?);
    Ok(found)
}

/// The mean of some points (close places: no need for spherical means).
fn mean(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    if points.is_empty() {
        return None;
    }
    let n = points.len() as f64;
    let lat = points.iter().map(|p| p.0).sum::<f64>() / n;
    let lon = points.iter().map(|p| p.1).sum::<f64>() / n;
    Some((lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(p: &str) -> Option<Postcode> {
        Some(Postcode::Full(p.into()))
    }

    fn district(d: &str) -> Option<Postcode> {
        Some(Postcode::District(d.into()))
    }

    #[test]
    fn postcodes_are_read_in_any_spacing_and_case() {
        for typed in [
            "FY1 6JH",
            "fy16jh",
            " FY1  6JH ",
            "fy1 6jh",
            "Fy1\t6Jh",
            "F Y 1 6 J H",
        ] {
            assert_eq!(Postcode::parse(typed), full("FY1 6JH"), "{typed:?}");
        }
        assert_eq!(Postcode::parse("sw1a 1aa"), full("SW1A 1AA"));
        assert_eq!(Postcode::parse("M11AE"), full("M1 1AE"));
        assert_eq!(Postcode::parse("ls12 3ab"), full("LS12 3AB"));
    }

    #[test]
    fn districts_are_read() {
        assert_eq!(Postcode::parse("fy1"), district("FY1"));
        assert_eq!(Postcode::parse(" SW1A "), district("SW1A"));
        assert_eq!(Postcode::parse("m1"), district("M1"));
        assert_eq!(Postcode::parse("LS12"), district("LS12"));
        assert_eq!(Postcode::parse("la1"), district("LA1"));
    }

    #[test]
    fn other_shapes_are_not_postcodes() {
        for typed in [
            "",
            "x",
            "??",
            "M",
            "123",
            "1AB",
            "ABC",
            "LEEDS",
            "Blackpool",
            "St Annes",
            "FY1 6J",
            "FY1 J6H",
            "FY1 66H",
            "FY12 3456",
            "SW1AB 1AA",
            "LA1 1AA'; --",
            "FY1-6JH",
            "ＦＹ1 6JH",
            "é1 6JH",
        ] {
            assert_eq!(Postcode::parse(typed), None, "{typed:?}");
        }
    }

    #[test]
    fn postcodes_give_their_district_and_compact_forms() {
        let whole = Postcode::Full("SW1A 1AA".into());
        assert_eq!(whole.district(), "SW1A");
        assert_eq!(whole.compact(), "SW1A1AA");
        assert_eq!(whole.to_string(), "SW1A 1AA");
        let district = Postcode::District("M1".into());
        assert_eq!(district.district(), "M1");
        assert_eq!(district.compact(), "M1");
        assert_eq!(district.to_string(), "M1");
    }

    #[test]
    fn typed_places_are_told_apart() {
        let postcode = |p: &str| Typed::Postcode(Postcode::Full(p.into()));
        assert_eq!(Typed::read(" fy3 7tn "), postcode("FY3 7TN"));
        assert_eq!(Typed::read("SW1A 1AA"), postcode("SW1A 1AA"));
        assert_eq!(Typed::read("M1 1AE"), postcode("M1 1AE"));
        assert_eq!(
            Typed::read("fy3"),
            Typed::Postcode(Postcode::District("FY3".into()))
        );
        assert_eq!(
            Typed::read("LS12"),
            Typed::Postcode(Postcode::District("LS12".into()))
        );
        assert_eq!(Typed::read("53.8,-3.05"), Typed::Point(53.8, -3.05));
        assert_eq!(Typed::read(" Blackpool "), Typed::Town("Blackpool".into()));
        assert_eq!(Typed::read("St Annes"), Typed::Town("St Annes".into()));
        assert_eq!(mean(&[(1.0, 2.0), (3.0, 4.0)]), Some((2.0, 3.0)));
        assert_eq!(mean(&[]), None);
    }
}
