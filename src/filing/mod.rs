//! Filing: deciding what an inbound message is and what it belongs to — its kind (a
//! written update, draft minutes, an approval reply, an action update, a bounce, an
//! automatic reply, or unrelated), the meeting, agenda item, action, organisation and
//! member — with a confidence and the human-readable reason for every signal that
//! counted.
//!
//! [`decide`] is a pure function of the parsed message, a snapshot of the registry, what
//! minuted itself sent (Message-IDs and reply tokens) and the time. It does no I/O: the
//! filing worker in `store::filings` builds its inputs from PostgreSQL and records its
//! output. Nothing here sends, stores or verifies an approval; it only says what a
//! message looks like and how sure it is.
//!
//! Signals, strongest first: our own reply token or threading to mail we sent; bounce
//! and auto-reply markers (which are never filed as updates or approvals); subject and
//! body tags (`[LCJB 2023-12-13]`, `LCJB-A17`, `Item 2b`, dates written out); the
//! sender (a member's address, then an organisation's domain; unknown senders are
//! quarantined); attachment names; the next meeting whose papers window is open; the
//! item the sender's organisation leads. Signals that disagree lower the confidence and
//! the reasons say so.

pub mod answer;
pub mod calendar;
mod signals;
mod text;

pub use calendar::{Attendance, Participation};

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::registry::{self as file_registry, MemberRole};
use signals::ApprovalWord;

/// Below this confidence a message goes to triage unless `filing.threshold` says
/// otherwise.
pub const DEFAULT_THRESHOLD: f32 = 0.7;

// ---------------------------------------------------------------------------------------
// Inputs

/// An inbound message as filing needs it: parsed fields only, no raw bytes. Addresses are
/// compared case-insensitively; callers need not lower-case them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Message {
    pub from: Option<String>,
    pub from_name: Option<String>,
    /// The `Sender` header, when someone sends on another's behalf.
    pub sender: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Envelope recipients (`Delivered-To`, `X-Original-To`): where a reply token or a
    /// bounce address shows even when the headers do not.
    pub delivered_to: Vec<String>,
    pub subject: Option<String>,
    /// The readable text: text/plain, or HTML converted to text.
    pub body_text: Option<String>,
    /// The HTML body, when there is one: an HTML-only reply is trimmed by its structure.
    pub body_html: Option<String>,
    pub headers: Headers,
    /// Present when the message is a delivery-status notification (RFC 3464).
    pub dsn: Option<Dsn>,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub attachments: Vec<Attachment>,
}

/// The headers that say a message was written by a machine, or which list sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Headers {
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub x_autoreply: Option<String>,
    pub x_autorespond: Option<String>,
    pub list_id: Option<String>,
    pub list_unsubscribe: Option<String>,
    pub x_spam_flag: Option<String>,
    pub x_spam_status: Option<String>,
    pub authentication_results: Option<String>,
    pub return_path: Option<String>,
    /// Exim's bounces name the failed recipients here.
    pub x_failed_recipients: Option<String>,
}

impl Headers {
    /// Reads the `messages.headers` JSON object ingestion stores (keys in snake case;
    /// values strings or arrays of strings, the first of which counts).
    pub fn from_json(value: &serde_json::Value) -> Headers {
        let get = |key: &str| -> Option<String> {
            let v = value.get(key)?;
            match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Array(a) => a.iter().find_map(|x| x.as_str().map(str::to_owned)),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            }
        };
        Headers {
            auto_submitted: get("auto_submitted"),
            precedence: get("precedence"),
            x_autoreply: get("x_autoreply"),
            x_autorespond: get("x_autorespond"),
            list_id: get("list_id"),
            list_unsubscribe: get("list_unsubscribe"),
            x_spam_flag: get("x_spam_flag"),
            x_spam_status: get("x_spam_status"),
            // Every occurrence counts: each receiving server adds its own.
            authentication_results: match value.get("authentication_results") {
                Some(serde_json::Value::Array(all)) => {
                    let joined: Vec<&str> = all.iter().filter_map(|v| v.as_str()).collect();
                    (!joined.is_empty()).then(|| joined.join("\n"))
                }
                _ => get("authentication_results"),
            },
            return_path: get("return_path"),
            x_failed_recipients: get("x_failed_recipients"),
        }
    }
}

/// The machine-readable part of a delivery-status notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dsn {
    pub recipients: Vec<DsnRecipient>,
    /// The Message-ID of the message that bounced, when the report includes it.
    pub original_message_id: Option<String>,
}

