//! What the status page and the daily digest show beyond the views the commands already
//! have: which meetings to show, approvals, outbox problems, bouncing addresses, the last
//! events, and what arrived in a period. Reads only.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::Result;

/// Meetings of `board_id` (or every board): those from `today` to `until`, and the
/// `past` latest before `today`, oldest first.
pub async fn meeting_refs(
    conn: &mut PgConnection,
    board_id: Option<i64>,
    today: NaiveDate,
    until: NaiveDate,
    past: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT ref FROM (
             (SELECT ref, date FROM meetings
              WHERE date BETWEEN $1 AND $2 AND ($3::BIGINT IS NULL OR board_id = $3))
             UNION ALL
             (SELECT ref, date FROM meetings
              WHERE date < $1 AND ($3::BIGINT IS NULL OR board_id = $3)
              ORDER BY date DESC LIMIT $4)
         ) shown ORDER BY date, ref",
    )
    .bind(today)
    .bind(until)
    .bind(board_id)
    .bind(past)
    .fetch_all(conn)
    .await?)
}

/// The next meeting of `board_id` on or after `today`, not cancelled.
pub async fn next_meeting(
    conn: &mut PgConnection,
    board_id: i64,
    today: NaiveDate,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT ref FROM meetings WHERE board_id = $1 AND date >= $2 AND NOT cancelled
         ORDER BY date LIMIT 1",
    )
    .bind(board_id)
    .bind(today)
    .fetch_optional(conn)
    .await?)
}

/// One approval request: what it is for, who approves, where it stands.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApprovalLine {
    pub id: i64,
    /// `revision` (draft minutes) or `meeting_pack`.
    pub what: String,
    pub meeting: Option<String>,
    pub approver: String,
    pub status: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// Open approval requests, then up to `decided` of the latest decided ones.
pub async fn approvals(
    conn: &mut PgConnection,
    board_id: Option<i64>,
    decided: i64,
) -> Result<Vec<ApprovalLine>> {
    Ok(sqlx::query_as(
        "WITH shown AS (
             SELECT r.id, r.what, mt.ref AS meeting,
                    mb.name || ' <' || r.approver_address || '>' AS approver,
                    r.status, r.decision, r.reason, r.created_at, r.used_at AS decided_at,
                    r.expires_at
             FROM approval_requests r
             JOIN members mb ON mb.id = r.approver_member_id
             LEFT JOIN minutes_revisions v ON v.id = r.revision_id
             LEFT JOIN meeting_packs p ON p.id = r.meeting_pack_id
             LEFT JOIN meetings mt ON mt.id = COALESCE(v.meeting_id, p.meeting_id)
             WHERE $1::BIGINT IS NULL OR r.board_id = $1)
         (SELECT * FROM shown WHERE status = 'open' ORDER BY id)
         UNION ALL
         (SELECT * FROM shown WHERE status <> 'open'
          ORDER BY COALESCE(decided_at, created_at) DESC LIMIT $2)",
    )
    .bind(board_id)
    .bind(decided)
    .fetch_all(conn)
    .await?)
}

/// An outgoing message that failed or bounced.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxProblem {
    pub id: i64,
    pub kind: String,
    pub to: String,
    pub subject: Option<String>,
    pub status: String,
    pub last_error: Option<String>,
    pub at: DateTime<Utc>,
}

/// Failed and bounced outgoing messages since `since` (all when None), newest first.
pub async fn outbox_problems(
    conn: &mut PgConnection,
    board_id: Option<i64>,
    since: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<OutboxProblem>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, to_address AS \"to\", subject, status, last_error, status_at AS at
         FROM outbox
         WHERE status IN ('failed', 'bounced')
           AND ($1::BIGINT IS NULL OR board_id = $1)
           AND ($2::TIMESTAMPTZ IS NULL OR status_at >= $2)
         ORDER BY status_at DESC, id DESC LIMIT $3",
    )
    .bind(board_id)
    .bind(since)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// A member's address that bounced.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BouncingAddress {
    pub address: String,
    pub member: String,
    pub organisation: Option<String>,
}

