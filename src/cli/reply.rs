//! `minuted reply parse FILE`: what minuted reads as a reply's own words, without a
//! database.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::{print_json, print_text, ReplyCommand};
use crate::actions::{meaning, ReplyMeaning};
use crate::ingest::parse::{self, Limits, Parsed};
use crate::text::commands::{parse_command, Command};
use crate::text::reply::{self, OwnText, Trimmed};

/// What `reply parse --json` prints.
#[derive(Debug, Serialize)]
struct ReplyReport {
    text: String,
    /// The command in the first meaningful line, as an approval reply is read:
    /// `approve`, `reject`, `undo` or `comment`.
    command: &'static str,
    /// The reason given with `reject`.
    reason: Option<String>,
    /// As a reply about an action: `done` or `progress`.
    action: &'static str,
    /// As a reply to an acknowledgement: the item of a `WRONG ITEM` correction.
    correction: Option<String>,
    trimmed: Vec<Trimmed>,
}

pub fn run(command: ReplyCommand) -> anyhow::Result<()> {
    match command {
        ReplyCommand::Parse { file, output } => {
            let own = read_file(&file)?;
            if output.json {
                let action = match meaning(&own.text, None) {
                    ReplyMeaning::Done { .. } => "done",
                    ReplyMeaning::Progress { .. } => "progress",
                };
                let (command, reason) = match parse_command(&own.text) {
                    Command::Approve => ("approve", None),
                    Command::ApproveWithout { numbers } => (
                        "approve",
                        Some(format!(
                            "without {}",
                            numbers
                                .iter()
                                .map(u32::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    ),
                    Command::Reject { reason } => ("reject", Some(reason)),
                    Command::Undo => ("undo", None),
                    Command::Comment { .. } => ("comment", None),
                };
                print_json(&ReplyReport {
                    command,
                    reason,
                    action,
                    correction: crate::filing::correction(&own.text),
                    text: own.text,
                    trimmed: own.trimmed,
                })
            } else {
                let mut text = own.text;
                text.push('\n');
                print_text(&text)
            }
        }
    }
}

/// The own text of the reply in `path`: an .eml read as ingestion stores it, an .html
/// body by its structure, anything else as plain text.
fn read_file(path: &Path) -> anyhow::Result<OwnText> {
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".eml") {
        let parsed = match parse::parse(&bytes, &Limits::default()) {
            Parsed::Complete(parsed) => parsed,
            Parsed::Unparseable { reason, .. } => {
                anyhow::bail!("{} cannot be read as a message: {reason}", path.display())
            }
        };
        Ok(reply::read_stored(
            parsed.body_text.as_deref(),
            parsed.body_html.as_deref(),
        ))
    } else if name.ends_with(".html") || name.ends_with(".htm") {
        Ok(reply::own_text_html(&String::from_utf8_lossy(&bytes)))
    } else {
        Ok(reply::own_text(&String::from_utf8_lossy(&bytes)))
    }
}
