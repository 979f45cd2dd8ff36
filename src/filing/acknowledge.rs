//! Answers to the people who write to the board: the acknowledgement of a filed update,
//! queued then or kept as owed until it can be; the answer to a reply that could not be
//! acted on, saying what would work (at most a few an hour to one address). The filing
//! worker and the action-update worker both answer through here.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::clock::Clock;
use crate::domain::address::EmailAddress;
use crate::domain::mail::{self, MailContext};
use crate::domain::outbound::{long_date, MailKind};
use crate::domain::zone::Zone;
use crate::filing::{self, answer};
use crate::store;
use crate::store::filings::{self};
use crate::store::outbox::{self, NewOutboxMessage, Recipient};
use crate::store::triage;

/// Queues a `reply_help` to the sender of `message` (once per message), threaded under
/// it, and records it.
pub(crate) async fn answer(
    conn: &mut sqlx::PgConnection,
    snapshot: &filings::Snapshot,
    message: &filing::Message,
    help: answer::ReplyHelp,
    meeting: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    if triage::answered(conn, help.message).await? {
        return Ok(false);
    }
    let message_id = help.message;
    let why = help.why.clone();
    let Some(row) = to_sender(snapshot, message, meeting, &help) else {
        return Ok(false);
    };
    // A responder that answers everything, whatever its headers say, must not keep a
    // conversation going with us: a few answers an hour to one address, then silence
    // (the secretariat still sees every message in triage).
    let since = now - chrono::Duration::hours(1);
    if triage::answers_to_since(conn, row.to.address.as_str(), since).await? >= MAX_ANSWERS_PER_HOUR
    {
        store::events::record(
            conn,
            store::events::NewEvent {
                board_id: Some(snapshot.board_id),
                actor: "system",
                kind: "filing.answer_withheld",
                subject: Some(("message", message_id)),
                detail: serde_json::json!({
                    "to": row.to.address.as_str(),
                    "why": format!("{MAX_ANSWERS_PER_HOUR} answers to this address in the last hour"),
                }),
            },
        )
        .await?;
        return Ok(false);
    }
    let outbox_id = outbox::enqueue(conn, row, now)
        .await
        .context("failed to queue the answer")?;
    triage::record_answer(conn, message_id, outbox_id, &why, now).await?;
    store::events::record(
        conn,
        store::events::NewEvent {
            board_id: Some(snapshot.board_id),
            actor: "system",
            kind: "filing.answered",
            subject: Some(("message", message_id)),
            detail: serde_json::json!({ "outbox": outbox_id, "why": why }),
        },
    )
    .await?;
    Ok(true)
}

/// Tells the sender of a filed action update, when it answered mail of ours, that it was
/// not applied and why (the update step sends it back to triage). Returns whether an
/// answer was queued.
pub async fn answer_unapplied_update(
    conn: &mut sqlx::PgConnection,
    message_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let Some(filed) = filings::filed_message(conn, message_id).await? else {
        return Ok(false);
    };
    if filed.decision.outbox_id.is_none() || answer::written_by_a_machine(&filed.message) {
        return Ok(false);
    }
    let snapshot = filings::snapshot(conn, filed.board_id).await?;
    let help = answer::ReplyHelp {
        message: message_id,
        original_subject: answer::original_subject(&filed.message),
        answered: "our email".to_owned(),
        understood: match &filed.decision.action {
            Some(action) => format!("an update on {action}"),
            None => "an action update".to_owned(),
        },
        why: format!("It was not applied: {reason}."),
        next_step: "Nothing was changed. The secretariat has your email and will decide; if you wrote on behalf of the action's owner, they can apply it.".to_owned(),
        would_work: Vec::new(),
        reply_to: "this email".to_owned(),
    };
    answer(
        conn,
        &snapshot,
        &filed.message,
        help,
        filed.decision.meeting.as_deref(),
        now,
    )
    .await
}

