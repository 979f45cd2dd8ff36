//! People as minutes list them: one to a line with role, initials and organisation, in
//! tables, or inline (`A, B and C`).
use super::lines::sentences;
use super::lines::split_top_level;

use super::lines::regex;
use regex::Regex;
use std::sync::LazyLock;

use super::names::normalise_key;
use super::words::has_word;
use super::words::is_acronym;
use super::words::is_not_name_word;
use super::words::is_title;
use super::words::word_key;
use super::words::NAME_PARTICLES;
use super::words::ORG_WORDS;
use super::words::ROLE_WORDS;
use super::ParseContext;
use super::Person;
// ---------------------------------------------------------------------------------------
// People

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    Name,
    Initials,
    Role,
    Organisation,
    Other,
}

pub(super) fn header_columns(cells: &[String]) -> Option<Vec<Column>> {
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

/// Parses a person's name (with titles) at the start of `text`: returns the person with
/// name and title, and the rest of the text. `listed` for a name in an attendance list, where one word, a nickname, initials
/// (`JP`, `bl`) and `Member 7` are names too.
fn parse_name_as(text: &str, listed: bool) -> Option<(String, Option<String>)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut titles = Vec::new();
    let mut name = Vec::new();
    for (i, word) in words.iter().enumerate() {
        // Titles come first ("Cllr", "Dame", "AC", "Ch Supt", "County Councillor"),
        // post-nominals last.
        let qualifies_title = PLACE_QUALIFIERS.contains(&word_key(word).as_str())
            && words.get(i + 1).is_some_and(|next| is_title(next));
        if name.is_empty() && (is_title(word) || qualifies_title) && i + 1 < words.len() {
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
    if listed {
        return listed_name(&name, &titles);
    }
    if name.len() < 2 || name.len() > 5 {
        return None;
    }
    for (i, word) in name.iter().enumerate() {
        let key = word_key(word);
        if is_not_name_word(&key)
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

/// Words that make a councillor's title of the council they sit on: "County Councillor".
const PLACE_QUALIFIERS: &[&str] = &[
    "county",
    "borough",
    "parish",
    "district",
    "town",
    "city",
    "borough/ncc",
    "borough/county",
];

fn listed_name(name: &[&str], titles: &[&str]) -> Option<(String, Option<String>)> {
    if name.is_empty() || name.len() > 4 {
        return None;
    }
    let numbered_member = name.len() == 2
        && word_key(name[0]) == "member"
        && name[1].chars().all(|c| c.is_ascii_digit());
    if !numbered_member {
        for (i, word) in name.iter().enumerate() {
            let key = word_key(word);
            let valid_chars = word
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '\u{2019}' | '.' | '?'));
            if !valid_chars
                || is_not_name_word(&key)
                || ORG_WORDS.contains(&key.as_str())
                || ROLE_WORDS.contains(&key.as_str())
                || LIST_WORDS.contains(&key.as_str())
                || (i > 0
                    && word.chars().next().is_some_and(char::is_lowercase)
                    && !NAME_PARTICLES.contains(&key.as_str()))
            {
                return None;
            }
        }
    }
    let title = (!titles.is_empty()).then(|| titles.join(" "));
    Some((name.join(" "), title))
}

/// Words in an attendance list that are not a person.
const LIST_WORDS: &[&str] = &[
    "none", "nobody", "n/a", "nil", "tbc", "all", "everyone", "public", "others", "various", "see",
    "above", "below", "the", "a", "an", "with", "were", "was",
];

pub(super) fn name_initials(name: &str) -> Vec<char> {
    name.split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !NAME_PARTICLES.contains(&w.to_lowercase().as_str()))
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether `candidate` (the text in brackets after a name) is that person's initials:
/// `LO` for Lynne Owens, `DWB` for Debbie Weekes-Bernard, `CSt`, or `Kris V`.
pub(super) fn initials_of(candidate: &str, name: &str) -> bool {
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
pub(super) fn parse_person(text: &str, ctx: &ParseContext) -> Option<Person> {
    parse_person_as(text, ctx, false)
}

/// A person in an attendance or apologies list (see [`parse_name_as`]).
pub(super) fn parse_listed_person(text: &str, ctx: &ParseContext) -> Option<Person> {
    parse_person_as(text, ctx, true)
}

static HANDLE: LazyLock<Regex> = LazyLock::new(|| regex(r"\(?@[A-Za-z0-9_\-]+\)?"));

fn parse_person_as(text: &str, ctx: &ParseContext, listed: bool) -> Option<Person> {
    let handle_only = text.trim().trim_end_matches(['.', ',', ';']);
    if listed
        && handle_only.starts_with('@')
        && HANDLE
            .find(handle_only)
            .is_some_and(|m| m.len() == handle_only.len())
    {
        return Some(Person {
            name: handle_only.to_owned(),
            ..Person::default()
        });
    }
    let without_handle = HANDLE.replace_all(text, " ");
    let text = without_handle
        .trim()
        .trim_end_matches([';', '.', ','])
        .trim();
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
    let (name, title) = parse_name_as(text[..end].trim(), false).or_else(|| {
        listed
            .then(|| parse_name_as(text[..end].trim(), true))
            .flatten()
    })?;
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
pub(super) enum PartKind {
    Role,
    Organisation,
}

pub(super) fn known_organisation(part: &str, ctx: &ParseContext) -> bool {
    let key = normalise_key(part);
    ctx.organisations.iter().any(|o| normalise_key(o) == key)
}

pub(super) fn classify_part(part: &str, ctx: &ParseContext) -> PartKind {
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
pub(super) fn assign_parts(person: &mut Person, parts: &[&str], ctx: &ParseContext) {
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

pub(super) fn person_from_cells(
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
pub(super) fn people_grid(cells: &[String], ctx: &ParseContext) -> Option<Vec<Person>> {
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
/// The people a label introduces on its line: "Present: A, B and C", "Apologies:
/// Apologies were received from A and B. C was absent." Each sentence that records
/// apologies or an absence gives its names; other sentences are more of the list
/// ("Guy de Montfort. Alan Whitford.") until one reads as prose.
pub(super) fn parse_listed_people(text: &str, ctx: &ParseContext) -> Vec<Person> {
    let parts = sentences(text);
    if parts.len() <= 1 {
        return parse_inline_people(text, ctx);
    }
    let mut people = Vec::new();
    for (i, sentence) in parts.iter().enumerate() {
        let sentence = sentence.trim();
        if let Some(list) = apologies_in(sentence) {
            people.extend(parse_inline_people(&list, ctx));
        } else if i == 0 || !PROSE.is_match(sentence) {
            people.extend(parse_inline_people(sentence, ctx));
        } else {
            break;
        }
    }
    people
}

/// A verb that makes a sentence prose rather than a list of names.
static PROSE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:was|were|is|are|had|has|have|will|would|said|reported|noted|agreed|joined|left|resolved|accept\w*)\b",
    )
});

pub(super) fn parse_inline_people(text: &str, ctx: &ParseContext) -> Vec<Person> {
    let text = match UNNAMED_COUNT.find(text) {
        Some(m) => &text[..m.start()],
        None => text,
    };
    let text = RELATIVE_CLAUSE.replace_all(text, "");
    let text = AND_FROM.replace_all(&text, " and ");
    let text = split_unseparated(&text);
    let text = text.trim().trim_end_matches(['.', ',']);
    // "A, B; C, D": semicolons part people whose entries hold commas ("Name, Org"),
    // unless every comma part is itself a name.
    let fragments: Vec<&str> = if text.contains(';') {
        split_top_level(text, &[";"])
            .into_iter()
            .flat_map(|part| {
                let names: Vec<&str> = split_top_level(part, &[",", " and ", " & "]);
                // "Emma Lewis (EL), Healthwatch Riverside" is one person and where from.
                let plain_names = names
                    .iter()
                    .all(|n| !n.contains('(') && parse_listed_person(n, ctx).is_some());
                if names.len() > 1 && plain_names {
                    names
                } else {
                    vec![part]
                }
            })
            .collect()
    } else {
        split_top_level(text, &[",", " and ", " & "])
    };
    let mut people: Vec<Person> = Vec::new();
    for fragment in fragments {
        let fragment = fragment.trim();
        if fragment.is_empty() {
            continue;
        }
        match parse_listed_person(fragment, ctx) {
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

/// "and 10 members of the public": a count of people, not names; the list ends there.
static UNNAMED_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:,?\s*(?:and\s+)?(?:approximately\s+|about\s+|some\s+|around\s+)?\b\d+\s+(?:members?\s+of\s+(?:the\s+)?public|residents|parishioners|people|others|observers|visitors|guests)\b|,?\s*(?:and\s+)?(?:several|many|some)\s+(?:members\s+of\s+the\s+public|residents)).*$",
    )
});
/// "X who was on holiday", "Y due to illness": why, not who.
static RELATIVE_CLAUSE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)\s+(?:who|as\s+(?:he|she|they)|due\s+to|because|owing\s+to|for\s+personal)\b[^,;]*")
});
static AND_FROM: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i),?\s+and\s+(?:also\s+)?from\s+"));
static UNSEPARATED: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"([\w'\-]*[a-z]|\))\s+((?:Cllr|Councillor|Mrs|Mr|Ms|Miss|Dr|Prof)\.?\s+[A-Z])|(\))\s+([A-Z][a-z]+\s+[A-Z])",
    )
});

