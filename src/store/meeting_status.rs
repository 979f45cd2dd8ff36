//! A meeting's status as the secretariat asks for it: who is expected to report, what
//! has come in, what is missing, and the draft minutes received; and every meeting in a
//! line each with those counts.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::{Error, Result};
use crate::domain::board::MeetingHead;

/// The secretariat's morning question about one meeting.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingStatusView {
    #[serde(rename = "ref")]
    pub meeting_ref: String,
    pub date: NaiveDate,
    pub title: String,
    pub status: String,
    pub papers_deadline: Option<NaiveDate>,
    /// Organisations expected to report: those leading an item, in agenda order of the
    /// first item they lead, then those owning an open action and leading none.
    pub expected: Vec<ExpectedReport>,
    /// Updates filed for the meeting from organisations not expected to report.
    pub other_updates: Vec<UpdateReceived>,
    /// Short names of the expected organisations with no update yet.
    pub outstanding: Vec<String>,
    /// Draft minutes filed against the meeting, newest last.
    pub draft_minutes: Vec<MinutesReceived>,
    /// Messages in triage whose best guess is this meeting, and in all.
    pub triage_for_meeting: i64,
    pub triage_total: i64,
    pub quarantined_total: i64,
    /// Acknowledgements of this meeting's updates not yet accepted by the mail server.
    pub acknowledgements_unsent: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpectedReport {
    pub organisation: String,
    /// Item numbers the organisation leads.
    pub leads: Vec<String>,
    /// Refs of the open actions it owns, raised at an earlier meeting or added by hand
    /// before this one.
    pub actions: Vec<String>,
    pub updates: Vec<UpdateReceived>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UpdateReceived {
    /// `messages.id`.
    pub message: i64,
    pub message_id: Option<String>,
    pub received_at: DateTime<Utc>,
    pub from: Option<String>,
    pub kind: String,
    pub item: Option<String>,
    pub action: Option<String>,
    pub organisation: Option<String>,
    pub decided_by: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MinutesReceived {
    pub message: i64,
    pub received_at: DateTime<Utc>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub attachments: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct MeetingRow {
    id: i64,
    board_id: i64,
    #[sqlx(rename = "ref")]
    reference: String,
    date: NaiveDate,
    title: String,
    status: String,
    papers_deadline: Option<NaiveDate>,
}

/// The organisation's entry in `expected`, added at the end when it has none yet.
fn expected_of(expected: &mut Vec<ExpectedReport>, organisation: String) -> &mut ExpectedReport {
    let at = match expected.iter().position(|e| e.organisation == organisation) {
        Some(at) => at,
        None => {
            expected.push(ExpectedReport {
                organisation,
                leads: Vec::new(),
                actions: Vec::new(),
                updates: Vec::new(),
            });
            expected.len() - 1
        }
    };
    &mut expected[at]
}

/// Who is expected to report for meeting `reference`, what has come in, what is missing.
pub async fn meeting_status(pool: &PgPool, reference: &str) -> Result<MeetingStatusView> {
    let mut conn = pool.acquire().await?;
    meeting_status_on(&mut conn, reference).await
}

/// [`meeting_status`] on one connection, so a transaction (the schedule deciding whether
/// to chase) sees the same answer as the command.
pub async fn meeting_status_on(
    conn: &mut PgConnection,
    reference: &str,
) -> Result<MeetingStatusView> {
    let meeting: MeetingRow = sqlx::query_as(
        "SELECT id, board_id, ref, date, title, status, papers_deadline FROM meetings
         WHERE upper(ref) = upper($1)",
    )
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound(format!("meeting {reference}")))?;
    let leads: Vec<(String, String)> = sqlx::query_as(
        "SELECT o.short, i.number FROM agenda_items i
         JOIN organisations o ON o.id = i.lead_organisation_id
         WHERE i.meeting_id = $1 AND i.active ORDER BY i.position",
    )
    .bind(meeting.id)
    .fetch_all(&mut *conn)
    .await?;
    // Owners of open actions report too, whether or not they lead an item.
    let owed: Vec<(String, String)> = sqlx::query_as(
        "SELECT o.short, a.ref FROM actions a
         JOIN organisations o ON o.id = a.owner_organisation_id
         JOIN meetings raised ON raised.id = a.meeting_id
         JOIN meetings mt ON mt.id = $1
         WHERE a.board_id = mt.board_id AND a.status = 'open'
           AND (raised.date < mt.date
                OR (raised.date = mt.date AND a.added_by <> 'minutes'
                    AND a.created_at::DATE < mt.date))
         ORDER BY a.id",
    )
    .bind(meeting.id)
    .fetch_all(&mut *conn)
    .await?;
    let mut expected: Vec<ExpectedReport> = Vec::new();
    for (short, number) in leads {
        expected_of(&mut expected, short).leads.push(number);
    }
    for (short, reference) in owed {
        expected_of(&mut expected, short).actions.push(reference);
    }
    let updates: Vec<UpdateReceived> = sqlx::query_as(
        "SELECT m.id AS message, m.message_id, m.received_at, m.from_address AS \"from\",
                f.kind, i.number AS item, f.action_ref AS action, o.short AS organisation,
                f.decided_by
         FROM filings f
         JOIN messages m ON m.id = f.message_id
         LEFT JOIN agenda_items i ON i.id = f.item_id
         LEFT JOIN organisations o ON o.id = f.organisation_id
         WHERE f.current AND f.meeting_id = $1 AND f.disposition = 'filed'
           AND f.kind IN ('written_update', 'action_update')
         ORDER BY m.received_at, m.id",
    )
    .bind(meeting.id)
    .fetch_all(&mut *conn)
    .await?;
    let mut other_updates = Vec::new();
    for update in updates {
        match expected
            .iter_mut()
            .find(|e| Some(&e.organisation) == update.organisation.as_ref())
        {
            Some(e) => e.updates.push(update),
            None => other_updates.push(update),
        }
    }
    let outstanding = expected
        .iter()
        .filter(|e| e.updates.is_empty())
        .map(|e| e.organisation.clone())
        .collect();
    let draft_minutes: Vec<MinutesReceived> = sqlx::query_as(
        "SELECT m.id AS message, m.received_at, m.from_address AS \"from\", m.subject,
                COALESCE(array_agg(ma.filename ORDER BY ma.position)
                         FILTER (WHERE ma.filename IS NOT NULL), '{}') AS attachments
         FROM filings f
         JOIN messages m ON m.id = f.message_id
         LEFT JOIN message_attachments ma ON ma.message_id = m.id
         WHERE f.current AND f.meeting_id = $1 AND f.kind = 'draft_minutes'
           AND f.disposition = 'filed'
         GROUP BY m.id ORDER BY m.received_at, m.id",
    )
    .bind(meeting.id)
    .fetch_all(&mut *conn)
    .await?;
    let (triage_for_meeting, triage_total, quarantined_total): (i64, i64, i64) = sqlx::query_as(
        "SELECT
            count(*) FILTER (WHERE m.status = 'triage' AND f.meeting_id = $1) AS for_meeting,
            count(*) FILTER (WHERE m.status = 'triage') AS triage,
            count(*) FILTER (WHERE m.status = 'quarantined') AS quarantined
         FROM messages m JOIN filings f ON f.message_id = m.id AND f.current
         WHERE f.board_id = $2",
    )
    .bind(meeting.id)
    .bind(meeting.board_id)
    .fetch_one(&mut *conn)
    .await?;
    let owed: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM pending_acknowledgements
                 WHERE meeting_id = $1 AND sent_to_outbox_at IS NULL)
              + (SELECT count(*) FROM outbox
                 WHERE meeting_id = $1 AND kind = 'acknowledgement' AND status <> 'sent')",
    )
    .bind(meeting.id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(MeetingStatusView {
        meeting_ref: meeting.reference,
        date: meeting.date,
        title: meeting.title,
        status: meeting.status,
        papers_deadline: meeting.papers_deadline,
        expected,
        other_updates,
        outstanding,
        draft_minutes,
        triage_for_meeting,
        triage_total,
        quarantined_total,
        acknowledgements_unsent: owed,
    })
}

/// One meeting as `meetings list` shows it: when it is, whether the updates are in, and
/// how far its minutes have got.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingSummary {
    /// The board's slug.
    pub board: String,
    #[serde(flatten)]
    pub head: MeetingHead,
    pub cancelled: bool,
    /// `scheduled`, `held`, `minutes_draft`, `minutes_approved` or `circulated`.
    pub status: String,
    /// Organisations expected to report, as `meetings status` counts them.
    pub expected: usize,
    /// Of those, how many have sent an update.
    pub reported: usize,
    /// The expected organisations with no update yet.
    pub outstanding: Vec<String>,
    /// Messages filed as this meeting's draft minutes.
    pub draft_minutes_received: usize,
    /// The newest revision of the minutes read from them, when there is one.
    pub minutes: Option<MinutesRevisionState>,
}

