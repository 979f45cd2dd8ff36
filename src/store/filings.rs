//! Filings: claiming received messages, the registry snapshot and the record of our own
//! mail that filing decides against, recording decisions with their audit events, the
//! acknowledgements owed, and the queues of filed messages later steps take. The triage
//! queue and filing by hand are [`super::triage`]; a meeting's status is
//! [`super::meeting_status`].
//!
//! Nothing here decides what a message is: `filing::decide` does, called by `filing::worker`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::PgConnection;

use super::{Error, Result};
use crate::domain::board::{self, MeetingStatus};
use crate::domain::filing::{self, Disposition, FilingDecision, Kind};
use crate::domain::message::{Attachment, ParsedMessage};
use crate::domain::zone::Zone;

/// The channel the messages table notifies on every insert of a received message.
pub const RECEIVED_CHANNEL: &str = "minuted_messages_received";

/// The channel on which the database announces messages filed (migration 0019): the
/// minutes, approval and action-update workers wake on it.
pub const FILED_CHANNEL: &str = "minuted_messages_filed";

/// A received message taken for filing, locked until the transaction ends.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    /// When ingestion stored it.
    pub received_at: DateTime<Utc>,
    pub parsed: ParsedMessage,
}

/// Lets the filing transaction commit without waiting for its WAL flush. Safe because a
/// filing lost in a crash leaves its message `received`, and filing it again gives the
/// same decision and the same rows; nothing outside the database acts on it before a
/// later synchronous commit (the sender's) has flushed the log past it.
pub async fn relax_commit(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes up to `max` of the oldest messages waiting for filing, skipping any another
/// process holds, oldest first: one query locks them and says how large each is, a
/// second reads those that fit in [`CLAIM_BYTES`] of bodies and attachments (at least
/// one), and a third their attachments. The rest stay
/// `received` for the next claim (locked until this transaction ends). Attachment
/// contents are only their first 16 KB (enough for a text attachment's first lines and
/// the headers a bounce quotes), except documents of up to 2 MB (.docx, .pdf), whose text
/// needs the whole file: a 50 MB attachment is never read for filing.
pub async fn claim_received(conn: &mut PgConnection, max: i64) -> Result<Claim> {
    // Sizes without reading the values: `octet_length` of a stored value is in its header.
    let waiting: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT m.id,
                COALESCE(octet_length(m.body_text), 0) + COALESCE(octet_length(m.body_html), 0)
                + COALESCE((SELECT sum(LEAST(a.size, 2097152))
                            FROM message_attachments ma
                            JOIN attachments a ON a.id = ma.attachment_id
                            WHERE ma.message_id = m.id), 0)::BIGINT AS bytes
         FROM messages m
         WHERE m.status = 'received'
         ORDER BY m.id LIMIT $1 FOR UPDATE OF m SKIP LOCKED",
    )
    .bind(max)
    .fetch_all(&mut *conn)
    .await?;
    let mut more = i64::try_from(waiting.len()).unwrap_or(i64::MAX) >= max;
    let mut ids = Vec::with_capacity(waiting.len());
    let mut bytes = 0_i64;
    for (id, size) in waiting {
        if !ids.is_empty() && bytes + size > CLAIM_BYTES {
            more = true;
            break;
        }
        bytes += size;
        ids.push(id);
    }
    if ids.is_empty() {
        return Ok(Claim {
            messages: Vec::new(),
            more,
        });
    }

    // The small parsed fields come as one JSON object named as `ParsedMessage`'s fields
    // are, so the row is read the one way the store reads rows, without tying `domain` to
    // sqlx; the bodies, the bulk of it, come as columns (not escaped into JSON).
    #[derive(sqlx::FromRow)]
    struct Received {
        id: i64,
        received_at: DateTime<Utc>,
        parsed: sqlx::types::Json<ParsedMessage>,
        body_text: Option<String>,
        body_html: Option<String>,
    }
    let received = sqlx::query_as::<_, Received>(
        "SELECT m.id, m.received_at, to_jsonb(p) AS parsed, m.body_text, m.body_html
         FROM messages m,
              LATERAL (SELECT m.message_id, m.in_reply_to, m.\"references\", m.from_address,
                              m.from_name, m.sender_address, m.to_addresses, m.cc_addresses,
                              m.reply_to, m.delivered_to, m.subject, m.sent_at, m.headers,
                              m.dsn) p
         WHERE m.id = ANY($1)
         ORDER BY m.id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut attachments = attachments_for_filing(conn, &ids).await?;
    let messages = received
        .into_iter()
        .map(|message| {
            let sqlx::types::Json(mut parsed) = message.parsed;
            parsed.body_text = message.body_text;
            parsed.body_html = message.body_html;
            parsed.attachments = attachments.remove(&message.id).unwrap_or_default();
            Claimed {
                id: message.id,
                received_at: message.received_at,
                parsed,
            }
        })
        .collect();
    Ok(Claim { messages, more })
}

/// What [`claim_received`] took.
#[derive(Debug)]
pub struct Claim {
    /// Oldest first.
    pub messages: Vec<Claimed>,
    /// More may be waiting: as many were taken as asked for, or the byte budget left
    /// some for the next claim.
    pub more: bool,
}

/// The body and attachment bytes one claim holds at most (one message's alone may be
/// more).
pub const CLAIM_BYTES: i64 = 4 * 1024 * 1024;

/// The attachments of messages `ids` as filing reads them (see [`claim_received`]), by
/// message, in order.
async fn attachments_for_filing(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<Attachment>>> {
    let rows = sqlx::query_as::<_, (i64, Option<String>, String, Vec<u8>, Vec<u8>)>(
        "SELECT ma.message_id, ma.filename, ma.content_type, a.sha256,
                CASE WHEN a.size <= 2097152
                          AND (lower(COALESCE(ma.filename, '')) ~ '\\.(docx|pdf)$'
                               OR ma.content_type IN ('application/pdf',
                                  'application/vnd.openxmlformats-officedocument.wordprocessingml.document'))
                     THEN a.content
                     ELSE substring(a.content FROM 1 FOR 16384) END AS head
         FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
         WHERE ma.message_id = ANY($1) ORDER BY ma.message_id, ma.position",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_message: HashMap<i64, Vec<Attachment>> = HashMap::new();
    for (message_id, filename, content_type, sha, content) in rows {
        let mut sha256 = [0u8; 32];
        if sha.len() == 32 {
            sha256.copy_from_slice(&sha);
        }
        by_message.entry(message_id).or_default().push(Attachment {
            filename,
            content_type,
            content,
            sha256,
        });
    }
    Ok(by_message)
}

/// The registry as filing sees it, with the database ids its natural keys stand for.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub board_id: i64,
    pub registry: board::Registry,
    /// The board's time zone, in which what is sent writes times.
    pub zone: Zone,
    meetings: HashMap<String, i64>,
    items: HashMap<(String, String), i64>,
    organisations: HashMap<String, i64>,
    members: HashMap<String, i64>,
}

/// The board a message was sent to: the one whose address (or a `+token` form of it) is
/// among `recipients`, else the only board, else the first; `None` when there is none.
pub async fn board_for(conn: &mut PgConnection, recipients: &[String]) -> Result<Option<i64>> {
    Ok(board::addressed_board(&boards(conn).await?, recipients))
}

/// Every board's id and address, in id order.
pub async fn boards(conn: &mut PgConnection) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as("SELECT id, address FROM boards ORDER BY id")
        .fetch_all(&mut *conn)
        .await?)
}

