//! One person's records under UK GDPR: a subject-access export of everything held about
//! an address, and erasure.
//!
//! Erasure tombstones every message from, to or naming the address (as retention does),
//! then replaces the address, and the person's name as the registry spells it, with a
//! pseudonym in every text column of every table (`erased-N@erased.invalid`, "Erased
//! person N"), so no byte of the address is left in text anywhere. The audit trail keeps
//! its rows (who did what, when) under the pseudonym, and the erasure is itself an event.
//! It is refused while a legal hold covers the person, and for a person named in approved
//! minutes: those are a public record, and the refusal says where the name stands.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::PgConnection;

use crate::store::events::{self, NewEvent};
use crate::store::person::{self as store, Part};
use crate::store::records;

/// The export's README, before the figures.
const README: &str = "Records held by minuted about one person
========================================

This archive holds everything the board's mail system keeps about the address below,
as of the time stated. Each part:

- messages/ID.eml   each message from, to or copied to the address (or naming it), as
                    received, byte for byte. A message removed under the retention
                    schedule is listed in messages.json without its bytes.
- messages.json     each of those messages: when it arrived, who it was from and to, its
                    subject, and what it was filed as (meeting, organisation, the reasons).
- member.json       the board registry's entry for the person (name, organisation, roles,
                    addresses), when they are a member.
- actions.json      actions recorded against the person.
- attendance.json   the person's answers to meeting invitations.
- outbox.json       the mail sent (or to be sent) to the address, with its text.
- events.json       audit events that name the address or the person.
";

/// What was found about a person.
#[derive(Debug, Serialize)]
pub struct Found {
    pub address: String,
    pub messages: usize,
    pub members: usize,
    pub actions: usize,
    pub attendance: usize,
    pub outbox: usize,
    pub events: usize,
}

/// Writes the subject-access export of `address` as a zip to `out`.
pub async fn export(
    conn: &mut PgConnection,
    address: &str,
    now: DateTime<Utc>,
    out: impl Write + std::io::Seek,
) -> anyhow::Result<Found> {
    let messages = store::messages(conn, address).await?;
    let members = store::part(conn, Part::Members, address).await?;
    let actions = store::part(conn, Part::Actions, address).await?;
    let attendance = store::part(conn, Part::Attendance, address).await?;
    let outbox = store::part(conn, Part::Outbox, address).await?;
    let events = store::part(conn, Part::Events, address).await?;

    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default();
    let found = Found {
        address: address.to_owned(),
        messages: messages.len(),
        members: members.len(),
        actions: actions.len(),
        attendance: attendance.len(),
        outbox: outbox.len(),
        events: events.len(),
    };
    zip.start_file("README.txt", options)?;
    write!(
        zip,
        "{README}\nAddress: {address}\nMade: {}\nFound: {} messages, {} registry entries, {} actions, {} attendance answers, {} outgoing messages, {} events\n",
        now.format("%Y-%m-%d %H:%M UTC"),
        found.messages,
        found.members,
        found.actions,
        found.attendance,
        found.outbox,
        found.events
    )?;
    for message in &messages {
        if message.removed_at.is_none() && !message.raw.is_empty() {
            zip.start_file(format!("messages/{}.eml", message.id), options)?;
            zip.write_all(&message.raw)?;
        }
    }
    for (name, value) in [
        ("messages.json", serde_json::to_value(&messages)?),
        ("member.json", Value::from(members)),
        ("actions.json", Value::from(actions)),
        ("attendance.json", Value::from(attendance)),
        ("outbox.json", Value::from(outbox)),
        ("events.json", Value::from(events)),
    ] {
        zip.start_file(name, options)?;
        serde_json::to_writer_pretty(&mut zip, &value)?;
    }
    zip.finish().context("failed to finish the archive")?;
    Ok(found)
}

