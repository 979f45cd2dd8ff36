//! The sender worker: takes due outbox rows, renders them (once), sends them, and records
//! every outcome.
//!
//! One step, [`Worker::send_batch`], does:
//! 1. housekeeping: rows whose worker died mid-send (lease expired while `sending`)
//!    become `unknown`; rows whose event has passed become `expired`; failures held back
//!    by the hourly limit on notices are reported to the secretariat when it allows;
//! 2. leases a batch of due rows (`FOR UPDATE SKIP LOCKED` in one statement that also
//!    opens an attempt for each; no transaction stays open while sending), within the
//!    rate limit;
//! 3. renders the rows not yet rendered;
//! 4. composes and sends them, at most `outgoing.concurrency` at a time, and records the
//!    outcomes in groups as they arrive (one transaction per group; the rendered text is
//!    saved with the first outcome, so every retry sends the same text): `sent`;
//!    `retrying` after a transient failure, with exponential backoff and jitter until
//!    `outgoing.max_retry_hours` after queueing, then `failed`; `failed` at once on a
//!    permanent refusal; `unknown` (retried like a transient failure, same Message-ID)
//!    when the connection was lost after the message was handed over.
//!
//! [`Worker::drain`] (`send --once`) and [`Worker::run_until_stopped`] (the daemon) run
//! the same parts as a pipeline: the next batch is leased and rendered while the last is
//! still being sent, so connections never wait for the database.
//!
//! A row is only sent while there is still time left on its lease for the send to
//! finish, so another process taking over an expired lease never sends it at the same
//! time; rows not started (shutdown, lease running short) are released for the next
//! step.

use crate::store::mail_context;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use lettre::message::Mailbox;
use rand::Rng;
use serde::Serialize;
use sqlx::PgPool;

use super::compose::{compose, Outgoing, OutgoingAttachment};
use super::context::{template_context, ContextParts};
use super::transport::{Delivered, SendError, Transport};
use crate::alerts::{self, Service};
use crate::clock::Clock;
use crate::config::OutgoingSettings;
use crate::domain::mail::CalendarPart;
use crate::domain::outbound::{MailKind, OutboxStatus};
use crate::domain::verp;
use crate::shutdown::{Shutdown, Wakeup};
use crate::store::outbox::{self as store, AttemptOutcome, AttemptResult, LeasedMessage};
use crate::templates::{Rendered, Templates};

/// How the worker behaves; [`WorkerSettings::from_outgoing`] reads it from `[outgoing]`.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub from: Mailbox,
    pub concurrency: usize,
    /// Rows leased per step.
    pub batch_size: i64,
    pub lease: Duration,
    /// The longest one send may take (it is cut off as `unknown` after this); a row is
    /// only started while at least this much of its lease is left.
    pub send_limit: Duration,
    pub max_retry: Duration,
    /// 0: no limit.
    pub rate_per_minute: u32,
}

impl WorkerSettings {
    pub fn from_outgoing(outgoing: &OutgoingSettings) -> anyhow::Result<Self> {
        let from: Mailbox = outgoing
            .from
            .parse()
            .with_context(|| format!("outgoing.from {:?} is not a mailbox", outgoing.from))?;
        let concurrency = usize::try_from(outgoing.concurrency.max(1)).unwrap_or(1);
        Ok(WorkerSettings {
            from,
            concurrency,
            batch_size: i64::try_from((concurrency * 32).clamp(64, 512)).unwrap_or(64),
            lease: Duration::seconds(i64::from(outgoing.lease_seconds)),
            // Validation keeps this well inside the lease; the clamp keeps an unvalidated
            // configuration from releasing every row it leases.
            send_limit: Duration::seconds(
                (6 * i64::from(outgoing.timeout_seconds))
                    .min(i64::from(outgoing.lease_seconds) / 2),
            ),
            max_retry: Duration::hours(i64::from(outgoing.max_retry_hours)),
            rate_per_minute: outgoing.rate_per_minute(),
        })
    }
}

