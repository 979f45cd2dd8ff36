//! The approval worker: after filing, turns filed draft minutes into revisions with their
//! approval requests ([`crate::minutes::process_next_draft`]) and applies filed approval
//! replies ([`super::apply::handle_next_reply`]), each one message per transaction.
//!
//! This module owns the loop and the one-shot drain used by `ingest --once`; the steps
//! themselves are elsewhere.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::{ApprovalSettings, Settings};
use crate::minutes::{process_next_draft, DraftOutcome};
use crate::shutdown::Shutdown;

use super::apply::{handle_next_reply, ReplyOutcome};
use super::key::ApprovalKey;

/// How often the loop looks for filed drafts and replies.
const POLL: Duration = Duration::from_secs(2);

/// What one drain did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalSummary {
    pub revisions: usize,
    pub replies: usize,
}

/// Handles every filed draft and reply waiting now, reading the approval key for this
/// one drain (a command run once).
pub async fn drain(
    pool: &sqlx::PgPool,
    settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<ApprovalSummary> {
    drain_with(pool, &settings.approval, &ApprovalKey::new(settings), clock).await
}

/// [`drain`] with the worker's own settings and the key it holds.
pub async fn drain_with(
    pool: &sqlx::PgPool,
    settings: &ApprovalSettings,
    key: &ApprovalKey,
    clock: &Clock,
) -> anyhow::Result<ApprovalSummary> {
    let mut summary = ApprovalSummary::default();
    if !crate::store::minutes::work_waiting(pool).await? {
        return Ok(summary);
    }
    let key = key.get()?;
    loop {
        let draft = process_next_draft(pool, settings, clock, key).await?;
        if draft != DraftOutcome::Idle {
            tracing::info!(outcome = ?draft, "draft minutes processed");
            summary.revisions += 1;
            continue;
        }
        let reply = handle_next_reply(pool, settings, clock, key).await?;
        if reply == ReplyOutcome::Idle {
            return Ok(summary);
        }
        tracing::info!(outcome = ?reply, "approval reply handled");
        summary.replies += 1;
    }
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
