//! `minuted schedule list` (what will fire when, and what fired) and
//! `minuted schedule run --once [--now RFC3339]` (one pass by hand).

use super::table;
use chrono::Utc;

use super::known::Named;
use super::{print_json, print_text, with_database, ScheduleCommand};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::schedule::{self, FireOutcome, RunSummary};
use crate::store::schedule::{self as store, JobRow};

pub async fn run(command: ScheduleCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        ScheduleCommand::List {
            meeting,
            limit,
            output,
        } => {
            if limit.is_some_and(|n| n < 0) {
                anyhow::bail!("--limit must be 0 or more");
            }
            let rows = with_database(loaded, async |pool| {
                let meeting = Named::Meeting
                    .spelled_if_given(pool, meeting.as_deref())
                    .await?;
                Ok(store::list(pool, meeting.as_deref(), limit).await?)
            })
            .await?;
            output.print(&rows[..], table)
        }
        ScheduleCommand::Run {
            once: _,
            now,
            output,
        } => {
            let clock = match now {
                Some(at) => Clock::manual(at.with_timezone(&Utc)),
                None => Clock::System,
            };
            let worker = format!("cli:{}", std::process::id());
            let summary = with_database(loaded, async |pool| {
                schedule::run_pass(pool, &loaded.settings, &clock, &worker).await
            })
            .await?;
            if output.json {
                print_json(&summary)?;
            } else {
                print_text(&report(&summary))?;
            }
            if !summary.failed.is_empty() {
                anyhow::bail!(
                    "{} scheduled jobs failed (see above and the log); each is tried again later",
                    summary.failed.len()
                );
            }
            Ok(())
        }
    }
}

/// What a job did, in a few words.
fn did(row: &JobRow) -> String {
    let outcome = &row.outcome;
    let at = row
        .done_at
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    match row.status.as_str() {
        "fired" => {
            let emails = outcome["outbox_ids"]
                .as_array()
                .or_else(|| outcome["approval_requests"].as_array())
                .map_or(0, Vec::len);
            format!("{at}: {emails} {}", plural(emails, "email"))
        }
        "skipped" | "expired" => {
            format!("{at}: {}", outcome["reason"].as_str().unwrap_or_default())
        }
        "pending" if outcome.get("error").is_some() => format!(
            "failed {} times, last: {}",
            outcome["attempts"].as_i64().unwrap_or(1),
            outcome["error"].as_str().unwrap_or_default()
        ),
        _ => String::new(),
    }
}

fn table(rows: &[JobRow]) -> String {
    let columns = [
        table::right("ID", 5),
        table::left("KIND", 14),
        table::left("MEETING", 16),
        table::left("ORGANISATION", 20),
        table::left("DUE", 16),
        table::left("EXPIRES", 16),
        table::left("STATUS", 8),
        table::left("DID", 0),
    ];
    table::list(&columns, rows, "no scheduled jobs", |row| {
        vec![
            row.id.to_string(),
            row.kind.clone(),
            row.meeting.clone(),
            row.organisation.clone().unwrap_or_else(|| "-".into()),
            row.due_at.format("%Y-%m-%d %H:%M").to_string(),
            row.expires_at.format("%Y-%m-%d %H:%M").to_string(),
            row.status.clone(),
            did(row),
        ]
    })
}

fn line(outcome: &FireOutcome) -> String {
    match outcome {
        FireOutcome::Idle => String::new(),
        FireOutcome::Fired {
            job,
            kind,
            meeting,
            organisation,
            outbox,
        } => format!(
            "  fired   #{job} {} {meeting} {}: {outbox} {}\n",
            kind.as_str(),
            organisation.as_deref().unwrap_or(""),
            plural(*outbox, "email")
        ),
        FireOutcome::Skipped {
            job,
            kind,
            meeting,
            organisation,
            reason,
        } => format!(
            "  skipped #{job} {} {meeting} {}: {reason}\n",
            kind.as_str(),
            organisation.as_deref().unwrap_or("")
        ),
        FireOutcome::Expired {
            job,
            kind,
            meeting,
            organisation,
        } => format!(
            "  expired #{job} {} {meeting} {}\n",
            kind.as_str(),
            organisation.as_deref().unwrap_or("")
        ),
        FireOutcome::Failed {
            job,
            kind,
            meeting,
            organisation,
            error,
            retry_at,
        } => format!(
            "  FAILED  #{job} {} {meeting} {}: {error}; tried again at {}\n",
            kind.as_str(),
            organisation.as_deref().unwrap_or(""),
            retry_at.format("%Y-%m-%d %H:%M")
        ),
    }
}

fn report(summary: &RunSummary) -> String {
    let mut out = format!(
        "planned {}, fired {}, skipped {}, expired {}, failed {}\n",
        summary.planned,
        summary.fired.len(),
        summary.skipped.len(),
        summary.expired.len(),
        summary.failed.len()
    );
    for outcome in summary
        .fired
        .iter()
        .chain(&summary.skipped)
        .chain(&summary.expired)
        .chain(&summary.failed)
    {
        out.push_str(&line(outcome));
    }
    out
}

/// `email` or `emails`, as `n` needs.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}
