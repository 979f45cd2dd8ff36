//! Minutes revisions: which filed draft_minutes messages are waiting to become a
//! revision, storing a revision (superseding the draft before it and its open approval
//! requests), the approvers and the approval requests sent to them, and reading the
//! latest revision back for `minutes show`.
//!
//! Extraction, parsing and deciding what to send live in `crate::minutes`; this file only
//! reads and writes rows. Times are parameters from the injected clock.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

use super::events::{self, NewEvent};
use super::filings::{self, FiledQueue};
use super::{Error, Result};

/// A filed draft_minutes message no revision has been made from yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingDraft {
    pub message_id: i64,
    pub board_id: i64,
    pub meeting_id: Option<i64>,
    pub subject: Option<String>,
    pub from_address: Option<String>,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
}

/// An attachment of the draft, with its bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SourceAttachment {
    pub attachment_id: i64,
    pub filename: Option<String>,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Takes one waiting draft, locking its filing so a second worker skips it until this
/// transaction ends (by then `minutes_sources` holds it).
pub async fn claim_pending_draft(conn: &mut PgConnection) -> Result<Option<PendingDraft>> {
    filings::claim_filed_message(
        conn,
        FiledQueue::DraftMinutes,
        "f.message_id, f.board_id, f.meeting_id, m.subject, m.from_address, m.body_text,
         m.body_html",
    )
    .await
}

pub async fn attachments(
    conn: &mut PgConnection,
    message_id: i64,
) -> Result<Vec<SourceAttachment>> {
    Ok(sqlx::query_as(
        "SELECT a.id AS attachment_id, ma.filename, ma.content_type, a.content
         FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
         WHERE ma.message_id = $1 ORDER BY ma.position",
    )
    .bind(message_id)
    .fetch_all(conn)
    .await?)
}

pub use super::members::board_members;

/// The board's organisations: (id, short, name).
pub async fn organisations(
    conn: &mut PgConnection,
    board_id: i64,
) -> Result<Vec<(i64, String, String)>> {
    let rows = sqlx::query_as(
        "SELECT id, short, name FROM organisations WHERE board_id = $1 ORDER BY short",
    )
    .bind(board_id)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// One stored revision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Revision {
    pub id: i64,
    pub board_id: i64,
    pub meeting_id: i64,
    pub meeting_ref: String,
    pub meeting_date: NaiveDate,
    pub n: i32,
    pub message_id: i64,
    pub attachment_id: Option<i64>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    /// The document made of the text of minutes sent in a body (a .docx).
    pub document_id: Option<i64>,
    pub format: String,
    pub extracted_text: String,
    pub content_sha256: String,
    pub structure: Value,
    pub status: String,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

const REVISION_COLUMNS: &str = "r.id, r.board_id, r.meeting_id, mt.ref AS meeting_ref,
    mt.date AS meeting_date, r.n, r.message_id, r.attachment_id, r.filename, r.content_type,
    r.document_id, r.format, r.extracted_text, r.content_sha256, r.structure, r.status, r.error,
    r.created_at";

/// The newest revision of a meeting; `readable` leaves out revisions whose file could
/// not be read.
pub async fn latest_revision(
    conn: &mut PgConnection,
    meeting_id: i64,
    readable: bool,
) -> Result<Option<Revision>> {
    let sql = format!(
        "SELECT {REVISION_COLUMNS} FROM minutes_revisions r JOIN meetings mt ON mt.id = r.meeting_id
         WHERE r.meeting_id = $1 AND (NOT $2 OR r.status <> 'error')
         ORDER BY r.n DESC LIMIT 1"
    );
    Ok(sqlx::query_as(&sql)
        .bind(meeting_id)
        .bind(readable)
        .fetch_optional(conn)
        .await?)
}

pub async fn revision(conn: &mut PgConnection, id: i64) -> Result<Revision> {
    let sql = format!(
        "SELECT {REVISION_COLUMNS} FROM minutes_revisions r JOIN meetings mt ON mt.id = r.meeting_id
         WHERE r.id = $1"
    );
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("minutes revision {id}")))
}

