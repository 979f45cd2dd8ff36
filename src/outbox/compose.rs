//! Builds the MIME message for one outbox row: multipart/alternative (text, HTML), inside
//! multipart/mixed when there are attachments, with the headers that let replies and
//! bounces find their way back: a stable Message-ID, In-Reply-To and References for
//! threading, Reply-To with the row's token, `Auto-Submitted: auto-generated` (so
//! well-behaved auto-responders stay quiet), and the VERP return path as the envelope
//! sender.
//!
//! Everything that becomes a header and came from data (subject, display names) passes
//! through [`crate::templates::header_text`] first; lettre then encodes it. Body line
//! endings and dot-stuffing are lettre's (the SMTP client stuffs leading dots).

use chrono::{DateTime, Utc};
use lettre::address::{Address, Envelope};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

use crate::domain::mail::CalendarPart;
use crate::templates::header_text;

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("{what} {value:?} is not a valid address: {reason}")]
    Address {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("attachment {filename:?} has an invalid content type {content_type:?}")]
    ContentType {
        filename: String,
        content_type: String,
    },
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// A file to attach.
pub struct OutgoingAttachment<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
}

/// Everything one email is made of.
pub struct Outgoing<'a> {
    pub from: &'a Mailbox,
    pub to_address: &'a str,
    pub to_name: Option<&'a str>,
    pub reply_to: &'a str,
    pub return_path: &'a str,
    /// Without angle brackets.
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [String],
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub attachments: Vec<OutgoingAttachment<'a>>,
    /// An iCalendar object (an invitation): sent as the `text/calendar` alternative with
    /// its iTIP method, which calendar clients act on, and as `invite.ics` for those that
    /// only show attachments.
    pub calendar: Option<&'a CalendarPart>,
    pub date: DateTime<Utc>,
}

fn address(what: &'static str, value: &str) -> Result<Address, ComposeError> {
    value
        .parse()
        .map_err(|err: lettre::address::AddressError| ComposeError::Address {
            what,
            value: value.to_owned(),
            reason: err.to_string(),
        })
}

/// A display name safe for a header, or none when nothing printable is left.
fn display_name(name: Option<&str>) -> Option<String> {
    name.map(header_text).filter(|n| !n.is_empty())
}

