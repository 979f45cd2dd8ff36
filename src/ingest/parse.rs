//! Raw RFC 822 bytes to a [`ParsedMessage`]: the fields, bodies, attachments and
//! delivery-status report that filing and people need. Pure: no I/O, no clock.
//!
//! Parsing runs mail-parser inside a guard. A message with more MIME parts or deeper
//! nesting than [`Limits`] allows, one mail-parser cannot make sense of, or one whose parse
//! panics is [`Parsed::Unparseable`] with the reason, plus whatever its header block alone
//! yields (so its Message-ID still de-duplicates it). Nothing here ever panics out.
//!
//! Every string is cleaned for PostgreSQL (no NUL characters) and addresses are lower-cased,
//! as the registry stores them. This module does not decide what a message *is*: that is
//! filing's job, from the fields and header keys kept here.

use std::panic::{catch_unwind, AssertUnwindSafe};

use chrono::DateTime;
use mail_parser::{Address, Encoding, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::text::html;

/// Bounds on what a message may contain before it is refused as unparseable.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// MIME parts in the whole message, nested messages included.
    pub max_parts: usize,
    /// Multipart and message/rfc822 nesting depth.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_parts: 1000,
            max_depth: 30,
        }
    }
}

/// What parsing made of a message.
#[derive(Debug)]
pub enum Parsed {
    Complete(ParsedMessage),
    /// Kept raw; `headers` holds whatever the header block alone gave.
    Unparseable {
        reason: String,
        headers: ParsedMessage,
    },
}

pub use crate::domain::message::{Attachment, ParsedMessage};

/// The keys of `messages.headers`, each from the header of the same name (first
/// occurrence, unfolded) except `authentication_results`, an array of every occurrence,
/// and `content_type`, the top-level `type/subtype` in lower case (`report_type` beside it
/// for multipart/report).
pub const HEADER_KEYS: [(&str, &str); 14] = [
    ("auto-submitted", "auto_submitted"),
    ("precedence", "precedence"),
    ("x-autoreply", "x_autoreply"),
    ("x-autorespond", "x_autorespond"),
    ("x-auto-response-suppress", "x_auto_response_suppress"),
    ("list-id", "list_id"),
    ("list-unsubscribe", "list_unsubscribe"),
    ("x-spam-flag", "x_spam_flag"),
    ("x-spam-status", "x_spam_status"),
    ("return-path", "return_path"),
    ("x-failed-recipients", "x_failed_recipients"),
    ("x-mailer", "x_mailer"),
    ("user-agent", "user_agent"),
    ("authentication-results", "authentication_results"),
];

/// Parses a whole message under `limits`. Never panics.
pub fn parse(raw: &[u8], limits: &Limits) -> Parsed {
    if let Some(reason) = prescan(raw, limits) {
        return Parsed::Unparseable {
            reason,
            headers: parse_headers(raw),
        };
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| parse_unguarded(raw, limits)));
    match outcome {
        Ok(Ok(parsed)) => Parsed::Complete(parsed),
        Ok(Err(reason)) => Parsed::Unparseable {
            reason,
            headers: parse_headers(raw),
        },
        Err(panic) => Parsed::Unparseable {
            reason: format!("the MIME parser failed: {}", panic_message(&panic)),
            headers: parse_headers(raw),
        },
    }
}

/// The fields the header block alone gives, for a message too large to parse or one that
/// could not be parsed. Bodies and attachments stay empty. Never panics.
pub fn parse_headers(raw: &[u8]) -> ParsedMessage {
    let header_block = &raw[..header_end(raw)];
    catch_unwind(AssertUnwindSafe(|| {
        MessageParser::default()
            .parse_headers(header_block)
            .map(|message| envelope(&message, header_block))
            .unwrap_or_default()
    }))
    .unwrap_or_default()
}

