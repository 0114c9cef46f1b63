use super::*;

fn service(id: &str, name: &str, schedules: Vec<Schedule>) -> Service {
    let mut s: Service = serde_json::from_value(serde_json::json!({
        "id": id, "name": name, "description": "Soup, bread; and a chat\nevery week",
        "locations": [
            {"id": "7d0e8f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6", "name": "Church hall",
             "address": {"address_1": "1 High Street", "city": "Blackpool", "postal_code": "FY1 1AA"}},
            {"id": "8e1f9a4b-2c3d-4e5f-9a01-b2c3d4e5f6a7", "name": "Library"}
        ]
    }))
    .expect("service");
    s.schedules = schedules;
    s
}

const ID: &str = "0b6a5c1e-8d2f-4a3b-9c4d-5e6f7a8b9c01";
const HUB: &str = "ed25519:Lq1QxCVtDBF5dg0sY4g2QOIJ_FLdQ4j95u4nMgQXgbg";

fn calendar(services: &[Service], timezone: &str) -> String {
    write(&Calendar {
        name: "Grange, Blackpool: timetable",
        hub_id: HUB,
        timezone,
        stamp: "2027-01-04T09:30:00Z".parse().expect("stamp"),
        services,
        page_url: &|s| Some(format!("https://directory.example.org/services/x/{}", s.id)),
    })
    .expect("calendar")
}

/// The content lines, unfolded (RFC 5545 3.1).
fn unfold(text: &str) -> Vec<String> {
    text.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The value of each line named `name` (parameters ignored).
fn values(lines: &[String], name: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(';'))
        })
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.to_owned()))
        .collect()
}

/// Reverses RFC 5545 TEXT escaping.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn long_lines_fold_at_75_octets_without_splitting_a_character() {
    for line in [
        format!("DESCRIPTION:{}", "a".repeat(300)),
        format!("DESCRIPTION:{}", "é".repeat(120)),
        format!("SUMMARY:x{}", "🍲 soup ".repeat(40)),
        "SHORT:line".to_owned(),
        "X:".to_owned() + &"b".repeat(73),
    ] {
        let mut out = String::new();
        fold(&line, &mut out);
        assert!(out.ends_with("\r\n"));
        for physical in out.split_terminator("\r\n") {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical}",
                physical.len()
            );
        }
        assert_eq!(out.trim_end_matches("\r\n").replace("\r\n ", ""), line);
        assert!(!out.replace("\r\n", "").contains(['\r', '\n']));
    }
}

#[test]
fn text_values_escape_as_rfc_5545_says_and_read_back() {
    // RFC 5545 3.3.11: backslash, semicolon, comma and newline.
    assert_eq!(escape_text(r"a\b"), r"a\\b");
    assert_eq!(escape_text("a;b,c"), r"a\;b\,c");
    assert_eq!(escape_text("one\ntwo\r\nthree"), r"one\ntwo\nthree");
    assert_eq!(escape_text("bell\u{7}tab\t"), "belltab\t");
    for text in ["Soup; bread, tea\\coffee\nand more", "plain", "; , \\ \n"] {
        assert_eq!(unescape(&escape_text(text)), text);
    }
}

