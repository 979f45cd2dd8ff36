//! The one source of the current time. Everything that schedules, expires or retries
//! takes a [`Clock`] so tests can move time forward instead of sleeping. `clippy.toml`
//! forbids reading the system time anywhere else.
//!
//! The process clock ([`Clock::System`]) is the machine's, unless a rehearsal clock was
//! set at start-up ([`start_rehearsal`], the `--clock-start`/`--clock-rate` options): then
//! the process's time begins at a chosen moment and runs a chosen number of times faster
//! than real time, so a whole meeting cycle can be rehearsed against real mail servers
//! in minutes. It is set once per process, before any worker starts.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

/// A simulated process clock: `start` at `began`, then `rate` seconds per real second.
#[derive(Debug)]
struct Rehearsal {
    start: DateTime<Utc>,
    began: Instant,
    rate: f64,
}

static REHEARSAL: OnceLock<Rehearsal> = OnceLock::new();

/// The largest `--clock-rate`: a year passes in about half a minute of real time.
pub const MAX_RATE: f64 = 1_000_000.0;

/// Why a rehearsal clock could not be set.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RehearsalError {
    #[error("the clock rate must be a number from 0.001 to {MAX_RATE}, not {0}")]
    Rate(f64),
    #[error("the process clock was already set")]
    AlreadySet,
}

/// Makes the process clock start at `start` now and run `rate` times faster than real
/// time. Once per process, before anything reads the clock.
pub fn start_rehearsal(start: DateTime<Utc>, rate: f64) -> Result<(), RehearsalError> {
    if !(0.001..=MAX_RATE).contains(&rate) {
        return Err(RehearsalError::Rate(rate));
    }
    REHEARSAL
        .set(Rehearsal {
            start,
            began: Instant::now(),
            rate,
        })
        .map_err(|_| RehearsalError::AlreadySet)
}

/// Whether the process clock is a rehearsal clock (for logging at start-up).
pub fn is_rehearsal() -> bool {
    REHEARSAL.get().is_some()
}

/// How long to wait in real time for `span` of the process clock to pass: `span` itself,
/// or less under a rehearsal clock that runs faster (never under 50 ms, so a fast
/// rehearsal does not spin).
pub fn real_wait(span: std::time::Duration) -> std::time::Duration {
    match REHEARSAL.get() {
        Some(rehearsal) if rehearsal.rate > 1.0 => span
            .div_f64(rehearsal.rate)
            .max(std::time::Duration::from_millis(50)),
        _ => span,
    }
}

/// How much of the process clock passes while `real` passes in real time: `real`
/// itself, or more under a faster rehearsal clock. For spans that guard real work (an
/// outbox lease, a send's time limit) compared against the process clock's times, so a
/// fast rehearsal does not take a message still being sent for an abandoned one.
pub fn board_span(real: Duration) -> Duration {
    scaled(real, REHEARSAL.get().map(|r| r.rate))
}

fn scaled(real: Duration, rate: Option<f64>) -> Duration {
    match rate {
        Some(rate) if rate > 1.0 => {
            let micros = real.num_microseconds().unwrap_or(i64::MAX) as f64 * rate;
            // Far beyond any lease, and far from overflowing a timestamp.
            Duration::microseconds(micros.min(1e17) as i64)
        }
        _ => real,
    }
}

impl Rehearsal {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.began.elapsed().as_secs_f64() * self.rate;
        // Whole microseconds: far beyond any run's length before it could overflow.
        self.start + Duration::microseconds((elapsed * 1e6) as i64)
    }
}

#[derive(Clone, Debug)]
pub enum Clock {
    /// The process clock: the machine's, or the rehearsal clock set at start-up.
    System,
    /// A clock that only moves when told to; shared between clones.
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    pub fn manual(start: DateTime<Utc>) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(start)))
    }

    #[allow(clippy::disallowed_methods)] // the one permitted reading of the system clock
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => match REHEARSAL.get() {
                Some(rehearsal) => rehearsal.now(),
                None => Utc::now(),
            },
            Clock::Manual(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Moves a manual clock; the system clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(at) = self {
            let mut at = at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *at += by;
        }
    }

    /// Sets a manual clock; the system clock ignores it.
    pub fn set(&self, to: DateTime<Utc>) {
        if let Clock::Manual(at) = self {
            *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let start = DateTime::parse_from_rfc3339("2023-12-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::manual(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        other.advance(Duration::days(1));
        assert_eq!(clock.now(), start + Duration::days(1));
    }

    #[test]
    fn a_rehearsal_clock_starts_where_told_and_runs_at_its_rate() {
        let start = DateTime::parse_from_rfc3339("2023-12-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let rehearsal = Rehearsal {
            start,
            began: Instant::now() - std::time::Duration::from_secs(2),
            rate: 3600.0,
        };
        let now = rehearsal.now();
        // Two real seconds at an hour a second: two hours on, give or take the test's
        // own running time.
        assert!(now >= start + Duration::hours(2), "{now}");
        assert!(now < start + Duration::hours(3), "{now}");
    }

    #[test]
    fn a_real_span_is_longer_on_a_faster_clock_and_never_shorter() {
        let lease = Duration::seconds(600);
        assert_eq!(scaled(lease, None), lease);
        assert_eq!(scaled(lease, Some(0.5)), lease);
        assert_eq!(scaled(lease, Some(3600.0)), Duration::hours(600));
        assert_eq!(board_span(lease), lease, "no rehearsal in unit tests");
        assert!(scaled(Duration::days(365), Some(1e6)) > Duration::days(365));
    }

    #[test]
    fn a_rehearsal_rate_out_of_range_is_refused() {
        let start = DateTime::parse_from_rfc3339("2023-12-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(start_rehearsal(start, 0.0), Err(RehearsalError::Rate(0.0)));
        assert_eq!(start_rehearsal(start, 1e9), Err(RehearsalError::Rate(1e9)));
        assert!(!is_rehearsal());
    }
}
