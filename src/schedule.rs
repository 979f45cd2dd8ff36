//! The persistent schedule: before each meeting, an update request to every organisation
//! expected to report, a chaser to those still silent, and at the papers deadline the
//! meeting pack, sent to the approvers for approval by reply.
//!
//! Jobs are rows in `schedule_jobs`, planned ahead for every upcoming meeting (again on
//! every tick: the unique index makes planning idempotent, and an organisation that
//! becomes expected later gets its jobs then). [`fire_due_once`] takes one due row with
//! `FOR UPDATE SKIP LOCKED` and, in the same transaction, queues its mail and marks it
//! done, so a job fires once however many daemons run. A job whose moment passed beyond
//! its expiry while no daemon ran expires instead of arriving late:
//!
//! | kind           | due                                         | expires                     |
//! |----------------|---------------------------------------------|-----------------------------|
//! | update_request | meeting − `update_request_days`, send_time  | papers deadline, pack_time  |
//! | chaser         | deadline − `chaser_days`, send_time         | the meeting's start         |
//! | meeting_pack   | papers deadline, pack_time                  | the meeting's start         |
//!
//! Update requests and chasers go to the organisation's members who have an address and
//! receive circulation (the people who would receive the pack). This module owns the
//! rules; SQL is in `store::schedule`.

use crate::store::mail_context;
use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use crate::clock::Clock;
use crate::config::{ScheduleSettings, Settings};
use crate::domain::outbound::{long_date, MailKind};
use crate::domain::zone::Zone;
use crate::filing;
use crate::minutes::drafts::{approvers, issue_request, RequestDraft};
use crate::outbox::recipient_of;
use crate::shutdown::Shutdown;
use crate::store::actions::{self as actions_store, ActionFilter};
use crate::store::events::{self, NewEvent};
use crate::store::meeting_status::{self, MeetingStatusView};
use crate::store::minutes::{self as minutes_store, BoardMember, RequestSubject};
use crate::store::outbox::{self, NewAttachment, NewOutboxMessage, Recipient};
use crate::store::schedule::{self as store, DueJob, NewJob};

/// A job's kind, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    UpdateRequest,
    Chaser,
    MeetingPack,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::UpdateRequest => "update_request",
            JobKind::Chaser => "chaser",
            JobKind::MeetingPack => "meeting_pack",
        }
    }

    pub fn parse(text: &str) -> Option<JobKind> {
        match text {
            "update_request" => Some(JobKind::UpdateRequest),
            "chaser" => Some(JobKind::Chaser),
            "meeting_pack" => Some(JobKind::MeetingPack),
            _ => None,
        }
    }
}

/// The dates of a meeting the schedule is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeetingDates {
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub papers_deadline: Option<NaiveDate>,
    /// The board's time zone, in which the dates and times above are read.
    pub zone: Zone,
}

/// When a job is due and after when it is no longer worth doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTimes {
    pub due_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The papers deadline: the meeting's own, else `papers_deadline_days` before it.
pub fn papers_deadline(meeting: &MeetingDates, settings: &ScheduleSettings) -> NaiveDate {
    meeting
        .papers_deadline
        .unwrap_or_else(|| meeting.date - Duration::days(i64::from(settings.papers_deadline_days)))
}

/// When updates stop counting: the papers deadline at `pack_time`.
pub fn deadline_at(meeting: &MeetingDates, settings: &ScheduleSettings) -> DateTime<Utc> {
    meeting
        .zone
        .instant(papers_deadline(meeting, settings), settings.pack_time())
}

/// The meeting's start; a meeting without a time starts at the beginning of its day, so
/// nothing about it goes out on the day itself.
pub fn meeting_start(meeting: &MeetingDates) -> DateTime<Utc> {
    meeting
        .zone
        .instant(meeting.date, meeting.time.unwrap_or_default())
}

