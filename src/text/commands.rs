//! The command in a reply's own words, for approval requests and action updates alike.
//!
//! The own words come from the crate's one reader ([`super::reply`]), which trims
//! the quoted request, attributions, Outlook's header blocks, signatures, taglines,
//! markings and disclaimers of any common client. [`parse_command`] reads the first
//! meaningful line: `APPROVE` with the courtesies people put round it ("Approved with
//! thanks - Tom", "Happy to approve", "I approve these minutes"), `REJECT <reason>`,
//! `UNDO`; anything else is a comment for the secretariat. The rule is deliberately
//! strict: any negation or condition anywhere in the own text ("can't approve until",
//! "approved subject to", "yes, but") makes it a comment, never an approval.
//!
//! This module does not verify who sent the reply or its token (see
//! [`crate::approval::token`] and [`crate::approval::authresults`]).

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::text::reply::{self as own, is_greeting, is_sign_off};

/// What a reply asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "command", rename_all = "lowercase")]
pub enum Command {
    Approve,
    /// `APPROVE without 2, 5`: approved, without the candidate actions so numbered.
    ApproveWithout {
        numbers: Vec<u32>,
    },
    Reject {
        reason: String,
    },
    Undo,
    Comment {
        text: String,
    },
}

/// A reply read: the approver's own text and the command in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub text: String,
    pub command: Command,
}

/// Reads a stored reply from its text and HTML bodies (either may be absent): the own
/// text as [`own::read_stored`] finds it, and the command in it.
pub fn read(plain: Option<&str>, html: Option<&str>) -> Reply {
    let text = own::read_stored(plain, html).text;
    let command = parse_command(&text);
    Reply { text, command }
}

fn regex(pattern: &str) -> Regex {
    #[allow(clippy::expect_used)] // constant patterns, compiled by the tests
    Regex::new(pattern).expect("constant pattern compiles")
}

