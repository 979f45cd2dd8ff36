//! The triage queue and filing by hand: what waits for a person with the best guess and
//! its reasons, a person's filing recorded as a decision, the answers sent to replies
//! that could not be acted on, and the marker of when the secretariat was last told.
//!
//! Nothing here decides what a message is.

use crate::domain::refs::item_key;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::filings::{board_for, record, snapshot, Recorded, CURRENT_FILING_WITH_NAMES};
use super::{Error, Result};
use crate::domain::filing::{Disposition, FilingDecision, Kind};

/// A filing made by a person: what they said the message is.
#[derive(Debug, Clone, Default)]
pub struct ManualFiling {
    pub kind: Option<Kind>,
    pub meeting: Option<String>,
    pub item: Option<String>,
    pub action: Option<String>,
    pub organisation: Option<String>,
}

/// Re-files message `message_id` by hand. Unspecified fields keep the current filing's
/// value (the kind must be given when there is no filing yet); the meeting, item and
/// organisation must exist. The decision is `filed` with confidence 1 and the reason who
/// filed it; the previous filing stays in the history.
pub async fn refile(
    pool: &PgPool,
    message_id: i64,
    manual: &ManualFiling,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Recorded> {
    let mut tx = pool.begin().await?;
    let recorded = refile_in(&mut tx, message_id, manual, actor, None, now).await?;
    tx.commit().await?;
    Ok(recorded)
}

/// [`refile`] inside the caller's transaction; `why` is added to the reasons.
pub async fn refile_in(
    conn: &mut PgConnection,
    message_id: i64,
    manual: &ManualFiling,
    actor: &str,
    why: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Recorded> {
    let exists: Option<(String, Vec<String>)> = sqlx::query_as(
        "SELECT status, to_addresses || cc_addresses || delivered_to AS recipients
         FROM messages WHERE id = $1 FOR UPDATE",
    )
    .bind(message_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((status, recipients)) = exists else {
        return Err(Error::NotFound(format!("message {message_id}")));
    };
    if status == "unparseable" || status == "oversized" {
        return Err(Error::Conflict(format!(
            "message {message_id} is {status}: there is nothing parsed to file"
        )));
    }
    let current: Option<CurrentFiling> = sqlx::query_as(&format!(
        "SELECT f.board_id, f.kind, mt.ref AS meeting, i.number AS item, f.action_ref,
                o.short AS organisation, mb.name AS member, f.outbox_id
         {CURRENT_FILING_WITH_NAMES}"
    ))
    .bind(message_id)
    .fetch_optional(&mut *conn)
    .await?;
    let board_id = match &current {
        Some(row) => row.board_id,
        None => board_for(conn, &recipients)
            .await?
            .ok_or_else(|| Error::NotFound("a board: import the registry first".into()))?,
    };
    let snapshot = snapshot(conn, board_id).await?;
    let current = current.unwrap_or_default();
    let kind = match manual.kind {
        Some(kind) => kind,
        None => current
            .kind
            .as_deref()
            .and_then(Kind::parse)
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "message {message_id} has no filing yet: give --kind"
                ))
            })?,
    };
    let meeting = registry_spelling(
        manual.meeting.clone().or(current.meeting),
        snapshot.registry.meetings.iter().map(|m| &m.reference),
        "meeting",
    )?;
    // A new meeting without a new item drops the old item: it belonged to the old agenda.
    let item = match (&manual.item, &manual.meeting) {
        (Some(item), _) => Some(item.clone()),
        (None, Some(_)) => None,
        (None, None) => current.item,
    };
    let item = match (item, &meeting) {
        (Some(item), Some(reference)) => {
            let key = item_key(&item);
            let found = snapshot
                .registry
                .meetings
                .iter()
                .find(|m| &m.reference == reference)
                .and_then(|m| m.items.iter().find(|i| item_key(&i.number) == key))
                .map(|i| i.number.clone());
            Some(found.ok_or_else(|| {
                Error::NotFound(format!("item {item} on the agenda of {reference}"))
            })?)
        }
        (Some(item), None) => {
            return Err(Error::Conflict(format!(
                "item {item} needs a meeting: give --meeting"
            )))
        }
        (None, _) => None,
    };
    let organisation = registry_spelling(
        manual.organisation.clone().or(current.organisation),
        snapshot.registry.organisations.iter().map(|o| &o.short),
        "organisation",
    )?;
    let member = current.member.filter(|name| {
        // The member stays only while they belong to the organisation filed.
        snapshot
            .registry
            .members
            .iter()
            .find(|m| &m.name == name)
            .is_some_and(|m| m.organisation == organisation)
    });
    let action = manual
        .action
        .clone()
        .map(|a| a.to_uppercase())
        .or(current.action_ref);
    let mut reasons = vec![format!("filed by hand by {actor}")];
    if let Some(why) = why {
        reasons.push(why.to_owned());
    }
    let decision = FilingDecision {
        kind,
        meeting,
        item,
        action,
        organisation,
        member,
        confidence: 1.0,
        disposition: Disposition::Filed,
        reasons,
        outbox_id: current.outbox_id,
        correction: None,
        attendance: None,
    };
    record(conn, message_id, &snapshot, &decision, actor, now).await
}

