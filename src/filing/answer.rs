//! The answer to a reply minuted could not act on: nobody who answers our mail is left
//! in silence.
//!
//! A reply to mail we sent that lands in triage gets, within the minute, an email saying
//! what we understood, why we could not act on it, what happens next, and the exact reply
//! that would work for what they were answering (`APPROVE`, `LCJB-A17 Done`, `WRONG ITEM
//! 2c` ...). This module decides whether an answer is owed and builds its template
//! context; it is pure. Queuing it is the filing worker's job.
//!
//! No answer goes to an unknown sender (quarantined mail: answering would be
//! backscatter), to a machine (an automatic reply or bounce, or anything carrying
//! `Auto-Submitted` or a bulk `Precedence`, which could answer back in a loop), or for a
//! message that is not a reply to our mail (the secretariat sees those in triage).

use super::{Disposition, FilingDecision, Kind, Message, Registry, SentKind, SentMessage};

pub use crate::domain::mail::ReplyHelp;

/// Whether `decision` about `message` owes its sender an answer, and what it says.
/// `sent` is the mail of ours it replies to; `message_id` the stored message's id.
pub fn reply_help(
    message_id: i64,
    message: &Message,
    decision: &FilingDecision,
    sent: Option<&SentMessage>,
    registry: &Registry,
) -> Option<ReplyHelp> {
    let sent = sent?;
    if decision.disposition != Disposition::Triage
        || matches!(decision.kind, Kind::Bounce | Kind::AutoReply)
        || written_by_a_machine(message)
    {
        return None;
    }
    let meeting = sent
        .meeting
        .as_deref()
        .or(decision.meeting.as_deref())
        .map(str::to_owned);
    let answered = format!(
        "our {}{}",
        sent.kind.describe(),
        meeting
            .as_deref()
            .map(|m| format!(" about {m}"))
            .unwrap_or_default()
    );
    Some(ReplyHelp {
        message: message_id,
        original_subject: original_subject(message),
        answered,
        understood: decision.kind.describe().to_owned(),
        why: why(decision),
        next_step: "Nothing has been changed yet. The secretariat has your email and will file it by hand; you need do nothing more, or you can reply again in one of the ways below.".to_owned(),
        would_work: would_work(sent, decision, registry),
        reply_to: reply_to(sent.kind).to_owned(),
    })
}

/// Where a reply that works must go for what `kind` asked.
pub fn reply_to(kind: SentKind) -> &'static str {
    match kind {
        SentKind::ApprovalRequest => "the approval request we sent you",
        SentKind::ApprovalResult => "the confirmation we sent you",
        _ => "this email",
    }
}

/// The subject of `message` as an answer names it.
pub(crate) fn original_subject(message: &Message) -> String {
    message
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("(no subject)")
        .to_owned()
}

/// Mail that says a machine wrote it.
pub(crate) fn written_by_a_machine(message: &Message) -> bool {
    let headers = &message.headers;
    headers
        .auto_submitted
        .as_deref()
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"))
        || headers.precedence.as_deref().is_some_and(|v| {
            ["bulk", "list", "junk", "auto_reply"].contains(&v.trim().to_lowercase().as_str())
        })
        || headers.x_autoreply.is_some()
        || headers.x_autorespond.is_some()
}

/// The reason a decision gives for being below the threshold, in plain words.
fn why(decision: &FilingDecision) -> String {
    let asked_which = decision
        .reasons
        .iter()
        .find(|r| r.ends_with("it must say which"));
    let sender = decision
        .reasons
        .iter()
        .find(|r| r.starts_with("our ") && r.contains(" went to "));
    let limited = decision.reasons.iter().find_map(|r| {
        r.strip_prefix("below the threshold of ")
            .and_then(|rest| rest.split_once("limited by "))
            .map(|(_, why)| why.to_owned())
    });
    let conflict = decision
        .reasons
        .iter()
        .find_map(|r| r.strip_prefix("conflicting: "));
    if let Some(which) = asked_which {
        format!("We could not tell which action your reply is about: {which}.")
    } else if let Some(sender) = sender {
        format!("It did not come from the person we wrote to: {sender}.")
    } else if let Some(conflict) = conflict {
        format!("Parts of it disagree: {conflict}.")
    } else if let Some(limited) = limited {
        format!("We were not sure enough of {limited}.")
    } else {
        "We were not sure enough what it is.".to_owned()
    }
}

