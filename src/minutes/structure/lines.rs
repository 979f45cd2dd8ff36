//! Lines as the parser sees them (bullets taken off, table rows split into cells) and
//! the section headings that open a list of people or actions.

use std::sync::LazyLock;

use regex::Regex;
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

#[derive(Debug, Clone, Default)]
pub(super) struct Line {
    /// Without bullet and markup, trimmed, spaces collapsed (tabs kept).
    pub(super) text: String,
    pub(super) bullet: bool,
    /// The bullet's mark (`-`, `*`, `•`...).
    pub(super) mark: char,
    /// How deep a bullet is nested: 0 at the left margin.
    pub(super) depth: usize,
    /// A heading's level: Markdown `#` marks, a setext or reStructuredText underline (by
    /// the order underline characters first appear), or a wiki `==Title`.
    pub(super) heading: Option<usize>,
    /// The whole line is bold (`**Resolved**`): a label, not a heading.
    pub(super) strong: bool,
    /// Table cells when the line is a tab- or pipe-separated row.
    pub(super) cells: Vec<String>,
}

impl Line {
    pub(super) fn blank(&self) -> bool {
        self.text.is_empty()
    }
}

static ATX_HEADING: LazyLock<Regex> = LazyLock::new(|| regex(r"^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$"));
static WIKI_HEADING: LazyLock<Regex> = LazyLock::new(|| regex(r"^(={2,6})\s*([^=\s].*?)\s*=*\s*$"));
static UNDERLINE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:={3,}|-{3,}|~{3,}|\^{3,}|\*{3,}|\+{3,}|_{3,})$"));
/// A reStructuredText reference: `` `4   Gifts <#id6>`_ `` is `4   Gifts`.
static REST_REFERENCE: LazyLock<Regex> = LazyLock::new(|| regex(r"`([^`<]*?)\s*(?:<[^>`]*>)?`__?"));
static HTML_COMMENT: LazyLock<Regex> = LazyLock::new(|| regex(r"<!--.*?-->"));
static AUTOLINK: LazyLock<Regex> = LazyLock::new(|| regex(r"<(?:https?|mailto|ftp):[^>\s]*>"));
static CHECKBOX: LazyLock<Regex> = LazyLock::new(|| regex(r"^\[[ xX]\]\s+"));

