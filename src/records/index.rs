//! Keeps the search index filled: each message's own words (quotes, signatures and
//! footers trimmed, as filing reads them) and the text of each attachment (.docx, .pdf,
//! .html, .md, .txt), each worked out once, in the background, so neither ingest nor
//! filing waits for it. Until a message's own words are in, it is found by its subject
//! (migration 0017: the search vector follows the subject and the own words).

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;

use crate::minutes::extract::{extract, ExtractError, MAX_INPUT_BYTES};
use crate::shutdown::{Shutdown, Wakeup};
use crate::store::search as store;

/// Messages given their own words per transaction.
const MESSAGES_PER_PASS: i64 = 200;
/// Attachments read per transaction (each may be a large document)...
const ATTACHMENTS_PER_PASS: i64 = 8;
/// ...and at most this many of their bytes, unless one file alone is larger.
const ATTACHMENT_BYTES_PER_PASS: i64 = 8 * 1024 * 1024;
/// How often the worker looks for new mail to index when there was none: a message is
/// found by its own words (not only its subject) this soon after it is stored.
const IDLE_WAIT: Duration = Duration::from_secs(2);

/// What one pass indexed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Indexed {
    pub messages: usize,
    pub attachments: usize,
}

/// Indexes one batch of messages and one of attachments.
pub async fn index_batch(pool: &PgPool) -> anyhow::Result<Indexed> {
    let mut tx = crate::database::begin(pool).await?;
    let messages = store::messages_pending(&mut tx, MESSAGES_PER_PASS).await?;
    let own: Vec<(i64, String)> = tokio::task::spawn_blocking(move || {
        messages
            .into_iter()
            .map(|m| {
                (
                    m.id,
                    own_words(m.body_text.as_deref(), m.body_html.as_deref()),
                )
            })
            .collect()
    })
    .await
    .context("the indexing task failed")?;
    store::set_own_texts(&mut tx, &own).await?;
    // At most ATTACHMENT_BYTES_PER_PASS held at once (one larger file alone); a file
    // the extractor would refuse as too large is not read at all.
    let mut budget = ATTACHMENT_BYTES_PER_PASS;
    let mut chosen = Vec::new();
    let mut too_large = Vec::new();
    for a in store::attachments_pending(&mut tx, ATTACHMENTS_PER_PASS).await? {
        if a.size > MAX_INPUT_BYTES as i64 {
            too_large.push(a.id);
        } else if chosen.is_empty() || a.size <= budget {
            budget -= a.size;
            chosen.push(a);
        }
    }
    let ids: Vec<i64> = chosen.iter().map(|a| a.id).collect();
    let mut contents = crate::store::mail_context::attachment_contents(&mut tx, &ids).await?;
    let mut read: Vec<(i64, &'static str, Option<String>)> =
        tokio::task::spawn_blocking(move || {
            chosen
                .into_iter()
                .map(|a| {
                    let bytes = contents.remove(&a.id).unwrap_or_default();
                    let (state, text) =
                        attachment_text(&bytes, a.filename.as_deref(), a.content_type.as_deref());
                    (a.id, state, text)
                })
                .collect()
        })
        .await
        .context("the indexing task failed")?;
    read.extend(too_large.into_iter().map(|id| (id, "error", None)));
    for (id, state, text) in &read {
        store::set_attachment_text(&mut tx, *id, state, text.as_deref()).await?;
    }
    tx.commit().await.context("failed to commit the index")?;
    Ok(Indexed {
        messages: own.len(),
        attachments: read.len(),
    })
}

/// Indexes everything waiting, then returns how much that was. Two connections work at
/// once: the cost is PostgreSQL's `to_tsvector`, one core per connection.
pub async fn index_all(pool: &PgPool) -> anyhow::Result<Indexed> {
    let (one, two) = tokio::try_join!(index_until_done(pool), index_until_done(pool))?;
    Ok(Indexed {
        messages: one.messages + two.messages,
        attachments: one.attachments + two.attachments,
    })
}

async fn index_until_done(pool: &PgPool) -> anyhow::Result<Indexed> {
    let mut total = Indexed::default();
    loop {
        let done = index_batch(pool).await?;
        if done == Indexed::default() {
            return Ok(total);
        }
        total.messages += done.messages;
        total.attachments += done.attachments;
    }
}

/// The daemon's indexer: indexes while there is work, then looks again every few seconds.
pub async fn run_until_stopped(pool: PgPool, shutdown: Shutdown) -> anyhow::Result<()> {
    shutdown
        .repeat_with(
            "search indexing",
            Duration::from_secs(60),
            Wakeup::sleeping(),
            || async {
                let done = index_batch(&pool).await?;
                Ok(if done == Indexed::default() {
                    IDLE_WAIT
                } else {
                    Duration::ZERO
                })
            },
        )
        .await;
    Ok(())
}

/// The sender's own words in a body, as filing reads them.
pub fn own_words(text: Option<&str>, html: Option<&str>) -> String {
    match (text, html) {
        (Some(text), _) if !text.trim().is_empty() => crate::text::reply::own_text(text).text,
        (_, Some(html)) => crate::text::reply::own_text_html(html).text,
        _ => String::new(),
    }
}

/// An attachment's text and state: `done` with the text, `none` for a type that holds no
/// readable text, `error` for a document that could not be read.
fn attachment_text(
    bytes: &[u8],
    filename: Option<&str>,
    content_type: Option<&str>,
) -> (&'static str, Option<String>) {
    match extract(bytes, filename, content_type) {
        Ok(extracted) => ("done", Some(extracted.text)),
        Err(ExtractError::Unsupported { .. } | ExtractError::NoText { .. }) => ("none", None),
        Err(_) => ("error", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_indexed_by_its_own_words_and_a_text_attachment_by_its_text() {
        let own = own_words(
            Some("Agreed, the DA pilot starts in March.\n\nOn Mon, 4 Dec 2023, LCJB wrote:\n> Please confirm the pilot dates.\n"),
            None,
        );
        assert!(own.contains("DA pilot starts in March"), "{own}");
        assert!(!own.contains("Please confirm"), "{own}");
        assert_eq!(own_words(None, None), "");
        let (state, text) = attachment_text(
            b"Domestic abuse pilot: March start.",
            Some("update.txt"),
            Some("text/plain"),
        );
        assert_eq!(state, "done");
        assert!(text.unwrap().contains("Domestic abuse pilot"));
        let (state, text) = attachment_text(
            &[0x89, b'P', b'N', b'G', 0, 1, 2],
            Some("logo.png"),
            Some("image/png"),
        );
        assert_eq!((state, text), ("none", None));
    }
}