/// What one step did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SendSummary {
    /// Rows found `sending` with an expired lease, now `unknown`.
    pub recovered: u64,
    /// Rows whose event passed before they were sent.
    pub expired: u64,
    pub leased: u64,
    pub sent: u64,
    pub retrying: u64,
    pub unknown: u64,
    pub failed: u64,
    /// Leased but not started (shutdown, or the lease ran short): due again at once.
    pub released: u64,
}

impl SendSummary {
    pub fn add(&mut self, other: &SendSummary) {
        self.recovered += other.recovered;
        self.expired += other.expired;
        self.leased += other.leased;
        self.sent += other.sent;
        self.retrying += other.retrying;
        self.unknown += other.unknown;
        self.failed += other.failed;
        self.released += other.released;
    }

    fn count(&mut self, status: OutboxStatus) {
        match status {
            OutboxStatus::Sent => self.sent += 1,
            OutboxStatus::Retrying => self.retrying += 1,
            OutboxStatus::Unknown => self.unknown += 1,
            _ => self.failed += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Nothing was due.
    Idle,
    /// The rate limit allows nothing more until `until`.
    RateLimited {
        until: DateTime<Utc>,
    },
    Worked(SendSummary),
}

/// The delay before retry number `attempt` (1 for the first retry): 1 minute doubling
/// to at most 2 hours, of which the upper half is random (`jitter` in 0..1) so that
/// messages failing together do not retry together.
pub fn retry_delay(attempt: i32, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempt.clamp(1, 8) - 1).unwrap_or(0);
    let base = (60_i64 << exponent).min(2 * 3600);
    let jittered = base as f64 / 2.0 * (1.0 + jitter.clamp(0.0, 1.0));
    Duration::seconds(jittered.round() as i64)
}

/// What the row becomes after attempt number `attempt` ended with `result`.
pub fn decide(
    id: i64,
    attempt: i32,
    result: Result<Delivered, SendError>,
    queued_at: DateTime<Utc>,
    now: DateTime<Utc>,
    max_retry: Duration,
    jitter: f64,
) -> AttemptResult {
    let give_up_at = queued_at + max_retry;
    let retry = |outcome: AttemptOutcome, status: OutboxStatus, error: String| {
        let next = now + retry_delay(attempt, jitter);
        if next > give_up_at {
            let hours = max_retry.num_hours();
            let note = if outcome == AttemptOutcome::Unknown {
                " (the last attempt may have been delivered)"
            } else {
                ""
            };
            AttemptResult {
                id,
                attempt,
                outcome,
                status: OutboxStatus::Failed,
                next_attempt_at: None,
                error: Some(format!(
                    "gave up after {attempt} attempts over {hours} hours{note}: {error}"
                )),
                server_reply: None,
                rendered: None,
            }
        } else {
            AttemptResult {
                id,
                attempt,
                outcome,
                status,
                next_attempt_at: Some(next),
                error: Some(error),
                server_reply: None,
                rendered: None,
            }
        }
    };
    match result {
        Ok(delivered) => AttemptResult {
            id,
            attempt,
            outcome: AttemptOutcome::Sent,
            status: OutboxStatus::Sent,
            next_attempt_at: None,
            error: None,
            server_reply: Some(delivered.reply),
            rendered: None,
        },
        Err(SendError::Permanent(error)) => AttemptResult {
            id,
            attempt,
            outcome: AttemptOutcome::Permanent,
            status: OutboxStatus::Failed,
            next_attempt_at: None,
            error: Some(error),
            server_reply: None,
            rendered: None,
        },
        Err(SendError::Transient(error) | SendError::SignIn(error)) => {
            retry(AttemptOutcome::Transient, OutboxStatus::Retrying, error)
        }
        Err(SendError::Unknown(error)) => {
            retry(AttemptOutcome::Unknown, OutboxStatus::Unknown, error)
        }
    }
}

/// What one step's outcomes say of the server.
#[derive(Debug, Default)]
struct Contact {
    sent: bool,
    /// The last failure that was the server's rather than a message's.
    failure: Option<String>,
}

impl Contact {
    fn note(&mut self, result: &AttemptResult) {
        match result.outcome {
            AttemptOutcome::Sent => self.sent = true,
            // The server's own failures: no session ("cannot open an SMTP session",
            // a refused sign-in, "cannot write" a file, "cannot run" sendmail), not a
            // 4xx about one recipient.
            AttemptOutcome::Transient
                if result.error.as_deref().is_some_and(|e| {
                    e.starts_with("cannot ")
                        || e.contains("sign-in")
                        || e.contains("refused the XOAUTH2")
                        || e.starts_with("the identity provider")
                        || e.starts_with("not signed in")
                }) =>
            {
                self.failure.clone_from(&result.error)
            }
            _ => {}
        }
    }
}

/// Outcomes are recorded in groups of at most this many...
const RECORD_GROUP: usize = 256;
/// ...or whatever arrived within this long after the first: a crash loses (and later
/// resends, as `unknown`) at most this much.
const RECORD_AFTER: StdDuration = StdDuration::from_millis(50);

fn log_result(result: &AttemptResult) {
    let error = result.error.as_deref().unwrap_or("");
    match result.status {
        OutboxStatus::Sent => {}
        OutboxStatus::Failed => tracing::warn!(id = result.id, error, "outbox message failed"),
        status => tracing::info!(id = result.id, %status, error, "outbox message will be retried"),
    }
}

/// A leased row made ready to send: its text, where it goes, its files.
struct Ready {
    row: LeasedMessage,
    rendered: Result<Rendered, String>,
    /// Rendered in this step: saved with the attempt's outcome.
    newly_rendered: bool,
    reply_to: String,
    return_path: String,
    attachments: Vec<mail_context::OutboxAttachment>,
    /// The bytes of the batch's attachments, each stored file once.
    contents: Arc<HashMap<i64, Vec<u8>>>,
    /// When the lease taken with this row's batch runs out.
    lease_ends: DateTime<Utc>,
}

/// How many rows the rate limit allows now.
enum Budget {
    Rows(i64),
    Exhausted(DateTime<Utc>),
}

enum Step {
    Done(AttemptResult),
    Released(i64),
}

pub struct Worker {
    pool: PgPool,
    clock: Clock,
    transport: Arc<dyn Transport>,
    templates: Arc<Templates>,
    settings: WorkerSettings,
    /// Names this process's leases: `<host>:<pid>:<random>`.
    owner: String,
    stop: Option<Shutdown>,
    /// A send in this step was refused at sign-in (see `crate::alerts`).
    sign_in_refused: AtomicBool,
}

impl Worker {
    pub fn new(
        pool: PgPool,
        clock: Clock,
        transport: Arc<dyn Transport>,
        templates: Arc<Templates>,
        settings: WorkerSettings,
    ) -> Worker {
        let host = host_name();
        let random: u32 = rand::thread_rng().gen();
        let owner = format!("{host}:{}:{random:08x}", std::process::id());
        Worker {
            pool,
            clock,
            transport,
            templates,
            settings,
            owner,
            stop: None,
            sign_in_refused: AtomicBool::new(false),
        }
    }

