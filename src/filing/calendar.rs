//! Calendar responses: what a member answered to a meeting invitation.
//!
//! Mail clients answer an invitation with an iCalendar `METHOD:REPLY` part whose
//! `ATTENDEE` line carries `PARTSTAT` (accepted, declined, tentative, delegated), and a
//! subject that opens with the answer in the client's language ("Accepted: ...",
//! "Abgelehnt: ..."). Either is enough. This module reads both; it does not decide what
//! the message is filed against, and it does not write invitations.

pub use crate::domain::filing::{Attendance, Participation};

use super::Message;

impl Attendance {
    pub fn describe(&self) -> String {
        self.participation.as_str().to_owned()
    }
}

/// Subject prefixes clients write on a response, in the languages boards' members use.
const SUBJECT_PREFIXES: &[(&str, Participation)] = &[
    ("tentatively accepted:", Participation::Tentative),
    ("tentative:", Participation::Tentative),
    ("accepted:", Participation::Accepted),
    ("declined:", Participation::Declined),
    ("mit vorbehalt angenommen:", Participation::Tentative),
    ("angenommen:", Participation::Accepted),
    ("abgelehnt:", Participation::Declined),
    ("provisoire :", Participation::Tentative),
    ("provisoire:", Participation::Tentative),
    ("accepté :", Participation::Accepted),
    ("accepté:", Participation::Accepted),
    ("refusé :", Participation::Declined),
    ("refusé:", Participation::Declined),
    ("aceptado:", Participation::Accepted),
    ("rechazado:", Participation::Declined),
    ("geaccepteerd:", Participation::Accepted),
    ("afgewezen:", Participation::Declined),
    ("voorlopig:", Participation::Tentative),
];

/// The calendar response `message` carries: its `text/calendar` part with
/// `METHOD:REPLY`, else a response subject.
pub fn response(message: &Message) -> Option<Attendance> {
    for attachment in &message.attachments {
        if !attachment.content_type.starts_with("text/calendar") {
            continue;
        }
        if let Some(attendance) = attachment.first_lines.as_deref().and_then(from_icalendar) {
            return Some(attendance);
        }
    }
    let subject = message.subject.as_deref()?.trim_start().to_lowercase();
    SUBJECT_PREFIXES
        .iter()
        .find(|(prefix, _)| subject.starts_with(prefix))
        .map(|(_, participation)| Attendance {
            participation: *participation,
            uid: None,
            comment: None,
            deputy: None,
            from_words: false,
        })
}

/// Phrases that send apologies, in the order they are tried; a negated "attend" is
/// among them so that "I will not attend" is never read as attending.
const APOLOGIES: &[&str] = &[
    "apologies",
    "apology",
    "regrets",
    "can't make it",
    "cannot make it",
    "can not make it",
    "won't make it",
    "will not make it",
    "unable to attend",
    "unable to make it",
    "not be able to attend",
    "not be able to make it",
    "not able to attend",
    "won't be able to attend",
    "won't be able to make it",
    "can't attend",
    "cannot attend",
    "can't come",
    "won't be attending",
    "will not be attending",
    "won't attend",
    "will not attend",
    "not attending",
    "i decline",
];

/// Phrases that answer tentatively.
const TENTATIVE: &[&str] = &[
    "tentative",
    "not sure i can",
    "not yet sure",
    "may not be able",
    "might not be able",
    "might be able",
    "hope to attend",
    "hope to make it",
    "will try to attend",
    "will try to make it",
];

/// Phrases that accept.
const ATTENDING: &[&str] = &[
    "i'll attend",
    "i will attend",
    "i shall attend",
    "i'll be there",
    "i will be there",
    "i can attend",
    "i can make it",
    "i'll be attending",
    "i will be attending",
    "i am attending",
    "i'm attending",
    "happy to attend",
    "see you there",
    "see you then",
    "count me in",
    "i accept",
    "accepted",
    "attending",
];

/// The answer in the words of a plain reply to an invitation ("Apologies", "I can't make
/// it", "Sending my apologies - Jo Coleman will attend in my place", "I'll attend"):
/// what the first lines of the sender's own words say. A deputy named as attending in
/// their place makes it apologies. `None` when the words say neither.
pub fn from_words(own: &str) -> Option<Attendance> {
    let head: String = own
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    if head.is_empty() {
        return None;
    }
    let lower = head.to_lowercase().replace('’', "'");
    let has = |phrases: &[&str]| phrases.iter().any(|p| contains_phrase(&lower, p));
    let deputy = deputy_in(&head);
    let participation = if has(APOLOGIES) || deputy.is_some() {
        Participation::Declined
    } else if has(TENTATIVE) {
        Participation::Tentative
    } else if has(ATTENDING) {
        Participation::Accepted
    } else {
        return None;
    };
    let comment: String = head.chars().take(300).collect();
    Some(Attendance {
        participation,
        uid: None,
        comment: Some(comment),
        deputy,
        from_words: true,
    })
}