/// The replies that would work for what `sent` asked, exactly as they should be typed.
fn would_work(sent: &SentMessage, decision: &FilingDecision, registry: &Registry) -> Vec<String> {
    match sent.kind {
        SentKind::ApprovalRequest => vec![
            "APPROVE".to_owned(),
            "REJECT and your reason, for example: REJECT item 3 should record the apologies of CPS South".to_owned(),
        ],
        SentKind::ApprovalResult => vec![
            "UNDO (only the person who approved, and only before the minutes are circulated)"
                .to_owned(),
        ],
        SentKind::ActionPack
        | SentKind::ActionChaser
        | SentKind::UpdateRequest
        | SentKind::UpdateChaser => {
            let mut refs: Vec<String> = sent.actions.clone();
            if let Some(action) = sent.action.clone().or_else(|| decision.action.clone()) {
                if !refs.contains(&action) {
                    refs.insert(0, action);
                }
            }
            let mut replies = Vec::new();
            for reference in refs.iter().take(5) {
                replies.push(format!("{reference} Done"));
                replies.push(format!(
                    "{reference} Update: what has happened since the last meeting"
                ));
            }
            if matches!(sent.kind, SentKind::UpdateRequest | SentKind::UpdateChaser) {
                replies.push(
                    "your written update for the meeting, as the text of your reply or attached"
                        .to_owned(),
                );
            }
            replies
        }
        SentKind::Acknowledgement => {
            let items: Vec<String> = sent
                .meeting
                .as_deref()
                .and_then(|m| registry.meetings.iter().find(|x| x.reference == m))
                .map(|m| m.items.iter().map(|i| i.number.clone()).collect())
                .unwrap_or_default();
            match items.first() {
                Some(first) => vec![format!(
                    "WRONG ITEM {first} (the agenda's items are {})",
                    items.join(", ")
                )],
                None => {
                    vec!["WRONG ITEM and the agenda item, for example WRONG ITEM 2c".to_owned()]
                }
            }
        }
        SentKind::Invitation => vec![
            "I will attend".to_owned(),
            "Apologies".to_owned(),
            "Apologies, NAME will attend in my place".to_owned(),
            "or accept or decline the invitation in your calendar".to_owned(),
        ],
        SentKind::Circulation | SentKind::MeetingPack | SentKind::ReplyHelp | SentKind::Other => {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filing::Headers;

    fn triaged(kind: Kind, reasons: &[&str]) -> FilingDecision {
        FilingDecision {
            kind,
            meeting: Some("LCJB-2023-12-13".into()),
            item: None,
            action: None,
            organisation: Some("MPS".into()),
            member: Some("Nick John".into()),
            confidence: 0.6,
            disposition: Disposition::Triage,
            reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
            outbox_id: Some(9),
            correction: None,
            attendance: None,
        }
    }

    fn request(actions: &[&str]) -> SentMessage {
        SentMessage {
            kind: SentKind::UpdateRequest,
            outbox_id: Some(9),
            meeting: Some("LCJB-2023-12-13".into()),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            ..SentMessage::default()
        }
    }

    #[test]
    fn a_triaged_done_to_a_request_listing_several_actions_is_asked_which() {
        let decision = triaged(
            Kind::ActionUpdate,
            &["the reply opens with \"Done\" but our mail listed 2 open actions (LCJB-A17, LCJB-A18): it must say which"],
        );
        let message = Message {
            subject: Some("RE: Written updates".into()),
            ..Message::default()
        };
        let sent = request(&["LCJB-A17", "LCJB-A18"]);
        let help = reply_help(7, &message, &decision, Some(&sent), &Registry::default()).unwrap();
        assert!(help.why.contains("which action"), "{}", help.why);
        assert!(help.would_work.contains(&"LCJB-A17 Done".to_owned()));
        assert!(help.would_work.contains(&"LCJB-A18 Done".to_owned()));
    }

    #[test]
    fn nothing_is_owed_to_filed_mail_machines_or_mail_that_answers_nothing_of_ours() {
        let message = Message::default();
        let sent = request(&[]);
        let registry = Registry::default();
        let mut filed = triaged(Kind::WrittenUpdate, &[]);
        filed.disposition = Disposition::Filed;
        assert_eq!(
            reply_help(1, &message, &filed, Some(&sent), &registry),
            None
        );
        let triage = triaged(Kind::WrittenUpdate, &[]);
        assert_eq!(reply_help(1, &message, &triage, None, &registry), None);
        let automatic = Message {
            headers: Headers {
                auto_submitted: Some("auto-replied".into()),
                ..Headers::default()
            },
            ..Message::default()
        };
        assert_eq!(
            reply_help(1, &automatic, &triage, Some(&sent), &registry),
            None
        );
        let mut quarantined = triage.clone();
        quarantined.disposition = Disposition::Quarantined;
        assert_eq!(
            reply_help(1, &message, &quarantined, Some(&sent), &registry),
            None
        );
        assert!(reply_help(1, &message, &triage, Some(&sent), &registry).is_some());
    }

    #[test]
    fn a_triaged_approval_reply_is_shown_the_words_that_work() {
        let decision = triaged(
            Kind::ApprovalReply,
            &["our approval request went to a@mopac.example, not to b@mopac.example"],
        );
        let sent = SentMessage {
            kind: SentKind::ApprovalRequest,
            ..SentMessage::default()
        };
        let registry = Registry::default();
        let help = reply_help(3, &Message::default(), &decision, Some(&sent), &registry).unwrap();
        assert_eq!(help.would_work[0], "APPROVE");
        assert!(help
            .why
            .contains("did not come from the person we wrote to"));
    }
}