/// The newest revision of the meeting with reference `meeting_ref`.
pub async fn latest_by_ref(pool: &PgPool, meeting_ref: &str) -> Result<Revision> {
    let mut conn = pool.acquire().await?;
    let meeting_id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM meetings WHERE upper(ref) = upper($1)")
            .bind(meeting_ref)
            .fetch_optional(&mut *conn)
            .await?;
    let meeting_id = meeting_id.ok_or_else(|| Error::NotFound(format!("meeting {meeting_ref}")))?;
    latest_revision(&mut conn, meeting_id, false)
        .await?
        .ok_or_else(|| Error::NotFound(format!("minutes of {meeting_ref}")))
}

/// A revision to store.
#[derive(Debug, Clone)]
pub struct NewRevision {
    pub board_id: i64,
    pub meeting_id: i64,
    pub message_id: i64,
    pub attachment_id: Option<i64>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    /// See [`Revision::document_id`].
    pub document_id: Option<i64>,
    pub format: String,
    pub extracted_text: String,
    pub content_sha256: String,
    pub structure: Value,
    /// Why the file could not be read; the revision is stored with status `error`.
    pub error: Option<String>,
}

/// Stores a document made by minuted (content-addressed, like received attachments) and
/// returns its id.
pub async fn store_document(conn: &mut PgConnection, content: &[u8]) -> Result<i64> {
    use sha2::{Digest, Sha256};
    let sha = Sha256::digest(content).to_vec();
    let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
    let id = sqlx::query_scalar(
        "WITH inserted AS (
             INSERT INTO attachments (sha256, size, content) VALUES ($1, $2, $3)
             ON CONFLICT (sha256) DO NOTHING RETURNING id)
         SELECT id FROM inserted UNION ALL SELECT id FROM attachments WHERE sha256 = $1
         LIMIT 1",
    )
    .bind(&sha)
    .bind(size)
    .bind(content)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Stores a revision as the meeting's next, and records the message as looked at. A
