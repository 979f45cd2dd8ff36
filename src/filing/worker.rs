//! The filing worker: takes each stored message with status `received`, decides what it
//! is with [`filing::decide`], and records the decision, the message's new status
//! (`filed`, `triage` or `quarantined`), the audit event and any acknowledgement owed —
//! all in one transaction, so a message is filed exactly once however many processes
//! run.
//!
//! It also answers the sender of a reply to our mail that lands in triage, tells the
//! secretariat (at most hourly) that messages wait, confirms `WRONG ITEM` corrections,
//! and files by hand with the effects filing by rule would have had.
//!
//! This module owns the loop and the conversion of a stored message into filing's input.
//! The rules are in `filing` (pure); the SQL is in `store::filings`.

use crate::store::mail_context;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Datelike, Utc};
use serde_json::Value;
use sqlx::postgres::PgListener;
use sqlx::PgPool;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::address::EmailAddress;
use crate::domain::outbound::MailKind;
use crate::filing::{self, answer, Attachment, Dsn, Headers};
use crate::ingest::parse::ParsedMessage;
use crate::retry::{Backoff, FailureLog};
use crate::shutdown::Shutdown;
use crate::store;
use crate::store::bounces::{self, BounceTarget};
use crate::store::filings::{self, Recorded};
use crate::store::outbox::{self, NewOutboxMessage, Recipient};
use crate::store::triage;

/// What one step did.
#[derive(Debug, Clone, PartialEq)]
pub enum FilingOutcome {
    /// One message was decided and recorded.
    Filed(Recorded),
    /// No message was waiting.
    Idle,
    /// Messages are waiting but no board is in the registry to file them against; they
    /// stay `received` until one is imported.
    NoBoard,
}

/// Messages filed per transaction when there is a backlog.
const BATCH: usize = 50;

/// How long the loop sleeps when nothing told it of new mail: a safety net under the
/// database's notifications, not the normal path.
const POLL: Duration = Duration::from_secs(5);