/// The envelope (VERP return path → recipient) and the message bytes.
pub fn compose(out: &Outgoing<'_>) -> Result<(Envelope, Vec<u8>), ComposeError> {
    let to = Mailbox::new(
        display_name(out.to_name),
        address("recipient", out.to_address)?,
    );
    let reply_to = Mailbox::new(
        out.from.name.clone(),
        address("reply address", out.reply_to)?,
    );
    let return_path = address("return path", out.return_path)?;
    let envelope = Envelope::new(Some(return_path), vec![to.email.clone()])
        .map_err(|e| ComposeError::Build(e.to_string()))?;

    // RFC 5322 3.6.4: References is the parent's References followed by the parent's
    // Message-ID, so the message it replies to always comes last.
    let mut references: Vec<&str> = out.references.iter().map(String::as_str).collect();
    if let Some(parent) = out.in_reply_to {
        references.retain(|r| *r != parent);
        references.push(parent);
    }

    let mut builder = Message::builder()
        .from(out.from.clone())
        .reply_to(reply_to)
        .to(to)
        .subject(header_text(out.subject))
        .date(out.date.into())
        .message_id(Some(format!("<{}>", out.message_id)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ))
        .envelope(envelope.clone());
    if let Some(parent) = out.in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    if !references.is_empty() {
        let joined: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
        builder = builder.references(joined.join(" "));
    }

    let mut alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(out.text.to_owned()))
        .singlepart(SinglePart::html(out.html.to_owned()));
    let mut ics = None;
    if let Some(calendar) = out.calendar {
        // The method is a fixed word of ours; anything else is refused, not written into
        // a header.
        if !matches!(calendar.method.as_str(), "REQUEST" | "CANCEL" | "PUBLISH") {
            return Err(ComposeError::Build(format!(
                "unknown calendar method {:?}",
                calendar.method
            )));
        }
        let content_type = ContentType::parse(&format!(
            "text/calendar; charset=utf-8; method={}",
            calendar.method
        ))
        .map_err(|e| ComposeError::Build(e.to_string()))?;
        alternative = alternative.singlepart(
            SinglePart::builder()
                .header(content_type)
                .body(calendar.text.clone()),
        );
        let attachment_type = ContentType::parse("application/ics")
            .map_err(|e| ComposeError::Build(e.to_string()))?;
        ics = Some(
            Attachment::new("invite.ics".to_owned())
                .body(calendar.text.clone().into_bytes(), attachment_type),
        );
    }
    let message = if out.attachments.is_empty() && ics.is_none() {
        builder.multipart(alternative)
    } else {
        let mut mixed = MultiPart::mixed().multipart(alternative);
        if let Some(ics) = ics {
            mixed = mixed.singlepart(ics);
        }
        for a in &out.attachments {
            let content_type =
                ContentType::parse(a.content_type).map_err(|_| ComposeError::ContentType {
                    filename: a.filename.to_owned(),
                    content_type: a.content_type.to_owned(),
                })?;
            let filename = header_text(a.filename);
            mixed =
                mixed.singlepart(Attachment::new(filename).body(a.content.to_vec(), content_type));
        }
        builder.multipart(mixed)
    }
    .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok((envelope, message.formatted()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn from() -> Mailbox {
        "LCJB Secretariat <lcjb@board.example>".parse().unwrap()
    }

    fn outgoing<'a>(
        from: &'a Mailbox,
        subject: &'a str,
        name: Option<&'a str>,
        text: &'a str,
    ) -> Outgoing<'a> {
        Outgoing {
            from,
            to_address: "sophie.linden@mopac.example",
            to_name: name,
            reply_to: "lcjb+0a1b2c@board.example",
            return_path: "lcjb+bounce-7@board.example",
            message_id: "outbox.7.abcdef@board.example",
            in_reply_to: Some("parent@agency.example"),
            references: &[],
            subject,
            text,
            html: "<html><body><p>Hello</p></body></html>",
            attachments: Vec::new(),
            calendar: None,
            date: Utc.with_ymd_and_hms(2023, 12, 13, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn an_invitation_carries_its_calendar_as_an_alternative_with_its_method_and_as_a_file() {
        use mail_parser::{MessageParser, MimeHeaders};
        let from = from();
        let calendar = CalendarPart {
            method: "REQUEST".into(),
            text: "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n".into(),
        };
        let mut out = outgoing(&from, "Invitation", None, "You are invited");
        out.calendar = Some(&calendar);
        let (_, raw) = compose(&out).unwrap();
        let message = MessageParser::default().parse(&raw).unwrap();
        let calendar_part = message
            .parts
            .iter()
            .find(|p| {
                p.content_type()
                    .is_some_and(|c| c.ctype() == "text" && c.subtype() == Some("calendar"))
            })
            .expect("a text/calendar part");
        assert_eq!(
            calendar_part.content_type().unwrap().attribute("method"),
            Some("REQUEST")
        );
        assert!(calendar_part
            .text_contents()
            .unwrap()
            .contains("METHOD:REQUEST"));
        let names: Vec<&str> = message
            .attachments()
            .filter_map(|a| a.attachment_name())
            .collect();
        assert_eq!(names, vec!["invite.ics"]);
        assert_eq!(message.body_text(0).unwrap().trim(), "You are invited");

        let forged = CalendarPart {
            method: "REQUEST\r\nBcc: x@evil.example".into(),
            text: String::new(),
        };
        out.calendar = Some(&forged);
        assert!(compose(&out).is_err());
    }

    fn headers(raw: &[u8]) -> String {
        let text = String::from_utf8_lossy(raw).into_owned();
        text.split("\r\n\r\n").next().unwrap().to_owned()
    }

    #[test]
    fn the_message_carries_the_threading_reply_and_auto_submitted_headers() {
        let from = from();
        let (envelope, raw) =
            compose(&outgoing(&from, "Minutes", Some("Sophie Linden"), "Hello")).unwrap();
        let head = headers(&raw);
        assert!(
            head.contains("Message-ID: <outbox.7.abcdef@board.example>"),
            "{head}"
        );
        assert!(
            head.contains("In-Reply-To: <parent@agency.example>"),
            "{head}"
        );
        assert!(
            head.contains("References: <parent@agency.example>"),
            "{head}"
        );
        assert!(
            head.contains("Reply-To: \"LCJB Secretariat\" <lcjb+0a1b2c@board.example>"),
            "{head}"
        );
        assert!(head.contains("Auto-Submitted: auto-generated"), "{head}");
        assert!(
            head.contains("To: \"Sophie Linden\" <sophie.linden@mopac.example>"),
            "{head}"
        );
        assert!(head.contains("multipart/alternative"), "{head}");
        assert_eq!(
            envelope.from().unwrap().to_string(),
            "lcjb+bounce-7@board.example"
        );
        assert_eq!(envelope.to()[0].to_string(), "sophie.linden@mopac.example");
    }

    #[test]
    fn line_breaks_in_the_subject_or_a_name_never_make_a_header() {
        let from = from();
        let (_, raw) = compose(&outgoing(
            &from,
            "Minutes\r\nBcc: victim@evil.example\r\n\r\nbody",
            Some("Sophie\r\nBcc: other@evil.example"),
            "Hello",
        ))
        .unwrap();
        let head = headers(&raw);
        for line in head.lines() {
            assert!(!line.to_ascii_lowercase().starts_with("bcc"), "{head}");
        }
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert!(parsed.bcc().is_none());
        assert_eq!(
            parsed.subject(),
            Some("Minutes Bcc: victim@evil.example body")
        );
        assert_eq!(
            parsed.to().unwrap().first().unwrap().address(),
            Some("sophie.linden@mopac.example")
        );
    }
}
