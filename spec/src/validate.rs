//! Semantic checks of a parsed listing: limits, ranges, formats, references.
//!
//! Typing (which fields exist, enum values) is done by the parser; this adds
//! everything JSON types cannot say. Each failure names the field's path.

use std::collections::HashSet;
use std::fmt;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::keys::KeyId;
use crate::limits::Limits;
use crate::listing::{Address, HubProfile, Listing, Location, Schedule, Service, PROTOCOL_VERSION};
use crate::SpecError;

/// Largest `seq`: JavaScript's `Number.MAX_SAFE_INTEGER`, so every JSON
/// implementation reads it exactly.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// Day codes allowed in `byday`.
pub const DAY_CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// Checks every rule of `SPEC.md` "Payload" that typing alone does not.
pub fn validate_listing(listing: &Listing, limits: &Limits) -> Result<(), SpecError> {
    check_listing(listing, limits, false)
}

/// [`validate_listing`], skipping the parse of `hub.id` when the caller
/// has just parsed it (verification does, to build the key chain).
pub(crate) fn check_listing(
    listing: &Listing,
    limits: &Limits,
    hub_id_checked: bool,
) -> Result<(), SpecError> {
    if listing.signpost != PROTOCOL_VERSION {
        return Err(SpecError::UnsupportedVersion {
            found: crate::keys::truncate_for_message(&listing.signpost),
            supported: PROTOCOL_VERSION,
        });
    }
    let c = Checker { limits };
    c.hub(&listing.hub, hub_id_checked)?;
    if listing.seq == 0 || listing.seq > MAX_SEQ {
        return Err(SpecError::schema(
            "seq",
            format!("must be between 1 and {MAX_SEQ}"),
        ));
    }
    if listing.expires_at <= listing.issued_at {
        return Err(SpecError::schema(
            "expires_at",
            "must be later than issued_at",
        ));
    }
    let lifetime = listing.expires_at.as_second() - listing.issued_at.as_second();
    if lifetime > limits.max_lifetime_secs {
        return Err(SpecError::schema(
            "expires_at",
            format!(
                "must be at most {} days after issued_at",
                limits.max_lifetime_secs / 86_400
            ),
        ));
    }
    if listing.withdrawn && !listing.services.is_empty() {
        return Err(SpecError::schema(
            "services",
            "must be empty when withdrawn is true",
        ));
    }
    if listing.services.len() > limits.max_services {
        return Err(SpecError::schema(
            "services",
            format!(
                "has {} services, more than the limit of {}",
                listing.services.len(),
                limits.max_services
            ),
        ));
    }
    let services = Path::Name("services");
    let mut ids = HashSet::with_capacity(listing.services.len());
    for (i, service) in listing.services.iter().enumerate() {
        let path = services.index(i);
        c.service(path, service)?;
        if !ids.insert(service.id.as_str()) {
            return Err(refuse(
                path.field("id"),
                format!("duplicate service id {}", service.id),
            ));
        }
    }
    Ok(())
}

/// Validates one service on its own, for editors that check before saving.
pub fn validate_service(service: &Service, limits: &Limits) -> Result<(), SpecError> {
    Checker { limits }.service(Path::Name("service"), service)
}

