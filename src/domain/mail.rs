//! The typed context of each email kind: what a builder puts in an outbox row and what its
//! templates may read, beside the keys every kind gets from the registry when it is
//! rendered (`board`, `recipient`, `reply_address`, `meeting`, `attachments`; see
//! `outbox::context`).
//!
//! The builders are in four stages (filing, minutes, approval, the schedule) and in the
//! alarms; the outbox renders what they queued, and the filing step reads some keys back
//! from what was sent (`item`, `action`, `actions[].ref`, `message`, `undo_offered`),
//! so the types sit here, below all of them. `templates` checks each kind's example
//! context against its type, so an example, a template and a builder cannot drift apart.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::outbound::MailKind;

/// A context that belongs to one kind of email.
pub trait MailContext: Serialize {
    fn kind(&self) -> MailKind;

    /// The context as stored in the outbox row. Serialising these types cannot fail (no
    /// map has other than string keys); if it ever did, the outbox refuses the null.
    fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// An acknowledgement of a filed update, to its sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    /// The stored message acknowledged (`messages.id`).
    pub message: i64,
    /// The filing kind (`written_update`, `action_update`, ...).
    pub kind: String,
    pub item: Option<String>,
    pub action: Option<String>,
    pub original_subject: String,
    pub received_text: String,
    /// What the message was filed as, in words.
    pub filed_as: String,
    /// "Meeting ...", "Item ...", "Action ...", "From ...", and what applying it did.
    pub filed_against: Vec<String>,
    /// What applying an action update did ("LCJB-A17 marked done").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl MailContext for Acknowledgement {
    fn kind(&self) -> MailKind {
        MailKind::Acknowledgement
    }
}

/// Our answer to a reply we could not act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyHelp {
    /// The stored message answered.
    pub message: i64,
    pub original_subject: String,
    /// What the reply answered: "our approval request about LCJB-2023-09-20".
    pub answered: String,
    /// What we made of it: "an action update".
    pub understood: String,
    /// Why we could not act on it.
    pub why: String,
    /// What happens now.
    pub next_step: String,
    /// Replies that would have worked, each exactly as it should be typed.
    pub would_work: Vec<String>,
    /// Where such a reply goes: "this email", or the approval request itself (only a
    /// reply to the request carries the approver's token).
    pub reply_to: String,
}

impl MailContext for ReplyHelp {
    fn kind(&self) -> MailKind {
        MailKind::ReplyHelp
    }
}

/// An approval request, to one approver: for a minutes revision or a meeting pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// "the draft minutes of the meeting on ... (version 2)".
    pub what: String,
    pub summary: Vec<String>,
    /// Names in the minutes the registry does not know.
    pub unmatched_names: Vec<String>,
    /// The agenda items the minutes record.
    pub items: Vec<AgendaLine>,
    /// Actions found, numbered as `APPROVE without N` names them.
    pub candidate_actions: Vec<CandidateAction>,
    pub has_inferred_actions: bool,
    /// The word-level changes from the previous version.
    pub changes: Vec<Change>,
    pub more_changes: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_pack_id: Option<i64>,
    /// Filled per approver when the request is issued.
    #[serde(default)]
    pub expires_text: String,
    #[serde(default)]
    pub approval_request_id: i64,
}

impl MailContext for ApprovalRequest {
    fn kind(&self) -> MailKind {
        MailKind::ApprovalRequest
    }
}

/// An agenda item as an approval request lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgendaLine {
    pub number: String,
    pub title: String,
}

/// An agenda item with the organisation leading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    pub number: String,
    pub title: String,
    pub lead: Option<String>,
}

/// An action found in draft minutes, as the approver is asked about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateAction {
    pub number: i32,
    pub text: String,
    pub owner: String,
    pub item: Option<String>,
    pub due: Option<String>,
    /// Written as an action in the minutes, rather than found in the text.
    pub explicit: bool,
}

/// A run of words in a change: kept, removed or added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    pub text: String,
    pub removed: bool,
    pub added: bool,
}

/// One changed place: the line before it, the words of the changed lines with what was
/// removed and added marked, and the line after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub before: Option<String>,
    pub words: Vec<Words>,
    pub after: Option<String>,
}

/// What an approval reply decided, or why nothing was decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalResult {
    /// The revision or pack decided on, and its number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_pack_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<i32>,
    pub what: String,
    pub approved: bool,
    /// The subject's first words when the result is not a plain approval or rejection.
    pub headline: Option<String>,
    /// "approved", "rejected", "withdrew the approval of", ...
    pub decision: String,
    pub decided_by: String,
    pub decided_text: String,
    pub reason: Option<String>,
    pub next_step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_request_id: Option<i64>,
    /// The approver's confirmation, whose Reply-To carries their token and offers UNDO.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undo_offered: bool,
}

