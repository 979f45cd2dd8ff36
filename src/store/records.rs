//! Retention and legal holds: what could expire, what holds cover, and removing it as a
//! tombstone. SQL only; which rule applies is `records::retention`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::Result;

/// A message that is not yet removed: what its retention depends on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageAge {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub status: String,
    /// Its current filing's kind, when filed.
    pub kind: Option<String>,
    /// It brought a minutes revision that was approved.
    pub approved_minutes: bool,
    /// A legal hold covers it (its meeting, or its sender or a recipient).
    pub held: bool,
}

/// Every message received before `before` that is not removed yet.
pub async fn message_ages(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
) -> Result<Vec<MessageAge>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.received_at, m.status, f.kind,
                EXISTS (SELECT 1 FROM minutes_revisions v
                        WHERE v.message_id = m.id AND v.status = 'approved') AS approved_minutes,
                (f.meeting_id IN (SELECT meeting_id FROM held_meetings)
                 OR lower(m.from_address) IN (SELECT person FROM held_people)
                 OR EXISTS (SELECT 1 FROM held_people p
                            WHERE p.person = ANY(m.to_addresses) OR p.person = ANY(m.cc_addresses)))
                    IS TRUE AS held
         FROM messages m
         LEFT JOIN filings f ON f.message_id = m.id AND f.current
         WHERE m.removed_at IS NULL AND m.received_at < $1
         ORDER BY m.id",
    )
    .bind(before)
    .fetch_all(conn)
    .await?)
}

/// Outgoing mail that is done with, made before `before`, not removed, and not held:
/// (id, held).
pub async fn outbox_due(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
) -> Result<Vec<(i64, bool)>> {
    Ok(sqlx::query_as(
        "SELECT o.id,
                (o.meeting_id IN (SELECT meeting_id FROM held_meetings)
                 OR o.to_address IN (SELECT person FROM held_people)) IS TRUE AS held
         FROM outbox o
         WHERE o.removed_at IS NULL AND o.created_at < $1
           AND o.status IN ('sent', 'failed', 'bounced', 'expired')
         ORDER BY o.id",
    )
    .bind(before)
    .fetch_all(conn)
    .await?)
}

/// Minutes revisions made before `before`, not removed: (id, made, approved, held).
pub async fn revisions_due(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
) -> Result<Vec<(i64, DateTime<Utc>, bool, bool)>> {
    Ok(sqlx::query_as(
        "SELECT v.id, v.created_at, v.status = 'approved',
                (v.meeting_id IN (SELECT meeting_id FROM held_meetings)) IS TRUE
         FROM minutes_revisions v
         WHERE v.removed_at IS NULL AND v.created_at < $1
         ORDER BY v.id",
    )
    .bind(before)
    .fetch_all(conn)
    .await?)
}

/// What retention and erasure empty to tombstones, row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Received messages: the raw bytes, bodies, headers and addresses go; the id, hash,
    /// size, dates, status and filing stay.
    Messages,
    /// Outgoing mail: its subject, bodies and the data it was made from go.
    Outbox,
    /// Minutes revisions: their text and what was read from it go.
    Revisions,
}

impl Class {
    /// As the retention report and its events name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Messages => "messages",
            Class::Outbox => "outbox",
            Class::Revisions => "revisions",
        }
    }

    /// Empties rows `$1` with rule `$2` at `$3`, those not removed already.
    fn removal_sql(self) -> &'static str {
        match self {
            Class::Messages => {
                "UPDATE messages SET raw = ''::BYTEA, body_text = NULL, body_html = NULL,
                        own_text = NULL, subject = NULL, from_name = NULL, from_address = NULL,
                        sender_address = NULL, to_addresses = '{}', cc_addresses = '{}',
                        reply_to = '{}', delivered_to = '{}', headers = '{}'::JSONB, dsn = NULL,
                        removed_at = $3, removed_rule = $2
                 WHERE id = ANY($1) AND removed_at IS NULL"
            }
            Class::Outbox => {
                "UPDATE outbox SET subject = NULL, body_text = NULL, body_html = NULL,
                        context = '{}'::JSONB, to_name = NULL, removed_at = $3, removed_rule = $2
                 WHERE id = ANY($1) AND removed_at IS NULL"
            }
            Class::Revisions => {
                "UPDATE minutes_revisions SET extracted_text = '', structure = '{}'::JSONB,
                        removed_at = $3, removed_rule = $2
                 WHERE id = ANY($1) AND removed_at IS NULL"
            }
        }
    }
}

