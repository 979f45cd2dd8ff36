//! The filing worker: takes each stored message with status `received`, decides what it
//! is with [`filing::decide`], and records the decision, the message's new status
//! (`filed`, `triage` or `quarantined`), the audit event and any acknowledgement owed —
//! all in one transaction, so a message is filed exactly once however many processes
//! run.
//!
//! It also tells the secretariat (at most hourly) that messages wait, confirms `WRONG
//! ITEM` corrections, records bounces, and files by hand with the effects filing by rule
//! would have had. What it says to senders (acknowledgements, answers to replies that
//! land in triage) is `filing::acknowledge`'s.
//!
//! This module owns the loop and the conversion of a stored message into filing's input.
//! The rules are in `filing` (pure); the SQL is in `store::filings`.

use crate::store::mail_context;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Datelike, Utc};
use sqlx::PgPool;

use super::acknowledge::{acknowledge, acknowledge_applied, answer, queue_owed_acknowledgements};
use super::snapshots::Snapshots;
use crate::clock::Clock;
use crate::config::FilingSettings;
use crate::domain::{board, mail};
use crate::filing::{self, answer, sent, Attachment, Dsn, Headers, Sent};
use crate::ingest::parse::ParsedMessage;
use crate::retry::{Backoff, FailureLog};
use crate::shutdown::{Shutdown, Wakeup};
use crate::store;
use crate::store::bounces::{self, BounceTarget};
use crate::store::filings::{self, Recorded};
use crate::store::outbox::{self, NewOutboxMessage};
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
pub async fn file_next(
    pool: &PgPool,
    settings: &impl AsRef<FilingSettings>,
    clock: &Clock,
) -> anyhow::Result<FilingOutcome> {
    file_one(pool, settings.as_ref(), &Snapshots::default(), clock).await
}

/// [`file_next`] with the registry snapshots the caller keeps.
async fn file_one(
    pool: &PgPool,
    settings: &FilingSettings,
    snapshots: &Snapshots,
    clock: &Clock,
) -> anyhow::Result<FilingOutcome> {
    let mut tx = crate::database::begin(pool).await?;
    filings::relax_commit(&mut tx).await?;
    let outcome = file_claimed(&mut tx, settings, snapshots, clock, 1)
        .await?
        .pop()
        .unwrap_or(FilingOutcome::Idle);
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
    settings: &impl AsRef<FilingSettings>,
    clock: &Clock,
    max: usize,
) -> anyhow::Result<Vec<FilingOutcome>> {
    file_many(pool, settings.as_ref(), &Snapshots::default(), clock, max).await
}

/// [`file_batch`] with the registry snapshots the caller keeps.
async fn file_many(
    pool: &PgPool,
    settings: &FilingSettings,
    snapshots: &Snapshots,
    clock: &Clock,
    max: usize,
) -> anyhow::Result<Vec<FilingOutcome>> {
    let mut tx = crate::database::begin(pool).await?;
    filings::relax_commit(&mut tx).await?;
    let outcomes = file_claimed(&mut tx, settings, snapshots, clock, max).await?;
    if outcomes.last() == Some(&FilingOutcome::NoBoard) {
        tx.rollback().await?;
        return Ok(vec![FilingOutcome::NoBoard]);
    }
    tx.commit().await.context("failed to commit the filings")?;
    Ok(outcomes)
}

/// Claims up to `max` messages and files each inside `conn`'s transaction: one outcome
/// for each, then `Idle` unless more may be waiting (the claim took `max`, or left some
/// for its byte budget); only `NoBoard` when there is no board to file them against. The
/// boards and the registry's version are read once for them all.
async fn file_claimed(
    conn: &mut sqlx::PgConnection,
    settings: &FilingSettings,
    snapshots: &Snapshots,
    clock: &Clock,
    max: usize,
) -> anyhow::Result<Vec<FilingOutcome>> {
    let claim = filings::claim_received(conn, i64::try_from(max).unwrap_or(i64::MAX)).await?;
    if claim.messages.is_empty() {
        return Ok(vec![FilingOutcome::Idle]);
    }
    let boards = filings::boards(conn).await?;
    if boards.is_empty() {
        return Ok(vec![FilingOutcome::NoBoard]);
    }
    let version = filings::registry_version(conn).await?;
    let mut outcomes = Vec::with_capacity(claim.messages.len() + 1);
    for message in claim.messages {
        let started = std::time::Instant::now();
        let recorded = file_in(
            conn,
            settings,
            snapshots,
            &boards,
            version,
            message,
            clock.now(),
        )
        .await?;
        crate::measure::filing_took(started.elapsed());
        outcomes.push(FilingOutcome::Filed(recorded));
    }
    if !claim.more {
        outcomes.push(FilingOutcome::Idle);
    }
    Ok(outcomes)
}

