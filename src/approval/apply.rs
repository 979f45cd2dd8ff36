//! Handling a filed approval reply: verify it, then apply it exactly once.
//!
//! Verification: the reply's recipient address carries a token
//! (`board+TOKEN@domain`) whose signature matches the request, revision hash and approver
//! and which has not expired; the From address is that approver's; with
//! `approval.require_dkim`, our own server's `Authentication-Results` pass the From
//! domain. Any failure changes nothing but the audit log: the event records why, the
//! approver (when known) gets an `approval_result` saying why, and the secretariat is
//! told.
//!
//! Application, in one transaction with the request row locked (`FOR UPDATE`) and a
//! unique index allowing one approval per revision: APPROVE approves the revision, moves
//! the meeting to `minutes_approved`, enters the candidate actions in the register, queues
//! circulation to every member who receives it and action packs to their owners — held
//! for `approval.undo_minutes` — and a confirmation to the approver. REJECT records the
//! reason. UNDO within the window cancels the held mail. A second decision, or one for a
//! superseded revision, changes nothing and says so. Anything else is a comment passed to
//! the secretariat.
//!
//! A meeting pack's request is verified the same way (its token is bound to the pack's
//! hash); APPROVE sends the pack to every member who receives circulation with the
//! updates' files attached, REJECT records the reason and tells the secretariat, and
//! there is nothing to UNDO (a pack is not held).
//!
//! This module owns the decisions; SQL is in `store::approvals` and `store::minutes`.

use crate::store::filings::FiledQueue;
use crate::store::mail_context;
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

use crate::approval::authresults::{self, AuthVerdict};
use crate::approval::token::{self, ApprovalToken, Binding};
use crate::clock::Clock;
use crate::config::ApprovalSettings;
use crate::domain::address::EmailAddress;
use crate::domain::board::{Member, MemberRole};
use crate::domain::mail;
use crate::domain::zone::Zone;
use crate::minutes::drafts::what;
use crate::minutes::report::MinutesReport;
use crate::store::actions::{self as register, NewAction};
use crate::store::approvals::{self as store, LockedRequest, ReplyMessage};
use crate::store::events::{self, NewEvent};
use crate::store::minutes::{self as minutes_store, Revision};
use crate::store::outbox::{self, NewAttachment, NewOutboxMessage, Recipient};
use crate::store::schedule::{self as pack_store, Pack};
use crate::text::commands::{self, Command};

/// What one step did with one reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// No reply was waiting.
    Idle,
    /// The revision was approved; circulation and action packs are held until the undo
    /// window ends.
    Approved {
        revision_id: i64,
        circulation: usize,
        action_packs: usize,
        actions: Vec<String>,
    },
    Rejected {
        revision_id: i64,
        reason: String,
    },
    /// A meeting pack was approved; it is queued to this many members.
    PackApproved {
        meeting_pack_id: i64,
        circulation: usize,
    },
    PackRejected {
        meeting_pack_id: i64,
        reason: String,
    },
    /// An approval was undone within its window; this many held emails were cancelled.
    Undone {
        revision_id: i64,
        cancelled: u64,
    },
    /// Passed to the secretariat as a comment.
    Comment,
    /// Genuine but too late or repeated (already decided, superseded): nothing changed.
    Unchanged {
        reason: String,
    },
    /// Not verified: nothing changed.
    Refused {
        reason: String,
    },
}

/// Handles one waiting approval reply, in one transaction.
pub async fn handle_next_reply(
    pool: &PgPool,
    settings: &impl AsRef<ApprovalSettings>,
    clock: &Clock,
    key: &[u8],
) -> anyhow::Result<ReplyOutcome> {
    let settings = settings.as_ref();
    let now = clock.now();
    let mut tx = crate::database::begin(pool).await?;
    let Some(message) = store::claim_reply(&mut tx).await? else {
        tx.commit().await?;
        return Ok(ReplyOutcome::Idle);
    };
    let members = minutes_store::board_members(&mut tx, message.board_id).await?;
    let outcome = act_on_reply(&mut tx, settings, key, &message, &members, now).await?;
    let (label, request, reason) = match &outcome.0 {
        ReplyOutcome::Approved { .. } | ReplyOutcome::PackApproved { .. } => {
            ("approved", outcome.1, None)
        }
        ReplyOutcome::Rejected { reason, .. } | ReplyOutcome::PackRejected { reason, .. } => {
            ("rejected", outcome.1, Some(reason.clone()))
        }
        ReplyOutcome::Undone { .. } => ("undone", outcome.1, None),
        ReplyOutcome::Comment => ("comment", outcome.1, None),
        ReplyOutcome::Unchanged { reason } => ("unchanged", outcome.1, Some(reason.clone())),
        ReplyOutcome::Refused { reason } => ("refused", outcome.1, Some(reason.clone())),
        ReplyOutcome::Idle => ("idle", outcome.1, None),
    };
    crate::store::filings::record_handled(
        &mut tx,
        FiledQueue::ApprovalReplies,
        message.message_id,
        request,
        label,
        reason.as_deref(),
        now,
    )
    .await?;
    tx.commit()
        .await
        .context("failed to commit the approval reply")?;
    Ok(outcome.0)
}

