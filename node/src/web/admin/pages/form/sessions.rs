//! Opening times on the service form as rows a volunteer fills without
//! codes: each session is a set of ticked days and an opening and closing
//! time (`<input type="time">`). Rows are added with a plain submit button
//! that shows the form again with one more row, so no JavaScript is needed.
//!
//! A stored schedule the rows cannot show (one with dates, words or a
//! place of its own) is kept exactly as it is and listed on the form, so
//! editing a service never loses it.

use signpost_spec::{Schedule, Service};

use crate::web::form::{Choice, Errors, Values};

/// Most session rows a form shows or reads (a cap on what a form may send).
pub const MAX_SESSIONS: usize = 14;
/// Empty rows shown below the filled ones, to add sessions without a click.
const EMPTY_ROWS: usize = 2;
/// Days as the protocol's codes, with the words shown beside the boxes.
pub const DAYS: [(&str, &str); 7] = [
    ("MO", "Monday"),
    ("TU", "Tuesday"),
    ("WE", "Wednesday"),
    ("TH", "Thursday"),
    ("FR", "Friday"),
    ("SA", "Saturday"),
    ("SU", "Sunday"),
];
/// The hidden field carrying how many rows the form showed.
pub const COUNT_FIELD: &str = "sessions";
/// The name of the "Add another session" button.
pub const MORE_FIELD: &str = "more_sessions";

/// The form field name of row `i`'s `part` (`days`, `opens`, `closes`,
/// `overnight`).
pub fn field(i: usize, part: &str) -> String {
    format!("sess{i}_{part}")
}

/// One session row, ready for the template.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// The row's number from 0, in its fields' names.
    pub index: usize,
    pub legend: String,
    pub days: Vec<Choice>,
    pub opens: String,
    pub closes: String,
    pub overnight: bool,
    pub days_error: Option<String>,
    pub opens_error: Option<String>,
    pub closes_error: Option<String>,
}

/// The "When" part of the service form.
#[derive(Debug, Clone)]
pub struct When {
    pub rows: Vec<SessionRow>,
    /// How many rows are shown (sent back in [`COUNT_FIELD`]).
    pub count: usize,
    /// False once [`MAX_SESSIONS`] rows are shown.
    pub can_add: bool,
    /// Stored schedules the rows cannot show, in words; kept unchanged.
    pub kept: Vec<String>,
    /// True when the form was shown again to add a row (nothing saved).
    pub added_row: bool,
}

/// True when `s` fits a row: days and `HH:MM` times, nothing else.
fn fits_a_row(s: &Schedule) -> bool {
    s.valid_from.is_none()
        && s.valid_to.is_none()
        && s.description.is_none()
        && s.location_id.is_none()
        && day_set(&s.byday).is_some()
        && clock(&s.opens_at).is_some_and(|t| t.len() == 5 && t == s.opens_at)
        && clock(&s.closes_at).is_some_and(|t| t.len() == 5 && t == s.closes_at)
}

/// Splits stored schedules into those shown as rows (at most
/// [`MAX_SESSIONS`]) and those kept as they are.
fn split(schedules: &[Schedule]) -> (Vec<&Schedule>, Vec<&Schedule>) {
    let mut rows = Vec::new();
    let mut kept = Vec::new();
    for s in schedules {
        if rows.len() < MAX_SESSIONS && fits_a_row(s) {
            rows.push(s);
        } else {
            kept.push(s);
        }
    }
    (rows, kept)
}

/// The days of a `byday` list as a week-ordered set of flags, or None
/// when it names something that is not a day (or nothing, or a day twice).
fn day_set(byday: &str) -> Option<[bool; 7]> {
    let mut set = [false; 7];
    for code in byday.split(',') {
        let i = DAYS.iter().position(|(c, _)| *c == code.trim())?;
        if set[i] {
            return None;
        }
        set[i] = true;
    }
    set.iter().any(|d| *d).then_some(set)
}

/// A clock time `H:MM` or `HH:MM` (what a time input sends) as `HH:MM`.
fn clock(text: &str) -> Option<String> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    if !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then(|| format!("{h:02}:{m:02}"))
}

