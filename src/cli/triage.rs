//! `minuted triage list` and `minuted triage file`.

use anyhow::bail;

use super::{print_json, print_text, with_database, TriageCommand};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::filing::Kind;
use crate::store::triage::{self, ManualFiling, TriageRow};

pub async fn run(command: TriageCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        TriageCommand::List { all, limit, output } => {
            if limit.is_some_and(|n| n < 0) {
                bail!("--limit must not be negative");
            }
            let rows = with_database(loaded, async |pool| {
                Ok(triage::triage(pool, all, limit).await?)
            })
            .await?;
            output.print(&rows[..], render)
        }
        TriageCommand::File {
            id,
            kind,
            meeting,
            item,
            action,
            organisation,
            by,
            output,
        } => {
            let kind = match kind {
                Some(text) => Some(Kind::parse(&text).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--kind {text:?} is not one of {}",
                        Kind::ALL.map(Kind::as_str).join(", ")
                    )
                })?),
                None => None,
            };
            if by.trim().is_empty() {
                bail!("--by must name who is filing");
            }
            let manual = ManualFiling {
                kind,
                meeting,
                item,
                action,
                organisation,
            };
            let recorded = with_database(loaded, async |pool| {
                crate::filing::worker::file_by_hand(pool, id, &manual, by.trim(), &Clock::System)
                    .await
            })
            .await?;
            if output.json {
                print_json(&recorded)
            } else {
                print_text(&format!(
                    "message {} filed as {} (filing {})\n",
                    recorded.message_id, recorded.kind, recorded.filing_id
                ))
            }
        }
    }
}

fn render(rows: &[TriageRow]) -> String {
    if rows.is_empty() {
        return "nothing waiting\n".to_owned();
    }
    let mut out = String::new();
    for row in rows {
        let guess = [
            Some(row.kind.clone()),
            row.meeting.clone(),
            row.item.as_ref().map(|i| format!("item {i}")),
            row.action.clone(),
            row.organisation.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        out.push_str(&format!(
            "#{} {} {} from {}: {}\n  best guess ({:.2}): {}\n",
            row.id,
            row.received_at.format("%Y-%m-%d %H:%M"),
            row.status,
            row.from.as_deref().unwrap_or("(no sender)"),
            row.subject.as_deref().unwrap_or("(no subject)"),
            row.confidence,
            guess
        ));
        for reason in &row.reasons {
            out.push_str(&format!("    - {reason}\n"));
        }
    }
    out.push_str(&format!(
        "{} waiting; file one with `minuted triage file ID --kind K [--meeting REF] [--item N] [--action REF] [--organisation SHORT]`\n",
        rows.len()
    ));
    out
}
