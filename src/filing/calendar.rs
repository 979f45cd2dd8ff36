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