impl Dsn {
    /// Reads the `messages.dsn` JSON ingestion stores: `{"message": {field: value},
    /// "recipients": [{field: value}]}`, field names lower case with `_` for `-`.
    pub fn from_json(value: &serde_json::Value) -> Dsn {
        let text = |v: &serde_json::Value, key: &str| {
            v.get(key).and_then(|x| x.as_str()).map(str::to_owned)
        };
        let recipients = value
            .get("recipients")
            .and_then(|r| r.as_array())
            .map(|all| {
                all.iter()
                    .map(|r| DsnRecipient {
                        address: text(r, "final_recipient")
                            .or_else(|| text(r, "original_recipient")),
                        action: text(r, "action").map(|a| a.to_lowercase()),
                        status: text(r, "status"),
                        diagnostic: text(r, "diagnostic_code"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Dsn {
            recipients,
            original_message_id: value
                .get("message")
                .and_then(|m| text(m, "original_message_id"))
                .or_else(|| text(value, "original_message_id")),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsnRecipient {
    /// `Final-Recipient` (or `Original-Recipient`), without the `rfc822;` type.
    pub address: Option<String>,
    /// `failed`, `delayed`, `delivered`, `relayed`, `expanded`.
    pub action: Option<String>,
    /// `5.1.1` and the like.
    pub status: Option<String>,
    pub diagnostic: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    /// The first lines of its text, when text could be extracted.
    pub first_lines: Option<String>,
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
    fn is_secretariat(&self) -> bool {
        self.roles.contains(&MemberRole::Secretariat)
    }

    fn is_approver(&self) -> bool {
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

impl Registry {
    /// The snapshot of a registry file, with every meeting scheduled and no actions: what
    /// the golden tests and a freshly imported board look like.
    pub fn from_file(registry: &file_registry::Registry) -> Registry {
        let slug = registry.board.slug.clone();
        let mut meetings: Vec<Meeting> = registry
            .meetings
            .iter()
            .map(|m| Meeting {
                reference: file_registry::Registry::meeting_ref(&slug, m.date),
                date: m.date,
                papers_deadline: m.papers_deadline,
                status: MeetingStatus::Scheduled,
                items: m
                    .items
                    .iter()
                    .map(|i| Item {
                        number: i.number.clone(),
                        title: i.title.clone(),
                        lead: i.lead.clone(),
                    })
                    .collect(),
            })
            .collect();
        meetings.sort_by_key(|m| m.date);
        Registry {
            board_slug: slug,
            board_address: registry.board.address.as_str().to_lowercase(),
            organisations: registry
                .organisations
                .iter()
                .map(|o| Organisation {
                    short: o.short.clone(),
                    domains: o.domains.clone(),
                    active: true,
                })
                .collect(),
            members: registry
                .members
                .iter()
                .map(|m| Member {
                    name: m.name.clone(),
                    organisation: m.organisation.clone(),
                    addresses: m
                        .addresses
                        .iter()
                        .map(|a| a.as_str().to_lowercase())
                        .collect(),
                    roles: m.roles.clone(),
                    active: true,
                })
                .collect(),
            meetings,
            actions: Vec::new(),
        }
    }

    fn member_by_address(&self, address: &str) -> Option<&Member> {
        // An active member wins over an inactive one holding the same address.
        self.members
            .iter()
            .filter(|m| m.addresses.iter().any(|a| a == address))
            .max_by_key(|m| m.active)
    }

    /// Who sends from `address`: the member holding it (with their organisation and
    /// whether they are of the secretariat), else the organisation owning its domain.
    pub fn sender_of(&self, address: &str) -> SenderOf {
        let address = bare_address(address);
        if let Some(member) = self.member_by_address(&address) {
            return SenderOf {
                member: Some(member.name.clone()),
                organisation: member.organisation.clone(),
                secretariat: member.is_secretariat(),
            };
        }
        let organisation = address
            .rsplit_once('@')
            .and_then(|(_, domain)| self.organisation_by_domain(domain))
            .map(|(o, _)| o.short.clone());
        SenderOf {
            member: None,
            organisation,
            secretariat: false,
        }
    }

    fn member_by_name(&self, name: &str) -> Option<&Member> {
        let wanted = normalise_name(name);
        if wanted.is_empty() {
            return None;
        }
        let mut found = self
            .members
            .iter()
            .filter(|m| normalise_name(&m.name) == wanted);
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    /// The organisation owning `domain` or the nearest parent domain: `mail.met.example`
    /// is the MPS's when `met.example` is.
    fn organisation_by_domain<'d>(&self, domain: &'d str) -> Option<(&Organisation, &'d str)> {
        let mut candidate = domain;
        loop {
            if let Some(o) = self
                .organisations
                .iter()
                .filter(|o| o.domains.iter().any(|d| d == candidate))
                .max_by_key(|o| o.active)
            {
                return Some((o, candidate));
            }
            let (_, parent) = candidate.split_once('.')?;
            if !parent.contains('.') {
                return None;
            }
            candidate = parent;
        }
    }
}

fn normalise_name(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What minuted sent, as far as replies and bounces can point back at it: by Message-ID
/// (threading), by reply token (`lcjb+<token>@...`) and by bounce token (the VERP return
/// path). The filing worker fills it with only the entries the message refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Sent {
    pub message_ids: HashMap<String, SentMessage>,
    pub reply_tokens: HashMap<String, SentMessage>,
    pub bounce_tokens: HashMap<String, SentMessage>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SentMessage {
    pub kind: SentKind,
    pub outbox_id: Option<i64>,
    pub meeting: Option<String>,
    pub item: Option<String>,
    pub action: Option<String>,
    /// Name of the member it was sent to.
    pub member: Option<String>,
    /// The address it was sent to.
    pub recipient: Option<String>,
    /// For an acknowledgement: the id of the message acknowledged.
    pub about_message: Option<i64>,
    /// Every action it listed (an action pack, update request or chaser), by ref.
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentKind {
    ApprovalRequest,
    /// What an approval reply decided ("Approved: ..."), to the approver and the
    /// secretariat.
    ApprovalResult,
    ActionPack,
    ActionChaser,
    UpdateRequest,
    UpdateChaser,
    Acknowledgement,
    Circulation,
    MeetingPack,
    /// A meeting invitation (iCalendar `METHOD:REQUEST`).
    Invitation,
    /// Our answer to a reply we could not act on.
    ReplyHelp,
    #[default]
    Other,
}

impl SentKind {
    /// Reads a template or outbox kind name; anything unknown is `Other`.
    pub fn parse(text: &str) -> SentKind {
        match text {
            "approval_request" => SentKind::ApprovalRequest,
            "approval_result" => SentKind::ApprovalResult,
            "invitation" => SentKind::Invitation,
            "reply_help" => SentKind::ReplyHelp,
            "action_pack" => SentKind::ActionPack,
            "action_chaser" => SentKind::ActionChaser,
            "update_request" => SentKind::UpdateRequest,
            "update_chaser" | "chaser" => SentKind::UpdateChaser,
            "acknowledgement" => SentKind::Acknowledgement,
            "circulation" => SentKind::Circulation,
            "meeting_pack" | "meeting_pack_request" => SentKind::MeetingPack,
            _ => SentKind::Other,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SentKind::ApprovalRequest => "approval request",
            SentKind::ApprovalResult => "notice of an approval decision",
            SentKind::Invitation => "meeting invitation",
            SentKind::ReplyHelp => "answer to a reply",
            SentKind::ActionPack => "action pack",
            SentKind::ActionChaser => "action chaser",
            SentKind::UpdateRequest => "request for written updates",
            SentKind::UpdateChaser => "chaser for a written update",
            SentKind::Acknowledgement => "acknowledgement",
            SentKind::Circulation => "circulation of minutes",
            SentKind::MeetingPack => "meeting pack",
            SentKind::Other => "message",
        }
    }
}

impl Message {
    /// Reply tokens in the recipient addresses: the `<token>` of `<local>+<token>@<domain>`
    /// where `<local>@<domain>` is the board's address.
    pub fn reply_tokens(&self, board_address: &str) -> Vec<String> {
        let board = board_address.to_lowercase();
        let Some((local, domain)) = board.split_once('@') else {
            return Vec::new();
        };
        let mut tokens: Vec<String> = Vec::new();
        for address in self.to.iter().chain(&self.cc).chain(&self.delivered_to) {
            // Tokens keep their spelling; only the board's part compares without case.
            let address = address_as_written(address);
            let Some((l, d)) = address.rsplit_once('@') else {
                continue;
            };
            if !d.eq_ignore_ascii_case(domain) {
                continue;
            }
            let Some(rest) = l
                .get(..local.len())
                .filter(|head| head.eq_ignore_ascii_case(local))
                .and_then(|_| l.get(local.len()..))
            else {
                continue;
            };
            if let Some(token) = rest.strip_prefix('+') {
                if !token.is_empty() && !tokens.iter().any(|t| t == token) {
                    tokens.push(token.to_owned());
                }
            }
        }
        tokens
    }

    /// The Message-IDs this message replies to, nearest first.
    pub fn thread_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        let mut push = |id: &str| {
            let id = id
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        };
        if let Some(id) = &self.in_reply_to {
            push(id);
        }
        for id in self.references.iter().rev() {
            push(id);
        }
        ids
    }
}

/// `Name <a@b>` or `a@b`, lower-cased, without brackets.
fn bare_address(text: &str) -> String {
    address_as_written(text).to_lowercase()
}

/// `Name <a@b>` or `a@b`, without brackets, in its own case.
fn address_as_written(text: &str) -> &str {
    let text = text.trim();
    let inner = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text,
    };
    inner.trim().trim_start_matches("mailto:")
}

/// A token as sent, or in lower case: some mail systems lower-case local parts.
fn by_token<'s>(map: &'s HashMap<String, SentMessage>, token: &str) -> Option<&'s SentMessage> {
    map.get(token).or_else(|| {
        let lower = token.to_lowercase();
        map.iter()
            .find(|(k, _)| k.to_lowercase() == lower)
            .map(|(_, v)| v)
    })
}

// ---------------------------------------------------------------------------------------
// Output

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    DraftMinutes,
    WrittenUpdate,
    ApprovalReply,
    ActionUpdate,
    Bounce,
    AutoReply,
    /// A calendar reply (accept, decline, tentative) or a plain reply to an invitation.
    AttendanceResponse,
    Unrelated,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::DraftMinutes,
        Kind::WrittenUpdate,
        Kind::ApprovalReply,
        Kind::ActionUpdate,
        Kind::Bounce,
        Kind::AutoReply,
        Kind::AttendanceResponse,
        Kind::Unrelated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DraftMinutes => "draft_minutes",
            Kind::WrittenUpdate => "written_update",
            Kind::ApprovalReply => "approval_reply",
            Kind::ActionUpdate => "action_update",
            Kind::Bounce => "bounce",
            Kind::AutoReply => "auto_reply",
            Kind::AttendanceResponse => "attendance_response",
            Kind::Unrelated => "unrelated",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Kinds that change something when filed: these are never given to a machine-written
    /// message.
    pub fn has_effect(self) -> bool {
        matches!(
            self,
            Kind::WrittenUpdate | Kind::ActionUpdate | Kind::ApprovalReply | Kind::DraftMinutes
        )
    }

    /// In words, with its article: "a written update".
    pub fn description(self) -> &'static str {
        self.describe()
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::DraftMinutes => "draft minutes",
            Kind::WrittenUpdate => "a written update",
            Kind::ApprovalReply => "an approval reply",
            Kind::ActionUpdate => "an action update",
            Kind::Bounce => "a bounce",
            Kind::AutoReply => "an automatic reply",
            Kind::AttendanceResponse => "an attendance response",
            Kind::Unrelated => "unrelated",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Filed with confidence at or above the threshold.
    Filed,
    /// Below the threshold, or signals a person must weigh: the triage queue.
    Triage,
    /// From a sender the registry does not know: never filed automatically.
    Quarantined,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Filed => "filed",
            Disposition::Triage => "triage",
            Disposition::Quarantined => "quarantined",
        }
    }
}

/// A reply to an acknowledgement asking for the acknowledged message to be re-filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The message to re-file (`messages.id`).
    pub message: i64,
    /// The item it belongs to, as the sender wrote it (`2c`), matched later against the
    /// agenda of its meeting.
    pub item: String,
}

/// What a message is, what it belongs to, how sure, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilingDecision {
    pub kind: Kind,
    /// Meeting ref, `LCJB-2023-12-13`.
    pub meeting: Option<String>,
    /// Item number as on the agenda, `2.b`.
    pub item: Option<String>,
    /// Action ref, `LCJB-A17`.
    pub action: Option<String>,
    /// Organisation short name.
    pub organisation: Option<String>,
    /// Member name.
    pub member: Option<String>,
    /// 0 to 1, two decimals.
    pub confidence: f32,
    pub disposition: Disposition,
    /// Every signal that counted, and every conflict, in words.
    pub reasons: Vec<String>,
    /// The outbox row this message replies to or bounces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<Correction>,
    /// For an attendance response: what the member answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance: Option<Attendance>,
}

// ---------------------------------------------------------------------------------------
// Weighing evidence

/// Evidence for one dimension of the decision (kind, meeting, item, ...): candidates
/// with the weights of the signals that support them.
struct Tally<K> {
    entries: Vec<(K, f32, String)>,
}

/// The outcome of a tally: the winner, how sure, and the strongest disagreement.
struct Resolved<K> {
    winner: K,
    confidence: f32,
    reasons: Vec<String>,
    runner_up: Option<(K, f32, String)>,
}

impl<K: Clone + PartialEq> Tally<K> {
    fn new() -> Self {
        Tally {
            entries: Vec::new(),
        }
    }

    fn add(&mut self, key: K, weight: f32, reason: impl Into<String>) {
        if weight > 0.0 {
            self.entries.push((key, weight.min(0.99), reason.into()));
        }
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn score(&self, key: &K) -> f32 {
        1.0 - self
            .entries
            .iter()
            .filter(|(k, _, _)| k == key)
            .fold(1.0, |miss, (_, w, _)| miss * (1.0 - w))
    }

    fn strongest(&self, key: &K) -> f32 {
        self.entries
            .iter()
            .filter(|(k, _, _)| k == key)
            .fold(0.0, |m, (_, w, _)| f32::max(m, *w))
    }

    /// Candidates in order of first mention, so ties go to what the message named first.
    fn candidates(&self) -> Vec<K> {
        let mut keys: Vec<K> = Vec::new();
        for (k, _, _) in &self.entries {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        keys
    }

    fn resolve(&self) -> Option<Resolved<K>> {
        let mut ranked: Vec<(K, f32, f32)> = self
            .candidates()
            .into_iter()
            .map(|k| {
                let s = self.score(&k);
                let strongest = self.strongest(&k);
                (k, s, strongest)
            })
            .collect();
        // Stable: equal scores keep first-mention order; a stronger single signal breaks
        // a tie in the combined score.
        ranked.sort_by(|a, b| {
            b.1.partial_cmp(&a.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.2.partial_cmp(&a.2).unwrap_or(std::cmp::Ordering::Equal))
        });
        let mut ranked = ranked.into_iter();
        let (winner, score, _) = ranked.next()?;
        let runner_up = ranked.next().map(|(k, s, _)| {
            let reason = self
                .entries
                .iter()
                .filter(|(key, _, _)| *key == k)
                .max_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal))
                .map(|(_, _, r)| r.clone())
                .unwrap_or_default();
            (k, s, reason)
        });
        // A disagreement costs little while it is faint and up to about half the
        // confidence when it is as strong as the winner: a tie always goes to a person.
        let confidence = match &runner_up {
            Some((_, r, _)) if score > 0.0 => {
                let ratio = (r / score).min(1.0);
                score * (1.0 - 0.45 * ratio * ratio)
            }
            _ => score,
        };
        let reasons = self
            .entries
            .iter()
            .filter(|(k, _, _)| *k == winner)
            .map(|(_, _, r)| r.clone())
            .collect();
        Some(Resolved {
            winner,
            confidence,
            reasons,
            runner_up,
        })
    }
}

// ---------------------------------------------------------------------------------------
// The decision

/// Who the message is from, as far as the registry knows.
#[derive(Debug, Clone, Default)]
struct Sender<'r> {
    member: Option<&'r Member>,
    organisation: Option<&'r str>,
    /// How sure the identification is.
    confidence: f32,
    /// Whether the registry knows the sender (member or organisation domain).
    known: bool,
    /// A member of the secretariat wrote (or forwarded) it.
    secretariat: bool,
    /// A chair or secretariat member wrote it.
    approver: bool,
    /// Sent from the board's own address.
    board_itself: bool,
    /// A display name that matches a member whose address this is not.
    named_like: Option<&'r Member>,
    /// The secretariat forwarded a known agency's message: the identity is the original
    /// sender's.
    forwarded_by_secretariat: bool,
}

/// The texts a message offers, strongest place first.
struct Texts {
    subject: String,
    subject_is_reply: bool,
    forwarded_subject: Option<String>,
    own: String,
    forwarded_body: Option<String>,
    quoted: String,
    attachment_names: Vec<String>,
    attachment_lines: Vec<String>,
    /// The forwarded message's `From:` line: (name, address).
    forwarded_from: Option<(Option<String>, Option<String>)>,
    /// The subject is ours, echoed by a reply to mail we sent: not evidence.
    subject_echoes_ours: bool,
}

impl Texts {
    fn read(message: &Message) -> Texts {
        let raw_subject = message.subject.as_deref().unwrap_or_default();
        let raw_subject = text::truncate(raw_subject, 1000);
        let subject = text::subject(raw_subject);
        let body_text = message.body_text.as_deref().unwrap_or_default();
        let mut body = text::body(body_text, subject.forwarded);
        // A reply's own words are read by the crate's one reader, from the HTML
        // structure when the message has no plain-text body of its own; a forward keeps
        // the split above, which also reads the forwarded message's header block.
        if body.forwarded.is_none() {
            let own = crate::text::reply::read_stored(
                message
                    .body_text
                    .as_deref()
                    .map(|t| text::truncate(t, text::MAX_BODY_CHARS)),
                message
                    .body_html
                    .as_deref()
                    .map(|h| text::truncate(h, 4 * text::MAX_BODY_CHARS)),
            );
            body.own = own.text.trim().to_owned();
        }
        let forwarded_subject = body
            .forwarded
            .as_ref()
            .and_then(|f| f.subject.as_deref())
            .map(|s| text::subject(text::truncate(s, 1000)).text);
        Texts {
            subject: subject.text,
            subject_is_reply: subject.reply,
            forwarded_subject,
            own: body.own,
            forwarded_from: body
                .forwarded
                .as_ref()
                .map(|f| (f.from_name.clone(), f.from_address.clone())),
            forwarded_body: body.forwarded.map(|f| f.body),
            quoted: body.quoted,
            subject_echoes_ours: false,
            attachment_names: message
                .attachments
                .iter()
                .take(50)
                .filter_map(|a| a.filename.as_deref())
                .map(|n| text::truncate(n, 300).to_owned())
                .collect(),
            attachment_lines: message
                .attachments
                .iter()
                .take(50)
                .filter_map(|a| a.first_lines.as_deref())
                .map(|n| text::truncate(n, 2000).to_owned())
                .collect(),
        }
    }

    /// The sender's own words and, for a forward, the forwarded message's.
    fn content(&self) -> String {
        match &self.forwarded_body {
            Some(f) if !f.is_empty() => format!("{}\n{}", self.own, f),
            _ => self.own.clone(),
        }
    }

    /// The subjects that are evidence: the message's own (unless it echoes ours) and a
    /// forwarded message's.
    fn subjects(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.subject.as_str())
            .filter(|_| !self.subject_echoes_ours)
            .chain(self.forwarded_subject.as_deref())
    }

    /// A reply to mail we sent: its subject echoes ours and what it quotes is ours, so
    /// neither is evidence of anything.
    fn answer_ours(&mut self) {
        self.subject_echoes_ours = self.subject_is_reply;
        self.quoted.clear();
    }
}

/// Decides what `message` is. Pure: the same inputs give the same decision. `threshold`
/// is `filing.threshold`: below it a message goes to triage.
pub fn decide(
    message: &Message,
    registry: &Registry,
    sent: &Sent,
    now: DateTime<Utc>,
    threshold: f32,
) -> FilingDecision {
    Decider::new(message, registry, sent, now).decide(threshold)
}

struct Decider<'a> {
    message: &'a Message,
    registry: &'a Registry,
    sent: &'a Sent,
    today: NaiveDate,
    texts: Texts,
    reasons: Vec<String>,
    /// The calendar response the message carries, if any.
    attendance: Option<Attendance>,
    /// The mail we sent that this replies to fixed its kind.
    family_decided: bool,
}