    /// Rows not yet started when `stop` fires are released rather than sent.
    pub fn with_shutdown(mut self, stop: Shutdown) -> Worker {
        self.stop = Some(stop);
        self
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(Shutdown::is_stopping)
    }

    /// One step: housekeeping, then one batch leased, rendered, sent and recorded. See
    /// the module documentation.
    pub async fn send_batch(&self) -> anyhow::Result<SendOutcome> {
        self.run_batches(Some(1)).await
    }

    /// Rows abandoned by a dead worker, expired rows, and notices held back by the hourly
    /// limit.
    async fn housekeeping(&self, now: DateTime<Utc>) -> anyhow::Result<SendSummary> {
        let summary = SendSummary {
            recovered: store::recover_expired_leases(&self.pool, now)
                .await
                .context("failed to recover expired leases")?,
            expired: store::expire_passed(&self.pool, now)
                .await
                .context("failed to expire outbox rows")?,
            ..SendSummary::default()
        };
        for board_id in store::boards_with_unnotified_failures(&self.pool).await? {
            let mut tx = self.pool.begin().await?;
            store::notify_secretariat_if_due(&mut tx, board_id, now)
                .await
                .context("failed to queue the secretariat's notice")?;
            tx.commit().await?;
        }
        Ok(summary)
    }