/// Files one waiting message, if any: claim it, decide, record the decision, its event
/// and the acknowledgement it earns, in one transaction.
pub async fn file_once(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<FilingOutcome> {
    let mut tx = pool
        .begin()
        .await
        .context("failed to begin a transaction")?;
    filings::relax_commit(&mut tx).await?;
    let outcome = file_in(&mut tx, settings, clock.now()).await?;
    if outcome == FilingOutcome::NoBoard {
        tx.rollback().await?;
    } else {
        tx.commit().await.context("failed to commit the filing")?;
    }
    Ok(outcome)
}

/// Files up to `max` waiting messages in one transaction: what a backlog costs is then
/// the decisions, not a commit per message. On any error nothing of the batch is kept;
/// the caller goes on one message at a time, so one bad message cannot hold up the
/// others' batch for long.
pub async fn file_batch(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
    max: usize,
) -> anyhow::Result<Vec<FilingOutcome>> {
    let mut tx = pool
        .begin()
        .await
        .context("failed to begin a transaction")?;
    filings::relax_commit(&mut tx).await?;
    let mut outcomes = Vec::new();
    while outcomes.len() < max {
        let outcome = file_in(&mut tx, settings, clock.now()).await?;
        let last = !matches!(outcome, FilingOutcome::Filed(_));
        outcomes.push(outcome);
        if last {
            break;
        }
    }
    if outcomes.last() == Some(&FilingOutcome::NoBoard) {
        // Keep what was filed before: only the last claim is given back.
        outcomes.pop();
        if outcomes.is_empty() {
            tx.rollback().await?;
            return Ok(vec![FilingOutcome::NoBoard]);
        }
    }
    tx.commit().await.context("failed to commit the filings")?;
    Ok(outcomes)
}

/// Claims and files one message inside `conn`'s transaction.
async fn file_in(
    conn: &mut sqlx::PgConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<FilingOutcome> {
    let Some(claimed) = filings::claim_received(conn).await? else {
        return Ok(FilingOutcome::Idle);
    };
    let message = to_filing(&claimed.parsed);
    let recipients: Vec<String> = message
        .to
        .iter()
        .chain(&message.cc)
        .chain(&message.delivered_to)
        .cloned()
        .collect();
    let Some(board_id) = filings::board_for(conn, &recipients).await? else {
        return Ok(FilingOutcome::NoBoard);
    };
    let snapshot = snapshot(conn, board_id).await?;
    let sent = filings::sent_for(conn, &snapshot.registry.board_address, &message).await?;
    let decision = filing::decide(
        &message,
        &snapshot.registry,
        &sent,
        judged_at(claimed.parsed.sent_at, claimed.received_at),
        settings.filing.threshold,
    );
    let mut recorded = filings::record(conn, claimed.id, &snapshot, &decision, "rule", now)
        .await
        .with_context(|| format!("failed to record the filing of message {}", claimed.id))?;
    if owes_acknowledgement(&decision) {
        recorded.acknowledgement = acknowledge(
            conn,
            &recorded,
            &snapshot,
            &decision,
            &message,
            claimed.received_at,
            None,
            now,
        )
        .await?;
    }
    if decision.kind == filing::Kind::Bounce {
        record_bounce(conn, &decision, &message, now).await?;
    }
    // Only a correction filed with confidence (from the person acknowledged, not
    // quarantined) changes anything.
    if let Some(correction) = decision
        .correction
        .as_ref()
        .filter(|_| decision.disposition == filing::Disposition::Filed)
    {
        correct(conn, claimed.id, &snapshot, &message, correction, now).await?;
    }
    let replied_to = decision
        .outbox_id
        .and_then(|id| sent.message_ids.values().find(|s| s.outbox_id == Some(id)));
    if let Some(help) = answer::reply_help(
        claimed.id,
        &message,
        &decision,
        replied_to,
        &snapshot.registry,
    ) {
        answer(
            conn,
            &snapshot,
            &message,
            help,
            decision.meeting.as_deref(),
            now,
        )
        .await?;
    }
    if decision.disposition == filing::Disposition::Triage {
        notify_triage_if_due(conn, snapshot.board_id, now).await?;
    }
    Ok(FilingOutcome::Filed(recorded))
}

/// Applies a sender's `WRONG ITEM` correction and confirms it to them, or, when the
/// agenda has no such item, tells them so with the items it has. Either way the
/// correction itself stays filed with its reason.
async fn correct(
    conn: &mut sqlx::PgConnection,
    message_id: i64,
    snapshot: &filings::Snapshot,
    message: &filing::Message,
    correction: &filing::Correction,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let from = message.from.clone().unwrap_or_else(|| "a sender".into());
    let manual = triage::ManualFiling {
        item: Some(correction.item.clone()),
        ..triage::ManualFiling::default()
    };
    let why = format!("re-filed at the sender's request (message {message_id})");
    match triage::refile_in(conn, correction.message, &manual, &from, Some(&why), now).await {
        Ok(_) => {
            let outcome = format!("re-filed against item {} at your request", correction.item);
            acknowledge_applied(conn, correction.message, &outcome, now).await?;
        }
        Err(err) => {
            tracing::warn!(message = message_id, error = %err, "correction not applied");
            if answer::written_by_a_machine(message) {
                return Ok(());
            }
            let help = answer::ReplyHelp {
                message: message_id,
                original_subject: answer::original_subject(message),
                answered: "our acknowledgement".to_owned(),
                understood: format!("a request to re-file your email against item {}", correction.item),
                why: format!(
                    "Item {} is not on the agenda of the meeting your email was filed against.",
                    correction.item
                ),
                next_step: "Nothing was changed. Reply to the acknowledgement again with WRONG ITEM and an item on the meeting's agenda, or tell the secretariat.".to_owned(),
                would_work: vec!["WRONG ITEM 2c (with the number of an item on the agenda)".to_owned()],
                reply_to: "the acknowledgement we sent you".to_owned(),
            };
            answer(conn, snapshot, message, help, None, now).await?;
        }
    }
    Ok(())
}

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
    let context = serde_json::to_value(&help).context("failed to describe the answer")?;
    let Some(row) = to_sender(MailKind::ReplyHelp, snapshot, message, meeting, context) else {
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
    let snapshot = snapshot(conn, filed.board_id).await?;
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

/// How many waiting messages a triage notice lists by name.
const TRIAGE_NOTICE_LISTED: usize = 20;

/// Tells the secretariat of `board_id` that messages wait in triage, when something new
/// waits and no notice went out in the last hour. Returns whether one was queued.
pub async fn notify_triage_if_due(
    conn: &mut sqlx::PgConnection,
    board_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let last_at = triage::lock_triage_marker(conn, board_id).await?;
    let interval = chrono::Duration::seconds(crate::domain::outbound::NOTICE_INTERVAL_SECONDS);
    if last_at.is_some_and(|at| now.signed_duration_since(at) < interval) {
        return Ok(false);
    }
    let waiting = triage::triage_on(conn, Some(board_id), false, None).await?;
    let zone = crate::store::registry::board_zone(conn, board_id).await?;
    let news = waiting
        .iter()
        .any(|r| last_at.is_none_or(|at| r.decided_at > at));
    if !news {
        return Ok(false);
    }
    let secretariat = mail_context::secretariat(conn, board_id).await?;
    let listed: Vec<Value> = waiting
        .iter()
        .take(TRIAGE_NOTICE_LISTED)
        .map(|row| {
            let guess = match &row.meeting {
                Some(meeting) => format!("{} for {meeting}", kind_words(&row.kind)),
                None => kind_words(&row.kind).to_owned(),
            };
            let why = row
                .reasons
                .iter()
                .rev()
                .find(|r| r.starts_with("below the threshold") || r.starts_with("conflicting"))
                .or(row.reasons.last())
                .cloned()
                .unwrap_or_default();
            serde_json::json!({
                "id": row.id,
                "from": row.from.clone().unwrap_or_else(|| "(no sender)".into()),
                "received_text": zone.long_datetime(row.received_at),
                "subject": row.subject.clone().unwrap_or_else(|| "(no subject)".into()),
                "guess": guess,
                "why": why,
            })
        })
        .collect();
    let context = serde_json::json!({
        "count": waiting.len(),
        "more": waiting.len().saturating_sub(TRIAGE_NOTICE_LISTED),
        "messages": listed,
    });
    let mut queued = Vec::new();
    for (member, address) in secretariat {
        let Ok(address) = EmailAddress::parse(&address) else {
            continue;
        };
        let row = NewOutboxMessage::new(
            MailKind::TriageNotice,
            board_id,
            Recipient {
                address,
                name: Some(member.name),
                member_id: Some(member.id),
            },
            context.clone(),
        );
        queued.push(outbox::enqueue(conn, row, now).await?);
    }
    triage::set_triage_marker(conn, board_id, now).await?;
    store::events::record(
        conn,
        store::events::NewEvent {
            board_id: Some(board_id),
            actor: "system",
            kind: "filing.triage_notified",
            subject: None,
            detail: serde_json::json!({ "waiting": waiting.len(), "notices": queued }),
        },
    )
    .await?;
    Ok(!queued.is_empty())
}

/// A filing kind in words, with its article.
fn kind_words(kind: &str) -> &'static str {
    filing::Kind::parse(kind).map_or("a message", filing::Kind::description)
}

/// Sends the triage notices held back by the hourly limit once it has passed: called by
/// the filing loop when it is idle.
pub async fn notify_triage_due(pool: &PgPool, clock: &Clock) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let boards = triage::boards_with_new_triage(&mut conn).await?;
    drop(conn);
    for board_id in boards {
        let mut tx = pool.begin().await?;
        notify_triage_if_due(&mut tx, board_id, clock.now()).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Files (or re-files) message `message_id` by hand, with the effects filing it by rule
/// would have had: a written update is acknowledged; an action update sent back to
/// triage (which action was not clear, say) is looked at afresh by the action step,
/// which checks its sender as always; an approval reply is verified and applied by the
/// approval step as any other.
pub async fn file_by_hand(
    pool: &PgPool,
    message_id: i64,
    manual: &triage::ManualFiling,
    actor: &str,
    clock: &Clock,
) -> anyhow::Result<Recorded> {
    let now = clock.now();
    let mut tx = pool
        .begin()
        .await
        .context("failed to begin a transaction")?;
    let mut recorded = triage::refile_in(&mut tx, message_id, manual, actor, None, now).await?;
    match recorded.kind {
        filing::Kind::WrittenUpdate => {
            if let Some(filed) = filings::filed_message(&mut tx, message_id).await? {
                let snapshot = snapshot(&mut tx, filed.board_id).await?;
                recorded.acknowledgement = acknowledge(
                    &mut tx,
                    &filed.recorded,
                    &snapshot,
                    &filed.decision,
                    &filed.message,
                    filed.received_at,
                    None,
                    now,
                )
                .await?;
            }
        }
        filing::Kind::ActionUpdate => {
            store::actions::forget_refusal(&mut tx, message_id).await?;
        }
        _ => {}
    }
    tx.commit().await.context("failed to commit the filing")?;
    Ok(recorded)
}

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
    let snapshot = snapshot(conn, filed.board_id).await?;
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
async fn acknowledge(
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
    );
    if let Some(outcome) = outcome {
        context["outcome"] = Value::String(outcome.to_owned());
        if let Some(list) = context["filed_against"].as_array_mut() {
            list.push(Value::String(outcome.to_owned()));
        }
    }

    let meeting = decision.meeting.as_deref();
    let Some(row) = to_sender(
        MailKind::Acknowledgement,
        snapshot,
        message,
        meeting,
        context.clone(),
    ) else {
        tracing::warn!(message = recorded.message_id, from = ?message.from, "no acknowledgement: the sender's address cannot take mail");
        return Ok(false);
    };
    let to = row.to.address.as_str().to_owned();
    let outbox_id = outbox::enqueue(conn, row, now)
        .await
        .context("failed to queue the acknowledgement")?;
    filings::record_acknowledgement(
        conn, recorded, snapshot, decision, &to, &context, outbox_id, now,
    )
    .await?;
    Ok(true)
}

/// An email of `kind` to the sender of `message`, to their registry name (else the name
/// they sign with), threaded under the message with its whole thread, so a reply to it
/// still names the mail of ours the thread began with. `None` when the sender's address
/// cannot take mail.
fn to_sender(
    kind: MailKind,
    snapshot: &filings::Snapshot,
    message: &filing::Message,
    meeting: Option<&str>,
    context: Value,
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
    let mut row = NewOutboxMessage::new(
        kind,
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

/// Marks the outbox row a bounce is about as bounced (a hard bounce also flags the
/// address and tells the secretariat). A bounce about mail this database never sent
/// changes nothing.
async fn record_bounce(
    conn: &mut sqlx::PgConnection,
    decision: &filing::FilingDecision,
    message: &filing::Message,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Some(outbox_id) = decision.outbox_id else {
        return Ok(());
    };
    let recipients = message
        .dsn
        .as_ref()
        .map(|d| d.recipients.as_slice())
        .unwrap_or(&[]);
    // Permanent only on the report's word (a 5.x.x status or `failed`): a bounce without
    // a report may be a delay notice.
    let hard = recipients.iter().any(|r| {
        r.status
            .as_deref()
            .is_some_and(|s| s.trim().starts_with('5'))
            || r.action.as_deref() == Some("failed")
    }) || message.headers.x_failed_recipients.is_some();
    let reason = recipients
        .iter()
        .find_map(|r| r.diagnostic.clone().or_else(|| r.status.clone()))
        .or_else(|| message.subject.clone())
        .unwrap_or_else(|| "bounced".to_owned());
    match bounces::mark_bounced(conn, BounceTarget::Row(outbox_id), hard, &reason, now).await {
        Ok(_) => Ok(()),
        Err(store::Error::NotFound(what)) => {
            tracing::info!(outbox = outbox_id, %what, "a bounce about mail this database did not send");
            Ok(())
        }
        Err(err) => Err(err).context("failed to record the bounce against its outbox row"),
    }
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

/// The moment a message is judged at — which meeting was "next", whether papers were
/// late: when it was sent, so that a backlog filed days later, or mail re-read after a
/// restore, is filed as it would have been on arrival. A Date header more than a day
/// after its arrival is not believed; the arrival time stands in.
pub fn judged_at(sent_at: Option<DateTime<Utc>>, received_at: DateTime<Utc>) -> DateTime<Utc> {
    match sent_at {
        Some(sent) if sent <= received_at + chrono::Duration::days(1) && sent.year() >= 1990 => {
            sent
        }
        _ => received_at,
    }
}

/// What [`drain`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FilingSummary {
    pub filed: u64,
    pub triage: u64,
    pub quarantined: u64,
    /// Messages are waiting for a board to be imported.
    pub waiting_for_board: bool,
}

impl std::fmt::Display for FilingSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "filed {}, triage {}, quarantined {}",
            self.filed, self.triage, self.quarantined
        )
    }
}

impl FilingSummary {
    pub fn add(&mut self, other: &FilingSummary) {
        self.filed += other.filed;
        self.triage += other.triage;
        self.quarantined += other.quarantined;
        self.waiting_for_board |= other.waiting_for_board;
    }

    fn count(&mut self, outcome: &FilingOutcome) {
        match outcome {
            FilingOutcome::Filed(recorded) => match recorded.disposition {
                filing::Disposition::Filed => self.filed += 1,
                filing::Disposition::Triage => self.triage += 1,
                filing::Disposition::Quarantined => self.quarantined += 1,
            },
            FilingOutcome::Idle => {}
            FilingOutcome::NoBoard => self.waiting_for_board = true,
        }
    }
}

/// Files messages as another task stores them, until `shutdown`; for `ingest --once`,
/// which then files what is left with [`drain`]. Looks for new messages every few
/// milliseconds while idle: it only lives as long as one mailbox read.
pub async fn drain_until_stopped(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
    mut shutdown: Shutdown,
) -> FilingSummary {
    let mut summary = FilingSummary::default();
    while !shutdown.is_stopping() {
        let outcomes = match file_batch(pool, settings, clock, BATCH).await {
            Ok(outcomes) => outcomes,
            Err(err) => {
                // The final drain files what is left one batch at a time and reports.
                tracing::warn!(error = %format!("{err:#}"), "filing beside ingestion stopped");
                return summary;
            }
        };
        let busy = matches!(outcomes.last(), Some(FilingOutcome::Filed(_)));
        for outcome in &outcomes {
            summary.count(outcome);
        }
        if !busy {
            tokio::select! {
                _ = shutdown.stopped() => {}
                _ = tokio::time::sleep(Duration::from_millis(25)) => {}
            }
        }
    }
    summary
}

/// Files every waiting message and returns the counts.
pub async fn drain(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<FilingSummary> {
    let mut summary = FilingSummary::default();
    queue_owed_acknowledgements(pool, clock).await?;
    loop {
        let outcomes = match file_batch(pool, settings, clock, BATCH).await {
            Ok(outcomes) => outcomes,
            // One at a time, so the error names the message that caused it.
            Err(_) => vec![file_once(pool, settings, clock).await?],
        };
        for outcome in &outcomes {
            summary.count(outcome);
            if !matches!(outcome, FilingOutcome::Filed(_)) {
                return Ok(summary);
            }
        }
    }
}

/// Snapshots of the registry by (database instance, board), with the registry version
/// they were read at. Shared by every worker of the process.
type SnapshotCache = HashMap<(i64, i64), (i64, Arc<filings::Snapshot>)>;

static SNAPSHOTS: Mutex<Option<SnapshotCache>> = Mutex::new(None);

/// The registry of `board_id`, read again only when it has changed since last read.
async fn snapshot(
    conn: &mut sqlx::PgConnection,
    board_id: i64,
) -> anyhow::Result<Arc<filings::Snapshot>> {
    let (instance, version) = filings::registry_version(conn).await?;
    let cached = SNAPSHOTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
        .and_then(|cache| cache.get(&(instance, board_id)).cloned());
    if let Some((at, snapshot)) = cached {
        if at == version {
            return Ok(snapshot);
        }
    }
    let snapshot = Arc::new(filings::snapshot(conn, board_id).await?);
    SNAPSHOTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert((instance, board_id), (version, snapshot.clone()));
    Ok(snapshot)
}

/// Written updates filed with confidence are acknowledged now. Action updates are
/// acknowledged by `crate::actions` once applied, saying what they did.
fn owes_acknowledgement(decision: &filing::FilingDecision) -> bool {
    decision.disposition == filing::Disposition::Filed
        && decision.kind == filing::Kind::WrittenUpdate
}

/// Files messages as they arrive until `shutdown`. Woken by the notification the
/// messages table sends on every insert, and every few seconds regardless.
pub async fn run_until_stopped(
    pool: PgPool,
    settings: Settings,
    clock: Clock,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut listener = match PgListener::connect_with(&pool).await {
        Ok(mut listener) => match listener.listen(filings::RECEIVED_CHANNEL).await {
            Ok(()) => Some(listener),
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for new messages; polling instead");
                None
            }
        },
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for new messages; polling instead");
            None
        }
    };
    match queue_owed_acknowledgements(&pool, &clock).await {
        Ok(0) => {}
        Ok(queued) => tracing::info!(queued, "owed acknowledgements queued"),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "cannot queue owed acknowledgements")
        }
    }
    let mut backoff = Backoff::new();
    let mut failures = FailureLog::new("filing");
    let mut listening = FailureLog::new("listening for new messages");
    while !shutdown.is_stopping() {
        // After a failure, one message at a time until one goes through: the error then
        // names the message that causes it, and the others are not held up behind it.
        let step = if failures.is_failing() {
            file_once(&pool, &settings, &clock).await.map(|o| vec![o])
        } else {
            file_batch(&pool, &settings, &clock, BATCH).await
        };
        let wait = match step {
            Ok(outcomes) => {
                backoff.reset();
                failures.succeeded();
                let mut more = false;
                for outcome in outcomes {
                    match outcome {
                        FilingOutcome::Filed(recorded) => {
                            more = true;
                            tracing::info!(
                                message = recorded.message_id,
                                kind = %recorded.kind,
                                disposition = recorded.disposition.as_str(),
                                confidence = %format!("{:.2}", recorded.confidence),
                                "message filed"
                            );
                        }
                        FilingOutcome::Idle => more = false,
                        FilingOutcome::NoBoard => {
                            more = false;
                            tracing::warn!("messages are waiting but no board is imported; run `minuted board import FILE`");
                        }
                    }
                }
                if more {
                    continue;
                }
                // Notices held back by the hourly limit go once it has passed.
                if let Err(err) = notify_triage_due(&pool, &clock).await {
                    tracing::warn!(error = %format!("{err:#}"), "cannot tell the secretariat of triage");
                }
                POLL
            }
            Err(err) => {
                let wait = backoff.next_delay();
                failures.failed(&format!("{err:#}"), wait);
                wait
            }
        };
        // A notification, the wait, or shutdown. A lost notification connection is not a
        // wake-up (it fails at once while the database is down): the rest of the wait is
        // slept, and the listener reconnects on its next use.
        let until = tokio::time::Instant::now() + wait;
        let notified = tokio::select! {
            _ = shutdown.stopped() => break,
            _ = tokio::time::sleep_until(until) => None,
            notified = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            } => Some(notified),
        };
        match notified {
            Some(Ok(())) => listening.succeeded(),
            Some(Err(err)) => {
                listening.failed(&err.to_string(), until - tokio::time::Instant::now());
                tokio::select! {
                    _ = shutdown.stopped() => break,
                    _ = tokio::time::sleep_until(until) => {}
                }
            }
            None => {}
        }
    }
    Ok(())
}

