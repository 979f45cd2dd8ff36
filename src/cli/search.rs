//! `minuted messages search QUERY`: the archive, searched.

use anyhow::bail;

use super::{table, with_database, SearchArgs};
use crate::config::Loaded;
use crate::domain::filing::Kind;
use crate::store::search::{self as store, Hit, SearchFilter};

pub async fn run(args: SearchArgs, loaded: &Loaded) -> anyhow::Result<()> {
    if args.query.trim().is_empty() {
        bail!("give words to search for, e.g. minuted messages search \"domestic abuse pilot\"");
    }
    if args.limit < 1 {
        bail!("--limit must be at least 1");
    }
    if let Some(kind) = &args.kind {
        if Kind::parse(kind).is_none() {
            let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            bail!("--kind {kind:?} is not one of {}", kinds.join(", "));
        }
    }
    let filter = SearchFilter {
        meeting: args.meeting,
        organisation: args.organisation,
        kind: args.kind,
        since: args
            .since
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc()),
        limit: args.limit,
    };
    let hits = with_database(loaded, async |pool| {
        let mut conn = pool.acquire().await?;
        Ok(store::search(&mut conn, &args.query, &filter).await?)
    })
    .await?;
    args.output.print(&hits[..], render)
}

fn render(hits: &[Hit]) -> String {
    let columns = [
        table::right("ID", 6),
        table::left("RECEIVED", 16),
        table::left("FROM", 30),
        table::left("FILED AS", 28),
        table::left("SUBJECT", 0),
    ];
    let mut out = table::list(&columns, hits, "nothing found", |hit| {
        let filed = [
            hit.kind.clone(),
            hit.meeting.clone(),
            hit.organisation.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        vec![
            hit.id.to_string(),
            hit.received_at.format("%Y-%m-%d %H:%M").to_string(),
            table::clip(hit.from.as_deref().unwrap_or("-"), 30),
            table::clip(if filed.is_empty() { "-" } else { &filed }, 28),
            hit.subject.clone().unwrap_or_else(|| "(no subject)".into()),
        ]
    });
    if !hits.is_empty() {
        out.push('\n');
        for hit in hits {
            let place = hit
                .attachment
                .as_deref()
                .map(|name| format!(" (in {name})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{}{place}: {}\n",
                hit.id,
                hit.snippet.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    }
    out
}