impl Snapshot {
    /// The id of meeting `reference`.
    pub fn meeting_id(&self, reference: &str) -> Option<i64> {
        self.meetings.get(reference).copied()
    }

    /// The id of organisation `short`.
    pub fn organisation_id(&self, short: &str) -> Option<i64> {
        self.organisations.get(short).copied()
    }

    /// The id of member `name`.
    pub fn member_id(&self, name: &str) -> Option<i64> {
        self.members.get(name).copied()
    }

    /// The member whose address `address` is: (name, id).
    pub fn member_at(&self, address: &str) -> Option<(&str, i64)> {
        let address = address.to_lowercase();
        self.registry
            .members
            .iter()
            .filter(|m| m.addresses.contains(&address))
            .max_by_key(|m| m.active)
            .and_then(|m| Some((m.name.as_str(), *self.members.get(&m.name)?)))
    }
}

/// The registry's version: (database instance, counter). It changes whenever anything in
/// the registry does, so a snapshot read at one version is good until it changes.
pub async fn registry_version(conn: &mut PgConnection) -> Result<(i64, i64)> {
    Ok(
        sqlx::query_as("SELECT instance, version FROM registry_version")
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Reads the registry of `board_id`: active organisations, members, meetings and items.
pub async fn snapshot(conn: &mut PgConnection, board_id: i64) -> Result<Snapshot> {
    let (slug, address, timezone): (String, String, Option<String>) =
        sqlx::query_as("SELECT slug, address, timezone FROM boards WHERE id = $1")
            .bind(board_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("board {board_id}")))?;
    let mut snapshot = Snapshot {
        board_id,
        zone: super::registry::zone_named(timezone.as_deref()),
        ..Snapshot::default()
    };
    snapshot.registry.board_slug = slug;
    snapshot.registry.board_address = address.to_lowercase();

    let organisations: Vec<(i64, String, bool, Vec<String>)> = sqlx::query_as(
        "SELECT o.id, o.short, o.active,
                COALESCE(array_agg(d.domain ORDER BY d.domain) FILTER (WHERE d.domain IS NOT NULL), '{}') AS domains
         FROM organisations o LEFT JOIN organisation_domains d ON d.organisation_id = o.id
         WHERE o.board_id = $1 GROUP BY o.id ORDER BY o.id",
    )
    .bind(board_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut organisation_names: HashMap<i64, String> = HashMap::new();
    for (id, short, active, domains) in organisations {
        organisation_names.insert(id, short.clone());
        snapshot.organisations.insert(short.clone(), id);
        snapshot.registry.organisations.push(board::Organisation {
            short,
            domains,
            active,
        });
    }

    for member in super::members::all_members(conn, board_id).await? {
        snapshot.members.insert(member.name.clone(), member.id);
        snapshot.registry.members.push(member);
    }

    let meetings: Vec<(i64, String, NaiveDate, Option<NaiveDate>, String)> = sqlx::query_as(
        "SELECT id, ref, date, papers_deadline, status FROM meetings
         WHERE board_id = $1 ORDER BY date",
    )
    .bind(board_id)
    .fetch_all(&mut *conn)
    .await?;
    let items: Vec<(i64, i64, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT i.id, i.meeting_id, i.number, i.title, i.lead_organisation_id
         FROM agenda_items i JOIN meetings m ON m.id = i.meeting_id
         WHERE m.board_id = $1 AND i.active ORDER BY i.meeting_id, i.position",
    )
    .bind(board_id)
    .fetch_all(&mut *conn)
    .await?;
    for (id, reference, date, papers_deadline, status) in meetings {
        let mut meeting = board::Meeting {
            reference: reference.clone(),
            date,
            papers_deadline,
            status: MeetingStatus::parse(&status),
            items: Vec::new(),
        };
        for (item_id, _, number, title, lead) in items.iter().filter(|i| i.1 == id) {
            snapshot
                .items
                .insert((reference.clone(), number.clone()), *item_id);
            meeting.items.push(board::Item {
                number: number.clone(),
                title: title.clone(),
                lead: lead.and_then(|o| organisation_names.get(&o).cloned()),
            });
        }
        snapshot.meetings.insert(reference, id);
        snapshot.registry.meetings.push(meeting);
    }
    // The action register: filing checks an action ref exists, who owns it and whether
    // it is open. The `actions` table bumps the registry version, so this stays fresh.
    let actions: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT a.ref, a.status, o.short AS organisation, mb.name AS member
         FROM actions a
         LEFT JOIN organisations o ON o.id = a.owner_organisation_id
         LEFT JOIN members mb ON mb.id = a.owner_member_id
         WHERE a.board_id = $1 ORDER BY a.id",
    )
    .bind(board_id)
    .fetch_all(&mut *conn)
    .await?;
    for (reference, status, owner_organisation, owner_member) in actions {
        snapshot.registry.actions.push(board::Action {
            reference,
            owner_organisation,
            owner_member,
            open: status == "open",
        });
    }
    Ok(snapshot)
}

/// An outbox row a received message may point back at, as [`sent_rows`] reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SentRow {
    pub id: i64,
    pub kind: String,
    pub message_id: String,
    pub reply_token: String,
    pub to_address: String,
    pub context: Value,
    pub meeting: Option<String>,
    pub member: Option<String>,
}

