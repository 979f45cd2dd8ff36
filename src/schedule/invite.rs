//! Meeting invitations: every member who receives circulation is sent an iCalendar
//! invitation `schedule.invitation_days` before each meeting (at once for a meeting added
//! later, or a member who joins), an update with the next `SEQUENCE` when the registry
//! changes the meeting's time, end or place, and a cancellation when it marks the meeting
//! cancelled.
//!
//! Each pass compares what each member was last sent (`invitations`) with what they
//! should have, meeting by meeting, with the meeting's row locked: what is sent is queued
//! and recorded in one transaction, so two daemons never send the same invitation twice
//! and a pass interrupted half-way is finished by the next.

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::clock::Clock;
use crate::config::ScheduleSettings;
use crate::domain::icalendar::{self, Method, Person, When};
use crate::domain::mail;
use crate::domain::outbound::long_date;
use crate::store::attendance::{self as store, InviteMeeting};
use crate::store::events::{self, NewEvent};
use crate::store::members;
use crate::store::outbox::{self, NewOutboxMessage};

/// What one pass of invitations queued.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Invited {
    pub invitations: usize,
    pub updates: usize,
    pub cancellations: usize,
}

impl Invited {
    pub fn total(&self) -> usize {
        self.invitations + self.updates + self.cancellations
    }
}

/// When a meeting's invitations are due: `invitation_days` before it at `send_time`.
pub fn invitation_due(meeting: &InviteMeeting, settings: &ScheduleSettings) -> DateTime<Utc> {
    meeting.zone.instant(
        meeting.date - Duration::days(i64::from(settings.invitation_days)),
        settings.send_time(),
    )
}

/// The meeting's start (its day's beginning when it has no time).
pub(super) fn starts_at(meeting: &InviteMeeting) -> DateTime<Utc> {
    meeting.zone.meeting_start(meeting.date, meeting.time)
}

/// What an invitation says about when and where: a change to any of these is an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
struct Version {
    time: Option<NaiveTime>,
    end: Option<NaiveTime>,
    location: Option<String>,
}

impl Version {
    fn of(meeting: &InviteMeeting) -> Version {
        Version {
            time: meeting.time,
            end: meeting.end_time,
            location: meeting.location.clone(),
        }
    }

    /// What changed from `before`, in the letter's words.
    fn changed_from(&self, before: &Version) -> Vec<String> {
        let mut changed = Vec::new();
        if self.time != before.time || self.end != before.end {
            changed.push("time".to_owned());
        }
        if self.location != before.location {
            changed.push("place".to_owned());
        }
        changed
    }
}

/// "Wednesday 13 December 2023, 10:00 to 12:00 GMT", or the date alone.
pub fn when_text(meeting: &InviteMeeting) -> String {
    match When::of(meeting.date, meeting.time, meeting.end_time) {
        When::Timed { date, start, end } => {
            let end_text = meeting.zone.clock_text(date, end);
            format!(
                "{}, {} to {end_text}",
                long_date(date),
                start.format("%H:%M")
            )
        }
        When::AllDay(date) => long_date(date),
    }
}

/// The meetings a pass looks at: from yesterday on (the board's today may be behind UTC's),
/// read once for the invitations and the quorum check.
pub async fn upcoming(pool: &PgPool, clock: &Clock) -> anyhow::Result<Vec<InviteMeeting>> {
    let mut conn = pool
        .acquire()
        .await
        .context("failed to reach the database")?;
    Ok(store::meetings_from(&mut conn, clock.now().date_naive() - Duration::days(1)).await?)
}

/// Queues what each of `meetings` still to come owes its members.
pub async fn invite(
    pool: &PgPool,
    settings: &ScheduleSettings,
    meetings: &[InviteMeeting],
    clock: &Clock,
) -> anyhow::Result<Invited> {
    let now = clock.now();
    let mut invited = Invited::default();
    for meeting in meetings {
        if starts_at(meeting) <= now {
            continue;
        }
        // Nothing goes before its time, unless the meeting was already invited to (an
        // update or a cancellation goes at once).
        let due = invitation_due(meeting, settings) <= now;
        if !due && meeting.invitation_fingerprint.is_none() {
            continue;
        }
        let mut tx = crate::database::begin(pool).await?;
        let done = invite_meeting(&mut tx, meeting.id, due, now)
            .await
            .with_context(|| format!("failed to invite to {}", meeting.meeting_ref))?;
        tx.commit()
            .await
            .context("failed to commit the invitations")?;
        invited.invitations += done.invitations;
        invited.updates += done.updates;
        invited.cancellations += done.cancellations;
    }
    Ok(invited)
}