/// Lists written without separators ("Cllr A B Cllr C D", "Mrs T Mann (Chair) Mrs S
/// Lee"): a new person starts at each honorific and after a closing bracket.
fn split_unseparated(text: &str) -> String {
    if text.contains(',') && text.split(',').count() > 2 && !text.contains(") ") {
        return text.to_owned();
    }
    UNSEPARATED
        .replace_all(text, |c: &regex::Captures| {
            match (c.get(1), c.get(2), c.get(3), c.get(4)) {
                // "A and Cllr B" is already separated.
                (Some(a), Some(b), _, _) if !matches!(a.as_str(), "and" | "or") => {
                    format!("{}, {}", a.as_str(), b.as_str())
                }
                (_, _, Some(a), Some(b)) => format!("{}, {}", a.as_str(), b.as_str()),
                _ => c[0].to_owned(),
            }
        })
        .into_owned()
}

/// The list in a sentence recording apologies: "Apologies were received from A, B and
/// C", "Apologies were accepted for ...", "There were apologies for absence from ...",
/// "X sent his apologies".
pub(super) fn apologies_in(sentence: &str) -> Option<String> {
    if FUTURE_APOLOGIES.is_match(sentence) {
        return None;
    }
    if let Some(c) = APOLOGY_SENTENCE.captures(sentence) {
        return c.get(1).map(|m| m.as_str().to_owned());
    }
    if let Some(c) = WAS_ABSENT.captures(sentence) {
        return c.get(1).map(|m| m.as_str().to_owned());
    }
    SENT_APOLOGIES
        .captures(sentence)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
}

