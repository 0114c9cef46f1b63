//! The iCalendar feeds end to end: a real hub publishes services with
//! opening times, a real aggregator crawls it, and its
//! `/services/{hub}/{service}/calendar.ics` and `/hubs/{hub}/calendar.ics`
//! are fetched over HTTP, parsed with a real iCalendar parser (`icalendar`)
//! and expanded with a real recurrence engine (`rrule`, which reads
//! `DTSTART;TZID=` with its own copy of the tz database). Every occurrence
//! in two weeks around each 2027 change of the clocks in Europe/London must
//! start at the wall time and on the weekday the service's page shows, and
//! the calendar's own `VTIMEZONE` must give the offset each occurrence has.

use std::collections::{BTreeMap, BTreeSet};

use icalendar::parser::{read_calendar, unfold, Component};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use reqwest::{Method, StatusCode};
use rrule::RRuleSet;
use serde_json::{json, Value};
use signpost_tests::{Reply, TestNode};

const ZONE: &str = "Europe/London";

/// Adds a service to the hub; gives its id.
async fn add(hub: &TestNode, body: Value) -> String {
    hub.add_service(body).await["id"]
        .as_str()
        .expect("the new service's id")
        .to_owned()
}

fn text(reply: &Reply) -> String {
    String::from_utf8(reply.body.clone()).expect("UTF-8")
}

/// One line of a service page's "Open" list, read back as a person reads
/// it: "Monday, Wednesday, Friday 12:00 to 16:00, from 2027-01-01 until
/// 2027-12-31 (words)".
#[derive(Debug, Clone, PartialEq)]
struct Hours {
    days: BTreeSet<i8>,
    opens: Time,
    closes: Time,
    from: Option<Date>,
    until: Option<Date>,
}

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn day_index(name: &str) -> i8 {
    DAY_NAMES
        .iter()
        .position(|d| *d == name)
        .unwrap_or_else(|| panic!("{name:?} is not a day")) as i8
}

fn html_text(s: &str) -> String {
    s.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Hours {
    fn read(line: &str) -> Hours {
        let words: Vec<&str> = line.split(' ').collect();
        let time = |w: &str| w.trim_end_matches(',').parse::<Time>().ok();
        let at = (0..words.len().saturating_sub(2))
            .find(|&i| {
                time(words[i]).is_some() && words[i + 1] == "to" && time(words[i + 2]).is_some()
            })
            .unwrap_or_else(|| panic!("{line:?} does not read as days and hours"));
        let mut days = BTreeSet::new();
        for part in words[..at].join(" ").split(", ") {
            match part.split_once(" to ") {
                Some((a, b)) => days.extend(day_index(a)..=day_index(b)),
                None => {
                    days.insert(day_index(part));
                }
            }
        }
        let rest = &words[at + 3..];
        let date_after = |word: &str| {
            rest.iter()
                .position(|w| *w == word)
                .and_then(|i| rest.get(i + 1))
                .map(|d| d.trim_end_matches(',').parse::<Date>().expect("a date"))
        };
        Hours {
            days,
            opens: time(words[at]).expect("opening time"),
            closes: time(words[at + 2]).expect("closing time"),
            from: date_after("from"),
            until: date_after("until"),
        }
    }

    /// The moments this line opens in `[first, last]` (local dates).
    fn starts(&self, tz: &TimeZone, first: Date, last: Date) -> BTreeSet<i64> {
        let mut out = BTreeSet::new();
        let mut day = first;
        while day <= last {
            let open_that_day = self.days.contains(&day.weekday().to_monday_zero_offset())
                && self.from.is_none_or(|f| day >= f)
                && self.until.is_none_or(|u| day <= u);
            if open_that_day {
                let at = tz
                    .to_ambiguous_timestamp(day.to_datetime(self.opens))
                    .compatible()
                    .expect("a moment");
                out.insert(at.as_second());
            }
            day = day.tomorrow().expect("next day");
        }
        out
    }

    /// The session's length on a day the clocks do not change, in seconds.
    fn length(&self) -> i64 {
        let secs = |t: Time| {
            i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())
        };
        let d = secs(self.closes) - secs(self.opens);
        if d > 0 {
            d
        } else {
            d + 86_400
        }
    }
}

