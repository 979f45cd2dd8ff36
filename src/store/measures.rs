//! The figures `/metrics` shows, read in one pass: counts by kind and status, the last
//! read of each folder, token expiry. Reads only.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::Result;

/// Counts by label, as the database holds them now.
#[derive(Debug, Default)]
pub struct Figures {
    pub messages_stored: i64,
    pub filed_by_kind: Vec<(String, i64)>,
    pub triage_depth: i64,
    pub folder_contacts: Vec<(String, DateTime<Utc>)>,
    pub outbox_by_status: Vec<(String, i64)>,
    /// Now minus the oldest due row's due time; 0 when nothing is due.
    pub oldest_due_age_seconds: i64,
    pub sends_by_outcome: Vec<(String, i64)>,
    pub bouncing_addresses: i64,
    pub jobs_by_status: Vec<(String, i64)>,
    pub approval_replies_by_result: Vec<(String, i64)>,
    pub token_expiry: Vec<(String, DateTime<Utc>)>,
    pub alarms_open: i64,
}

pub async fn figures(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Figures> {
    let grouped = |sql: &'static str| sqlx::query_as::<_, (String, i64)>(sql);
    let (messages_stored, triage_depth, bouncing_addresses, alarms_open, oldest_due_age_seconds): (
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM messages),
                (SELECT count(*) FROM messages WHERE status = 'triage'),
                (SELECT count(*) FROM member_addresses WHERE status = 'bouncing'),
                (SELECT count(*) FROM alarms WHERE resolved_at IS NULL),
                COALESCE((SELECT EXTRACT(EPOCH FROM $1 - min(next_attempt_at))::BIGINT
                          FROM outbox WHERE status IN ('pending', 'retrying', 'unknown')
                                        AND next_attempt_at <= $1), 0)",
    )
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Figures {
        messages_stored,
        filed_by_kind: grouped(
            "SELECT f.kind, count(*) FROM filings f JOIN messages m ON m.id = f.message_id
             WHERE f.current AND m.status = 'filed' GROUP BY f.kind",
        )
            .fetch_all(&mut *conn)
            .await?,
        triage_depth,
        folder_contacts: sqlx::query_as(
            "SELECT folder, max(last_ok_at) FROM mailbox_folder_contacts GROUP BY folder",
        )
        .fetch_all(&mut *conn)
        .await?,
        outbox_by_status: grouped("SELECT status, count(*) FROM outbox GROUP BY status")
            .fetch_all(&mut *conn)
            .await?,
        oldest_due_age_seconds,
        sends_by_outcome: grouped(
            "SELECT outcome, count(*) FROM outbox_attempts WHERE outcome IS NOT NULL GROUP BY outcome",
        )
        .fetch_all(&mut *conn)
        .await?,
        bouncing_addresses,
        jobs_by_status: grouped("SELECT status, count(*) FROM schedule_jobs GROUP BY status")
            .fetch_all(&mut *conn)
            .await?,
        approval_replies_by_result: grouped(
            "SELECT outcome, count(*) FROM approval_replies GROUP BY outcome",
        )
        .fetch_all(&mut *conn)
        .await?,
        token_expiry: sqlx::query_as(
            "SELECT account, expires_at FROM oauth_tokens WHERE expires_at IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?,
        alarms_open,
    })
}
