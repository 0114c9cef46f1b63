//! Opening hours as weekly spans of local minutes, the form "open at" is
//! asked in. A schedule that runs past midnight (22:00–02:00) becomes two
//! spans, one on each day, so every question is a simple range test.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use signpost_spec::{parse_byday, parse_time, Schedule};

/// One span of opening on one weekday, in the hub's local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklySpan {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minutes after local midnight when it opens (inclusive).
    pub opens_min: u16,
    /// Minutes after local midnight when it closes (exclusive; 1440 = midnight).
    pub closes_min: u16,
    /// First date it applies (`YYYY-MM-DD`), if limited.
    pub valid_from: Option<String>,
    /// Last date it applies (`YYYY-MM-DD`), if limited.
    pub valid_to: Option<String>,
}

fn minutes(value: &str) -> Option<u16> {
    let t = parse_time(value).ok()?;
    Some(t.hour() as u16 * 60 + t.minute() as u16)
}

/// Spans for a service's schedules (schedules that do not parse are left
/// out; verified listings always parse).
pub fn weekly_spans(schedules: &[Schedule]) -> Vec<WeeklySpan> {
    let mut spans = Vec::new();
    for s in schedules {
        let (Ok(days), Some(opens), Some(closes)) = (
            parse_byday(&s.byday),
            minutes(&s.opens_at),
            minutes(&s.closes_at),
        ) else {
            continue;
        };
        for day in days {
            let span = |weekday: u8, opens_min: u16, closes_min: u16| WeeklySpan {
                weekday,
                opens_min,
                closes_min,
                valid_from: s.valid_from.clone(),
                valid_to: s.valid_to.clone(),
            };
            if closes > opens {
                spans.push(span(day, opens, closes));
            } else {
                spans.push(span(day, opens, 24 * 60));
                if closes > 0 {
                    spans.push(span((day + 1) % 7, 0, closes));
                }
            }
        }
    }
    spans
}

/// A moment as a hub in `timezone` sees it: weekday, minute of the day and
/// date (falls back to UTC for a zone this build does not know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMoment {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minutes after local midnight.
    pub minute: u16,
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
}

/// Converts an instant into a hub's local weekday, minute and date.
pub fn local_moment(at: Timestamp, timezone: &str) -> LocalMoment {
    let tz = TimeZone::get(timezone).unwrap_or(TimeZone::UTC);
    let local = at.to_zoned(tz);
    let date: Date = local.date();
    LocalMoment {
        weekday: local.weekday().to_monday_zero_offset() as u8,
        minute: local.hour() as u16 * 60 + local.minute() as u16,
        date: date.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(byday: &str, opens: &str, closes: &str) -> Schedule {
        Schedule::weekly(byday, opens, closes)
    }

    #[test]
    fn overnight_sessions_split_at_midnight() {
        let spans = weekly_spans(&[schedule("SU", "22:00", "02:00")]);
        assert_eq!(spans.len(), 2);
        assert_eq!(
            (spans[0].weekday, spans[0].opens_min, spans[0].closes_min),
            (6, 1320, 1440)
        );
        assert_eq!(
            (spans[1].weekday, spans[1].opens_min, spans[1].closes_min),
            (0, 0, 120)
        );
        let spans = weekly_spans(&[schedule("MO,WE", "09:00", "12:30")]);
        assert_eq!(spans.len(), 2);
        assert_eq!(
            (spans[1].weekday, spans[1].opens_min, spans[1].closes_min),
            (2, 540, 750)
        );
    }

    #[test]
    fn local_time_follows_daylight_saving() {
        // 09:30 UTC in July is 10:30 in London; in January it is 09:30.
        let summer: Timestamp = "2026-07-06T09:30:00Z".parse().unwrap();
        let m = local_moment(summer, "Europe/London");
        assert_eq!(
            (m.weekday, m.minute, m.date.as_str()),
            (0, 630, "2026-07-06")
        );
        let winter: Timestamp = "2026-01-05T09:30:00Z".parse().unwrap();
        let m = local_moment(winter, "Europe/London");
        assert_eq!((m.weekday, m.minute), (0, 570));
    }
}
