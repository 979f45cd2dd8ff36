//! Agenda item headings: `Item 2a`, `3. Title`, minute references (`45/23`), and the
//! rule that numbered headings count up.
use super::lines::heading;
use super::lines::Line;
use super::lines::ABBREVIATIONS;
use std::collections::HashSet;

use super::lines::regex;
use crate::text::dates::month_number;
use regex::Regex;
use std::sync::LazyLock;
/// `Item 2a. Title`, `1. Item 1 - Title`, `Agenda item 3: Title`.
pub(super) static ITEM_WORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:\d{1,3}[.)]?\s+)?(?:agenda\s+)?item\s+(?:no\.?\s*)?(\d{1,3}(?:\.?[a-z]\b|\.\d{1,2}|\([a-z0-9]\))*)(?:\s*[.:)\-\u{2013}\u{2014}]+)?\s*(.*)$",
    )
});

pub(super) fn item_word_heading(text: &str) -> Option<(String, String)> {
    let c = ITEM_WORD.captures(text)?;
    let number = c.get(1)?.as_str().to_owned();
    let title = clean_title(c.get(2).map_or("", |m| m.as_str()));
    // "Item 3 was deferred." is a sentence, not a heading.
    if title.split_whitespace().count() > 25 {
        return None;
    }
    Some((number, title))
}

pub(super) fn clean_title(title: &str) -> String {
    title
        .trim()
        .trim_start_matches(['-', '\u{2013}', '\u{2014}', ':', '.'])
        .trim()
        .trim_end_matches([':', '.'])
        .trim()
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// Finding the items of a document

/// Where an item starts: its line, its number as written (empty for an unnumbered
/// heading), its title, and what follows the title on the same line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ItemStart {
    pub(super) line: usize,
    pub(super) number: String,
    pub(super) title: String,
    pub(super) rest: String,
}

/// The top-level units of business: numbered items when the document numbers them
/// (splitting a line where a run-in item starts mid-paragraph), else the headings at the
/// level that divides the business, else the top-level bullets of a notes section, else
/// short stand-alone heading lines.
pub(super) fn find_items(lines: &mut Vec<Line>) -> Vec<ItemStart> {
    if lines.iter().any(|l| item_word_heading(&l.text).is_some()) {
        let found = item_word_items(lines);
        if !found.is_empty() {
            return found;
        }
    }
    let numbered = numbered_items(lines);
    let found = if numbered.len() >= 2 {
        numbered
    } else {
        let topics = topic_items(lines);
        let headed = heading_items(lines);
        if topics.len() >= 2 {
            topics
        } else if !headed.is_empty() {
            headed
        } else {
            plain_heading_items(lines)
        }
    };
    found
        .into_iter()
        .filter(|item| !is_generated_summary(&item.title))
        .collect()
}

/// Minutes scribed on IRC: each `Topic:` line opens an item.
fn topic_items(lines: &[Line]) -> Vec<ItemStart> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let title = line.text.strip_prefix("Topic:")?.trim();
            (!title.is_empty()).then(|| ItemStart {
                line: i,
                number: String::new(),
                title: clean_title(title),
                rest: String::new(),
            })
        })
        .collect()
}

fn item_word_items(lines: &[Line]) -> Vec<ItemStart> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let (number, title) = item_word_heading(&line.text)?;
            Some(ItemStart {
                line: i,
                number,
                title,
                rest: String::new(),
            })
        })
        .collect()
}

/// `Resolutions` and `Action Items` at the end of scribed minutes list what the
/// items decided; they are not business of their own.
fn is_generated_summary(title: &str) -> bool {
    matches!(
        title.to_lowercase().trim_end_matches(':'),
        "resolutions"
            | "action items"
            | "actions"
            | "summary of actions"
            | "summary of action items"
            | "summary of resolutions"
    )
}

