//! `minuted meetings list`: every meeting in a line. `minuted meetings status REF`: the
//! secretariat's first question every morning before a meeting — who has sent their
//! update, who is still outstanding. `meetings attendance REF`: who is coming.

use super::known::Named;
use super::{table, with_database, MeetingsCommand};
use crate::config::Loaded;
use crate::store::attendance::{self, AttendanceView};
use crate::store::meeting_status::{self, MeetingStatusView, MeetingSummary, UpdateReceived};

pub async fn run(command: MeetingsCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        MeetingsCommand::List { output } => {
            let meetings = with_database(loaded, async |pool| {
                Ok(meeting_status::meetings(pool).await?)
            })
            .await?;
            output.print(&meetings[..], render_list)
        }
        MeetingsCommand::Status { reference, output } => {
            let view = with_database(loaded, async |pool| {
                let reference = Named::Meeting.spelled(pool, &reference).await?;
                let status = meeting_status::meeting_status(pool, &reference).await?;
                let mut conn = pool.acquire().await?;
                let attendance = attendance::attendance_view(&mut conn, &reference).await?;
                Ok(StatusView { status, attendance })
            })
            .await?;
            output.print(&view, |v| {
                let mut text = render(&v.status);
                text.push_str(&attendance_line(&v.attendance));
                text
            })
        }
        MeetingsCommand::Attendance { reference, output } => {
            let view = with_database(loaded, async |pool| {
                let reference = Named::Meeting.spelled(pool, &reference).await?;
                let mut conn = pool.acquire().await?;
                Ok(attendance::attendance_view(&mut conn, &reference).await?)
            })
            .await?;
            output.print(&view, render_attendance)
        }
    }
}

fn render_list(meetings: &[MeetingSummary]) -> String {
    let columns = [
        table::left("REF", 15),
        table::left("DATE", 10),
        table::left("TIME", 5),
        table::left("PAPERS BY", 10),
        table::left("STATUS", 16),
        table::left("REPORTED", 8),
        table::right("OUTSTANDING", 11),
        table::left("MINUTES", 0),
    ];
    let mut out = table::list(&columns, meetings, "no meetings", |m| {
        vec![
            m.head.meeting_ref.clone(),
            m.head.date.to_string(),
            m.head
                .time
                .map_or_else(|| "-".to_owned(), |t| t.format("%H:%M").to_string()),
            m.head
                .papers_deadline
                .map_or_else(|| "-".to_owned(), |d| d.to_string()),
            if m.cancelled {
                "cancelled".to_owned()
            } else {
                m.status.replace('_', " ")
            },
            format!("{} of {}", m.reported, m.expected),
            m.outstanding.len().to_string(),
            minutes_state(m),
        ]
    });
    if !meetings.is_empty() {
        out.push_str("`minuted meetings status REF` for one meeting's updates\n");
    }
    out
}

/// How far a meeting's minutes have got, in a few words.
fn minutes_state(meeting: &MeetingSummary) -> String {
    match &meeting.minutes {
        Some(minutes) => {
            let status = match minutes.status.as_str() {
                "error" => "unreadable",
                other => other,
            };
            format!("{status} (revision {})", minutes.revision)
        }
        None if meeting.draft_minutes_received > 0 => "received, not yet read".to_owned(),
        None => "none".to_owned(),
    }
}

/// A meeting's status with its attendance beside it.
#[derive(serde::Serialize)]
struct StatusView {
    #[serde(flatten)]
    status: MeetingStatusView,
    attendance: AttendanceView,
}

/// One line of who is coming, for `meetings status`.
fn attendance_line(view: &AttendanceView) -> String {
    let apologies: Vec<String> = view
        .members
        .iter()
        .filter(|m| m.response.as_deref() == Some("apologies"))
        .map(|m| match &m.deputy {
            Some(deputy) => format!("{} (deputy {deputy})", m.member),
            None => m.member.clone(),
        })
        .collect();
    format!(
        "\nAttendance: invited {}; attending {}; apologies {}{}; tentative {}; no response {} (`meetings attendance {}` for each member)\n",
        view.invited,
        view.attending,
        view.apologies,
        if apologies.is_empty() {
            String::new()
        } else {
            format!(" ({})", apologies.join(", "))
        },
        view.tentative,
        view.no_response,
        view.meeting_ref,
    )
}

