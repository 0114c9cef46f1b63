//! Semantic checks of a parsed listing: limits, ranges, formats, references.
//!
//! Typing (which fields exist, enum values) is done by the parser; this adds
//! everything JSON types cannot say. Each failure names the field's path.

use std::collections::HashSet;

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
    if listing.signpost != PROTOCOL_VERSION {
        return Err(SpecError::UnsupportedVersion {
            found: crate::keys::truncate_for_message(&listing.signpost),
            supported: PROTOCOL_VERSION,
        });
    }
    let c = Checker { limits };
    c.hub(&listing.hub)?;
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
    let mut ids = HashSet::new();
    for (i, service) in listing.services.iter().enumerate() {
        let path = format!("services[{i}]");
        c.service(&path, service)?;
        if !ids.insert(service.id.as_str()) {
            return Err(SpecError::schema(
                format!("{path}.id"),
                format!("duplicate service id {}", service.id),
            ));
        }
    }
    Ok(())
}

/// Validates one service on its own, for editors that check before saving.
pub fn validate_service(service: &Service, limits: &Limits) -> Result<(), SpecError> {
    Checker { limits }.service("service", service)
}

struct Checker<'a> {
    limits: &'a Limits,
}

impl Checker<'_> {
    fn text(&self, path: &str, value: &str, max: usize, required: bool) -> Result<(), SpecError> {
        if required && value.trim().is_empty() {
            return Err(SpecError::schema(path, "must not be empty"));
        }
        let mut count = 0usize;
        for ch in value.chars() {
            count += 1;
            if ch.is_control() && ch != '\n' && ch != '\t' && ch != '\r' {
                return Err(SpecError::schema(
                    path,
                    format!("contains the control character U+{:04X}", ch as u32),
                ));
            }
        }
        if count > max {
            return Err(SpecError::schema(
                path,
                format!("is {count} characters long, more than the limit of {max}"),
            ));
        }
        Ok(())
    }

    fn short(&self, path: &str, value: &str) -> Result<(), SpecError> {
        self.text(path, value, self.limits.max_short_text, true)
    }

    fn opt_short(&self, path: &str, value: &Option<String>) -> Result<(), SpecError> {
        match value {
            Some(v) => self.short(path, v),
            None => Ok(()),
        }
    }

    fn opt_long(&self, path: &str, value: &Option<String>) -> Result<(), SpecError> {
        match value {
            Some(v) => self.text(path, v, self.limits.max_long_text, true),
            None => Ok(()),
        }
    }

    fn opt_url(&self, path: &str, value: &Option<String>) -> Result<(), SpecError> {
        let Some(v) = value else { return Ok(()) };
        self.text(path, v, self.limits.max_url, true)?;
        let parsed = url::Url::parse(v)
            .map_err(|e| SpecError::schema(path, format!("is not a URL: {e}")))?;
        if parsed.scheme() != "https" && parsed.scheme() != "http" {
            return Err(SpecError::schema(path, "must be an http or https URL"));
        }
        Ok(())
    }

    fn opt_email(&self, path: &str, value: &Option<String>) -> Result<(), SpecError> {
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
            Err(SpecError::schema(path, "is not an email address"))
        }
    }

    fn uuid(&self, path: &str, value: &str) -> Result<(), SpecError> {
        let canonical = value.len() == 36
            && uuid::Uuid::try_parse(value)
                .map(|u| u.hyphenated().to_string() == value)
                .unwrap_or(false);
        if canonical {
            Ok(())
        } else {
            Err(SpecError::schema(
                path,
                "must be a lowercase hyphenated UUID like 8f3a1c2e-0b4d-4e6f-9a1b-2c3d4e5f6a7b",
            ))
        }
    }

    fn list_len(&self, path: &str, len: usize) -> Result<(), SpecError> {
        if len > self.limits.max_list_items {
            return Err(SpecError::schema(
                path,
                format!(
                    "has {len} items, more than the limit of {}",
                    self.limits.max_list_items
                ),
            ));
        }
        Ok(())
    }

    fn coordinates(&self, path: &str, lat: Option<f64>, lon: Option<f64>) -> Result<(), SpecError> {
        match (lat, lon) {
            (None, None) => Ok(()),
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(SpecError::schema(
                        format!("{path}latitude"),
                        "must be between -90 and 90",
                    ));
                }
                if !(-180.0..=180.0).contains(&lon) {
                    return Err(SpecError::schema(
                        format!("{path}longitude"),
                        "must be between -180 and 180",
                    ));
                }
                Ok(())
            }
            _ => Err(SpecError::schema(
                format!("{path}latitude"),
                "latitude and longitude must be given together",
            )),
        }
    }

    fn address(&self, path: &str, a: &Address) -> Result<(), SpecError> {
        self.opt_short(&format!("{path}.address_1"), &a.address_1)?;
        self.opt_short(&format!("{path}.address_2"), &a.address_2)?;
        self.opt_short(&format!("{path}.city"), &a.city)?;
        self.opt_short(&format!("{path}.region"), &a.region)?;
        self.opt_short(&format!("{path}.state_province"), &a.state_province)?;
        self.opt_short(&format!("{path}.postal_code"), &a.postal_code)?;
        if let Some(country) = &a.country {
            if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(SpecError::schema(
                    format!("{path}.country"),
                    "must be a two-letter ISO 3166-1 code in capitals, like GB",
                ));
            }
        }
        Ok(())
    }

    fn hub(&self, hub: &HubProfile) -> Result<(), SpecError> {
        KeyId::parse(&hub.id).map_err(|e| SpecError::schema("hub.id", e.to_string()))?;
        self.short("hub.name", &hub.name)?;
        self.opt_long("hub.description", &hub.description)?;
        self.opt_url("hub.url", &hub.url)?;
        self.opt_email("hub.email", &hub.email)?;
        self.opt_short("hub.phone", &hub.phone)?;
        self.opt_short("hub.area_served", &hub.area_served)?;
        if let Some(a) = &hub.address {
            self.address("hub.address", a)?;
        }
        self.coordinates("hub.", hub.latitude, hub.longitude)?;
        self.short("hub.timezone", &hub.timezone)?;
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
        let unique: HashSet<_> = space.iter().collect();
        if unique.len() != space.len() {
            return Err(SpecError::schema(
                "hub.dimensions.space",
                "must not repeat a kind of space",
            ));
        }
        Ok(())
    }

    fn service(&self, path: &str, s: &Service) -> Result<(), SpecError> {
        self.uuid(&format!("{path}.id"), &s.id)?;
        self.short(&format!("{path}.name"), &s.name)?;
        self.opt_long(&format!("{path}.description"), &s.description)?;
        if let Some(org) = &s.organization {
            if let Some(id) = &org.id {
                self.uuid(&format!("{path}.organization.id"), id)?;
            }
            self.short(&format!("{path}.organization.name"), &org.name)?;
            self.opt_long(
                &format!("{path}.organization.description"),
                &org.description,
            )?;
            self.opt_url(&format!("{path}.organization.website"), &org.website)?;
            self.opt_email(&format!("{path}.organization.email"), &org.email)?;
        }
        self.opt_url(&format!("{path}.url"), &s.url)?;
        self.opt_email(&format!("{path}.email"), &s.email)?;
        self.opt_long(
            &format!("{path}.eligibility_description"),
            &s.eligibility_description,
        )?;
        self.opt_long(&format!("{path}.fees_description"), &s.fees_description)?;
        self.opt_long(
            &format!("{path}.application_process"),
            &s.application_process,
        )?;
        let unique: HashSet<_> = s.access.iter().collect();
        if unique.len() != s.access.len() {
            return Err(SpecError::schema(
                format!("{path}.access"),
                "must not repeat a route",
            ));
        }
        if let Some(d) = &s.assured_date {
            date(&format!("{path}.assured_date"), d)?;
        }
        self.list_len(&format!("{path}.languages"), s.languages.len())?;
        for (i, l) in s.languages.iter().enumerate() {
            self.opt_short(&format!("{path}.languages[{i}].name"), &l.name)?;
            self.opt_short(&format!("{path}.languages[{i}].code"), &l.code)?;
            self.opt_long(&format!("{path}.languages[{i}].note"), &l.note)?;
        }
        self.list_len(&format!("{path}.service_areas"), s.service_areas.len())?;
        for (i, a) in s.service_areas.iter().enumerate() {
            self.opt_short(&format!("{path}.service_areas[{i}].name"), &a.name)?;
            self.opt_long(
                &format!("{path}.service_areas[{i}].description"),
                &a.description,
            )?;
        }
        self.list_len(&format!("{path}.locations"), s.locations.len())?;
        let mut location_ids = HashSet::new();
        for (i, l) in s.locations.iter().enumerate() {
            let lp = format!("{path}.locations[{i}]");
            self.location(&lp, l)?;
            if !location_ids.insert(l.id.as_str()) {
                return Err(SpecError::schema(
                    format!("{lp}.id"),
                    "duplicate location id",
                ));
            }
        }
        self.list_len(&format!("{path}.phones"), s.phones.len())?;
        for (i, p) in s.phones.iter().enumerate() {
            self.short(&format!("{path}.phones[{i}].number"), &p.number)?;
            self.opt_short(&format!("{path}.phones[{i}].type"), &p.kind)?;
            self.opt_long(&format!("{path}.phones[{i}].description"), &p.description)?;
        }
        self.list_len(&format!("{path}.contacts"), s.contacts.len())?;
        for (i, c) in s.contacts.iter().enumerate() {
            self.opt_short(&format!("{path}.contacts[{i}].name"), &c.name)?;
            self.opt_short(&format!("{path}.contacts[{i}].title"), &c.title)?;
            self.opt_email(&format!("{path}.contacts[{i}].email"), &c.email)?;
            self.opt_short(&format!("{path}.contacts[{i}].phone"), &c.phone)?;
        }
        self.list_len(&format!("{path}.schedules"), s.schedules.len())?;
        for (i, sc) in s.schedules.iter().enumerate() {
            self.schedule(&format!("{path}.schedules[{i}]"), sc, &location_ids)?;
        }
        self.list_len(&format!("{path}.taxonomy_terms"), s.taxonomy_terms.len())?;
        for (i, t) in s.taxonomy_terms.iter().enumerate() {
            self.opt_short(&format!("{path}.taxonomy_terms[{i}].code"), &t.code)?;
            self.short(&format!("{path}.taxonomy_terms[{i}].name"), &t.name)?;
            self.opt_short(&format!("{path}.taxonomy_terms[{i}].taxonomy"), &t.taxonomy)?;
        }
        Ok(())
    }

    fn location(&self, path: &str, l: &Location) -> Result<(), SpecError> {
        self.uuid(&format!("{path}.id"), &l.id)?;
        self.opt_short(&format!("{path}.name"), &l.name)?;
        self.opt_long(&format!("{path}.description"), &l.description)?;
        if let Some(a) = &l.address {
            self.address(&format!("{path}.address"), a)?;
        }
        self.coordinates(&format!("{path}."), l.latitude, l.longitude)?;
        self.opt_long(&format!("{path}.accessibility"), &l.accessibility)
    }

    fn schedule(
        &self,
        path: &str,
        s: &Schedule,
        locations: &HashSet<&str>,
    ) -> Result<(), SpecError> {
        parse_byday(&s.byday)
            .map_err(|reason| SpecError::schema(format!("{path}.byday"), reason))?;
        parse_time(&s.opens_at)
            .map_err(|reason| SpecError::schema(format!("{path}.opens_at"), reason))?;
        parse_time(&s.closes_at)
            .map_err(|reason| SpecError::schema(format!("{path}.closes_at"), reason))?;
        if s.opens_at == s.closes_at {
            return Err(SpecError::schema(
                format!("{path}.closes_at"),
                "must differ from opens_at",
            ));
        }
        let from = s
            .valid_from
            .as_deref()
            .map(|d| date(&format!("{path}.valid_from"), d))
            .transpose()?;
        let to = s
            .valid_to
            .as_deref()
            .map(|d| date(&format!("{path}.valid_to"), d))
            .transpose()?;
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                return Err(SpecError::schema(
                    format!("{path}.valid_to"),
                    "must not be before valid_from",
                ));
            }
        }
        self.opt_long(&format!("{path}.description"), &s.description)?;
        if let Some(id) = &s.location_id {
            if !locations.contains(id.as_str()) {
                return Err(SpecError::schema(
                    format!("{path}.location_id"),
                    "does not name one of this service's locations",
                ));
            }
        }
        Ok(())
    }
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

fn date(path: &str, value: &str) -> Result<Date, SpecError> {
    let ok = value.len() == 10;
    ok.then(|| value.parse::<Date>().ok())
        .flatten()
        .ok_or_else(|| SpecError::schema(path, format!("{value:?} is not a date like 2026-03-31")))
}
