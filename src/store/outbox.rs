//! The outbox tables: queueing mail inside the caller's transaction, leasing due rows to a
//! worker, recording every attempt and its outcome, retries, and the aggregated notice
//! to the secretariat. Bounces are [`super::bounces`]; what rendering needs from the
//! registry is [`super::mail_context`].
//!
//! Times are always parameters (from [`crate::clock::Clock`]), never the database's
//! `now()`, so tests move time instead of sleeping. The worker that decides what an outcome
//! means (retry when, fail when) is `crate::outbox::worker`; this file only reads and
//! writes rows.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

use super::events::{self, NewEvent};
use super::mail_context::secretariat;
use super::{Error, Result};
use crate::domain::address::EmailAddress;
use crate::domain::mail::{self, MailContext};
use crate::domain::outbound::{self, MailKind, OutboxStatus};
use crate::templates::Rendered;

/// The channel on which the database announces email queued (migration 0019): the sender
/// wakes on it.
pub const QUEUED_CHANNEL: &str = "minuted_outbox_queued";

pub type OutboxId = i64;

pub use crate::domain::outbound::Recipient;

/// A stored attachment (migration 0002's `attachments`) to send with an email.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub attachment_id: i64,
    pub filename: String,
    pub content_type: String,
}

/// One email to queue. See the `outbox` module for what each field becomes.
#[derive(Debug, Clone)]
pub struct NewOutboxMessage {
    pub kind: MailKind,
    pub board_id: i64,
    pub meeting_id: Option<i64>,
    pub to: Recipient,
    /// Kind-specific template data (a JSON object); `board`, `meeting`, `recipient`,
    /// `reply_address` and `attachments` are filled in from the database at render time.
    pub context: Value,
    /// Message-IDs (with or without angle brackets) this replies to, for threading.
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub attachments: Vec<NewAttachment>,
    /// Not sent after this moment (the event it is about has passed): `expired` instead.
    pub not_after: Option<DateTime<Utc>>,
    /// Not sent before this moment; the row is `held` until then.
    pub hold_until: Option<DateTime<Utc>>,
    /// The reply token for the Reply-To address, when the caller must choose it (a
    /// signed approval token); otherwise a random one is chosen.
    pub reply_token: Option<String>,
}

impl NewOutboxMessage {
    /// A message with no threading, attachments, expiry or hold.
    /// A row carrying `context`, of the kind the context belongs to.
    pub fn mail(board_id: i64, to: Recipient, context: &impl MailContext) -> Self {
        Self::new(context.kind(), board_id, to, context.to_value())
    }

    /// A row of `kind` carrying a context already made (a stored copy of one).
    pub fn new(kind: MailKind, board_id: i64, to: Recipient, context: Value) -> Self {
        NewOutboxMessage {
            kind,
            board_id,
            meeting_id: None,
            to,
            context,
            in_reply_to: None,
            references: Vec::new(),
            attachments: Vec::new(),
            not_after: None,
            hold_until: None,
            reply_token: None,
        }
    }
}