/// `given` as the registry spells it among `known` (compared without case); an error
/// naming `what` when the registry has no such thing.
fn registry_spelling<'a>(
    given: Option<String>,
    mut known: impl Iterator<Item = &'a String>,
    what: &str,
) -> Result<Option<String>> {
    let Some(given) = given else {
        return Ok(None);
    };
    known
        .find(|k| k.eq_ignore_ascii_case(&given))
        .map(|k| Some(k.clone()))
        .ok_or_else(|| Error::NotFound(format!("{what} {given}")))
}

/// The filing a message has now, as refiling by hand starts from it.
#[derive(Debug, Default, sqlx::FromRow)]
struct CurrentFiling {
    board_id: i64,
    kind: Option<String>,
    meeting: Option<String>,
    item: Option<String>,
    action_ref: Option<String>,
    organisation: Option<String>,
    member: Option<String>,
    outbox_id: Option<i64>,
}

/// One message in the triage queue (or quarantine) with the best guess made for it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TriageRow {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub status: String,
    pub kind: String,
    pub meeting: Option<String>,
    pub item: Option<String>,
    pub action: Option<String>,
    pub organisation: Option<String>,
    pub member: Option<String>,
    pub confidence: f32,
    #[sqlx(try_from = "super::JsonStrings")]
    pub reasons: Vec<String>,
    /// When it was put in triage (by filing, or sent back by a later step).
    pub decided_at: DateTime<Utc>,
}

/// Messages waiting for a person, oldest first: `triage`, and `quarantined` too when
/// `include_quarantined`.
pub async fn triage(
    pool: &PgPool,
    include_quarantined: bool,
    limit: Option<i64>,
) -> Result<Vec<TriageRow>> {
    let mut conn = pool.acquire().await?;
    triage_on(&mut conn, None, include_quarantined, limit).await
}

/// [`triage`] on one connection, for one board or all.
pub async fn triage_on(
    conn: &mut PgConnection,
    board_id: Option<i64>,
    include_quarantined: bool,
    limit: Option<i64>,
) -> Result<Vec<TriageRow>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.received_at, m.from_address AS \"from\", m.subject, m.status, f.kind,
                mt.ref AS meeting, i.number AS item, f.action_ref AS action,
                o.short AS organisation,
                mb.name AS member, f.confidence, f.reasons, f.decided_at
         FROM messages m
         JOIN filings f ON f.message_id = m.id AND f.current
         LEFT JOIN meetings mt ON mt.id = f.meeting_id
         LEFT JOIN agenda_items i ON i.id = f.item_id
         LEFT JOIN organisations o ON o.id = f.organisation_id
         LEFT JOIN members mb ON mb.id = f.member_id
         WHERE (m.status = 'triage' OR ($1 AND m.status = 'quarantined'))
           AND ($3::BIGINT IS NULL OR f.board_id = $3)
         ORDER BY m.id
         LIMIT $2",
    )
    .bind(include_quarantined)
    .bind(limit)
    .bind(board_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Whether message `message_id` has already been answered (a `reply_help`).
pub async fn answered(conn: &mut PgConnection, message_id: i64) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM reply_answers WHERE message_id = $1)")
            .bind(message_id)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// How many answers went to `address` since `since`.
pub async fn answers_to_since(
    conn: &mut PgConnection,
    address: &str,
    since: DateTime<Utc>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM reply_answers r JOIN outbox o ON o.id = r.outbox_id
         WHERE o.to_address = $1 AND r.created_at > $2",
    )
    .bind(address)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?)
}

/// Records that message `message_id` was answered by outbox row `outbox_id`, and why.
pub async fn record_answer(
    conn: &mut PgConnection,
    message_id: i64,
    outbox_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO reply_answers (message_id, outbox_id, reason, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(message_id)
    .bind(outbox_id)
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// When the secretariat of `board_id` was last told of triage; the marker row stays
/// locked until the transaction ends.
pub async fn lock_triage_marker(
    conn: &mut PgConnection,
    board_id: i64,
) -> Result<Option<DateTime<Utc>>> {
    sqlx::query(
        "INSERT INTO triage_notice_markers (board_id) VALUES ($1) ON CONFLICT (board_id) DO NOTHING",
    )
    .bind(board_id)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_scalar(
        "SELECT last_notice_at FROM triage_notice_markers WHERE board_id = $1 FOR UPDATE",
    )
    .bind(board_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// Records a triage notice sent at `now`.
pub async fn set_triage_marker(
    conn: &mut PgConnection,
    board_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE triage_notice_markers SET last_notice_at = $2 WHERE board_id = $1")
        .bind(board_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Boards with messages put in triage since their last notice.
pub async fn boards_with_new_triage(conn: &mut PgConnection) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT f.board_id FROM messages m
         JOIN filings f ON f.message_id = m.id AND f.current
         LEFT JOIN triage_notice_markers t ON t.board_id = f.board_id
         WHERE m.status = 'triage'
           AND f.decided_at > COALESCE(t.last_notice_at, '-infinity'::TIMESTAMPTZ)",
    )
    .fetch_all(&mut *conn)
    .await?)
}