#[test]
fn a_calendar_is_crlf_folded_stable_and_has_an_event_per_schedule() {
    let mut lunch = Schedule::weekly("MO,WE,FR", "12:00", "16:00");
    lunch.description = Some("Term time, mostly".into());
    let mut late = Schedule::weekly("SA", "22:00", "02:00");
    late.valid_from = Some("2027-03-01".into());
    late.valid_to = Some("2027-11-30".into());
    late.location_id = Some("8e1f9a4b-2c3d-4e5f-9a01-b2c3d4e5f6a7".into());
    let services = [
        service(ID, "Lunch club, with soup; and bread", vec![lunch, late]),
        service("1c7b6d2f-9e3a-4b4c-8d5e-6f7a8b9c0d12", "No hours", vec![]),
    ];
    let text = calendar(&services, "Europe/London");
    assert_eq!(text, calendar(&services, "Europe/London"), "stable");
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "CRLF only"
    );
    assert!(text.split_terminator("\r\n").all(|l| l.len() <= 75));
    let lines = unfold(&text);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    for (name, value) in [
        ("VERSION", "2.0"),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", "PUBLISH"),
        ("PRODID", PRODID),
        ("DTSTAMP", "20270104T093000Z"),
    ] {
        assert!(values(&lines, name).iter().all(|v| v == value), "{name}");
        assert!(!values(&lines, name).is_empty(), "{name}");
    }
    assert_eq!(
        values(&lines, "BEGIN")
            .iter()
            .filter(|v| *v == "VEVENT")
            .count(),
        2
    );
    let summaries = values(&lines, "SUMMARY");
    assert!(summaries
        .iter()
        .all(|s| unescape(s) == "Lunch club, with soup; and bread"));

    // The first session starts on the first Monday, Wednesday or Friday
    // on or after the anchor; the late one on the first Saturday on or
    // after its valid_from, closes the next day, and stops on valid_to.
    let starts = values(&lines, "DTSTART");
    let ends = values(&lines, "DTEND");
    let tzid = |v: &str| {
        lines
            .iter()
            .any(|l| l == &format!("DTSTART;TZID=Europe/London:{v}"))
    };
    let weekly_start: DateTime = ANCHOR.to_datetime(Time::constant(12, 0, 0, 0));
    assert!(tzid(&local(weekly_start)), "{starts:?}");
    let first_saturday = (0..7)
        .map(|n| add_days(jiff::civil::date(2027, 3, 1), n).expect("day"))
        .find(|d| d.weekday() == Weekday::Saturday)
        .expect("a Saturday");
    assert!(tzid(&local(
        first_saturday.to_datetime(Time::constant(22, 0, 0, 0))
    )));
    let sunday = first_saturday.tomorrow().expect("Sunday");
    assert!(ends.contains(&local(sunday.to_datetime(Time::constant(2, 0, 0, 0)))));
    let rules = values(&lines, "RRULE");
    let until = rules
        .iter()
        .find_map(|r| r.split(";UNTIL=").nth(1))
        .expect("an UNTIL");
    // 22:00 on 30 November in London is 22:00 UTC (GMT).
    assert_eq!(until, "20271130T220000Z");
    assert!(rules.contains(&"FREQ=WEEKLY;BYDAY=MO,WE,FR".to_owned()));
    let locations: Vec<String> = values(&lines, "LOCATION")
        .iter()
        .map(|l| unescape(l))
        .collect();
    assert!(locations.contains(&"Church hall, 1 High Street, Blackpool, FY1 1AA".to_owned()));
    assert!(
        locations.contains(&"Library".to_owned()),
        "the schedule's own place"
    );
    let descriptions: Vec<String> = values(&lines, "DESCRIPTION")
        .iter()
        .map(|d| unescape(d))
        .collect();
    assert!(descriptions
        .iter()
        .any(|d| d.starts_with("Term time, mostly\n\nSoup, bread; and a chat\nevery week")));
    assert_eq!(values(&lines, "URL").len(), 2);
    assert_eq!(values(&lines, "TZID"), ["Europe/London"]);
}

#[test]
fn uids_depend_on_the_session_not_on_its_place_in_the_list() {
    let lunch = Schedule::weekly("MO,WE,FR", "12:00", "16:00");
    let uids = |schedules: Vec<Schedule>| {
        values(
            &unfold(&calendar(
                &[service(ID, "Club", schedules)],
                "Europe/London",
            )),
            "UID",
        )
    };
    let before = uids(vec![lunch.clone()]);
    let mut reworded = lunch.clone();
    reworded.description = Some("Bring a friend".into());
    let after = uids(vec![Schedule::weekly("TU", "09:00", "10:00"), reworded]);
    assert_eq!(before.len(), 1);
    assert_eq!(after.len(), 2);
    assert_eq!(after[1], before[0], "added before it, reworded: same UID");
    assert_ne!(after[0], after[1]);
    // Days in another order and seconds written out are the same session.
    assert_eq!(
        uids(vec![Schedule::weekly("FR,MO,WE", "12:00:00", "16:00")]),
        before
    );
    // Two identical sessions still get two UIDs.
    let twice = uids(vec![lunch.clone(), lunch]);
    assert_ne!(twice[0], twice[1]);
    assert!(before[0].starts_with(ID) && before[0].ends_with(HUB));
}