impl MailContext for ApprovalResult {
    fn kind(&self) -> MailKind {
        MailKind::ApprovalResult
    }
}

/// Approved minutes, to every member who receives circulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Circulation {
    pub approved_text: String,
    /// The next meeting, in the registry's shape (as `meeting` is).
    pub next_meeting: Option<Value>,
    pub revision_id: i64,
    pub minutes_text: String,
}

impl MailContext for Circulation {
    fn kind(&self) -> MailKind {
        MailKind::Circulation
    }
}

/// The actions of approved minutes, to their owners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionPack {
    pub actions: Vec<ActionLine>,
    pub revision_id: i64,
    /// The date of the meeting that raised the actions: "Wednesday 20 September 2023".
    #[serde(default)]
    pub raised_text: String,
}

impl MailContext for ActionPack {
    fn kind(&self) -> MailKind {
        MailKind::ActionPack
    }
}

/// An action as action packs, update requests, chasers and the meeting pack's action log
/// show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionLine {
    #[serde(rename = "ref")]
    pub reference: String,
    pub text: String,
    pub owner: String,
    pub due_text: String,
    pub status: String,
    /// The meeting it was raised at.
    pub raised_at: Option<String>,
    pub item: Option<String>,
    #[serde(default)]
    pub latest_update: Option<String>,
    #[serde(default)]
    pub latest_update_at: Option<DateTime<Utc>>,
    /// Open and past its due date (a date, or a month named in the minutes' words).
    #[serde(default)]
    pub overdue: bool,
}

/// A request for an organisation's written update, or the chaser when it is late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    /// A chaser rather than the first request.
    #[serde(skip)]
    pub chaser: bool,
    pub organisation: String,
    pub deadline_text: String,
    pub deadline_at: DateTime<Utc>,
    pub overdue: bool,
    /// The items the organisation leads.
    pub items: Vec<AgendaItem>,
    /// The open actions it owns.
    pub actions: Vec<ActionLine>,
    /// The one item (else the one action) a reply is filed against.
    pub item: Option<String>,
    pub action: Option<String>,
    pub schedule_job_id: i64,
    /// What has come from the organisation for this meeting so far ("an action update
    /// on LCJB-A17, received Monday 4 December 2023").
    #[serde(default)]
    pub received: Vec<String>,
}

impl MailContext for UpdateRequest {
    fn kind(&self) -> MailKind {
        if self.chaser {
            MailKind::Chaser
        } else {
            MailKind::UpdateRequest
        }
    }
}

/// What a meeting pack holds, frozen when it is compiled: what is approved is what is
/// sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackContent {
    pub meeting_ref: String,
    pub items: Vec<AgendaItem>,
    pub updates_received: Vec<PackUpdate>,
    /// Organisations expected to report that did not.
    pub outstanding: Vec<String>,
    pub actions: Vec<ActionLine>,
    /// Expected attendance, from the register: who said they will attend.
    #[serde(default)]
    pub attending: Vec<String>,
    /// Who sent apologies, with who attends in their place.
    #[serde(default)]
    pub apologies: Vec<String>,
}

/// A written update as the pack carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackUpdate {
    pub message: i64,
    pub organisation: String,
    pub from: Option<String>,
    pub kind: String,
    pub item: Option<String>,
    pub action: Option<String>,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    pub received_text: String,
    /// The sender's own words.
    pub text: String,
    pub files: Vec<PackFile>,
}

/// A file of an update: attached to the pack, or named as not attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub attachment_id: i64,
    pub attached: bool,
}

/// An approved meeting pack, to every member who receives circulation: its frozen
/// content as stored, and the pack's id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeetingPack {
    #[serde(flatten)]
    pub content: Map<String, Value>,
    pub meeting_pack_id: i64,
}

impl MailContext for MeetingPack {
    fn kind(&self) -> MailKind {
        MailKind::MeetingPack
    }
}

/// Mail that failed for good, to the secretariat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BounceNotice {
    pub count: usize,
    pub failures: Vec<Failure>,
}

impl MailContext for BounceNotice {
    fn kind(&self) -> MailKind {
        MailKind::BounceNotice
    }
}

/// One failed email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// The outbox row.
    pub id: i64,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub status: String,
    pub reason: String,
    pub meeting_ref: Option<String>,
    pub when_text: String,
}

/// Messages waiting in triage, to the secretariat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageNotice {
    pub count: usize,
    /// How many wait beyond those listed.
    pub more: usize,
    pub messages: Vec<Waiting>,
}

