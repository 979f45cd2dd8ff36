//! What minuted sent, as a received message points back at it: by Message-ID
//! (threading), by reply token and by VERP bounce address. [`lookup`] says which outbox
//! rows to read for a message; [`Sent::from_rows`] reads what each row was about from the
//! context it was rendered with, and keeps a bounce token only when its tag matches the
//! row's Message-ID.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Message;
use crate::domain::verp;
use crate::store::filings::SentRow;

/// What to look up for one message: the Message-IDs it threads to (and the one a
/// delivery report names), its reply tokens as written, and its bounce tokens read once:
/// the outbox rows they name (`bounce_rows`) with the tag and token of each.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub message_ids: Vec<String>,
    pub tokens: Vec<String>,
    pub lower_tokens: Vec<String>,
    pub bounce_rows: Vec<i64>,
    bounces: Vec<(i64, String, String)>,
}

impl Lookup {
    pub fn is_empty(&self) -> bool {
        self.message_ids.is_empty() && self.tokens.is_empty()
    }
}

/// The keys by which `message` can point at what we sent, to the board at `board_address`.
pub fn lookup(message: &Message, board_address: &str) -> Lookup {
    let mut message_ids = message.thread_ids();
    if let Some(original) = message
        .dsn
        .as_ref()
        .and_then(|d| d.original_message_id.clone())
    {
        message_ids.push(original.trim_matches(['<', '>']).to_owned());
    }
    let tokens = message.reply_tokens(board_address);
    let lower_tokens = tokens.iter().map(|t| t.to_lowercase()).collect();
    // VERP tokens name their row; the tag is checked against the row in `from_rows`.
    let bounces: Vec<(i64, String, String)> = tokens
        .iter()
        .filter_map(|t| verp::parse_bounce_token(t).map(|(id, tag)| (id, tag, t.clone())))
        .collect();
    Lookup {
        message_ids,
        tokens,
        lower_tokens,
        bounce_rows: bounces.iter().map(|(id, _, _)| *id).collect(),
        bounces,
    }
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
    /// For an approval result: it is the approver's confirmation, whose Reply-To carries
    /// their token and offers UNDO. Other results (notices to the secretariat, refusals)
    /// ask for no reply.
    pub undo_offered: bool,
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
            // Our note of what was recorded invites a correction by reply: read it as an
            // answer to the invitation.
            "invitation" | "attendance_recorded" => SentKind::Invitation,
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

    pub(super) fn describe(self) -> &'static str {
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

impl SentMessage {
    /// What outbox row `row` was about, read from the context it was rendered with.
    fn of_row(row: &SentRow) -> SentMessage {
        let context = &row.context;
        let text = |key: &str| context.get(key).and_then(Value::as_str).map(str::to_owned);
        let listed: Vec<String> = context
            .get("actions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("ref").and_then(Value::as_str).map(str::to_owned))
            .collect();
        SentMessage {
            kind: SentKind::parse(&row.kind),
            outbox_id: Some(row.id),
            meeting: row.meeting.clone(),
            item: text("item"),
            // An action pack about one action is about that action; with several, a
            // reply must say which.
            action: text("action").or_else(|| match context.get("actions") {
                Some(Value::Array(actions)) if actions.len() == 1 => actions[0]
                    .get("ref")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => None,
            }),
            member: row.member.clone(),
            recipient: Some(row.to_address.clone()),
            about_message: context.get("message").and_then(Value::as_i64),
            actions: listed,
            undo_offered: context.get("undo_offered").and_then(Value::as_bool) == Some(true),
        }
    }
}

impl Sent {
    /// The entries `rows` give for the message `lookup` was made from. A bounce token
    /// counts only with the tag of its row's Message-ID: a forged `bounce-<id>-...` names
    /// the row but cannot carry its tag.
    pub fn from_rows(lookup: &Lookup, rows: &[SentRow]) -> Sent {
        let mut sent = Sent::default();
        for row in rows {
            let entry = SentMessage::of_row(row);
            let by_reply_token = lookup
                .lower_tokens
                .contains(&row.reply_token.to_lowercase());
            let by_message_id = lookup.message_ids.contains(&row.message_id);
            let mut by_bounce = false;
            for (_, tag, token) in lookup.bounces.iter().filter(|(id, _, _)| *id == row.id) {
                if verp::tag_matches(tag, &row.message_id) {
                    sent.bounce_tokens.insert(token.clone(), entry.clone());
                    by_bounce = true;
                }
            }
            if by_reply_token {
                sent.reply_tokens
                    .insert(row.reply_token.clone(), entry.clone());
            }
            if by_reply_token || by_message_id || by_bounce {
                sent.message_ids.insert(row.message_id.clone(), entry);
            }
        }
        sent
    }
}
