//! Draft minutes become revisions: a step over filed `draft_minutes` messages that have
//! not been looked at yet. It extracts the document's text (an attached .docx, .pdf,
//! .txt, .md or .html, else the body), parses and matches it against the registry, stores
//! it as the meeting's next revision (unless its content is identical to the last one)
//! and, in the same transaction, queues an approval request with a signed reply token to
//! every approver. A file that cannot be read is stored as a revision in `error` and the
//! secretariat is told.
//!
//! The SQL is in `store::minutes`; tokens in `approval::token`; replies are handled by
//! `approval::apply`.

use crate::store::filings::{self, FiledQueue};
use crate::store::mail_context;
use anyhow::Context;
use chrono::Duration;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::approval::request::{approvers, issue_request, recipient, RequestDraft};
use crate::clock::Clock;
use crate::config::ApprovalSettings;
use crate::domain::board::Member;
use crate::domain::mail;
use crate::domain::outbound::long_date;
use crate::minutes::document;
use crate::minutes::extract;
use crate::minutes::report::MinutesReport;
use crate::minutes::structure::{self, ParseContext};
use crate::store::minutes::{self as store, NewRevision, PendingDraft, Revision};
use crate::store::outbox::{self, NewAttachment, NewOutboxMessage};

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftOutcome {
    /// Nothing was waiting.
    Idle,
    /// A new revision, and the number of approval requests queued for it.
    Revision {
        meeting_ref: String,
        n: i32,
        requests: usize,
    },
    /// The same content as the meeting's last revision: nothing new.
    Identical { meeting_ref: String, n: i32 },
    /// The document could not be read: a revision in `error`, the secretariat told.
    Unreadable { meeting_ref: String, error: String },
    /// Filed without a meeting: nothing to attach it to (triage can file it again).
    NoMeeting { message_id: i64 },
}

/// The document chosen from a draft: its text, or why it could not be read.
struct Document {
    attachment: Option<store::SourceAttachment>,
    format: String,
    text: Result<String, String>,
}

fn choose_document(draft: &PendingDraft, attachments: Vec<store::SourceAttachment>) -> Document {
    for attachment in attachments {
        let detected = extract::detect(
            &attachment.content,
            attachment.filename.as_deref(),
            Some(&attachment.content_type),
        );
        let Ok(format) = detected else { continue };
        // Images and the like are not minutes; a readable-looking document is taken
        // even when it then fails, so the failure is reported rather than hidden.
        let text = extract::extract(
            &attachment.content,
            attachment.filename.as_deref(),
            Some(&attachment.content_type),
        )
        .map(|e| e.text)
        .map_err(|err| {
            format!(
                "cannot read {}: {err}",
                attachment.filename.as_deref().unwrap_or("the attachment")
            )
        });
        return Document {
            attachment: Some(attachment),
            format: format.as_str().to_owned(),
            text,
        };
    }
    // Minutes sent in the body: the sender's own words (no quoted thread, tagline or
    // disclaimer; the whole body of a forward), without the covering note above them.
    let forwarded = draft
        .subject
        .as_deref()
        .is_some_and(crate::filing::forwarded_subject);
    let text = crate::text::reply::document_text(
        draft.body_text.as_deref(),
        draft.body_html.as_deref(),
        forwarded,
    );
    let body = extract::normalise(&without_covering_note(&text));
    Document {
        attachment: None,
        format: "body".into(),
        text: if body.trim().is_empty() {
            Err("the message has no readable document and no text".into())
        } else {
            Ok(body)
        },
    }
}