/// A message we sent that this one answers or bounces, and how we know.
struct Replying {
    sent: SentMessage,
    /// `reply token`, `bounce address`, `In-Reply-To` ...
    via: &'static str,
}

impl<'a> Decider<'a> {
    fn new(
        message: &'a Message,
        registry: &'a Registry,
        sent: &'a Sent,
        now: DateTime<Utc>,
    ) -> Self {
        Decider {
            message,
            registry,
            sent,
            today: now.date_naive(),
            texts: Texts::read(message),
            reasons: Vec::new(),
            attendance: calendar::response(message),
            family_decided: false,
        }
    }

    fn reason(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !self.reasons.contains(&text) {
            self.reasons.push(text);
        }
    }

    fn decide(mut self, threshold: f32) -> FilingDecision {
        let sender = self.sender();
        let reply = self.replying();
        if reply.is_some() {
            self.texts.answer_ours();
        }
        let bounce = self.bounce_evidence(&reply);
        let automatic = self.automatic_evidence(&reply);
        let kind = self.kind(&sender, &reply, &bounce, &automatic);
        let KindChoice {
            kind,
            confidence: kind_confidence,
            machine_signs,
        } = kind;

        let mut decision = FilingDecision {
            kind,
            meeting: None,
            item: None,
            action: None,
            organisation: sender.organisation.map(str::to_owned),
            member: sender.member.map(|m| m.name.clone()),
            confidence: 0.0,
            disposition: Disposition::Triage,
            reasons: Vec::new(),
            outbox_id: reply.as_ref().and_then(|r| r.sent.outbox_id),
            correction: None,
            attendance: None,
        };

        let mut confidence = Confidence::new(kind_confidence, "what kind of message it is");
        let family = reply.is_some() && self.family_decided;
        match kind {
            Kind::Bounce => {
                self.bounced_recipient(&mut decision, &reply);
                decision.meeting = reply.as_ref().and_then(|r| r.sent.meeting.clone());
            }
            Kind::AutoReply | Kind::Unrelated => {
                let meeting = self.meeting(kind, &sender, &reply);
                decision.meeting = meeting.map(|(m, _)| m.reference.clone());
                if kind == Kind::Unrelated {
                    if let Some(correction) = self.correction(&sender, &reply) {
                        decision.correction = Some(correction);
                    }
                }
            }
            Kind::AttendanceResponse => {
                let meeting = self.meeting(kind, &sender, &reply);
                decision.meeting = meeting.map(|(m, _)| m.reference.clone());
                decision.attendance = self.attendance.clone();
                confidence.cap(sender.confidence, "who the sender is");
                if decision.meeting.is_none() {
                    self.reason("no meeting could be chosen");
                    confidence.cap(0.3, "no meeting could be chosen");
                }
            }
            Kind::ApprovalReply => {
                let meeting = self.meeting(kind, &sender, &reply);
                decision.meeting = meeting.map(|(m, _)| m.reference.clone());
                confidence.cap(sender.confidence, "who the sender is");
                if !sender.approver {
                    self.reason("the sender is not a chair or secretariat member, who approve");
                    confidence.cap(0.5, "the sender is not a chair or secretariat member");
                }
            }
            Kind::DraftMinutes | Kind::WrittenUpdate | Kind::ActionUpdate => {
                confidence.cap(sender.confidence, "who the sender is");
                if sender.organisation.is_none() {
                    self.reason("no organisation: the sender is not known to the registry");
                    confidence.cap(0.3, "the sender is not known to the registry");
                }
                let meeting = self.meeting(kind, &sender, &reply);
                match meeting {
                    Some((meeting, meeting_confidence)) => {
                        decision.meeting = Some(meeting.reference.clone());
                        confidence.cap(
                            meeting_confidence,
                            format!("which meeting it is for ({})", meeting.reference),
                        );
                        if kind != Kind::DraftMinutes {
                            let (item, item_confidence) = self.item(kind, meeting, &sender, &reply);
                            confidence.cap(
                                item_confidence,
                                match &item {
                                    Some(item) => format!("which agenda item it is about ({item})"),
                                    None => "which agenda item it is about".to_owned(),
                                },
                            );
                            decision.item = item;
                        }
                    }
                    None => {
                        self.reason("no meeting could be chosen");
                        confidence.cap(0.3, "no meeting could be chosen");
                    }
                }
                if kind != Kind::DraftMinutes {
                    let (action, action_confidence) = self.action(kind, &sender, &reply);
                    confidence.cap(
                        action_confidence,
                        match &action {
                            Some(action) => format!("which action it is about ({action})"),
                            None => "no action could be identified".to_owned(),
                        },
                    );
                    decision.action = action;
                }
            }
        }

        // A reply whose family our token or thread fixed is not pushed to triage by
        // wording: only a failed check of who sent it may, or an action update that
        // cannot say which action it is about. An approval reply from someone other than
        // its approver stays filed: the approval step refuses it, tells them and the
        // secretariat why, and records the refusal.
        if let Some(r) = reply.as_ref().filter(|_| family) {
            if kind != Kind::ApprovalReply && !self.sender_matches_recipient(r, &sender) {
                confidence.cap(0.5, "the reply did not come from the person we wrote to");
            } else if kind == Kind::ActionUpdate && decision.action.is_none() {
                // Stays below the threshold: the sender is asked which action.
            } else if kind == Kind::ApprovalReply && !sender.approver {
                // The sender check above failed in substance: not an approver.
            } else if sender.known {
                confidence.floor(threshold);
            }
        }

        // A forged or failed-authentication sender is as good as an unknown one.
        let authentication_failed = self.authentication_failed();
        if authentication_failed {
            confidence.cap(0.4, "the sender failed authentication");
        }
        let mut confidence_value = confidence.value;

        let replying_to_ours = reply.is_some();
        let disposition = if kind == Kind::Bounce {
            if confidence_value >= threshold {
                Disposition::Filed
            } else {
                Disposition::Triage
            }
        } else if !sender.known || authentication_failed {
            if sender.board_itself {
                self.reason("from the board's own address: minuted does not file its own mail");
            } else if !authentication_failed {
                self.reason("the sender is not known to the registry: quarantined");
            } else {
                self.reason("the sender failed authentication: quarantined");
            }
            if kind == Kind::AutoReply
                && replying_to_ours
                && !authentication_failed
                && confidence_value >= threshold
            {
                Disposition::Filed
            } else {
                Disposition::Quarantined
            }
        } else if kind.has_effect() && machine_signs {
            self.reason(format!(
                "signs of an automatic message: never filed as {} without a person",
                kind.describe()
            ));
            confidence_value = confidence_value.min(threshold - 0.01).max(0.0);
            Disposition::Triage
        } else if confidence_value >= threshold {
            Disposition::Filed
        } else {
            Disposition::Triage
        };
        if disposition == Disposition::Triage && confidence_value < threshold {
            if let Some(why) = confidence.limited_by() {
                self.reason(format!(
                    "below the threshold of {threshold:.2}: limited by {why} ({:.2})",
                    round(confidence.value)
                ));
            }
        }
        let confidence = confidence_value;

        decision.confidence = round(confidence);
        decision.disposition = disposition;
        decision.reasons = self.reasons;
        decision
    }

    fn authentication_failed(&mut self) -> bool {
        let Some(results) = &self.message.headers.authentication_results else {
            return false;
        };
        let lower = results.to_lowercase();
        if lower.contains("dmarc=fail") {
            self.reason("Authentication-Results: dmarc=fail");
            return true;
        }
        false
    }

    // -- the sender ---------------------------------------------------------------------

