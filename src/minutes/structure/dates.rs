//! Dates in minutes, and the sentence that states the next meeting.

use super::lines::regex;
use super::lines::sentences;
use crate::text::dates::{dates, resolve};
use chrono::NaiveDate;
use regex::Regex;
use std::sync::LazyLock;
// ---------------------------------------------------------------------------------------
// Dates

pub(super) static YEAR: LazyLock<Regex> = LazyLock::new(|| regex(r"\b(19[89]\d|20\d\d)\b"));

/// The first date written in `text` ([`crate::text::dates`]), a year left out taken so
/// that it comes after `reference` (the meeting's date), else from `document_year`.
pub(super) fn find_date(
    text: &str,
    reference: Option<NaiveDate>,
    document_year: Option<i32>,
) -> Option<NaiveDate> {
    dates(text)
        .iter()
        .find_map(|written| resolve(written, reference, document_year))
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
