//! How the daemon stops, and the one loop its workers run until it does.
//!
//! [`Shutdown`] is cloned into every worker; [`Shutdown::repeat`] is the loop of a worker
//! that runs one pass at a time, backing off after a failure, and [`Wakeup`] (from the
//! process's one [`Wakeups`] listener) ends its wait early when PostgreSQL announces new
//! work on a channel. [`termination_signal`]
//! resolves on SIGINT or SIGTERM. [`process_runs`] tells whether another process (one
//! that holds a lease or the private cluster) still runs.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{watch, Notify};

use crate::retry::FailureLog;

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
    /// logged as [`FailureLog`](crate::retry::FailureLog) does, not once per pass. The
    /// waits end early when `wakeup` is announced ([`Wakeup::sleeping`] never is).
    pub async fn repeat<F, Fut, T>(
        self,
        what: &str,
        every: std::time::Duration,
        failure_cap: std::time::Duration,
        wakeup: Wakeup,
        mut pass: F,
    ) where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<T>>,
    {
        self.repeat_with(what, failure_cap, wakeup, move || {
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
        mut wakeup: Wakeup,
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
                () = wakeup.wait(wait) => {}
            }
        }
    }
}

/// The workers' wake-ups: one PostgreSQL listening connection per process, on which the
/// database announces new work whichever process queued it (a message stored, a message
/// filed, email queued), handed to each worker that waits on that channel. The pool's
/// connections stay free for the work: one connection listens for every worker.
#[derive(Clone)]
pub struct Wakeups {
    subscribers: Arc<Mutex<Subscribers>>,
}

/// Each channel's waiting workers.
type Subscribers = HashMap<&'static str, Vec<Arc<Notify>>>;

/// How long the listener waits before connecting again after it could not, or lost its
/// connection; the workers' own polls carry on meanwhile.
const LISTEN_RETRY: Duration = Duration::from_secs(5);

impl Wakeups {
    /// Listens on `channels` until `shutdown`, in a task of its own.
    pub fn start(pool: &PgPool, channels: &[&'static str], shutdown: Shutdown) -> Wakeups {
        let wakeups = Wakeups {
            subscribers: Arc::default(),
        };
        tokio::spawn(
            wakeups
                .clone()
                .listen(pool.clone(), channels.to_vec(), shutdown),
        );
        wakeups
    }

    /// A wake-up for one worker on `channel`.
    pub fn on(&self, channel: &'static str) -> Wakeup {
        let notify = Arc::new(Notify::new());
        self.subscribers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(channel)
            .or_default()
            .push(notify.clone());
        Wakeup {
            notify: Some(notify),
        }
    }

    fn announce(&self, channel: &str) {
        let subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for notify in subscribers.get(channel).into_iter().flatten() {
            notify.notify_one();
        }
    }

    async fn listen(self, pool: PgPool, channels: Vec<&'static str>, mut shutdown: Shutdown) {
        let mut failures = FailureLog::new("listening for new work");
        let mut listener: Option<PgListener> = None;
        while !shutdown.is_stopping() {
            let Some(connected) = listener.as_mut() else {
                let connect = async {
                    let mut listener = PgListener::connect_with(&pool).await?;
                    listener.listen_all(channels.iter().copied()).await?;
                    Ok::<_, sqlx::Error>(listener)
                };
                match connect.await {
                    Ok(connected) => {
                        failures.succeeded();
                        listener = Some(connected);
                        // Whatever was announced while nobody listened is looked for now.
                        for channel in &channels {
                            self.announce(channel);
                        }
                    }
                    Err(err) => {
                        failures.failed(&err.to_string(), LISTEN_RETRY);
                        tokio::select! {
                            _ = shutdown.stopped() => break,
                            () = tokio::time::sleep(LISTEN_RETRY) => {}
                        }
                    }
                }
                continue;
            };
            let received = tokio::select! {
                _ = shutdown.stopped() => break,
                received = connected.recv() => received,
            };
            match received {
                Ok(notification) => self.announce(notification.channel()),
                Err(err) => {
                    // A lost connection is not a wake-up (it fails at once while the
                    // database is down): connect afresh after a pause.
                    failures.failed(&err.to_string(), LISTEN_RETRY);
                    listener = None;
                    tokio::select! {
                        _ = shutdown.stopped() => break,
                        () = tokio::time::sleep(LISTEN_RETRY) => {}
                    }
                }
            }
        }
    }
}

/// What a worker waits on between passes: its channel's announcement, or the pass's own
/// wait, whichever comes first. The wait is the fallback, so a lost notification delays
/// work and never loses it.
pub struct Wakeup {
    notify: Option<Arc<Notify>>,
}

impl Wakeup {
    /// Waits only for the time (a one-shot command, or a test).
    pub fn sleeping() -> Wakeup {
        Wakeup { notify: None }
    }

    /// Returns after `wait`, or earlier on an announcement, also one made while the worker
    /// was busy. Announcements that came together wake it once.
    pub async fn wait(&mut self, wait: Duration) {
        match &self.notify {
            None => tokio::time::sleep(wait).await,
            Some(notify) => {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = notify.notified() => {}
                }
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