/// Whether `phrase` occurs in `text` at word boundaries.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase)
        .any(|(at, _)| super::text::stands_alone(text, at, at + phrase.len()))
}

/// The person named as attending in the sender's place: "Jo Coleman will attend in my
/// place", "Jo will attend for me", "sending Jo Coleman instead", "my deputy Jo Coleman
/// will attend". A name is one to four capitalised words.
pub fn deputy_in(text: &str) -> Option<String> {
    static PATTERNS: std::sync::LazyLock<Vec<regex::Regex>> = std::sync::LazyLock::new(|| {
        const NAME: &str = r"(\p{Lu}[\p{L}'’.-]+(?:\s+\p{Lu}[\p{L}'’.-]+){0,3})";
        [
            format!(
                r"{NAME}\s+(?i:will|is going to|is able to|can|shall)\s+(?i:attend|come|join|go|be attending|represent me|deputise|deputize|stand in|cover)(?:\s+(?i:the meeting))?\s*(?i:in my place|for me|on my behalf|instead(?: of me)?|in my stead|as my deputy)"
            ),
            format!(r"(?i:my deputy|my colleague|deputy),?\s+{NAME}\s*,?\s+(?i:will|is going to|can)\s+(?i:attend|come|join|be attending)"),
            format!(r"(?i:sending|send)\s+{NAME}\s+(?i:in my place|instead|on my behalf|as my deputy)"),
            format!(r"{NAME}\s+(?i:will|can)\s+(?i:deputise|deputize|represent me|stand in|cover for me)"),
        ]
        .iter()
        .filter_map(|p| regex::Regex::new(p).ok())
        .collect()
    });
    PATTERNS.iter().find_map(|re| {
        let name = re.captures(text)?.get(1)?.as_str().trim();
        // "I" and "We" are the sender, not a deputy.
        let first = name.split_whitespace().next()?;
        (![
            "I",
            "We",
            "Apologies",
            "Sorry",
            "Unfortunately",
            "Hi",
            "Dear",
            "Thanks",
        ]
        .contains(&first))
        .then(|| name.trim_end_matches(['.', ',']).to_owned())
    })
}

/// The lines of an iCalendar text that say what kind of message it is and who answered
/// what, unfolded (RFC 5545 continues a long line on the next one, indented): at most 40,
/// for filing's bounded view of an attachment.
pub fn key_lines(text: &str) -> String {
    let mut unfolded: Vec<String> = Vec::new();
    for line in text.lines().take(2000) {
        let line = line.trim_end_matches('\r');
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            if let Some(last) = unfolded.last_mut() {
                if last.len() < 2000 {
                    last.push_str(rest);
                }
                continue;
            }
        }
        unfolded.push(line.chars().take(2000).collect());
    }
    // What is kept is stored as JSON in PostgreSQL, which refuses NUL: no control
    // characters survive.
    for line in &mut unfolded {
        if line.chars().any(|c| c.is_control() && c != '\t') {
            *line = line
                .chars()
                .map(|c| {
                    if c.is_control() && c != '\t' {
                        '\u{FFFD}'
                    } else {
                        c
                    }
                })
                .collect();
        }
    }
    unfolded
        .into_iter()
        .filter(|l| {
            let upper = l.to_ascii_uppercase();
            ["METHOD", "ATTENDEE", "UID", "COMMENT", "DTSTART", "SUMMARY"]
                .iter()
                .any(|name| upper.starts_with(name) && upper[name.len()..].starts_with([':', ';']))
        })
        .take(40)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads a `METHOD:REPLY` calendar's answer from its (unfolded) lines.