/// Puts a service's schedules into form values: one row each, in order.
pub fn push_values(v: &mut Values, schedules: &[Schedule]) {
    let (rows, _) = split(schedules);
    for (i, s) in rows.iter().enumerate() {
        for code in s.byday.split(',') {
            v.push(field(i, "days"), code.trim());
        }
        v.push(field(i, "opens"), s.opens_at.clone());
        v.push(field(i, "closes"), s.closes_at.clone());
        if s.closes_at < s.opens_at {
            v.push(field(i, "overnight"), "1");
        }
    }
    v.push(
        COUNT_FIELD,
        (rows.len() + EMPTY_ROWS).min(MAX_SESSIONS).to_string(),
    );
}

fn row_filled(v: &Values, i: usize) -> bool {
    v.has(&field(i, "days"))
        || !v.get(&field(i, "opens")).is_empty()
        || !v.get(&field(i, "closes")).is_empty()
}

/// How many rows to show: as many as the form had (one more when "Add
/// another session" was pressed), never fewer than the filled ones.
fn row_count(v: &Values) -> usize {
    let last_filled = (0..MAX_SESSIONS)
        .filter(|&i| row_filled(v, i))
        .max()
        .map_or(0, |i| i + 1);
    let shown = v
        .get(COUNT_FIELD)
        .parse::<usize>()
        .unwrap_or(last_filled + EMPTY_ROWS);
    let more = usize::from(v.has(MORE_FIELD));
    (shown.max(last_filled) + more).clamp(1, MAX_SESSIONS)
}

/// Words for a schedule kept as it is ("Monday 09:00 to 12:00, from
/// 2025-01-06: term time only").
fn kept_words(s: &Schedule) -> String {
    let days: Vec<&str> = s
        .byday
        .split(',')
        .map(|c| {
            DAYS.iter()
                .find(|(code, _)| *code == c.trim())
                .map_or(c, |(_, word)| *word)
        })
        .collect();
    let mut out = format!("{} {} to {}", days.join(", "), s.opens_at, s.closes_at);
    if let Some(from) = &s.valid_from {
        out.push_str(&format!(", from {from}"));
    }
    if let Some(to) = &s.valid_to {
        out.push_str(&format!(", until {to}"));
    }
    if s.location_id.is_some() {
        out.push_str(", at one of the places");
    }
    if let Some(d) = &s.description {
        out.push_str(&format!(": {d}"));
    }
    out
}

/// The rows for the template, filled with `values` and `errors`; `existing`
/// gives the schedules kept as they are.
pub fn view(v: &Values, errors: &Errors, existing: Option<&Service>) -> When {
    let count = row_count(v);
    let rows = (0..count)
        .map(|i| {
            let ticked = v.all(&field(i, "days"));
            let ticked: Vec<&str> = ticked.iter().map(|d| d.trim()).collect();
            let legend = if row_filled(v, i) {
                format!("Session {}", i + 1)
            } else {
                format!("Session {} (to add one)", i + 1)
            };
            SessionRow {
                index: i,
                legend,
                days: DAYS
                    .iter()
                    .map(|(code, word)| Choice::new(code, word, &ticked))
                    .collect(),
                opens: v.get(&field(i, "opens")).to_owned(),
                closes: v.get(&field(i, "closes")).to_owned(),
                overnight: v.has(&field(i, "overnight")),
                days_error: errors.get(&field(i, "days")).cloned(),
                opens_error: errors.get(&field(i, "opens")).cloned(),
                closes_error: errors.get(&field(i, "closes")).cloned(),
            }
        })
        .collect();
    let kept = existing
        .map(|s| split(&s.schedules).1.into_iter().map(kept_words).collect())
        .unwrap_or_default();
    When {
        rows,
        count,
        can_add: count < MAX_SESSIONS,
        kept,
        added_row: v.has(MORE_FIELD),
    }
}

/// One row as read: its days and times.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    days: [bool; 7],
    opens: String,
    closes: String,
}

impl Row {
    fn of(s: &Schedule) -> Option<Row> {
        Some(Row {
            days: day_set(&s.byday)?,
            opens: s.opens_at.clone(),
            closes: s.closes_at.clone(),
        })
    }

