//! The approval worker: after filing, applies filed approval replies
//! ([`super::apply::handle_next_reply`]), one reply per transaction. Draft minutes
//! become revisions in the minutes worker ([`crate::minutes::worker`]).
//!
//! This module owns the loop and the one-shot drain used by `ingest --once`; the step
//! itself is in [`super::apply`].

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::{ApprovalSettings, Settings};
use crate::shutdown::Shutdown;

use super::apply::{handle_next_reply, ReplyOutcome};
use super::key::ApprovalKey;

/// How often the loop looks for filed replies.
const POLL: Duration = Duration::from_secs(2);

/// Handles every filed reply waiting now, reading the approval key for this one drain
/// (a command run once). Returns how many replies were handled.
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
    let waiting = crate::store::minutes::replies_waiting(pool);
    key.drain("approval reply handled", waiting, |key| async move {
        let outcome = handle_next_reply(pool, settings, clock, key).await?;
        Ok((outcome != ReplyOutcome::Idle).then_some(outcome))
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
        .repeat("approval step", POLL, Duration::MAX, || {
            drain_with(&pool, &settings, &key, &clock)
        })
        .await;
    Ok(())
}
