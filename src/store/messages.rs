//! Inbound messages: insert with de-duplication, attachments stored once per content
//! hash, mailbox cursors, the poller's advisory lock, and the rows `messages list` and
//! `messages show` print.
//!
//! De-duplication is the database's: `INSERT ... ON CONFLICT DO NOTHING` against both the
//! unique SHA-256 of the raw bytes and the unique Message-ID, so two processes racing on
//! the same message, or a re-read after a crash, store it once whatever the timing.
//!
//! Byte values larger than [`CHUNK_BYTES`] are streamed in pieces with a binary `COPY`
//! into a per-connection temporary table and inserted from there, in the same
//! transaction: a single bind would hold two more copies of a 50 MB message in this
//! process (the encoded arguments and the socket buffer).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

use super::filings::CURRENT_FILING_WITH_NAMES;
use super::{Error, Result};
use crate::domain::message::{Attachment, ParsedMessage};

/// Largest byte value sent as a statement parameter, and the piece size when streaming.
/// Small on purpose: each pooled connection keeps its buffers at the largest message it
/// ever sent, so this bounds what idle connections hold.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// The statuses ingestion writes; filing moves `received` on to its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestStatus {
    /// Stored and parsed, waiting for filing.
    Received,
    /// Kept raw: the MIME could not be parsed (`parse_error` says why).
    Unparseable,
    /// Over `mailbox.max_message_bytes`: only the header block is kept.
    Oversized,
}

impl IngestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IngestStatus::Received => "received",
            IngestStatus::Unparseable => "unparseable",
            IngestStatus::Oversized => "oversized",
        }
    }
}

/// Every status a message can have, for validating `--status`.
pub const STATUSES: [&str; 6] = [
    "received",
    "filed",
    "triage",
    "quarantined",
    "unparseable",
    "oversized",
];

/// A message to store. Borrows its bytes: the caller owns the (possibly large) buffer.
#[derive(Debug)]
pub struct NewMessage<'a> {
    /// `imap://user@host:port/FOLDER` or `maildir:/path`.
    pub source: &'a str,
    /// `UIDVALIDITY:UID` or the Maildir file name.
    pub source_ref: &'a str,
    pub received_at: DateTime<Utc>,
    /// The whole message, or only its header block when `raw_truncated`.
    pub raw: &'a [u8],
    /// Of the bytes as fetched (of the header block when truncated).
    pub raw_sha256: [u8; 32],
    /// The size of the whole message, also when only the header block is kept.
    pub raw_size: u64,
    pub raw_truncated: bool,
    pub status: IngestStatus,
    pub parse_error: Option<&'a str>,
    pub parsed: &'a ParsedMessage,
}

/// What happened to a message handed to [`insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New(i64),
    /// Already stored (same bytes or same Message-ID): the row that has it, when visible.
    Duplicate(Option<i64>),
}

/// Stores one message with its attachments and a `message.received` event, unless the same
/// bytes or the same Message-ID are already stored.
pub async fn insert(conn: &mut PgConnection, message: &NewMessage<'_>) -> Result<Inserted> {
    let p = message.parsed;
    let staged = stage_if_large(conn, message.raw).await?;
    let sql = if staged {
        insert_message_sql!("COALESCE($6, (SELECT data FROM pg_temp.minuted_staged_bytes))")
    } else {
        insert_message_sql!("$6")
    };
    let id: Option<i64> = sqlx::query_scalar(sql)
        .bind(message.source)
        .bind(message.source_ref)
        .bind(message.received_at)
        .bind(&message.raw_sha256[..])
        .bind(i64::try_from(message.raw_size).unwrap_or(i64::MAX))
        .bind((!staged).then_some(message.raw))
        .bind(message.raw_truncated)
        .bind(&p.message_id)
        .bind(&p.in_reply_to)
        .bind(&p.references)
        .bind(&p.from_address)
        .bind(&p.from_name)
        .bind(&p.sender_address)
        .bind(&p.to_addresses)
        .bind(&p.cc_addresses)
        .bind(&p.reply_to)
        .bind(&p.delivered_to)
        .bind(&p.subject)
        .bind(p.sent_at)
        .bind(&p.headers)
        .bind(&p.body_text)
        .bind(&p.body_html)
        .bind(&p.dsn)
        .bind(message.status.as_str())
        .bind(message.parse_error)
        // The audit event, written by the same statement (one round trip, not two).
        .bind(json!({
            "source": message.source,
            "source_ref": message.source_ref,
            "status": message.status.as_str(),
            "message_id": p.message_id,
            "size": message.raw_size,
            "parse_error": message.parse_error,
        }))
        .fetch_optional(&mut *conn)
        .await?;

    let Some(id) = id else {
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM messages WHERE raw_sha256 = $1 OR message_id = $2 ORDER BY id LIMIT 1",
        )
        .bind(&message.raw_sha256[..])
        .bind(&p.message_id)
        .fetch_optional(&mut *conn)
        .await?;
        return Ok(Inserted::Duplicate(existing));
    };

    for (position, attachment) in p.attachments.iter().enumerate() {
        store_attachment(conn, id, position, attachment).await?;
    }
    Ok(Inserted::New(id))
}