/// When a job of `kind` for `meeting` is due and when it expires. A job is never made to
/// expire before it is due (offsets configured past the deadline still fire once).
pub fn job_times(kind: JobKind, meeting: &MeetingDates, settings: &ScheduleSettings) -> JobTimes {
    let deadline = papers_deadline(meeting, settings);
    let (due_at, expires_at) = match kind {
        JobKind::UpdateRequest => (
            meeting.zone.instant(
                meeting.date - Duration::days(i64::from(settings.update_request_days)),
                settings.send_time(),
            ),
            deadline_at(meeting, settings),
        ),
        JobKind::Chaser => (
            meeting.zone.instant(
                deadline - Duration::days(i64::from(settings.chaser_days)),
                settings.send_time(),
            ),
            meeting_start(meeting),
        ),
        JobKind::MeetingPack => (deadline_at(meeting, settings), meeting_start(meeting)),
    };
    JobTimes {
        due_at,
        expires_at: expires_at.max(due_at),
    }
}

/// What one planning pass added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub meetings: usize,
    pub added: usize,
    /// Pending jobs given new times because their meeting moved.
    pub retimed: usize,
}

/// Plans the jobs of every meeting on or after today: an update request and a chaser per
/// organisation expected to report (as `meetings status` lists them), one meeting pack.
/// Jobs already planned keep their times unless their meeting moved (see
/// [`store::plan_job`]).
pub async fn plan(
    pool: &PgPool,
    settings: &ScheduleSettings,
    clock: &Clock,
) -> anyhow::Result<Planned> {
    let now = clock.now();
    let mut conn = pool
        .acquire()
        .await
        .context("failed to reach the database")?;
    let meetings = store::upcoming_meetings(&mut conn, now.date_naive()).await?;
    let mut planned = Planned {
        meetings: meetings.len(),
        added: 0,
        retimed: 0,
    };
    for meeting in &meetings {
        let dates = MeetingDates {
            date: meeting.date,
            time: meeting.time,
            papers_deadline: meeting.papers_deadline,
            zone: meeting.zone,
        };
        let status = meeting_status::meeting_status_on(&mut conn, &meeting.meeting_ref).await?;
        let shorts: Vec<String> = status
            .expected
            .iter()
            .map(|e| e.organisation.clone())
            .collect();
        let organisations = store::organisation_ids(&mut conn, meeting.board_id, &shorts).await?;
        let mut jobs = vec![(JobKind::MeetingPack, None)];
        for (id, _) in &organisations {
            jobs.push((JobKind::UpdateRequest, Some(*id)));
            jobs.push((JobKind::Chaser, Some(*id)));
        }
        for (kind, organisation_id) in jobs {
            let times = job_times(kind, &dates, settings);
            let job = NewJob {
                board_id: meeting.board_id,
                kind: kind.as_str(),
                meeting_id: meeting.id,
                organisation_id,
                due_at: times.due_at,
                expires_at: times.expires_at,
            };
            match store::plan_job(&mut conn, &job, now).await? {
                store::Planning::Added => planned.added += 1,
                store::Planning::Retimed => {
                    tracing::info!(
                        meeting = %meeting.meeting_ref,
                        kind = kind.as_str(),
                        due_at = %times.due_at,
                        "a planned job has new times: its meeting moved"
                    );
                    planned.retimed += 1;
                }
                store::Planning::Unchanged => {}
            }
        }
    }
    Ok(planned)
}

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
pub async fn fire_due_once(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
    worker: &str,
) -> anyhow::Result<FireOutcome> {
    let now = clock.now();
    let mut tx = pool
        .begin()
        .await
        .context("failed to begin a transaction")?;
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
            JobKind::UpdateRequest => ask(&mut tx, &settings.schedule, &job, false, now).await,
            JobKind::Chaser => ask(&mut tx, &settings.schedule, &job, true, now).await,
            JobKind::MeetingPack => compile_pack(&mut tx, settings, &job, now).await,
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
async fn defer(
    pool: &PgPool,
    job: &store::DueJob,
    error: &str,
    worker: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<DateTime<Utc>> {
    let mut tx = pool
        .begin()
        .await
        .context("failed to begin a transaction")?;
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

/// What a job's own step did.
enum Done {
    Sent { outbox: usize, detail: Value },
    Skipped { reason: String },
}

/// The organisation's members an update request or chaser goes to: those who receive
/// circulation, leaving out the secretariat, who send the requests and compile the pack
/// (unless nobody else of the organisation would be asked).
fn askees(members: &[BoardMember], organisation_id: i64) -> Vec<Recipient> {
    let of_organisation: Vec<&BoardMember> = members
        .iter()
        .filter(|m| m.organisation_id == Some(organisation_id) && m.circulation)
        .collect();
    let not_secretariat: Vec<&BoardMember> = of_organisation
        .iter()
        .copied()
        .filter(|m| !m.roles.iter().any(|r| r == "secretariat"))
        .collect();
    let chosen = if not_secretariat.is_empty() {
        of_organisation
    } else {
        not_secretariat
    };
    chosen.into_iter().filter_map(recipient_of).collect()
}

/// An update request, or (`chase`) a chaser when the organisation is still outstanding.
async fn ask(
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
    let action = (item.is_none() && actions.len() == 1)
        .then(|| actions[0]["ref"].as_str().map(str::to_owned))
        .flatten();
    let context = json!({
        "organisation": organisation,
        "deadline_text": long_date(papers_deadline(&dates, settings)),
        "deadline_at": deadline,
        "overdue": chase && now > deadline,
        "items": items,
        "actions": actions,
        "item": item,
        "action": action,
        "schedule_job_id": job.id,
    });
    let kind = if chase {
        MailKind::Chaser
    } else {
        MailKind::UpdateRequest
    };
    let rows: Vec<NewOutboxMessage> = recipients
        .into_iter()
        .map(|to| {
            let mut row = NewOutboxMessage::new(kind, job.board_id, to, context.clone());
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

/// The pack's content: agenda, updates received with their text and attachments, the
/// action log, who did not report.
async fn pack_content(
    tx: &mut PgConnection,
    job: &DueJob,
    status: &MeetingStatusView,
) -> anyhow::Result<(Value, Vec<NewAttachment>)> {
    let meetings = mail_context::meetings(tx, &[job.meeting_id]).await?;
    let items = meetings
        .get(&job.meeting_id)
        .map(|m| m.items.clone())
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
        let mine: Vec<Value> = files
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
                json!({
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "size": f.size,
                    "attachment_id": f.attachment_id,
                    "attached": attached,
                })
            })
            .collect();
        updates.push(json!({
            "message": update.message,
            "organisation": update.organisation.clone().unwrap_or_else(|| "not known".into()),
            "from": update.from,
            "kind": update.kind,
            "item": update.item,
            "action": update.action,
            "subject": text.and_then(|t| t.subject.clone()).unwrap_or_else(|| "(no subject)".into()),
            "received_at": update.received_at,
            "received_text": long_date(job.zone.local(update.received_at).date()),
            "text": text.map(update_text).unwrap_or_default(),
            "files": mine,
        }));
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
    )
    .await?;
    let content = json!({
        "meeting_ref": job.meeting_ref,
        "items": items,
        "updates_received": updates,
        "outstanding": status.outstanding,
        "actions": actions,
    });
    Ok((content, attachments))
}

/// At most this many bytes of updates' files go with each copy of the pack (before
/// encoding, which adds a third): well inside the 25 MB most mail servers accept. Files
/// beyond it are named in the pack as not attached.
pub const PACK_ATTACHMENT_BYTES: i64 = 15 * 1024 * 1024;

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

/// How much of one update's text the pack carries; the rest is in the message itself
/// (and its files are attached whole).
pub const PACK_UPDATE_TEXT: usize = 20_000;

/// An update's text as the pack shows it: trimmed, and cut at [`PACK_UPDATE_TEXT`]
/// characters with a note saying so, so one huge message cannot swell every member's
/// copy of the pack.
/// What the pack shows of an update sent in the body of an email: the sender's own
/// words, without the thread they quote, their greeting or their signature, cut at
/// [`PACK_UPDATE_TEXT`] characters.
fn update_text(received: &store::ReceivedText) -> String {
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

fn pack_text(body: &str) -> String {
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
) -> anyhow::Result<Vec<Value>> {
    let views = actions_store::list_on(tx, filter).await?;
    Ok(views
        .iter()
        .map(|a| {
            json!({
                "ref": a.reference,
                "text": a.text,
                "owner": a.owner.clone().unwrap_or_else(|| "not named".into()),
                "due_text": a
                    .due_text
                    .clone()
                    .or_else(|| a.due_date.map(long_date))
                    .unwrap_or_else(|| "before the next meeting".into()),
                "status": a.status,
                "raised_at": a.meeting,
                "item": a.item,
                "latest_update": a.latest_update.as_ref().map(|u| u.text.clone()),
                "latest_update_at": a.latest_update.as_ref().map(|u| u.at),
            })
        })
        .collect())
}

/// Compiles the meeting pack and asks each approver to approve it by reply.
async fn compile_pack(
    tx: &mut PgConnection,
    settings: &Settings,
    job: &DueJob,
    now: DateTime<Utc>,
) -> anyhow::Result<Done> {
    let status = meeting_status::meeting_status_on(tx, &job.meeting_ref).await?;
    let (content, attachments) = pack_content(tx, job, &status).await?;
    let sha = hex::encode(Sha256::digest(content.to_string().as_bytes()));
    let (pack_id, n) =
        store::insert_pack(tx, job.board_id, job.meeting_id, &content, &sha, now).await?;
    let members = minutes_store::board_members(tx, job.board_id).await?;
    let key = crate::approval::key::load_or_create(settings)?;
    let received = content["updates_received"].as_array().map_or(0, Vec::len);
    let mut summary = vec![
        format!("{received} written updates received"),
        format!(
            "{} actions in the action log",
            content["actions"].as_array().map_or(0, Vec::len)
        ),
    ];
    for update in content["updates_received"].as_array().into_iter().flatten() {
        summary.push(format!(
            "{}: {} ({})",
            update["organisation"].as_str().unwrap_or_default(),
            update["subject"].as_str().unwrap_or_default(),
            update["received_text"].as_str().unwrap_or_default()
        ));
    }
    if !status.outstanding.is_empty() {
        summary.push(format!("not reported: {}", status.outstanding.join(", ")));
    }
    // The action log as the pack shows it, one line an action, so the approver sees it.
    for action in content["actions"].as_array().into_iter().flatten() {
        let text = |key: &str| action[key].as_str().unwrap_or_default().to_owned();
        let latest = action["latest_update"]
            .as_str()
            .map(|u| format!("; latest: {}", filing::truncate_text(u, 120)))
            .unwrap_or_default();
        summary.push(format!(
            "{} ({}, {}): {}{latest}",
            text("ref"),
            text("owner"),
            text("status"),
            filing::truncate_text(&text("text"), 160)
        ));
    }
    let request = RequestDraft {
        board_id: job.board_id,
        meeting_id: job.meeting_id,
        subject: RequestSubject::MeetingPack(pack_id),
        content_sha256: &sha,
        context: json!({
            "what": pack_what(job.meeting_date, n),
            "summary": summary,
            "unmatched_names": [],
            "candidate_actions": [],
            "items": [],
            "changes": [],
            "meeting_pack_id": pack_id,
        }),
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
    let expires_at = (now + Duration::days(i64::from(settings.approval.token_days)))
        .min(pack_expiry(job.meeting_date, job.meeting_time, job.zone))
        .max(now);
    let mut requests = Vec::new();
    for approver in approvers(&members, settings) {
        requests.push(issue_request(tx, &key, &request, approver, expires_at, now).await?);
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
                "updates": received,
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

/// What a pack is, as the emails say it.
pub fn pack_what(meeting_date: NaiveDate, n: i32) -> String {
    format!(
        "the meeting pack for the meeting on {} (version {n})",
        long_date(meeting_date)
    )
}

/// What one pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    pub planned: usize,
    pub fired: Vec<FireOutcome>,
    pub skipped: Vec<FireOutcome>,
    pub expired: Vec<FireOutcome>,
    /// Jobs whose firing failed this pass; each is due again later.
    pub failed: Vec<FireOutcome>,
}

/// Plans, then fires everything due at the clock's now.
pub async fn run_once(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
    worker: &str,
) -> anyhow::Result<RunSummary> {
    let planned = plan(pool, &settings.schedule, clock).await?;
    let mut summary = RunSummary {
        planned: planned.added,
        ..RunSummary::default()
    };
    loop {
        let outcome = fire_due_once(pool, settings, clock, worker).await?;
        match &outcome {
            FireOutcome::Idle => return Ok(summary),
            FireOutcome::Fired { .. } => {
                tracing::info!(?outcome, "schedule job fired");
                summary.fired.push(outcome);
            }
            FireOutcome::Skipped { .. } => {
                tracing::info!(?outcome, "schedule job skipped");
                summary.skipped.push(outcome);
            }
            FireOutcome::Expired { .. } => {
                tracing::warn!(?outcome, "schedule job expired unsent");
                summary.expired.push(outcome);
            }
            FireOutcome::Failed { .. } => {
                tracing::error!(?outcome, "schedule job failed; it will be tried again");
                summary.failed.push(outcome);
            }
        }
    }
}

/// The daemon's schedule worker: a pass every `schedule.tick_seconds` until `shutdown`.
pub async fn run_until_stopped(
    pool: PgPool,
    settings: Settings,
    clock: Clock,
    worker: String,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let tick = StdDuration::from_secs(settings.schedule.tick_seconds.max(1));
    // A tick is measured on the process clock: under a faster rehearsal clock the passes
    // come as often in its time as they would in real time.
    shutdown
        .repeat("schedule pass", crate::clock::real_wait(tick), tick, || {
            run_once(&pool, &settings, &clock, &worker)
        })
        .await;
    Ok(())
}

/// The start of the meeting a pack is for, when its circulation stops being useful.
pub fn pack_expiry(date: NaiveDate, time: Option<NaiveTime>, zone: Zone) -> DateTime<Utc> {
    meeting_start(&MeetingDates {
        date,
        time,
        papers_deadline: None,
        zone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pack_shows_an_updates_own_words_without_the_quoted_request_or_signature() {
        let received = store::ReceivedText {
            id: 1,
            subject: Some("RE: Written updates due".into()),
            body_text: Some(
                "Hi Shobnam,\n\nAll ten HMIP recommendations now have owners.\n\nThanks\nTamara\n\nTamara Barnett\nHead of Partnerships | MOPAC\n\n-----Original Message-----\nFrom: LCJB <lcjb@board.example>\nSent: 27 November 2023 09:00\nTo: Tamara Barnett\nSubject: Written updates due\n\nPlease send your written update.".into(),
            ),
            body_html: None,
        };
        assert_eq!(
            update_text(&received),
            "All ten HMIP recommendations now have owners."
        );
    }

    #[test]
    fn a_huge_update_is_cut_in_the_pack_and_says_so() {
        assert_eq!(pack_text("  short update \n"), "short update");
        let huge = "é".repeat(PACK_UPDATE_TEXT + 10);
        let cut = pack_text(&huge);
        assert!(cut.starts_with(&"é".repeat(PACK_UPDATE_TEXT)));
        assert!(
            cut.ends_with("in the message as received]"),
            "{}",
            &cut[cut.len() - 80..]
        );
        assert!(cut.chars().count() < PACK_UPDATE_TEXT + 100);
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn lcjb() -> MeetingDates {
        MeetingDates {
            date: date("2023-12-13"),
            time: NaiveTime::from_hms_opt(10, 0, 0),
            papers_deadline: Some(date("2023-12-06")),
            zone: Zone::UTC,
        }
    }

    #[test]
    fn each_kind_is_due_and_expires_at_its_documented_moment_with_the_defaults() {
        let settings = ScheduleSettings::default();
        let cases = [
            (
                JobKind::UpdateRequest,
                "2023-12-03T09:00:00Z",
                "2023-12-06T17:00:00Z",
            ),
            (
                JobKind::Chaser,
                "2023-12-04T09:00:00Z",
                "2023-12-13T10:00:00Z",
            ),
            (
                JobKind::MeetingPack,
                "2023-12-06T17:00:00Z",
                "2023-12-13T10:00:00Z",
            ),
        ];
        for (kind, due, expires) in cases {
            let times = job_times(kind, &lcjb(), &settings);
            assert_eq!(times.due_at, utc(due), "{kind:?} due");
            assert_eq!(times.expires_at, utc(expires), "{kind:?} expires");
        }
    }

    #[test]
    fn a_meeting_without_a_papers_deadline_or_time_uses_the_configured_offset_and_midnight() {
        let settings = ScheduleSettings::default();
        let meeting = MeetingDates {
            date: date("2024-02-01"),
            time: None,
            papers_deadline: None,
            zone: Zone::UTC,
        };
        assert_eq!(papers_deadline(&meeting, &settings), date("2024-01-25"));
        let pack = job_times(JobKind::MeetingPack, &meeting, &settings);
        assert_eq!(pack.due_at, utc("2024-01-25T17:00:00Z"));
        assert_eq!(pack.expires_at, utc("2024-02-01T00:00:00Z"));
        let chaser = job_times(JobKind::Chaser, &meeting, &settings);
        assert_eq!(chaser.due_at, utc("2024-01-23T09:00:00Z"));
    }

    #[test]
    fn configured_offsets_and_times_move_the_jobs() {
        let settings = ScheduleSettings {
            update_request_days: 14,
            chaser_days: 1,
            send_time: "07:30".into(),
            pack_time: "12:00".into(),
            ..ScheduleSettings::default()
        };
        let request = job_times(JobKind::UpdateRequest, &lcjb(), &settings);
        assert_eq!(request.due_at, utc("2023-11-29T07:30:00Z"));
        assert_eq!(request.expires_at, utc("2023-12-06T12:00:00Z"));
        let chaser = job_times(JobKind::Chaser, &lcjb(), &settings);
        assert_eq!(chaser.due_at, utc("2023-12-05T07:30:00Z"));
    }

    #[test]
    fn a_job_configured_to_fall_after_its_expiry_still_fires_once_when_due() {
        let settings = ScheduleSettings {
            update_request_days: 3,
            ..ScheduleSettings::default()
        };
        let request = job_times(JobKind::UpdateRequest, &lcjb(), &settings);
        assert_eq!(request.due_at, utc("2023-12-10T09:00:00Z"));
        assert_eq!(request.expires_at, request.due_at);
    }

    #[test]
    fn a_london_board_sends_at_nine_local_time_on_both_sides_of_each_clock_change() {
        let settings = ScheduleSettings::default();
        let london: Zone = "Europe/London".parse().unwrap();
        // A meeting in April: its request (T-10) goes out in March before the clocks
        // change (09:00 GMT); the chaser on the day of the change, in summer time
        // (09:00 BST, 08:00 UTC), as does the pack.
        let spring = MeetingDates {
            date: date("2024-04-09"),
            time: NaiveTime::from_hms_opt(11, 0, 0),
            papers_deadline: None,
            zone: london,
        };
        let request = job_times(JobKind::UpdateRequest, &spring, &settings);
        assert_eq!(request.due_at, utc("2024-03-30T09:00:00Z"));
        let chaser = job_times(JobKind::Chaser, &spring, &settings);
        assert_eq!(chaser.due_at, utc("2024-03-31T08:00:00Z"));
        let pack = job_times(JobKind::MeetingPack, &spring, &settings);
        assert_eq!(pack.due_at, utc("2024-04-02T16:00:00Z"));
        assert_eq!(meeting_start(&spring), utc("2024-04-09T10:00:00Z"));

        // A meeting in November: the request goes in October's summer time; the chaser
        // on the day the clocks go back, in GMT.
        let autumn = MeetingDates {
            date: date("2024-11-01"),
            time: NaiveTime::from_hms_opt(10, 0, 0),
            papers_deadline: Some(date("2024-10-29")),
            zone: london,
        };
        let request = job_times(JobKind::UpdateRequest, &autumn, &settings);
        assert_eq!(request.due_at, utc("2024-10-22T08:00:00Z"));
        let chaser = job_times(JobKind::Chaser, &autumn, &settings);
        assert_eq!(chaser.due_at, utc("2024-10-27T09:00:00Z"));
        let pack = job_times(JobKind::MeetingPack, &autumn, &settings);
        assert_eq!(pack.due_at, utc("2024-10-29T17:00:00Z"));
        assert_eq!(meeting_start(&autumn), utc("2024-11-01T10:00:00Z"));
    }

    #[test]
    fn job_kinds_read_back_what_they_store() {
        for kind in [
            JobKind::UpdateRequest,
            JobKind::Chaser,
            JobKind::MeetingPack,
        ] {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(JobKind::parse("action_pack"), None);
    }
}