/// What an erasure did, or would do (`dry_run`).
#[derive(Debug, Serialize)]
pub struct Erasure {
    pub address: String,
    pub pseudonym: String,
    pub dry_run: bool,
    /// Messages emptied to tombstones.
    pub messages: u64,
    /// Rows changed, by `table.column`.
    pub replaced: Vec<(String, u64)>,
    /// Where the person remains, and why.
    pub remains: Vec<String>,
}

/// Why an erasure cannot go ahead.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error(
        "{address} is under legal hold ({reasons}); release the hold first (`minuted hold list`)"
    )]
    Held { address: String, reasons: String },
    #[error("{name} is named in approved minutes ({places}); approved minutes are a public record and are not changed. Nothing was erased")]
    PublicRecord { name: String, places: String },
    #[error("nothing is held about {0}")]
    Unknown(String),
}

/// Erases `address` (lower case) inside `conn`'s transaction; the caller commits, or
/// rolls back for a dry run.
pub async fn erase(
    conn: &mut PgConnection,
    address: &str,
    reason: &str,
    by: &str,
    dry_run: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Erasure> {
    let reasons = records::person_held(conn, address).await?;
    if !reasons.is_empty() {
        return Err(Refused::Held {
            address: address.to_owned(),
            reasons: reasons.join("; "),
        }
        .into());
    }
    let names = store::names(conn, address).await?;
    for name in &names {
        let places = store::approved_minutes_naming(conn, name).await?;
        if !places.is_empty() {
            let places: Vec<String> = places
                .iter()
                .map(|(meeting, n)| format!("{meeting} revision {n}"))
                .collect();
            return Err(Refused::PublicRecord {
                name: name.clone(),
                places: places.join(", "),
            }
            .into());
        }
    }
    let messages = store::messages(conn, address).await?;
    let columns = store::text_columns(conn).await?;
    let pattern = regex::escape(address);
    records::allow_record_changes(conn).await?;
    let n = store::next_pseudonym(conn).await?;
    let pseudonym = format!("erased-{n}@erased.invalid");
    let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    let removed = records::remove(conn, records::Class::Messages, &ids, "erasure", now).await?;
    let mut replaced = Vec::new();
    for column in &columns {
        let changed = store::replace_in(conn, column, &pattern, &pseudonym).await?;
        if changed > 0 {
            replaced.push((format!("{}.{}", column.table, column.column), changed));
        }
    }
    // Nothing held about them: the caller's transaction is not committed, so the
    // pseudonym is not spent.
    if messages.is_empty() && names.is_empty() && replaced.is_empty() {
        return Err(Refused::Unknown(address.to_owned()).into());
    }
    // The name as the registry spells it, as a whole phrase.
    for name in &names {
        let name_pattern = format!(r"\m{}\M", regex::escape(name));
        for column in &columns {
            let changed =
                store::replace_in(conn, column, &name_pattern, &format!("Erased person {n}"))
                    .await?;
            if changed > 0 {
                replaced.push((
                    format!("{}.{} (name)", column.table, column.column),
                    changed,
                ));
            }
        }
    }
    events::record(
        conn,
        NewEvent {
            board_id: None,
            actor: by,
            kind: "person.erased",
            subject: None,
            detail: json!({
                "pseudonym": pseudonym, "reason": reason, "messages": removed,
                "replaced": replaced,
            }),
        },
    )
    .await?;
    let mut remains = vec![
        "the audit trail keeps its events, under the pseudonym, and this erasure is one of them"
            .to_owned(),
    ];
    if !names.is_empty() {
        remains.push(format!(
            "the registry file (board.file) still names them: remove them from it, or the next import adds {} back",
            if names.len() == 1 { "the entry" } else { "the entries" }
        ));
    }
    remains.push(
        "attachments shared with other people's messages keep their bytes: documents are not rewritten"
            .to_owned(),
    );
    Ok(Erasure {
        address: address.to_owned(),
        pseudonym,
        dry_run,
        messages: removed,
        replaced,
        remains,
    })
}