/// The outbox rows whose Message-ID is among `message_ids`, whose reply token is among
/// `lower_tokens` (compared without case) or whose id is among `ids`.
pub async fn sent_rows(
    conn: &mut PgConnection,
    message_ids: &[String],
    lower_tokens: &[String],
    ids: &[i64],
) -> Result<Vec<SentRow>> {
    Ok(sqlx::query_as(
        "SELECT o.id, o.kind, o.message_id, o.reply_token, o.to_address, o.context,
                mt.ref AS meeting, mb.name AS member
         FROM outbox o
         LEFT JOIN meetings mt ON mt.id = o.meeting_id
         LEFT JOIN members mb ON mb.id = o.member_id
         WHERE o.message_id = ANY($1) OR lower(o.reply_token) = ANY($2) OR o.id = ANY($3)",
    )
    .bind(message_ids)
    .bind(lower_tokens)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}

/// What was recorded for one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recorded {
    pub filing_id: i64,
    pub message_id: i64,
    pub kind: Kind,
    pub disposition: Disposition,
    pub confidence: f32,
    /// Whether an acknowledgement is now owed to the sender.
    pub acknowledgement: bool,
}

/// The FROM and WHERE of a query on the current filing of message `$1` with the
/// registry's names beside its ids: it selects from `f` (the filing), `mt` (its meeting),
/// `i` (its agenda item), `o` (its organisation) and `mb` (its member).
pub(super) const CURRENT_FILING_WITH_NAMES: &str = "FROM filings f
         LEFT JOIN meetings mt ON mt.id = f.meeting_id
         LEFT JOIN agenda_items i ON i.id = f.item_id
         LEFT JOIN organisations o ON o.id = f.organisation_id
         LEFT JOIN members mb ON mb.id = f.member_id
         WHERE f.message_id = $1 AND f.current";