/// Filing's view of a stored (or freshly parsed) message. Attachment contents may be
/// only their first bytes: filing reads the first lines of text attachments and the
/// Message-ID in a bounce's copy of the original headers.
pub fn to_filing(parsed: &ParsedMessage) -> filing::Message {
    let mut original_message_id = None;
    let mut attachments = Vec::new();
    for attachment in &parsed.attachments {
        let content_type = attachment.content_type.to_lowercase();
        if content_type == "text/rfc822-headers" || content_type == "message/rfc822" {
            original_message_id =
                original_message_id.or_else(|| message_id_in(&attachment.content));
            continue;
        }
        if content_type.starts_with("message/") {
            continue;
        }
        let first_lines = first_lines(attachment, &content_type);
        attachments.push(Attachment {
            filename: attachment.filename.clone(),
            content_type,
            first_lines,
        });
    }
    let dsn = parsed.dsn.as_ref().map(|value| {
        let mut dsn = Dsn::from_json(value);
        if dsn.original_message_id.is_none() {
            dsn.original_message_id = original_message_id.clone();
        }
        dsn
    });
    filing::Message {
        from: parsed.from_address.clone(),
        from_name: parsed.from_name.clone(),
        sender: parsed.sender_address.clone(),
        to: parsed.to_addresses.clone(),
        cc: parsed.cc_addresses.clone(),
        delivered_to: parsed.delivered_to.clone(),
        subject: parsed.subject.clone(),
        body_text: parsed.body_text.clone(),
        body_html: parsed.body_html.clone(),
        headers: Headers::from_json(&parsed.headers),
        dsn,
        message_id: parsed.message_id.clone(),
        in_reply_to: parsed.in_reply_to.clone(),
        references: parsed.references.clone(),
        attachments,
    }
}

