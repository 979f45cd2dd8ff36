//! `minuted actions add`, `actions list`, `actions done` and `actions drop`: the action
//! register by hand. Every change is recorded in the audit log in its own transaction.

use super::table;
use anyhow::{anyhow, bail, Context};
use serde::Serialize;
use serde_json::json;

use super::{print_json, print_text, with_database, ActionsCommand};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::store::actions::{self as store, ActionFilter, ActionView, NewAction, NewUpdate};
use crate::store::events::{self, NewEvent};

pub async fn run(command: ActionsCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        ActionsCommand::Add {
            meeting,
            owner,
            text,
            due,
            item,
            member,
            by,
            output,
        } => {
            let text = text.trim().to_owned();
            if text.is_empty() {
                bail!("the action's text must not be empty");
            }
            if by.trim().is_empty() {
                bail!("--by must name who is adding the action");
            }
            let hand = HandAction {
                meeting,
                owner,
                text,
                due,
                item,
                member,
                by: by.trim().to_owned(),
            };
            let added = with_database(loaded, async |pool| add(pool, &hand).await).await?;
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
            let filter = ActionFilter {
                open_only: open,
                owner,
                meeting,
                limit,
                ..ActionFilter::default()
            };
            let rows =
                with_database(loaded, async |pool| Ok(store::list(pool, &filter).await?)).await?;
            if output.json {
                print_json(&rows)
            } else {
                print_text(&render(&rows))
            }
        }
        ActionsCommand::Done {
            reference,
            note,
            by,
            output,
        } => close(loaded, &reference, "done", note, &by, output.json).await,
        ActionsCommand::Drop {
            reference,
            note,
            by,
            output,
        } => close(loaded, &reference, "dropped", note, &by, output.json).await,
    }
}

struct HandAction {
    meeting: String,
    owner: String,
    text: String,
    due: Option<chrono::NaiveDate>,
    item: Option<String>,
    member: Option<String>,
    by: String,
}

/// What `actions add` prints with `--json`.
#[derive(Debug, Serialize)]
struct Added {
    #[serde(rename = "ref")]
    reference: String,
    meeting: String,
    owner: String,
    member: Option<String>,
    item: Option<String>,
}

async fn add(pool: &sqlx::PgPool, hand: &HandAction) -> anyhow::Result<Added> {
    let mut tx = pool.begin().await?;
    let (board_id, meeting_id, meeting) = store::meeting(&mut tx, &hand.meeting)
        .await?
        .ok_or_else(|| anyhow!("no meeting {}: see `minuted board show`", hand.meeting))?;
    let Some((organisation_id, owner)) =
        store::organisation(&mut tx, board_id, &hand.owner).await?
    else {
        let known = store::organisation_names(&mut tx, board_id).await?;
        bail!("{}", unknown_organisation(&hand.owner, &known));
    };
    let member = match &hand.member {
        Some(name) => {
            let (id, name, member_org) = store::member(&mut tx, board_id, name)
                .await?
                .ok_or_else(|| anyhow!("no member {name:?}: see `minuted board show`"))?;
            if member_org != Some(organisation_id) {
                bail!("{name} is not a member of {owner}: give their organisation as --owner");
            }
            Some((id, name))
        }
        None => None,
    };
    let item = match &hand.item {
        Some(number) => Some(
            store::item_number(&mut tx, meeting_id, number)
                .await?
                .ok_or_else(|| anyhow!("item {number} is not on the agenda of {meeting}"))?,
        ),
        None => None,
    };
    let now = Clock::System.now();
    let (id, reference) = store::add(
        &mut tx,
        &NewAction {
            board_id,
            text: &hand.text,
            owner_text: Some(&owner),
            owner_organisation_id: Some(organisation_id),
            owner_member_id: member.as_ref().map(|(id, _)| *id),
            meeting_id,
            item_number: item.as_deref(),
            revision_id: None,
            due: hand.due,
            due_text: None,
            added_by: &hand.by,
        },
        now,
    )
    .await?;
    events::record(
        &mut tx,
        NewEvent {
            board_id: Some(board_id),
            actor: &hand.by,
            kind: "action.added",
            subject: Some(("action", id)),
            detail: json!({
                "action": reference,
                "text": hand.text,
                "owner": owner,
                "member": member.as_ref().map(|(_, name)| name),
                "meeting": meeting,
                "item": item,
                "due": hand.due,
            }),
        },
    )
    .await?;
    tx.commit().await.context("failed to add the action")?;
    Ok(Added {
        reference,
        meeting,
        owner,
        member: member.map(|(_, name)| name),
        item,
    })
}

