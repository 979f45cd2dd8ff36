//! Firing one due job in one transaction: an update request or chaser asked of each
//! expected organisation, or the meeting pack compiled and sent for approval; a job that
//! fails is put back for later.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::pack::*;
use super::plan::*;
use crate::approval::key::ApprovalKey;
use crate::clock::Clock;
use crate::config::ScheduleSettings;
use crate::domain::board::Member;
use crate::domain::mail;
use crate::domain::outbound::long_date;
use crate::store::actions::ActionFilter;
use crate::store::events::{self, NewEvent};
use crate::store::meeting_status;
use crate::store::minutes as minutes_store;
use crate::store::outbox::{self, NewOutboxMessage, Recipient};
use crate::store::schedule::{self as store, DueJob};

/// What one firing step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FireOutcome {
    /// Nothing was due.
    Idle,
    /// Its mail is queued: `outbox` rows (for a pack, the approval requests).
    Fired {
        job: i64,
        kind: JobKind,
        meeting: String,
        organisation: Option<String>,
        outbox: usize,
    },
    /// Not needed when its time came.
    Skipped {
        job: i64,
        kind: JobKind,
        meeting: String,
        organisation: Option<String>,
        reason: String,
    },
    /// Its moment passed while no daemon ran: nothing sent.
    Expired {
        job: i64,
        kind: JobKind,
        meeting: String,
        organisation: Option<String>,
    },
    /// Firing failed (nothing of it was kept); it is tried again at `retry_at`, so a job
    /// that keeps failing does not hold up the jobs due after it.
    Failed {
        job: i64,
        kind: JobKind,
        meeting: String,
        organisation: Option<String>,
        error: String,
        retry_at: DateTime<Utc>,
    },
}

/// Takes one pending job due at the clock's now and, in one transaction, expires, skips
/// or fires it, recording the outcome on the row and in the audit log.
pub async fn fire_next_due(
    pool: &PgPool,
    settings: &WorkerSettings,
    key: &ApprovalKey,
    clock: &Clock,
    worker: &str,
) -> anyhow::Result<FireOutcome> {
    let now = clock.now();
    let mut tx = crate::database::begin(pool).await?;
    let Some(job) = store::claim_due(&mut tx, now).await? else {
        tx.commit().await?;
        return Ok(FireOutcome::Idle);
    };
    let Some(kind) = JobKind::parse(&job.kind) else {
        anyhow::bail!("schedule job {} has an unknown kind {:?}", job.id, job.kind);
    };
    let meeting = job.meeting_ref.clone();
    let organisation = job.organisation.clone();
    let (status, detail, outcome) = if now > job.expires_at {
        (
            "expired",
            json!({"reason": format!("its moment passed: it expired at {}", job.expires_at)}),
            FireOutcome::Expired {
                job: job.id,
                kind,
                meeting,
                organisation,
            },
        )
    } else {
        let fired = match kind {
            _ if job.cancelled => Ok(Done::Skipped {
                reason: "the meeting is cancelled".into(),
            }),
            JobKind::UpdateRequest => ask(&mut tx, &settings.schedule, &job, false, now).await,
            JobKind::Chaser => ask(&mut tx, &settings.schedule, &job, true, now).await,
            JobKind::MeetingPack => compile_pack(&mut tx, &settings.approval, key, &job, now).await,
        };
        let done = match fired {
            Ok(done) => done,
            Err(err) => {
                // Nothing of the failed attempt is kept; the job is put back a little
                // later, in a transaction of its own.
                let _ = tx.rollback().await;
                let error = format!("{err:#}");
                let retry_at = defer(pool, &job, &error, worker, now).await?;
                return Ok(FireOutcome::Failed {
                    job: job.id,
                    kind,
                    meeting,
                    organisation,
                    error,
                    retry_at,
                });
            }
        };
        match done {
            Done::Sent { outbox, detail } => (
                "fired",
                detail,
                FireOutcome::Fired {
                    job: job.id,
                    kind,
                    meeting,
                    organisation,
                    outbox,
                },
            ),
            Done::Skipped { reason } => (
                "skipped",
                json!({"reason": reason}),
                FireOutcome::Skipped {
                    job: job.id,
                    kind,
                    meeting,
                    organisation,
                    reason,
                },
            ),
        }
    };
    store::finish_job(&mut tx, job.id, status, &detail, worker, now).await?;
    events::record(
        &mut tx,
        NewEvent {
            board_id: Some(job.board_id),
            actor: "system",
            kind: &format!("schedule.{status}"),
            subject: Some(("schedule_job", job.id)),
            detail: json!({
                "kind": job.kind,
                "meeting": job.meeting_ref,
                "organisation": job.organisation,
                "due_at": job.due_at,
                "expires_at": job.expires_at,
                "worker": worker,
                "outcome": detail,
            }),
        },
    )
    .await?;
    tx.commit()
        .await
        .context("failed to commit a schedule job")?;
    Ok(outcome)
}