/// readable revision supersedes the draft before it and the approval requests still open
/// for it, and moves the meeting to `minutes_draft`. Events record each change.
pub async fn insert_revision(
    conn: &mut PgConnection,
    new: &NewRevision,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Revision> {
    // Serialises revision numbers per meeting.
    sqlx::query("SELECT id FROM meetings WHERE id = $1 FOR UPDATE")
        .bind(new.meeting_id)
        .execute(&mut *conn)
        .await?;
    let status = if new.error.is_some() {
        "error"
    } else {
        "draft"
    };
    let mut superseded: Vec<i64> = Vec::new();
    let mut requests: Vec<i64> = Vec::new();
    if new.error.is_none() {
        superseded = sqlx::query_scalar(
            "UPDATE minutes_revisions SET status = 'superseded', decided_at = $2
             WHERE meeting_id = $1 AND status = 'draft' RETURNING id",
        )
        .bind(new.meeting_id)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
        requests = sqlx::query_scalar(
            "UPDATE approval_requests SET status = 'superseded'
             WHERE revision_id = ANY($1) AND status = 'open' RETURNING id",
        )
        .bind(&superseded)
        .fetch_all(&mut *conn)
        .await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO minutes_revisions
            (board_id, meeting_id, n, message_id, attachment_id, filename, content_type,
             format, extracted_text, content_sha256, structure, status, error, created_at,
             document_id)
         VALUES ($1, $2,
            (SELECT coalesce(max(n), 0) + 1 FROM minutes_revisions WHERE meeting_id = $2),
            $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         RETURNING id",
    )
    .bind(new.board_id)
    .bind(new.meeting_id)
    .bind(new.message_id)
    .bind(new.attachment_id)
    .bind(&new.filename)
    .bind(&new.content_type)
    .bind(&new.format)
    .bind(&new.extracted_text)
    .bind(&new.content_sha256)
    .bind(&new.structure)
    .bind(status)
    .bind(&new.error)
    .bind(now)
    .bind(new.document_id)
    .fetch_one(&mut *conn)
    .await?;
    filings::record_handled(
        conn,
        FiledQueue::DraftMinutes,
        new.message_id,
        Some(id),
        if new.error.is_some() {
            "error"
        } else {
            "revision"
        },
        new.error.as_deref(),
        now,
    )
    .await?;
    if new.error.is_none() {
        sqlx::query(
            "UPDATE meetings SET status = 'minutes_draft', updated_at = $2
             WHERE id = $1 AND status IN ('scheduled', 'held', 'minutes_draft')",
        )
        .bind(new.meeting_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    let revision = revision(conn, id).await?;
    events::record(
        conn,
        NewEvent {
            board_id: Some(new.board_id),
            actor,
            kind: if new.error.is_some() {
                "minutes.revision_unreadable"
            } else {
                "minutes.revision_stored"
            },
            subject: Some(("minutes_revision", id)),
            detail: json!({
                "meeting": revision.meeting_ref,
                "revision": revision.n,
                "message_id": new.message_id,
                "content_sha256": new.content_sha256,
                "format": new.format,
                "filename": new.filename,
                "error": new.error,
                "superseded_revisions": superseded,
                "superseded_requests": requests,
            }),
        },
    )
    .await?;
    Ok(revision)
}

/// Creates an open approval request for `subject` and returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn insert_request(
    conn: &mut PgConnection,
    board_id: i64,
    subject: RequestSubject,
    approver_member_id: i64,
    approver_address: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let (what, revision_id, meeting_pack_id) = match subject {
        RequestSubject::Revision(id) => ("revision", Some(id), None),
        RequestSubject::MeetingPack(id) => ("meeting_pack", None, Some(id)),
    };
    let id = sqlx::query_scalar(
        "INSERT INTO approval_requests
            (board_id, what, revision_id, meeting_pack_id, approver_member_id,
             approver_address, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, lower($6), $7, $8) RETURNING id",
    )
    .bind(board_id)
    .bind(what)
    .bind(revision_id)
    .bind(meeting_pack_id)
    .bind(approver_member_id)
    .bind(approver_address)
    .bind(now)
    .bind(expires_at)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// What an approval request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestSubject {
    /// A minutes revision (`minutes_revisions.id`).
    Revision(i64),
    /// A meeting pack (`meeting_packs.id`).
    MeetingPack(i64),
}

pub async fn set_request_outbox(
    conn: &mut PgConnection,
    request_id: i64,
    outbox_id: i64,
) -> Result<()> {
    sqlx::query("UPDATE approval_requests SET outbox_id = $2 WHERE id = $1")
        .bind(request_id)
        .bind(outbox_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether filed draft minutes wait to become a revision: lets the minutes worker skip
/// reading (or making) the approval key when there is nothing to do.
pub async fn drafts_waiting(pool: &PgPool) -> Result<bool> {
    let waiting: bool = sqlx::query_scalar(
        "SELECT EXISTS (
            SELECT 1 FROM filings f
            WHERE f.current AND f.disposition = 'filed' AND f.kind = 'draft_minutes'
              AND NOT EXISTS (SELECT 1 FROM minutes_sources s WHERE s.message_id = f.message_id))",
    )
    .fetch_one(pool)
    .await?;
    Ok(waiting)
}

/// Whether a filed approval reply waits to be handled: the approval worker's cheap check
/// before it reads its key.
pub async fn replies_waiting(pool: &PgPool) -> Result<bool> {
    let waiting: bool = sqlx::query_scalar(
        "SELECT EXISTS (
            SELECT 1 FROM filings f
            WHERE f.current AND f.disposition = 'filed' AND f.kind = 'approval_reply'
              AND NOT EXISTS (SELECT 1 FROM approval_replies r WHERE r.message_id = f.message_id))",
    )
    .fetch_one(pool)
    .await?;
    Ok(waiting)
}
