//! Dates in minutes, and the sentence that states the next meeting.

use super::actions::sentences;
use super::lines::regex;
use super::words::word_key;
use chrono::Datelike;
use chrono::NaiveDate;
use chrono::Weekday;
use regex::Regex;
use std::sync::LazyLock;
// ---------------------------------------------------------------------------------------
// Dates

pub(super) const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

pub(super) fn month_number(word: &str) -> Option<u32> {
    let key = word_key(word);
    let key = key.trim_end_matches('.');
    if key.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| {
            *m == key || (key.len() >= 3 && m.starts_with(key) && (key.len() == 3 || key == "sept"))
        })
        .map(|i| i as u32 + 1)
}

pub(super) fn weekday(word: &str) -> Option<Weekday> {
    let key = word_key(word);
    Some(match key.get(..3)? {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

pub(super) static DAY_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:\b(mon|tues?|wed(?:nes)?|thur?s?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?(?:the\s+)?\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\.?,?(?:\s+(\d{4}))?",
    )
});
pub(super) static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:\b(mon|tues?|wed(?:nes)?|thur?s?|fri|sat(?:ur)?|sun)(?:day)?,?\s+)?\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b,?(?:\s+(\d{4}))?",
    )
});
pub(super) static NUMERIC_DATE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})\b"));
pub(super) static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(\d{4})-(\d{2})-(\d{2})\b"));
pub(super) static YEAR: LazyLock<Regex> = LazyLock::new(|| regex(r"\b(19[89]\d|20\d\d)\b"));

/// The year a date without one belongs to: the meeting's, else the latest year the
/// document mentions; a stated weekday picks between that year and the next.
pub(super) fn resolve_year(
    day: u32,
    month: u32,
    weekday: Option<Weekday>,
    reference: Option<NaiveDate>,
    document_year: Option<i32>,
) -> Option<NaiveDate> {
    let base = reference.map(|d| d.year()).or(document_year)?;
    let candidates = [base, base + 1, base - 1];
    if let Some(weekday) = weekday {
        for year in candidates {
            if let Some(date) = NaiveDate::from_ymd_opt(year, month, day) {
                if date.weekday() == weekday
                    && reference.is_none_or(|r| date >= r - chrono::Days::new(7))
                {
                    return Some(date);
                }
            }
        }
    }
    let date = NaiveDate::from_ymd_opt(base, month, day)?;
    match reference {
        // The next meeting is after this one.
        Some(r) if date < r => NaiveDate::from_ymd_opt(base + 1, month, day),
        _ => Some(date),
    }
}

/// The first date written in `text`.
pub(super) fn find_date(
    text: &str,
    reference: Option<NaiveDate>,
    document_year: Option<i32>,
) -> Option<NaiveDate> {
    let mut found: Vec<(usize, NaiveDate)> = Vec::new();
    if let Some(c) = ISO_DATE.captures(text) {
        let date =
            NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
        if let (Some(date), Some(m)) = (date, c.get(0)) {
            found.push((m.start(), date));
        }
    }
    for c in DAY_MONTH.captures_iter(text) {
        let Some(month) = c.get(3).and_then(|m| month_number(m.as_str())) else {
            continue;
        };
        let Ok(day) = c[2].parse::<u32>() else {
            continue;
        };
        let weekday = c.get(1).and_then(|m| weekday(m.as_str()));
        let date = match c.get(4).and_then(|y| y.as_str().parse::<i32>().ok()) {
            Some(year) => NaiveDate::from_ymd_opt(year, month, day),
            None => resolve_year(day, month, weekday, reference, document_year),
        };
        if let (Some(date), Some(m)) = (date, c.get(0)) {
            found.push((m.start(), date));
            break;
        }
    }
    for c in MONTH_DAY.captures_iter(text) {
        let Some(month) = c.get(2).and_then(|m| month_number(m.as_str())) else {
            continue;
        };
        let Ok(day) = c[3].parse::<u32>() else {
            continue;
        };
        let weekday = c.get(1).and_then(|m| weekday(m.as_str()));
        let date = match c.get(4).and_then(|y| y.as_str().parse::<i32>().ok()) {
            Some(year) => NaiveDate::from_ymd_opt(year, month, day),
            None => resolve_year(day, month, weekday, reference, document_year),
        };
        if let (Some(date), Some(m)) = (date, c.get(0)) {
            found.push((m.start(), date));
            break;
        }
    }
    if let Some(c) = NUMERIC_DATE.captures(text) {
        let year: i32 = c[3].parse().ok()?;
        let year = if year < 100 { 2000 + year } else { year };
        // UK minutes write day first.
        if let (Some(date), Some(m)) = (
            NaiveDate::from_ymd_opt(year, c[2].parse().ok()?, c[1].parse().ok()?),
            c.get(0),
        ) {
            found.push((m.start(), date));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.first().map(|(_, d)| *d)
}

pub(super) fn latest_year(text: &str) -> Option<i32> {
    YEAR.captures_iter(text)
        .filter_map(|c| c[1].parse::<i32>().ok())
        .max()
}

pub(super) static NEXT_MEETING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:the\s+)?(?:date\s+(?:and\s+time\s+)?(?:of|for)\s+(?:the\s+)?next\s+(?:board\s+|committee\s+|[A-Z]{2,6}\s+)?meeting|next\s+(?:board\s+|committee\s+|[A-Z]{2,6}\s+)?meeting(?:\s+date)?)\b(.*)$",
    )
});

/// Whether the line states the next meeting, and the rest of the line after the phrase.
static NEXT_MEETING_INSIDE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\bdates?\s+(?:and\s+times?\s+)?(?:of|for)\s+(?:the\s+)?(?:next|future|forthcoming)\s+(?:\w+\s+)?meetings?\b|^dates\s+of\s+(?:the\s+)?meetings\b",
    )
});

pub(super) fn next_meeting_line(text: &str) -> Option<String> {
    // The phrase may open a later sentence of the line ("AOB ... The date of the next
    // meeting is ...").
    for sentence in sentences(text) {
        // "Friday 15th March was agreed as the date of the next meeting", "Confirm the
        // Date of the Next Meeting", "Dates of Meetings for 2005".
        if NEXT_MEETING_INSIDE.is_match(sentence) && !NEXT_MEETING.is_match(sentence.trim()) {
            return Some(sentence.trim().to_owned());
        }
        if let Some(c) = NEXT_MEETING.captures(sentence.trim()) {
            let rest = c.get(1).map_or("", |m| m.as_str()).trim().to_lowercase();
            // "Next meeting agenda items" is something else.
            if rest.is_empty()
                || rest.starts_with([':', '-', '\u{2013}', '\u{2014}', ','])
                || [
                    "is",
                    "will",
                    "was",
                    "to ",
                    "has",
                    "shall",
                    "on ",
                    "scheduled",
                    "would",
                    "tbc",
                    "to be",
                    "(",
                    "–",
                ]
                .iter()
                .any(|w| rest.starts_with(w))
            {
                return Some(sentence.trim().to_owned());
            }
        }
    }
    None
}
