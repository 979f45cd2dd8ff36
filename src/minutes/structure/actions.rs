//! Actions: explicit ones (`Action:` lines, action tables) and commitments found in
//! sentences, each with its owner, item and due words.
use super::lines::sentences;

use super::lines::collapse_spaces;
use super::lines::regex;
use super::lines::split_top_level;
use super::lines::without_paragraph_number;
use super::words::is_acronym;
use super::CandidateAction;
use super::MinutesStructure;
use super::ParseContext;
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;
// ---------------------------------------------------------------------------------------
// Sentences and actions

pub(super) static EXPLICIT_ACTION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:new\s+)?(?:action(?:\s+point)?s?|ap)\s*(?:[A-Z]?\d+(?:\.\d+)?)?\s*(?:[:\-\u{2013}\u{2014}]|\s+for\s+)\s*(.+)$",
    )
});
pub(super) static TRAILING_ACTION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?:^|[\s.;])(?:ACTION|Action)\s*(?::|-|\u{2013})\s*([A-Z][A-Za-z&' ]{0,40}?|[A-Z]{1,5}(?:\s*/\s*[A-Z]{1,5})*)\s*\.?$",
    )
});
pub(super) static OWNER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)[(\[]?\b(?:owner|lead|responsible|by whom|action owner)\s*[:\-\u{2013}]\s*([^)\]\n;]{1,60})[)\]]?\s*\.?$",
    )
});
pub(super) static BRACKET_OWNER: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"[(\[]([A-Z][A-Za-z&' ]{0,30}|[A-Z]{1,5}(?:\s*/\s*[A-Z]{1,5})*)[)\]]\s*\.?$")
});
pub(super) static X_TO_VERB: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(.{1,60}?)\s+(?:to|will|agreed\s+to|would)\s+(?:[a-z]+)"));
pub(super) static PASSIVE_COMMITMENT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:will|would|shall|is\s+to|are\s+to|to)\s+be\s+(?:re-?)?(circulated|presented|shared|provided|sent|reported|brought|published|submitted|distributed|produced|prepared|arranged|organi[sz]ed|drafted|discussed|tabled|returned|reissued|considered|updated|reviewed|scheduled|confirmed|set\s+up|taken\s+forward|followed\s+up|developed|finalised|finalized|agreed|added|invited|escalated|explored)\b",
    )
});
pub(super) static ACTIVE_COMMITMENT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:will|agreed\s+to|undertook\s+to|committed\s+to|offered\s+to|volunteered\s+to|is\s+to|are\s+to|were\s+asked\s+to|was\s+asked\s+to|would)\s+(?:also\s+)?(?:circulate|present|share|provide|send|report\s+back|report|bring|publish|submit|distribute|produce|prepare|arrange|organi[sz]e|draft|write|follow\s+up|feed\s+back|liaise|confirm|contact|invite|set\s+up|convene|work\s+with|explore|consider|come\s+back|return|update|review|develop|lead|look\s+into|investigate|respond|circulated)\b",
    )
});
pub(super) static DUE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:by|in|at|before|for|until|to)\s+(?:the\s+)?(next\s+(?:[A-Z]{2,6}\s+|board\s+|committee\s+)?meeting|(?:end\s+of\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:january|february|march|april|may|june|july|august|september|october|november|december)(?:\s+\d{4})?|(?:the\s+)?(?:end\s+of\s+)?q[1-4](?:\s+\d{4})?|\d{1,2}/\d{1,2}/\d{2,4})\b",
    )
});
pub(super) static REPORTING_VERB: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:updated|said|stated|noted|reported|explained|confirmed|advised|highlighted|agreed|presented|gave|spoke|provided|emphasised|emphasized|outlined|informed|introduced|welcomed|recognised|recognized|raised|added|shared|summarised|summarized|set\s+out|thanked|asked|suggested|proposed|mentioned|commented|expressed|acknowledged|led|took|talked|described|is|are|have|has)\b",
    )
});

/// A sentence that reports what someone said: "MOPAC updated that ...", "The Chair
/// reported to the board on ...".
static REPORT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^\s*(?:[\w'\u{2019}\-&().]+\s+){1,8}?(?:updated|reported|explained|informed|advised|highlighted|outlined|noted|stated|said|confirmed|told|described|presented|set\s+out|gave\s+an\s+update)\b(?:\s+(?:to\s+)?(?:the\s+)?(?:board|members|committee|group|partners|meeting))?\s+(?:that|on|how|about)\b",
    )
});

/// Names the minutes may use for an owner: organisations and initials of the people
/// listed, and the registry's.
pub(super) struct Mentions {
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
pub(super) fn paragraph_speaker(paragraph: &str, mentions: &Mentions) -> Option<String> {
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

pub(super) fn due_in(text: &str) -> Option<String> {
    DUE.captures(text).and_then(|c| c.get(1)).map(|m| {
        let due = collapse_spaces(m.as_str());
        if due.to_lowercase().starts_with("next") {
            "next meeting".to_owned()
        } else {
            due
        }
    })
}

static LEADING_OWNER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^((?:\p{Lu}[\p{L}'\-.]*)(?:\s+\p{Lu}[\p{L}'\-.]*){0,2}|All)\s*[\-\u{2013}:]\s+(\p{Ll}.+)$",
    )
});

pub(super) fn owner_of_explicit(
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
    // "Marjorie - ask the council ...", "All: ask neighbours ...".
    if let Some(c) = LEADING_OWNER.captures(text) {
        if let (Some(owner), Some(task)) = (c.get(1), c.get(2)) {
            let owner = owner.as_str();
            return (
                task.as_str().trim().to_owned(),
                Some(mentions.exact(owner).unwrap_or_else(|| owner.to_owned())),
            );
        }
    }
    if let Some(c) = X_TO_VERB.captures(text) {
        if let Some(subject) = c.get(1) {
            if let Some((_, owner)) = mentions.first_in(subject.as_str()) {
                return (text.to_owned(), Some(owner));
            }
            // A chat handle: "matteo to draft ...", "@mtorvund to cut ...".
            let handle = subject.as_str().trim();
            if !handle.contains(' ')
                && handle.len() >= 2
                && handle
                    .trim_start_matches('@')
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-'))
            {
                return (text.to_owned(), Some(handle.to_owned()));
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

pub(super) fn find_actions(
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
                // "MOPAC updated that the strategy will be circulated" reports what
                // someone said; it is not an action of the board.
                let owner = if REPORT.is_match(sentence) {
                    None
                } else if let Some(m) = PASSIVE_COMMITMENT.find(sentence) {
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

pub(super) fn strip_list_number(text: &str) -> &str {
    static NUMBER: LazyLock<Regex> =
        LazyLock::new(|| regex(r"^(?:[A-Z]?\d{1,3}[.)]?(?:\d+)?|[a-z][.)])\s+"));
    match NUMBER.find(text) {
        Some(m) => &text[m.end()..],
        None => text,
    }
}

pub(super) fn action_header(cells: &[String]) -> Option<Vec<&'static str>> {
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

/// Whether a table row only continues the text of the row above: every column but the
/// action's own is empty.
pub(super) fn continues_row(cells: &[String], columns: &[&str]) -> bool {
    cells
        .iter()
        .zip(columns)
        .all(|(cell, column)| cell.is_empty() || *column == "text")
        && cells.iter().any(|c| !c.is_empty())
}

pub(super) fn action_from_cells(
    cells: &[String],
    columns: Option<&[&str]>,
) -> Option<CandidateAction> {
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