/// Records `decision` as the current filing of `message_id`, sets the message's status
/// and writes the audit event; `actor` is `rule`, `cli` or a person's address. A previous
/// filing stays, no longer current.
pub async fn record(
    conn: &mut PgConnection,
    message_id: i64,
    snapshot: &Snapshot,
    decision: &FilingDecision,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Recorded> {
    let meeting_id = decision
        .meeting
        .as_ref()
        .and_then(|m| snapshot.meetings.get(m).copied());
    let item_id = match (&decision.meeting, &decision.item) {
        (Some(m), Some(i)) => snapshot.items.get(&(m.clone(), i.clone())).copied(),
        _ => None,
    };
    let organisation_id = decision
        .organisation
        .as_ref()
        .and_then(|o| snapshot.organisations.get(o).copied());
    let member_id = decision
        .member
        .as_ref()
        .and_then(|m| snapshot.members.get(m).copied());
    let previous: Option<(i64, String, String)> = sqlx::query_as(
        "UPDATE filings SET current = FALSE WHERE message_id = $1 AND current
         RETURNING id, kind, disposition",
    )
    .bind(message_id)
    .fetch_optional(&mut *conn)
    .await?;
    let reasons = json!(decision.reasons);
    let mut detail = json!({
        "kind": decision.kind.as_str(),
        "disposition": decision.disposition.as_str(),
        "meeting": decision.meeting,
        "item": decision.item,
        "action": decision.action,
        "organisation": decision.organisation,
        "member": decision.member,
        "confidence": decision.confidence,
        "reasons": reasons,
    });
    if let Some((id, kind, disposition)) = &previous {
        detail["previous"] = json!({ "filing": id, "kind": kind, "disposition": disposition });
    }
    let event_kind = if previous.is_some() {
        "filing.refiled"
    } else {
        "filing.decided"
    };
    // The filing, the message's new status and the audit event (which names the filing):
    // one statement, one round trip.
    let filing_id: i64 = sqlx::query_scalar(
        "WITH filing AS (
             INSERT INTO filings (message_id, board_id, kind, disposition, meeting_id, item_id,
                                  action_ref, organisation_id, member_id, confidence, reasons,
                                  decided_by, decided_at, outbox_id, attendance)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             RETURNING id),
         status AS (
             UPDATE messages SET status = $4 WHERE id = $1),
         event AS (
             INSERT INTO events (board_id, actor, kind, subject_type, subject_id, detail)
             SELECT $2, $12, $16, 'message', $1,
                    $17::JSONB || jsonb_build_object('filing', filing.id)
             FROM filing)
         SELECT id FROM filing",
    )
    .bind(message_id)
    .bind(snapshot.board_id)
    .bind(decision.kind.as_str())
    .bind(decision.disposition.as_str())
    .bind(meeting_id)
    .bind(item_id)
    .bind(&decision.action)
    .bind(organisation_id)
    .bind(member_id)
    .bind(decision.confidence)
    .bind(&reasons)
    .bind(actor)
    .bind(now)
    .bind(decision.outbox_id)
    .bind(
        decision
            .attendance
            .as_ref()
            .and_then(|a| serde_json::to_value(a).ok()),
    )
    .bind(event_kind)
    .bind(detail)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Recorded {
        filing_id,
        message_id,
        kind: decision.kind,
        disposition: decision.disposition,
        confidence: decision.confidence,
        acknowledgement: false,
    })
}

