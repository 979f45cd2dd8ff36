//! The persistent schedule's rows: planning jobs (idempotently, on the unique index),
//! taking the next one due (`FOR UPDATE SKIP LOCKED`, so two daemons never take the same
//! row), recording what it did, and the reads a fired job needs: the items an
//! organisation leads, open actions with their latest update, the updates received with
//! their text and attachments, and meeting packs with their approval.
//!
//! When a job is due and what it sends is decided in `crate::schedule`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::Result;
use crate::domain::zone::Zone;

/// A meeting the planner looks at.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanMeeting {
    pub id: i64,
    pub board_id: i64,
    pub meeting_ref: String,
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub papers_deadline: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    pub zone: Zone,
}

/// Meetings on or after `today`, soonest first.
pub async fn upcoming_meetings(
    conn: &mut PgConnection,
    today: NaiveDate,
) -> Result<Vec<PlanMeeting>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.board_id, m.ref AS meeting_ref, m.date, m.time, m.papers_deadline,
                b.timezone AS zone
         FROM meetings m JOIN boards b ON b.id = m.board_id
         WHERE m.date >= $1 AND NOT m.cancelled ORDER BY m.date, m.id",
    )
    .bind(today)
    .fetch_all(conn)
    .await?)
}

/// The ids of the board's organisations named `shorts`: (id, short).
pub async fn organisation_ids(
    conn: &mut PgConnection,
    board_id: i64,
    shorts: &[String],
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, short FROM organisations WHERE board_id = $1 AND short = ANY($2) ORDER BY id",
    )
    .bind(board_id)
    .bind(shorts)
    .fetch_all(conn)
    .await?)
}

/// A job to plan.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub board_id: i64,
    pub kind: &'a str,
    pub meeting_id: i64,
    pub organisation_id: Option<i64>,
    pub due_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What planning one job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planning {
    /// A new row.
    Added,
    /// A pending row whose times no longer matched its meeting (moved, or its papers
    /// deadline changed) now carries the new ones.
    Retimed,
    /// Already planned as it should be, or past pending.
    Unchanged,
}

/// Plans `job`: a new row unless the same (kind, meeting, organisation) is already
/// planned. A pending row whose expiry differs (its meeting moved) takes the new times;
/// so does one whose due time differs, unless that is because a failed attempt put it
/// back (its outcome holds the error). Rows that fired, were skipped or expired stay.
pub async fn plan_job(
    conn: &mut PgConnection,
    job: &NewJob<'_>,
    now: DateTime<Utc>,
) -> Result<Planning> {
    let inserted: Option<bool> = sqlx::query_scalar(
        "INSERT INTO schedule_jobs (board_id, kind, meeting_id, organisation_id, due_at,
             expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (kind, meeting_id, (COALESCE(organisation_id, 0))) DO UPDATE
         SET due_at = EXCLUDED.due_at, expires_at = EXCLUDED.expires_at
         WHERE schedule_jobs.status = 'pending'
           AND (schedule_jobs.expires_at <> EXCLUDED.expires_at
                OR (schedule_jobs.due_at <> EXCLUDED.due_at
                    AND NOT schedule_jobs.outcome ? 'error'))
         RETURNING (xmax = 0)",
    )
    .bind(job.board_id)
    .bind(job.kind)
    .bind(job.meeting_id)
    .bind(job.organisation_id)
    .bind(job.due_at)
    .bind(job.expires_at)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(match inserted {
        Some(true) => Planning::Added,
        Some(false) => Planning::Retimed,
        None => Planning::Unchanged,
    })
}

/// A job taken to fire, locked until the transaction ends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueJob {
    pub id: i64,
    pub board_id: i64,
    pub kind: String,
    pub meeting_id: i64,
    pub meeting_ref: String,
    pub meeting_date: NaiveDate,
    pub meeting_time: Option<NaiveTime>,
    pub papers_deadline: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    pub zone: Zone,
    pub organisation_id: Option<i64>,
    pub organisation: Option<String>,
    pub due_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The meeting was marked cancelled after the job was planned.
    pub cancelled: bool,
}