/// The "Open" list of a service's page.
fn page_hours(body: &str) -> Vec<String> {
    let start = body
        .find("id=\"service-hours\">")
        .expect("an Open list on the page");
    let list = &body[start..];
    let list = &list[..list.find("</ul>").expect("the list's end")];
    list.split("<li>")
        .skip(1)
        .map(|item| html_text(item.split("</li>").next().unwrap_or_default()))
        .collect()
}

/// A parsed calendar: the one `VCALENDAR`'s components.
fn components(body: &str) -> Vec<Component<'static>> {
    let unfolded: &'static str = Box::leak(unfold(body).into_boxed_str());
    let calendar = read_calendar(unfolded).unwrap_or_else(|e| panic!("not iCalendar: {e}\n{body}"));
    // The parser gives the VCALENDAR's own properties and components.
    let version = calendar
        .properties
        .iter()
        .find(|p| p.name.as_str() == "VERSION")
        .map(|p| p.val.as_str());
    assert_eq!(version, Some("2.0"), "a VCALENDAR 2.0:\n{body}");
    calendar.components
}

fn property<'a>(c: &'a Component<'_>, name: &str) -> Option<&'a icalendar::parser::Property<'a>> {
    c.properties.iter().find(|p| p.name.as_str() == name)
}

fn value(c: &Component<'_>, name: &str) -> String {
    property(c, name)
        .map(|p| p.val.as_str().to_owned())
        .unwrap_or_else(|| panic!("no {name} in {}", c.name.as_str()))
}

/// `NAME;PARAMS:VALUE` as written, for the recurrence engine.
fn content_line(c: &Component<'_>, name: &str) -> String {
    let p = property(c, name).unwrap_or_else(|| panic!("no {name}"));
    let mut line = name.to_owned();
    for param in &p.params {
        line.push_str(&format!(
            ";{}={}",
            param.key.as_str(),
            param.val.as_ref().map(|v| v.as_str()).unwrap_or_default()
        ));
    }
    format!("{line}:{}", p.val.as_str())
}

fn events(body: &str) -> Vec<Component<'static>> {
    components(body)
        .into_iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect()
}

fn uids(body: &str) -> BTreeSet<String> {
    events(body).iter().map(|e| value(e, "UID")).collect()
}

/// One occurrence as the recurrence engine gives it.
#[derive(Debug)]
struct Occurrence {
    start: i64,
    /// Local wall time minus UTC at the start, as the engine applied it.
    offset: i64,
    length: i64,
}

/// Expands an event's `DTSTART;TZID`/`RRULE` with `rrule` up to `end`.
fn expand(event: &Component<'_>, end: i64) -> Vec<Occurrence> {
    let start_line = content_line(event, "DTSTART");
    let rules = format!("{start_line}\n{}", content_line(event, "RRULE"));
    let set: RRuleSet = rules
        .parse()
        .unwrap_or_else(|e| panic!("rrule refuses {rules:?}: {e}"));
    let end_set: RRuleSet = format!(
        "{}\n{}",
        content_line(event, "DTEND").replacen("DTEND", "DTSTART", 1),
        "RRULE:FREQ=DAILY;COUNT=1"
    )
    .parse()
    .expect("DTEND reads");
    let first_start = set
        .into_iter()
        .next()
        .expect("a first occurrence")
        .timestamp();
    let first_end = end_set.into_iter().next().expect("an end").timestamp();
    let length = first_end - first_start;
    let set: RRuleSet = rules.parse().expect("rules");
    set.into_iter()
        .take_while(|d| d.timestamp() < end)
        .map(|d| Occurrence {
            start: d.timestamp(),
            offset: (d.naive_local() - d.naive_utc()).num_seconds(),
            length,
        })
        .collect()
}