static APOLOGY_SENTENCE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:there\s+were\s+)?apolog(?:y|ies)(?:\s+for\s+absence)?(?:\s+(?:were|was|have\s+been|had\s+been|are))?(?:\s+also)?(?:\s+(?:received|accepted|given|tendered|noted|submitted|sent|offered))?(?:\s+in\s+advance)?\s+(?:from|for|by|on\s+behalf\s+of)\s+(.+?)\.?$",
    )
});
static SENT_APOLOGIES: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^((?:(?:Cllr|Councillor|Mrs|Mr|Ms|Miss|Dr)\.?\s+)?[A-Z][\w\-']+(?:\s+[A-Z][\w\-']+){0,2})\s+(?:sent|gave|offered|tendered)\s+(?:his|her|their)\s+apologies\b",
    )
});
static WAS_ABSENT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^((?:(?:Cllr|Councillor|Mrs|Mr|Ms|Miss|Dr)\.?\s+)?[A-Z][\w\-']+(?:\s+[A-Z][\w\-']+){0,2}(?:\s+\([^)]*\))?(?:(?:,\s+|\s+and\s+)(?:(?:Cllr|Councillor|Mrs|Mr|Ms|Dr)\.?\s+)?[A-Z][\w\-']+(?:\s+[A-Z][\w\-']+){0,2}(?:\s+\([^)]*\))?)*)\s+(?:was|were)\s+absent\b",
    )
});
static FUTURE_APOLOGIES: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)\bfor\s+the\s+(?:next|following|forthcoming)\s+meeting\b"));

pub(super) fn dedupe_people(people: &mut Vec<Person>) {
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