    async fn budget(&self, now: DateTime<Utc>) -> anyhow::Result<Budget> {
        let mut limit = self.settings.batch_size;
        if self.settings.rate_per_minute > 0 {
            let used = store::attempts_in_last_minute(&self.pool, now).await?;
            let left = i64::from(self.settings.rate_per_minute) - used;
            if left <= 0 {
                return Ok(Budget::Exhausted(now + Duration::seconds(5)));
            }
            limit = limit.min(left);
        }
        Ok(Budget::Rows(limit))
    }

    /// Housekeeping, then batches (at most `max_batches`) until nothing is due, the rate
    /// limit is reached or shutdown begins. Three parts run side by side: leasing and
    /// rendering the next batch, sending (at most `concurrency` at once, across batch
    /// boundaries), and recording outcomes in groups.
    async fn run_batches(&self, max_batches: Option<usize>) -> anyhow::Result<SendOutcome> {
        let now = self.clock.now();
        let mut summary = self.housekeeping(now).await?;
        let capacity = usize::try_from(self.settings.batch_size)
            .unwrap_or(64)
            .max(1);
        let (to_send, ready_rows) = tokio::sync::mpsc::channel::<Ready>(capacity);
        let (outcomes, mut received) = tokio::sync::mpsc::unbounded_channel::<Step>();
        let failed_flag = AtomicBool::new(false);
        let recording_failed = &failed_flag;

        let leasing = async move {
            let mut leased = 0_u64;
            let mut limited = None;
            let mut batches = 0_usize;
            'batches: loop {
                if max_batches.is_some_and(|max| batches >= max)
                    || self.stopping()
                    || recording_failed.load(Ordering::Relaxed)
                {
                    break;
                }
                let now = self.clock.now();
                let limit = match self.budget(now).await? {
                    Budget::Rows(limit) => limit,
                    Budget::Exhausted(until) => {
                        limited = Some(until);
                        break;
                    }
                };
                let rows = store::lease(&self.pool, &self.owner, now, self.lease(), limit)
                    .await
                    .context("failed to lease outbox rows")?;
                if rows.is_empty() {
                    break;
                }
                batches += 1;
                leased += rows.len() as u64;
                for ready in self.prepare(rows, now).await? {
                    if to_send.send(ready).await.is_err() {
                        break 'batches;
                    }
                }
            }
            // Dropping `to_send` here ends the sending once the last row is done.
            anyhow::Ok((leased, limited))
        };

        let sending = futures::stream::unfold(ready_rows, |mut rows| async move {
            rows.recv().await.map(|ready| (ready, rows))
        })
        .map(|ready| async move {
            if recording_failed.load(Ordering::Relaxed) {
                return Step::Released(ready.row.id);
            }
            self.send_one(ready).await
        })
        .buffer_unordered(self.settings.concurrency)
        // Owning the sender, so the channel closes when the last message is done.
        .for_each(move |step| {
            let _ = outcomes.send(step);
            futures::future::ready(())
        });