/// The length of the header block: up to and including the first empty line, or all of
/// `raw` when there is none.
pub fn header_end(raw: &[u8]) -> usize {
    let mut at = 0;
    while let Some(nl) = raw[at..].iter().position(|&b| b == b'\n') {
        let line_end = at + nl + 1;
        let line = &raw[at..at + nl];
        if line.is_empty() || line == b"\r" {
            return line_end;
        }
        at = line_end;
    }
    raw.len()
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

/// Refuses, before parsing, a message that plainly has more parts than allowed: every part
/// starts with a header block, so Content-Type lines bound the part count.
fn prescan(raw: &[u8], limits: &Limits) -> Option<String> {
    let mut count = 0usize;
    for line in raw.split(|&b| b == b'\n') {
        if line.len() >= 13 && line[..13].eq_ignore_ascii_case(b"content-type:") {
            count += 1;
        }
    }
    (count > limits.max_parts * 2).then(|| {
        format!(
            "too many MIME parts: {count} Content-Type headers (at most {} parts are parsed)",
            limits.max_parts
        )
    })
}

fn parse_unguarded(raw: &[u8], limits: &Limits) -> Result<ParsedMessage, String> {
    let Some(mut message) = MessageParser::default().parse(raw) else {
        return Err("no header block: this is not an RFC 822 message".to_owned());
    };
    let has_field = message.headers().iter().any(|h| {
        let name = h.name();
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
    });
    if !has_field {
        return Err("no header fields: this is not an RFC 822 message".to_owned());
    }
    check_shape(&message, limits)?;

    let mut parsed = envelope(&message, raw);
    parsed.body_text = body_text(&message);
    parsed.body_html = message
        .html_body
        .iter()
        .filter_map(|&id| message.parts.get(id as usize))
        .find_map(|part| match &part.body {
            PartType::Html(html) => Some(clean(html)),
            _ => None,
        });
    parsed.dsn = delivery_status(&message);
    parsed.attachments = attachments(&mut message, raw);
    Ok(parsed)
}

/// Counts parts and measures nesting without recursion (a hostile message could nest deep
/// enough to exhaust the stack).
fn check_shape(message: &Message<'_>, limits: &Limits) -> Result<(), String> {
    let mut parts = 0usize;
    let mut stack: Vec<(&Message<'_>, u32, usize)> = vec![(message, 0, 1)];
    while let Some((msg, id, depth)) = stack.pop() {
        if depth > limits.max_depth {
            return Err(format!(
                "MIME nesting deeper than {} levels",
                limits.max_depth
            ));
        }
        parts += 1;
        if parts > limits.max_parts {
            return Err(format!("more than {} MIME parts", limits.max_parts));
        }
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Multipart(children) => {
                for &child in children {
                    // A multipart that lists itself would loop forever.
                    if child != id {
                        stack.push((msg, child, depth + 1));
                    }
                }
            }
            PartType::Message(nested) => stack.push((nested, 0, depth + 1)),
            _ => {}
        }
    }
    Ok(())
}

/// The header fields, from a full parse or a header-only one.
fn envelope(message: &Message<'_>, raw: &[u8]) -> ParsedMessage {
    let from = message.from().and_then(Address::first);
    ParsedMessage {
        message_id: message.message_id().and_then(normalise_message_id),
        in_reply_to: first_id(message.in_reply_to()),
        references: id_list(message.references()),
        from_address: from.and_then(|a| a.address()).and_then(normalise_address),
        from_name: from
            .and_then(|a| a.name())
            .map(clean)
            .filter(|n| !n.trim().is_empty()),
        sender_address: message
            .sender()
            .and_then(Address::first)
            .and_then(|a| a.address())
            .and_then(normalise_address),
        to_addresses: addresses(message.all_to()),
        cc_addresses: addresses(message.all_cc()),
        reply_to: message
            .reply_to()
            .map(|a| addresses(std::iter::once(a)))
            .unwrap_or_default(),
        delivered_to: delivered_to(message, raw),
        subject: message.subject().map(clean),
        sent_at: message
            .date()
            .filter(|d| d.is_valid())
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
        headers: header_keys(message, raw),
        ..ParsedMessage::default()
    }
}

fn addresses<'a, 'x: 'a>(lists: impl Iterator<Item = &'a Address<'x>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for list in lists {
        for addr in list.iter() {
            if let Some(address) = addr.address().and_then(normalise_address) {
                if !out.contains(&address) {
                    out.push(address);
                }
            }
        }
    }
    out
}