/// Parses `text` and matches its names against the board's members.
pub fn structure_report(
    text: &str,
    meeting_date: chrono::NaiveDate,
    members: &[Member],
    organisations: &[(i64, String, String)],
) -> MinutesReport {
    let mut context = ParseContext {
        meeting_date: Some(meeting_date),
        ..ParseContext::default()
    };
    for (_, short, name) in organisations {
        context.organisations.push(short.clone());
        context.organisations.push(name.clone());
    }
    context.initials = members.iter().filter_map(|m| m.initials.clone()).collect();
    let parsed = structure::parse(text, &context);
    let matches = structure::match_names(&parsed, members);
    MinutesReport::new(&parsed, Some(&matches))
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What the minutes are, as the emails say it.
pub fn what(revision: &Revision) -> String {
    format!(
        "the draft minutes of the meeting on {} (version {})",
        long_date(revision.meeting_date),
        revision.n
    )
}

/// Turns one waiting draft into a revision and its approval requests, in one transaction.
pub async fn process_next_draft(
    pool: &PgPool,
    settings: &impl AsRef<ApprovalSettings>,
    clock: &Clock,
    key: &[u8],
) -> anyhow::Result<DraftOutcome> {
    let settings = settings.as_ref();
    let now = clock.now();
    let mut tx = crate::database::begin(pool).await?;
    let Some(draft) = store::claim_pending_draft(&mut tx).await? else {
        tx.commit().await?;
        return Ok(DraftOutcome::Idle);
    };
    let Some(meeting_id) = draft.meeting_id else {
        filings::record_handled(
            &mut tx,
            FiledQueue::DraftMinutes,
            draft.message_id,
            None,
            "error",
            Some("filed as draft minutes without a meeting"),
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(DraftOutcome::NoMeeting {
            message_id: draft.message_id,
        });
    };
    let attachments = store::attachments(&mut tx, draft.message_id).await?;
    let document = choose_document(&draft, attachments);
    let members = store::board_members(&mut tx, draft.board_id).await?;
    let organisations = store::organisations(&mut tx, draft.board_id).await?;
    let previous = store::latest_revision(&mut tx, meeting_id, true).await?;
    let meeting = mail_context::meetings(&mut tx, &[meeting_id])
        .await?
        .remove(&meeting_id)
        .with_context(|| format!("meeting {meeting_id} vanished"))?;

    let (text, error) = match &document.text {
        Ok(text) => (text.clone(), None),
        Err(err) => (String::new(), Some(err.clone())),
    };
    let sha = sha256_hex(&text);
    if error.is_none() {
        if let Some(previous) = &previous {
            if previous.content_sha256 == sha {
                filings::record_handled(
                    &mut tx,
                    FiledQueue::DraftMinutes,
                    draft.message_id,
                    Some(previous.id),
                    "identical",
                    None,
                    now,
                )
                .await?;
                crate::store::events::record(
                    &mut tx,
                    crate::store::events::NewEvent {
                        board_id: Some(draft.board_id),
                        actor: "system",
                        kind: "minutes.revision_identical",
                        subject: Some(("minutes_revision", previous.id)),
                        detail: json!({"message_id": draft.message_id, "content_sha256": sha}),
                    },
                )
                .await?;
                tx.commit().await?;
                return Ok(DraftOutcome::Identical {
                    meeting_ref: previous.meeting_ref.clone(),
                    n: previous.n,
                });
            }
        }
    }
    let report = error
        .is_none()
        .then(|| structure_report(&text, meeting.date, &members, &organisations));
    let structure = match &report {
        Some(r) => serde_json::to_value(r).context("failed to serialise the structure")?,
        None => json!({}),
    };
    // Minutes sent in the body get a file of their own, for approvers and members.
    let document_id = match (&document.attachment, &error) {
        (None, None) => {
            let bytes =
                document::docx(&text).context("failed to make a document of the minutes")?;
            Some(store::store_document(&mut tx, &bytes).await?)
        }
        _ => None,
    };
    let new = NewRevision {
        document_id,
        board_id: draft.board_id,
        meeting_id,
        message_id: draft.message_id,
        attachment_id: document.attachment.as_ref().map(|a| a.attachment_id),
        filename: document
            .attachment
            .as_ref()
            .and_then(|a| a.filename.clone()),
        content_type: document.attachment.as_ref().map(|a| a.content_type.clone()),
        format: document.format.clone(),
        extracted_text: text.clone(),
        content_sha256: sha.clone(),
        structure,
        error: error.clone(),
    };
    let actor = draft
        .from_address
        .clone()
        .unwrap_or_else(|| "system".into());
    let revision = store::insert_revision(&mut tx, &new, &actor, now).await?;
    let secretariat: Vec<&Member> = members
        .iter()
        .filter(|m| m.address.is_some() && m.is_secretariat())
        .collect();

    if let Some(error) = error {
        let zone = crate::store::registry::board_zone(&mut tx, draft.board_id).await?;
        for member in secretariat {
            let context = mail::ApprovalResult {
                what: format!(
                    "the draft minutes received for {} (version {}), which could not be read",
                    meeting.meeting_ref, revision.n
                ),
                approved: false,
                headline: Some("Could not read".into()),
                decision: "could not read".into(),
                decided_by: "minuted".into(),
                decided_text: zone.long_datetime(now),
                reason: Some(error.clone()),
                next_step: Some("Please send the minutes again as a .docx, .pdf, .txt, .md or .html file, or in the body of the email.".into()),
                ..mail::ApprovalResult::default()
            };
            let mut row = NewOutboxMessage::mail(draft.board_id, recipient(member)?, &context);
            row.meeting_id = Some(meeting_id);
            outbox::enqueue(&mut tx, row, now).await?;
        }
        tx.commit().await?;
        return Ok(DraftOutcome::Unreadable {
            meeting_ref: meeting.meeting_ref,
            error,
        });
    }
    let report = report.unwrap_or_else(|| MinutesReport::new(&Default::default(), None));
    let requests = request_approval(
        &mut tx,
        settings,
        key,
        &revision,
        previous.as_ref(),
        &report,
        &members,
        document.attachment.as_ref(),
        now,
    )
    .await?;
    tx.commit().await.context("failed to commit the revision")?;
    Ok(DraftOutcome::Revision {
        meeting_ref: revision.meeting_ref,
        n: revision.n,
        requests,
    })
}

/// Queues an approval request to every approver, each with its own signed token.
#[allow(clippy::too_many_arguments)]
async fn request_approval(
    tx: &mut sqlx::PgConnection,
    settings: &ApprovalSettings,
    key: &[u8],
    revision: &Revision,
    previous: Option<&Revision>,
    report: &MinutesReport,
    members: &[Member],
    attachment: Option<&store::SourceAttachment>,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<usize> {
    let expires_at = now + Duration::days(i64::from(settings.token_days));
    let register: Vec<super::register::Answer> =
        crate::store::attendance::register(tx, revision.meeting_id)
            .await?
            .into_iter()
            .filter_map(|line| {
                Some(super::register::Answer {
                    member: line.member,
                    response: line.response?,
                    deputy: line.deputy,
                })
            })
            .collect();
    let mut summary = vec![
        format!(
            "{} present, {} apologies",
            report.attendees.len(),
            report.apologies.len()
        ),
        format!("{} agenda items", report.items.len()),
        format!("{} candidate actions", report.actions.len()),
        format!(
            "present: {}",
            report
                .attendees
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!(
            "apologies: {}",
            report
                .apologies
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    for mismatch in super::register::mismatches(&report.attendees, &report.apologies, &register) {
        summary.push(format!("attendance register: {mismatch}"));
    }
    let candidate_actions = (1..)
        .zip(&report.actions)
        .map(|(number, a)| mail::CandidateAction {
            number,
            text: a.text.clone(),
            owner: a.owner.clone().unwrap_or_else(|| "not named".into()),
            item: a.item.clone(),
            due: a.due.clone(),
            explicit: a.explicit,
        })
        .collect();
    let items = report
        .items
        .iter()
        .map(|i| mail::AgendaLine {
            number: i.number.clone(),
            title: i.title.clone(),
        })
        .collect();
    let (changes, more_changes) = previous.map_or((Vec::new(), 0), |p| {
        document::changes(&p.extracted_text, &revision.extracted_text, DIFF_CHANGES)
    });
    let request = RequestDraft {
        board_id: revision.board_id,
        meeting_id: revision.meeting_id,
        subject: store::RequestSubject::Revision(revision.id),
        content_sha256: &revision.content_sha256,
        context: mail::ApprovalRequest {
            what: what(revision),
            summary,
            unmatched_names: report.unmatched.clone(),
            items,
            candidate_actions,
            has_inferred_actions: report.actions.iter().any(|a| !a.explicit),
            changes,
            more_changes,
            revision_id: Some(revision.id),
            meeting_pack_id: None,
            expires_text: String::new(),
            approval_request_id: 0,
        },
        attachments: minutes_file(
            revision,
            attachment,
            &format!("draft, version {}", revision.n),
        )
        .into_iter()
        .collect(),
        event: json!({
            "revision_id": revision.id,
            "meeting": revision.meeting_ref,
            "revision": revision.n,
            "content_sha256": revision.content_sha256,
        }),
    };
    let mut count = 0;
    for approver in approvers(members, settings) {
        issue_request(tx, key, &request, approver, expires_at, now).await?;
        count += 1;
    }
    Ok(count)
}

/// How many changed places an approval request shows.
const DIFF_CHANGES: usize = 12;

/// The minutes as a file to send: the file received, or the document made of minutes sent
/// in a body, named for what it is (`state`: "approved", "draft, version 2").
pub fn minutes_file(
    revision: &Revision,
    attachment: Option<&store::SourceAttachment>,
    state: &str,
) -> Option<NewAttachment> {
    let (attachment_id, content_type, extension) = match (attachment, revision.attachment_id) {
        (Some(a), _) => (
            a.attachment_id,
            a.content_type.clone(),
            document::extension_of(a.filename.as_deref()),
        ),
        (None, Some(id)) => (
            id,
            revision
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            document::extension_of(revision.filename.as_deref()),
        ),
        (None, None) => (
            revision.document_id?,
            document::DOCX_TYPE.to_owned(),
            Some("docx".to_owned()),
        ),
    };
    let extension = extension.unwrap_or_else(|| revision.format.clone());
    Some(NewAttachment {
        attachment_id,
        filename: document::file_name(
            &revision.meeting_ref,
            revision.meeting_date,
            state,
            &extension,
        ),
        content_type,
    })
}

/// How many lines a covering note above minutes in a body may run to.
const COVERING_NOTE_LINES: usize = 12;

/// `text` without the covering note a secretary writes above minutes pasted into an
/// email: a greeting, a line or two ("Please find below the draft minutes ..."), and a
/// sign-off with their name. The note ends at the first sign-off in the first few lines,
/// followed by at most two name lines and a blank line; failing that, a greeting and the
/// short paragraph after it are the note. Text with neither is returned as it is.
pub fn without_covering_note(text: &str) -> String {
    use crate::text::reply::{is_greeting, is_sign_off};
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let head: Vec<usize> = (first..lines.len())
        .filter(|&i| !lines[i].trim().is_empty())
        .take(COVERING_NOTE_LINES)
        .collect();
    // A sign-off, at most two short name lines, then a blank line and more text.
    for (n, &at) in head.iter().enumerate() {
        if n == 0 || !is_sign_off(lines[at]) {
            continue;
        }
        let mut end = at + 1;
        while end < lines.len()
            && end <= at + 2
            && !lines[end].trim().is_empty()
            && lines[end].trim().chars().count() <= 40
        {
            end += 1;
        }
        let rest_starts = lines.get(end).is_some_and(|l| l.trim().is_empty());
        if rest_starts && lines[end..].iter().any(|l| !l.trim().is_empty()) {
            return lines[end..].join("\n");
        }
    }
    // "Hi all," and one short paragraph pointing at the minutes.
    if head.first().is_some_and(|&at| is_greeting(lines[at])) {
        let mut at = head[0] + 1;
        while at < lines.len() && lines[at].trim().is_empty() {
            at += 1;
        }
        let paragraph_end = (at..lines.len())
            .find(|&i| lines[i].trim().is_empty())
            .unwrap_or(lines.len());
        let paragraph = lines[at..paragraph_end].join(" ").to_lowercase();
        let points_at_minutes = ["below", "attached", "enclosed", "following", "here are"]
            .iter()
            .any(|w| paragraph.contains(w));
        if points_at_minutes && paragraph_end - at <= 3 && paragraph_end < lines.len() {
            return lines[paragraph_end..].join("\n");
        }
    }
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::without_covering_note;

    #[test]
    fn the_covering_note_above_minutes_in_a_body_is_not_minutes() {
        let minutes = "LONDON CRIMINAL JUSTICE BOARD\nMinutes of the meeting held on 20 September 2023\n\nPresent\n- Sophie Linden (Chair)";
        let cases = [
            format!("Hi all,\n\nPlease find below the draft minutes of the September meeting.\n\nThanks\nShobnam\n\n{minutes}"),
            format!("Dear colleagues,\n\nThe draft minutes are below.\n\n{minutes}"),
            format!("Please see the draft minutes below.\n\nKind regards,\nShobnam Islam\nBoard Secretary\n\n{minutes}"),
        ];
        for case in &cases {
            assert_eq!(without_covering_note(case).trim(), minutes, "{case}");
        }
        // Minutes with no note are left whole, even when they open with a greeting-like
        // title line.
        assert_eq!(without_covering_note(minutes), minutes);
    }
}
