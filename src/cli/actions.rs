//! `minuted actions add`, `actions list`, `actions done` and `actions drop`: the action
//! register by hand. What each change does is `actions::hand`'s; this file reads the
//! arguments and prints.

use anyhow::bail;

use super::known::Named;
use super::{print_json, print_text, table, with_database, ActionsCommand, CloseAction};
use crate::actions::hand::{self, HandAction};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::store::actions::{self as store, ActionFilter, ActionView};

pub async fn run(command: ActionsCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        ActionsCommand::Add(add) => {
            let output = add.output;
            let action = HandAction {
                meeting: add.meeting,
                owner: add.owner,
                text: add.text,
                due: add.due,
                item: add.item,
                member: add.member,
                by: add.by,
            }
            .checked()?;
            let added = with_database(loaded, async |pool| {
                hand::add(pool, &action, Clock::System.now()).await
            })
            .await?;
            if output.json {
                print_json(&added)
            } else {
                print_text(&format!("{}\n", added.reference))
            }
        }
        ActionsCommand::List {
            open,
            owner,
            meeting,
            limit,
            output,
        } => {
            if limit.is_some_and(|n| n < 0) {
                bail!("--limit must not be negative");
            }
            let mut rows = with_database(loaded, async |pool| {
                let filter = ActionFilter {
                    open_only: open,
                    owner: Named::Organisation
                        .spelled_if_given(pool, owner.as_deref())
                        .await?,
                    meeting: Named::Meeting
                        .spelled_if_given(pool, meeting.as_deref())
                        .await?,
                    limit,
                    ..ActionFilter::default()
                };
                Ok(store::list(pool, &filter).await?)
            })
            .await?;
            crate::actions::mark_overdue(&mut rows, Clock::System.now().date_naive());
            output.print(&rows[..], render)
        }
        ActionsCommand::Done(action) => close(loaded, action, "done").await,
        ActionsCommand::Drop(action) => close(loaded, action, "dropped").await,
    }
}

/// Closes an action by hand and prints it as the register now shows it.
async fn close(loaded: &Loaded, action: CloseAction, kind: &str) -> anyhow::Result<()> {
    hand::named(&action.by, "closing")?;
    let views = with_database(loaded, async |pool| {
        hand::close(
            pool,
            &action.reference,
            kind,
            action.note.as_deref(),
            &action.by,
            Clock::System.now(),
        )
        .await
    })
    .await?;
    if action.output.json {
        print_json(&views.first())
    } else {
        print_text(&render(&views))
    }
}

fn render(rows: &[ActionView]) -> String {
    if rows.is_empty() {
        return "no actions\n".to_owned();
    }
    let columns = [
        table::left("REF", 10),
        table::left("OWNER", 16),
        table::left("MEETING", 15),
        table::left("DUE", 12),
        table::left("STATUS", 8),
        table::right("UPDATES", 7),
        table::left("TEXT", 0),
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.reference.clone(),
                table::one_line(row.owner.as_deref().unwrap_or("-")),
                row.meeting.clone().unwrap_or_else(|| "-".into()),
                table::one_line(&row.due),
                if row.overdue {
                    "OVERDUE".to_owned()
                } else {
                    row.status.clone()
                },
                row.updates.len().to_string(),
                table::clip(&row.text, 60),
            ]
        })
        .collect();
    let columns = table::fit(&columns, &cells);
    let indent = columns.first().map_or(0, |c| c.width);
    let mut out = table::header(&columns);
    for (row, cells) in rows.iter().zip(&cells) {
        out.push_str(&table::line(&columns, cells));
        if let Some(latest) = &row.latest_update {
            let attached = if latest.attachments.is_empty() {
                String::new()
            } else {
                format!(" [{}]", latest.attachments.join(", "))
            };
            out.push_str(&format!(
                "{:<indent$}  latest: {} {} from {}: {}{attached}\n",
                "",
                latest.kind,
                latest.at.format("%Y-%m-%d"),
                latest.from,
                table::clip(latest.text.lines().next().unwrap_or_default(), 60),
            ));
        }
    }
    out
}