/// A Message-ID as stored: without angle brackets, refusing anything that could break a
/// header (whitespace, control characters, brackets inside).
pub(super) fn clean_message_id(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let bare = trimmed
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(trimmed);
    let ok = !bare.is_empty()
        && bare.len() <= 250
        && bare
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | ','));
    if ok {
        Ok(bare.to_owned())
    } else {
        Err(Error::Invalid(format!(
            "{raw:?} is not a Message-ID that can go in a header"
        )))
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A checked row ready for INSERT.
struct Prepared {
    kind: &'static str,
    board_id: i64,
    meeting_id: Option<i64>,
    member_id: Option<i64>,
    to_address: String,
    to_name: Option<String>,
    context: Value,
    in_reply_to: Option<String>,
    references: Vec<String>,
    reply_token: String,
    id_token: String,
    status: &'static str,
    next_attempt_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    hold_until: Option<DateTime<Utc>>,
}

fn prepare(row: &NewOutboxMessage, now: DateTime<Utc>) -> Result<Prepared> {
    if !row.context.is_object() {
        return Err(Error::Invalid(
            "the template context must be a JSON object".into(),
        ));
    }
    let in_reply_to = row
        .in_reply_to
        .as_deref()
        .map(clean_message_id)
        .transpose()?;
    let references = row
        .references
        .iter()
        .map(|r| clean_message_id(r))
        .collect::<Result<Vec<_>>>()?;
    for attachment in &row.attachments {
        if attachment.filename.trim().is_empty()
            || attachment
                .content_type
                .parse::<lettre::message::header::ContentType>()
                .is_err()
        {
            return Err(Error::Invalid(format!(
                "attachment {} needs a file name and a valid content type (got {:?}, {:?})",
                attachment.attachment_id, attachment.filename, attachment.content_type
            )));
        }
    }
    let held = row.hold_until.is_some_and(|until| until > now);
    let reply_token = match &row.reply_token {
        Some(token)
            if !token.is_empty()
                && token.len() <= 60
                && token
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) =>
        {
            token.clone()
        }
        Some(token) => {
            return Err(Error::Invalid(format!(
                "{token:?} cannot be a reply token (lower-case letters and digits only)"
            )))
        }
        None => random_hex(12),
    };
    Ok(Prepared {
        kind: row.kind.as_str(),
        board_id: row.board_id,
        meeting_id: row.meeting_id,
        member_id: row.to.member_id,
        to_address: row.to.address.as_str().to_owned(),
        to_name: row.to.name.clone(),
        context: row.context.clone(),
        in_reply_to,
        references,
        reply_token,
        id_token: random_hex(8),
        status: if held { "held" } else { "pending" },
        next_attempt_at: if held {
            row.hold_until.unwrap_or(now)
        } else {
            now
        },
        expires_at: row.not_after,
        hold_until: row.hold_until,
    })
}

/// Queues one email inside the caller's transaction and returns its id. The Message-ID
/// (`outbox.<id>.<random>@<board domain>`) and the reply token are chosen here, once.
/// Records an `outbox.enqueued` event.
pub async fn enqueue(
    conn: &mut PgConnection,
    row: NewOutboxMessage,
    now: DateTime<Utc>,
) -> Result<OutboxId> {
    let ids = enqueue_many(conn, std::slice::from_ref(&row), now).await?;
    ids.into_iter()
        .next()
        .ok_or_else(|| Error::NotFound("the inserted outbox row".into()))
}