fn from_icalendar(text: &str) -> Option<Attendance> {
    let value_of = |name: &str| {
        text.lines().find_map(|l| {
            let (head, value) = l.split_once(':')?;
            let property = head.split(';').next()?.trim();
            property
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    if !value_of("METHOD")?.eq_ignore_ascii_case("REPLY") {
        return None;
    }
    let participation = text.lines().find_map(|l| {
        let (head, _) = l.split_once(':')?;
        let mut parts = head.split(';');
        if !parts.next()?.trim().eq_ignore_ascii_case("ATTENDEE") {
            return None;
        }
        parts.find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("PARTSTAT")
                .then(|| Participation::from_partstat(v.trim_matches('"')))
                .flatten()
        })
    })?;
    Some(Attendance {
        participation,
        deputy: None,
        from_words: false,
        uid: value_of("UID").filter(|u| !u.is_empty()),
        comment: value_of("COMMENT")
            .map(|c| {
                c.replace("\\n", "\n")
                    .replace("\\,", ",")
                    .replace("\\;", ";")
            })
            .filter(|c| !c.trim().is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filing::Attachment;

    fn with_calendar(text: &str) -> Message {
        Message {
            subject: Some("LCJB meeting".into()),
            attachments: vec![Attachment {
                filename: Some("invite.ics".into()),
                content_type: "text/calendar".into(),
                first_lines: Some(key_lines(text)),
            }],
            ..Message::default()
        }
    }

    #[test]
    fn a_method_reply_calendar_gives_the_attendees_answer() {
        let ics = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:LCJB-2023-12-13@board.example\r\nATTENDEE;CN=Barry Hughes;PARTSTAT=DECLINED:mailto:barry.\r\n hughes@cps.example\r\nCOMMENT:In court that day\\, sorry\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let attendance = response(&with_calendar(ics)).unwrap();
        assert_eq!(attendance.participation, Participation::Declined);
        assert_eq!(
            attendance.uid.as_deref(),
            Some("LCJB-2023-12-13@board.example")
        );
        assert_eq!(
            attendance.comment.as_deref(),
            Some("In court that day, sorry")
        );
    }

    #[test]
    fn control_characters_never_reach_what_is_stored() {
        let ics = "METHOD:REPLY\r\nUID:a\u{0}b\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:x@y.example\r\nCOMMENT:see\u{0} you\r\n";
        let attendance = response(&with_calendar(ics)).unwrap();
        assert_eq!(attendance.uid.as_deref(), Some("a\u{FFFD}b"));
        assert!(!attendance.comment.unwrap().contains('\u{0}'));
    }

    #[test]
    fn an_invitation_is_not_a_response() {
        let ics = "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:a@b.example\nEND:VEVENT\nEND:VCALENDAR\n";
        assert_eq!(response(&with_calendar(ics)), None);
    }

    #[test]
    fn response_subjects_are_read_in_several_languages() {
        for (subject, expected) in [
            ("Accepted: LCJB 13 December", Some(Participation::Accepted)),
            ("Tentative: LCJB", Some(Participation::Tentative)),
            ("Abgelehnt: LCJB", Some(Participation::Declined)),
            ("Accepté : LCJB", Some(Participation::Accepted)),
            ("Re: Accepted figures for item 3", None),
            ("Declined cases in November", None),
        ] {
            let message = Message {
                subject: Some(subject.into()),
                ..Message::default()
            };
            assert_eq!(
                response(&message).map(|a| a.participation),
                expected,
                "{subject}"
            );
        }
    }
}

#[cfg(test)]
mod words {
    use super::*;

    fn read(text: &str) -> Option<(Participation, Option<String>)> {
        from_words(text).map(|a| (a.participation, a.deputy))
    }

    #[test]
    fn plain_replies_are_read_as_the_answers_they_give() {
        let cases: &[(&str, Participation, Option<&str>)] = &[
            ("Apologies", Participation::Declined, None),
            (
                "Hi,\n\nI can't make it on the 13th, I'm on leave.\n\nThanks",
                Participation::Declined,
                None,
            ),
            (
                "Sending my apologies - Jo Coleman will attend in my place",
                Participation::Declined,
                Some("Jo Coleman"),
            ),
            (
                "Apologies, Jo will attend for me",
                Participation::Declined,
                Some("Jo"),
            ),
            (
                "I won't be able to attend but my deputy, Sam Okafor, will attend.",
                Participation::Declined,
                Some("Sam Okafor"),
            ),
            ("I'll attend", Participation::Accepted, None),
            (
                "Yes, I will be there. See you then.",
                Participation::Accepted,
                None,
            ),
            ("I will not attend.", Participation::Declined, None),
            (
                "Tentative - I may not be able to stay for all of it",
                Participation::Tentative,
                None,
            ),
            ("I’ll be there", Participation::Accepted, None),
        ];
        for (text, participation, deputy) in cases {
            assert_eq!(
                read(text),
                Some((*participation, deputy.map(str::to_owned))),
                "{text}"
            );
        }
    }

    #[test]
    fn words_that_answer_nothing_are_not_an_answer() {
        assert_eq!(read("Where is the meeting being held?"), None);
        assert_eq!(read(""), None);
        // "attending" only as part of a longer word does not count.
        assert_eq!(read("Reattending the training course"), None);
    }
}
