//! Opening times read the way people write them in spreadsheets and forms:
//! `Mon-Fri 9am-5pm`, `Monday to Friday 09:00–17:00`, `Tues & Thurs 10-2`,
//! `weekdays 9-12, 1-4`, `Sat 10am-1pm; Sun closed`, and the compact form
//! the protocol's tools write (`MO,WE 09:00-12:00; SA 10:00-14:00`).
//!
//! What cannot be read is an error that quotes it, so an import can keep
//! the words for people and flag the row, rather than guess.

use signpost_spec::Schedule;

/// Every form understood, as (what a person wrote, what it is read as in
/// the compact form). The tests read each; the hub guide's table of hour
/// formats is generated from this list.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "MO,WE 09:00-12:00; SA 10:00-14:00",
        "MO,WE 09:00-12:00; SA 10:00-14:00",
    ),
    ("Mon-Fri 9am-5pm", "MO,TU,WE,TH,FR 09:00-17:00"),
    ("Monday to Friday 09:00–17:00", "MO,TU,WE,TH,FR 09:00-17:00"),
    ("Mon - Fri 9-5", "MO,TU,WE,TH,FR 09:00-17:00"),
    ("Tues & Thurs 10-2", "TU,TH 10:00-14:00"),
    (
        "Tuesdays and Thursdays 1.30pm to 3.30pm",
        "TU,TH 13:30-15:30",
    ),
    (
        "weekdays 9-12, 1-4",
        "MO,TU,WE,TH,FR 09:00-12:00; MO,TU,WE,TH,FR 13:00-16:00",
    ),
    ("Weekends 10am - 2pm", "SA,SU 10:00-14:00"),
    ("Daily 8:00-20:00", "MO,TU,WE,TH,FR,SA,SU 08:00-20:00"),
    (
        "Every day 12 noon - 2pm",
        "MO,TU,WE,TH,FR,SA,SU 12:00-14:00",
    ),
    (
        "Monday 10am-12pm, Wednesday 2pm-4pm",
        "MO 10:00-12:00; WE 14:00-16:00",
    ),
    (
        "Mon: 9:30am - 12:30pm\nThu: 6pm - 8pm",
        "MO 09:30-12:30; TH 18:00-20:00",
    ),
    ("Sat 10am-1pm; Sun closed", "SA 10:00-13:00"),
    ("Fri-Mon 11-3", "MO,FR,SA,SU 11:00-15:00"),
    ("Mondays 18:00-01:00", "MO 18:00-01:00"),
    ("Wed 10pm - 2am", "WE 22:00-02:00"),
    ("Tue midday until 3pm", "TU 12:00-15:00"),
    ("Thurs 9 a.m. till 12.30 p.m.", "TH 09:00-12:30"),
];

/// Reads opening times; an error says, quoting the words, what could not
/// be read.
pub fn read(text: &str) -> Result<Vec<Schedule>, String> {
    let tokens = tokens(text)?;
    let mut reader = Reader::default();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Days(days) => {
                if !reader.times.is_empty() {
                    reader.flush();
                }
                if reader.closing {
                    // "closed Sundays": these days have no hours.
                } else if reader.range_from.take().is_some() {
                    let from = reader.days.pop().unwrap_or(days[0]);
                    let to = days[0];
                    let mut d = from;
                    loop {
                        reader.days.push(d);
                        if d == to {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                    reader.days.extend(&days[1..]);
                } else {
                    reader.days.extend(days);
                }
                i += 1;
            }
            Token::Dash
                if matches!(tokens.get(i + 1), Some(Token::Days(_))) && !reader.days.is_empty() =>
            {
                reader.range_from = Some(());
                i += 1;
            }
            Token::Time(..) => {
                let (Some(Token::Dash), Some(Token::Time(..))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                else {
                    return Err(format!("{text:?}: a time needs an end, like 9am-5pm"));
                };
                let (Token::Time(a), Token::Time(b)) = (&tokens[i], &tokens[i + 2]) else {
                    return Err(format!("{text:?} could not be read"));
                };
                if reader.days.is_empty() {
                    return Err(format!("{text:?}: say which days, like Mon-Fri 9am-5pm"));
                }
                reader.times.push(resolve(*a, *b));
                reader.closing = false;
                i += 3;
            }
            Token::Closed => {
                if reader.times.is_empty() && !reader.days.is_empty() {
                    reader.days.clear();
                } else {
                    if !reader.times.is_empty() {
                        reader.flush();
                    }
                    reader.closing = true;
                }
                i += 1;
            }
            Token::Separator => i += 1,
            Token::Break => {
                if !reader.times.is_empty() {
                    reader.flush();
                } else if !reader.days.is_empty() {
                    return Err(format!(
                        "{text:?}: give times for every day, like Sat 10am-1pm"
                    ));
                }
                reader.closing = false;
                i += 1;
            }
            Token::Dash => return Err(format!("{text:?}: a dash with nothing to join")),
        }
    }
    if !reader.times.is_empty() {
        reader.flush();
    } else if !reader.days.is_empty() {
        return Err(format!(
            "{text:?}: give times for every day, like Sat 10am-1pm"
        ));
    }
    Ok(reader.out)
}

/// The compact form of schedules (`MO,WE 09:00-12:00; SA 10:00-14:00`),
/// which [`read`] reads back.
pub fn compact(schedules: &[Schedule]) -> String {
    schedules
        .iter()
        .map(|s| format!("{} {}-{}", s.byday, s.opens_at, s.closes_at))
        .collect::<Vec<_>>()
        .join("; ")
}

const DAY_CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

#[derive(Default)]
struct Reader {
    days: Vec<u8>,
    times: Vec<(u16, u16)>,
    range_from: Option<()>,
    closing: bool,
    out: Vec<Schedule>,
}

impl Reader {
    fn flush(&mut self) {
        let mut days = std::mem::take(&mut self.days);
        days.sort_unstable();
        days.dedup();
        let byday = days
            .iter()
            .map(|d| DAY_CODES[*d as usize])
            .collect::<Vec<_>>()
            .join(",");
        for (opens, closes) in std::mem::take(&mut self.times) {
            self.out
                .push(Schedule::weekly(&byday, &hhmm(opens), &hhmm(closes)));
        }
    }
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", (minutes / 60) % 24, minutes % 60)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
}

/// A clock time as written: hour, minute, am/pm if said, and whether it
/// was written the 24-hour way (a leading zero or an hour above 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Clock {
    hour: u16,
    minute: u16,
    meridiem: Option<Meridiem>,
    twenty_four: bool,
}

