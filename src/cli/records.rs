//! `minuted retention plan|run` and `minuted hold add|list|release`.

use anyhow::{bail, Context};

use super::{print_text, table, with_database, HoldCommand, PersonCommand, RetentionCommand};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::domain::address::EmailAddress;
use crate::records::person::{self, Erasure, Found};
use crate::records::retention::{self, Removal};
use crate::store::events::{self, NewEvent};
use crate::store::records::{self as store, Hold};

pub async fn retention(command: RetentionCommand, loaded: &Loaded) -> anyhow::Result<()> {
    let settings = &loaded.settings.retention;
    let now = Clock::System.now();
    match command {
        RetentionCommand::Plan { output } => {
            let plan = with_database(loaded, async |pool| {
                let mut conn = pool.acquire().await?;
                retention::plan(&mut conn, settings, now).await
            })
            .await?;
            output.print(&plan, |p| render(p, "would be removed"))
        }
        RetentionCommand::Run { output } => {
            let removed = with_database(loaded, async |pool| {
                let mut tx = pool.begin().await?;
                let removed = retention::run(&mut tx, settings, "cli", now).await?;
                tx.commit().await.context("failed to commit the removal")?;
                Ok(removed)
            })
            .await?;
            output.print(&removed, |r| render(r, "removed"))
        }
    }
}

