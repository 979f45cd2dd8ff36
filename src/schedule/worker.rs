//! The schedule worker: plan, then fire everything due, on every tick.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use serde::Serialize;
use sqlx::PgPool;

use super::fire::*;
use super::plan::*;
use crate::approval::key::ApprovalKey;
use crate::clock::Clock;
use crate::config::Settings;
use crate::shutdown::{Shutdown, Wakeup};

/// What one pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    pub planned: usize,
    /// Invitations, updates and cancellations queued this pass.
    pub invited: super::invite::Invited,
    /// Meetings whose quorum the secretariat was told is at risk this pass.
    pub quorum_warnings: usize,
    /// Boards whose secretariat was sent the daily digest this pass.
    pub digests: usize,
    pub fired: Vec<FireOutcome>,
    pub skipped: Vec<FireOutcome>,
    pub expired: Vec<FireOutcome>,
    /// Jobs whose firing failed this pass; each is due again later.
    pub failed: Vec<FireOutcome>,
}

/// Plans, then fires everything due at the clock's now, reading the approval key when a
/// pack first needs it in this pass (a command run once).
pub async fn run_pass(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
    worker: &str,
) -> anyhow::Result<RunSummary> {
    let key = ApprovalKey::new(settings);
    run_with(pool, &WorkerSettings::from(settings), &key, clock, worker).await
}

/// [`run_pass`] with the worker's own settings and the key it holds.
pub async fn run_with(
    pool: &PgPool,
    settings: &WorkerSettings,
    key: &ApprovalKey,
    clock: &Clock,
    worker: &str,
) -> anyhow::Result<RunSummary> {
    let planned = plan(pool, &settings.schedule, clock).await?;
    let meetings = super::invite::upcoming(pool, clock).await?;
    let invited = super::invite::invite(pool, &settings.schedule, &meetings, clock).await?;
    if invited.total() > 0 {
        tracing::info!(?invited, "meeting invitations queued");
    }
    let quorum_warnings = super::quorum::check(pool, &settings.schedule, &meetings, clock).await?;
    if quorum_warnings > 0 {
        tracing::warn!(
            meetings = quorum_warnings,
            "apologies put a meeting's quorum at risk"
        );
    }
    // The digest and the retention run never hold up the jobs below: a failure is
    // logged, and the next pass tries again (each is taken once a day only when done).
    let digests = if settings.digest.enabled {
        super::digest::send_due(pool, &settings.digest, &settings.schedule, clock)
            .await
            .unwrap_or_else(|err| {
                tracing::error!(error = %format!("{err:#}"), "the daily digest failed; the next pass tries again");
                0
            })
    } else {
        0
    };
    // Once a day, what has expired under `[retention]` is removed.
    match crate::records::retention::run_daily(pool, &settings.retention, clock.now()).await {
        Ok(Some(removal)) => {
            let removed: usize = removal.rules.iter().map(|r| r.due).sum();
            tracing::info!(
                removed,
                attachments = removal.attachments,
                "retention: expired records removed"
            );
        }
        Ok(None) => {}
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "the retention run failed; the next pass tries again")
        }
    }
    let mut summary = RunSummary {
        planned: planned.added,
        invited,
        quorum_warnings,
        digests,
        ..RunSummary::default()
    };
    loop {
        let outcome = fire_next_due(pool, settings, key, clock, worker).await?;
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
    settings: WorkerSettings,
    key: Arc<ApprovalKey>,
    clock: Clock,
    worker: String,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let tick = StdDuration::from_secs(settings.schedule.tick_seconds.max(1));
    // A tick is measured on the process clock: under a faster rehearsal clock the passes
    // come as often in its time as they would in real time.
    shutdown
        .repeat(
            "schedule pass",
            crate::clock::real_wait(tick),
            tick,
            Wakeup::sleeping(),
            || run_with(&pool, &settings, &key, &clock, &worker),
        )
        .await;
    Ok(())
}
