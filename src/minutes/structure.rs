//! The structure of minutes: who attended, who sent apologies, the items as numbered in
//! the document, the actions it records, and the date of the next meeting.
//!
//! This module owns reading that structure out of plain text ([`parse`]) and matching the
//! names it finds against the board registry ([`match_names`]). It reads the formats UK
//! boards publish: attendee lists as `- Name, Organisation`, `- Name (XX) - Role`,
//! `Present:` / `In attendance:` / `Apologies:` headings or inline lists, tables turned
//! into tab- or pipe-separated rows; items as `Item 2 - Title`, `1. Item 1 - Title`,
//! `Item 2a.` / `Item 2.b`, or numbered headings `3. Title` (with numbered paragraphs
//! `3.1 ...` as their text); explicit `Action:` lines and commitments in the text ("... will
//! be circulated", "X agreed to ..."), each with the owner named in the sentence or its
//! paragraph; "Date of next meeting" / "The next meeting will be ..." with the date.
//!
//! The parser is heuristic by nature; it prefers missing a doubtful line to inventing a
//! person or an item, and it never fails: odd input gives an emptier structure. It does
//! not extract text from files (see [`super::extract`]) and does not touch the database.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use regex::Regex;
use serde::{Deserialize, Serialize};

/// What a set of minutes says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesStructure {
    pub attendees: Vec<Person>,
    pub apologies: Vec<Person>,
    pub items: Vec<Item>,
    pub actions: Vec<CandidateAction>,
    pub next_meeting: Option<NextMeeting>,
}

/// A person as the minutes list them. `name` is without honorifics or ranks (`Cllr`,
/// `Dame`, `AC`), which are kept in `title`, so that it compares with the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub title: Option<String>,
    /// As written beside the name (`LO`, `Kris V`); never invented.
    pub initials: Option<String>,
    pub role: Option<String>,
    pub organisation: Option<String>,
}

/// An agenda item as written: `number` is the document's own (`1`, `2a`, `2.b`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub number: String,
    pub title: String,
    /// The item's text, paragraphs separated by newlines.
    pub text: String,
}

/// An action the minutes record, to be confirmed by approval before it enters the
/// register.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateAction {
    /// The sentence (or `Action:` line) that records it.
    pub text: String,
    /// An organisation or initials from the attendee list (or the registry), as written.
    pub owner: Option<String>,
    /// Number of the item it was recorded under.
    pub item: Option<String>,
    /// When, as written: `next meeting`, `December 2023`, `31 March 2024`.
    pub due: Option<String>,
    /// Written as an action (`Action:` line, actions table) rather than found in a
    /// sentence.
    pub explicit: bool,
}

/// The next meeting: the sentence that states it and the date it names, when it names
/// one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextMeeting {
    pub date: Option<NaiveDate>,
    pub text: String,
}

/// What the parser may know beyond the text.
#[derive(Debug, Clone, Default)]
pub struct ParseContext {
    /// The date of the meeting the minutes are of: resolves dates written without a year.
    pub meeting_date: Option<NaiveDate>,
    /// Organisation names (short and full) from the registry: recognised as owners and
    /// as organisations in attendee lines.
    pub organisations: Vec<String>,
    /// Member initials from the registry, recognised as owners.
    pub initials: Vec<String>,
}

// ---------------------------------------------------------------------------------------
// Vocabulary

/// Honorifics, ranks and post-nominals that are not part of a name.
const TITLES: &[&str] = &[
    "cllr",
    "cllrs",
    "councillor",
    "councillors",
    "dr",
    "prof",
    "professor",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "sir",
    "dame",
    "lord",
    "lady",
    "baroness",
    "baron",
    "rt",
    "hon",
    "rev",
    "revd",
    "canon",
    "ac",
    "dac",
    "cmdr",
    "commander",
    "supt",
    "superintendent",
    "ch",
    "chief",
    "dcs",
    "dci",
    "di",
    "ds",
    "dc",
    "pc",
    "insp",
    "inspector",
    "det",
    "judge",
    "hhj",
    "alderman",
    "cc",
    "dcc",
    "acc",
    "qc",
    "kc",
    "obe",
    "mbe",
    "cbe",
    "dbe",
    "kbe",
    "qpm",
    "jp",
    "mp",
    "am",
    "bt",
];

/// Words of job titles: a part of an attendee line holding one is a role.
const ROLE_WORDS: &[&str] = &[
    "chair",
    "chairman",
    "chairwoman",
    "chairperson",
    "co-chair",
    "vice-chair",
    "director",
    "head",
    "chief",
    "officer",
    "commissioner",
    "manager",
    "ceo",
    "cfo",
    "coo",
    "cto",
    "deputy",
    "mayor",
    "advisor",
    "adviser",
    "secretary",
    "lead",
    "member",
    "superintendent",
    "inspector",
    "commander",
    "clerk",
    "representative",
    "rep",
    "observer",
    "treasurer",
    "president",
    "governor",
    "executive",
    "prosecutor",
    "coordinator",
    "co-ordinator",
    "analyst",
    "minutes",
    "secretariat",
    "consultant",
    "solicitor",
    "counsel",
    "leader",
    "assistant",
    "trustee",
    "principal",
    "controller",
    "registrar",
    "specialist",
    "constable",
    "commissioner's",
    "minute-taker",
    "vice",
    "portfolio",
    "cabinet",
];

/// Words of organisation names.
const ORG_WORDS: &[&str] = &[
    "council",
    "councils",
    "police",
    "service",
    "services",
    "board",
    "authority",
    "commission",
    "trust",
    "office",
    "department",
    "ministry",
    "association",
    "unit",
    "group",
    "coalition",
    "partnership",
    "nhs",
    "university",
    "agency",
    "court",
    "courts",
    "constabulary",
    "prison",
    "prisons",
    "probation",
    "team",
    "borough",
    "county",
    "government",
    "fire",
    "rescue",
    "society",
    "charity",
    "foundation",
    "network",
    "centre",
    "center",
    "college",
    "hospital",
    "directorate",
    "division",
    "inspectorate",
    "tribunal",
    "tribunals",
    "victims",
    "england",
    "wales",
    "ltd",
    "limited",
    "plc",
    "cic",
];

/// Words that never occur in a person's name on an attendee line: headings and the
/// vocabulary of minutes.
const NOT_NAME_WORDS: &[&str] = &[
    "item",
    "items",
    "apologies",
    "present",
    "attendees",
    "attendance",
    "minutes",
    "meeting",
    "welcome",
    "introductions",
    "introduction",
    "action",
    "actions",
    "update",
    "updates",
    "report",
    "agenda",
    "date",
    "next",
    "any",
    "other",
    "business",
    "aob",
    "matters",
    "arising",
    "declarations",
    "declaration",
    "interest",
    "interests",
    "notes",
    "none",
    "and",
    "the",
    "for",
    "on",
    "with",
    "to",
    "in",
    "at",
    "by",
    "from",
    "summary",
    "key",
    "information",
    "contents",
    "publication",
    "type",
    "general",
    "strategy",
    "previous",
    "review",
    "close",
    "closed",
    "apology",
    "also",
    "members",
    "board",
    "agreed",
    "noted",
    "resolved",
    "received",
    "was",
    "were",
    "is",
    "are",
    "name",
    "organisation",
    "organization",
    "role",
    "title",
    "position",
    "introduced",
    "welcomed",
    "chaired",
    "absent",
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
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "london",
    "a",
    "an",
    "of",
    "this",
    "that",
];

/// Particles that are part of a name without a capital.
const NAME_PARTICLES: &[&str] = &[
    "de", "da", "van", "von", "der", "den", "la", "le", "di", "du", "del", "bin", "binti", "al",
    "el", "ter", "ten", "y",
];

fn word_key(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '\'')
        .to_lowercase()
}

fn is_title(word: &str) -> bool {
    TITLES.contains(&word_key(word).trim_end_matches('.'))
}

fn has_word(text: &str, words: &[&str]) -> Option<usize> {
    text.split(|c: char| c.is_whitespace() || c == '/' || c == ',')
        .position(|w| {
            let key = word_key(w);
            let key = key.trim_end_matches("'s").trim_end_matches('\u{2019}');
            let known = |k: &str| words.contains(&k) || words.contains(&k.trim_end_matches('s'));
            // "Vice-Chairman": the parts of a hyphenated word count too.
            known(key) || (key.contains('-') && key.split('-').any(known))
        })
}