fn normalise_address(address: &str) -> Option<String> {
    let address = clean(address.trim().trim_matches(['<', '>']).trim());
    (!address.is_empty()).then(|| address.to_lowercase())
}

/// Message-IDs longer than this are replaced by a digest: the unique index on
/// `messages.message_id` cannot hold arbitrarily long keys.
const MAX_MESSAGE_ID: usize = 500;

fn normalise_message_id(id: &str) -> Option<String> {
    let id = clean(id.trim().trim_matches(['<', '>']).trim());
    if id.is_empty() {
        None
    } else if id.len() > MAX_MESSAGE_ID {
        Some(format!(
            "sha256:{}",
            hex::encode(Sha256::digest(id.as_bytes()))
        ))
    } else {
        Some(id)
    }
}

fn first_id(value: &HeaderValue<'_>) -> Option<String> {
    id_list(value).into_iter().next()
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    let ids: Vec<&str> = match value {
        HeaderValue::Text(text) => text.split_whitespace().collect(),
        HeaderValue::TextList(list) => list.iter().map(|s| s.as_ref()).collect(),
        _ => Vec::new(),
    };
    ids.into_iter().filter_map(normalise_message_id).collect()
}

/// The raw value of a header field, unfolded, whitespace collapsed.
fn raw_value(raw: &[u8], start: u32, end: u32) -> Option<String> {
    let bytes = raw.get(start as usize..end as usize)?;
    let text = String::from_utf8_lossy(bytes);
    let value = clean(&text.split_whitespace().collect::<Vec<_>>().join(" "));
    (!value.is_empty()).then_some(value)
}

fn delivered_to(message: &Message<'_>, raw: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for header in message.headers() {
        let name = header.name();
        if name.eq_ignore_ascii_case("delivered-to") || name.eq_ignore_ascii_case("x-original-to") {
            if let Some(address) = raw_value(raw, header.offset_start(), header.offset_end())
                .as_deref()
                .and_then(normalise_address)
            {
                if !out.contains(&address) {
                    out.push(address);
                }
            }
        }
    }
    out
}

fn header_keys(message: &Message<'_>, raw: &[u8]) -> Value {
    let mut map = Map::new();
    let mut authentication_results = Vec::new();
    for header in message.headers() {
        let name = header.name().to_ascii_lowercase();
        let Some(&(_, key)) = HEADER_KEYS.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let Some(value) = raw_value(raw, header.offset_start(), header.offset_end()) else {
            continue;
        };
        if key == "authentication_results" {
            authentication_results.push(Value::String(value));
        } else if !map.contains_key(key) {
            map.insert(key.to_owned(), Value::String(value));
        }
    }
    if !authentication_results.is_empty() {
        map.insert(
            "authentication_results".to_owned(),
            Value::Array(authentication_results),
        );
    }
    if let Some(content_type) = message.root_part().content_type() {
        map.insert(
            "content_type".to_owned(),
            Value::String(clean(&mime_type(
                content_type.ctype(),
                content_type.subtype(),
            ))),
        );
        if let Some(report_type) = content_type.attribute("report-type") {
            map.insert(
                "report_type".to_owned(),
                Value::String(clean(report_type).to_lowercase()),
            );
        }
    }
    Value::Object(map)
}

fn mime_type(ctype: &str, subtype: Option<&str>) -> String {
    format!(
        "{}/{}",
        ctype.trim().to_lowercase(),
        subtype.unwrap_or("octet-stream").trim().to_lowercase()
    )
}

