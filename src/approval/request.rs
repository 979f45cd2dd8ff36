//! Asking for approval: who approves, and one approver's request issued with its signed
//! token and the email that carries it. Minutes revisions (`minutes::drafts`) and meeting
//! packs (`schedule`) are both approved this way; what a pack's approval is about, when
//! it expires and what it circulates are here too, so that applying a decision
//! (`approval::apply`) needs nothing of the schedule.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{json, Value};

use crate::approval::token::{ApprovalToken, Binding};
use crate::config::ApprovalSettings;
use crate::domain::board::{Member, MemberRole};
use crate::domain::mail;
use crate::domain::outbound::long_date;
use crate::domain::zone::Zone;
use crate::store::minutes as store;
use crate::store::outbox::{self, NewAttachment, NewOutboxMessage, Recipient};

/// Who approves: the secretariat, and the chair when `approval.require_chair`.
pub fn approvers<'a>(members: &'a [Member], settings: &ApprovalSettings) -> Vec<&'a Member> {
    members
        .iter()
        .filter(|m| m.address.is_some())
        .filter(|m| m.is_secretariat() || (settings.require_chair && m.has_role(MemberRole::Chair)))
        .collect()
}

/// The member as a recipient, or an error naming them when their address is not valid.
pub fn recipient(member: &Member) -> anyhow::Result<Recipient> {
    member.recipient().with_context(|| {
        format!(
            "{}'s address {:?} is not valid",
            member.name,
            member.address.as_deref().unwrap_or_default()
        )
    })
}

/// An approval request to send to each approver: what it is for, the hash its token is
/// bound to, and the email's context (`expires_text` and `approval_request_id` are added
/// per approver), attachments and audit detail.
pub struct RequestDraft<'a> {
    pub board_id: i64,
    pub meeting_id: i64,
    pub subject: store::RequestSubject,
    pub content_sha256: &'a str,
    pub context: mail::ApprovalRequest,
    pub attachments: Vec<NewAttachment>,
    pub event: Value,
}

/// Creates one approver's request with its signed token, queues the email carrying it
/// and records the event; returns the request's id.
pub async fn issue_request(
    tx: &mut sqlx::PgConnection,
    key: &[u8],
    request: &RequestDraft<'_>,
    approver: &Member,
    expires_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<i64> {
    let to = recipient(approver)?;
    let request_id = store::insert_request(
        tx,
        request.board_id,
        request.subject,
        approver.id,
        to.address.as_str(),
        expires_at,
        now,
    )
    .await?;
    let issued = ApprovalToken::issue(
        key,
        request_id,
        Binding {
            revision_hash: request.content_sha256,
            approver: &to.address,
        },
        expires_at,
    )
    .context("failed to issue an approval token")?;
    let mut context = request.context.clone();
    let zone = crate::store::registry::board_zone(tx, request.board_id).await?;
    context.expires_text = zone.long_datetime(issued.expires_at());
    context.approval_request_id = request_id;
    let mut row = NewOutboxMessage::mail(request.board_id, to, &context);
    row.meeting_id = Some(request.meeting_id);
    row.reply_token = Some(issued.encode());
    row.attachments = request.attachments.clone();
    let outbox_id = outbox::enqueue(tx, row, now).await?;
    store::set_request_outbox(tx, request_id, outbox_id).await?;
    let mut detail = request.event.clone();
    detail["approver"] = json!(approver.address);
    detail["expires_at"] = json!(issued.expires_at());
    detail["outbox_id"] = json!(outbox_id);
    crate::store::events::record(
        tx,
        crate::store::events::NewEvent {
            board_id: Some(request.board_id),
            actor: "system",
            kind: "approval.requested",
            subject: Some(("approval_request", request_id)),
            detail,
        },
    )
    .await?;
    Ok(request_id)
}

/// What a pack is, as the emails say it.
pub fn pack_what(meeting_date: NaiveDate, n: i32) -> String {
    format!(
        "the meeting pack for the meeting on {} (version {n})",
        long_date(meeting_date)
    )
}

/// The start of the meeting a pack is for, when its circulation stops being useful.
pub fn pack_expiry(date: NaiveDate, time: Option<NaiveTime>, zone: Zone) -> DateTime<Utc> {
    zone.meeting_start(date, time)
}

/// The files a compiled pack carries, as frozen in its content: what was approved is what
/// is sent.
pub fn pack_attachments(content: &Value) -> Vec<NewAttachment> {
    content["updates_received"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|u| u["files"].as_array().into_iter().flatten())
        .filter(|f| f["attached"].as_bool() == Some(true))
        .filter_map(|f| {
            Some(NewAttachment {
                attachment_id: f["attachment_id"].as_i64()?,
                filename: f["filename"].as_str().unwrap_or("update").to_owned(),
                content_type: f["content_type"].as_str()?.to_owned(),
            })
        })
        .collect()
}