fn is_acronym(word: &str) -> bool {
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    letters.len() >= 2 && upper >= 2 && upper * 2 >= letters.len() && !word.contains(' ')
}

// ---------------------------------------------------------------------------------------
// Lines

static BULLET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-*\u{2022}\u{25aa}\u{25cf}\u{00b7}\u{2013}\u{2014}\u{25e6}\u{f0b7}o]|\u{f0a7})\s+",
    )
    .unwrap_or_else(|_| unreachable_regex())
});

/// Regexes here are constants checked by the tests; this is never reached.
fn unreachable_regex() -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new("$^").expect("the empty regex compiles")
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|_| unreachable_regex())
}

#[derive(Debug, Clone)]
struct Line {
    /// Without bullet, trimmed, spaces collapsed (tabs kept).
    text: String,
    bullet: bool,
    /// Table cells when the line is a tab- or pipe-separated row.
    cells: Vec<String>,
}

impl Line {
    fn blank(&self) -> bool {
        self.text.is_empty()
    }
}

fn prepare_lines(text: &str) -> Vec<Line> {
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

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cells of a table row: tab-separated, or pipe-separated (`| a | b |`).
fn split_cells(text: &str) -> Vec<String> {
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
enum Heading {
    /// A list of people present follows (or is inline).
    Attendees(Option<String>),
    Apologies(Option<String>),
    /// Explicitly none ("No apologies were received").
    NoApologies,
    Actions,
}

static ATTENDEES_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:(?:board\s+|committee\s+)?members\s+present|present|attendees(?:\s+and\s+apologies)?|attendance|in\s+attendance|also\s+present|also\s+in\s+attendance|officers\s+present|officers\s+in\s+attendance|attending|also\s+attending|those\s+present|(?:board\s+)?members|guests|observers|invited|chair(?:ed by)?|chairperson)\s*(?:[:\-\u{2013}]\s*(.*))?$",
    )
});
static APOLOGIES_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:apologies\s+(?:for\s+absence\s+)?(?:were|was|have\s+been|had\s+been)\s+(?:received|given|noted|tendered|submitted)\s+(?:from|by|on\s+behalf\s+of)\s+(.+)|apologies\s+(?:for\s+absence\s+)?(?:received\s+)?from\s+(.+)|(?:apologies(?:\s+for\s+absence)?(?:\s+received)?(?:\s+and\s+substitutions)?|absent(?:\s+with\s+apologies)?|apologies\s+for\s+absence\s+and\s+substitutions)\s*(?:[:\-\u{2013}]\s*(.*))?)$",
    )
});
static NO_APOLOGIES: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:there\s+were\s+)?no\s+apologies(?:\s+(?:were|had\s+been)\s+received)?\.?$|^apologies\s*[:\-\u{2013}]\s*(?:none|nil|n/a)\.?$",
    )
});
static ACTIONS_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:summary\s+of\s+)?(?:new\s+)?actions?(?:\s+(?:log|arising|agreed|list|tracker|summary))?\s*:?$",
    )
});

fn heading(line: &Line) -> Option<Heading> {
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

/// `Item 2a. Title`, `1. Item 1 - Title`, `Agenda item 3: Title`.
static ITEM_WORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:\d{1,3}[.)]?\s+)?(?:agenda\s+)?item\s+(?:no\.?\s*)?(\d{1,3}(?:\.?[a-z]\b|\.\d{1,2}|\([a-z0-9]\))*)(?:\s*[.:)\-\u{2013}\u{2014}]+)?\s*(.*)$",
    )
});
/// `3. Title`, `3 Title`, `3) Title`, `3a Title` (only when the document has no `Item`
/// headings).
static NUMBERED_HEADING: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(\d{1,3}[a-z]?)(?:[.)]\s*|\s+)(\S.*)$"));

/// Council-style minute references: `45/23 Title`, `CSP/23/45 Title`, `CSP 12/23: Title`.
static MINUTE_REF: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^((?:[A-Z]{2,8}[/ ])?\d{1,4}/\d{2,4}(?:/\d{1,4})?)\.?(?:\s*[:\-\u{2013}]\s*|\s+)([A-Z].*)$",
    )
});

fn item_word_heading(text: &str) -> Option<(String, String)> {
    if let Some(c) = MINUTE_REF.captures(text) {
        let title = clean_title(c.get(2).map_or("", |m| m.as_str()));
        if title.split_whitespace().count() <= 15 && !title.ends_with('.') {
            return Some((c.get(1)?.as_str().to_owned(), title));
        }
    }
    let c = ITEM_WORD.captures(text)?;
    let number = c.get(1)?.as_str().to_owned();
    let title = clean_title(c.get(2).map_or("", |m| m.as_str()));
    // "Item 3 was deferred." is a sentence, not a heading.
    if title.split_whitespace().count() > 25 {
        return None;
    }
    Some((number, title))
}

fn numbered_heading(text: &str) -> Option<(String, String)> {
    let c = NUMBERED_HEADING.captures(text)?;
    let number = c.get(1)?.as_str().to_owned();
    let title = c.get(2)?.as_str().trim();
    let words: Vec<&str> = title.split_whitespace().collect();
    let first = title.chars().next()?;
    if !first.is_uppercase() || words.len() > 14 || title.len() > 120 {
        return None;
    }
    if words
        .first()
        .is_some_and(|w| month_number(w).is_some() || w.ends_with(':'))
    {
        return None;
    }
    if title.ends_with('.') {
        let sentence_like = words.len() > 5
            || words.iter().any(|w| {
                matches!(
                    word_key(w).as_str(),
                    "was" | "were" | "is" | "are" | "noted" | "agreed" | "had" | "has" | "have"
                )
            });
        if sentence_like {
            return None;
        }
    }
    Some((number, clean_title(title)))
}

fn clean_title(title: &str) -> String {
    title
        .trim()
        .trim_start_matches(['-', '\u{2013}', '\u{2014}', ':', '.'])
        .trim()
        .trim_end_matches([':', '.'])
        .trim()
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// People

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Initials,
    Role,
    Organisation,
    Other,
}

fn header_columns(cells: &[String]) -> Option<Vec<Column>> {
    let columns: Vec<Column> = cells
        .iter()
        .map(|cell| {
            let key = cell.to_lowercase();
            let key = key.trim_matches(|c: char| !c.is_alphanumeric());
            match key {
                "name" | "names" | "member" | "members" | "attendee" | "attendees" | "present"
                | "full name" => Column::Name,
                "initials" => Column::Initials,
                "role" | "title" | "position" | "job title" | "designation" | "post" => {
                    Column::Role
                }
                "organisation"
                | "organization"
                | "agency"
                | "representing"
                | "body"
                | "department"
                | "company"
                | "org"
                | "organisation/agency" => Column::Organisation,
                _ => Column::Other,
            }
        })
        .collect();
    let named = columns.contains(&Column::Name);
    let described = columns
        .iter()
        .any(|c| matches!(c, Column::Role | Column::Organisation | Column::Initials));
    (named && described).then_some(columns)
}

/// Splits `text` on `separators` outside parentheses.
fn split_top_level<'a>(text: &'a str, separators: &[&str]) -> Vec<&'a str> {
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

/// Parses a person's name (with titles) at the start of `text`: returns the person with
/// name and title, and the rest of the text.
fn parse_name(text: &str) -> Option<(String, Option<String>)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut titles = Vec::new();
    let mut name = Vec::new();
    for (i, word) in words.iter().enumerate() {
        // Titles come first ("Cllr", "Dame", "AC", "Ch Supt"), post-nominals last.
        if name.is_empty() && is_title(word) && i + 1 < words.len() {
            titles.push(*word);
            continue;
        }
        if !name.is_empty() && is_title(word) && word.chars().all(|c| c.is_uppercase() || c == '.')
        {
            titles.push(*word);
            continue;
        }
        name.push(*word);
    }
    if name.len() < 2 || name.len() > 5 {
        return None;
    }
    for (i, word) in name.iter().enumerate() {
        let key = word_key(word);
        if NOT_NAME_WORDS.contains(&key.as_str())
            || (ROLE_WORDS.contains(&key.as_str()) && i > 0)
            || ORG_WORDS.contains(&key.as_str())
        {
            return None;
        }
        if i > 0 && NAME_PARTICLES.contains(&key.as_str()) {
            continue;
        }
        let valid_chars = word
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '\u{2019}' | '.'));
        let first = word.chars().next();
        if !valid_chars || !first.is_some_and(char::is_uppercase) {
            return None;
        }
        // Acronyms are organisations ("MOPAC CEO"); a single capital is a middle initial.
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        if letters >= 2 && word.chars().filter(|c| c.is_uppercase()).count() == letters {
            return None;
        }
    }
    let title = (!titles.is_empty()).then(|| titles.join(" "));
    Some((name.join(" "), title))
}

