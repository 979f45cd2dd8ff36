//! The attendance register's rows: which invitation each member was last sent for a
//! meeting, the meeting's invitation version, and each member's answer. What is sent and
//! what an answer means are decided in `crate::schedule::invite` and
//! `crate::filing::attendance`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::Result;
use crate::domain::zone::Zone;

/// A meeting as its invitations need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteMeeting {
    pub id: i64,
    pub board_id: i64,
    pub meeting_ref: String,
    pub title: String,
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub location: Option<String>,
    pub cancelled: bool,
    pub invitation_sequence: i32,
    pub invitation_fingerprint: Option<String>,
    pub board_name: String,
    pub board_address: String,
    #[sqlx(try_from = "String")]
    pub zone: Zone,
}

const INVITE_MEETING: &str = "SELECT m.id, m.board_id, m.ref AS meeting_ref, m.title, m.date,
        m.time, m.end_time, m.location, m.cancelled, m.invitation_sequence,
        m.invitation_fingerprint, b.name AS board_name, b.address AS board_address,
        b.timezone AS zone
 FROM meetings m JOIN boards b ON b.id = m.board_id";

/// Meetings on or after `from`, soonest first.
pub async fn meetings_from(conn: &mut PgConnection, from: NaiveDate) -> Result<Vec<InviteMeeting>> {
    Ok(sqlx::query_as(&format!(
        "{INVITE_MEETING} WHERE m.date >= $1 ORDER BY m.date, m.id"
    ))
    .bind(from)
    .fetch_all(conn)
    .await?)
}

/// The meeting, locked until the transaction ends, so two daemons never invite twice.
pub async fn lock_meeting(conn: &mut PgConnection, id: i64) -> Result<Option<InviteMeeting>> {
    Ok(
        sqlx::query_as(&format!("{INVITE_MEETING} WHERE m.id = $1 FOR UPDATE OF m"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Records the invitation version now current: its SEQUENCE and what it was sent with.
pub async fn set_invitation_version(
    conn: &mut PgConnection,
    meeting_id: i64,
    sequence: i32,
    fingerprint: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE meetings SET invitation_sequence = $2, invitation_fingerprint = $3 WHERE id = $1",
    )
    .bind(meeting_id)
    .bind(sequence)
    .bind(fingerprint)
    .execute(conn)
    .await?;
    Ok(())
}

/// The last invitation sent to a member for a meeting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SentInvitation {
    pub member_id: i64,
    pub sequence: i32,
    pub method: String,
}

pub async fn invitations(conn: &mut PgConnection, meeting_id: i64) -> Result<Vec<SentInvitation>> {
    Ok(
        sqlx::query_as("SELECT member_id, sequence, method FROM invitations WHERE meeting_id = $1")
            .bind(meeting_id)
            .fetch_all(conn)
            .await?,
    )
}

/// Records the invitation just queued for a member, replacing the one before.
pub async fn record_invitation(
    conn: &mut PgConnection,
    meeting_id: i64,
    member_id: i64,
    sequence: i32,
    method: &str,
    outbox_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO invitations (meeting_id, member_id, sequence, method, outbox_id, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (meeting_id, member_id) DO UPDATE
         SET sequence = EXCLUDED.sequence, method = EXCLUDED.method,
             outbox_id = EXCLUDED.outbox_id, sent_at = EXCLUDED.sent_at",
    )
    .bind(meeting_id)
    .bind(member_id)
    .bind(sequence)
    .bind(method)
    .bind(outbox_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A member's answer, to be recorded.
#[derive(Debug, Clone)]
pub struct NewResponse<'a> {
    pub meeting_id: i64,
    pub member_id: i64,
    /// `attending`, `apologies` or `tentative`.
    pub response: &'a str,
    pub reason: Option<&'a str>,
    pub deputy_member_id: Option<i64>,
    pub deputy_name: Option<&'a str>,
    /// `reply` or `registry`.
    pub deputy_source: Option<&'a str>,
    pub late: bool,
    pub message_id: Option<i64>,
    /// `calendar`, `words` or `cli`.
    pub via: &'a str,
    pub responded_at: DateTime<Utc>,
}

/// Records a member's answer; a later answer replaces an earlier one (an answer judged
/// older than the one held is ignored). Returns whether it was recorded.
pub async fn record_response(
    conn: &mut PgConnection,
    response: &NewResponse<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO attendance (meeting_id, member_id, response, reason, deputy_member_id,
                                 deputy_name, deputy_source, late, message_id, via,
                                 responded_at, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (meeting_id, member_id) DO UPDATE
         SET response = EXCLUDED.response, reason = EXCLUDED.reason,
             deputy_member_id = EXCLUDED.deputy_member_id, deputy_name = EXCLUDED.deputy_name,
             deputy_source = EXCLUDED.deputy_source, late = EXCLUDED.late,
             message_id = EXCLUDED.message_id, via = EXCLUDED.via,
             responded_at = EXCLUDED.responded_at, recorded_at = EXCLUDED.recorded_at
         WHERE attendance.responded_at <= EXCLUDED.responded_at",
    )
    .bind(response.meeting_id)
    .bind(response.member_id)
    .bind(response.response)
    .bind(response.reason)
    .bind(response.deputy_member_id)
    .bind(response.deputy_name)
    .bind(response.deputy_source)
    .bind(response.late)
    .bind(response.message_id)
    .bind(response.via)
    .bind(response.responded_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// One line of a meeting's register: a member who receives circulation, was invited or
/// answered, with what they answered.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RegisterLine {
    pub member: String,
    pub organisation: Option<String>,
    /// The last invitation's method and SEQUENCE, if one was sent.
    pub invitation: Option<String>,
    pub sequence: Option<i32>,
    /// `attending`, `apologies`, `tentative`, or null for no response.
    pub response: Option<String>,
    pub reason: Option<String>,
    /// Who attends in their place: the registry's spelling, else as written.
    pub deputy: Option<String>,
    pub deputy_source: Option<String>,
    pub late: bool,
    pub via: Option<String>,
    pub responded_at: Option<DateTime<Utc>>,
}

/// The register of a meeting, by organisation and name.
pub async fn register(conn: &mut PgConnection, meeting_id: i64) -> Result<Vec<RegisterLine>> {
    Ok(sqlx::query_as(
        "SELECT mb.name AS member, o.short AS organisation,
                i.method AS invitation, i.sequence,
                a.response, a.reason, COALESCE(d.name, a.deputy_name) AS deputy,
                a.deputy_source, COALESCE(a.late, false) AS late, a.via, a.responded_at
         FROM meetings m
         JOIN members mb ON mb.board_id = m.board_id
         LEFT JOIN organisations o ON o.id = mb.organisation_id
         LEFT JOIN invitations i ON i.meeting_id = m.id AND i.member_id = mb.id
         LEFT JOIN attendance a ON a.meeting_id = m.id AND a.member_id = mb.id
         LEFT JOIN members d ON d.id = a.deputy_member_id
         WHERE m.id = $1
           AND ((mb.active AND mb.circulation) OR i.member_id IS NOT NULL
                OR a.member_id IS NOT NULL)
         ORDER BY o.short NULLS LAST, mb.name",
    )
    .bind(meeting_id)
    .fetch_all(conn)
    .await?)
}

/// The member who deputises for `member_id` in the registry, if one does: (id, name).
pub async fn registered_deputy(
    conn: &mut PgConnection,
    member_id: i64,
) -> Result<Option<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, name FROM members WHERE deputy_of = $1 AND active ORDER BY id LIMIT 1",
    )
    .bind(member_id)
    .fetch_optional(conn)
    .await?)
}

/// The meeting's id, date, time and board zone by reference.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeetingRef {
    pub id: i64,
    pub board_id: i64,
    pub meeting_ref: String,
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    #[sqlx(try_from = "String")]
    pub zone: Zone,
}