/// Queues many emails in one statement (a circulation to every member) inside the
/// caller's transaction; ids come back in the order given. One `outbox.enqueued` event
/// per board.
pub async fn enqueue_many(
    conn: &mut PgConnection,
    rows: &[NewOutboxMessage],
    now: DateTime<Utc>,
) -> Result<Vec<OutboxId>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let prepared = rows
        .iter()
        .map(|r| prepare(r, now))
        .collect::<Result<Vec<_>>>()?;

    let mut domains: HashMap<i64, String> = HashMap::new();
    for p in &prepared {
        if let std::collections::hash_map::Entry::Vacant(entry) = domains.entry(p.board_id) {
            let address: Option<String> =
                sqlx::query_scalar("SELECT address FROM boards WHERE id = $1")
                    .bind(p.board_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            let address =
                address.ok_or_else(|| Error::NotFound(format!("board {}", p.board_id)))?;
            let domain = address
                .rsplit_once('@')
                .map(|(_, d)| d.to_owned())
                .unwrap_or(address);
            entry.insert(domain);
        }
    }

    let n = prepared.len();
    let mut kind = Vec::with_capacity(n);
    let mut board = Vec::with_capacity(n);
    let mut meeting = Vec::with_capacity(n);
    let mut member = Vec::with_capacity(n);
    let mut to_address = Vec::with_capacity(n);
    let mut to_name = Vec::with_capacity(n);
    let mut context = Vec::with_capacity(n);
    let mut in_reply_to = Vec::with_capacity(n);
    // Postgres arrays cannot be ragged, so references travel as one space-joined string.
    let mut references = Vec::with_capacity(n);
    let mut reply_token = Vec::with_capacity(n);
    let mut id_token = Vec::with_capacity(n);
    let mut domain = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut next_at = Vec::with_capacity(n);
    let mut expires = Vec::with_capacity(n);
    let mut hold = Vec::with_capacity(n);
    for p in prepared {
        domain.push(domains.get(&p.board_id).cloned().unwrap_or_default());
        kind.push(p.kind);
        board.push(p.board_id);
        meeting.push(p.meeting_id);
        member.push(p.member_id);
        to_address.push(p.to_address);
        to_name.push(p.to_name);
        context.push(p.context);
        in_reply_to.push(p.in_reply_to);
        references.push(p.references.join(" "));
        reply_token.push(p.reply_token);
        id_token.push(p.id_token);
        status.push(p.status);
        next_at.push(p.next_attempt_at);
        expires.push(p.expires_at);
        hold.push(p.hold_until);
    }

    let ids: Vec<i64> = sqlx::query_scalar(
        r#"INSERT INTO outbox (id, board_id, kind, meeting_id, member_id, to_address, to_name,
                context, message_id, in_reply_to, "references", reply_token, status,
                next_attempt_at, expires_at, hold_until, created_at, queued_at, status_at)
           SELECT id, board_id, kind, meeting_id, member_id, to_address, to_name, context,
                  'outbox.' || id || '.' || id_token || '@' || domain, in_reply_to,
                  COALESCE(string_to_array(NULLIF(refs, ''), ' '), '{}'), reply_token, status, next_at,
                  expires, hold, $17, $17, $17
           FROM (SELECT nextval('outbox_id_seq') AS id, u.*, u.ord AS position
                 FROM unnest($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[],
                             $6::TEXT[], $7::JSONB[], $8::TEXT[], $9::TEXT[], $10::TEXT[],
                             $11::TEXT[], $12::TEXT[], $13::TEXT[], $14::TIMESTAMPTZ[],
                             $15::TIMESTAMPTZ[], $16::TIMESTAMPTZ[])
                      WITH ORDINALITY AS u(kind, board_id, meeting_id, member_id, to_address,
                           to_name, context, in_reply_to, refs, reply_token, id_token, domain,
                           status, next_at, expires, hold, ord)
                 ORDER BY u.ord) AS s
           ORDER BY position
           RETURNING id"#,
    )
    .bind(&kind)
    .bind(&board)
    .bind(&meeting)
    .bind(&member)
    .bind(&to_address)
    .bind(&to_name)
    .bind(&context)
    .bind(&in_reply_to)
    .bind(&references)
    .bind(&reply_token)
    .bind(&id_token)
    .bind(&domain)
    .bind(&status)
    .bind(&next_at)
    .bind(&expires)
    .bind(&hold)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    // INSERT ... SELECT ... ORDER BY inserts in that order, and nextval runs per row in
    // the ordered sub-select, so ids ascend in input order; sort to be independent of
    // the order RETURNING reports them in.
    let mut ids = ids;
    ids.sort_unstable();

    let mut attachment_rows = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (row, id) in rows.iter().zip(&ids) {
        for (position, a) in row.attachments.iter().enumerate() {
            attachment_rows.0.push(*id);
            attachment_rows
                .1
                .push(i32::try_from(position).unwrap_or(i32::MAX));
            attachment_rows.2.push(a.attachment_id);
            attachment_rows.3.push(a.filename.clone());
            attachment_rows.4.push(a.content_type.clone());
        }
    }
    if !attachment_rows.0.is_empty() {
        sqlx::query(
            "INSERT INTO outbox_attachments (outbox_id, position, attachment_id, filename, content_type)
             SELECT * FROM unnest($1::BIGINT[], $2::INT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[])",
        )
        .bind(&attachment_rows.0)
        .bind(&attachment_rows.1)
        .bind(&attachment_rows.2)
        .bind(&attachment_rows.3)
        .bind(&attachment_rows.4)
        .execute(&mut *conn)
        .await?;
    }

    let mut by_board: HashMap<i64, Vec<(i64, &'static str)>> = HashMap::new();
    for (row, id) in rows.iter().zip(&ids) {
        by_board
            .entry(row.board_id)
            .or_default()
            .push((*id, row.kind.as_str()));
    }
    for (board_id, entries) in by_board {
        let subject = (entries.len() == 1).then(|| ("outbox", entries[0].0));
        let mut kinds: Vec<&str> = entries.iter().map(|(_, k)| *k).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let ids: Vec<i64> = entries.iter().map(|(id, _)| *id).collect();
        events::record(
            conn,
            NewEvent {
                board_id: Some(board_id),
                actor: "system",
                kind: "outbox.enqueued",
                subject,
                detail: json!({ "count": ids.len(), "kinds": kinds, "ids": ids }),
            },
        )
        .await?;
    }
    Ok(ids)
}

