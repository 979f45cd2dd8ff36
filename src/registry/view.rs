//! Presentation: a board as the database holds it, as `board show` prints it (text or
//! `--json`).

use serde::{Deserialize, Serialize};

use crate::domain::board::MeetingHead;

/// Everything the database holds about one board, active or not, as `board show --json`
/// prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardView {
    pub slug: String,
    pub name: String,
    pub address: String,
    /// The IANA time zone meeting times are in.
    pub timezone: String,
    pub organisations: Vec<OrganisationView>,
    pub members: Vec<MemberView>,
    pub meetings: Vec<MeetingView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationView {
    pub short: String,
    pub name: String,
    pub domains: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub name: String,
    pub initials: Option<String>,
    pub role: Option<String>,
    /// Short name of the organisation.
    pub organisation: Option<String>,
    /// Primary first.
    pub addresses: Vec<AddressView>,
    pub roles: Vec<String>,
    pub circulation: bool,
    /// Name of the member deputised for.
    pub deputy_of: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressView {
    pub address: String,
    pub primary: bool,
    /// `ok` or `bouncing`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingView {
    #[serde(flatten)]
    pub head: MeetingHead,
    /// `scheduled`, `held`, `minutes_draft`, `minutes_approved` or `circulated`.
    pub status: String,
    /// In agenda order.
    pub items: Vec<ItemView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub number: String,
    pub title: String,
    /// Short name of the lead organisation.
    pub lead: Option<String>,
    pub active: bool,
}

/// The human-readable form of `board show`: a header and one table per section.
pub fn render_text(view: &BoardView) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} ({}) <{}>, times in {}\n",
        view.name, view.slug, view.address, view.timezone
    ));

    let inactive = view.organisations.iter().filter(|o| !o.active).count();
    out.push_str(&format!(
        "\nOrganisations: {}{}\n",
        view.organisations.len(),
        inactive_note(inactive)
    ));
    let rows = view
        .organisations
        .iter()
        .map(|o| {
            vec![
                o.short.clone(),
                o.name.clone(),
                o.domains.join(", "),
                active_flag(o.active),
            ]
        })
        .collect();
    out.push_str(&table(&["SHORT", "NAME", "DOMAINS", "ACTIVE"], rows));

    let inactive = view.members.iter().filter(|m| !m.active).count();
    out.push_str(&format!(
        "\nMembers: {}{}\n",
        view.members.len(),
        inactive_note(inactive)
    ));
    let rows = view
        .members
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.initials.clone().unwrap_or_default(),
                m.organisation.clone().unwrap_or_default(),
                m.roles.join(","),
                if m.circulation { "yes" } else { "no" }.to_owned(),
                m.addresses
                    .iter()
                    .map(|a| {
                        if a.status == "ok" {
                            a.address.clone()
                        } else {
                            format!("{} ({})", a.address, a.status)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                m.deputy_of.clone().unwrap_or_default(),
                active_flag(m.active),
                m.role.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "NAME",
            "INITIALS",
            "ORGANISATION",
            "ROLES",
            "CIRCULATION",
            "ADDRESSES",
            "DEPUTY OF",
            "ACTIVE",
            "ROLE",
        ],
        rows,
    ));

    out.push_str(&format!("\nMeetings: {}\n", view.meetings.len()));
    for meeting in &view.meetings {
        let head = &meeting.head;
        let time = head
            .time
            .map(|t| format!(" {}", t.format("%H:%M")))
            .unwrap_or_default();
        let deadline = head
            .papers_deadline
            .map(|d| format!(", papers by {d}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "\n{}  {}{}  {}  [{}{}]\n",
            head.meeting_ref, head.date, time, head.title, meeting.status, deadline
        ));
        if meeting.items.is_empty() {
            out.push_str("  (no agenda items)\n");
            continue;
        }
        let rows = meeting
            .items
            .iter()
            .map(|i| {
                vec![
                    i.number.clone(),
                    i.lead.clone().unwrap_or_default(),
                    active_flag(i.active),
                    i.title.clone(),
                ]
            })
            .collect();
        for line in table(&["ITEM", "LEAD", "ACTIVE", "TITLE"], rows).lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

pub(super) fn inactive_note(inactive: usize) -> String {
    if inactive == 0 {
        String::new()
    } else {
        format!(" ({inactive} inactive)")
    }
}

pub(super) fn active_flag(active: bool) -> String {
    if active { "yes" } else { "no" }.to_owned()
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
pub(super) fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
