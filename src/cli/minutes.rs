//! `minuted minutes parse FILE`: what minuted reads in a document, without a database;
//! `minuted minutes show REF`: the latest stored revision of a meeting's minutes.

use std::path::Path;

use anyhow::Context;

use super::known::Named;
use super::{print_json, print_text, with_database, MinutesCommand};
use crate::config::Loaded;
use crate::domain::board::Member;
use crate::minutes::extract;
use crate::minutes::report::MinutesReport;
use crate::minutes::structure::{self, ParseContext};
use crate::registry;

pub async fn run(command: MinutesCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        MinutesCommand::Parse {
            file,
            board,
            meeting_date,
            output,
        } => {
            let board_file = board.or_else(|| loaded.settings.board.file.clone());
            let report = parse_file(&file, board_file.as_deref(), meeting_date)?;
            if output.json {
                print_json(&report)
            } else {
                print_text(&report.render_text())
            }
        }
        MinutesCommand::Show { meeting, output } => {
            let report = with_database(loaded, async |pool| {
                let meeting = Named::Meeting.spelled(pool, &meeting).await?;
                show(pool, &meeting).await
            })
            .await?;
            if output.json {
                print_json(&report)
            } else {
                print_text(&report.render_text())
            }
        }
    }
}

/// The latest revision of `meeting`'s minutes as `minutes show` prints it.
pub async fn show(pool: &sqlx::PgPool, meeting: &str) -> anyhow::Result<MinutesReport> {
    let revision = crate::store::minutes::latest_by_ref(pool, meeting).await?;
    let mut report: MinutesReport = if revision.status == "error" {
        MinutesReport::new(&Default::default(), None)
    } else {
        serde_json::from_value(revision.structure.clone())
            .context("the stored structure of this revision cannot be read")?
    };
    // Every stored revision's names were checked against the board's members.
    report.registry_checked = revision.status != "error";
    report.meeting = Some(revision.meeting_ref.clone());
    report.revision = Some(revision.n);
    report.status = Some(match &revision.error {
        Some(error) => format!("error: {error}"),
        None => revision.status.clone(),
    });
    report.file = revision.filename.clone();
    report.format = Some(revision.format.clone());
    Ok(report)
}

/// Extracts, parses and (with a registry) matches the names of one document.
pub fn parse_file(
    file: &Path,
    board_file: Option<&Path>,
    meeting_date: Option<chrono::NaiveDate>,
) -> anyhow::Result<MinutesReport> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    let extracted = extract::extract(&bytes, name.as_deref(), None)
        .with_context(|| format!("cannot read the minutes in {}", file.display()))?;
    let registry = board_file
        .map(|path| {
            // The registry's error names the file.
            registry::load(path).context("cannot match names against the registry")
        })
        .transpose()?;
    let mut context = ParseContext {
        meeting_date,
        ..ParseContext::default()
    };
    if let Some(registry) = &registry {
        for organisation in &registry.organisations {
            context.organisations.push(organisation.short.clone());
            context.organisations.push(organisation.name.clone());
        }
        context.initials = registry
            .members
            .iter()
            .filter_map(|m| m.initials.clone())
            .collect();
    }
    let parsed = structure::parse(&extracted.text, &context);
    let matches = registry.as_ref().map(|registry| {
        let members: Vec<Member> = registry.members.iter().map(Member::from).collect();
        structure::match_names(&parsed, &members)
    });
    let mut report = MinutesReport::new(&parsed, matches.as_ref());
    report.file = Some(file.display().to_string());
    report.format = Some(extracted.format.as_str().to_owned());
    Ok(report)
}