/// The error for an organisation the registry does not have: the close matches, else
/// every known name.
fn unknown_organisation(given: &str, known: &[String]) -> String {
    let wanted = given.to_lowercase();
    let close: Vec<&str> = known
        .iter()
        .filter(|k| {
            let k = k.to_lowercase();
            k.contains(&wanted) || wanted.contains(&k) || edit_distance(&k, &wanted) <= 2
        })
        .map(String::as_str)
        .collect();
    if close.is_empty() {
        format!(
            "no organisation {given:?}; the organisations are: {}",
            known.join(", ")
        )
    } else {
        format!(
            "no organisation {given:?}; did you mean {}?",
            close.join(" or ")
        )
    }
}

/// Levenshtein distance between two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(current)
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// Closes an action by hand (`done` or `dropped`), recording an update and an event.
async fn close(
    loaded: &Loaded,
    reference: &str,
    kind: &str,
    note: Option<String>,
    by: &str,
    json: bool,
) -> anyhow::Result<()> {
    let by = by.trim();
    if by.is_empty() {
        bail!("--by must name who is closing the action");
    }
    let views = with_database(loaded, async |pool| {
        let mut tx = pool.begin().await?;
        let action = store::lock(&mut tx, None, reference)
            .await?
            .ok_or_else(|| anyhow!("no action {reference}: see `minuted actions list`"))?;
        if action.status != "open" {
            bail!("{} is already {}", action.reference, action.status);
        }
        let text = note
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("{kind} by hand"));
        let now = Clock::System.now();
        let update = store::record_update(
            &mut tx,
            &NewUpdate {
                action_id: action.id,
                message_id: None,
                kind,
                text: &text,
                organisation_id: None,
                member_id: None,
                by,
            },
            now,
        )
        .await?;
        events::record(
            &mut tx,
            NewEvent {
                board_id: Some(action.board_id),
                actor: by,
                kind: if kind == "done" {
                    "action.done"
                } else {
                    "action.dropped"
                },
                subject: Some(("action", action.id)),
                detail: json!({"action": action.reference, "update": update, "text": text}),
            },
        )
        .await?;
        tx.commit().await.context("failed to close the action")?;
        let filter = ActionFilter {
            reference: Some(action.reference),
            ..ActionFilter::default()
        };
        Ok(store::list(pool, &filter).await?)
    })
    .await?;
    if json {
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
        table::left("STATUS", 7),
        table::right("UPDATES", 7),
        table::left("TEXT", 0),
    ];
    let mut out = table::header(&columns);
    for row in rows {
        out.push_str(&table::line(
            &columns,
            &[
                row.reference.clone(),
                table::clip(row.owner.as_deref().unwrap_or("-"), 16),
                row.meeting.clone().unwrap_or_else(|| "-".into()),
                table::clip(&row.due, 12),
                row.status.clone(),
                row.updates.len().to_string(),
                table::clip(&row.text, 60),
            ],
        ));
        if let Some(latest) = &row.latest_update {
            let attached = if latest.attachments.is_empty() {
                String::new()
            } else {
                format!(" [{}]", latest.attachments.join(", "))
            };
            out.push_str(&format!(
                "{:<10}  latest: {} {} from {}: {}{attached}\n",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_organisation_names_close_matches_or_every_organisation() {
        let known: Vec<String> = ["MPS", "CPS", "CPS South", "HMCTS"]
            .map(String::from)
            .to_vec();
        let close = unknown_organisation("CPS Sth", &known);
        assert!(close.contains("did you mean"), "{close}");
        assert!(close.contains("CPS South"), "{close}");
        let none = unknown_organisation("Fire Brigade", &known);
        assert!(none.contains("MPS, CPS, CPS South, HMCTS"), "{none}");
    }
}
