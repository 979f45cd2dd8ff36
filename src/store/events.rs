//! The append-only audit log. Every change anywhere in minuted records one event here, in
//! the same transaction as the change, so the log and the data never disagree.

use serde_json::Value;
use sqlx::PgConnection;

use super::Result;

/// One entry for the audit log. `actor` is `system`, `cli`, `rule` or a person's address.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub board_id: Option<i64>,
    pub actor: &'a str,
    pub kind: &'a str,
    pub subject: Option<(&'a str, i64)>,
    pub detail: Value,
}

pub async fn record(conn: &mut PgConnection, event: NewEvent<'_>) -> Result<i64> {
    let (subject_type, subject_id) = match event.subject {
        Some((t, id)) => (Some(t), Some(id)),
        None => (None, None),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (board_id, actor, kind, subject_type, subject_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(event.board_id)
    .bind(event.actor)
    .bind(event.kind)
    .bind(subject_type)
    .bind(subject_id)
    .bind(event.detail)
    .fetch_one(conn)
    .await?;
    Ok(id)
}