/// "old.address@met.example (Nick John, MPS)", as the page and the digest show it.
impl std::fmt::Display for BouncingAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.organisation {
            Some(org) => write!(f, "{} ({}, {org})", self.address, self.member),
            None => write!(f, "{} ({})", self.address, self.member),
        }
    }
}

pub async fn bouncing_addresses(
    conn: &mut PgConnection,
    board_id: Option<i64>,
) -> Result<Vec<BouncingAddress>> {
    Ok(sqlx::query_as(
        "SELECT a.address, mb.name AS member, o.short AS organisation
         FROM member_addresses a
         JOIN members mb ON mb.id = a.member_id
         LEFT JOIN organisations o ON o.id = mb.organisation_id
         WHERE a.status = 'bouncing' AND ($1::BIGINT IS NULL OR mb.board_id = $1)
         ORDER BY a.address",
    )
    .bind(board_id)
    .fetch_all(conn)
    .await?)
}

/// One audit event.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventLine {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub subject_type: Option<String>,
    pub subject_id: Option<i64>,
}

/// The latest `limit` events, newest first.
pub async fn events(
    conn: &mut PgConnection,
    board_id: Option<i64>,
    limit: i64,
) -> Result<Vec<EventLine>> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, kind, subject_type, subject_id FROM events
         WHERE $1::BIGINT IS NULL OR board_id = $1 OR board_id IS NULL
         ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(board_id)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// One message that arrived, with what it was filed as.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Arrival {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub from: Option<String>,
    pub subject: Option<String>,
    /// `filed`, `triage`, `quarantined`, or `received` while not yet filed.
    pub status: String,
    pub kind: Option<String>,
    pub meeting: Option<String>,
    pub organisation: Option<String>,
}

/// Messages received in `[since, until)` for `board_id`, oldest first.
pub async fn arrivals(
    conn: &mut PgConnection,
    board_id: i64,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Arrival>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.received_at, m.from_address AS \"from\", m.subject, m.status, f.kind,
                mt.ref AS meeting, o.short AS organisation
         FROM messages m
         JOIN filings f ON f.message_id = m.id AND f.current
         LEFT JOIN meetings mt ON mt.id = f.meeting_id
         LEFT JOIN organisations o ON o.id = f.organisation_id
         WHERE f.board_id = $1 AND m.received_at >= $2 AND m.received_at < $3
         ORDER BY m.received_at, m.id",
    )
    .bind(board_id)
    .bind(since)
    .bind(until)
    .fetch_all(conn)
    .await?)
}

/// Takes the digest of `board_id` for `day`, covering from the end of the last digest
/// (or a day before `until`) to `until`; the period's start, or None when the day's
/// digest was already taken (by this daemon or another).
pub async fn take_digest(
    conn: &mut PgConnection,
    board_id: i64,
    day: NaiveDate,
    until: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO digests (board_id, day, since, until)
         SELECT $1, $2,
                COALESCE((SELECT max(until) FROM digests WHERE board_id = $1),
                         $3 - INTERVAL '1 day'),
                $3
         ON CONFLICT (board_id, day) DO NOTHING
         RETURNING since",
    )
    .bind(board_id)
    .bind(day)
    .bind(until)
    .fetch_optional(conn)
    .await?)
}

/// Records which outbox row carried the day's digest.
pub async fn digest_sent(
    conn: &mut PgConnection,
    board_id: i64,
    day: NaiveDate,
    outbox_id: i64,
) -> Result<()> {
    sqlx::query("UPDATE digests SET outbox_id = $3 WHERE board_id = $1 AND day = $2")
        .bind(board_id)
        .bind(day)
        .bind(outbox_id)
        .execute(conn)
        .await?;
    Ok(())
}
