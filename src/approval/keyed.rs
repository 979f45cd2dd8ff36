//! The workers whose step needs the approval key: draft minutes becoming revisions
//! ([`crate::minutes::worker::Drafts`]) and approval replies being applied
//! ([`super::worker::Replies`]). Each says what waits and what one step does; the drain and
//! the loop are the same for both, here.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::PgPool;

use crate::clock::Clock;
use crate::config::ApprovalSettings;
use crate::shutdown::{Shutdown, Wakeup};

use super::key::ApprovalKey;

/// How often the loops look for work.
const POLL: Duration = Duration::from_secs(2);

/// One kind of work that needs the approval key, one message per transaction.
pub trait KeyedStep {
    /// Logged with each outcome.
    const DONE: &'static str;
    /// Names the loop in the log when a pass fails.
    const PASS: &'static str;
    type Outcome: Debug + Send;

    /// Whether anything waits: a cheap check, so an idle pass neither reads nor makes the
    /// key.
    fn waiting(pool: &PgPool) -> impl Future<Output = crate::store::Result<bool>> + Send;

    /// Handles one waiting message; None when nothing was left.
    fn step<'a>(
        pool: &'a PgPool,
        settings: &'a ApprovalSettings,
        clock: &'a Clock,
        key: &'a [u8],
    ) -> impl Future<Output = anyhow::Result<Option<Self::Outcome>>> + Send + 'a;
}

/// Handles everything of kind `S` waiting now, reading (or making) the key only when
/// something waits. Returns how many were handled.
pub async fn drain<S: KeyedStep>(
    pool: &PgPool,
    settings: &ApprovalSettings,
    key: &ApprovalKey,
    clock: &Clock,
) -> anyhow::Result<usize> {
    if !S::waiting(pool).await? {
        return Ok(0);
    }
    let key = key.get()?;
    crate::shutdown::drain(|| async move {
        let Some(outcome) = S::step(pool, settings, clock, key).await? else {
            return Ok(false);
        };
        tracing::info!(?outcome, "{}", S::DONE);
        Ok(true)
    })
    .await
}

/// Drains kind `S` when a message is filed, and every few seconds, until `shutdown`.
/// Boxed, so the daemon starts every kind alike.
pub fn run_until_stopped<S: KeyedStep + 'static>(
    pool: PgPool,
    settings: ApprovalSettings,
    key: Arc<ApprovalKey>,
    clock: Clock,
    shutdown: Shutdown,
    wakeup: Wakeup,
) -> BoxFuture<'static, anyhow::Result<()>> {
    Box::pin(async move {
        shutdown
            .repeat(S::PASS, POLL, Duration::MAX, wakeup, || {
                drain::<S>(&pool, &settings, &key, &clock)
            })
            .await;
        Ok(())
    })
}
