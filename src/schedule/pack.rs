//! The meeting pack: its content (agenda, updates received, the action log, who did not
//! report), its attachments, and its approval request.

use crate::store::mail_context;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::plan::*;
use crate::approval::key::ApprovalKey;
use crate::approval::request::{approvers, issue_request, pack_expiry, pack_what, RequestDraft};
use crate::config::ApprovalSettings;
use crate::domain::mail;
use crate::domain::outbound::long_date;
use crate::filing;
use crate::store::actions::{self as actions_store, ActionFilter};
use crate::store::events::{self, NewEvent};
use crate::store::meeting_status::{self, MeetingStatusView};
use crate::store::minutes::{self as minutes_store, RequestSubject};
use crate::store::outbox::NewAttachment;
use crate::store::schedule::{self as store, DueJob};

/// The pack's content: agenda, updates received with their text and attachments, the
/// action log, who did not report.
pub(super) async fn pack_content(
    tx: &mut PgConnection,
    job: &DueJob,
    status: &MeetingStatusView,
    today: NaiveDate,
) -> anyhow::Result<(mail::PackContent, Vec<NewAttachment>)> {
    let meetings = mail_context::meetings(tx, &[job.meeting_id]).await?;
    let items = meetings
        .get(&job.meeting_id)
        .map(|m| {
            m.items
                .iter()
                .map(|i| mail::AgendaItem {
                    number: i.number.clone(),
                    title: i.title.clone(),
                    lead: i.lead.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let received: Vec<&meeting_status::UpdateReceived> = status
        .expected
        .iter()
        .flat_map(|e| e.updates.iter())
        .chain(status.other_updates.iter())
        .collect();
    let ids: Vec<i64> = received.iter().map(|u| u.message).collect();
    let texts = store::received_texts(tx, &ids).await?;
    let files = store::received_attachments(tx, &ids).await?;
    let mut updates = Vec::new();
    let mut attachments = Vec::new();
    let mut attached_bytes: i64 = 0;
    for update in &received {
        let text = texts.iter().find(|t| t.id == update.message);
        let mine: Vec<mail::PackFile> = files
            .iter()
            .filter(|f| f.message_id == update.message)
            .map(|f| {
                // Files go with the pack while they fit its budget, in the order the
                // updates came; the rest are named as not attached.
                let attached = attached_bytes + f.size <= PACK_ATTACHMENT_BYTES;
                if attached {
                    attached_bytes += f.size;
                    attachments.push(NewAttachment {
                        attachment_id: f.attachment_id,
                        filename: f.filename.clone().unwrap_or_else(|| "update".into()),
                        content_type: f.content_type.clone(),
                    });
                }
                mail::PackFile {
                    filename: f.filename.clone(),
                    content_type: f.content_type.clone(),
                    size: f.size,
                    attachment_id: f.attachment_id,
                    attached,
                }
            })
            .collect();
        updates.push(mail::PackUpdate {
            message: update.message,
            organisation: update
                .organisation
                .clone()
                .unwrap_or_else(|| "not known".into()),
            from: update.from.clone(),
            kind: update.kind.clone(),
            item: update.item.clone(),
            action: update.action.clone(),
            subject: text
                .and_then(|t| t.subject.clone())
                .unwrap_or_else(|| "(no subject)".into()),
            received_at: update.received_at,
            received_text: long_date(job.zone.local(update.received_at).date()),
            text: text.map(update_text).unwrap_or_default(),
            files: mine,
        });
    }
    let previous = store::previous_meeting_date(tx, job.board_id, job.meeting_date).await?;
    let closed_since = previous.map(|d| job.zone.instant(d, NaiveTime::MIN));
    let actions = logged_actions(
        tx,
        &ActionFilter {
            board_id: Some(job.board_id),
            open_only: true,
            closed_since,
            ..ActionFilter::default()
        },
        today,
    )
    .await?;
    let register = crate::store::attendance::register(tx, job.meeting_id).await?;
    let attending = register
        .iter()
        .filter(|l| l.response.as_deref() == Some("attending"))
        .map(|l| l.member.clone())
        .collect();
    let apologies = apologies(&register);
    let content = mail::PackContent {
        meeting_ref: job.meeting_ref.clone(),
        items,
        updates_received: updates,
        outstanding: status.outstanding.clone(),
        actions,
        attending,
        apologies,
    };
    Ok((content, attachments))
}

/// Who sent apologies, each with who attends in their place: as the pack and the quorum
/// warning list them.
pub(super) fn apologies(register: &[crate::store::attendance::RegisterLine]) -> Vec<String> {
    register
        .iter()
        .filter(|l| l.response.as_deref() == Some("apologies"))
        .map(|l| match &l.deputy {
            Some(deputy) => format!("{} ({deputy} attends in their place)", l.member),
            None => l.member.clone(),
        })
        .collect()
}

/// At most this many bytes of updates' files go with each copy of the pack (before
/// encoding, which adds a third): well inside the 25 MB most mail servers accept. Files
/// beyond it are named in the pack as not attached.
pub const PACK_ATTACHMENT_BYTES: i64 = 15 * 1024 * 1024;

/// How much of one update's text the pack carries; the rest is in the message itself
/// (and its files are attached whole).
pub const PACK_UPDATE_TEXT: usize = 20_000;

/// An update's text as the pack shows it: trimmed, and cut at [`PACK_UPDATE_TEXT`]
/// characters with a note saying so, so one huge message cannot swell every member's
/// copy of the pack.
/// What the pack shows of an update sent in the body of an email: the sender's own
/// words, without the thread they quote, their greeting or their signature, cut at
/// [`PACK_UPDATE_TEXT`] characters.
pub(super) fn update_text(received: &store::ReceivedText) -> String {
    let forwarded = received
        .subject
        .as_deref()
        .is_some_and(filing::forwarded_subject);
    let text = crate::text::reply::document_text(
        received.body_text.as_deref(),
        received.body_html.as_deref(),
        forwarded,
    );
    let (body, _closing) = crate::text::reply::without_closing(&text);
    pack_text(&body)
}

pub(super) fn pack_text(body: &str) -> String {
    let body = body.trim();
    if body.chars().count() <= PACK_UPDATE_TEXT {
        return body.to_owned();
    }
    format!(
        "{}\n[... the rest of this update is in the message as received]",
        filing::truncate_text(body, PACK_UPDATE_TEXT).trim_end()
    )
}

/// The register's actions `filter` selects, as update requests and the pack's action
/// log show them (the fields the `action_pack` templates also use).
pub async fn logged_actions(
    tx: &mut PgConnection,
    filter: &ActionFilter,
    today: NaiveDate,
) -> anyhow::Result<Vec<mail::ActionLine>> {
    let mut views = actions_store::list_on(tx, filter).await?;
    crate::actions::mark_overdue(&mut views, today);
    Ok(views
        .into_iter()
        .map(|a| mail::ActionLine {
            reference: a.reference,
            text: a.text,
            owner: a.owner.unwrap_or_else(|| "not named".into()),
            due_text: a
                .due_text
                .or_else(|| a.due_date.map(long_date))
                .unwrap_or_else(|| "before the next meeting".into()),
            status: a.status,
            raised_at: a.meeting,
            item: a.item,
            latest_update: a.latest_update.as_ref().map(|u| u.text.clone()),
            latest_update_at: a.latest_update.as_ref().map(|u| u.at),
            overdue: a.overdue,
        })
        .collect())
}

/// Compiles the meeting pack and asks each approver to approve it by reply.
pub(super) async fn compile_pack(
    tx: &mut PgConnection,
    settings: &ApprovalSettings,
    key: &ApprovalKey,
    job: &DueJob,
    now: DateTime<Utc>,
) -> anyhow::Result<Done> {
    let status = meeting_status::meeting_status_on(tx, &job.meeting_ref).await?;
    let (pack, attachments) = pack_content(tx, job, &status, job.zone.local(now).date()).await?;
    // Hashed and stored as the JSON it is frozen as.
    let content = serde_json::to_value(&pack).context("failed to write the pack's content")?;
    let sha = hex::encode(Sha256::digest(content.to_string().as_bytes()));
    let (pack_id, n) =
        store::insert_pack(tx, job.board_id, job.meeting_id, &content, &sha, now).await?;
    let members = minutes_store::board_members(tx, job.board_id).await?;
    let key = key.get()?;
    let written = pack
        .updates_received
        .iter()
        .filter(|u| u.kind == "written_update")
        .count();
    let mut summary = vec![
        format!("{written} written updates received"),
        format!(
            "{} action updates received",
            pack.updates_received.len() - written
        ),
        format!("{} actions in the action log", pack.actions.len()),
    ];
    for update in &pack.updates_received {
        let kind = if update.kind == "written_update" {
            "written update"
        } else {
            "action update"
        };
        summary.push(format!(
            "{}: {} ({kind}, {})",
            update.organisation, update.subject, update.received_text
        ));
    }
    summary.push(format!(
        "attendance register: {} attending, {} apologies{}",
        pack.attending.len(),
        pack.apologies.len(),
        if pack.apologies.is_empty() {
            String::new()
        } else {
            format!(" ({})", pack.apologies.join("; "))
        }
    ));
    let attached: Vec<String> = pack
        .updates_received
        .iter()
        .flat_map(|u| u.files.iter().filter(|f| f.attached))
        .map(|f| f.filename.clone().unwrap_or_else(|| "update".into()))
        .collect();
    summary.push(if attached.is_empty() {
        "nothing attached".to_owned()
    } else {
        format!("attached: {}", attached.join(", "))
    });
    if !status.outstanding.is_empty() {
        summary.push(format!("not reported: {}", status.outstanding.join(", ")));
    }
    // The action log as the pack shows it, one line an action, so the approver sees it.
    for action in &pack.actions {
        let latest = action
            .latest_update
            .as_deref()
            .map(|u| format!("; latest: {}", filing::shorten(u, 120)))
            .unwrap_or_default();
        summary.push(format!(
            "{} ({}, {}): {}{latest}",
            action.reference,
            action.owner,
            action.status,
            filing::shorten(&action.text, 160)
        ));
    }
    let request = RequestDraft {
        board_id: job.board_id,
        meeting_id: job.meeting_id,
        subject: RequestSubject::MeetingPack(pack_id),
        content_sha256: &sha,
        context: mail::ApprovalRequest {
            what: pack_what(job.meeting_date, n),
            summary,
            unmatched_names: Vec::new(),
            items: Vec::new(),
            candidate_actions: Vec::new(),
            has_inferred_actions: false,
            changes: Vec::new(),
            more_changes: 0,
            revision_id: None,
            meeting_pack_id: Some(pack_id),
            expires_text: String::new(),
            approval_request_id: 0,
        },
        attachments,
        event: json!({
            "meeting_pack_id": pack_id,
            "meeting": job.meeting_ref,
            "pack": n,
            "content_sha256": sha,
        }),
    };
    // Approving a pack after its meeting has started would circulate nothing: the request
    // ends then, or after approval.token_days if that comes first.
    let expires_at = (now + Duration::days(i64::from(settings.token_days)))
        .min(pack_expiry(job.meeting_date, job.meeting_time, job.zone))
        .max(now);
    let mut requests = Vec::new();
    for approver in approvers(&members, settings) {
        requests.push(issue_request(tx, key, &request, approver, expires_at, now).await?);
    }
    events::record(
        tx,
        NewEvent {
            board_id: Some(job.board_id),
            actor: "system",
            kind: "meeting_pack.compiled",
            subject: Some(("meeting_pack", pack_id)),
            detail: json!({
                "meeting": job.meeting_ref,
                "pack": n,
                "content_sha256": sha,
                "updates": pack.updates_received.len(),
                "outstanding": status.outstanding,
                "approval_requests": requests,
            }),
        },
    )
    .await?;
    Ok(Done::Sent {
        outbox: requests.len(),
        detail: json!({"meeting_pack_id": pack_id, "approval_requests": requests}),
    })
}
