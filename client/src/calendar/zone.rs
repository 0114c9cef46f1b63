//! The `VTIMEZONE` of a calendar, made from the time zone database that
//! jiff bundles, so a calendar app needs no database of its own to place
//! `DTSTART;TZID=Europe/London:...` on both sides of a change of the
//! clocks.
//!
//! Why yearly rules found in the transitions, rather than the zone's POSIX
//! rule or a list of transitions: jiff does not expose a zone's POSIX rule,
//! and a list of explicit transitions can only cover a bounded span, while
//! a schedule without `valid_to` repeats for ever. So every transition from
//! the one in force at the calendar's first event up to [`SCAN_UNTIL_YEAR`]
//! (or a few years past that first event) is read from jiff, and
//! transitions of the same kind (offsets, abbreviation, daylight or not)
//! that fall in consecutive years on the same weekday of the same month
//! (`-1SU` of October, `2SU` of March) at the same local time are written
//! as one observance with `RRULE:FREQ=YEARLY;BYMONTH=..;BYDAY=..`. A run
//! that lasts to the end of the scan is the zone's lasting rule (past 2037
//! the database has no table, only that rule) and is written without
//! `UNTIL`; an older run ends with `UNTIL`, and a one-off change (war time,
//! a zone that changed its offset) is an observance of its own. Every
//! observance so describes exactly the transitions jiff gives, and the
//! last ones go on as the zone's rule does.
//!
//! A zone whose lasting rule does not fall on the same weekday of a month
//! in local time (none in use today) is exact up to the end of the scan and
//! keeps its last offset after it.

use jiff::civil::{DateTime, Time, Weekday};
use jiff::tz::{Offset, TimeZone, TimeZoneTransition};
use jiff::Timestamp;

use super::{local, offset_text, utc, Lines, DAY_CODES};

/// Transitions are read up to the start of this year at least: the tz
/// database lists them up to 2037 and gives the zone's lasting rule for
/// the years after, so by then the rule that holds for ever has been seen
/// for a couple of years.
const SCAN_UNTIL_YEAR: i16 = 2040;

/// Years read past the calendar's first event when that is later still.
const SCAN_YEARS_AFTER_FIRST: i16 = 3;

/// One change of the clocks: at `at`, from one offset to another.
struct Onset {
    at: Timestamp,
    from: Offset,
    to: Offset,
    dst: bool,
    abbreviation: String,
}

/// A day of the year as a yearly rule names it: the `nth` (or, -1, the
/// last) `weekday` of `month`, at a local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct YearlyDay {
    month: i8,
    nth: i8,
    weekday: Weekday,
    time: Time,
}

impl YearlyDay {
    fn of(t: DateTime) -> YearlyDay {
        let nth = if t.day() + 7 > t.days_in_month() {
            -1
        } else {
            (t.day() - 1) / 7 + 1
        };
        YearlyDay {
            month: t.month(),
            nth,
            weekday: t.weekday(),
            time: t.time(),
        }
    }
}

/// One observance: a run of transitions of one kind in consecutive years.
struct Observance {
    onset: Onset,
    /// Its first onset, in local time before it (as `DTSTART` is written).
    start: DateTime,
    day: YearlyDay,
    last_year: i16,
    last_at: Timestamp,
    count: u32,
}

impl Observance {
    /// Whether `o`, on `day` of `year`, carries this run on.
    fn continues(&self, o: &Onset, day: YearlyDay, year: i16) -> bool {
        self.onset.from == o.from
            && self.onset.to == o.to
            && self.onset.dst == o.dst
            && self.onset.abbreviation == o.abbreviation
            && self.day == day
            && self.last_year + 1 == year
    }
}

