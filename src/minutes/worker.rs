//! The minutes worker: after filing, turns filed draft minutes into revisions with their
//! approval requests ([`super::process_next_draft`]), one draft per transaction, through
//! the loop shared with the approval worker ([`crate::approval::keyed`]).

use std::future::Future;

use sqlx::PgPool;

use crate::approval::key::ApprovalKey;
use crate::approval::keyed::{self, KeyedStep};
use crate::clock::Clock;
use crate::config::{ApprovalSettings, Settings};

use super::drafts::{process_next_draft, DraftOutcome};

/// Filed draft minutes, made revisions.
pub struct Drafts;

impl KeyedStep for Drafts {
    const DONE: &'static str = "draft minutes processed";
    const PASS: &'static str = "minutes step";
    type Outcome = DraftOutcome;

    fn waiting(pool: &PgPool) -> impl Future<Output = crate::store::Result<bool>> + Send {
        crate::store::minutes::drafts_waiting(pool)
    }

    async fn step(
        pool: &PgPool,
        settings: &ApprovalSettings,
        clock: &Clock,
        key: &[u8],
    ) -> anyhow::Result<Option<DraftOutcome>> {
        let outcome = process_next_draft(pool, settings, clock, key).await?;
        Ok((outcome != DraftOutcome::Idle).then_some(outcome))
    }
}

/// Turns every filed draft waiting now into a revision, reading the approval key for
/// this one drain (a command run once). Returns how many drafts were processed.
pub async fn drain(pool: &PgPool, settings: &Settings, clock: &Clock) -> anyhow::Result<usize> {
    keyed::drain::<Drafts>(pool, &settings.approval, &ApprovalKey::new(settings), clock).await
}