fn name_initials(name: &str) -> Vec<char> {
    name.split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !NAME_PARTICLES.contains(&w.to_lowercase().as_str()))
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether `candidate` (the text in brackets after a name) is that person's initials:
/// `LO` for Lynne Owens, `DWB` for Debbie Weekes-Bernard, `CSt`, or `Kris V`.
fn initials_of(candidate: &str, name: &str) -> bool {
    let candidate = candidate.trim();
    if candidate.is_empty() || candidate.len() > 10 {
        return false;
    }
    let name_words: Vec<&str> = name.split_whitespace().collect();
    let cand_words: Vec<&str> = candidate.split_whitespace().collect();
    if cand_words.len() > 1 {
        // "Kris V": each word a prefix of the name's words, in order.
        let mut name_iter = name_words.iter();
        return cand_words.iter().all(|c| {
            let c = c.trim_end_matches('.').to_lowercase();
            name_iter.any(|n| n.to_lowercase().starts_with(&c))
        });
    }
    let letters: Vec<char> = candidate.chars().filter(|c| *c != '.').collect();
    if !letters.iter().all(|c| c.is_alphabetic()) || letters.len() > 5 {
        return false;
    }
    let upper: Vec<char> = letters
        .iter()
        .copied()
        .filter(|c| c.is_uppercase())
        .collect();
    let initials = name_initials(name);
    if upper.len() < 2 || letters.len() - upper.len() > 1 || upper.first() != initials.first() {
        return false;
    }
    if !letters.first().is_some_and(|c| c.is_uppercase()) {
        return false;
    }
    let mut rest = initials.iter();
    upper.iter().all(|u| rest.any(|i| i == u))
}

/// Parses one person from a line or a list entry.
fn parse_person(text: &str, ctx: &ParseContext) -> Option<Person> {
    let text = text.trim().trim_end_matches([';', '.', ',']).trim();
    if text.is_empty() || text.len() > 250 {
        return None;
    }
    // The name runs to the first separator.
    let end = [
        " - ",
        " \u{2013} ",
        " \u{2014} ",
        ",",
        "(",
        ":",
        " / ",
        " \u{2013}",
        " -",
    ]
    .iter()
    .filter_map(|sep| text.find(sep))
    .min()
    .unwrap_or(text.len());
    let (name, title) = parse_name(text[..end].trim())?;
    let mut person = Person {
        name,
        title,
        ..Person::default()
    };
    let mut rest = text[end..].trim();
    // Brackets straight after the name: initials, a role ("(Chair)") or an organisation.
    if rest.starts_with('(') {
        if let Some(close) = rest.find(')') {
            let inside = rest[1..close].trim();
            rest = rest[close + 1..].trim();
            if initials_of(inside, &person.name) {
                person.initials = Some(inside.to_owned());
            } else {
                assign_parts(&mut person, &[inside], ctx);
            }
        }
    }
    let rest = rest
        .trim_start_matches([',', '-', '\u{2013}', '\u{2014}', ':', '/'])
        .trim();
    if !rest.is_empty() {
        let parts: Vec<&str> =
            split_top_level(rest, &[", ", " - ", " \u{2013} ", " \u{2014} ", "; "])
                .into_iter()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
        assign_parts(&mut person, &parts, ctx);
    }
    Some(person)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    Role,
    Organisation,
}

fn known_organisation(part: &str, ctx: &ParseContext) -> bool {
    let key = normalise_key(part);
    ctx.organisations.iter().any(|o| normalise_key(o) == key)
}

fn classify_part(part: &str, ctx: &ParseContext) -> PartKind {
    if known_organisation(part, ctx) {
        return PartKind::Organisation;
    }
    let role_at = has_word(part, ROLE_WORDS);
    let org_at = has_word(part, ORG_WORDS);
    // Job titles end in the role noun: "Democratic Services Officer", "Board Manager".
    let last_word_is_role = part
        .split_whitespace()
        .last()
        .is_some_and(|w| has_word(w, ROLE_WORDS).is_some());
    if last_word_is_role && !is_acronym(part.split_whitespace().last().unwrap_or("")) {
        return PartKind::Role;
    }
    match (role_at, org_at) {
        (Some(r), Some(o)) if r < o => PartKind::Role,
        (Some(_), Some(_)) => PartKind::Organisation,
        (Some(_), None) => PartKind::Role,
        _ => PartKind::Organisation,
    }
}

/// Distributes the parts after a name between role and organisation.
fn assign_parts(person: &mut Person, parts: &[&str], ctx: &ParseContext) {
    enum Part {
        Role(String),
        Org(String),
        /// "MOPAC CEO": an organisation's acronym then a role, used as such only when no
        /// other part names an organisation ("CEO, Southwark Council, LC rep").
        Split {
            org: String,
            role: String,
            whole: String,
        },
    }
    let mut classified: Vec<Part> = Vec::new();
    for part in parts {
        let mut part = part.trim().to_owned();
        // A trailing "(Chair)" is a role even after an organisation.
        if let (Some(open), true) = (part.rfind('('), part.ends_with(')')) {
            let inside = part[open + 1..part.len() - 1].trim().to_owned();
            if classify_part(&inside, ctx) == PartKind::Role
                && has_word(&inside, ROLE_WORDS).is_some()
            {
                classified.push(Part::Role(inside));
                part = part[..open].trim().to_owned();
            }
        }
        if part.is_empty() {
            continue;
        }
        if let Some((first, after)) = part.split_once(' ') {
            if is_acronym(first)
                && classify_part(after, ctx) == PartKind::Role
                && has_word(after, ROLE_WORDS).is_some_and(|i| i == 0)
            {
                classified.push(Part::Split {
                    org: first.to_owned(),
                    role: after.to_owned(),
                    whole: part.clone(),
                });
                continue;
            }
        }
        classified.push(match classify_part(&part, ctx) {
            PartKind::Role => Part::Role(part),
            PartKind::Organisation => Part::Org(part),
        });
    }
    let has_org = classified.iter().any(|p| matches!(p, Part::Org(_)));
    let mut roles: Vec<String> = Vec::new();
    let mut orgs: Vec<String> = Vec::new();
    for part in classified {
        match part {
            Part::Role(role) => roles.push(role),
            Part::Org(org) => orgs.push(org),
            Part::Split { whole, .. } if has_org => roles.push(whole),
            Part::Split { org, role, .. } => {
                orgs.push(org);
                roles.push(role);
            }
        }
    }
    if orgs.len() > 1 {
        let last = orgs.last().cloned().unwrap_or_default();
        let last_is_short = is_acronym(&last) || known_organisation(&last, ctx);
        if !roles.is_empty() || last_is_short {
            // "Director, C&P, MOPAC": the last is the organisation, the rest describe
            // the role.
            orgs.pop();
            roles.append(&mut orgs);
            orgs.push(last);
        }
    } else if let Some(org) = orgs.first().cloned() {
        // "S&MPS Oversight MOPAC": a trailing acronym is the organisation.
        let words: Vec<&str> = org.split_whitespace().collect();
        if let Some((last, before)) = words.split_last() {
            if !roles.is_empty()
                && !before.is_empty()
                && is_acronym(last)
                && has_word(&org, ORG_WORDS).is_none()
            {
                roles.push(before.join(" "));
                orgs = vec![(*last).to_owned()];
            }
        }
    }
    let join = |existing: Option<String>, more: Vec<String>| -> Option<String> {
        let mut all: Vec<String> = existing.into_iter().collect();
        all.extend(more);
        (!all.is_empty()).then(|| all.join(", "))
    };
    person.role = join(person.role.take(), roles);
    person.organisation = join(person.organisation.take(), orgs);
}

