//! Updates by reply: a filed `action_update` message applied to the action it names,
//! once, however many daemons run.
//!
//! The reply's first meaningful line (quoted text, greetings and signatures trimmed as
//! for approval replies) decides: "Done", "Complete", "Completed" or "Closed" — alone,
//! after the action's ref, or followed by punctuation and a note ("Done - shared on 1
//! Dec") — marks the action done; anything else is recorded as progress. The message's
//! attachments are the update's. Only the owner organisation, the owner member or the
//! secretariat may update an action; anything else changes nothing and goes back to
//! triage saying who owns the action. An update to an action already closed is recorded
//! as progress and does not reopen it. An applied update is acknowledged to its sender
//! then, saying what it did ("LCJB-A17 marked done"); one sent to triage is not.
//!
//! This module owns the rules and the worker step ([`apply_once`], [`drain`], the loop);
//! the SQL is in `store::actions`. It does not decide which action a message is about:
//! filing did.

use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use sqlx::PgPool;

use crate::approval::reply;
use crate::clock::Clock;
use crate::config::Settings;
use crate::filing;
use crate::shutdown::Shutdown;
use crate::store::actions::{self as store, NewUpdate};
use crate::store::events::{self, NewEvent};
use crate::store::filings;

/// How long a progress update's text may be; the message itself keeps the rest.
pub const MAX_UPDATE_TEXT: usize = 4000;

/// How often the loop looks for filed updates.
const POLL: Duration = Duration::from_secs(2);

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
    let first = match reply::parse_command(own) {
        reply::Command::Comment { text } => text.lines().next().unwrap_or_default().to_owned(),
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

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// No filed action update was waiting.
    Idle,
    /// The action was marked done.
    Done { message: i64, action: String },
    /// A progress update was recorded (`closed`: the action was already closed).
    Progress {
        message: i64,
        action: String,
        closed: bool,
    },
    /// Nothing changed; the message went back to triage with `reason`.
    Triage { message: i64, reason: String },
}

impl UpdateOutcome {
    /// What the update did, in the words of its acknowledgement.
    pub fn describe(&self) -> String {
        match self {
            UpdateOutcome::Idle => "nothing to do".to_owned(),
            UpdateOutcome::Done { action, .. } => format!("{action} marked done"),
            UpdateOutcome::Progress {
                action,
                closed: false,
                ..
            } => format!("{action}: recorded as progress"),
            UpdateOutcome::Progress {
                action,
                closed: true,
                ..
            } => format!("{action} is already closed: recorded as progress"),
            UpdateOutcome::Triage { reason, .. } => format!("sent to the secretariat: {reason}"),
        }
    }
}

