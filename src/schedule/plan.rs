//! When each job is due and when it expires, from the meeting's dates and the schedule
//! settings, and the planning of every upcoming meeting's jobs.

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use crate::clock::Clock;
use crate::config::{ApprovalSettings, ScheduleSettings, Settings};
use crate::domain::zone::Zone;
use crate::store::meeting_status;
use crate::store::schedule::{self as store, NewJob};

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
    meeting.zone.meeting_start(meeting.date, meeting.time)
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
        let mut organisations =
            store::organisation_ids(&mut conn, meeting.board_id, &shorts).await?;
        // The secretariat's own organisation compiles the pack: it is not asked.
        let secretariat: Vec<i64> =
            crate::store::members::board_members(&mut conn, meeting.board_id)
                .await?
                .into_iter()
                .filter(|m| m.is_secretariat())
                .filter_map(|m| m.organisation_id)
                .collect();
        organisations.retain(|(id, _)| !secretariat.contains(id));
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

/// What a job's own step did.
pub(super) enum Done {
    Sent { outbox: usize, detail: Value },
    Skipped { reason: String },
}

/// What the schedule worker needs of the settings: its own, and how approval requests
/// are made (for the meeting pack).
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub schedule: ScheduleSettings,
    pub approval: ApprovalSettings,
    pub digest: crate::config::DigestSettings,
    pub retention: crate::config::RetentionSettings,
}

impl From<&Settings> for WorkerSettings {
    fn from(settings: &Settings) -> Self {
        WorkerSettings {
            schedule: settings.schedule.clone(),
            approval: settings.approval.clone(),
            digest: settings.digest.clone(),
            retention: settings.retention.clone(),
        }
    }
}
