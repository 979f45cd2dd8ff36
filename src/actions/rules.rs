//! What a reply says about its action: done, or progress with its text.

use crate::filing;
use crate::text::commands;

/// How long a progress update's text may be; the message itself keeps the rest.
pub const MAX_UPDATE_TEXT: usize = 4000;

/// What a reply says about its action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyMeaning {
    /// The first meaningful line says the action is done.
    Done { text: String },
    /// Anything else: the (bounded) text, recorded as progress.
    Progress { text: String },
}

/// Reads a reply's own text (already trimmed of quotes and signatures) for `reference`.
/// What is kept as the update's text leaves out the greeting and the closing (sign-off,
/// name and contact block): the meeting pack shows the update, not the signature.
pub fn meaning(own: &str, reference: Option<&str>) -> ReplyMeaning {
    let (body, _closing) = crate::text::reply::without_closing(own);
    let text = filing::truncate_text(body.trim(), MAX_UPDATE_TEXT);
    let first = match commands::parse_command(own) {
        commands::Command::Comment { text } => text.lines().next().unwrap_or_default().to_owned(),
        // "Yes" / "Approved" are approval words, not a statement that an action is done.
        _ => String::new(),
    };
    if says_done(&first, reference) {
        ReplyMeaning::Done { text }
    } else {
        ReplyMeaning::Progress { text }
    }
}

/// Whether a first line says "done": the word (optionally after the action's ref or
/// "Action"), then nothing, punctuation, or a separator and a note. "Done?" asks; "Not
/// done yet" and "Done the first half" do not close anything.
pub fn says_done(line: &str, reference: Option<&str>) -> bool {
    let mut rest = line
        .trim()
        .trim_matches(|c: char| c == '*' || c == '_')
        .trim();
    // "LCJB-A17 Done", "LCJB-A17: done", "Action LCJB-A17 - complete". Compared without
    // case on the line itself (`get` refuses a cut inside a character), so no offset of a
    // lower-cased copy is ever applied to the original.
    let strip = |text: &'_ str, prefix: &str| -> Option<usize> {
        text.get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))
            .map(|_| prefix.len())
    };
    if let Some(n) = strip(rest, "action ") {
        rest = rest[n..].trim_start();
    }
    if let Some(n) = reference.and_then(|r| strip(rest, r)) {
        rest = &rest[n..];
    }
    let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '-'));
    let word_end = rest
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(rest.len());
    let word = rest[..word_end].to_lowercase();
    if !matches!(
        word.as_str(),
        "done" | "complete" | "completed" | "closed" | "finished"
    ) {
        return false;
    }
    let after = rest[word_end..].trim_start();
    matches!(
        after.chars().next(),
        None | Some('.' | '!' | ',' | ';' | ':' | '-' | '\u{2013}' | '\u{2014}' | '(')
    )
}

/// Whether an action is open past its due day: its due date, else the day its due words
/// name ("October" is the end of October after the meeting that raised it).
pub fn is_overdue(action: &crate::store::actions::ActionView, today: chrono::NaiveDate) -> bool {
    if action.status != "open" {
        return false;
    }
    let due = action.due_date.or_else(|| {
        let raised = action.meeting_date?;
        crate::text::dates::due_by(action.due_text.as_deref()?, raised)
    });
    due.is_some_and(|due| due < today)
}

/// Marks each of `actions` overdue or not as of `today`.
pub fn mark_overdue(actions: &mut [crate::store::actions::ActionView], today: chrono::NaiveDate) {
    for action in actions {
        action.overdue = is_overdue(action, today);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_meaningful_line_decides_whether_an_action_is_done() {
        let cases = [
            ("Done", true),
            ("done.", true),
            ("DONE!", true),
            ("Complete", true),
            ("Completed", true),
            ("Closed - sent 1 Dec", true),
            ("Done - shared on 1 Dec", true),
            ("LCJB-A17 Done", true),
            ("LCJB-A17: done.", true),
            ("Action LCJB-A17 - complete", true),
            ("Hi Tamara,\n\nDone, thanks.\n\nKind regards\nMark", true),
            ("Done\n\n> LCJB-A17 Share the data", true),
            ("Not done yet", false),
            ("Done?", false),
            ("Done the first half; the rest next week", false),
            ("Completed the review but the report is late", false),
            ("We are not closed to the idea", false),
            ("Update: the protocol is drafted", false),
            ("LCJB-A18 Done", false),
            ("Yes", false),
            ("", false),
            ("Progress: done 3 of 5 sessions", false),
            ("\u{130}stanbul done", false),
            ("\u{130}", false),
            ("LCJB-A1\u{130} done", false),
        ];
        for (text, done) in cases {
            let got = meaning(text, Some("LCJB-A17"));
            assert_eq!(
                matches!(got, ReplyMeaning::Done { .. }),
                done,
                "{text:?} gave {got:?}"
            );
        }
    }

    #[test]
    fn an_update_is_stored_without_its_greeting_and_signature() {
        let own = "Hi Shobnam,\n\nUpdate: the protocol was shared with partners on 1 Dec.\n\nThanks\nTamara\n\nTamara Barnett\nHead of Partnerships | MOPAC\n020 7946 0000";
        assert_eq!(
            meaning(own, Some("LCJB-A17")),
            ReplyMeaning::Progress {
                text: "Update: the protocol was shared with partners on 1 Dec.".into()
            }
        );
        let done = "Done - shared on 1 Dec.\n\nKind regards,\nNick John\nCommander | MPS";
        assert_eq!(
            meaning(done, None),
            ReplyMeaning::Done {
                text: "Done - shared on 1 Dec.".into()
            }
        );
    }

    #[test]
    fn a_progress_update_keeps_the_text_within_bounds() {
        let long = "word ".repeat(5000);
        let ReplyMeaning::Progress { text } = meaning(&long, None) else {
            panic!("a long text is progress");
        };
        assert!(text.len() <= MAX_UPDATE_TEXT + 8, "{}", text.len());
        assert!(text.starts_with("word word"));
    }
}