fn person_from_cells(
    cells: &[String],
    columns: Option<&[Column]>,
    ctx: &ParseContext,
) -> Option<Person> {
    match columns {
        Some(columns) => {
            let mut person: Option<Person> = None;
            let mut others = Vec::new();
            for (cell, column) in cells.iter().zip(columns.iter()) {
                if cell.is_empty() {
                    continue;
                }
                match column {
                    Column::Name => person = parse_person(cell, ctx),
                    _ => others.push((*column, cell.clone())),
                }
            }
            let mut person = person?;
            for (column, cell) in others {
                match column {
                    Column::Initials => person.initials = Some(cell),
                    Column::Role => person.role = Some(cell),
                    Column::Organisation => person.organisation = Some(cell),
                    _ => {}
                }
            }
            Some(person)
        }
        None => {
            let filled: Vec<&str> = cells
                .iter()
                .map(String::as_str)
                .filter(|c| !c.is_empty())
                .collect();
            let mut person = parse_person(filled.first()?, ctx)?;
            let rest: Vec<&str> = filled[1..].to_vec();
            if let Some(first) = rest.first() {
                if person.initials.is_none() && initials_of(first, &person.name) && first.len() <= 5
                {
                    person.initials = Some((*first).to_owned());
                    assign_parts(&mut person, &rest[1..], ctx);
                    return Some(person);
                }
            }
            assign_parts(&mut person, &rest, ctx);
            Some(person)
        }
    }
}

/// A grid of names (`Present:` tables with a person in each cell).
fn people_grid(cells: &[String], ctx: &ParseContext) -> Option<Vec<Person>> {
    let filled: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
    if filled.len() < 2 {
        return None;
    }
    let people: Option<Vec<Person>> = filled.iter().map(|c| parse_person(c, ctx)).collect();
    let people = people?;
    // "John Smith | Chief Executive" is one person, not two: every cell must be a name
    // that is not also a role or organisation.
    people
        .iter()
        .all(|p| has_word(&p.name, ROLE_WORDS).is_none())
        .then_some(people)
}

/// Splits an inline list ("A (Chair), B, C and D") into people. Fragments that are not
/// names ("Jane Doe, MPS") describe the person before them.
fn parse_inline_people(text: &str, ctx: &ParseContext) -> Vec<Person> {
    let text = text.trim().trim_end_matches('.');
    let separators: &[&str] = if text.contains(';') {
        &[";"]
    } else {
        &[",", " and ", " & "]
    };
    let mut people: Vec<Person> = Vec::new();
    for fragment in split_top_level(text, separators) {
        let fragment = fragment.trim();
        if fragment.is_empty() {
            continue;
        }
        match parse_person(fragment, ctx) {
            Some(person) => people.push(person),
            None => {
                if let Some(last) = people.last_mut() {
                    assign_parts(last, &[fragment], ctx);
                }
            }
        }
    }
    people
}

// ---------------------------------------------------------------------------------------
// Dates

const MONTHS: [&str; 12] = [
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

fn month_number(word: &str) -> Option<u32> {
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

fn weekday(word: &str) -> Option<Weekday> {
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

static DAY_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:\b(mon|tues?|wed(?:nes)?|thur?s?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?(?:the\s+)?\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\.?,?(?:\s+(\d{4}))?",
    )
});
static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:\b(mon|tues?|wed(?:nes)?|thur?s?|fri|sat(?:ur)?|sun)(?:day)?,?\s+)?\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b,?(?:\s+(\d{4}))?",
    )
});
static NUMERIC_DATE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})\b"));
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| regex(r"\b(\d{4})-(\d{2})-(\d{2})\b"));
static YEAR: LazyLock<Regex> = LazyLock::new(|| regex(r"\b(19[89]\d|20\d\d)\b"));

/// The year a date without one belongs to: the meeting's, else the latest year the
/// document mentions; a stated weekday picks between that year and the next.
fn resolve_year(
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
fn find_date(
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

fn latest_year(text: &str) -> Option<i32> {
    YEAR.captures_iter(text)
        .filter_map(|c| c[1].parse::<i32>().ok())
        .max()
}

static NEXT_MEETING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:the\s+)?(?:date\s+(?:and\s+time\s+)?(?:of|for)\s+(?:the\s+)?next\s+(?:board\s+|committee\s+|[A-Z]{2,6}\s+)?meeting|next\s+(?:board\s+|committee\s+|[A-Z]{2,6}\s+)?meeting(?:\s+date)?)\b(.*)$",
    )
});

/// Whether the line states the next meeting, and the rest of the line after the phrase.
fn next_meeting_line(text: &str) -> Option<String> {
    // The phrase may open a later sentence of the line ("AOB ... The date of the next
    // meeting is ...").
    for sentence in sentences(text) {
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

// ---------------------------------------------------------------------------------------
// Sentences and actions

const ABBREVIATIONS: &[&str] = &[
    "dr", "cllr", "mr", "mrs", "ms", "st", "no", "cmdr", "e.g", "i.e", "etc", "vs", "approx",
    "dept", "supt", "insp", "prof", "rev", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "co", "ltd", "inc",
];

/// Splits a paragraph into sentences at `.`, `!`, `?` followed by a space and a capital
/// or digit, not after common abbreviations.
pub fn sentences(text: &str) -> Vec<&str> {
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

static EXPLICIT_ACTION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:new\s+)?(?:action(?:\s+point)?s?|ap)\s*(?:[A-Z]?\d+(?:\.\d+)?)?\s*(?:[:\-\u{2013}\u{2014}]|\s+for\s+)\s*(.+)$",
    )
});
static TRAILING_ACTION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?:^|[\s.;])(?:ACTION|Action)\s*(?::|-|\u{2013})\s*([A-Z][A-Za-z&' ]{0,40}?|[A-Z]{1,5}(?:\s*/\s*[A-Z]{1,5})*)\s*\.?$",
    )
});
static OWNER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)[(\[]?\b(?:owner|lead|responsible|by whom|action owner)\s*[:\-\u{2013}]\s*([^)\]\n;]{1,60})[)\]]?\s*\.?$",
    )
});
static BRACKET_OWNER: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"[(\[]([A-Z][A-Za-z&' ]{0,30}|[A-Z]{1,5}(?:\s*/\s*[A-Z]{1,5})*)[)\]]\s*\.?$")
});
static X_TO_VERB: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(.{1,60}?)\s+(?:to|will|agreed\s+to|would)\s+(?:[a-z]+)"));
static PASSIVE_COMMITMENT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:will|would|shall|is\s+to|are\s+to|to)\s+be\s+(?:re-?)?(circulated|presented|shared|provided|sent|reported|brought|published|submitted|distributed|produced|prepared|arranged|organi[sz]ed|drafted|discussed|tabled|returned|reissued|considered|updated|reviewed|scheduled|confirmed|set\s+up|taken\s+forward|followed\s+up|developed|finalised|finalized|agreed|added|invited|escalated|explored)\b",
    )
});
static ACTIVE_COMMITMENT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:will|agreed\s+to|undertook\s+to|committed\s+to|offered\s+to|volunteered\s+to|is\s+to|are\s+to|were\s+asked\s+to|was\s+asked\s+to|would)\s+(?:also\s+)?(?:circulate|present|share|provide|send|report\s+back|report|bring|publish|submit|distribute|produce|prepare|arrange|organi[sz]e|draft|write|follow\s+up|feed\s+back|liaise|confirm|contact|invite|set\s+up|convene|work\s+with|explore|consider|come\s+back|return|update|review|develop|lead|look\s+into|investigate|respond|circulated)\b",
    )
});
static DUE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:by|in|at|before|for|until|to)\s+(?:the\s+)?(next\s+(?:[A-Z]{2,6}\s+|board\s+|committee\s+)?meeting|(?:end\s+of\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:january|february|march|april|may|june|july|august|september|october|november|december)(?:\s+\d{4})?|(?:the\s+)?(?:end\s+of\s+)?q[1-4](?:\s+\d{4})?|\d{1,2}/\d{1,2}/\d{2,4})\b",
    )
});
static REPORTING_VERB: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:updated|said|stated|noted|reported|explained|confirmed|advised|highlighted|agreed|presented|gave|spoke|provided|emphasised|emphasized|outlined|informed|introduced|welcomed|recognised|recognized|raised|added|shared|summarised|summarized|set\s+out|thanked|asked|suggested|proposed|mentioned|commented|expressed|acknowledged|led|took|talked|described|is|are|have|has)\b",
    )
});

/// Names the minutes may use for an owner: organisations and initials of the people
/// listed, and the registry's.
struct Mentions {
    /// (as matched in text, canonical owner, case-sensitive)
    phrases: Vec<(String, String, bool)>,
}

