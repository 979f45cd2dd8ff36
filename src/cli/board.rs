//! `minuted board import` and `minuted board show`.

use anyhow::Context;

use super::{print_json, print_text, with_database, BoardCommand};
use crate::config::Loaded;
use crate::{registry, store};

pub async fn run(command: BoardCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        BoardCommand::Import { file, output } => {
            // Parse before touching the database: an invalid file never starts a cluster.
            let parsed = registry::load(&file)?;
            let summary = with_database(loaded, async |pool| {
                store::registry::import(pool, &parsed, "cli")
                    .await
                    .with_context(|| format!("failed to import {}", file.display()))
            })
            .await?;
            if output.json {
                print_json(&summary)
            } else {
                print_text(&format!("{}\n", render_import_summary(&summary)))
            }
        }
        BoardCommand::Show { board, output } => {
            let view = with_database(loaded, async |pool| {
                Ok(store::registry::show(pool, board.as_deref()).await?)
            })
            .await?;
            if output.json {
                print_json(&view)
            } else {
                print_text(&registry::render_text(&view))
            }
        }
    }
}

fn render_import_summary(summary: &store::registry::ImportSummary) -> String {
    let mut lines = vec![format!("board {} imported", summary.board)];
    for (what, counts) in [
        ("organisations", &summary.organisations),
        ("members", &summary.members),
        ("meetings", &summary.meetings),
        ("agenda items", &summary.items),
    ] {
        lines.push(format!(
            "  {what:<14} {} added, {} updated, {} deactivated, {} unchanged",
            counts.added, counts.updated, counts.deactivated, counts.unchanged
        ));
    }
    lines.join("\n")
}