/// `12. Title`, `12\. Title` (read as `12. Title`), `12 Title`, `12.<tab>title`,
/// `145/19 Title`, at the start of a line or of a sentence.
static LEADING_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:((?:[A-Z]{2,8}[/ ])?\d{1,4}/\d{2,4}(?:/\d{1,4})?)[.:]?|(\d{1,3})([a-z])?(\.|\)|\t| ))\s*(\S.*)$",
    )
});
static MID_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"[.!?:;)]\s+(?:((?:[A-Z]{2,8}[/ ])?\d{1,4}/\d{2,4}(?:/\d{1,4})?)|(\d{1,3})\.)\s+[A-Z]")
});

struct Numbering {
    used: HashSet<u32>,
    last: Option<u32>,
    highest: u32,
    /// Minute references (`145/19`) rather than item numbers.
    references: Option<bool>,
}

impl Numbering {
    /// Whether `n` can be the next item: not used yet, near the highest so far (gaps and
    /// a swapped pair happen), exactly next when written without a full stop. A list
    /// numbered from 1 again inside an item is not items.
    fn accepts(&self, n: u32, strict: bool, reference: bool) -> bool {
        if self.references.is_some_and(|r| r != reference) || self.used.contains(&n) {
            return false;
        }
        match self.last {
            None if reference => true,
            None => (1..=3).contains(&n) && !strict || n == 1,
            Some(_) if reference => n > self.highest && n <= self.highest + 3,
            // Written without a full stop: next or nearly (a swapped pair), never far.
            Some(_) if strict => n + 1 >= self.highest && n <= self.highest + 2,
            Some(_) => n >= 1 && n <= self.highest + 3,
        }
    }

    fn take(&mut self, n: u32, reference: bool) {
        self.used.insert(n);
        self.last = Some(n);
        self.highest = self.highest.max(n);
        self.references = Some(reference);
    }
}

fn numbered_items(lines: &mut Vec<Line>) -> Vec<ItemStart> {
    let mut numbering = Numbering {
        used: HashSet::new(),
        last: None,
        highest: 0,
        references: None,
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        // A run-in item that starts mid-paragraph ("... agenda. 12. To receive ...")
        // starts a line of its own when it is exactly the next one.
        if numbering.last.is_some() && !lines[i].bullet && lines[i].cells.is_empty() {
            let split = MID_NUMBER.captures_iter(&lines[i].text).find_map(|c| {
                let reference = c.get(1).is_some();
                let n = number_value(c.get(1).or(c.get(2))?.as_str())?;
                let next = if reference {
                    n == numbering.highest + 1
                } else {
                    n == numbering.highest + 1 && !numbering.used.contains(&n)
                };
                next.then(|| c.get(1).or(c.get(2)).map(|m| m.start()))?
            });
            if let Some(at) = split {
                let rest = lines[i].text[at..].to_owned();
                lines[i].text = lines[i].text[..at].trim_end().to_owned();
                let line = Line {
                    text: rest,
                    ..Line::default()
                };
                lines.insert(i + 1, line);
            }
        }
        if let Some(item) = numbered_line(&lines[i], &mut numbering) {
            found.push(ItemStart { line: i, ..item });
        }
        i += 1;
    }
    found
}