impl Mentions {
    fn new(structure: &MinutesStructure, ctx: &ParseContext) -> Self {
        let mut phrases: Vec<(String, String, bool)> = Vec::new();
        let mut seen = HashSet::new();
        let mut add = |text: &str, canonical: &str, case_sensitive: bool| {
            let text = collapse_spaces(text.trim());
            if text.len() < 2 || !seen.insert(text.to_lowercase()) {
                return;
            }
            phrases.push((text, canonical.to_owned(), case_sensitive));
        };
        let people = structure.attendees.iter().chain(structure.apologies.iter());
        for person in people.clone() {
            if let Some(initials) = &person.initials {
                add(initials, initials, true);
            }
        }
        let organisations = people
            .filter_map(|p| p.organisation.as_deref())
            .map(str::to_owned)
            .chain(ctx.organisations.iter().cloned());
        for org in organisations {
            for part in split_top_level(&org, &[", ", " / "]) {
                let part = part.trim();
                // "Association of ... (ADASS)": the abbreviation is how the text refers
                // to it.
                if let (Some(open), true) = (part.rfind('('), part.ends_with(')')) {
                    let short = &part[open + 1..part.len() - 1];
                    add(short, short, true);
                }
            }
            let plain = collapse_spaces(&org.replace(',', " "));
            let plain = match plain.find(" (") {
                Some(i) => plain[..i].to_owned(),
                None => plain,
            };
            add(&plain, &plain, is_acronym(&plain));
            if let Some(first) = plain.split_whitespace().next() {
                if is_acronym(first) {
                    add(first, first, true);
                }
            }
        }
        for initials in &ctx.initials {
            add(initials, initials, true);
        }
        // Longest first so "CPS South" wins over "CPS" at the same place.
        phrases.sort_by_key(|(text, _, _)| std::cmp::Reverse(text.len()));
        Mentions { phrases }
    }

    /// The leftmost mention in `text` (longest at that position), as the canonical owner.
    fn first_in(&self, text: &str) -> Option<(usize, String)> {
        let lower = text.to_lowercase();
        let mut best: Option<(usize, usize, &str)> = None;
        for (phrase, canonical, case_sensitive) in &self.phrases {
            let (hay, needle) = if *case_sensitive {
                (text, phrase.clone())
            } else {
                (lower.as_str(), phrase.to_lowercase())
            };
            let mut from = 0;
            while let Some(found) = hay[from..].find(&needle) {
                let at = from + found;
                let end = at + needle.len();
                let before_ok = hay[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
                let after_ok = hay[end..].chars().next().is_none_or(|c| {
                    !c.is_alphanumeric()
                        || c == 's'
                            && hay[end + 1..]
                                .chars()
                                .next()
                                .is_none_or(|c| !c.is_alphanumeric())
                });
                if before_ok && after_ok {
                    let better = match best {
                        None => true,
                        Some((b_at, b_len, _)) => at < b_at || (at == b_at && needle.len() > b_len),
                    };
                    if better {
                        best = Some((at, needle.len(), canonical.as_str()));
                    }
                    break;
                }
                from = at + needle.len().max(1);
            }
        }
        best.map(|(at, _, canonical)| (at, canonical.to_owned()))
    }

    /// Whether `text` is exactly one mention (an owner cell or `Owner: X`).
    fn exact(&self, text: &str) -> Option<String> {
        let key = text.trim().trim_end_matches('.').to_lowercase();
        self.phrases
            .iter()
            .find(|(p, _, _)| p.to_lowercase() == key)
            .map(|(_, c, _)| c.clone())
    }
}

/// The speaker of a paragraph: the first mention in its opening words, where minutes put
/// who reported ("MOPAC updated that ...", "KV said ...").
fn paragraph_speaker(paragraph: &str, mentions: &Mentions) -> Option<String> {
    for sentence in sentences(paragraph) {
        let Some(verb) = REPORTING_VERB.find(sentence) else {
            continue;
        };
        let subject = &sentence[..verb.start()];
        if subject.split_whitespace().count() > 8 {
            continue;
        }
        if let Some((_, owner)) = mentions.first_in(subject) {
            return Some(owner);
        }
    }
    None
}

fn due_in(text: &str) -> Option<String> {
    DUE.captures(text).and_then(|c| c.get(1)).map(|m| {
        let due = collapse_spaces(m.as_str());
        if due.to_lowercase().starts_with("next") {
            "next meeting".to_owned()
        } else {
            due
        }
    })
}

fn owner_of_explicit(
    text: &str,
    mentions: &Mentions,
    speaker: Option<&String>,
) -> (String, Option<String>) {
    let text = text.trim();
    if let Some(c) = OWNER_LABEL.captures(text) {
        if let (Some(all), Some(owner)) = (c.get(0), c.get(1)) {
            let owner = owner.as_str().trim().trim_end_matches('.').to_owned();
            let rest = text[..all.start()]
                .trim()
                .trim_end_matches([',', '-', '\u{2013}'])
                .trim();
            return (
                rest.to_owned(),
                Some(mentions.exact(&owner).unwrap_or(owner)),
            );
        }
    }
    if let Some(c) = BRACKET_OWNER.captures(text) {
        if let (Some(all), Some(owner)) = (c.get(0), c.get(1)) {
            let owner = owner.as_str().trim();
            if mentions.exact(owner).is_some()
                || owner
                    .chars()
                    .all(|c| c.is_uppercase() || c == '/' || c == ' ')
            {
                let rest = text[..all.start()].trim();
                return (
                    rest.to_owned(),
                    Some(mentions.exact(owner).unwrap_or_else(|| owner.to_owned())),
                );
            }
        }
    }
    // "... by the next meeting - MOPAC" / "... – KV"
    for sep in [" \u{2013} ", " - ", " \u{2014} "] {
        if let Some((rest, owner)) = text.rsplit_once(sep) {
            if let Some(owner) = mentions.exact(owner) {
                return (rest.trim().to_owned(), Some(owner));
            }
        }
    }
    if let Some(c) = X_TO_VERB.captures(text) {
        if let Some(subject) = c.get(1) {
            if let Some((_, owner)) = mentions.first_in(subject.as_str()) {
                return (text.to_owned(), Some(owner));
            }
            // "Head of Community Safety to circulate ...": the subject is the owner as
            // written, when it is short and names someone rather than something.
            let subject = subject.as_str().trim();
            let first = subject
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_lowercase();
            if subject.split_whitespace().count() <= 5
                && subject.chars().next().is_some_and(char::is_uppercase)
                && !matches!(
                    first.as_str(),
                    "the" | "a" | "an" | "all" | "this" | "it" | "we" | "there" | "these"
                )
            {
                return (text.to_owned(), Some(subject.to_owned()));
            }
        }
    }
    let owner = mentions
        .first_in(text)
        .map(|(_, o)| o)
        .or_else(|| speaker.cloned());
    (text.to_owned(), owner)
}

fn find_actions(
    structure: &MinutesStructure,
    ctx: &ParseContext,
    explicit_rows: &[(Option<String>, CandidateAction)],
) -> Vec<CandidateAction> {
    let mentions = Mentions::new(structure, ctx);
    let mut actions = Vec::new();
    for item in &structure.items {
        let mut last_speaker: Option<String> = None;
        for paragraph in item.text.split('\n') {
            let paragraph = without_paragraph_number(paragraph.trim());
            if paragraph.is_empty() {
                continue;
            }
            let speaker = paragraph_speaker(paragraph, &mentions).or_else(|| last_speaker.clone());
            if let Some(c) = EXPLICIT_ACTION.captures(paragraph) {
                if let Some(body) = c.get(1) {
                    let (text, owner) =
                        owner_of_explicit(body.as_str(), &mentions, speaker.as_ref());
                    actions.push(CandidateAction {
                        due: due_in(&text),
                        text,
                        owner,
                        item: Some(item.number.clone()),
                        explicit: true,
                    });
                    continue;
                }
            }
            // The action found in the previous sentence, and that sentence: "... will be
            // shared. ACTION: AMC" names the owner of what came before.
            let mut previous: Option<(Option<usize>, &str)> = None;
            for sentence in sentences(paragraph) {
                if let Some(c) = TRAILING_ACTION.captures(sentence) {
                    if let (Some(all), Some(owner)) = (c.get(0), c.get(1)) {
                        let owner = owner.as_str().trim();
                        let owner = mentions.exact(owner).unwrap_or_else(|| owner.to_owned());
                        let text = sentence[..all.start()].trim().to_owned();
                        match (text.is_empty(), previous) {
                            (true, Some((Some(index), _))) => {
                                if let Some(action) = actions.get_mut(index) {
                                    action.owner = Some(owner);
                                    action.explicit = true;
                                }
                            }
                            (true, Some((None, before))) => actions.push(CandidateAction {
                                due: due_in(before),
                                text: before.to_owned(),
                                owner: Some(owner),
                                item: Some(item.number.clone()),
                                explicit: true,
                            }),
                            (true, None) => {}
                            (false, _) => actions.push(CandidateAction {
                                due: due_in(&text),
                                text,
                                owner: Some(owner),
                                item: Some(item.number.clone()),
                                explicit: true,
                            }),
                        }
                        previous = None;
                        continue;
                    }
                }
                let found_before = actions.len();
                let owner = if let Some(m) = PASSIVE_COMMITMENT.find(sentence) {
                    // Passive: "... will be circulated by MOPAC", else whoever reported.
                    let after = &sentence[m.end()..];
                    let by = after
                        .find(" by ")
                        .and_then(|i| mentions.first_in(&after[i..]).filter(|(at, _)| *at <= 6))
                        .map(|(_, o)| o);
                    Some(by.or_else(|| speaker.clone()))
                } else if let Some(m) = ACTIVE_COMMITMENT.find(sentence) {
                    let subject = &sentence[..m.start()];
                    Some(
                        mentions
                            .first_in(subject)
                            .map(|(_, o)| o)
                            .or_else(|| speaker.clone()),
                    )
                } else {
                    None
                };
                if let Some(owner) = owner {
                    actions.push(CandidateAction {
                        text: sentence.to_owned(),
                        owner,
                        item: Some(item.number.clone()),
                        due: due_in(sentence),
                        explicit: false,
                    });
                }
                let found = (actions.len() > found_before).then_some(found_before);
                previous = Some((found, sentence));
            }
            if speaker.is_some() {
                last_speaker = speaker;
            }
        }
    }
    for (item, row) in explicit_rows {
        let mut row = row.clone();
        if row.item.is_none() {
            row.item = item.clone();
        }
        if row.owner.is_none() {
            let (text, owner) = owner_of_explicit(&row.text, &mentions, None);
            row.text = text;
            row.owner = owner;
        } else if let Some(owner) = row.owner.as_deref().and_then(|o| mentions.exact(o)) {
            row.owner = Some(owner);
        }
        if row.due.is_none() {
            row.due = due_in(&row.text);
        }
        actions.push(row);
    }
    actions
}

// ---------------------------------------------------------------------------------------
// The parser

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Preamble,
    Attendees,
    Apologies,
    Actions,
    Body,
}

