//! `minuted send`, `minuted outbox list` and `minuted outbox retry`.

use std::sync::Arc;

use anyhow::Context;
use serde::Serialize;

use super::{print_json, print_text, with_database, OutboxCommand, Output};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::outbox::worker::SendSummary;
use crate::shutdown::{termination_signal, Shutdown};
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
            let result = worker.run_until_stopped(shutdown).await;
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
            if output.json {
                print_json(&rows)
            } else {
                print_text(&render_table(&rows))
            }
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
                print_text(&format!(
                    "{} row(s) due again now: {}\n",
                    retried.len(),
                    ids.join(", ")
                ))
            }
        }
    }
}

/// At most `width` characters of `text` on one line, with `…` when cut.
fn cell(text: &str, width: usize) -> String {
    let flat = crate::templates::header_text(text);
    if flat.chars().count() <= width {
        flat
    } else {
        let mut cut: String = flat.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn render_table(rows: &[OutboxListRow]) -> String {
    if rows.is_empty() {
        return "no outgoing mail\n".to_owned();
    }
    let mut out = format!(
        "{:>6}  {:<16}  {:<32}  {:<8}  {:>3}  {:<15}  {:<40}  {}\n",
        "ID", "KIND", "TO", "STATUS", "TRY", "MEETING", "SUBJECT", "LAST ERROR"
    );
    for row in rows {
        out.push_str(&format!(
            "{:>6}  {:<16}  {:<32}  {:<8}  {:>3}  {:<15}  {:<40}  {}\n",
            row.id,
            row.kind,
            cell(&row.to, 32),
            row.status,
            row.attempts,
            row.meeting.as_deref().unwrap_or("-"),
            cell(row.subject.as_deref().unwrap_or("(not rendered yet)"), 40),
            cell(row.last_error.as_deref().unwrap_or(""), 60),
        ));
    }
    out
}
