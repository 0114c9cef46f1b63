//! Opening times as iCalendar (RFC 5545), so people and other systems can
//! subscribe to a service's hours or a hub's whole timetable in the
//! calendar they already use.
//!
//! [`write`] is pure: it reads a hub's services, its IANA time zone and the
//! listing's signing time, and gives the same bytes for the same listing.
//! Nothing in it depends on the day it runs, so a calendar fetched twice is
//! the same body (and the same `ETag`), and a subscriber's app sees
//! changes only when the hub changes something:
//!
//! - each schedule is one `VEVENT` repeating weekly (`RRULE:FREQ=WEEKLY;
//!   BYDAY=...`), starting on its first day on or after `valid_from`, or
//!   after the fixed [`ANCHOR`] when it has none, and ending (`UNTIL`, in
//!   UTC as RFC 5545 requires beside a `TZID`) on `valid_to`;
//! - times are local wall times with the hub's `TZID`, described by a
//!   `VTIMEZONE` made from the time zone database ([`zone`]), so 12:00 stays
//!   12:00 on both sides of a change of the clocks;
//! - `DTSTAMP` is when the hub signed the listing;
//! - a `UID` is made from what the schedule is (its days, hours, dates and
//!   place), not from where it stands in the list, so adding, removing or
//!   reordering other schedules or services leaves every other event's
//!   `UID` as it was.
//!
//! A session that closes after midnight (`closes_at` earlier than
//! `opens_at`) ends on the next day. RFC 5545 (3.8.5.3) gives every
//! repetition the first one's exact length, so on the two nights a year the
//! clocks change during such a session a calendar shows its end an hour off
//! the clock time the hub wrote; the start is always right.
//!
//! ```
//! use signpost_client::calendar::{write, Calendar};
//! use signpost_spec::{Schedule, Service};
//!
//! let mut service: Service = serde_json::from_value(serde_json::json!({
//!     "id": "0b6a5c1e-8d2f-4a3b-9c4d-5e6f7a8b9c01", "name": "Lunch club"
//! })).unwrap();
//! service.schedules.push(Schedule::weekly("MO,WE,FR", "12:00", "14:00"));
//! let text = write(&Calendar {
//!     name: "Lunch club",
//!     hub_id: "ed25519:example",
//!     timezone: "Europe/London",
//!     stamp: "2027-01-04T09:00:00Z".parse().unwrap(),
//!     services: std::slice::from_ref(&service),
//!     page_url: &|_| None,
//! }).unwrap();
//! assert!(text.contains("RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR\r\n"));
//! ```

mod zone;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::{Span, Timestamp};
use sha2::{Digest, Sha256};
use signpost_spec::{parse_byday, parse_time, Schedule, Service, ServiceStatus, DAY_CODES};

use crate::error::{Error, Result};
use crate::store::aggregator::address_text;

/// The media type a calendar is served with.
pub const MEDIA_TYPE: &str = "text/calendar; charset=utf-8";

/// Who made the calendar (`PRODID`), as RFC 5545 asks of every producer.
pub const PRODID: &str = "-//Signpost//Opening times//EN";

/// Where a schedule without `valid_from` starts: a fixed Monday, not today,
/// so the body is the same whenever it is fetched. Occurrences before it
/// are history nobody subscribes for.
pub const ANCHOR: Date = jiff::civil::date(2024, 1, 1);

/// The longest content line in octets, before folding (RFC 5545 3.1).
const MAX_LINE_OCTETS: usize = 75;

/// What a calendar is made of: one hub's services (all of them, or one).
pub struct Calendar<'a> {
    /// The calendar's name in people's apps (`X-WR-CALNAME`).
    pub name: &'a str,
    /// The publishing hub's id, which scopes every `UID`.
    pub hub_id: &'a str,
    /// The hub's IANA time zone, the one its opening times are written in.
    pub timezone: &'a str,
    /// When the hub signed the listing (`DTSTAMP`).
    pub stamp: Timestamp,
    /// The services whose schedules become events.
    pub services: &'a [Service],
    /// The absolute address of a service's page, for each event's `URL`.
    pub page_url: &'a dyn Fn(&Service) -> Option<String>,
}

