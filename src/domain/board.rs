//! The board as filing reads it from the database: its organisations, members with their
//! roles ([`MemberRole`], as the registry file names them too), meetings with their
//! agendas, and the action register. One read model, made by `store::filings::snapshot`
//! and weighed by `filing`.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a member may do. `chair` and `secretariat` may approve; `observer` attends
/// without being counted as an agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    Chair,
    Secretariat,
    Member,
    Observer,
}

impl MemberRole {
    pub const ALL: [MemberRole; 4] = [
        MemberRole::Chair,
        MemberRole::Secretariat,
        MemberRole::Member,
        MemberRole::Observer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Chair => "chair",
            MemberRole::Secretariat => "secretariat",
            MemberRole::Member => "member",
            MemberRole::Observer => "observer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What filing needs to know of the registry: identities by their natural keys (meeting
/// ref, item number, organisation short name, member name), which is also how decisions
/// name them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    /// Lower-case slug, `lcjb`.
    pub board_slug: String,
    /// The board's address, `lcjb@board.example`.
    pub board_address: String,
    pub organisations: Vec<Organisation>,
    pub members: Vec<Member>,
    /// In date order.
    pub meetings: Vec<Meeting>,
    /// Open and closed actions; empty until the action register exists.
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub short: String,
    pub domains: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub organisation: Option<String>,
    /// Lower-case.
    pub addresses: Vec<String>,
    pub roles: Vec<MemberRole>,
    pub active: bool,
}

impl Member {
    pub fn is_secretariat(&self) -> bool {
        self.roles.contains(&MemberRole::Secretariat)
    }

    pub fn is_approver(&self) -> bool {
        self.roles.contains(&MemberRole::Secretariat) || self.roles.contains(&MemberRole::Chair)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    Scheduled,
    Held,
    MinutesDraft,
    MinutesApproved,
    Circulated,
}

impl MeetingStatus {
    pub fn parse(text: &str) -> MeetingStatus {
        match text {
            "held" => MeetingStatus::Held,
            "minutes_draft" => MeetingStatus::MinutesDraft,
            "minutes_approved" => MeetingStatus::MinutesApproved,
            "circulated" => MeetingStatus::Circulated,
            _ => MeetingStatus::Scheduled,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// `LCJB-2023-12-13`.
    pub reference: String,
    pub date: NaiveDate,
    pub papers_deadline: Option<NaiveDate>,
    pub status: MeetingStatus,
    /// Active items in agenda order.
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// As written on the agenda: `2.b`.
    pub number: String,
    pub title: String,
    /// Short name of the leading organisation.
    pub lead: Option<String>,
}

/// Who an address belongs to, as [`Registry::sender_of`] finds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderOf {
    /// The member's name.
    pub member: Option<String>,
    /// The member's organisation, else the organisation owning the address's domain.
    pub organisation: Option<String>,
    pub secretariat: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Action {
    /// `LCJB-A17`.
    pub reference: String,
    #[serde(default)]
    pub owner_organisation: Option<String>,
    #[serde(default)]
    pub owner_member: Option<String>,
    pub open: bool,
}