/// Where a field is: written out only when the field is refused, so a good
/// listing costs no path strings.
#[derive(Clone, Copy)]
enum Path<'a> {
    /// A top-level name (`hub`, `services`, `service`).
    Name(&'static str),
    /// `parent.name`.
    Field(&'a Path<'a>, &'static str),
    /// `parent[index]`.
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    fn field(&'a self, name: &'static str) -> Path<'a> {
        Path::Field(self, name)
    }

    fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Name(name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// The oldest age a service may name (older people's services say 65 or
/// 75; nobody's is above this).
pub const MAX_AGE: u8 = 120;

fn refuse(path: Path<'_>, reason: impl Into<String>) -> SpecError {
    SpecError::schema(path.to_string(), reason)
}

/// True when no value occurs twice; `bit` maps each of a small enum's
/// values to its own bit, so this needs no allocation.
fn distinct<T: Copy>(values: &[T], bit: impl Fn(T) -> u32) -> bool {
    let mut seen = 0u32;
    for &v in values {
        let b = bit(v);
        if seen & b != 0 {
            return false;
        }
        seen |= b;
    }
    true
}

struct Checker<'a> {
    limits: &'a Limits,
}

impl Checker<'_> {
    fn text(
        &self,
        path: Path<'_>,
        value: &str,
        max: usize,
        required: bool,
    ) -> Result<(), SpecError> {
        if required && value.trim().is_empty() {
            return Err(refuse(path, "must not be empty"));
        }
        let mut count = 0usize;
        for ch in value.chars() {
            count += 1;
            if ch.is_control() && ch != '\n' && ch != '\t' && ch != '\r' {
                return Err(refuse(
                    path,
                    format!("contains the control character U+{:04X}", ch as u32),
                ));
            }
        }
        if count > max {
            return Err(refuse(
                path,
                format!("is {count} characters long, more than the limit of {max}"),
            ));
        }
        Ok(())
    }

    fn short(&self, path: Path<'_>, value: &str) -> Result<(), SpecError> {
        self.text(path, value, self.limits.max_short_text, true)
    }

    fn opt_short(&self, path: Path<'_>, value: &Option<String>) -> Result<(), SpecError> {
        match value {
            Some(v) => self.short(path, v),
            None => Ok(()),
        }
    }

    fn opt_long(&self, path: Path<'_>, value: &Option<String>) -> Result<(), SpecError> {
        match value {
            Some(v) => self.text(path, v, self.limits.max_long_text, true),
            None => Ok(()),
        }
    }

    fn opt_url(&self, path: Path<'_>, value: &Option<String>) -> Result<(), SpecError> {
        let Some(v) = value else { return Ok(()) };
        self.text(path, v, self.limits.max_url, true)?;
        let parsed = url::Url::parse(v).map_err(|e| refuse(path, format!("is not a URL: {e}")))?;
        if parsed.scheme() != "https" && parsed.scheme() != "http" {
            return Err(refuse(path, "must be an http or https URL"));
        }
        Ok(())
    }

    fn opt_email(&self, path: Path<'_>, value: &Option<String>) -> Result<(), SpecError> {
        let Some(v) = value else { return Ok(()) };
        self.short(path, v)?;
        let ok = match v.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !v.chars().any(char::is_whitespace)
                    && !domain.contains('@')
            }
            None => false,
        };
        if ok {
            Ok(())
        } else {
            Err(refuse(path, "is not an email address"))
        }
    }

    fn uuid(&self, path: Path<'_>, value: &str) -> Result<(), SpecError> {
        if is_lowercase_hyphenated_uuid(value) {
            Ok(())
        } else {
            Err(refuse(
                path,
                "must be a lowercase hyphenated UUID like 8f3a1c2e-0b4d-4e6f-9a1b-2c3d4e5f6a7b",
            ))
        }
    }

    fn list_len(&self, path: Path<'_>, len: usize) -> Result<(), SpecError> {
        if len > self.limits.max_list_items {
            return Err(refuse(
                path,
                format!(
                    "has {len} items, more than the limit of {}",
                    self.limits.max_list_items
                ),
            ));
        }
        Ok(())
    }

    /// `parent.latitude` and `parent.longitude`.
    fn coordinates(
        &self,
        parent: Path<'_>,
        lat: Option<f64>,
        lon: Option<f64>,
    ) -> Result<(), SpecError> {
        match (lat, lon) {
            (None, None) => Ok(()),
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(refuse(
                        parent.field("latitude"),
                        "must be between -90 and 90",
                    ));
                }
                if !(-180.0..=180.0).contains(&lon) {
                    return Err(refuse(
                        parent.field("longitude"),
                        "must be between -180 and 180",
                    ));
                }
                Ok(())
            }
            _ => Err(refuse(
                parent.field("latitude"),
                "latitude and longitude must be given together",
            )),
        }
    }

    fn address(&self, path: Path<'_>, a: &Address) -> Result<(), SpecError> {
        self.opt_short(path.field("address_1"), &a.address_1)?;
        self.opt_short(path.field("address_2"), &a.address_2)?;
        self.opt_short(path.field("city"), &a.city)?;
        self.opt_short(path.field("region"), &a.region)?;
        self.opt_short(path.field("state_province"), &a.state_province)?;
        self.opt_short(path.field("postal_code"), &a.postal_code)?;
        if let Some(country) = &a.country {
            if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(refuse(
                    path.field("country"),
                    "must be a two-letter ISO 3166-1 code in capitals, like GB",
                ));
            }
        }
        Ok(())
    }

    fn hub(&self, hub: &HubProfile, id_checked: bool) -> Result<(), SpecError> {
        if !id_checked {
            KeyId::parse(&hub.id).map_err(|e| SpecError::schema("hub.id", e.to_string()))?;
        }
        let path = Path::Name("hub");
        self.short(path.field("name"), &hub.name)?;
        self.opt_long(path.field("description"), &hub.description)?;
        self.opt_url(path.field("url"), &hub.url)?;
        self.opt_email(path.field("email"), &hub.email)?;
        self.opt_short(path.field("phone"), &hub.phone)?;
        self.opt_short(path.field("area_served"), &hub.area_served)?;
        if let Some(a) = &hub.address {
            self.address(path.field("address"), a)?;
        }
        self.coordinates(path, hub.latitude, hub.longitude)?;
        self.short(path.field("timezone"), &hub.timezone)?;
        if TimeZone::get(&hub.timezone).is_err() {
            return Err(SpecError::schema(
                "hub.timezone",
                "is not an IANA time zone name like Europe/London",
            ));
        }
        let space = &hub.dimensions.space;
        if space.is_empty() {
            return Err(SpecError::schema(
                "hub.dimensions.space",
                "must name at least one kind of space",
            ));
        }
        if !distinct(space, |s| 1 << s as u32) {
            return Err(SpecError::schema(
                "hub.dimensions.space",
                "must not repeat a kind of space",
            ));
        }
        Ok(())
    }

    fn service(&self, path: Path<'_>, s: &Service) -> Result<(), SpecError> {
        self.uuid(path.field("id"), &s.id)?;
        self.short(path.field("name"), &s.name)?;
        self.opt_long(path.field("description"), &s.description)?;
        if let Some(org) = &s.organization {
            let op = path.field("organization");
            if let Some(id) = &org.id {
                self.uuid(op.field("id"), id)?;
            }
            self.short(op.field("name"), &org.name)?;
            self.opt_long(op.field("description"), &org.description)?;
            self.opt_url(op.field("website"), &org.website)?;
            self.opt_email(op.field("email"), &org.email)?;
        }
        self.opt_url(path.field("url"), &s.url)?;
        self.opt_email(path.field("email"), &s.email)?;
        self.opt_long(
            path.field("eligibility_description"),
            &s.eligibility_description,
        )?;
        for (field, age) in [
            ("minimum_age", s.minimum_age),
            ("maximum_age", s.maximum_age),
        ] {
            if age.is_some_and(|a| a > MAX_AGE) {
                return Err(refuse(
                    path.field(field),
                    format!("must be a whole number of years from 0 to {MAX_AGE}"),
                ));
            }
        }
        if let (Some(min), Some(max)) = (s.minimum_age, s.maximum_age) {
            if min > max {
                return Err(refuse(
                    path.field("maximum_age"),
                    format!("must not be below minimum_age ({min})"),
                ));
            }
        }
        self.opt_long(path.field("fees_description"), &s.fees_description)?;
        self.opt_long(path.field("application_process"), &s.application_process)?;
        if !distinct(&s.access, |r| 1 << r as u32) {
            return Err(refuse(path.field("access"), "must not repeat a route"));
        }
        if let Some(d) = &s.assured_date {
            date(path.field("assured_date"), d)?;
        }
        let lp = path.field("languages");
        self.list_len(lp, s.languages.len())?;
        for (i, l) in s.languages.iter().enumerate() {
            let ip = lp.index(i);
            self.opt_short(ip.field("name"), &l.name)?;
            self.opt_short(ip.field("code"), &l.code)?;
            self.opt_long(ip.field("note"), &l.note)?;
        }
        let ap = path.field("service_areas");
        self.list_len(ap, s.service_areas.len())?;
        for (i, a) in s.service_areas.iter().enumerate() {
            let ip = ap.index(i);
            self.opt_short(ip.field("name"), &a.name)?;
            self.opt_long(ip.field("description"), &a.description)?;
        }
        let locp = path.field("locations");
        self.list_len(locp, s.locations.len())?;
        // At most `max_list_items` ids (checked just above): a list is
        // cheaper than a hash set at that size.
        let mut location_ids: Vec<&str> = Vec::with_capacity(s.locations.len());
        for (i, l) in s.locations.iter().enumerate() {
            let ip = locp.index(i);
            self.location(ip, l)?;
            if location_ids.contains(&l.id.as_str()) {
                return Err(refuse(ip.field("id"), "duplicate location id"));
            }
            location_ids.push(l.id.as_str());
        }
        let pp = path.field("phones");
        self.list_len(pp, s.phones.len())?;
        for (i, p) in s.phones.iter().enumerate() {
            let ip = pp.index(i);
            self.short(ip.field("number"), &p.number)?;
            self.opt_short(ip.field("type"), &p.kind)?;
            self.opt_long(ip.field("description"), &p.description)?;
        }
        let cp = path.field("contacts");
        self.list_len(cp, s.contacts.len())?;
        for (i, c) in s.contacts.iter().enumerate() {
            let ip = cp.index(i);
            self.opt_short(ip.field("name"), &c.name)?;
            self.opt_short(ip.field("title"), &c.title)?;
            self.opt_email(ip.field("email"), &c.email)?;
            self.opt_short(ip.field("phone"), &c.phone)?;
        }
        let sp = path.field("schedules");
        self.list_len(sp, s.schedules.len())?;
        for (i, sc) in s.schedules.iter().enumerate() {
            self.schedule(sp.index(i), sc, &location_ids)?;
        }
        let tp = path.field("taxonomy_terms");
        self.list_len(tp, s.taxonomy_terms.len())?;
        for (i, t) in s.taxonomy_terms.iter().enumerate() {
            let ip = tp.index(i);
            self.opt_short(ip.field("code"), &t.code)?;
            self.short(ip.field("name"), &t.name)?;
            self.opt_short(ip.field("taxonomy"), &t.taxonomy)?;
        }
        Ok(())
    }

    fn location(&self, path: Path<'_>, l: &Location) -> Result<(), SpecError> {
        self.uuid(path.field("id"), &l.id)?;
        self.opt_short(path.field("name"), &l.name)?;
        self.opt_long(path.field("description"), &l.description)?;
        if let Some(a) = &l.address {
            self.address(path.field("address"), a)?;
        }
        self.coordinates(path, l.latitude, l.longitude)?;
        self.opt_long(path.field("accessibility"), &l.accessibility)
    }

    fn schedule(&self, path: Path<'_>, s: &Schedule, locations: &[&str]) -> Result<(), SpecError> {
        parse_byday(&s.byday).map_err(|reason| refuse(path.field("byday"), reason))?;
        parse_time(&s.opens_at).map_err(|reason| refuse(path.field("opens_at"), reason))?;
        parse_time(&s.closes_at).map_err(|reason| refuse(path.field("closes_at"), reason))?;
        if s.opens_at == s.closes_at {
            return Err(refuse(path.field("closes_at"), "must differ from opens_at"));
        }
        let from = s
            .valid_from
            .as_deref()
            .map(|d| date(path.field("valid_from"), d))
            .transpose()?;
        let to = s
            .valid_to
            .as_deref()
            .map(|d| date(path.field("valid_to"), d))
            .transpose()?;
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                return Err(refuse(
                    path.field("valid_to"),
                    "must not be before valid_from",
                ));
            }
        }
        self.opt_long(path.field("description"), &s.description)?;
        if let Some(id) = &s.location_id {
            if !locations.contains(&id.as_str()) {
                return Err(refuse(
                    path.field("location_id"),
                    "does not name one of this service's locations",
                ));
            }
        }
        Ok(())
    }
}