/// The message INSERT with `$raw` as the expression for the raw bytes: `$6` itself, or
/// the staged bytes (with `$6` bound to NULL).
macro_rules! insert_message_sql {
    ($raw:literal) => {
        concat!(
            "WITH inserted AS (
                 INSERT INTO messages (source, source_ref, received_at, raw_sha256, raw_size,
                     raw, raw_truncated, message_id, in_reply_to, \"references\",
                     from_address, from_name, sender_address, to_addresses, cc_addresses,
                     reply_to, delivered_to, subject, sent_at, headers, body_text, body_html,
                     dsn, status, parse_error)
                 VALUES ($1, $2, $3, $4, $5, ",
            $raw,
            ", $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                     $22, $23, $24, $25)
                 ON CONFLICT DO NOTHING
                 RETURNING id),
             event AS (
                 INSERT INTO events (actor, kind, subject_type, subject_id, detail)
                 SELECT 'system', 'message.received', 'message', id, $26 FROM inserted)
             SELECT id FROM inserted"
        )
    };
}
use insert_message_sql;

/// Links attachment `$1` position `$2` to the stored content with digest `$3`, storing the
/// content first when it is new: one statement.
macro_rules! insert_attachment_sql {
    ($content:literal) => {
        concat!(
            "WITH existing AS (SELECT id FROM attachments WHERE sha256 = $3),
             inserted AS (
                 INSERT INTO attachments (sha256, size, content)
                 SELECT $3, $4, ",
            $content,
            " WHERE NOT EXISTS (SELECT 1 FROM existing)
                 ON CONFLICT (sha256) DO NOTHING
                 RETURNING id),
             chosen AS (SELECT id FROM existing UNION ALL SELECT id FROM inserted LIMIT 1)
             INSERT INTO message_attachments (message_id, position, attachment_id, filename,
                 content_type)
             SELECT $1, $2, id, $6, $7 FROM chosen
             RETURNING attachment_id"
        )
    };
}

