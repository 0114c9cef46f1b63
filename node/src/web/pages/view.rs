//! Services, hubs and times put into words for the pages: opening times as
//! days and hours, access routes as what a person does, addresses as one
//! line, and how long ago a listing was signed. Every value stays plain
//! text here; the templates escape it.

use jiff::Timestamp;
use signpost_spec::{
    parse_byday, AccessRoute, Coordination, Dimensions, Focus, Governance, Schedule, Service,
    ServiceStatus, Space,
};

use signpost_client::store::aggregator::address_text;

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// One schedule in words: "Tuesday, Thursday 10:00 to 13:00 (term time only)".
pub fn schedule_words(s: &Schedule) -> String {
    let days = match parse_byday(&s.byday) {
        Ok(mut days) => {
            days.sort_unstable();
            day_runs(&days)
        }
        Err(_) => s.byday.clone(),
    };
    let mut text = format!(
        "{days} {} to {}",
        short_time(&s.opens_at),
        short_time(&s.closes_at)
    );
    match (&s.valid_from, &s.valid_to) {
        (Some(from), Some(to)) => text.push_str(&format!(", from {from} until {to}")),
        (Some(from), None) => text.push_str(&format!(", from {from}")),
        (None, Some(to)) => text.push_str(&format!(", until {to}")),
        (None, None) => {}
    }
    if let Some(d) = &s.description {
        text.push_str(&format!(" ({d})"));
    }
    text
}

/// Days as words, with runs of three or more joined: "Monday to Friday".
fn day_runs(days: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let mut j = i;
        while j + 1 < days.len() && days[j + 1] == days[j] + 1 {
            j += 1;
        }
        let name = |d: u8| DAY_NAMES.get(usize::from(d)).copied().unwrap_or("?");
        if j >= i + 2 {
            parts.push(format!("{} to {}", name(days[i]), name(days[j])));
        } else {
            parts.extend(days[i..=j].iter().map(|d| name(*d).to_owned()));
        }
        i = j + 1;
    }
    parts.join(", ")
}

fn short_time(t: &str) -> &str {
    t.strip_suffix(":00").filter(|s| s.len() == 5).unwrap_or(t)
}

/// What a person does to use a service reached by `route`.
pub fn access_words(route: AccessRoute) -> &'static str {
    match route {
        AccessRoute::WalkIn => "Walk in during opening times",
        AccessRoute::SelfReferral => "Contact them yourself to ask",
        AccessRoute::ProfessionalReferral => {
            "Needs a referral from a professional (a GP, social prescriber or support worker)"
        }
    }
}

/// A note for services that are not running normally.
pub fn status_note(status: ServiceStatus) -> Option<&'static str> {
    match status {
        ServiceStatus::Active => None,
        ServiceStatus::Inactive => Some("Not running at the moment"),
        ServiceStatus::Defunct => Some("This service has stopped"),
        ServiceStatus::TemporarilyClosed => Some("Temporarily closed"),
    }
}

/// An address only when it is an http(s) link, so no other scheme
/// (`javascript:`, `data:`) can ever reach an `href`.
pub fn safe_href(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| url.trim().to_owned())
}

/// A `tel:` address: digits and a leading `+` only.
pub fn tel_href(number: &str) -> String {
    let digits: String = number
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    format!("tel:{digits}")
}

