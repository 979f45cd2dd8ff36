//! How the daemon stops, and the one loop its workers run until it does.
//!
//! [`Shutdown`] is cloned into every worker; [`Shutdown::repeat`] is the loop of a worker
//! that runs one pass at a time, backing off after a failure. [`termination_signal`]
//! resolves on SIGINT or SIGTERM. [`process_runs`] tells whether another process (one
//! that holds a lease or the private cluster) still runs.

use std::future::Future;

use anyhow::Context;
use tokio::sync::watch;

/// Tells long-running workers to stop. Cloned into each; `stopped()` resolves once
/// shutdown has begun.
#[derive(Clone)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
}

impl Shutdown {
    pub fn new() -> (watch::Sender<bool>, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (sender, Shutdown { receiver })
    }

    pub fn is_stopping(&self) -> bool {
        *self.receiver.borrow()
    }

    pub async fn stopped(&mut self) {
        // An Err means the sender is gone: that is a shutdown too.
        let _ = self.receiver.wait_for(|stop| *stop).await;
    }

    /// A worker's loop: runs `pass` and waits `every` until shutdown. After a failed
    /// pass the next waits with backoff (1 s doubling, jittered, never longer than
    /// `failure_cap`), so a database that is restarting is not hammered; the failure is
    /// logged as [`FailureLog`](crate::retry::FailureLog) does, not once per pass.
    pub async fn repeat<F, Fut, T>(
        self,
        what: &str,
        every: std::time::Duration,
        failure_cap: std::time::Duration,
        mut pass: F,
    ) where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<T>>,
    {
        self.repeat_with(what, failure_cap, move || {
            let done = pass();
            async move { done.await.map(|_| every) }
        })
        .await;
    }

    /// [`repeat`](Shutdown::repeat) for a pass that says how long to wait before the
    /// next (zero: at once, there is more to do).
    pub async fn repeat_with<F, Fut>(
        mut self,
        what: &str,
        failure_cap: std::time::Duration,
        mut pass: F,
    ) where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<std::time::Duration>>,
    {
        let mut backoff = crate::retry::Backoff::with_cap(failure_cap);
        let mut failures = crate::retry::FailureLog::new(what);
        while !self.is_stopping() {
            let wait = match pass().await {
                Ok(wait) => {
                    backoff.reset();
                    failures.succeeded();
                    wait
                }
                Err(err) => {
                    let wait = backoff.next_delay();
                    failures.failed(&format!("{err:#}"), wait);
                    wait
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = self.stopped() => break,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Runs a worker's `step` until it finds nothing to do (it returns false), and returns how
/// many times it worked: the one-shot drain `ingest --once` and the loops run.
pub async fn drain<F, Fut>(mut step: F) -> anyhow::Result<usize>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let mut worked = 0;
    while step().await? {
        worked += 1;
    }
    Ok(worked)
}

/// Listens for SIGINT and SIGTERM from now on (so a signal that arrives while the
/// database starts is not lost) and resolves on the first.
pub fn termination_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("received SIGINT"),
            _ = terminate.recv() => tracing::info!("received SIGTERM"),
        }
    })
}

/// Whether a process with id `pid` runs on this machine (one of another user's counts).
pub fn process_runs(pid: i32) -> bool {
    use nix::errno::Errno;
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(Errno::ESRCH)
    )
}
