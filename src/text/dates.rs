//! The crate's one date recogniser: the dates people write in mail and minutes, with the
//! year left to the reader when they leave it out.
//!
//! It finds `2023-12-13`, `13/12/2023` (day first, as in the UK; month first only when
//! the day cannot be a month), `13/12` (no year), `13th December`, `the 13th of Dec`,
//! `Wednesday 13 December 2023`, `13-Dec-2023`, `December 13, 2023` and `Friday April 24,
//! 2015`, with the weekday when one is written. Impossible dates are left out. What a
//! date means (which meeting, which year) is the caller's to decide; [`resolve`] gives
//! the usual answer for a date that comes after a known one.

use std::ops::Range;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use regex::Regex;

/// A date written in the text: complete, or day and month with the year left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenDate {
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    /// The weekday written before it ("Wednesday 13 December").
    pub weekday: Option<Weekday>,
    /// Where the day, month and year stand in the text (the weekday not included).
    pub range: Range<usize>,
}

fn regex(pattern: &str) -> Regex {
    #[allow(clippy::expect_used)] // constant patterns, compiled by the tests
    Regex::new(pattern).expect("a constant pattern compiles")
}

const MONTH_NAME: &str = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const WEEKDAY: &str =
    r"(?:\b(mon|tue|tues|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?\.?,?\s+)?";

static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| regex(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"));
static NUMERIC_DATE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b"));
static SHORT_DATE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[^\d/.])((\d{1,2})/(\d{1,2}))(?:$|[^\d/])"));
static DAY_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(?i){WEEKDAY}(?:the\s+)?\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?[\s\-]+{MONTH_NAME}\b\.?(?:,?[\s\-]+(\d{{4}})\b)?"
    ))
});
static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(?i){WEEKDAY}\b{MONTH_NAME}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?"
    ))
});

/// The months' names, January first.
pub const MONTHS: [&str; 12] = [
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

/// The days' names, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The number of a month written as a word: `Dec`, `December`, `Sept`.
pub fn month_number(name: &str) -> Option<u32> {
    let lower = name.trim_end_matches('.').to_lowercase();
    if lower.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| {
            *m == lower || (m.starts_with(&lower) && (lower.len() == 3 || lower == "sept"))
        })
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.to_lowercase().get(..3)? {
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

/// Every date written in `text`, in the order written.
pub fn dates(text: &str) -> Vec<WrittenDate> {
    let mut found: Vec<WrittenDate> = Vec::new();
    let mut push = |date: WrittenDate| {
        let overlaps = found
            .iter()
            .any(|t| t.range.start < date.range.end && date.range.start < t.range.end);
        let valid = match date.year {
            Some(y) => NaiveDate::from_ymd_opt(y, date.month, date.day).is_some(),
            // 29 February exists in leap years.
            None => NaiveDate::from_ymd_opt(2024, date.month, date.day).is_some(),
        };
        if !overlaps && valid {
            found.push(date);
        }
    };
    for c in ISO_DATE.captures_iter(text) {
        let (Some(whole), Ok(y), Ok(m), Ok(d)) =
            (c.get(0), c[1].parse(), c[2].parse(), c[3].parse())
        else {
            continue;
        };
        push(WrittenDate {
            year: Some(y),
            month: m,
            day: d,
            weekday: None,
            range: whole.range(),
        });
    }
    for c in NUMERIC_DATE.captures_iter(text) {
        let (Some(whole), Ok(a), Ok(b), Ok(mut y)) = (
            c.get(0),
            c[1].parse::<u32>(),
            c[2].parse::<u32>(),
            c[3].parse::<i32>(),
        ) else {
            continue;
        };
        if y < 100 {
            y += 2000;
        }
        let (day, month) = if b > 12 && a <= 12 { (b, a) } else { (a, b) };
        push(WrittenDate {
            year: Some(y),
            month,
            day,
            weekday: None,
            range: whole.range(),
        });
    }
    // `13/12` with the year left out; a fraction or a ratio that happens to be a valid
    // date only counts if the caller finds it means something.
    for c in SHORT_DATE.captures_iter(text) {
        let (Some(whole), Ok(day), Ok(month)) =
            (c.get(1), c[2].parse::<u32>(), c[3].parse::<u32>())
        else {
            continue;
        };
        push(WrittenDate {
            year: None,
            month,
            day,
            weekday: None,
            range: whole.range(),
        });
    }
    for (pattern, day_group, month_group) in [(&*DAY_MONTH, 2, 3), (&*MONTH_DAY, 3, 2)] {
        for c in pattern.captures_iter(text) {
            let (Some(whole), Some(d), Some(m)) = (c.get(0), c.get(day_group), c.get(month_group))
            else {
                continue;
            };
            // "May 2023" is a month, not the 20th of May.
            let (Ok(day), Some(month)) = (d.as_str().parse(), month_number(m.as_str())) else {
                continue;
            };
            let start = d.start().min(m.start());
            push(WrittenDate {
                year: c.get(4).and_then(|y| y.as_str().parse().ok()),
                month,
                day,
                weekday: c.get(1).and_then(|w| weekday(w.as_str())),
                range: start..whole.end(),
            });
        }
    }
    found.sort_by_key(|d| d.range.start);
    found
}

static MONTH_ONLY: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"(?i)\b{MONTH_NAME}\b\.?(?:,?\s+(\d{{4}})\b)?")));