/// A row a worker has leased: everything needed to render and send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LeasedMessage {
    pub id: i64,
    pub board_id: i64,
    pub kind: String,
    pub meeting_id: Option<i64>,
    pub member_id: Option<i64>,
    pub to_address: String,
    pub to_name: Option<String>,
    pub context: Value,
    pub subject: Option<String>,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub reply_token: String,
    /// This attempt's number (1 for the first).
    pub attempts: i32,
    pub queued_at: DateTime<Utc>,
}

/// The owners of rows being sent whose owner name starts with `prefix` (this host's
/// `<host>:`).
pub async fn sending_owners(pool: &PgPool, prefix: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT lease_owner FROM outbox
         WHERE status = 'sending' AND starts_with(lease_owner, $1)",
    )
    .bind(prefix)
    .fetch_all(pool)
    .await?)
}

/// Ends the leases of `owners` now (their processes are gone), so
/// [`recover_expired_leases`] takes their rows at once instead of when the leases run
/// out. Returns how many rows.
pub async fn end_leases_of(pool: &PgPool, owners: &[String], now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE outbox SET next_attempt_at = $2, lease_expires_at = $2
         WHERE status = 'sending' AND lease_owner = ANY($1) AND next_attempt_at > $2",
    )
    .bind(owners)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected())
}

/// Rows whose worker stopped (its lease ran out while `sending`) become `unknown`: the
/// server may have accepted them. Their open attempt is closed as `unknown`. They are
/// due again at once and will be resent with the same Message-ID. Returns how many.
pub async fn recover_expired_leases(pool: &PgPool, now: DateTime<Utc>) -> Result<u64> {
    let count: i64 = sqlx::query_scalar(
        "WITH stale AS (
             UPDATE outbox
             SET status = 'unknown', status_at = $1, lease_owner = NULL,
                 lease_expires_at = NULL, next_attempt_at = $1,
                 last_error = 'the worker sending it stopped before recording an outcome (lease expired)'
             WHERE status = 'sending' AND next_attempt_at <= $1
             RETURNING id, attempts),
         closed AS (
             UPDATE outbox_attempts a
             SET outcome = 'unknown', finished_at = $1,
                 detail = 'lease expired before an outcome was recorded'
             FROM stale WHERE a.outbox_id = stale.id AND a.attempt = stale.attempts
                 AND a.outcome IS NULL)
         SELECT count(*) FROM stale",
    )
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Rows not yet sent whose event has passed (`expires_at <= now`) become `expired`, with
/// an `outbox.expired` event per board. Returns how many.
pub async fn expire_passed(pool: &PgPool, now: DateTime<Utc>) -> Result<u64> {
    let mut tx = pool.begin().await?;
    let expired: Vec<(i64, i64)> = sqlx::query_as(
        "UPDATE outbox
         SET status = 'expired', status_at = $1, lease_owner = NULL, lease_expires_at = NULL,
             last_error = 'not sent: its event passed at ' || to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
         WHERE status IN ('pending', 'retrying', 'unknown', 'held')
           AND expires_at IS NOT NULL AND expires_at <= $1
         RETURNING board_id, id",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut by_board: HashMap<i64, Vec<i64>> = HashMap::new();
    for (board_id, id) in &expired {
        by_board.entry(*board_id).or_default().push(*id);
    }
    for (board_id, ids) in by_board {
        events::record(
            &mut tx,
            NewEvent {
                board_id: Some(board_id),
                actor: "system",
                kind: "outbox.expired",
                subject: (ids.len() == 1).then(|| ("outbox", ids[0])),
                detail: json!({ "ids": ids }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(expired.len() as u64)
}

/// How many attempts started in the minute before `now`, across every worker: what the
/// rate limit counts.
pub async fn attempts_in_last_minute(pool: &PgPool, now: DateTime<Utc>) -> Result<i64> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox_attempts WHERE started_at > $1 AND started_at <= $2",
    )
    .bind(now - Duration::minutes(1))
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(count)
}

/// Takes up to `limit` due rows for `owner` until `now + lease`, oldest due first, skipping
/// rows another worker has locked; opens an attempt for each. One statement, no
/// transaction left open: the lease, not a lock, keeps other workers away while sending.
pub async fn lease(
    pool: &PgPool,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<LeasedMessage>> {
    let rows: Vec<LeasedMessage> = sqlx::query_as(
        r#"WITH due AS (
               SELECT id FROM outbox
               WHERE status IN ('pending', 'retrying', 'unknown', 'held')
                 AND next_attempt_at <= $1
               ORDER BY next_attempt_at, id
               LIMIT $4
               FOR UPDATE SKIP LOCKED),
           leased AS (
               UPDATE outbox o
               SET status = 'sending', status_at = $1, attempts = o.attempts + 1,
                   lease_owner = $2, lease_expires_at = $3, next_attempt_at = $3
               FROM due WHERE o.id = due.id
               RETURNING o.*),
           opened AS (
               INSERT INTO outbox_attempts (outbox_id, attempt, worker, started_at)
               SELECT id, attempts, $2, $1 FROM leased)
           SELECT id, board_id, kind, meeting_id, member_id, to_address, to_name, context,
                  subject, body_text, body_html, message_id, in_reply_to, "references",
                  reply_token, attempts, queued_at
           FROM leased ORDER BY id"#,
    )
    .bind(now)
    .bind(owner)
    .bind(now + lease)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// How one attempt ended, as the attempts table records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Sent,
    Transient,
    Permanent,
    Unknown,
    RenderFailed,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Sent => "sent",
            AttemptOutcome::Transient => "transient",
            AttemptOutcome::Permanent => "permanent",
            AttemptOutcome::Unknown => "unknown",
            AttemptOutcome::RenderFailed => "render_failed",
        }
    }
}

/// The result of one attempt and what the row becomes.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub id: i64,
    pub attempt: i32,
    pub outcome: AttemptOutcome,
    /// `sent`, `retrying`, `unknown` or `failed`.
    pub status: OutboxStatus,
    /// For `retrying` and `unknown`: when to try again.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// What went wrong, for anything but `sent`.
    pub error: Option<String>,
    /// The server's reply, when there was one.
    pub server_reply: Option<String>,
    /// What was rendered for this attempt when the row had not been rendered before:
    /// kept, so every later attempt sends exactly the same text.
    pub rendered: Option<Rendered>,
}