    fn schedule(&self) -> Schedule {
        let byday = DAYS
            .iter()
            .zip(self.days)
            .filter(|(_, on)| *on)
            .map(|((code, _), _)| *code)
            .collect::<Vec<_>>()
            .join(",");
        Schedule::weekly(&byday, &self.opens, &self.closes)
    }
}

fn read_row(v: &Values, i: usize, errors: &mut Errors) -> Option<Row> {
    if !row_filled(v, i) {
        return None;
    }
    let mut days = [false; 7];
    for d in v.all(&field(i, "days")) {
        match DAYS.iter().position(|(code, _)| *code == d.trim()) {
            Some(n) => days[n] = true,
            None => errors.add(field(i, "days"), "Choose from the days shown."),
        }
    }
    let time = |part: &str, what: &str, errors: &mut Errors| -> Option<String> {
        let text = v.get(&field(i, part));
        if text.is_empty() {
            errors.add(field(i, part), format!("Give the time it {what}."));
            return None;
        }
        let t = clock(text);
        if t.is_none() {
            errors.add(
                field(i, part),
                format!("\u{201c}{text}\u{201d} is not a time: write it like 09:30 or 17:00."),
            );
        }
        t
    };
    let opens = time("opens", "opens", errors);
    let closes = time("closes", "closes", errors);
    if !days.iter().any(|d| *d) {
        errors.add(
            field(i, "days"),
            "Tick at least one day for these times, or clear the times.",
        );
    }
    let (opens, closes) = (opens?, closes?);
    if closes == opens {
        errors.add(
            field(i, "closes"),
            "It closes at the time it opens: give a later closing time.",
        );
        return None;
    }
    if closes < opens && !v.has(&field(i, "overnight")) {
        errors.add(
            field(i, "closes"),
            format!(
                "It closes ({closes}) before it opens ({opens}). Give a later closing time, \
                 or tick \u{201c}Closes after midnight\u{201d}."
            ),
        );
        return None;
    }
    days.iter().any(|d| *d).then_some(Row {
        days,
        opens,
        closes,
    })
}

/// Which form row each schedule of the built service came from (None: a
/// schedule kept as it was), so a message lands next to the right row.
pub type Origins = Vec<Option<usize>>;

/// Reads the rows into schedules. Rows left as they were give back the
/// stored schedules unchanged (same order, same words); schedules the rows
/// cannot show are kept after the rows.
pub fn read(
    v: &Values,
    existing: Option<&[Schedule]>,
    errors: &mut Errors,
) -> (Vec<Schedule>, Origins) {
    let mut rows = Vec::new();
    for i in 0..MAX_SESSIONS {
        if let Some(row) = read_row(v, i, errors) {
            rows.push((i, row));
        }
    }
    let stored = existing.unwrap_or_default();
    let (shown, kept) = split(stored);
    let before: Vec<Option<Row>> = shown.iter().map(|s| Row::of(s)).collect();
    let untouched = before.len() == rows.len()
        && before
            .iter()
            .zip(&rows)
            .all(|(b, (_, r))| b.as_ref() == Some(r));
    if untouched {
        let mut next_row = rows.iter().map(|(i, _)| *i);
        let origins = stored
            .iter()
            .map(|s| {
                if shown.iter().any(|x| std::ptr::eq(*x, s)) {
                    next_row.next()
                } else {
                    None
                }
            })
            .collect();
        return (stored.to_vec(), origins);
    }
    let mut out = Vec::new();
    let mut origins = Vec::new();
    for (i, row) in rows {
        // A row equal to a stored one keeps that schedule as written.
        let same = shown
            .iter()
            .find(|s| Row::of(s).as_ref() == Some(&row))
            .map(|s| (*s).clone());
        out.push(same.unwrap_or_else(|| row.schedule()));
        origins.push(Some(i));
    }
    for s in kept {
        out.push(s.clone());
        origins.push(None);
    }
    (out, origins)
}