/// Streams `bytes` into the connection's staging table when it is larger than
/// [`CHUNK_BYTES`]; true when it did. Only one value is staged at a time.
async fn stage_if_large(conn: &mut PgConnection, bytes: &[u8]) -> Result<bool> {
    if bytes.len() <= CHUNK_BYTES {
        return Ok(false);
    }
    let length = i32::try_from(bytes.len())
        .map_err(|_| Error::Conflict(format!("a value of {} bytes is too large", bytes.len())))?;
    // Temporary: private to this connection, gone with it. EXTERNAL storage: the bytes are
    // read once more, straight away; compressing them here would be wasted work.
    for statement in [
        "CREATE TEMP TABLE IF NOT EXISTS minuted_staged_bytes (data BYTEA NOT NULL)
             ON COMMIT DELETE ROWS",
        "ALTER TABLE pg_temp.minuted_staged_bytes ALTER COLUMN data SET STORAGE EXTERNAL",
        "DELETE FROM pg_temp.minuted_staged_bytes",
    ] {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    // PostgreSQL's binary COPY format: signature, flags, header extension length; one
    // tuple of one field (its length, then the bytes); the end-of-data marker.
    let mut header = Vec::with_capacity(25);
    header.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    header.extend_from_slice(&0i32.to_be_bytes());
    header.extend_from_slice(&0i32.to_be_bytes());
    header.extend_from_slice(&1i16.to_be_bytes());
    header.extend_from_slice(&length.to_be_bytes());
    let mut copy = conn
        .copy_in_raw("COPY pg_temp.minuted_staged_bytes (data) FROM STDIN WITH (FORMAT binary)")
        .await?;
    copy.send(header).await?;
    for piece in bytes.chunks(CHUNK_BYTES) {
        copy.send(piece).await?;
    }
    copy.send(&(-1i16).to_be_bytes()[..]).await?;
    copy.finish().await?;
    Ok(true)
}

/// Stores one attachment of message `message_id`: its content once per digest, and the
/// link with its name and type.
async fn store_attachment(
    conn: &mut PgConnection,
    message_id: i64,
    position: usize,
    attachment: &Attachment,
) -> Result<()> {
    let position = i32::try_from(position).unwrap_or(i32::MAX);
    let size = i64::try_from(attachment.content.len()).unwrap_or(i64::MAX);
    // A large attachment already stored need not be streamed again.
    let staged = if attachment.content.len() > CHUNK_BYTES {
        let known: Option<i64> = sqlx::query_scalar("SELECT id FROM attachments WHERE sha256 = $1")
            .bind(&attachment.sha256[..])
            .fetch_optional(&mut *conn)
            .await?;
        known.is_none() && stage_if_large(conn, &attachment.content).await?
    } else {
        false
    };
    let sql = if staged {
        insert_attachment_sql!("COALESCE($5, (SELECT data FROM pg_temp.minuted_staged_bytes))")
    } else {
        insert_attachment_sql!("$5")
    };
    let large = attachment.content.len() > CHUNK_BYTES;
    let linked: Option<i64> = sqlx::query_scalar(sql)
        .bind(message_id)
        .bind(position)
        .bind(&attachment.sha256[..])
        .bind(size)
        .bind((!large).then_some(&attachment.content[..]))
        .bind(&attachment.filename)
        .bind(&attachment.content_type)
        .fetch_optional(&mut *conn)
        .await?;
    if linked.is_some() {
        return Ok(());
    }
    // Another transaction stored the same content between our look and our insert: link
    // to its row.
    sqlx::query(
        "INSERT INTO message_attachments (message_id, position, attachment_id, filename,
             content_type)
         SELECT $1, $2, id, $4, $5 FROM attachments WHERE sha256 = $3",
    )
    .bind(message_id)
    .bind(position)
    .bind(&attachment.sha256[..])
    .bind(&attachment.filename)
    .bind(&attachment.content_type)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The last UID stored from `folder` of `mailbox` under `uidvalidity` (0: none yet).
pub async fn cursor(
    conn: &mut PgConnection,
    mailbox: &str,
    folder: &str,
    uidvalidity: u32,
) -> Result<u32> {
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT last_uid FROM mailbox_cursors
         WHERE mailbox = $1 AND folder = $2 AND uidvalidity = $3",
    )
    .bind(mailbox)
    .bind(folder)
    .bind(i64::from(uidvalidity))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(last.and_then(|l| u32::try_from(l).ok()).unwrap_or(0))
}

/// The UIDVALIDITY most recently read from `folder`, to notice that it changed.
pub async fn latest_uidvalidity(
    conn: &mut PgConnection,
    mailbox: &str,
    folder: &str,
) -> Result<Option<u32>> {
    let value: Option<i64> = sqlx::query_scalar(
        "SELECT uidvalidity FROM mailbox_cursors WHERE mailbox = $1 AND folder = $2
         ORDER BY updated_at DESC LIMIT 1",
    )
    .bind(mailbox)
    .bind(folder)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(value.and_then(|v| u32::try_from(v).ok()))
}

/// Moves the cursor forward (never back), in the transaction that stored the messages.
pub async fn advance_cursor(
    conn: &mut PgConnection,
    mailbox: &str,
    folder: &str,
    uidvalidity: u32,
    last_uid: u32,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO mailbox_cursors (mailbox, folder, uidvalidity, last_uid, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (mailbox, folder, uidvalidity) DO UPDATE
         SET last_uid = GREATEST(mailbox_cursors.last_uid, EXCLUDED.last_uid),
             updated_at = EXCLUDED.updated_at",
    )
    .bind(mailbox)
    .bind(folder)
    .bind(i64::from(uidvalidity))
    .bind(i64::from(last_uid))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the session-level advisory lock that makes this process the one poller of a
/// mailbox. Held until released or until `conn` closes (so a process that dies gives it
/// up at once). False when another session holds it.
pub async fn try_lock_mailbox(conn: &mut PgConnection, key: i64) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(conn)
        .await?)
}

/// Answers when the connection (and so the lock it holds) is alive.
pub async fn ping(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT 1").execute(conn).await?;
    Ok(())
}

/// One row of `messages list`. Filing's columns (`kind` to `confidence`) are null until
/// filing exists; see [`LIST_SOURCE`].
#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub kind: Option<String>,
    pub meeting: Option<String>,
    pub item: Option<String>,
    pub action: Option<String>,
    pub organisation: Option<String>,
    pub confidence: Option<f64>,
    pub size: i64,
    pub attachments: i64,
}

