//! Which agenda item a written update is about: what our mail was about, items named in
//! the subject, attachments and text, titles matched, and the one item the sender's
//! organisation leads.

use super::*;
use crate::domain::refs::item_key;

/// Whether `words` share enough of an item title's telling words: two, or the one a
/// short title has.
pub(super) fn title_matches(title: &str, words: &[String]) -> bool {
    let title_words = significant_words(title);
    if title_words.is_empty() {
        return false;
    }
    let needed = if title_words.len() == 1 { 1 } else { 2 };
    title_words.iter().filter(|w| words.contains(w)).count() >= needed
}

/// Title words that tell items apart: not the words every item title shares.
pub(super) fn significant_words(title: &str) -> Vec<String> {
    const COMMON: [&str; 24] = [
        "the",
        "and",
        "for",
        "from",
        "with",
        "update",
        "updates",
        "written",
        "lcjb",
        "board",
        "item",
        "items",
        "on",
        "of",
        "including",
        "into",
        "use",
        "other",
        "key",
        "its",
        "action",
        "taken",
        "against",
        "progress",
    ];
    let mut words: Vec<String> = Vec::new();
    for word in text::words(title) {
        if word.chars().count() >= 4 && !COMMON.contains(&word.as_str()) && !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

impl<'a> Decider<'a> {
    // -- the item -----------------------------------------------------------------------

    pub(super) fn item(
        &mut self,
        kind: Kind,
        meeting: &'a Meeting,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) -> (Option<String>, f32) {
        let mut tally: Tally<usize> = Tally::new();
        let find = |key: &str| {
            meeting
                .items
                .iter()
                .position(|i| item_key(&i.number) == key)
        };
        if let Some(r) = reply {
            if r.sent.meeting.as_deref() == Some(meeting.reference.as_str()) {
                if let Some(number) = r.sent.item.as_deref() {
                    if let Some(i) = find(&item_key(number)) {
                        tally.add(
                            i,
                            0.9,
                            format!("our {} was about item {number}", r.sent.kind.describe()),
                        );
                    }
                }
            }
        }
        let mut places = self.texts.places();
        for lines in &self.texts.attachment_lines {
            places.push((lines.clone(), 0.6, "the attachment's text".to_owned()));
        }
        let mut unknown: Vec<String> = Vec::new();
        // Items the subject or an attachment's name gives: a longer text mentioning
        // another item in passing ("this also touches on item 4") counts for less.
        let headline: Vec<usize> = places
            .iter()
            .filter(|(_, weight, _)| *weight >= 0.8)
            .flat_map(|(text, _, _)| signals::items(text))
            .filter_map(|m| find(&m.key))
            .collect();
        for (text, weight, place) in &places {
            for mention in signals::items(text) {
                match find(&mention.key) {
                    Some(i) => {
                        let weight =
                            if *weight < 0.8 && !headline.is_empty() && !headline.contains(&i) {
                                weight * 0.5
                            } else {
                                *weight
                            };
                        tally.add(
                            i,
                            weight,
                            format!(
                                "{place} names {} ({})",
                                mention.written, meeting.items[i].number
                            ),
                        );
                    }
                    None => {
                        if !unknown.contains(&mention.key) {
                            unknown.push(mention.key.clone());
                            self.reason(format!(
                                "{place} names {}, which is not on the agenda of {}",
                                mention.written, meeting.reference
                            ));
                        }
                    }
                }
            }
        }
        // An action update is about its action: only an item it names is taken.
        let guess = kind == Kind::WrittenUpdate;
        let named = !tally.is_empty();
        if !named && guess {
            // Titles: an update about the "Diversion Strategy" is about that item.
            let mut texts: Vec<String> = self.texts.subjects().map(str::to_owned).collect();
            texts.extend(self.texts.attachment_names.iter().cloned());
            let opening = text::truncate(&self.texts.content(), 300).to_owned();
            for (i, item) in meeting.items.iter().enumerate() {
                let title_words = significant_words(&item.title);
                if title_words.is_empty() {
                    continue;
                }
                let needed = if title_words.len() == 1 { 1 } else { 2 };
                for t in &texts {
                    if title_matches(&item.title, &text::words(t)) {
                        tally.add(
                            i,
                            0.55,
                            format!(
                                "\"{t}\" matches the title of item {} ({})",
                                item.number, item.title
                            ),
                        );
                        break;
                    }
                }
                let words = text::words(&opening);
                let shared = title_words.iter().filter(|w| words.contains(w)).count();
                if shared >= needed.max(2) && shared * 2 >= title_words.len() {
                    tally.add(
                        i,
                        0.35,
                        format!("the opening words match the title of item {}", item.number),
                    );
                }
            }
        }
        // The sender's organisation leads an item: decisive when nothing is named, a
        // tie-breaker when several are.
        let led: Vec<usize> = sender
            .organisation
            .map(|o| {
                meeting
                    .items
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| i.lead.as_deref() == Some(o))
                    .map(|(n, _)| n)
                    .collect()
            })
            .unwrap_or_default();
        let organisation = sender.organisation.unwrap_or_default();
        if tally.is_empty() && guess {
            match led.as_slice() {
                [one] => tally.add(
                    *one,
                    0.6,
                    format!(
                        "{organisation} leads item {}, and the message names none",
                        meeting.items[*one].number
                    ),
                ),
                [] => {
                    if sender.organisation.is_some() {
                        self.reason(format!(
                            "no item named, and {organisation} leads none on {}",
                            meeting.reference
                        ));
                    }
                }
                many => {
                    let numbers: Vec<&str> = many
                        .iter()
                        .map(|i| meeting.items[*i].number.as_str())
                        .collect();
                    self.reason(format!(
                        "no item named, and {organisation} leads several ({})",
                        numbers.join(", ")
                    ));
                }
            }
        } else if tally.candidates().len() > 1 {
            for i in &led {
                if tally.candidates().contains(i) {
                    tally.add(
                        *i,
                        0.3,
                        format!("{organisation} leads item {}", meeting.items[*i].number),
                    );
                }
            }
        }
        let Some(resolved) = tally.resolve() else {
            return (None, 1.0);
        };
        for r in &resolved.reasons {
            self.reason(r.clone());
        }
        let winner = &meeting.items[resolved.winner];
        // An item is secondary to the meeting: only a conflict between items lowers the
        // decision's confidence.
        let confidence = match &resolved.runner_up {
            Some((other, _, why)) => {
                let all: Vec<&str> = tally
                    .candidates()
                    .iter()
                    .map(|i| meeting.items[*i].number.as_str())
                    .collect();
                self.reason(format!(
                    "names {} items ({}): filed against {}; conflicting: {why} (item {})",
                    all.len(),
                    all.join(", "),
                    winner.number,
                    meeting.items[*other].number
                ));
                resolved.confidence
            }
            None => 1.0,
        };
        (Some(winner.number.clone()), confidence)
    }
}