/// Files one claimed message inside `conn`'s transaction.
async fn file_in(
    conn: &mut sqlx::PgConnection,
    settings: &FilingSettings,
    snapshots: &Snapshots,
    boards: &[(i64, String)],
    version: (i64, i64),
    claimed: filings::Claimed,
    now: DateTime<Utc>,
) -> anyhow::Result<Recorded> {
    let message = to_filing(&claimed.parsed);
    let recipients: Vec<String> = message
        .to
        .iter()
        .chain(&message.cc)
        .chain(&message.delivered_to)
        .cloned()
        .collect();
    let board_id =
        board::addressed_board(boards, &recipients).context("no board to file against")?;
    let snapshot = snapshots.get_at(conn, board_id, version).await?;
    let lookup = sent::lookup(&message, &snapshot.registry.board_address);
    let sent = if lookup.is_empty() {
        Sent::default()
    } else {
        let rows = filings::sent_rows(
            conn,
            &lookup.message_ids,
            &lookup.lower_tokens,
            &lookup.bounce_rows,
        )
        .await?;
        Sent::from_rows(&lookup, &rows)
    };
    let decision = filing::decide(
        &message,
        &snapshot.registry,
        &sent,
        judged_at(claimed.parsed.sent_at, claimed.received_at),
        settings.threshold,
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
    if let Some(answer) = decision
        .attendance
        .as_ref()
        .filter(|_| decision.disposition == filing::Disposition::Filed)
        .filter(|_| decision.kind == filing::Kind::AttendanceResponse)
    {
        filing::attendance::record(
            conn,
            &snapshot,
            claimed.id,
            &decision,
            &message,
            answer,
            judged_at(claimed.parsed.sent_at, claimed.received_at),
            now,
        )
        .await?;
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
    Ok(recorded)
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
    let listed: Vec<mail::Waiting> = waiting
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
            mail::Waiting {
                id: row.id,
                from: row.from.clone().unwrap_or_else(|| "(no sender)".into()),
                received_text: zone.long_datetime(row.received_at),
                subject: row.subject.clone().unwrap_or_else(|| "(no subject)".into()),
                guess,
                why,
            }
        })
        .collect();
    let context = mail::TriageNotice {
        count: waiting.len(),
        more: waiting.len().saturating_sub(TRIAGE_NOTICE_LISTED),
        messages: listed,
    };
    let mut queued = Vec::new();
    for to in secretariat.iter().filter_map(|m| m.recipient()) {
        let row = NewOutboxMessage::mail(board_id, to, &context);
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
    let mut tx = crate::database::begin(pool).await?;
    let mut recorded = triage::refile_in(&mut tx, message_id, manual, actor, None, now).await?;
    match recorded.kind {
        filing::Kind::WrittenUpdate => {
            if let Some(filed) = filings::filed_message(&mut tx, message_id).await? {
                let snapshot = filings::snapshot(&mut tx, filed.board_id).await?;
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
    settings: &impl AsRef<FilingSettings>,
    clock: &Clock,
    mut shutdown: Shutdown,
) -> FilingSummary {
    let mut summary = FilingSummary::default();
    let snapshots = Snapshots::default();
    while !shutdown.is_stopping() {
        let outcomes = match file_many(pool, settings.as_ref(), &snapshots, clock, BATCH).await {
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
    settings: &impl AsRef<FilingSettings>,
    clock: &Clock,
) -> anyhow::Result<FilingSummary> {
    let mut summary = FilingSummary::default();
    let (settings, snapshots) = (settings.as_ref(), Snapshots::default());
    queue_owed_acknowledgements(pool, clock).await?;
    loop {
        let outcomes = match file_many(pool, settings, &snapshots, clock, BATCH).await {
            Ok(outcomes) => outcomes,
            // One at a time, so the error names the message that caused it.
            Err(_) => vec![file_one(pool, settings, &snapshots, clock).await?],
        };
        for outcome in &outcomes {
            summary.count(outcome);
            if !matches!(outcome, FilingOutcome::Filed(_)) {
                return Ok(summary);
            }
        }
    }
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
    settings: FilingSettings,
    clock: Clock,
    mut shutdown: Shutdown,
    mut wakeup: Wakeup,
) -> anyhow::Result<()> {
    match queue_owed_acknowledgements(&pool, &clock).await {
        Ok(0) => {}
        Ok(queued) => tracing::info!(queued, "owed acknowledgements queued"),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "cannot queue owed acknowledgements")
        }
    }
    let snapshots = Snapshots::default();
    let mut backoff = Backoff::new();
    let mut failures = FailureLog::new("filing");
    while !shutdown.is_stopping() {
        // After a failure, one message at a time until one goes through: the error then
        // names the message that causes it, and the others are not held up behind it.
        let step = if failures.is_failing() {
            file_one(&pool, &settings, &snapshots, &clock)
                .await
                .map(|o| vec![o])
        } else {
            file_many(&pool, &settings, &snapshots, &clock, BATCH).await
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
        // A notification, the wait, or shutdown.
        tokio::select! {
            _ = shutdown.stopped() => break,
            () = wakeup.wait(wait) => {}
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
