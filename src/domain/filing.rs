//! What filing works from and decides: a received message as filing reads it (with its
//! headers and delivery report), what it is (`Kind`), what was done with it
//! (`Disposition`), and the decision recorded with its reasons. Made by `filing`, stored
//! by the store, read by the stages after it.

use std::fmt;

use serde::{Deserialize, Serialize};

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

    pub fn describe(self) -> &'static str {
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

/// A member's answer to an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Participation {
    Accepted,
    Declined,
    Tentative,
    Delegated,
}

impl Participation {
    pub fn as_str(self) -> &'static str {
        match self {
            Participation::Accepted => "accepted",
            Participation::Declined => "declined",
            Participation::Tentative => "tentative",
            Participation::Delegated => "delegated",
        }
    }

    pub fn from_partstat(value: &str) -> Option<Participation> {
        match value.trim().to_ascii_uppercase().as_str() {
            "ACCEPTED" => Some(Participation::Accepted),
            "DECLINED" => Some(Participation::Declined),
            "TENTATIVE" => Some(Participation::Tentative),
            "DELEGATED" => Some(Participation::Delegated),
            _ => None,
        }
    }
}

/// A calendar response as filed: the answer, the event it answers and any comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub participation: Participation,
    /// The event's `UID`, when the response carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The attendee's `COMMENT`, or the words of a plain reply, when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Who attends in the member's place, as written ("Jo Coleman will attend for me").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deputy: Option<String>,
    /// Read from the words of a plain reply rather than a calendar's answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_words: bool,
}
