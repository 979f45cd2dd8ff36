//! Matching the names in minutes against the board registry.

//! A member's name, initials and organisation are what names in minutes are matched
//! against; the member is the board's one read model ([`Member`]).

use super::words::{is_title, ROLE_WORDS};
use super::MinutesStructure;
use super::Person;
use crate::domain::board::Member;
use serde::Serialize;

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

/// Lower case, accents folded (`Wiśniewska` is `wisniewska`), titles removed, hyphens
/// and punctuation to spaces.
pub(crate) fn normalise_key(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == '-' || c == '.' || c == ',')
        .filter(|w| !w.is_empty() && !is_title(w))
        .map(|w| fold_accents(w.trim_matches(|c: char| !c.is_alphanumeric())).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Latin letters without their accents, as people type names without them.
fn fold_accents(word: &str) -> String {
    const FOLDS: &[(&str, char)] = &[
        ("àáâãäåāăą", 'a'),
        ("ÀÁÂÃÄÅĀĂĄ", 'A'),
        ("çćĉċč", 'c'),
        ("ÇĆĈĊČ", 'C'),
        ("ďđ", 'd'),
        ("ĎĐ", 'D'),
        ("èéêëēĕėęě", 'e'),
        ("ÈÉÊËĒĔĖĘĚ", 'E'),
        ("ĝğġģ", 'g'),
        ("ĜĞĠĢ", 'G'),
        ("ìíîïĩīĭįı", 'i'),
        ("ÌÍÎÏĨĪĬĮİ", 'I'),
        ("ĺļľŀł", 'l'),
        ("ĹĻĽĿŁ", 'L'),
        ("ñńņňŉ", 'n'),
        ("ÑŃŅŇ", 'N'),
        ("òóôõöøōŏő", 'o'),
        ("ÒÓÔÕÖØŌŎŐ", 'O'),
        ("ŕŗř", 'r'),
        ("ŔŖŘ", 'R'),
        ("śŝşšș", 's'),
        ("ŚŜŞŠȘ", 'S'),
        ("ţťŧț", 't'),
        ("ŢŤŦȚ", 'T'),
        ("ùúûüũūŭůűų", 'u'),
        ("ÙÚÛÜŨŪŬŮŰŲ", 'U'),
        ("ýÿŷ", 'y'),
        ("ÝŸŶ", 'Y'),
        ("źżž", 'z'),
        ("ŹŻŽ", 'Z'),
    ];
    word.chars()
        .map(|c| {
            FOLDS
                .iter()
                .find(|(from, _)| from.contains(c))
                .map_or(c, |(_, to)| *to)
        })
        .collect()
}

/// The written name without what trails it that is the member's organisation or a role:
/// "Kris Venkatasami CPS South", "Sophie Linden DMPC".
fn without_trailing_details(written: &str, member: &Member) -> String {
    let mut words: Vec<&str> = written.split(' ').collect();
    let organisation = member
        .organisation
        .as_deref()
        .map(normalise_key)
        .unwrap_or_default();
    let organisation: Vec<&str> = organisation.split(' ').filter(|w| !w.is_empty()).collect();
    if !organisation.is_empty()
        && words.len() > organisation.len() + 1
        && words.ends_with(&organisation)
    {
        words.truncate(words.len() - organisation.len());
    }
    while words.len() > 2 && words.last().is_some_and(|w| ROLE_WORDS.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

pub(super) fn person_matches(person: &Person, member: &Member) -> bool {
    let written = without_trailing_details(&normalise_key(&person.name), member);
    let known = normalise_key(&member.name);
    if written == known {
        return true;
    }
    // Initials alone ("SL"), when they are the member's.
    if !written.contains(' ')
        && member
            .initials
            .as_deref()
            .is_some_and(|i| person.name.eq_ignore_ascii_case(i) && i.len() >= 2)
    {
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
pub fn match_names(structure: &MinutesStructure, members: &[Member]) -> NameMatches {
    let mut matches = NameMatches::default();
    for person in structure.attendees.iter().chain(structure.apologies.iter()) {
        let written = match &person.title {
            Some(title) => format!("{title} {}", person.name),
            None => person.name.clone(),
        };
        let found: Vec<&Member> = members
            .iter()
            .filter(|m| person_matches(person, m))
            .collect();
        let exact: Vec<&&Member> = found
            .iter()
            .filter(|m| {
                normalise_key(&m.name) == without_trailing_details(&normalise_key(&person.name), m)
            })
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
