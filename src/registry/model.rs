//! The validated registry: the board, its organisations, members, meetings and agenda
//! items, every cross-reference resolved.

use chrono::{NaiveDate, NaiveTime};

use crate::domain::address::EmailAddress;
pub use crate::domain::board::MemberRole;
use crate::domain::zone::Zone;

/// A validated registry: every cross-reference resolves, every address parses, no
/// duplicates. The store can write it without further checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    pub board: Board,
    /// In file order.
    pub organisations: Vec<Organisation>,
    /// In file order.
    pub members: Vec<Member>,
    /// In file order.
    pub meetings: Vec<Meeting>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Lower-case identifier (`lcjb`); upper-cased it prefixes meeting and action refs.
    pub slug: String,
    pub name: String,
    /// The address agencies write to; replies come back to `<local>+<token>@<domain>`.
    pub address: EmailAddress,
    /// Meeting times, papers deadlines and the schedule's times of day are read in it.
    pub timezone: Zone,
    /// The meeting is quorate with this many members present (deputies count for the
    /// member they stand in for) ...
    pub quorum_members: Option<u32>,
    /// ... or with this many organisations represented.
    pub quorum_organisations: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// The name minutes and agendas use (`MPS`, `CPS South`); unique within the board.
    pub short: String,
    pub name: String,
    /// Lower-case mail domains the organisation sends from, used to file mail from people
    /// who are not (yet) members.
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Unique within the board: members are identified by name because addresses change
    /// more often than names.
    pub name: String,
    /// As minutes write them (`LO`, `KV`); unique within the board so that "KV said" in a
    /// draft resolves to one person.
    pub initials: Option<String>,
    /// Free text such as "Deputy Commissioner of the MPS".
    pub role: Option<String>,
    /// Short name of the member's organisation.
    pub organisation: Option<String>,
    /// At least one; the first is the primary address mail is sent to.
    pub addresses: Vec<EmailAddress>,
    /// At least one, no repeats.
    pub roles: Vec<MemberRole>,
    /// Whether the member receives approved minutes and meeting packs.
    pub circulation: bool,
    /// Name of the member this one deputises for.
    pub deputy_of: Option<String>,
}

impl Member {
    pub fn primary_address(&self) -> Option<&EmailAddress> {
        self.addresses.first()
    }
}

/// The board's read model of a member as the file describes them, before it is stored
/// (so without ids): what `filing check` weighs and `minutes parse --registry` matches.
impl From<&Member> for crate::domain::board::Member {
    fn from(member: &Member) -> Self {
        crate::domain::board::Member {
            name: member.name.clone(),
            initials: member.initials.clone(),
            organisation: member.organisation.clone(),
            roles: member.roles.clone(),
            circulation: member.circulation,
            active: true,
            address: member.primary_address().map(|a| a.as_str().to_owned()),
            addresses: member
                .addresses
                .iter()
                .map(|a| a.as_str().to_lowercase())
                .collect(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// Unique within the board: a board meets at most once a day, and the date is what
    /// agencies write in subjects (`[LCJB 2023-12-13]`).
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub title: String,
    /// Written updates are due by this date; never after the meeting.
    pub papers_deadline: Option<NaiveDate>,
    /// When the meeting ends (local time); invitations say two hours after `time`
    /// when not given.
    pub end_time: Option<NaiveTime>,
    /// Where it is held, as the invitation shows it ("City Hall, Room 4", a video link).
    pub location: Option<String>,
    /// Marked cancelled: members who were invited are sent a cancellation, and nothing
    /// more is sent about it.
    pub cancelled: bool,
    /// In agenda order.
    pub items: Vec<AgendaItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaItem {
    /// As written on the agenda (`1`, `2.b`), unique within the meeting.
    pub number: String,
    pub title: String,
    /// Short name of the organisation that leads the item.
    pub lead: Option<String>,
}

impl Registry {
    /// The reference of a board's meeting on `date`: `LCJB-2023-12-13`.
    pub fn meeting_ref(board_slug: &str, date: NaiveDate) -> String {
        format!("{}-{}", board_slug.to_uppercase(), date.format("%Y-%m-%d"))
    }
}