/// Numbered paragraphs (`1.1 `, `12.3.2 `) carry no meaning for headings and sentences.
static PARAGRAPH_NUMBER: LazyLock<Regex> = LazyLock::new(|| regex(r"^\d{1,3}(?:\.\d{1,3})+\.?\s+"));

fn without_paragraph_number(text: &str) -> &str {
    match PARAGRAPH_NUMBER.find(text) {
        Some(m) => &text[m.end()..],
        None => text,
    }
}

/// Reads the structure of minutes from their text.
pub fn parse(text: &str, ctx: &ParseContext) -> MinutesStructure {
    let lines = prepare_lines(text);
    let document_year = latest_year(text);
    let item_word_style = lines.iter().any(|l| item_word_heading(&l.text).is_some());
    let item_heading = |line: &Line| -> Option<(String, String)> {
        if item_word_style {
            return item_word_heading(&line.text);
        }
        let first_cell_is_number = line.cells.len() >= 2
            && !line.cells[0].is_empty()
            && line.cells[0]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.');
        if first_cell_is_number {
            let joined = format!(
                "{} {}",
                line.cells[0].trim_end_matches('.'),
                line.cells[1..].join(" ")
            );
            return numbered_heading(&joined);
        }
        numbered_heading(&line.text).filter(|_| !line.bullet)
    };

    let mut structure = MinutesStructure::default();
    let mut mode = Mode::Preamble;
    let mut columns: Option<Vec<Column>> = None;
    let mut action_columns: Option<Vec<&'static str>> = None;
    let mut explicit_rows: Vec<(Option<String>, CandidateAction)> = Vec::new();
    let mut pending_next_meeting = false;
    let mut item_text: Vec<String> = Vec::new();

    // Appends the collected lines to the current item's text.
    let flush_item = |structure: &mut MinutesStructure, item_text: &mut Vec<String>| {
        if let Some(item) = structure.items.last_mut() {
            let mut text = std::mem::take(&mut item.text);
            text.push('\n');
            text.push_str(&item_text.join("\n"));
            item.text = text.trim().to_owned();
        }
        item_text.clear();
    };

    for line in &lines {
        if line.blank() {
            if mode == Mode::Body {
                item_text.push(String::new());
            }
            continue;
        }
        let text = line.text.as_str();
        let plain = without_paragraph_number(text);

        // A heading "Date of next meeting" leaves the date to the next line.
        if pending_next_meeting {
            pending_next_meeting = false;
            if let Some(next) = structure.next_meeting.as_mut() {
                let stated = next_meeting_line(plain).unwrap_or_else(|| plain.to_owned());
                if let Some(date) = find_date(&stated, ctx.meeting_date, document_year) {
                    next.date = Some(date);
                    next.text = if next_meeting_line(plain).is_some() {
                        stated
                    } else {
                        format!("{}: {stated}", next.text.trim_end_matches(':'))
                    };
                    continue;
                }
            }
        }

        // Item headings end any list, and may themselves state the next meeting
        // ("7. Date of next meeting").
        if let Some((number, title)) = item_heading(line) {
            let in_sequence = item_word_style
                || next_in_sequence(structure.items.last().map(|i| i.number.as_str()), &number);
            if in_sequence {
                flush_item(&mut structure, &mut item_text);
                if structure.next_meeting.is_none() {
                    if let Some(sentence) = next_meeting_line(&title) {
                        let date = find_date(&sentence, ctx.meeting_date, document_year);
                        pending_next_meeting = date.is_none();
                        structure.next_meeting = Some(NextMeeting {
                            date,
                            text: sentence,
                        });
                    }
                }
                structure.items.push(Item {
                    number,
                    title,
                    text: String::new(),
                });
                mode = Mode::Body;
                columns = None;
                continue;
            }
        }

        // The next meeting, wherever it is stated.
        if let Some(sentence) = next_meeting_line(plain) {
            let date = find_date(&sentence, ctx.meeting_date, document_year);
            if structure
                .next_meeting
                .as_ref()
                .is_none_or(|n| n.date.is_none())
            {
                pending_next_meeting = date.is_none();
                structure.next_meeting = Some(NextMeeting {
                    date,
                    text: sentence.clone(),
                });
            }
            // The statement is not part of the item's discussion; the rest of the line is.
            let rest = plain.replacen(&sentence, "", 1);
            let rest = rest.trim();
            if !rest.is_empty() && mode == Mode::Body {
                item_text.push(rest.to_owned());
            }
            continue;
        }

        // An actions table wherever it starts.
        if !line.cells.is_empty() {
            if let Some(found) = action_header(&line.cells) {
                flush_item(&mut structure, &mut item_text);
                mode = Mode::Actions;
                action_columns = Some(found);
                continue;
            }
        }

        let heading_line = Line {
            text: plain.to_owned(),
            bullet: line.bullet,
            cells: line.cells.clone(),
        };
        match heading(&heading_line) {
            Some(Heading::Attendees(inline)) => {
                if let Some(inline) = inline {
                    structure
                        .attendees
                        .extend(parse_inline_people(&inline, ctx));
                }
                if mode == Mode::Body {
                    item_text.push(text.to_owned());
                } else {
                    mode = Mode::Attendees;
                }
                columns = None;
                continue;
            }
            Some(Heading::Apologies(inline)) => {
                if let Some(inline) = inline {
                    structure
                        .apologies
                        .extend(parse_inline_people(&inline, ctx));
                }
                if mode == Mode::Body {
                    item_text.push(text.to_owned());
                } else {
                    mode = Mode::Apologies;
                }
                columns = None;
                continue;
            }
            Some(Heading::NoApologies) => {
                if mode == Mode::Body {
                    item_text.push(text.to_owned());
                }
                continue;
            }
            Some(Heading::Actions) => {
                flush_item(&mut structure, &mut item_text);
                mode = Mode::Actions;
                action_columns = None;
                continue;
            }
            None => {}
        }

        match mode {
            Mode::Attendees | Mode::Apologies => {
                let list = if mode == Mode::Attendees {
                    &mut structure.attendees
                } else {
                    &mut structure.apologies
                };
                if !line.cells.is_empty() {
                    if let Some(found) = header_columns(&line.cells) {
                        columns = Some(found);
                        continue;
                    }
                    if columns.is_none() {
                        if let Some(people) = people_grid(&line.cells, ctx) {
                            list.extend(people);
                            continue;
                        }
                    }
                    if let Some(person) = person_from_cells(&line.cells, columns.as_deref(), ctx) {
                        list.push(person);
                        continue;
                    }
                } else if let Some(person) = parse_person(text, ctx) {
                    list.push(person);
                    continue;
                } else if !line.bullet && text.contains(',') && text.split(',').count() > 2 {
                    // A run-on list under a heading: "A, B, C and D".
                    let people = parse_inline_people(text, ctx);
                    if !people.is_empty() {
                        list.extend(people);
                        continue;
                    }
                }
                // Anything else ends the list.
                mode = if structure.items.is_empty() {
                    Mode::Preamble
                } else {
                    Mode::Body
                };
                if mode == Mode::Body {
                    item_text.push(text.to_owned());
                }
            }
            Mode::Actions => {
                if !line.cells.is_empty() {
                    if let Some(row) = action_from_cells(&line.cells, action_columns.as_deref()) {
                        let item = row
                            .item
                            .clone()
                            .or_else(|| structure.items.last().map(|i| i.number.clone()))
                            .filter(|_| action_columns.is_none());
                        explicit_rows.push((item, row));
                    }
                    continue;
                }
                let body = EXPLICIT_ACTION
                    .captures(text)
                    .and_then(|c| c.get(1))
                    .map_or(text, |m| m.as_str());
                let body = strip_list_number(body);
                explicit_rows.push((
                    None,
                    CandidateAction {
                        text: body.to_owned(),
                        explicit: true,
                        ..CandidateAction::default()
                    },
                ));
            }
            Mode::Body => item_text.push(text.to_owned()),
            Mode::Preamble => {}
        }
    }
    flush_item(&mut structure, &mut item_text);
    dedupe_people(&mut structure.attendees);
    dedupe_people(&mut structure.apologies);
    structure.actions = find_actions(&structure, ctx, &explicit_rows);
    structure
}