/// The form field a message about `schedules[n].leaf` belongs to.
pub fn error_field(n: usize, leaf: &str, origins: &Origins) -> String {
    match origins.get(n).copied().flatten() {
        Some(i) => match leaf {
            "opens_at" => field(i, "opens"),
            "closes_at" => field(i, "closes"),
            _ => field(i, "days"),
        },
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(byday: &str, opens: &str, closes: &str) -> Schedule {
        Schedule::weekly(byday, opens, closes)
    }

    fn form(pairs: &[(&str, &str)]) -> Values {
        Values::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn rows_become_schedules_and_stored_ones_come_back_unchanged() {
        let v = form(&[
            ("sess0_days", "TU"),
            ("sess0_days", "TH"),
            ("sess0_opens", "10:00"),
            ("sess0_closes", "13:00"),
            ("sess2_days", "SA"),
            ("sess2_opens", "9:30"),
            ("sess2_closes", "12:00"),
        ]);
        let mut errors = Errors::default();
        let (list, origins) = read(&v, None, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            list,
            [
                sched("TU,TH", "10:00", "13:00"),
                sched("SA", "09:30", "12:00")
            ]
        );
        assert_eq!(origins, [Some(0), Some(2)]);

        // Stored in an odd order, with one the rows cannot show between.
        let mut dated = sched("MO", "09:00", "10:00");
        dated.valid_from = Some("2025-01-06".into());
        let stored = vec![
            sched("WE,MO", "09:00", "12:00"),
            dated.clone(),
            sched("FR", "22:00", "02:00"),
        ];
        let mut v = Values::default();
        push_values(&mut v, &stored);
        assert_eq!(v.get(COUNT_FIELD), "4");
        assert!(v.has("sess1_overnight"));
        let (list, origins) = read(&v, Some(&stored), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(list, stored, "untouched rows save unchanged");
        assert_eq!(origins, [Some(0), None, Some(1)]);
        let when = view(&v, &errors, None);
        assert_eq!(when.count, 4);
        assert!(when.rows[0].days[0].selected && when.rows[0].days[2].selected);

        // A changed row: the dated one is still kept.
        let mut v = Values::default();
        push_values(&mut v, &stored);
        v.push("sess2_days", "SU");
        v.push("sess2_opens", "10:00");
        v.push("sess2_closes", "11:00");
        let (list, _) = read(&v, Some(&stored), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(list.len(), 4);
        assert_eq!(list[0].byday, "WE,MO", "an unchanged row keeps its words");
        assert_eq!(list[3], dated);
    }

    #[test]
    fn mistakes_are_told_by_field() {
        let v = form(&[
            ("sess0_days", "MO"),
            ("sess0_opens", "17:00"),
            ("sess0_closes", "09:00"),
            ("sess1_opens", "10:00"),
            ("sess1_closes", "11:00"),
            ("sess2_days", "XX"),
            ("sess2_opens", "nine"),
            ("sess3_days", "FR"),
            ("sess3_opens", "22:00"),
            ("sess3_closes", "02:00"),
            ("sess3_overnight", "1"),
        ]);
        let mut errors = Errors::default();
        let (list, _) = read(&v, None, &mut errors);
        assert!(errors.get("sess0_closes").is_some());
        assert!(errors.get("sess1_days").is_some());
        assert!(errors.get("sess2_days").is_some());
        assert!(errors.get("sess2_opens").is_some());
        assert!(errors.get("sess2_closes").is_some());
        assert!(errors.get("sess3_closes").is_none(), "{errors:?}");
        assert_eq!(list, [sched("FR", "22:00", "02:00")]);
    }

    #[test]
    fn another_row_is_added_up_to_the_cap() {
        let v = form(&[(COUNT_FIELD, "3"), (MORE_FIELD, "1")]);
        assert_eq!(view(&v, &Errors::default(), None).count, 4);
        let v = form(&[(COUNT_FIELD, "999"), (MORE_FIELD, "1")]);
        let w = view(&v, &Errors::default(), None);
        assert_eq!((w.count, w.can_add), (MAX_SESSIONS, false));
        assert_eq!(view(&Values::default(), &Errors::default(), None).count, 2);
    }
}