/// The offsets a calendar's `VTIMEZONE` says come into force, and when
/// (UTC seconds), up to `end`: each observance expanded with `rrule`, its
/// local onsets read as floating times (given to `rrule` as UTC wall
/// times, `UNTIL` moved by the same offset) and then placed by
/// `TZOFFSETFROM`, as RFC 5545 3.6.5 says.
fn zone_onsets(body: &str, end: i64) -> Vec<(i64, i64)> {
    let zone = components(body)
        .into_iter()
        .find(|c| c.name.as_str() == "VTIMEZONE")
        .expect("a VTIMEZONE");
    assert_eq!(value(&zone, "TZID"), ZONE);
    let offset = |text: String| {
        let sign = if text.starts_with('-') { -1 } else { 1 };
        let n = |i: usize| {
            text.get(i..i + 2)
                .and_then(|d| d.parse::<i64>().ok())
                .unwrap_or(0)
        };
        sign * (n(1) * 3600 + n(3) * 60 + n(5))
    };
    let mut onsets = Vec::new();
    for observance in &zone.components {
        let from = offset(value(observance, "TZOFFSETFROM"));
        let to = offset(value(observance, "TZOFFSETTO"));
        let start = value(observance, "DTSTART");
        let mut rule = property(observance, "RRULE")
            .map(|p| p.val.as_str().to_owned())
            .unwrap_or_else(|| "FREQ=YEARLY;COUNT=1".to_owned());
        if let Some((head, until)) = rule.split_once(";UNTIL=") {
            let wall = DateTime::strptime("%Y%m%dT%H%M%SZ", until).expect("UNTIL");
            let wall = wall
                .checked_add(Span::new().seconds(from))
                .expect("UNTIL moved");
            rule = format!("{head};UNTIL={}", wall.strftime("%Y%m%dT%H%M%SZ"));
        }
        let set: RRuleSet = format!("DTSTART:{start}Z\nRRULE:{rule}")
            .parse()
            .unwrap_or_else(|e| panic!("rrule refuses the observance {start} {rule}: {e}"));
        for local in set.into_iter() {
            let at = local.timestamp() - from;
            if at >= end {
                break;
            }
            onsets.push((at, to));
        }
    }
    onsets.sort();
    onsets
}

/// Two weeks of local dates around each change of the clocks in `year`.
fn windows(tz: &TimeZone, year: i16) -> Vec<(Date, Date)> {
    let start = jiff::civil::date(year, 1, 1)
        .to_zoned(tz.clone())
        .expect("new year")
        .timestamp();
    tz.following(start)
        .take_while(|t| t.timestamp().to_zoned(tz.clone()).year() == year)
        .map(|t| {
            let day = t.timestamp().to_zoned(tz.clone()).date();
            (
                day.checked_sub(Span::new().days(7)).expect("a week before"),
                day.checked_add(Span::new().days(7)).expect("a week after"),
            )
        })
        .collect()
}

fn midnight(tz: &TimeZone, day: Date) -> i64 {
    day.to_datetime(Time::midnight())
        .to_zoned(tz.clone())
        .expect("midnight")
        .timestamp()
        .as_second()
}