/// The count in an item number: `12`, `145` of `145/19`, `18` of `CSL/23/18`.
fn number_value(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split(['/', ' ']).collect();
    let text = if parts.len() == 3 {
        parts[2]
    } else {
        parts.first().copied().unwrap_or(text)
    };
    text.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

fn numbered_line(line: &Line, numbering: &mut Numbering) -> Option<ItemStart> {
    if line.bullet || line.depth > 0 {
        return None;
    }
    let text = if line.cells.len() >= 2
        && line.cells[0]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
    {
        format!(
            "{}\t{}",
            line.cells[0].trim_end_matches('.'),
            line.cells[1..].join(" ")
        )
    } else {
        line.text.clone()
    };
    let c = LEADING_NUMBER.captures(&text)?;
    let reference = c.get(1).is_some();
    let written = c.get(1).or(c.get(2))?.as_str();
    let n = number_value(written)?;
    let separator = c.get(4).map_or("", |m| m.as_str());
    let body = c.get(5)?.as_str();
    // `5.1` is a paragraph of item 5, `2.30pm` a time.
    if separator == "."
        && body.starts_with(|ch: char| ch.is_ascii_digit())
        && !text[written.len()..].starts_with(". ")
    {
        return None;
    }
    let strict = separator == " " && !reference && line.heading.is_none();
    if !numbering.accepts(n, strict, reference) {
        return None;
    }
    let (title, rest) = split_title(body, written);
    let first_word = title.split_whitespace().next().unwrap_or("");
    let starts_well = title.chars().next().is_some_and(|ch| {
        ch.is_uppercase() || ch.is_ascii_digit() || ch == '\'' || ch == '"' || ch == '\u{2018}'
    }) || (separator == "\t" || line.heading.is_some()) && !title.is_empty();
    if !starts_well || title.is_empty() || month_number(first_word).is_some() {
        return None;
    }
    numbering.take(n, reference);
    let letter = c.get(3).map_or("", |m| m.as_str());
    Some(ItemStart {
        line: 0,
        number: format!("{written}{letter}"),
        title,
        rest,
    })
}

static SUB_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\d{1,3}\.\d{1,3}(?:\.\d{1,3})*\.?\s+"));
static SUB_NUMBER_INSIDE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\s\d{1,3}\.\d{1,3}(?:\.\d{1,3})*\.?\s+[A-Z]"));

/// A run-in title and the text that follows it: the title ends at the first sentence
/// end, a colon or dash followed by prose, a sub-paragraph number, or after 15 words.
pub(super) fn split_title(body: &str, number: &str) -> (String, String) {
    let mut body = body.trim();
    // `7\. 7 Finance`: the number echoed; `10 10.1 Decision - ...`: no title but the
    // first paragraph's.
    if let Some(rest) = body.strip_prefix(number) {
        if rest.starts_with(' ') {
            body = rest.trim_start();
        }
    }
    if let Some(m) = SUB_NUMBER.find(body) {
        body = &body[m.end()..];
    }
    let mut end = body.len();
    if let Some(m) = SUB_NUMBER_INSIDE.find(body) {
        end = end.min(m.start());
    }
    if let Some(at) = sentence_end(body) {
        end = end.min(at);
    }
    for separator in [": ", " - ", " \u{2013} ", " \u{2014} "] {
        if let Some(at) = body.find(separator) {
            let after = body[at + separator.len()..].split_whitespace().count();
            let before = body[..at].split_whitespace().count();
            // "To Discuss: Request from ..." is one title; "Present: A, B" is a list.
            let label = separator == ": "
                && heading(&Line {
                    text: body[..=at].to_owned(),
                    ..Line::default()
                })
                .is_some();
            if after >= 3 && (before >= 3 || label) {
                end = end.min(at);
            }
        }
    }
    if let Some(at) = body.find(';') {
        end = end.min(at);
    }
    if body[..end].split_whitespace().count() > 15 {
        let cut = body[..end]
            .match_indices(|c: char| c.is_whitespace())
            .nth(14)
            .map_or(end, |(at, _)| at);
        end = end.min(cut);
    }
    let title = clean_title(&body[..end]);
    let rest = body[end..]
        .trim_start_matches(['.', ':', ';', '-', '\u{2013}', '\u{2014}', ' '])
        .trim()
        .to_owned();
    (title, rest)
}

/// Where the first sentence of `text` ends (the full stop's offset), not counting the
/// full stops of abbreviations and initials.
fn sentence_end(text: &str) -> Option<usize> {
    for (at, _) in text.match_indices(". ") {
        let next = text[at + 2..].chars().next();
        if !next.is_some_and(|c| c.is_uppercase() || c.is_ascii_digit()) {
            continue;
        }
        let word_start = text[..at].rfind(' ').map_or(0, |s| s + 1);
        let word = text[word_start..at].to_lowercase();
        if word.chars().count() <= 1 || ABBREVIATIONS.contains(&word.as_str()) {
            continue;
        }
        return Some(at);
    }
    None
}

/// Headings that are not business: the attendance record, the agenda planned before the
/// minutes, containers of the minutes themselves, links, contents and summaries.
fn heading_role(title: &str) -> HeadingRole {
    let key = title
        .to_lowercase()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_owned();
    let key = key.as_str();
    if matches!(
        key,
        "minutes"
            | "meeting minutes"
            | "proceedings"
            | "notes"
            | "meeting notes"
            | "discussion"
            | "business"
    ) {
        return HeadingRole::Container;
    }
    if matches!(
        key,
        "agenda" | "meeting agenda" | "proposed agenda" | "draft agenda" | "agenda items"
    ) {
        return HeadingRole::Agenda;
    }
    let meta = [
        "present",
        "attendees",
        "attendance",
        "in attendance",
        "also present",
        "attending",
        "apologies",
        "regrets",
        "absent",
        "absences",
        "links",
        "contents",
        "table of contents",
        "toc",
        "content",
        "executive summary",
        "date time and location",
        "date and time",
        "location",
        "resolutions",
        "action items",
        "actions",
        "present members",
        "members present",
        "attendees present",
        "apologies received",
        "guests",
        "observers",
    ];
    if meta.contains(&key)
        || key.starts_with("apologies")
        || key.starts_with("present")
        || key.starts_with("attendance")
    {
        return HeadingRole::Meta;
    }
    HeadingRole::Business
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadingRole {
    Business,
    Container,
    Agenda,
    Meta,
}

static ISSUE_REFERENCE: LazyLock<Regex> = LazyLock::new(|| regex(r"#\d{1,6}\b"));

fn heading_items(lines: &[Line]) -> Vec<ItemStart> {
    let headings: Vec<(usize, usize, HeadingRole)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| Some((i, l.heading?, heading_role(&l.text))))
        .collect();
    let start = |i: usize| ItemStart {
        line: i,
        number: String::new(),
        title: clean_title(&lines[i].text),
        rest: String::new(),
    };
    // The minutes under a container heading: its child headings and the business headings
    // after it at its own level; or its top-level bullets when it has no child headings.
    if let Some(&(at, level, _)) = headings
        .iter()
        .find(|(_, _, r)| *r == HeadingRole::Container)
    {
        let after: Vec<&(usize, usize, HeadingRole)> =
            headings.iter().filter(|(i, _, _)| *i > at).collect();
        let section_end = after
            .iter()
            .find(|(_, l, _)| *l <= level)
            .map_or(lines.len(), |(i, _, _)| *i);
        let children: Vec<&&(usize, usize, HeadingRole)> = after
            .iter()
            .filter(|(i, l, _)| *i < section_end && *l > level)
            .collect();
        let mut items: Vec<ItemStart> = match children.iter().map(|(_, l, _)| *l).min() {
            Some(child) => children
                .iter()
                .filter(|(_, l, r)| *l == child && *r == HeadingRole::Business)
                .map(|(i, _, _)| start(*i))
                .collect(),
            None => bullet_items(lines, at + 1, section_end),
        };
        items.extend(
            after
                .iter()
                .filter(|(i, l, r)| *i >= section_end && *l <= level && *r == HeadingRole::Business)
                .map(|(i, _, _)| start(*i)),
        );
        if !items.is_empty() {
            return issue_items(lines, items);
        }
    }
    let business: Vec<&(usize, usize, HeadingRole)> = headings
        .iter()
        .filter(|(_, _, r)| *r != HeadingRole::Meta && *r != HeadingRole::Container)
        .collect();
    let mut levels: Vec<usize> = business.iter().map(|(_, l, _)| *l).collect();
    levels.sort_unstable();
    levels.dedup();
    for level in levels {
        let at_level: Vec<usize> = business
            .iter()
            .filter(|(_, l, r)| *l == level && *r == HeadingRole::Business)
            .map(|(i, _, _)| *i)
            .collect();
        let first = business
            .iter()
            .find(|(_, l, _)| *l == level)
            .map(|(i, _, _)| *i);
        // One heading at the top level before everything else is the document's title.
        let title_only = at_level.len() == 1
            && business.iter().filter(|(_, l, _)| *l == level).count() == 1
            && first == business.first().map(|(i, _, _)| *i);
        if title_only {
            continue;
        }
        let agenda_only = at_level.is_empty()
            && business
                .iter()
                .any(|(_, l, r)| *l == level && *r == HeadingRole::Agenda);
        if agenda_only {
            continue;
        }
        if !at_level.is_empty() {
            let items = at_level.into_iter().map(start).collect();
            return issue_items(lines, items);
        }
    }
    Vec::new()
}

/// When the headings only group bullets that each name an issue (`Release schedule
/// #412`), the issues are the items.
fn issue_items(lines: &[Line], headings: Vec<ItemStart>) -> Vec<ItemStart> {
    if headings.iter().any(|h| ISSUE_REFERENCE.is_match(&h.title)) {
        return headings;
    }
    let agenda = lines
        .iter()
        .position(|l| l.heading.is_some() && heading_role(&l.text) == HeadingRole::Agenda);
    let first = headings
        .first()
        .map_or(0, |h| h.line)
        .min(agenda.unwrap_or(usize::MAX));
    let names_issue = |item: &ItemStart| {
        ISSUE_REFERENCE
            .find_iter(&item.title)
            .last()
            .is_some_and(|m| {
                item.title[m.end()..]
                    .trim_matches(['.', ')', ' '])
                    .is_empty()
            })
    };
    let candidates: Vec<ItemStart> = bullet_items(lines, first, lines.len())
        .into_iter()
        .filter(names_issue)
        .collect();
    // Issue bullets and discussion bullets are told apart by their marks.
    let marks: Vec<char> = candidates.iter().map(|i| lines[i.line].mark).collect();
    let mark = marks
        .iter()
        .max_by_key(|m| marks.iter().filter(|n| n == m).count())
        .copied();
    let issues: Vec<ItemStart> = candidates
        .into_iter()
        .filter(|i| Some(lines[i.line].mark) == mark)
        .collect();
    if issues.len() >= 2 {
        issues
    } else {
        headings
    }
}

/// The top-level bullets between two lines, each an item.
fn bullet_items(lines: &[Line], from: usize, to: usize) -> Vec<ItemStart> {
    let top = lines[from..to]
        .iter()
        .filter(|l| l.bullet && !l.blank())
        .map(|l| l.depth)
        .min();
    lines[from..to]
        .iter()
        .enumerate()
        .filter(|(_, l)| l.bullet && Some(l.depth) == top && !l.blank())
        .map(|(i, l)| {
            let (title, rest) = split_title(&l.text, "");
            ItemStart {
                line: from + i,
                number: String::new(),
                title,
                rest,
            }
        })
        .collect()
}

/// Short lines standing alone between paragraphs, capitalised, without a full stop,
/// after the attendance record: the headings of minutes typed without any markup.
fn plain_heading_items(lines: &[Line]) -> Vec<ItemStart> {
    let standalone = |i: usize| {
        let line = &lines[i];
        let words = line.text.split_whitespace().count();
        let before_blank = i == 0 || lines[i - 1].blank();
        let after_text = lines.get(i + 1).is_some_and(|l| !l.blank())
            || lines.get(i + 2).is_some_and(|l| !l.blank());
        before_blank
            && after_text
            && !line.bullet
            && line.cells.is_empty()
            && (1..=7).contains(&words)
            && line.text.len() <= 60
            && line.text.chars().next().is_some_and(char::is_uppercase)
            && !line.text.ends_with(['.', ',', ';', ':', ')'])
            && !line.text.chars().any(|c| c.is_ascii_digit())
            && line.text != line.text.to_uppercase()
            && heading_role(&line.text) == HeadingRole::Business
    };
    // Only after the attendance record, so that the title lines above it are not items.
    let Some(record) = lines.iter().position(|l| heading(l).is_some()) else {
        return Vec::new();
    };
    let items: Vec<ItemStart> = (record + 1..lines.len())
        .filter(|i| standalone(*i) && heading(&lines[*i]).is_none())
        .map(|i| ItemStart {
            line: i,
            number: String::new(),
            title: clean_title(&lines[i].text),
            rest: String::new(),
        })
        .collect();
    if items.len() >= 3 {
        items
    } else {
        Vec::new()
    }
}
