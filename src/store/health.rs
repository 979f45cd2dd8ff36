//! What minuted knows of its mail services (`mail_health`, `mailbox_folder_contacts`) and
//! the alarms raised from it (`alarms`). When an alarm opens or closes is decided in
//! `crate::alerts`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::Result;

/// One service's last contact.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HealthRow {
    pub service: String,
    pub name: String,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub sign_in_refused: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FolderContact {
    pub mailbox: String,
    pub folder: String,
    pub last_ok_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AlarmRow {
    pub id: i64,
    pub service: String,
    pub opened_at: DateTime<Utc>,
    pub reason: String,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// `service` (`mailbox` or `outgoing`, named `name`) worked at `now`; for the mailbox,
/// every one of `folders` was read.
pub async fn contact_ok(
    conn: &mut PgConnection,
    service: &str,
    name: &str,
    folders: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO mail_health (service, name, last_ok_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (service) DO UPDATE SET name = $2, last_ok_at = $3, failing_since = NULL,
             sign_in_refused = false, updated_at = $3",
    )
    .bind(service)
    .bind(name)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if !folders.is_empty() {
        sqlx::query(
            "INSERT INTO mailbox_folder_contacts (mailbox, folder, last_ok_at)
             SELECT $1, f, $3 FROM unnest($2::TEXT[]) AS f
             ON CONFLICT (mailbox, folder) DO UPDATE SET last_ok_at = $3",
        )
        .bind(name)
        .bind(folders)
        .bind(now)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// `service` failed at `now`: it has been failing since the first failure after its last
/// success. `sign_in` when the failure is a refused sign-in.
pub async fn contact_failed(
    conn: &mut PgConnection,
    service: &str,
    name: &str,
    error: &str,
    sign_in: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO mail_health (service, name, failing_since, last_error, last_error_at,
                                  sign_in_refused, updated_at)
         VALUES ($1, $2, $4, $3, $4, $5, $4)
         ON CONFLICT (service) DO UPDATE SET name = $2,
             failing_since = COALESCE(mail_health.failing_since, $4),
             last_error = $3, last_error_at = $4, sign_in_refused = $5, updated_at = $4",
    )
    .bind(service)
    .bind(name)
    .bind(error)
    .bind(now)
    .bind(sign_in)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn services(conn: &mut PgConnection) -> Result<Vec<HealthRow>> {
    Ok(sqlx::query_as(
        "SELECT service, name, last_ok_at, failing_since, last_error, last_error_at,
                sign_in_refused
         FROM mail_health ORDER BY service",
    )
    .fetch_all(conn)
    .await?)
}

pub async fn folder_contacts(conn: &mut PgConnection) -> Result<Vec<FolderContact>> {
    Ok(sqlx::query_as(
        "SELECT mailbox, folder, last_ok_at FROM mailbox_folder_contacts ORDER BY mailbox, folder",
    )
    .fetch_all(conn)
    .await?)
}

pub async fn open_alarms(conn: &mut PgConnection) -> Result<Vec<AlarmRow>> {
    Ok(sqlx::query_as(
        "SELECT id, service, opened_at, reason, resolved_at FROM alarms
         WHERE resolved_at IS NULL ORDER BY service",
    )
    .fetch_all(conn)
    .await?)
}

/// Opens an alarm for `service`; None when one is open already (another process was
/// first).
pub async fn open_alarm(
    conn: &mut PgConnection,
    service: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO alarms (service, opened_at, reason) VALUES ($1, $2, $3)
         ON CONFLICT (service) WHERE resolved_at IS NULL DO NOTHING RETURNING id",
    )
    .bind(service)
    .bind(now)
    .bind(reason)
    .fetch_optional(conn)
    .await?)
}

/// Resolves alarm `id`; false when another process did first.
pub async fn resolve_alarm(conn: &mut PgConnection, id: i64, now: DateTime<Utc>) -> Result<bool> {
    Ok(
        sqlx::query("UPDATE alarms SET resolved_at = $2 WHERE id = $1 AND resolved_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Every board's id, for alerts that concern them all.
pub async fn board_ids(conn: &mut PgConnection) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM boards ORDER BY id")
        .fetch_all(conn)
        .await?)
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct OutboxHealth {
    /// Messages not yet sent, failed or expired (pending, retrying, unknown, held, sending).
    pub backlog: i64,
    /// Of those, due now.
    pub due: i64,
    /// The oldest due message's due time.
    pub oldest_due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct ScheduleHealth {
    /// Jobs past their due time and not yet done.
    pub overdue: i64,
    pub oldest_due_at: Option<DateTime<Utc>>,
    /// How far behind the schedule runs: now minus the oldest overdue job's due time.
    pub lag_seconds: i64,
}

/// The outbox's backlog at `now`, for `health`.
pub async fn outbox(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<OutboxHealth> {
    Ok(sqlx::query_as(
        "SELECT count(*) AS backlog,
                count(*) FILTER (WHERE status IN ('pending', 'retrying', 'unknown')
                                 AND next_attempt_at <= $1) AS due,
                min(next_attempt_at) FILTER (WHERE status IN ('pending', 'retrying', 'unknown')
                                             AND next_attempt_at <= $1) AS oldest_due_at
         FROM outbox WHERE status IN ('pending', 'retrying', 'unknown', 'held', 'sending')",
    )
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Messages waiting in triage for a person.
pub async fn triage_depth(conn: &mut PgConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE status = 'triage'")
            .fetch_one(conn)
            .await?,
    )
}

/// How far behind the schedule runs at `now`.
pub async fn schedule_lag(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<ScheduleHealth> {
    Ok(sqlx::query_as(
        "SELECT count(*) AS overdue, min(due_at) AS oldest_due_at,
                COALESCE(EXTRACT(EPOCH FROM $1 - min(due_at))::BIGINT, 0) AS lag_seconds
         FROM schedule_jobs WHERE status = 'pending' AND due_at <= $1",
    )
    .bind(now)
    .fetch_one(conn)
    .await?)
}