/// The newest minutes revision of a meeting: its number and status (`draft`,
/// `approved`, `rejected`, `superseded`, or `error` when the file could not be read).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MinutesRevisionState {
    pub revision: i32,
    pub status: String,
}

#[derive(sqlx::FromRow)]
struct ListedMeeting {
    board: String,
    #[sqlx(rename = "ref")]
    reference: String,
    date: NaiveDate,
    time: Option<NaiveTime>,
    title: String,
    papers_deadline: Option<NaiveDate>,
    cancelled: bool,
    status: String,
    revision: Option<i32>,
    revision_status: Option<String>,
}

/// Every meeting of every board, by date, each with the counts of [`meeting_status`].
pub async fn meetings(pool: &PgPool) -> Result<Vec<MeetingSummary>> {
    let mut conn = pool.acquire().await?;
    let listed: Vec<ListedMeeting> = sqlx::query_as(
        "SELECT b.slug AS board, m.ref, m.date, m.time, m.title, m.papers_deadline,
                m.cancelled, m.status, r.n AS revision, r.status AS revision_status
         FROM meetings m
         JOIN boards b ON b.id = m.board_id
         LEFT JOIN LATERAL (SELECT n, status FROM minutes_revisions
                            WHERE meeting_id = m.id ORDER BY n DESC LIMIT 1) r ON TRUE
         ORDER BY m.date, m.board_id, m.ref",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut summaries = Vec::with_capacity(listed.len());
    for meeting in listed {
        let status = meeting_status_on(&mut conn, &meeting.reference).await?;
        let minutes = match (meeting.revision, meeting.revision_status) {
            (Some(revision), Some(status)) => Some(MinutesRevisionState { revision, status }),
            _ => None,
        };
        summaries.push(MeetingSummary {
            board: meeting.board,
            head: MeetingHead {
                meeting_ref: meeting.reference,
                date: meeting.date,
                time: meeting.time,
                title: meeting.title,
                papers_deadline: meeting.papers_deadline,
            },
            cancelled: meeting.cancelled,
            status: meeting.status,
            expected: status.expected.len(),
            reported: status.expected.len() - status.outstanding.len(),
            outstanding: status.outstanding,
            draft_minutes_received: status.draft_minutes.len(),
            minutes,
        });
    }
    Ok(summaries)
}
