//! Recording a member's answer to an invitation in the attendance register, and telling
//! them in one line what was recorded. Runs in the filing's transaction, for an
//! attendance response filed against a meeting from a member of the board.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;

use super::acknowledge;
use super::{Attendance, FilingDecision, Message, Participation};
use crate::domain::mail;
use crate::domain::outbound::long_date;
use crate::store::attendance::{self as store, NewResponse};
use crate::store::events::{self, NewEvent};
use crate::store::filings::Snapshot;

/// What an answer means for the register.
pub fn response_of(participation: Participation) -> &'static str {
    match participation {
        Participation::Accepted => "attending",
        Participation::Tentative => "tentative",
        Participation::Declined | Participation::Delegated => "apologies",
    }
}

/// The deputy a member names, as the registry spells them when it can: the member of
/// that name, else (for a first name alone) the member's own registered deputy of that
/// first name. `None` for the id when they are not a member of the board.
fn match_deputy(
    snapshot: &Snapshot,
    written: &str,
    registered: Option<&(i64, String)>,
) -> (Option<i64>, String) {
    let wanted = super::normalise_name(written);
    if let Some(member) = snapshot
        .registry
        .members
        .iter()
        .filter(|m| m.active)
        .find(|m| super::normalise_name(&m.name) == wanted)
    {
        return (snapshot.member_id(&member.name), member.name.clone());
    }
    if let Some((id, name)) = registered {
        let first = super::normalise_name(name.split_whitespace().next().unwrap_or_default());
        if !wanted.contains(' ') && first == wanted {
            return (Some(*id), name.clone());
        }
    }
    (None, written.to_owned())
}

/// Records the answer `decision` carries and queues its one-line acknowledgement.
/// Returns whether it was recorded: not when the sender or the meeting is unknown.
#[allow(clippy::too_many_arguments)] // the filing, its message and when it was written
pub async fn record(
    conn: &mut PgConnection,
    snapshot: &Snapshot,
    message_id: i64,
    decision: &FilingDecision,
    message: &Message,
    answer: &Attendance,
    judged_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let (Some(reference), Some(member)) = (decision.meeting.as_deref(), &decision.member) else {
        return Ok(false);
    };
    let (Some(meeting), Some(member_id)) = (
        store::meeting_by_ref(conn, reference).await?,
        snapshot.member_id(member),
    ) else {
        return Ok(false);
    };
    let response = response_of(answer.participation);
    let registered = if response == "apologies" {
        store::registered_deputy(conn, member_id).await?
    } else {
        None
    };
    let (deputy_id, deputy_name, deputy_source) = match (&answer.deputy, &registered) {
        (Some(written), _) => {
            let (id, name) = match_deputy(snapshot, written, registered.as_ref());
            (id, Some(name), Some("reply"))
        }
        (None, Some((id, name))) => (Some(*id), Some(name.clone()), Some("registry")),
        (None, None) => (None, None, None),
    };
    let late = judged_at > meeting.zone.meeting_start(meeting.date, meeting.time);
    let reason = (response == "apologies")
        .then_some(answer.comment.as_deref())
        .flatten()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let recorded = store::record_response(
        conn,
        &NewResponse {
            meeting_id: meeting.id,
            member_id,
            response,
            reason,
            deputy_member_id: deputy_id,
            deputy_name: deputy_id
                .is_none()
                .then_some(deputy_name.as_deref())
                .flatten(),
            deputy_source,
            late,
            message_id: Some(message_id),
            via: if answer.from_words {
                "words"
            } else {
                "calendar"
            },
            responded_at: judged_at,
        },
        now,
    )
    .await?;
    if !recorded {
        return Ok(false);
    }
    events::record(
        conn,
        NewEvent {
            board_id: Some(snapshot.board_id),
            actor: "system",
            kind: "attendance.recorded",
            subject: Some(("message", message_id)),
            detail: json!({
                "meeting": meeting.meeting_ref,
                "member": member,
                "response": response,
                "deputy": deputy_name,
                "deputy_source": deputy_source,
                "late": late,
            }),
        },
    )
    .await?;
    let date = long_date(meeting.date);
    let line = match response {
        "attending" => format!("Recorded: you will attend the meeting on {date}."),
        "tentative" => format!(
            "Recorded: you may attend the meeting on {date} (tentative); reply to this email when you know."
        ),
        _ => match (deputy_name.as_deref(), deputy_source) {
            (Some(deputy), Some("registry")) => format!(
                "Recorded: your apologies for the meeting on {date}. {deputy}, your deputy in the registry, is expected in your place; reply to this email naming someone else if not."
            ),
            (Some(deputy), _) => format!(
                "Recorded: your apologies for the meeting on {date}, with {deputy} attending in your place."
            ),
            _ => format!("Recorded: your apologies for the meeting on {date}."),
        },
    };
    let context = mail::AttendanceRecorded {
        message: message_id,
        original_subject: super::answer::original_subject(message),
        recorded: line,
        late,
    };
    if !super::answer::written_by_a_machine(message) {
        acknowledge::tell_sender(conn, snapshot, message, Some(reference), &context, now).await?;
    }
    Ok(true)
}
