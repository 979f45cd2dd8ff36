//! Agenda item headings: `Item 2a`, `3. Title`, minute references (`45/23`), and the
//! rule that numbered headings count up.

use super::dates::month_number;
use super::lines::regex;
use super::words::word_key;
use regex::Regex;
use std::sync::LazyLock;
/// `Item 2a. Title`, `1. Item 1 - Title`, `Agenda item 3: Title`.
pub(super) static ITEM_WORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:\d{1,3}[.)]?\s+)?(?:agenda\s+)?item\s+(?:no\.?\s*)?(\d{1,3}(?:\.?[a-z]\b|\.\d{1,2}|\([a-z0-9]\))*)(?:\s*[.:)\-\u{2013}\u{2014}]+)?\s*(.*)$",
    )
});
/// `3. Title`, `3 Title`, `3) Title`, `3a Title` (only when the document has no `Item`
/// headings).
pub(super) static NUMBERED_HEADING: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(\d{1,3}[a-z]?)(?:[.)]\s*|\s+)(\S.*)$"));

/// Council-style minute references: `45/23 Title`, `CSP/23/45 Title`, `CSP 12/23: Title`.
pub(super) static MINUTE_REF: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^((?:[A-Z]{2,8}[/ ])?\d{1,4}/\d{2,4}(?:/\d{1,4})?)\.?(?:\s*[:\-\u{2013}]\s*|\s+)([A-Z].*)$",
    )
});

pub(super) fn item_word_heading(text: &str) -> Option<(String, String)> {
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

pub(super) fn numbered_heading(text: &str) -> Option<(String, String)> {
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

pub(super) fn clean_title(title: &str) -> String {
    title
        .trim()
        .trim_start_matches(['-', '\u{2013}', '\u{2014}', ':', '.'])
        .trim()
        .trim_end_matches([':', '.'])
        .trim()
        .to_owned()
}

/// Whether `number` may follow `previous` as the next item heading: numbered headings
/// must count up, so a numbered list inside an item is not mistaken for items.
pub(super) fn next_in_sequence(previous: Option<&str>, number: &str) -> bool {
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

/// Numbered paragraphs (`1.1 `, `12.3.2 `) carry no meaning for headings and sentences.
pub(super) static PARAGRAPH_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\d{1,3}(?:\.\d{1,3})+\.?\s+"));

pub(super) fn without_paragraph_number(text: &str) -> &str {
    match PARAGRAPH_NUMBER.find(text) {
        Some(m) => &text[m.end()..],
        None => text,
    }
}
