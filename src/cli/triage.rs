//! `minuted triage list` and `minuted triage file`.

use anyhow::bail;

use super::known::Named;
use super::messages::filed_as;
use super::{print_json, print_text, with_database, TriageCommand};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::filing::Kind;
use crate::store::messages as store_messages;
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
            let (recorded, filed) = with_database(loaded, async |pool| {
                let manual = ManualFiling {
                    kind,
                    meeting: Named::Meeting
                        .spelled_if_given(pool, meeting.as_deref())
                        .await?,
                    item,
                    action: Named::Action
                        .spelled_if_given(pool, action.as_deref())
                        .await?,
                    organisation: Named::Organisation
                        .spelled_if_given(pool, organisation.as_deref())
                        .await?,
                };
                let recorded = crate::filing::worker::file_by_hand(
                    pool,
                    id,
                    &manual,
                    by.trim(),
                    &Clock::System,
                )
                .await?;
                let filed = store_messages::current_filing(pool, id).await?;
                Ok((recorded, filed))
            })
            .await?;
            if output.json {
                return print_json(&recorded);
            }
            let what = match &filed {
                Some(f) => filed_as(
                    &f.kind,
                    f.meeting.as_deref(),
                    f.item.as_deref(),
                    f.action.as_deref(),
                    f.organisation.as_deref(),
                ),
                None => recorded.kind.to_string(),
            };
            let acknowledged = if recorded.acknowledgement {
                "; the sender will be sent an acknowledgement"
            } else {
                ""
            };
            print_text(&format!(
                "message {} filed as {what}{acknowledged}\n",
                recorded.message_id
            ))
        }
    }
}

fn render(rows: &[TriageRow]) -> String {
    if rows.is_empty() {
        return "nothing waiting\n".to_owned();
    }
    let mut out = String::new();
    for row in rows {
        let guess = filed_as(
            &row.kind,
            row.meeting.as_deref(),
            row.item.as_deref(),
            row.action.as_deref(),
            row.organisation.as_deref(),
        );
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
