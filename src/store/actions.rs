//! The action register: adding actions (from approved minutes or by hand) with the
//! board's next `<BOARD>-A<n>` reference, reading them as [`ActionView`]s, their updates
//! (each linked to the message it came from, whose attachments are the update's), closing
//! them, and the bookkeeping that applies each filed `action_update` message once.
//!
//! What a reply means and whether its sender may update the action is decided in
//! `crate::actions`; this file only reads and writes rows. Times are parameters from the
//! injected clock.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::filings::{self, FiledQueue};
use super::{Error, Result};

/// An action for the register.
#[derive(Debug, Clone)]
pub struct NewAction<'a> {
    pub board_id: i64,
    pub text: &'a str,
    /// The owner as the minutes wrote it (`MPS`, `LO`), when it came from minutes.
    pub owner_text: Option<&'a str>,
    pub owner_organisation_id: Option<i64>,
    pub owner_member_id: Option<i64>,
    pub meeting_id: i64,
    pub item_number: Option<&'a str>,
    /// The approved revision it came from; `None` when added by hand.
    pub revision_id: Option<i64>,
    pub due: Option<NaiveDate>,
    pub due_text: Option<&'a str>,
    /// `minutes`, or who added it by hand.
    pub added_by: &'a str,
}

/// Adds an action with the board's next reference (`LCJB-A17`) and returns (id, ref).
/// The counter row is locked by the update, so two transactions never take one number.
pub async fn add(
    conn: &mut PgConnection,
    action: &NewAction<'_>,
    now: DateTime<Utc>,
) -> Result<(i64, String)> {
    let n: i32 = sqlx::query_scalar(
        "INSERT INTO board_counters (board_id, next_action) VALUES ($1, 2)
         ON CONFLICT (board_id) DO UPDATE SET next_action = board_counters.next_action + 1
         RETURNING next_action - 1",
    )
    .bind(action.board_id)
    .fetch_one(&mut *conn)
    .await?;
    let slug: String = sqlx::query_scalar("SELECT slug FROM boards WHERE id = $1")
        .bind(action.board_id)
        .fetch_one(&mut *conn)
        .await?;
    let reference = format!("{}-A{n}", slug.to_uppercase());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO actions (board_id, ref, text, owner_text, owner_organisation_id,
             owner_member_id, meeting_id, item_number, revision_id, due, due_text, added_by,
             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
    )
    .bind(action.board_id)
    .bind(&reference)
    .bind(action.text)
    .bind(action.owner_text)
    .bind(action.owner_organisation_id)
    .bind(action.owner_member_id)
    .bind(action.meeting_id)
    .bind(action.item_number)
    .bind(action.revision_id)
    .bind(action.due)
    .bind(action.due_text)
    .bind(action.added_by)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok((id, reference))
}

/// Which actions [`list`] returns. The default is every action of every board, oldest
/// reference first.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    pub board_id: Option<i64>,
    /// Only `open` actions.
    pub open_only: bool,
    /// Owner organisation short name (any case).
    pub owner: Option<String>,
    pub owner_organisation_id: Option<i64>,
    /// Raised at this meeting (ref, any case).
    pub meeting: Option<String>,
    /// Raised at a meeting dated before this one, or added by hand before it: what a
    /// meeting's update requests and action log cover.
    pub raised_before: Option<NaiveDate>,
    /// Only this action (ref, any case).
    pub reference: Option<String>,
    /// With `open_only`: also the actions closed (done or dropped) at or after this
    /// moment, as a meeting pack's action log shows them.
    pub closed_since: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
}

/// An action as the register, `actions list`, update requests and the meeting pack's
/// action log show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ActionView {
    pub id: i64,
    pub board_id: i64,
    /// `LCJB-A17`.
    #[serde(rename = "ref")]
    #[sqlx(rename = "ref")]
    pub reference: String,
    pub text: String,
    /// Who owns it, for people: the organisation's short name, else the member's name,
    /// else the owner as the minutes wrote it.
    pub owner: Option<String>,
    pub owner_organisation: Option<String>,
    pub owner_organisation_id: Option<i64>,
    pub owner_member: Option<String>,
    pub owner_member_id: Option<i64>,
    /// The meeting it was raised at, `LCJB-2023-09-20`.
    pub meeting: Option<String>,
    pub meeting_date: Option<NaiveDate>,
    pub item: Option<String>,
    /// For people: the due date, else the minutes' words, else `next meeting`.
    pub due: String,
    pub due_date: Option<NaiveDate>,
    pub due_text: Option<String>,
    /// open, done or dropped.
    pub status: String,
    /// `minutes` or who added it by hand.
    pub added_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Oldest first.
    #[sqlx(skip)]
    pub updates: Vec<ActionUpdateView>,
    /// The newest of `updates`.
    #[sqlx(skip)]
    pub latest_update: Option<ActionUpdateView>,
    /// Open and past its due date; set by `actions::mark_overdue`.
    #[sqlx(skip)]
    pub overdue: bool,
}

