//! What the daemon counts and times, for Prometheus at `/metrics`.
//!
//! Two sources. What the database already records (messages stored, filings by kind,
//! outbox rows by status, send attempts by outcome, bounces, schedule jobs, approval
//! replies, the last read of each folder, sign-in token expiry, open alarms) is read at
//! each scrape ([`refresh`]), so the figures are right whichever process did the work (the
//! daemon or a command such as `ingest --once`) and survive a restart. What only the
//! running process sees (how long ingest and filing take, mailbox errors) is recorded as
//! it happens through the `metrics` facade ([`ingest_took`], [`filing_took`],
//! [`mailbox_failed`]).
//!
//! The recorder is process-wide, as the `metrics` facade is: it is installed once, the
//! first time [`exporter`] is asked for it. Until then the recording calls cost nothing.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

use crate::domain::filing::Kind;
use crate::store::measures as store;

/// Buckets of the duration histograms, in seconds: from a fast filing to a slow batch.
const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Every status an outbox row can have (the `outbox.status` check), so a status that
/// empties shows 0 rather than its last figure.
const OUTBOX_STATUSES: [&str; 9] = [
    "pending", "sending", "sent", "retrying", "failed", "unknown", "bounced", "expired", "held",
];

/// Every status a schedule job can have (the `schedule_jobs.status` check).
const JOB_STATUSES: [&str; 5] = ["pending", "fired", "skipped", "expired", "cancelled"];

/// Every outcome a send attempt can record (the `outbox_attempts.outcome` check).
const SEND_OUTCOMES: [&str; 6] = [
    "sent",
    "transient",
    "permanent",
    "unknown",
    "expired",
    "render_failed",
];

/// Every result an approval reply is recorded with (`approval_replies.outcome`).
const APPROVAL_RESULTS: [&str; 6] = [
    "approved",
    "rejected",
    "undone",
    "comment",
    "refused",
    "unchanged",
];

static EXPORTER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus exporter, installed on first use; None when another recorder
/// was installed first (then `/metrics` says so rather than serving partial figures).
pub fn exporter() -> Option<PrometheusHandle> {
    EXPORTER.get_or_init(install).clone()
}

fn install() -> Option<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_duration_seconds".into()),
            &DURATION_BUCKETS,
        )
        .ok()?
        .build_recorder();
    let handle = recorder.handle();
    if let Err(err) = metrics::set_global_recorder(recorder) {
        tracing::warn!(error = %err, "metrics are not available: another recorder is installed");
        return None;
    }
    describe();
    Some(handle)
}

fn describe() {
    describe_counter!("minuted_messages_stored_total", "Inbound messages stored.");
    describe_gauge!(
        "minuted_messages_filed",
        "Inbound messages filed, by what they were filed as (not those in triage or quarantine; a message filed again by hand moves)."
    );
    describe_gauge!(
        "minuted_triage_depth",
        "Messages waiting in triage for a person."
    );
    describe_gauge!(
        "minuted_mailbox_last_contact_timestamp_seconds",
        "When each mailbox folder was last read successfully (Unix time)."
    );
    describe_counter!(
        "minuted_mailbox_errors_total",
        "Failed mailbox contacts seen by this process."
    );
    describe_gauge!("minuted_outbox_messages", "Outgoing messages by status.");
    describe_gauge!(
        "minuted_outbox_oldest_due_age_seconds",
        "How long the oldest outgoing message that is due now has waited (0 when none)."
    );
    describe_counter!("minuted_sends_total", "Send attempts by outcome.");
    describe_counter!("minuted_bounces_total", "Bounces received and filed.");
    describe_gauge!(
        "minuted_bouncing_addresses",
        "Member addresses marked bouncing."
    );
    describe_gauge!("minuted_schedule_jobs", "Schedule jobs by status.");
    describe_counter!(
        "minuted_approval_replies_total",
        "Approval replies handled, by result."
    );
    describe_gauge!(
        "minuted_signin_token_expiry_timestamp_seconds",
        "When each OAuth 2.0 account's access token expires (Unix time)."
    );
    describe_gauge!("minuted_alarms_open", "Alarms open (mail has stopped).");
    describe_histogram!(
        "minuted_ingest_duration_seconds",
        metrics::Unit::Seconds,
        "Parsing and storing one batch read from the mailbox."
    );
    describe_histogram!(
        "minuted_filing_duration_seconds",
        metrics::Unit::Seconds,
        "Deciding and recording what one message is."
    );
}

/// A batch read from the mailbox was parsed and stored in `took`.
pub fn ingest_took(took: Duration) {
    histogram!("minuted_ingest_duration_seconds").record(took.as_secs_f64());
}

/// One message was filed in `took`.
pub fn filing_took(took: Duration) {
    histogram!("minuted_filing_duration_seconds").record(took.as_secs_f64());
}

/// A contact with the mailbox failed.
pub fn mailbox_failed() {
    counter!("minuted_mailbox_errors_total").increment(1);
}

/// Reads the database's figures at `now` into the recorder.
pub async fn refresh(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let figures = store::figures(&mut conn, now).await?;

    counter!("minuted_messages_stored_total").absolute(count(figures.messages_stored));
    for kind in Kind::ALL {
        gauge!("minuted_messages_filed", "kind" => kind.as_str())
            .set(of(&figures.filed_by_kind, kind.as_str()));
    }
    gauge!("minuted_triage_depth").set(figures.triage_depth as f64);
    for (folder, at) in &figures.folder_contacts {
        gauge!("minuted_mailbox_last_contact_timestamp_seconds", "folder" => folder.clone())
            .set(at.timestamp() as f64);
    }
    // Touched so the series exists (at 0) before the first error.
    counter!("minuted_mailbox_errors_total").increment(0);
    for status in OUTBOX_STATUSES {
        gauge!("minuted_outbox_messages", "status" => status)
            .set(of(&figures.outbox_by_status, status));
    }
    gauge!("minuted_outbox_oldest_due_age_seconds").set(figures.oldest_due_age_seconds as f64);
    for outcome in SEND_OUTCOMES {
        counter!("minuted_sends_total", "outcome" => outcome)
            .absolute(of(&figures.sends_by_outcome, outcome) as u64);
    }
    counter!("minuted_bounces_total").absolute(of(&figures.filed_by_kind, "bounce") as u64);
    gauge!("minuted_bouncing_addresses").set(figures.bouncing_addresses as f64);
    for status in JOB_STATUSES {
        gauge!("minuted_schedule_jobs", "status" => status)
            .set(of(&figures.jobs_by_status, status));
    }
    for result in APPROVAL_RESULTS {
        counter!("minuted_approval_replies_total", "result" => result)
            .absolute(of(&figures.approval_replies_by_result, result) as u64);
    }
    for (account, expires_at) in &figures.token_expiry {
        gauge!("minuted_signin_token_expiry_timestamp_seconds", "account" => account.clone())
            .set(expires_at.timestamp() as f64);
    }
    gauge!("minuted_alarms_open").set(figures.alarms_open as f64);
    Ok(())
}

fn of(rows: &[(String, i64)], label: &str) -> f64 {
    rows.iter()
        .find(|(l, _)| l == label)
        .map_or(0.0, |(_, n)| *n as f64)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}