/// The day a due date written in words falls on, for an action raised on `raised`: a
/// written date ("by 31 October", "2023-10-31"), else the last day of a month named alone
/// ("October", "end of Oct 2023"), in the first year that puts it on or after `raised`.
/// `None` when the words name no date ("next meeting", "ASAP").
pub fn due_by(text: &str, raised: NaiveDate) -> Option<NaiveDate> {
    if let Some(written) = dates(text).first() {
        return resolve(written, Some(raised), None);
    }
    let c = MONTH_ONLY.captures(text)?;
    let name = c.get(1)?.as_str();
    // "may" is a verb more often than a month: only "May" counts.
    if name.eq_ignore_ascii_case("may") && !name.starts_with('M') {
        return None;
    }
    let month = month_number(name)?;
    let last_day = |year: i32| {
        let first_of_next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        first_of_next.and_then(|d| d.pred_opt())
    };
    match c.get(2).and_then(|y| y.as_str().parse::<i32>().ok()) {
        Some(year) => last_day(year),
        None => {
            let date = last_day(raised.year())?;
            if date < raised {
                last_day(raised.year() + 1)
            } else {
                Some(date)
            }
        }
    }
}

/// The date `written` means when it comes on or after `after` (a meeting's next meeting,
/// a deadline): its own year, else the first year that puts it on or after `after` whose
/// weekday agrees with the one written. Without `after`, `default_year`.
pub fn resolve(
    written: &WrittenDate,
    after: Option<NaiveDate>,
    default_year: Option<i32>,
) -> Option<NaiveDate> {
    if let Some(year) = written.year {
        return NaiveDate::from_ymd_opt(year, written.month, written.day);
    }
    let base = after.map(|d| d.year()).or(default_year)?;
    if let Some(weekday) = written.weekday {
        for year in [base, base + 1, base - 1] {
            if let Some(date) = NaiveDate::from_ymd_opt(year, written.month, written.day) {
                if date.weekday() == weekday
                    && after.is_none_or(|r| date >= r - chrono::Days::new(7))
                {
                    return Some(date);
                }
            }
        }
    }
    let date = NaiveDate::from_ymd_opt(base, written.month, written.day)?;
    match after {
        Some(r) if date < r => NaiveDate::from_ymd_opt(base + 1, written.month, written.day),
        _ => Some(date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(text: &str) -> Vec<(Option<i32>, u32, u32, Option<Weekday>)> {
        dates(text)
            .into_iter()
            .map(|d| (d.year, d.month, d.day, d.weekday))
            .collect()
    }

    #[test]
    fn dates_are_found_in_the_forms_people_write_them() {
        assert_eq!(ymd("on 2023-12-13"), vec![(Some(2023), 12, 13, None)]);
        assert_eq!(ymd("on 13/12/2023"), vec![(Some(2023), 12, 13, None)]);
        assert_eq!(ymd("on 12/13/23"), vec![(Some(2023), 12, 13, None)]);
        assert_eq!(ymd("by 13/12"), vec![(None, 12, 13, None)]);
        assert_eq!(
            ymd("Wednesday 13 December 2023"),
            vec![(Some(2023), 12, 13, Some(Weekday::Wed))]
        );
        assert_eq!(ymd("the 13th of Dec"), vec![(None, 12, 13, None)]);
        assert_eq!(ymd("13-Dec-2023"), vec![(Some(2023), 12, 13, None)]);
        assert_eq!(
            ymd("Friday April 24, 2015 at 3:00 PM"),
            vec![(Some(2015), 4, 24, Some(Weekday::Fri))]
        );
        assert_eq!(ymd("July 15th 2015"), vec![(Some(2015), 7, 15, None)]);
        assert_eq!(ymd("in May 2023"), vec![]);
        assert_eq!(ymd("31/02/2024 and 30 February"), vec![]);
    }

    #[test]
    fn a_due_date_in_words_falls_on_its_day_or_the_end_of_its_month_after_the_meeting() {
        let raised = NaiveDate::from_ymd_opt(2023, 9, 20).unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(due_by("October", raised), day(2023, 10, 31));
        assert_eq!(due_by("end of Oct 2024", raised), day(2024, 10, 31));
        assert_eq!(due_by("by 15 November", raised), day(2023, 11, 15));
        assert_eq!(due_by("January", raised), day(2024, 1, 31));
        assert_eq!(due_by("December", raised), day(2023, 12, 31));
        assert_eq!(due_by("next meeting", raised), None);
        assert_eq!(due_by("as soon as it may be done", raised), None);
        assert_eq!(due_by("May", raised), day(2024, 5, 31));
    }

    #[test]
    fn a_date_without_a_year_resolves_after_the_meeting_and_by_its_weekday() {
        let meeting = NaiveDate::from_ymd_opt(2005, 4, 12);
        let next = &dates("Tuesday 10 May - to finalise")[0];
        assert_eq!(
            resolve(next, meeting, None),
            NaiveDate::from_ymd_opt(2005, 5, 10)
        );
        let january = &dates("12th January")[0];
        assert_eq!(
            resolve(january, NaiveDate::from_ymd_opt(2006, 12, 8), None),
            NaiveDate::from_ymd_opt(2007, 1, 12)
        );
        assert_eq!(
            resolve(january, None, Some(2024)),
            NaiveDate::from_ymd_opt(2024, 1, 12)
        );
    }
}