#[derive(sqlx::FromRow)]
struct UpdateRow {
    action_id: i64,
    #[sqlx(flatten)]
    update: ActionUpdateView,
}

/// One update of an action.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ActionUpdateView {
    /// done, progress, dropped or reopened.
    pub kind: String,
    pub text: String,
    pub at: DateTime<Utc>,
    /// `messages.id` of the message it came from; `None` for a change by hand.
    pub message: Option<i64>,
    /// That message's Message-ID header.
    pub message_id: Option<String>,
    /// The sender's address, or who changed it by hand.
    pub from: String,
    pub organisation: Option<String>,
    pub member: Option<String>,
    /// File names of the message's attachments: the update's attachments.
    pub attachments: Vec<String>,
}

/// The actions `filter` selects, each with its updates, ordered by reference number.
/// The schedule's update requests and meeting packs read the register through
/// [`list_on`], exactly as `actions list` prints it.
pub async fn list(pool: &PgPool, filter: &ActionFilter) -> Result<Vec<ActionView>> {
    let mut conn = pool.acquire().await?;
    list_on(&mut conn, filter).await
}

/// [`list`] on one connection, inside the caller's transaction.
pub async fn list_on(conn: &mut PgConnection, filter: &ActionFilter) -> Result<Vec<ActionView>> {
    let mut views: Vec<ActionView> = sqlx::query_as(
        "SELECT a.id, a.board_id, a.ref, a.text,
                COALESCE(o.short, mb.name, a.owner_text) AS owner, a.owner_organisation_id,
                o.short AS owner_organisation, a.owner_member_id, mb.name AS owner_member,
                mt.ref AS meeting, mt.date AS meeting_date, a.item_number AS item,
                COALESCE(to_char(a.due, 'YYYY-MM-DD'),
                         CASE WHEN btrim(a.due_text, E' \\t\\r\\n') <> '' THEN a.due_text END,
                         'next meeting') AS due,
                a.due AS due_date, a.due_text, a.status, a.added_by, a.created_at,
                a.updated_at, a.closed_at
         FROM actions a
         LEFT JOIN organisations o ON o.id = a.owner_organisation_id
         LEFT JOIN members mb ON mb.id = a.owner_member_id
         LEFT JOIN meetings mt ON mt.id = a.meeting_id
         WHERE ($1::BIGINT IS NULL OR a.board_id = $1)
           AND (NOT $2 OR a.status = 'open'
                OR ($9::TIMESTAMPTZ IS NOT NULL AND a.closed_at >= $9))
           AND ($3::TEXT IS NULL OR lower(o.short) = lower($3))
           AND ($4::BIGINT IS NULL OR a.owner_organisation_id = $4)
           AND ($5::TEXT IS NULL OR upper(mt.ref) = upper($5))
           AND ($6::DATE IS NULL OR mt.date < $6)
           AND ($7::TEXT IS NULL OR upper(a.ref) = upper($7))
         ORDER BY a.board_id, length(a.ref), a.ref
         LIMIT $8",
    )
    .bind(filter.board_id)
    .bind(filter.open_only)
    .bind(&filter.owner)
    .bind(filter.owner_organisation_id)
    .bind(&filter.meeting)
    .bind(filter.raised_before)
    .bind(&filter.reference)
    .bind(filter.limit)
    .bind(filter.closed_since)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = views.iter().map(|v| v.id).collect();
    let updates: Vec<UpdateRow> = sqlx::query_as(
        "SELECT u.action_id, u.kind, u.text, u.created_at AS at, u.message_id AS message,
                m.message_id, u.by_text AS \"from\", o.short AS organisation, mb.name AS member,
                COALESCE((SELECT array_agg(COALESCE(ma.filename, ma.content_type)
                                           ORDER BY ma.position)
                          FROM message_attachments ma WHERE ma.message_id = u.message_id),
                         '{}') AS attachments
         FROM action_updates u
         LEFT JOIN messages m ON m.id = u.message_id
         LEFT JOIN organisations o ON o.id = u.organisation_id
         LEFT JOIN members mb ON mb.id = u.member_id
         WHERE u.action_id = ANY($1)
         ORDER BY u.created_at, u.id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    for UpdateRow { action_id, update } in updates {
        if let Some(view) = views.iter_mut().find(|v| v.id == action_id) {
            view.updates.push(update);
        }
    }
    for view in &mut views {
        view.latest_update = view.updates.last().cloned();
    }
    Ok(views)
}

/// The action `reference` (of `board_id`, when given), locked until the transaction
/// ends.
pub async fn lock(
    conn: &mut PgConnection,
    board_id: Option<i64>,
    reference: &str,
) -> Result<Option<LockedAction>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.board_id, a.ref, a.status, a.owner_organisation_id,
                o.short AS owner_organisation,
                a.owner_member_id, mb.name AS owner_member
         FROM actions a
         LEFT JOIN organisations o ON o.id = a.owner_organisation_id
         LEFT JOIN members mb ON mb.id = a.owner_member_id
         WHERE ($1::BIGINT IS NULL OR a.board_id = $1) AND upper(a.ref) = upper($2)
         FOR UPDATE OF a",
    )
    .bind(board_id)
    .bind(reference)
    .fetch_optional(conn)
    .await?)
}

