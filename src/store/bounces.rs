//! Bounces: marking the row a bounce is about and flagging the address on a hard one, and
//! the aggregated notice to the secretariat (at most one an hour per board).

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;

use super::events::{self, NewEvent};
use super::outbox::{clean_message_id, notify_secretariat_if_due, OutboxId};
use super::{Error, Result};

// ---------------------------------------------------------------------------------------
// Bounces and the secretariat's notice

/// Which outbox row a bounce is about.
#[derive(Debug, Clone)]
pub enum BounceTarget {
    /// From the VERP return path (`domain::verp::parse_bounce_address`), its tag checked.
    Row(i64),
    /// From the bounced message's Message-ID (with or without angle brackets).
    MessageId(String),
}

/// Records a bounce against its outbox row: the row becomes `bounced` with `reason`; a
/// hard bounce also flags the recipient's address (`member_addresses.status =
/// 'bouncing'`). Records `outbox.bounced` and tells the secretariat (at most one notice
/// an hour). Call it inside the transaction that files the bounce. Returns the row id.
pub async fn mark_bounced(
    conn: &mut PgConnection,
    target: BounceTarget,
    hard: bool,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<OutboxId> {
    let found: Option<(i64, i64, String, String)> = match &target {
        BounceTarget::Row(id) => {
            sqlx::query_as(
                "SELECT id, board_id, to_address, status FROM outbox WHERE id = $1 FOR UPDATE",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
        }
        BounceTarget::MessageId(message_id) => {
            let bare = clean_message_id(message_id)?;
            sqlx::query_as(
                "SELECT id, board_id, to_address, status FROM outbox WHERE message_id = $1 FOR UPDATE",
            )
            .bind(bare)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    let (id, board_id, address, before) =
        found.ok_or_else(|| Error::NotFound(format!("outbox row for bounce {target:?}")))?;
    sqlx::query(
        "UPDATE outbox SET status = 'bounced', status_at = $2, last_error = $3,
                notified_at = NULL, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    let mut flagged = false;
    if hard {
        let result = sqlx::query(
            "UPDATE member_addresses SET status = 'bouncing'
             WHERE board_id = $1 AND address = $2 AND status <> 'bouncing'",
        )
        .bind(board_id)
        .bind(&address)
        .execute(&mut *conn)
        .await?;
        flagged = result.rows_affected() > 0;
    }
    events::record(
        conn,
        NewEvent {
            board_id: Some(board_id),
            actor: "system",
            kind: "outbox.bounced",
            subject: Some(("outbox", id)),
            detail: json!({
                "hard": hard, "reason": reason, "address": address, "was": before,
                "address_flagged": flagged,
            }),
        },
    )
    .await?;
    notify_secretariat_if_due(conn, board_id, now).await?;
    Ok(id)
}