/// The refusal or decision for one reply, with the request it concerned when known.
async fn act_on_reply(
    tx: &mut PgConnection,
    settings: &ApprovalSettings,
    key: &[u8],
    message: &ReplyMessage,
    members: &[Member],
    now: DateTime<Utc>,
) -> anyhow::Result<(ReplyOutcome, Option<i64>)> {
    let board: String = mail_context::boards(tx, &[message.board_id])
        .await?
        .remove(&message.board_id)
        .map(|b| b.address)
        .context("the reply's board vanished")?;
    let board = EmailAddress::parse(&board).context("the board's address is not valid")?;
    let from = message
        .from_address
        .as_deref()
        .and_then(|a| EmailAddress::parse(a).ok());
    let parsed = commands::read(message.body_text.as_deref(), message.body_html.as_deref());
    let mut evidence = json!({
        "message_id": message.message_id,
        "header_message_id": message.header_message_id,
        "from": message.from_address,
        "command": format!("{:?}", parsed.command),
    });

    // The token from the first recipient address that carries one of ours.
    let token = message
        .recipients
        .iter()
        .filter_map(|a| EmailAddress::parse(a).ok())
        .find_map(|a| token::token_in_address(&a, &board).ok().map(str::to_owned));
    let Some(token_text) = token else {
        let reason = "the reply is not addressed to an approval token (was Reply-To changed, or is it a new message?)";
        return refuse(tx, message, members, None, &evidence, reason, now).await;
    };
    let token = match ApprovalToken::parse(&token_text) {
        Ok(token) => token,
        Err(err) => {
            return refuse(tx, message, members, None, &evidence, &err.to_string(), now).await
        }
    };
    evidence["token_request_id"] = json!(token.request_id());
    let Some(request) = store::lock_request(tx, token.request_id()).await? else {
        return refuse(
            tx,
            message,
            members,
            None,
            &evidence,
            "the token names no approval request",
            now,
        )
        .await;
    };
    let approver = EmailAddress::parse(&request.approver_address)
        .context("a stored approver address is not valid")?;
    let verified = token.verify(
        key,
        Binding {
            revision_hash: &request.content_sha256,
            approver: &approver,
        },
        now,
    );
    let refusal = if let Err(err) = verified {
        Some(err.to_string())
    } else if from.as_ref().map(EmailAddress::as_str) != Some(approver.as_str()) {
        Some(format!(
            "the reply came from {}, not from {}, to whom the request was sent",
            message.from_address.as_deref().unwrap_or("no address"),
            approver.as_str()
        ))
    } else if settings.require_dkim {
        let authserv = settings.authserv_id.clone().unwrap_or_default();
        let fields = authresults::header_fields(&message.raw);
        let trusted = authresults::trusted_results(
            fields.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &authserv,
        );
        let verdict = authresults::verdict(&trusted, approver.domain());
        evidence["authentication"] = serde_json::to_value(&verdict).unwrap_or(Value::Null);
        match verdict {
            AuthVerdict::Fail { reason } => Some(format!(
                "the reply is not authenticated for {}: {reason}",
                approver.domain()
            )),
            _ => None,
        }
    } else {
        None
    };
    if let Some(reason) = refusal {
        return refuse(
            tx,
            message,
            members,
            Some(&request),
            &evidence,
            &reason,
            now,
        )
        .await;
    }

    let subject = subject_of(tx, &request).await?;
    let actor = approver.as_str().to_owned();
    match parsed.command {
        Command::Approve | Command::ApproveWithout { .. } | Command::Reject { .. } => {
            if request.used_at.is_some() {
                let reason = format!(
                    "this request was already answered ({}): nothing changed",
                    request.status
                );
                return unchanged(
                    tx, message, members, &request, &subject, &evidence, &reason, now,
                )
                .await;
            }
            if request.subject_status != "draft" || request.status != "open" {
                let noun = subject.noun();
                let reason = match request.subject_status.as_str() {
                    "superseded" => format!("a newer version of {noun} has been received since this request: nothing changed"),
                    "approved" => format!("{noun} {} already approved: nothing changed", subject.verb()),
                    other => format!("{noun} {} {other}: nothing changed", subject.verb()),
                };
                return unchanged(
                    tx, message, members, &request, &subject, &evidence, &reason, now,
                )
                .await;
            }
            if let Command::Reject { reason } = parsed.command {
                store::decide_request(tx, request.id, "rejected", Some(&reason), &evidence, now)
                    .await?;
                match &subject.pack {
                    Some(pack) => {
                        pack_store::decide_pack(tx, pack.id, "rejected", now).await?;
                    }
                    None => {
                        store::decide_revision(tx, subject.id(), "rejected", now).await?;
                    }
                }
                record(
                    tx,
                    &request,
                    &actor,
                    "approval.rejected",
                    &subject,
                    &evidence,
                    Some(&reason),
                )
                .await?;
                tell(
                    tx,
                    &request,
                    &subject,
                    members,
                    "rejected",
                    &actor,
                    Some(&reason),
                    None,
                    now,
                )
                .await?;
                let outcome = match &subject.pack {
                    Some(pack) => ReplyOutcome::PackRejected {
                        meeting_pack_id: pack.id,
                        reason,
                    },
                    None => ReplyOutcome::Rejected {
                        revision_id: subject.id(),
                        reason,
                    },
                };
                return Ok((outcome, Some(request.id)));
            }
            let without = match &parsed.command {
                Command::ApproveWithout { numbers } => numbers.clone(),
                _ => Vec::new(),
            };
            if let Some(reason) = unknown_actions(&subject, &without)? {
                return unchanged(
                    tx, message, members, &request, &subject, &evidence, &reason, now,
                )
                .await;
            }
            if !without.is_empty() {
                evidence["actions_left_out"] = json!(without);
            }
            store::decide_request(tx, request.id, "approved", None, &evidence, now).await?;
            let decided = match &subject.pack {
                Some(pack) => pack_store::decide_pack(tx, pack.id, "approved", now).await?,
                None => store::decide_revision(tx, subject.id(), "approved", now).await?,
            };
            if !decided {
                let reason = format!(
                    "{} {} decided meanwhile: nothing changed",
                    subject.noun(),
                    if subject.pack.is_some() {
                        "was"
                    } else {
                        "were"
                    }
                );
                return unchanged(
                    tx, message, members, &request, &subject, &evidence, &reason, now,
                )
                .await;
            }
            let outcome = match (&subject.revision, &subject.pack) {
                (Some(revision), _) => {
                    approve(
                        tx, settings, key, &request, revision, &subject, members, &without, now,
                    )
                    .await?
                }
                (None, Some(pack)) => {
                    approve_pack(tx, &request, pack, &subject, members, now).await?
                }
                (None, None) => anyhow::bail!("approval request {} is for nothing", request.id),
            };
            record(
                tx,
                &request,
                &actor,
                "approval.approved",
                &subject,
                &evidence,
                None,
            )
            .await?;
            Ok((outcome, Some(request.id)))
        }
        Command::Undo => {
            let window = Duration::minutes(i64::from(settings.undo_minutes));
            let in_window = request.status == "approved"
                && request.used_at.is_some_and(|at| now <= at + window);
            let Some(revision_id) = subject
                .revision
                .as_ref()
                .map(|r| r.id)
                .filter(|_| in_window)
            else {
                let reason = if subject.pack.is_some() {
                    "a meeting pack is circulated as soon as it is approved: there is nothing to undo"
                        .to_owned()
                } else if request.status == "approved" {
                    "the time to undo this approval has passed: the minutes have been circulated"
                        .to_owned()
                } else {
                    "there is no approval of yours to undo".to_owned()
                };
                return unchanged(
                    tx, message, members, &request, &subject, &evidence, &reason, now,
                )
                .await;
            };
            let cancelled = store::undo_approval(tx, request.id, revision_id, now).await?;
            record(
                tx,
                &request,
                &actor,
                "approval.undone",
                &subject,
                &evidence,
                None,
            )
            .await?;
            let next = format!(
                "{cancelled} emails waiting to go were cancelled; the minutes are a draft again."
            );
            tell(
                tx,
                &request,
                &subject,
                members,
                "withdrew the approval of",
                &actor,
                None,
                Some(&next),
                now,
            )
            .await?;
            Ok((
                ReplyOutcome::Undone {
                    revision_id,
                    cancelled,
                },
                Some(request.id),
            ))
        }
        Command::Comment { text } => {
            record(
                tx,
                &request,
                &actor,
                "approval.comment",
                &subject,
                &evidence,
                Some(&text),
            )
            .await?;
            // The approver hears how their words were read, and the reply that would
            // have worked; the secretariat gets the comment.
            let next = if request.used_at.is_some() {
                // A reply to the confirmation ("Thanks"): the decision stands.
                format!(
                    "Your reply was passed to the secretariat as a comment; your decision on {} ({}) stands.",
                    subject.what, request.status
                )
            } else {
                format!(
                    "Nothing was approved: this was read as a comment and passed to the secretariat. To approve {}, reply to the approval request with the single word APPROVE; to reject, REJECT and your reason.",
                    subject.what
                )
            };
            tell(
                tx,
                &request,
                &subject,
                members,
                "commented on",
                &actor,
                Some(&text),
                Some(&next),
                now,
            )
            .await?;
            Ok((ReplyOutcome::Comment, Some(request.id)))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut PgConnection,
    request: &LockedRequest,
    actor: &str,
    kind: &str,
    subject: &Subject,
    evidence: &Value,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let mut detail = subject.ids();
    detail["meeting"] = json!(subject.meeting_ref);
    detail["content_sha256"] = json!(subject.content_sha256);
    detail["evidence"] = evidence.clone();
    detail["reason"] = json!(reason);
    events::record(
        tx,
        NewEvent {
            board_id: Some(request.board_id),
            actor,
            kind,
            subject: Some(("approval_request", request.id)),
            detail,
        },
    )
    .await?;
    Ok(())
}

/// An `approval_result` to the approver and to the secretariat.
#[allow(clippy::too_many_arguments)]
async fn tell(
    tx: &mut PgConnection,
    request: &LockedRequest,
    subject: &Subject,
    members: &[Member],
    decision: &str,
    actor: &str,
    reason: Option<&str>,
    next_step: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let approved = decision == "approved";
    let headline = match decision {
        "approved" | "rejected" => None,
        "withdrew the approval of" => Some("Approval withdrawn"),
        "commented on" => Some("Comment"),
        _ => Some("Not accepted"),
    };
    let mut context = result_context(
        subject,
        approved,
        decision,
        &decided_by(request, members, actor),
        now,
    );
    context.headline = headline.map(str::to_owned);
    context.reason = reason.map(str::to_owned);
    context.next_step = next_step.map(str::to_owned);
    for (to, _) in result_recipients(request, members) {
        outbox::enqueue(tx, result_row(request, subject, to, &context), now).await?;
    }
    Ok(())
}

/// Who the approval result of `request` is from: its approver's registry name, else
/// `fallback`.
fn decided_by(request: &LockedRequest, members: &[Member], fallback: &str) -> String {
    members
        .iter()
        .find(|m| m.id == request.approver_member_id)
        .map_or_else(|| fallback.to_owned(), |m| m.name.clone())
}

/// What every approval result says: what was decided, by whom and when. `headline`,
/// `reason` and `next_step` are the caller's.
fn result_context(
    subject: &Subject,
    approved: bool,
    decision: &str,
    decided_by: &str,
    now: DateTime<Utc>,
) -> mail::ApprovalResult {
    let (revision, pack) = if subject.pack.is_some() {
        (None, Some((subject.id, subject.n)))
    } else {
        (Some((subject.id, subject.n)), None)
    };
    mail::ApprovalResult {
        revision_id: revision.map(|(id, _)| id),
        revision: revision.map(|(_, n)| n),
        meeting_pack_id: pack.map(|(id, _)| id),
        pack: pack.map(|(_, n)| n),
        what: subject.what.clone(),
        approved,
        decision: decision.to_owned(),
        decided_by: decided_by.to_owned(),
        decided_text: subject.zone.long_datetime(now),
        ..mail::ApprovalResult::default()
    }
}

/// Who hears of a decision on `request`: its approver and every secretariat member; each
/// once, where their mail goes, with whether they are the approver.
fn result_recipients(request: &LockedRequest, members: &[Member]) -> Vec<(Recipient, bool)> {
    let mut sent_to = Vec::new();
    let mut recipients = Vec::new();
    for member in members {
        let is_approver = member.id == request.approver_member_id;
        let is_secretariat = member.is_secretariat();
        if !(is_approver || is_secretariat) || sent_to.contains(&member.id) {
            continue;
        }
        let Some(to) = member.recipient() else {
            continue;
        };
        sent_to.push(member.id);
        recipients.push((to, is_approver));
    }
    recipients
}

/// An approval result about `request` to `to`, threaded under the request.
fn result_row(
    request: &LockedRequest,
    subject: &Subject,
    to: Recipient,
    context: &mail::ApprovalResult,
) -> NewOutboxMessage {
    let mut row = NewOutboxMessage::mail(request.board_id, to, context);
    row.meeting_id = Some(subject.meeting_id);
    row.in_reply_to = request.outbox_message_id.clone();
    row
}

/// Refuses a reply: an event with the reason, the approver (when the request is known) and
/// the secretariat told. Nothing else changes.
#[allow(clippy::too_many_arguments)]
async fn refuse(
    tx: &mut PgConnection,
    message: &ReplyMessage,
    members: &[Member],
    request: Option<&LockedRequest>,
    evidence: &Value,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(ReplyOutcome, Option<i64>)> {
    let actor = message.sender();
    events::record(
        tx,
        NewEvent {
            board_id: Some(message.board_id),
            actor: &actor,
            kind: "approval.refused",
            subject: Some(match request {
                Some(r) => ("approval_request", r.id),
                None => ("message", message.message_id),
            }),
            detail: json!({
                "reason": reason,
                "evidence": evidence,
                "content_sha256": request.map(|r| r.content_sha256.clone()),
            }),
        },
    )
    .await?;
    if let Some(request) = request {
        let subject = subject_of(tx, request).await?;
        let next = "Nothing was changed. To approve, reply to the approval request from the address it was sent to.";
        tell(
            tx,
            request,
            &subject,
            members,
            "could not accept a reply about",
            &actor,
            Some(reason),
            Some(next),
            now,
        )
        .await?;
    } else {
        // No request to name: the secretariat hears of it through the audit log's event
        // and a result about the message itself.
        let zone = crate::store::registry::board_zone(tx, message.board_id).await?;
        for member in members.iter().filter(|m| m.is_secretariat()) {
            let Some(to) = member.recipient() else {
                continue;
            };
            let context = mail::ApprovalResult {
                what: format!(
                    "a reply ({})",
                    message.subject.as_deref().unwrap_or("no subject")
                ),
                approved: false,
                headline: Some("Not accepted".into()),
                decision: "refused".into(),
                decided_by: "minuted".into(),
                decided_text: zone.long_datetime(now),
                reason: Some(format!("from {actor}: {reason}")),
                ..mail::ApprovalResult::default()
            };
            outbox::enqueue(
                tx,
                NewOutboxMessage::mail(message.board_id, to, &context),
                now,
            )
            .await?;
        }
    }
    Ok((
        ReplyOutcome::Refused {
            reason: reason.to_owned(),
        },
        request.map(|r| r.id),
    ))
}

/// A genuine reply that changes nothing: recorded, and the approver told why.
#[allow(clippy::too_many_arguments)]
async fn unchanged(
    tx: &mut PgConnection,
    message: &ReplyMessage,
    members: &[Member],
    request: &LockedRequest,
    subject: &Subject,
    evidence: &Value,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(ReplyOutcome, Option<i64>)> {
    let actor = message.sender();
    record(
        tx,
        request,
        &actor,
        "approval.unchanged",
        subject,
        evidence,
        Some(reason),
    )
    .await?;
    let context = mail::ApprovalResult {
        what: subject.what.clone(),
        approved: request.status == "approved",
        headline: Some("No change".into()),
        decision: "received your reply about".into(),
        decided_by: "minuted".into(),
        decided_text: subject.zone.long_datetime(now),
        reason: Some(reason.to_owned()),
        ..mail::ApprovalResult::default()
    };
    if let Some(to) = members
        .iter()
        .find(|m| m.id == request.approver_member_id)
        .and_then(Member::recipient)
    {
        let mut row = NewOutboxMessage::mail(request.board_id, to, &context);
        row.meeting_id = Some(subject.meeting_id);
        outbox::enqueue(tx, row, now).await?;
    }
    Ok((
        ReplyOutcome::Unchanged {
            reason: reason.to_owned(),
        },
        Some(request.id),
    ))
}

/// Why `APPROVE without N` cannot be applied: a meeting pack has no numbered actions, or a
/// number is not one the request gave. `None` when it can.
fn unknown_actions(subject: &Subject, without: &[u32]) -> anyhow::Result<Option<String>> {
    if without.is_empty() {
        return Ok(None);
    }
    let Some(revision) = &subject.revision else {
        return Ok(Some(
            "a meeting pack has no numbered actions to leave out: nothing changed. Reply APPROVE or REJECT with your reason.".to_owned(),
        ));
    };
    let report: MinutesReport = serde_json::from_value(revision.structure.clone())
        .context("the revision's stored structure cannot be read")?;
    let count = u32::try_from(report.actions.len()).unwrap_or(u32::MAX);
    let unknown: Vec<String> = without
        .iter()
        .filter(|n| **n == 0 || **n > count)
        .map(u32::to_string)
        .collect();
    if unknown.is_empty() {
        return Ok(None);
    }
    let numbered = match count {
        0 => "this request lists no actions".to_owned(),
        1 => "its one action is number 1".to_owned(),
        n => format!("its actions are numbered 1 to {n}"),
    };
    Ok(Some(format!(
        "there is no action {} in this request ({numbered}): nothing changed. Reply APPROVE to add every action, or APPROVE without and the numbers of the actions to leave out (for example: APPROVE without 2).",
        unknown.join(", ")
    )))
}

/// The effects of an approval: actions, held circulation and action packs, confirmation.
#[allow(clippy::too_many_arguments)]
async fn approve(
    tx: &mut PgConnection,
    settings: &ApprovalSettings,
    key: &[u8],
    request: &LockedRequest,
    revision: &Revision,
    subject: &Subject,
    members: &[Member],
    without: &[u32],
    now: DateTime<Utc>,
) -> anyhow::Result<ReplyOutcome> {
    let report: MinutesReport = serde_json::from_value(revision.structure.clone())
        .context("the revision's stored structure cannot be read")?;
    let organisations = minutes_store::organisations(tx, request.board_id).await?;
    let hold_until = now + Duration::minutes(i64::from(settings.undo_minutes));
    let mut refs = Vec::new();
    // owner member id -> the actions they receive
    let mut packs: Vec<(i64, Vec<mail::ActionLine>)> = Vec::new();
    // The candidates as the request numbered them, less those the approver left out.
    let kept = report
        .actions
        .iter()
        .zip(1u32..)
        .filter(|(_, number)| !without.contains(number))
        .map(|(action, _)| action);
    for action in kept {
        let owner = action.owner.as_deref();
        let organisation = owner.and_then(|o| {
            organisations.iter().find(|(_, short, name)| {
                short.eq_ignore_ascii_case(o) || name.eq_ignore_ascii_case(o)
            })
        });
        let member = owner.and_then(|o| {
            members.iter().find(|m| {
                m.initials
                    .as_deref()
                    .is_some_and(|i| i.eq_ignore_ascii_case(o))
                    || m.name.eq_ignore_ascii_case(o)
            })
        });
        let (_, reference) = register::add(
            tx,
            &NewAction {
                board_id: request.board_id,
                text: &action.text,
                owner_text: owner,
                owner_organisation_id: organisation
                    .map(|(id, _, _)| *id)
                    .or(member.and_then(|m| m.organisation_id)),
                owner_member_id: member.map(|m| m.id),
                meeting_id: revision.meeting_id,
                item_number: action.item.as_deref(),
                revision_id: Some(revision.id),
                due: None,
                due_text: action.due.as_deref(),
                added_by: "minutes",
            },
            now,
        )
        .await?;
        let entry = mail::ActionLine {
            reference: reference.clone(),
            text: action.text.clone(),
            owner: owner.unwrap_or("not named").to_owned(),
            due_text: action
                .due
                .clone()
                .unwrap_or_else(|| "before the next meeting".into()),
            status: "open".into(),
            raised_at: Some(revision.meeting_ref.clone()),
            item: action.item.clone(),
            latest_update: None,
            latest_update_at: None,
            overdue: false,
        };
        refs.push(reference);
        let owners: Vec<i64> = match (member, organisation) {
            (Some(m), _) => vec![m.id],
            (None, Some((org, _, _))) => pack_recipients(members, *org),
            _ => Vec::new(),
        };
        for id in owners {
            match packs.iter_mut().find(|(m, _)| *m == id) {
                Some((_, list)) => list.push(entry.clone()),
                None => packs.push((id, vec![entry.clone()])),
            }
        }
    }

    let next =
        mail_context::next_meeting_after(tx, request.board_id, revision.meeting_date).await?;
    // The action packs speak of the next meeting still to come.
    let today = subject.zone.local(now).date();
    let coming = match &next {
        Some(m) if m.date >= today => Some(m.id),
        _ => mail_context::next_meeting_after(tx, request.board_id, today - Duration::days(1))
            .await?
            .map(|m| m.id),
    };
    let next_meeting = next.as_ref().map(crate::outbox::context::meeting_value);
    let mut rows = Vec::new();
    for member in members.iter().filter(|m| m.circulation) {
        let Some(to) = member.recipient() else {
            continue;
        };
        let context = mail::Circulation {
            approved_text: crate::domain::outbound::long_date(subject.zone.local(now).date()),
            next_meeting: next_meeting.clone(),
            revision_id: revision.id,
            minutes_text: revision.extracted_text.clone(),
        };
        let mut row = NewOutboxMessage::mail(request.board_id, to, &context);
        row.meeting_id = Some(revision.meeting_id);
        row.hold_until = Some(hold_until);
        if let Some(file) = crate::minutes::drafts::minutes_file(revision, None, "approved") {
            row.attachments.push(file);
        }
        rows.push(row);
    }
    let circulation = rows.len();
    for (member_id, actions) in &packs {
        let Some(to) = members
            .iter()
            .find(|m| m.id == *member_id)
            .and_then(Member::recipient)
        else {
            continue;
        };
        let context = mail::ActionPack {
            actions: actions.clone(),
            revision_id: revision.id,
            raised_text: crate::domain::outbound::long_date(revision.meeting_date),
        };
        let mut row = NewOutboxMessage::mail(request.board_id, to, &context);
        row.meeting_id = coming;
        row.hold_until = Some(hold_until);
        rows.push(row);
    }
    let action_packs = rows.len() - circulation;
    outbox::enqueue_many(tx, &rows, now).await?;
    confirm_approval(
        tx,
        key,
        request,
        subject,
        members,
        (circulation, action_packs),
        hold_until,
        now,
    )
    .await?;
    Ok(ReplyOutcome::Approved {
        revision_id: revision.id,
        circulation,
        action_packs,
        actions: refs,
    })
}

/// The confirmation of an approval. The approver's offers UNDO until the mail goes, and
/// its Reply-To carries a token of their own request that lasts beyond that (so a late
/// UNDO is told it is too late rather than refused): a reply to the confirmation is as
/// good as a reply to the request. The rest of the secretariat are told who approved and
/// that nothing is needed from them.
#[allow(clippy::too_many_arguments)]
async fn confirm_approval(
    tx: &mut PgConnection,
    key: &[u8],
    request: &LockedRequest,
    subject: &Subject,
    members: &[Member],
    (circulation, action_packs): (usize, usize),
    hold_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let approver = EmailAddress::parse(&request.approver_address)
        .context("a stored approver address is not valid")?;
    let decided_by = decided_by(request, members, approver.as_str());
    let when = subject.zone.long_datetime(hold_until);
    let held = hold_until > now;
    let mut context = result_context(subject, true, "approved", &decided_by, now);
    context.approval_request_id = Some(request.id);
    for (to, is_approver) in result_recipients(request, members) {
        let mut context = context.clone();
        let mut reply_token = None;
        let next = match (is_approver, held) {
            (true, true) => {
                let undo = ApprovalToken::issue(
                    key,
                    request.id,
                    Binding {
                        revision_hash: &request.content_sha256,
                        approver: &approver,
                    },
                    undo_token_expiry(hold_until, request.expires_at),
                )
                .context("failed to issue the token for UNDO")?;
                reply_token = Some(undo.encode());
                context.undo_offered = true;
                format!(
                    "The minutes will be circulated to {circulation} members, and {action_packs} action packs sent, at {when}. To stop them, reply to this email with the single word UNDO before then."
                )
            }
            (true, false) => format!(
                "The minutes are being circulated to {circulation} members, and {action_packs} action packs sent."
            ),
            (false, true) => format!(
                "{decided_by} approved them: they will be circulated to {circulation} members, and {action_packs} action packs sent, at {when}. Nothing is needed from you; only {decided_by} can undo the approval."
            ),
            (false, false) => format!(
                "{decided_by} approved them: they are being circulated to {circulation} members, and {action_packs} action packs sent. Nothing is needed from you."
            ),
        };
        context.next_step = Some(next);
        let mut row = result_row(request, subject, to, &context);
        row.reply_token = reply_token;
        outbox::enqueue(tx, row, now).await?;
    }
    Ok(())
}

/// When the token for UNDO expires: a week after the mail goes, and never at the same
/// second as the request's own token, whose text it would then repeat (reply tokens are
/// unique).
fn undo_token_expiry(hold_until: DateTime<Utc>, request_expires: DateTime<Utc>) -> DateTime<Utc> {
    let expiry = hold_until + Duration::days(7);
    if expiry.timestamp() == request_expires.timestamp() {
        expiry + Duration::seconds(1)
    } else {
        expiry
    }
}

/// What an approval request is for, as its emails and audit events name it.
struct Subject {
    what: String,
    meeting_id: i64,
    meeting_ref: String,
    content_sha256: String,
    revision: Option<Revision>,
    pack: Option<Pack>,
    /// The revision's or pack's id and number.
    id: i64,
    n: i32,
    /// The board's time zone, in which results write times.
    zone: Zone,
}

impl Subject {
    /// The keys naming it in events and result emails: `revision_id` and `revision`, or
    /// `meeting_pack_id` and `pack`.
    fn ids(&self) -> Value {
        if self.pack.is_some() {
            json!({"meeting_pack_id": self.id, "pack": self.n})
        } else {
            json!({"revision_id": self.id, "revision": self.n})
        }
    }

    fn id(&self) -> i64 {
        self.id
    }

    fn noun(&self) -> &'static str {
        if self.pack.is_some() {
            "this meeting pack"
        } else {
            "these minutes"
        }
    }

    fn verb(&self) -> &'static str {
        if self.pack.is_some() {
            "is"
        } else {
            "are"
        }
    }
}

async fn subject_of(tx: &mut PgConnection, request: &LockedRequest) -> anyhow::Result<Subject> {
    let zone = crate::store::registry::board_zone(tx, request.board_id).await?;
    if let Some(id) = request.meeting_pack_id {
        let pack = pack_store::pack(tx, id).await?;
        return Ok(Subject {
            what: super::request::pack_what(pack.meeting_date, pack.n),
            meeting_id: pack.meeting_id,
            meeting_ref: pack.meeting_ref.clone(),
            content_sha256: pack.content_sha256.clone(),
            id: pack.id,
            n: pack.n,
            zone,
            revision: None,
            pack: Some(pack),
        });
    }
    let id = request
        .revision_id
        .with_context(|| format!("approval request {} names nothing to approve", request.id))?;
    let revision = minutes_store::revision(tx, id).await?;
    Ok(Subject {
        what: what(&revision),
        meeting_id: revision.meeting_id,
        meeting_ref: revision.meeting_ref.clone(),
        content_sha256: revision.content_sha256.clone(),
        id: revision.id,
        n: revision.n,
        zone,
        revision: Some(revision),
        pack: None,
    })
}

/// The effects of a pack's approval: the pack to every member who receives circulation,
/// and to each deputy recorded as attending in a member's place, with the updates'
/// attachments, not sent after the meeting starts; the approver and the secretariat told.
async fn approve_pack(
    tx: &mut PgConnection,
    request: &LockedRequest,
    pack: &Pack,
    subject: &Subject,
    members: &[Member],
    now: DateTime<Utc>,
) -> anyhow::Result<ReplyOutcome> {
    let context = mail::MeetingPack {
        content: pack.content.as_object().cloned().unwrap_or_default(),
        meeting_pack_id: pack.id,
    };
    let attachments: Vec<NewAttachment> = super::request::pack_attachments(&pack.content);
    let not_after = super::request::pack_expiry(pack.meeting_date, pack.meeting_time, pack.zone);
    let deputies = crate::store::attendance::deputies_attending(tx, pack.meeting_id).await?;
    let rows: Vec<NewOutboxMessage> = members
        .iter()
        .filter(|m| m.circulation || deputies.contains(&m.id))
        .filter_map(|m| m.recipient())
        .map(|to| {
            let mut row = NewOutboxMessage::mail(request.board_id, to, &context);
            row.meeting_id = Some(pack.meeting_id);
            row.not_after = Some(not_after);
            row.attachments = attachments.clone();
            row
        })
        .collect();
    let circulation = outbox::enqueue_many(tx, &rows, now).await?.len();
    let next = format!("The pack is on its way to {circulation} members.");
    tell(
        tx,
        request,
        subject,
        members,
        "approved",
        &request.approver_address,
        None,
        Some(&next),
        now,
    )
    .await?;
    Ok(ReplyOutcome::PackApproved {
        meeting_pack_id: pack.id,
        circulation,
    })
}

/// Who an organisation's actions go to when no member owns them: its members with the
/// role `member` who receive circulation (not its chair, not the secretariat); failing
/// those, any of its circulation members other than the secretariat.
fn pack_recipients(members: &[Member], organisation_id: i64) -> Vec<i64> {
    let of_organisation: Vec<&Member> = members
        .iter()
        .filter(|m| {
            m.organisation_id == Some(organisation_id) && m.circulation && m.address.is_some()
        })
        .collect();
    let plain: Vec<i64> = of_organisation
        .iter()
        .filter(|m| {
            m.has_role(MemberRole::Member) && !m.has_role(MemberRole::Chair) && !m.is_secretariat()
        })
        .map(|m| m.id)
        .collect();
    if !plain.is_empty() {
        return plain;
    }
    of_organisation
        .iter()
        .filter(|m| !m.is_secretariat())
        .map(|m| m.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, organisation: i64, roles: &[&str]) -> Member {
        Member {
            id,
            name: format!("Member {id}"),
            organisation_id: Some(organisation),
            roles: roles.iter().filter_map(|r| MemberRole::parse(r)).collect(),
            circulation: true,
            active: true,
            address: Some(format!("m{id}@org.example")),
            ..Member::default()
        }
    }

    #[test]
    fn an_organisations_actions_go_to_its_members_not_its_chair_or_the_secretariat() {
        let members = [
            member(1, 7, &["chair"]),
            member(2, 7, &["secretariat", "member"]),
            member(3, 7, &["member"]),
            member(4, 7, &["member"]),
            member(5, 8, &["member"]),
        ];
        assert_eq!(pack_recipients(&members, 7), vec![3, 4]);
        // With nobody else, the chair rather than nobody; never the secretariat.
        let only = [member(1, 7, &["chair"]), member(2, 7, &["secretariat"])];
        assert_eq!(pack_recipients(&only, 7), vec![1]);
    }
}