/// One meeting's invitations, in the caller's transaction.
async fn invite_meeting(
    tx: &mut PgConnection,
    meeting_id: i64,
    due: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Invited> {
    let Some(meeting) = store::lock_meeting(tx, meeting_id).await? else {
        return Ok(Invited::default());
    };
    let sent = store::invitations(tx, meeting.id).await?;
    let version = Version::of(&meeting);
    let fingerprint = if meeting.cancelled {
        "cancelled".to_owned()
    } else {
        serde_json::to_string(&version).context("failed to write the invitation version")?
    };
    let before: Option<Version> = meeting
        .invitation_fingerprint
        .as_deref()
        .and_then(|f| serde_json::from_str(f).ok());
    let mut sequence = meeting.invitation_sequence;
    let mut changed = Vec::new();
    if meeting.invitation_fingerprint.as_deref() != Some(fingerprint.as_str()) {
        // The first version keeps SEQUENCE 0; every later one (a change, a cancellation,
        // a cancellation withdrawn) raises it, if anyone was invited to the one before.
        if !sent.is_empty() {
            sequence += 1;
            if let Some(before) = &before {
                changed = version.changed_from(before);
            }
        }
        store::set_invitation_version(tx, meeting.id, sequence, &fingerprint).await?;
    }
    let method = if meeting.cancelled {
        Method::Cancel
    } else {
        Method::Request
    };
    let members = members::board_members(tx, meeting.board_id).await?;
    let mut invited = Invited::default();
    let mut queued = Vec::new();
    for member in &members {
        let last = sent.iter().find(|s| s.member_id == member.id);
        let owed = match (method, last) {
            // A cancellation goes only to those invited.
            (Method::Cancel, Some(last)) => last.method == "REQUEST",
            (Method::Cancel, None) => false,
            (Method::Request, Some(last)) => last.sequence < sequence || last.method == "CANCEL",
            (Method::Request, None) => due && member.circulation,
        };
        if !owed {
            continue;
        }
        let Some(to) = member.recipient() else {
            continue;
        };
        let calendar = icalendar::Invitation {
            uid: icalendar::meeting_uid(&meeting.meeting_ref, &meeting.board_address),
            sequence,
            method,
            stamp: now,
            zone: meeting.zone,
            when: When::of(meeting.date, meeting.time, meeting.end_time),
            summary: if meeting.title == meeting.board_name {
                meeting.title.clone()
            } else {
                format!("{}: {}", meeting.board_name, meeting.title)
            },
            description: format!(
                "{} ({}). Answer from your calendar, or reply to the email this came with.",
                meeting.title, meeting.meeting_ref
            ),
            location: meeting.location.clone(),
            organizer: Person {
                name: Some(meeting.board_name.clone()),
                address: meeting.board_address.clone(),
            },
            attendee: Person {
                name: Some(member.name.clone()),
                address: to.address.as_str().to_owned(),
            },
        };
        let context = mail::Invitation {
            method: method.as_str().to_owned(),
            sequence,
            when_text: when_text(&meeting),
            location: meeting.location.clone(),
            changed: if last.is_some_and(|l| l.method == "REQUEST") {
                changed.clone()
            } else {
                Vec::new()
            },
            calendar: mail::CalendarPart {
                method: method.as_str().to_owned(),
                text: calendar.to_ics(),
            },
        };
        let mut row = NewOutboxMessage::mail(meeting.board_id, to, &context);
        row.meeting_id = Some(meeting.id);
        row.not_after = Some(starts_at(&meeting));
        let outbox_id = outbox::enqueue(tx, row, now).await?;
        store::record_invitation(
            tx,
            meeting.id,
            member.id,
            sequence,
            method.as_str(),
            outbox_id,
            now,
        )
        .await?;
        match (method, last) {
            (Method::Cancel, _) => invited.cancellations += 1,
            (Method::Request, Some(l)) if l.method == "REQUEST" => invited.updates += 1,
            (Method::Request, _) => invited.invitations += 1,
        }
        queued.push(json!({"member": member.name, "outbox": outbox_id}));
    }
    if !queued.is_empty() {
        events::record(
            tx,
            NewEvent {
                board_id: Some(meeting.board_id),
                actor: "system",
                kind: "meeting.invited",
                subject: Some(("meeting", meeting.id)),
                detail: json!({
                    "meeting": meeting.meeting_ref,
                    "method": method.as_str(),
                    "sequence": sequence,
                    "changed": changed,
                    "sent": queued,
                }),
            },
        )
        .await?;
    }
    Ok(invited)
}
