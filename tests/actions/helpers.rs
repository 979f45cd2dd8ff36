//! Shared set-up: a fresh database with the example board, mail stored as ingestion
//! stores it and filed, the command line run against the database, and an action pack
//! queued as the approval of minutes queues one.

use std::process::{Command, Output};

use minuted::clock::Clock;
use minuted::domain::address::EmailAddress;
use minuted::domain::outbound::MailKind;
use minuted::store;
use minuted::store::outbox::{NewOutboxMessage, Recipient};
use serde_json::{json, Value};
use sqlx::PgPool;

pub use crate::approval_helpers::{at, database, deliver, settings, BIN};

/// 1 December 2023: the September meeting is held, the December papers are due on the
/// 6th.
pub fn clock() -> Clock {
    Clock::manual(at("2023-12-01T09:00:00Z"))
}

pub fn minuted(url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("MINUTED_CONFIG")
        .output()
        .unwrap()
}

pub fn minuted_ok(url: &str, args: &[&str]) -> String {
    let output = minuted(url, args);
    assert!(
        output.status.success(),
        "minuted {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

pub fn minuted_json(url: &str, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&minuted_ok(url, &args)).unwrap()
}

/// Adds an action by hand with the command line and returns its ref.
pub fn add_action(url: &str, meeting: &str, owner: &str, text: &str) -> String {
    minuted_ok(
        url,
        &[
            "actions",
            "add",
            "--meeting",
            meeting,
            "--owner",
            owner,
            text,
        ],
    )
    .trim()
    .to_owned()
}

/// Queues an action pack about `reference` to `to`, as approving minutes does, and
/// returns its Message-ID.
pub async fn action_pack(pool: &PgPool, reference: &str, to: &str) -> String {
    let (board_id, meeting_id): (i64, i64) =
        sqlx::query_as("SELECT board_id, meeting_id FROM actions WHERE ref = $1")
            .bind(reference)
            .fetch_one(pool)
            .await
            .unwrap();
    let context = json!({"actions": [{"ref": reference, "text": "the action", "status": "open"}]});
    queue(
        pool,
        MailKind::ActionPack,
        (board_id, meeting_id),
        to,
        context,
    )
    .await
}

/// Queues an update request for the December meeting listing `references` to `to`, as
/// the schedule does, and returns its Message-ID.
pub async fn update_request(pool: &PgPool, references: &[&str], to: &str) -> String {
    let meeting: (i64, i64) =
        sqlx::query_as("SELECT board_id, id FROM meetings WHERE ref = 'LCJB-2023-12-13'")
            .fetch_one(pool)
            .await
            .unwrap();
    let actions: Vec<Value> = references
        .iter()
        .map(|r| json!({"ref": r, "text": "the action", "status": "open"}))
        .collect();
    let context = json!({"organisation": "MPS", "items": [], "actions": actions});
    queue(pool, MailKind::UpdateRequest, meeting, to, context).await
}

/// Queues mail of `kind` about (board, meeting) to `to` and returns its Message-ID.
async fn queue(
    pool: &PgPool,
    kind: MailKind,
    (board_id, meeting_id): (i64, i64),
    to: &str,
    context: Value,
) -> String {
    let mut conn = pool.acquire().await.unwrap();
    let recipient = Recipient {
        address: EmailAddress::parse(to).unwrap(),
        name: None,
        member_id: None,
    };
    let mut row = NewOutboxMessage::new(kind, board_id, recipient, context);
    row.meeting_id = Some(meeting_id);
    let id = store::outbox::enqueue(&mut conn, row, at("2023-11-28T10:00:00Z"))
        .await
        .unwrap();
    sqlx::query_scalar("SELECT message_id FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// A plain-text email from `from`, sent on 1 December 2023.
pub fn email(
    from: &str,
    subject: &str,
    id: &str,
    in_reply_to: Option<&str>,
    body: &str,
) -> Vec<u8> {
    let threading = in_reply_to
        .map(|r| format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\r\nTo: LCJB <lcjb@board.example>\r\nSubject: {subject}\r\n\
Date: Fri, 1 Dec 2023 08:30:00 +0000\r\nMessage-ID: <{id}>\r\n{threading}\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// The one action `reference` as `actions list --json` shows it.
pub fn listed(url: &str, reference: &str) -> Value {
    let all = minuted_json(url, &["actions", "list"]);
    all.as_array()
        .unwrap()
        .iter()
        .find(|a| a["ref"] == reference)
        .cloned()
        .unwrap_or_else(|| panic!("{reference} not listed in {all}"))
}

/// The current filing of the message with Message-ID `id`: (status, kind, meeting,
/// action, reasons).
pub async fn filing_of(
    pool: &PgPool,
    id: &str,
) -> (String, String, Option<String>, Option<String>, Value) {
    sqlx::query_as(
        "SELECT m.status, f.kind, mt.ref, f.action_ref, f.reasons
         FROM messages m JOIN filings f ON f.message_id = m.id AND f.current
         LEFT JOIN meetings mt ON mt.id = f.meeting_id
         WHERE m.message_id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A reply from `from` to `in_reply_to` with `body` and a .docx of `paragraphs` attached
/// as `filename`, built as a mail client would send it.
pub fn reply_with_docx(
    from: &str,
    id: &str,
    in_reply_to: &str,
    body: &str,
    filename: &str,
    paragraphs: &[&str],
) -> Vec<u8> {
    use lettre::message::header::ContentType;
    use lettre::message::{Attachment, MultiPart, SinglePart};
    let docx_type = ContentType::parse(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    .unwrap();
    lettre::Message::builder()
        .from(from.parse().unwrap())
        .to("LCJB <lcjb@board.example>".parse().unwrap())
        .subject("Re: Your LCJB actions")
        .message_id(Some(format!("<{id}>")))
        .in_reply_to(format!("<{in_reply_to}>"))
        .references(format!("<{in_reply_to}>"))
        .date(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_701_419_400))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(body.to_owned()))
                .singlepart(Attachment::new(filename.to_owned()).body(docx(paragraphs), docx_type)),
        )
        .unwrap()
        .formatted()
}

/// A .docx built with the zip crate, as Word writes the parts minuted reads.
fn docx(paragraphs: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<w:p><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>"))
        .collect();
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("word/document.xml", options).unwrap();
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
        )
        .unwrap();
        zip.finish().unwrap();
    }
    cursor.into_inner()
}

/// Every acknowledgement queued: (to, context), oldest first.
pub async fn acknowledgements(pool: &PgPool) -> Vec<(String, Value)> {
    sqlx::query_as(
        "SELECT to_address, context FROM outbox WHERE kind = 'acknowledgement' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The outbox rows of `kind`: (to, context).
pub async fn queued(pool: &PgPool, kind: &str) -> Vec<(String, Value)> {
    sqlx::query_as("SELECT to_address, context FROM outbox WHERE kind = $1 ORDER BY id")
        .bind(kind)
        .fetch_all(pool)
        .await
        .unwrap()
}