/// "3 hours ago", "2 days ago": how long before `now` a moment was.
pub fn ago(now: i64, then: i64) -> String {
    let secs = (now - then).max(0);
    let (n, unit) = match secs {
        0..=59 => return "just now".to_owned(),
        60..=3599 => (secs / 60, "minute"),
        3600..=86_399 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// A moment as people read it, in UTC: "23 Nov 2026 10:04 UTC".
pub fn when(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.strftime("%-d %b %Y %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The four dimensions of a hub in words.
pub fn dimension_words(d: &Dimensions) -> Vec<(&'static str, String)> {
    let space: Vec<&str> = d
        .space
        .iter()
        .map(|s| match s {
            Space::Dedicated => "a place of its own",
            Space::PopUp => "pop-up places",
            Space::Virtual => "online (virtual)",
        })
        .collect();
    vec![
        ("Space", space.join(", ")),
        (
            "Led by",
            match d.governance {
                Governance::CommunityLed => "the community (voluntary sector)",
                Governance::StatutoryLed => "public services (council or NHS)",
                Governance::Partnership => "a partnership",
            }
            .to_owned(),
        ),
        (
            "Focus",
            match d.focus {
                Focus::Generic => "many kinds of help in one place",
                Focus::Specialised => "one area of need",
            }
            .to_owned(),
        ),
        (
            "Role",
            match d.coordination {
                Coordination::FirstLevel => "runs services for people",
                Coordination::SecondLevel => "coordinates other hubs",
            }
            .to_owned(),
        ),
    ]
}

/// One place of a service.
#[derive(Debug, Clone)]
pub struct PlaceView {
    pub name: String,
    pub address: String,
    pub accessibility: String,
}

/// A service ready for a page.
#[derive(Debug, Clone)]
pub struct ServiceView {
    /// Stable id for the result element (`result-N`).
    pub anchor: String,
    pub name: String,
    /// This service's own page.
    pub href: String,
    pub hub_name: String,
    pub hub_href: String,
    pub description: String,
    /// The description cut to a few lines, for lists.
    pub summary: String,
    pub status_note: String,
    pub hours: Vec<String>,
    pub access: Vec<&'static str>,
    pub application_process: String,
    /// `(tel: address, number as written)`.
    pub phones: Vec<(String, String)>,
    pub email: String,
    pub website: String,
    pub places: Vec<PlaceView>,
    pub categories: Vec<String>,
    pub eligibility: String,
    /// The ages it is for, in words ("16 to 25", "60 and over"); empty
    /// when the hub gave none.
    pub ages: String,
    pub fees: String,
    pub languages: Vec<String>,
    pub contacts: Vec<String>,
    pub organization: String,
    /// "1.2 km away", when searched near a place.
    pub distance: String,
    /// First located place, for the map: (latitude, longitude).
    pub point: Option<(String, String)>,
    /// "Updated 2 days ago".
    pub freshness: String,
    /// True when the hub's listing has expired.
    pub stale: bool,
}

/// Cuts text to about `max` characters at a word boundary.
pub fn summary(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map(|(a, _)| a).unwrap_or(&cut);
    format!("{}\u{2026}", cut.trim_end_matches([',', '.', ';', ':']))
}

/// The address of a service's page.
pub fn service_href(hub_id: &str, service_id: &str) -> String {
    format!("/services/{}/{}", path_part(hub_id), path_part(service_id))
}

/// The address of a hub's page.
pub fn hub_href(hub_id: &str) -> String {
    format!("/hubs/{}", path_part(hub_id))
}

/// Percent-encodes one path segment.
pub fn path_part(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
        .replace("%3A", ":")
}

/// Makes the view of one service of a hub.
pub fn service_view(hub_id: &str, hub_name: &str, s: &Service) -> ServiceView {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let description = text(&s.description);
    let point = s
        .locations
        .iter()
        .find_map(|l| match (l.latitude, l.longitude) {
            (Some(lat), Some(lon)) => Some((lat.to_string(), lon.to_string())),
            _ => None,
        });
    let mut phones: Vec<(String, String)> = s
        .phones
        .iter()
        .map(|p| (tel_href(&p.number), p.number.clone()))
        .collect();
    let mut contacts = Vec::new();
    for c in &s.contacts {
        let mut parts: Vec<String> = [&c.name, &c.title].into_iter().flatten().cloned().collect();
        if let Some(e) = &c.email {
            parts.push(e.clone());
        }
        if let Some(p) = &c.phone {
            parts.push(p.clone());
        }
        if !parts.is_empty() {
            contacts.push(parts.join(", "));
        }
    }
    phones.dedup();
    ServiceView {
        anchor: String::new(),
        name: s.name.clone(),
        href: service_href(hub_id, &s.id),
        hub_name: hub_name.to_owned(),
        hub_href: hub_href(hub_id),
        summary: summary(&description, 280),
        description,
        status_note: status_note(s.status).unwrap_or("").to_owned(),
        hours: s.schedules.iter().map(schedule_words).collect(),
        access: s.access.iter().map(|a| access_words(*a)).collect(),
        application_process: text(&s.application_process),
        phones,
        email: text(&s.email),
        website: s.url.as_deref().and_then(safe_href).unwrap_or_default(),
        places: s
            .locations
            .iter()
            .map(|l| PlaceView {
                name: text(&l.name),
                address: l.address.as_ref().map(address_text).unwrap_or_default(),
                accessibility: text(&l.accessibility),
            })
            .filter(|p| !(p.name.is_empty() && p.address.is_empty()))
            .collect(),
        categories: s.taxonomy_terms.iter().map(|t| t.name.clone()).collect(),
        eligibility: text(&s.eligibility_description),
        ages: ages_words(s.minimum_age, s.maximum_age),
        fees: text(&s.fees_description),
        languages: s
            .languages
            .iter()
            .filter_map(|l| l.name.clone().or_else(|| l.code.clone()))
            .collect(),
        contacts,
        organization: s
            .organization
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        distance: String::new(),
        point,
        freshness: String::new(),
        stale: false,
    }
}

/// The ages a service is for, as a person would say them.
fn ages_words(minimum: Option<u8>, maximum: Option<u8>) -> String {
    match (minimum, maximum) {
        (Some(a), Some(b)) if a == b => format!("{a} only"),
        (Some(a), Some(b)) => format!("{a} to {b}"),
        (Some(a), None) => format!("{a} and over"),
        (None, Some(b)) => format!("up to {b}"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_times_read_as_words() {
        let s = Schedule {
            byday: "FR,MO,TU,WE,TH".into(),
            opens_at: "09:00".into(),
            closes_at: "17:30:00".into(),
            valid_from: None,
            valid_to: Some("2026-12-31".into()),
            description: Some("term time".into()),
            location_id: None,
        };
        assert_eq!(
            schedule_words(&s),
            "Monday to Friday 09:00 to 17:30, until 2026-12-31 (term time)"
        );
        assert_eq!(day_runs(&[0, 1, 3]), "Monday, Tuesday, Thursday");
    }

    #[test]
    fn only_web_links_become_links() {
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href(" data:text/html,x"), None);
        assert_eq!(safe_href("https://x.org").as_deref(), Some("https://x.org"));
        assert_eq!(tel_href("01253 477 477\"><b>"), "tel:01253477477");
        assert_eq!(ago(1000, 1000 - 7200), "2 hours ago");
        assert_eq!(summary("one two three four", 9), "one two\u{2026}");
        assert_eq!(
            hub_href("ed25519:ab_c-D"),
            "/hubs/ed25519:ab_c-D",
            "hub ids stay readable"
        );
    }
}