/// Lines of the document with Markdown, reStructuredText and wiki markup read: headings
/// carry their level, bullets their depth, and the text is what a reader sees.
pub(super) fn prepare_lines(text: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut underlines: Vec<char> = Vec::new();
    let mut in_fence = false;
    for raw in text.lines() {
        let raw = HTML_COMMENT.replace_all(raw, "");
        let indent: usize = raw
            .chars()
            .take_while(|c| c.is_whitespace())
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum();
        let mut trimmed = raw
            .trim_matches(|c: char| c.is_whitespace() && c != '\t')
            .trim();
        // Fenced code is quoted material, not the minutes' structure.
        if trimmed.starts_with("```") || trimmed.starts_with("~~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || (trimmed.starts_with("{:") && trimmed.ends_with('}')) {
            continue;
        }
        // The borders of a reStructuredText grid table.
        if trimmed.len() > 2
            && trimmed.starts_with('+')
            && trimmed.ends_with('+')
            && trimmed.chars().all(|c| matches!(c, '+' | '-' | '=' | ':'))
        {
            continue;
        }
        while let Some(rest) = trimmed.strip_prefix('>') {
            trimmed = rest.trim_start();
        }
        if UNDERLINE.is_match(trimmed) {
            let underlined = lines.last_mut().filter(|previous| {
                !previous.blank()
                    && previous.heading.is_none()
                    && !previous.bullet
                    && previous.cells.is_empty()
                    && previous.text.chars().count() <= 120
            });
            match underlined {
                Some(previous) => {
                    let mark = trimmed.chars().next().unwrap_or('-');
                    if !underlines.contains(&mark) {
                        underlines.push(mark);
                    }
                    previous.heading = underlines.iter().position(|c| *c == mark).map(|i| i + 1);
                }
                // A rule between parts.
                None => lines.push(Line::default()),
            }
            continue;
        }
        let mut level = None;
        if let Some(c) = ATX_HEADING.captures(trimmed) {
            level = Some(c[1].len());
            trimmed = c.get(2).map_or("", |m| m.as_str());
        } else if let Some(c) = WIKI_HEADING.captures(trimmed) {
            level = Some(c[1].len());
            trimmed = c.get(2).map_or("", |m| m.as_str());
        }
        let (bullet, rest) = match BULLET.find(trimmed) {
            Some(m) if m.start() == 0 && level.is_none() => (true, &trimmed[m.end()..]),
            _ => (false, trimmed),
        };
        let rest = match CHECKBOX.find(rest) {
            Some(m) if bullet => &rest[m.end()..],
            _ => rest,
        };
        let cells = split_cells(rest);
        // Separator rows of Markdown and grid tables carry nothing.
        if cells.len() > 1
            && cells.iter().all(|c| {
                c.chars()
                    .all(|ch| matches!(ch, '-' | ':' | '=' | '+' | ' '))
            })
        {
            continue;
        }
        let strong = is_strong(rest);
        let text = if cells.len() > 1 {
            cells
                .iter()
                .map(|c| clean_inline(c))
                .collect::<Vec<_>>()
                .join("\t")
        } else {
            collapse_spaces(&clean_inline(rest.trim_matches('|').trim()))
        };
        let line = Line {
            text,
            bullet,
            mark: if bullet {
                trimmed.chars().next().unwrap_or('-')
            } else {
                ' '
            },
            depth: if bullet { indent / 2 } else { 0 },
            heading: level,
            strong,
            cells: if cells.len() > 1 {
                cells.iter().map(|c| clean_inline(c)).collect()
            } else {
                Vec::new()
            },
        };
        if line.blank() && line.heading.is_some() {
            continue;
        }
        // Hard-wrapped paragraphs (PDF text, mail wrapped at 72 columns): a line starting
        // in lower case continues the one before unless that one ended a sentence.
        if let Some(previous) = lines.last_mut() {
            let continues = !line.bullet
                && line.heading.is_none()
                && previous.heading.is_none()
                && line.cells.is_empty()
                && previous.cells.is_empty()
                && !previous.blank()
                && (line.text.chars().next().is_some_and(char::is_lowercase)
                    || previous.text.ends_with(','))
                && !previous.text.ends_with(['.', ':', ';', '?', '!']);
            if continues {
                previous.text.push(' ');
                previous.text.push_str(&line.text);
                continue;
            }
        }
        match second_label(&line.text) {
            Some(at) if line.cells.is_empty() && heading(&line).is_some() => {
                let second = Line {
                    text: line.text[at..].to_owned(),
                    ..Line::default()
                };
                lines.push(Line {
                    text: line.text[..at].trim_end().to_owned(),
                    ..line
                });
                lines.push(second);
            }
            _ => lines.push(line),
        }
    }
    lines
}

static SECOND_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\s(?:In attendance|Also present|Also in attendance|Apologies(?: for absence)?|Absent|Regrets|Officers present)\s*:",
    )
});

/// Where a second list starts on the line of the first: "Present: A, B In attendance: C".
fn second_label(text: &str) -> Option<usize> {
    SECOND_LABEL.find(text).map(|m| m.start() + 1)
}

/// Whether a line is bold from end to end: `**Resolved**`, `__Notes:__`.
fn is_strong(text: &str) -> bool {
    let text = text.trim().trim_end_matches(':');
    ["**", "__"].iter().any(|mark| {
        text.len() > 4
            && text.starts_with(mark)
            && text.ends_with(mark)
            && !text[2..text.len() - 2].contains(mark)
    })
}

