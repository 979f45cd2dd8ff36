//! The action-update worker: every waiting update applied, as soon as one is filed (and
//! every few seconds regardless).

use std::time::Duration;

use sqlx::PgPool;

use super::apply::*;
use crate::clock::Clock;
use crate::config::Settings;
use crate::shutdown::{Shutdown, Wakeup};
use crate::store::actions as store;

/// How often the loop looks for filed updates.
const POLL: Duration = Duration::from_secs(2);

/// What [`drain`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpdateSummary {
    pub done: usize,
    pub progress: usize,
    pub triage: usize,
}

/// Applies every filed action update waiting now. Applying an update reads no settings;
/// `settings` is taken so that every worker's one-shot drain is called alike.
pub async fn drain(
    pool: &PgPool,
    _settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<UpdateSummary> {
    drain_updates(pool, clock).await
}

async fn drain_updates(pool: &PgPool, clock: &Clock) -> anyhow::Result<UpdateSummary> {
    let mut summary = UpdateSummary::default();
    if !store::updates_waiting(pool).await? {
        return Ok(summary);
    }
    loop {
        let outcome = apply_update(pool, clock).await?;
        match &outcome {
            UpdateOutcome::Idle => return Ok(summary),
            UpdateOutcome::Done { .. } => summary.done += 1,
            UpdateOutcome::Progress { .. } => summary.progress += 1,
            UpdateOutcome::Triage { .. } => summary.triage += 1,
        }
        tracing::info!(outcome = ?outcome, "action update applied");
    }
}

/// Drains when a message is filed, and every few seconds, until `shutdown`.
pub async fn run_until_stopped(
    pool: PgPool,
    clock: Clock,
    shutdown: Shutdown,
    wakeup: Wakeup,
) -> anyhow::Result<()> {
    shutdown
        .repeat("action update step", POLL, Duration::MAX, wakeup, || {
            drain_updates(&pool, &clock)
        })
        .await;
    Ok(())
}
