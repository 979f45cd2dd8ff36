//! `minuted ingest --once`: drain the configured mailbox, file what was stored, and print
//! a summary line for each (the filing line only when something was filed).
//!
//! On a terminal, a backlog of more than [`PROGRESS_FROM`] messages gets a progress line
//! on stderr that rewrites itself; elsewhere only the summary is printed.

use std::io::{IsTerminal, Write};

use super::{print_json, print_text, with_database};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::filing::worker as filing_worker;
use crate::ingest;
use crate::oauth::{Account, TokenSource};
use crate::shutdown::Shutdown;

/// Backlogs smaller than this finish too fast to need a progress line.
const PROGRESS_FROM: usize = 200;

pub async fn run_once(loaded: &Loaded, json: bool) -> anyhow::Result<()> {
    let settings = loaded.settings.mailbox.clone();
    let show_progress = std::io::stderr().is_terminal();
    let mut shown = false;
    let (summary, filed) = with_database(loaded, async |pool| {
        let started = std::time::Instant::now();
        // Filing runs beside ingestion, as in the daemon, so a large mailbox is filed
        // while it is still being read; whatever is left is filed before returning. The
        // search index is built after: beside ingestion it saved a few seconds of 55 and
        // took peak memory from 134 MB to 191 MB.
        let (stop, stopped) = Shutdown::new();
        let filing = filing_worker::drain_until_stopped(pool, &loaded.settings, &Clock::System, stopped);
        let ingesting = async {
            let sign_in = TokenSource::for_account(Account::Mailbox, &loaded.settings, pool)?;
            let result = ingest::drain_mailbox(&settings, sign_in, pool, &Clock::System, |total, backlog| {
            if show_progress && (shown || backlog + total.fetched as usize >= PROGRESS_FROM) {
                shown = true;
                let mb = total.bytes as f64 / 1_048_576.0;
                let mut err = std::io::stderr();
                let _ = write!(
                    err,
                    "\r\x1b[2Kingesting: {} fetched ({mb:.1} MB), {} stored, {} waiting in this folder",
                    total.fetched, total.stored, backlog
                );
                let _ = err.flush();
            }
            true
            })
            .await;
            let _ = stop.send(true);
            result
        };
        let (summary, during) = tokio::join!(ingesting, filing);
        let summary = summary?;
        let mut filed = during;
        filed.add(&filing_worker::drain(pool, &loaded.settings, &Clock::System).await?);
        // Then filed draft minutes, approval replies and action updates, as the daemon
        // would.
        crate::minutes::worker::drain(pool, &loaded.settings, &Clock::System).await?;
        crate::approval::worker::drain(pool, &loaded.settings, &Clock::System).await?;
        crate::actions::drain(pool, &loaded.settings, &Clock::System).await?;
        let read = started.elapsed();
        // And the search index, so `messages search` finds what was just read.
        crate::records::index::index_all(pool).await?;
        tracing::info!(
            read_and_filed_s = format!("{:.1}", read.as_secs_f64()),
            indexed_s = format!("{:.1}", (started.elapsed() - read).as_secs_f64()),
            "mailbox read, filed and indexed"
        );
        Ok((summary, filed))
    })
    .await?;
    if shown {
        eprintln!();
    }
    if filed.waiting_for_board {
        tracing::warn!(
            "stored messages wait for a board to be filed against: run `minuted board import FILE`"
        );
    }
    let decided = filed.filed + filed.triage + filed.quarantined;
    if json {
        print_json(&summary)
    } else if decided == 0 {
        print_text(&format!("{summary}\n"))
    } else {
        print_text(&format!("{summary}\n{filed}\n"))
    }
}
