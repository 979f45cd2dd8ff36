//! `minuted send`, `minuted outbox list` and `minuted outbox retry`.

use super::table;
use std::sync::Arc;

use anyhow::Context;
use serde::Serialize;

use super::{print_json, print_text, with_database, OutboxCommand, Output};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::outbox::worker::SendSummary;
use crate::shutdown::{termination_signal, Shutdown, Wakeups};
use crate::store::outbox::OutboxListRow;
use crate::{app, store};

#[derive(Debug, Serialize)]
struct SendReport {
    #[serde(flatten)]
    summary: SendSummary,
    /// The rate limit stopped the run before everything due was sent.
    rate_limited: bool,
    /// Rows left waiting for a later attempt, by status.
    waiting: std::collections::BTreeMap<String, i64>,
}

pub async fn send(loaded: &Loaded, once: bool, output: Output) -> anyhow::Result<()> {
    let templates = Arc::new(app::load_templates(&loaded.settings)?);
    if !once {
        let signal = termination_signal()?;
        return with_database(loaded, async |pool| {
            let worker = app::sender(&loaded.settings, pool, templates)?;
            let (stop, shutdown) = Shutdown::new();
            let stopper = tokio::spawn(async move {
                signal.await;
                let _ = stop.send(true);
            });
            let wakeups = Wakeups::start(pool, &[store::outbox::QUEUED_CHANNEL], shutdown.clone());
            let result = worker
                .run_until_stopped(shutdown, wakeups.on(store::outbox::QUEUED_CHANNEL))
                .await;
            stopper.abort();
            result
        })
        .await;
    }
    let report = with_database(loaded, async |pool| {
        let worker = app::sender(&loaded.settings, pool, templates)?;
        let (summary, rate_limited) = worker.drain().await?;
        let waiting = store::outbox::waiting_by_status(pool)
            .await
            .context("failed to count waiting rows")?;
        Ok(SendReport {
            summary,
            rate_limited,
            waiting,
        })
    })
    .await?;
    if output.json {
        return print_json(&report);
    }
    let s = &report.summary;
    let mut text = format!(
        "sent {}, retrying {}, unknown {}, failed {}, expired {}",
        s.sent, s.retrying, s.unknown, s.failed, s.expired
    );
    if s.recovered > 0 {
        text.push_str(&format!(
            "; {} found abandoned mid-send (resent with the same Message-ID)",
            s.recovered
        ));
    }
    if report.rate_limited {
        text.push_str("; stopped by outgoing.rate_per_minute");
    }
    if !report.waiting.is_empty() {
        let waiting: Vec<String> = report
            .waiting
            .iter()
            .map(|(status, n)| format!("{n} {status}"))
            .collect();
        text.push_str(&format!("; waiting: {}", waiting.join(", ")));
    }
    print_text(&format!("{text}\n"))
}

pub async fn run(command: OutboxCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        OutboxCommand::List {
            status,
            limit,
            output,
        } => {
            let rows = with_database(loaded, async |pool| {
                Ok(store::outbox::list(pool, status, limit).await?)
            })
            .await?;
            output.print(&rows[..], render_table)
        }
        OutboxCommand::Retry {
            ids,
            failed,
            output,
        } => {
            let retried = with_database(loaded, async |pool| {
                let ids = (!failed).then_some(ids.as_slice());
                Ok(store::outbox::retry(pool, ids, Clock::System.now(), "cli").await?)
            })
            .await?;
            if output.json {
                print_json(&retried)
            } else if retried.is_empty() {
                print_text("nothing to retry\n")
            } else {
                let ids: Vec<String> = retried.iter().map(i64::to_string).collect();
                let emails = if retried.len() == 1 {
                    "email"
                } else {
                    "emails"
                };
                print_text(&format!(
                    "{} {emails} due again now: {}\n",
                    retried.len(),
                    ids.join(", ")
                ))
            }
        }
    }
}

fn render_table(rows: &[OutboxListRow]) -> String {
    let columns = [
        table::right("ID", 6),
        table::left("KIND", 16),
        table::left("TO", 32),
        table::left("STATUS", 8),
        table::right("TRY", 3),
        table::left("MEETING", 15),
        table::left("SUBJECT", 40),
        table::left("LAST ERROR", 0),
    ];
    table::list(&columns, rows, "no outgoing mail", |row| {
        vec![
            row.id.to_string(),
            row.kind.clone(),
            row.to.clone(),
            row.status.clone(),
            row.attempts.to_string(),
            row.meeting.clone().unwrap_or_else(|| "-".into()),
            table::one_line(row.subject.as_deref().unwrap_or("(not rendered yet)")),
            table::clip(row.last_error.as_deref().unwrap_or(""), 60),
        ]
    })
}
