//! Reads an `.eml` file into filing's input the way the ingestion step stores a message:
//! addresses, subject, readable text (HTML converted), the headers that mark automatic
//! mail, the delivery-status report, threading and attachments.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use minuted::filing::{Attachment, Dsn, DsnRecipient, Headers, Message};

fn addresses(address: Option<&Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

pub fn parse(raw: &[u8]) -> Message {
    let parsed = MessageParser::default()
        .parse(raw)
        .expect("the fixture parses");
    let header = |name: &str| {
        parsed
            .header_raw(name)
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let from = parsed.from().and_then(|a| a.first());
    let mut dsn: Option<Dsn> = None;
    let mut attachments = Vec::new();
    for part in &parsed.parts {
        let Some(content_type) = part.content_type() else {
            continue;
        };
        let full = format!(
            "{}/{}",
            content_type.ctype(),
            content_type.subtype().unwrap_or_default()
        )
        .to_lowercase();
        if full == "message/delivery-status" || full == "message/global-delivery-status" {
            let text = String::from_utf8_lossy(part.contents()).to_string();
            let report = dsn.get_or_insert_with(Dsn::default);
            report.recipients.extend(delivery_status(&text));
        } else if full == "text/rfc822-headers" || full == "message/rfc822" {
            let text = String::from_utf8_lossy(part.contents()).to_string();
            let id = text
                .lines()
                .find_map(|l| {
                    l.strip_prefix("Message-ID:")
                        .or_else(|| l.strip_prefix("Message-Id:"))
                })
                .map(|v| v.trim().trim_matches(['<', '>']).to_owned());
            if let Some(report) = dsn.as_mut() {
                report.original_message_id = id;
            }
        }
    }
    for part in parsed.attachments() {
        let content_type = part
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()).to_lowercase())
            .unwrap_or_else(|| "application/octet-stream".into());
        if content_type.starts_with("message/") || content_type == "text/rfc822-headers" {
            continue;
        }
        let first_lines = match &part.body {
            PartType::Text(text) => Some(text.lines().take(20).collect::<Vec<_>>().join("\n")),
            _ => None,
        };
        attachments.push(Attachment {
            filename: part.attachment_name().map(str::to_owned),
            content_type,
            first_lines,
        });
    }
    Message {
        from: from.and_then(|a| a.address()).map(str::to_owned),
        from_name: from.and_then(|a| a.name()).map(str::to_owned),
        sender: parsed
            .sender()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_owned),
        to: addresses(parsed.to()),
        cc: addresses(parsed.cc()),
        delivered_to: header("Delivered-To").into_iter().collect(),
        subject: parsed.subject().map(str::to_owned),
        body_text: parsed.body_text(0).map(|b| b.into_owned()),
        headers: Headers {
            auto_submitted: header("Auto-Submitted"),
            precedence: header("Precedence"),
            x_autoreply: header("X-Autoreply"),
            x_autorespond: header("X-Autorespond"),
            list_id: header("List-Id"),
            list_unsubscribe: header("List-Unsubscribe"),
            x_spam_flag: header("X-Spam-Flag"),
            x_spam_status: header("X-Spam-Status"),
            authentication_results: header("Authentication-Results"),
            return_path: header("Return-Path"),
        },
        dsn,
        message_id: parsed.message_id().map(str::to_owned),
        in_reply_to: ids(parsed.in_reply_to()).into_iter().next(),
        references: ids(parsed.references()),
        attachments,
    }
}

/// The per-recipient blocks of an RFC 3464 report.
fn delivery_status(text: &str) -> Vec<DsnRecipient> {
    let unfolded = text
        .replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", " ");
    let mut recipients = Vec::new();
    for block in unfolded.split("\n\n") {
        let mut recipient = DsnRecipient::default();
        for line in block.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim().to_owned();
            match name.trim().to_ascii_lowercase().as_str() {
                "final-recipient" => recipient.address = Some(value),
                "original-recipient" if recipient.address.is_none() => {
                    recipient.address = Some(value)
                }
                "action" => recipient.action = Some(value.to_lowercase()),
                "status" => recipient.status = Some(value),
                "diagnostic-code" => recipient.diagnostic = Some(value),
                _ => {}
            }
        }
        if recipient.address.is_some() || recipient.action.is_some() {
            recipients.push(recipient);
        }
    }
    recipients
}
