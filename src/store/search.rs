//! Full-text search over the archive, and what fills its index: the sender's own words
//! of each message and the text of its attachments. SQL only; extraction is
//! `records::index`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::Result;

/// What a search is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    pub meeting: Option<String>,
    pub organisation: Option<String>,
    pub kind: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// One message found, best first.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Hit {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub kind: Option<String>,
    pub meeting: Option<String>,
    pub organisation: Option<String>,
    pub rank: f32,
    /// The words found in context, each match between `[` and `]`.
    pub snippet: String,
    /// The attachment whose text matched best, when one did.
    pub attachment: Option<String>,
}

/// When more messages match than this, the most recent this many are ranked: ranking
/// reads each candidate's index entry, and a search for common words must stay fast.
pub const RANKED_AT_MOST: i64 = 5000;

/// Messages matching `query` (web-search syntax: words, "a phrase", -not, or), ranked:
/// a match in the subject counts most, then the sender's own words, then an attachment.
pub async fn search(
    conn: &mut PgConnection,
    query: &str,
    filter: &SearchFilter,
) -> Result<Vec<Hit>> {
    Ok(sqlx::query_as(
        "WITH q AS (SELECT websearch_to_tsquery('english', $1) AS q),
         attachment_hits AS MATERIALIZED (
             SELECT ma.message_id, a.id, ts_rank(a.search, q.q) AS rank
             FROM attachments a
             JOIN message_attachments ma ON ma.attachment_id = a.id, q
             WHERE a.search @@ q.q
         ),
         best_attachment AS (
             SELECT DISTINCT ON (message_id) message_id, id, rank
             FROM attachment_hits ORDER BY message_id, rank DESC, id
         ),
         matched AS (
             SELECT m.id FROM messages m, q WHERE m.search @@ q.q
             UNION
             SELECT message_id FROM attachment_hits
         ),
         candidates AS (
             SELECT m.id, m.received_at, f.kind, mt.ref AS meeting, o.short AS organisation
             FROM matched x
             JOIN messages m ON m.id = x.id
             LEFT JOIN filings f ON f.message_id = m.id AND f.current
             LEFT JOIN meetings mt ON mt.id = f.meeting_id
             LEFT JOIN organisations o ON o.id = f.organisation_id
             WHERE ($2::TEXT IS NULL OR upper(mt.ref) = upper($2))
               AND ($3::TEXT IS NULL OR upper(o.short) = upper($3))
               AND ($4::TEXT IS NULL OR f.kind = $4)
               AND ($5::TIMESTAMPTZ IS NULL OR m.received_at >= $5)
             ORDER BY m.id DESC
             LIMIT $7
         ),
         ranked AS (
             SELECT c.*, att.id AS attachment_id,
                    (ts_rank(m.search, q.q) + coalesce(att.rank, 0))::REAL AS rank
             FROM candidates c
             JOIN messages m ON m.id = c.id
             CROSS JOIN q
             LEFT JOIN best_attachment att ON att.message_id = c.id
         ),
         best AS (
             SELECT r.*, m.from_address AS \"from\", m.subject,
                    coalesce(m.own_text, m.body_text, '') AS body
             FROM ranked r JOIN messages m ON m.id = r.id
             ORDER BY r.rank DESC, r.received_at DESC, r.id DESC
             LIMIT $6
         )
         SELECT b.id, b.received_at, b.\"from\", b.subject, b.kind, b.meeting, b.organisation,
                b.rank,
                CASE WHEN to_tsvector('english', left(b.body, 200000)) @@ q.q OR a.id IS NULL
                     THEN ts_headline('english', left(b.body, 200000), q.q,
                                      'StartSel=[, StopSel=], MaxWords=30, MinWords=12, MaxFragments=2')
                     ELSE ts_headline('english', left(a.text, 500000), q.q,
                                      'StartSel=[, StopSel=], MaxWords=30, MinWords=12, MaxFragments=2')
                END AS snippet,
                (SELECT ma.filename FROM message_attachments ma
                 WHERE ma.message_id = b.id AND ma.attachment_id = a.id
                 ORDER BY ma.position LIMIT 1) AS attachment
         FROM best b CROSS JOIN q
         LEFT JOIN attachments a ON a.id = b.attachment_id
         ORDER BY b.rank DESC, b.received_at DESC, b.id DESC",
    )
    .bind(query)
    .bind(&filter.meeting)
    .bind(&filter.organisation)
    .bind(&filter.kind)
    .bind(filter.since)
    .bind(filter.limit)
    .bind(RANKED_AT_MOST)
    .fetch_all(conn)
    .await?)
}

/// A message whose own words are not yet worked out.
#[derive(Debug, sqlx::FromRow)]
pub struct PendingText {
    pub id: i64,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
}

/// Up to `max` messages without their own words yet, oldest first.
pub async fn messages_pending(conn: &mut PgConnection, max: i64) -> Result<Vec<PendingText>> {
    Ok(sqlx::query_as(
        "SELECT id, body_text, body_html FROM messages WHERE own_text IS NULL
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(max)
    .fetch_all(conn)
    .await?)
}

/// Records each message's own words, in one statement (the search vector follows them).
pub async fn set_own_texts(conn: &mut PgConnection, own: &[(i64, String)]) -> Result<()> {
    let (ids, texts): (Vec<i64>, Vec<&str>) = own.iter().map(|(id, t)| (*id, t.as_str())).unzip();
    sqlx::query(
        "UPDATE messages m SET own_text = u.text
         FROM unnest($1::BIGINT[], $2::TEXT[]) AS u(id, text) WHERE m.id = u.id",
    )
    .bind(&ids)
    .bind(&texts)
    .execute(conn)
    .await?;
    Ok(())
}

/// An attachment whose text is not yet read: its size and how a message named it (its
/// bytes are read apart, by `mail_context::attachment_contents`, so a pass can bound
/// what it holds).
#[derive(Debug, sqlx::FromRow)]
pub struct PendingAttachment {
    pub id: i64,
    pub size: i64,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// Up to `max` attachments whose text is not yet read, locked for this transaction.
pub async fn attachments_pending(
    conn: &mut PgConnection,
    max: i64,
) -> Result<Vec<PendingAttachment>> {
    Ok(sqlx::query_as(
        "SELECT a.id, octet_length(a.content)::BIGINT AS size,
                (SELECT filename FROM message_attachments WHERE attachment_id = a.id
                 ORDER BY message_id, position LIMIT 1) AS filename,
                (SELECT content_type FROM message_attachments WHERE attachment_id = a.id
                 ORDER BY message_id, position LIMIT 1) AS content_type
         FROM attachments a WHERE a.text_state = 'pending'
         ORDER BY a.id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(max)
    .fetch_all(conn)
    .await?)
}

/// Records an attachment's text (`done`), or that it has none (`none`) or could not be
/// read (`error`).
pub async fn set_attachment_text(
    conn: &mut PgConnection,
    id: i64,
    state: &str,
    text: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE attachments SET text_state = $2, text = $3 WHERE id = $1")
        .bind(id)
        .bind(state)
        .bind(text)
        .execute(conn)
        .await?;
    Ok(())
}