/// Records a failed attempt at `job` and puts it back for later (1, 4, 9 ... minutes, at
/// most an hour), with an audit event. Returns when it is due again.
pub(super) async fn defer(
    pool: &PgPool,
    job: &store::DueJob,
    error: &str,
    worker: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<DateTime<Utc>> {
    let mut tx = crate::database::begin(pool).await?;
    let (retry_at, attempts) = store::defer_job(&mut tx, job.id, error, now).await?;
    events::record(
        &mut tx,
        NewEvent {
            board_id: Some(job.board_id),
            actor: "system",
            kind: "schedule.failed",
            subject: Some(("schedule_job", job.id)),
            detail: json!({
                "kind": job.kind,
                "meeting": job.meeting_ref,
                "organisation": job.organisation,
                "error": error,
                "attempts": attempts,
                "retry_at": retry_at,
                "worker": worker,
            }),
        },
    )
    .await?;
    tx.commit()
        .await
        .context("failed to record a failed schedule job")?;
    Ok(retry_at)
}

/// The organisation's members an update request or chaser goes to: those who receive
/// circulation, leaving out the secretariat, who send the requests and compile the pack
/// (unless nobody else of the organisation would be asked).
pub(super) fn askees(members: &[Member], organisation_id: i64) -> Vec<Recipient> {
    let of_organisation: Vec<&Member> = members
        .iter()
        .filter(|m| m.organisation_id == Some(organisation_id) && m.circulation)
        .collect();
    let not_secretariat: Vec<&Member> = of_organisation
        .iter()
        .copied()
        .filter(|m| !m.is_secretariat())
        .collect();
    let chosen = if not_secretariat.is_empty() {
        of_organisation
    } else {
        not_secretariat
    };
    chosen.into_iter().filter_map(|m| m.recipient()).collect()
}

/// An update request, or (`chase`) a chaser when the organisation is still outstanding.
pub(super) async fn ask(
    tx: &mut PgConnection,
    settings: &ScheduleSettings,
    job: &DueJob,
    chase: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Done> {
    let (Some(organisation_id), Some(organisation)) = (job.organisation_id, &job.organisation)
    else {
        return Ok(Done::Skipped {
            reason: "the job names no organisation".into(),
        });
    };
    let status = meeting_status::meeting_status_on(tx, &job.meeting_ref).await?;
    let expected = status
        .expected
        .iter()
        .find(|e| &e.organisation == organisation);
    let Some(expected) = expected else {
        return Ok(Done::Skipped {
            reason: format!("{organisation} is no longer expected to report for this meeting"),
        });
    };
    if chase && !status.outstanding.contains(organisation) {
        return Ok(Done::Skipped {
            reason: format!(
                "{organisation} has sent {} update(s) for this meeting",
                expected.updates.len()
            ),
        });
    }
    // Nobody is asked for what they have already sent.
    let written = expected
        .updates
        .iter()
        .filter(|u| u.kind == "written_update")
        .count();
    if written > 0 {
        return Ok(Done::Skipped {
            reason: format!(
                "{organisation} has already sent {written} written update(s) for this meeting"
            ),
        });
    }
    let received: Vec<String> = expected
        .updates
        .iter()
        .map(|u| {
            let what = match (&u.action, &u.item) {
                (Some(action), _) => format!("an update on {action}"),
                (None, Some(item)) => format!("an update on item {item}"),
                (None, None) => "an update".to_owned(),
            };
            format!(
                "{what}, received {}",
                long_date(job.zone.local(u.received_at).date())
            )
        })
        .collect();
    let members = minutes_store::board_members(tx, job.board_id).await?;
    let recipients = askees(&members, organisation_id);
    if recipients.is_empty() {
        return Ok(Done::Skipped {
            reason: format!("no member of {organisation} with an address receives circulation"),
        });
    }
    let items = store::items_led(tx, job.meeting_id, organisation_id).await?;
    let actions = logged_actions(
        tx,
        &ActionFilter {
            board_id: Some(job.board_id),
            open_only: true,
            owner_organisation_id: Some(organisation_id),
            ..ActionFilter::default()
        },
        job.zone.local(now).date(),
    )
    .await?;
    let dates = MeetingDates {
        date: job.meeting_date,
        time: job.meeting_time,
        papers_deadline: job.papers_deadline,
        zone: job.zone,
    };
    let deadline = deadline_at(&dates, settings);
    // With one item (else one action) to report on, a reply to this email is filed
    // against it.
    let item = (items.len() == 1).then(|| items[0].number.clone());
    let action = (item.is_none() && actions.len() == 1).then(|| actions[0].reference.clone());
    let context = mail::UpdateRequest {
        chaser: chase,
        organisation: organisation.clone(),
        deadline_text: long_date(papers_deadline(&dates, settings)),
        deadline_at: deadline,
        overdue: chase && now > deadline,
        items: items
            .into_iter()
            .map(|i| mail::AgendaItem {
                number: i.number,
                title: i.title,
                lead: i.lead,
            })
            .collect(),
        actions,
        item,
        action,
        schedule_job_id: job.id,
        received,
    };
    let rows: Vec<NewOutboxMessage> = recipients
        .into_iter()
        .map(|to| {
            let mut row = NewOutboxMessage::mail(job.board_id, to, &context);
            row.meeting_id = Some(job.meeting_id);
            row.not_after = Some(job.expires_at);
            row
        })
        .collect();
    let ids = outbox::enqueue_many(tx, &rows, now).await?;
    let to: Vec<&str> = rows.iter().map(|r| r.to.address.as_str()).collect();
    Ok(Done::Sent {
        outbox: ids.len(),
        detail: json!({"outbox_ids": ids, "recipients": to}),
    })
}