fn onset(tz: &TimeZone, t: &TimeZoneTransition<'_>) -> Onset {
    let before = Timestamp::from_second(t.timestamp().as_second() - 1)
        .map(|b| tz.to_offset(b))
        .unwrap_or(t.offset());
    Onset {
        at: t.timestamp(),
        from: before,
        to: t.offset(),
        dst: t.dst().is_dst(),
        abbreviation: t.abbreviation().to_owned(),
    }
}

/// The clock changes from the one in force at `first` to the end of the
/// scan, in order, and the scan's last year. A zone that never changed has
/// one, at `first` itself.
fn onsets(tz: &TimeZone, first: Timestamp) -> (Vec<Onset>, i16) {
    let year = Offset::UTC.to_datetime(first).year();
    let end_year = SCAN_UNTIL_YEAR.max(year.saturating_add(SCAN_YEARS_AFTER_FIRST));
    let end = jiff::civil::Date::new(end_year, 1, 1)
        .ok()
        .and_then(|d| {
            Offset::UTC
                .to_timestamp(d.to_datetime(Time::midnight()))
                .ok()
        })
        .unwrap_or(Timestamp::MAX);
    let mut found = Vec::new();
    let begin = match tz.preceding(first).next() {
        Some(t) => {
            found.push(onset(tz, &t));
            t.timestamp()
        }
        None => {
            let info = tz.to_offset_info(first);
            found.push(Onset {
                at: first,
                from: info.offset(),
                to: info.offset(),
                dst: info.dst().is_dst(),
                abbreviation: info.abbreviation().to_owned(),
            });
            first
        }
    };
    for t in tz.following(begin) {
        if t.timestamp() >= end {
            break;
        }
        found.push(onset(tz, &t));
    }
    (found, end_year - 1)
}

/// Groups onsets into observances, each run of one kind in consecutive
/// years on the same yearly day joined into one.
fn observances(onsets: Vec<Onset>) -> Vec<Observance> {
    let mut runs: Vec<Observance> = Vec::new();
    for o in onsets {
        let start = o.from.to_datetime(o.at);
        let day = YearlyDay::of(start);
        let year = start.year();
        if let Some(run) = runs.iter_mut().find(|r| r.continues(&o, day, year)) {
            run.last_year = year;
            run.last_at = o.at;
            run.count += 1;
            continue;
        }
        runs.push(Observance {
            start,
            day,
            last_year: year,
            last_at: o.at,
            count: 1,
            onset: o,
        });
    }
    runs
}

/// Writes the `VTIMEZONE` for `tzid`, exact from the observance in force
/// at `first` (the calendar's first event) onwards.
pub(super) fn write(out: &mut Lines, tzid: &str, tz: &TimeZone, first: Timestamp) {
    let (onsets, final_year) = onsets(tz, first);
    let runs = observances(onsets);
    out.line("BEGIN:VTIMEZONE");
    out.text("TZID", tzid);
    for run in &runs {
        let kind = if run.onset.dst {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        out.line(&format!("BEGIN:{kind}"));
        out.line(&format!("DTSTART:{}", local(run.start)));
        if run.count > 1 {
            let day = run.day;
            let code = DAY_CODES
                .get(usize::from(
                    day.weekday.to_monday_zero_offset().unsigned_abs(),
                ))
                .copied()
                .unwrap_or("SU");
            let mut rule = format!(
                "RRULE:FREQ=YEARLY;BYMONTH={};BYDAY={}{code}",
                day.month, day.nth
            );
            // Still running in the scan's last year: the zone's lasting rule.
            if run.last_year < final_year {
                rule.push_str(&format!(";UNTIL={}", utc(run.last_at)));
            }
            out.line(&rule);
        }
        out.line(&format!("TZOFFSETFROM:{}", offset_text(run.onset.from)));
        out.line(&format!("TZOFFSETTO:{}", offset_text(run.onset.to)));
        if !run.onset.abbreviation.is_empty() {
            out.text("TZNAME", &run.onset.abbreviation);
        }
        out.line(&format!("END:{kind}"));
    }
    out.line("END:VTIMEZONE");
}