/// Writes a whole `VCALENDAR`: CRLF line endings, lines folded at 75
/// octets, one `VTIMEZONE` and a `VEVENT` per schedule. Fails only for a
/// time zone the database does not know (a verified listing never has
/// one); a schedule that does not read (never in a verified listing) is
/// left out with a warning rather than spoiling the hub's whole calendar.
pub fn write(cal: &Calendar<'_>) -> Result<String> {
    let tz = TimeZone::get(cal.timezone).map_err(|e| {
        Error::invalid(
            "hub.timezone",
            format!("{:?} is not a known time zone: {e}", cal.timezone),
        )
    })?;
    let mut events = Vec::new();
    for service in cal.services {
        let mut made: Vec<String> = Vec::new();
        for schedule in &service.schedules {
            match event(cal, &tz, service, schedule, &mut made) {
                Ok(Some(e)) => events.push(e),
                Ok(None) => {}
                Err(reason) => tracing::warn!(
                    hub = cal.hub_id,
                    service = %service.id,
                    %reason,
                    "a schedule left out of a calendar"
                ),
            }
        }
    }
    let first = events
        .iter()
        .map(|e| e.start)
        .min()
        .unwrap_or_else(|| ANCHOR.to_datetime(Time::midnight()));
    let first = tz
        .to_ambiguous_timestamp(first)
        .compatible()
        .map_err(|e| Error::invalid("schedules", e.to_string()))?;

    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line(&format!("PRODID:{PRODID}"));
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    out.text("X-WR-CALNAME", cal.name);
    out.text("X-WR-TIMEZONE", cal.timezone);
    zone::write(&mut out, cal.timezone, &tz, first);
    let stamp = utc(cal.stamp);
    let tzid = param_value(cal.timezone);
    for e in &events {
        out.line("BEGIN:VEVENT");
        out.text("UID", &e.uid);
        out.line(&format!("DTSTAMP:{stamp}"));
        out.line(&format!("DTSTART;TZID={tzid}:{}", local(e.start)));
        out.line(&format!("DTEND;TZID={tzid}:{}", local(e.end)));
        let days: Vec<&str> = e
            .days
            .iter()
            .filter_map(|d| DAY_CODES.get(usize::from(*d)).copied())
            .collect();
        let mut rule = format!("RRULE:FREQ=WEEKLY;BYDAY={}", days.join(","));
        if let Some(until) = e.until {
            rule.push_str(&format!(";UNTIL={}", utc(until)));
        }
        out.line(&rule);
        out.text("SUMMARY", &e.summary);
        if !e.description.is_empty() {
            out.text("DESCRIPTION", &e.description);
        }
        if !e.location.is_empty() {
            out.text("LOCATION", &e.location);
        }
        if let Some(url) = &e.url {
            out.line(&format!("URL:{}", strip_controls(url)));
        }
        out.line(if e.cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        });
        // Opening hours are not the subscriber's own appointments: they
        // must not make them look busy.
        out.line("TRANSP:TRANSPARENT");
        out.line("END:VEVENT");
    }
    out.line("END:VCALENDAR");
    Ok(out.0)
}

/// One schedule as an event, before it is written.
struct Event {
    uid: String,
    start: DateTime,
    end: DateTime,
    /// Weekdays, Monday = 0, in order.
    days: Vec<u8>,
    until: Option<Timestamp>,
    summary: String,
    description: String,
    location: String,
    url: Option<String>,
    cancelled: bool,
}