/// Records attempts' outcomes in one transaction: each attempt row is closed and each
/// outbox row still leased by `owner` moves to its new status. Rows that failed get an
/// `outbox.failed` event, and the secretariat is told when due. Returns the ids whose
/// outbox row was updated (a row whose lease was lost keeps the other worker's state,
/// but its attempt is still recorded).
pub async fn record_results(
    pool: &PgPool,
    owner: &str,
    now: DateTime<Utc>,
    results: &[AttemptResult],
) -> Result<Vec<i64>> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = results.iter().map(|r| r.id).collect();
    let attempts: Vec<i32> = results.iter().map(|r| r.attempt).collect();
    let outcomes: Vec<&str> = results.iter().map(|r| r.outcome.as_str()).collect();
    let statuses: Vec<&str> = results.iter().map(|r| r.status.as_str()).collect();
    let next_at: Vec<Option<DateTime<Utc>>> = results.iter().map(|r| r.next_attempt_at).collect();
    let errors: Vec<Option<&str>> = results.iter().map(|r| r.error.as_deref()).collect();
    let replies: Vec<Option<&str>> = results.iter().map(|r| r.server_reply.as_deref()).collect();
    let rendered = |part: fn(&Rendered) -> &str| -> Vec<Option<&str>> {
        results
            .iter()
            .map(|r| r.rendered.as_ref().map(part))
            .collect()
    };
    let subjects = rendered(|r| &r.subject);
    let texts = rendered(|r| &r.text);
    let htmls = rendered(|r| &r.html);

    let mut tx = pool.begin().await?;
    let updated: Vec<(i64, i64, String)> = sqlx::query_as(
        // The lease guard (still `sending`, still ours) travels in `u` rather than as
        // constants: a constant `status = 'sending'` makes the planner prefer the partial
        // due index and, with fresh statistics missing after a big enqueue, a nested
        // loop over every due row; as a join condition it looks up each row by id.
        "WITH u AS (
             SELECT u.*, $9::TEXT AS owner, 'sending'::TEXT AS leased
             FROM unnest($1::BIGINT[], $2::INT[], $3::TEXT[], $4::TEXT[],
                         $5::TIMESTAMPTZ[], $6::TEXT[], $7::TEXT[], $10::TEXT[],
                         $11::TEXT[], $12::TEXT[])
                 AS u(id, attempt, outcome, status, next_at, error, reply, subject, text, html)),
         closed AS (
             UPDATE outbox_attempts a
             SET outcome = u.outcome, finished_at = $8, detail = u.error, server_reply = u.reply
             FROM u WHERE a.outbox_id = u.id AND a.attempt = u.attempt)
         UPDATE outbox o
         SET status = u.status, status_at = $8,
             next_attempt_at = COALESCE(u.next_at, o.next_attempt_at),
             lease_owner = NULL, lease_expires_at = NULL,
             last_error = u.error, server_reply = u.reply,
             sent_at = CASE WHEN u.status = 'sent' THEN $8 ELSE o.sent_at END,
             subject = COALESCE(o.subject, u.subject),
             body_text = COALESCE(o.body_text, u.text),
             body_html = COALESCE(o.body_html, u.html),
             rendered_at = CASE WHEN o.subject IS NULL AND u.subject IS NOT NULL
                                THEN $8 ELSE o.rendered_at END
         FROM u
         WHERE o.id = u.id AND o.status = u.leased AND o.lease_owner = u.owner
           AND o.attempts = u.attempt
         RETURNING o.id, o.board_id, o.status",
    )
    .bind(&ids)
    .bind(&attempts)
    .bind(&outcomes)
    .bind(&statuses)
    .bind(&next_at)
    .bind(&errors)
    .bind(&replies)
    .bind(now)
    .bind(owner)
    .bind(&subjects)
    .bind(&texts)
    .bind(&htmls)
    .fetch_all(&mut *tx)
    .await?;

    let mut failed_boards: Vec<i64> = Vec::new();
    for (id, board_id, status) in &updated {
        if status == "failed" {
            let error = results
                .iter()
                .find(|r| r.id == *id)
                .and_then(|r| r.error.clone());
            events::record(
                &mut tx,
                NewEvent {
                    board_id: Some(*board_id),
                    actor: "system",
                    kind: "outbox.failed",
                    subject: Some(("outbox", *id)),
                    detail: json!({ "error": error }),
                },
            )
            .await?;
            if !failed_boards.contains(board_id) {
                failed_boards.push(*board_id);
            }
        }
    }
    for board_id in failed_boards {
        notify_secretariat_if_due(&mut tx, board_id, now).await?;
    }
    tx.commit().await?;
    Ok(updated.into_iter().map(|(id, _, _)| id).collect())
}

