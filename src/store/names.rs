//! The names a person can type where a command takes a meeting, an organisation or an
//! action: every one that exists, for telling them the nearest when they mistype one.
//!
//! Finding the nearest is `text::names`'s; this module only reads the lists.

use sqlx::PgConnection;

use super::Result;

/// Every meeting's reference, by date.
pub async fn meeting_refs(conn: &mut PgConnection) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT ref FROM meetings ORDER BY date, board_id, ref")
            .fetch_all(conn)
            .await?,
    )
}

/// Every organisation's short name (of `board_id` when given), alphabetically, each once.
pub async fn organisation_shorts(
    conn: &mut PgConnection,
    board_id: Option<i64>,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT short FROM organisations
         WHERE $1::BIGINT IS NULL OR board_id = $1 ORDER BY short",
    )
    .bind(board_id)
    .fetch_all(conn)
    .await?)
}

/// Every action's reference, in reference order.
pub async fn action_refs(conn: &mut PgConnection) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT ref FROM actions ORDER BY board_id, length(ref), ref")
            .fetch_all(conn)
            .await?,
    )
}
