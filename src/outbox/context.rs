//! The data a template sees: the caller's kind-specific context (stored on the row at
//! enqueue) with the registry's view of the board, the meeting and the recipient added at
//! render time. Pure: the worker and `minuted render` load the rows and call
//! [`template_context`].
//!
//! Keys every kind gets (they replace a caller's key of the same name):
//! - `board`: `slug`, `name`, `address`;
//! - `recipient`: `name`, `address`, `initials`, `organisation` (short name),
//!   `organisation_name` (nulls where the recipient is not a member);
//! - `reply_address`: where a reply to this email goes (with its token);
//! - `meeting`: `ref`, `title`, `date`, `date_text`, `time`, `papers_deadline`,
//!   `papers_deadline_text`, `items` (`number`, `title`, `lead`), or null;
//! - `attachments`: `filename`, `content_type`, `size_text` of each file attached.
//!
//! The kind-specific keys are listed by example in `templates/examples/KIND.json`.

use serde_json::{json, Map, Value};

use crate::domain::board::Member;
use crate::domain::outbound::long_date;
use crate::store::mail_context::{BoardRow, MeetingRow, OutboxAttachment};
use crate::templates::header_text;

/// A meeting as templates see it.
pub fn meeting_value(meeting: &MeetingRow) -> Value {
    json!({
        "ref": meeting.meeting_ref,
        "title": meeting.title,
        "date": meeting.date.to_string(),
        "date_text": long_date(meeting.date),
        "time": meeting.time.map(|t| meeting.zone.clock_text(meeting.date, t)),
        "timezone": meeting.zone,
        "papers_deadline": meeting.papers_deadline.map(|d| d.to_string()),
        "papers_deadline_text": meeting.papers_deadline.map(long_date),
        "items": meeting.items,
    })
}

/// `48 KB`, `1.2 MB`: sizes as a reader wants them.
pub fn size_text(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", (b / KB).ceil())
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

/// Everything needed to build one email's context.
pub struct ContextParts<'a> {
    pub board: &'a BoardRow,
    pub meeting: Option<&'a MeetingRow>,
    pub member: Option<&'a Member>,
    pub to_address: &'a str,
    pub to_name: Option<&'a str>,
    pub reply_address: &'a str,
    pub attachments: &'a [OutboxAttachment],
    /// The caller's kind-specific context (an object; anything else counts as empty).
    pub extra: &'a Value,
}

pub fn template_context(parts: &ContextParts<'_>) -> Value {
    let mut context: Map<String, Value> = parts.extra.as_object().cloned().unwrap_or_default();
    // A name is one line wherever it appears, not only in the To header.
    let name = parts
        .to_name
        .map(header_text)
        .filter(|n| !n.is_empty())
        .or_else(|| parts.member.map(|m| header_text(&m.name)))
        .unwrap_or_else(|| parts.to_address.to_owned());
    context.insert(
        "board".into(),
        json!({
            "slug": parts.board.slug,
            "name": parts.board.name,
            "address": parts.board.address,
        }),
    );
    context.insert(
        "recipient".into(),
        json!({
            "name": name,
            "address": parts.to_address,
            "initials": parts.member.and_then(|m| m.initials.clone()),
            "organisation": parts.member.and_then(|m| m.organisation.clone()),
            "organisation_name": parts.member.and_then(|m| m.organisation_name.clone()),
        }),
    );
    context.insert("reply_address".into(), json!(parts.reply_address));
    context.insert(
        "meeting".into(),
        parts.meeting.map_or(Value::Null, meeting_value),
    );
    let attachments: Vec<Value> = parts
        .attachments
        .iter()
        .map(|a| {
            json!({
                "filename": a.filename,
                "content_type": a.content_type,
                "size_text": size_text(a.size),
            })
        })
        .collect();
    context.insert("attachments".into(), Value::Array(attachments));
    Value::Object(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size_text(512), "512 bytes");
        assert_eq!(size_text(48 * 1024 + 10), "49 KB");
        assert_eq!(size_text(3 * 1024 * 1024 / 2), "1.5 MB");
    }

    #[test]
    fn the_registry_keys_replace_the_callers_and_the_rest_is_kept() {
        let board = BoardRow {
            id: 1,
            slug: "lcjb".into(),
            name: "London Criminal Justice Board".into(),
            address: "lcjb@board.example".into(),
        };
        let extra = json!({ "board": "forged", "actions": [{"ref": "LCJB-A1"}] });
        let value = template_context(&ContextParts {
            board: &board,
            meeting: None,
            member: None,
            to_address: "a@b.example",
            to_name: None,
            reply_address: "lcjb+t@board.example",
            attachments: &[],
            extra: &extra,
        });
        assert_eq!(value["board"]["slug"], "lcjb");
        assert_eq!(value["actions"][0]["ref"], "LCJB-A1");
        assert_eq!(value["recipient"]["name"], "a@b.example");
        assert!(value["meeting"].is_null());
    }
}