fn render_attendance(view: &AttendanceView) -> String {
    let mut out = format!(
        "{}  {}{}

Invited: {}; attending: {}; apologies: {}; tentative: {}; no response: {}

",
        view.meeting_ref,
        view.date,
        if view.cancelled { "  [cancelled]" } else { "" },
        view.invited,
        view.attending,
        view.apologies,
        view.tentative,
        view.no_response,
    );
    let columns = [
        table::left("MEMBER", 26),
        table::left("ORGANISATION", 14),
        table::left("INVITED", 10),
        table::left("ANSWER", 11),
        table::left("DETAIL", 0),
    ];
    out.push_str(&table::list(&columns, &view.members, "no members", |m| {
        let invited = match (&m.invitation, m.sequence) {
            (Some(method), Some(sequence)) if method == "REQUEST" && sequence > 0 => {
                format!("yes (v{})", sequence + 1)
            }
            (Some(method), _) if method == "REQUEST" => "yes".to_owned(),
            (Some(_), _) => "cancelled".to_owned(),
            (None, _) => "not yet".to_owned(),
        };
        let mut detail = Vec::new();
        if let Some(deputy) = &m.deputy {
            detail.push(match m.deputy_source.as_deref() {
                Some("registry") => format!("deputy {deputy} (registry, proposed)"),
                _ => format!("deputy {deputy}"),
            });
        }
        if let Some(reason) = &m.reason {
            detail.push(format!("\"{}\"", table::clip(reason, 60)));
        }
        if m.late {
            detail.push("late: after the meeting started".to_owned());
        }
        vec![
            table::clip(&m.member, 26),
            m.organisation.clone().unwrap_or_else(|| "-".into()),
            invited,
            m.response.clone().unwrap_or_else(|| "no response".into()),
            detail.join("; "),
        ]
    }));
    out
}

fn update_line(update: &UpdateReceived) -> String {
    let about = match (&update.item, &update.action) {
        (Some(item), Some(action)) => format!("item {item}, {action}"),
        (Some(item), None) => format!("item {item}"),
        (None, Some(action)) => action.clone(),
        (None, None) => "no item".to_owned(),
    };
    format!(
        "#{} {} {} ({}, {})",
        update.message,
        update.received_at.format("%Y-%m-%d %H:%M"),
        update.from.as_deref().unwrap_or("(no sender)"),
        about,
        update.kind
    )
}

fn render(view: &MeetingStatusView) -> String {
    let mut out = format!(
        "{}  {}  {}  [{}{}]\n\n",
        view.meeting_ref,
        view.date,
        view.title,
        view.status,
        view.papers_deadline
            .map(|d| format!(", papers by {d}"))
            .unwrap_or_default()
    );
    out.push_str(&format!(
        "Expected to report: {}; outstanding: {}{}\n",
        view.expected.len(),
        view.outstanding.len(),
        if view.outstanding.is_empty() {
            String::new()
        } else {
            format!(" ({})", view.outstanding.join(", "))
        }
    ));
    let width = view
        .expected
        .iter()
        .map(|e| e.organisation.chars().count())
        .max()
        .unwrap_or(0)
        .max("ORGANISATION".len());
    let leads_width = view
        .expected
        .iter()
        .map(|e| e.leads.join(", ").chars().count())
        .max()
        .unwrap_or(0)
        .max("LEADS".len());
    let actions_width = view
        .expected
        .iter()
        .map(|e| e.actions.join(", ").chars().count())
        .max()
        .unwrap_or(0)
        .max("OPEN ACTIONS".len());
    out.push_str(&format!(
        "{:<width$}  {:<leads_width$}  {:<actions_width$}  UPDATES\n",
        "ORGANISATION", "LEADS", "OPEN ACTIONS"
    ));
    for expected in &view.expected {
        let leads = expected.leads.join(", ");
        let actions = expected.actions.join(", ");
        let mut updates = expected.updates.iter().map(update_line);
        let first = updates.next().unwrap_or_else(|| "OUTSTANDING".to_owned());
        out.push_str(&format!(
            "{:<width$}  {:<leads_width$}  {:<actions_width$}  {first}\n",
            expected.organisation, leads, actions
        ));
        for more in updates {
            out.push_str(&format!(
                "{:<width$}  {:<leads_width$}  {:<actions_width$}  {more}\n",
                "", "", ""
            ));
        }
    }
    if !view.other_updates.is_empty() {
        out.push_str("\nOther updates:\n");
        for update in &view.other_updates {
            out.push_str(&format!(
                "  {} {}\n",
                update
                    .organisation
                    .as_deref()
                    .unwrap_or("(no organisation)"),
                update_line(update)
            ));
        }
    }
    out.push_str("\nDraft minutes: ");
    if view.draft_minutes.is_empty() {
        out.push_str("none received\n");
    } else {
        out.push('\n');
        for minutes in &view.draft_minutes {
            out.push_str(&format!(
                "  #{} {} {} {}{}\n",
                minutes.message,
                minutes.received_at.format("%Y-%m-%d %H:%M"),
                minutes.from.as_deref().unwrap_or("(no sender)"),
                minutes.subject.as_deref().unwrap_or("(no subject)"),
                if minutes.attachments.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", minutes.attachments.join(", "))
                }
            ));
        }
    }
    out.push_str(&format!(
        "Triage: {} for this meeting, {} in all; quarantined: {}; acknowledgements not yet sent: {}\n",
        view.triage_for_meeting,
        view.triage_total,
        view.quarantined_total,
        view.acknowledgements_unsent
    ));
    out
}
