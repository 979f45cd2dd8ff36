//! The members of a board as the stages and the emails need them: the one read model,
//! [`Member`], read by one query, for a board's members (all, or the active ones) or for
//! members by id.

use std::collections::HashMap;

use sqlx::{PgConnection, Postgres};

use crate::domain::board::{Member, MemberRole};

use super::Result;

/// A member's row; `domain` knows nothing of sqlx, so the row is converted once here.
#[derive(sqlx::FromRow)]
struct MemberRow {
    id: i64,
    name: String,
    initials: Option<String>,
    organisation_id: Option<i64>,
    organisation: Option<String>,
    organisation_name: Option<String>,
    roles: Vec<String>,
    circulation: bool,
    active: bool,
    address: Option<String>,
    addresses: Vec<String>,
}

impl From<MemberRow> for Member {
    fn from(row: MemberRow) -> Member {
        Member {
            id: row.id,
            name: row.name,
            initials: row.initials,
            organisation_id: row.organisation_id,
            organisation: row.organisation,
            organisation_name: row.organisation_name,
            roles: row
                .roles
                .iter()
                .filter_map(|r| MemberRole::parse(r))
                .collect(),
            circulation: row.circulation,
            active: row.active,
            address: row.address,
            addresses: row.addresses,
        }
    }
}

/// What [`Member`] is read from; the caller adds the condition and the order.
const MEMBERS: &str = "SELECT m.id, m.name, m.initials, m.organisation_id, o.short AS organisation,
        o.name AS organisation_name, m.roles, m.circulation, m.active,
        (SELECT a.address FROM member_addresses a
          WHERE a.member_id = m.id AND a.is_primary LIMIT 1) AS address,
        COALESCE((SELECT array_agg(a.address ORDER BY a.is_primary DESC, a.address)
                    FROM member_addresses a WHERE a.member_id = m.id), '{}') AS addresses
 FROM members m
 LEFT JOIN organisations o ON o.id = m.organisation_id";

/// The members matching `condition`, whose one parameter is `arg`.
async fn read<A>(conn: &mut PgConnection, condition: &str, arg: A) -> Result<Vec<Member>>
where
    A: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send,
{
    let sql = format!("{MEMBERS} {condition}");
    let rows: Vec<MemberRow> = sqlx::query_as(&sql).bind(arg).fetch_all(conn).await?;
    Ok(rows.into_iter().map(Member::from).collect())
}

/// The board's active members, by name.
pub async fn board_members(conn: &mut PgConnection, board_id: i64) -> Result<Vec<Member>> {
    read(
        conn,
        "WHERE m.board_id = $1 AND m.active ORDER BY m.name, m.id",
        board_id,
    )
    .await
}

/// Every member of the board, active or not, in the order they were added.
pub async fn all_members(conn: &mut PgConnection, board_id: i64) -> Result<Vec<Member>> {
    read(conn, "WHERE m.board_id = $1 ORDER BY m.id", board_id).await
}

/// The members with these ids, active or not, by id.
pub async fn by_ids(conn: &mut PgConnection, ids: &[i64]) -> Result<HashMap<i64, Member>> {
    let members = read(conn, "WHERE m.id = ANY($1)", ids).await?;
    Ok(members.into_iter().map(|m| (m.id, m)).collect())
}
