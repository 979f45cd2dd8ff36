//! One filed action update applied in one transaction: the reply read, its sender
//! checked against the action's owner, the update recorded (and the action closed) or the
//! message sent back to triage, and the sender answered.

use anyhow::Context;
use serde_json::json;
use sqlx::PgPool;

use super::rules::*;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::actions::{self as store, NewUpdate};
use crate::store::events::{self, NewEvent};
use crate::store::filings::{self, FiledQueue};
use crate::text::commands;

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

/// [`apply_update`], called as every worker's one-step function is; applying an update
/// reads no settings.
pub async fn apply_next(
    pool: &PgPool,
    _settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<UpdateOutcome> {
    apply_update(pool, clock).await
}

/// Applies one filed action update not yet applied, in one transaction: reads the
/// reply, checks its sender may update the action, records the update (and closes the
/// action) or sends the message back to triage, and records that it was handled.
pub async fn apply_update(pool: &PgPool, clock: &Clock) -> anyhow::Result<UpdateOutcome> {
    let mut tx = crate::database::begin(pool).await?;
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
    filings::record_handled(
        &mut tx,
        FiledQueue::ActionUpdates,
        message.message_id,
        action_id,
        source,
        reason,
        now,
    )
    .await?;
    match &outcome {
        Applied::Refused { reason, .. } => {
            crate::filing::acknowledge::answer_unapplied_update(
                &mut tx,
                message.message_id,
                reason,
                now,
            )
            .await?;
            store::send_to_triage(&mut tx, message.message_id, reason, now).await?;
        }
        Applied::Recorded { outcome, .. } => {
            crate::filing::acknowledge::acknowledge_applied(
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

    let reply = commands::read(message.body_text.as_deref(), message.body_html.as_deref());
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
