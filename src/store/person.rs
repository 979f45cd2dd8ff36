//! One person's records: what is held about an address (for a subject-access export), and
//! erasing it (pseudonymising every text column that holds it). SQL only; what an export
//! contains and when erasure is refused is `records::person`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, Row};

use super::Result;

/// A message from, to or copied to the person, with its filing.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PersonMessage {
    pub id: i64,
    pub message_id: Option<String>,
    pub received_at: DateTime<Utc>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: Option<String>,
    pub status: String,
    pub kind: Option<String>,
    pub meeting: Option<String>,
    pub organisation: Option<String>,
    pub reasons: Option<Value>,
    pub removed_at: Option<DateTime<Utc>>,
    pub removed_rule: Option<String>,
    #[serde(skip)]
    pub raw: Vec<u8>,
}

/// Messages from, to or copying `address` (any case), or whose stored bytes name it.
pub async fn messages(conn: &mut PgConnection, address: &str) -> Result<Vec<PersonMessage>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.message_id, m.received_at, m.from_address AS \"from\",
                m.to_addresses AS \"to\", m.cc_addresses AS cc, m.subject, m.status, f.kind,
                mt.ref AS meeting, o.short AS organisation, f.reasons, m.removed_at,
                m.removed_rule, m.raw
         FROM messages m
         LEFT JOIN filings f ON f.message_id = m.id AND f.current
         LEFT JOIN meetings mt ON mt.id = f.meeting_id
         LEFT JOIN organisations o ON o.id = f.organisation_id
         WHERE lower(m.from_address) = $1
            OR $1 = ANY(SELECT lower(a) FROM unnest(m.to_addresses || m.cc_addresses
                                                     || m.delivered_to || m.reply_to) a)
            OR encode(m.raw, 'escape') ILIKE '%' || $1 || '%'
         ORDER BY m.id",
    )
    .bind(address)
    .fetch_all(conn)
    .await?)
}

/// The parts of a person's records read as plain rows, each by an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The registry's members with this address.
    Members,
    /// Actions the person owns.
    Actions,
    /// The person's answers to invitations.
    Attendance,
    /// Mail sent, or to be sent, to the person.
    Outbox,
    /// Audit events that name the person.
    Events,
}

impl Part {
    fn sql(self) -> &'static str {
        match self {
            Part::Members => {
                "SELECT m.id, m.name, m.initials, m.role_text, o.short AS organisation, m.roles,
                        m.circulation, m.active, m.created_at, m.updated_at,
                        (SELECT array_agg(a.address ORDER BY a.is_primary DESC, a.address)
                         FROM member_addresses a WHERE a.member_id = m.id) AS addresses
                 FROM members m LEFT JOIN organisations o ON o.id = m.organisation_id
                 WHERE m.id IN (SELECT member_id FROM member_addresses WHERE address = $1)
                 ORDER BY m.id"
            }
            Part::Actions => {
                "SELECT a.ref, a.text, a.status, a.due, a.due_text, a.created_at, a.closed_at
                 FROM actions a
                 WHERE a.owner_member_id IN
                       (SELECT member_id FROM member_addresses WHERE address = $1)
                 ORDER BY a.id"
            }
            Part::Attendance => {
                "SELECT mt.ref AS meeting, a.response, a.reason, a.deputy_name, a.late, a.via,
                        a.responded_at
                 FROM attendance a JOIN meetings mt ON mt.id = a.meeting_id
                 WHERE a.member_id IN (SELECT member_id FROM member_addresses WHERE address = $1)
                 ORDER BY a.id"
            }
            Part::Outbox => {
                "SELECT id, kind, status, created_at, sent_at, subject, body_text, removed_at
                 FROM outbox WHERE to_address = $1 ORDER BY id"
            }
            Part::Events => {
                "SELECT id, at, actor, kind, subject_type, subject_id, detail FROM events
                 WHERE lower(actor) = $1 OR lower(detail::TEXT) LIKE '%' || $1 || '%'
                    OR (subject_type = 'member'
                        AND subject_id IN
                            (SELECT member_id FROM member_addresses WHERE address = $1))
                 ORDER BY id"
            }
        }
    }
}