/// The approval itself, with what people put round it: "Yes, approved", "I approve these
/// minutes", "Happy to approve", "Approval given". What follows it on the line must be
/// courtesy (see [`COURTESY_TAIL`]).
static APPROVE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:(?:yes|ok|okay|fine|agreed)\b[\s,.!\-\u{2013}\u{2014}]*)?(?:(?:i|we)\s+(?:am\s+|are\s+|'m\s+|'re\s+)?(?:happy|content|pleased)\s+to\s+approve|(?:happy|content|pleased)\s+to\s+approve|(?:i|we)\s+approve|approve|approved|approval\s+given|yes)\b(?:\s+(?:these|the|this|both)(?:\s+(?:draft|revised))?\s+(?:minutes|draft|version|revision|pack|papers))?(?:\s+as\s+(?:drafted|circulated|written|they\s+stand))?",
    )
});
/// Thanks, a sign-off and a name after the command on its line: "Approved with thanks -
/// Tom", "Approve - thanks, Sophie", "Approved, many thanks", "Approved - Tom". A name
/// of up to three capitalised words may follow a courtesy; without one, only a single
/// word ("Approved - Wrong Date" is not a name).
static COURTESY_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^[\s,.;:!\-\u{2013}\u{2014}]*(?:(?:(?i:(?:with\s+(?:many\s+)?thanks|many\s+thanks|thanks(?:\s+(?:very\s+much|so\s+much|a\s+lot|again|all))?|thank\s+you(?:\s+(?:very\s+much|all))?|cheers|ta|thx|best(?:\s+wishes)?|kind\s+regards|regards|please))[\s,.;:!\-\u{2013}\u{2014}]*)+(?:\p{Lu}[\p{L}'.\-]*(?:\s+\p{Lu}[\p{L}'.\-]*){0,2})?|\p{Lu}[\p{L}'.\-]*)?[\s.!]*$",
    )
});
/// Words that make an approval conditional or negate it: "not approved", "can't approve
/// until ...", "approved subject to ...", "yes, but ...". Any of them anywhere in the
/// own text makes it a comment: approving is never inferred from a qualified answer.
static QUALIFIED: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:not|no|never|wrong|incorrect|inaccurate|missing|errors?|typos?|quer(?:y|ies)|questions?|problems?|concerns?|cannot|can't|cant|couldn't|won't|don't|didn't|isn't|aren't|wouldn't|shouldn't|unable|until|till|subject\s+to|provided|providing|pending|unless|except|but|however|once|conditional(?:ly)?|condition|if|only\s+when|after|await(?:ing)?|wait(?:ing)?|hold\s+off|yet|amend(?:ed|ment|ments)?|correct(?:ion|ions|ed)?|change(?:s|d)?)\b|n't\b|\?",
    )
});
/// `APPROVE without 2, 5`, `Approved except actions 2 and 5`, `approve but not 3`.
static APPROVE_WITHOUT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:approve|approved|i\s+approve)\s+(?:without|except|excluding|but\s+not)\s+(?:actions?\s+|numbers?\s+|nos?\.?\s+)?(\d{1,3}(?:\s*(?:,|and|&)\s*\d{1,3})*)\b",
    )
});
static REJECT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)^(?:i\s+|we\s+)?(?:reject|rejected)\b[\s:,.\-\u{2013}]*(.*)$"));
static UNDO: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:please\s+)?(?:undo|cancel\s+(?:the\s+)?circulation|stop\s+(?:the\s+)?circulation)\b",
    )
});
/// A negation on the UNDO line: "Undo not needed", "Don't undo".
static NEGATED: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)\b(?:not|no|never|don't|do\s+not)\b|n't\b"));

/// Reads the command in a reply's own text: its first meaningful line (greetings and
/// markings skipped). APPROVE stands only when nothing in the own text qualifies or
/// negates it; REJECT takes the rest of the line, or the paragraph below, as its reason.
pub fn parse_command(own: &str) -> Command {
    let lines: Vec<&str> = own.lines().map(str::trim).collect();
    let Some(start) = lines.iter().position(|l| !l.is_empty() && !is_greeting(l)) else {
        return Command::Comment {
            text: own.trim().to_owned(),
        };
    };
    let first = lines[start].trim_matches(|c: char| c == '*' || c == '_' || c.is_whitespace());
    if let Some(c) = APPROVE_WITHOUT.captures(first) {
        let after = c.get(0).map_or(first.len(), |m| m.end());
        let qualified = QUALIFIED.is_match(&lines[start + 1..].join("\n"));
        if COURTESY_TAIL.is_match(&first[after..]) && !qualified {
            let mut numbers: Vec<u32> = c[1]
                .split(|ch: char| !ch.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
            numbers.sort_unstable();
            numbers.dedup();
            return Command::ApproveWithout { numbers };
        }
    }
    if let Some(found) = APPROVE.find(first) {
        // Anything qualifying it anywhere in the own text, sign-off or not.
        let qualified = QUALIFIED.is_match(&lines[start..].join("\n"));
        if COURTESY_TAIL.is_match(&first[found.end()..]) && !qualified {
            return Command::Approve;
        }
    }
    // Undoing only ever stops mail: whatever follows it on the line is a reason, unless
    // it negates it.
    if UNDO.is_match(first) && !NEGATED.is_match(first) {
        return Command::Undo;
    }
    if let Some(c) = REJECT.captures(first) {
        let mut reason = c.get(1).map_or("", |m| m.as_str()).trim().to_owned();
        // "REJECT" alone: the reason is the paragraph that follows.
        let following: Vec<&str> = lines[start + 1..]
            .iter()
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty() && !is_sign_off(l))
            .copied()
            .collect();
        if reason.is_empty() {
            reason = following.join(" ");
        } else if !following.is_empty() && lines.get(start + 1).is_some_and(|l| !l.is_empty()) {
            reason = format!("{reason} {}", following.join(" "));
        }
        return Command::Reject {
            reason: reason.trim().to_owned(),
        };
    }
    let text: Vec<&str> = lines[start..]
        .iter()
        .copied()
        .take_while(|l| !is_sign_off(l))
        .collect();
    Command::Comment {
        text: text.join("\n").trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = "Draft minutes of LCJB 2023-12-13, revision 2.\nReply APPROVE to approve, or REJECT and your reason.\n";

    fn quoted(prefix: &str) -> String {
        REQUEST.lines().map(|l| format!("{prefix}{l}\n")).collect()
    }

    /// (client, plain body, expected command)
    fn plain_cases() -> Vec<(&'static str, String, Command)> {
        vec![
            ("bare", "APPROVE\n".into(), Command::Approve),
            (
                "gmail top-post",
                format!("Approved\n\nOn Mon, 4 Dec 2023 at 10:02, LCJB Secretariat <\nlcjb+abc@board.example> wrote:\n\n{}", quoted("> ")),
                Command::Approve,
            ),
            (
                "outlook desktop",
                format!("Yes\r\n\r\nTamara Barnett\r\nHead of Partnerships | MOPAC\r\n\r\nFrom: LCJB Secretariat <lcjb@board.example>\r\nSent: 04 December 2023 10:02\r\nTo: Tamara Barnett <tamara.barnett@mopac.example>\r\nSubject: Approve: draft minutes\r\n\r\n{REQUEST}"),
                Command::Approve,
            ),
            (
                "outlook original message",
                format!("I approve.\n\n-----Original Message-----\nFrom: LCJB Secretariat\n{REQUEST}"),
                Command::Approve,
            ),
            (
                "outlook web underscores",
                format!("approve\n\n________________________________\nFrom: LCJB Secretariat <lcjb@board.example>\nSent: Monday, December 4, 2023 10:02 AM\n{REQUEST}"),
                Command::Approve,
            ),
            (
                "apple mail",
                format!("Approved, thanks\n\nSent from my iPhone\n\n> On 4 Dec 2023, at 10:02, LCJB Secretariat <lcjb@board.example> wrote:\n>\n{}", quoted("> ")),
                Command::Approve,
            ),
            (
                "apple mail iPad french",
                format!("Yes.\n\nEnvoyé de mon iPad\n\nLe 4 déc. 2023 à 10:02, LCJB Secretariat <lcjb@board.example> a écrit :\n\n{}", quoted("> ")),
                Command::Approve,
            ),
            (
                "german thunderbird",
                format!("APPROVE\n\nAm 04.12.2023 um 10:02 schrieb LCJB Secretariat:\n{}", quoted("> ")),
                Command::Approve,
            ),
            (
                "spanish",
                format!("Aprobado? no: REJECT\n\nEl lun, 4 dic 2023 a las 10:02, LCJB <lcjb@board.example> escribió:\n{}", quoted("> ")),
                Command::Comment { text: "Aprobado? no: REJECT".into() },
            ),
            (
                "dutch",
                format!("Approved\n\nOp ma 4 dec. 2023 om 10:02 schreef LCJB Secretariat <lcjb@board.example>:\n{}", quoted("> ")),
                Command::Approve,
            ),
            (
                "italian",
                format!("yes\n\nIl giorno lun 4 dic 2023 alle ore 10:02 LCJB <lcjb@board.example> ha scritto:\n{}", quoted("> ")),
                Command::Approve,
            ),
            (
                "portuguese",
                format!("Approve\n\nEm seg., 4 de dez. de 2023 às 10:02, LCJB <lcjb@board.example> escreveu:\n{}", quoted("> ")),
                Command::Approve,
            ),
            (
                "bottom-post",
                format!("On 4 Dec 2023, at 10:02, LCJB Secretariat wrote:\n{}\nApproved\n", quoted("> ")),
                Command::Approve,
            ),
            (
                "greeting and marking",
                format!("OFFICIAL\n\nHi Tamara,\n\nApproved.\n\nKind regards,\nJane\n\nOFFICIAL\n\nThis email and any attachments are confidential and intended solely for the addressee.\n\n{}", quoted("> ")),
                Command::Approve,
            ),
            (
                "reject with reason",
                format!("REJECT Item 2.b is missing the HMIP recommendations.\n\nThanks\n-- \nKris\n\n{}", quoted("> ")),
                Command::Reject { reason: "Item 2.b is missing the HMIP recommendations.".into() },
            ),
            (
                "reject with reason below",
                format!("Reject\n\nThe apologies list is wrong: Lionel Idan attended.\n\nThanks\n{}", quoted("> ")),
                Command::Reject { reason: "The apologies list is wrong: Lionel Idan attended.".into() },
            ),
            (
                "not yet",
                format!("I don't approve yet - waiting for CPS comments.\n\n{}", quoted("> ")),
                Command::Comment { text: "I don't approve yet - waiting for CPS comments.".into() },
            ),
            (
                "yes but",
                "Yes, but item 3 needs the date.\n".into(),
                Command::Comment { text: "Yes, but item 3 needs the date.".into() },
            ),
            (
                "not approved",
                "Not approved\n".into(),
                Command::Comment { text: "Not approved".into() },
            ),
            ("undo", "UNDO\n\nSent from Outlook for Android\n".into(), Command::Undo),
            ("undo please", "Please undo - I sent that too early\n".into(), Command::Undo),
            ("approved with thanks", "Approved with thanks - Tom\n".into(), Command::Approve),
            ("approved many thanks", "Approved, many thanks\n".into(), Command::Approve),
            ("approve thanks name", "Approve - thanks, Sophie\n".into(), Command::Approve),
            (
                "approve without",
                "APPROVE without 2, 5\n".into(),
                Command::ApproveWithout { numbers: vec![2, 5] },
            ),
            (
                "approved except",
                "Approved except actions 5 and 2 - thanks, Sophie\n".into(),
                Command::ApproveWithout { numbers: vec![2, 5] },
            ),
            (
                "approve without, qualified",
                "Approve without 2\n\nbut item 4 is wrong\n".into(),
                Command::Comment { text: "Approve without 2\n\nbut item 4 is wrong".into() },
            ),
            ("approve these minutes", "I approve these minutes.\n".into(), Command::Approve),
            ("happy to approve", "Happy to approve.\n\nShobnam\n".into(), Command::Approve),
            ("yes approved", "Yes, approved as drafted. Thank you\n".into(), Command::Approve),
            (
                "cannot approve until",
                "Can't approve until CPS confirm the figures.\n".into(),
                Command::Comment { text: "Can't approve until CPS confirm the figures.".into() },
            ),
            (
                "approved subject to",
                "Approved subject to the change to item 3.\n".into(),
                Command::Comment { text: "Approved subject to the change to item 3.".into() },
            ),
            (
                "approved but",
                "Approved, but item 4 needs the date\n".into(),
                Command::Comment { text: "Approved, but item 4 needs the date".into() },
            ),
            (
                "approved then a condition below",
                "Approved.\nOnce Lionel's title is corrected.\n".into(),
                Command::Comment { text: "Approved.\nOnce Lionel's title is corrected.".into() },
            ),
            (
                "approve then not a courtesy",
                "Approve - item three is wrong\n".into(),
                Command::Comment { text: "Approve - item three is wrong".into() },
            ),
            (
                "a condition after the sign-off",
                "Approved\nThanks\nBut only once item 4 is fixed\n".into(),
                Command::Comment { text: "Approved".into() },
            ),
            (
                "capitalised words that are not a name",
                "Approved - Wrong Date\n".into(),
                Command::Comment { text: "Approved - Wrong Date".into() },
            ),
            (
                "approve no",
                "APPROVE: NO\n".into(),
                Command::Comment { text: "APPROVE: NO".into() },
            ),
            (
                "a word that starts like undo",
                "Undoubtedly right, thanks\n".into(),
                Command::Comment { text: "Undoubtedly right, thanks".into() },
            ),
            (
                "undo negated",
                "Undo not needed\n".into(),
                Command::Comment { text: "Undo not needed".into() },
            ),
            (
                "approved with a name",
                "Approved - Tom\n".into(),
                Command::Approve,
            ),
            (
                "i dont approve",
                "I don't approve\n".into(),
                Command::Comment { text: "I don't approve".into() },
            ),
            (
                "quoted approve only",
                "On Mon, 4 Dec 2023 at 10:02, X <x@y.example> wrote:\n> APPROVE\n".into(),
                Command::Comment { text: String::new() },
            ),
        ]
    }

    #[test]
    fn replies_from_common_clients_give_the_right_command() {
        for (client, body, expected) in plain_cases() {
            let reply = read(Some(&body), None);
            assert_eq!(
                reply.command, expected,
                "{client}: own text {:?}",
                reply.text
            );
            assert!(
                !reply.text.contains("Reply APPROVE"),
                "{client}: quote kept: {:?}",
                reply.text
            );
        }
    }

    #[test]
    fn html_only_replies_are_trimmed_like_plain_ones() {
        let cases = [
            (
                "gmail",
                r#"<div dir="ltr">Approved</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 4 Dec 2023 at 10:02, LCJB &lt;lcjb@board.example&gt; wrote:<br></div><blockquote class="gmail_quote">Reply APPROVE to approve</blockquote></div>"#,
                Command::Approve,
            ),
            (
                "outlook web",
                r#"<html><head><style>p{margin:0}</style></head><body><div style="font-family:Calibri">Yes</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> LCJB<br><b>Sent:</b> 04 December 2023<br></div><div>Reply APPROVE to approve</div></body></html>"#,
                Command::Approve,
            ),
            (
                "outlook desktop",
                r#"<div class=WordSection1><p class=MsoNormal>REJECT attendees wrong<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class=MsoNormal><b>From:</b> LCJB</p></div><p>Reply APPROVE to approve</p></div>"#,
                Command::Reject {
                    reason: "attendees wrong".into(),
                },
            ),
            (
                "apple mail",
                r#"<html><body><div>I approve</div><div><br><blockquote type="cite"><div>On 4 Dec 2023, at 10:02, LCJB &lt;lcjb@board.example&gt; wrote:</div><div>Reply APPROVE to approve</div></blockquote></div></body></html>"#,
                Command::Approve,
            ),
            (
                "iphone",
                r#"<html><body dir="auto">Approve<br><br><div dir="ltr">Sent from my iPhone</div><div dir="ltr"><br><blockquote type="cite">On 4 Dec 2023, at 10:02, LCJB wrote:<br></blockquote></div><blockquote type="cite"><div dir="ltr">Reply APPROVE to approve</div></blockquote></body></html>"#,
                Command::Approve,
            ),
            (
                "thunderbird",
                r#"<p>I don't approve yet</p><div class="moz-cite-prefix">On 04/12/2023 10:02, LCJB wrote:<br></div><blockquote type="cite">Reply APPROVE</blockquote>"#,
                Command::Comment {
                    text: "I don't approve yet".into(),
                },
            ),
        ];
        for (client, html, expected) in cases {
            let reply = read(None, Some(html));
            assert_eq!(
                reply.command, expected,
                "{client}: own text {:?}",
                reply.text
            );
        }
    }

    #[test]
    fn an_empty_plain_part_falls_back_to_the_html_one() {
        let reply = read(Some("\n> quoted\n"), Some("<p>Approved</p>"));
        assert_eq!(reply.command, Command::Approve);
    }

    #[test]
    fn every_reply_pattern_compiles() {
        for re in [
            &*APPROVE,
            &*COURTESY_TAIL,
            &*QUALIFIED,
            &*NEGATED,
            &*REJECT,
            &*UNDO,
        ] {
            assert!(!re.as_str().is_empty());
        }
    }
}