        let recording = async {
            let mut released = Vec::new();
            let mut counted = SendSummary::default();
            let mut contact = Contact::default();
            while let Some(first) = received.recv().await {
                let mut group = vec![first];
                let flush_at = tokio::time::Instant::now() + RECORD_AFTER;
                while group.len() < RECORD_GROUP {
                    match tokio::time::timeout_at(flush_at, received.recv()).await {
                        Ok(Some(step)) => group.push(step),
                        Ok(None) | Err(_) => break,
                    }
                }
                let mut results = Vec::with_capacity(group.len());
                for step in group {
                    match step {
                        Step::Done(result) => results.push(result),
                        Step::Released(id) => released.push(id),
                    }
                }
                let recorded =
                    store::record_results(&self.pool, &self.owner, self.clock.now(), &results)
                        .await;
                let recorded: HashSet<i64> = match recorded {
                    Ok(ids) => ids.into_iter().collect(),
                    Err(err) => {
                        // Send no more: outcomes that cannot be recorded would be sent
                        // again after the lease.
                        recording_failed.store(true, Ordering::Relaxed);
                        return Err(
                            anyhow::Error::new(err).context("failed to record send outcomes")
                        );
                    }
                };
                for result in &results {
                    contact.note(result);
                    if recorded.contains(&result.id) {
                        counted.count(result.status);
                    } else {
                        tracing::warn!(
                            id = result.id,
                            "outbox row's lease was taken over before its outcome was recorded"
                        );
                    }
                    log_result(result);
                }
            }
            anyhow::Ok((counted, released, contact))
        };

        let (leased, (), recorded) = futures::join!(leasing, sending, recording);
        let (counted, released, contact) = recorded?;
        summary.add(&counted);
        self.record_contact(contact).await;
        if !released.is_empty() {
            summary.released = released.len() as u64;
            store::release(&self.pool, &self.owner, self.clock.now(), &released)
                .await
                .context("failed to release outbox rows")?;
        }
        let (leased, limited) = leased?;
        summary.leased = leased;
        Ok(match limited {
            Some(until) if leased == 0 => SendOutcome::RateLimited { until },
            _ if leased == 0 && summary.recovered + summary.expired == 0 => SendOutcome::Idle,
            _ => SendOutcome::Worked(summary),
        })
    }

    /// Rows leased by a process on this host that no longer runs (killed, crashed) are
    /// taken back at once rather than when their leases run out (`lease_seconds`, ten
    /// minutes by default): they become `unknown` and are sent again with the same
    /// Message-ID. A process on another host is left to its lease.
    async fn take_back_leases_of_dead_processes(&self) {
        let prefix = format!("{}:", host_name());
        let owners = match store::sending_owners(&self.pool, &prefix).await {
            Ok(owners) => owners,
            Err(err) => {
                tracing::debug!(error = %err, "cannot list the outbox's lease owners");
                return;
            }
        };
        let dead: Vec<String> = owners
            .into_iter()
            .filter(|owner| *owner != self.owner && !process_alive(owner))
            .collect();
        if dead.is_empty() {
            return;
        }
        match store::end_leases_of(&self.pool, &dead, self.clock.now()).await {
            Ok(0) => {}
            Ok(rows) => tracing::warn!(
                rows, owners = ?dead,
                "outbox rows leased by a process that is gone are taken back; they are resent with their Message-IDs"
            ),
            Err(err) => {
                tracing::debug!(error = %err, "cannot take back the leases of a process that is gone")
            }
        }
    }

    /// What this step says of the submission server, for the alarms: a message sent means
    /// it works; only failures that are the server's (transient, sign-in) mean it does not.
    async fn record_contact(&self, contact: Contact) {
        let sign_in = self.sign_in_refused.swap(false, Ordering::Relaxed);
        let name = self.transport.name();
        // Alarms are about the machine's time, whatever a rehearsal clock says.
        let now = Clock::System.now();
        if contact.sent {
            alerts::record_ok(&self.pool, Service::Outgoing, &name, &[], now).await;
        } else if let Some(error) = contact.failure {
            alerts::record_failure(&self.pool, Service::Outgoing, &name, &error, sign_in, now)
                .await;
        }
    }

