//! The board as the stages read it from the database: its organisations, members with
//! their roles ([`MemberRole`], as the registry file names them too), meetings with their
//! agendas, and the action register. One read model, made by the store
//! (`store::filings::snapshot`, `store::members`) and weighed by `filing`; its
//! [`Member`] is also who approval, the schedule and the outbox write to, and its
//! [`MeetingHead`] what `board show` and `meetings list` say of a meeting.

use std::fmt;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use super::address::EmailAddress;
use super::outbound::Recipient;

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

/// A member of the board, as every stage and email reads them: who they are, their
/// organisation, roles, whether they receive circulation, and their addresses. The one
/// read model of a member; `store::members` reads it, filing weighs senders against it,
/// and approval, the schedule, drafts and the outbox address mail with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// The database id (0 for a member read from a registry file, not yet stored).
    pub id: i64,
    pub name: String,
    pub initials: Option<String>,
    pub organisation_id: Option<i64>,
    /// The organisation's short name.
    pub organisation: Option<String>,
    /// The organisation's full name.
    pub organisation_name: Option<String>,
    pub roles: Vec<MemberRole>,
    pub circulation: bool,
    pub active: bool,
    /// The primary address, when the member has one.
    pub address: Option<String>,
    /// Every address, lower-case, the primary first.
    pub addresses: Vec<String>,
}

impl Member {
    pub fn has_role(&self, role: MemberRole) -> bool {
        self.roles.contains(&role)
    }

    /// Where mail to the member goes: their primary address, when they have a valid one.
    pub fn recipient(&self) -> Option<Recipient> {
        let address = EmailAddress::parse(self.address.as_deref()?).ok()?;
        Some(Recipient {
            address,
            name: Some(self.name.clone()),
            member_id: Some(self.id),
        })
    }

    pub fn is_secretariat(&self) -> bool {
        self.has_role(MemberRole::Secretariat)
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

/// Which meeting, when, and when its papers are due: the head of a meeting as `board show`
/// and `meetings list` show it (and, flattened, as their JSON has it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingHead {
    #[serde(rename = "ref")]
    pub meeting_ref: String,
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub title: String,
    pub papers_deadline: Option<NaiveDate>,
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

/// The board a message was sent to, of `boards` (id and address, in id order): the one
/// whose address (or a `+token` form of it) is among `recipients`, else the first; `None`
/// when there is none.
pub fn addressed_board(boards: &[(i64, String)], recipients: &[String]) -> Option<i64> {
    let recipients: Vec<String> = recipients.iter().map(|r| r.to_lowercase()).collect();
    let addressed = boards.iter().find(|(_, address)| {
        let address = address.to_lowercase();
        recipients
            .iter()
            .any(|r| super::address::is_same_or_tagged(r, &address))
    });
    addressed.or(boards.first()).map(|(id, _)| *id)
}