#[test]
fn schedules_that_never_open_give_no_event_but_a_valid_calendar() {
    let mut never = Schedule::weekly("SA", "10:00", "11:00");
    never.valid_from = Some("2027-03-01".into());
    never.valid_to = Some("2027-03-05".into());
    let lines = unfold(&calendar(&[service(ID, "Club", vec![never])], "Asia/Tokyo"));
    assert!(values(&lines, "BEGIN").iter().all(|v| v != "VEVENT"));
    assert!(values(&lines, "BEGIN").iter().any(|v| v == "VTIMEZONE"));
    let unknown = write(&Calendar {
        name: "x",
        hub_id: HUB,
        timezone: "Mars/Olympus_Mons",
        stamp: Timestamp::UNIX_EPOCH,
        services: &[],
        page_url: &|_| None,
    });
    assert!(unknown.is_err());
}

/// One observance of a `VTIMEZONE` as this test reads it.
struct Read {
    start: DateTime,
    month: i8,
    nth: i8,
    weekday: Option<Weekday>,
    until: Option<Timestamp>,
    from: i32,
    to: i32,
}

fn offset_seconds(text: &str) -> i32 {
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits = &text[1..];
    let part = |i: usize| {
        digits
            .get(i..i + 2)
            .and_then(|d| d.parse::<i32>().ok())
            .unwrap_or(0)
    };
    sign * (part(0) * 3600 + part(2) * 60 + part(4))
}

fn read_local(text: &str) -> DateTime {
    DateTime::strptime("%Y%m%dT%H%M%S", text).expect("a local date-time")
}

/// The `nth` (or last, -1) `weekday` of a month.
fn nth_weekday(year: i16, month: i8, nth: i8, weekday: Weekday) -> jiff::civil::Date {
    let first = jiff::civil::date(year, month, 1);
    if nth > 0 {
        first
            .nth_weekday_of_month(nth, weekday)
            .expect("an nth weekday")
    } else {
        first
            .nth_weekday_of_month(-1, weekday)
            .expect("a last weekday")
    }
}