/// Applies one filed action update not yet applied, in one transaction: reads the
/// reply, checks its sender may update the action, records the update (and closes the
/// action) or sends the message back to triage, and records that it was handled.
pub async fn apply_once(
    pool: &PgPool,
    _settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<UpdateOutcome> {
    let mut tx = pool
        .begin()
        .await
        .context("failed to begin a transaction")?;
    let Some(message) = store::claim_update(&mut tx).await? else {
        tx.rollback().await?;
        return Ok(UpdateOutcome::Idle);
    };
    let now = clock.now();
    let outcome = apply(&mut tx, &message, now).await?;
    let (action_id, source, reason) = match &outcome {
        Applied::Recorded {
            action_id, source, ..
        } => (Some(*action_id), *source, None),
        Applied::Refused { action_id, reason } => (*action_id, "triage", Some(reason.as_str())),
    };
    store::record_source(&mut tx, message.message_id, action_id, source, reason, now).await?;
    match &outcome {
        Applied::Refused { reason, .. } => {
            crate::filing::worker::answer_unapplied_update(
                &mut tx,
                message.message_id,
                reason,
                now,
            )
            .await?;
            store::send_to_triage(&mut tx, message.message_id, reason, now).await?;
        }
        Applied::Recorded { outcome, .. } => {
            crate::filing::worker::acknowledge_applied(
                &mut tx,
                message.message_id,
                &outcome.describe(),
                now,
            )
            .await?;
        }
    }
    tx.commit()
        .await
        .context("failed to commit the action update")?;
    Ok(match outcome {
        Applied::Recorded { outcome, .. } => outcome,
        Applied::Refused { reason, .. } => UpdateOutcome::Triage {
            message: message.message_id,
            reason,
        },
    })
}

enum Applied {
    Recorded {
        action_id: i64,
        /// What `action_update_sources` records: done, progress or closed.
        source: &'static str,
        outcome: UpdateOutcome,
    },
    Refused {
        action_id: Option<i64>,
        reason: String,
    },
}

async fn apply(
    tx: &mut sqlx::PgConnection,
    message: &store::UpdateMessage,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Applied> {
    let Some(reference) = message.action_ref.as_deref() else {
        return Ok(Applied::Refused {
            action_id: None,
            reason: "no action could be identified to update".to_owned(),
        });
    };
    let Some(action) = store::lock(tx, Some(message.board_id), reference).await? else {
        return Ok(Applied::Refused {
            action_id: None,
            reason: format!("{reference} is not in the action register"),
        });
    };
    let snapshot = filings::snapshot(tx, message.board_id).await?;
    let from = message
        .from_address
        .as_deref()
        .map(|a| a.trim().to_lowercase())
        .unwrap_or_default();
    let sender = snapshot.registry.sender_of(&from);
    let allowed = sender.secretariat
        || (action.owner_organisation.is_some()
            && action.owner_organisation == sender.organisation)
        || (action.owner_member.is_some() && action.owner_member == sender.member);
    if !allowed {
        let owner = match (&action.owner_organisation, &action.owner_member) {
            (Some(o), Some(m)) => format!("{o} ({m})"),
            (Some(o), None) => o.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => "no one (only the secretariat may update it)".to_owned(),
        };
        let who = sender
            .organisation
            .clone()
            .or_else(|| sender.member.clone())
            .map_or_else(String::new, |w| format!(" of {w}"));
        let sender_text = if from.is_empty() {
            "no sender".to_owned()
        } else {
            from.clone()
        };
        let reason = format!(
            "{} is owned by {owner}: an update from {sender_text}{who} was not applied",
            action.reference
        );
        events::record(
            tx,
            NewEvent {
                board_id: Some(message.board_id),
                actor: "rule",
                kind: "action.update_refused",
                subject: Some(("action", action.id)),
                detail: json!({
                    "action": action.reference,
                    "message": message.message_id,
                    "from": from,
                    "reason": reason,
                }),
            },
        )
        .await?;
        return Ok(Applied::Refused {
            action_id: Some(action.id),
            reason,
        });
    }

    let reply = reply::read(message.body_text.as_deref(), message.body_html.as_deref());
    let mut meaning = meaning(&reply.text, Some(&action.reference));
    let closed = action.status != "open";
    if closed {
        // A closed action is not reopened by a reply; what it says is kept.
        if let ReplyMeaning::Done { text } = meaning {
            meaning = ReplyMeaning::Progress { text };
        }
    }
    let (kind, mut text) = match &meaning {
        ReplyMeaning::Done { text } => ("done", text.clone()),
        ReplyMeaning::Progress { text } => ("progress", text.clone()),
    };
    if text.is_empty() {
        text = if message.attachments.is_empty() {
            "(no text)".to_owned()
        } else {
            format!("(attached: {})", message.attachments.join(", "))
        };
    }
    if closed {
        text = format!("(already {}) {text}", action.status);
    }
    let organisation_id = sender
        .organisation
        .as_deref()
        .and_then(|o| snapshot.organisation_id(o));
    let member_id = sender.member.as_deref().and_then(|m| snapshot.member_id(m));
    let update_id = store::record_update(
        tx,
        &NewUpdate {
            action_id: action.id,
            message_id: Some(message.message_id),
            kind,
            text: &text,
            organisation_id,
            member_id,
            by: if from.is_empty() { "unknown" } else { &from },
        },
        now,
    )
    .await?;
    events::record(
        tx,
        NewEvent {
            board_id: Some(message.board_id),
            actor: if from.is_empty() { "unknown" } else { &from },
            kind: if kind == "done" {
                "action.done"
            } else {
                "action.progress"
            },
            subject: Some(("action", action.id)),
            detail: json!({
                "action": action.reference,
                "update": update_id,
                "message": message.message_id,
                "already_closed": closed,
                "attachments": message.attachments,
            }),
        },
    )
    .await?;
    let outcome = if kind == "done" {
        UpdateOutcome::Done {
            message: message.message_id,
            action: action.reference.clone(),
        }
    } else {
        UpdateOutcome::Progress {
            message: message.message_id,
            action: action.reference.clone(),
            closed,
        }
    };
    let source = match (kind, closed) {
        ("done", _) => "done",
        (_, true) => "closed",
        _ => "progress",
    };
    Ok(Applied::Recorded {
        action_id: action.id,
        source,
        outcome,
    })
}

/// What [`drain`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpdateSummary {
    pub done: usize,
    pub progress: usize,
    pub triage: usize,
}

/// Applies every filed action update waiting now.
pub async fn drain(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<UpdateSummary> {
    let mut summary = UpdateSummary::default();
    if !store::updates_waiting(pool).await? {
        return Ok(summary);
    }
    loop {
        let outcome = apply_once(pool, settings, clock).await?;
        match &outcome {
            UpdateOutcome::Idle => return Ok(summary),
            UpdateOutcome::Done { .. } => summary.done += 1,
            UpdateOutcome::Progress { .. } => summary.progress += 1,
            UpdateOutcome::Triage { .. } => summary.triage += 1,
        }
        tracing::info!(outcome = ?outcome, "action update applied");
    }
}

/// Drains every few seconds until `shutdown`.
pub async fn run_until_stopped(
    pool: PgPool,
    settings: Settings,
    clock: Clock,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    shutdown
        .repeat("action update step", POLL, Duration::MAX, || {
            drain(&pool, &settings, &clock)
        })
        .await;
    Ok(())
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