/// How many answers to replies one address may get in an hour.
const MAX_ANSWERS_PER_HOUR: i64 = 3;

/// Queues the acknowledgement of filed message `message_id` once what it did is known,
/// in the caller's transaction: `outcome` ("LCJB-A17 marked done") is added to what it
/// was filed against. Action updates are acknowledged this way, by the step that applies
/// them, so an update sent back to triage is never acknowledged. Returns whether one
/// was queued.
pub async fn acknowledge_applied(
    conn: &mut sqlx::PgConnection,
    message_id: i64,
    outcome: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let Some(filed) = filings::filed_message(conn, message_id).await? else {
        return Ok(false);
    };
    let snapshot = filings::snapshot(conn, filed.board_id).await?;
    acknowledge(
        conn,
        &filed.recorded,
        &snapshot,
        &filed.decision,
        &filed.message,
        filed.received_at,
        Some(outcome),
        now,
    )
    .await
}

/// Queues the acknowledgement of a filed update to its sender, in the filing's
/// transaction, and keeps the durable record of it. Returns whether one was queued: not
/// when the sender's address cannot take mail.
#[allow(clippy::too_many_arguments)] // the filing, its message and what came of it
pub(super) async fn acknowledge(
    conn: &mut sqlx::PgConnection,
    recorded: &filings::Recorded,
    snapshot: &filings::Snapshot,
    decision: &filing::FilingDecision,
    message: &filing::Message,
    received_at: DateTime<Utc>,
    outcome: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let mut context = acknowledgement_context(
        recorded.message_id,
        decision,
        &snapshot.registry,
        message.subject.as_deref(),
        received_at,
        snapshot.zone,
    );
    if let Some(outcome) = outcome {
        context.outcome = Some(outcome.to_owned());
        context.filed_against.push(outcome.to_owned());
    }

    let meeting = decision.meeting.as_deref();
    let Some(row) = to_sender(snapshot, message, meeting, &context) else {
        tracing::warn!(message = recorded.message_id, from = ?message.from, "no acknowledgement: the sender's address cannot take mail");
        return Ok(false);
    };
    let to = row.to.address.as_str().to_owned();
    let outbox_id = outbox::enqueue(conn, row, now)
        .await
        .context("failed to queue the acknowledgement")?;
    filings::record_acknowledgement(
        conn,
        recorded,
        snapshot,
        decision,
        &to,
        &context.to_value(),
        outbox_id,
        now,
    )
    .await?;
    Ok(true)
}

/// Queues `context` to the sender of `message`, threaded under it. Returns whether it
/// was queued: not when their address cannot take mail.
pub(super) async fn tell_sender(
    conn: &mut sqlx::PgConnection,
    snapshot: &filings::Snapshot,
    message: &filing::Message,
    meeting: Option<&str>,
    context: &impl MailContext,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let Some(row) = to_sender(snapshot, message, meeting, context) else {
        return Ok(false);
    };
    outbox::enqueue(conn, row, now)
        .await
        .context("failed to queue the answer")?;
    Ok(true)
}

/// An email of `kind` to the sender of `message`, to their registry name (else the name
/// they sign with), threaded under the message with its whole thread, so a reply to it
/// still names the mail of ours the thread began with. `None` when the sender's address
/// cannot take mail.
fn to_sender(
    snapshot: &filings::Snapshot,
    message: &filing::Message,
    meeting: Option<&str>,
    context: &impl MailContext,
) -> Option<NewOutboxMessage> {
    let address =
        filings::acknowledgement_address(message).and_then(|to| EmailAddress::parse(&to).ok())?;
    let member = snapshot.member_at(address.as_str());
    // The registry's spelling of a member's name; else the sender's own, as they would
    // write it ("Vigurs, Kilvinder" is how an address book files it, not a greeting).
    let name = member.map(|(name, _)| name.to_owned()).or_else(|| {
        message
            .from_name
            .as_deref()
            .map(filing::natural_name)
            .filter(|n| !n.trim().is_empty())
    });
    let mut row = NewOutboxMessage::mail(
        snapshot.board_id,
        Recipient {
            address,
            name,
            member_id: member.map(|(_, id)| id),
        },
        context,
    );
    row.meeting_id = meeting.and_then(|m| snapshot.meeting_id(m));
    if let Some(id) = message.message_id.as_deref().filter(|id| header_safe(id)) {
        row.in_reply_to = Some(id.to_owned());
        row.references = message
            .references
            .iter()
            .filter(|r| header_safe(r))
            .take(20)
            .cloned()
            .chain(std::iter::once(id.to_owned()))
            .collect();
    }
    Some(row)
}