/// The text a reader sees: escapes, links, emphasis, code marks and reStructuredText
/// references read, HTML entities decoded, a hard break's trailing backslash dropped.
pub(super) fn clean_inline(text: &str) -> String {
    let text = AUTOLINK.replace_all(text, "");
    let text = REST_REFERENCE.replace_all(&text, "$1");
    let text = text.trim_end().trim_end_matches('\\');
    let text = if text.contains('&') {
        crate::text::html::decode_entities(text)
    } else {
        text.to_owned()
    };
    strip_markdown_inline(&text)
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
    // is just text, unless it is drawn as a row (`|   | wrapped text |   |`).
    let drawn_row = text.starts_with('|') && text.ends_with('|') && cells.len() >= 3;
    if drawn_row || cells.iter().filter(|c| !c.is_empty()).count() > 1 {
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
        r"(?i)^(?:(?:board\s+|committee\s+)?members\s+present|present|attendees(?:\s+and\s+apologies)?|attendance|in\s+attendance|also\s+present|also\s+in\s+attendance|officers\s+present|officers\s+in\s+attendance|attending|also\s+attending|those\s+present|(?:board\s+)?members|guests|observers|invited|chair(?:ed by)?|chairperson|those\s+attending|(?:members|others|councillors|officers|trustees|directors|committee\s+members)\s+present|present\s*\([^)]{1,40}\)|attending)\s*(?:[:\-\u{2013}]+(?:\s+[\-\u{2013}](?:\s|$))?\s*(.*)|\s+(?-i:([A-Z].*)))?$",
    )
});
pub(super) static APOLOGIES_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:apologies\s+(?:for\s+absence\s+)?(?:were|was|have\s+been|had\s+been)\s+(?:received|given|noted|tendered|submitted)\s+(?:from|by|on\s+behalf\s+of)\s+(.+)|apologies\s+(?:for\s+absence\s+)?(?:received\s+)?from\s+(.+)|(?:apologies(?:\s+for\s+absence)?(?:\s+received)?(?:\s+and\s+substitutions)?|absent(?:\s+with\s+apologies)?|apologies\s+for\s+absence\s+and\s+substitutions|regrets|not\s+present|absentees|missing(?:\s+attendees)?)\s*(?:[:\-\u{2013}]+\s*(.*))?)$",
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
            .or_else(|| c.get(2))
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

pub(super) fn strip_markdown_inline(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '_' if i + 1 < chars.len() && chars[i + 1] == c => i += 2,
            // Single emphasis markers hugging a word: `*word*`, `_word_`. A bullet `* `
            // at the start of a line is kept.
            '*' | '_'
                if (i > 0 || chars.get(1).is_some_and(|n| !n.is_whitespace()))
                    && (chars.get(i + 1).is_some_and(|n| !n.is_whitespace())
                        || (i > 0 && !chars[i - 1].is_whitespace())) =>
            {
                i += 1
            }
            '`' => i += 1,
            '[' => {
                // [text](url) -> text
                let close = chars[i..].iter().position(|&c| c == ']').map(|p| i + p);
                match close {
                    Some(close) if chars.get(close + 1) == Some(&'(') => {
                        let end = chars[close..]
                            .iter()
                            .position(|&c| c == ')')
                            .map(|p| close + p);
                        out.extend(&chars[i + 1..close]);
                        i = end.map_or(close + 1, |e| e + 1);
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            '\\' if i + 1 < chars.len() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Sentences and parts

pub(super) const ABBREVIATIONS: &[&str] = &[
    "dr", "cllr", "mr", "mrs", "ms", "st", "no", "cmdr", "e.g", "i.e", "etc", "vs", "approx",
    "dept", "supt", "insp", "prof", "rev", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "co", "ltd", "inc",
];

/// Splits a paragraph into sentences at `.`, `!`, `?` followed by a space and a capital
/// or digit, not after common abbreviations.
pub(super) fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let Some(&(next_at, next)) = chars.get(i + 1) else {
            continue;
        };
        if !next.is_whitespace() {
            continue;
        }
        let following = chars[i + 1..].iter().find(|(_, c)| !c.is_whitespace());
        if !following.is_some_and(|(_, c)| {
            c.is_uppercase() || c.is_numeric() || matches!(c, '"' | '\u{201c}' | '(')
        }) {
            continue;
        }
        if c == '.' {
            let word = text[start..at]
                .rsplit(|c: char| c.is_whitespace() || c == '(')
                .next()
                .unwrap_or("")
                .to_lowercase();
            if ABBREVIATIONS.contains(&word.as_str())
                || (word.chars().count() == 1 && word.chars().all(char::is_alphabetic))
            {
                continue;
            }
        }
        out.push(text[start..=at].trim());
        start = next_at;
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// Splits `text` on `separators` outside parentheses.
pub(super) fn split_top_level<'a>(text: &'a str, separators: &[&str]) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        match bytes[i] {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            _ => {}
        }
        if depth <= 0 {
            if let Some(sep) = separators.iter().find(|s| text[i..].starts_with(**s)) {
                parts.push(&text[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    parts.push(&text[start..]);
    parts
}

/// Numbered paragraphs (`1.1 `, `12.3.2 `) carry no meaning for headings and sentences.
pub(super) static PARAGRAPH_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\d{1,3}(?:\.\d{1,3})+\.?\s+"));

pub(super) fn without_paragraph_number(text: &str) -> &str {
    match PARAGRAPH_NUMBER.find(text) {
        Some(m) => &text[m.end()..],
        None => text,
    }
}