/// An action as locked for an update.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedAction {
    pub id: i64,
    pub board_id: i64,
    #[sqlx(rename = "ref")]
    pub reference: String,
    pub status: String,
    pub owner_organisation_id: Option<i64>,
    pub owner_organisation: Option<String>,
    pub owner_member_id: Option<i64>,
    pub owner_member: Option<String>,
}

/// An update to record.
#[derive(Debug, Clone)]
pub struct NewUpdate<'a> {
    pub action_id: i64,
    pub message_id: Option<i64>,
    /// done, progress, dropped or reopened.
    pub kind: &'a str,
    pub text: &'a str,
    pub organisation_id: Option<i64>,
    pub member_id: Option<i64>,
    pub by: &'a str,
}

/// Records an update and, for `done` / `dropped` / `reopened`, moves the action's
/// status with it. Returns the update's id.
pub async fn record_update(
    conn: &mut PgConnection,
    update: &NewUpdate<'_>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO action_updates (action_id, message_id, kind, text, organisation_id,
                                     member_id, by_text, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(update.action_id)
    .bind(update.message_id)
    .bind(update.kind)
    .bind(update.text)
    .bind(update.organisation_id)
    .bind(update.member_id)
    .bind(update.by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let status = match update.kind {
        "done" => Some("done"),
        "dropped" => Some("dropped"),
        "reopened" => Some("open"),
        _ => None,
    };
    sqlx::query(
        "UPDATE actions SET status = COALESCE($2, status), updated_at = $3,
                closed_at = CASE WHEN $2 IS NULL THEN closed_at
                                 WHEN $2 = 'open' THEN NULL ELSE $3 END
         WHERE id = $1",
    )
    .bind(update.action_id)
    .bind(status)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// A filed `action_update` message waiting to be applied.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UpdateMessage {
    pub message_id: i64,
    pub board_id: i64,
    /// The action filing chose.
    pub action_ref: Option<String>,
    pub from_address: Option<String>,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
    pub attachments: Vec<String>,
}

/// Takes one filed action update with no `action_update_sources` row yet, locking its
/// filing so another worker skips it until this transaction ends.
pub async fn claim_update(conn: &mut PgConnection) -> Result<Option<UpdateMessage>> {
    filings::claim_filed_message(
        conn,
        FiledQueue::ActionUpdates,
        "f.message_id, f.board_id, f.action_ref, m.from_address, m.body_text, m.body_html,
         COALESCE((SELECT array_agg(COALESCE(ma.filename, ma.content_type)
                                    ORDER BY ma.position)
                   FROM message_attachments ma WHERE ma.message_id = m.id),
                  '{}') AS attachments",
    )
    .await
}

/// Forgets that message `message_id` was sent back to triage as an update that could not
/// be applied, so that, filed again by a person, it is applied afresh. An update that was
/// applied stays applied.
pub async fn forget_refusal(conn: &mut PgConnection, message_id: i64) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM action_update_sources WHERE message_id = $1 AND outcome = 'triage'",
    )
    .bind(message_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether any filed action update waits to be applied (cheap, for the loop).
pub async fn updates_waiting(pool: &sqlx::PgPool) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM filings f
                        WHERE f.current AND f.kind = 'action_update'
                          AND f.disposition = 'filed'
                          AND NOT EXISTS (SELECT 1 FROM action_update_sources s
                                          WHERE s.message_id = f.message_id))",
    )
    .fetch_one(pool)
    .await?)
}