/// Checks a calendar against the pages of the services it covers: the
/// same sessions (each page line is one event), each occurrence in the
/// windows starting when the page says, with the offset the calendar's
/// own `VTIMEZONE` gives.
fn check_against_pages(body: &str, pages: &[Vec<Hours>], tz: &TimeZone) {
    let lines: Vec<&Hours> = pages.iter().flatten().collect();
    let events = events(body);
    assert_eq!(events.len(), lines.len(), "one event per schedule:\n{body}");
    let windows = windows(tz, 2027);
    assert_eq!(windows.len(), 2, "London changes its clocks twice in 2027");
    let end = midnight(tz, windows[1].1.tomorrow().expect("day"));
    let onsets = zone_onsets(body, end);
    let mut expected_all = BTreeSet::new();
    for line in &lines {
        for (first, last) in &windows {
            expected_all.extend(line.starts(tz, *first, *last));
        }
    }
    let mut found_all = BTreeSet::new();
    let mut utc_times: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for event in &events {
        assert!(
            value(event, "DTSTART").len() == 15,
            "a local time with TZID"
        );
        let tzid = property(event, "DTSTART")
            .and_then(|p| p.params.iter().find(|q| q.key.as_str() == "TZID"))
            .and_then(|q| q.val.as_ref())
            .map(|v| v.as_str().to_owned());
        assert_eq!(tzid.as_deref(), Some(ZONE));
        let occurrences = expand(event, end);
        let in_windows: Vec<&Occurrence> = occurrences
            .iter()
            .filter(|o| {
                windows.iter().any(|(a, b)| {
                    o.start >= midnight(tz, *a)
                        && o.start < midnight(tz, b.tomorrow().expect("day"))
                })
            })
            .collect();
        assert!(
            !in_windows.is_empty(),
            "{} opens in the windows",
            value(event, "UID")
        );
        // Which page line this event is: the one whose days and opening
        // time every occurrence has.
        let local = |o: &Occurrence| {
            Timestamp::from_second(o.start)
                .expect("moment")
                .to_zoned(tz.clone())
                .datetime()
        };
        let line = lines
            .iter()
            .find(|l| {
                in_windows.iter().all(|o| {
                    let at = local(o);
                    at.time() == l.opens && l.days.contains(&at.weekday().to_monday_zero_offset())
                })
            })
            .unwrap_or_else(|| panic!("no page line matches {}", value(event, "UID")));
        for o in &in_windows {
            found_all.insert(o.start);
            // The engine's offset is the zone's, and so is the calendar's own.
            assert_eq!(
                o.offset,
                i64::from(
                    tz.to_offset(Timestamp::from_second(o.start).expect("t"))
                        .seconds()
                )
            );
            let in_force = onsets
                .iter()
                .take_while(|(at, _)| *at <= o.start)
                .last()
                .map(|(_, to)| *to)
                .expect("an observance in force");
            assert_eq!(in_force, o.offset, "VTIMEZONE at {}", local(o));
            // It lasts as long as the page says, and on a night the clocks
            // do not change it ends at the page's closing time.
            assert_eq!(o.length, line.length());
            let end = Timestamp::from_second(o.start + o.length)
                .expect("end")
                .to_zoned(tz.clone())
                .datetime();
            let changed = tz
                .to_offset(Timestamp::from_second(o.start + o.length).expect("end"))
                .seconds() as i64
                != o.offset;
            if !changed {
                assert_eq!(end.time(), line.closes, "ends as the page says");
            }
            utc_times
                .entry(value(event, "UID"))
                .or_default()
                .insert(o.start.rem_euclid(86_400));
        }
        assert_eq!(
            in_windows.len(),
            in_windows
                .iter()
                .map(|o| local(o).date())
                .collect::<BTreeSet<_>>()
                .len(),
            "once a day at most"
        );
    }
    assert_eq!(
        found_all, expected_all,
        "the calendar opens exactly when the pages say"
    );
    // The times are the hub's wall times, not fixed UTC ones: each session
    // starts at two different UTC times of day across a change.
    for (uid, times) in utc_times {
        assert_eq!(
            times.len(),
            2,
            "{uid} keeps its wall time across the changes"
        );
    }
}