/// Gives up the leases `owner` holds on `ids` without an outcome (the worker is stopping
/// before it sent them): they become due again at once, their open attempts are deleted
/// as never made.
pub async fn release(pool: &PgPool, owner: &str, now: DateTime<Utc>, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let released: Vec<(i64, i32)> = sqlx::query_as(
        "UPDATE outbox
         SET status = CASE WHEN attempts = 1 THEN 'pending' ELSE 'retrying' END,
             status_at = $2, attempts = attempts - 1, lease_owner = NULL,
             lease_expires_at = NULL, next_attempt_at = $2
         WHERE id = ANY($1) AND status = 'sending' AND lease_owner = $3
         RETURNING id, attempts + 1",
    )
    .bind(ids)
    .bind(now)
    .bind(owner)
    .fetch_all(&mut *tx)
    .await?;
    let (rids, rattempts): (Vec<i64>, Vec<i32>) = released.into_iter().unzip();
    sqlx::query(
        "DELETE FROM outbox_attempts a USING unnest($1::BIGINT[], $2::INT[]) AS u(id, attempt)
         WHERE a.outbox_id = u.id AND a.attempt = u.attempt AND a.outcome IS NULL",
    )
    .bind(&rids)
    .bind(&rattempts)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Listing and retrying

/// One row of `minuted outbox list`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxListRow {
    pub id: i64,
    pub kind: String,
    pub to: String,
    pub subject: Option<String>,
    pub meeting: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub message_id: String,
    pub last_error: Option<String>,
    pub server_reply: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn list(
    pool: &PgPool,
    status: Option<OutboxStatus>,
    limit: Option<i64>,
) -> Result<Vec<OutboxListRow>> {
    let rows = sqlx::query_as(
        r#"SELECT o.id, o.kind, o.to_address AS "to", o.subject, m.ref AS meeting, o.status,
                  o.attempts, o.message_id, o.last_error, o.server_reply, o.created_at,
                  CASE WHEN o.status IN ('pending', 'retrying', 'unknown', 'held')
                       THEN o.next_attempt_at END AS next_attempt_at,
                  o.sent_at
           FROM outbox o LEFT JOIN meetings m ON m.id = o.meeting_id
           WHERE $1::TEXT IS NULL OR o.status = $1
           ORDER BY o.id
           LIMIT $2"#,
    )
    .bind(status.map(OutboxStatus::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// How many rows wait for a later attempt (`retrying`, `unknown`, `held`, `pending`),
/// by status.
pub async fn waiting_by_status(pool: &PgPool) -> Result<std::collections::BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM outbox
         WHERE status IN ('pending', 'retrying', 'unknown', 'held', 'sending')
         GROUP BY status",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// One attempt, for `outbox list --json` consumers and tests.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttemptRow {
    pub outbox_id: i64,
    pub attempt: i32,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub detail: Option<String>,
    pub server_reply: Option<String>,
}

pub async fn attempts(pool: &PgPool, outbox_id: i64) -> Result<Vec<AttemptRow>> {
    let rows = sqlx::query_as(
        "SELECT outbox_id, attempt, worker, started_at, finished_at, outcome, detail, server_reply
         FROM outbox_attempts WHERE outbox_id = $1 ORDER BY attempt",
    )
    .bind(outbox_id)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// Makes rows due again now, with a fresh retry window: `failed`, `bounced`, `expired`,
/// `unknown`, `retrying` and `held` rows may be retried; `sent` and `sending` may not.
/// Records `outbox.retried` for each. Returns the ids retried.
pub async fn retry(
    pool: &PgPool,
    ids: Option<&[i64]>,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<Vec<i64>> {
    let mut tx = pool.begin().await?;
    if let Some(ids) = ids {
        let found: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, status FROM outbox WHERE id = ANY($1) FOR UPDATE")
                .bind(ids)
                .fetch_all(&mut *tx)
                .await?;
        for id in ids {
            match found.iter().find(|(f, _)| f == id) {
                None => {
                    return Err(Error::NotFound(format!(
                        "outgoing email {id} (`minuted outbox list` shows their ids)"
                    )))
                }
                Some((_, status)) if status == "sent" || status == "sending" => {
                    let state = if status == "sent" {
                        "is sent"
                    } else {
                        "is being sent"
                    };
                    return Err(Error::Conflict(format!(
                        "email {id} {state}; only an email not sent can be retried"
                    )));
                }
                Some(_) => {}
            }
        }
    }
    let retried: Vec<(i64, i64, String)> = sqlx::query_as(
        "UPDATE outbox o
         SET status = 'pending', status_at = $2, next_attempt_at = $2, queued_at = $2,
             hold_until = NULL, expires_at = CASE WHEN o.status = 'expired' THEN NULL ELSE o.expires_at END,
             notified_at = NULL
         FROM (SELECT id, status AS before FROM outbox
               WHERE ($1::BIGINT[] IS NULL AND status = 'failed')
                  OR ($1::BIGINT[] IS NOT NULL AND id = ANY($1)
                      AND status NOT IN ('sent', 'sending'))) AS b
         WHERE o.id = b.id
         RETURNING o.id, o.board_id, b.before",
    )
    .bind(ids)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    for (id, board_id, before) in &retried {
        events::record(
            &mut tx,
            NewEvent {
                board_id: Some(*board_id),
                actor,
                kind: "outbox.retried",
                subject: Some(("outbox", *id)),
                detail: json!({ "was": before }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(retried.into_iter().map(|(id, _, _)| id).collect())
}

/// When the board has failed or bounced rows the secretariat has not heard of and no
/// notice went out in the last [`outbound::NOTICE_INTERVAL_SECONDS`], queues one
/// `bounce_notice` listing them all to each secretariat member (or the board's own
/// address when the registry names none) and marks them notified. The per-board marker
/// row is locked meanwhile, so two workers never both send one. Returns the ids of the
/// notices queued.
pub async fn notify_secretariat_if_due(
    conn: &mut PgConnection,
    board_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxId>> {
    sqlx::query(
        "INSERT INTO outbox_notice_markers (board_id) VALUES ($1) ON CONFLICT (board_id) DO NOTHING",
    )
    .bind(board_id)
    .execute(&mut *conn)
    .await?;
    let last: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT last_notice_at FROM outbox_notice_markers WHERE board_id = $1 FOR UPDATE",
    )
    .bind(board_id)
    .fetch_one(&mut *conn)
    .await?;
    if !outbound::notice_due(last, now) {
        return Ok(Vec::new());
    }

    #[derive(sqlx::FromRow)]
    struct Failure {
        id: i64,
        kind: String,
        to_address: String,
        subject: Option<String>,
        status: String,
        last_error: Option<String>,
        meeting_ref: Option<String>,
        status_at: DateTime<Utc>,
    }
    let failures: Vec<Failure> = sqlx::query_as(
        "SELECT o.id, o.kind, o.to_address, o.subject, o.status, o.last_error,
                m.ref AS meeting_ref, o.status_at
         FROM outbox o LEFT JOIN meetings m ON m.id = o.meeting_id
         WHERE o.board_id = $1 AND o.status IN ('failed', 'bounced') AND o.notified_at IS NULL
           AND o.kind <> 'bounce_notice'
         ORDER BY o.id
         FOR UPDATE OF o",
    )
    .bind(board_id)
    .fetch_all(&mut *conn)
    .await?;
    if failures.is_empty() {
        return Ok(Vec::new());
    }

    let secretariat = secretariat(conn, board_id).await?;
    let recipients: Vec<Recipient> = if secretariat.is_empty() {
        let address: String = sqlx::query_scalar("SELECT address FROM boards WHERE id = $1")
            .bind(board_id)
            .fetch_one(&mut *conn)
            .await?;
        let address = EmailAddress::parse(&address)
            .map_err(|e| Error::Invalid(format!("the board's address {address}: {e}")))?;
        vec![Recipient {
            address,
            name: None,
            member_id: None,
        }]
    } else {
        secretariat.iter().filter_map(|m| m.recipient()).collect()
    };

    let zone = super::registry::board_zone(conn, board_id).await?;
    let context = mail::BounceNotice {
        count: failures.len(),
        failures: failures
            .iter()
            .map(|f| mail::Failure {
                id: f.id,
                kind: f.kind.clone(),
                to: f.to_address.clone(),
                subject: f
                    .subject
                    .clone()
                    .unwrap_or_else(|| "(not rendered)".to_owned()),
                status: f.status.clone(),
                reason: f.last_error.clone().unwrap_or_default(),
                meeting_ref: f.meeting_ref.clone(),
                when_text: zone.long_datetime(f.status_at),
            })
            .collect(),
    };
    let notices: Vec<NewOutboxMessage> = recipients
        .into_iter()
        .map(|to| NewOutboxMessage::mail(board_id, to, &context))
        .collect();
    let ids = enqueue_many(conn, &notices, now).await?;

    let failure_ids: Vec<i64> = failures.iter().map(|f| f.id).collect();
    sqlx::query("UPDATE outbox SET notified_at = $2 WHERE id = ANY($1)")
        .bind(&failure_ids)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE outbox_notice_markers SET last_notice_at = $2 WHERE board_id = $1")
        .bind(board_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    events::record(
        conn,
        NewEvent {
            board_id: Some(board_id),
            actor: "system",
            kind: "outbox.secretariat_notified",
            subject: None,
            detail: json!({ "failures": failure_ids, "notices": ids }),
        },
    )
    .await?;
    Ok(ids)
}

/// Boards with failures the secretariat has not been told of (the worker calls
/// [`notify_secretariat_if_due`] for each, to catch those held back by the hourly limit).
pub async fn boards_with_unnotified_failures(pool: &PgPool) -> Result<Vec<i64>> {
    let ids = sqlx::query_scalar(
        "SELECT DISTINCT board_id FROM outbox
         WHERE status IN ('failed', 'bounced') AND notified_at IS NULL AND kind <> 'bounce_notice'",
    )
    .fetch_all(pool)
    .await?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stored_bare_and_anything_header_breaking_is_refused() {
        assert_eq!(
            clean_message_id("<a.b@c.example>").unwrap(),
            "a.b@c.example"
        );
        assert_eq!(
            clean_message_id(" a.b@c.example ").unwrap(),
            "a.b@c.example"
        );
        for bad in ["", "<>", "a b@c", "a@c\r\nBcc: x@y", "<a<b>@c>", "a,b@c"] {
            assert!(clean_message_id(bad).is_err(), "{bad:?}");
        }
    }
}