/// The rows `messages list` reads, one per message, with its current filing if any.
const LIST_SOURCE: &str = "
    SELECT m.id, m.message_id, m.from_address AS \"from\", m.subject, m.received_at,
           m.status, m.raw_size AS size,
           (SELECT count(*) FROM message_attachments ma WHERE ma.message_id = m.id)
               AS attachments,
           f.kind, mt.ref AS meeting, i.number AS item, f.action_ref AS action,
           o.short AS organisation,
           round(f.confidence::NUMERIC, 2)::DOUBLE PRECISION AS confidence
    FROM messages m
    LEFT JOIN filings f ON f.message_id = m.id AND f.current
    LEFT JOIN meetings mt ON mt.id = f.meeting_id
    LEFT JOIN agenda_items i ON i.id = f.item_id
    LEFT JOIN organisations o ON o.id = f.organisation_id";

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub meeting: Option<String>,
    pub limit: Option<i64>,
}

pub async fn list(pool: &PgPool, filter: &ListFilter) -> Result<Vec<MessageRow>> {
    let sql = format!(
        "SELECT * FROM ({LIST_SOURCE}) v
         WHERE ($1::TEXT IS NULL OR v.status = $1)
           AND ($2::TEXT IS NULL OR v.meeting = $2)
         ORDER BY v.id
         LIMIT $3"
    );
    let rows = sqlx::query_as(&sql)
        .bind(&filter.status)
        .bind(&filter.meeting)
        .bind(filter.limit)
        .fetch_all(pool)
        .await?;
    Ok(rows)
}

/// Everything stored about one message but its raw bytes.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MessageDetail {
    pub id: i64,
    pub source: String,
    pub source_ref: Option<String>,
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub parse_error: Option<String>,
    pub raw_sha256: String,
    pub raw_size: i64,
    pub raw_truncated: bool,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub sender: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub reply_to: Vec<String>,
    pub delivered_to: Vec<String>,
    pub subject: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub headers: Value,
    pub dsn: Option<Value>,
    pub body_text: Option<String>,
    pub has_html: bool,
    #[sqlx(skip)]
    pub attachments: Vec<AttachmentInfo>,
    /// What the message is filed as now; `None` until filing has read it.
    #[sqlx(skip)]
    pub filing: Option<FiledAs>,
}

/// A message's current filing, as a person reads it: names, not ids.
#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct FiledAs {
    pub kind: String,
    /// `filed`, `triage` (waiting for a person) or `quarantined`.
    pub disposition: String,
    pub meeting: Option<String>,
    pub item: Option<String>,
    pub action: Option<String>,
    pub organisation: Option<String>,
    pub member: Option<String>,
    pub confidence: f64,
    /// `rule` when filing decided, else who filed it by hand.
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
    #[sqlx(try_from = "super::JsonStrings")]
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct AttachmentInfo {
    pub position: i32,
    pub filename: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

pub async fn show(pool: &PgPool, id: i64) -> Result<MessageDetail> {
    let mut detail: MessageDetail = sqlx::query_as(
        "SELECT id, source, source_ref, received_at, status, parse_error,
                encode(raw_sha256, 'hex') AS raw_sha256, raw_size, raw_truncated, message_id,
                in_reply_to, \"references\", from_address AS \"from\", from_name,
                sender_address AS sender, to_addresses AS \"to\", cc_addresses AS cc,
                reply_to, delivered_to, subject, sent_at, headers, dsn, body_text,
                body_html IS NOT NULL AS has_html
         FROM messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::NotFound(format!("message {id}")))?;
    detail.attachments = sqlx::query_as(
        "SELECT ma.position, ma.filename, ma.content_type, a.size,
                encode(a.sha256, 'hex') AS sha256
         FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
         WHERE ma.message_id = $1 ORDER BY ma.position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    detail.filing = current_filing(pool, id).await?;
    Ok(detail)
}

/// What message `id` is filed as now; `None` until filing has read it.
pub async fn current_filing(pool: &PgPool, id: i64) -> Result<Option<FiledAs>> {
    Ok(sqlx::query_as(&format!(
        "SELECT f.kind, f.disposition, mt.ref AS meeting, i.number AS item,
                f.action_ref AS action, o.short AS organisation, mb.name AS member,
                round(f.confidence::NUMERIC, 2)::DOUBLE PRECISION AS confidence,
                f.decided_by, f.decided_at, f.reasons
         {CURRENT_FILING_WITH_NAMES}"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// The raw bytes of one message as stored (only the header block for an oversized one).
pub async fn raw(pool: &PgPool, id: i64) -> Result<Vec<u8>> {
    sqlx::query_scalar("SELECT raw FROM messages WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("message {id}")))
}

/// How many messages are stored, by status (for summaries and tests).
pub async fn count_by_status(pool: &PgPool) -> Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as(
            "SELECT status, count(*) AS n FROM messages GROUP BY status ORDER BY status",
        )
        .fetch_all(pool)
        .await?,
    )
}
