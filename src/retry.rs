//! How every worker waits after a failure and says so: one backoff, one way of logging a
//! failure that repeats.
//!
//! - [`Backoff`]: 1 s doubling to a cap, each delay with ±25 % jitter, so several
//!   daemons (or workers) do not hammer a restarting server in step.
//! - [`FailureLog`]: a failure is logged when it starts; while it goes on, at most once
//!   a minute as "still failing: ... (N times in the last minute)"; once more when it
//!   stops. A database down for half an hour writes a few dozen lines, not millions.

use std::time::{Duration, Instant};

use rand::Rng;

/// Exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    cap: Duration,
}

impl Backoff {
    /// 1 s doubling to 60 s.
    pub fn new() -> Backoff {
        Backoff::with_cap(Duration::from_secs(60))
    }

    /// 1 s doubling to `cap`, which is held between 1 s and 60 s: however rarely a
    /// worker runs when all is well, it tries again within a minute of a failure.
    pub fn with_cap(cap: Duration) -> Backoff {
        Backoff {
            attempt: 0,
            cap: cap.clamp(Duration::from_secs(1), Duration::from_secs(60)),
        }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn failures(&self) -> u32 {
        self.attempt
    }

    pub fn next_delay(&mut self) -> Duration {
        let cap = u64::try_from(self.cap.as_millis()).unwrap_or(u64::MAX);
        let base = 1000u64.saturating_mul(1 << self.attempt.min(16)).min(cap);
        self.attempt = self.attempt.saturating_add(1);
        let jitter = rand::thread_rng().gen_range(0.75..1.25);
        Duration::from_millis((base as f64 * jitter) as u64)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

/// How often a failure that goes on is logged again.
const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// The log of one worker's failures.
#[derive(Debug)]
pub struct FailureLog {
    what: String,
    /// When the current run of failures began, and how many there were.
    since: Option<Instant>,
    total: u64,
    /// When a line was last written, and the failures since.
    logged_at: Option<Instant>,
    unlogged: u64,
}

impl FailureLog {
    /// `what` names the work as the log says it: "filing", "the outbox step".
    pub fn new(what: impl Into<String>) -> FailureLog {
        FailureLog {
            what: what.into(),
            since: None,
            total: 0,
            logged_at: None,
            unlogged: 0,
        }
    }

    pub fn is_failing(&self) -> bool {
        self.since.is_some()
    }

    /// One more failure. Returns whether a line was written.
    pub fn failed(&mut self, error: &str, retry_in: Duration) -> bool {
        self.failed_at(Instant::now(), error, retry_in)
    }

    fn failed_at(&mut self, now: Instant, error: &str, retry_in: Duration) -> bool {
        self.total += 1;
        let what = &self.what;
        let retry_in_ms = u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX);
        match self.logged_at {
            None => {
                self.since = Some(now);
                self.logged_at = Some(now);
                self.unlogged = 0;
                tracing::error!(error, retry_in_ms, "{what} failed; retrying with backoff");
                true
            }
            Some(at) if now.duration_since(at) >= SUMMARY_EVERY => {
                let times = self.unlogged + 1;
                let failing_for_s = self.since.map_or(0, |s| now.duration_since(s).as_secs());
                tracing::warn!(
                    error,
                    times,
                    failing_for_s,
                    retry_in_ms,
                    "still failing: {what} ({times} times in the last minute)"
                );
                self.logged_at = Some(now);
                self.unlogged = 0;
                true
            }
            Some(_) => {
                self.unlogged += 1;
                false
            }
        }
    }

    /// The work succeeded: a recovery is logged once.
    pub fn succeeded(&mut self) {
        if let Some(since) = self.since.take() {
            let what = &self.what;
            tracing::info!(
                failures = self.total,
                failing_for_s = since.elapsed().as_secs(),
                "{what} works again"
            );
        }
        self.total = 0;
        self.logged_at = None;
        self.unlogged = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter() {
        let mut backoff = Backoff::with_cap(Duration::from_secs(8));
        let delays: Vec<u128> = (0..6).map(|_| backoff.next_delay().as_millis()).collect();
        for (delay, base) in delays.iter().zip([1000u128, 2000, 4000, 8000, 8000, 8000]) {
            assert!(
                *delay >= base * 3 / 4 && *delay <= base * 5 / 4,
                "{delays:?}"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(1250));
        let mut unbounded = Backoff::with_cap(Duration::MAX);
        let longest = (0..30).map(|_| unbounded.next_delay()).max().unwrap();
        assert!(longest <= Duration::from_secs(75), "{longest:?}");
    }

    #[test]
    fn a_failure_that_goes_on_is_logged_once_then_once_a_minute() {
        let mut log = FailureLog::new("filing");
        let start = Instant::now();
        let wait = Duration::from_secs(1);
        let mut written = 0;
        // A failure every 10 ms for ten minutes: 60,000 failures.
        for i in 0..60_000u64 {
            let now = start + Duration::from_millis(i * 10);
            written += usize::from(log.failed_at(now, "pool timed out", wait));
        }
        assert!(log.is_failing());
        assert!((10..=11).contains(&written), "{written} lines");
        log.succeeded();
        assert!(!log.is_failing());
        assert!(log.failed_at(start + Duration::from_secs(601), "again", wait));
    }
}