fn strip_list_number(text: &str) -> &str {
    static NUMBER: LazyLock<Regex> =
        LazyLock::new(|| regex(r"^(?:[A-Z]?\d{1,3}[.)]?(?:\d+)?|[a-z][.)])\s+"));
    match NUMBER.find(text) {
        Some(m) => &text[m.end()..],
        None => text,
    }
}

fn action_header(cells: &[String]) -> Option<Vec<&'static str>> {
    let columns: Vec<&'static str> = cells
        .iter()
        .map(|c| {
            let key = c.to_lowercase();
            let key = key.trim_matches(|c: char| !c.is_alphanumeric());
            match key {
                "action" | "actions" | "action agreed" | "description" | "action required" => {
                    "text"
                }
                "owner" | "lead" | "responsible" | "by whom" | "who" | "action owner"
                | "owner(s)" => "owner",
                "due" | "deadline" | "by when" | "when" | "due date" | "target date" | "date"
                | "timescale" => "due",
                "item" | "agenda item" | "minute" | "ref" | "no" | "number" | "#" => "item",
                _ => "",
            }
        })
        .collect();
    (columns.contains(&"text") && columns.iter().any(|c| *c == "owner" || *c == "due"))
        .then_some(columns)
}

fn action_from_cells(cells: &[String], columns: Option<&[&str]>) -> Option<CandidateAction> {
    let mut action = CandidateAction {
        explicit: true,
        ..CandidateAction::default()
    };
    match columns {
        Some(columns) => {
            for (cell, column) in cells.iter().zip(columns) {
                let value = Some(cell.clone()).filter(|c| !c.is_empty());
                match *column {
                    "text" => action.text = cell.clone(),
                    "owner" => action.owner = value,
                    "due" => action.due = value,
                    "item" => action.item = value,
                    _ => {}
                }
            }
        }
        None => {
            // Without a header: the longest cell is the action, a short one after it the
            // owner.
            let (index, longest) = cells.iter().enumerate().max_by_key(|(_, c)| c.len())?;
            action.text = longest.clone();
            action.owner = cells[index + 1..]
                .iter()
                .find(|c| !c.is_empty() && c.len() <= 40)
                .cloned();
        }
    }
    (!action.text.trim().is_empty()).then_some(action)
}

/// Whether `number` may follow `previous` as the next item heading: numbered headings
/// must count up, so a numbered list inside an item is not mistaken for items.
fn next_in_sequence(previous: Option<&str>, number: &str) -> bool {
    let leading = |s: &str| {
        s.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u32>()
            .ok()
    };
    let Some(n) = leading(number) else {
        return false;
    };
    match previous.and_then(leading) {
        None => true,
        Some(p) => n == p + 1 || (n == p && number != previous.unwrap_or_default()),
    }
}

fn dedupe_people(people: &mut Vec<Person>) {
    let mut seen: Vec<String> = Vec::new();
    let mut out: Vec<Person> = Vec::new();
    for person in people.drain(..) {
        let key = normalise_key(&person.name);
        if let Some(i) = seen.iter().position(|k| *k == key) {
            let existing = &mut out[i];
            existing.role = existing.role.take().or(person.role);
            existing.organisation = existing.organisation.take().or(person.organisation);
            existing.initials = existing.initials.take().or(person.initials);
            continue;
        }
        seen.push(key);
        out.push(person);
    }
    *people = out;
}

// ---------------------------------------------------------------------------------------
// Matching against the registry

/// The part of a registry member that names in minutes are matched against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryMember {
    pub name: String,
    pub initials: Option<String>,
    pub organisation: Option<String>,
}

impl From<&crate::registry::Member> for RegistryMember {
    fn from(member: &crate::registry::Member) -> Self {
        RegistryMember {
            name: member.name.clone(),
            initials: member.initials.clone(),
            organisation: member.organisation.clone(),
        }
    }
}

/// A name in the minutes and the registry member it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameMatch {
    /// As the minutes write it (with title).
    pub written: String,
    pub member: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NameMatches {
    pub matched: Vec<NameMatch>,
    /// Attendees and apologies with no (or no single) registry member, as written.
    pub unmatched: Vec<String>,
}