fn render(removal: &Removal, done: &str) -> String {
    if removal.rules.is_empty() {
        return format!(
            "nothing has expired as of {}\n",
            removal.as_of.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let columns = [
        table::left("CLASS", 10),
        table::left("RULE", 34),
        table::right("DAYS", 5),
        table::right("DUE", 7),
        table::right("HELD", 0),
    ];
    let mut out = format!(
        "as of {}, {done} (HELD: expired, kept for a legal hold):\n",
        removal.as_of.format("%Y-%m-%d %H:%M UTC")
    );
    out.push_str(&table::list(&columns, &removal.rules, "", |r| {
        vec![
            r.class.to_owned(),
            r.rule.clone(),
            r.days.to_string(),
            r.due.to_string(),
            r.held.to_string(),
        ]
    }));
    if removal.attachments > 0 {
        out.push_str(&format!(
            "and {} attachment(s) no retained record uses\n",
            removal.attachments
        ));
    }
    out
}

pub async fn hold(command: HoldCommand, loaded: &Loaded) -> anyhow::Result<()> {
    let now = Clock::System.now();
    match command {
        HoldCommand::Add {
            meeting,
            person,
            reason,
            by,
            output,
        } => {
            if reason.trim().is_empty() {
                bail!("--reason must say why the records are held");
            }
            let person = match person {
                Some(p) => Some(
                    EmailAddress::parse(p.trim())
                        .map_err(|e| anyhow::anyhow!("--person {p:?}: {e}"))?
                        .to_string()
                        .to_lowercase(),
                ),
                None => None,
            };
            let id = with_database(loaded, async |pool| {
                let mut tx = pool.begin().await?;
                let meeting_id = match &meeting {
                    Some(reference) => Some(
                        crate::store::attendance::meeting_by_ref(&mut tx, reference)
                            .await?
                            .map(|m| m.id)
                            .with_context(|| format!("no meeting {reference}; `minuted meetings list` shows them"))?,
                    ),
                    None => None,
                };
                let id = store::add_hold(&mut tx, meeting_id, person.as_deref(), reason.trim(), &by, now).await?;
                events::record(
                    &mut tx,
                    NewEvent {
                        board_id: None,
                        actor: &by,
                        kind: "hold.added",
                        subject: Some(("hold", id)),
                        detail: serde_json::json!({"meeting": meeting, "person": person, "reason": reason.trim()}),
                    },
                )
                .await?;
                tx.commit().await?;
                Ok(id)
            })
            .await?;
            output.print(&serde_json::json!({ "id": id }), |_| {
                format!("hold {id} in force: nothing it covers is removed until `minuted hold release {id}`\n")
            })
        }
        HoldCommand::List { output } => {
            let holds = with_database(loaded, async |pool| {
                let mut conn = pool.acquire().await?;
                Ok(store::holds(&mut conn).await?)
            })
            .await?;
            output.print(&holds[..], render_holds)
        }
        HoldCommand::Release { id, by } => {
            let released = with_database(loaded, async |pool| {
                let mut tx = pool.begin().await?;
                let released = store::release_hold(&mut tx, id, &by, now).await?;
                if released {
                    events::record(
                        &mut tx,
                        NewEvent {
                            board_id: None,
                            actor: &by,
                            kind: "hold.released",
                            subject: Some(("hold", id)),
                            detail: serde_json::json!({}),
                        },
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(released)
            })
            .await?;
            if !released {
                bail!("no hold {id} is in force; `minuted hold list` shows them");
            }
            print_text(&format!("hold {id} released\n"))
        }
    }
}

fn render_holds(holds: &[Hold]) -> String {
    let columns = [
        table::right("ID", 4),
        table::left("ON", 30),
        table::left("SINCE", 10),
        table::left("STATE", 18),
        table::left("REASON", 0),
    ];
    table::list(&columns, holds, "no legal holds", |h| {
        vec![
            h.id.to_string(),
            h.meeting
                .clone()
                .or_else(|| h.person.clone())
                .unwrap_or_default(),
            h.created_at.format("%Y-%m-%d").to_string(),
            match h.released_at {
                Some(at) => format!("released {}", at.format("%Y-%m-%d")),
                None => "in force".to_owned(),
            },
            h.reason.clone(),
        ]
    })
}

/// The address a person is known by, lower case, or an error naming what is wrong.
fn address_of(text: &str) -> anyhow::Result<String> {
    Ok(EmailAddress::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("{text:?} is not an email address: {e}"))?
        .to_string()
        .to_lowercase())
}

pub async fn person(command: PersonCommand, loaded: &Loaded) -> anyhow::Result<()> {
    let now = Clock::System.now();
    match command {
        PersonCommand::Export { email, out, output } => {
            let address = address_of(&email)?;
            let file = std::fs::File::create(&out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            let found = with_database(loaded, async |pool| {
                let mut tx = pool.begin().await?;
                // One snapshot: the export is consistent as of one moment.
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                let found =
                    person::export(&mut tx, &address, now, std::io::BufWriter::new(file)).await?;
                tx.commit().await?;
                Ok(found)
            })
            .await?;
            output.print(&found, |f| render_found(f, &out))
        }
        PersonCommand::Erase {
            email,
            reason,
            dry_run,
            by,
            output,
        } => {
            if reason.trim().is_empty() {
                bail!("--reason must say why (it stands in the audit trail)");
            }
            let address = address_of(&email)?;
            let erasure = with_database(loaded, async |pool| {
                let mut tx = pool.begin().await?;
                let erasure =
                    person::erase(&mut tx, &address, reason.trim(), &by, dry_run, now).await?;
                if dry_run {
                    tx.rollback().await?;
                } else {
                    tx.commit().await.context("failed to commit the erasure")?;
                }
                Ok(erasure)
            })
            .await?;
            output.print(&erasure, render_erasure)
        }
    }
}

fn render_found(found: &Found, out: &std::path::Path) -> String {
    format!(
        "wrote {}: {} messages, {} registry entries, {} actions, {} attendance answers, {} outgoing messages, {} events about {}\n",
        out.display(),
        found.messages,
        found.members,
        found.actions,
        found.attendance,
        found.outbox,
        found.events,
        found.address
    )
}

fn render_erasure(erasure: &Erasure) -> String {
    let mut out = format!(
        "{} {} as {}: {} messages emptied, {} columns changed\n",
        if erasure.dry_run {
            "would erase"
        } else {
            "erased"
        },
        erasure.address,
        erasure.pseudonym,
        erasure.messages,
        erasure.replaced.len()
    );
    for (column, rows) in &erasure.replaced {
        out.push_str(&format!("  {column}: {rows} rows\n"));
    }
    out.push_str("what remains, and why:\n");
    for line in &erasure.remains {
        out.push_str(&format!("  - {line}\n"));
    }
    if erasure.dry_run {
        out.push_str("nothing was changed (--dry-run)\n");
    }
    out
}
