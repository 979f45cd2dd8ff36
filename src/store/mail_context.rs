//! What rendering an email needs from the registry: boards, meetings with their items,
//! members, the secretariat, and the files attached to a row.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;
use sqlx::PgConnection;

use super::{Error, Result};
use crate::domain::board::Member;
use crate::domain::zone::Zone;

// ---------------------------------------------------------------------------------------
// What rendering needs from the registry

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BoardRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub address: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeetingRow {
    pub id: i64,
    pub board_id: i64,
    pub meeting_ref: String,
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub title: String,
    pub papers_deadline: Option<NaiveDate>,
    /// The board's time zone, in which `date` and `time` are read.
    pub zone: Zone,
    pub items: Vec<ItemRow>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ItemRow {
    pub number: String,
    pub title: String,
    pub lead: Option<String>,
}

/// An attachment of an outbox row, without its bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxAttachment {
    pub outbox_id: i64,
    pub position: i32,
    pub attachment_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

pub async fn boards(conn: &mut PgConnection, ids: &[i64]) -> Result<HashMap<i64, BoardRow>> {
    let rows: Vec<BoardRow> =
        sqlx::query_as("SELECT id, slug, name, address FROM boards WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|b| (b.id, b)).collect())
}

pub async fn board_by_slug(conn: &mut PgConnection, slug: Option<&str>) -> Result<BoardRow> {
    let rows: Vec<BoardRow> = sqlx::query_as(
        "SELECT id, slug, name, address FROM boards WHERE $1::TEXT IS NULL OR slug = $1 ORDER BY id",
    )
    .bind(slug)
    .fetch_all(conn)
    .await?;
    match (rows.len(), slug) {
        (1, _) => Ok(rows
            .into_iter()
            .next()
            .ok_or_else(|| Error::NotFound("board".into()))?),
        (0, Some(slug)) => Err(Error::NotFound(format!("board {slug}"))),
        (0, None) => Err(Error::NotFound(
            "any board: import a registry first (minuted board import FILE)".into(),
        )),
        _ => Err(Error::Conflict(
            "the database holds several boards; name one with --board".into(),
        )),
    }
}

/// Meetings with their active agenda items, in agenda order.
pub async fn meetings(conn: &mut PgConnection, ids: &[i64]) -> Result<HashMap<i64, MeetingRow>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        board_id: i64,
        meeting_ref: String,
        date: NaiveDate,
        time: Option<NaiveTime>,
        title: String,
        papers_deadline: Option<NaiveDate>,
        #[sqlx(try_from = "String")]
        zone: Zone,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT m.id, m.board_id, m.ref AS meeting_ref, m.date, m.time, m.title,
                m.papers_deadline, b.timezone AS zone
         FROM meetings m JOIN boards b ON b.id = m.board_id WHERE m.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let items: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT i.meeting_id, i.number, i.title, o.short
         FROM agenda_items i LEFT JOIN organisations o ON o.id = i.lead_organisation_id
         WHERE i.meeting_id = ANY($1) AND i.active
         ORDER BY i.meeting_id, i.position",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: HashMap<i64, MeetingRow> = rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                MeetingRow {
                    id: r.id,
                    board_id: r.board_id,
                    meeting_ref: r.meeting_ref,
                    date: r.date,
                    time: r.time,
                    title: r.title,
                    papers_deadline: r.papers_deadline,
                    zone: r.zone,
                    items: Vec::new(),
                },
            )
        })
        .collect();
    for (meeting_id, number, title, lead) in items {
        if let Some(m) = out.get_mut(&meeting_id) {
            m.items.push(ItemRow {
                number,
                title,
                lead,
            });
        }
    }
    Ok(out)
}

pub async fn meeting_by_ref(conn: &mut PgConnection, meeting_ref: &str) -> Result<MeetingRow> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM meetings WHERE upper(ref) = upper($1)")
            .bind(meeting_ref)
            .fetch_optional(&mut *conn)
            .await?;
    let id = id.ok_or_else(|| Error::NotFound(format!("meeting {meeting_ref}")))?;
    meetings(conn, &[id])
        .await?
        .remove(&id)
        .ok_or_else(|| Error::NotFound(format!("meeting {meeting_ref}")))
}

/// The board's next meeting after `date`, if the registry has one.
pub async fn next_meeting_after(
    conn: &mut PgConnection,
    board_id: i64,
    date: NaiveDate,
) -> Result<Option<MeetingRow>> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM meetings WHERE board_id = $1 AND date > $2 ORDER BY date LIMIT 1",
    )
    .bind(board_id)
    .bind(date)
    .fetch_optional(&mut *conn)
    .await?;
    match id {
        Some(id) => Ok(meetings(conn, &[id]).await?.remove(&id)),
        None => Ok(None),
    }
}

/// The members with these ids, by id.
pub async fn members(conn: &mut PgConnection, ids: &[i64]) -> Result<HashMap<i64, Member>> {
    super::members::by_ids(conn, ids).await
}

/// The board's active secretariat members with a primary address, by name.
pub async fn secretariat(conn: &mut PgConnection, board_id: i64) -> Result<Vec<Member>> {
    let members = super::members::board_members(conn, board_id).await?;
    Ok(members
        .into_iter()
        .filter(|m| m.is_secretariat() && m.address.is_some())
        .collect())
}

/// A member of `board_id` by one of their addresses, with the address's member id.
pub async fn member_by_address(
    conn: &mut PgConnection,
    board_id: i64,
    address: &str,
) -> Result<Member> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT member_id FROM member_addresses WHERE board_id = $1 AND address = lower($2)",
    )
    .bind(board_id)
    .bind(address)
    .fetch_optional(&mut *conn)
    .await?;
    let id = id.ok_or_else(|| Error::NotFound(format!("member with address {address}")))?;
    members(conn, &[id])
        .await?
        .remove(&id)
        .ok_or_else(|| Error::NotFound(format!("member {id}")))
}

/// The attachments of the given outbox rows (without their bytes), in order.
pub async fn attachments_of(
    conn: &mut PgConnection,
    outbox_ids: &[i64],
) -> Result<Vec<OutboxAttachment>> {
    let rows = sqlx::query_as(
        "SELECT oa.outbox_id, oa.position, oa.attachment_id, oa.filename, oa.content_type,
                a.size
         FROM outbox_attachments oa JOIN attachments a ON a.id = oa.attachment_id
         WHERE oa.outbox_id = ANY($1)
         ORDER BY oa.outbox_id, oa.position",
    )
    .bind(outbox_ids)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Attachment bytes by id: each once, however many rows of a batch carry it.
pub async fn attachment_contents(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<u8>>> {
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT id, content FROM attachments WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}
