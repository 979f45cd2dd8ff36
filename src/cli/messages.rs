//! `minuted messages list` and `minuted messages show`.

use super::table;
use std::io::Write;

use anyhow::{bail, Context};

use super::known::Named;
use super::{print_json, print_text, with_database, MessagesCommand};
use crate::config::Loaded;
use crate::store::messages::{self as store_messages, ListFilter, MessageDetail, MessageRow};

pub async fn run(command: MessagesCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        MessagesCommand::List {
            status,
            meeting,
            limit,
            output,
        } => {
            if let Some(status) = &status {
                if !store_messages::STATUSES.contains(&status.as_str()) {
                    bail!(
                        "--status {status:?} is not one of {}",
                        store_messages::STATUSES.join(", ")
                    );
                }
            }
            if limit.is_some_and(|n| n < 0) {
                bail!("--limit must not be negative");
            }
            let rows = with_database(loaded, async |pool| {
                let filter = ListFilter {
                    status,
                    meeting: Named::Meeting
                        .spelled_if_given(pool, meeting.as_deref())
                        .await?,
                    limit,
                };
                Ok(store_messages::list(pool, &filter).await?)
            })
            .await?;
            output.print(&rows[..], render_list)
        }
        MessagesCommand::Search(args) => super::search::run(args, loaded).await,
        MessagesCommand::Show { id, raw, json } => {
            if raw {
                let bytes =
                    with_database(
                        loaded,
                        async |pool| Ok(store_messages::raw(pool, id).await?),
                    )
                    .await?;
                let mut out = std::io::stdout().lock();
                return match out.write_all(&bytes).and_then(|()| out.flush()) {
                    Ok(()) => Ok(()),
                    // A closed pipe (`... --raw | head`) is the reader's choice.
                    Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                    Err(err) => Err(err).context("failed to write to stdout"),
                };
            }
            let detail = with_database(loaded, async |pool| {
                Ok(store_messages::show(pool, id).await?)
            })
            .await?;
            if json {
                print_json(&detail)
            } else {
                print_text(&render_detail(&detail))
            }
        }
    }
}

fn render_list(rows: &[MessageRow]) -> String {
    let columns = [
        table::right("ID", 6),
        table::left("RECEIVED", 16),
        table::left("STATUS", 11),
        table::left("FROM", 30),
        table::left("FILED AS", 8),
        table::left("SUBJECT", 0),
    ];
    table::list(&columns, rows, "no messages", |row| {
        vec![
            row.id.to_string(),
            row.received_at.format("%Y-%m-%d %H:%M").to_string(),
            row.status.to_string(),
            table::one_line(row.from.as_deref().unwrap_or("-")),
            row.kind.as_deref().map_or_else(
                || "-".to_owned(),
                |kind| {
                    filed_as(
                        kind,
                        row.meeting.as_deref(),
                        row.item.as_deref(),
                        row.action.as_deref(),
                        row.organisation.as_deref(),
                    )
                },
            ),
            table::clip(row.subject.as_deref().unwrap_or("(no subject)"), 60),
        ]
    })
}

/// What a message is filed as, in a phrase: its kind, then what it is about
/// (`written_update: LCJB-2023-12-13, item 2.b, HMPPS Probation`).
pub(super) fn filed_as(
    kind: &str,
    meeting: Option<&str>,
    item: Option<&str>,
    action: Option<&str>,
    organisation: Option<&str>,
) -> String {
    let about: Vec<String> = [
        meeting.map(str::to_owned),
        item.map(|i| format!("item {i}")),
        action.map(str::to_owned),
        organisation.map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    .collect();
    if about.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {}", about.join(", "))
    }
}

fn render_detail(d: &MessageDetail) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: &str| out.push_str(&format!("{name:<14}{value}\n"));
    line("id", &d.id.to_string());
    line("status", &d.status);
    if let Some(reason) = &d.parse_error {
        line("reason", reason);
    }
    line("received", &d.received_at.to_rfc3339());
    line(
        "source",
        &format!("{} {}", d.source, d.source_ref.as_deref().unwrap_or("")),
    );
    line(
        "size",
        &format!(
            "{} bytes{}",
            d.raw_size,
            if d.raw_truncated {
                " (header block kept)"
            } else {
                ""
            }
        ),
    );
    line("message-id", d.message_id.as_deref().unwrap_or("-"));
    let from = match (&d.from_name, &d.from) {
        (Some(name), Some(address)) => format!("{name} <{address}>"),
        (None, Some(address)) => address.clone(),
        _ => "-".to_owned(),
    };
    line("from", &from);
    line("to", &d.to.join(", "));
    if !d.cc.is_empty() {
        line("cc", &d.cc.join(", "));
    }
    line("subject", d.subject.as_deref().unwrap_or("(no subject)"));
    match &d.filing {
        Some(f) => {
            let what = filed_as(
                &f.kind,
                f.meeting.as_deref(),
                f.item.as_deref(),
                f.action.as_deref(),
                f.organisation.as_deref(),
            );
            let member = f
                .member
                .as_ref()
                .map(|m| format!(" from {m}"))
                .unwrap_or_default();
            let how = match (f.disposition.as_str(), f.decided_by.as_str()) {
                ("triage", _) => format!(
                    "best guess, confidence {:.2}: waiting in triage",
                    f.confidence
                ),
                ("quarantined", _) => "quarantined: the sender is not in the registry".to_owned(),
                (_, "rule") => format!("confidence {:.2}", f.confidence),
                (_, by) => format!("by hand, by {by}"),
            };
            line("filed as", &format!("{what}{member} ({how})"));
            for reason in &f.reasons {
                line("", &format!("- {reason}"));
            }
        }
        None => line("filed as", "not filed yet"),
    }
    if let Some(sent) = d.sent_at {
        line("date", &sent.to_rfc3339());
    }
    if let Some(parent) = &d.in_reply_to {
        line("in-reply-to", parent);
    }
    for a in &d.attachments {
        line(
            "attachment",
            &format!(
                "{} ({}, {} bytes)",
                a.filename.as_deref().unwrap_or("(unnamed)"),
                a.content_type,
                a.size
            ),
        );
    }
    if let Some(body) = &d.body_text {
        out.push('\n');
        out.push_str(body.trim_end());
        out.push('\n');
    }
    out
}
