//! The members of a board as the stages and the emails need them: one row shape,
//! [`BoardMember`], read by one query, for a board's active members or for members by id.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::Result;

/// A member of the board: who they are, their organisation, roles, whether they receive
/// circulation, and their primary address.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BoardMember {
    pub id: i64,
    pub name: String,
    pub initials: Option<String>,
    pub organisation_id: Option<i64>,
    pub organisation: Option<String>,
    pub organisation_name: Option<String>,
    pub roles: Vec<String>,
    pub circulation: bool,
    /// The primary address, when the member has one.
    pub address: Option<String>,
}

/// What [`BoardMember`] is read from; the caller adds the condition.
const MEMBERS: &str = "SELECT m.id, m.name, m.initials, m.organisation_id, o.short AS organisation,
        o.name AS organisation_name, m.roles, m.circulation, a.address
 FROM members m
 LEFT JOIN organisations o ON o.id = m.organisation_id
 LEFT JOIN member_addresses a ON a.member_id = m.id AND a.is_primary";

/// The board's active members, by name.
pub async fn board_members(conn: &mut PgConnection, board_id: i64) -> Result<Vec<BoardMember>> {
    Ok(sqlx::query_as(&format!(
        "{MEMBERS} WHERE m.board_id = $1 AND m.active ORDER BY m.name, m.id"
    ))
    .bind(board_id)
    .fetch_all(conn)
    .await?)
}

/// The members with these ids, active or not, by id.
pub async fn by_ids(conn: &mut PgConnection, ids: &[i64]) -> Result<HashMap<i64, BoardMember>> {
    let rows: Vec<BoardMember> = sqlx::query_as(&format!("{MEMBERS} WHERE m.id = ANY($1)"))
        .bind(ids)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|m| (m.id, m)).collect())
}
