//! The minutes worker: after filing, turns filed draft minutes into revisions with their
//! approval requests ([`super::process_next_draft`]), one draft per transaction.
//!
//! This module owns the loop and the one-shot drain used by `ingest --once`; the step
//! itself is in [`super::drafts`]. Approval replies are the approval worker's.

use std::sync::Arc;
use std::time::Duration;

use crate::approval::key::ApprovalKey;
use crate::clock::Clock;
use crate::config::{ApprovalSettings, Settings};
use crate::shutdown::Shutdown;

use super::drafts::{process_next_draft, DraftOutcome};

/// How often the loop looks for filed drafts.
const POLL: Duration = Duration::from_secs(2);

/// Turns every filed draft waiting now into a revision, reading the approval key for
/// this one drain (a command run once). Returns how many drafts were processed.
pub async fn drain(
    pool: &sqlx::PgPool,
    settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<usize> {
    drain_with(pool, &settings.approval, &ApprovalKey::new(settings), clock).await
}

/// [`drain`] with the worker's own settings and the key it holds.
pub async fn drain_with(
    pool: &sqlx::PgPool,
    settings: &ApprovalSettings,
    key: &ApprovalKey,
    clock: &Clock,
) -> anyhow::Result<usize> {
    let waiting = crate::store::minutes::drafts_waiting(pool);
    key.drain("draft minutes processed", waiting, |key| async move {
        let outcome = process_next_draft(pool, settings, clock, key).await?;
        Ok((outcome != DraftOutcome::Idle).then_some(outcome))
    })
    .await
}

/// Drains every few seconds until `shutdown`.
pub async fn run_until_stopped(
    pool: sqlx::PgPool,
    settings: ApprovalSettings,
    key: Arc<ApprovalKey>,
    clock: Clock,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    shutdown
        .repeat("minutes step", POLL, Duration::MAX, || {
            drain_with(&pool, &settings, &key, &clock)
        })
        .await;
    Ok(())
}