#[tokio::test]
async fn calendars_open_when_the_pages_say_across_changes_of_the_clocks() {
    let hub = TestNode::start("At The Grange").await;
    let lunch = add(
        &hub,
        json!({"name": "Lunch club", "description": "Soup, bread; and company.\nAll welcome.",
               "locations": [{"name": "Church hall", "latitude": 53.8240, "longitude": -3.0146,
                              "address": {"address_1": "Dinmore Avenue", "city": "Blackpool", "postal_code": "FY3 7RW"}}],
               "schedules": [
                   {"byday": "MO,WE,FR", "opens_at": "12:00", "closes_at": "16:00"},
                   {"byday": "SA", "opens_at": "22:00", "closes_at": "02:00",
                    "valid_from": "2027-01-09", "valid_to": "2027-11-27", "description": "Late cafe"}
               ]}),
    )
    .await;
    let jobs = add(
        &hub,
        json!({"name": "Job club", "schedules": [
            {"byday": "TU,TH", "opens_at": "09:30", "closes_at": "11:00:00", "valid_from": "2026-09-01"}
        ]}),
    )
    .await;
    add(&hub, json!({"name": "Helpline"})).await;
    let agg = TestNode::start_aggregator("Lancashire CVS", |_| {}).await;
    agg.add_source(&hub.node.url()).await;
    agg.crawl().await;
    let tz = TimeZone::get(ZONE).expect("zone");
    let hub_id = hub.hub_id.clone();

    let mut pages = Vec::new();
    for id in [&lunch, &jobs] {
        let page = agg.get(&format!("/services/{hub_id}/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let body = text(&page);
        let href = format!("/services/{hub_id}/{id}/calendar.ics");
        assert!(
            body.contains(&format!("href=\"{href}\" type=\"text/calendar\" id=\"service-calendar\">Add these times to your calendar</a>")),
            "{body}"
        );
        let hours: Vec<Hours> = page_hours(&body).iter().map(|l| Hours::read(l)).collect();
        assert!(!hours.is_empty());

        let reply = agg.get(&href).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("text/calendar; charset=utf-8")
        );
        let disposition = reply.header("content-disposition").expect("a file name");
        assert!(
            disposition.starts_with("inline; filename=\"") && disposition.ends_with(".ics\""),
            "{disposition}"
        );
        let calendar = text(&reply);
        assert!(calendar.split_terminator("\r\n").all(|l| l.len() <= 75));
        check_against_pages(&calendar, std::slice::from_ref(&hours), &tz);
        for event in events(&calendar) {
            let url = value(&event, "URL");
            assert!(
                url.starts_with("http") && url.ends_with(&format!("/services/{hub_id}/{id}")),
                "{url}"
            );
            assert!(value(&event, "SUMMARY").ends_with("club"));
        }

        // Fetched again: the same body, and 304 for the tag it had.
        let again = agg.get(&href).await;
        assert_eq!(again.body, reply.body, "stable between fetches");
        let tag = reply.header("etag").expect("an ETag");
        let cached = agg.get_with(&href, &[("if-none-match", &tag)]).await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
        pages.push(hours);
    }

    // The hub's timetable holds every schedule of every service.
    let hub_page = text(&agg.get(&format!("/hubs/{hub_id}")).await);
    let hub_href = format!("/hubs/{hub_id}/calendar.ics");
    assert!(hub_page.contains(&format!("href=\"{hub_href}\" type=\"text/calendar\" id=\"hub-calendar\">Subscribe to this hub's timetable (iCalendar)</a>")), "{hub_page}");
    let timetable = text(&agg.get(&hub_href).await);
    check_against_pages(&timetable, &pages, &tz);
    let lunch_calendar = text(
        &agg.get(&format!("/services/{hub_id}/{lunch}/calendar.ics"))
            .await,
    );
    let lunch_uids = uids(&lunch_calendar);
    let hub_uids = uids(&timetable);
    assert_eq!(hub_uids.len(), events(&timetable).len(), "UIDs are unique");
    assert!(lunch_uids.is_subset(&hub_uids));

    // Another service, and another session of the lunch club put first:
    // every UID there was stays.
    add(&hub, json!({"name": "Youth club", "schedules": [{"byday": "FR", "opens_at": "18:00", "closes_at": "20:00"}]})).await;
    let mut edited = hub
        .admin(Method::GET, &format!("/services/{lunch}"), None)
        .await
        .json()["service"]
        .take();
    let schedules = edited["schedules"].as_array_mut().expect("schedules");
    schedules.insert(
        0,
        json!({"byday": "SU", "opens_at": "10:00", "closes_at": "12:00"}),
    );
    let r = hub
        .admin(Method::PUT, &format!("/services/{lunch}"), Some(edited))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    agg.crawl().await;
    let lunch_after = uids(&text(
        &agg.get(&format!("/services/{hub_id}/{lunch}/calendar.ics"))
            .await,
    ));
    assert_eq!(lunch_after.len(), lunch_uids.len() + 1);
    assert!(
        lunch_uids.is_subset(&lunch_after),
        "{lunch_uids:?} {lunch_after:?}"
    );
    let timetable_after = text(&agg.get(&hub_href).await);
    assert!(hub_uids.is_subset(&uids(&timetable_after)));
    assert_eq!(events(&timetable_after).len(), events(&timetable).len() + 2);

    // Ids this directory does not hold are 404 pages, as the pages are.
    for path in [
        format!("/services/{hub_id}/00000000-0000-4000-8000-000000000000/calendar.ics"),
        "/services/ed25519:nobody/x/calendar.ics".to_owned(),
        "/hubs/ed25519:nobody/calendar.ics".to_owned(),
    ] {
        let r = agg.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"));
    }
}