/// Lower case, titles removed, hyphens and punctuation to spaces.
fn normalise_key(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == '-' || c == '.' || c == ',')
        .filter(|w| !w.is_empty() && !is_title(w))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn person_matches(person: &Person, member: &RegistryMember) -> bool {
    let written = normalise_key(&person.name);
    let known = normalise_key(&member.name);
    if written == known {
        return true;
    }
    let w: Vec<&str> = written.split(' ').collect();
    let k: Vec<&str> = known.split(' ').collect();
    let (Some(w_first), Some(w_last), Some(k_first), Some(k_last)) =
        (w.first(), w.last(), k.first(), k.last())
    else {
        return false;
    };
    if w_last != k_last {
        // Initials and organisation agree, surname spelled differently: not enough.
        return false;
    }
    // Middle names dropped or added: "Jane Garvan" and "Jane E Garvan".
    if w_first == k_first {
        return true;
    }
    // "J Garvan", or a short form the stated initials confirm.
    if w_first.len() == 1 && k_first.starts_with(w_first) {
        return true;
    }
    match (&person.initials, &member.initials) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Matches the attendees and apologies against the registry. A name matches when it is
/// the same name ignoring case, titles (Cllr, Dr, DAC, Dame) and hyphens, or the same
/// surname with the same first name, first initial, or stated initials.
pub fn match_names(structure: &MinutesStructure, members: &[RegistryMember]) -> NameMatches {
    let mut matches = NameMatches::default();
    for person in structure.attendees.iter().chain(structure.apologies.iter()) {
        let written = match &person.title {
            Some(title) => format!("{title} {}", person.name),
            None => person.name.clone(),
        };
        let found: Vec<&RegistryMember> = members
            .iter()
            .filter(|m| person_matches(person, m))
            .collect();
        let exact: Vec<&&RegistryMember> = found
            .iter()
            .filter(|m| normalise_key(&m.name) == normalise_key(&person.name))
            .collect();
        let chosen = match (exact.as_slice(), found.as_slice()) {
            ([one], _) => Some(one.name.clone()),
            (_, [one]) => Some(one.name.clone()),
            _ => None,
        };
        match chosen {
            Some(member) => matches.matched.push(NameMatch { written, member }),
            None => {
                if !matches.unmatched.contains(&written) {
                    matches.unmatched.push(written);
                }
            }
        }
    }
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ParseContext {
        ParseContext::default()
    }

    #[test]
    fn every_pattern_compiles() {
        for re in [
            &*BULLET,
            &*ATTENDEES_HEADING,
            &*APOLOGIES_HEADING,
            &*NO_APOLOGIES,
            &*ACTIONS_HEADING,
            &*ITEM_WORD,
            &*NUMBERED_HEADING,
            &*DAY_MONTH,
            &*MONTH_DAY,
            &*NUMERIC_DATE,
            &*ISO_DATE,
            &*YEAR,
            &*NEXT_MEETING,
            &*EXPLICIT_ACTION,
            &*TRAILING_ACTION,
            &*OWNER_LABEL,
            &*BRACKET_OWNER,
            &*X_TO_VERB,
            &*PASSIVE_COMMITMENT,
            &*ACTIVE_COMMITMENT,
            &*DUE,
            &*REPORTING_VERB,
        ] {
            assert_ne!(re.as_str(), "$^");
        }
    }

    #[test]
    fn attendee_lines_in_both_seed_styles_parse() {
        let p = parse_person("Sophie Linden, DMPC (Chair)", &ctx()).unwrap();
        assert_eq!(
            (
                p.name.as_str(),
                p.role.as_deref(),
                p.organisation.as_deref()
            ),
            ("Sophie Linden", Some("Chair"), Some("DMPC"))
        );
        let p = parse_person(
            "Dame Lynne Owens (LO) - Deputy Commissioner of the MPS",
            &ctx(),
        )
        .unwrap();
        assert_eq!(p.name, "Lynne Owens");
        assert_eq!(p.title.as_deref(), Some("Dame"));
        assert_eq!(p.initials.as_deref(), Some("LO"));
        assert_eq!(p.role.as_deref(), Some("Deputy Commissioner of the MPS"));
        let p = parse_person("Will Balakrishnan (WB) - Director, C&P, MOPAC", &ctx()).unwrap();
        assert_eq!(
            (p.role.as_deref(), p.organisation.as_deref()),
            (Some("Director, C&P"), Some("MOPAC"))
        );
        let p = parse_person("Kris Venkatasami (Kris V) - CPS S", &ctx()).unwrap();
        assert_eq!(
            (p.initials.as_deref(), p.organisation.as_deref()),
            (Some("Kris V"), Some("CPS S"))
        );
        let p = parse_person("Diana Luchford, MOPAC CEO", &ctx()).unwrap();
        assert_eq!(
            (p.role.as_deref(), p.organisation.as_deref()),
            (Some("CEO"), Some("MOPAC"))
        );
        let p = parse_person("Cmdr. Nick John, MPS", &ctx()).unwrap();
        assert_eq!(
            (p.name.as_str(), p.title.as_deref()),
            ("Nick John", Some("Cmdr."))
        );
        let p = parse_person("Leah Simms, HMPPS, Probation", &ctx()).unwrap();
        assert_eq!(p.organisation.as_deref(), Some("HMPPS, Probation"));
    }

    #[test]
    fn headings_and_sentences_are_not_people() {
        for text in [
            "Item 1 - Welcome",
            "Welcome and introductions",
            "Key information",
            "Publication type: General",
            "MOPAC CEO",
            "The Chair welcomed members.",
            "Contents",
        ] {
            assert!(parse_person(text, &ctx()).is_none(), "{text}");
        }
    }

    #[test]
    fn initials_are_recognised_only_when_they_fit_the_name() {
        assert!(initials_of("DWB", "Debbie Weekes-Bernard"));
        assert!(initials_of("JG", "Jane E Garvan"));
        assert!(initials_of("CSt", "Connie Stygall"));
        assert!(initials_of("Kris V", "Kris Venkatasami"));
        assert!(!initials_of("MPS", "John Smith"));
        assert!(!initials_of("Chair", "Claire Hughes"));
    }

    #[test]
    fn item_headings_keep_their_numbers_as_written() {
        assert_eq!(
            item_word_heading("1. Item 1 - Welcome, minutes and previous actions"),
            Some(("1".into(), "Welcome, minutes and previous actions".into()))
        );
        assert_eq!(
            item_word_heading(
                "Item 2a. Update on the LCJB Serious Case Review task and finish group"
            )
            .map(|x| x.0),
            Some("2a".into())
        );
        assert_eq!(
            item_word_heading("Item 2.b Update from Probation").map(|x| x.0),
            Some("2.b".into())
        );
        assert_eq!(
            item_word_heading("Agenda Item 4: Finance").map(|x| x.1),
            Some("Finance".into())
        );
        assert_eq!(
            numbered_heading("3. Performance report"),
            Some(("3".into(), "Performance report".into()))
        );
        assert_eq!(numbered_heading("3.1 The board noted the report."), None);
        assert_eq!(numbered_heading("13 December 2023"), None);
        assert_eq!(
            item_word_heading("45/23 Minutes of the previous meeting"),
            Some(("45/23".into(), "Minutes of the previous meeting".into()))
        );
        assert_eq!(
            item_word_heading("CSP/23/07: Serious violence duty").map(|x| x.0),
            Some("CSP/23/07".into())
        );
        assert_eq!(item_word_heading("12/03/2024 was the date."), None);
    }

    #[test]
    fn next_meeting_dates_resolve_their_year() {
        let text = "The final strategy will be presented in December 2023.\nThe date of the next meeting is Wednesday 13th December.";
        let s = parse(text, &ctx());
        assert_eq!(
            s.next_meeting.unwrap().date,
            NaiveDate::from_ymd_opt(2023, 12, 13)
        );
        let ctx = ParseContext {
            meeting_date: NaiveDate::from_ymd_opt(2023, 11, 20),
            ..ParseContext::default()
        };
        let s = parse("Date of next meeting: 15 January, 10am", &ctx);
        assert_eq!(
            s.next_meeting.unwrap().date,
            NaiveDate::from_ymd_opt(2024, 1, 15)
        );
        let s = parse(
            "Date of next meeting\nTuesday 5 March 2024 at 2pm, City Hall",
            &ParseContext::default(),
        );
        assert_eq!(
            s.next_meeting.unwrap().date,
            NaiveDate::from_ymd_opt(2024, 3, 5)
        );
        let s = parse("Next meeting: 05/03/2024", &ParseContext::default());
        assert_eq!(
            s.next_meeting.unwrap().date,
            NaiveDate::from_ymd_opt(2024, 3, 5)
        );
        let s = parse(
            "Themes to be discussed at the next meeting.",
            &ParseContext::default(),
        );
        assert!(s.next_meeting.is_none());
    }

    #[test]
    fn sentences_split_at_full_stops_but_not_abbreviations() {
        assert_eq!(
            sentences("Dr. Smith spoke. The MPS agreed. e.g. this"),
            vec!["Dr. Smith spoke.", "The MPS agreed. e.g. this"]
        );
    }

    #[test]
    fn names_match_the_registry_despite_titles_case_and_hyphens() {
        let members = vec![
            RegistryMember {
                name: "Lynne Owens".into(),
                initials: Some("LO".into()),
                organisation: Some("MPS".into()),
            },
            RegistryMember {
                name: "Jane E Garvan".into(),
                initials: Some("JG".into()),
                organisation: None,
            },
            RegistryMember {
                name: "Debbie Weekes-Bernard".into(),
                initials: Some("DWB".into()),
                organisation: None,
            },
            RegistryMember {
                name: "Matt Twist".into(),
                initials: None,
                organisation: None,
            },
        ];
        let person = |name: &str, title: Option<&str>, initials: Option<&str>| Person {
            name: name.into(),
            title: title.map(Into::into),
            initials: initials.map(Into::into),
            ..Person::default()
        };
        let structure = MinutesStructure {
            attendees: vec![
                person("Lynne Owens", Some("Dame"), Some("LO")),
                person("JANE GARVAN", None, None),
                person("Debbie Weekes Bernard", None, None),
                person("M Twist", Some("DAC"), None),
                person("Nobody Known", Some("Cllr"), None),
            ],
            ..MinutesStructure::default()
        };
        let m = match_names(&structure, &members);
        assert_eq!(m.matched.len(), 4, "{m:?}");
        assert_eq!(m.unmatched, vec!["Cllr Nobody Known".to_owned()]);
    }
}