/// The first lines of an attachment's text: plain text as it is, documents (.docx, .pdf,
/// HTML) through the minutes extractor. `None` when there is no text to read (an image,
/// a document cut short by the store, a scanned PDF).
fn first_lines(
    attachment: &crate::ingest::parse::Attachment,
    content_type: &str,
) -> Option<String> {
    const LINES: usize = 20;
    let name = attachment
        .filename
        .as_deref()
        .unwrap_or_default()
        .to_lowercase();
    if content_type.starts_with("text/calendar") {
        let text =
            String::from_utf8_lossy(&attachment.content[..attachment.content.len().min(64 * 1024)]);
        let lines = crate::filing::calendar::key_lines(&text);
        return (!lines.is_empty()).then_some(lines);
    }
    let text = if content_type.starts_with("text/plain") {
        String::from_utf8_lossy(&attachment.content[..attachment.content.len().min(4096)])
            .into_owned()
    } else if name.ends_with(".docx")
        || name.ends_with(".pdf")
        || content_type == "application/pdf"
        || content_type.ends_with("wordprocessingml.document")
    {
        crate::minutes::extract::extract(
            &attachment.content,
            attachment.filename.as_deref(),
            Some(content_type),
        )
        .ok()?
        .text
    } else {
        return None;
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(LINES)
        .collect();
    (!lines.is_empty()).then(|| crate::filing::truncate_text(&lines.join("\n"), 2000))
}

/// The Message-ID header in a block of headers, without angle brackets.
fn message_id_in(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(16 * 1024)]);
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("message-id")
            .then(|| {
                value
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
            .filter(|id| !id.is_empty())
    })
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
) -> Value {
    let meeting = decision
        .meeting
        .as_deref()
        .and_then(|r| registry.meetings.iter().find(|m| m.reference == r));
    let mut filed_against = Vec::new();
    if let Some(meeting) = meeting {
        filed_against.push(format!(
            "Meeting {} ({})",
            meeting.reference,
            meeting.date.format("%A %-d %B %Y")
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
    serde_json::json!({
        "message": message,
        "kind": decision.kind.as_str(),
        "item": decision.item,
        "action": decision.action,
        "original_subject": subject.filter(|s| !s.trim().is_empty()).unwrap_or("(no subject)"),
        "received_text": received_at.format("%A %-d %B %Y at %H:%M").to_string(),
        "filed_as": decision.kind.description(),
        "filed_against": filed_against,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_message_is_judged_when_it_was_sent_unless_its_date_is_implausible() {
        let received = at("2026-11-23T10:00:00Z");
        let cases = [
            (Some("2023-12-01T09:00:00Z"), "2023-12-01T09:00:00Z"),
            (Some("2026-11-24T09:00:00Z"), "2026-11-24T09:00:00Z"),
            (Some("2026-11-25T10:00:01Z"), "2026-11-23T10:00:00Z"),
            (Some("1970-01-01T00:00:00Z"), "2026-11-23T10:00:00Z"),
            (None, "2026-11-23T10:00:00Z"),
        ];
        for (sent, expected) in cases {
            assert_eq!(judged_at(sent.map(at), received), at(expected), "{sent:?}");
        }
    }

    #[test]
    fn a_bounce_quoting_the_original_headers_names_its_message_id() {
        assert_eq!(
            message_id_in(b"From: a@b.example\r\nMessage-ID: <x.1@board.example>\r\n"),
            Some("x.1@board.example".into())
        );
        assert_eq!(message_id_in(b"Subject: none\r\n"), None);
    }
}
