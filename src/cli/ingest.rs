//! `minuted ingest --once`: drain the configured mailbox, file what was stored, and print
//! a summary line for each (the filing line only when something was filed).
//!
//! On a terminal, a backlog of more than [`PROGRESS_FROM`] messages gets a progress line
//! on stderr that rewrites itself; elsewhere only the summary is printed.

use std::io::{IsTerminal, Write};

use super::{print_json, print_text, with_database};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::filer;
use crate::ingest;

/// Backlogs smaller than this finish too fast to need a progress line.
const PROGRESS_FROM: usize = 200;

pub async fn run_once(loaded: &Loaded, json: bool) -> anyhow::Result<()> {
    let settings = loaded.settings.mailbox.clone();
    let show_progress = std::io::stderr().is_terminal();
    let mut shown = false;
    let (summary, filed) = with_database(loaded, async |pool| {
        let summary = ingest::drain_once(&settings, pool, &Clock::System, |total, backlog| {
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
        .await?;
        // What was stored is filed before the command returns, as the daemon would.
        let filed = filer::drain(pool, &loaded.settings, &Clock::System).await?;
        // Then filed draft minutes and approval replies, as the daemon would.
        crate::approval::worker::drain(pool, &loaded.settings, &Clock::System).await?;
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