/// The pending job due soonest at `now`, skipping any another process holds.
pub async fn claim_due(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Option<DueJob>> {
    Ok(sqlx::query_as(
        "SELECT j.id, j.board_id, j.kind, j.meeting_id, m.ref AS meeting_ref,
                m.date AS meeting_date, m.time AS meeting_time, m.papers_deadline,
                b.timezone AS zone,
                j.organisation_id, o.short AS organisation, j.due_at, j.expires_at,
                m.cancelled
         FROM schedule_jobs j
         JOIN meetings m ON m.id = j.meeting_id
         JOIN boards b ON b.id = j.board_id
         LEFT JOIN organisations o ON o.id = j.organisation_id
         WHERE j.status = 'pending' AND j.due_at <= $1
         ORDER BY j.due_at, j.id
         LIMIT 1
         FOR UPDATE OF j SKIP LOCKED",
    )
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// The content of the meeting's latest compiled pack, when one has been compiled.
pub async fn latest_pack_content(
    conn: &mut PgConnection,
    meeting_id: i64,
) -> Result<Option<Value>> {
    Ok(sqlx::query_scalar(
        "SELECT content FROM meeting_packs WHERE meeting_id = $1 ORDER BY n DESC LIMIT 1",
    )
    .bind(meeting_id)
    .fetch_optional(conn)
    .await?)
}

/// Records a failed attempt at pending job `id` (the error and how many attempts so far,
/// in `outcome`) and makes it due again after a pause growing with the attempts: 1, 4,
/// 9 ... minutes, at most an hour. Its expiry stays. Returns the new due time and the
/// number of attempts.
pub async fn defer_job(
    conn: &mut PgConnection,
    id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, i32)> {
    Ok(sqlx::query_as(
        "WITH j AS (SELECT id, COALESCE((outcome->>'attempts')::INT, 0) + 1 AS attempts
                   FROM schedule_jobs WHERE id = $1)
         UPDATE schedule_jobs s
         SET outcome = jsonb_build_object('error', $2::TEXT, 'attempts', j.attempts),
             due_at = $3 + make_interval(mins => LEAST(60, j.attempts * j.attempts))
         FROM j WHERE s.id = j.id AND s.status = 'pending'
         RETURNING s.due_at, j.attempts",
    )
    .bind(id)
    .bind(error)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Records how a job ended: `fired`, `skipped` or `expired`, with what it did.
pub async fn finish_job(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    outcome: &Value,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE schedule_jobs SET status = $2, outcome = $3, fired_by = $4, done_at = $5
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(status)
    .bind(outcome)
    .bind(worker)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// One job as `schedule list` shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub meeting: String,
    pub organisation: Option<String>,
    pub due_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: String,
    pub outcome: Value,
    pub fired_by: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
}

/// Every job (of meeting `meeting` when given), by due time.
pub async fn list(pool: &PgPool, meeting: Option<&str>, limit: Option<i64>) -> Result<Vec<JobRow>> {
    Ok(sqlx::query_as(
        "SELECT j.id, j.kind, m.ref AS meeting, o.short AS organisation, j.due_at,
                j.expires_at, j.status, j.outcome, j.fired_by, j.done_at
         FROM schedule_jobs j
         JOIN meetings m ON m.id = j.meeting_id
         LEFT JOIN organisations o ON o.id = j.organisation_id
         WHERE $1::TEXT IS NULL OR upper(m.ref) = upper($1)
         ORDER BY j.due_at, j.id
         LIMIT $2",
    )
    .bind(meeting)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// An agenda item as the emails show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LedItem {
    pub number: String,
    pub title: String,
    pub lead: Option<String>,
}

/// The active items of meeting `meeting_id` that organisation `organisation_id` leads.
pub async fn items_led(
    conn: &mut PgConnection,
    meeting_id: i64,
    organisation_id: i64,
) -> Result<Vec<LedItem>> {
    Ok(sqlx::query_as(
        "SELECT i.number, i.title, o.short AS lead FROM agenda_items i
         JOIN organisations o ON o.id = i.lead_organisation_id
         WHERE i.meeting_id = $1 AND i.lead_organisation_id = $2 AND i.active
         ORDER BY i.position",
    )
    .bind(meeting_id)
    .bind(organisation_id)
    .fetch_all(conn)
    .await?)
}

/// The date of the board's last meeting before `date`.
pub async fn previous_meeting_date(
    conn: &mut PgConnection,
    board_id: i64,
    date: NaiveDate,
) -> Result<Option<NaiveDate>> {
    Ok(
        sqlx::query_scalar("SELECT max(date) FROM meetings WHERE board_id = $1 AND date < $2")
            .bind(board_id)
            .bind(date)
            .fetch_one(conn)
            .await?,
    )
}

/// A received message as the pack shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReceivedText {
    pub id: i64,
    pub subject: Option<String>,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
}

/// Subject and text of messages `ids`.
pub async fn received_texts(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<ReceivedText>> {
    Ok(sqlx::query_as(
        "SELECT id, subject, body_text, body_html FROM messages WHERE id = ANY($1)
             ORDER BY id",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

/// A file attached to a received message.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReceivedAttachment {
    pub message_id: i64,
    pub attachment_id: i64,
    pub filename: Option<String>,
    pub content_type: String,
    pub size: i64,
}

/// The attachments of messages `ids`, in message and position order.
pub async fn received_attachments(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<Vec<ReceivedAttachment>> {
    Ok(sqlx::query_as(
        "SELECT ma.message_id, ma.attachment_id, ma.filename, ma.content_type, a.size
         FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
         WHERE ma.message_id = ANY($1) ORDER BY ma.message_id, ma.position",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

/// Stores a compiled pack as the meeting's next version; returns (id, n).
pub async fn insert_pack(
    conn: &mut PgConnection,
    board_id: i64,
    meeting_id: i64,
    content: &Value,
    content_sha256: &str,
    now: DateTime<Utc>,
) -> Result<(i64, i32)> {
    Ok(sqlx::query_as(
        "INSERT INTO meeting_packs (board_id, meeting_id, n, content, content_sha256, created_at)
         VALUES ($1, $2,
                 (SELECT COALESCE(max(n), 0) + 1 FROM meeting_packs WHERE meeting_id = $2),
                 $3, $4, $5)
         RETURNING id, n",
    )
    .bind(board_id)
    .bind(meeting_id)
    .bind(content)
    .bind(content_sha256)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// A meeting pack as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pack {
    pub id: i64,
    pub board_id: i64,
    pub meeting_id: i64,
    pub meeting_ref: String,
    pub meeting_date: NaiveDate,
    pub meeting_time: Option<NaiveTime>,
    #[sqlx(try_from = "String")]
    pub zone: Zone,
    pub n: i32,
    pub content: Value,
    pub content_sha256: String,
    pub status: String,
}

pub async fn pack(conn: &mut PgConnection, id: i64) -> Result<Pack> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.board_id, p.meeting_id, m.ref AS meeting_ref, m.date AS meeting_date,
                m.time AS meeting_time, b.timezone AS zone,
                p.n, p.content, p.content_sha256, p.status
         FROM meeting_packs p JOIN meetings m ON m.id = p.meeting_id
         JOIN boards b ON b.id = p.board_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// Moves a draft pack to `status` (approved or rejected); on approval the other
/// approvers' requests for it are answered. False when it was no longer a draft.
pub async fn decide_pack(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE meeting_packs SET status = $2, decided_at = $3 WHERE id = $1 AND status = 'draft'",
    )
    .bind(id)
    .bind(status)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed > 0 && status == "approved" {
        super::approvals::supersede_open_requests(conn, None, Some(id)).await?;
    }
    Ok(changed > 0)
}
