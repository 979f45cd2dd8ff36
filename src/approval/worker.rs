//! The approval worker: after filing, applies filed approval replies
//! ([`super::apply::handle_next_reply`]), one reply per transaction, through the loop
//! shared with the minutes worker ([`super::keyed`]).

use std::future::Future;

use sqlx::PgPool;

use crate::clock::Clock;
use crate::config::{ApprovalSettings, Settings};

use super::apply::{handle_next_reply, ReplyOutcome};
use super::key::ApprovalKey;
use super::keyed::{self, KeyedStep};

/// Filed approval replies, applied.
pub struct Replies;

impl KeyedStep for Replies {
    const DONE: &'static str = "approval reply handled";
    const PASS: &'static str = "approval step";
    type Outcome = ReplyOutcome;

    fn waiting(pool: &PgPool) -> impl Future<Output = crate::store::Result<bool>> + Send {
        crate::store::minutes::replies_waiting(pool)
    }

    async fn step(
        pool: &PgPool,
        settings: &ApprovalSettings,
        clock: &Clock,
        key: &[u8],
    ) -> anyhow::Result<Option<ReplyOutcome>> {
        let outcome = handle_next_reply(pool, settings, clock, key).await?;
        Ok((outcome != ReplyOutcome::Idle).then_some(outcome))
    }
}

/// Handles every filed reply waiting now, reading the approval key for this one drain
/// (a command run once). Returns how many replies were handled.
pub async fn drain(pool: &PgPool, settings: &Settings, clock: &Clock) -> anyhow::Result<usize> {
    keyed::drain::<Replies>(pool, &settings.approval, &ApprovalKey::new(settings), clock).await
}