    fn sender(&mut self) -> Sender<'a> {
        let registry = self.registry;
        let from = self
            .message
            .from
            .as_deref()
            .map(bare_address)
            .filter(|a| a.contains('@'));
        let header_sender = self
            .message
            .sender
            .as_deref()
            .map(bare_address)
            .filter(|a| a.contains('@'));
        let mut sender = match &from {
            Some(address) => self.identify(address, "sender"),
            None => {
                self.reason("the message has no From address");
                Sender::default()
            }
        };
        if !sender.known && !sender.board_itself {
            if let Some(address) = header_sender.filter(|s| Some(s) != from.as_ref()) {
                let on_behalf = self.identify(&address, "Sender header");
                if on_behalf.known {
                    sender = Sender {
                        confidence: on_behalf.confidence.min(0.75),
                        ..on_behalf
                    };
                }
            }
        }
        if !sender.known {
            if let Some(name) = self.message.from_name.as_deref() {
                if let Some(member) = registry.member_by_name(name) {
                    self.reason(format!(
                        "the display name matches member {}, but the address is not theirs",
                        member.name
                    ));
                    sender.named_like = Some(member);
                }
            }
        }
        self.forwarded_sender(sender)
    }

    /// The member or organisation an address belongs to.
    fn identify(&mut self, address: &str, role: &str) -> Sender<'a> {
        let registry = self.registry;
        let board = registry.board_address.as_str();
        let is_board = address == board
            || board.split_once('@').is_some_and(|(local, domain)| {
                address
                    .split_once('@')
                    .is_some_and(|(l, d)| d == domain && l.starts_with(&format!("{local}+")))
            });
        if is_board {
            return Sender {
                board_itself: true,
                ..Sender::default()
            };
        }
        if let Some(member) = registry.member_by_address(address) {
            let organisation = member.organisation.as_deref();
            let org_text = organisation.map_or_else(String::new, |o| format!(" of {o}"));
            let mut confidence = 0.97;
            if member.active {
                self.reason(format!(
                    "{role} {address} is member {}{org_text}",
                    member.name
                ));
            } else {
                self.reason(format!(
                    "{role} {address} is {}{org_text}, no longer an active member",
                    member.name
                ));
                confidence = 0.8;
            }
            return Sender {
                member: Some(member),
                organisation,
                confidence,
                known: true,
                secretariat: member.is_secretariat(),
                approver: member.is_approver(),
                board_itself: false,
                named_like: None,
                forwarded_by_secretariat: false,
            };
        }
        let domain = address.rsplit('@').next().unwrap_or_default();
        if let Some((organisation, matched)) = registry.organisation_by_domain(domain) {
            let mut confidence = 0.88;
            if organisation.active {
                self.reason(format!(
                    "{role}'s domain {matched} belongs to {}",
                    organisation.short
                ));
            } else {
                self.reason(format!(
                    "{role}'s domain {matched} belongs to {}, no longer active",
                    organisation.short
                ));
                confidence = 0.6;
            }
            return Sender {
                organisation: Some(organisation.short.as_str()),
                confidence,
                known: true,
                ..Sender::default()
            };
        }
        self.reason(format!(
            "{role} {address} is not a member and its domain belongs to no organisation"
        ));
        // Not zero: the best guess for a quarantined message still says how sure the rest
        // of the decision is.
        Sender {
            confidence: 0.3,
            ..Sender::default()
        }
    }

    /// For a message the secretariat forwards, the original sender is who it is from.
    fn forwarded_sender(&mut self, sender: Sender<'a>) -> Sender<'a> {
        let Some((from_name, from_address)) = self.texts.forwarded_from.clone() else {
            return sender;
        };
        let registry = self.registry;
        let original = from_address
            .as_deref()
            .and_then(|a| registry.member_by_address(a))
            .or_else(|| {
                from_name
                    .as_deref()
                    .and_then(|n| registry.member_by_name(n))
            });
        let original_organisation =
            original
                .and_then(|m| m.organisation.as_deref())
                .or_else(|| {
                    from_address
                        .as_deref()
                        .and_then(|a| a.rsplit('@').next())
                        .and_then(|d| registry.organisation_by_domain(d))
                        .map(|(o, _)| o.short.as_str())
                });
        let who = original
            .map(|m| m.name.clone())
            .or_else(|| from_address.clone())
            .or_else(|| from_name.clone())
            .unwrap_or_else(|| "an unnamed sender".to_owned());
        if sender.secretariat {
            match original_organisation {
                Some(organisation) => {
                    let secretary = sender.member.map_or("the secretariat", |m| m.name.as_str());
                    self.reason(format!(
                        "forwarded by the secretariat ({secretary}); the original sender is {who} of {organisation}"
                    ));
                    Sender {
                        member: original,
                        organisation: Some(organisation),
                        confidence: if original.is_some() { 0.92 } else { 0.85 },
                        known: true,
                        secretariat: original.is_some_and(Member::is_secretariat),
                        approver: original.is_some_and(Member::is_approver),
                        board_itself: false,
                        named_like: None,
                        forwarded_by_secretariat: true,
                    }
                }
                None => {
                    self.reason(format!(
                        "forwarded by the secretariat from {who}, whom the registry does not know"
                    ));
                    Sender {
                        organisation: None,
                        member: None,
                        confidence: 0.5,
                        ..sender
                    }
                }
            }
        } else {
            if original_organisation.is_some() && original_organisation != sender.organisation {
                self.reason(format!(
                    "forwards a message from {who} of {}",
                    original_organisation.unwrap_or_default()
                ));
            }
            sender
        }
    }

    // -- mail we sent -------------------------------------------------------------------

    fn replying(&mut self) -> Option<Replying> {
        let found = self.replying_to_anything()?;
        if found.sent.kind != SentKind::ReplyHelp {
            return Some(found);
        }
        // A reply to our answer is about what the answer was about: the mail of ours
        // further up the thread decides what it is.
        let underlying = self
            .message
            .thread_ids()
            .into_iter()
            .find_map(|id| {
                self.sent
                    .message_ids
                    .get(&id)
                    .filter(|s| s.kind != SentKind::ReplyHelp)
            })
            .cloned();
        match underlying {
            Some(sent) => {
                self.reason(format!(
                    "it answers our answer to a reply; further up the thread is our {}{}",
                    sent.kind.describe(),
                    describe_sent(&sent)
                ));
                Some(Replying {
                    sent,
                    via: "thread",
                })
            }
            None => Some(found),
        }
    }

    fn replying_to_anything(&mut self) -> Option<Replying> {
        let sent = self.sent;
        let tokens = self.message.reply_tokens(&self.registry.board_address);
        for token in &tokens {
            if let Some(s) = by_token(&sent.bounce_tokens, token) {
                self.reason(format!(
                    "sent to the bounce address of our {}{}",
                    s.kind.describe(),
                    describe_sent(s)
                ));
                return Some(Replying {
                    sent: s.clone(),
                    via: "bounce address",
                });
            }
            if let Some(s) = by_token(&sent.reply_tokens, token) {
                self.reason(format!(
                    "sent to the reply token of our {}{}",
                    s.kind.describe(),
                    describe_sent(s)
                ));
                return Some(Replying {
                    sent: s.clone(),
                    via: "reply token",
                });
            }
        }
        for id in self.message.thread_ids() {
            if let Some(s) = sent.message_ids.get(&id) {
                self.reason(format!(
                    "replies to our {}{} (Message-ID {id})",
                    s.kind.describe(),
                    describe_sent(s)
                ));
                return Some(Replying {
                    sent: s.clone(),
                    via: "thread",
                });
            }
        }
        if let Some(id) = self
            .message
            .dsn
            .as_ref()
            .and_then(|d| d.original_message_id.as_deref())
        {
            let id = id.trim().trim_start_matches('<').trim_end_matches('>');
            if let Some(s) = sent.message_ids.get(id) {
                self.reason(format!(
                    "the report is about our {}{}",
                    s.kind.describe(),
                    describe_sent(s)
                ));
                return Some(Replying {
                    sent: s.clone(),
                    via: "bounced Message-ID",
                });
            }
        }
        // A bounce address whose tag did not match its row (the snapshot left it out) is
        // not ours: a forged bounce names no outbox row.
        if let Some(token) = tokens.first() {
            self.reason(format!(
                "addressed to reply token {token}, which matches nothing we sent"
            ));
        }
        None
    }

    // -- machines ----------------------------------------------------------------------

    fn bounce_evidence(&mut self, reply: &Option<Replying>) -> Tally<()> {
        let mut tally = Tally::new();
        if let Some(dsn) = &self.message.dsn {
            let failures: Vec<String> = dsn
                .recipients
                .iter()
                .take(5)
                .map(|r| {
                    format!(
                        "{} {}{}",
                        r.action.as_deref().unwrap_or("undelivered"),
                        r.address.as_deref().unwrap_or("an unnamed recipient"),
                        r.status
                            .as_deref()
                            .map_or_else(String::new, |s| format!(" ({s})"))
                    )
                })
                .collect();
            let detail = if failures.is_empty() {
                String::new()
            } else {
                format!(": {}", failures.join(", "))
            };
            tally.add((), 0.99, format!("a delivery-status notification{detail}"));
        }
        if let Some(failed) = self.message.headers.x_failed_recipients.as_deref() {
            tally.add((), 0.85, format!("X-Failed-Recipients: {}", failed.trim()));
        }
        let from = self
            .message
            .from
            .as_deref()
            .map(bare_address)
            .unwrap_or_default();
        if signals::is_daemon_address(&from) {
            tally.add((), 0.6, format!("from the mail system ({from})"));
        }
        let subject = self.message.subject.as_deref().unwrap_or_default();
        if let Some(phrase) = signals::bounce_subject(subject) {
            tally.add((), 0.7, format!("the subject says \"{phrase}\""));
        }
        // The bounce address only confirms a bounce: out-of-office replies go there too.
        if let Some(r) = reply.as_ref().filter(|_| !tally.is_empty()) {
            if r.via == "bounce address" || r.via == "bounced Message-ID" {
                tally.add((), 0.95, format!("matched to outbox row by {}", r.via));
            }
        }
        tally
    }

    fn automatic_evidence(&mut self, reply: &Option<Replying>) -> Tally<Kind> {
        let headers = &self.message.headers;
        let mut tally = Tally::new();
        if let Some(value) = headers.auto_submitted.as_deref() {
            let v = value.trim().to_lowercase();
            if !v.is_empty() && v != "no" {
                let w = if v.starts_with("auto-replied") {
                    0.95
                } else {
                    0.9
                };
                tally.add(
                    Kind::AutoReply,
                    w,
                    format!("Auto-Submitted: {}", value.trim()),
                );
            }
        }
        for (name, value) in [
            ("X-Autoreply", &headers.x_autoreply),
            ("X-Autorespond", &headers.x_autorespond),
        ] {
            if let Some(v) = value.as_deref() {
                if !v.trim().eq_ignore_ascii_case("no") {
                    tally.add(Kind::AutoReply, 0.95, format!("{name}: {}", v.trim()));
                }
            }
        }
        let listed = headers.list_id.is_some() || headers.list_unsubscribe.is_some();
        if let Some(p) = headers.precedence.as_deref() {
            let v = p.trim().to_lowercase();
            match v.as_str() {
                "auto_reply" | "auto-reply" => {
                    tally.add(Kind::AutoReply, 0.95, format!("Precedence: {}", p.trim()));
                }
                "bulk" | "junk" | "list" if listed => {
                    tally.add(
                        Kind::Unrelated,
                        0.8,
                        format!("Precedence: {} from a mailing list", p.trim()),
                    );
                }
                "bulk" | "junk" | "list" => {
                    tally.add(Kind::AutoReply, 0.8, format!("Precedence: {}", p.trim()));
                }
                _ => {}
            }
        }
        if listed {
            let list = headers.list_id.as_deref().unwrap_or("List-Unsubscribe");
            tally.add(
                Kind::Unrelated,
                0.6,
                format!("mailing-list mail ({})", list.trim()),
            );
        }
        let subject = self.message.subject.as_deref().unwrap_or_default();
        if let Some(phrase) = signals::out_of_office_subject(subject) {
            tally.add(
                Kind::AutoReply,
                0.9,
                format!("the subject says \"{phrase}\""),
            );
        }
        if let Some(phrase) = signals::out_of_office_body(&self.texts.own) {
            tally.add(Kind::AutoReply, 0.6, format!("the text says \"{phrase}\""));
        }
        if let Some(r) = reply {
            if r.via == "bounce address" && self.message.dsn.is_none() {
                tally.add(
                    Kind::AutoReply,
                    0.7,
                    "only automatic mail is sent to a bounce address",
                );
            }
        }
        tally
    }

    // -- the kind -----------------------------------------------------------------------

    fn kind(
        &mut self,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
        bounce: &Tally<()>,
        automatic: &Tally<Kind>,
    ) -> KindChoice {
        let bounce_score = bounce.score(&());
        let auto_score = automatic.score(&Kind::AutoReply);
        if bounce_score >= 0.5 {
            for (_, _, r) in &bounce.entries {
                self.reason(r.clone());
            }
            return KindChoice {
                kind: Kind::Bounce,
                confidence: bounce_score,
                machine_signs: true,
            };
        }
        if auto_score >= 0.5 {
            for (k, _, r) in &automatic.entries {
                if *k == Kind::AutoReply {
                    self.reason(r.clone());
                }
            }
            return KindChoice {
                kind: Kind::AutoReply,
                confidence: auto_score,
                machine_signs: true,
            };
        }
        let machine_signs = bounce_score > 0.0 || auto_score > 0.0;

        // A correction answers our acknowledgement: what it says about updates is about
        // the message it corrects, not a new update.
        if let Some(r) = reply {
            if r.sent.kind == SentKind::Acknowledgement
                && signals::correction(&self.texts.own).is_some()
            {
                self.reason("a reply to our acknowledgement asking to re-file the message");
                return KindChoice {
                    kind: Kind::Unrelated,
                    confidence: 0.95,
                    machine_signs,
                };
            }
        }

        // A calendar reply says what it is in its own structure.
        if let Some(attendance) = &self.attendance {
            self.reason(format!("a calendar response: {}", attendance.describe()));
            return KindChoice {
                kind: Kind::AttendanceResponse,
                confidence: 0.95,
                machine_signs: false,
            };
        }

        // Cryptographic and threading evidence decides the family before any words do.
        if let Some(r) = reply {
            if let Some(choice) = self.reply_family(r, sender, machine_signs) {
                return choice;
            }
        }

        let mut tally: Tally<Kind> = Tally::new();
        for (k, w, r) in &automatic.entries {
            if *k == Kind::Unrelated {
                tally.add(*k, *w, r.clone());
            }
        }
        self.spam_evidence(&mut tally, sender);
        self.thread_evidence(&mut tally, sender, reply);
        self.content_evidence(&mut tally, sender, reply);

        let resolved = tally.resolve();
        let Some(resolved) = resolved else {
            return if sender.known {
                self.reason(
                    "nothing names a kind; from a known organisation, most likely a written update",
                );
                KindChoice {
                    kind: Kind::WrittenUpdate,
                    confidence: 0.45,
                    machine_signs,
                }
            } else {
                self.reason("nothing names a kind, and the sender is unknown");
                KindChoice {
                    kind: Kind::Unrelated,
                    confidence: 0.6,
                    machine_signs,
                }
            };
        };
        for r in &resolved.reasons {
            self.reason(r.clone());
        }
        if let Some((other, _, why)) = &resolved.runner_up {
            self.reason(format!("conflicting: {why} suggests {}", other.describe()));
        }
        if machine_signs {
            let machine = automatic
                .entries
                .iter()
                .map(|(_, _, r)| r)
                .chain(bounce.entries.iter().map(|(_, _, r)| r));
            for r in machine {
                self.reason(format!("conflicting: {r}"));
            }
        }
        KindChoice {
            kind: resolved.winner,
            confidence: resolved.confidence,
            machine_signs,
        }
    }

    /// The kind a reply to mail we sent must be, from what that mail asked for: our
    /// reply token or Message-ID fixes it, and no wording can change it. `None` for mail
    /// that asks for nothing in particular (circulation, an acknowledgement that is not
    /// being corrected), which the words then decide.
    fn reply_family(
        &mut self,
        r: &Replying,
        sender: &Sender<'a>,
        machine_signs: bool,
    ) -> Option<KindChoice> {
        let confidence = if r.via == "reply token" { 0.99 } else { 0.95 };
        let what = r.sent.kind.describe();
        let kind = match r.sent.kind {
            SentKind::ApprovalRequest | SentKind::ApprovalResult => Kind::ApprovalReply,
            SentKind::ActionPack | SentKind::ActionChaser => Kind::ActionUpdate,
            SentKind::UpdateRequest | SentKind::UpdateChaser => {
                if self.answers_for_an_action(r, sender) {
                    Kind::ActionUpdate
                } else {
                    Kind::WrittenUpdate
                }
            }
            SentKind::Invitation => Kind::AttendanceResponse,
            SentKind::Acknowledgement
            | SentKind::Circulation
            | SentKind::MeetingPack
            | SentKind::ReplyHelp
            | SentKind::Other => return None,
        };
        self.reason(format!(
            "a reply to our {what} ({} {}): {}",
            match r.via {
                "reply token" => "by its reply token,",
                _ => "by its thread,",
            },
            "which decides what it answers",
            kind.describe()
        ));
        self.family_decided = true;
        Some(KindChoice {
            kind,
            confidence,
            machine_signs,
        })
    }

    /// Whether a reply comes from whom the mail it answers went to, or from someone of
    /// the same organisation (a colleague answering a request passed on to them), or the
    /// secretariat.
    fn sender_matches_recipient(&mut self, r: &Replying, sender: &Sender<'a>) -> bool {
        let Some(recipient) = r.sent.recipient.as_deref().map(bare_address) else {
            return true;
        };
        let from = self.message.from.as_deref().map(bare_address);
        if from.as_deref() == Some(recipient.as_str()) {
            return true;
        }
        if sender.forwarded_by_secretariat {
            return true;
        }
        let recipient_organisation = self
            .registry
            .member_by_address(&recipient)
            .and_then(|m| m.organisation.as_deref())
            .or_else(|| {
                self.registry
                    .organisation_by_domain(recipient.rsplit('@').next().unwrap_or_default())
                    .map(|(o, _)| o.short.as_str())
            });
        if sender.secretariat
            || (recipient_organisation.is_some() && recipient_organisation == sender.organisation)
        {
            return true;
        }
        self.reason(format!(
            "our {} went to {recipient}, not to {}",
            r.sent.kind.describe(),
            from.as_deref().unwrap_or("this sender")
        ));
        false
    }

    /// Whether a reply to an update request or chaser reports on one action rather than
    /// sending a written update: it opens with `Done` or `Update:` and names an action,
    /// or the mail it answers listed actions (one makes it that action's update; with
    /// several the sender is asked which).
    fn answers_for_an_action(&mut self, r: &Replying, sender: &Sender<'a>) -> bool {
        let slug = self.registry.board_slug.clone();
        let Some(word) = signals::action_progress(&self.texts.own) else {
            return false;
        };
        if let Some(reference) = signals::actions(&self.texts.own, &slug).first() {
            self.reason(format!(
                "the reply opens with \"{word}\" and names {reference}"
            ));
            return true;
        }
        let listed = self.listed_open_actions(r, sender);
        match listed.len() {
            0 => false,
            1 => {
                self.reason(format!(
                    "the reply opens with \"{word}\" and our mail listed one open action, {}",
                    listed[0]
                ));
                true
            }
            n => {
                self.reason(format!(
                    "the reply opens with \"{word}\" but our mail listed {n} open actions ({}): it must say which",
                    listed.join(", ")
                ));
                true
            }
        }
    }

    /// The open actions of the sender's organisation that the mail answered listed.
    fn listed_open_actions(&self, r: &Replying, sender: &Sender<'a>) -> Vec<String> {
        r.sent
            .actions
            .iter()
            .filter(|reference| {
                match self
                    .registry
                    .actions
                    .iter()
                    .find(|a| a.reference.eq_ignore_ascii_case(reference))
                {
                    Some(action) => {
                        action.open
                            && (sender.secretariat
                                || sender.organisation.is_none()
                                || action.owner_organisation.is_none()
                                || action.owner_organisation.as_deref() == sender.organisation)
                    }
                    // Not in the snapshot: take the mail's word for it.
                    None => true,
                }
            })
            .map(|a| a.to_uppercase())
            .collect()
    }

    fn spam_evidence(&mut self, tally: &mut Tally<Kind>, sender: &Sender<'a>) {
        let headers = &self.message.headers;
        let flagged = headers
            .x_spam_flag
            .as_deref()
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes"))
            || headers
                .x_spam_status
                .as_deref()
                .is_some_and(|v| v.trim().to_lowercase().starts_with("yes"));
        if flagged {
            tally.add(Kind::Unrelated, 0.9, "the mail server marked it as spam");
        }
        let text = format!(
            "{}\n{}",
            self.texts.subject,
            text::truncate(&self.texts.own, 4000)
        );
        let phrases = signals::spam_phrases(&text);
        if !phrases.is_empty() {
            let w = match phrases.len() {
                1 => 0.35,
                2 => 0.6,
                _ => 0.8,
            };
            tally.add(
                Kind::Unrelated,
                w,
                format!(
                    "spam wording: {}",
                    phrases
                        .iter()
                        .map(|p| format!("\"{p}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let risky: Vec<&str> = self
            .texts
            .attachment_names
            .iter()
            .map(String::as_str)
            .filter(|n| {
                let lower = n.to_lowercase();
                [
                    ".exe", ".scr", ".js", ".vbs", ".bat", ".cmd", ".jar", ".iso", ".img", ".html",
                    ".htm", ".lnk",
                ]
                .iter()
                .any(|ext| lower.ends_with(ext))
            })
            .collect();
        if let Some(name) = risky.first() {
            tally.add(
                Kind::Unrelated,
                0.6,
                format!("an executable or web-page attachment ({name})"),
            );
        }
        if sender.board_itself {
            tally.add(Kind::Unrelated, 0.9, "from the board's own address");
        }
    }

    fn thread_evidence(
        &mut self,
        tally: &mut Tally<Kind>,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) {
        let Some(r) = reply else {
            return;
        };
        let strength = if r.via == "reply token" { 1.0 } else { 0.96 };
        let what = format!("a reply to our {}", r.sent.kind.describe());
        match r.sent.kind {
            SentKind::ApprovalRequest => {
                tally.add(Kind::ApprovalReply, 0.97 * strength, what);
            }
            SentKind::ActionPack | SentKind::ActionChaser => {
                tally.add(Kind::ActionUpdate, 0.93 * strength, what);
            }
            SentKind::UpdateRequest | SentKind::UpdateChaser => {
                tally.add(Kind::WrittenUpdate, 0.9 * strength, what);
            }
            SentKind::Acknowledgement => {
                tally.add(Kind::WrittenUpdate, 0.6 * strength, what);
            }
            SentKind::ApprovalResult => {
                tally.add(Kind::ApprovalReply, 0.9 * strength, what);
            }
            SentKind::Invitation => {
                tally.add(Kind::AttendanceResponse, 0.9 * strength, what);
            }
            SentKind::Circulation
            | SentKind::MeetingPack
            | SentKind::ReplyHelp
            | SentKind::Other => {
                if sender.known {
                    tally.add(Kind::WrittenUpdate, 0.35 * strength, what);
                }
            }
        }
    }

    fn content_evidence(
        &mut self,
        tally: &mut Tally<Kind>,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) {
        let slug = self.registry.board_slug.clone();
        let subjects: Vec<String> = self.texts.subjects().map(str::to_owned).collect();
        let content = text::truncate(&self.texts.content(), text::MAX_BODY_CHARS).to_owned();
        let opening = text::truncate(&content, 600).to_lowercase();

        // Draft minutes: only the secretariat sends them.
        let mut minutes: Vec<(f32, String)> = Vec::new();
        // A reply's subject echoes what it answers: "Re: draft minutes" is a comment or
        // an approval, rarely a new draft.
        let echo = if self.texts.subject_is_reply {
            0.3
        } else {
            1.0
        };
        for s in &subjects {
            let lower = s.to_lowercase();
            if lower.contains("minutes") && lower.contains("draft") {
                minutes.push((
                    0.85 * echo,
                    format!("the subject \"{s}\" says draft minutes"),
                ));
            } else if lower.contains("minutes") {
                minutes.push((0.55 * echo, format!("the subject \"{s}\" mentions minutes")));
            }
        }
        for name in &self.texts.attachment_names {
            let lower = name.to_lowercase();
            if lower.contains("minutes") && lower.contains("draft") {
                minutes.push((0.85, format!("attachment \"{name}\" is draft minutes")));
            } else if lower.contains("minutes") {
                minutes.push((0.6, format!("attachment \"{name}\" is minutes")));
            }
        }
        let structure: Vec<&str> = std::iter::once(content.as_str())
            .chain(self.texts.attachment_lines.iter().map(String::as_str))
            .collect();
        let reads_as_minutes = structure
            .iter()
            .any(|t| text::lists_attendance(text::truncate(t, 3000)));
        if reads_as_minutes {
            minutes.push((
                0.5,
                "the text lists attendees and apologies, as minutes do".to_owned(),
            ));
        }
        let minutes_factor = if !sender.secretariat {
            if !minutes.is_empty() {
                self.reason("minutes come from the secretariat, and this sender is not");
            }
            0.35
        } else {
            1.0
        };
        for (w, r) in minutes {
            tally.add(Kind::DraftMinutes, w * minutes_factor, r);
        }

        // Approval replies: the word at the top, and a subject about approval.
        if let Some(word) = signals::approval_word(&self.texts.own) {
            let about_approval = subjects.iter().any(|s| {
                let l = s.to_lowercase();
                l.contains("approv") || l.contains("draft minutes")
            });
            if about_approval {
                let said = if word == ApprovalWord::Approve {
                    "approves"
                } else {
                    "rejects"
                };
                tally.add(
                    Kind::ApprovalReply,
                    match (sender.approver, self.texts.subject_is_reply) {
                        (true, true) => 0.8,
                        (true, false) => 0.6,
                        (false, _) => 0.4,
                    },
                    format!("the reply {said}, and the subject is about approval"),
                );
            }
        }

        // Action updates: references and progress words.
        for s in &subjects {
            for reference in signals::actions(s, &slug) {
                tally.add(
                    Kind::ActionUpdate,
                    0.85,
                    format!("the subject names action {reference}"),
                );
            }
        }
        for name in &self.texts.attachment_names {
            for reference in signals::actions(name, &slug) {
                tally.add(
                    Kind::ActionUpdate,
                    0.7,
                    format!("attachment \"{name}\" names action {reference}"),
                );
            }
        }
        let body_actions = signals::actions(&content, &slug);
        if let Some(reference) = body_actions.first() {
            tally.add(
                Kind::ActionUpdate,
                0.55,
                format!("the text names action {reference}"),
            );
        }
        if tally.score(&Kind::ActionUpdate) > 0.0 {
            if let Some(word) = signals::action_progress(&self.texts.own) {
                tally.add(
                    Kind::ActionUpdate,
                    0.3,
                    format!("the text opens with \"{word}\""),
                );
            }
        }
        // "Your LCJB actions", "action log"; not "Action required", which is spam's.
        if subjects.iter().any(|s| {
            let lower = s.to_lowercase();
            text::words(s).iter().any(|w| w == "actions")
                || [
                    "action log",
                    "action update",
                    "action pack",
                    "action tracker",
                ]
                .iter()
                .any(|p| lower.contains(p))
        }) {
            tally.add(Kind::ActionUpdate, 0.5, "the subject is about actions");
        }
        // Progress at the top of a reply quoting an action: the answer to an action pack.
        if let Some(word) = signals::action_progress(&self.texts.own) {
            let quoted = signals::actions(text::truncate(&self.texts.quoted, 4000), &slug);
            if let Some(reference) = quoted.first() {
                tally.add(
                    Kind::ActionUpdate,
                    0.6,
                    format!("the reply opens with \"{word}\" above a message naming {reference}"),
                );
            }
        }

        // Written updates. An unknown sender's or a mailing list's "update" is weak
        // evidence: spam and newsletters say it too.
        let listed = self.message.headers.list_id.is_some()
            || self.message.headers.list_unsubscribe.is_some();
        let mut factor = if (!sender.known && sender.named_like.is_none()) || listed {
            0.5
        } else {
            1.0
        };
        // In a reply to our action pack, "progress" or a document attached is the
        // action's progress: an update's wording says little against the thread.
        if reply
            .as_ref()
            .is_some_and(|r| matches!(r.sent.kind, SentKind::ActionPack | SentKind::ActionChaser))
        {
            factor *= 0.5;
        }
        if sender.forwarded_by_secretariat {
            tally.add(
                Kind::WrittenUpdate,
                0.55,
                "the secretariat forwards an agency's message to the board",
            );
        }
        self.update_evidence(
            tally,
            &subjects,
            &content,
            &opening,
            factor,
            reads_as_minutes,
        );
    }

    fn update_evidence(
        &mut self,
        tally: &mut Tally<Kind>,
        subjects: &[String],
        content: &str,
        opening: &str,
        factor: f32,
        reads_as_minutes: bool,
    ) {
        let slug = self.registry.board_slug.clone();
        const UPDATE_WORDS: [&str; 11] = [
            "update",
            "report",
            "briefing",
            "paper",
            "submission",
            "progress",
            "return",
            "highlight",
            "position statement",
            "figures",
            "note for",
        ];
        for s in subjects {
            let lower = s.to_lowercase();
            // "LCJB-A17 - progress" is about the action, not a written update; "Draft
            // minutes - LCJB 20 September" is about minutes, whatever meeting it tags.
            let about_action = !signals::actions(s, &slug).is_empty();
            if lower.contains("minutes") {
                continue;
            }
            if about_action {
            } else if lower.contains("written update") || lower.contains("written submission") {
                tally.add(
                    Kind::WrittenUpdate,
                    0.8 * factor,
                    format!("the subject \"{s}\" says written update"),
                );
            } else if let Some(word) = UPDATE_WORDS.iter().find(|w| lower.contains(*w)) {
                tally.add(
                    Kind::WrittenUpdate,
                    0.7 * factor,
                    format!("the subject \"{s}\" says {word}"),
                );
            }
            if let Some(meeting) = signals::dates(s, &slug)
                .iter()
                .filter(|d| !d.tagged)
                .find_map(|d| self.upcoming_meeting_on(d))
            {
                let echo = if self.texts.subject_is_reply {
                    0.6
                } else {
                    1.0
                };
                tally.add(
                    Kind::WrittenUpdate,
                    0.45 * factor * echo,
                    format!("the subject \"{s}\" names the date of {meeting}"),
                );
            }
            if signals::dates(s, &slug).iter().any(|d| d.tagged) {
                // A reply's subject echoes the tag of what it answers.
                let echo = if self.texts.subject_is_reply {
                    0.6
                } else {
                    1.0
                };
                tally.add(
                    Kind::WrittenUpdate,
                    0.5 * factor * echo,
                    format!("the subject \"{s}\" carries the board's meeting tag"),
                );
            }
            if !signals::items(s).is_empty() {
                tally.add(
                    Kind::WrittenUpdate,
                    0.65 * factor,
                    format!("the subject \"{s}\" names an agenda item"),
                );
            } else if let Some((meeting, item)) = self.upcoming_item_titled(s) {
                tally.add(
                    Kind::WrittenUpdate,
                    0.5 * factor,
                    format!(
                        "the subject \"{s}\" matches the title of item {} of {}",
                        item.number, meeting.reference
                    ),
                );
            }
        }
        for name in &self.texts.attachment_names {
            let lower = name.to_lowercase();
            if lower.contains("minutes") {
                continue;
            }
            if lower.contains("written update") || lower.contains("written submission") {
                tally.add(
                    Kind::WrittenUpdate,
                    0.8 * factor,
                    format!("attachment \"{name}\" says written update"),
                );
            } else if let Some(word) = UPDATE_WORDS.iter().find(|w| lower.contains(*w)) {
                tally.add(
                    Kind::WrittenUpdate,
                    0.65 * factor,
                    format!("attachment \"{name}\" says {word}"),
                );
            } else if [".docx", ".doc", ".pdf", ".odt", ".rtf", ".pptx", ".xlsx"]
                .iter()
                .any(|ext| lower.ends_with(ext))
            {
                tally.add(
                    Kind::WrittenUpdate,
                    0.45 * factor,
                    format!("a document is attached (\"{name}\")"),
                );
            }
        }
        for line in &self.texts.attachment_lines {
            let lower = text::truncate(line, 400).to_lowercase();
            if lower.contains("written update") || lower.contains("update") {
                tally.add(
                    Kind::WrittenUpdate,
                    0.55 * factor,
                    "the attachment opens as an update",
                );
                break;
            }
        }
        const BODY_PHRASES: [&str; 9] = [
            "written update",
            "our update",
            "an update",
            "update on",
            "update for",
            "update from",
            "note for the board",
            "paper for the",
            "for the pack",
        ];
        if let Some(phrase) = BODY_PHRASES.iter().find(|p| opening.contains(*p)) {
            tally.add(
                Kind::WrittenUpdate,
                0.45 * factor,
                format!("the text says \"{phrase}\""),
            );
        } else if opening.contains("update") || opening.contains("progress") {
            tally.add(
                Kind::WrittenUpdate,
                0.3 * factor,
                "the text talks of an update",
            );
        } else if opening.contains("attached")
            || opening.contains("enclosed")
            || opening.contains("please find below")
        {
            tally.add(
                Kind::WrittenUpdate,
                0.3 * factor,
                "the text points to an attachment",
            );
        }
        // Minutes name every item of their meeting: that says nothing of an update.
        if !reads_as_minutes && !signals::items(text::truncate(content, 2000)).is_empty() {
            tally.add(
                Kind::WrittenUpdate,
                0.35 * factor,
                "the text names an agenda item",
            );
        }
    }

    /// The meeting still to come on the date `mention` names.
    fn upcoming_meeting_on(&self, mention: &signals::DateMention) -> Option<String> {
        self.registry
            .meetings
            .iter()
            .find(|m| m.date >= self.today && mention.matches(m.date))
            .map(|m| m.reference.clone())
    }

    /// An item of a meeting still to come whose title the text matches, when exactly one
    /// does.
    fn upcoming_item_titled(&self, text: &str) -> Option<(&'a Meeting, &'a Item)> {
        let words = text::words(text);
        let mut found = self
            .registry
            .meetings
            .iter()
            .filter(|m| m.date >= self.today)
            .flat_map(|m| m.items.iter().map(move |i| (m, i)))
            // Two telling words at least: "LCJB Actions" alone would match any
            // subject saying "actions".
            .filter(|(_, i)| {
                let title_words = significant_words(&i.title);
                title_words.len() >= 2 && title_matches(&i.title, &words)
            });
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    // -- the meeting --------------------------------------------------------------------

    /// The meeting a message belongs to, with confidence. Updates look forward (a past
    /// meeting named in an update is history, not its destination); minutes look back.
    fn meeting(
        &mut self,
        kind: Kind,
        _sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) -> Option<(&'a Meeting, f32)> {
        let registry = self.registry;
        let slug = registry.board_slug.clone();
        let mut tally: Tally<usize> = Tally::new();
        let index_of = |reference: &str| {
            registry
                .meetings
                .iter()
                .position(|m| m.reference.eq_ignore_ascii_case(reference))
        };

        if let Some(r) = reply {
            if let Some(reference) = r.sent.meeting.as_deref() {
                match index_of(reference) {
                    Some(i) => tally.add(
                        i,
                        0.95,
                        format!("our {} was about {reference}", r.sent.kind.describe()),
                    ),
                    None => self.reason(format!(
                        "our {} names {reference}, which the registry no longer holds",
                        r.sent.kind.describe()
                    )),
                }
            }
        }

        let explicit_only = matches!(kind, Kind::AutoReply | Kind::Unrelated | Kind::Bounce);
        // (text, tagged weight, untagged weight, where)
        let mut places: Vec<(String, f32, f32, String)> = Vec::new();
        for (i, s) in self.texts.subjects().enumerate() {
            let w = if i == 0 { 1.0 } else { 0.95 };
            places.push((s.to_owned(), 0.95 * w, 0.7 * w, "the subject".to_owned()));
        }
        for name in &self.texts.attachment_names {
            places.push((name.clone(), 0.85, 0.65, format!("attachment \"{name}\"")));
        }
        if !explicit_only {
            let content = text::truncate(&self.texts.content(), 8000).to_owned();
            places.push((content, 0.8, 0.45, "the text".to_owned()));
            for lines in &self.texts.attachment_lines {
                places.push((
                    lines.clone(),
                    0.75,
                    0.45,
                    "the attachment's text".to_owned(),
                ));
            }
            places.push((
                text::truncate(&self.texts.quoted, 4000).to_owned(),
                0.5,
                0.2,
                "the quoted message".to_owned(),
            ));
        }
        for (text, tagged_weight, untagged_weight, place) in &places {
            for mention in signals::dates(text, &slug) {
                if explicit_only && !mention.tagged {
                    continue;
                }
                let matching = self.meeting_for_date(&mention);
                match matching {
                    Some(i) => {
                        let (w, how) = if mention.tagged {
                            (*tagged_weight, "the meeting tag")
                        } else {
                            (*untagged_weight, "the date")
                        };
                        tally.add(
                            i,
                            w,
                            format!(
                                "{place} names {} by {how} \"{}\"",
                                registry.meetings[i].reference,
                                mention.written.trim()
                            ),
                        );
                    }
                    None if mention.tagged => {
                        self.reason(format!(
                            "{place} carries the tag \"{}\", which is no meeting of the board",
                            mention.written.trim()
                        ));
                    }
                    None => {}
                }
            }
        }
        if !explicit_only
            && matches!(kind, Kind::WrittenUpdate | Kind::ActionUpdate)
            && signals::names_next_meeting(&format!(
                "{}\n{}",
                self.texts.subject,
                text::truncate(&self.texts.own, 2000)
            ))
        {
            if let Some(i) = self.next_meeting() {
                tally.add(
                    i,
                    0.5,
                    format!(
                        "the message speaks of the next meeting, {}",
                        registry.meetings[i].reference
                    ),
                );
            }
        }

        // Direction: updates are for meetings to come, minutes are of meetings held.
        let today = self.today;
        let mut adjusted: Tally<usize> = Tally::new();
        let mut notes: Vec<String> = Vec::new();
        let mut held_for_action: Vec<usize> = Vec::new();
        for (i, w, r) in tally.entries.drain(..) {
            let date = registry.meetings[i].date;
            // An action update is reported at the next meeting, whatever meeting raised
            // the action: a reply to an action pack points at that one.
            if kind == Kind::ActionUpdate && date < today {
                if !held_for_action.contains(&i) {
                    held_for_action.push(i);
                }
                continue;
            }
            let factor = match kind {
                Kind::WrittenUpdate | Kind::ActionUpdate if date < today => {
                    notes.push(format!(
                        "{} has already been held",
                        registry.meetings[i].reference
                    ));
                    0.35
                }
                Kind::DraftMinutes if date > today => {
                    notes.push(format!(
                        "{} has not been held yet",
                        registry.meetings[i].reference
                    ));
                    0.3
                }
                _ => 1.0,
            };
            adjusted.add(i, w * factor, r);
        }

        for i in held_for_action {
            self.reason(format!(
                "{} has already been held: an action update is reported at the next meeting",
                registry.meetings[i].reference
            ));
        }

        // The next meeting, whose papers window is open: the destination of an update
        // that names none, and confirmation for one that names it only faintly (a date
        // in the text).
        let window = self.next_meeting().map(|i| {
            let meeting = &registry.meetings[i];
            let (w, why) = match meeting.papers_deadline {
                Some(deadline) if today <= deadline => (0.8, format!("papers due {deadline}")),
                Some(deadline) => (0.72, format!("papers were due {deadline}")),
                None => (0.75, "no papers deadline set".to_owned()),
            };
            (i, w, why)
        });
        let updates = matches!(kind, Kind::WrittenUpdate | Kind::ActionUpdate);
        if let (true, false, Some((next, w, why))) = (updates, adjusted.is_empty(), &window) {
            if let Some(best) = adjusted.resolve() {
                if best.winner == *next && best.runner_up.is_none() && best.confidence < *w {
                    let reference = &registry.meetings[*next].reference;
                    adjusted.add(
                        *next,
                        *w,
                        format!("{reference} is the next meeting ({why})"),
                    );
                }
            }
        }
        if adjusted.is_empty() && !explicit_only {
            match kind {
                Kind::WrittenUpdate | Kind::ActionUpdate => {
                    if let Some((i, w, why)) = &window {
                        adjusted.add(
                            *i,
                            *w,
                            format!(
                                "nothing names a meeting: the next one is {} ({why})",
                                registry.meetings[*i].reference
                            ),
                        );
                    }
                }
                Kind::DraftMinutes => {
                    if let Some(i) = self.last_meeting_awaiting_minutes() {
                        adjusted.add(
                            i,
                            0.75,
                            format!(
                                "nothing names a meeting: the last one held is {}",
                                registry.meetings[i].reference
                            ),
                        );
                    }
                }
                _ => {}
            }
        }

        let resolved = adjusted.resolve()?;
        for r in &resolved.reasons {
            self.reason(r.clone());
        }
        let winner_ref = registry.meetings[resolved.winner].reference.clone();
        for note in notes {
            if note.starts_with(&winner_ref)
                || resolved
                    .runner_up
                    .as_ref()
                    .is_some_and(|(k, _, _)| note.starts_with(&registry.meetings[*k].reference))
            {
                self.reason(note);
            }
        }
        if let Some((other, _, why)) = &resolved.runner_up {
            self.reason(format!(
                "conflicting: {why} (filed against {winner_ref}, not {})",
                registry.meetings[*other].reference
            ));
        }
        Some((&registry.meetings[resolved.winner], resolved.confidence))
    }

    /// The meeting a written date means: an exact date, or a day and month taken in the
    /// year nearest to now.
    fn meeting_for_date(&self, mention: &signals::DateMention) -> Option<usize> {
        self.registry
            .meetings
            .iter()
            .enumerate()
            .filter(|(_, m)| mention.matches(m.date))
            .min_by_key(|(_, m)| (m.date - self.today).num_days().abs())
            .map(|(i, _)| i)
    }

    /// The next meeting not yet held: its papers window is open.
    fn next_meeting(&self) -> Option<usize> {
        self.registry
            .meetings
            .iter()
            .enumerate()
            .filter(|(_, m)| m.date >= self.today && m.status == MeetingStatus::Scheduled)
            .min_by_key(|(_, m)| m.date)
            .map(|(i, _)| i)
    }

    /// The most recent meeting held whose minutes are not yet approved.
    fn last_meeting_awaiting_minutes(&self) -> Option<usize> {
        self.registry
            .meetings
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.date <= self.today
                    && matches!(
                        m.status,
                        MeetingStatus::Scheduled
                            | MeetingStatus::Held
                            | MeetingStatus::MinutesDraft
                    )
            })
            .max_by_key(|(_, m)| m.date)
            .map(|(i, _)| i)
    }

    // -- the item -----------------------------------------------------------------------

    fn item(
        &mut self,
        kind: Kind,
        meeting: &'a Meeting,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) -> (Option<String>, f32) {
        let mut tally: Tally<usize> = Tally::new();
        let find = |key: &str| {
            meeting
                .items
                .iter()
                .position(|i| signals::item_key(&i.number) == key)
        };
        if let Some(r) = reply {
            if r.sent.meeting.as_deref() == Some(meeting.reference.as_str()) {
                if let Some(number) = r.sent.item.as_deref() {
                    if let Some(i) = find(&signals::item_key(number)) {
                        tally.add(
                            i,
                            0.9,
                            format!("our {} was about item {number}", r.sent.kind.describe()),
                        );
                    }
                }
            }
        }
        let mut places: Vec<(String, f32, String)> = Vec::new();
        for (i, s) in self.texts.subjects().enumerate() {
            places.push((
                s.to_owned(),
                if i == 0 { 0.9 } else { 0.85 },
                "the subject".to_owned(),
            ));
        }
        for name in &self.texts.attachment_names {
            places.push((name.clone(), 0.8, format!("attachment \"{name}\"")));
        }
        places.push((
            text::truncate(&self.texts.content(), 8000).to_owned(),
            0.7,
            "the text".to_owned(),
        ));
        for lines in &self.texts.attachment_lines {
            places.push((lines.clone(), 0.6, "the attachment's text".to_owned()));
        }
        let mut unknown: Vec<String> = Vec::new();
        // Items the subject or an attachment's name gives: a longer text mentioning
        // another item in passing ("this also touches on item 4") counts for less.
        let headline: Vec<usize> = places
            .iter()
            .filter(|(_, weight, _)| *weight >= 0.8)
            .flat_map(|(text, _, _)| signals::items(text))
            .filter_map(|m| find(&m.key))
            .collect();
        for (text, weight, place) in &places {
            for mention in signals::items(text) {
                match find(&mention.key) {
                    Some(i) => {
                        let weight =
                            if *weight < 0.8 && !headline.is_empty() && !headline.contains(&i) {
                                weight * 0.5
                            } else {
                                *weight
                            };
                        tally.add(
                            i,
                            weight,
                            format!(
                                "{place} names {} ({})",
                                mention.written, meeting.items[i].number
                            ),
                        );
                    }
                    None => {
                        if !unknown.contains(&mention.key) {
                            unknown.push(mention.key.clone());
                            self.reason(format!(
                                "{place} names {}, which is not on the agenda of {}",
                                mention.written, meeting.reference
                            ));
                        }
                    }
                }
            }
        }
        // An action update is about its action: only an item it names is taken.
        let guess = kind == Kind::WrittenUpdate;
        let named = !tally.is_empty();
        if !named && guess {
            // Titles: an update about the "Diversion Strategy" is about that item.
            let mut texts: Vec<String> = self.texts.subjects().map(str::to_owned).collect();
            texts.extend(self.texts.attachment_names.iter().cloned());
            let opening = text::truncate(&self.texts.content(), 300).to_owned();
            for (i, item) in meeting.items.iter().enumerate() {
                let title_words = significant_words(&item.title);
                if title_words.is_empty() {
                    continue;
                }
                let needed = if title_words.len() == 1 { 1 } else { 2 };
                for t in &texts {
                    if title_matches(&item.title, &text::words(t)) {
                        tally.add(
                            i,
                            0.55,
                            format!(
                                "\"{t}\" matches the title of item {} ({})",
                                item.number, item.title
                            ),
                        );
                        break;
                    }
                }
                let words = text::words(&opening);
                let shared = title_words.iter().filter(|w| words.contains(w)).count();
                if shared >= needed.max(2) && shared * 2 >= title_words.len() {
                    tally.add(
                        i,
                        0.35,
                        format!("the opening words match the title of item {}", item.number),
                    );
                }
            }
        }
        // The sender's organisation leads an item: decisive when nothing is named, a
        // tie-breaker when several are.
        let led: Vec<usize> = sender
            .organisation
            .map(|o| {
                meeting
                    .items
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| i.lead.as_deref() == Some(o))
                    .map(|(n, _)| n)
                    .collect()
            })
            .unwrap_or_default();
        let organisation = sender.organisation.unwrap_or_default();
        if tally.is_empty() && guess {
            match led.as_slice() {
                [one] => tally.add(
                    *one,
                    0.6,
                    format!(
                        "{organisation} leads item {}, and the message names none",
                        meeting.items[*one].number
                    ),
                ),
                [] => {
                    if sender.organisation.is_some() {
                        self.reason(format!(
                            "no item named, and {organisation} leads none on {}",
                            meeting.reference
                        ));
                    }
                }
                many => {
                    let numbers: Vec<&str> = many
                        .iter()
                        .map(|i| meeting.items[*i].number.as_str())
                        .collect();
                    self.reason(format!(
                        "no item named, and {organisation} leads several ({})",
                        numbers.join(", ")
                    ));
                }
            }
        } else if tally.candidates().len() > 1 {
            for i in &led {
                if tally.candidates().contains(i) {
                    tally.add(
                        *i,
                        0.3,
                        format!("{organisation} leads item {}", meeting.items[*i].number),
                    );
                }
            }
        }
        let Some(resolved) = tally.resolve() else {
            return (None, 1.0);
        };
        for r in &resolved.reasons {
            self.reason(r.clone());
        }
        let winner = &meeting.items[resolved.winner];
        // An item is secondary to the meeting: only a conflict between items lowers the
        // decision's confidence.
        let confidence = match &resolved.runner_up {
            Some((other, _, why)) => {
                let all: Vec<&str> = tally
                    .candidates()
                    .iter()
                    .map(|i| meeting.items[*i].number.as_str())
                    .collect();
                self.reason(format!(
                    "names {} items ({}): filed against {}; conflicting: {why} (item {})",
                    all.len(),
                    all.join(", "),
                    winner.number,
                    meeting.items[*other].number
                ));
                resolved.confidence
            }
            None => 1.0,
        };
        (Some(winner.number.clone()), confidence)
    }

    // -- the action ---------------------------------------------------------------------

    fn action(
        &mut self,
        kind: Kind,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) -> (Option<String>, f32) {
        let slug = self.registry.board_slug.clone();
        let mut tally: Tally<String> = Tally::new();
        if let Some(r) = reply {
            if let Some(reference) = r.sent.action.as_deref() {
                tally.add(
                    reference.to_uppercase(),
                    0.95,
                    format!("our {} was about {reference}", r.sent.kind.describe()),
                );
            } else if kind == Kind::ActionUpdate {
                let listed = self.listed_open_actions(r, sender);
                if let [reference] = listed.as_slice() {
                    tally.add(
                        reference.clone(),
                        0.95,
                        format!(
                            "our {} listed one open action, {reference}",
                            r.sent.kind.describe()
                        ),
                    );
                }
            }
        }
        let mut places: Vec<(String, f32, String)> = Vec::new();
        for (i, s) in self.texts.subjects().enumerate() {
            places.push((
                s.to_owned(),
                if i == 0 { 0.9 } else { 0.85 },
                "the subject".to_owned(),
            ));
        }
        for name in &self.texts.attachment_names {
            places.push((name.clone(), 0.8, format!("attachment \"{name}\"")));
        }
        places.push((
            text::truncate(&self.texts.content(), 8000).to_owned(),
            0.7,
            "the text".to_owned(),
        ));
        // A reply to an action pack that names no action itself is about the one action
        // the quoted pack names; with several quoted it could be any of them.
        let quoted = text::truncate(&self.texts.quoted, 4000).to_owned();
        let quoted_refs = signals::actions(&quoted, &slug);
        let named_outside = places
            .iter()
            .any(|(text, _, _)| !signals::actions(text, &slug).is_empty());
        let quoted_weight = if !named_outside && tally.is_empty() && quoted_refs.len() == 1 {
            0.75
        } else {
            0.3
        };
        places.push((quoted, quoted_weight, "the quoted message".to_owned()));
        for (text, weight, place) in &places {
            for reference in signals::actions(text, &slug) {
                tally.add(
                    reference.clone(),
                    *weight,
                    format!("{place} names action {reference}"),
                );
            }
        }
        let Some(resolved) = tally.resolve() else {
            if kind == Kind::ActionUpdate {
                self.reason("no action could be identified");
                return (None, 0.6);
            }
            return (None, 1.0);
        };
        for r in &resolved.reasons {
            self.reason(r.clone());
        }
        let mut confidence = if kind == Kind::ActionUpdate {
            resolved.confidence
        } else {
            1.0
        };
        if let Some((other, _, why)) = &resolved.runner_up {
            self.reason(format!(
                "conflicting: {why} (filed against {}, not {other})",
                resolved.winner
            ));
            // An update may well mention several actions; only an action update must
            // be about one.
            if kind == Kind::ActionUpdate {
                confidence = resolved.confidence;
            }
        }
        let reference = resolved.winner;
        if !self.registry.actions.is_empty() {
            match self
                .registry
                .actions
                .iter()
                .find(|a| a.reference.eq_ignore_ascii_case(&reference))
            {
                None => {
                    self.reason(format!("{reference} is not in the action register"));
                    confidence = confidence.min(0.6);
                }
                Some(action) => {
                    if !action.open {
                        self.reason(format!("{reference} is already closed"));
                    }
                    if let (Some(owner), Some(organisation)) =
                        (action.owner_organisation.as_deref(), sender.organisation)
                    {
                        if owner == organisation {
                            self.reason(format!("{reference} is owned by {owner}"));
                        } else if sender.secretariat {
                            // The secretariat reports on any action (an agency's update
                            // passed on, or an action closed at a meeting).
                            self.reason(format!(
                                "{reference} is owned by {owner}; the secretariat may update it"
                            ));
                        } else {
                            self.reason(format!(
                                "conflicting: {reference} is owned by {owner}, not {organisation}"
                            ));
                            confidence = confidence.min(0.65);
                        }
                    }
                }
            }
        }
        (Some(reference), confidence)
    }

    // -- bounces and corrections --------------------------------------------------------

    fn bounced_recipient(&mut self, decision: &mut FilingDecision, reply: &Option<Replying>) {
        let registry = self.registry;
        let recipient = reply
            .as_ref()
            .and_then(|r| r.sent.recipient.clone())
            .or_else(|| {
                self.message
                    .dsn
                    .as_ref()
                    .and_then(|d| d.recipients.iter().find_map(|r| r.address.clone()))
            })
            .or_else(|| {
                self.message
                    .headers
                    .x_failed_recipients
                    .as_deref()
                    .and_then(|f| f.split(',').next())
                    .map(str::to_owned)
            })
            .map(|a| bare_address(a.rsplit(';').next().unwrap_or_default()));
        let member = reply
            .as_ref()
            .and_then(|r| r.sent.member.as_deref())
            .and_then(|name| registry.members.iter().find(|m| m.name == name))
            .or_else(|| {
                recipient
                    .as_deref()
                    .and_then(|a| registry.member_by_address(a))
            });
        decision.member = member.map(|m| m.name.clone());
        decision.organisation = member.and_then(|m| m.organisation.clone()).or_else(|| {
            recipient
                .as_deref()
                .and_then(|a| a.rsplit('@').next())
                .and_then(|d| registry.organisation_by_domain(d))
                .map(|(o, _)| o.short.clone())
        });
        match (&recipient, member) {
            (Some(address), Some(m)) => {
                self.reason(format!("the undelivered address {address} is {}'s", m.name))
            }
            (Some(address), None) => {
                self.reason(format!("the undelivered address {address} is no member's"))
            }
            _ => {}
        }
    }

    fn correction(&mut self, sender: &Sender<'a>, reply: &Option<Replying>) -> Option<Correction> {
        let r = reply.as_ref()?;
        if r.sent.kind != SentKind::Acknowledgement {
            return None;
        }
        let item = signals::correction(&self.texts.own)?;
        let message = r.sent.about_message?;
        let same_person = match (sender.member, r.sent.member.as_deref()) {
            (Some(m), Some(name)) => m.name == name,
            _ => {
                let from = self.message.from.as_deref().map(bare_address);
                from.is_some() && from == r.sent.recipient.as_deref().map(bare_address)
            }
        };
        if !same_person {
            self.reason("asks to re-file a message, but is not from the person we acknowledged");
            return None;
        }
        self.reason(format!(
            "asks to re-file message {message} against item {item}"
        ));
        Some(Correction { message, item })
    }
}

/// How sure a decision is, and which of the parts it needs limits it: a decision below
/// the threshold names the weakest part instead of leaving a bare number.
struct Confidence {
    value: f32,
    limit: String,
}

impl Confidence {
    fn new(value: f32, why: &str) -> Self {
        Confidence {
            value,
            limit: why.to_owned(),
        }
    }

    /// At most `value`, because of `why`.
    fn cap(&mut self, value: f32, why: impl Into<String>) {
        if value < self.value {
            self.value = value;
            self.limit = why.into();
        }
    }

    /// At least `value`: stronger evidence settles what weaker evidence left open.
    fn floor(&mut self, value: f32) {
        self.value = self.value.max(value);
    }

    fn limited_by(&self) -> Option<&str> {
        (!self.limit.is_empty()).then_some(self.limit.as_str())
    }
}

struct KindChoice {
    kind: Kind,
    confidence: f32,
    /// A bounce or auto-reply signal was seen, even if it did not decide the kind.
    machine_signs: bool,
}

fn describe_sent(sent: &SentMessage) -> String {
    let mut parts = Vec::new();
    if let Some(m) = &sent.meeting {
        parts.push(m.clone());
    }
    if let Some(a) = &sent.action {
        parts.push(a.clone());
    }
    if let Some(to) = sent.member.as_ref().or(sent.recipient.as_ref()) {
        parts.push(format!("to {to}"));
    }
    if let Some(id) = sent.outbox_id {
        parts.push(format!("outbox #{id}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// Whether `words` share enough of an item title's telling words: two, or the one a
/// short title has.
fn title_matches(title: &str, words: &[String]) -> bool {
    let title_words = significant_words(title);
    if title_words.is_empty() {
        return false;
    }
    let needed = if title_words.len() == 1 { 1 } else { 2 };
    title_words.iter().filter(|w| words.contains(w)).count() >= needed
}

/// Title words that tell items apart: not the words every item title shares.
fn significant_words(title: &str) -> Vec<String> {
    const COMMON: [&str; 24] = [
        "the",
        "and",
        "for",
        "from",
        "with",
        "update",
        "updates",
        "written",
        "lcjb",
        "board",
        "item",
        "items",
        "on",
        "of",
        "including",
        "into",
        "use",
        "other",
        "key",
        "its",
        "action",
        "taken",
        "against",
        "progress",
    ];
    let mut words: Vec<String> = Vec::new();
    for word in text::words(title) {
        if word.chars().count() >= 4 && !COMMON.contains(&word.as_str()) && !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// A display name as a person writes it: `Vigurs, Kilvinder (HMPPS)` becomes
/// `Kilvinder Vigurs`.
pub fn natural_name(display: &str) -> String {
    text::name_and_address(display).0.unwrap_or_default()
}

/// At most `max` characters of `text`, cut on a character boundary.
pub fn truncate_text(text: &str, max: usize) -> String {
    text::truncate(text, max).to_owned()
}

fn round(value: f32) -> f32 {
    if !value.is_finite() {
        return 0.0;
    }
    (value.clamp(0.0, 1.0) * 100.0).round() / 100.0
}