    /// Renders what is not yet rendered, works out the addresses, and loads the
    /// attachments' bytes (each stored file once).
    async fn prepare(
        &self,
        rows: Vec<LeasedMessage>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Ready>> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let board_ids: Vec<i64> = unique(rows.iter().map(|r| r.board_id));
        let boards = mail_context::boards(&mut conn, &board_ids).await?;
        let unrendered = || rows.iter().filter(|r| r.subject.is_none());
        let meeting_ids: Vec<i64> = unique(unrendered().filter_map(|r| r.meeting_id));
        let member_ids: Vec<i64> = unique(unrendered().filter_map(|r| r.member_id));
        let meetings = mail_context::meetings(&mut conn, &meeting_ids).await?;
        let members = mail_context::members(&mut conn, &member_ids).await?;
        let mut attachments: HashMap<i64, Vec<mail_context::OutboxAttachment>> = HashMap::new();
        for a in mail_context::attachments_of(&mut conn, &ids).await? {
            attachments.entry(a.outbox_id).or_default().push(a);
        }
        let attachment_ids: Vec<i64> =
            unique(attachments.values().flatten().map(|a| a.attachment_id));
        let contents =
            Arc::new(mail_context::attachment_contents(&mut conn, &attachment_ids).await?);
        drop(conn);

        let lease_ends = now + self.lease();
        let mut ready = Vec::with_capacity(rows.len());
        for row in rows {
            let board = boards.get(&row.board_id);
            let (reply_to, return_path) = match board {
                Some(b) => (
                    verp::reply_address(&b.address, &row.reply_token),
                    verp::bounce_address(&b.address, row.id, &row.message_id),
                ),
                None => (String::new(), String::new()),
            };
            let row_attachments = attachments.remove(&row.id).unwrap_or_default();
            let newly_rendered = row.subject.is_none();
            let rendered = match (&row.subject, &row.body_text, &row.body_html, board) {
                (Some(subject), Some(text), Some(html), _) => Ok(Rendered {
                    subject: subject.clone(),
                    text: text.clone(),
                    html: html.clone(),
                }),
                (_, _, _, None) => Err(format!("board {} not found", row.board_id)),
                (_, _, _, Some(board)) => match MailKind::parse(&row.kind) {
                    None => Err(format!("unknown kind {:?}", row.kind)),
                    Some(kind) => {
                        let context = template_context(&ContextParts {
                            board,
                            meeting: row.meeting_id.and_then(|id| meetings.get(&id)),
                            member: row.member_id.and_then(|id| members.get(&id)),
                            to_address: &row.to_address,
                            to_name: row.to_name.as_deref(),
                            reply_address: &reply_to,
                            attachments: &row_attachments,
                            extra: &row.context,
                        });
                        self.templates
                            .render(kind, &context)
                            .map_err(|e| e.to_string())
                    }
                },
            };
            ready.push(Ready {
                row,
                rendered,
                newly_rendered,
                reply_to,
                return_path,
                attachments: row_attachments,
                contents: Arc::clone(&contents),
                lease_ends,
            });
        }
        Ok(ready)
    }

    /// The lease on the process clock: `outgoing.lease_seconds` of real time, which a
    /// faster rehearsal clock sees as longer.
    fn lease(&self) -> Duration {
        crate::clock::board_span(self.settings.lease)
    }