/// The only UUID form the protocol accepts: 36 characters, lowercase hex
/// in groups of 8-4-4-4-12 separated by hyphens.
fn is_lowercase_hyphenated_uuid(value: &str) -> bool {
    value.len() == 36
        && value.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Parses `byday` ("MO,WE") into weekday indexes, Monday = 0.
pub fn parse_byday(value: &str) -> Result<Vec<u8>, String> {
    let mut days = Vec::new();
    for part in value.split(',') {
        let code = part.trim();
        let index = DAY_CODES
            .iter()
            .position(|d| *d == code)
            .ok_or_else(|| format!("{code:?} is not a day code (MO, TU, WE, TH, FR, SA, SU)"))?;
        let index = index as u8;
        if days.contains(&index) {
            return Err(format!("{code} appears twice"));
        }
        days.push(index);
    }
    Ok(days)
}

/// Parses a local time of day, `HH:MM` or `HH:MM:SS`.
pub fn parse_time(value: &str) -> Result<Time, String> {
    let well_formed = matches!(value.len(), 5 | 8)
        && value.bytes().enumerate().all(|(i, b)| {
            if i == 2 || i == 5 {
                b == b':'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        return Err(format!("{value:?} is not a time of day like 09:30"));
    }
    let full = if value.len() == 5 {
        format!("{value}:00")
    } else {
        value.to_owned()
    };
    full.parse::<Time>()
        .map_err(|_| format!("{value:?} is not a time of day like 09:30"))
}

fn date(path: Path<'_>, value: &str) -> Result<Date, SpecError> {
    let ok = value.len() == 10;
    ok.then(|| value.parse::<Date>().ok())
        .flatten()
        .ok_or_else(|| refuse(path, format!("{value:?} is not a date like 2026-03-31")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(minimum_age: Option<u8>, maximum_age: Option<u8>) -> Service {
        let mut s: Service = serde_json::from_value(serde_json::json!({
            "id": "0b6a5c1e-8d2f-4a3b-9c4d-5e6f7a8b9c01", "name": "Youth club"
        }))
        .expect("service");
        s.minimum_age = minimum_age;
        s.maximum_age = maximum_age;
        s
    }

    #[test]
    fn ages_are_whole_years_up_to_the_oldest_and_in_order() {
        let limits = Limits::default();
        for (min, max) in [
            (None, None),
            (Some(11), Some(18)),
            (Some(18), Some(18)),
            (None, Some(MAX_AGE)),
        ] {
            assert!(
                validate_service(&service(min, max), &limits).is_ok(),
                "{min:?} {max:?}"
            );
        }
        let e = validate_service(&service(Some(19), Some(18)), &limits).unwrap_err();
        assert!(e.to_string().contains("maximum_age"), "{e}");
        let e = validate_service(&service(Some(MAX_AGE + 1), None), &limits).unwrap_err();
        assert!(e.to_string().contains("minimum_age"), "{e}");
    }
}