pub async fn meeting_by_ref(
    conn: &mut PgConnection,
    reference: &str,
) -> Result<Option<MeetingRef>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.board_id, m.ref AS meeting_ref, m.date, m.time, b.timezone AS zone
         FROM meetings m JOIN boards b ON b.id = m.board_id
         WHERE upper(m.ref) = upper($1)",
    )
    .bind(reference)
    .fetch_optional(conn)
    .await?)
}

/// A meeting's attendance register, as `meetings attendance` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AttendanceView {
    pub meeting_ref: String,
    pub date: NaiveDate,
    pub cancelled: bool,
    /// The invitations' current SEQUENCE.
    pub sequence: i32,
    pub invited: usize,
    pub attending: usize,
    pub apologies: usize,
    pub tentative: usize,
    pub no_response: usize,
    pub members: Vec<RegisterLine>,
}

/// The register of meeting `reference`; an error naming it when there is no such meeting.
pub async fn attendance_view(conn: &mut PgConnection, reference: &str) -> Result<AttendanceView> {
    let Some(meeting) = meeting_by_ref(conn, reference).await? else {
        return Err(super::Error::NotFound(format!(
            "no meeting {reference}: `minuted board show` lists the meetings"
        )));
    };
    let (cancelled, sequence): (bool, i32) =
        sqlx::query_as("SELECT cancelled, invitation_sequence FROM meetings WHERE id = $1")
            .bind(meeting.id)
            .fetch_one(&mut *conn)
            .await?;
    let members = register(conn, meeting.id).await?;
    let count = |response: &str| {
        members
            .iter()
            .filter(|m| m.response.as_deref() == Some(response))
            .count()
    };
    Ok(AttendanceView {
        meeting_ref: meeting.meeting_ref,
        date: meeting.date,
        cancelled,
        sequence,
        invited: members
            .iter()
            .filter(|m| m.invitation.as_deref() == Some("REQUEST"))
            .count(),
        attending: count("attending"),
        apologies: count("apologies"),
        tentative: count("tentative"),
        no_response: members.iter().filter(|m| m.response.is_none()).count(),
        members,
    })
}

/// The members recorded as attending meeting `meeting_id` in another's place.
pub async fn deputies_attending(conn: &mut PgConnection, meeting_id: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT deputy_member_id FROM attendance
         WHERE meeting_id = $1 AND response = 'apologies' AND deputy_member_id IS NOT NULL",
    )
    .bind(meeting_id)
    .fetch_all(conn)
    .await?)
}

/// A board's quorum: (members, organisations), either or both unset.
pub async fn quorum_of(
    conn: &mut PgConnection,
    board_id: i64,
) -> Result<(Option<i32>, Option<i32>)> {
    Ok(
        sqlx::query_as("SELECT quorum_members, quorum_organisations FROM boards WHERE id = $1")
            .bind(board_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Whether the secretariat was already told meeting `meeting_id`'s quorum is at risk,
/// with the meeting's row locked until the transaction ends.
pub async fn lock_quorum_warned(conn: &mut PgConnection, meeting_id: i64) -> Result<bool> {
    let warned: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT quorum_warned_at FROM meetings WHERE id = $1 FOR UPDATE")
            .bind(meeting_id)
            .fetch_one(conn)
            .await?;
    Ok(warned.is_some())
}

pub async fn mark_quorum_warned(
    conn: &mut PgConnection,
    meeting_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE meetings SET quorum_warned_at = $2 WHERE id = $1")
        .bind(meeting_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