/// Every inline text body part in order, text/plain as written and HTML converted.
fn body_text(message: &Message<'_>) -> Option<String> {
    let mut texts = Vec::new();
    for &id in &message.text_body {
        match message.parts.get(id as usize).map(|p| &p.body) {
            Some(PartType::Text(text)) => texts.push(clean(text)),
            Some(PartType::Html(html)) => texts.push(clean(&html::to_text(html))),
            _ => {}
        }
    }
    if texts.is_empty() {
        // No inline body at all (an attachment-only message): nothing to read.
        return None;
    }
    Some(texts.join("\n"))
}

/// The first `message/delivery-status` part, anywhere in the message, as JSON:
/// `{"message": {field: value}, "recipients": [{field: value}]}` with field names lower
/// case and `-` written `_`.
fn delivery_status(message: &Message<'_>) -> Option<Value> {
    let part = message.parts.iter().find(|part| {
        part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("message")
                && ct.subtype().is_some_and(|s| {
                    s.eq_ignore_ascii_case("delivery-status")
                        || s.eq_ignore_ascii_case("global-delivery-status")
                })
        })
    })?;
    let text = String::from_utf8_lossy(part.contents());
    let text = text.replace("\r\n", "\n");
    let mut groups = text
        .split("\n\n")
        .map(dsn_fields)
        .filter(|fields| !fields.is_empty());
    let per_message = groups.next().unwrap_or_default();
    let recipients: Vec<Value> = groups.map(Value::Object).collect();
    Some(json!({ "message": per_message, "recipients": recipients }))
}

fn dsn_fields(group: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    let mut current: Option<(String, String)> = None;
    for line in group.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.as_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = current.take() {
            fields.insert(name, Value::String(clean(&value)));
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase().replace('-', "_");
            if !name.is_empty() {
                current = Some((name, value.trim().to_owned()));
            }
        }
    }
    if let Some((name, value)) = current {
        fields.insert(name, Value::String(clean(&value)));
    }
    fields
}

/// Takes the attachments out of the parsed message (decoded bytes are moved, not copied).
fn attachments(message: &mut Message<'_>, raw: &[u8]) -> Vec<Attachment> {
    let ids = message.attachments.clone();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(part) = message.parts.get_mut(id as usize) else {
            continue;
        };
        let content_type = part
            .content_type()
            .map(|ct| mime_type(ct.ctype(), ct.subtype()))
            .unwrap_or_else(|| "text/plain".to_owned());
        let filename = part
            .attachment_name()
            .map(clean)
            .filter(|n| !n.trim().is_empty());
        let (start, end, encoding) = (part.offset_body, part.offset_end, part.encoding);
        let content: Vec<u8> = match std::mem::take(&mut part.body) {
            PartType::Text(text) | PartType::Html(text) => text.into_owned().into_bytes(),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes.into_owned(),
            PartType::Message(nested) => {
                // An unencoded nested message is a slice of the outer one (mail-parser
                // points its raw_message at the whole outer message); an encoded one was
                // decoded into its own buffer.
                if encoding == Encoding::None {
                    raw.get(start as usize..end as usize)
                        .map(<[u8]>::to_vec)
                        .unwrap_or_else(|| nested.raw_message.into_owned())
                } else {
                    nested.raw_message.into_owned()
                }
            }
            PartType::Multipart(_) => continue,
        };
        let sha256 = Sha256::digest(&content).into();
        out.push(Attachment {
            filename,
            content_type,
            content,
            sha256,
        });
    }
    out
}

