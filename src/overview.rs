//! What the secretariat looks at: meetings with who has reported and who is coming, the
//! triage queue, approvals, the action register, outbox problems and the last events.
//!
//! One read model for the status page (all of it) and the daily digest (a day of it), built
//! from the same store views the commands print, so the page, the digest and
//! `meetings status` never disagree. Reads only.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use crate::store::actions::{self, ActionFilter, ActionView};
use crate::store::attendance::{self, AttendanceView};
use crate::store::meeting_status::{self, MeetingStatusView};
use crate::store::overview::{
    self as store, ApprovalLine, BouncingAddress, EventLine, OutboxProblem,
};
use crate::store::triage::{self, TriageRow};

/// Past meetings shown, latest first, for their minutes.
const RECENT_MEETINGS: i64 = 3;
/// Meetings up to this many days ahead are shown.
const AHEAD_DAYS: i64 = 180;
/// Decided approvals shown beside the open ones.
const DECIDED_APPROVALS: i64 = 20;
/// Failed and bounced messages shown.
const OUTBOX_PROBLEMS: i64 = 50;
/// Audit events shown.
const EVENTS: i64 = 50;

#[derive(Debug, Serialize)]
pub struct Overview {
    pub generated_at: DateTime<Utc>,
    /// Recent and upcoming meetings, oldest first.
    pub meetings: Vec<MeetingOverview>,
    pub triage: Vec<TriageRow>,
    /// Open requests first, then the latest decided.
    pub approvals: Vec<ApprovalLine>,
    /// Open actions, overdue marked.
    pub actions: Vec<ActionView>,
    pub outbox_problems: Vec<OutboxProblem>,
    pub bouncing: Vec<BouncingAddress>,
    /// Newest first.
    pub events: Vec<EventLine>,
}

#[derive(Debug, Serialize)]
pub struct MeetingOverview {
    /// On or after today.
    pub upcoming: bool,
    pub status: MeetingStatusView,
    pub attendance: AttendanceView,
}

impl Overview {
    /// Everything, for `board_id` or every board, as of `now` (`today` in the board's zone).
    pub async fn read(
        conn: &mut PgConnection,
        board_id: Option<i64>,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> anyhow::Result<Overview> {
        let refs = store::meeting_refs(
            conn,
            board_id,
            today,
            today + Duration::days(AHEAD_DAYS),
            RECENT_MEETINGS,
        )
        .await?;
        let mut meetings = Vec::with_capacity(refs.len());
        for reference in refs {
            let status = meeting_status::meeting_status_on(conn, &reference).await?;
            let attendance = attendance::attendance_view(conn, &reference).await?;
            meetings.push(MeetingOverview {
                upcoming: status.date >= today,
                status,
                attendance,
            });
        }
        Ok(Overview {
            generated_at: now,
            meetings,
            triage: triage::triage_on(conn, board_id, false, None).await?,
            approvals: store::approvals(conn, board_id, DECIDED_APPROVALS).await?,
            actions: open_actions(conn, board_id, today).await?,
            outbox_problems: store::outbox_problems(conn, board_id, None, OUTBOX_PROBLEMS).await?,
            bouncing: store::bouncing_addresses(conn, board_id).await?,
            events: store::events(conn, board_id, EVENTS).await?,
        })
    }
}

/// The open actions of `board_id` (or every board), overdue marked as of `today`.
pub async fn open_actions(
    conn: &mut PgConnection,
    board_id: Option<i64>,
    today: NaiveDate,
) -> anyhow::Result<Vec<ActionView>> {
    let filter = ActionFilter {
        board_id,
        open_only: true,
        ..ActionFilter::default()
    };
    let mut rows = actions::list_on(conn, &filter).await?;
    crate::actions::mark_overdue(&mut rows, today);
    Ok(rows)
}

/// The best guess for a message in triage, in words: "written update for
/// LCJB-2023-12-13, item 2.b from MPS".
pub fn best_guess(t: &TriageRow) -> String {
    let mut words = kind_words(&t.kind).to_owned();
    if let Some(meeting) = &t.meeting {
        words.push_str(&format!(" for {meeting}"));
    }
    if let Some(item) = &t.item {
        words.push_str(&format!(", item {item}"));
    }
    if let Some(action) = &t.action {
        words.push_str(&format!(", action {action}"));
    }
    if let Some(org) = &t.organisation {
        words.push_str(&format!(" from {org}"));
    }
    words
}

/// What an approval request is about: "Draft minutes of LCJB-2023-09-20".
pub fn approval_what(a: &ApprovalLine) -> String {
    format!(
        "{} {}",
        if a.what == "meeting_pack" {
            "Meeting pack for"
        } else {
            "Draft minutes of"
        },
        a.meeting
            .as_deref()
            .unwrap_or("a meeting no longer in the registry")
    )
}

/// A filing kind as the secretariat says it.
pub fn kind_words(kind: &str) -> &str {
    match kind {
        "draft_minutes" => "draft minutes",
        "written_update" => "written update",
        "approval_reply" => "approval reply",
        "action_update" => "action update",
        "bounce" => "bounce",
        "auto_reply" => "automatic reply",
        "attendance_response" => "answer to an invitation",
        "unrelated" => "not for the board",
        other => other,
    }
}