/// Moves a message back to the triage queue: a new current filing, kept as the filing
/// was but with disposition `triage` and `reason` added, its audit event, and the
/// message's status. Used when an update cannot be applied as filed.
pub async fn send_to_triage(
    conn: &mut PgConnection,
    message_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let previous: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE filings SET current = FALSE WHERE message_id = $1 AND current
         RETURNING id, board_id",
    )
    .bind(message_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((previous, board_id)) = previous else {
        return Err(Error::NotFound(format!("a filing of message {message_id}")));
    };
    let filing: i64 = sqlx::query_scalar(
        "INSERT INTO filings (message_id, board_id, kind, disposition, meeting_id, item_id,
                              action_ref, organisation_id, member_id, confidence, reasons,
                              decided_by, decided_at, outbox_id)
         SELECT message_id, board_id, kind, 'triage', meeting_id, item_id, action_ref,
                organisation_id, member_id, confidence, reasons || to_jsonb($2::TEXT),
                'rule', $3, outbox_id
         FROM filings WHERE id = $1 RETURNING id",
    )
    .bind(previous)
    .bind(reason)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE messages SET status = 'triage' WHERE id = $1")
        .bind(message_id)
        .execute(&mut *conn)
        .await?;
    super::events::record(
        conn,
        super::events::NewEvent {
            board_id: Some(board_id),
            actor: "rule",
            kind: "filing.refiled",
            subject: Some(("message", message_id)),
            detail: serde_json::json!({
                "filing": filing,
                "disposition": "triage",
                "reason": reason,
                "previous": {"filing": previous, "disposition": "filed"},
            }),
        },
    )
    .await?;
    Ok(())
}

/// The organisation `short` of `board_id` (any case): its id and spelling.
pub async fn organisation(
    conn: &mut PgConnection,
    board_id: i64,
    short: &str,
) -> Result<Option<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, short FROM organisations WHERE board_id = $1 AND lower(short) = lower($2)",
    )
    .bind(board_id)
    .bind(short)
    .fetch_optional(conn)
    .await?)
}

/// The meeting `reference` (any case): (board id, meeting id, its ref as stored).
pub async fn meeting(
    conn: &mut PgConnection,
    reference: &str,
) -> Result<Option<(i64, i64, String)>> {
    Ok(
        sqlx::query_as("SELECT board_id, id, ref FROM meetings WHERE upper(ref) = upper($1)")
            .bind(reference)
            .fetch_optional(conn)
            .await?,
    )
}

/// The member called `name` (any case) in `board_id`: (id, name, organisation id).
pub async fn member(
    conn: &mut PgConnection,
    board_id: i64,
    name: &str,
) -> Result<Option<(i64, String, Option<i64>)>> {
    Ok(sqlx::query_as(
        "SELECT id, name, organisation_id FROM members
         WHERE board_id = $1 AND (lower(name) = lower($2) OR lower(initials) = lower($2))
         ORDER BY active DESC, id LIMIT 1",
    )
    .bind(board_id)
    .bind(name)
    .fetch_optional(conn)
    .await?)
}

/// Whether agenda item `number` is on meeting `meeting_id`'s agenda; its spelling there.
/// Numbers compare without punctuation or case (`2b` is `2.b`).
pub async fn item_number(
    conn: &mut PgConnection,
    meeting_id: i64,
    number: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT number FROM agenda_items
         WHERE meeting_id = $1
           AND lower(regexp_replace(number, '[^A-Za-z0-9]', '', 'g'))
               = lower(regexp_replace($2, '[^A-Za-z0-9]', '', 'g'))
         LIMIT 1",
    )
    .bind(meeting_id)
    .bind(number)
    .fetch_optional(conn)
    .await?)
}
