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
use actions::action_from_cells;
use actions::action_header;
use actions::continues_row;
use actions::find_actions;
use actions::strip_list_number;
use actions::EXPLICIT_ACTION;
use dates::find_date;
use dates::latest_year;
use dates::next_meeting_line;
use lines::heading;
use lines::prepare_lines;
use lines::sentences;
use lines::without_paragraph_number;
use lines::Heading;
use lines::Line;
use people::apologies_in;
use people::dedupe_people;
use people::header_columns;
use people::parse_inline_people;
use people::parse_listed_people;
use people::parse_listed_person;
use people::parse_person;
use people::people_grid;
use people::person_from_cells;
use people::Column;

mod actions;
mod dates;
mod items;
mod lines;
mod names;
mod people;
#[cfg(test)]
mod tests;
mod words;

pub(crate) use names::normalise_key;
pub use names::{match_names, NameMatch, NameMatches};

use chrono::NaiveDate;
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
// The parser

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Preamble,
    Attendees,
    Apologies,
    Actions,
    Body,
}

/// The list a heading opens (attendees or apologies), with the people it names on its
/// own line.
fn opens_list(heading: Option<Heading>) -> Option<(Mode, Option<String>)> {
    match heading? {
        Heading::Attendees(inline) => Some((Mode::Attendees, inline)),
        Heading::Apologies(inline) => Some((Mode::Apologies, inline)),
        Heading::NoApologies | Heading::Actions => None,
    }
}

/// The list of people read in `mode`: apologies in [`Mode::Apologies`], else attendees.
fn people_of(structure: &mut MinutesStructure, mode: Mode) -> &mut Vec<Person> {
    if mode == Mode::Apologies {
        &mut structure.apologies
    } else {
        &mut structure.attendees
    }
}

/// Reads the structure of minutes from their text.
pub fn parse(text: &str, ctx: &ParseContext) -> MinutesStructure {
    let lines = prepare_lines(text);
    let document_year = latest_year(text);
    let mut lines = lines;
    let starts = items::find_items(&mut lines);
    let mut next_start = starts.iter().peekable();
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

    for (index, line) in lines.iter().enumerate() {
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
        if let Some(start) = next_start.next_if(|s| s.line == index) {
            flush_item(&mut structure, &mut item_text);
            if structure.next_meeting.is_none() {
                if let Some(sentence) = next_meeting_line(&start.title) {
                    let stated = format!("{sentence} {}", start.rest);
                    let date = find_date(&stated, ctx.meeting_date, document_year);
                    pending_next_meeting = date.is_none();
                    structure.next_meeting = Some(NextMeeting {
                        date,
                        text: stated.trim().to_owned(),
                    });
                }
            }
            structure.items.push(Item {
                number: start.number.clone(),
                title: start.title.clone(),
                text: String::new(),
            });
            columns = None;
            // An item that is the attendance record or the apologies ("1. Present: A,
            // B", "2. Apologies") reads its list.
            let as_heading = Line {
                text: if start.rest.is_empty() {
                    start.title.clone()
                } else {
                    format!("{}: {}", start.title, start.rest)
                },
                ..Line::default()
            };
            mode = match opens_list(heading(&as_heading)) {
                Some((list, inline)) => {
                    if let Some(inline) = inline {
                        people_of(&mut structure, list).extend(parse_listed_people(&inline, ctx));
                    }
                    list
                }
                None => {
                    if !start.rest.is_empty() {
                        item_text.push(start.rest.clone());
                    }
                    Mode::Body
                }
            };
            continue;
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
            ..line.clone()
        };
        let found = heading(&heading_line);
        if let Some((list, inline)) = opens_list(found.clone()) {
            if let Some(inline) = inline {
                people_of(&mut structure, list).extend(parse_listed_people(&inline, ctx));
            }
            if !structure.items.is_empty() {
                item_text.push(text.to_owned());
            }
            // Inside an item's discussion only a heading opens a list.
            if mode != Mode::Body || line.heading.is_some() || line.strong {
                mode = list;
            }
            columns = None;
            continue;
        }
        match found {
            Some(Heading::Attendees(_) | Heading::Apologies(_)) => {}
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
            None => {
                // Apologies recorded in a sentence, where apologies are recorded: before
                // the items, or in the apologies item.
                let in_apologies_item = structure
                    .items
                    .last()
                    .is_some_and(|item| item.title.to_lowercase().contains("apolog"));
                let in_scope = matches!(mode, Mode::Preamble | Mode::Attendees | Mode::Apologies)
                    || in_apologies_item;
                let mut found = false;
                for sentence in sentences(plain) {
                    let sentence = sentence.trim();
                    let strict = sentence.to_lowercase().starts_with("there were apologies");
                    if let Some(list) = apologies_in(sentence).filter(|_| in_scope || strict) {
                        structure.apologies.extend(parse_inline_people(&list, ctx));
                        found = true;
                    }
                }
                if found {
                    if !structure.items.is_empty() {
                        item_text.push(text.to_owned());
                    }
                    continue;
                }
            }
        }

        match mode {
            Mode::Attendees | Mode::Apologies => {
                // The list of an item that is the attendance record stays its text.
                if !structure.items.is_empty() {
                    item_text.push(text.to_owned());
                }
                let list = people_of(&mut structure, mode);
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
                } else if let Some(person) = if line.bullet {
                    parse_listed_person(text, ctx)
                } else {
                    parse_person(text, ctx)
                } {
                    list.push(person);
                    continue;
                } else if text.contains(',') && text.split(',').count() > 2 {
                    // A run-on list under a heading: "A, B, C and D".
                    let people = parse_inline_people(text, ctx);
                    if !people.is_empty() {
                        list.extend(people);
                        continue;
                    }
                }
                // "The following trustees were present:" introduces more of the list.
                if text.ends_with(':') && text.split_whitespace().count() <= 12 {
                    continue;
                }
                // Anything else ends the list.
                mode = if structure.items.is_empty() {
                    Mode::Preamble
                } else {
                    Mode::Body
                };
            }
            // Prose after an actions table is the item's text again.
            Mode::Actions if line.cells.is_empty() && action_columns.is_some() => {
                mode = if structure.items.is_empty() {
                    Mode::Preamble
                } else {
                    Mode::Body
                };
                action_columns = None;
                if mode == Mode::Body {
                    item_text.push(text.to_owned());
                }
            }
            Mode::Actions => {
                if !line.cells.is_empty() {
                    // A cell's text wrapped onto a row of its own continues the row before.
                    if let (Some(columns), Some((_, last))) =
                        (action_columns.as_deref(), explicit_rows.last_mut())
                    {
                        if continues_row(&line.cells, columns) {
                            for (cell, column) in line.cells.iter().zip(columns) {
                                if *column == "text" && !cell.is_empty() {
                                    last.text = format!("{} {cell}", last.text);
                                }
                            }
                            continue;
                        }
                    }
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