/// Whether a Message-ID can be written into a header as it is.
fn header_safe(id: &str) -> bool {
    let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
    !bare.is_empty()
        && bare.len() <= 250
        && bare
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | ','))
}

/// Queues the acknowledgements still owed from before the outbox could take them.
pub async fn queue_owed_acknowledgements(pool: &PgPool, clock: &Clock) -> anyhow::Result<u64> {
    let mut queued = 0;
    loop {
        let mut tx = pool.begin().await?;
        let Some(owed) = filings::next_owed_acknowledgement(&mut tx).await? else {
            tx.commit().await?;
            return Ok(queued);
        };
        let now = clock.now();
        let outbox_id = match EmailAddress::parse(&owed.to_address) {
            Ok(address) => {
                let mut row = NewOutboxMessage::new(
                    MailKind::Acknowledgement,
                    owed.board_id,
                    Recipient {
                        address,
                        name: None,
                        member_id: owed.member_id,
                    },
                    owed.context.clone(),
                );
                row.meeting_id = owed.meeting_id;
                row.in_reply_to = owed.message_id.clone().filter(|id| header_safe(id));
                Some(outbox::enqueue(&mut tx, row, now).await?)
            }
            Err(_) => None,
        };
        filings::acknowledgement_queued_or_dropped(&mut tx, owed.id, outbox_id, now).await?;
        tx.commit().await?;
        queued += u64::from(outbox_id.is_some());
    }
}

/// The template context of an acknowledgement: what the message was filed as and
/// against, for `templates/acknowledgement.*.hbs`, and what a reply to it needs to find
/// the message again (`message`, `item`, `action`).
pub fn acknowledgement_context(
    message: i64,
    decision: &filing::FilingDecision,
    registry: &filing::Registry,
    subject: Option<&str>,
    received_at: DateTime<Utc>,
    zone: Zone,
) -> mail::Acknowledgement {
    let meeting = decision
        .meeting
        .as_deref()
        .and_then(|r| registry.meetings.iter().find(|m| m.reference == r));
    let mut filed_against = Vec::new();
    if let Some(meeting) = meeting {
        filed_against.push(format!(
            "Meeting {} ({})",
            meeting.reference,
            long_date(meeting.date)
        ));
        if let Some(item) = decision
            .item
            .as_deref()
            .and_then(|n| meeting.items.iter().find(|i| i.number == n))
        {
            filed_against.push(format!("Item {}: {}", item.number, item.title));
        }
    }
    if let Some(action) = &decision.action {
        filed_against.push(format!("Action {action}"));
    }
    if let Some(organisation) = &decision.organisation {
        filed_against.push(format!("From {organisation}"));
    }
    mail::Acknowledgement {
        message,
        kind: decision.kind.as_str().to_owned(),
        item: decision.item.clone(),
        action: decision.action.clone(),
        original_subject: subject
            .filter(|s| !s.trim().is_empty())
            .unwrap_or("(no subject)")
            .to_owned(),
        received_text: zone.long_datetime(received_at),
        filed_as: decision.kind.description().to_owned(),
        filed_against,
        outcome: None,
    }
}