/// The rows of `part` for `address`, as JSON objects.
pub async fn part(conn: &mut PgConnection, part: Part, address: &str) -> Result<Vec<Value>> {
    let wrapped = format!("SELECT to_jsonb(t) FROM ({}) t", part.sql());
    Ok(sqlx::query_scalar(&wrapped)
        .bind(address)
        .fetch_all(conn)
        .await?)
}

/// The names of the members with this address.
pub async fn names(conn: &mut PgConnection, address: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT m.name FROM members m
         WHERE m.id IN (SELECT member_id FROM member_addresses WHERE address = $1)
         ORDER BY m.id",
    )
    .bind(address)
    .fetch_all(conn)
    .await?)
}

/// Approved minutes that name `name`: (meeting, revision number).
pub async fn approved_minutes_naming(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Vec<(String, i32)>> {
    Ok(sqlx::query_as(
        "SELECT mt.ref, v.n FROM minutes_revisions v JOIN meetings mt ON mt.id = v.meeting_id
         WHERE v.status = 'approved' AND v.removed_at IS NULL
           AND position(lower($1) IN lower(v.extracted_text)) > 0
         ORDER BY mt.date, v.n",
    )
    .bind(name)
    .fetch_all(conn)
    .await?)
}

/// One text column of the schema.
#[derive(Debug, Clone)]
pub struct TextColumn {
    pub table: String,
    pub column: String,
    /// `text` (or varchar), `jsonb` or `array` (of text).
    pub shape: &'static str,
}

/// Every column of the application's tables that holds text: text, varchar, jsonb and
/// text arrays. Generated columns are left out (they follow the others).
pub async fn text_columns(conn: &mut PgConnection) -> Result<Vec<TextColumn>> {
    let rows = sqlx::query(
        "SELECT c.table_name::TEXT AS t, c.column_name::TEXT AS c, c.data_type::TEXT AS d,
                c.udt_name::TEXT AS u
         FROM information_schema.columns c
         JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
           AND c.table_name NOT LIKE '\\_sqlx%'
           AND c.is_generated = 'NEVER'
           AND (c.data_type IN ('text', 'character varying', 'jsonb', 'json')
                OR (c.data_type = 'ARRAY' AND c.udt_name IN ('_text', '_varchar')))
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let data: String = row.get("d");
            TextColumn {
                table: row.get("t"),
                column: row.get("c"),
                shape: match data.as_str() {
                    "jsonb" | "json" => "jsonb",
                    "ARRAY" => "array",
                    _ => "text",
                },
            }
        })
        .collect())
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Replaces every occurrence of `pattern` (a case-insensitive regular expression) with
/// `with` in one column; how many rows changed.
pub async fn replace_in(
    conn: &mut PgConnection,
    column: &TextColumn,
    pattern: &str,
    with: &str,
) -> Result<u64> {
    let (table, col) = (quoted(&column.table), quoted(&column.column));
    let sql = match column.shape {
        "jsonb" => format!(
            "UPDATE {table} SET {col} = regexp_replace({col}::TEXT, $1, $2, 'gi')::JSONB
             WHERE {col}::TEXT ~* $1"
        ),
        "array" => format!(
            "UPDATE {table} SET {col} = ARRAY(SELECT regexp_replace(x, $1, $2, 'gi')
                                              FROM unnest({col}) WITH ORDINALITY u(x, n)
                                              ORDER BY n)
             WHERE array_to_string({col}, chr(31)) ~* $1"
        ),
        _ => format!(
            "UPDATE {table} SET {col} = regexp_replace({col}, $1, $2, 'gi') WHERE {col} ~* $1"
        ),
    };
    Ok(sqlx::query(&sql)
        .bind(pattern)
        .bind(with)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Rows of one column that still match `pattern` (case-insensitive).
pub async fn count_in(conn: &mut PgConnection, column: &TextColumn, pattern: &str) -> Result<i64> {
    let (table, col) = (quoted(&column.table), quoted(&column.column));
    let test = match column.shape {
        "jsonb" => format!("{col}::TEXT ~* $1"),
        "array" => format!("array_to_string({col}, chr(31)) ~* $1"),
        _ => format!("{col} ~* $1"),
    };
    Ok(
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {test}"))
            .bind(pattern)
            .fetch_one(conn)
            .await?,
    )
}

/// The next pseudonym number.
pub async fn next_pseudonym(conn: &mut PgConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) + 1 FROM events WHERE kind = 'person.erased'")
            .fetch_one(conn)
            .await?,
    )
}