impl Clock {
    fn minutes(self, meridiem: Option<Meridiem>) -> u16 {
        let hour = match (meridiem, self.hour) {
            (Some(Meridiem::Am), 12) => 0,
            (Some(Meridiem::Pm), h) if h < 12 => h + 12,
            (_, h) => h,
        };
        hour * 60 + self.minute
    }
}

/// Minutes of a range's two ends, filling in what people leave out: the
/// end's am/pm applies to the start when that keeps it earlier (`1-4pm`),
/// and bare hours read as a day's hours (`9-5` is 09:00-17:00, `1-4` is
/// 13:00-16:00); a 24-hour range that ends earlier closes after midnight.
fn resolve(a: Clock, b: Clock) -> (u16, u16) {
    match (a.meridiem, b.meridiem) {
        (Some(_), Some(_)) => (a.minutes(a.meridiem), b.minutes(b.meridiem)),
        (None, Some(m)) => {
            let end = b.minutes(Some(m));
            let same = a.minutes(Some(m));
            if a.twenty_four {
                (a.minutes(None), end)
            } else if same <= end {
                (same, end)
            } else {
                (a.minutes(Some(Meridiem::Am)), end)
            }
        }
        (Some(m), None) => {
            let start = a.minutes(Some(m));
            let end = b.minutes(None);
            if !b.twenty_four
                && b.hour < 12
                && end <= start
                && b.minutes(Some(Meridiem::Pm)) > start
            {
                (start, b.minutes(Some(Meridiem::Pm)))
            } else {
                (start, end)
            }
        }
        (None, None) => {
            if a.twenty_four || b.twenty_four {
                return (a.minutes(None), b.minutes(None));
            }
            // Bare hours: nobody opens from 1 to 4 in the night.
            let start = if (1..=6).contains(&a.hour) {
                a.minutes(Some(Meridiem::Pm))
            } else {
                a.minutes(None)
            };
            let end = b.minutes(None);
            if end <= start && b.hour < 12 {
                (start, b.minutes(Some(Meridiem::Pm)))
            } else {
                (start, end)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Days(Vec<u8>),
    Time(Clock),
    Dash,
    Separator,
    Break,
    Closed,
}

/// Splits the text into days, times and joiners; a word that is none of
/// them is an error quoting it.
fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let lower = text
        .to_lowercase()
        .replace("a.m.", "am")
        .replace("p.m.", "pm")
        .replace(['\u{2013}', '\u{2014}', '\u{2212}'], "-");
    let chars: Vec<char> = lower.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let (clock, next) = clock(&chars, i)
                .ok_or_else(|| format!("{text:?}: a time like 9am, 9:30 or 17:00 is needed"))?;
            out.push(Token::Time(clock));
            i = next;
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            match word_token(&word) {
                Some(Word::Token(t)) => out.push(t),
                Some(Word::Noon) => out.push(Token::Time(Clock {
                    hour: 12,
                    minute: 0,
                    meridiem: Some(Meridiem::Pm),
                    twenty_four: false,
                })),
                Some(Word::Skip) => {}
                None => {
                    return Err(format!(
                        "{text:?}: the word {word:?} is not a day or a time"
                    ))
                }
            }
        } else {
            match c {
                '-' => out.push(Token::Dash),
                ',' | '&' | '/' | ':' | '+' => out.push(Token::Separator),
                ';' | '\n' | '\r' | '|' => out.push(Token::Break),
                c if c.is_whitespace() || c == '.' => {}
                other => return Err(format!("{text:?}: {other:?} could not be read")),
            }
            i += 1;
        }
    }
    // "every day": the word "every" is skipped and "day" means all days.
    Ok(out)
}

