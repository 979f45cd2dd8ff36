//! Approval replies and their effects: taking a filed approval reply not yet handled,
//! locking the request it answers (`FOR UPDATE`, so two daemons applying replies
//! serialise on it), recording the decision, approving or rejecting the revision, and
//! cancelling held circulation on UNDO. The action register's rows are in
//! `super::actions`.
//!
//! What a reply means and whether it is genuine is decided in `crate::approval::apply`;
//! this file only reads and writes rows. Times are parameters from the injected clock.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use super::filings::{self, FiledQueue};
use super::Result;

/// A filed approval reply waiting to be handled.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyMessage {
    pub message_id: i64,
    pub board_id: i64,
    pub header_message_id: Option<String>,
    pub from_address: Option<String>,
    pub recipients: Vec<String>,
    pub subject: Option<String>,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
    pub raw: Vec<u8>,
}

impl ReplyMessage {
    /// Who sent the reply, for the audit log: its From address, or "unknown".
    pub fn sender(&self) -> String {
        self.from_address
            .clone()
            .unwrap_or_else(|| "unknown".into())
    }
}

/// Takes one filed approval reply with no `approval_replies` row yet, locking its filing
/// so another worker skips it until this transaction ends.
pub async fn claim_reply(conn: &mut PgConnection) -> Result<Option<ReplyMessage>> {
    filings::claim_filed_message(
        conn,
        FiledQueue::ApprovalReplies,
        "f.message_id, f.board_id, m.message_id AS header_message_id, m.from_address,
         m.to_addresses || m.cc_addresses || m.delivered_to AS recipients, m.subject,
         m.body_text, m.body_html, m.raw",
    )
    .await
}

/// An approval request with what it is for (a minutes revision or a meeting pack), as
/// locked for a decision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedRequest {
    pub id: i64,
    pub board_id: i64,
    pub revision_id: Option<i64>,
    pub meeting_pack_id: Option<i64>,
    pub approver_member_id: i64,
    pub approver_address: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub status: String,
    pub outbox_message_id: Option<String>,
    /// The hash of what is approved: the token is bound to it.
    pub content_sha256: String,
    /// The revision's or pack's status (draft, approved, rejected, superseded).
    pub subject_status: String,
}

/// The request `id`, locked until the transaction ends.
pub async fn lock_request(conn: &mut PgConnection, id: i64) -> Result<Option<LockedRequest>> {
    Ok(sqlx::query_as(
        "SELECT ar.id, ar.board_id, ar.revision_id, ar.meeting_pack_id, ar.approver_member_id,
                ar.approver_address, ar.expires_at, ar.used_at, ar.status,
                o.message_id AS outbox_message_id,
                COALESCE(r.content_sha256, p.content_sha256) AS content_sha256,
                COALESCE(r.status, p.status) AS subject_status
         FROM approval_requests ar
         LEFT JOIN minutes_revisions r ON r.id = ar.revision_id
         LEFT JOIN meeting_packs p ON p.id = ar.meeting_pack_id
         LEFT JOIN outbox o ON o.id = ar.outbox_id
         WHERE ar.id = $1
         FOR UPDATE OF ar",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Marks a request decided (used once): `approved` or `rejected`.
pub async fn decide_request(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    reason: Option<&str>,
    evidence: &Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let decision = if status == "approved" {
        "approve"
    } else {
        "reject"
    };
    sqlx::query(
        "UPDATE approval_requests
         SET status = $2, decision = $3, reason = $4, evidence = $5, used_at = $6
         WHERE id = $1 AND used_at IS NULL",
    )
    .bind(id)
    .bind(status)
    .bind(decision)
    .bind(reason)
    .bind(evidence)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a draft revision to `status` (approved or rejected) and its meeting along.
/// False when the revision was no longer a draft: nothing changed.
pub async fn decide_revision(
    conn: &mut PgConnection,
    revision_id: i64,
    status: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let meeting: Option<i64> = sqlx::query_scalar(
        "UPDATE minutes_revisions SET status = $2, decided_at = $3
         WHERE id = $1 AND status = 'draft' RETURNING meeting_id",
    )
    .bind(revision_id)
    .bind(status)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(meeting) = meeting else {
        return Ok(false);
    };
    if status == "approved" {
        sqlx::query(
            "UPDATE meetings SET status = 'minutes_approved', updated_at = $2 WHERE id = $1",
        )
        .bind(meeting)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        supersede_open_requests(conn, Some(revision_id), None).await?;
    }
    Ok(true)
}

/// Answers the other approvers' open requests for a revision or a pack just approved:
/// they are superseded.
pub(super) async fn supersede_open_requests(
    conn: &mut PgConnection,
    revision_id: Option<i64>,
    meeting_pack_id: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "UPDATE approval_requests SET status = 'superseded'
         WHERE status = 'open' AND (revision_id = $1 OR meeting_pack_id = $2)",
    )
    .bind(revision_id)
    .bind(meeting_pack_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reverses an approval within the undo window: the revision is a draft again, the
/// request `undone` (the other approvers' requests open again), its actions dropped and
/// its held mail cancelled. Returns how many
/// held emails were cancelled.
pub async fn undo_approval(
    conn: &mut PgConnection,
    request_id: i64,
    revision_id: i64,
    now: DateTime<Utc>,
) -> Result<u64> {
    let cancelled = sqlx::query(
        "UPDATE outbox SET status = 'expired', last_error = 'cancelled by UNDO',
                status_at = $2, next_attempt_at = $2
         WHERE kind IN ('circulation', 'action_pack') AND status = 'held'
           AND context->>'revision_id' = $1::TEXT",
    )
    .bind(revision_id)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("UPDATE approval_requests SET status = 'undone' WHERE id = $1")
        .bind(request_id)
        .execute(&mut *conn)
        .await?;
    // The other approvers' requests, closed by the approval, may answer again.
    sqlx::query(
        "UPDATE approval_requests SET status = 'open'
         WHERE revision_id = $1 AND status = 'superseded' AND used_at IS NULL",
    )
    .bind(revision_id)
    .execute(&mut *conn)
    .await?;
    let meeting: Option<i64> = sqlx::query_scalar(
        "UPDATE minutes_revisions SET status = 'draft', decided_at = NULL
         WHERE id = $1 AND status = 'approved' RETURNING meeting_id",
    )
    .bind(revision_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(meeting) = meeting {
        sqlx::query("UPDATE meetings SET status = 'minutes_draft', updated_at = $2 WHERE id = $1")
            .bind(meeting)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE actions SET status = 'dropped' WHERE revision_id = $1")
        .bind(revision_id)
        .execute(&mut *conn)
        .await?;
    Ok(cancelled)
}