    async fn send_one(&self, ready: Ready) -> Step {
        let row = &ready.row;
        let send_limit = crate::clock::board_span(self.settings.send_limit);
        if self.stopping() || self.clock.now() + send_limit > ready.lease_ends {
            return Step::Released(row.id);
        }
        let failed = |outcome: AttemptOutcome, error: String| AttemptResult {
            id: row.id,
            attempt: row.attempts,
            outcome,
            status: OutboxStatus::Failed,
            next_attempt_at: None,
            error: Some(error),
            server_reply: None,
            rendered: None,
        };
        let rendered = match &ready.rendered {
            Ok(r) => r,
            Err(error) => {
                return Step::Done(failed(
                    AttemptOutcome::RenderFailed,
                    format!("cannot render: {error}"),
                ))
            }
        };
        let mut files = Vec::with_capacity(ready.attachments.len());
        for a in &ready.attachments {
            match ready.contents.get(&a.attachment_id) {
                Some(content) => files.push(OutgoingAttachment {
                    filename: &a.filename,
                    content_type: &a.content_type,
                    content,
                }),
                None => {
                    return Step::Done(failed(
                        AttemptOutcome::Permanent,
                        format!("attachment {} is missing", a.attachment_id),
                    ))
                }
            }
        }
        let calendar = CalendarPart::of(&row.context);
        let composed = compose(&Outgoing {
            from: &self.settings.from,
            to_address: &row.to_address,
            to_name: row.to_name.as_deref(),
            reply_to: &ready.reply_to,
            return_path: &ready.return_path,
            message_id: &row.message_id,
            in_reply_to: row.in_reply_to.as_deref(),
            references: &row.references,
            subject: &rendered.subject,
            text: &rendered.text,
            html: &rendered.html,
            attachments: files,
            calendar: calendar.as_ref(),
            date: self.clock.now(),
        });
        let (envelope, bytes) = match composed {
            Ok(c) => c,
            Err(err) => {
                return Step::Done(failed(
                    AttemptOutcome::Permanent,
                    format!("cannot compose: {err}"),
                ))
            }
        };
        let limit = self
            .settings
            .send_limit
            .to_std()
            .unwrap_or(StdDuration::from_secs(180));
        let result = match tokio::time::timeout(
            limit,
            self.transport.send(&envelope, &bytes, &row.message_id),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(SendError::Unknown(format!(
                "the send did not finish within {} s",
                limit.as_secs()
            ))),
        };
        if matches!(result, Err(SendError::SignIn(_))) {
            self.sign_in_refused.store(true, Ordering::Relaxed);
        }
        let jitter: f64 = rand::thread_rng().gen();
        let mut result = decide(
            row.id,
            row.attempts,
            result,
            row.queued_at,
            self.clock.now(),
            self.settings.max_retry,
            jitter,
        );
        // Saved with the outcome, so every later attempt sends exactly this text.
        if ready.newly_rendered {
            result.rendered = Some(rendered.clone());
        }
        Step::Done(result)
    }

    /// Sends until nothing is due (or the rate limit stops it) and returns the total:
    /// `minuted send --once`. Batches follow one another without a pause: the next is
    /// leased and rendered while the last is sent.
    pub async fn drain(&self) -> anyhow::Result<(SendSummary, bool)> {
        let mut total = SendSummary::default();
        loop {
            match self.run_batches(None).await? {
                SendOutcome::Idle => break,
                SendOutcome::RateLimited { .. } => {
                    self.transport.close_idle().await;
                    return Ok((total, true));
                }
                SendOutcome::Worked(summary) => {
                    total.add(&summary);
                    // Everything leased was handed back (shutdown): stop rather than
                    // take the same rows again.
                    if summary.leased > 0 && summary.released == summary.leased {
                        break;
                    }
                }
            }
        }
        self.transport.close_idle().await;
        Ok((total, false))
    }

    /// The daemon's loop: batches for as long as anything is due, a pause of a second
    /// when nothing was (ended early when the database announces email queued), until
    /// `shutdown`. An error (the database restarting) is logged and the loop carries on
    /// after a pause.
    pub async fn run_until_stopped(self, shutdown: Shutdown, wakeup: Wakeup) -> anyhow::Result<()> {
        let worker = self.with_shutdown(shutdown.clone());
        tracing::info!(owner = %worker.owner, "sender started");
        worker.take_back_leases_of_dead_processes().await;
        let sender = &worker;
        shutdown
            .repeat_with(
                "the outbox step",
                StdDuration::from_secs(60),
                wakeup,
                move || async move {
                    Ok(match sender.run_batches(None).await? {
                        SendOutcome::Worked(summary) => {
                            tracing::info!(summary = ?summary, "outbox step");
                            if summary.leased == 0 || summary.released < summary.leased {
                                StdDuration::ZERO
                            } else {
                                StdDuration::from_secs(1)
                            }
                        }
                        SendOutcome::Idle => {
                            sender.transport.close_idle().await;
                            StdDuration::from_secs(1)
                        }
                        SendOutcome::RateLimited { until } => crate::clock::real_wait(
                            (until - sender.clock.now())
                                .to_std()
                                .unwrap_or(StdDuration::from_secs(1)),
                        )
                        .clamp(StdDuration::from_millis(50), StdDuration::from_secs(5)),
                    })
                },
            )
            .await;
        worker.transport.close_idle().await;
        tracing::info!("sender stopped");
        Ok(())
    }
}