/// Empties the rows `ids` of `class` to tombstones under `rule`; how many were not
/// removed already.
pub async fn remove(
    conn: &mut PgConnection,
    class: Class,
    ids: &[i64],
    rule: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    Ok(sqlx::query(class.removal_sql())
        .bind(ids)
        .bind(rule)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Audit events before `before`: how many.
pub async fn events_before(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM events WHERE at < $1")
            .bind(before)
            .fetch_one(conn)
            .await?,
    )
}

pub async fn remove_events(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM events WHERE at < $1")
        .bind(before)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Attachments whose bytes no retained message, outgoing message or revision uses.
pub async fn orphaned_attachments(conn: &mut PgConnection) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT a.id FROM attachments a
         WHERE a.removed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM message_attachments ma JOIN messages m ON m.id = ma.message_id
                           WHERE ma.attachment_id = a.id AND m.removed_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM outbox_attachments oa JOIN outbox o ON o.id = oa.outbox_id
                           WHERE oa.attachment_id = a.id AND o.removed_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM minutes_revisions v
                           WHERE v.attachment_id = a.id AND v.removed_at IS NULL)
           AND (EXISTS (SELECT 1 FROM message_attachments ma WHERE ma.attachment_id = a.id)
                OR EXISTS (SELECT 1 FROM outbox_attachments oa WHERE oa.attachment_id = a.id))
         ORDER BY a.id",
    )
    .fetch_all(conn)
    .await?)
}

pub async fn remove_attachments(
    conn: &mut PgConnection,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE attachments SET content = ''::BYTEA, text = NULL, removed_at = $2
         WHERE id = ANY($1) AND removed_at IS NULL",
    )
    .bind(ids)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Takes today's retention run; false when it was taken already.
pub async fn take_run(conn: &mut PgConnection, day: NaiveDate, now: DateTime<Utc>) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO retention_runs (day, ran_at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
    )
    .bind(day)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn record_run(
    conn: &mut PgConnection,
    day: NaiveDate,
    removed: &serde_json::Value,
) -> Result<()> {
    sqlx::query("UPDATE retention_runs SET removed = $2 WHERE day = $1")
        .bind(day)
        .bind(removed)
        .execute(conn)
        .await?;
    Ok(())
}

/// A legal hold as `hold list` shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Hold {
    pub id: i64,
    pub meeting: Option<String>,
    pub person: Option<String>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub released_at: Option<DateTime<Utc>>,
    pub released_by: Option<String>,
}

/// A new hold on a meeting (by id) or a person (address); its id.
pub async fn add_hold(
    conn: &mut PgConnection,
    meeting_id: Option<i64>,
    person: Option<&str>,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO holds (meeting_id, person, reason, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(meeting_id)
    .bind(person)
    .bind(reason)
    .bind(now)
    .bind(by)
    .fetch_one(conn)
    .await?)
}

/// Every hold, those in force first.
pub async fn holds(conn: &mut PgConnection) -> Result<Vec<Hold>> {
    Ok(sqlx::query_as(
        "SELECT h.id, mt.ref AS meeting, h.person, h.reason, h.created_at, h.created_by,
                h.released_at, h.released_by
         FROM holds h LEFT JOIN meetings mt ON mt.id = h.meeting_id
         ORDER BY h.released_at IS NOT NULL, h.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Releases a hold in force; false when there is no such hold in force.
pub async fn release_hold(
    conn: &mut PgConnection,
    id: i64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE holds SET released_at = $3, released_by = $2 WHERE id = $1 AND released_at IS NULL",
    )
    .bind(id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Holds in force on the person with this address.
pub async fn person_held(conn: &mut PgConnection, address: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT reason FROM holds WHERE released_at IS NULL AND person = lower($1) ORDER BY id",
    )
    .bind(address)
    .fetch_all(conn)
    .await?)
}

/// Lets this transaction change and remove audit events (retention and erasure only);
/// the events table refuses it otherwise.
pub async fn allow_record_changes(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT set_config('minuted.records', 'on', true)")
        .execute(conn)
        .await?;
    Ok(())
}
