//! Lines as the parser sees them (bullets taken off, table rows split into cells) and
//! the section headings that open a list of people or actions.

use regex::Regex;
use std::sync::LazyLock;
// ---------------------------------------------------------------------------------------
// Lines

pub(super) static BULLET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-*\u{2022}\u{25aa}\u{25cf}\u{00b7}\u{2013}\u{2014}\u{25e6}\u{f0b7}o]|\u{f0a7})\s+",
    )
    .unwrap_or_else(|_| unreachable_regex())
});

/// Regexes here are constants checked by the tests; this is never reached.
pub(super) fn unreachable_regex() -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new("$^").expect("the empty regex compiles")
}

pub(super) fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|_| unreachable_regex())
}

#[derive(Debug, Clone)]
pub(super) struct Line {
    /// Without bullet, trimmed, spaces collapsed (tabs kept).
    pub(super) text: String,
    pub(super) bullet: bool,
    /// Table cells when the line is a tab- or pipe-separated row.
    pub(super) cells: Vec<String>,
}

impl Line {
    pub(super) fn blank(&self) -> bool {
        self.text.is_empty()
    }
}

pub(super) fn prepare_lines(text: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for raw in text.lines() {
        let trimmed = raw
            .trim_matches(|c: char| c.is_whitespace() && c != '\t')
            .trim();
        let (bullet, rest) = match BULLET.find(trimmed) {
            Some(m) if m.start() == 0 => (true, &trimmed[m.end()..]),
            _ => (false, trimmed),
        };
        let cells = split_cells(rest);
        let text = if cells.len() > 1 {
            cells.join("\t")
        } else {
            collapse_spaces(rest.trim_matches('|').trim())
        };
        let line = Line {
            text,
            bullet,
            cells: if cells.len() > 1 { cells } else { Vec::new() },
        };
        // Hard-wrapped paragraphs (PDF text): a line starting in lower case continues
        // the one before unless that one ended a sentence.
        if let Some(previous) = lines.last_mut() {
            let continues = !line.bullet
                && line.cells.is_empty()
                && previous.cells.is_empty()
                && !previous.blank()
                && line.text.chars().next().is_some_and(char::is_lowercase)
                && !previous.text.ends_with(['.', ':', ';', '?', '!']);
            if continues {
                previous.text.push(' ');
                previous.text.push_str(&line.text);
                continue;
            }
        }
        lines.push(line);
    }
    lines
}

pub(super) fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cells of a table row: tab-separated, or pipe-separated (`| a | b |`).
pub(super) fn split_cells(text: &str) -> Vec<String> {
    let parts: Vec<&str> = if text.contains('\t') {
        text.split('\t').collect()
    } else if text.matches('|').count() >= 2 || (text.contains(" | ")) {
        text.trim_matches('|').split('|').collect()
    } else {
        return Vec::new();
    };
    let cells: Vec<String> = parts
        .into_iter()
        .map(|c| collapse_spaces(c.trim()))
        .collect();
    // Keep empty cells' positions for header mapping, but a row with one non-empty cell
    // is just text.
    if cells.iter().filter(|c| !c.is_empty()).count() > 1 {
        cells
    } else {
        Vec::new()
    }
}

// ---------------------------------------------------------------------------------------
// Headings

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Heading {
    /// A list of people present follows (or is inline).
    Attendees(Option<String>),
    Apologies(Option<String>),
    /// Explicitly none ("No apologies were received").
    NoApologies,
    Actions,
}

pub(super) static ATTENDEES_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:(?:board\s+|committee\s+)?members\s+present|present|attendees(?:\s+and\s+apologies)?|attendance|in\s+attendance|also\s+present|also\s+in\s+attendance|officers\s+present|officers\s+in\s+attendance|attending|also\s+attending|those\s+present|(?:board\s+)?members|guests|observers|invited|chair(?:ed by)?|chairperson)\s*(?:[:\-\u{2013}]\s*(.*))?$",
    )
});
pub(super) static APOLOGIES_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:apologies\s+(?:for\s+absence\s+)?(?:were|was|have\s+been|had\s+been)\s+(?:received|given|noted|tendered|submitted)\s+(?:from|by|on\s+behalf\s+of)\s+(.+)|apologies\s+(?:for\s+absence\s+)?(?:received\s+)?from\s+(.+)|(?:apologies(?:\s+for\s+absence)?(?:\s+received)?(?:\s+and\s+substitutions)?|absent(?:\s+with\s+apologies)?|apologies\s+for\s+absence\s+and\s+substitutions)\s*(?:[:\-\u{2013}]\s*(.*))?)$",
    )
});
pub(super) static NO_APOLOGIES: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:there\s+were\s+)?no\s+apologies(?:\s+(?:were|had\s+been)\s+received)?\.?$|^apologies\s*[:\-\u{2013}]\s*(?:none|nil|n/a)\.?$",
    )
});
pub(super) static ACTIONS_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:summary\s+of\s+)?(?:new\s+)?actions?(?:\s+(?:log|arising|agreed|list|tracker|summary))?\s*:?$",
    )
});

pub(super) fn heading(line: &Line) -> Option<Heading> {
    let text = line.text.trim();
    if text.len() > 400 {
        return None;
    }
    if NO_APOLOGIES.is_match(text) {
        return Some(Heading::NoApologies);
    }
    if let Some(c) = APOLOGIES_HEADING.captures(text) {
        let inline = c
            .get(1)
            .or_else(|| c.get(2))
            .or_else(|| c.get(3))
            .map(|m| m.as_str().trim().to_owned())
            .filter(|s| !s.is_empty());
        if inline.as_deref().is_some_and(|s| {
            matches!(
                s.to_lowercase().trim_end_matches('.'),
                "none" | "nil" | "n/a" | "none received"
            )
        }) {
            return Some(Heading::NoApologies);
        }
        return Some(Heading::Apologies(inline));
    }
    if let Some(c) = ATTENDEES_HEADING.captures(text) {
        let lower = text.to_lowercase();
        // "Chair" alone is a person's role in a table, not a heading; only "Chair:" with a
        // name, or "Chaired by".
        if lower.starts_with("chair") && c.get(1).is_none() {
            return None;
        }
        let inline = c
            .get(1)
            .map(|m| m.as_str().trim().to_owned())
            .filter(|s| !s.is_empty());
        let inline = if lower.starts_with("chair") {
            inline.map(|s| {
                if s.contains('(') {
                    s
                } else {
                    format!("{s} (Chair)")
                }
            })
        } else {
            inline
        };
        return Some(Heading::Attendees(inline));
    }
    if ACTIONS_HEADING.is_match(text) {
        return Some(Heading::Actions);
    }
    None
}