/// The first part of a lease owner's name: the host name, and a digest of this boot of
/// the kernel and this process-id namespace, so that two containers sharing a host name
/// (host networking) never read each other's process ids as their own.
fn host_name() -> String {
    use sha2::{Digest, Sha256};
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let namespace = std::fs::read_link("/proc/self/ns/pid")
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{}|{namespace}", boot.trim()).as_bytes());
    format!("{host}~{}", hex::encode(&digest[..4]))
}

/// Whether the process named in a lease owner (`<host>~<boot>:<pid>:<random>`) of this
/// boot and namespace runs. A process with our own id is gone (we have its id now).
/// Unparseable owners count as running: their leases are left to run out.
fn process_alive(owner: &str) -> bool {
    let Some(pid) = owner.split(':').nth(1).and_then(|p| p.parse::<i32>().ok()) else {
        return true;
    };
    if u32::try_from(pid).is_ok_and(|p| p == std::process::id()) {
        return false;
    }
    crate::shutdown::process_runs(pid)
}

fn unique(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut v: Vec<i64> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 12, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_up_to_two_hours() {
        assert_eq!(retry_delay(1, 0.0), Duration::seconds(30));
        assert_eq!(retry_delay(1, 1.0), Duration::seconds(60));
        assert_eq!(retry_delay(2, 0.0), Duration::seconds(60));
        assert_eq!(retry_delay(3, 0.5), Duration::seconds(180));
        assert_eq!(retry_delay(20, 1.0), Duration::hours(2));
        assert_eq!(retry_delay(20, 0.0), Duration::hours(1));
        let mut previous = Duration::zero();
        for attempt in 1..12 {
            let d = retry_delay(attempt, 1.0);
            assert!(d >= previous);
            previous = d;
        }
    }

    #[test]
    fn outcomes_become_statuses() {
        let max = Duration::hours(48);
        let sent = decide(
            1,
            1,
            Ok(Delivered {
                reply: "250 ok".into(),
            }),
            at(0),
            at(1),
            max,
            0.5,
        );
        assert_eq!(
            (sent.status, sent.server_reply.as_deref()),
            (OutboxStatus::Sent, Some("250 ok"))
        );
        let perm = decide(
            1,
            1,
            Err(SendError::Permanent("550 no".into())),
            at(0),
            at(1),
            max,
            0.5,
        );
        assert_eq!(perm.status, OutboxStatus::Failed);
        let temp = decide(
            1,
            1,
            Err(SendError::Transient("451 later".into())),
            at(0),
            at(1),
            max,
            0.0,
        );
        assert_eq!(temp.status, OutboxStatus::Retrying);
        assert_eq!(temp.next_attempt_at, Some(at(1) + Duration::seconds(30)));
        let unknown = decide(
            1,
            2,
            Err(SendError::Unknown("lost".into())),
            at(0),
            at(1),
            max,
            0.0,
        );
        assert_eq!(unknown.status, OutboxStatus::Unknown);
        assert_eq!(unknown.outcome, AttemptOutcome::Unknown);
    }

    #[test]
    fn a_transient_failure_past_the_retry_window_fails_the_row() {
        let max = Duration::hours(48);
        let late = at(0) + Duration::hours(47) + Duration::minutes(59);
        let result = decide(
            7,
            30,
            Err(SendError::Transient("451 later".into())),
            at(0),
            late,
            max,
            0.0,
        );
        assert_eq!(result.status, OutboxStatus::Failed);
        let error = result.error.unwrap();
        assert!(
            error.starts_with("gave up after 30 attempts over 48 hours"),
            "{error}"
        );
        assert!(error.ends_with("451 later"), "{error}");
    }
}
