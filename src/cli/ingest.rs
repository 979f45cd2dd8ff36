//! `minuted ingest --once`: drain the configured mailbox and print a summary line.
//!
//! On a terminal, a backlog of more than [`PROGRESS_FROM`] messages gets a progress line
//! on stderr that rewrites itself; elsewhere only the summary is printed.

use std::io::{IsTerminal, Write};

use super::{print_json, print_text, with_database};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::ingest;

/// Backlogs smaller than this finish too fast to need a progress line.
const PROGRESS_FROM: usize = 200;

pub async fn run_once(loaded: &Loaded, json: bool) -> anyhow::Result<()> {
    let settings = loaded.settings.mailbox.clone();
    let show_progress = std::io::stderr().is_terminal();
    let mut shown = false;
    let summary = with_database(loaded, async |pool| {
        ingest::drain_once(&settings, pool, &Clock::System, |total, backlog| {
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
        .await
    })
    .await?;
    if shown {
        eprintln!();
    }
    if json {
        print_json(&summary)
    } else {
        print_text(&format!("{summary}\n"))
    }
}