/// A filed message as its acknowledgement needs it, read back after filing: the
/// current filing as recorded and the sender's fields.
#[derive(Debug, Clone)]
pub struct FiledMessage {
    pub board_id: i64,
    pub recorded: Recorded,
    pub decision: FilingDecision,
    pub message: filing::Message,
    pub received_at: DateTime<Utc>,
}

/// The current filing of `message_id`, when it is `filed`.
pub async fn filed_message(
    conn: &mut PgConnection,
    message_id: i64,
) -> Result<Option<FiledMessage>> {
    let Some(row) = sqlx::query_as::<_, FiledRow>(
        "SELECT f.id, f.board_id, f.kind, f.confidence, f.reasons, f.outbox_id, f.action_ref,
                mt.ref AS meeting, i.number AS item, o.short AS organisation,
                mb.name AS member, m.from_address, m.from_name, m.subject, m.message_id,
                m.\"references\", m.received_at, m.headers
         FROM filings f
         JOIN messages m ON m.id = f.message_id
         LEFT JOIN meetings mt ON mt.id = f.meeting_id
         LEFT JOIN agenda_items i ON i.id = f.item_id
         LEFT JOIN organisations o ON o.id = f.organisation_id
         LEFT JOIN members mb ON mb.id = f.member_id
         WHERE f.message_id = $1 AND f.current AND f.disposition = 'filed'",
    )
    .bind(message_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let kind = Kind::parse(&row.kind)
        .ok_or_else(|| Error::Invalid(format!("filing kind {:?}", row.kind)))?;
    let decision = FilingDecision {
        kind,
        meeting: row.meeting,
        item: row.item,
        action: row.action_ref,
        organisation: row.organisation,
        member: row.member,
        confidence: row.confidence,
        disposition: Disposition::Filed,
        reasons: row.reasons,
        outbox_id: row.outbox_id,
        correction: None,
        attendance: None,
    };
    let message = filing::Message {
        from: row.from_address,
        from_name: row.from_name,
        subject: row.subject,
        message_id: row.message_id,
        references: row.references,
        headers: filing::Headers::from_json(&row.headers),
        ..filing::Message::default()
    };
    Ok(Some(FiledMessage {
        board_id: row.board_id,
        recorded: Recorded {
            filing_id: row.id,
            message_id,
            kind,
            disposition: Disposition::Filed,
            confidence: row.confidence,
            acknowledgement: false,
        },
        decision,
        message,
        received_at: row.received_at,
    }))
}

#[derive(sqlx::FromRow)]
struct FiledRow {
    id: i64,
    board_id: i64,
    kind: String,
    confidence: f32,
    #[sqlx(try_from = "super::JsonStrings")]
    reasons: Vec<String>,
    outbox_id: Option<i64>,
    action_ref: Option<String>,
    meeting: Option<String>,
    item: Option<String>,
    organisation: Option<String>,
    member: Option<String>,
    from_address: Option<String>,
    from_name: Option<String>,
    subject: Option<String>,
    message_id: Option<String>,
    references: Vec<String>,
    received_at: DateTime<Utc>,
    headers: Value,
}

/// Keeps the record of the acknowledgement of a filing, queued as outbox row
/// `outbox_id` in the caller's transaction (the outbox's own event records the queueing).
#[allow(clippy::too_many_arguments)] // one row's columns, each from a different source
pub async fn record_acknowledgement(
    conn: &mut PgConnection,
    recorded: &Recorded,
    snapshot: &Snapshot,
    decision: &FilingDecision,
    to_address: &str,
    context: &Value,
    outbox_id: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let meeting_id = decision
        .meeting
        .as_ref()
        .and_then(|m| snapshot.meetings.get(m).copied());
    let member_id = decision
        .member
        .as_ref()
        .and_then(|m| snapshot.members.get(m).copied());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO pending_acknowledgements (filing_id, message_id, board_id, meeting_id,
                                               member_id, to_address, context, created_at,
                                               sent_to_outbox_at, outbox_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id",
    )
    .bind(recorded.filing_id)
    .bind(recorded.message_id)
    .bind(snapshot.board_id)
    .bind(meeting_id)
    .bind(member_id)
    .bind(to_address.to_lowercase())
    .bind(context)
    .bind(now)
    .bind(outbox_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Notes that acknowledgement `id` left the owed list: queued as `outbox_id`, or (None)
/// dropped because its address cannot take mail.
pub async fn acknowledgement_queued_or_dropped(
    conn: &mut PgConnection,
    id: i64,
    outbox_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE pending_acknowledgements SET sent_to_outbox_at = $2, outbox_id = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(outbox_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An acknowledgement recorded as owed but not yet in the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwedAcknowledgement {
    pub id: i64,
    pub board_id: i64,
    pub meeting_id: Option<i64>,
    pub member_id: Option<i64>,
    pub to_address: String,
    pub context: Value,
    /// The Message-ID of the message acknowledged, for threading.
    pub message_id: Option<String>,
}

/// Takes the oldest acknowledgement still owed, skipping any another process holds.
pub async fn next_owed_acknowledgement(
    conn: &mut PgConnection,
) -> Result<Option<OwedAcknowledgement>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.board_id, p.meeting_id, p.member_id, p.to_address, p.context,
                m.message_id
         FROM pending_acknowledgements p JOIN messages m ON m.id = p.message_id
         WHERE p.sent_to_outbox_at IS NULL
         ORDER BY p.id LIMIT 1 FOR UPDATE OF p SKIP LOCKED",
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// The steps that take filed messages of one kind and record, one row per message, that
/// they handled each: which kind each takes and where it records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiledQueue {
    /// `draft_minutes`, recorded in `minutes_sources`.
    DraftMinutes,
    /// `approval_reply`, recorded in `approval_replies`.
    ApprovalReplies,
    /// `action_update`, recorded in `action_update_sources`.
    ActionUpdates,
}

/// The claim, re-check and record statements of one queue, spelled out so that no table
/// name is ever built at run time.
macro_rules! filed_queue_sql {
    ($kind:literal, $table:literal, $row:literal) => {
        (
            concat!(
                "SELECT f.message_id FROM filings f
                 WHERE f.current AND f.kind = '",
                $kind,
                "' AND f.disposition = 'filed'
                   AND NOT EXISTS (SELECT 1 FROM ",
                $table,
                " s WHERE s.message_id = f.message_id)
                 ORDER BY f.message_id
                 LIMIT 1
                 FOR UPDATE OF f SKIP LOCKED"
            ),
            concat!(
                "SELECT EXISTS (SELECT 1 FROM ",
                $table,
                " WHERE message_id = $1)"
            ),
            concat!(
                "INSERT INTO ",
                $table,
                " (message_id, ",
                $row,
                ", outcome, reason, at) VALUES ($1, $2, $3, $4, $5)"
            ),
        )
    };
}

impl FiledQueue {
    /// Its claim, re-check and record statements.
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            FiledQueue::DraftMinutes => {
                filed_queue_sql!("draft_minutes", "minutes_sources", "revision_id")
            }
            FiledQueue::ApprovalReplies => {
                filed_queue_sql!("approval_reply", "approval_replies", "request_id")
            }
            FiledQueue::ActionUpdates => {
                filed_queue_sql!("action_update", "action_update_sources", "action_id")
            }
        }
    }
}

/// Takes the oldest filed message of `queue` not yet handled, locking its filing (`FOR
/// UPDATE SKIP LOCKED`) so another worker skips it until this transaction ends, and
/// returns its id. Once the lock is held it looks again: a worker that held the lock may
/// have handled the message and committed after this statement's snapshot was taken.
async fn claim_filed(conn: &mut PgConnection, queue: FiledQueue) -> Result<Option<i64>> {
    let (claim, handled, _) = queue.sql();
    loop {
        let Some(id): Option<i64> = sqlx::query_scalar(claim).fetch_optional(&mut *conn).await?
        else {
            return Ok(None);
        };
        let done: bool = sqlx::query_scalar(handled)
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        if !done {
            return Ok(Some(id));
        }
    }
}

/// Claims the next filed message of `queue` as `claim_filed` does, and reads its
/// `columns` from its current filing `f` joined to the message `m`.
pub async fn claim_filed_message<T>(
    conn: &mut PgConnection,
    queue: FiledQueue,
    columns: &'static str,
) -> Result<Option<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let Some(id) = claim_filed(conn, queue).await? else {
        return Ok(None);
    };
    Ok(sqlx::query_as(&format!(
        "SELECT {columns} FROM filings f JOIN messages m ON m.id = f.message_id
         WHERE f.current AND f.message_id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Records the filed message `message_id` of `queue` as handled: what came of it
/// (`outcome`), the row it came to (a revision, an approval request, an action) and why.
pub async fn record_handled(
    conn: &mut PgConnection,
    queue: FiledQueue,
    message_id: i64,
    row: Option<i64>,
    outcome: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (_, _, record) = queue.sql();
    sqlx::query(record)
        .bind(message_id)
        .bind(row)
        .bind(outcome)
        .bind(reason)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The address the acknowledgement of a filed message goes to: its sender.
pub fn acknowledgement_address(message: &filing::Message) -> Option<String> {
    message
        .from
        .as_deref()
        .map(|a| a.trim().to_lowercase())
        .filter(|a| a.contains('@'))
}