enum Word {
    Token(Token),
    Noon,
    Skip,
}

fn word_token(word: &str) -> Option<Word> {
    const DAYS: [&[&str]; 7] = [
        &["mo", "mon", "monday"],
        &["tu", "tue", "tues", "tuesday"],
        &["we", "wed", "weds", "wednesday"],
        &["th", "thu", "thur", "thurs", "thursday"],
        &["fr", "fri", "friday"],
        &["sa", "sat", "saturday"],
        &["su", "sun", "sunday"],
    ];
    let singular = word.strip_suffix('s').filter(|w| w.len() > 2);
    for (d, names) in DAYS.iter().enumerate() {
        if names.contains(&word) || singular.is_some_and(|w| names.contains(&w)) {
            return Some(Word::Token(Token::Days(vec![d as u8])));
        }
    }
    Some(match word {
        "weekday" | "weekdays" => Word::Token(Token::Days(vec![0, 1, 2, 3, 4])),
        "weekend" | "weekends" => Word::Token(Token::Days(vec![5, 6])),
        "daily" | "everyday" | "day" | "days" => {
            Word::Token(Token::Days(vec![0, 1, 2, 3, 4, 5, 6]))
        }
        "to" | "till" | "til" | "until" | "through" | "thru" => Word::Token(Token::Dash),
        "and" => Word::Token(Token::Separator),
        "closed" => Word::Token(Token::Closed),
        "noon" | "midday" => Word::Noon,
        "from" | "open" | "opens" | "opening" | "hours" | "at" | "on" | "every" | "each" | "am"
        | "pm" => Word::Skip,
        _ => return None,
    })
}

/// Reads a clock time starting at `chars[i]` (a digit): `9`, `09`, `9:30`,
/// `9.30`, `17:00:00`, each with `am`/`pm` after it or not.
fn clock(chars: &[char], mut i: usize) -> Option<(Clock, usize)> {
    let number = |i: &mut usize| -> Option<(u16, usize)> {
        let start = *i;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
        let text: String = chars[start..*i].iter().collect();
        Some((text.parse().ok()?, *i - start))
    };
    let (hour, digits) = number(&mut i)?;
    let leading_zero = digits == 2 && chars[i - 2] == '0';
    let mut minute = 0;
    if i + 1 < chars.len() && matches!(chars[i], ':' | '.') && chars[i + 1].is_ascii_digit() {
        i += 1;
        let (m, d) = number(&mut i)?;
        if d != 2 {
            return None;
        }
        minute = m;
        if i + 2 < chars.len() && chars[i] == ':' && chars[i + 1].is_ascii_digit() {
            i += 1;
            number(&mut i)?;
        }
    }
    let mut j = i;
    while j < chars.len() && chars[j] == ' ' {
        j += 1;
    }
    let word: String = chars[j..]
        .iter()
        .take_while(|c| c.is_alphabetic())
        .collect();
    let meridiem = match word.as_str() {
        "am" => Some(Meridiem::Am),
        "pm" => Some(Meridiem::Pm),
        "noon" if hour == 12 => Some(Meridiem::Pm),
        _ => None,
    };
    if meridiem.is_some() {
        i = j + word.len();
    }
    let valid = minute < 60
        && match meridiem {
            Some(_) => (1..=12).contains(&hour),
            None => hour <= 24,
        };
    valid.then_some((
        Clock {
            hour: if hour == 24 { 0 } else { hour },
            minute,
            meridiem,
            twenty_four: leading_zero || hour > 12 || hour == 0,
        },
        i,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_reads_as_documented() {
        for (written, expected) in EXAMPLES {
            let read = read(written).unwrap_or_else(|e| panic!("{written:?}: {e}"));
            assert_eq!(compact(&read), *expected, "{written:?}");
            // The compact form reads back as itself.
            assert_eq!(compact(&super::read(expected).unwrap()), *expected);
        }
    }

    #[test]
    fn what_cannot_be_read_is_an_error_that_quotes_it() {
        for text in [
            "by appointment",
            "9am-5pm",
            "Mondays",
            "Mon 9am",
            "Mon 25:00-26:00",
            "Mon 9:3-10",
            "Fri (term time) 9-5",
        ] {
            let e = read(text).expect_err(text);
            assert!(e.contains(&format!("{text:?}")), "{e}");
        }
    }

    #[test]
    fn closed_days_have_no_hours() {
        assert_eq!(
            compact(&read("Closed Sundays; Mon-Sat 9-5").unwrap()),
            "MO,TU,WE,TH,FR,SA 09:00-17:00"
        );
    }
}
