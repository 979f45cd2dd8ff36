//! A received message as parsing leaves it: the fields stored beside the raw bytes, and
//! its attachments. Made by `ingest::parse`, stored and read back by the store, read by
//! filing.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The fields stored beside the raw bytes. Column names in `messages` follow these, and
/// the store reads the small ones back as one JSON object of them (the bodies and
/// attachments apart).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ParsedMessage {
    /// Without angle brackets; an over-long one is replaced by `sha256:<hex>` of it.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub sender_address: Option<String>,
    pub to_addresses: Vec<String>,
    pub cc_addresses: Vec<String>,
    pub reply_to: Vec<String>,
    /// Delivered-To and X-Original-To, where the mail system added them.
    pub delivered_to: Vec<String>,
    pub subject: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The header keys filing reads: see `ingest::parse::header_keys`.
    pub headers: Value,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
    /// The RFC 3464 delivery-status part, when the message is a DSN.
    pub dsn: Option<Value>,
    #[serde(skip)]
    pub attachments: Vec<Attachment>,
}

impl Default for ParsedMessage {
    fn default() -> Self {
        ParsedMessage {
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            from_address: None,
            from_name: None,
            sender_address: None,
            to_addresses: Vec::new(),
            cc_addresses: Vec::new(),
            reply_to: Vec::new(),
            delivered_to: Vec::new(),
            subject: None,
            sent_at: None,
            // Always an object, so filing can read keys without checking for null.
            headers: Value::Object(Map::new()),
            body_text: None,
            body_html: None,
            dsn: None,
            attachments: Vec::new(),
        }
    }
}

/// One attachment (any part that is not the message's body text).
#[derive(Clone, PartialEq)]
pub struct Attachment {
    pub filename: Option<String>,
    /// `type/subtype`, lower case.
    pub content_type: String,
    pub content: Vec<u8>,
    pub sha256: [u8; 32],
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("size", &self.content.len())
            .finish()
    }
}