/// Reads the `VTIMEZONE` and lists its onsets (UTC instant, offset after)
/// up to 2100, as a calendar app following RFC 5545 would.
fn onsets_of(lines: &[String]) -> Vec<(Timestamp, i32)> {
    let mut reads = Vec::new();
    let mut current: Option<Read> = None;
    for line in lines {
        match line.as_str() {
            "BEGIN:STANDARD" | "BEGIN:DAYLIGHT" => {
                current = Some(Read {
                    start: DateTime::default(),
                    month: 0,
                    nth: 0,
                    weekday: None,
                    until: None,
                    from: 0,
                    to: 0,
                })
            }
            "END:STANDARD" | "END:DAYLIGHT" => reads.extend(current.take()),
            _ => {
                let Some(r) = current.as_mut() else { continue };
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                match name {
                    "DTSTART" => r.start = read_local(value),
                    "TZOFFSETFROM" => r.from = offset_seconds(value),
                    "TZOFFSETTO" => r.to = offset_seconds(value),
                    "RRULE" => {
                        for part in value.split(';') {
                            let Some((k, v)) = part.split_once('=') else {
                                continue;
                            };
                            match k {
                                "FREQ" => assert_eq!(v, "YEARLY"),
                                "BYMONTH" => r.month = v.parse().expect("month"),
                                "BYDAY" => {
                                    let (n, d) = v.split_at(v.len() - 2);
                                    r.nth = n.parse().expect("nth");
                                    let i = DAY_CODES.iter().position(|c| *c == d).expect("day");
                                    r.weekday = Some(
                                        Weekday::from_monday_zero_offset(i as i8).expect("weekday"),
                                    );
                                }
                                "UNTIL" => {
                                    let t = read_local(v.trim_end_matches('Z'));
                                    r.until = Some(Offset::UTC.to_timestamp(t).expect("until"));
                                }
                                other => panic!("unexpected RRULE part {other}"),
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut onsets = Vec::new();
    for r in reads {
        let at = |local: DateTime| {
            Offset::from_seconds(r.from)
                .expect("offset")
                .to_timestamp(local)
                .expect("instant")
        };
        onsets.push((at(r.start), r.to));
        let Some(weekday) = r.weekday else { continue };
        for year in r.start.year() + 1..=2100 {
            let day = nth_weekday(year, r.month, r.nth, weekday);
            let instant = at(day.to_datetime(r.start.time()));
            if r.until.is_some_and(|u| instant > u) {
                break;
            }
            onsets.push((instant, r.to));
        }
        let day = nth_weekday(r.start.year(), r.month, r.nth, weekday);
        assert_eq!(day, r.start.date(), "DTSTART is the rule's first day");
    }
    onsets.sort();
    onsets
}

#[test]
fn the_time_zone_gives_the_databases_offset_at_every_moment_to_2100() {
    let zones = [
        "Europe/London",
        "Europe/Dublin",
        "America/New_York",
        "Australia/Sydney",
        "Pacific/Chatham",
        "America/Sao_Paulo",
        "Asia/Tokyo",
        "Asia/Tehran",
        "UTC",
    ];
    for (zone, valid_from) in zones.iter().flat_map(|z| {
        [
            (*z, None),
            (*z, Some("1990-06-15")),
            (*z, Some("2050-01-03")),
        ]
    }) {
        let mut s = Schedule::weekly("MO", "09:00", "10:00");
        s.valid_from = valid_from.map(str::to_owned);
        let lines = unfold(&calendar(&[service(ID, "Club", vec![s])], zone));
        let onsets = onsets_of(&lines);
        let tz = TimeZone::get(zone).expect("zone");
        let first_event = lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("DTSTART;TZID={zone}:")))
            .map(read_local)
            .expect("an event");
        let first = tz
            .to_ambiguous_timestamp(first_event)
            .compatible()
            .expect("first");
        assert!(onsets[0].0 <= first, "{zone}: the first event is covered");
        let end = Offset::UTC
            .to_timestamp(jiff::civil::date(2100, 1, 1).to_datetime(Time::midnight()))
            .expect("end");
        // Every transition of the database, and a moment either side.
        let mut moments: Vec<Timestamp> = vec![first];
        for t in tz.following(first).take_while(|t| t.timestamp() < end) {
            let s = t.timestamp().as_second();
            moments.extend([s - 1, s, s + 1].map(|s| Timestamp::from_second(s).expect("moment")));
        }
        // And noon UTC on the first of every month.
        let mut day = Offset::UTC.to_datetime(first).date().first_of_month();
        while let Ok(noon) = Offset::UTC.to_timestamp(day.to_datetime(Time::constant(12, 0, 0, 0)))
        {
            if noon >= end {
                break;
            }
            if noon >= first {
                moments.push(noon);
            }
            day = day.checked_add(Span::new().months(1)).expect("next month");
        }
        for m in moments {
            let by_calendar = onsets
                .iter()
                .take_while(|(at, _)| *at <= m)
                .last()
                .map(|(_, to)| *to)
                .expect("an observance in force");
            assert_eq!(
                by_calendar,
                tz.to_offset(m).seconds(),
                "{zone} from {valid_from:?}, at {m}"
            );
        }
    }
}