/// Makes a schedule's event; None when its dates leave no day to open.
/// `made` holds the ids of this service's events so far, so two identical
/// schedules still get different `UID`s.
fn event(
    cal: &Calendar<'_>,
    tz: &TimeZone,
    service: &Service,
    s: &Schedule,
    made: &mut Vec<String>,
) -> Result<Option<Event>, String> {
    let mut days = parse_byday(&s.byday)?;
    days.sort_unstable();
    let opens = parse_time(&s.opens_at)?;
    let closes = parse_time(&s.closes_at)?;
    let from = s.valid_from.as_deref().map(read_date).transpose()?;
    let to = s.valid_to.as_deref().map(read_date).transpose()?;
    // With only an end date, start a week before it if it is older than
    // the anchor, so the schedule still has its last week.
    let base = match (from, to) {
        (Some(from), _) => from,
        (None, Some(to)) if to < ANCHOR => add_days(to, -6)?,
        (None, _) => ANCHOR,
    };
    let mut first = None;
    for n in 0..7 {
        let day = add_days(base, n)?;
        if days.contains(&weekday_index(day.weekday())) {
            first = Some(day);
            break;
        }
    }
    let Some(first) = first else {
        return Ok(None);
    };
    if to.is_some_and(|to| first > to) {
        return Ok(None);
    }
    let end_day = if closes <= opens {
        first.tomorrow().map_err(|e| e.to_string())?
    } else {
        first
    };
    let until = match to {
        Some(to) => Some(
            tz.to_ambiguous_timestamp(to.to_datetime(opens))
                .compatible()
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let place = s
        .location_id
        .as_ref()
        .and_then(|id| service.locations.iter().find(|l| &l.id == id))
        .or(service.locations.first());
    let location = place
        .map(|l| {
            [l.name.clone(), l.address.as_ref().map(address_text)]
                .into_iter()
                .flatten()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let description = [s.description.as_deref(), service.description.as_deref()]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let key = schedule_key(&days, opens, closes, from, to, s.location_id.as_deref());
    let same = made.iter().filter(|k| **k == key).count();
    made.push(key.clone());
    let uid = match same {
        0 => format!("{}-{key}@{}", service.id, cal.hub_id),
        n => format!("{}-{key}-{}@{}", service.id, n + 1, cal.hub_id),
    };
    Ok(Some(Event {
        uid,
        start: first.to_datetime(opens),
        end: end_day.to_datetime(closes),
        days,
        until,
        summary: service.name.clone(),
        description,
        location,
        url: (cal.page_url)(service),
        cancelled: service.status != ServiceStatus::Active,
    }))
}

/// What a schedule is, as 16 hex digits: its days, hours, dates and place
/// (not its words, which a hub may reword without it becoming another
/// session), read into one canonical form so `WE,MO` and `MO,WE` or
/// `09:00` and `09:00:00` are the same session.
fn schedule_key(
    days: &[u8],
    opens: Time,
    closes: Time,
    from: Option<Date>,
    to: Option<Date>,
    location: Option<&str>,
) -> String {
    let text = format!(
        "{days:?}\u{1f}{opens}\u{1f}{closes}\u{1f}{from:?}\u{1f}{to:?}\u{1f}{}",
        location.unwrap_or("")
    );
    Sha256::digest(text.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_date(text: &str) -> Result<Date, String> {
    text.parse::<Date>()
        .map_err(|_| format!("{text:?} is not a date like 2026-03-31"))
}

fn add_days(date: Date, n: i64) -> Result<Date, String> {
    date.checked_add(Span::new().days(n))
        .map_err(|e| e.to_string())
}

fn weekday_index(day: Weekday) -> u8 {
    day.to_monday_zero_offset().unsigned_abs()
}

/// A local date and time, `YYYYMMDDTHHMMSS` (a "floating" or `TZID` form).
fn local(t: DateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A moment in UTC, `YYYYMMDDTHHMMSSZ`.
fn utc(t: Timestamp) -> String {
    format!("{}Z", local(Offset::UTC.to_datetime(t)))
}

/// A UTC offset as RFC 5545 writes it: `+0100`, `-0330`, `-000115`.
fn offset_text(offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.unsigned_abs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

/// Escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and
/// line breaks; other control characters, which TEXT may not hold, go.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn strip_controls(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

/// A parameter value (RFC 5545 3.2), quoted when it holds `:`, `;` or `,`;
/// a double quote, which no parameter value may hold, goes.
fn param_value(value: &str) -> String {
    let clean: String = strip_controls(value).replace('"', "");
    if clean.contains([':', ';', ',']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// Folds one content line into `out`: at most 75 octets a line, never
/// inside a UTF-8 character, continued on lines that start with a space.
pub fn fold(line: &str, out: &mut String) {
    let mut rest = line;
    let mut room = MAX_LINE_OCTETS;
    while rest.len() > room {
        let mut cut = room;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        // The leading space counts towards the next line's 75.
        room = MAX_LINE_OCTETS - 1;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

/// The calendar's text as it is written, line by line.
#[derive(Default)]
struct Lines(String);

impl Lines {
    /// A content line, folded.
    fn line(&mut self, line: &str) {
        fold(line, &mut self.0);
    }

    /// A property with a TEXT value, escaped.
    fn text(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{}", escape_text(value)));
    }
}

#[cfg(test)]
mod tests;