/// Text as PostgreSQL accepts it: NUL characters cannot be stored in TEXT or JSONB.
pub fn clean(text: &str) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(raw: &[u8]) -> ParsedMessage {
        match parse(raw, &Limits::default()) {
            Parsed::Complete(parsed) => parsed,
            Parsed::Unparseable { reason, .. } => panic!("unparseable: {reason}"),
        }
    }

    #[test]
    fn a_plain_message_gives_its_fields() {
        let raw = b"From: \"Jo Bloggs\" <Jo.Bloggs@Met.Example>\r\n\
To: lcjb@board.example, <Other@Board.Example>\r\n\
Cc: a@b.example\r\n\
Subject: =?UTF-8?Q?Update_=E2=80=93_item_2b?=\r\n\
Date: Wed, 6 Dec 2023 10:15:00 +0000\r\n\
Message-ID: <abc@met.example>\r\n\
In-Reply-To: <req-1@board.example>\r\n\
References: <req-0@board.example> <req-1@board.example>\r\n\
Auto-Submitted: no\r\n\
Delivered-To: LCJB@board.example\r\n\
\r\n\
Hello board.\r\n";
        let p = complete(raw);
        assert_eq!(p.message_id.as_deref(), Some("abc@met.example"));
        assert_eq!(p.from_address.as_deref(), Some("jo.bloggs@met.example"));
        assert_eq!(p.from_name.as_deref(), Some("Jo Bloggs"));
        assert_eq!(
            p.to_addresses,
            ["lcjb@board.example", "other@board.example"]
        );
        assert_eq!(p.cc_addresses, ["a@b.example"]);
        assert_eq!(p.delivered_to, ["lcjb@board.example"]);
        assert_eq!(p.subject.as_deref(), Some("Update – item 2b"));
        assert_eq!(p.in_reply_to.as_deref(), Some("req-1@board.example"));
        assert_eq!(p.references, ["req-0@board.example", "req-1@board.example"]);
        assert_eq!(
            p.sent_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2023-12-06T10:15:00+00:00")
        );
        assert_eq!(p.headers["auto_submitted"], "no");
        assert_eq!(p.body_text.as_deref(), Some("Hello board.\r\n"));
        assert!(p.attachments.is_empty());
    }

    #[test]
    fn html_only_mail_gets_readable_text() {
        let raw = b"From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>Dear all,</p><p>Update&nbsp;attached.</p></body></html>\r\n";
        let p = complete(raw);
        assert_eq!(
            p.body_text.as_deref(),
            Some("Dear all,\n\nUpdate attached.")
        );
        assert!(p.body_html.as_deref().unwrap().contains("<p>Dear all,</p>"));
    }

    #[test]
    fn text_plain_is_preferred_over_html() {
        let raw = b"From: a@b.example\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n\
--x\r\nContent-Type: text/plain\r\n\r\nplain words\r\n\
--x\r\nContent-Type: text/html\r\n\r\n<p>html words</p>\r\n--x--\r\n";
        let p = complete(raw);
        assert_eq!(p.body_text.as_deref(), Some("plain words"));
        assert_eq!(p.body_html.as_deref(), Some("<p>html words</p>"));
    }

    #[test]
    fn non_utf8_charsets_are_decoded() {
        let mut raw = b"From: a@b.example\r\nSubject: =?ISO-8859-1?Q?Caf=E9?=\r\n\
Content-Type: text/plain; charset=windows-1252\r\n\r\n"
            .to_vec();
        raw.extend_from_slice(b"Co\xfbt: \x80 5\r\n");
        let p = complete(&raw);
        assert_eq!(p.subject.as_deref(), Some("Café"));
        assert_eq!(p.body_text.as_deref(), Some("Coût: € 5\r\n"));

        let mut raw =
            b"From: a@b.example\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n".to_vec();
        raw.extend_from_slice(b"\x1b$B$3$s$K$A$O\x1b(B\r\n");
        assert_eq!(complete(&raw).body_text.as_deref(), Some("こんにちは\r\n"));
    }

    #[test]
    fn attachments_keep_name_type_bytes_and_digest() {
        let raw = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
--b\r\nContent-Type: application/pdf; name=\"minutes.pdf\"\r\n\
Content-Disposition: attachment; filename=\"minutes.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n";
        let p = complete(raw);
        assert_eq!(p.attachments.len(), 1);
        let a = &p.attachments[0];
        assert_eq!(a.filename.as_deref(), Some("minutes.pdf"));
        assert_eq!(a.content_type, "application/pdf");
        assert_eq!(a.content, b"%PDF-1.4\n");
        assert_eq!(a.sha256, <[u8; 32]>::from(Sha256::digest(b"%PDF-1.4\n")));
    }

    #[test]
    fn a_delivery_status_report_is_read() {
        let raw = b"From: MAILER-DAEMON@mx.example\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n\
--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\
--r\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.example\r\n\r\n\
Final-Recipient: rfc822; gone@agency.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 user\r\n  unknown\r\n\
--r--\r\n";
        let p = complete(raw);
        let dsn = p.dsn.unwrap();
        assert_eq!(dsn["message"]["reporting_mta"], "dns; mx.example");
        assert_eq!(
            dsn["recipients"][0]["final_recipient"],
            "rfc822; gone@agency.example"
        );
        assert_eq!(dsn["recipients"][0]["status"], "5.1.1");
        assert_eq!(
            dsn["recipients"][0]["diagnostic_code"],
            "smtp; 550 5.1.1 user unknown"
        );
        assert_eq!(p.headers["content_type"], "multipart/report");
        assert_eq!(p.headers["report_type"], "delivery-status");
    }

    #[test]
    fn garbage_is_unparseable_with_a_reason() {
        for raw in [&b""[..], b"\x00\x01\x02", b"\r\n\r\njust a body"] {
            let Parsed::Unparseable { reason, .. } = parse(raw, &Limits::default()) else {
                panic!("{raw:?} parsed");
            };
            assert!(!reason.is_empty());
        }
    }

    #[test]
    fn deep_nesting_is_refused_but_the_message_id_is_kept() {
        let mut raw = b"Message-ID: <deep@x.example>\r\nFrom: a@b.example\r\n".to_vec();
        for level in 0..60 {
            raw.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=b{level}\r\n\r\n--b{level}\r\n")
                    .as_bytes(),
            );
        }
        raw.extend_from_slice(b"Content-Type: text/plain\r\n\r\nbottom\r\n");
        let Parsed::Unparseable { reason, headers } = parse(&raw, &Limits::default()) else {
            panic!("parsed");
        };
        assert!(reason.contains("nesting"), "{reason}");
        assert_eq!(headers.message_id.as_deref(), Some("deep@x.example"));
    }

    #[test]
    fn too_many_parts_are_refused() {
        let mut raw =
            b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
        for _ in 0..50 {
            raw.extend_from_slice(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n");
        }
        raw.extend_from_slice(b"--b--\r\n");
        let limits = Limits {
            max_parts: 20,
            max_depth: 10,
        };
        assert!(matches!(parse(&raw, &limits), Parsed::Unparseable { .. }));
        assert!(matches!(
            parse(&raw, &Limits::default()),
            Parsed::Complete(_)
        ));
    }

    #[test]
    fn nul_characters_never_reach_the_database() {
        let raw = b"From: a@b.example\r\nSubject: a\x00b\r\n\r\nbody\x00text\r\n";
        let p = complete(raw);
        assert!(!p.subject.unwrap().contains('\0'));
        assert!(!p.body_text.unwrap().contains('\0'));
    }

    #[test]
    fn an_overlong_message_id_becomes_a_digest() {
        let raw = format!(
            "Message-ID: <{}@x>\r\nFrom: a@b.example\r\n\r\nx\r\n",
            "a".repeat(3000)
        );
        let id = complete(raw.as_bytes()).message_id.unwrap();
        assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    }

    #[test]
    fn the_header_block_ends_at_the_first_empty_line() {
        assert_eq!(header_end(b"A: b\r\n\r\nbody"), 8);
        assert_eq!(header_end(b"A: b\n\nbody"), 6);
        assert_eq!(header_end(b"A: b\r\nC: d"), 10);
    }

    #[test]
    fn an_unencoded_nested_message_is_attached_as_itself() {
        let raw = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nForwarded.\r\n\
--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: c@d.example\r\nSubject: inner\r\n\r\ninner body\r\n\
--b--\r\n";
        let p = complete(raw);
        assert_eq!(p.attachments.len(), 1);
        let inner = String::from_utf8(p.attachments[0].content.clone()).unwrap();
        assert!(inner.starts_with("From: c@d.example"), "{inner:?}");
        assert!(!inner.contains("Forwarded."), "{inner:?}");
    }
}