impl MailContext for TriageNotice {
    fn kind(&self) -> MailKind {
        MailKind::TriageNotice
    }
}

/// One message waiting in triage, with the best guess made for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiting {
    pub id: i64,
    pub from: String,
    pub received_text: String,
    pub subject: String,
    pub guess: String,
    pub why: String,
}

/// An alarm when mail stops (or its end), to the secretariat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// `mailbox` or `outgoing`.
    pub service: String,
    pub what: String,
    pub what_capital: String,
    pub resolved: bool,
    pub opened_text: String,
    pub resolved_text: Option<String>,
    pub reason: String,
    pub next_step: String,
}

impl MailContext for Alert {
    fn kind(&self) -> MailKind {
        MailKind::Alert
    }
}

/// A meeting invitation to one member: the iCalendar text (`calendar`), which the outbox
/// sends as the message's `text/calendar` part and as `invite.ics`, and what the letter
/// says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    /// `REQUEST` (an invitation, or an update when `sequence` > 0) or `CANCEL`.
    pub method: String,
    pub sequence: i32,
    /// "Wednesday 13 December 2023, 10:00 to 12:00 GMT".
    pub when_text: String,
    pub location: Option<String>,
    /// What changed since the last invitation ("the time", "the place"), for an update.
    pub changed: Vec<String>,
    pub calendar: CalendarPart,
}

/// An iCalendar object to send with an email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarPart {
    /// The iTIP method, as the `text/calendar` part's `method` parameter repeats it.
    pub method: String,
    pub text: String,
}

impl CalendarPart {
    /// The calendar a stored context carries, if any.
    pub fn of(context: &Value) -> Option<CalendarPart> {
        serde_json::from_value(context.get("calendar")?.clone()).ok()
    }
}

impl MailContext for Invitation {
    fn kind(&self) -> MailKind {
        MailKind::Invitation
    }
}

/// What was recorded from a member's answer to an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceRecorded {
    /// The stored message answered.
    pub message: i64,
    pub original_subject: String,
    /// The one line: "Recorded: your apologies for Wednesday 13 December 2023; Jo
    /// Coleman attends in your place."
    pub recorded: String,
    /// The answer was recorded after the meeting had started.
    pub late: bool,
}

impl MailContext for AttendanceRecorded {
    fn kind(&self) -> MailKind {
        MailKind::AttendanceRecorded
    }
}

/// To the secretariat: apologies put a meeting's quorum at risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuorumWarning {
    /// "8 members" or "5 organisations".
    pub quorum_text: String,
    /// "6 members" expected after apologies.
    pub expected_text: String,
    /// Who sent apologies, with any deputy.
    pub apologies: Vec<String>,
    /// Members who have not answered.
    pub no_response: Vec<String>,
}

impl MailContext for QuorumWarning {
    fn kind(&self) -> MailKind {
        MailKind::QuorumWarning
    }
}

/// To the secretariat, once a day: what happened since the last digest and what waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Digest {
    /// The day it is for, "Monday 4 December 2023".
    pub date_text: String,
    /// Where the period began, "Sunday 3 December 2023 08:00 GMT".
    pub since_text: String,
    /// "3 messages: 2 written updates, 1 waiting in triage"; empty when none arrived.
    pub arrived_summary: String,
    pub arrived: Vec<DigestMessage>,
    /// Everything waiting in triage, not only what arrived today.
    pub triage: Vec<DigestMessage>,
    /// The next meeting, when its papers deadline is near and organisations are
    /// outstanding.
    pub outstanding: Option<DigestOutstanding>,
    /// Sends that failed or bounced in the period, and addresses marked bouncing.
    pub failures: Vec<DigestFailure>,
    pub bouncing: Vec<String>,
    pub overdue: Vec<DigestAction>,
    /// Approval requests waiting for an answer, in words.
    pub approvals: Vec<String>,
}

/// One message in the digest: who, what, and what it was filed as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestMessage {
    /// `messages.id`, for `minuted messages show`.
    pub id: i64,
    pub received_text: String,
    pub from: String,
    pub subject: String,
    /// "written update for LCJB-2023-12-13 from MPS", or the best guess for triage.
    pub filed_as: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestOutstanding {
    pub meeting_ref: String,
    pub meeting_date_text: String,
    pub deadline_text: String,
    pub organisations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestFailure {
    pub to: String,
    pub subject: String,
    /// `failed` or `bounced`, with the server's words when there are any.
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestAction {
    #[serde(rename = "ref")]
    pub reference: String,
    pub owner: String,
    pub text: String,
    pub due: String,
}

impl MailContext for Digest {
    fn kind(&self) -> MailKind {
        MailKind::Digest
    }
}
